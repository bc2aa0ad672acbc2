"""One governor per style on screen (hd/governor.py decides; this opens, times and warms up the
networks it names), and the background preparation of a style the viewer switches to."""
from __future__ import annotations

import statistics
import sys
import threading
import time

import numpy as np

from stylecast.errors import StylecastError
from stylecast.realtime.hd.governor import Governor, GovernorSettings, Rung, build_ladder
from stylecast.realtime.hd.upsample import GuidedUpsampler
from stylecast.realtime.hd.working_size import working_size
from stylecast.realtime.live.bank import StyleBank
from stylecast.realtime.live.config import LiveConfig
from stylecast.styles import bundled_styles, lighter_variants
from stylecast.styles.mixes import painting_row

# One timed paint is at the mercy of a hiccup (the other core busy, a page fault), and a rung
# settled on too low is kept until its memory fades (GovernorSettings.remember_s): the median of a
# few decides (two suffice where both are plainly too slow, so a slow network costs one paint more).
TIMED_PAINTS = 3
# How long the end of a session waits for a network that is still compiling in the background
# (a full network's first 1080p paint compiles in a second or two here); a stuck one is left.
WAIT_S = 20.0


def painting_networks(style: str, governed: bool) -> list[str]:
    """The networks the governor may paint ``style`` with: itself, then the same painting's lighter
    bundled networks, most expensive (closest to it) first, then the live multi-style network's
    row for the painting (``NAME=1``) where one paints it."""
    if not governed:
        return [style]
    among = bundled_styles()
    live = painting_row(style, among)
    return [style] + lighter_variants(style, among)[::-1] + ([live] if live else [])


class RungWarmer:
    """Opens a rung's network and compiles its working size in the background, so that a switch
    never freezes the picture; the loop moves to the rung once it is ready."""

    def __init__(self, bank: StyleBank, frame_size: tuple[int, int]) -> None:
        self.bank, self.frame_size = bank, frame_size
        self._ready: set[tuple[str, tuple[int, int]]] = set()
        self._busy: set[tuple[str, tuple[int, int]]] = set()
        self._lock = threading.Lock()
        self.threads: list[threading.Thread] = []  # warming now or done: waited for before the process ends

    def size(self, rung: Rung) -> tuple[int, int]:
        """(w, h) the rung paints the camera's frames at."""
        return working_size(*self.frame_size, rung.long_side)

    def blank(self, rung: Rung) -> np.ndarray:
        """A frame of the rung's working size: painting it opens the network and compiles the size."""
        w, h = self.size(rung)
        return np.zeros((h, w, 3), np.uint8)

    def key(self, rung: Rung) -> tuple[str, tuple[int, int]]:
        return rung.network, self.size(rung)

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
            _start(self.threads, self.warm, rung)
        return False

    def warm(self, rung: Rung) -> None:
        """Open ``rung``'s network and compile its size now, in this thread; one that will not open
        is said once and not marked ready."""
        try:
            self.bank[rung.network](self.blank(rung))
        except Exception as e:  # a network that will not open is never switched to
            print(f"stylecast: {rung.network} could not be prepared: {e}", file=sys.stderr)
            return
        self.mark_ready(rung)


