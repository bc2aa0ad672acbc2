"""Settings of a live session, built by the CLI."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stylecast.realtime.hd.working_size import stroke_long_side

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
    paint: str = "all"  # all | background | person (switchable live)
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
