"""The HTTP sink answers only its user: Host, Content-Type, Origin and token checks, bounded bodies,
a viewer cap, stalled viewers dropped, no JPEG work while nobody watches."""
import http.client
import json
import socket
import threading
import time

import numpy as np
import pytest

from stylecast.realtime.live.controls import LiveControls
from stylecast.realtime.live.http_guard import Guard
from stylecast.realtime.live.http_sink import HttpStreamSink
from stylecast.realtime.media.sources import Frame


def request(port: int, method: str, path: str, headers: dict | None = None, body: bytes | None = None,
            host: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest(method, path, skip_host=True)
    conn.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    data = response.read() if path != "/stream.mjpg" or response.status != 200 else response.read(100)
    conn.close()
    return response.status, data


JSON = {"Content-Type": "application/json"}


@pytest.fixture
def served():
    controls = LiveControls(styles=["cafe", "wave"])
    with HttpStreamSink(controls=controls, port=0) as sink:
        sink.write(Frame(np.zeros((24, 32, 3), np.uint8), 0))
        yield sink, controls


@pytest.mark.parametrize("path", ["/", "/snapshot.jpg", "/stream.mjpg", "/api/state"])
def test_a_rebinding_host_is_refused_on_every_route(served, path):
    sink, _ = served
    assert request(sink.port, "GET", path, host=f"evil.example:{sink.port}")[0] == 421
    assert request(sink.port, "GET", path, host="attacker.test")[0] == 421
    for own in (f"127.0.0.1:{sink.port}", f"localhost:{sink.port}", "localhost"):
        if path != "/stream.mjpg":
            assert request(sink.port, "GET", path, host=own)[0] == 200


def test_only_json_from_its_own_page_changes_the_state(served):
    sink, controls = served
    body = b'{"strength": 0.5}'
    assert request(sink.port, "POST", "/api/state", {"Content-Type": "text/plain"}, body)[0] == 415
    assert request(sink.port, "POST", "/api/state", {"Content-Type": "application/x-www-form-urlencoded"}, body)[0] == 415
    evil = {**JSON, "Origin": "http://evil.example"}
    assert request(sink.port, "POST", "/api/state", evil, body)[0] == 403
    assert controls.strength == 1.0, "refused requests changed nothing"
    own = {**JSON, "Origin": f"http://127.0.0.1:{sink.port}"}
    assert request(sink.port, "POST", "/api/state", own, body)[0] == 200 and controls.strength == 0.5
    assert request(sink.port, "POST", "/api/state", JSON, b'{"strength": 0.25}')[0] == 200  # curl, OBS: no Origin


def test_a_rejected_body_changes_nothing_and_bad_json_is_400(served):
    sink, controls = served
    status, data = request(sink.port, "POST", "/api/state", JSON, b'{"style": "wave", "strength": 5}')
    assert status == 400 and controls.style == "cafe", "validated whole before any of it applies"
    assert request(sink.port, "POST", "/api/state", JSON, b"[" * 20_000 + b"]" * 20_000)[0] == 400
    assert request(sink.port, "POST", "/api/state", JSON, b'{"strength": ')[0] == 400
    assert request(sink.port, "POST", "/api/state", JSON, b"x" * 10_000_000)[0] == 413
    status, data = request(sink.port, "POST", "/api/state", JSON, b'{"strenght": 0.5, "style": "wave"}')
    assert status == 400 and b"cannot set 'strenght'" in data and controls.style == "cafe", "a misspelt setting is said"


def _first_line_of_the_answer(port: int, head: bytes, body: bytes = b"") -> tuple[bytes, float]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head + body)
        start = time.monotonic()
        return s.recv(200).split(b"\r\n")[0], time.monotonic() - start


