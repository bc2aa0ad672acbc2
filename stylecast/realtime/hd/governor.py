"""Holds the camera's frame rate in `live`: picks the working size, and where a painting ships on
several networks the network, from how long the frames actually take.

The rungs run from the best picture (the style as asked, at the stroke scale's size) down to the
cheapest (its lightest network at the floor size); a network before the last goes down only to the
handover size, below which the last network, at a bigger size, looks more painted. Each frame
reports its load: the seconds the loop spent on it over the camera's frame period. A window whose
median load is over ``high`` jumps straight down to the rung predicted to fit (the painting's cost
grows with the pixels, the rest of the loop's does not); a load under ``low`` for
``raise_after_s`` climbs to the best rung above predicted to fit (one rung at a time onto a better
network, whose cost is not known yet). The gap between the two, and the load remembered per rung,
keep it from oscillating.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Below this long side the strokes grow so large (2.5x trained) that the painting stops reading as
# the style; the governor goes no lower and says so.
FLOOR_LONG_SIDE = 256
# Below this long side a network that is not the ladder's last hands over to the last (the cheapest,
# the multi-style network where the painting has a row in it), which then paints at a bigger size:
# at the output size the enlargement costs more style than the lighter network does. Held out at
# 1280x720 (docs/hd.md), Starry Night's own `_fast` at 288 px scores a style ratio of 0.375 where
# `paintings_rt` at 432 px scores 0.334 and at 496 px 0.316; Cafe Terrace 0.600 against 0.495.
HANDOVER_LONG_SIDE = 384
RUNG_RATIO = 0.875  # each rung paints ~77% of the pixels of the one above


@dataclass(frozen=True)
class Rung:
    network: str  # the style (network) that paints at this rung
    long_side: int  # the working size's longer side


def build_ladder(networks: Sequence[str], top: int, floor: int = FLOOR_LONG_SIDE,
                 handover: int = HANDOVER_LONG_SIDE) -> list[Rung]:
    """Every network (best first) at every side from ``top`` down to ``handover``, and the last one
    on down to ``floor`` (multiples of 16)."""
    sides = _sides(top, floor)
    last = len(networks) - 1
    return [Rung(n, s) for i, n in enumerate(networks) for s in sides if i == last or s >= min(handover, top)]


def _sides(top: int, floor: int) -> list[int]:
    floor = min(floor, top)
    sides = [top]
    while sides[-1] > floor:
        sides.append(max(floor, int(round(sides[-1] * RUNG_RATIO / 16)) * 16))
    return sides


@dataclass(frozen=True)
class GovernorSettings:
    fps: float  # the source's frame rate to keep
    high: float = 0.9  # a window's median load above this: too slow
    low: float = 0.7  # below this for ``raise_after_s``: room for a bigger rung
    fit: float = 0.8  # the load a new rung is chosen to reach
    # the load a rung timed alone before capture must reach: in the loop it shares the cores with
    # decoding, smoothing and the sinks, and starting too high costs dropped frames until it moves
    settle_fit: float = 0.7
    window_s: float = 1.0
    raise_after_s: float = 3.0
    remember_s: float = 30.0  # how long a rung measured too slow is not tried again


class Governor:
    """Chooses the rung; ``observe`` once per frame, then ``commit`` a proposed rung once it is ready."""

    def __init__(self, rungs: Sequence[Rung], settings: GovernorSettings, start: int = 0,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        if not rungs:
            raise ValueError("no rungs")
        self.rungs, self.settings, self.clock = list(rungs), settings, clock
        self.index = start
        self.pending: int | None = None
        self.changes = 0
        self.floor_too_slow = False  # set once when even the last rung cannot keep up
        self._loads: list[tuple[float, float]] = []  # (painting, the rest) per frame, in frame periods
        self._window_start = clock()
        self._calm_since: float | None = None
        # rung -> (median load, when, painting load per pixel then): the last is how stale it is
        self._measured: dict[int, tuple[float, float, float]] = {}
        self._fixed = 0.0  # the load that does not shrink with the working size (upsampling, sinks)

    @property
    def rung(self) -> Rung:
        return self.rungs[self.index]

    def _cost(self, i: int) -> float:
        return float(self.rungs[i].long_side) ** 2

    def _rate(self, load: float, i: int | None = None) -> float:
        """Rung ``i``'s (default: the current one's) painting load per pixel: the part of ``load``
        that scales with the working size."""
        return max(0.0, load - self._fixed) / self._cost(self.index if i is None else i)

    def predict(self, i: int, load: float, memory: bool = True) -> float:
        """Load at rung ``i`` from the current rung's ``load``: remembered if measured lately, and on
        this network while ``memory`` and it still paints at half or more of the per-pixel cost it
        had then; else its painting part scaled by pixels.

        Another network's rung measured lately is remembered even without ``memory``: a light
        network's low load says nothing of what a heavier one costs (scaled from it, a heavier
        network measured too slow would be tried again at every calm spell)."""
        seen = self._measured.get(i)
        if seen is not None and self.clock() - seen[1] < self.settings.remember_s:
            if self.rungs[i].network != self.rung.network:
                return seen[0]
            if memory and self._rate(load) >= 0.5 * seen[2]:
                return seen[0]
        fixed = min(self._fixed, load)
        return (load - fixed) * self._cost(i) / self._cost(self.index) + fixed

    def observe(self, busy_s: float, fixed_s: float = 0.0) -> int | None:
        """One frame took ``busy_s`` of the loop, ``fixed_s`` of it for work that does not shrink with
        the working size; returns a rung to move to, if any."""
        now = self.clock()
        self._loads.append((busy_s * self.settings.fps, fixed_s * self.settings.fps))
        if self.pending is not None or now - self._window_start < self.settings.window_s or len(self._loads) < 3:
            return None
        load = statistics.median(total for total, _ in self._loads)
        self._fixed = statistics.median(fixed for _, fixed in self._loads)
        self._loads.clear()
        self._window_start = now
        self._measured[self.index] = (load, now, self._rate(load))
        if load > self.settings.high:
            self._calm_since = None
            return self._propose(self._lower(load))
        if load < self.settings.low:
            self._calm_since = self._calm_since if self._calm_since is not None else now
            if now - self._calm_since >= self.settings.raise_after_s and self.index > 0:
                return self._propose(self._higher(load))
        else:
            self._calm_since = None
        return None

    def _higher(self, load: float) -> int:
        """The best rung above predicted to fit: any size of this network, or the next rung of a better one.

        A load far below ``low`` means frames got much cheaper (another program stopped), so this
        network's rungs remembered as too slow are judged afresh; another network's, measured in the
        last ``remember_s``, are not (see ``predict``). Another network's cost is unknown until
        measured, hence one rung at a time across networks.
        """
        memory = load >= self.settings.low / 2
        best = self.index
        for i in range(self.index - 1, -1, -1):
            crossing = self.rungs[i].network != self.rung.network
            if self.predict(i, load, memory) > self.settings.fit:
                break
            best = i
            if crossing:
                break
        return best

    def _lower(self, load: float) -> int:
        for i in range(self.index + 1, len(self.rungs)):
            if self.predict(i, load) <= self.settings.fit:
                return i
        if self.index == len(self.rungs) - 1 and load > 1.0:
            self.floor_too_slow = True  # frames are being dropped, not just a busy loop
        return len(self.rungs) - 1

    def _propose(self, i: int) -> int | None:
        if i == self.index:
            return None
        self.pending = i
        return i

    def commit(self, i: int) -> None:
        """The proposed rung is ready (network open, size compiled): paint with it from now on."""
        if i != self.pending:
            return
        self.index, self.pending = i, None
        self.changes += 1
        self._loads.clear()
        self._window_start = self.clock()
        self._calm_since = None

    def settle(self, load_of: Callable[[Rung], float], fixed: float = 0.0) -> None:
        """Before the camera starts: measure rungs with ``load_of`` (a timed paint plus ``fixed``, the
        load that does not shrink with the size) and start on the best one predicted to keep up, so
        the first seconds are not spent climbing down."""
        self._fixed = fixed
        i = self.index
        while i < len(self.rungs):
            load = load_of(self.rungs[i])
            rate = self._rate(load, i)
            self._measured[i] = (load, self.clock(), rate)
            if load <= self.settings.settle_fit:
                break
            same = [j for j in range(i + 1, len(self.rungs)) if self.rungs[j].network == self.rungs[i].network]
            scaled = [j for j in same if rate * self._cost(j) + fixed <= self.settings.settle_fit]
            if scaled:
                i = scaled[0]
                continue
            # not even the floor: the next network, from the top of its sizes
            i = same[-1] + 1 if same else i + 1
            if i >= len(self.rungs):
                i = len(self.rungs) - 1
                self.floor_too_slow = load > 1.0
                break
        self.index = i
        self._window_start = self.clock()
