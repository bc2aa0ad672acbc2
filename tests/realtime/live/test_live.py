"""`stylecast live`: file source -> HTTP + file sinks, the API, hotkeys, virtual camera logic."""
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("av")

from stylecast.errors import StylecastError  # noqa: E402
from stylecast.realtime.live.controls import LiveControls  # noqa: E402
from stylecast.realtime.live.http_sink import HttpStreamSink  # noqa: E402
from stylecast.realtime.live.bank import StyleBank  # noqa: E402
from stylecast.realtime.live.config import LiveConfig  # noqa: E402
from stylecast.realtime.live.loop import run_live  # noqa: E402
from stylecast.realtime.live.sinks import VirtualCameraSink, WindowSink, handle_key  # noqa: E402
from stylecast.realtime.live.capture import CameraSource, LatestFrame, PacedFileSource  # noqa: E402
from stylecast.realtime.media.sources import Frame  # noqa: E402
from tests.realtime.clips import make_clip, pan_clip, video_facts  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _counting_clip(path: Path, frames: int = 60, fps: int = 20) -> Path:
    """Frame i is a flat grey of brightness 4*i: order is readable from any frame."""
    import av
    from fractions import Fraction

    with av.open(str(path), "w") as out:
        s = out.add_stream("ffv1", rate=fps)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 4 * i, np.uint8), format="bgr24")
            f.pts, f.time_base = i, Fraction(1, fps)
            out.mux(s.encode(f))
        out.mux(s.encode(None))
    return path


class IdentityBank:
    """Stands in for the style models so the frames' content can be checked exactly."""

    names = ["plain", "other"]
    reasons = {"plain": "identity", "other": "identity"}

    def __getitem__(self, name):
        return lambda image: image.copy()

    def key_of(self, name):
        return name, None


def _read_mjpeg(url: str, count: int, timeout: float = 10) -> list[np.ndarray]:
    frames = []
    with urllib.request.urlopen(url, timeout=timeout) as r:
        buf = b""
        while len(frames) < count:
            buf += r.read(4096)
            while True:
                start = buf.find(b"\xff\xd8")
                end = buf.find(b"\xff\xd9", start + 2)
                if start < 0 or end < 0:
                    break
                frames.append(cv2.imdecode(np.frombuffer(buf[start:end + 2], np.uint8), cv2.IMREAD_COLOR))
                buf = buf[end + 2:]
    return frames


def test_file_source_to_http_and_file_sinks(tmp_path):
    clip = _counting_clip(tmp_path / "count.mkv")
    port = _free_port()
    record = tmp_path / "rec.mp4"
    config = LiveConfig(source=str(clip), sinks=("http", "file"), record=record, port=port, smooth="off", duration=8)
    result = {}
    runner = threading.Thread(target=lambda: result.update(stats=run_live(config, bank=IdentityBank())))
    runner.start()
    time.sleep(0.8)
    frames = _read_mjpeg(f"http://127.0.0.1:{port}/stream.mjpg", 10)
    runner.join(15)
    assert all(f.shape == (48, 64, 3) for f in frames)
    levels = [int(f.mean()) for f in frames]
    assert levels == sorted(levels) and levels[-1] > levels[0], levels  # in order, and moving on
    stats = result["stats"]
    assert stats.frames >= 10 and stats.fps > 0
    facts = video_facts(record)
    assert facts["size"] == (64, 48) and facts["frames"] == stats.frames
    assert not list(tmp_path.glob(".*partial*"))


@pytest.fixture
def server():
    controls = LiveControls(styles=["cafe", "wave"])
    with HttpStreamSink(controls=controls, port=0) as sink:
        yield sink, controls


def _post(url: str, body: bytes) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_api_switches_known_styles_only(server):
    sink, controls = server
    api = f"http://127.0.0.1:{sink.port}/api/state"
    assert _post(api, b'{"style": "wave", "strength": 0.4}') == (200, {**controls.state()})
    assert controls.style == "wave" and controls.strength == 0.4
    for bad in (b'{"style": "nope"}', b'{"style": "../../etc/passwd"}', b'{"style": "/tmp/x.onnx"}'):
        code, body = _post(api, bad)
        assert code == 400 and "unknown style" in body["error"]
    assert _post(api, b'{"strength": 3}')[0] == 400
    assert _post(api, b'{"strength": true}')[0] == 400
    assert _post(api, b"not json")[0] == 400
    assert controls.style == "wave" and controls.strength == 0.4  # bad requests changed nothing
    code, state = _post(api, b'{"paint": "background"}')
    assert code == 200 and state["paint"] == controls.paint == "background"
    for bad in (b'{"paint": "face"}', b'{"paint": ["person"]}', b'{"paint": "person", "strength": 7}'):
        assert _post(api, bad)[0] == 400
    assert controls.paint == "background"


