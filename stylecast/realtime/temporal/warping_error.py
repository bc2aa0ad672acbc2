"""How much a stylized video flickers: the warping error of the video style transfer literature.

Flow is computed on the *original* frames, the previous stylized frame is warped onto the current
one, and the squared difference is averaged over pixels the flow can be trusted on (forward-backward
consistent, so occlusions and disocclusions do not count).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from stylecast.realtime.temporal.flow import FlowEstimator, consistent_mask, warp


@dataclass(frozen=True)
class TemporalScores:
    pairs: int
    warping_error: float  # mean over frame pairs of the masked MSE, images on a 0-1 scale
    stability: float  # flow-free: mean |S_t - S_t-1| / mean |I_t - I_t-1|; 1 = changes as much as the input
    valid_fraction: float  # share of pixels the flow was trusted on
    # brush texture where the scene is still: mean |Laplacian| of the stylized luma over pixels whose
    # original barely changed; smoothing that washes strokes out of a still wall lowers it
    static_texture: float = 0.0

    def to_dict(self) -> dict:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def warping_error(originals: Iterable[np.ndarray], stylized: Iterable[np.ndarray], flow_scale: float = 1.0) -> TemporalScores:
    """Frames are HxWx3 uint8 (BGR or RGB, the same for both sequences), paired in order.

    Flow runs at full resolution by default. At half resolution DIS misses on small moving objects
    (walking people in vtest.avi): the unstylized clip itself then scores 2x worse, and that
    miss, not the stylization's flicker, dominates the figure."""
    flow = FlowEstimator(scale=flow_scale)
    errors, valid, changes_s, changes_i, textures = [], [], [], [], []
    prev_o = prev_s = prev_small = None
    for o, s in zip(originals, stylized):
        if s.shape[:2] != o.shape[:2]:
            raise ValueError(f"unexpected stylized size: {s.shape[:2]} != original {o.shape[:2]}")
        small = flow.shrink(o)
        if prev_o is not None:
            # back: for each current pixel, where it was in the previous frame
            back, fwd = flow.both_ways(small, prev_small, (o.shape[1], o.shape[0]))
            mask = consistent_mask(back, fwd)
            warped = warp(prev_s, back).astype(np.float32) / 255
            diff = ((s.astype(np.float32) / 255 - warped) ** 2).mean(-1)
            if mask.any():
                errors.append(float(diff[mask].mean()))
            valid.append(float(mask.mean()))
            changes_s.append(np.abs(s.astype(np.int16) - prev_s).mean())
            changes_i.append(np.abs(o.astype(np.int16) - prev_o).mean())
            if (texture := static_texture(o, prev_o, s)) is not None:
                textures.append(texture)
        prev_o, prev_s, prev_small = o, s, small
    if not valid:
        raise ValueError("need at least two frames")
    stability = float(np.mean(changes_s) / max(np.mean(changes_i), 1e-6))
    return TemporalScores(len(valid), float(np.mean(errors)) if errors else 0.0, stability, float(np.mean(valid)),
                          float(np.mean(textures)) if textures else 0.0)


STILL_LEVELS = 3.0  # grey levels (after a 5x5 blur) a pixel of the original may change and count as still


def static_texture(original: np.ndarray, previous: np.ndarray, stylized: np.ndarray) -> float | None:
    """Mean |Laplacian| of ``stylized``'s luma where the original is still between two frames; None
    when hardly any pixel is (under 5%)."""
    import cv2

    def blurred_gray(image: np.ndarray) -> np.ndarray:
        return cv2.blur(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32), (5, 5))

    still = np.abs(blurred_gray(original) - blurred_gray(previous)) < STILL_LEVELS
    if still.mean() < 0.05:
        return None
    detail = np.abs(cv2.Laplacian(cv2.cvtColor(stylized, cv2.COLOR_BGR2GRAY).astype(np.float32), cv2.CV_32F))
    return float(detail[still].mean())
