"""The live loop: newest camera frame -> stylize -> smooth -> look -> every sink (`stylecast live`)."""
from __future__ import annotations

import itertools
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
from stylecast.realtime.hd.governor import Governor, GovernorSettings, Rung, build_ladder
from stylecast.realtime.hd.painter import Painted, WorkingSizePainter
from stylecast.realtime.hd.upsample import GuidedUpsampler
from stylecast.realtime.hd.working_size import stroke_long_side, working_size
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
    token: str | None = None  # HTTP sink: required beyond loopback (made at start when not given)
    record: Path | None = None
    loop: bool = False
    source_fps: float | None = None  # camera: requested rate; file: play at this rate instead of its own
    duration: float | None = None
    stats: bool = False
    streams: int = 1  # frames stylized at once (OpenVINO): more fps on several cores, about that many frames' latency
    stroke_scale: float = 1.0  # strokes this many times as big as trained, whatever the camera's size
    work_size: int | None = None  # paint at this long side, always (no governor)
    governor: bool = True  # pick the working size and network that keep up with the source

    @property
    def top_side(self) -> int:
        """The working long side asked for: --work-size, else the stroke scale's."""
        return self.work_size or stroke_long_side(self.stroke_scale)

    @property
    def governed(self) -> bool:
        return self.governor and self.work_size is None


# Networks kept open at once: the painting on screen (its governor may use two or three) and the
# last ones viewed. Each holds its compiled sizes; cycling 22 styles kept them all (1.7 GB).
KEEP_OPEN = 6


class StyleBank:
    """Style name -> Stylizer, each backend opened on first use; the least recently used are closed
    beyond ``keep`` (and reopened if they come back)."""

    def __init__(self, specs: tuple[str, ...], prefer: tuple[str, ...], streams: int = 1, keep: int = KEEP_OPEN) -> None:
        if specs:
            models = [resolve_style(s) for s in specs]
        else:
            # The cheapest network comes first, so the first picture a CPU user sees is fluid.
            models = [s.model for s in sorted(bundled_styles(), key=lambda s: s.card.cost_rank if s.card else (9, 0, 0))]
        if not models:
            raise StylecastError("no styles: give -s NAME or -s MODEL.onnx")
        self.paths = {m.stem: m for m in models}
        self._named = list(self.paths)  # what the user cycles through; the governor may add lighter networks
        self.prefer = prefer
        self.streams = streams
        self._open: dict[str, Stylizer] = {}
        self._used: dict[str, int] = {}  # name -> when last asked for (a counter: no clock needed)
        self._uses = itertools.count()
        self.keep = keep
        self.reasons: dict[str, str] = {}
        self._lock = threading.Lock()  # with streams, a style switch reaches two workers at once

    @property
    def names(self) -> list[str]:
        return list(self._named)

    def known(self, name: str) -> bool:
        return name in self.paths

    def add(self, name: str, model: Path) -> None:
        """A network the governor may paint with, beside those the user named (a lighter variant)."""
        self.paths.setdefault(name, model)

    @property
    def opened(self) -> list[str]:
        return list(self._open)

    def __getitem__(self, name: str) -> Stylizer:
        self._used[name] = next(self._uses)
        opened = self._open.get(name)
        if opened is not None:  # no lock: the live loop must not wait while another network opens
            return opened
        with self._lock:
            if name not in self._open:
                from stylecast.realtime.video import frames_in_flight

                choice = open_backend(self.paths[name], self.prefer)
                frames_in_flight(choice.backend, self.streams)
                self.reasons[name] = choice.describe()
                self._open[name] = Stylizer(choice.backend)
                self._close_least_used(keep=name)
            return self._open[name]

    def _close_least_used(self, keep: str) -> None:
        while len(self._open) > self.keep:
            victim = min((n for n in self._open if n != keep), key=lambda n: self._used.get(n, -1))
            del self._open[victim]  # a thread still painting with it holds its own reference


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
            from stylecast.realtime.http_sink import HttpStreamSink

            sink = stack.enter_context(HttpStreamSink(controls=controls, host=config.host, port=config.port, token=config.token))
            obs = sink.url + ("&" if "?" in sink.url else "?") + "transparent=1&controls=0"
            print(f"streaming at {sink.url} (OBS: add a Browser Source with {obs})", file=sys.stderr)
            if sink.guard.token:
                print("the token in these URLs is needed to watch or steer the stream: share it only with who may",
                      file=sys.stderr)
            sinks.append(sink)
        elif name == "file":
            if config.record is None:
                raise StylecastError("--sink file needs --record OUT.mp4")
            if config.record.exists():
                raise StylecastError(f"{config.record} exists: choose another --record path")
            from stylecast.realtime.outputs import ensure_writable

            ensure_writable(config.record.parent)  # before capture starts, not at the first frame or the end
            sinks.append(stack.enter_context(LiveRecordingSink(config.record, width=size[0], height=size[1], fps=fps or 30)))
        else:
            raise StylecastError(f"unknown sink {name!r}: use {', '.join(SINKS)}")
    return sinks


