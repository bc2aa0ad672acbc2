"""The only place on the host that converts between OpenCV frames and model tensors (`frame_graph`
 does the same inside a GPU graph).

Frames are HxWx3 uint8 BGR (OpenCV's order); the model takes NCHW float32 RGB on 0-255 whose
height and width are multiples of the contract's size multiple (and at least MIN_SIDE). Odd sizes
are padded by reflection (no dark seam at the border) and the output is cropped back.

A ``margin`` of reflected pixels on every side keeps the networks' own zero-padded borders out of
the picture: without it starry_night painted its top two rows 38 grey levels darker than the rows
just below (a dark line along every picture's top edge), with 8 px 3 levels (mate photos, 640x480).
"""
from __future__ import annotations

import cv2
import numpy as np

from stylecast.contract import DEFAULT_CONTRACT, ModelContract


# Below 8 px a side the networks' reflection pads outgrow their inputs and the runtimes refuse the
# frame; 16 leaves a margin. A thumbnail that small is padded up and cropped back like any odd size.
MIN_SIDE = 16


def padded_size(height: int, width: int, multiple: int) -> tuple[int, int]:
    def up(side: int) -> int:
        return -(-max(side, MIN_SIDE) // multiple) * multiple

    return up(height), up(width)


# Reflected pixels around every frame the Stylizer paints (see above); 8 px at 640x480 is 6% more
# pixels to paint.
BORDER = 8


def margin_for(height: int, width: int, margin: int = BORDER) -> int:
    """The margin a frame this size can reflect (a reflection needs a pixel beyond the edge)."""
    return max(0, min(margin, height - 1, width - 1))


def pad_frame(frame: np.ndarray, multiple: int, margin: int = 0) -> np.ndarray:
    """HxWx3 uint8 BGR, padded by reflection: ``margin`` on every side, then at the bottom and right
    up to multiples of ``multiple``. The picture starts at (``margin``, ``margin``)."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"unexpected frame: shape {frame.shape} dtype {frame.dtype}, want HxWx3 uint8")
    h, w = frame.shape[:2]
    ph, pw = padded_size(h + 2 * margin, w + 2 * margin, multiple)
    if (ph, pw) == (h, w):
        return frame
    return cv2.copyMakeBorder(frame, margin, ph - h - margin, margin, pw - w - margin, cv2.BORDER_REFLECT_101)


def preprocess(frame: np.ndarray, contract: ModelContract = DEFAULT_CONTRACT, margin: int = 0) -> np.ndarray:
    """HxWx3 uint8 BGR -> 1x3xH'xW' float32 RGB, H' and W' padded up to the size multiple."""
    frame = pad_frame(frame, contract.size_multiple, margin)
    rgb = frame[:, :, ::-1] if contract.channels == "RGB" else frame
    # (H, W, C) -> (1, C, H, W)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)


def postprocess(output: np.ndarray, height: int, width: int, contract: ModelContract = DEFAULT_CONTRACT,
                margin: int = 0) -> np.ndarray:
    """1x3xH'xW' float -> HxWx3 uint8 BGR, cropped to the original size (from ``margin``, ``margin``)."""
    if margin:
        output = output[:, :, margin:margin + height, margin:margin + width]
    low, high = contract.value_range
    order = (2, 1, 0) if contract.channels == "RGB" else (0, 1, 2)
    alpha = 255.0 / (high - low)
    if low == 0 and output.dtype == np.float32:
        # OpenCV's saturating convert is ~50x faster than numpy's clip+astype at 640x480; TOZERO
        # first because convertScaleAbs takes |x| and a model need not clamp its output.
        planes = [cv2.convertScaleAbs(cv2.threshold(output[0, c, :height, :width], 0, 0, cv2.THRESH_TOZERO)[1], alpha=alpha)
                  for c in order]
        return cv2.merge(planes)
    # (1, C, H, W) -> (H, W, C)
    image = output[0, list(order), :height, :width].transpose(1, 2, 0)
    scaled = (image.astype(np.float32) - low) * alpha
    return np.ascontiguousarray(np.clip(scaled + 0.5, 0, 255).astype(np.uint8))
