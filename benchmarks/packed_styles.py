"""How much the bundled styles lose by shipping as int8 only: each float network rebuilt from its int8
copy (what `stylecast.styles` unpacks), and the int8 network itself, against the float original.

    python benchmarks/packed_styles.py --originals 092a5c4 --data /usr/share/backgrounds/mate/nature

The originals are read from git (the commit before the float files left the package). Each network
paints --limit held-out photos at 640x480 on onnxruntime; every painting of a multi-style network is
scored. PSNR in dB, mean over photos; also the largest pixel difference.
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

from stylecast.contract import int8_path
from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
from stylecast.realtime.runtimes.precision import psnr
from stylecast.realtime.runtimes.mix import each_painting
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.sizing import cover_crop
from stylecast.styles import PACKAGE_DIR, bundled_styles
from stylecast.train.data import list_images


def _original(commit: str, name: str, folder: Path) -> Path:
    path = folder / f"{name}.onnx"
    path.write_bytes(subprocess.run(["git", "show", f"{commit}:stylecast/styles/{name}.onnx"], check=True,
                                    capture_output=True).stdout)
    return path


def _paint(model: Path, frames: list[np.ndarray]) -> list[np.ndarray]:
    backend = OnnxRuntimeBackend(model)
    return [Stylizer(backend, mix)(frame) for mix in each_painting(backend.contract) for frame in frames]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--originals", required=True, help="git commit that still has the float stylecast/styles/NAME.onnx")
    parser.add_argument("--data", type=Path, required=True, help="held-out photos")
    parser.add_argument("--limit", type=int, default=4)
    args = parser.parse_args()
    frames = [cover_crop(cv2.imread(str(p)), (640, 480)) for p in list_images(args.data)[:args.limit]]
    size = sum(p.stat().st_size for p in PACKAGE_DIR.iterdir() if p.is_file())
    print(f"package folder stylecast/styles: {size / 2**20:.1f} MiB\n")
    print("| network | rebuilt float vs original | worst pixel | int8 vs original |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for style in bundled_styles():
            original = _paint(_original(args.originals, style.name, Path(work)), frames)
            rebuilt, int8 = _paint(style.model, frames), _paint(int8_path(style.model), frames)
            worst = max(int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in zip(original, rebuilt))
            print(f"| `{style.name}` | {np.mean([psnr(a, b) for a, b in zip(original, rebuilt)]):.1f} dB | {worst} "
                  f"| {np.mean([psnr(a, b) for a, b in zip(original, int8)]):.1f} dB |", flush=True)


if __name__ == "__main__":
    main()
