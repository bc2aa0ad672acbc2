"""HTTP sink for OBS Browser Source and any browser: an MJPEG stream, a full-window page, and a
tiny JSON API to switch style and strength. Each viewer always gets the newest frame, so a slow
viewer skips frames instead of slowing the pipeline or the other viewers."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

import cv2

from stylecast.errors import StylecastError
from stylecast.realtime.live.controls import LiveControls
from stylecast.realtime.live.http_guard import Guard, address_to_show, is_loopback, new_token
from stylecast.realtime.media.sources import Frame
from stylecast.segment import PAINT_CHOICES

log = logging.getLogger(__name__)

# Open connections at once (viewers, page loads, API calls): far below the usual 1024 file
# descriptors a process may hold, far above what a user and OBS need.
MAX_CONNECTIONS = 256
BOUNDARY = "stylecastframe"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>stylecast</title>
<style>
html,body{margin:0;height:100%;background:BACKGROUND;overflow:hidden}
img{width:100vw;height:100vh;object-fit:contain;display:block}
#ui{position:fixed;left:8px;bottom:8px;font:14px sans-serif;color:#fff;background:#0008;padding:6px;border-radius:6px}
</style></head><body>
<img id="stream" alt="stylecast stream">
<div id="ui" style="display:UI">
<select id="style"></select>
<input id="strength" type="range" min="0" max="1" step="0.05">
<select id="paint" title="where the painting shows"></select>
<span id="painting"></span>
<span id="mixer" hidden><br><select id="mixa"></select>
<input id="blend" type="range" min="0" max="1" step="0.05" value="0.5"><select id="mixb"></select></span>
</div>
<script>
const sel = document.getElementById('style'), str = document.getElementById('strength');
const painting = document.getElementById('painting'), paint = document.getElementById('paint');
// beyond loopback every request carries the token this page was opened with
const token = new URLSearchParams(location.search).get('token');
const q = token ? '?token=' + encodeURIComponent(token) : '';
document.getElementById('stream').src = '/stream.mjpg' + q;
async function load() {
  const s = await (await fetch('/api/state' + q)).json();
  // options built as text, never as markup: a style's name is a file name a page must not run
  sel.replaceChildren(...s.styles.map(n => new Option(n, n, false, n === s.style)));
  str.value = s.strength;
  paint.replaceChildren(...s.paints.map(n => new Option('paint ' + n, n, false, n === s.paint)));
  painting.textContent = s.painting;
  if (s.mixable.length > 1) {  // two paintings and a slider between them
    mixa.replaceChildren(...s.mixable.map((n, i) => new Option(n, n, false, i === 0)));
    mixb.replaceChildren(...s.mixable.map((n, i) => new Option(n, n, false, i === 1)));
    document.getElementById('mixer').hidden = false;
  }
}
const mixa = document.getElementById('mixa'), mixb = document.getElementById('mixb');
const blend = document.getElementById('blend');
function sendMix() {
  const t = parseFloat(blend.value), mix = {};
  mix[mixa.value] = 1 - t;
  mix[mixb.value] = (mix[mixb.value] || 0) + t;
  send({mix: mix});
}
blend.oninput = mixa.onchange = mixb.onchange = sendMix;
setInterval(async () => {
  painting.textContent = (await (await fetch('/api/state' + q)).json()).painting;
}, 2000);
async function send(body) {
  await fetch('/api/state' + q, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
}
sel.onchange = () => send({style: sel.value});
str.onchange = () => send({strength: parseFloat(str.value)});
paint.onchange = () => send({paint: paint.value});
load();
</script></body></html>
"""


