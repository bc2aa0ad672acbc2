"""The live loop: newest camera frame -> stylize -> smooth -> look -> every sink (`stylecast live`)."""
from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stylecast.errors import StylecastError
from stylecast.realtime.backends import backend_preference, open_backend
from stylecast.realtime.controls import LiveControls
from stylecast.realtime.effects import apply_look
from stylecast.realtime.live_advice import SlowStyleNotice
from stylecast.realtime.live_sinks import LiveRecordingSink, VirtualCameraSink, WindowSink
from stylecast.realtime.live_sources import Captured, LatestFrame, open_live_source
from stylecast.realtime.smoothing import make_smoother
from stylecast.realtime.sources import Frame
from stylecast.realtime.stylizer import Stylizer
from stylecast.styles import bundled_styles, lighter_variants, resolve_style

SINKS = ("window", "virtualcam", "http", "file")


@dataclass(frozen=True)
class LiveConfig:
    source: str = "0"
    styles: tuple[str, ...] = ()  # names or .onnx paths; empty: every bundled style
    sinks: tuple[str, ...] = ("window",)
    size: tuple[int, int] | None = None
    backend: str = "auto"
    smooth: str = "flow"
    strength: float = 1.0
    keep_colors: bool = False
    host: str = "127.0.0.1"
    port: int = 8765
    record: Path | None = None
    loop: bool = False
    source_fps: float | None = None  # camera: requested rate; file: play at this rate instead of its own
    duration: float | None = None
    stats: bool = False
    streams: int = 1  # frames stylized at once (OpenVINO): more fps on several cores, about that many frames' latency


class StyleBank:
    """Style name -> Stylizer, each backend opened on first use and kept (switching is instant after)."""

    def __init__(self, specs: tuple[str, ...], prefer: tuple[str, ...], streams: int = 1) -> None:
        if specs:
            models = [resolve_style(s) for s in specs]
        else:
            # The cheapest network comes first, so the first picture a CPU user sees is fluid.
            models = [s.model for s in sorted(bundled_styles(), key=lambda s: s.card.cost_rank if s.card else (9, 0, 0))]
        if not models:
            raise StylecastError("no styles: give -s NAME or -s MODEL.onnx")
        self.paths = {m.stem: m for m in models}
        self.prefer = prefer
        self.streams = streams
        self._open: dict[str, Stylizer] = {}
        self.reasons: dict[str, str] = {}
        self._lock = threading.Lock()  # with streams, a style switch reaches two workers at once

    @property
    def names(self) -> list[str]:
        return list(self.paths)

    def __getitem__(self, name: str) -> Stylizer:
        with self._lock:
            if name not in self._open:
                from stylecast.realtime.video import frames_in_flight

                choice = open_backend(self.paths[name], self.prefer)
                frames_in_flight(choice.backend, self.streams)
                self.reasons[name] = choice.describe()
                self._open[name] = Stylizer(choice.backend)
            return self._open[name]


class Overlapped:
    """The newest frames, ``n`` of them stylizing at once, handed on in capture order.

    Each finished frame makes room for the newest capture, so every worker stays busy and the
    frames stay evenly spaced: up to ``n`` times the fps on as many cores, at about ``n`` frames of
    latency. ``paint`` returns the style it used with the picture, since the style may change while
    a frame is in flight. With ``n`` = 1 it paints in the caller's thread, one frame at a time.
    """

    def __init__(self, latest: LatestFrame, paint: Callable[[np.ndarray], tuple[str, np.ndarray]], n: int = 1) -> None:
        if n < 1:
            raise ValueError(f"n must be at least 1, not {n}")
        self.latest, self.paint, self.n = latest, paint, n

    def __iter__(self) -> Iterator[tuple[Captured, str, np.ndarray]]:
        if self.n == 1:
            while (captured := self.latest.get()) is not None:
                yield captured, *self.paint(captured.frame.image)
            return
        pending: deque[tuple[Captured, Future]] = deque()
        with ThreadPoolExecutor(self.n) as pool:
            try:
                while True:
                    while len(pending) < self.n and (captured := self.latest.get()) is not None:
                        pending.append((captured, pool.submit(self.paint, captured.frame.image)))
                    if not pending:
                        return
                    captured, painting = pending.popleft()
                    yield captured, *painting.result()
            finally:  # the loop stopped early (quit, duration): drop frames not started; the pool waits for the rest
                for _, painting in pending:
                    painting.cancel()


