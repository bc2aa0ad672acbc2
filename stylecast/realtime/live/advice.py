"""What to tell a live user whose style paints fewer frames than its source gives."""
from __future__ import annotations

import time
from collections.abc import Callable

# Frames are counted this long on a style before it is judged: the first ones of a switch are uneven.
SETTLE_S = 5.0


class SlowStyleNotice:
    """Once per style, after ``SETTLE_S`` on it: it paints slower than its source, and what is lighter.

    A CPU user who picks a full-width style sees a jerky picture and no reason; the same painting
    usually ships on a lighter network (``_lite_rt``, ``_rt``) that keeps up. Called once per
    painted frame with the style it was painted with.
    """

    def __init__(self, source_fps: float, lighter: Callable[[str], list[str]],
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.source_fps, self.lighter, self.clock = source_fps, lighter, clock
        self._style: str | None = None
        self._since = 0.0
        self._frames = 0
        self._told: set[str] = set()

    def __call__(self, style: str) -> str | None:
        now = self.clock()
        if style != self._style:
            self._style, self._since, self._frames = style, now, 0
            return None
        self._frames += 1
        elapsed = now - self._since
        if style in self._told or elapsed < SETTLE_S or self.source_fps <= 0:
            return None
        fps = self._frames / elapsed
        if fps >= 0.8 * self.source_fps:
            return None
        self._told.add(style)
        lighter = self.lighter(style)
        instead = f"; the same painting on a lighter network: {', '.join(lighter)} (-s NAME)" if lighter else ""
        return (f"{style} paints {fps:.0f} fps here and its source gives {self.source_fps:.0f}{instead}. "
                f"'stylecast bench styles' lists the styles that keep up on this machine; a smaller --size helps too")