def test_a_viewer_leaving_does_not_disturb_others(server):
    sink, _ = server
    stop = threading.Event()

    def feed():
        i = 0
        while not stop.is_set():
            sink.write(Frame(np.full((32, 32, 3), i % 250, np.uint8), i))
            i += 1
            time.sleep(0.02)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        rude = socket.create_connection(("127.0.0.1", sink.port))
        rude.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n")
        rude.recv(2000)
        rude.close()  # mid-stream
        frames = _read_mjpeg(f"http://127.0.0.1:{sink.port}/stream.mjpg", 15)
        assert len(frames) >= 15 and all(f.shape == (32, 32, 3) for f in frames)
        page = urllib.request.urlopen(f"http://127.0.0.1:{sink.port}/?transparent=1", timeout=5).read().decode()
        assert "/stream.mjpg" in page and "background:transparent" in page
    finally:
        stop.set()
        feeder.join()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(not CHROMIUM, reason="apt-get install chromium for the browser test")
def test_page_renders_the_stream_in_headless_chromium(server, tmp_path):
    sink, _ = server
    stop = threading.Event()
    yy, xx = np.mgrid[0:240, 0:320]
    picture = np.stack([xx % 256, yy % 256, np.full_like(xx, 200)], -1).astype(np.uint8)

    def feed():
        while not stop.is_set():
            sink.write(Frame(picture, 0))
            time.sleep(0.05)

    feeder = threading.Thread(target=feed)
    feeder.start()
    shot = tmp_path / "shot.png"
    try:
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=640,480", "--virtual-time-budget=3000",
                        f"--screenshot={shot}", f"http://127.0.0.1:{sink.port}/?controls=0"],
                       capture_output=True, timeout=60)
    finally:
        stop.set()
        feeder.join()
    image = cv2.imread(str(shot))
    assert image is not None, "chromium wrote no screenshot"
    assert image.std() > 20, "the page shows the stream, not a blank"


def test_hotkeys_change_the_controls():
    c = LiveControls(styles=["a", "b", "c"])
    assert handle_key(ord("n"), c) == "style: b"
    assert handle_key(ord("p"), c) == "style: a" and handle_key(ord("p"), c) == "style: c"
    handle_key(ord("-"), c)
    assert c.strength == pytest.approx(0.9)
    handle_key(ord("s"), c), handle_key(ord("c"), c), handle_key(ord("o"), c)
    assert (c.smoothing, c.keep_colors, c.side_by_side) == (False, True, True)
    assert handle_key(-1, c) is None
    assert [handle_key(ord("b"), c) for _ in range(3)] == ["paint: background", "paint: person", "paint: all"]
    handle_key(ord("q"), c)
    assert c.quit


def test_window_sink_side_by_side_and_snapshot(tmp_path):
    shown, keys = [], iter([ord("o"), ord(" "), -1])
    c = LiveControls(styles=["a"])
    with WindowSink(controls=c, snapshot_dir=tmp_path, show=lambda t, img: shown.append(img), poll_key=lambda ms: next(keys)) as w:
        original, styled = np.zeros((20, 30, 3), np.uint8), np.full((20, 30, 3), 255, np.uint8)
        for i in range(3):
            w.write(Frame(styled, i, original=original))
    assert shown[0].shape == (20, 30, 3) and shown[1].shape == (20, 60, 3)  # 'o' toggled side by side
    assert len(w.snapshots) == 1 and cv2.imread(str(w.snapshots[0])).mean() == 255


def test_virtual_camera_gets_frames_and_explains_a_missing_device():
    sent = []

    class FakeCam:
        device = "/dev/video9"

        def __init__(self, **kw):
            self.kw = kw

        def send(self, image):
            sent.append(image.shape)

        def close(self):
            pass

    with VirtualCameraSink(width=64, height=48, fps=30, camera_factory=FakeCam) as cam:
        cam.write(Frame(np.zeros((96, 128, 3), np.uint8), 0))
    assert sent == [(48, 64, 3)] and cam.device == "/dev/video9"

    def no_device(**kw):
        raise RuntimeError("'v4l2loopback' backend: no device found")

    with pytest.raises(StylecastError, match="v4l2loopback"):
        VirtualCameraSink(width=64, height=48, fps=30, camera_factory=no_device).__enter__()


def test_missing_camera_says_what_was_tried(capfd):
    import cv2

    level = cv2.utils.logging.getLogLevel()
    with pytest.raises(StylecastError, match=r"cannot open camera/stream 9.*--source FILE"):
        with CameraSource("9"):
            pass
    # ours is the one message: OpenCV's warnings from each backend it probed stay out of the way
    assert capfd.readouterr().err == ""
    assert cv2.utils.logging.getLogLevel() == level


