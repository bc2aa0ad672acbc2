"""Speed measurements: `stylecast bench` (per-frame latency by backend and size) and `bench video`."""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from stylecast.errors import StylecastError
from stylecast.machine import available_memory
from stylecast.realtime.runtimes.backends import open_backend, open_torch
from stylecast.realtime.runtimes.openvino_backend import OpenVinoBackend
from stylecast.realtime.runtimes.precision import psnr, style_picture
from stylecast.realtime.runtimes.protocol import FULL_WIDTH, Backend, frame_memory, network_width
from stylecast.realtime.live.capture import parse_size
from stylecast.realtime.runtimes.preprocess import preprocess
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.styles.mixes import StyleSpec


@dataclass(frozen=True)
class Timing:
    backend: str
    precision: str
    size: str
    median_ms: float
    p90_ms: float
    fps: float
    speedup: float | None = None  # against the PyTorch eager fp32 baseline of the same run
    psnr_db: float | None = None  # output against onnxruntime fp32 on a real image
    baseline: bool = False  # the PyTorch reference others are compared with, not a backend asked for

    def row(self) -> str:
        speed = f"{self.speedup:.1f}x" if self.speedup else "-"
        psnr = "-" if self.psnr_db is None else ("inf" if self.psnr_db == float("inf") else f"{self.psnr_db:.1f}")
        return (f"{self.backend:<20}{self.precision:<10}{self.size:<11}{self.median_ms:>9.1f}{self.p90_ms:>9.1f}"
                f"{self.fps:>8.1f}{speed:>9}{psnr:>9}")


HEADER = f"{'backend':<20}{'precision':<10}{'size':<11}{'median ms':>9}{'p90 ms':>9}{'fps':>8}{'vs torch':>9}{'PSNR dB':>9}"


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = [parse_size(part.strip()) for part in text.split(",")]
    if None in sizes:
        raise StylecastError(f"bad size list {text!r}: an empty entry; write e.g. 640x480,1280x720")
    return sizes


def time_calls(fn: Callable[[], object], runs: int, warmup: int) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.9 * len(samples)))]


