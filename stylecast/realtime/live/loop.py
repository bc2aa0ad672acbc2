"""The live loop: newest camera frame -> paint at the working size -> smooth -> upsample -> look ->
every sink (`stylecast live`)."""
from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np

from stylecast.errors import StylecastError
from stylecast.machine import check_memory
from stylecast.realtime.effects import apply_look, paint_where
from stylecast.realtime.hd.painter import FULL_SIZE_BYTES_PER_PIXEL, Painted, WorkingSizePainter
from stylecast.realtime.hd.upsample import GuidedUpsampler
from stylecast.realtime.live.advice import SlowStyleNotice
from stylecast.realtime.live.bank import StyleBank
from stylecast.realtime.live.capture import Captured, LatestFrame, open_live_source
from stylecast.realtime.live.config import LiveConfig
from stylecast.realtime.live.controls import LiveControls
from stylecast.realtime.live.crossfade import CrossFade
from stylecast.realtime.live.governed import Governors
from stylecast.realtime.live.sinks import LiveRecordingSink, VirtualCameraSink, WindowSink
from stylecast.realtime.media.sources import Frame
from stylecast.realtime.runtimes.backends import backend_preference
from stylecast.realtime.runtimes.protocol import network_width
from stylecast.realtime.runtimes.mix import mix_vector
from stylecast.realtime.temporal.smoothing import make_smoother
from stylecast.segment.matte import PersonMatte
from stylecast.segment.segmenter import PersonSegmenter
from stylecast.styles import lighter_variants
from stylecast.styles.mixes import multistyle_networks

SINKS = ("window", "virtualcam", "http", "file")


class Overlapped:
    """The newest frames, ``n`` of them stylizing at once, handed on in capture order.

    Each finished frame makes room for the newest capture, so every worker stays busy and the
    frames stay evenly spaced: up to ``n`` times the fps on as many cores, at about ``n`` frames of
    latency. ``paint`` returns the style it used with the picture, since the style may change while
    a frame is in flight. With ``n`` = 1 it paints in the caller's thread, one frame at a time.
    """

    def __init__(self, latest: LatestFrame, paint: Callable[[np.ndarray], tuple[str, object]], n: int = 1) -> None:
        if n < 1:
            raise ValueError(f"n must be at least 1, not {n}")
        self.latest, self.paint, self.n = latest, paint, n

    def __iter__(self) -> Iterator[tuple[Captured, str, object]]:
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
    painting: str = ""  # the network and working size painting now
    governor_changes: int = 0
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
        return f"{self.fps:5.1f} fps  latency {self.latency_ms:4.0f} ms  dropped {self.dropped}  paint {self.painting}"


def open_sinks(stack: ExitStack, config: LiveConfig, controls: LiveControls, size: tuple[int, int], fps: float) -> list:
    sinks = []
    for name in config.sinks:
        if name == "window":
            sinks.append(stack.enter_context(WindowSink(controls=controls)))
        elif name == "virtualcam":
            sinks.append(stack.enter_context(VirtualCameraSink(width=size[0], height=size[1], fps=fps or 30)))
        elif name == "http":
            from stylecast.realtime.live.http_sink import HttpStreamSink

            sink = stack.enter_context(HttpStreamSink(controls=controls, host=config.host, port=config.port, token=config.token))
            url = sink.url  # finding the address to show asks the network stack: once
            obs = url + ("&" if "?" in url else "?") + "transparent=1&controls=0"
            print(f"streaming at {url} (OBS: add a Browser Source with {obs})", file=sys.stderr)
            if sink.guard.token:
                print("the token in these URLs is needed to watch or steer the stream: share it only with who may",
                      file=sys.stderr)
            sinks.append(sink)
        elif name == "file":
            if config.record is None:
                raise StylecastError("--sink file needs --record OUT.mp4")
            if config.record.exists():
                raise StylecastError(f"{config.record} exists: choose another --record path")
            from stylecast.realtime.media.outputs import ensure_writable

            ensure_writable(config.record.parent)  # before capture starts, not at the first frame or the end
            sinks.append(stack.enter_context(LiveRecordingSink(config.record, width=size[0], height=size[1], fps=fps or 30)))
        else:
            raise StylecastError(f"unknown sink {name!r}: use {', '.join(SINKS)}")
    return sinks


