"""Dense optical flow between original frames (OpenCV DIS) and warping by it."""
from __future__ import annotations

import cv2
import numpy as np


def gray(frame: np.ndarray) -> np.ndarray:
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


class FlowEstimator:
    """DIS optical flow, optionally at a reduced scale (flow is smooth; full resolution is wasted time)."""

    def __init__(self, scale: float = 1.0, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> None:
        self.scale = scale
        self.dis = cv2.DISOpticalFlow_create(preset)

    def __call__(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """For each pixel x of ``src``, its displacement to where that point is in ``dst``: x + F(x)."""
        a, b = gray(src), gray(dst)
        if self.scale != 1.0:
            h, w = a.shape
            size = (max(8, round(w * self.scale)), max(8, round(h * self.scale)))
            a = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
            b = cv2.resize(b, size, interpolation=cv2.INTER_AREA)
            flow = self.dis.calc(a, b, None)
            return cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) / self.scale
        return self.dis.calc(a, b, None)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample ``image`` at x + flow(x): brings a frame to the pixel grid the flow was computed on."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def consistent_mask(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """True where forward and backward flow agree (Sundaram et al. 2010): not occluded, not at a motion edge."""
    back_at_target = warp(backward, forward)
    round_trip = forward + back_at_target
    mag = (forward ** 2).sum(-1) + (back_at_target ** 2).sum(-1)
    return (round_trip ** 2).sum(-1) < 0.01 * mag + 0.5