@dataclass
class LiveStats:
    frames: int = 0
    fps: float = 0.0
    latency_ms: float = 0.0  # capture to hand-off to the sinks, smoothed
    dropped: int = 0
    # the most recent latencies only: a stream can run for days
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
    _last: float = 0.0

    def update(self, latency_s: float, dropped: int) -> None:
        now = time.perf_counter()
        if self._last:
            instant = 1.0 / max(now - self._last, 1e-6)
            self.fps = instant if self.frames < 2 else 0.9 * self.fps + 0.1 * instant
        self._last = now
        self.latency_ms = latency_s * 1000 if not self.frames else 0.9 * self.latency_ms + 100 * latency_s
        self.latencies.append(latency_s * 1000)
        self.frames += 1
        self.dropped = dropped

    def line(self) -> str:
        return f"{self.fps:5.1f} fps  latency {self.latency_ms:4.0f} ms  dropped {self.dropped}"


def open_sinks(stack: ExitStack, config: LiveConfig, controls: LiveControls, size: tuple[int, int], fps: float) -> list:
    sinks = []
    for name in config.sinks:
        if name == "window":
            sinks.append(stack.enter_context(WindowSink(controls=controls)))
        elif name == "virtualcam":
            sinks.append(stack.enter_context(VirtualCameraSink(width=size[0], height=size[1], fps=fps or 30)))
        elif name == "http":
            from stylecast.realtime.http_sink import HttpStreamSink

            sink = stack.enter_context(HttpStreamSink(controls=controls, host=config.host, port=config.port))
            print(f"streaming at {sink.url} (OBS: add a Browser Source with {sink.url}?transparent=1&controls=0)", file=sys.stderr)
            sinks.append(sink)
        elif name == "file":
            if config.record is None:
                raise StylecastError("--sink file needs --record OUT.mp4")
            if config.record.exists():
                raise StylecastError(f"{config.record} exists: choose another --record path")
            sinks.append(stack.enter_context(LiveRecordingSink(config.record, width=size[0], height=size[1], fps=fps or 30)))
        else:
            raise StylecastError(f"unknown sink {name!r}: use {', '.join(SINKS)}")
    return sinks


def run_live(config: LiveConfig, bank: StyleBank | None = None, sinks_override: list | None = None) -> LiveStats:
    """Run until the source ends, a sink asks to quit, or ``duration`` seconds pass."""
    bank = bank or StyleBank(config.styles, backend_preference(config.backend), config.streams)
    controls = LiveControls(styles=bank.names, strength=config.strength, keep_colors=config.keep_colors,
                            smoothing=config.smooth != "off")
    smoother = make_smoother(config.smooth if config.smooth != "off" else "flow")
    stats = LiveStats()
    first = bank[controls.style]  # a backend that cannot run as asked fails here, before the camera opens
    source = open_live_source(config.source, config.size, config.loop, config.source_fps)
    with ExitStack() as stack:
        stack.enter_context(source)
        granted = source.granted
        print(f"source {config.source}: {granted.width}x{granted.height} at {granted.fps:.1f} fps", file=sys.stderr)
        sinks = sinks_override if sinks_override is not None else open_sinks(stack, config, controls, (granted.width, granted.height), granted.fps)
        # Open the first backend and let it compile for the frame size before capture and the clock start:
        # OpenVINO compiles per shape, which would otherwise freeze the first live frame for a second or two.
        first(np.zeros((granted.height, granted.width, 3), np.uint8))
        latest = stack.enter_context(LatestFrame(iter(source)))
        print(f"backend: {bank.reasons[controls.style]}", file=sys.stderr)
        slow = SlowStyleNotice(granted.fps, lighter_variants)
        started = last_report = time.perf_counter()
        state = None

        def paint(image: np.ndarray) -> tuple[str, np.ndarray]:
            style = controls.style
            return style, bank[style](image)

        for captured, style, stylized in Overlapped(latest, paint, config.streams):
            original = captured.frame.image
            if state != (style, controls.smoothing):
                smoother.reset()
                state = (style, controls.smoothing)
            if controls.smoothing:
                stylized = smoother(original, stylized)
            out = apply_look(original, stylized, controls.strength, controls.keep_colors)
            frame = Frame(out, captured.frame.index, original=original)
            for sink in sinks:
                sink.write(frame)
            stats.update(time.perf_counter() - captured.captured_at, latest.dropped)
            if (advice := slow(style)) is not None:
                print(advice, file=sys.stderr)
            for sink in sinks:
                if hasattr(sink, "stats_line"):
                    sink.stats_line = stats.line()
            now = time.perf_counter()
            if config.stats and now - last_report > 2:
                print(stats.line(), file=sys.stderr)
                last_report = now
            if controls.quit or (config.duration and now - started > config.duration):
                break  # before the next capture: a quit does not wait for one more frame to paint
    return stats

