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


def _megabytes(folder: Path) -> str:
    return f"{sum(p.stat().st_size for p in folder.iterdir()) / 1e6:.0f}"


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


def test_a_long_video_painted_in_segments_onto_a_full_disk(tmp_path, mount):
    """The second part fills the disk: one line, nothing under the final name, the first part kept
    whole; once there is room, the same call goes on from it."""
    import json

    from stylecast.errors import StylecastError
    from stylecast.realtime.config import RunConfig
    from stylecast.realtime.video import VideoConfig, stylize_videos

    clip = OPENCV_DATA / "Megamind.avi"
    if not clip.is_file():
        pytest.skip("apt-get install opencv-doc")
    full = mount(6144)  # the first lossless part at 240 px fits, the second does not
    config = VideoConfig(run=RunConfig(style="cafe_terrace_rt", max_side=240), crf=0, resumable_from_s=5.0, segment_s=2.0)
    notes: list[str] = []
    with pytest.raises(StylecastError, match=f"could not write {full}/.x.mkv.stylecast-parts/part-00001.mkv: No space"):
        stylize_videos([clip], full / "x.mkv", config, tell=notes.append)
    parts = full / ".x.mkv.stylecast-parts"
    assert [p.name for p in full.iterdir()] == [parts.name]
    assert json.loads((parts / "manifest.json").read_text())["done"] == [0]
    assert sorted(p.name for p in parts.iterdir()) == ["manifest.json", "part-00000.mkv"]
    assert notes == [f"1 of 3 segment(s) of {clip.name} are painted and kept in {parts} "
                     f"({_megabytes(parts)} MB): running it again goes on from there; deleting it starts over"]

    subprocess.run(["mount", "-o", "remount,size=65536k", str(full)], check=True)
    notes.clear()
    _, results = stylize_videos([clip], full / "x.mkv", config, tell=notes.append)
    assert notes == ["x.mkv: going on from the 1 of 3 segment(s) an earlier run painted"]
    assert results[0].frames == 270 and [p.name for p in full.iterdir()] == ["x.mkv"]


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
