"""Probe stylecast as a careless or hostile user would, and print what each probe expected and got.

    python benchmarks/fault_probe.py            # needs opencv-doc's clips; root for the read-only mount probe

Each probe makes its own files under a temporary folder and runs the real command line (or the
real HTTP server), so the table is what a user would see today.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

DATA = Path("/usr/share/doc/opencv-doc/examples/data")
STYLE = "cafe_terrace_rt"


def run(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stylecast", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def one_line(p: subprocess.CompletedProcess) -> str:
    lines = p.stderr.strip().splitlines()
    tb = "Traceback" in p.stderr
    return f"exit {p.returncode}, {'traceback' if tb else (lines[-1][:170] if lines else 'silent')}"


def started(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stylecast", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_partial(folder: Path, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end and not any("partial" in p.name for p in folder.iterdir()):
        time.sleep(0.2)


def probe_ctrl_c_recording(tmp: Path) -> str:
    proc = started(["live", "--source", str(DATA / "vtest.avi"), "--loop", "-s", STYLE, "--sink", "file", "--record", "rec.mp4",
                    "--size", "320x240"], tmp)
    wait_partial(tmp)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    return f"exit {proc.returncode}, rec.mp4 {'kept' if (tmp / 'rec.mp4').is_file() else 'gone'}"


def probe_same_names(tmp: Path) -> str:
    photo = cv2.imread(str(DATA / "fruits.jpg"))
    for d in ("a", "b"):
        (tmp / d).mkdir()
        cv2.imwrite(str(tmp / d / "p.png"), photo)
    return one_line(run("image", "a/p.png", "b/p.png", "-s", STYLE, "-o", "out/", cwd=tmp))


def probe_sigterm_video(tmp: Path) -> str:
    proc = started(["video", str(DATA / "Megamind.avi"), "-s", "starry_night", "--stroke-scale", "0.5", "-o", "x.mp4",
                    "--quiet"], tmp)
    wait_partial(tmp)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    left = [p.name for p in tmp.iterdir() if "partial" in p.name or p.name == "x.mp4"]
    return f"exit {proc.returncode}, left: {left or 'nothing'}"


def probe_read_only(tmp: Path) -> str:
    ro = tmp / "ro"
    ro.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(ro)]).returncode:
        return "skipped (needs root)"
    try:
        return one_line(run("video", DATA / "vtest.avi", "-s", STYLE, "-o", ro / "x.mp4", "--quiet", cwd=tmp))
    finally:
        subprocess.run(["umount", str(ro)])


def probe_not_a_style(tmp: Path) -> str:
    import onnx
    from onnx import TensorProto, helper

    vi = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)  # noqa: E731
    graph = helper.make_graph([helper.make_node("GlobalAveragePool", ["input"], ["output"])], "g",
                              [vi("input", [1, 3, "h", "w"])], [vi("output", [1, 3, 1, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp / "pool.onnx"))
    return one_line(run("image", DATA / "fruits.jpg", "-s", "pool.onnx", "-o", "x.png", cwd=tmp))


def probe_deleted_loop_source(tmp: Path) -> str:
    clip = tmp / "clip.avi"
    clip.write_bytes((DATA / "vtest.avi").read_bytes())
    proc = started(["live", "--source", "clip.avi", "--loop", "-s", STYLE, "--sink", "file", "--record", "rec.mp4",
                    "--fps", "400"], tmp)
    wait_partial(tmp)
    clip.unlink()
    _, err = proc.communicate(timeout=120)
    lines = err.strip().splitlines()
    return f"exit {proc.returncode}, {'traceback' if 'Traceback' in err else lines[-1][:170]}"


def _png(path: Path, w: int, h: int) -> Path:
    z = zlib.compressobj(9)
    body = b"".join(z.compress(b"\0" + b"\x80" * w) for _ in range(h)) + z.flush()
    chunk = lambda k, d: len(d).to_bytes(4, "big") + k + d + zlib.crc32(k + d).to_bytes(4, "big")  # noqa: E731
    ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def probe_huge_png(tmp: Path) -> str:
    return one_line(run("image", _png(tmp / "big.png", 16000, 16000), "-s", STYLE, "-o", "x.png", cwd=tmp))


def probe_giant_png_max_side(tmp: Path) -> str:
    return one_line(run("image", _png(tmp / "giant.png", 33000, 33000), "--max-side", "1000", "-s", STYLE, "-o", "x.png", cwd=tmp))


def probe_alpha(tmp: Path) -> str:
    bgra = cv2.cvtColor(cv2.imread(str(DATA / "fruits.jpg")), cv2.COLOR_BGR2BGRA)
    bgra[:, :200, 3] = 0
    cv2.imwrite(str(tmp / "a.png"), bgra)
    run("image", "a.png", "-s", STYLE, "-o", "out.png", cwd=tmp)
    out = cv2.imread(str(tmp / "out.png"), cv2.IMREAD_UNCHANGED)
    return "alpha kept" if out is not None and out.shape[2] == 4 and np.array_equal(out[:, :, 3], bgra[:, :, 3]) else "alpha lost"


def probe_mp3(tmp: Path) -> str:
    import av

    with av.open(str(tmp / "in.mp4"), "w") as out:
        v = out.add_stream("libx264", rate=10)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = out.add_stream("mp3", rate=44100)
        a.layout = "stereo"
        for i in range(10):
            out.mux(v.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="bgr24")))
        for i in range(10):
            frame = av.AudioFrame.from_ndarray(np.zeros((2, 1152), np.float32), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 44100, i * 1152
            out.mux(a.encode(frame))
        out.mux(v.encode(None))
        out.mux(a.encode(None))
    p = run("video", "in.mp4", "-s", STYLE, "-o", "out.mp4", "--quiet", cwd=tmp)
    return "re-encoded" if "re-encoded" in p.stderr else f"exit {p.returncode}, copied"


def _server(test: Callable[[int], str]) -> str:
    from stylecast.realtime.live.controls import LiveControls
    from stylecast.realtime.live.http_sink import HttpStreamSink
    from stylecast.realtime.media.sources import Frame

    with HttpStreamSink(controls=LiveControls(styles=["a", "b"]), port=0, max_viewers=2) as sink:
        sink.write(Frame(np.zeros((24, 32, 3), np.uint8), 0))
        return test(sink.port)


def _ask(port: int, method: str, path: str, body: bytes = b"", host: str | None = None, **headers: str) -> int:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.putrequest(method, path, skip_host=True)
    c.putheader("Host", host or f"127.0.0.1:{port}")
    for k, v in headers.items():
        c.putheader(k.replace("_", "-"), v)
    c.putheader("Content-Length", str(len(body)))
    c.endheaders(body)
    status = c.getresponse().status
    c.close()
    return status


def probe_partial_apply(port: int) -> str:
    code = _ask(port, "POST", "/api/state", b'{"style": "b", "strength": 5}', Content_Type="application/json")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/api/state")
    state = json.loads(c.getresponse().read())
    return f"{code}, style now {state['style']}"


def main() -> None:
    if not DATA.is_dir():
        sys.exit("needs Debian's opencv-doc (apt-get install opencv-doc)")
    table = [
        ("1 Ctrl-C during live --record", "exit 0, rec.mp4 kept", probe_ctrl_c_recording),
        ("2 two inputs named p.png into one folder", "exit 2, would both be written", probe_same_names),
        ("3 SIGTERM during video", "exit 143, left: nothing", probe_sigterm_video),
        ("4 video into a read-only folder", "exit 2, cannot write in", probe_read_only),
        ("5 ONNX that is not a style ([1,3,1,1] out)", "exit 2, is not a style network", probe_not_a_style),
        ("6 looping live source deleted mid-run", "exit 2, not found", probe_deleted_loop_source),
        ("7 16000x16000 PNG", "exit 2, --max-side", probe_huge_png),
        ("12 PNG with transparency", "alpha kept", probe_alpha),
        ("14 33000x33000 PNG with --max-side", "exit 2, more than OpenCV can decode", probe_giant_png_max_side),
        ("15 MP3 audio in MP4", "exit 0, copied", probe_mp3),
        ("10 POST style + bad strength", "400, style now a", lambda tmp: _server(probe_partial_apply)),
        ("11 deeply nested JSON", "400", lambda tmp: _server(lambda port: str(_ask(
            port, "POST", "/api/state", b"[" * 20000 + b"]" * 20000, Content_Type="application/json")))),
        ("27 Host: evil.example (DNS rebinding)", "421", lambda tmp: _server(lambda port: str(_ask(
            port, "GET", "/snapshot.jpg", host="evil.example")))),
        ("27 text/plain POST (CSRF)", "415", lambda tmp: _server(lambda port: str(_ask(
            port, "POST", "/api/state", b'{"strength": 0.5}', Content_Type="text/plain")))),
        ("27 cross-origin JSON POST", "403", lambda tmp: _server(lambda port: str(_ask(
            port, "POST", "/api/state", b'{"strength": 0.5}', Content_Type="application/json", Origin="http://evil.example")))),
        ("27 10 MB body", "413", lambda tmp: _server(lambda port: str(_ask(
            port, "POST", "/api/state", b"x" * 10_000_000, Content_Type="application/json")))),
    ]
    print("| probe | expected | observed | |\n|---|---|---|---|")
    for name, expected, probe in table:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                observed = probe(Path(tmp))
            except Exception as e:  # a probe that breaks is a finding too
                observed = f"probe failed: {type(e).__name__}: {str(e)[:60]}"
        ok = all(part.strip() in observed for part in expected.split(",")) or observed.startswith("skipped")
        print(f"| {name} | {expected} | {observed} | {'ok' if ok else 'DIFFERS'} |", flush=True)


if __name__ == "__main__":
    threading.excepthook = lambda args: None  # a probe's stray thread error is in its own row
    main()
