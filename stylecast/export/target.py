"""Where an exported or quantized network is written: checked before the minutes of work that make it."""
from __future__ import annotations

from pathlib import Path

from stylecast.errors import StylecastError
from stylecast.realtime.media.outputs import ensure_writable


def check_onnx_target(out: Path, overwrite: bool) -> None:
    """An ``.onnx`` name (runtimes pick a model by it), not an existing file unless ``overwrite``, in a
    folder that can be written (made if missing)."""
    if out.suffix.lower() != ".onnx":
        raise StylecastError(f"output must end in .onnx: {out}")
    if out.exists() and not overwrite:
        raise StylecastError(f"{out} exists: add --overwrite to replace it")
    ensure_writable(out.parent)