def test_latest_frame_drops_stale_frames():
    def burst():
        for i in range(50):
            yield Frame(np.zeros((2, 2, 3), np.uint8), i)

    with LatestFrame(burst()) as latest:
        time.sleep(0.3)
        got = latest.get()
        assert got.frame.index == 49 and latest.dropped == 49
        assert latest.get(timeout=1) is None


def test_style_bank_resolves_models(tiny_model):
    bank = StyleBank((str(tiny_model),), ("cpu",))
    assert bank.names == ["tiny"]
    out = bank["tiny"](np.zeros((30, 41, 3), np.uint8))
    assert out.shape == (30, 41, 3) and "cpu" in bank.reasons["tiny"]


def test_without_styles_the_cheapest_bundled_network_comes_first():
    from stylecast.styles import bundled_styles

    styles = [s for s in bundled_styles() if s.card]
    if len(styles) < 2:
        pytest.skip("needs two bundled styles with cards")
    bank = StyleBank((), ("cpu",))
    widths = {s.name: s.card.width for s in styles}
    assert widths[bank.names[0]] == min(widths.values())
    assert sorted(bank.names) == sorted(s.name for s in bundled_styles())


class RecordingBank(IdentityBank):
    """Identity styles that note the shape of every frame they are given, and when."""

    def __init__(self):
        self.calls: list[tuple[tuple[int, ...], float]] = []

    def __getitem__(self, name):
        def stylize(image):
            self.calls.append((image.shape, time.perf_counter()))
            return image.copy()
        return stylize


def test_the_backend_is_warmed_up_at_the_frame_size_before_capture_starts(tmp_path):
    clip = _counting_clip(tmp_path / "count.mkv", frames=20)
    bank = RecordingBank()
    stats = run_live(LiveConfig(source=str(clip), sinks=(), smooth="off", duration=3, size=(32, 24), governor=False),
                     bank=bank, sinks_override=[])
    assert stats.frames >= 5
    assert len(bank.calls) == stats.frames + 1, "one extra call: the warm-up"
    assert bank.calls[0][0] == (24, 32, 3), "compiled for the granted size, not the file's 64x48"
    assert all(shape == (24, 32, 3) for shape, _ in bank.calls)
    # governed: the warm-up that compiles, then the timed paints that pick the working size
    from stylecast.realtime.live.governed import TIMED_PAINTS

    bank = RecordingBank()
    stats = run_live(LiveConfig(source=str(clip), sinks=(), smooth="off", duration=3, size=(32, 24)), bank=bank, sinks_override=[])
    assert len(bank.calls) == stats.frames + 1 + TIMED_PAINTS
    assert all(shape == (24, 32, 3) for shape, _ in bank.calls)


def test_a_style_slower_than_the_camera_is_named_with_its_lighter_variant(tmp_path, monkeypatch, capsys):
    """A 30 fps file played like a camera, painted at about 8 fps: the loop says so once, and offers
    the same painting on a lighter network."""
    from stylecast.realtime.live import advice as live_advice
    from stylecast.styles import bundled_styles

    if not {"starry_night", "starry_night_lite_rt"} <= {s.name for s in bundled_styles()}:
        pytest.skip("needs starry_night and starry_night_lite_rt")
    monkeypatch.setattr(live_advice, "SETTLE_S", 1.0)

    class SlowBank(IdentityBank):
        names = ["starry_night"]
        reasons = {"starry_night": "a slow stand-in"}

        def __getitem__(self, name):
            return lambda image: (time.sleep(0.12), image.copy())[1]

    clip = _counting_clip(tmp_path / "count.mkv", frames=30, fps=30)
    run_live(LiveConfig(source=str(clip), sinks=(), smooth="off", duration=2.5, loop=True, governor=False), bank=SlowBank(),
             sinks_override=[])
    said = [line for line in capsys.readouterr().err.splitlines() if "paints" in line]
    assert len(said) == 1 and said[0].startswith("starry_night paints") and "source gives 30" in said[0]
    assert "starry_night_lite_rt" in said[0]


def test_a_looping_file_plays_every_frame_in_order_each_time_round_from_one_opening(tmp_path, monkeypatch):
    """H.264 with B-frames, so the decoder reorders: each pass round the loop gives the frames of
    one plain pass, and the clip is rewound rather than opened again at each restart (reopening,
    with its reorder window refilled, cost a frame or more of a 1080p stream every time round)."""
    import itertools

    from stylecast.realtime.media import sources

    clip = make_clip(tmp_path / "b.mp4", frames=10, fps=100, audio=None)
    with sources.VideoFileSource(clip) as one_pass:
        reference = [f.image for f in one_pass]
    opened = []
    real_open = sources._open_input
    monkeypatch.setattr(sources, "_open_input", lambda path: (opened.append(path), real_open(path))[1])
    with PacedFileSource(clip, loop=True, fps=1000) as paced:
        frames = list(itertools.islice(iter(paced), 3 * len(reference) + 2))
    assert [f.index for f in frames] == list(range(len(frames)))
    for i, frame in enumerate(frames):
        assert np.array_equal(frame.image, reference[i % len(reference)]), i
    assert len(opened) == 2  # the check on entering, then one opening for all three passes


