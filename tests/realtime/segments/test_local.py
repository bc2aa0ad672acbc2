"""A long video painted on one machine in segments kept as they finish: the same output as one
pass, and a run stopped on the way goes on from the finished segments. Real clip: opencv-doc
Megamind.avi (270 frames at 24 fps, keyframes 0, 1, 98, 154, 200, sound), treated as long."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

from stylecast.realtime.config import RunConfig  # noqa: E402
from stylecast.realtime.segments import file as segmented_file  # noqa: E402
from stylecast.realtime.segments import local, plan  # noqa: E402
from stylecast.realtime.segments.plan import CannotSplit  # noqa: E402
from stylecast.realtime.video import VideoConfig, stylize_videos  # noqa: E402
from tests.conftest import ctrl_c_as_at_a_terminal  # noqa: E402
from tests.realtime.clips import audio_packets, frames_and_pts, make_clip  # noqa: E402

CLIP = Path("/usr/share/doc/opencv-doc/examples/data/Megamind.avi")


@pytest.fixture(scope="module")
def clip() -> Path:
    if not CLIP.exists():
        pytest.skip("apt-get install opencv-doc")
    return CLIP


def _config(resumable: bool) -> VideoConfig:
    # 2-second segments of an 11-second clip: cut at keyframes 98 and 154, so three of them
    return VideoConfig(run=RunConfig(style="cafe_terrace_rt", max_side=240), smooth="flow", crf=0,
                       resumable_from_s=5.0 if resumable else None, segment_s=2.0)


def _megabytes(folder: Path) -> str:
    return f"{sum(p.stat().st_size for p in folder.iterdir()) / 1e6:.0f}"


def _min_psnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    worst = float("inf")
    for x, y in zip(a, b):
        mse = float(np.mean((x.astype(np.float64) - y) ** 2))
        worst = min(worst, float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse))
    return worst


@pytest.fixture(scope="module")
def one_pass(clip, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("one") / "one.mkv"
    _, results = stylize_videos([clip], target, _config(resumable=False))
    assert results[0].segments == ""
    return target


def _same_video(target: Path, one_pass: Path, clip: Path) -> None:
    pts_one, one = frames_and_pts(one_pass)
    pts, frames = frames_and_pts(target)
    assert len(frames) == 270 and pts == pts_one
    assert _min_psnr(one, frames) >= 40  # each segment's pre-roll primes --smooth flow
    assert audio_packets(target) == audio_packets(clip)


def test_a_long_video_is_painted_in_segments_that_give_the_one_pass_output(clip, one_pass, tmp_path, monkeypatch):
    target = tmp_path / "long.mkv"
    _, results = stylize_videos([clip], target, _config(resumable=True))
    assert results[0].segments.startswith("3 segment(s), joined in ")
    assert list(tmp_path.iterdir()) == [target], "no parts or temporary files left"
    _same_video(target, one_pass, clip)

    # Without the pre-roll the first frames of a segment (keyframes 98, 154, 200) start the flow
    # smoothing cold, and show it.
    monkeypatch.setattr(plan, "PREROLL_FRAMES", 0)
    cold = tmp_path / "cold.mkv"
    stylize_videos([clip], cold, _config(resumable=True))
    _, one = frames_and_pts(one_pass)
    _, warm = frames_and_pts(target)
    _, cold_frames = frames_and_pts(cold)
    starts = [98, 154, 200]
    with_preroll = [_min_psnr([one[s]], [warm[s]]) for s in starts]
    without = [_min_psnr([one[s]], [cold_frames[s]]) for s in starts]
    assert all(w < p - 3 for w, p in zip(without, with_preroll)), (without, with_preroll)


def test_parts_with_b_frames_join_into_matroska(clip, one_pass, tmp_path):
    """x264 at its default quality uses B-frames; Matroska then gives a part's first packets no
    decode time, which the join once passed on to the muxer ("Invalid argument", with --ray too)."""
    target = tmp_path / "lossy.mkv"
    config = VideoConfig(run=RunConfig(style="cafe_terrace_rt", max_side=240), resumable_from_s=5.0, segment_s=2.0)
    _, results = stylize_videos([clip], target, config)
    assert results[0].segments.startswith("3 segment(s)")
    with av.open(str(target)) as c:
        packets = [p for p in c.demux(video=0) if p.size]
        assert any(p.pts != p.dts for p in packets if p.dts is not None), "B-frames: decode and display order differ"
    pts, _ = frames_and_pts(target)
    assert pts == frames_and_pts(one_pass)[0]


def test_a_run_stopped_on_the_way_goes_on_from_the_finished_segments(clip, one_pass, tmp_path, monkeypatch):
    target = tmp_path / "long.mkv"
    painted: list[int] = []
    real = local.paint_segment

    def stopped_in_the_second(paint, config, timeline, segment, part, width, workers=1, progress=None):
        painted.append(segment.number)
        if len(painted) < 2:
            return real(paint, config, timeline, segment, part, width, workers, progress)
        frames = iter(range(10))

        def ctrl_c_after_ten_frames() -> None:
            if next(frames, None) is None:
                raise KeyboardInterrupt
        return real(paint, config, timeline, segment, part, width, workers, ctrl_c_after_ten_frames)

    monkeypatch.setattr(local, "paint_segment", stopped_in_the_second)
    notes: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        stylize_videos([clip], target, _config(resumable=True), tell=notes.append)
    parts = tmp_path / ".long.mkv.stylecast-parts"
    assert notes == [f"1 of 3 segment(s) of {clip.name} are painted and kept in {parts} "
                     f"({_megabytes(parts)} MB): running it again goes on from there; deleting it starts over"]
    assert not target.exists()
    assert json.loads((parts / "manifest.json").read_text())["done"] == [0]
    assert sorted(p.name for p in parts.iterdir()) == ["manifest.json", "part-00000.mkv"], "the half-painted part is gone"

    painted.clear()
    notes.clear()
    monkeypatch.setattr(local, "paint_segment", lambda *a, **kw: painted.append(a[3].number) or real(*a, **kw))
    _, results = stylize_videos([clip], target, _config(resumable=True), tell=notes.append)
    assert painted == [1, 2], "only the segments not finished before"
    assert notes == ["long.mkv: going on from the 1 of 3 segment(s) an earlier run painted"]
    assert "1 painted by an earlier run" in results[0].segments
    assert list(tmp_path.iterdir()) == [target]
    _same_video(target, one_pass, clip)


def test_other_settings_paint_everything_again(clip, tmp_path, monkeypatch):
    target = tmp_path / "long.mkv"
    real = local.paint_segment

    def stopped_after_the_first(*a, **kw):
        if a[3].number:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(local, "paint_segment", stopped_after_the_first)
    with pytest.raises(KeyboardInterrupt):
        stylize_videos([clip], target, _config(resumable=True))
    monkeypatch.undo()
    notes: list[str] = []
    other = VideoConfig(run=RunConfig(style="cafe_terrace_rt", max_side=240), smooth="flow", crf=1, resumable_from_s=5.0,
                        segment_s=2.0)
    _, results = stylize_videos([clip], target, other, tell=notes.append)
    assert len(notes) == 1 and "1 part(s)" in notes[0] and "other settings" in notes[0]
    assert "earlier run" not in results[0].segments and results[0].frames == 270


def test_a_video_that_cannot_be_cut_is_painted_in_one_pass(clip, tmp_path, monkeypatch):
    def cannot(path):
        raise CannotSplit(f"{path}: two frames share a timestamp, so it cannot be split")

    monkeypatch.setattr(segmented_file, "read_timeline", cannot)
    notes: list[str] = []
    _, results = stylize_videos([clip], tmp_path / "long.mkv", _config(resumable=True), tell=notes.append)
    assert results[0].frames == 270 and results[0].segments == ""
    assert notes == [f"{clip}: two frames share a timestamp, so it cannot be split: painting it in one pass, "
                     f"which a stopped run does not keep"]
    assert [p.name for p in tmp_path.iterdir()] == ["long.mkv"]


def test_ctrl_c_on_a_long_video_and_the_same_command_again(tmp_path):
    """The command line, a real SIGINT, and the default threshold: a 125-second clip."""
    source = make_clip(tmp_path / "talk.mp4", frames=3000, size=(64, 48), fps=24)
    target = tmp_path / "out" / "talk-painted.mp4"
    command = [sys.executable, "-m", "stylecast", "video", str(source), "-s", "cafe_terrace_rt", "-o", str(target), "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_at_a_terminal)
    manifest = target.parent / f".{target.name}.stylecast-parts" / "manifest.json"
    deadline = time.time() + 120
    done: list[int] = []
    while time.time() < deadline and not done and proc.poll() is None:
        try:
            done = json.loads(manifest.read_text())["done"]
        except (OSError, ValueError):
            time.sleep(0.02)
    assert done, "no segment was finished"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "segment(s) of talk.mp4 are painted and kept" in err and not target.exists()
    assert "--skip-existing" not in err, "one input: the batch advice does not apply"

    r = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "talk-painted.mp4: going on from the" in r.stderr
    assert "painted by an earlier run" in r.stdout
    with av.open(str(target)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 3000
    assert [p.name for p in target.parent.iterdir()] == [target.name]
