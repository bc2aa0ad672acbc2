"""What every runtime backend is to the rest of stylecast, and what a model file must be to load."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from stylecast.contract import ModelContract, StyleCard, TensorSpec, signature_problem
from stylecast.errors import StylecastError


class Backend(Protocol):
    name: str
    providers: tuple[str, ...]
    contract: ModelContract
    card: StyleCard | None

    # True where the graph itself converts frames (GPU: only uint8 crosses the bus): call
    # ``run_frame`` with a frame padded to the size multiple instead of ``run``.
    takes_frames: bool
    # passed with every frame beside it: a multi-style network's weights (runtimes.mix), else empty
    feeds: dict[str, np.ndarray]

    def run(self, batch: np.ndarray, feeds: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """NCHW float32 in, NCHW float32 out, as the model contract says; ``feeds`` replaces ``self.feeds``."""
        ...

    def run_frame(self, frame: np.ndarray, feeds: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """HxWx3 uint8 BGR in, painted HxWx3 uint8 BGR out (only where ``takes_frames``)."""
        ...

    def parallel_runs(self) -> int:
        """How many ``run`` calls may usefully overlap, from as many threads (1: call from one thread)."""
        ...


@dataclass(frozen=True)
class Choice:
    backend: Backend
    reason: str

    def describe(self) -> str:
        """``name providers: reason[, N frames at once]``: what runs a style, as users are told."""
        at_once = self.backend.parallel_runs()
        streams = f", {at_once} frames at once" if at_once > 1 else ""
        return f"{self.backend.name} {', '.join(self.backend.providers)}: {self.reason}{streams}"

    @property
    def network_width(self) -> int:
        return network_width(self.backend)


def network_width(backend) -> int:
    """A backend's style network's channel width from its card; a model without one counts as full width."""
    card = getattr(backend, "card", None)
    return card.width if card else FULL_WIDTH


FULL_WIDTH = 32
# Peak memory of one frame through a full-width network, per pixel, with a margin: at 3840x2160
# onnxruntime on the CPU took 11 GB, PyTorch eager 8.5 GB, OpenVINO 2.2 GB (int8; measured with
# /usr/bin/time on `bench`). Narrower networks need proportionally less.
FRAME_BYTES_PER_PIXEL = {"openvino": 400}
OTHER_FRAME_BYTES_PER_PIXEL = 1400  # onnxruntime, PyTorch


def frame_memory(pixels: float, width: int = FULL_WIDTH, runtime: str = "") -> float:
    """Bytes a frame of ``pixels`` needs through a network of ``width`` on ``runtime`` (worst case if unnamed)."""
    return pixels * FRAME_BYTES_PER_PIXEL.get(runtime, OTHER_FRAME_BYTES_PER_PIXEL) * width / FULL_WIDTH


def model_error(path: Path, error: Exception) -> StylecastError:
    # OpenVINO's messages start with its source location ("Exception from src/inference/src/cpp/core.cpp:84:")
    lines = [ln for ln in str(error).splitlines() if ln.strip() and not ln.startswith(("Exception from", "Check "))]
    reason = (lines[0] if lines else str(error).splitlines()[0] if str(error) else type(error).__name__)[:200]
    return StylecastError(f"cannot load style model {path}: it is corrupt or not an ONNX model ({reason})")


def check_signature(path: Path, inputs: list[TensorSpec], outputs: list[TensorSpec], contract: ModelContract) -> None:
    problem = signature_problem(inputs, outputs, contract)
    if problem is not None:
        raise StylecastError(f"cannot load style model {path}: it is not a style network: {problem}")
