"""Stopping a run from outside: Ctrl-C keeps a live recording; SIGTERM/SIGHUP during a video leave
no hidden partial file (as Ctrl-C does)."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import OPENCV_DATA, ctrl_c_as_at_a_terminal
from tests.realtime.clips import video_facts

pytest.importorskip("av")


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stylecast", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_as_at_a_terminal)


def _wait_for(predicate, timeout: float = 60) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _partials(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if "partial" in p.name]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_a_live_recording_keeps_it(tmp_path, sig):
    clip = OPENCV_DATA / "vtest.avi"
    if not clip.is_file():
        pytest.skip("apt-get install opencv-doc")
    rec = tmp_path / "rec.mp4"
    proc = _start(["live", "--source", str(clip), "--loop", "-s", "cafe_terrace_rt", "--sink", "file", "--record", str(rec),
                   "--size", "320x240"], tmp_path)
    assert _wait_for(lambda: any(p.stat().st_size > 20_000 for p in _partials(tmp_path)) or proc.poll() is not None)
    time.sleep(1.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert rec.is_file() and not _partials(tmp_path)
    assert video_facts(rec)["frames"] >= 10, "the recording is a complete, playable file"


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_killed_video_leaves_no_partial_file(tmp_path, sig, code):
    clip = OPENCV_DATA / "Megamind.avi"
    if not clip.is_file():
        pytest.skip("apt-get install opencv-doc")
    out = tmp_path / "out.mp4"
    proc = _start(["video", str(clip), "-s", "starry_night", "--stroke-scale", "0.5", "-o", str(out), "--quiet"], tmp_path)
    assert _wait_for(lambda: bool(_partials(tmp_path)) or proc.poll() is not None)
    time.sleep(0.5)
    assert proc.poll() is None, "still painting when the signal comes"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code and "interrupted" in err and "Traceback" not in err
    assert not out.exists() and not _partials(tmp_path)


_SWALLOWED = """
import os, signal, sys, time
from stylecast import cli
from stylecast.cli import info


def a_library_that_turns_ctrl_c_into_its_own_error(args):
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(10)
    except KeyboardInterrupt:
        raise ValueError("Invalid argument")  # what PyAV raised when Ctrl-C came while it was muxing


info.cmd_styles = a_library_that_turns_ctrl_c_into_its_own_error
sys.exit(cli.main(["styles"]))
"""


def test_ctrl_c_that_a_library_turns_into_an_error_still_ends_as_interrupted(tmp_path):
    r = subprocess.run([sys.executable, "-c", _SWALLOWED], capture_output=True, text=True, timeout=60,
                       preexec_fn=ctrl_c_as_at_a_terminal)
    assert r.returncode == 130 and r.stderr == "stylecast: interrupted\n", r.stderr


def test_an_interrupted_folder_of_images_is_finished_with_skip_existing(tmp_path, photo_path):
    album = tmp_path / "album"
    album.mkdir()
    for i in range(40):
        (album / f"p{i:02d}.jpg").write_bytes(photo_path.read_bytes())
    out = tmp_path / "out"
    proc = _start(["image", str(album), "-s", "starry_night", "--stroke-scale", "0.5", "-o", str(out)], tmp_path)
    assert _wait_for(lambda: out.is_dir() and len(list(out.glob("*.jpg"))) >= 2 or proc.poll() is not None)
    proc.send_signal(signal.SIGINT)
    printed, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "--skip-existing paints the rest" in err, err
    done = sorted(out.iterdir())
    assert 2 <= len(done) < 40 and not [p for p in done if "partial" in p.name]
    assert [Path(line) for line in printed.split()] == done, "each finished picture was said as it was written"
    before = {p.name: p.stat().st_mtime_ns for p in done}
    proc = _start(["image", str(album), "-s", "starry_night", "--stroke-scale", "0.5", "-o", str(out)], tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "--skip-existing" in err
    proc = _start(["image", str(album), "-s", "starry_night", "--stroke-scale", "0.5", "-o", str(out), "--skip-existing"], tmp_path)
    printed, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert len(printed.split()) == 40 - len(done) and len(list(out.iterdir())) == 40
    assert {p.name: p.stat().st_mtime_ns for p in done} == before, "what was finished is left as it was"
