"""Is a reduced-precision run (fp16, bf16, int8) still the same painting? PSNR on the style's own picture."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from stylecast.realtime.runtimes.protocol import Backend


MIN_PSNR_DB = 35.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * float(np.log10(255.0 ** 2 / mse))


def style_picture(model_path: Path) -> np.ndarray | None:
    """A real picture to compare precisions on: the style's own thumbnail shipped beside the model."""
    import cv2

    thumb = Path(model_path).with_suffix(".jpg")
    return cv2.imread(str(thumb)) if thumb.is_file() else None


def reduced_psnr(reduced: Backend, full: Backend, model_path: Path) -> float | None:
    """PSNR of a reduced-precision backend against a full-precision one on the style's picture, if any."""
    from stylecast.realtime.runtimes.stylizer import Stylizer

    photo = style_picture(model_path)
    return None if photo is None else psnr(Stylizer(reduced)(photo), Stylizer(full)(photo))
