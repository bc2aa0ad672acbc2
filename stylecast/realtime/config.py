"""Runtime settings, built by the CLI."""
from __future__ import annotations

from dataclasses import dataclass

from stylecast.realtime.runtimes.backends import backend_preference


@dataclass(frozen=True)
class RunConfig:
    style: str
    backend: str = "auto"  # auto | cuda | openvino | cpu
    max_side: int | None = None
    overwrite: bool = False
    skip_existing: bool = False  # outputs already there are kept and their inputs left out (a batch resumed)
    # strokes this many times as big as the style was trained with, at any output size (1: as at
    # 640 px on the long side); the frame is painted at that size and guided-upsampled back
    stroke_scale: float = 1.0
    paint: str = "all"  # all | background | person: where the painting shows, the original elsewhere

    @property
    def prefer(self) -> tuple[str, ...]:
        return backend_preference(self.backend)
