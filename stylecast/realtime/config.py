"""Runtime settings, built by the CLI."""
from __future__ import annotations

from dataclasses import dataclass

from stylecast.realtime.backends import backend_preference


@dataclass(frozen=True)
class RunConfig:
    style: str
    backend: str = "auto"  # auto | cuda | openvino | cpu
    max_side: int | None = None
    overwrite: bool = False

    @property
    def prefer(self) -> tuple[str, ...]:
        return backend_preference(self.backend)