def test_a_looping_file_replaced_while_it_plays_is_opened_again(tmp_path):
    """Rewinding keeps the file that was opened; a clip re-rendered in place is played from the next
    time round."""
    import os

    clip = _counting_clip(tmp_path / "clip.mkv", frames=5, fps=20)
    newer = make_clip(tmp_path / "newer.mkv", frames=4, size=(64, 48), fps=20, audio=None, codec="ffv1")
    from stylecast.realtime.media.sources import VideoFileSource

    with VideoFileSource(clip) as src:
        original = [f.image for f in src]
    with VideoFileSource(newer) as src:
        replacement = [f.image for f in src]
    with PacedFileSource(clip, loop=True, fps=1000) as paced:
        frames = iter(paced)
        first = [next(frames).image for _ in range(5)]
        os.replace(newer, clip)
        second = [next(frames).image for _ in range(4)]
    assert all(np.array_equal(a, b) for a, b in zip(first, original))
    assert all(np.array_equal(a, b) for a, b in zip(second, replacement))
    assert not np.array_equal(second[0], original[0])


class ListSink:
    def __init__(self):
        self.frames: list[Frame] = []

    def write(self, frame):
        self.frames.append(frame)


def test_overlapped_paints_several_frames_at_once_and_keeps_capture_order():
    """Three workers with uneven paint times: every frame comes out, in capture order, with its own
    painting and style, and three really were in flight together."""
    import random

    from stylecast.realtime.live.loop import Overlapped
    from stylecast.realtime.live.capture import Captured

    class Frames:  # what LatestFrame.get gives: each frame once, then None
        def __init__(self, n):
            self.left = [Captured(Frame(np.full((4, 4, 3), i, np.uint8), i), time.perf_counter(), 0) for i in range(n)]

        def get(self):
            return self.left.pop(0) if self.left else None

    busy, most, lock = [0], [0], threading.Lock()
    rng = random.Random(0)

    def paint(image):
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        time.sleep(rng.uniform(0.005, 0.03))
        with lock:
            busy[0] -= 1
        return f"style{int(image[0, 0, 0]) % 2}", image + 100

    out = list(Overlapped(Frames(20), paint, 3))
    assert [c.frame.index for c, _, _ in out] == list(range(20))
    assert all(int(p[0, 0, 0]) == c.frame.index + 100 and s == f"style{c.frame.index % 2}" for c, s, p in out)
    assert most[0] == 3
    with pytest.raises(ValueError):
        Overlapped(Frames(1), paint, 0)


def _textured_clip(path: Path, frames: int, fps: int) -> Path:
    """Different noise in every frame: a painting handed to the wrong frame would show."""
    import av
    from fractions import Fraction

    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as out:
        s = out.add_stream("ffv1", rate=fps)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv444p"
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), format="bgr24")
            f.pts, f.time_base = i, Fraction(1, fps)
            out.mux(s.encode(f))
        out.mux(s.encode(None))
    return path


def test_live_with_two_openvino_streams_shows_the_frames_in_order(tmp_path):
    pytest.importorskip("openvino")
    from stylecast.styles import resolve_style

    model = str(resolve_style("cafe_terrace_rt"))
    clip = _textured_clip(tmp_path / "noise.mkv", frames=40, fps=40)
    bank = StyleBank((model,), ("openvino",), streams=2)
    sink = ListSink()
    stats = run_live(LiveConfig(source=str(clip), sinks=(), smooth="off", duration=4, streams=2, governor=False), bank=bank,
                     sinks_override=[sink])
    assert "2 frames at once" in bank.reasons["cafe_terrace_rt"]
    indices = [f.index for f in sink.frames]
    assert len(indices) == stats.frames >= 10
    assert indices == sorted(set(indices)), "each frame once, in capture order"
    # each shown frame is the painting of its own capture, not of a neighbour's: painted again by the
    # same compiled network (a one-stream compile may pick other kernels, a grey level apart on some CPUs)
    one = bank["cafe_terrace_rt"]
    for f, after in zip(sink.frames[::7], sink.frames[1::7]):
        assert np.abs(f.image.astype(int) - one(f.original)).mean() < 0.5
        assert np.abs(f.image.astype(int) - one(after.original)).mean() > 2  # the check can tell frames apart


