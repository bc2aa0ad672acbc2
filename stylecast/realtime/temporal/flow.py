"""Dense optical flow between original frames (OpenCV DIS) and warping by it."""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np


MIN_FLOW_SIDE = 16
DIS_MIN_SIDE = 12  # OpenCV's DIS refuses frames with either side under this (2x1000 as much as 8x8)


def gray(frame: np.ndarray) -> np.ndarray:
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


class FlowEstimator:
    """DIS optical flow, optionally at a reduced scale (flow is smooth; full resolution is wasted time)."""

    def __init__(self, scale: float = 1.0, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> None:
        self.scale = scale
        self.dis = cv2.DISOpticalFlow_create(preset)

    def shrink(self, frame: np.ndarray) -> np.ndarray:
        """The gray frame at the scale flow is computed at."""
        g = gray(frame)
        if self.scale == 1.0:
            return g
        h, w = g.shape
        # DIS needs a few patches per side; tiny frames keep more of their resolution.
        size = (min(w, max(MIN_FLOW_SIDE, round(w * self.scale))), min(h, max(MIN_FLOW_SIDE, round(h * self.scale))))
        return g if size == (w, h) else cv2.resize(g, size, interpolation=cv2.INTER_AREA)

    def calc_small(self, src_small: np.ndarray, dst_small: np.ndarray) -> np.ndarray:
        """Flow between two frames already shrunk, in the small frames' pixel units."""
        h, w = src_small.shape[:2]
        if min(h, w) >= DIS_MIN_SIDE:
            return self.dis.calc(src_small, dst_small, None)
        # a thumbnail-sized (or strip-shaped) video: DIS refuses it, so flow is found on the frames
        # enlarged, then brought back
        up = (max(w, MIN_FLOW_SIDE), max(h, MIN_FLOW_SIDE))
        big = [cv2.resize(f, up, interpolation=cv2.INTER_LINEAR) for f in (src_small, dst_small)]
        return enlarge_flow(self.dis.calc(big[0], big[1], None), (w, h))

    def both_ways(self, src_small: np.ndarray, dst_small: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Flow src -> dst and dst -> src between frames already shrunk (each shrunk once, not per
        direction), in pixels of the full ``size`` (w, h)."""
        return (enlarge_flow(self.calc_small(src_small, dst_small), size),
                enlarge_flow(self.calc_small(dst_small, src_small), size))


def enlarge_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a flow field to ``size`` (w, h), rescaling the vectors with it (as it is if already that size)."""
    w, h = size
    if flow.shape[:2] == (h, w):
        return flow
    big = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
    big[..., 0] *= w / flow.shape[1]
    big[..., 1] *= h / flow.shape[0]
    return big


@lru_cache(maxsize=8)
def _grid(h: int, w: int) -> np.ndarray:
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), -1)
    grid.flags.writeable = False  # shared between calls
    return grid


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample ``image`` at x + flow(x): brings a frame to the pixel grid the flow was computed on."""
    h, w = flow.shape[:2]
    return cv2.remap(image, _grid(h, w) + flow, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def consistent_mask(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """True where forward and backward flow agree (Sundaram et al. 2010): not occluded, not at a motion edge."""
    back_at_target = warp(backward, forward)
    round_trip = forward + back_at_target
    mag = (forward ** 2).sum(-1) + (back_at_target ** 2).sum(-1)
    return (round_trip ** 2).sum(-1) < 0.01 * mag + 0.5