class HttpStreamSink:
    """``with HttpStreamSink(controls=c, port=8765) as out: out.write(frame)``; serves until closed."""

    def __init__(self, *, controls: LiveControls, host: str = "127.0.0.1", port: int = 8765, quality: int = 80,
                 token: str | None = None, max_viewers: int = 50, stall_s: float = 5.0,
                 max_connections: int = MAX_CONNECTIONS, body_s: float = 5.0) -> None:
        self.controls, self.host, self.port, self.quality = controls, host, port, quality
        # beyond loopback nobody watches or steers without the token (given, or made now)
        self.guard = Guard(host, token or (None if is_loopback(host) else new_token()))
        self.max_viewers, self.stall_s = max_viewers, stall_s
        self.body_s = body_s  # a POST body that has not arrived by then is refused, its connection freed
        self._latest: Frame | None = None
        self._jpeg: bytes | None = None
        self._seq = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_frame: asyncio.Condition | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.viewers = 0
        self.encoded = 0  # frames JPEG-encoded: none while nobody watches
        self.max_connections = max_connections
        self.evicted = 0  # connections closed to make room under a flood
        self._viewer_transports: set = set()
        self._last_flood_log = 0.0

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> "HttpStreamSink":
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise StylecastError(f"cannot serve on http://{self.host}:{self.port}/: {self._error}")
        return self

    def __exit__(self, *exc) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._shutdown()))
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        shown = address_to_show(self.host)
        host = f"[{shown}]" if ":" in shown else shown
        return f"http://{host}:{self.port}/" + (f"?token={self.guard.token}" if self.guard.token else "")

    def _serve(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:  # reported to the caller of __enter__
            self._error = e
            self._ready.set()

    async def _main(self) -> None:
        from aiohttp import web

        self._loop = asyncio.get_running_loop()
        self._new_frame = asyncio.Condition()
        self._stop = asyncio.Event()
        # A misbehaving client is one line in our log, not aiohttp's traceback per request.
        logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
        @web.middleware
        async def check(request, handler):
            return await self._check(request, handler)

        app = web.Application(middlewares=[check], client_max_size=MAX_BODY)
        app.add_routes([web.get("/", self._page), web.get("/stream.mjpg", self._stream),
                        web.get("/snapshot.jpg", self._snapshot), web.get("/api/state", self._get_state),
                        web.post("/api/state", self._post_state)])
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        listener = await self._loop.create_server(self._capped(runner.server), self.host, self.port, reuse_address=True)
        if self.port == 0:  # an ephemeral port: say which one the OS gave
            self.port = listener.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        listener.close()
        await runner.cleanup()

    def _capped(self, server):
        """aiohttp's protocol factory with a cap on open connections. At the cap a new connection
        closes the oldest one that is not a viewer's stream: a flood of idle sockets can neither
        exhaust the process's file descriptors nor lock the user out (their next request gets in).
        Counted here, not from aiohttp's list: a burst of accepts makes many protocols before the
        first of them is connected and listed."""
        live: dict = {}  # _Tracked -> None, oldest first

        def alive(h) -> bool:
            return h.transport is None or not h.transport.is_closing()

        def factory():
            handlers = [h for h in live if alive(h)]
            if len(handlers) >= self.max_connections:
                oldest = next((h for h in handlers if h.transport is not None
                               and h.transport not in self._viewer_transports), None)
                if oldest is None:  # every slot is connecting or streaming to a viewer: this one waits
                    return _Closer()
                oldest.transport.abort()
                self.evicted += 1
                now = time.monotonic()
                if now - self._last_flood_log > 10:  # one line per burst, not one per socket
                    log.warning("%d connections open: closing the oldest idle ones to make room", len(handlers))
                    self._last_flood_log = now
            tracked = _Tracked(server(), live)
            live[tracked] = None
            return tracked

        return factory

    # --- the pipeline side -----------------------------------------------------------------
    def write(self, frame: Frame) -> None:
        self._latest = frame
        self._seq += 1
        if self.viewers == 0 or self._loop is None:
            self._jpeg = None  # encoded on demand by a snapshot; nobody streams
            return
        self._jpeg = self._encode(frame)
        self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._notify()))

    def _encode(self, frame: Frame) -> bytes | None:
        ok, buf = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        self.encoded += ok
        return buf.tobytes() if ok else None

    async def _shutdown(self) -> None:
        self._stop.set()
        await self._notify()

    async def _notify(self) -> None:
        async with self._new_frame:
            self._new_frame.notify_all()

    # --- handlers ----------------------------------------------------------------------------
    @staticmethod
    def _refuse(status: int, message: str):
        from aiohttp import web

        return web.json_response({"error": message}, status=status)

    async def _check_request(self, request):
        """The guard's verdict on a request: None to serve it, else the refusal."""
        from aiohttp import web

        host = request.headers.get("Host")
        if not self.guard.host_allowed(host):
            return self._refuse(421, "this server answers to its own address only")
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or None
        if not self.guard.token_ok(request.query.get("token") or bearer):
            return self._refuse(403, "a token is needed: open the URL stylecast printed at start")
        if request.method == "POST":
            if request.content_type != "application/json":
                return self._refuse(415, "send Content-Type: application/json")
            if (request.content_length or 0) > MAX_BODY:  # refused at once, not after waiting for it
                return self._refuse(413, f"a body of at most {MAX_BODY // 1024} KB")
            if not self.guard.origin_ok(request.headers.get("Origin"), host):
                return self._refuse(403, "cross-origin requests may not change the stream")
        return None if request.method in ("GET", "HEAD", "POST") else web.json_response({"error": "method"}, status=405)

    async def _check(self, request, handler):
        refusal = await self._check_request(request)
        if refusal is not None:
            log.info("refused %s %s from %s: %s", request.method, request.path, request.remote, refusal.status)
            return refusal
        return await handler(request)

    async def _page(self, request):
        from aiohttp import web

        transparent = request.query.get("transparent") in ("1", "true")
        ui = "none" if request.query.get("controls") in ("0", "false") else "block"
        html = PAGE.replace("BACKGROUND", "transparent" if transparent else "#000").replace("UI", ui)
        return web.Response(text=html, content_type="text/html")

    async def _snapshot(self, request):
        from aiohttp import web

        jpeg, latest = self._jpeg, self._latest
        if jpeg is None and latest is not None:
            jpeg = await asyncio.get_running_loop().run_in_executor(None, self._encode, latest)
        if jpeg is None:
            return web.json_response({"error": "no frame yet"}, status=503)
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def _stream(self, request):
        from aiohttp import web

        if self.viewers >= self.max_viewers:
            return self._refuse(503, f"{self.max_viewers} viewers already: try again later")
        response = web.StreamResponse(headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                                               "Cache-Control": "no-store"})
        _small_send_buffer(request)
        await response.prepare(request)
        self.viewers += 1
        self._viewer_transports.add(request.transport)
        seen = -1
        try:
            while not self._stop.is_set():
                async with self._new_frame:
                    await self._new_frame.wait_for(lambda: self._seq != seen or self._stop.is_set())
                seen, jpeg = self._seq, self._jpeg
                if jpeg is None:
                    continue
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                # a viewer that stops reading is dropped, not waited for: the others never notice it
                await asyncio.wait_for(response.write(head + jpeg + b"\r\n"), self.stall_s)
        except asyncio.TimeoutError:
            log.info("dropped a viewer from %s: it read nothing for %.0f s", request.remote, self.stall_s)
            request.transport and request.transport.abort()
        except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
            pass  # this viewer left; the others carry on
        finally:
            self.viewers -= 1
            self._viewer_transports.discard(request.transport)
        return response

    async def _get_state(self, request):
        from aiohttp import web

        return web.json_response(self.controls.state())

    async def _post_state(self, request):
        from aiohttp import web

        try:
            body = await asyncio.wait_for(request.json(), self.body_s)
        except asyncio.TimeoutError:
            return self._refuse(408, f"the body did not arrive within {self.body_s:g} s")
        except (json.JSONDecodeError, ValueError, RecursionError):
            return self._refuse(400, "send a JSON object, e.g. {\"style\": \"NAME\", \"strength\": 0.8}")
        if not isinstance(body, dict):
            return self._refuse(400, "send a JSON object")
        # the whole body is checked before any of it applies: a refused request changes nothing
        unknown = sorted(str(k)[:40] for k in body if k not in SETTABLE)
        if unknown:  # a misspelt setting would otherwise be answered 200 and change nothing
            return self._refuse(400, f"cannot set {', '.join(map(repr, unknown))}: the settings are {', '.join(SETTABLE)}")
        if "style" in body and str(body["style"]) not in self.controls.styles:
            return self._refuse(400, f"unknown style {str(body['style'])[:80]!r}; known: {self.controls.styles}")
        value = body.get("strength")
        if "strength" in body and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1):
            return self._refuse(400, "strength must be a number from 0 to 1")
        if "paint" in body and body["paint"] not in PAINT_CHOICES:
            return self._refuse(400, f"paint must be one of {', '.join(PAINT_CHOICES)}")
        if "mix" in body and "style" in body:
            return self._refuse(400, "send a style or a mix, not both")
        if "mix" in body and (problem := self.controls.mix_problem(body["mix"])) is not None:
            return self._refuse(400, problem)
        if "style" in body:
            self.controls.set_style(str(body["style"]))
        if "mix" in body:
            self.controls.set_mix(body["mix"])
        if "strength" in body:
            self.controls.set_strength(float(value))
        if "paint" in body:
            self.controls.set_paint(body["paint"])
        return web.json_response(self.controls.state())


# What POST /api/state changes; the rest of the state (smoothing, ...) is read-only here.
SETTABLE = ("style", "mix", "strength", "paint")


class _Tracked(asyncio.Protocol):
    """aiohttp's protocol for one connection, seen from the cap: it leaves ``live`` when closed."""

    def __init__(self, inner: asyncio.Protocol, live: dict) -> None:
        self.inner, self.live, self.transport = inner, live, None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.inner.connection_made(transport)

    def connection_lost(self, exc) -> None:
        self.live.pop(self, None)
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class _Closer(asyncio.Protocol):
    """The protocol of a connection refused at the cap: closed as soon as it is made."""

    def connection_made(self, transport) -> None:
        transport.abort()


# The API takes a few small fields; aiohttp's default allows 1 MB per request.
MAX_BODY = 64 * 1024
# Per viewer: a never-reading client pins at most this much kernel memory (autotuned buffers reached
# 2.8 MB each), and a slow one gets the newest frame when it catches up.
SEND_BUFFER = 256 * 1024


def _small_send_buffer(request) -> None:
    import socket

    sock = request.transport.get_extra_info("socket") if request.transport else None
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
