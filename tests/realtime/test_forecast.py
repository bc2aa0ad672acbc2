"""`stylecast video` says up front how long a long job takes, and what paints the same picture faster."""
import time

from stylecast.realtime import forecast
from stylecast.realtime.forecast import forecast_note, seconds_per_frame
from stylecast.styles import lighter_variants
from tests.realtime.clips import make_clip


def test_a_long_job_is_announced_with_the_lighter_networks_of_its_painting():
    lighter = lighter_variants("starry_night")
    assert lighter and lighter[0] == "starry_night_lite_rt"  # cheapest first
    note = forecast_note(0.4, 9000, 2, "starry_night", lighter)  # 9000 frames, 0.4 s each, 2 at once: 30 min
    assert note.startswith("painting 9000 frames with starry_night takes about 30 min here (400 ms a frame)")
    assert "-s starry_night_lite_rt is the fastest" in note
    assert forecast_note(0.01, 300, 1, "starry_night", lighter) is None  # 3 s: the progress bar says enough
    assert forecast_note(0.4, 0, 1, "x", []) is None  # a header without a frame count: nothing to say


def test_the_time_of_a_frame_is_measured_after_the_first_paint():
    calls = []

    def paint(frame):
        calls.append(frame.shape)
        time.sleep(0.2 if len(calls) == 1 else 0.02)  # the first call compiles

    took = seconds_per_frame(paint, (64, 48))
    assert calls == [(48, 64, 3), (48, 64, 3)]
    assert 0.02 <= took < 0.15


def test_the_video_command_prints_the_forecast_before_painting(tmp_path, capsys, monkeypatch):
    from stylecast.cli import main

    monkeypatch.setattr(forecast, "WORTH_SAYING_S", 0.0)  # this short clip counts as long
    clip = make_clip(tmp_path / "c.mp4", frames=12, audio=None)
    assert main(["video", str(clip), "-s", "cafe_terrace", "-o", str(tmp_path / "out.mp4"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "note: painting 12 frames with cafe_terrace takes about" in err
    assert "-s cafe_terrace_rt is the fastest" in err
