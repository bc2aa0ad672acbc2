"""A frame painted at its working size, and brought back to its own size."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from stylecast.realtime.effects import paint_where
from stylecast.realtime.hd.upsample import GuidedUpsampler
from stylecast.realtime.hd.working_size import working_size
from stylecast.realtime.runtimes.protocol import frame_memory

# Memory per pixel of a moving picture's own size, beside the network's at the working size: frames
# queued between decoder, painters and sinks, the guided upsampling and the smoothing (`video`,
# /usr/bin/time: 86 bytes at 7680x4320 and 90 at 5120x2880 with --smooth flow; a margin on top).
FULL_SIZE_BYTES_PER_PIXEL = 120


@dataclass(frozen=True)
class Painted:
    small: np.ndarray  # the frame at its working size: what the network saw, and the guide there
    painting: np.ndarray  # the network's painting of it, the same size


class WorkingSizePainter:
    """Shrinks a frame to its working size and paints it; thread-safe when ``stylize`` is."""

    def __init__(self, stylize: Callable[[np.ndarray], np.ndarray], long_side: int | None) -> None:
        self.stylize, self.long_side = stylize, long_side

    def __call__(self, frame: np.ndarray, long_side: int | None = None) -> Painted:
        h, w = frame.shape[:2]
        size = working_size(w, h, long_side or self.long_side)
        return Painted(small := shrink(frame, size), self.stylize(small))

    def memory_needed(self, size: tuple[int, int], width: int, bytes_per_pixel: float,
                      at_once: int = 1) -> tuple[float, tuple[int, int]]:
        """Bytes painting frames of ``size`` (w, h) takes, and the working size they are painted at: the
        frame at its own size (``bytes_per_pixel``) and ``at_once`` of them through a network ``width``
        wide at the working size."""
        pw, ph = working_size(*size, self.long_side)
        runtime = getattr(getattr(self.stylize, "backend", None), "name", "")  # unknown: the costliest
        return size[0] * size[1] * bytes_per_pixel + at_once * frame_memory(pw * ph, width, runtime), (pw, ph)


def shrink(frame: np.ndarray, size: tuple[int, int], rest: int = cv2.INTER_AREA) -> np.ndarray:
    """``frame`` area-averaged down to ``size`` (w, h): by halves while it is twice as big, then the
    rest with ``rest`` (INTER_LINEAR where a network is not fussy: 640x480 -> 256x256 took 0.96 ms
    area-averaged, 0.1 ms bilinear).

    Halving is OpenCV's fast path for area averaging; one direct 1920x1080 -> 256x144 resize took
    3.6 ms, the halves and the rest 0.4 ms, with the same averaging.
    """
    w, h = size
    while frame.shape[1] >= 2 * w and frame.shape[0] >= 2 * h:
        frame = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return frame if frame.shape[1::-1] == (w, h) else cv2.resize(frame, (w, h), interpolation=rest)


class FullSizePainter:
    """frame -> painting of the frame's size, painted at the working size (one thread per instance).

    With a ``matte`` (a ``PersonMatte``) the painting shows only where ``paint`` says: on the
    background or on the person, the frame itself elsewhere. ``detail``: see ``GuidedUpsampler``."""

    def __init__(self, painter: WorkingSizePainter, matte=None, paint: str = "all", detail: bool = True) -> None:
        self.painter, self.matte, self.paint = painter, matte, paint
        self.upsample = GuidedUpsampler(detail=detail)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        painted = self.painter(frame)
        full = self.upsample(painted.painting, painted.small, frame)
        if self.matte is None:
            return full
        return paint_where(frame, full, self.matte(frame, painted.small), self.paint)