def test_streams_for_live_need_openvino(tiny_model):
    with pytest.raises(StylecastError, match="only the OpenVINO backend"):
        StyleBank((str(tiny_model),), ("cpu",), streams=2)["tiny"]


class PixelCostBank(IdentityBank):
    """A stand-in network whose frames cost ``ms_at_vga`` per 640x480 worth of pixels, changeable mid-run."""

    names = ["plain"]
    reasons = {"plain": "a stand-in whose cost grows with the pixels"}

    def __init__(self, ms_at_vga: float):
        self.ms_at_vga = ms_at_vga
        self.sizes: list[tuple[float, tuple[int, int]]] = []

    def __getitem__(self, name):
        def stylize(image):
            self.sizes.append((time.perf_counter(), image.shape[1::-1]))
            time.sleep(self.ms_at_vga * image.shape[0] * image.shape[1] / (640 * 480) / 1000)
            return image.copy()
        return stylize


def test_the_governor_lowers_the_working_size_raises_it_again_and_settles(tmp_path):
    """A 640x480 camera at 30 fps: first the network takes 90 ms a frame at full size (three times the
    budget), then 4 ms (another program stopped). The loop paints smaller frames, then full ones,
    and the frames keep the camera's size throughout."""
    clip = _counting_clip(tmp_path / "count.mkv", frames=30, fps=30)
    bank = PixelCostBank(90.0)
    sink = ListSink()
    config = LiveConfig(source=str(clip), sinks=(), smooth="off", duration=12, loop=True, size=(640, 480), source_fps=30)
    threading.Timer(3.0, lambda: setattr(bank, "ms_at_vga", 4.0)).start()
    started = time.perf_counter()
    stats = run_live(config, bank=bank, sinks_override=[sink])
    early = [size for t, size in bank.sizes if 1.0 < t - started < 3.0]  # after the warm-up paints
    late = [size for t, size in bank.sizes if t - started > 10.5]
    assert max(w for w, _ in early) < 640 and all(w * 3 == h * 4 for w, h in early), "lowered, aspect kept"
    # raised once there was room: to the full size on an idle machine; on a loaded one (the loop's own
    # work then costs more) to the largest size predicted to fit, but well above the slow phase's
    assert late and min(w for w, _ in late) >= max(w for w, _ in early) + 100, (early[-1], late[-1])
    assert len(set(late)) == 1, "settled: one size through the last 1.5 s"
    assert stats.governor_changes <= 5, "settled rather than oscillating"
    assert all(f.image.shape == (480, 640, 3) for f in sink.frames)
    assert stats.painting == f"plain at {late[-1][0]}x{late[-1][1]}"


@pytest.mark.skipif(not CHROMIUM, reason="apt-get install chromium for the browser test")
def test_style_names_are_shown_as_text_never_run_as_markup(tmp_path):
    """A model file may be named like markup: the control page lists it as text, and shows what paints."""
    evil = '<img src=x onerror="document.title=\'owned\'">'
    controls = LiveControls(styles=["cafe", evil])
    controls.painting = "cafe at 640x360"
    with HttpStreamSink(controls=controls, port=0) as sink:
        stop = threading.Event()
        feeder = threading.Thread(target=lambda: [sink.write(Frame(np.zeros((24, 32, 3), np.uint8), 0)) or time.sleep(0.05)
                                                  for _ in iter(stop.is_set, True)])
        feeder.start()  # the page's load waits for the stream's first frame
        try:
            dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                              "--disable-background-networking", "--disable-component-update", "--disable-sync",
                              f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000", "--dump-dom",
                              f"http://127.0.0.1:{sink.port}/"], capture_output=True, text=True, timeout=60).stdout
        finally:
            stop.set()
            feeder.join()
    assert "<title>stylecast</title>" in dom and "owned" not in dom.split("</title>")[0]
    assert "&lt;img src=x" in dom, "the name is listed, escaped"
    assert "<img src=\"x\"" not in dom and "<img src=x" not in dom, "no element made from the name"
    assert "cafe at 640x360" in dom
    assert '<option value="background">paint background</option>' in dom, "the page switches where the painting shows"


def test_a_looping_source_that_cannot_be_reopened_ends_in_one_line(tmp_path, capsys):
    """The file is deleted while it plays: at the next loop the reader fails; the loop says so and the
    command exits 2 (it printed a thread traceback and exited 0)."""
    from stylecast.cli import main

    clip = _counting_clip(tmp_path / "count.mkv", frames=10, fps=20)

    def delete_once_recording():
        end = time.time() + 30
        while time.time() < end and not any("partial" in p.name for p in tmp_path.iterdir()):
            time.sleep(0.05)
        clip.unlink()

    threading.Thread(target=delete_once_recording, daemon=True).start()
    code = main(["live", "--source", str(clip), "--loop", "-s", "cafe_terrace_rt", "--sink", "file", "--record",
                 str(tmp_path / "rec.mp4")])
    err = capsys.readouterr().err
    assert code == 2 and "stylecast: error:" in err and "Traceback" not in err and "not found" in err
    assert (tmp_path / "rec.mp4").is_file(), "what was recorded before the source failed is kept"


