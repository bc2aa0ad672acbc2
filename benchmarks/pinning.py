"""One OpenVINO paint alone and beside a busy video decoder, with the CPU threads pinned or not.

    python benchmarks/pinning.py CLIP [--style paintings_rt] [--sizes 256x144,432x244,640x360]

CLIP is decoded in a loop on another thread while the style paints (a 1080p MJPEG file stands for a
USB webcam at 1080p: `ffmpeg -i tree.avi -vf scale=1920:1080 -r 30 -c:v mjpeg -q:v 4 tree1080.mkv`).
`--avx2` applies benchmarks/as_avx2.py's limits. Each setting runs in a process of its own: the
first network OpenVINO compiles in a process sets how its CPU threads are placed for all the others.
"""
from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import threading
import time
from pathlib import Path


def _decode_forever(clip: Path, stop: threading.Event) -> None:
    import av

    while not stop.is_set():
        with av.open(str(clip)) as container:
            for frame in container.decode(video=0):
                frame.to_ndarray(format="bgr24")
                if stop.is_set():
                    return


def _paint_ms(backend, size: tuple[int, int], clip: Path | None, runs: int = 60) -> tuple[float, float]:
    import numpy as np

    from stylecast.realtime.bench import time_calls

    batch = np.zeros((1, 3, size[1], size[0]), np.float32)
    for _ in range(5):  # compiles the size, warms the caches
        backend.run(batch)
    stop = threading.Event()
    busy = threading.Thread(target=_decode_forever, args=(clip, stop), daemon=True) if clip else None
    if busy:
        busy.start()
        time.sleep(0.3)
    try:
        return time_calls(lambda: backend.run(batch), runs, warmup=0)
    finally:
        stop.set()
        if busy:
            busy.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--style", default="paintings_rt")
    parser.add_argument("--sizes", default="256x144,432x244,640x360")
    parser.add_argument("--avx2", action="store_true", help="oneDNN and OpenCV limited to AVX2, as benchmarks/as_avx2.py")
    parser.add_argument("--pinned", choices=("yes", "no"), help="one setting, in this process (default: both, each in its own)")
    args = parser.parse_args()
    if args.pinned is None:
        print(f"{args.style} int8, one frame at a time; median / p90 ms per paint")
        for pinned in ("yes", "no"):
            subprocess.run([sys.executable, __file__, *sys.argv[1:], "--pinned", pinned], check=True)
        return
    if args.avx2:
        sys.path.insert(0, str(Path(__file__).parent))
        importlib.import_module("as_avx2")  # sets the limits before OpenVINO loads
    from stylecast.realtime.bench import parse_sizes
    from stylecast.realtime.runtimes.openvino_backend import OpenVinoBackend
    from stylecast.styles import bundled_styles

    style = next(s for s in bundled_styles() if s.name == args.style)
    backend = OpenVinoBackend(style.model, precision="int8")
    original = backend.core.compile_model

    def compile_model(model, device, config):
        return original(model, device, {**config, "ENABLE_CPU_PINNING": args.pinned == "yes"})
    backend.core.compile_model = compile_model
    for size in parse_sizes(args.sizes):
        alone = _paint_ms(backend, size, None)
        beside = _paint_ms(backend, size, args.clip)
        text = f"{size[0]}x{size[1]}"
        print(f"{'pinned' if args.pinned == 'yes' else 'unpinned':9} {text:>9}: alone {alone[0]:5.1f} / {alone[1]:5.1f}   "
              f"beside the decoder {beside[0]:5.1f} / {beside[1]:5.1f}", flush=True)


if __name__ == "__main__":
    main()