def painting_networks(style: str, governed: bool) -> list[str]:
    """The networks the governor may paint ``style`` with: itself, then the same painting's lighter
    bundled networks, most expensive (closest to it) first."""
    return [style] + (lighter_variants(style)[::-1] if governed else [])


class RungWarmer:
    """Opens a rung's network and compiles its working size in the background, so that a switch
    never freezes the picture; the loop moves to the rung once it is ready."""

    def __init__(self, bank: StyleBank, frame_size: tuple[int, int]) -> None:
        self.bank, self.frame_size = bank, frame_size
        self._ready: set[tuple[str, tuple[int, int]]] = set()
        self._busy: set[tuple[str, tuple[int, int]]] = set()
        self._lock = threading.Lock()

    def key(self, rung: Rung) -> tuple[str, tuple[int, int]]:
        return rung.network, working_size(*self.frame_size, rung.long_side)

    def mark_ready(self, rung: Rung) -> None:
        with self._lock:
            self._ready.add(self.key(rung))

    def ready(self, rung: Rung) -> bool:
        """True once ``rung`` can paint without a pause; starts warming it up the first time it is asked."""
        key = self.key(rung)
        with self._lock:
            if key in self._ready:
                return True
            if key in self._busy:
                return False
            self._busy.add(key)
        threading.Thread(target=self._warm, args=(key,), daemon=True).start()
        return False

    def _warm(self, key: tuple[str, tuple[int, int]]) -> None:
        network, (w, h) = key
        try:
            self.bank[network](np.zeros((h, w, 3), np.uint8))
        except Exception as e:  # a network that will not open is never switched to
            print(f"stylecast: {network} could not be prepared: {e}", file=sys.stderr)
            return
        with self._lock:
            self._ready.add(key)


class Governors:
    """One governor per style the viewer paints with (each has its own networks and costs)."""

    def __init__(self, config: LiveConfig, bank: StyleBank, frame_size: tuple[int, int], fps: float) -> None:
        self.config, self.bank, self.frame_size = config, bank, frame_size
        self.settings = GovernorSettings(fps=fps or 30.0)
        self.warmer = RungWarmer(bank, frame_size)
        self.upsample_s = _time_upsampling(frame_size, working_size(*frame_size, config.top_side))
        self._by_style: dict[str, Governor] = {}
        self._told: set[str] = set()
        self._lock = threading.Lock()  # with streams, two workers may meet a new style at once
        self._preparing: set[str] = set()
        self._preparing_lock = threading.Lock()  # never held while a network opens
        self.shown = ""  # the style painting now

    def rung(self, style: str) -> Rung:
        governor = self._by_style.get(style)
        return governor.rung if governor is not None else Rung(style, self.config.top_side)

    def start(self, style: str) -> Governor:
        """The style's governor, made on first use and settled on the best rung measured to keep up."""
        governor = self._by_style.get(style)
        if governor is not None:
            return governor
        with self._lock:
            if style not in self._by_style:
                self._by_style[style] = self._settled(style)
            return self._by_style[style]

    def ready_style(self, asked: str) -> str:
        """The style to paint with now: ``asked`` once it is settled, else the one shown so far while
        ``asked`` opens and settles in the background (a first switch to a style used to freeze the
        picture for seconds)."""
        if asked in self._by_style:
            self.shown = asked
            return asked
        with self._preparing_lock:
            if asked not in self._preparing:
                self._preparing.add(asked)
                threading.Thread(target=self._prepare, args=(asked,), daemon=True).start()
        return self.shown

    def _prepare(self, style: str) -> None:
        try:
            self.start(style)
        except StylecastError as e:  # the viewer keeps the style on screen
            print(f"stylecast: cannot switch to {style}: {e}", file=sys.stderr)

    def _settled(self, style: str) -> Governor:
        networks = painting_networks(style, self.config.governed)
        for name in networks[1:]:
            self.bank.add(name, resolve_style(name))
        governor = Governor(build_ladder(networks, self.config.top_side) if self.config.governed
                            else [Rung(style, self.config.top_side)], self.settings)
        if self.config.governed:
            governor.settle(self._timed_load, self.upsample_s * self.settings.fps)
        else:  # compile the one working size before the clock starts
            w, h = working_size(*self.frame_size, governor.rung.long_side)
            self.bank[style](np.zeros((h, w, 3), np.uint8))
        self.warmer.mark_ready(governor.rung)
        return governor

    def _timed_load(self, rung: Rung) -> float:
        """A rung's load measured before the camera starts: one painting of a blank frame at its working
        size (after one that compiles it), plus the upsampling to the frame's size."""
        w, h = working_size(*self.frame_size, rung.long_side)
        stylize = self.bank[rung.network]
        blank = np.zeros((h, w, 3), np.uint8)
        stylize(blank)
        t = time.perf_counter()
        stylize(blank)
        paint_s = (time.perf_counter() - t) / self.config.streams
        return (paint_s + self.upsample_s) * self.settings.fps

    def observe(self, style: str, paint_s: float, rest_s: float) -> str | None:
        """Feed one frame's cost (painting, and the rest of the loop); moves to a ready rung; returns
        a line to tell the user, once, if any."""
        governor = self._by_style.get(style)
        if governor is None or not self.config.governed:
            return None
        governor.observe(paint_s + rest_s, rest_s)
        if governor.pending is not None and self.warmer.ready(governor.rungs[governor.pending]):
            governor.commit(governor.pending)
        if governor.floor_too_slow and style not in self._told:
            self._told.add(style)
            r = governor.rung
            w, h = working_size(*self.frame_size, r.long_side)
            return (f"{style}: even {r.network} painted at {w}x{h} (the smallest that still looks like the painting) "
                    f"does not keep up with {self.settings.fps:.0f} fps here; a smaller --size or --fps helps")
        return None

    @property
    def changes(self) -> int:
        return sum(g.changes for g in self._by_style.values())

    def describe(self, style: str) -> str:
        r = self.rung(style)
        w, h = working_size(*self.frame_size, r.long_side)
        return f"{r.network} at {w}x{h}"


