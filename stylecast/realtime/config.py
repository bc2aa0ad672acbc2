"""Runtime settings, built by the CLI."""
from __future__ import annotations

from dataclasses import dataclass

from stylecast.realtime.backends import BACKEND_NAMES


@dataclass(frozen=True)
class RunConfig:
    style: str
    backend: str = "auto"  # auto | cuda | openvino | cpu
    max_side: int | None = None
    overwrite: bool = False

    @property
    def prefer(self) -> tuple[str, ...]:
        return BACKEND_NAMES if self.backend == "auto" else (self.backend,)