def check_live_memory(config: LiveConfig, stylize, frame_size: tuple[int, int]) -> None:
    """Refuse in one line a session whose largest painting would not fit in free memory (a 4K camera
    at --stroke-scale 0.1 on onnxruntime: over 10 GB), where the kernel would end it unannounced."""
    need, (pw, ph) = WorkingSizePainter(stylize, config.top_side).memory_needed(
        frame_size, network_width(getattr(stylize, "backend", None)), FULL_SIZE_BYTES_PER_PIXEL, config.streams)
    check_memory(need, f"painting {frame_size[0]}x{frame_size[1]} frames at {pw}x{ph}",
                 "a larger --stroke-scale (or a smaller --work-size) paints smaller; --size asks for smaller frames")


class LivePainter:
    """Paints a camera frame as the viewer asks at this moment: the style or mix (gliding to a new
    one), the network and working size its governor settled on, and where only part of the picture
    is painted, the person found in the working-size frame."""

    def __init__(self, bank: StyleBank, governors: Governors, controls: LiveControls) -> None:
        self.bank, self.governors, self.controls = bank, governors, controls
        self.fade = CrossFade()
        self.matte = PersonMatte(PersonSegmenter())  # loads its network on the first frame that needs it

    def __call__(self, image: np.ndarray) -> tuple[str, tuple[Painted, float, np.ndarray | None]]:
        key, mix = self.bank.key_of(self.controls.style)  # every mix of a network shares its governor
        style = self.governors.ready_style(key)
        rung = self.governors.rung(style)
        stylize = self.bank[rung.network]
        # a bank paints with any callable; a multi-style network's Stylizer has weights to glide
        if getattr(stylize, "weights", None) is not None:
            target = mix_vector(stylize.backend.contract, mix) if mix and style == key else stylize.weights
            stylize = stylize.with_mix(self.fade(stylize.backend, target))
        t = time.perf_counter()
        painted = WorkingSizePainter(stylize, rung.long_side)(image)
        # people are found in the working-size frame: less to shrink than the camera's
        person = self.matte.segment(painted.small) if self.controls.paint != "all" else None
        return style, (painted, time.perf_counter() - t, person)


class LiveFinisher:
    """A painted frame to the picture shown: smoothed over time, brought to the camera's size,
    painted only where asked, and blended with the camera's frame as the strength says."""

    def __init__(self, controls: LiveControls, smooth: str, matte: PersonMatte) -> None:
        self.controls, self.matte = controls, matte
        self.smoother = make_smoother(smooth if smooth != "off" else "flow")  # `s` can turn it on later
        self.upsample = GuidedUpsampler()
        self._state: tuple[str, bool] | None = None

    def __call__(self, style: str, painted: Painted, person: np.ndarray | None, original: np.ndarray) -> np.ndarray:
        controls = self.controls
        if self._state != (style, controls.smoothing):  # another style's history would ghost into this one
            self.smoother.reset()
            self._state = (style, controls.smoothing)
        small = self.smoother(painted.small, painted.painting) if controls.smoothing else painted.painting
        out = self.upsample(small, painted.small, original)
        if person is None:
            self.matte.reset()  # a later switch to background starts from a fresh mask, not a stale one
        else:
            out = paint_where(original, out, self.matte.finish(person, original), controls.paint)
        return apply_look(original, out, controls.strength, controls.keep_colors)


