"""The live loop's advice when a style paints fewer frames than its source gives."""
from stylecast.realtime.live import advice as live_advice
from stylecast.realtime.live.advice import SlowStyleNotice


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def paint(notice: SlowStyleNotice, clock: Clock, style: str, fps: float, seconds: float) -> list[str]:
    """What the notice says over ``seconds`` of frames painted at ``fps``."""
    said = []
    for _ in range(round(seconds * fps)):
        clock.now += 1 / fps
        said += [line for line in [notice(style)] if line]
    return said


def test_a_slow_style_is_named_once_after_it_settles_with_its_lighter_variants():
    clock = Clock()
    notice = SlowStyleNotice(30.0, lambda style: {"full": ["full_rt", "full_fast"]}.get(style, []), clock=clock)
    assert paint(notice, clock, "full", 6.0, live_advice.SETTLE_S - 0.5) == []  # not judged yet
    said = paint(notice, clock, "full", 6.0, 60)
    assert len(said) == 1 and said[0].startswith("full paints 6 fps here and its source gives 30")
    assert "full_rt, full_fast" in said[0] and "stylecast bench styles" in said[0] and "--size" in said[0]


def test_a_style_that_keeps_up_or_an_unknown_source_rate_gets_nothing():
    clock = Clock()
    assert paint(SlowStyleNotice(30.0, lambda style: ["x"], clock=clock), clock, "rt", 28.0, 20) == []
    assert paint(SlowStyleNotice(0.0, lambda style: ["x"], clock=clock), clock, "rt", 5.0, 20) == []


def test_switching_styles_restarts_the_count_and_each_slow_style_is_named():
    clock = Clock()
    notice = SlowStyleNotice(25.0, lambda style: [], clock=clock)
    assert len(paint(notice, clock, "a", 5.0, 10)) == 1
    # b starts after a's slow frames: its count starts afresh, so it is judged by its own pace
    assert paint(notice, clock, "b", 24.0, 10) == []
    said = paint(notice, clock, "c", 4.0, 10)
    assert len(said) == 1 and said[0].startswith("c paints 4 fps") and "lighter network" not in said[0]
