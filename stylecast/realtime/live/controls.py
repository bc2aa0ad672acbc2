"""What the viewer can change while the stream runs, shared by the window hotkeys and the HTTP API."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class LiveControls:
    styles: list[str]
    index: int = 0
    strength: float = 1.0
    smoothing: bool = True
    keep_colors: bool = False
    side_by_side: bool = False
    snapshot: bool = False
    quit: bool = False
    painting: str = ""  # shown, not set by viewers: the network and working size the loop paints with
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def style(self) -> str:
        return self.styles[self.index]

    def cycle(self, step: int) -> str:
        with self._lock:
            self.index = (self.index + step) % len(self.styles)
            return self.style

    def set_style(self, name: str) -> None:
        """Only names in the list: the HTTP API must never turn a request into a file path."""
        with self._lock:
            if name not in self.styles:
                raise KeyError(name)
            self.index = self.styles.index(name)

    def set_strength(self, value: float) -> float:
        with self._lock:
            self.strength = min(1.0, max(0.0, round(value, 3)))
            return self.strength

    def state(self) -> dict:
        return {"style": self.style, "styles": list(self.styles), "strength": self.strength,
                "smoothing": self.smoothing, "keep_colors": self.keep_colors, "painting": self.painting}
