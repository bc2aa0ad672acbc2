"""Switching paintings on a multi-style network glides through the mixes between them.

A jump from one painting to another flashes; the network paints every mix, so the live loop moves
the weights from the old painting's to the new one's over about half a second instead. A new
target during a glide starts the next glide from the mix on screen, so a slider dragged back and
forth never jumps either.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

import numpy as np

FADE_S = 0.5


class CrossFade:
    def __init__(self, seconds: float = FADE_S, clock: Callable[[], float] = time.perf_counter) -> None:
        if seconds < 0:
            raise ValueError(f"a cross-fade lasts 0 seconds or more, not {seconds}")
        self.seconds, self.clock = seconds, clock
        # network -> (weights at the glide's start, its target, when it started)
        self._glides: dict[Hashable, tuple[np.ndarray, np.ndarray, float]] = {}
        self._lock = threading.Lock()  # with streams, two workers paint at once

    def __call__(self, network: Hashable, target: np.ndarray) -> np.ndarray:
        """The weights to paint with now on ``network``, gliding toward ``target``."""
        now = self.clock()
        with self._lock:
            glide = self._glides.get(network)
            if glide is None:  # the first frame on this network: nothing on screen to glide from
                self._glides[network] = (target, target, now)
                return target
            start, goal, since = glide
            if not np.array_equal(goal, target):
                start = self._at(start, goal, since, now)
                self._glides[network] = (start, target, now)
                goal, since = target, now
            return self._at(start, goal, since, now)

    def _at(self, start: np.ndarray, goal: np.ndarray, since: float, now: float) -> np.ndarray:
        if self.seconds == 0:
            return goal
        t = min(1.0, (now - since) / self.seconds)
        t = t * t * (3 - 2 * t)  # eases in and out: no visible start or stop
        return ((1 - t) * start + t * goal).astype(np.float32)
