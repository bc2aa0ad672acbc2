"""What this machine's CPU offers for painting speed, read once from /proc/cpuinfo (Linux)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from stylecast.errors import StylecastError

# The instruction sets that decide which styles are live here, in the words users search for.
ISA_FLAGS = {"avx2": "AVX2", "avx512f": "AVX-512", "avx512_vnni": "VNNI", "avx512_bf16": "AVX512-BF16", "amx_bf16": "AMX"}


@dataclass(frozen=True)
class CpuInfo:
    model: str
    cores: int
    isa: tuple[str, ...]  # of ISA_FLAGS' names, in their order

    @property
    def machine_class(self) -> str:
        """The row of the speed tables (docs/speed.md) this CPU belongs to."""
        for name in ("AMX", "VNNI", "AVX-512", "AVX2"):
            if name in self.isa:
                return {"VNNI": "AVX-512 VNNI"}.get(name, name)
        return "pre-AVX2"

    def line(self, isa_limit: str | None = None) -> str:
        limit = f"; oneDNN limited to {isa_limit} by ONEDNN_MAX_CPU_ISA" if isa_limit else ""
        return (f"cpu: {self.model or 'unknown'}, {self.cores} cores, {' '.join(self.isa) or 'no AVX2'} "
                f"(class {self.machine_class}){limit}")

    def to_dict(self, isa_limit: str | None = None) -> dict:
        return {"model": self.model, "cores": self.cores, "isa": list(self.isa), "class": self.machine_class,
                "isa_limit": isa_limit}


def cpu_info(cpuinfo: Path = Path("/proc/cpuinfo")) -> CpuInfo:
    flags: set[str] = set()
    model = ""
    try:
        text = cpuinfo.read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags" and not flags:
            flags = set(value.split())
        elif key.strip() == "model name" and not model:
            model = value.strip()
    return CpuInfo(model, os.cpu_count() or 1, tuple(name for flag, name in ISA_FLAGS.items() if flag in flags))


def available_memory(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """Bytes the kernel could give without swapping (MemAvailable); None where that is not known."""
    try:
        for line in meminfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key == "MemAvailable":
                return int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(need: float, doing: str, advice: str) -> None:
    """Refuse in one line work that would not fit in free memory: the kernel kills such a process
    minutes in, with no message, where Python would never see a MemoryError."""
    free = available_memory()
    if free is not None and need > free:
        raise StylecastError(f"{doing} needs about {need / 1e9:.0f} GB of memory, {free / 1e9:.0f} GB is free: {advice}")
