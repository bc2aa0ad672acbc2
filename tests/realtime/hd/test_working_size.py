"""The working size: stroke scale -> long side, aspect kept, multiples of 4, never above the frame."""
import pytest

from stylecast.realtime.hd.working_size import TRAINED_LONG_SIDE, stroke_long_side, working_size


def test_stroke_scale_sets_the_long_side():
    assert stroke_long_side(1.0) == TRAINED_LONG_SIDE == 640
    assert stroke_long_side(2.0) == 320
    assert stroke_long_side(4.0) == 160
    assert stroke_long_side(0.5) == 1280
    with pytest.raises(ValueError):
        stroke_long_side(0.0)


@pytest.mark.parametrize("frame, side, want", [
    ((1280, 720), 640, (640, 360)),
    ((1920, 1080), 640, (640, 360)),
    ((720, 1280), 640, (360, 640)),  # portrait
    ((641, 359), 320, (320, 180)),
    ((640, 480), 640, (640, 480)),  # already there: painted as it is
    ((320, 240), 640, (320, 240)),  # never painted above its own size
    ((1280, 720), None, (1280, 720)),
])
def test_working_size(frame, side, want):
    got = working_size(*frame, side)
    assert got == want
    if got != frame:
        assert got[0] % 4 == 0 and got[1] % 4 == 0
        assert abs(got[0] / got[1] - frame[0] / frame[1]) < 0.03
