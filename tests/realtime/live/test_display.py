"""The preview window: refused with advice where no display answers (OpenCV's Qt would abort the
process), and painting real frames onto a real X server (Xvfb) where one does."""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from stylecast.cli import main
from stylecast.realtime.live.display import opencv_gui, window_problem, x_server_answers

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X displays are a Linux matter here")


def test_no_display_variable_is_a_problem_only_on_linux():
    assert "DISPLAY is not set" in window_problem({}, platform="linux")
    assert window_problem({}, platform="darwin") is None
    assert window_problem({}, platform="win32") is None
    wayland = {"WAYLAND_DISPLAY": "wayland-0"}
    assert window_problem(wayland, platform="linux", gui="GTK3") is None
    assert "X only" in window_problem(wayland, platform="linux", gui="QT5"), "the pip wheel's Qt has no Wayland plugin"
    assert opencv_gui(), "the installed OpenCV names its window toolkit (or NONE)"


@linux_only
def test_a_display_is_judged_by_whether_its_server_answers():
    # a listener in the abstract namespace under X's socket name stands in for a local X server
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        number = next(n for n in range(4000, 4100) if not x_server_answers(f":{n}", timeout_s=0.2))
        assert "does not answer" in window_problem({"DISPLAY": f":{number}"}, platform="linux")
        server.bind(f"\0/tmp/.X11-unix/X{number}")
        server.listen(8)  # connections are never accepted: room for each probe
        assert x_server_answers(f":{number}") and x_server_answers(f"unix:{number}.0")
        assert window_problem({"DISPLAY": f":{number}.0"}, platform="linux") is None
    # ssh -X style: host:N is TCP port 6000 + N
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        if port < 6000:
            pytest.skip("the system gave a port below X's range")
        assert x_server_answers(f"127.0.0.1:{port - 6000}.0")
    assert not x_server_answers(f"127.0.0.1:{port - 6000}", timeout_s=0.5)  # closed again
    assert x_server_answers("/private/tmp/launchd-1/org.xquartz:0"), "a path we do not parse is left to OpenCV"


@linux_only
def test_live_without_a_display_is_one_line_that_names_the_other_sinks(tmp_path, capsys, monkeypatch, tiny_model):
    pytest.importorskip("av")
    from tests.realtime.clips import make_clip

    clip = make_clip(tmp_path / "in.mkv", frames=6)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code = main(["live", "--source", str(clip), "-s", str(tiny_model), "--duration", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    error_lines = [line for line in err.splitlines() if line.startswith("stylecast: error:")]
    assert len(error_lines) == 1 and "--sink http" in error_lines[0] and "DISPLAY is not set" in error_lines[0]


def _read_xwd(path: Path) -> np.ndarray:
    """The screen of an Xvfb started with -fbdir: an XWD header, a colour map, then the pixels."""
    raw = path.read_bytes()
    header = np.frombuffer(raw[:100], dtype=">u4")
    header_size, width, height, bits_per_pixel, bytes_per_line, ncolors = (
        int(header[0]), int(header[4]), int(header[5]), int(header[11]), int(header[12]), int(header[19]))
    assert bits_per_pixel == 32
    start = header_size + 12 * ncolors
    rows = np.frombuffer(raw[start:start + bytes_per_line * height], dtype=np.uint8).reshape(height, bytes_per_line)
    return rows[:, :width * 4].reshape(height, width, 4)[..., :3]


@linux_only
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (apt-get install xvfb)")
def test_live_paints_into_a_window_on_a_real_x_server(tmp_path, tiny_model):
    pytest.importorskip("av")
    from tests.realtime.clips import make_clip

    clip = make_clip(tmp_path / "in.mkv", frames=24, size=(160, 120))
    fb = tmp_path / "fb"
    fb.mkdir()
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "640x480x24", "-fbdir", str(fb)],
                            pass_fds=(write_fd,), stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as numbers:
            display = f":{numbers.readline().strip()}"
        blank = _read_xwd(fb / "Xvfb_screen0")
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        live = subprocess.Popen([sys.executable, "-m", "stylecast", "live", "--source", str(clip), "--loop",
                                 "-s", str(tiny_model), "--backend", "cpu", "--duration", "6"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        frame_area = 160 * 120
        screens = []
        deadline = time.monotonic() + 60
        while live.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
            screens.append(_read_xwd(fb / "Xvfb_screen0"))
        _, err = live.communicate(timeout=60)
        assert live.returncode == 0, err
        assert "Traceback" not in err and " frames, " in err
        # the clip moves, so a window that shows its painted frames changes under our eyes; a window
        # that opened but shows nothing (or one still frame) does not
        moving = [(a != b).any(axis=2).sum() for a, b in zip(screens, screens[1:])
                  if (a != blank).any() and (b != blank).any()]
        assert moving and max(moving) > 0.3 * frame_area, f"changed pixels between looks: {moving}"
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