def test_the_style_bank_keeps_only_the_last_few_networks_open(tmp_path, tiny_model):
    models = []
    for i in range(9):
        copy = tmp_path / f"style{i}.onnx"
        copy.write_bytes(tiny_model.read_bytes())
        models.append(str(copy))
    bank = StyleBank(tuple(models), ("cpu",), keep=3)
    frame = np.zeros((32, 32, 3), np.uint8)
    for name in bank.names:
        assert bank[name](frame).shape == frame.shape
    assert bank.opened == ["style6", "style7", "style8"], "the least recently used were closed"
    bank["style7"](frame)
    bank["style0"](frame)  # reopened; style6 is now the least recently used
    assert sorted(bank.opened) == ["style0", "style7", "style8"]


class SlowToOpenBank(IdentityBank):
    """Identity styles whose first use of 'other' takes 2 s (a network opening and compiling)."""

    names = ["plain", "other"]

    def __init__(self):
        self.calls: list[tuple[str, float]] = []
        self._opened: set[str] = set()

    def __getitem__(self, name):
        if name == "other" and name not in self._opened:
            time.sleep(2.0)
        self._opened.add(name)

        def stylize(image):
            self.calls.append((name, time.perf_counter()))
            return image.copy()
        return stylize


def test_switching_to_a_new_style_keeps_painting_while_it_opens(tmp_path):
    clip = _counting_clip(tmp_path / "count.mkv", frames=20, fps=20)
    port = _free_port()
    bank = SlowToOpenBank()
    config = LiveConfig(source=str(clip), sinks=("http",), port=port, smooth="off", duration=5, loop=True)
    runner = threading.Thread(target=lambda: run_live(config, bank=bank))
    runner.start()
    time.sleep(1.5)
    asked = time.perf_counter()
    assert _post(f"http://127.0.0.1:{port}/api/state", b'{"style": "other"}')[0] == 200
    runner.join(20)
    times = [t for _, t in bank.calls if t > asked]
    gaps = np.diff(times)
    assert gaps.max() < 0.5, f"the picture froze for {gaps.max():.1f} s while the new style opened"
    painted = [n for n, t in bank.calls if t > asked]
    assert painted[0] == "plain" and painted[-1] == "other", "the old style painted until the new one was ready"


class InvertingBank(IdentityBank):
    """Paints each frame as its negative: painted and unpainted pixels are told apart exactly."""

    def __getitem__(self, name):
        return lambda image: 255 - image


def test_live_paints_only_the_background_and_switches_to_the_person(tmp_path, monkeypatch):
    portrait = Path("/usr/share/doc/opencv-doc/opencv4/html/face_swapped.jpg")
    if not portrait.exists():
        pytest.skip("apt-get install opencv-doc")
    clip = pan_clip(tmp_path / "portrait.mkv", cv2.imread(str(portrait)), frames=20, fps=20, size=(320, 320))
    face, room = (slice(90, 200), slice(120, 210)), (slice(0, 160), slice(0, 60))

    class Switcher(ListSink):  # a viewer who presses b after the tenth frame
        def __init__(self, controls_of):
            super().__init__()
            self.controls_of = controls_of

        def write(self, frame):
            super().write(frame)
            if len(self.frames) == 10:
                handle_key(ord("b"), self.controls_of())

    import stylecast.realtime.live.loop as loop_module

    made = []  # the loop's controls, as the window sink would hold them
    monkeypatch.setattr(loop_module, "LiveControls", lambda **kw: made.append(LiveControls(**kw)) or made[-1])
    sink = Switcher(lambda: made[-1])
    run_live(LiveConfig(source=str(clip), sinks=(), smooth="off", paint="background", work_size=320, duration=3,
                        loop=True), bank=InvertingBank(), sinks_override=[sink])
    assert len(sink.frames) >= 14

    def change(frame, region):
        return float(np.abs(frame.image[region].astype(int) - frame.original[region]).mean())

    before, after = sink.frames[:9], sink.frames[12:]
    for f in before:  # background: the face as filmed, the room inverted
        assert change(f, face) < 3 and change(f, room) > 20
    for f in after:  # person: the reverse
        assert change(f, face) > 50 and change(f, room) < 3


