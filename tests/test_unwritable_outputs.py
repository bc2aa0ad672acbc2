"""Outputs onto a read-only filesystem or a full disk: one line and exit 2, before capture where it
can be known, and nothing half-written left. Needs root to mount a tmpfs (skipped otherwise)."""
import os
import subprocess
from pathlib import Path

import pytest

from stylecast.cli import main
from tests.conftest import OPENCV_DATA
from tests.realtime.clips import make_clip

pytest.importorskip("av")


@pytest.fixture
def mount(tmp_path):
    """mount(size_kb, read_only) -> a fresh tmpfs folder; unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = []

    def make(size_kb: int, read_only: bool = False) -> Path:
        folder = tmp_path / f"mnt{len(mounted)}"
        folder.mkdir()
        options = f"size={size_kb}k" + (",ro" if read_only else "")
        if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True).returncode:
            pytest.skip("cannot mount a tmpfs here")
        mounted.append(folder)
        return folder

    yield make
    for folder in mounted:
        subprocess.run(["umount", str(folder)], capture_output=True)


def _one_line(capsys, match: str) -> None:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith("stylecast: error:") and match in lines[-1], err
    assert "Traceback" not in err


def test_video_into_a_read_only_folder(tmp_path, mount, capsys):
    src = make_clip(tmp_path / "in.mkv", frames=6, audio=None)
    ro = mount(1024, read_only=True)
    assert main(["video", str(src), "-s", "cafe_terrace_rt", "-o", str(ro / "x.mp4"), "--quiet"]) == 2
    _one_line(capsys, f"cannot write in {ro}")


def test_video_onto_a_full_disk(tmp_path, mount, capsys):
    clip = OPENCV_DATA / "vtest.avi"
    if not clip.is_file():
        pytest.skip("apt-get install opencv-doc")
    full = mount(160)  # room for the probe, not for the video
    assert main(["video", str(clip), "-s", "cafe_terrace_rt", "--crf", "0", "-o", str(full / "x.mp4"), "--quiet"]) == 2
    _one_line(capsys, f"could not write {full / 'x.mp4'}")
    assert not list(full.iterdir()), "nothing half-written left"


def test_image_into_a_read_only_folder(photo_path, mount, capsys):
    ro = mount(1024, read_only=True)
    assert main(["image", str(photo_path), "-s", "cafe_terrace_rt", "-o", str(ro / "x.png")]) == 2
    _one_line(capsys, f"cannot write in {ro}")


def test_live_recording_into_a_read_only_or_missing_folder_is_refused_before_capture(tmp_path, mount, capsys):
    src = make_clip(tmp_path / "in.mkv", frames=6, audio=None)
    ro = mount(1024, read_only=True)
    assert main(["live", "--source", str(src), "-s", "cafe_terrace_rt", "--sink", "file", "--record", str(ro / "r.mp4")]) == 2
    _one_line(capsys, f"cannot write in {ro}")
    nested = tmp_path / "new" / "folder" / "r.mp4"  # a missing folder is made
    assert main(["live", "--source", str(src), "-s", "cafe_terrace_rt", "--sink", "file", "--record", str(nested)]) == 0
    assert nested.is_file()