def test_a_body_too_big_or_too_slow_is_refused_without_waiting_for_it():
    controls = LiveControls(styles=["cafe", "wave"])
    with HttpStreamSink(controls=controls, port=0, body_s=0.5) as sink:
        def head(length: int) -> bytes:
            return (f"POST /api/state HTTP/1.1\r\nHost: 127.0.0.1:{sink.port}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode()

        line, waited = _first_line_of_the_answer(sink.port, head(1_000_000_000))  # said, never sent
        assert line.endswith(b"413 Request Entity Too Large") and waited < 2
        line, waited = _first_line_of_the_answer(sink.port, head(100), b'{"strength": ')  # a tenth of it
        assert b" 408 " in line + b" " and waited < 3
        assert controls.strength == 1.0
        assert request(sink.port, "POST", "/api/state", JSON, b'{"strength": 0.5}')[0] == 200 and controls.strength == 0.5


def test_beyond_loopback_every_route_needs_the_token(tmp_path):
    controls = LiveControls(styles=["cafe"])
    with HttpStreamSink(controls=controls, host="0.0.0.0", port=0) as sink:
        token = sink.guard.token
        assert token and len(token) >= 16 and f"?token={token}" in sink.url
        sink.write(Frame(np.zeros((24, 32, 3), np.uint8), 0))
        for path in ("/", "/snapshot.jpg", "/stream.mjpg", "/api/state"):
            assert request(sink.port, "GET", path)[0] == 403
            assert request(sink.port, "GET", f"{path}?token=wrong{token}")[0] == 403
        assert request(sink.port, "GET", f"/snapshot.jpg?token={token}")[0] == 200
        assert request(sink.port, "GET", "/api/state", {"Authorization": f"Bearer {token}"})[0] == 200
        page = request(sink.port, "GET", f"/?token={token}")[1].decode()
        assert "get('token')" in page, "the page passes its token on to the stream and the API"
    with HttpStreamSink(controls=controls, port=0, token="chosen-token") as sink:  # --token on loopback too
        assert request(sink.port, "GET", "/api/state")[0] == 403
        assert request(sink.port, "GET", "/api/state?token=chosen-token")[0] == 200


def test_the_url_given_for_every_address_opens_the_stream():
    import urllib.parse
    import urllib.request

    with HttpStreamSink(controls=LiveControls(styles=["cafe"]), host="0.0.0.0", port=0) as sink:
        sink.write(Frame(np.zeros((24, 32, 3), np.uint8), 0))
        url = urllib.parse.urlsplit(sink.url)
        assert url.hostname not in ("0.0.0.0", None), "0.0.0.0 opens nothing on the computer a viewer sits at"
        snapshot = url._replace(path="/snapshot.jpg").geturl()
        with urllib.request.urlopen(snapshot, timeout=5) as r:
            assert r.status == 200 and r.read(2) == b"\xff\xd8"


def test_guard_names():
    loop = Guard("127.0.0.1", None)
    assert loop.host_allowed("127.0.0.1:8765") and loop.host_allowed("[::1]:8765") and loop.host_allowed("localhost")
    assert not loop.host_allowed("127.0.0.1.evil.example") and not loop.host_allowed(None)
    anywhere = Guard("0.0.0.0", "t")
    assert anywhere.host_allowed("192.168.1.20:8765") and not anywhere.host_allowed("rebind.example:8765")
    assert anywhere.token_ok("t") and not anywhere.token_ok("T") and not anywhere.token_ok(None)
    assert loop.origin_ok(None, "127.0.0.1:8765") and loop.origin_ok("http://127.0.0.1:8765", "127.0.0.1:8765")
    assert not loop.origin_ok("http://evil.example", "127.0.0.1:8765")


def _rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_many_viewers_and_stalled_ones_do_not_slow_a_normal_viewer():
    controls = LiveControls(styles=["cafe"])
    frame = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    with HttpStreamSink(controls=controls, port=0, max_viewers=60, stall_s=1.0) as sink:
        assert sink.encoded == 0
        for i in range(5):
            sink.write(Frame(frame, i))
        assert sink.encoded == 0, "no JPEG work while nobody watches"
        assert request(sink.port, "GET", "/snapshot.jpg")[0] == 200  # encoded on demand
        stop = threading.Event()

        def feed():
            i = 0
            while not stop.is_set():
                sink.write(Frame(frame, i))
                i += 1
                time.sleep(1 / 30)

        def read(counts: list, seconds: float):
            conn = socket.create_connection(("127.0.0.1", sink.port))
            conn.sendall(f"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1:{sink.port}\r\n\r\n".encode())
            end = time.time() + seconds
            seen = 0
            conn.settimeout(1)
            while time.time() < end:
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                seen += chunk.count(b"--stylecastframe")
            counts.append(seen)
            conn.close()

        stalled = []
        for _ in range(4):  # connect, ask for the stream, never read
            s = socket.create_connection(("127.0.0.1", sink.port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(f"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1:{sink.port}\r\n\r\n".encode())
            stalled.append(s)
        feeder = threading.Thread(target=feed)
        feeder.start()
        before = _rss_mb()
        counts: list[int] = []
        readers = [threading.Thread(target=read, args=(counts, 4.0)) for _ in range(50)]
        for r in readers:
            r.start()
        for r in readers:
            r.join()
        after = _rss_mb()
        stop.set()
        feeder.join()
        assert len(counts) == 50 and min(counts) >= 0.6 * 30 * 4, f"every viewer kept up: {sorted(counts)[:5]}"
        assert after - before < 60, f"memory grew {after - before:.0f} MB"
        deadline = time.time() + 5
        while sink.viewers > 0 and time.time() < deadline:
            sink.write(Frame(frame, 0))
            time.sleep(0.1)
        assert sink.viewers == 0, "viewers that read nothing were dropped"
        for s in stalled:
            s.close()


def _watch(sink: HttpStreamSink) -> socket.socket:
    """A viewer's connection, once the server counts it."""
    viewer = socket.create_connection(("127.0.0.1", sink.port))
    viewer.sendall(f"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1:{sink.port}\r\n\r\n".encode())
    deadline = time.time() + 5
    while sink.viewers < 1 and time.time() < deadline:
        time.sleep(0.05)
    return viewer


def test_viewers_are_capped(served):
    controls = LiveControls(styles=["cafe"])
    with HttpStreamSink(controls=controls, port=0, max_viewers=1) as sink:
        sink.write(Frame(np.zeros((24, 32, 3), np.uint8), 0))
        first = _watch(sink)
        status, body = request(sink.port, "GET", "/stream.mjpg")
        assert status == 503 and b"1 viewers already" in body
        first.close()


def test_a_mix_is_posted_checked_and_shown():
    controls = LiveControls(styles=["cafe", "wave"], mixable=["starry_night", "the_scream"])
    with HttpStreamSink(controls=controls, port=0) as sink:
        ok = json.dumps({"mix": {"starry_night": 0.6, "the_scream": 0.4}}).encode()
        status, data = request(sink.port, "POST", "/api/state", JSON, ok)
        assert status == 200 and json.loads(data)["mix"] == {"starry_night": 0.6, "the_scream": 0.4}
        assert controls.style == "starry_night=0.6,the_scream=0.4"  # what -s takes
        for bad in ({"mix": {"cafe.onnx": 1}}, {"mix": {"starry_night": -0.1}}, {"mix": {"starry_night": 0, "the_scream": 0}},
                    {"mix": {"starry_night": 1.5}}, {"mix": {"starry_night": True}}, {"mix": "starry_night"},
                    {"mix": {}}, {"mix": {"starry_night": 1}, "style": "wave"},
                    # above 0, but nothing once kept to 3 decimals: the mix the loop would open is all zeros
                    {"mix": {"starry_night": 1e-320}}, {"mix": {"starry_night": 0.0004, "the_scream": 0}}):
            status, data = request(sink.port, "POST", "/api/state", JSON, json.dumps(bad).encode())
            assert status == 400, bad
            assert controls.mix == {"starry_night": 0.6, "the_scream": 0.4}, "a refused mix changes nothing"
        assert request(sink.port, "POST", "/api/state", JSON, b'{"style": "wave"}')[0] == 200
        assert controls.style == "wave" and controls.mix is None
        status, data = request(sink.port, "GET", "/")
        assert b'id="blend"' in data and b"mixable" in data


def test_a_mix_is_refused_where_nothing_can_be_mixed(served):
    sink, controls = served
    status, data = request(sink.port, "POST", "/api/state", JSON, b'{"mix": {"cafe": 1}}')
    assert status == 400 and b"multi-style" in data and controls.style == "cafe"


def _open_fds() -> int:
    import os

    return len(os.listdir("/proc/self/fd"))


def test_a_flood_of_idle_connections_neither_exhausts_descriptors_nor_locks_the_user_out(caplog):
    """300 sockets that connect and say nothing, against a cap of 32: the server's connections stay
    at the cap (the oldest idle ones closed), the API answers, a viewer's stream is never the one
    closed, and the log has one line for the burst, no tracebacks."""
    import logging

    controls = LiveControls(styles=["cafe"])
    with caplog.at_level(logging.INFO), HttpStreamSink(controls=controls, port=0, max_connections=32) as sink:
        sink.write(Frame(np.zeros((24, 32, 3), np.uint8), 0))
        viewer = _watch(sink)
        before = _open_fds()
        flood = [socket.create_connection(("127.0.0.1", sink.port)) for _ in range(300)]
        try:
            time.sleep(0.5)
            assert request(sink.port, "GET", "/api/state")[0] == 200
            # our 300 client sockets plus at most the cap on the server's side, not 300 more
            assert _open_fds() - before <= 300 + 32 + 4
            assert sink.evicted > 0  # (the rest of the burst was closed on arrival)
            assert sink.viewers == 1, "the viewer's stream was kept"
            sink.write(Frame(np.full((24, 32, 3), 9, np.uint8), 1))
            viewer.settimeout(5)
            assert viewer.recv(100), "and it still gets frames"
        finally:
            for s in flood:
                s.close()
            viewer.close()
    flood_lines = [r for r in caplog.records if "connections open" in r.getMessage()]
    assert len(flood_lines) == 1
    assert not any(r.exc_info for r in caplog.records)
