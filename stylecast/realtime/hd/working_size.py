"""How big a frame is painted: the stroke scale and the governor's limit -> the working size."""
from __future__ import annotations

# The long side the bundled styles were trained and judged at (256-px crops, scored on 640x480
# frames): their strokes look as intended at about this size, whatever size the output is.
TRAINED_LONG_SIDE = 640
# Working sizes are multiples of this (the networks' size multiple), so no frame needs padding.
MULTIPLE = 4
MIN_STROKE_SCALE, MAX_STROKE_SCALE = 0.1, 8.0


def stroke_long_side(stroke_scale: float) -> int:
    """The long side a frame is painted at so strokes look ``stroke_scale`` times as big as trained."""
    if not MIN_STROKE_SCALE <= stroke_scale <= MAX_STROKE_SCALE:
        raise ValueError(f"stroke scale {stroke_scale} outside {MIN_STROKE_SCALE}-{MAX_STROKE_SCALE}")
    return max(MULTIPLE * 4, round(TRAINED_LONG_SIDE / stroke_scale / MULTIPLE) * MULTIPLE)


def working_size(width: int, height: int, long_side: int | None) -> tuple[int, int]:
    """(w, h) of the painted frame: ``long_side`` on the longer side, aspect kept, multiples of 4;
    never above the frame's own size (a frame is painted at its own size at most)."""
    if not long_side or max(width, height) <= long_side:
        return width, height
    s = long_side / max(width, height)

    def side(v: int) -> int:
        return max(MULTIPLE, round(v * s / MULTIPLE) * MULTIPLE)

    return side(width), side(height)
