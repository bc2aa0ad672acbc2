"""How much a person mask shimmers: its change from frame to frame where the picture did not move.

Where the luma stayed within ``still`` grey levels (a 5x5 neighbourhood, so an edge that moved
does not count as still), any change of the mask is noise, not the person moving. Measured in the
boundary band (the mask between 0.1 and 0.9 in either frame), where shimmer shows.
"""
from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np


def boundary_flicker(frames: Iterable[np.ndarray], masks: Iterable[np.ndarray], still: float = 2.0,
                     cut: float = 25.0) -> float:
    """Mean absolute mask change (0-1) at still boundary pixels over consecutive frame pairs;
    pairs across a shot cut (mean luma change above ``cut``) are left out."""
    changes, counted = 0.0, 0
    prev_luma = prev_mask = None
    for frame, mask in zip(frames, masks):
        luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
        if prev_luma is not None and float(np.mean(np.abs(luma - prev_luma))) <= cut:
            moved = cv2.blur(np.abs(luma - prev_luma), (5, 5))
            band = (np.minimum(mask, prev_mask) < 0.9) & (np.maximum(mask, prev_mask) > 0.1)
            where = band & (moved < still)
            changes += float(np.abs(mask - prev_mask)[where].sum())
            counted += int(where.sum())
        prev_luma, prev_mask = luma, mask
    return changes / counted if counted else 0.0