def _time_upsampling(frame_size: tuple[int, int], work: tuple[int, int]) -> float:
    """Seconds a guided upsampling from ``work`` to ``frame_size`` takes here (second call: buffers warm)."""
    if work == frame_size:
        return 0.0
    upsample = GuidedUpsampler()
    frame = np.zeros((frame_size[1], frame_size[0], 3), np.uint8)
    small = np.zeros((work[1], work[0], 3), np.uint8)
    upsample(small, small, frame)
    t = time.perf_counter()
    upsample(small, small, frame)
    return time.perf_counter() - t


def run_live(config: LiveConfig, bank: StyleBank | None = None, sinks_override: list | None = None) -> LiveStats:
    """Run until the source ends, a sink asks to quit, or ``duration`` seconds pass."""
    bank = bank or StyleBank(config.styles, backend_preference(config.backend), config.streams)
    controls = LiveControls(styles=bank.names, strength=config.strength, keep_colors=config.keep_colors,
                            smoothing=config.smooth != "off")
    smoother = make_smoother(config.smooth if config.smooth != "off" else "flow")
    stats = LiveStats()
    bank[controls.style]  # a backend that cannot run as asked fails here, before the camera opens
    source = open_live_source(config.source, config.size, config.loop, config.source_fps)
    with ExitStack() as stack:
        stack.enter_context(source)
        granted = source.granted
        frame_size = (granted.width, granted.height)
        print(f"source {config.source}: {granted.width}x{granted.height} at {granted.fps:.1f} fps", file=sys.stderr)
        sinks = sinks_override if sinks_override is not None else open_sinks(stack, config, controls, frame_size, granted.fps)
        # Settle on a working size (and network) and compile it before capture and the clock start:
        # OpenVINO compiles per shape, which would otherwise freeze the first live frames.
        governors = Governors(config, bank, frame_size, granted.fps)
        governors.start(controls.style)
        governors.shown = controls.style
        latest = stack.enter_context(LatestFrame(iter(source)))
        print(f"backend: {bank.reasons[controls.style]}", file=sys.stderr)
        print(f"painting: {governors.describe(controls.style)}" + (" (governed: --no-governor or --work-size fixes it)"
              if config.governed else ""), file=sys.stderr)
        slow = SlowStyleNotice(granted.fps, lighter_variants)
        upsample = GuidedUpsampler()
        started = last_report = time.perf_counter()
        state = None

        def paint(image: np.ndarray) -> tuple[str, tuple[Painted, float]]:
            style = governors.ready_style(controls.style)
            rung = governors.rung(style)
            t = time.perf_counter()
            painted = WorkingSizePainter(bank[rung.network], rung.long_side)(image)
            return style, (painted, time.perf_counter() - t)

        # Ctrl-C (or SIGTERM/SIGHUP, which the CLI turns into the same) is how a live session ends:
        # the sinks then close normally, so a recording is finished and kept, not thrown away.
        try:
            for captured, style, (painted, paint_s) in Overlapped(latest, paint, config.streams):
                finish_started = time.perf_counter()
                original = captured.frame.image
                if state != (style, controls.smoothing):
                    smoother.reset()
                    state = (style, controls.smoothing)
                small = smoother(painted.small, painted.painting) if controls.smoothing else painted.painting
                out = apply_look(original, upsample(small, painted.small, original), controls.strength, controls.keep_colors)
                frame = Frame(out, captured.frame.index, original=original)
                for sink in sinks:
                    sink.write(frame)
                now = time.perf_counter()
                stats.update(now - captured.captured_at, latest.dropped)
                stats.painting = controls.painting = governors.describe(style)
                if (told := governors.observe(style, paint_s / config.streams, now - finish_started)) is not None:
                    print(told, file=sys.stderr)
                if not config.governed and (advice := slow(style)) is not None:
                    print(advice, file=sys.stderr)
                for sink in sinks:
                    if hasattr(sink, "stats_line"):
                        sink.stats_line = stats.line()
                if config.stats and now - last_report > 2:
                    print(stats.line(), file=sys.stderr)
                    last_report = now
                if controls.quit or (config.duration and now - started > config.duration):
                    break  # before the next capture: a quit does not wait for one more frame to paint
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    stats.governor_changes = governors.changes
    return stats

