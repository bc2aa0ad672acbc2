"""`stylecast video --ray local`: a real Ray instance on this machine (loopback only), checked
against the single-process output of the same command on a real clip (opencv-doc Megamind.avi:
B-frames, sound)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ctrl_c_as_at_a_terminal
from tests.realtime.clips import audio_packets, frames_and_pts

pytest.importorskip("ray")
av = pytest.importorskip("av")

CLIP = Path("/usr/share/doc/opencv-doc/examples/data/Megamind.avi")  # 270 frames, 24 fps, keyframes 0, 1, 98, 154, 200
COMMON = ["-s", "cafe_terrace_rt", "--crf", "0", "--max-side", "240", "--quiet"]


@pytest.fixture(scope="module")
def clip() -> Path:
    if not CLIP.exists():
        pytest.skip("apt-get install opencv-doc")
    return CLIP


def _video(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stylecast", "video", *args], capture_output=True, text=True,
                          timeout=300, **kw)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


@pytest.fixture(scope="module")
def single(clip, tmp_path_factory) -> dict[str, Path]:
    """The single-process outputs (one frame at a time, as each Ray worker paints)."""
    out = tmp_path_factory.mktemp("single")
    paths = {}
    for smooth in ("off", "flow"):
        paths[smooth] = out / f"one-{smooth}.mkv"
        r = _video(str(clip), *COMMON, "--streams", "1", "--smooth", smooth, "-o", str(paths[smooth]))
        assert r.returncode == 0, r.stderr
    return paths


def _kill_one_worker_once(stop: threading.Event, killed: list[int]) -> None:
    while not stop.is_set() and not killed:
        found = subprocess.run(["pgrep", "-f", "ray::SegmentPainter.run"], capture_output=True, text=True).stdout.split()
        if found:
            os.kill(int(found[0]), signal.SIGKILL)
            killed.append(int(found[0]))
        time.sleep(0.02)


def test_ray_local_gives_the_single_process_output_and_paints_a_killed_worker_s_segment_again(clip, single, tmp_path):
    """One Ray run for all of it (a cluster takes seconds to start): the segments that run as usual,
    from keyframes 98, 154 and 200 on, and the one whose worker is killed join into the single
    process's frames, timestamps and sound; with --smooth flow, each segment's pre-roll primes the
    smoothing (tests/realtime/segments/test_local.py shows what it is like without one)."""
    target = tmp_path / "ray.mkv"
    stop, killed = threading.Event(), []
    watcher = threading.Thread(target=_kill_one_worker_once, args=(stop, killed))
    watcher.start()
    try:
        r = _video(str(clip), *COMMON, "--smooth", "flow", "--ray", "local", "--segment-seconds", "2", "-o", str(target))
    finally:
        stop.set()
        watcher.join()
    assert killed, "no worker was seen painting"
    assert r.returncode == 0, r.stderr
    assert "a worker died painting segment" in r.stderr
    assert not list(tmp_path.glob(".*")), "no parts or temporary files left"
    pts_one, one = frames_and_pts(single["flow"])
    pts_ray, ray = frames_and_pts(target)
    assert len(ray) == len(one) == 270 and pts_ray == pts_one
    assert min(_psnr(a, b) for a, b in zip(one, ray)) >= 40
    assert audio_packets(target) == audio_packets(clip) == audio_packets(single["flow"])


def _done_parts(parts: Path) -> list[int]:
    try:
        return json.loads((parts / "manifest.json").read_text())["done"]
    except (OSError, ValueError, KeyError):
        return []


def test_ctrl_c_keeps_the_painted_segments_and_the_same_command_goes_on_from_them(clip, single, tmp_path):
    target = tmp_path / "ray.mkv"
    args = [str(clip), *COMMON, "--smooth", "off", "--ray", "local", "--segment-seconds", "2", "-o", str(target)]
    proc = subprocess.Popen([sys.executable, "-m", "stylecast", "video", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_as_at_a_terminal)
    parts = tmp_path / f".{target.name}.stylecast-parts"
    deadline = time.time() + 120
    while time.time() < deadline and not _done_parts(parts):
        time.sleep(0.02)  # until a first segment is painted
    assert _done_parts(parts), "the run never finished a segment"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert not target.exists(), "nothing under the final name"
    kept = _done_parts(parts)
    assert f"{len(kept)} of 3 segment(s) of {clip.name} are painted and kept" in err
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", "ray::SegmentPainter"], capture_output=True, text=True).stdout.split()
    assert left == [], "the workers were stopped"
    (parts / ".part-00003.partial-1.mkv").write_bytes(b"half a part")  # as a worker killed mid-part leaves it

    r = _video(*args)
    assert r.returncode == 0, r.stderr
    assert f"going on from the {len(kept)} of 3 segment(s) an earlier run painted" in r.stderr
    assert f"{len(kept)} painted by an earlier run" in r.stdout
    assert not parts.exists() and not list(tmp_path.glob(".*")), "no parts or temporary files left"
    pts_one, one = frames_and_pts(single["off"])
    pts_ray, ray = frames_and_pts(target)
    assert pts_ray == pts_one and min(_psnr(a, b) for a, b in zip(one, ray)) >= 40
    assert audio_packets(target) == audio_packets(clip)


def test_cluster_addresses_that_cannot_work_are_refused_in_one_line(clip, tmp_path, monkeypatch):
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    r = _video(str(clip), "--ray", "auto", "-o", str(tmp_path / "x.mp4"), env=env)
    assert r.returncode == 2 and "RAY_ADDRESS" in r.stderr and "Traceback" not in r.stderr
    r = _video(str(clip), "--ray", "auto", "-o", str(tmp_path / "x.mp4"), env={**env, "RAY_ADDRESS": "garbage"})
    assert r.returncode == 2 and "'garbage'" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = _video(str(clip), "--ray", "nowhere", "-o", str(tmp_path / "x.mp4"))
    assert r.returncode == 2 and "HOST:PORT" in r.stderr
    for address in ("127.0.0.1:99999", "ray://127.0.0.1:99999"):
        r = _video(str(clip), "--ray", address, "-o", str(tmp_path / "x.mp4"))
        assert r.returncode == 2 and "1 to 65535, not 99999" in r.stderr, address
    r = _video(str(clip), "--ray", "auto", "-o", str(tmp_path / "x.mp4"), env={**env, "RAY_ADDRESS": "127.0.0.1:99999"})
    assert r.returncode == 2 and "RAY_ADDRESS '127.0.0.1:99999': a port is 1 to 65535" in r.stderr, r.stderr
    import importlib.util

    if importlib.util.find_spec("ray.util.client") is not None and importlib.util.find_spec("grpc") is None:
        r = _video(str(clip), "--ray", "ray://127.0.0.1:1", "-o", str(tmp_path / "x.mp4"))
        assert r.returncode == 2 and "ray[client]" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = _video(str(clip), "--ray", "local", "--streams", "2", "-o", str(tmp_path / "x.mp4"))
    assert r.returncode == 2 and "--streams" in r.stderr
    import socket

    with socket.socket() as s:  # a port nothing listens on: Ray alone retried it for minutes
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    started = time.monotonic()
    r = _video(str(clip), "--ray", f"127.0.0.1:{closed}", "-o", str(tmp_path / "x.mp4"))
    assert r.returncode == 2 and "cannot reach a Ray cluster's head" in r.stderr, r.stderr
    assert time.monotonic() - started < 30
    assert list(tmp_path.iterdir()) == []


def test_a_worker_that_cannot_read_the_input_says_so_by_name(tmp_path):
    """Without a shared filesystem a node sees no input: the segment fails with one line naming the
    node and the path, not a decoder traceback."""
    from stylecast.realtime.segments.plan import Segment, Timeline
    from stylecast.realtime.segments.segment import paint_segment
    from stylecast.errors import StylecastError
    from stylecast.realtime.config import RunConfig
    from stylecast.realtime.video import VideoConfig

    missing = tmp_path / "on-another-node.mp4"
    segment = Segment(missing, 0, 0, 10, 0)
    with pytest.raises(StylecastError, match="cannot read .*on-another-node.mp4.*shared filesystem"):
        paint_segment(lambda frame: frame, VideoConfig(run=RunConfig(style="x")), Timeline((0,), (0,), 1), segment,
                      tmp_path / "part.mp4", 8)
    assert not (tmp_path / "part.mp4").exists()


def test_a_run_stopped_while_joining_is_joined_by_the_next_without_painting(clip, single, tmp_path, monkeypatch):
    from stylecast.cluster import run as cluster_run
    from stylecast.cluster.connect import ClusterConfig
    from stylecast.realtime.config import RunConfig
    from stylecast.realtime.segments import file as segmented_file
    from stylecast.realtime.video import VideoConfig

    config = VideoConfig(run=RunConfig(style="cafe_terrace_rt", max_side=240), crf=0)
    cluster = ClusterConfig("local", segment_seconds=2)
    target = tmp_path / "ray.mkv"

    def stopped(*_args):
        raise KeyboardInterrupt

    notes: list[str] = []
    monkeypatch.setattr(segmented_file, "join_parts", stopped)
    with pytest.raises(KeyboardInterrupt):
        cluster_run.stylize_videos_on_ray([clip], target, config, cluster, tell=notes.append)
    parts = tmp_path / ".ray.mkv.stylecast-parts"
    megabytes = sum(p.stat().st_size for p in parts.iterdir()) / 1e6
    assert notes == [f"3 of 3 segment(s) of {clip.name} are painted and kept in {parts} "
                     f"({megabytes:.0f} MB): running it again goes on from there; deleting it starts over"]
    monkeypatch.undo()
    notes.clear()
    painted, results = cluster_run.stylize_videos_on_ray([clip], target, config, cluster, tell=notes.append)
    assert painted is None, "no worker was started"
    assert notes == ["ray.mkv: going on from the 3 of 3 segment(s) an earlier run painted"]
    assert [r.frames for r in results] == [270] and "3 painted by an earlier run" in results[0].segments
    pts_one, one = frames_and_pts(single["off"])
    pts_ray, ray = frames_and_pts(target)
    assert pts_ray == pts_one and min(_psnr(a, b) for a, b in zip(one, ray)) >= 40
