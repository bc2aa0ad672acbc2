"""A switch between paintings of one multi-style network glides over half a second."""
from __future__ import annotations

import numpy as np
import pytest

from stylecast.realtime.live.crossfade import FADE_S, CrossFade


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_switch_reaches_the_new_painting_in_the_set_time_and_not_before():
    clock = Clock()
    fade = CrossFade(clock=clock)
    a, b = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    assert np.array_equal(fade("net", a), a), "the first frame has nothing to glide from"
    seen = []
    for _ in range(int(FADE_S / 0.05) + 1):
        seen.append(fade("net", b)[1])
        clock.now += 0.05
    assert seen[0] == 0.0 and 0.3 < seen[len(seen) // 2] < 0.7
    assert all(x < 1.0 for x in seen[:-1]) and seen[-1] == pytest.approx(1.0)
    assert np.all(np.diff(seen) > 0), "always moving toward the new painting"
    assert np.allclose(fade("net", b), b)


def test_a_new_target_mid_glide_starts_from_what_is_on_screen():
    clock = Clock()
    fade = CrossFade(seconds=0.5, clock=clock)
    a, b = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    fade("net", a)
    fade("net", b)
    clock.now += 0.25
    middle = fade("net", b)
    back = fade("net", a)  # the viewer changes their mind halfway
    assert np.allclose(back, middle), "no jump: the glide back starts where the picture is"
    clock.now += 0.5
    assert np.allclose(fade("net", a), a)


def test_each_network_glides_on_its_own_and_zero_seconds_jumps():
    clock = Clock()
    fade = CrossFade(seconds=0, clock=clock)
    a, b = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    fade("one", a)
    assert np.array_equal(fade("one", b), b)
    with pytest.raises(ValueError):
        CrossFade(seconds=-1)
