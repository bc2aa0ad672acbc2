"""HTTP sink for OBS Browser Source and any browser: an MJPEG stream, a full-window page, and a
tiny JSON API to switch style and strength. Each viewer always gets the newest frame, so a slow
viewer skips frames instead of slowing the pipeline or the other viewers."""
from __future__ import annotations

import asyncio
import json
import logging
import threading

import cv2

from stylecast.errors import StylecastError
from stylecast.realtime.controls import LiveControls
from stylecast.realtime.sources import Frame

log = logging.getLogger(__name__)
BOUNDARY = "stylecastframe"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>stylecast</title>
<style>
html,body{margin:0;height:100%;background:BACKGROUND;overflow:hidden}
img{width:100vw;height:100vh;object-fit:contain;display:block}
#ui{position:fixed;left:8px;bottom:8px;font:14px sans-serif;color:#fff;background:#0008;padding:6px;border-radius:6px}
</style></head><body>
<img id="stream" src="/stream.mjpg" alt="stylecast stream">
<div id="ui" style="display:UI">
<select id="style"></select>
<input id="strength" type="range" min="0" max="1" step="0.05">
<span id="painting"></span>
</div>
<script>
const sel = document.getElementById('style'), str = document.getElementById('strength');
const painting = document.getElementById('painting');
async function load() {
  const s = await (await fetch('/api/state')).json();
  // options built as text, never as markup: a style's name is a file name a page must not run
  sel.replaceChildren(...s.styles.map(n => new Option(n, n, false, n === s.style)));
  str.value = s.strength;
  painting.textContent = s.painting;
}
setInterval(async () => {
  painting.textContent = (await (await fetch('/api/state')).json()).painting;
}, 2000);
async function send(body) {
  await fetch('/api/state', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
}
sel.onchange = () => send({style: sel.value});
str.onchange = () => send({strength: parseFloat(str.value)});
load();
</script></body></html>
"""


class HttpStreamSink:
    """``with HttpStreamSink(controls=c, port=8765) as out: out.write(frame)``; serves until closed."""

    def __init__(self, *, controls: LiveControls, host: str = "127.0.0.1", port: int = 8765, quality: int = 80) -> None:
        self.controls, self.host, self.port, self.quality = controls, host, port, quality
        self._jpeg: bytes | None = None
        self._seq = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_frame: asyncio.Condition | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.viewers = 0
        if host not in ("127.0.0.1", "localhost", "::1"):
            log.warning("serving on %s: anyone who can reach this address can watch the stream and change the style", host)

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
        return f"http://{self.host}:{self.port}/"

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
        app = web.Application()
        app.add_routes([web.get("/", self._page), web.get("/stream.mjpg", self._stream),
                        web.get("/snapshot.jpg", self._snapshot), web.get("/api/state", self._get_state),
                        web.post("/api/state", self._post_state)])
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # an ephemeral port: say which one the OS gave
            self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    # --- the pipeline side -----------------------------------------------------------------
    def write(self, frame: Frame) -> None:
        ok, buf = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok or self._loop is None:
            return
        self._jpeg = buf.tobytes()
        self._seq += 1
        self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._notify()))

    async def _shutdown(self) -> None:
        self._stop.set()
        await self._notify()

    async def _notify(self) -> None:
        async with self._new_frame:
            self._new_frame.notify_all()

    # --- handlers ----------------------------------------------------------------------------
    async def _page(self, request):
        from aiohttp import web

        transparent = request.query.get("transparent") in ("1", "true")
        ui = "none" if request.query.get("controls") in ("0", "false") else "block"
        html = PAGE.replace("BACKGROUND", "transparent" if transparent else "#000").replace("UI", ui)
        return web.Response(text=html, content_type="text/html")

    async def _snapshot(self, request):
        from aiohttp import web

        if self._jpeg is None:
            return web.json_response({"error": "no frame yet"}, status=503)
        return web.Response(body=self._jpeg, content_type="image/jpeg")

    async def _stream(self, request):
        from aiohttp import web

        response = web.StreamResponse(headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                                               "Cache-Control": "no-store"})
        await response.prepare(request)
        self.viewers += 1
        seen = -1
        try:
            while not self._stop.is_set():
                async with self._new_frame:
                    await self._new_frame.wait_for(lambda: self._seq != seen or self._stop.is_set())
                seen, jpeg = self._seq, self._jpeg
                if jpeg is None:
                    continue
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                await response.write(head + jpeg + b"\r\n")
        except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
            pass  # this viewer left; the others carry on
        finally:
            self.viewers -= 1
        return response

    async def _get_state(self, request):
        from aiohttp import web

        return web.json_response(self.controls.state())

    async def _post_state(self, request):
        from aiohttp import web

        try:
            body = await request.json()
        except (json.JSONDecodeError, ValueError):
            return web.json_response({"error": "send a JSON object, e.g. {\"style\": \"NAME\", \"strength\": 0.8}"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "send a JSON object"}, status=400)
        if "style" in body:
            try:
                self.controls.set_style(str(body["style"]))
            except KeyError:
                return web.json_response({"error": f"unknown style {str(body['style'])[:80]!r}; known: {self.controls.styles}"}, status=400)
        if "strength" in body:
            value = body["strength"]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                return web.json_response({"error": "strength must be a number from 0 to 1"}, status=400)
            self.controls.set_strength(float(value))
        return web.json_response(self.controls.state())