def _frame(w: int, h: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


def torch_baseline(width: int, size: tuple[int, int], runs: int, warmup: int, design: str = "johnson",
                   device: str = "cpu", bottleneck: int = 0) -> tuple[float, float] | None:
    """The reference way: the same architecture in PyTorch eager fp32 (weights do not change speed).

    On ``cuda`` the frame goes to the GPU and back in every call, as pytorch/examples stylizes."""
    try:
        import torch

        from stylecast.models.transformer import TransformerNet
    except ImportError:
        return None
    if device == "cuda" and not torch.cuda.is_available():
        return None
    net = TransformerNet(width=width, design=design, bottleneck=bottleneck).eval().to(device)
    w, h = size
    x = torch.from_numpy(preprocess(_frame(w, h)))
    with torch.inference_mode():
        return time_calls(lambda: net(x.to(device)).cpu(), runs, warmup)


# `stylecast bench` with no --backends: torch among them only where it runs on a CUDA GPU
EVERY_BACKEND = ("cuda", "torch", "openvino", "openvino:bf16", "cpu")


def _label(backend: Backend) -> str:
    """A backend's name in the table; PyTorch says its device, as it runs on either, and if Inductor compiled it."""
    device = getattr(backend, "device", None)
    if backend.name != "torch" or device is None:
        return backend.name
    return f"torch-{device.type}" + ("-inductor" if getattr(backend, "compiled", False) else "")


def _baseline_device(label: str) -> str:
    """Where the PyTorch baseline for a backend runs: on the GPU for the GPU backends, else the CPU."""
    return "cuda" if label == "cuda" or label.startswith("torch-cuda") else "cpu"


def _open_for_bench(model: Path, name: str, every: bool = False) -> Backend:
    """A backend by name as `--backend` takes it, ``openvino:PRECISION`` to time one precision, or
    ``torch:compile`` for PyTorch through TorchInductor.

    With ``every`` (no --backends given) torch is only opened on a GPU: on the CPU it is the baseline again.
    """
    if ":" not in name:
        return open_backend(model, (name,), named=not every).backend
    runtime, precision = name.split(":", 1)
    if runtime not in ("openvino", "torch") or (runtime == "torch" and precision != "compile"):
        raise StylecastError(f"only openvino takes a precision (openvino:int8, openvino:bf16, openvino:f32), "
                             f"and torch takes torch:compile, not {name!r}")
    if not Path(model).is_file():
        raise StylecastError(f"style model not found: {model}")
    if runtime == "torch":
        return open_torch(Path(model), named=True, compiled=True).backend
    try:
        return OpenVinoBackend(model, precision)
    except ImportError as e:
        raise StylecastError("OpenVINO backend unavailable: pip install 'stylecast[openvino]'") from e


def too_big(size: tuple[int, int], width: int, available: int | None, runtime: str = "") -> str | None:
    """Why a frame of ``size`` is not timed (the kernel would kill the whole run, not just fail one
    allocation), or None where it fits in ``available`` bytes."""
    need = frame_memory(size[0] * size[1], width, runtime)
    if available is None or need <= available:
        return None
    return (f"skipping {size[0]}x{size[1]}: the network needs about {need / 1e9:.0f} GB for a frame that size, "
            f"{available / 1e9:.0f} GB is free")


def _unless_out_of_memory(measure: Callable[[], tuple[float, float] | None], label: str,
                          size: tuple[int, int]) -> tuple[float, float] | None:
    """``measure()``, or None with a line on stderr where the runtime fails to allocate for a frame of
    ``size`` (beyond what ``too_big`` foresaw): the other sizes and backends still run."""
    try:
        return measure()
    except (RuntimeError, MemoryError) as e:  # what onnxruntime, OpenVINO and PyTorch raise when allocation fails
        reason = next((line.strip() for line in str(e).splitlines() if "alloc" in line.lower() or "memory" in line.lower()),
                      "out of memory" if isinstance(e, MemoryError) else None)
        if reason is None:
            raise
        print(f"skipping {label} at {size[0]}x{size[1]}: {reason[:160]}", file=sys.stderr)
        return None


def bench_backends(model: Path, backends: Sequence[str], sizes: Sequence[tuple[int, int]], runs: int = 20,
                   warmup: int = 3, baseline: bool = True, progress: bool = False) -> list[Timing]:
    results: list[Timing] = []
    width, design, bottleneck = FULL_WIDTH, "johnson", 0
    devices: set[str] = set()  # where baselines run: a GPU backend is compared with PyTorch on that GPU
    photo = style_picture(model)
    reference = None
    if photo is not None:
        from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend

        reference = Stylizer(OnnxRuntimeBackend(model))(photo)
    seen: set[tuple[str, str]] = set()
    available, said = available_memory(), set()
    from tqdm import tqdm

    def fits(size: tuple[int, int], runtime: str = "") -> bool:
        reason = too_big(size, width, available, runtime)
        if reason and (runtime, size) not in said:
            tqdm.write(f"{runtime or 'pytorch'}: {reason}", file=sys.stderr)
            said.add((runtime, size))
        return reason is None

    for name in tqdm(backends, unit="backend", desc="timing backends", disable=not progress, leave=False, dynamic_ncols=True):
        try:
            backend = _open_for_bench(model, name, every=tuple(backends) == EVERY_BACKEND)
        except StylecastError as e:
            print(f"skipping {name}: {e}", file=sys.stderr)
            continue
        precision, label = getattr(backend, "precision", "fp32"), _label(backend)
        if (label, precision) in seen:
            continue  # e.g. openvino:bf16 where plain openvino already chose bf16
        seen.add((label, precision))
        devices.add(_baseline_device(label))
        if backend.card:
            width, design, bottleneck = backend.card.width, backend.card.design, backend.card.bottleneck
        stylize = Stylizer(backend)
        quality = None if reference is None else round(psnr(stylize(photo), reference), 2)
        for w, h in (size for size in sizes if fits(size, backend.name)):
            frame = _frame(w, h)  # frame in, frame out: host conversions count (on a GPU they are in the graph)
            timed = _unless_out_of_memory(lambda: time_calls(lambda: stylize(frame), runs, warmup), label, (w, h))
            if timed:
                med, p90 = timed
                results.append(Timing(label, precision, f"{w}x{h}", med, p90, 1000 / med, psnr_db=quality))
    base: dict[tuple[str, str], float] = {}  # (device, size): the baseline's median ms
    if baseline:
        for device in sorted(devices or {"cpu"}):
            for t in _baselines(device, list(filter(fits, sizes)), (width, design, bottleneck), runs):
                base[(device, t.size)] = t.median_ms
                results.append(t)

    def speedup(t: Timing) -> float | None:
        key = (_baseline_device(t.backend), t.size)
        return t.speedup if t.speedup is not None or key not in base else base[key] / t.median_ms

    return [Timing(**{**asdict(t), "speedup": speedup(t)}) for t in results]


def _baselines(device: str, sizes: Sequence[tuple[int, int]], network: tuple[int, str, int], runs: int) -> list[Timing]:
    """PyTorch eager fp32 on ``device``, the same design (``network``: width, design, bottleneck) the
    backends ran: what their speedups are against."""
    width, design, bottleneck = network
    label = "pytorch-eager" if device == "cpu" else f"pytorch-{device}"
    timings = []
    for w, h in sizes:
        timed = _unless_out_of_memory(lambda: torch_baseline(width, (w, h), max(3, runs // 4), 1, design, device,
                                                             bottleneck), label, (w, h))
        if timed:
            timings.append(Timing(label, "fp32", f"{w}x{h}", timed[0], timed[1], 1000 / timed[0], 1.0, baseline=True))
    return timings


@dataclass(frozen=True)
class StyleSpeed:
    """One style's frame-to-frame time with the backend ``stylecast live`` would pick for it."""

    style: str
    network: str
    backend: str
    size: str
    median_ms: float
    p90_ms: float
    fps: float
    keeps_up: bool  # its frames take less than one period of the camera rate asked about

    def row(self) -> str:
        return (f"{self.style:<26}{self.network:<31}{self.backend:<16}{self.median_ms:>9.1f}{self.p90_ms:>9.1f}"
                f"{self.fps:>8.1f}  {'yes' if self.keeps_up else 'no'}")


def style_header(camera_fps: float) -> str:
    return f"{'style':<26}{'network':<31}{'backend':<16}{'median ms':>9}{'p90 ms':>9}{'fps':>8}  {camera_fps:g} fps?"


def bench_styles(specs: Sequence[StyleSpec], size: tuple[int, int], prefer: tuple[str, ...], runs: int = 20,
                 warmup: int = 3, camera_fps: float = 30.0, progress: bool = True) -> list[StyleSpeed]:
    """Each style (or mix) timed as live runs it (auto's backend, the int8 copy where it passes), fastest
    first: which styles this machine can paint at the camera's rate."""
    from tqdm import tqdm

    w, h = size
    if w < 1 or h < 1 or camera_fps <= 0:
        raise StylecastError(f"need a frame size and a camera rate above 0, not {w}x{h} at {camera_fps:g} fps")
    frame = _frame(w, h)
    speeds = []
    available = available_memory()
    for spec in tqdm(specs, unit="style", desc="timing styles", disable=not progress, leave=False, dynamic_ncols=True):
        backend = open_backend(spec.model, prefer).backend
        if reason := too_big(size, network_width(backend), available, backend.name):
            tqdm.write(f"{spec.label}: {reason}", file=sys.stderr)
            continue
        stylize = Stylizer(backend, spec.mix)
        med, p90 = time_calls(lambda: stylize(frame), runs, warmup)
        speeds.append(StyleSpeed(spec.label, backend.card.network if backend.card else "-",
                                 f"{_label(backend)} {getattr(backend, 'precision', 'fp32')}", f"{w}x{h}", med, p90,
                                 1000 / med, med <= 1000 / camera_fps))
    return sorted(speeds, key=lambda s: s.median_ms)


def moving_pair(w: int, h: int, photo: np.ndarray | None, shift: tuple[int, int] = (3, 2)) -> tuple[np.ndarray, np.ndarray]:
    """Two frames of a small camera pan over a real picture (noise would make flow look slower than it is)."""
    import cv2

    dx, dy = shift
    base = _frame(w + dx, h + dy) if photo is None else cv2.resize(photo, (w + dx, h + dy), interpolation=cv2.INTER_LINEAR)
    return base[:h, :w].copy(), base[dy:, dx:].copy()


def bench_smoothing(sizes: Sequence[tuple[int, int]], modes: Sequence[str] = ("ema", "flow"), runs: int = 20,
                    photo: np.ndarray | None = None) -> list[Timing]:
    """Per-frame cost of each ``--smooth`` mode, added on top of inference in the live and video loops."""
    from itertools import cycle

    from stylecast.realtime.temporal.smoothing import make_smoother

    results = []
    for mode in modes:
        for w, h in sizes:
            frames = cycle(moving_pair(w, h, photo))
            smoother = make_smoother(mode)

            def step() -> None:
                frame = next(frames)
                smoother(frame, frame)

            step()  # the first frame only primes the history
            med, p90 = time_calls(step, runs, 2)
            results.append(Timing(f"smooth-{mode}", "uint8", f"{w}x{h}", med, p90, 1000 / med))
    return results


def bench_person(sizes: Sequence[tuple[int, int]], runs: int = 20, photo: np.ndarray | None = None) -> list[Timing]:
    """Per-frame cost of ``--paint background``: the segmentation network alone (the frame shrunk
    to its input and run), then the whole mask path (segment, smooth over time, guided upsampling
    to the frame's size, blend)."""
    import cv2

    from stylecast.realtime.effects import paint_where
    from stylecast.segment.matte import PersonMatte
    from stylecast.segment.segmenter import PersonSegmenter

    segmenter = PersonSegmenter()
    results = []
    for w, h in sizes:
        frame = _frame(w, h) if photo is None else cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
        painted = frame[:, ::-1].copy()
        matte = PersonMatte(segmenter)
        med, p90 = time_calls(lambda: segmenter(frame), runs, 3)
        results.append(Timing("segment-person", "f32", f"{w}x{h}", med, p90, 1000 / med))
        med, p90 = time_calls(lambda: paint_where(frame, painted, matte(frame), "background"), runs, 3)
        results.append(Timing("paint-background", "f32", f"{w}x{h}", med, p90, 1000 / med))
    return results


def bench_video(video: Path, spec: StyleSpec, backend: str = "auto", max_side: int | None = None,
                streams: int | None = None, stroke_scale: float = 1.0) -> dict[str, float]:
    """End-to-end decode -> stylize -> encode on a real file, with the time of each stage."""
    from stylecast.realtime.config import RunConfig
    from stylecast.realtime.hd.painter import WorkingSizePainter
    from stylecast.realtime.hd.working_size import stroke_long_side
    from stylecast.realtime.video import VideoConfig, frames_in_flight, stylize_video

    run = RunConfig(style=str(spec.model), backend=backend, max_side=max_side)
    choice = open_backend(spec.model, run.prefer)
    workers = frames_in_flight(choice.backend, streams)
    with tempfile.TemporaryDirectory() as tmp:
        paint = WorkingSizePainter(Stylizer(choice.backend, spec.mix), stroke_long_side(stroke_scale))
        result = stylize_video(Path(video), Path(tmp) / "bench.mp4", paint, choice.network_width,
                               VideoConfig(run=run, streams=streams), workers=workers)
    t = result.times
    return {"backend": choice.backend.name, "streams": workers, "frames": t.frames, "wall_s": round(t.wall, 2), "fps": round(t.fps, 2),
            "decode_s": round(t.decode, 2), "infer_s": round(t.infer, 2), "encode_s": round(t.encode, 2),
            "infer_ms_per_frame": round(1000 * t.infer / max(1, t.frames), 2)}


def bench_live(source: str, model: Path | str, backend: str = "auto", seconds: float = 20.0, size: tuple[int, int] | None = (640, 480),
               fps: float | None = 30.0, smooth: str = "flow", streams: int = 1, stroke_scale: float = 1.0,
               work_size: int | None = None, governor: bool = True, paint: str = "all") -> dict[str, float]:
    """The live loop with no sink, from a looping file paced like a camera at ``fps``: what a viewer gets."""
    from stylecast.realtime.live.config import LiveConfig
    from stylecast.realtime.live.loop import run_live

    config = LiveConfig(source=source, styles=(str(model),), sinks=(), size=size, backend=backend, smooth=smooth,
                        loop=True, duration=seconds, source_fps=fps, streams=streams, stroke_scale=stroke_scale,
                        work_size=work_size, governor=governor, paint=paint)
    stats = run_live(config)
    latencies = list(stats.latencies)
    warm = sorted(latencies[len(latencies) // 10:]) or [0.0]  # the first tenth includes warm-up
    return {"frames": stats.frames, "fps": round(stats.frames / seconds, 2), "source_fps": fps or 0.0,
            "latency_median_ms": round(statistics.median(warm), 1), "latency_p90_ms": round(warm[int(0.9 * (len(warm) - 1))], 1),
            "dropped": stats.dropped, "backend": backend, "smooth": smooth, "streams": streams, "paint": paint,
            "painting": stats.painting, "governor_changes": stats.governor_changes}