def test_one_slow_timed_paint_does_not_settle_the_governor_on_a_small_size():
    """The other core busy for a moment while the governor times its first rung: one paint of twelve
    times the budget among quick ones. It still starts at the full working size."""
    from stylecast.realtime.live.governed import Governors

    class HiccupBank:
        def __init__(self):
            self.calls = 0

        def add(self, name):
            pass

        def __getitem__(self, name):
            def stylize(image):
                self.calls += 1
                time.sleep(0.4 if self.calls == 2 else 0.002)  # call 1 compiles, call 2 is the first timed one
                return image.copy()
            return stylize

    config = LiveConfig(source="0", sinks=(), smooth="off", size=(640, 480), source_fps=30)
    governors = Governors(config, HiccupBank(), (640, 480), fps=30)
    assert governors.start("plain").rung.long_side == config.top_side
    assert governors.describe("plain") == "plain at 640x480"


def test_the_governor_settles_lower_where_the_source_itself_takes_a_share_of_the_cores():
    """A 1080p MJPEG camera's decoding runs beside the painting: a paint that fits the frame period
    alone does not fit beside it, so the governor starts lower by what the source costs."""
    from stylecast.realtime.live.governed import Governors

    class PixelBank:  # 15 ms at 640x480: load 0.45 of a 30 fps period alone
        def add(self, name):
            pass

        def __getitem__(self, name):
            return lambda image: (time.sleep(0.015 * image.shape[0] * image.shape[1] / (640 * 480)), image.copy())[1]

    config = LiveConfig(source="0", sinks=(), smooth="off", size=(640, 480), source_fps=30)
    alone = Governors(config, PixelBank(), (640, 480), fps=30).start("plain")
    beside = Governors(config, PixelBank(), (640, 480), fps=30, source_s=0.012).start("plain")
    assert alone.rung.long_side == config.top_side
    assert beside.rung.long_side < config.top_side
    w = beside.rung.long_side
    assert (0.015 * (w / 640) ** 2 + 0.012) * 30 <= beside.settings.settle_fit + 0.05


def test_a_file_source_measures_what_its_frames_cost_to_decode(tmp_path):
    """What the governor adds for the source: the CPU a frame takes, more for a bigger frame."""
    small = make_clip(tmp_path / "small.mkv", frames=8, size=(64, 48), fps=30, audio=None, codec="ffv1")
    big = make_clip(tmp_path / "big.mkv", frames=8, size=(1280, 720), fps=30, audio=None, codec="ffv1")
    with PacedFileSource(small) as s, PacedFileSource(big) as b, PacedFileSource(small, size=(1280, 720)) as grown:
        assert 0 < s.granted.frame_cost_s < b.granted.frame_cost_s / 3
        assert grown.granted.frame_cost_s > s.granted.frame_cost_s  # enlarging to the asked size is counted


def test_the_end_of_a_session_waits_for_networks_still_compiling_in_the_background():
    """A climb's rung and a style switched to are prepared in background threads; a process that
    ended while OpenVINO compiled in one aborted (exit status 134) after a session that had gone well."""
    from stylecast.realtime.hd.governor import Rung
    from stylecast.realtime.live.governed import Governors

    class SlowToOpenBank:
        def __init__(self):
            self.finished = []

        def add(self, name):
            pass

        def __getitem__(self, name):
            def stylize(image):
                if name != "plain":
                    time.sleep(0.5)  # opening and compiling another network
                self.finished.append((name, image.shape[:2]))
                return image.copy()
            return stylize

    bank = SlowToOpenBank()
    config = LiveConfig(source="0", sinks=(), smooth="off", size=(640, 480), source_fps=30, governor=False)
    governors = Governors(config, bank, (640, 480), fps=30)
    governors.start("plain")
    assert not governors.warmer.ready(Rung("lighter", 320))
    assert governors.ready_style("other") == ""  # shown until "other" is ready
    governors.wait()
    assert ("lighter", (240, 320)) in bank.finished and ("other", (480, 640)) in bank.finished
    assert governors.warmer.ready(Rung("lighter", 320)) and "other" in governors._by_style


def test_a_file_played_at_another_shape_is_cropped_like_a_camera_not_squeezed(tmp_path):
    """A 4:3 clip asked for as a square camera shows its middle, at the clip's own scale."""
    clip = make_clip(tmp_path / "c.mkv", frames=3, size=(64, 48), fps=30, audio=None, codec="ffv1")
    from stylecast.realtime.media.sources import VideoFileSource

    with VideoFileSource(clip) as src:
        reference = [f.image for f in src]
    with PacedFileSource(clip, size=(48, 48), fps=1000) as square, PacedFileSource(clip, size=(64, 24), fps=1000) as wide:
        squares, wides = [f.image for f in square], [f.image for f in wide]
    assert all(np.array_equal(a, b[:, 8:56]) for a, b in zip(squares, reference))
    assert all(a.shape == (24, 64, 3) for a in wides)
    assert all(np.array_equal(a, b[12:36]) for a, b in zip(wides, reference))


