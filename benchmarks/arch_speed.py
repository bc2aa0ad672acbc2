"""Which network design is fast enough for CPU real time? Times random-weight variants
(speed does not depend on the weights) through every installed backend at one frame size.

    python benchmarks/arch_speed.py --size 640x480 --runs 20
    python benchmarks/arch_speed.py --designs 32:5:9,32:5:9:b64 --int8-data data/gcompris/photos
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from stylecast.contract import DEFAULT_CONTRACT, int8_path
from stylecast.export.onnx import write_onnx
from stylecast.models.transformer import ConvLayer, ConvNormReLU, TransformerNet
from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
from stylecast.realtime.runtimes.openvino_backend import OpenVinoBackend
from stylecast.realtime.bench import parse_sizes, time_calls
from stylecast.realtime.runtimes.preprocess import preprocess


def variant(width: int, blocks: int, edge: str, bottleneck: int = 0) -> TransformerNet:
    """``edge``: 9 (Johnson), another kernel size for the full-resolution ends, or "shuffle"."""
    if edge == "shuffle":
        return TransformerNet(width=width, residual_blocks=blocks, design="shuffle", bottleneck=bottleneck).eval()
    net = TransformerNet(width=width, residual_blocks=blocks, bottleneck=bottleneck)
    edge_kernel = int(edge)
    if edge_kernel != 9:
        net.encoder[0] = ConvNormReLU(3, width, edge_kernel)
        net.decoder[-1] = ConvLayer(width, 3, edge_kernel)
    return net.eval()


def gmacs(net: TransformerNet, w: int, h: int) -> float:
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        k = module.kernel_size[0] * module.kernel_size[1]
        total += output.numel() * k * module.in_channels

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.inference_mode():
        net(torch.zeros(1, 3, h, w))
    for handle in handles:
        handle.remove()
    return total / 1e9


def profile(design: str, w: int, h: int, runs: int) -> None:
    """Where OpenVINO bf16 spends the time per layer, for a random-weight design."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.onnx"
        write_onnx(variant(*_parse_design(design)), path, DEFAULT_CONTRACT)
        profile_model(path, w, h, runs, "bf16", label=design)


def _parse_design(design: str) -> tuple[int, int, str, int]:
    """WIDTH:BLOCKS:EDGE[:bC], C the residual blocks' bottleneck channels."""
    width, blocks, edge, *rest = design.split(":")
    return int(width), int(blocks), edge, int(rest[0].removeprefix("b")) if rest else 0


def _int8_copy(path: Path, data: Path) -> None:
    """NAME.int8.onnx beside ``path``, calibrated as `stylecast quantize` does (no quality gate: random weights)."""
    import logging

    import nncf
    import onnx

    from stylecast.export.quantize import calibration_frames

    logging.getLogger("nncf").setLevel(logging.ERROR)
    samples = [{DEFAULT_CONTRACT.input_name: preprocess(f)} for f in calibration_frames(data, 12)]
    quantized = nncf.quantize(onnx.load(str(path)), nncf.Dataset(samples), preset=nncf.QuantizationPreset.PERFORMANCE,
                              subset_size=len(samples))
    onnx.save(quantized, str(int8_path(path)))


def profile_model(path: Path, w: int, h: int, runs: int, precision: str, label: str = "") -> None:
    """Per-layer OpenVINO counters (like benchmark_app -pc) for a model file; ``int8`` runs its int8 copy."""
    import collections

    backend = OpenVinoBackend(path, precision)  # resolves NAME.int8.onnx and the float hint as stylecast does
    model = backend.model.clone()
    model.reshape({backend.contract.input_name: [1, 3, h, w]})
    compiled = backend.core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": backend.hint, "PERF_COUNT": True})
    request = compiled.create_infer_request()
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, h, w)).astype(np.float32)
    for _ in range(runs):
        request.infer({backend.contract.input_name: x})
    layers = [(p.real_time.total_seconds() * 1e3, p.node_type, p.node_name, p.exec_type) for p in request.get_profiling_info()]
    total = sum(ms for ms, *_ in layers)
    by_type = collections.Counter()
    for ms, kind, _, _ in layers:
        by_type[kind] += ms
    print(f"{label or Path(path).name} {precision} at {w}x{h}: {total:.1f} ms summed over layers (last run)")
    for kind, ms in by_type.most_common(6):
        print(f"  {100 * ms / total:5.1f}%  {kind}")
    for ms, kind, name, exec_type in sorted(layers, reverse=True)[:8]:
        print(f"  {100 * ms / total:5.1f}%  {kind:<14} {exec_type:<24} {name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--designs", default="32:5:9,32:5:shuffle,16:5:9,16:5:5,16:3:9,16:5:shuffle,8:5:9,8:5:5,8:3:9,8:5:shuffle",
                    help="WIDTH:RESIDUAL_BLOCKS:EDGE[:bC] list; EDGE is the end kernel size or 'shuffle', "
                         "bC squeezes the residual blocks to C channels")
    ap.add_argument("--profile", metavar="DESIGN", help="per-layer OpenVINO bf16 profile of one design instead")
    ap.add_argument("--profile-model", metavar="MODEL", help="per-layer OpenVINO profile of a style (name or .onnx) instead")
    ap.add_argument("--precision", default="bf16", choices=("f32", "bf16", "int8"), help="for --profile-model")
    ap.add_argument("--int8-data", type=Path, metavar="PHOTOS", help="also time OpenVINO int8, calibrated on these photos (needs [int8])")
    args = ap.parse_args()
    (w, h), = parse_sizes(args.size)
    if args.profile_model:
        from stylecast.styles import resolve_style

        profile_model(resolve_style(args.profile_model), w, h, args.runs, args.precision, label=args.profile_model)
        return
    if args.profile:
        profile(args.profile, w, h, args.runs)
        return
    frame = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
    x = preprocess(frame)
    int8 = f"{'ov int8 ms':>12}" if args.int8_data else ""
    print(f"{'design':<16}{'GMAC':>7}{int8}{'ov bf16 ms':>12}{'ov f32 ms':>12}{'ort ms':>12}{'torch ms':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for design in args.designs.split(","):
            net = variant(*_parse_design(design))
            path = Path(tmp) / f"{design.replace(':', '_')}.onnx"
            write_onnx(net, path, DEFAULT_CONTRACT)
            row = [f"{design:<16}", f"{gmacs(net, w, h):>7.2f}"]
            makers = [lambda: OpenVinoBackend(path, "bf16"), lambda: OpenVinoBackend(path, "f32"), lambda: OnnxRuntimeBackend(path)]
            if args.int8_data:
                _int8_copy(path, args.int8_data)
                makers.insert(0, lambda: OpenVinoBackend(path, "int8"))
            for make in makers:
                backend = make()
                row.append(f"{time_calls(lambda: backend.run(x), args.runs, 3)[0]:>12.1f}")
            with torch.inference_mode():
                t = torch.from_numpy(x)
                row.append(f"{time_calls(lambda: net(t), max(3, args.runs // 4), 1)[0]:>10.1f}")
            print("".join(row), flush=True)


if __name__ == "__main__":
    main()
