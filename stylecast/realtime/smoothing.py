"""Inference-time temporal smoothing of stylized frames: `--smooth off|ema|flow`."""
from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from stylecast.errors import StylecastError
from stylecast.realtime.flow import FlowEstimator, warp

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
    """

    def __init__(self, keep: float = 0.7, flow_scale: float = 0.25, sigma: float = 12.0, cut_fraction: float = 0.6) -> None:
        self.keep, self.sigma, self.cut_fraction = keep, sigma, cut_fraction
        self.flow = FlowEstimator(scale=flow_scale, preset=cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self.flow_scale = flow_scale
        self._prev_original: np.ndarray | None = None
        self._prev_output: np.ndarray | None = None
        self.cuts = 0

    def reset(self) -> None:
        self._prev_original = self._prev_output = None

    def __call__(self, original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(original, cv2.COLOR_BGR2GRAY)
        prev_gray, prev_out = self._prev_original, self._prev_output
        self._prev_original = gray
        if prev_gray is None or prev_gray.shape != gray.shape or prev_out.shape != stylized.shape:
            self._prev_output = stylized
            return stylized
        back = self.flow(gray, prev_gray)  # current pixel -> where it was
        error = cv2.blur(np.abs(warp(prev_gray, back).astype(np.float32) - gray), (5, 5))
        # A cut: the motion-compensated previous frame explains almost none of this one.
        if float((error > 2 * self.sigma).mean()) > self.cut_fraction:
            self.cuts += 1
            self._prev_output = stylized
            return stylized
        confidence = np.exp(-((error / self.sigma) ** 2))[..., None] * self.keep
        out = confidence * warp(prev_out, back).astype(np.float32) + (1 - confidence) * stylized
        self._prev_output = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        return self._prev_output


def make_smoother(mode: str) -> Smoother:
    if mode == "off":
        return NoSmoothing()
    if mode == "ema":
        return EmaSmoother()
    if mode == "flow":
        return FlowSmoother()
    raise StylecastError(f"unknown smoothing {mode!r}: use {', '.join(SMOOTHING_MODES)}")
