"""Pick the training device and precision, and describe the hardware for the style card."""
from __future__ import annotations

import platform
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import ContextManager

import torch

from stylecast.errors import StylecastError


@dataclass(frozen=True)
class Compute:
    device: torch.device
    precision: str  # bf16 | fp16 | fp32

    def autocast(self) -> ContextManager:
        if self.precision == "fp32":
            return nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    @property
    def memory_format(self) -> torch.memory_format:
        # oneDNN's fast bf16 convolutions on CPU want NHWC; cuDNN is happy with it too.
        return torch.channels_last if self.precision != "fp32" or self.device.type == "cuda" else torch.contiguous_format


def cpu_has_bf16() -> bool:
    """True when oneDNN has native bf16 kernels here (AVX512-BF16 or AMX); emulation is slower than fp32."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def choose_compute(device: str = "auto", precision: str = "auto", local_rank: int = 0) -> Compute:
    """``local_rank``: under torchrun, this process's GPU on its machine."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise StylecastError("--device cuda: PyTorch sees no CUDA GPU here (is this a CPU-only torch build?)")
    if device not in ("cpu", "cuda"):
        raise StylecastError(f"unknown device {device!r}: use auto, cpu or cuda")
    if precision == "auto":
        if device == "cuda":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            precision = "bf16" if cpu_has_bf16() else "fp32"
    if precision not in ("bf16", "fp16", "fp32"):
        raise StylecastError(f"unknown precision {precision!r}: use auto, bf16, fp16 or fp32")
    if precision == "fp16" and device == "cpu":
        raise StylecastError("fp16 training is for CUDA; on CPU use bf16 or fp32")
    if device == "cuda":
        torch.cuda.set_device(local_rank)
        return Compute(torch.device("cuda", local_rank), precision)
    return Compute(torch.device(device), precision)


def describe_hardware(compute: Compute) -> str:
    if compute.device.type == "cuda":
        return torch.cuda.get_device_name(compute.device)
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    return f"{name}, {torch.get_num_threads()} threads"
