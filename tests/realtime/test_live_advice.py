"""The live loop's advice when a style paints fewer frames than the camera gives."""
from stylecast.realtime import live_advice
from stylecast.realtime.live_advice import SlowStyleNotice


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_slow_style_is_named_once_after_it_settles_with_its_lighter_variants():
    clock = Clock()
    notice = SlowStyleNotice(30.0, lambda style: {"full": ["full_rt", "full_fast"]}.get(style, []), clock=clock)
    assert notice("full", 6.0) is None  # its first frame: the average still holds the last style's fps
    clock.now += live_advice.SETTLE_S - 0.1
    assert notice("full", 6.0) is None
    clock.now += 0.2
    said = notice("full", 6.0)
    assert said.startswith("full paints 6 fps here and its source gives 30")
    assert "full_rt, full_fast" in said and "stylecast bench styles" in said
    clock.now += 60
    assert notice("full", 5.0) is None  # said once


def test_a_style_that_keeps_up_or_an_unknown_camera_rate_gets_nothing():
    clock = Clock()
    keeps_up = SlowStyleNotice(30.0, lambda style: ["x"], clock=clock)
    unknown_rate = SlowStyleNotice(0.0, lambda style: ["x"], clock=clock)
    for notice in (keeps_up, unknown_rate):
        notice("rt", 29.0)
        clock.now += 2 * live_advice.SETTLE_S
        assert notice("rt", 29.0) is None


def test_switching_styles_restarts_the_wait_and_each_slow_style_is_named():
    clock = Clock()
    notice = SlowStyleNotice(25.0, lambda style: [], clock=clock)
    notice("a", 5.0)
    clock.now += live_advice.SETTLE_S + 1
    assert notice("a", 5.0).startswith("a paints 5 fps")
    assert notice("b", 5.0) is None
    clock.now += 1
    assert notice("b", 5.0) is None  # not yet settled on b
    clock.now += live_advice.SETTLE_S
    said = notice("b", 4.0)
    assert said.startswith("b paints 4 fps") and "lighter network" not in said  # nothing lighter to offer
