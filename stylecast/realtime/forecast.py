"""How long a video job will take, said before it starts when it is long, with the lighter
networks that paint the same picture: a full-width style on an AVX2 laptop paints 720p at a few
frames a second, and 5 minutes of film then take most of an hour."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

# Shorter jobs need no warning: the progress bar's estimate comes soon enough.
WORTH_SAYING_S = 120.0


def seconds_per_frame(paint: Callable[[np.ndarray], object], size: tuple[int, int]) -> float:
    """One frame of ``size`` (w, h) painted twice, the second timed (the first compiles the shape,
    which the job's first frame would have done anyway)."""
    w, h = size
    frame = np.full((h, w, 3), 128, np.uint8)
    paint(frame)
    started = time.perf_counter()
    paint(frame)
    return time.perf_counter() - started


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def forecast_note(per_frame_s: float, frames: int, at_once: int, style: str, lighter: Sequence[str]) -> str | None:
    """A one-line note when ``frames`` at ``per_frame_s`` (``at_once`` in parallel) take long."""
    if frames <= 0:
        return None
    total = frames * per_frame_s / max(1, at_once)
    if total < WORTH_SAYING_S:
        return None
    note = f"painting {frames} frames with {style} takes about {duration(total)} here ({per_frame_s * 1000:.0f} ms a frame)"
    if lighter:
        note += f"; {', '.join(lighter)} paint the same picture on lighter networks (-s {lighter[0]} is the fastest)"
    return note