class Governors:
    """One governor per style the viewer paints with (each has its own networks and costs)."""

    def __init__(self, config: LiveConfig, bank: StyleBank, frame_size: tuple[int, int], fps: float,
                 source_s: float = 0.0) -> None:
        self.config, self.bank, self.frame_size = config, bank, frame_size
        self.settings = GovernorSettings(fps=fps or 30.0)
        self.warmer = RungWarmer(bank, frame_size)
        # Work that does not shrink with the working size, for settling: the upsampling in the loop,
        # and the source's frames (a 1080p MJPEG stream's decoding takes the painting's cores)
        self.fixed_s = _time_upsampling(frame_size, working_size(*frame_size, config.top_side)) + source_s
        self._by_style: dict[str, Governor] = {}
        self._told: set[str] = set()
        self._lock = threading.Lock()  # with streams, two workers may meet a new style at once
        self._preparing: set[str] = set()
        self._preparing_lock = threading.Lock()  # never held while a network opens
        self._threads: list[threading.Thread] = []
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
                _start(self._threads, self._prepare, asked)
        return self.shown

    def wait(self, timeout_s: float = WAIT_S) -> None:
        """Let networks still opening or compiling in the background finish: a process that exits
        while OpenVINO compiles in another thread aborts ("terminate called without an active
        exception", exit status 134), after a session that had ended well."""
        deadline = time.monotonic() + timeout_s
        for thread in self._threads + self.warmer.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _prepare(self, style: str) -> None:
        try:
            self.start(style)
        except StylecastError as e:  # the viewer keeps the style on screen
            print(f"stylecast: cannot switch to {style}: {e}", file=sys.stderr)

    def _settled(self, style: str) -> Governor:
        networks = painting_networks(style, self.config.governed)
        for name in networks[1:]:
            self.bank.add(name)
        governor = Governor(build_ladder(networks, self.config.top_side) if self.config.governed
                            else [Rung(style, self.config.top_side)], self.settings)
        if self.config.governed:
            governor.settle(self._timed_load, self.fixed_s * self.settings.fps)
            self._open_floor(governor)
        else:  # compile the one working size before the clock starts
            self.bank[style](self.warmer.blank(governor.rung))
        self.warmer.mark_ready(governor.rung)
        return governor

    def _open_floor(self, governor: Governor) -> None:
        """Open and compile the ladder's last rung now, where it is another network: a move down
        that nothing on the settled network is predicted to fit lands there, and opening a network
        while frames are late took 0.6-1.4 s here (9-13 frames lost at 30 fps)."""
        floor = governor.rungs[-1]
        if floor.network != governor.rung.network:
            self.warmer.warm(floor)  # one that will not open is said; the settled network paints on

    def _timed_load(self, rung: Rung) -> float:
        """A rung's load measured before the camera starts: the median of a few paintings of a blank
        frame at its working size (after one that compiles it), plus the upsampling to the frame's
        size and the source's own work on a frame."""
        stylize = self.bank[rung.network]
        blank = self.warmer.blank(rung)
        stylize(blank)
        loads: list[float] = []
        for _ in range(TIMED_PAINTS):
            t = time.perf_counter()
            stylize(blank)
            paint_s = (time.perf_counter() - t) / self.config.streams
            loads.append((paint_s + self.fixed_s) * self.settings.fps)
            if sum(load > 2 * self.settings.fit for load in loads) >= 2:  # plainly too slow, twice: no need to ask again
                break
        return statistics.median(loads)

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
            w, h = self.warmer.size(r)
            return (f"{style}: even {r.network} painted at {w}x{h} (the smallest that still looks like the painting) "
                    f"does not keep up with {self.settings.fps:.0f} fps here; a smaller --size or --fps helps")
        return None

    @property
    def changes(self) -> int:
        return sum(g.changes for g in self._by_style.values())

    def describe(self, style: str) -> str:
        r = self.rung(style)
        w, h = self.warmer.size(r)
        return f"{r.network} at {w}x{h}"


def _start(threads: list[threading.Thread], target, arg) -> None:
    """``target(arg)`` in a daemon thread, kept in ``threads`` (finished ones are dropped)."""
    threads[:] = [t for t in threads if t.is_alive()]
    thread = threading.Thread(target=target, args=(arg,), daemon=True)
    threads.append(thread)
    thread.start()


def _time_upsampling(frame_size: tuple[int, int], work: tuple[int, int]) -> float:
    """Seconds a guided upsampling from ``work`` to ``frame_size`` takes here (median of a few, after
    one that warms the buffers)."""
    if work == frame_size:
        return 0.0
    upsample = GuidedUpsampler()
    frame = np.zeros((frame_size[1], frame_size[0], 3), np.uint8)
    small = np.zeros((work[1], work[0], 3), np.uint8)
    upsample(small, small, frame)
    times = []
    for _ in range(TIMED_PAINTS):
        t = time.perf_counter()
        upsample(small, small, frame)
        times.append(time.perf_counter() - t)
    return statistics.median(times)