class LiveReport:
    """After each frame: the statistics, the governor's measurements and what it says, and the
    terminal's and the sinks' status lines."""

    def __init__(self, config: LiveConfig, stats: LiveStats, governors: Governors, sinks: list, fps: float) -> None:
        self.config, self.stats, self.governors, self.sinks = config, stats, governors, sinks
        self.slow = SlowStyleNotice(fps, lighter_variants)
        self.last_line = time.perf_counter()

    def __call__(self, style: str, latency_s: float, dropped: int, paint_s: float, finish_s: float) -> str:
        """Records one frame; returns what the window and page show as painting now."""
        stats, config, now = self.stats, self.config, time.perf_counter()
        stats.update(latency_s, dropped)
        stats.painting = self.governors.describe(style)
        if (told := self.governors.observe(style, paint_s / config.streams, finish_s)) is not None:
            print(told, file=sys.stderr)
        if not config.governed and (advice := self.slow(style)) is not None:
            print(advice, file=sys.stderr)
        for sink in self.sinks:
            if hasattr(sink, "stats_line"):
                sink.stats_line = stats.line()
        if config.stats and now - self.last_line > 2:
            print(stats.line(), file=sys.stderr)
            self.last_line = now
        return stats.painting


def run_live(config: LiveConfig, bank: StyleBank | None = None, sinks_override: list | None = None) -> LiveStats:
    """Run until the source ends, a sink asks to quit, or ``duration`` seconds pass."""
    bank = bank or StyleBank(config.styles, backend_preference(config.backend), config.streams)
    networks = multistyle_networks()
    controls = LiveControls(styles=bank.names, strength=config.strength, keep_colors=config.keep_colors, paint=config.paint,
                            smoothing=config.smooth != "off", mixable=list(networks[0].card.styles) if networks else [])
    stats = LiveStats()
    first, _ = bank.key_of(controls.style)
    first_stylizer = bank[first]  # a backend that cannot run as asked fails here, before the camera opens
    source = open_live_source(config.source, config.size, config.loop, config.source_fps)
    with ExitStack() as stack:
        stack.enter_context(source)
        granted = source.granted
        frame_size = (granted.width, granted.height)
        still = " (a still picture: painted again and again until the session ends)" if source.still else ""
        print(f"source {config.source}: {granted.width}x{granted.height} at {granted.fps:.1f} fps{still}", file=sys.stderr)
        check_live_memory(config, first_stylizer, frame_size)  # before a sink opens or a frame is painted
        sinks = sinks_override if sinks_override is not None else open_sinks(stack, config, controls, frame_size, granted.fps)
        # Settle on a working size (and network) and compile it before capture and the clock start:
        # OpenVINO compiles per shape, which would otherwise freeze the first live frames.
        governors = Governors(config, bank, frame_size, granted.fps, granted.frame_cost_s)
        stack.callback(governors.wait)
        governors.start(first)
        governors.shown = first
        latest = stack.enter_context(LatestFrame(iter(source)))
        print(f"backend: {bank.reasons[first]}", file=sys.stderr)
        print(f"painting: {governors.describe(first)}" + (" (governed: --no-governor or --work-size fixes it)"
              if config.governed else ""), file=sys.stderr)
        painter = LivePainter(bank, governors, controls)
        finisher = LiveFinisher(controls, config.smooth, painter.matte)
        report = LiveReport(config, stats, governors, sinks, granted.fps)
        started = time.perf_counter()
        # Ctrl-C (or SIGTERM/SIGHUP, which the CLI turns into the same) is how a live session ends:
        # the sinks then close normally, so a recording is finished and kept, not thrown away.
        try:
            for captured, style, (painted, paint_s, person) in Overlapped(latest, painter, config.streams):
                finish_started = time.perf_counter()
                original = captured.frame.image
                frame = Frame(finisher(style, painted, person, original), captured.frame.index, original=original)
                for sink in sinks:
                    sink.write(frame)
                now = time.perf_counter()
                controls.painting = report(style, now - captured.captured_at, latest.dropped, paint_s, now - finish_started)
                if controls.quit or (config.duration and now - started > config.duration):
                    break  # before the next capture: a quit does not wait for one more frame to paint
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    stats.governor_changes = governors.changes
    return stats
