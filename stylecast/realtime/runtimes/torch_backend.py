"""PyTorch as a runtime: a style's ONNX file turned back into its network and run on a CUDA GPU.

Why a second GPU runtime: many GPU users have PyTorch with CUDA but onnxruntime's CPU build (the
two onnxruntime wheels overwrite each other), and the early H100 run put onnxruntime's CUDA
provider at 16 ms a frame at 1080p for the full-width net, short of 200 fps. PyTorch reaches the
same GPU with cuDNN's autotuned convolutions, fp16 on channels_last tensors (the layout tensor
cores read) and a CUDA graph per frame size, so a frame costs one replay and no launch gaps.
``benchmarks/gpu_check.sh`` times both side by side.

``compiled`` puts the frame path through TorchInductor first. Eager ``instance_norm`` hands back
NCHW whatever layout it is given, so every normalization of a channels_last net copies the tensor
out of that layout and the next convolution copies it back; Inductor computes the statistics in
place and fuses normalization, ReLU, residual adds and the frame conversions into a few kernels.
On this CPU it halved a width-8 net's time (12.8 to 6.1 ms at 320x240). The price is a compile
per frame size (seconds to a minute), so it is opt-in until it has been timed on a GPU.

The network is the one in the file: ``load_onnx_style`` recovers it exactly from the weights, in the
same faster form export wrote. Frames cross the bus as uint8 (as with onnxruntime's frame graph)
and the conversions run on the device, with the same clamp and round half to even as ``postprocess``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from stylecast.errors import StylecastError

PRECISIONS = ("fp32", "fp16", "bf16")


class TorchBackend:
    """A style model on ``device`` ("cuda" or "cpu") in ``precision``; on CUDA with a CUDA graph per frame size."""

    name = "torch"
    takes_frames = True
    feeds: dict = {}  # single-style networks only (load_onnx_style refuses a multi-style one)

    def __init__(self, model_path: Path, device: str = "cuda", precision: str = "fp16", cuda_graphs: bool = True,
                 compiled: bool = False) -> None:
        import torch

        from stylecast.export.onnx import load_onnx_style
        from stylecast.models.inference import inference_form

        if precision not in PRECISIONS:
            raise StylecastError(f"unknown torch precision {precision!r}: use {', '.join(PRECISIONS)}")
        if device == "cuda" and not torch.cuda.is_available():
            raise StylecastError("torch sees no CUDA GPU")
        net, self.card, self.contract = load_onnx_style(Path(model_path))
        self.device = torch.device(device)
        self.precision = precision
        self.providers = (f"{device} {precision}" + (" cuda-graphs" if device == "cuda" and cuda_graphs else "")
                          + (" inductor" if compiled else ""),)
        if device == "cuda":
            torch.backends.cudnn.benchmark = True  # frame sizes repeat: each gets its fastest convolution once
        self.net = inference_form(net).to(self.device, memory_format=torch.channels_last).eval()
        self.cuda_graphs = cuda_graphs and device == "cuda"
        self._graphs: dict[tuple[int, ...], tuple[object, object, object]] = {}
        self.graph_error: str | None = None  # why a capture failed, if one did (frames then run eagerly)
        self.compiled = compiled
        self.compile_error: str | None = None  # why Inductor failed, if it did (frames then run eagerly)
        # dynamic=False: each frame size gets kernels specialised to it, as each gets its own CUDA graph
        self._compiled_paint = torch.compile(self._paint, dynamic=False) if compiled else None
        low, high = self.contract.value_range
        self._rescale = None if (low, high) == (0.0, 255.0) else (low, 255.0 / (high - low))

    def _autocast(self):
        import contextlib

        import torch

        if self.precision == "fp32":
            return contextlib.nullcontext()
        # cache_enabled=False: weight casts cached outside a CUDA graph capture are not valid inside it
        return torch.autocast(self.device.type, dtype=getattr(torch, {"fp16": "float16", "bf16": "bfloat16"}[self.precision]),
                              cache_enabled=False)

    def _forward(self, x):
        """NCHW float on 0-255 RGB (the contract's input) -> the network's NCHW float32 output."""
        import torch

        with self._autocast():
            return self.net(x.contiguous(memory_format=torch.channels_last)).float()

    def _paint(self, frame):
        """(H, W, 3) uint8 BGR on the device -> (H, W, 3) uint8 BGR on the device."""
        import torch

        rgb = self.contract.channels == "RGB"
        x = frame.permute(2, 0, 1)[None]
        x = (x.flip(1) if rgb else x).float()
        y = self._forward(x)
        if self._rescale is not None:
            low, scale = self._rescale
            y = (y - low) * scale
        y = y.clamp(0, 255).round().to(torch.uint8)[0]
        return (y.flip(0) if rgb else y).permute(1, 2, 0).contiguous()

    def _painted(self, frame):
        """``_paint`` through Inductor when compiled; if compiling fails, say why once and paint eagerly."""
        if self._compiled_paint is not None:
            try:
                return self._compiled_paint(frame)
            except Exception as e:  # no C++ compiler or Triton, an unsupported op: eager frames are still right
                self.compile_error = short_reason(e)
                self._compiled_paint = None
        return self._paint(frame)

    def run(self, batch: np.ndarray, feeds: dict | None = None) -> np.ndarray:
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch, np.float32)).to(self.device)
            return self._forward(x).clamp(*self.contract.value_range).cpu().numpy()

    def run_frame(self, frame: np.ndarray, feeds: dict | None = None) -> np.ndarray:
        import torch

        host = torch.from_numpy(np.ascontiguousarray(frame))
        graph = (self._graphs.get(frame.shape) or self._capture(frame.shape)) if self.cuda_graphs else None
        if graph is None:
            with torch.inference_mode():
                return self._painted(host.to(self.device)).cpu().numpy()
        replay, frame_in, painted = graph
        frame_in.copy_(host)
        replay()
        return painted.cpu().numpy()  # a new host array each call: sinks and smoothing keep earlier frames

    def _capture(self, shape: tuple[int, ...]):
        """The whole frame path recorded once as a CUDA graph for this size; None (eager from then on) if it fails."""
        import torch

        if self.graph_error is not None:
            return None
        try:
            frame_in = torch.zeros(shape, dtype=torch.uint8, device=self.device)
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.inference_mode(), torch.cuda.stream(side):
                for _ in range(3):  # warm-up off the capture stream (also lets cuDNN pick and Inductor compile)
                    self._painted(frame_in)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.inference_mode(), torch.cuda.graph(graph):
                painted = self._painted(frame_in)
        except Exception as e:  # some builds or drivers cannot capture: eager frames are still right
            self.graph_error = short_reason(e)
            return None
        self._graphs[shape] = entry = (graph.replay, frame_in, painted)
        return entry

    def parallel_runs(self) -> int:
        return 1  # one set of graph buffers per size: frames take turns


def short_reason(error: Exception) -> str:
    """An exception as one short line for a backend's reason."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0][:160]}" if text else type(error).__name__
