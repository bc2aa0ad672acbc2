"""What the viewer can change while the stream runs, shared by the window hotkeys and the HTTP API."""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from stylecast.segment import PAINT_CHOICES

MIX_DECIMALS = 3  # a viewer's mix weights are kept (and shown) to this many decimals


@dataclass
class LiveControls:
    styles: list[str]
    index: int = 0
    strength: float = 1.0
    smoothing: bool = True
    keep_colors: bool = False
    paint: str = "all"  # all | background | person: where the painting shows
    side_by_side: bool = False
    snapshot: bool = False
    quit: bool = False
    painting: str = ""  # shown, not set by viewers: the network and working size the loop paints with
    mixable: list[str] = field(default_factory=list)  # paintings a bundled multi-style network can mix
    mix: dict[str, float] | None = None  # painting -> weight, when the viewer mixes (replaces the style)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def style(self) -> str:
        """The style to paint: a name from the list, or the mix as ``a=0.6,b=0.4`` (what -s takes)."""
        mix = self.mix
        if mix:
            return ",".join(f"{name}={weight:g}" for name, weight in mix.items())
        return self.styles[self.index]

    def cycle(self, step: int) -> str:
        with self._lock:
            self.mix = None
            self.index = (self.index + step) % len(self.styles)
            return self.style

    def set_style(self, name: str) -> None:
        """Only names in the list: the HTTP API must never turn a request into a file path."""
        with self._lock:
            if name not in self.styles:
                raise KeyError(name)
            self.mix = None
            self.index = self.styles.index(name)

    def mix_problem(self, mix: object) -> str | None:
        """Why ``mix`` cannot be painted (None if it can): only paintings the network mixes, weights 0 to 1, sum above 0."""
        if not self.mixable:
            return "no multi-style network is bundled here: nothing can be mixed"
        if not isinstance(mix, dict) or not mix:
            return 'a mix is an object of painting weights, e.g. {"starry_night": 0.6, "the_scream": 0.4}'
        for name, weight in mix.items():
            if name not in self.mixable:
                return f"{str(name)[:80]!r} cannot be mixed; paintings that mix: {', '.join(self.mixable)}"
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) \
                    or not 0 <= weight <= 1:
                return f"the weight of {name!r} must be a number from 0 to 1"
        if sum(round(w, MIX_DECIMALS) for w in mix.values()) <= 0:  # kept rounded: see set_mix
            return f"at least one painting needs a weight of {10 ** -MIX_DECIMALS:g} or more"
        return None

    def set_mix(self, mix: dict[str, float]) -> None:
        problem = self.mix_problem(mix)
        if problem is not None:
            raise ValueError(problem)
        with self._lock:
            self.mix = {name: round(float(w), MIX_DECIMALS) for name, w in mix.items() if w > 0}

    def set_paint(self, where: str) -> str:
        if where not in PAINT_CHOICES:
            raise ValueError(f"paint must be one of {', '.join(PAINT_CHOICES)}")
        with self._lock:
            self.paint = where
            return where

    def cycle_paint(self) -> str:
        with self._lock:
            self.paint = PAINT_CHOICES[(PAINT_CHOICES.index(self.paint) + 1) % len(PAINT_CHOICES)]
            return self.paint

    def set_strength(self, value: float) -> float:
        with self._lock:
            self.strength = min(1.0, max(0.0, round(value, 3)))
            return self.strength

    def state(self) -> dict:
        return {"style": self.style, "styles": list(self.styles), "strength": self.strength,
                "smoothing": self.smoothing, "keep_colors": self.keep_colors, "painting": self.painting,
                "paint": self.paint, "paints": list(PAINT_CHOICES),
                "mix": dict(self.mix) if self.mix else None, "mixable": list(self.mixable)}
