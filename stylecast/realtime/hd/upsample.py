"""Edge-aware upsampling of a painting made at a working size, guided by the full-size frame.

A fast guided filter (He and Sun 2015; Wu et al. 2018) in its detail-transfer form. At the working
size each painted channel is fitted, in small windows, as a linear function of the frame's luma:
``painting ~ a * luma + b``. At full size the painting is resized and the luma detail that the
downscale removed is added back through the local slopes ``a``. Where the painting follows the
photo's edges (a large slope) those edges come back sharp at full resolution; where the network
painted strokes of its own (a slope near 0) the strokes are kept as painted rather than averaged
away, which a classic guided filter over the painting would do.
"""
from __future__ import annotations

import cv2
import numpy as np

# Window radius at the working size, and the variance (grey levels squared) below which luma
# changes count as noise, not edges: ~5 grey levels of standard deviation.
RADIUS = 2
EPS = 25.0
SLOPE_ONE = 256  # fixed-point scale of the slopes at full size: steps of 1/256, outputs within 3 grey levels of float


def fit_slopes(painting: np.ndarray, guide_luma: np.ndarray, radius: int = RADIUS, eps: float = EPS) -> np.ndarray:
    """Per-pixel slope of each painted channel against the guide's luma, window-averaged: HxWx3 float32."""
    k = (2 * radius + 1, 2 * radius + 1)
    luma = guide_luma.astype(np.float32)
    paint = painting.astype(np.float32)
    mean_i = cv2.blur(luma, k)
    mean_p = cv2.blur(paint, k)
    luma3, mean_i3 = cv2.cvtColor(luma, cv2.COLOR_GRAY2BGR), cv2.cvtColor(mean_i, cv2.COLOR_GRAY2BGR)
    cov = cv2.blur(cv2.multiply(luma3, paint), k) - cv2.multiply(mean_i3, mean_p)
    var = cv2.blur(cv2.multiply(luma, luma), k) - cv2.multiply(mean_i, mean_i)
    slopes = cv2.divide(cov, cv2.cvtColor(var + np.float32(eps), cv2.COLOR_GRAY2BGR))
    return cv2.blur(slopes, k)


def crisp_amount(painted_side: int, shown_side: int) -> float:
    """How much to sharpen a painting before it is enlarged from ``painted_side`` to ``shown_side``:
    none when it is not, 0.5 at 2x, 1 from 3x (the strokes of a 3.8x enlargement read as soft
    brush marks without it; 2 drew halos). Held-out style ratio at 1280x720, starry_night_fast
    painted at 336 px: 0.427 unsharpened, 0.343 at 1."""
    return min(1.0, max(0.0, 0.5 * (shown_side / painted_side - 1)))


def detail_amount(painted_side: int, shown_side: int) -> float:
    """How much to sharpen the enlarged painting at the output size (``image``, which has the time):
    none when it is not enlarged, 1 from 2x. At 1280x720 from 640 px it took the held-out style
    ratio 1.1-1.25 times closer to the full network's at full size (per painting in docs/hd.md),
    content loss within 1.15 times the full network's. Not in ``video``: it raised the warping error
    (flicker) of a 720p clip by 39%."""
    return min(1.0, max(0.0, shown_side / painted_side - 1))


def sharpen(image: np.ndarray, amount: float, sigma: float = 1.0) -> np.ndarray:
    """Unsharp mask: ``image`` + ``amount`` x (``image`` - its Gaussian blur), saturating."""
    if amount <= 0:
        return image
    return cv2.addWeighted(image, 1 + amount, cv2.GaussianBlur(image, (0, 0), sigma), -amount, 0)


class GuidedUpsampler:
    """painting (working size) + the frame at that size + the full-size frame -> full-size painting.

    ``crisp`` sharpens the painting before it is enlarged, by ``crisp_amount`` (off: 0); ``detail``
    sharpens the enlarged painting too, by ``detail_amount`` (3 ms at 720p, 5 ms at 1080p on an AVX2
    CPU: for ``image``; ``live`` spends that time on a larger working size). Keeps its
    full-size scratch buffers between calls (fresh 25 MB arrays per 1080p frame cost more in page
    faults than the arithmetic), so one instance serves one thread.
    """

    def __init__(self, radius: int = RADIUS, eps: float = EPS, crisp: bool = True, detail: bool = False) -> None:
        self.radius, self.eps, self.crisp, self.detail = radius, eps, crisp, detail
        self._buffers: dict[str, np.ndarray] = {}

    def _buffer(self, key: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape:
            buf = self._buffers[key] = np.empty(shape, dtype)
        return buf

    def __call__(self, painting: np.ndarray, small: np.ndarray, frame: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 BGR painting of ``small`` (the working-size frame) -> the painting at ``frame``'s size."""
        if painting.shape != small.shape:
            raise ValueError(f"unexpected painting: shape {painting.shape} != working frame {small.shape}")
        h, w = frame.shape[:2]
        if small.shape[:2] == (h, w):
            return painting
        if self.crisp:
            painting = sharpen(painting, crisp_amount(max(small.shape[:2]), max(h, w)))
        small_luma = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        slopes = fit_slopes(painting, small_luma, self.radius, self.eps)
        # The full-size passes run in 16-bit integers, half the memory traffic of float32 (which was
        # most of their cost at 1080p): slopes in 1/SLOPE_ONE steps, the detail in whole grey levels.
        gain_small = np.clip(np.rint(slopes * SLOPE_ONE), -32768, 32767).astype(np.int16)
        size = (w, h)
        # int16 too, so the last add is of like types (uint8 + int16 took three times as long)
        base = cv2.resize(painting.astype(np.int16), size, dst=self._buffer("base", (h, w, 3), np.int16),
                          interpolation=cv2.INTER_LINEAR)
        gain = cv2.resize(gain_small, size, dst=self._buffer("gain", (h, w, 3), np.int16), interpolation=cv2.INTER_LINEAR)
        coarse = cv2.resize(small_luma, size, dst=self._buffer("coarse", (h, w), np.uint8), interpolation=cv2.INTER_LINEAR)
        luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY, dst=self._buffer("luma", (h, w), np.uint8))
        # the guide's detail that the working size lost, one plane, then the same for each channel
        detail = cv2.subtract(luma, coarse, dst=self._buffer("detail", (h, w), np.int16), dtype=cv2.CV_16S)
        detail3 = cv2.merge((detail, detail, detail), dst=self._buffer("detail3", (h, w, 3), np.int16))
        cv2.multiply(gain, detail3, dst=gain, scale=1.0 / SLOPE_ONE, dtype=cv2.CV_16S)
        out = cv2.add(gain, base, dtype=cv2.CV_8U)  # saturating: a fresh frame, sinks may keep it
        return sharpen(out, detail_amount(max(small.shape[:2]), max(h, w))) if self.detail else out


def resize_painting(painting: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """The plain alternative, for comparisons: the painting resized to ``frame``'s size."""
    h, w = frame.shape[:2]
    return painting if painting.shape[:2] == (h, w) else cv2.resize(painting, (w, h), interpolation=cv2.INTER_LINEAR)
