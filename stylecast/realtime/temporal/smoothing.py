"""Inference-time temporal smoothing of stylized frames: `--smooth off|ema|flow`."""
from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from stylecast.errors import StylecastError
from stylecast.realtime.temporal.flow import FlowEstimator, enlarge_flow, warp

SMOOTHING_MODES = ("off", "ema", "flow")


class Smoother(Protocol):
    def __call__(self, original: np.ndarray, stylized: np.ndarray) -> np.ndarray: ...

    def reset(self) -> None: ...


class NoSmoothing:
    def __call__(self, original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        return stylized

    def reset(self) -> None:
        pass


class EmaSmoother:
    """Exponential moving average of outputs: cheap, steadies static scenes, ghosts on motion."""

    def __init__(self, keep: float = 0.6) -> None:
        self.keep = keep
        self._state: np.ndarray | None = None

    def __call__(self, original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        if self._state is None or self._state.shape != stylized.shape:
            self._state = stylized.astype(np.float32)
        else:
            self._state = self.keep * self._state + (1 - self.keep) * stylized.astype(np.float32)
        return np.clip(self._state + 0.5, 0, 255).astype(np.uint8)

    def reset(self) -> None:
        self._state = None


class FlowSmoother:
    """Blend the current stylization with the previous output warped along the original's motion.

    The weight of the warped frame falls to zero where the warp does not explain the original
    frame (occlusions, new content, lighting changes), so moving objects stay sharp while static
    and smoothly moving regions stop shimmering. A scene cut resets the history.

    Flow, photometric error and confidence are all computed at ``flow_scale``; only the final
    warp and blend touch full-resolution pixels, which keeps a 640x480 frame to a few ms.
    """

    # Tuned on vtest.avi and tree.avi (benchmarks/temporal_table.py): the MEDIUM preset at quarter
    # resolution tracks small walking people that ULTRAFAST loses, and still costs a few ms.
    def __init__(self, keep: float = 0.8, flow_scale: float = 0.25, sigma: float = 20.0,
                 cut_error: float = 24.0, cut_fraction: float = 0.6, still_px: float = 0.25) -> None:
        self.keep, self.sigma, self.cut_error, self.cut_fraction = keep, sigma, cut_error, cut_fraction
        self.still_px = still_px
        self.flow = FlowEstimator(scale=flow_scale, preset=cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self._prev_small: np.ndarray | None = None
        self._prev_output: np.ndarray | None = None
        self.cuts = 0

    def reset(self) -> None:
        self._prev_small = self._prev_output = None

    def __call__(self, original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        small = self.flow.shrink(original)
        prev_small, prev_out = self._prev_small, self._prev_output
        self._prev_small = small
        if prev_small is None or prev_small.shape != small.shape or prev_out.shape != stylized.shape:
            self._prev_output = stylized
            return stylized
        back = self.flow.calc_small(small, prev_small)  # current pixel -> where it was
        error = cv2.blur(cv2.absdiff(warp(prev_small, back), small).astype(np.float32), (3, 3))
        # A cut: the motion-compensated previous frame explains almost none of this one.
        if float((error > self.cut_error).mean()) > self.cut_fraction:
            self.cuts += 1
            self._prev_output = stylized
            return stylized
        h, w = stylized.shape[:2]
        confidence = cv2.resize(np.exp(-np.square(error / self.sigma)) * self.keep, (w, h), interpolation=cv2.INTER_LINEAR)
        self._hold_still(back, w / small.shape[1])
        warped = warp(prev_out, enlarge_flow(back, (w, h)))
        self._prev_output = cv2.blendLinear(warped, stylized, confidence, 1.0 - confidence)
        return self._prev_output

    def _hold_still(self, back: np.ndarray, scale: float) -> None:
        """Zero the flow where it moves less than ``still_px`` output pixels (in place). Resampling the
        previous output by the flow's sub-pixel noise blurred still regions a little every frame, and
        the blur built up through the blend: on vtest.avi the brush texture of the still background
        fell 15%; held still, 8%, for 0.8% more warping error."""
        still = (np.abs(back) * scale < self.still_px).all(axis=-1)
        back[still] = 0


def make_smoother(mode: str) -> Smoother:
    if mode == "off":
        return NoSmoothing()
    if mode == "ema":
        return EmaSmoother()
    if mode == "flow":
        return FlowSmoother()
    raise StylecastError(f"unknown smoothing {mode!r}: use {', '.join(SMOOTHING_MODES)}")
