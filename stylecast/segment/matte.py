"""A person mask for the frame's own size: soft edges that follow the picture, steady over time.

The network's mask is small (256 px) and squashed to the network's shape. It is brought to the
frame's aspect at a guide size, smoothed over time there, then enlarged with a guided filter (He
et al. 2013, fitted small and applied large as in He and Sun 2015): at the guide size the mask is
fitted, in small windows, as ``a * luma + b``; at full size ``a`` and ``b`` are resized and applied
to the full-size luma, so the mask's edge lands on the frame's edges rather than on a blurred
staircase.
"""
from __future__ import annotations

import cv2
import numpy as np

from stylecast.realtime.hd.painter import shrink

GUIDE_LONG = 256  # long side of the guide size: the networks' own resolution
RADIUS = 2  # guided filter window radius at the guide size
EPS = 100.0  # luma variance (grey levels squared) that counts as an edge: ~10 levels of deviation


def guide_size(width: int, height: int) -> tuple[int, int]:
    scale = GUIDE_LONG / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


class MaskSmoother:
    """Exponential average of the mask over frames, faster where the picture moved.

    A still room keeps ``keep`` of the previous mask each frame, which stops the boundary
    shimmering with the network's frame-to-frame noise; where the luma changed by ``motion`` grey
    levels or more the new mask is taken as it is, so a moving person is not trailed by a ghost.
    """

    def __init__(self, keep: float = 0.7, motion: float = 12.0) -> None:
        self.keep, self.motion = keep, motion
        self._mask: np.ndarray | None = None
        self._luma: np.ndarray | None = None

    def reset(self) -> None:
        self._mask = self._luma = None

    def __call__(self, mask: np.ndarray, luma: np.ndarray) -> np.ndarray:
        luma = luma.astype(np.float32)
        if self._mask is None or self._mask.shape != mask.shape:
            self._mask, self._luma = mask, luma
            return mask
        moved = cv2.blur(cv2.absdiff(luma, self._luma), (5, 5))
        take = np.clip((1.0 - self.keep) + moved * (self.keep / self.motion), 0.0, 1.0)
        self._mask = self._mask + take * (mask - self._mask)
        self._luma = luma
        return self._mask


def fit(mask: np.ndarray, luma: np.ndarray, radius: int = RADIUS, eps: float = EPS) -> tuple[np.ndarray, np.ndarray]:
    """Guided filter coefficients of ``mask`` against ``luma`` (both float32, the same size)."""
    k = (2 * radius + 1, 2 * radius + 1)
    mean_i, mean_p = cv2.blur(luma, k), cv2.blur(mask, k)
    cov = cv2.blur(luma * mask, k) - mean_i * mean_p
    var = cv2.blur(luma * luma, k) - mean_i * mean_i
    a = cov / (var + np.float32(eps))
    b = mean_p - a * mean_i
    return cv2.blur(a, k), cv2.blur(b, k)


class PersonMatte:
    """frame -> person mask (float32 0-1) at the frame's size. ``segment`` is thread-safe and may
    run on frames out of order; ``finish`` keeps the temporal state, so it sees them in order.
    One instance per stream of frames."""

    def __init__(self, segmenter, smooth: bool = True) -> None:
        self.segmenter = segmenter
        self.smoother = MaskSmoother() if smooth else None

    def reset(self) -> None:
        if self.smoother is not None:
            self.smoother.reset()

    def segment(self, frame: np.ndarray) -> np.ndarray:
        """The network's mask at the guide size of ``frame`` (any size of the same picture: a
        working-size copy costs less to shrink)."""
        h, w = frame.shape[:2]
        return cv2.resize(self.segmenter(frame), guide_size(w, h), interpolation=cv2.INTER_LINEAR)

    def finish(self, mask: np.ndarray, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        small_luma = shrink(luma, mask.shape[1::-1]).astype(np.float32)
        if self.smoother is not None:
            mask = self.smoother(mask, small_luma)
        a, b = fit(mask, small_luma)
        a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
        full = cv2.multiply(a, luma, dtype=cv2.CV_32F)
        cv2.add(full, b, dst=full)
        return np.clip(full, 0.0, 1.0, out=full)

    def __call__(self, frame: np.ndarray, small: np.ndarray | None = None) -> np.ndarray:
        """``frame``'s person mask, segmented from ``small`` (a smaller copy) where one is at hand."""
        return self.finish(self.segment(frame if small is None else small), frame)


def person_matte(paint: str, smooth: bool = True) -> PersonMatte | None:
    """The matte ``--paint`` needs: none for ``all``, where nothing is segmented."""
    if paint == "all":
        return None
    from stylecast.segment.segmenter import PersonSegmenter

    return PersonMatte(PersonSegmenter(), smooth=smooth)