def test_the_ladders_last_rung_is_opened_before_capture_when_it_is_another_network():
    """A move down that nothing on the settled network fits lands on the ladder's last rung; opening
    that network while frames were late lost 9-13 frames, so it is opened while settling."""
    from stylecast.realtime.live.governed import Governors

    class RecordingBank:
        def __init__(self):
            self.painted = []

        def add(self, name):
            pass

        def __getitem__(self, name):
            return lambda image: (self.painted.append((name, image.shape[1::-1])), image.copy())[1]

    bank = RecordingBank()
    config = LiveConfig(source="0", sinks=(), smooth="off", size=(1280, 720), source_fps=30)
    governors = Governors(config, bank, (1280, 720), fps=30)
    governor = governors.start("starry_night")
    floor = governor.rungs[-1]
    assert governor.rung.network == "starry_night" and floor.network != "starry_night"
    assert (floor.network, (256, 144)) in bank.painted
    painted = len(bank.painted)
    assert governors.warmer.ready(floor) and len(bank.painted) == painted  # ready at once, nothing more to compile
    assert not governors.warmer.threads


def test_a_floor_network_that_will_not_open_does_not_stop_the_session(capsys):
    from stylecast.realtime.live.governed import Governors

    class BrokenFloorBank:
        def add(self, name):
            pass

        def __getitem__(self, name):
            if "=" in name:
                raise StylecastError(f"{name}: damaged file")
            return lambda image: image.copy()

    config = LiveConfig(source="0", sinks=(), smooth="off", size=(1280, 720), source_fps=30)
    governors = Governors(config, BrokenFloorBank(), (1280, 720), fps=30)
    governor = governors.start("starry_night")
    assert governor.rung.network == "starry_night"
    assert "could not be prepared" in capsys.readouterr().err


def test_a_sink_named_twice_is_one_sink(tmp_path, capsys):
    pytest.importorskip("av")
    from stylecast.cli import main

    clip = _counting_clip(tmp_path / "count.mkv", frames=6, fps=20)
    code = main(["live", "--source", str(clip), "-s", "cafe_terrace_rt", "--sink", "http", "--sink", "file", "--sink", "http",
                 "--port", str(_free_port()), "--record", str(tmp_path / "rec.mp4"), "--duration", "1"])
    err = capsys.readouterr().err
    assert code == 0 and "address already in use" not in err, err
    assert (tmp_path / "rec.mp4").is_file()


def test_a_still_picture_looped_keeps_coming_though_it_cannot_seek_back(tmp_path, capsys, photo_path):
    pytest.importorskip("av")
    from stylecast.cli import main
    from tests.realtime.clips import video_facts

    code = main(["live", "--source", str(photo_path), "--loop", "-s", "cafe_terrace_rt", "--sink", "file",
                 "--record", str(tmp_path / "rec.mp4"), "--duration", "1.5", "--size", "320x240"])
    assert code == 0, capsys.readouterr().err
    assert video_facts(tmp_path / "rec.mp4")["frames"] >= 10, "looped, not one frame and the end"


def test_a_still_picture_is_painted_until_the_session_ends_and_decoded_once(photo_path, tmp_path, monkeypatch, capsys):
    """A photo as the source (an OBS overlay of a picture): it used to give one frame and end the
    session; now it is shown like a camera's frames, at a camera's rate, until --duration."""
    from stylecast.realtime.live import capture

    still = tmp_path / "photo.png"
    cv2.imwrite(str(still), cv2.imread(str(photo_path)))
    opened = []
    real = capture.VideoFileSource

    def counting(path, *a, **kw):
        opened.append(path)
        return real(path, *a, **kw)

    monkeypatch.setattr(capture, "VideoFileSource", counting)
    with PacedFileSource(still, fps=1000) as paced:
        assert paced.still and paced.granted.frame_cost_s == 0.0
        frames = [f for _, f in zip(range(20), paced)]
    assert [f.index for f in frames] == list(range(20))
    assert all(np.array_equal(f.image, frames[0].image) for f in frames)
    assert frames[0].image is not frames[1].image, "each frame its own array, as a camera's"
    assert len(opened) == 1, "decoded once, by the probe"
    stats = run_live(LiveConfig(source=str(still), sinks=(), smooth="off", duration=1.5, governor=False),
                     bank=IdentityBank(), sinks_override=[])
    assert stats.frames >= 25, "shown until --duration, at about 30 fps"
    assert "a still picture" in capsys.readouterr().err
