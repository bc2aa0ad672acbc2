"""Style name -> an opened network, for the live loop: opened on first use, the least recently used
closed beyond a few. A name may be a mix (``starry_night=0.6,the_scream=0.4``): every mix of one
multi-style network shares that network, opened once."""
from __future__ import annotations

import itertools
import threading
from functools import lru_cache
from pathlib import Path

from stylecast.errors import StylecastError
from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.runtimes.protocol import Choice
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.styles import bundled_styles
from stylecast.styles.mixes import StyleSpec, is_mix, parse_style

# Networks kept open at once: the painting on screen (its governor may use two or three) and the
# last ones viewed. Each holds its compiled sizes; cycling 22 styles kept them all (1.7 GB).
KEEP_OPEN = 6


@lru_cache(maxsize=256)
def _spec(name: str) -> StyleSpec:
    return parse_style(name)


class StyleBank:
    """Style name -> Stylizer, each backend opened on first use; the least recently used are closed
    beyond ``keep`` (and reopened if they come back)."""

    def __init__(self, specs: tuple[str, ...], prefer: tuple[str, ...], streams: int = 1, keep: int = KEEP_OPEN) -> None:
        self.specs: dict[str, StyleSpec] = {}
        if specs:
            for s in specs:
                spec = _spec(s)
                self.specs[s if is_mix(s) else spec.model.stem] = spec
        else:
            # The cheapest network comes first, so the first picture a CPU user sees is fluid.
            for s in sorted(bundled_styles(), key=lambda s: s.card.cost_rank if s.card else (9, 0, 0)):
                self.specs[s.name] = StyleSpec(s.model)
        if not self.specs:
            raise StylecastError("no styles: give -s NAME or -s MODEL.onnx")
        self._named = list(self.specs)  # what the user cycles through; the governor may add lighter networks
        self.prefer = prefer
        self.streams = streams
        self._open: dict[str, Stylizer] = {}
        self._networks: dict[Path, Choice] = {}  # one opened network per file, whatever mixes use it
        self._used: dict[str, int] = {}  # name -> when last asked for (a counter: no clock needed)
        self._uses = itertools.count()
        self.keep = keep
        self.reasons: dict[str, str] = {}
        self._lock = threading.Lock()  # with streams, a style switch reaches two workers at once

    @property
    def names(self) -> list[str]:
        return list(self._named)

    def add(self, name: str, model: Path | None = None) -> None:
        """A network the governor may paint with, beside those the user named (a lighter variant)."""
        if name not in self.specs:
            self.specs[name] = StyleSpec(model) if model is not None else _spec(name)

    def key_of(self, name: str) -> tuple[str, dict[str, float] | None]:
        """Where a style is painted: a mix's network (its own entry, added on first use) and the mix;
        any other name is its own entry."""
        if not is_mix(name):
            return name, None
        spec = _spec(name)
        key = spec.model.stem
        self.add(key, spec.model)
        return key, spec.mix

    @property
    def opened(self) -> list[str]:
        return list(self._open)

    def __getitem__(self, name: str) -> Stylizer:
        self._used[name] = next(self._uses)
        opened = self._open.get(name)
        if opened is not None:  # no lock: the live loop must not wait while another network opens
            return opened
        self.add(name)
        with self._lock:
            if name not in self._open:
                from stylecast.realtime.video import frames_in_flight

                spec = self.specs[name]
                choice = self._networks.get(spec.model)
                if choice is None:
                    choice = self._networks[spec.model] = open_backend(spec.model, self.prefer)
                    frames_in_flight(choice.backend, self.streams)
                self.reasons[name] = choice.describe()
                self._open[name] = Stylizer(choice.backend, spec.mix)
                self._close_least_used(keep=name)
            return self._open[name]

    def _close_least_used(self, keep: str) -> None:
        while len(self._open) > self.keep:
            victim = min((n for n in self._open if n != keep), key=lambda n: self._used.get(n, -1))
            del self._open[victim]  # a thread still painting with it holds its own reference
        in_use = {self.specs[n].model for n in self._open}
        for model in [m for m in self._networks if m not in in_use]:
            del self._networks[model]
