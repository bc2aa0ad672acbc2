"""One rule for scaling frames and images to a side length, used by every command."""
from __future__ import annotations

import cv2
import numpy as np

# 8K UHD, the most any command paints: beyond it a frame's full-size buffers run to gigabytes,
# and video encoders' levels end.
MAX_FRAME_PIXELS = 7680 * 4320
# VGG16's style layers pool four times: a much smaller picture (or a side of one) leaves them nothing to compare.
MIN_VGG_SIDE = 32


def fit_size(width: int, height: int, *, longest: int | None = None, shortest: int | None = None,
             grow: bool = False, even: bool = False, minimum: int = 1) -> tuple[int, int]:
    """(w, h) scaled so the longest (or shortest) side is the target, keeping the aspect ratio.

    Sizes only shrink unless ``grow``; no target (None or 0) keeps the size. ``even`` rounds to even
    numbers, which 4:2:0 video needs.
    """
    if longest is not None and shortest is not None:
        raise ValueError("give longest or shortest, not both")
    side, current = (longest, max(width, height)) if longest is not None else (shortest, min(width, height))
    if not side or (current <= side and not grow):
        return width, height
    s = side / current
    step = 2 if even else 1
    return (max(minimum, round(width * s / step) * step), max(minimum, round(height * s / step) * step))


def cover_crop(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled (area averaging) until it covers ``size`` (w, h), then cropped to it at the center."""
    w, h = size
    ih, iw = image.shape[:2]
    s = max(w / iw, h / ih)
    image = cv2.resize(image, (max(w, round(iw * s)), max(h, round(ih * s))), interpolation=cv2.INTER_AREA)
    y, x = (image.shape[0] - h) // 2, (image.shape[1] - w) // 2
    return image[y : y + h, x : x + w]


def crop_to_aspect(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The centre of ``image`` with the aspect ratio of ``size`` (w, h), uncopied: what a camera asked
    for another shape than its sensor's shows, where a resize alone would squeeze the picture."""
    w, h = size
    ih, iw = image.shape[:2]
    if iw * h > ih * w:  # wider than asked: keep the middle columns
        keep = max(1, round(ih * w / h))
        x = (iw - keep) // 2
        return image[:, x : x + keep]
    if iw * h < ih * w:
        keep = max(1, round(iw * h / w))
        y = (ih - keep) // 2
        return image[y : y + keep]
    return image


def fit_image(image: np.ndarray, **rule) -> np.ndarray:
    """``image`` resized by :func:`fit_size`'s rule: area averaging to shrink, bicubic to grow."""
    h, w = image.shape[:2]
    size = fit_size(w, h, **rule)
    if size == (w, h):
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if size[0] < w else cv2.INTER_CUBIC)
