"""Style name -> an opened network, for the live loop: opened on first use, the least recently used
closed beyond a few."""
from __future__ import annotations

import itertools
import threading
from pathlib import Path

from stylecast.errors import StylecastError
from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.styles import bundled_styles, resolve_style

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
