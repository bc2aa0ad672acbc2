"""The only place that converts between OpenCV frames and model tensors.

Frames are HxWx3 uint8 BGR (OpenCV's order); the model takes NCHW float32 RGB on 0-255 whose
height and width are multiples of the contract's size multiple. Odd sizes are padded by
reflection (no dark seam at the border) and the output is cropped back.
"""
from __future__ import annotations

import cv2
import numpy as np

from stylecast.contract import DEFAULT_CONTRACT, ModelContract


def padded_size(height: int, width: int, multiple: int) -> tuple[int, int]:
    return -(-height // multiple) * multiple, -(-width // multiple) * multiple


def preprocess(frame: np.ndarray, contract: ModelContract = DEFAULT_CONTRACT) -> np.ndarray:
    """HxWx3 uint8 BGR -> 1x3xH'xW' float32 RGB, H' and W' padded up to the size multiple."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"unexpected frame: shape {frame.shape} dtype {frame.dtype}, want HxWx3 uint8")
    h, w = frame.shape[:2]
    ph, pw = padded_size(h, w, contract.size_multiple)
    if (ph, pw) != (h, w):
        frame = cv2.copyMakeBorder(frame, 0, ph - h, 0, pw - w, cv2.BORDER_REFLECT_101)
    rgb = frame[:, :, ::-1] if contract.channels == "RGB" else frame
    # (H, W, C) -> (1, C, H, W)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)


def postprocess(output: np.ndarray, height: int, width: int, contract: ModelContract = DEFAULT_CONTRACT) -> np.ndarray:
    """1x3xH'xW' float -> HxWx3 uint8 BGR, cropped to the original size."""
    low, high = contract.value_range
    # (1, C, H, W) -> (H, W, C)
    image = output[0, :, :height, :width].transpose(1, 2, 0)
    scaled = (image.astype(np.float32) - low) * (255.0 / (high - low))
    image = np.clip(scaled + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image[:, :, ::-1] if contract.channels == "RGB" else image)
