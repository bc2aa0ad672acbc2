"""Where the GPU time of one style network goes: onnxruntime CUDA variants and PyTorch on the same GPU.

    python benchmarks/gpu_speed.py MODEL.onnx [--sizes 1920x1080,3840x2160] [--runs 30]

Rows (ms per frame, median and p90, over the same random frame):
  ort fp32 host        fp32 graph, frame bound from host memory (H2D + D2H each call)
  ort fp16 host        fp16 compute graph, float32 I/O bound from host memory
  ort fp16 host nhwc   the same with the CUDA provider's NHWC layout preference
  ort fp16 device      frame already on the GPU, output left there: the network alone
  ort fp16 graph       device binding replayed as a CUDA graph (no launch gaps)
  ort fp16 frames host the frame graph: uint8 HxWx3 BGR in and out from host memory, conversions on the GPU
  ort fp16 frames graph  the same bound on the device and replayed as a CUDA graph: its ceiling
  stylecast host conv  a decoded frame to a painted frame with numpy conversions on the host (as before)
  stylecast frames     a decoded frame to a painted frame as `stylecast` runs it now (frame graph)
  torch fp32 / fp16    PyTorch eager on the same GPU (fp16: channels_last + autocast), frame on the GPU
  torch fp16 graph     the fp16 forward captured once as a CUDA graph and replayed
  stylecast torch      a decoded frame to a painted frame through `--backend torch` (the file's own
                       network in its export form, fp16, uint8 frames, a CUDA graph per size)
  stylecast inductor   the same frame path compiled by TorchInductor first (bench's torch:compile)
Needs onnxruntime-gpu and a CUDA GPU; each row that cannot run says why and the rest go on.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from stylecast.realtime.bench import parse_sizes, time_calls
from stylecast.realtime.runtimes.gpu_model import fp16_compute_model, gpu_frame_model
from stylecast.realtime.runtimes.torch_backend import short_reason


def timed(fn: Callable[[], object], runs: int, sync: Callable[[], None] = lambda: None) -> tuple[float, float]:
    """``time_calls`` with the device synchronized inside each timed call, so GPU work is counted."""
    return time_calls(lambda: (fn(), sync()), runs, warmup=3)


def ort_rows(model: Path, size: tuple[int, int], runs: int) -> list[tuple[str, float, float]]:
    import onnxruntime as ort

    w, h = size
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (1, 3, h, w)).astype(np.float32)
    frame = rng.integers(0, 256, (1, h, w, 3), dtype=np.uint8)
    half, frames = fp16_compute_model(model), gpu_frame_model(model)
    rows = []

    def session(graph: bytes | str, **cuda_options) -> "ort.InferenceSession":
        options = ort.SessionOptions()
        options.log_severity_level = 3
        return ort.InferenceSession(graph, options, providers=[("CUDAExecutionProvider", cuda_options), "CPUExecutionProvider"])

    def host_bound(s: "ort.InferenceSession", given: np.ndarray = x) -> Callable[[], object]:
        name_in, name_out = s.get_inputs()[0].name, s.get_outputs()[0].name
        out = np.empty_like(given)
        def run() -> None:
            b = s.io_binding()
            b.bind_cpu_input(name_in, given)
            b.bind_output(name_out, "cpu", 0, given.dtype, list(out.shape), out.ctypes.data)
            s.run_with_iobinding(b)
        return run

    def device_bound(s: "ort.InferenceSession", given: np.ndarray = x) -> Callable[[], object]:
        name_in, name_out = s.get_inputs()[0].name, s.get_outputs()[0].name
        xin = ort.OrtValue.ortvalue_from_numpy(given, "cuda", 0)
        yout = ort.OrtValue.ortvalue_from_shape_and_type(list(given.shape), given.dtype, "cuda", 0)
        b = s.io_binding()
        b.bind_ortvalue_input(name_in, xin)
        b.bind_ortvalue_output(name_out, yout)
        return lambda: s.run_with_iobinding(b)

    def stylecast_path(takes_frames: bool) -> Callable[[], object]:
        """What `stylecast` runs per frame, host conversions included: a decoded frame in, a painted frame out."""
        from stylecast.realtime.runtimes.cuda import gpu_providers
        from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
        from stylecast.realtime.runtimes.stylizer import Stylizer

        providers = tuple(gpu_providers(ort.get_available_providers(), Path.home() / ".cache" / "stylecast"))
        backend = OnnxRuntimeBackend(model, providers, model=frames if takes_frames else half, io_binding=True,
                                     precision="fp16", takes_frames=takes_frames)
        stylize, image = Stylizer(backend), frame[0]
        return lambda: stylize(image)

    variants = [
        ("ort fp32 host", lambda: host_bound(session(str(model)))),
        ("ort fp16 host", lambda: host_bound(session(half))),
        ("ort fp16 host nhwc", lambda: host_bound(session(half, prefer_nhwc="1"))),
        ("ort fp16 device", lambda: device_bound(session(half))),
        ("ort fp16 graph", lambda: device_bound(session(half, enable_cuda_graph="1"))),
        ("ort fp16 frames host", lambda: host_bound(session(frames), frame)),
        ("ort fp16 frames graph", lambda: device_bound(session(frames, enable_cuda_graph="1"), frame)),
        ("stylecast host conv", lambda: stylecast_path(takes_frames=False)),
        ("stylecast frames", lambda: stylecast_path(takes_frames=True)),
    ]
    for label, make in variants:
        try:
            rows.append((label, *timed(make(), runs)))
        except Exception as e:  # one variant failing (e.g. CUDA graphs) must not hide the others
            print(f"{label}: {short_reason(e)}")
    return rows


def torch_rows(width: int, design: str, size: tuple[int, int], runs: int, bottleneck: int = 0) -> list[tuple[str, float, float]]:
    import torch

    from stylecast.models.transformer import TransformerNet

    w, h = size
    net = TransformerNet(width=width, design=design, bottleneck=bottleneck).eval().cuda()
    x = torch.rand(1, 3, h, w, device="cuda") * 255
    rows = []
    with torch.inference_mode():
        rows.append(("torch fp32 device", *timed(lambda: net(x), runs, torch.cuda.synchronize)))
        net_cl, x_cl = net.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.float16):
            rows.append(("torch fp16 device", *timed(lambda: net_cl(x_cl), runs, torch.cuda.synchronize)))
        try:
            rows.append(("torch fp16 graph", *timed(cuda_graph(net_cl, x_cl), runs, torch.cuda.synchronize)))
        except Exception as e:  # capture can fail on some torch builds; the other rows stand
            print(f"torch fp16 graph: {short_reason(e)}")
    return rows


def stylecast_torch_rows(model: Path, size: tuple[int, int], runs: int) -> list[tuple[str, float, float]]:
    import torch

    from stylecast.realtime.runtimes.stylizer import Stylizer
    from stylecast.realtime.runtimes.torch_backend import TorchBackend

    w, h = size
    image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    rows = []
    for label, compiled in (("stylecast torch", False), ("stylecast inductor", True)):
        backend = TorchBackend(model, "cuda", "fp16", compiled=compiled)
        stylize = Stylizer(backend)
        rows.append((label, *timed(lambda: stylize(image), runs, torch.cuda.synchronize)))
        for problem in (backend.graph_error and f"no CUDA graph ({backend.graph_error})",
                        backend.compile_error and f"not compiled ({backend.compile_error})"):
            if problem:
                print(f"{label}: {problem}")
    return rows


def cuda_graph(net, x) -> Callable[[], object]:
    """The fp16 forward captured once as a CUDA graph, so a replay has no per-kernel launch cost."""
    import torch

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    # autocast's weight cache would hold tensors made outside the capture
    with torch.cuda.stream(side), torch.autocast("cuda", dtype=torch.float16, cache_enabled=False):
        for _ in range(3):  # warm-up off the capture stream, as capture requires
            net(x)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.autocast("cuda", dtype=torch.float16, cache_enabled=False):
        net(x)
    return graph.replay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--sizes", default="1920x1080,3840x2160")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    from stylecast.realtime.runtimes.cuda import load_cuda_libraries
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend

    load_cuda_libraries()
    card = OnnxRuntimeBackend(args.model).card
    width, design, bottleneck = (card.width, card.design, card.bottleneck) if card else (32, "johnson", 0)
    print(f"{'variant':<22}{'size':<11}{'median ms':>10}{'p90 ms':>9}{'fps':>8}")
    for size in parse_sizes(args.sizes):
        rows = ort_rows(args.model, size, args.runs)
        try:
            rows += torch_rows(width, design, size, args.runs, bottleneck)
            rows += stylecast_torch_rows(args.model, size, args.runs)
        except Exception as e:
            print(f"torch: {type(e).__name__}: {e}")
        for label, med, p90 in rows:
            print(f"{label:<22}{size[0]}x{size[1]:<6}{med:>10.2f}{p90:>9.2f}{1000 / med:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
