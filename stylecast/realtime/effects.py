"""Per-frame looks applied after stylization, in every sink: style strength and colour preservation."""
from __future__ import annotations

import cv2
import numpy as np


def preserve_color(stylized: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Luminance (texture) from the stylized frame, chroma (colours) from the original; BGR uint8."""
    if original.shape != stylized.shape:
        original = cv2.resize(original, stylized.shape[1::-1], interpolation=cv2.INTER_AREA)
    y = cv2.cvtColor(stylized, cv2.COLOR_BGR2YCrCb)[:, :, :1]
    crcb = cv2.cvtColor(original, cv2.COLOR_BGR2YCrCb)[:, :, 1:]
    return cv2.cvtColor(np.concatenate([y, crcb], axis=2), cv2.COLOR_YCrCb2BGR)


def apply_look(original: np.ndarray, stylized: np.ndarray, strength: float = 1.0, keep_colors: bool = False) -> np.ndarray:
    """Blend towards the original by ``1 - strength`` (0 = original, 1 = full style)."""
    out = preserve_color(stylized, original) if keep_colors else stylized
    if strength >= 1.0:
        return out
    strength = max(0.0, strength)
    return cv2.addWeighted(out, strength, original, 1.0 - strength, 0.0)


def paint_where(original: np.ndarray, painted: np.ndarray, person: np.ndarray | None, paint: str) -> np.ndarray:
    """``painted`` where ``paint`` says (all, background or person), ``original`` elsewhere, mixed
    by the soft ``person`` mask (float32 0-1, the frames' size)."""
    if paint == "all" or person is None:
        return painted
    if paint not in ("background", "person"):
        raise ValueError(f"paint must be all, background or person, not {paint!r}")
    weight = person if paint == "person" else 1.0 - person
    return cv2.blendLinear(painted, original, weight, 1.0 - weight)
