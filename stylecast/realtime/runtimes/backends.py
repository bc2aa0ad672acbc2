"""Which runtime executes a style model: onnxruntime (CUDA or CPU), PyTorch (CUDA) or OpenVINO, behind one Protocol."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from importlib import metadata, util
from pathlib import Path
from typing import Protocol

import numpy as np

from stylecast.contract import (METADATA_CARD_KEY, METADATA_CONTRACT_KEY, ModelContract, StyleCard, TensorSpec, int8_path,
                                parse_metadata, signature_problem)
from stylecast.errors import StylecastError
from stylecast.realtime.runtimes.frame_graph import FRAME_INPUT, FRAME_OUTPUT
from stylecast.realtime.runtimes.mix import mix_feeds

log = logging.getLogger(__name__)

# auto tries them in this order; "torch" is picked there only where it runs on a CUDA GPU
BACKEND_NAMES = ("cuda", "torch", "openvino", "cpu")
INSTALL_HINT = (
    "install a runtime: pip install 'stylecast[cpu]' (onnxruntime), 'stylecast[gpu]' (onnxruntime-gpu) "
    "or 'stylecast[openvino]'"
)


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


def _model_error(path: Path, error: Exception) -> StylecastError:
    # OpenVINO's messages start with its source location ("Exception from src/inference/src/cpp/core.cpp:84:")
    lines = [ln for ln in str(error).splitlines() if ln.strip() and not ln.startswith(("Exception from", "Check "))]
    reason = (lines[0] if lines else str(error).splitlines()[0] if str(error) else type(error).__name__)[:200]
    return StylecastError(f"cannot load style model {path}: it is corrupt or not an ONNX model ({reason})")


def _check_signature(path: Path, inputs: list[TensorSpec], outputs: list[TensorSpec], contract: ModelContract) -> None:
    problem = signature_problem(inputs, outputs, contract)
    if problem is not None:
        raise StylecastError(f"cannot load style model {path}: it is not a style network: {problem}")


_ORT_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(uint8)": "uint8"}


def _ort_specs(args) -> list[TensorSpec]:
    return [TensorSpec(a.name, tuple(d if isinstance(d, int) else None for d in a.shape) if a.shape is not None else None,
                       _ORT_TYPES.get(a.type, a.type)) for a in args]


def _openvino_specs(ports) -> list[TensorSpec]:
    specs = []
    for port in ports:
        shape = port.get_partial_shape()
        dims = None if shape.rank.is_dynamic else tuple(None if d.is_dynamic else d.get_length() for d in shape)
        specs.append(TensorSpec(port.any_name, dims, port.get_element_type().to_dtype().name))
    return specs


def onnxruntime_installs() -> list[str]:
    """The onnxruntime distributions installed; more than one means they overwrite each other."""
    found = []
    for dist in ("onnxruntime", "onnxruntime-gpu", "onnxruntime-openvino", "onnxruntime-directml"):
        try:
            metadata.version(dist)
            found.append(dist)
        except metadata.PackageNotFoundError:
            pass
    return found


GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


class OnnxRuntimeBackend:
    """onnxruntime with the given providers; ``providers`` is what the session really uses.

    ``model`` may be the serialized bytes of a rewritten graph (fp16 for GPUs); ``model_path``
    still names the file for messages. With ``io_binding`` the output is written straight into a
    host buffer (one device-to-host copy, no staging). With ``takes_frames`` the graph is one from
    ``frame_graph`` (uint8 frames in and out) and ``run_frame`` is the way in.
    """

    def __init__(self, model_path: Path, providers: tuple[str | tuple[str, dict], ...] = ("CPUExecutionProvider",),
                 threads: int = 0, model: bytes | None = None, io_binding: bool = False, precision: str = "fp32",
                 takes_frames: bool = False) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # our own messages say what was chosen
        try:
            self.session = ort.InferenceSession(model if model is not None else str(model_path), options, providers=list(providers))
        except Exception as e:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise _model_error(model_path, e) from e
        self.providers = tuple(self.session.get_providers())
        self.name = "cuda" if any(p in self.providers for p in GPU_PROVIDERS) else "cpu"
        self.precision = precision
        self.contract, self.card = parse_metadata(self.session.get_modelmeta().custom_metadata_map)
        if not takes_frames:  # a frame graph (uint8 in and out) is one we built ourselves
            _check_signature(model_path, _ort_specs(self.session.get_inputs()), _ort_specs(self.session.get_outputs()),
                             self.contract)
        self.io_binding = io_binding
        self.takes_frames = takes_frames
        self._outputs: dict[tuple[int, ...], np.ndarray] = {}
        self.feeds = mix_feeds(self.contract)

    def run(self, batch: np.ndarray, feeds: dict[str, np.ndarray] | None = None) -> np.ndarray:
        feeds = self.feeds if feeds is None else feeds
        if not self.io_binding:
            return self.session.run([self.contract.output_name], {self.contract.input_name: batch, **feeds})[0]
        out = self._outputs.get(batch.shape)
        if out is None:  # the network keeps the input's shape (contract), so the buffer size is known
            out = self._outputs[batch.shape] = np.empty(batch.shape, np.float32)
        binding = self.session.io_binding()
        binding.bind_cpu_input(self.contract.input_name, np.ascontiguousarray(batch, np.float32))
        for name, value in feeds.items():
            binding.bind_cpu_input(name, value)
        binding.bind_output(self.contract.output_name, "cpu", 0, np.float32, list(out.shape), out.ctypes.data)
        self.session.run_with_iobinding(binding)
        return out  # valid until the next call: the Stylizer turns it into a uint8 frame at once

    def run_frame(self, frame: np.ndarray, feeds: dict[str, np.ndarray] | None = None) -> np.ndarray:
        feeds = self.feeds if feeds is None else feeds
        batch = np.ascontiguousarray(frame)[None]
        if not self.io_binding:
            return self.session.run([FRAME_OUTPUT], {FRAME_INPUT: batch, **feeds})[0][0]
        out = np.empty_like(batch)  # a new frame each call: sinks and smoothing keep earlier ones
        binding = self.session.io_binding()
        binding.bind_cpu_input(FRAME_INPUT, batch)
        for name, value in feeds.items():
            binding.bind_cpu_input(name, value)
        binding.bind_output(FRAME_OUTPUT, "cpu", 0, np.uint8, list(out.shape), out.ctypes.data)
        self.session.run_with_iobinding(binding)
        return out[0]

    def parallel_runs(self) -> int:
        return 1  # its threads already share each frame; io_binding reuses one output buffer


# A frame painted on every core beside a decoder on one of them (a 1080p MJPEG webcam): CPU threads
# pinned to the cores wait at every layer for the one the decoder holds, where unpinned ones are
# moved (benchmarks/pinning.py: paintings_rt at 432x244 beside a 1080p MJPEG decoder 14 ms against
# 19-20 pinned, the same alone). The first network compiled in a process sets it for all of them,
# so every compile here asks for it, the segmentation network's too.
UNPINNED = {"ENABLE_CPU_PINNING": False}


class OpenVinoBackend:
    """OpenVINO on the CPU: f32, bf16 where the CPU computes bf16 natively (AVX512-BF16/AMX), or the
    style's int8 copy (``NAME.int8.onnx`` from `stylecast quantize`)."""

    def __init__(self, model_path: Path, precision: str = "auto") -> None:
        import openvino as ov

        self.core = ov.Core()
        self.capabilities = capabilities = self.core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        if precision not in ("auto", "f32", "bf16", "int8"):
            raise StylecastError(f"unknown OpenVINO precision {precision!r}: use auto, f32, bf16 or int8")
        if precision == "auto":
            precision = "bf16" if "BF16" in capabilities else "f32"
        if precision == "int8":
            model_path = int8_path(model_path)
            if not model_path.is_file():
                raise StylecastError(f"no int8 copy of this style ({model_path.name}): make one with stylecast quantize")
            # Layers left in float (instance norm, the residual adds) run at the CPU's best float precision.
            self.hint = "bf16" if "BF16" in capabilities else "f32"
        else:
            self.hint = precision
        try:
            self.model = self.core.read_model(str(model_path))
        except Exception as e:
            raise _model_error(model_path, e) from e
        self.precision = precision
        self.name = "openvino"
        self.takes_frames = False
        self.providers = (f"CPU:{precision}",)
        self.contract, self.card = parse_metadata(self._metadata())
        _check_signature(model_path, _openvino_specs(self.model.inputs), _openvino_specs(self.model.outputs), self.contract)
        # Dynamic shapes run slower in OpenVINO: compile once per frame size and keep it.
        self._compiled: dict[tuple[int, ...], object] = {}
        self.streams = 1
        self._requests = threading.local()  # one infer request per thread and shape when streams > 1
        self._lock = threading.Lock()
        self.feeds = mix_feeds(self.contract)

    def use_streams(self, streams: int) -> None:
        """Run ``streams`` frames at once, each on its own share of the cores (OpenVINO's throughput mode).

        For offline video: with one frame at a time, the cores wait for each other at every layer, and
        a decoder or encoder taking one core for a moment stalls both. Frames take longer each, so live
        loops, which want the newest frame soon, keep the default of 1.
        """
        if streams < 1:
            raise ValueError(f"streams must be at least 1, not {streams}")
        if streams != self.streams:
            self.streams = streams
            self._compiled.clear()
            self._requests = threading.local()

    def parallel_runs(self) -> int:
        return self.streams

    def _metadata(self) -> dict[str, str]:
        values = {}
        for key in (METADATA_CONTRACT_KEY, METADATA_CARD_KEY):
            if self.model.has_rt_info(["framework", key]):
                values[key] = self.model.get_rt_info(["framework", key]).astype(str)
        return values

    def _compile(self, shape: tuple[int, ...]):
        model = self.model.clone()
        model.reshape({self.contract.input_name: list(shape)})
        config = {"INFERENCE_PRECISION_HINT": self.hint, "PERFORMANCE_HINT": "LATENCY", **UNPINNED}
        if self.streams > 1:
            config.update(PERFORMANCE_HINT="THROUGHPUT", NUM_STREAMS=self.streams)
        try:
            return self.core.compile_model(model, "CPU", config)
        except RuntimeError:
            # A CPU that lists BF16 may still lack bf16 kernels for a layer (oneDNN limited to AVX2 by
            # ONEDNN_MAX_CPU_ISA, as on the AVX2 laptops it stands in for): f32 always compiles.
            if self.hint != "bf16":
                raise
            self.hint = config["INFERENCE_PRECISION_HINT"] = "f32"
            log.info("OpenVINO could not compile bf16 here; f32 instead")
            return self.core.compile_model(model, "CPU", config)

    def run(self, batch: np.ndarray, feeds: dict[str, np.ndarray] | None = None) -> np.ndarray:
        feeds = self.feeds if feeds is None else feeds
        compiled = self._compiled.get(batch.shape)  # no lock once compiled: another size may be compiling
        if compiled is None:
            with self._lock:  # two threads meeting a new frame size compile it once
                compiled = self._compiled.get(batch.shape)
                if compiled is None:
                    compiled = self._compiled[batch.shape] = self._compile(batch.shape)
        if self.streams == 1:
            return compiled({self.contract.input_name: batch, **feeds})[compiled.output(0)]
        requests = self._requests.__dict__
        request = requests.get(batch.shape)
        if request is None:
            request = requests[batch.shape] = compiled.create_infer_request()
        request.infer({self.contract.input_name: batch, **feeds})
        return request.get_output_tensor(0).data.copy()  # the request's buffer is reused on its next frame


def _has(module: str) -> bool:
    return util.find_spec(module) is not None


def _cuda_available() -> tuple[bool, str]:
    if not _has("onnxruntime"):
        return False, "onnxruntime is not installed"
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return False, "this onnxruntime has no CUDA provider (pip install 'stylecast[gpu]')"
    installs = onnxruntime_installs()
    if len(installs) > 1:
        return False, (f"{' and '.join(installs)} are both installed and overwrite each other: "
                       "pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu")
    return True, "onnxruntime CUDA provider is available"


def library_loadable(names: tuple[str, ...]) -> bool:
    """Whether any of these shared libraries loads here (a provider listed is not a provider that runs)."""
    import ctypes

    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def tensorrt_loadable() -> bool:
    """onnxruntime-gpu lists TensorRT whether or not TensorRT itself is installed; only its library tells."""
    # or the pip wheels, which onnxruntime can load
    return library_loadable(("libnvinfer.so.10", "nvinfer_10.dll")) or util.find_spec("tensorrt_libs") is not None


def gpu_providers(available: list[str], cache_dir: Path) -> list[str | tuple[str, dict]]:
    """TensorRT first when it is really there (fp16 engines, cached between runs), then CUDA, then CPU."""
    providers: list[str | tuple[str, dict]] = []
    if "TensorrtExecutionProvider" in available and tensorrt_loadable():
        providers.append(("TensorrtExecutionProvider", {"trt_fp16_enable": True, "trt_engine_cache_enable": True,
                                                        "trt_engine_cache_path": str(cache_dir / "tensorrt")}))
    return providers + ["CUDAExecutionProvider", "CPUExecutionProvider"]


def load_cuda_libraries() -> None:
    """Let onnxruntime find CUDA/cuDNN installed as pip wheels (nvidia-*), as PyTorch does."""
    import onnxruntime as ort

    if hasattr(ort, "preload_dlls"):  # onnxruntime >= 1.21
        try:
            ort.preload_dlls()
        except Exception:  # missing wheels: the system libraries may still be there
            pass


def _cuda_frames_backend(model_path: Path, providers: tuple, fp16: bool) -> OnnxRuntimeBackend:
    """A CUDA session of the style's frame graph: uint8 frames cross the bus, fp16 or fp32 compute on the GPU."""
    from stylecast.realtime.runtimes.gpu_model import gpu_frame_model

    return OnnxRuntimeBackend(model_path, providers, model=gpu_frame_model(model_path, fp16), io_binding=True,
                              precision="fp16" if fp16 else "fp32", takes_frames=True)


def _open_cuda(model_path: Path, named: bool = False) -> Choice:
    import onnxruntime as ort

    ok, why = _cuda_available()
    if not ok:
        raise StylecastError(f"CUDA backend unavailable: {why}")
    load_cuda_libraries()
    providers = tuple(gpu_providers(ort.get_available_providers(), Path.home() / ".cache" / "stylecast"))
    try:
        backend = _cuda_frames_backend(model_path, providers, fp16=True)
    except StylecastError as e:  # no onnx to rewrite the graph with: the file as it is, frames converted on the host
        backend, why = OnnxRuntimeBackend(model_path, providers, io_binding=True), f"{why}; fp32 because {e}"
    # onnxruntime lists CUDA as available even when the CUDA libraries fail to load, then runs on CPU.
    if backend.name != "cuda":
        raise StylecastError("onnxruntime could not start its CUDA provider (CUDA/cuDNN libraries missing?); it would run on CPU")
    if backend.precision == "fp16":
        quality = _psnr_against_cpu(backend, model_path)
        if quality is not None and quality < MIN_PSNR_DB:
            backend = _cuda_frames_backend(model_path, providers, fp16=False)
            return Choice(backend, f"{why}; fp32: fp16 gave {quality:.1f} dB PSNR against CPU fp32 (< {MIN_PSNR_DB:.0f})")
        if quality is not None:
            why += f"; fp16 ({quality:.1f} dB PSNR against CPU fp32)"
    if backend.takes_frames:
        why += "; uint8 frames in and out of the graph"
    return Choice(backend, why)


MIN_PSNR_DB = 35.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * float(np.log10(255.0 ** 2 / mse))


def style_picture(model_path: Path) -> np.ndarray | None:
    """A real picture to compare precisions on: the style's own thumbnail shipped beside the model."""
    import cv2

    thumb = Path(model_path).with_suffix(".jpg")
    return cv2.imread(str(thumb)) if thumb.is_file() else None


def _psnr(reduced: Backend, full: Backend, model_path: Path) -> float | None:
    """PSNR of a reduced-precision backend against a full-precision one on the style's picture, if any."""
    from stylecast.realtime.runtimes.stylizer import Stylizer

    photo = style_picture(model_path)
    return None if photo is None else psnr(Stylizer(reduced)(photo), Stylizer(full)(photo))


def _openvino_psnr(backend: "OpenVinoBackend", model_path: Path) -> float | None:
    return _psnr(backend, OpenVinoBackend(model_path, precision="f32"), model_path)


def _psnr_against_cpu(backend: OnnxRuntimeBackend, model_path: Path) -> float | None:
    return _psnr(backend, OnnxRuntimeBackend(model_path), model_path)


def _int8_choice(model_path: Path) -> tuple["OpenVinoBackend | None", str]:
    """The style's int8 copy where there is one, the CPU has int8 dot products and it passes the PSNR check."""
    if not int8_path(model_path).is_file():
        return None, ""
    try:
        backend = OpenVinoBackend(model_path, precision="int8")
    except StylecastError as e:
        return None, str(e)
    if "INT8" not in backend.capabilities:
        return None, "no int8 on this CPU"
    quality = _openvino_psnr(backend, model_path)
    if quality is not None and quality < MIN_PSNR_DB:
        return None, f"int8 gave {quality:.1f} dB PSNR against f32 on the style's picture (< {MIN_PSNR_DB:.0f})"
    return backend, "" if quality is None else f" ({quality:.1f} dB PSNR against f32)"


def _open_openvino(model_path: Path, named: bool = False) -> Choice:
    if not _has("openvino"):
        raise StylecastError("OpenVINO backend unavailable: pip install 'stylecast[openvino]'")
    int8, note = _int8_choice(model_path)
    if int8 is not None:
        return Choice(int8, f"OpenVINO is installed; the style's int8 copy{note}")
    int8_note = f"; int8 not used: {note}" if note else ""
    backend = OpenVinoBackend(model_path)
    reason = f"OpenVINO is installed; CPU inference precision {backend.precision}"
    if backend.precision == "bf16":
        quality = _openvino_psnr(backend, model_path)
        if quality is not None and quality < MIN_PSNR_DB:
            return Choice(OpenVinoBackend(model_path, precision="f32"), f"OpenVINO f32: bf16 gave {quality:.1f} dB PSNR "
                          f"against f32 on the style's picture (< {MIN_PSNR_DB:.0f}){int8_note}")
        if quality is not None:
            reason += f" ({quality:.1f} dB PSNR against f32)"
    return Choice(backend, reason + int8_note)


def _torch_may_see_a_gpu() -> bool:
    """Cheap, without importing torch (seconds): on Linux the NVIDIA driver shows in /proc when loaded."""
    import sys

    return not sys.platform.startswith("linux") or Path("/proc/driver/nvidia").exists()


def open_torch(model_path: Path, named: bool = False, compiled: bool = False) -> Choice:
    """PyTorch on a CUDA GPU in fp16 (checked against fp32); on the CPU only when asked for by name.

    ``compiled`` runs the frames through TorchInductor (see ``TorchBackend``); the fp32 reference stays eager.
    """
    if not (_has("torch") and _has("onnx")):
        raise StylecastError("torch backend unavailable: pip install torch onnx (or 'stylecast[train]')")
    if not named and not _torch_may_see_a_gpu():
        raise StylecastError("torch backend skipped: no NVIDIA GPU driver loaded")
    import torch

    from stylecast.realtime.runtimes.torch_backend import TorchBackend

    if not torch.cuda.is_available():
        if not named:
            raise StylecastError("torch backend skipped: torch sees no CUDA GPU")
        return Choice(TorchBackend(model_path, "cpu", "fp32", compiled=compiled), "asked for; torch sees no CUDA GPU, "
                      "so fp32 on the CPU (openvino is faster there)")
    backend = TorchBackend(model_path, "cuda", "fp16", compiled=compiled)
    quality = _psnr(backend, TorchBackend(model_path, "cuda", "fp32", cuda_graphs=False), model_path)
    if quality is not None and quality < MIN_PSNR_DB:
        return Choice(TorchBackend(model_path, "cuda", "fp32", compiled=compiled),
                      f"torch on {torch.cuda.get_device_name()}; fp32: fp16 gave {quality:.1f} dB PSNR against fp32 "
                      f"(< {MIN_PSNR_DB:.0f})")
    why = f"torch on {torch.cuda.get_device_name()}; fp16" + ("" if quality is None else f" ({quality:.1f} dB PSNR against fp32)")
    if backend.graph_error is not None:
        why += f"; no CUDA graphs ({backend.graph_error})"
    if backend.compile_error is not None:
        why += f"; not compiled ({backend.compile_error})"
    return Choice(backend, why + "; uint8 frames in and out")


def _open_cpu(model_path: Path, named: bool = False) -> Choice:
    if not _has("onnxruntime"):
        raise StylecastError(f"no inference runtime found: {INSTALL_HINT}")
    return Choice(OnnxRuntimeBackend(model_path), "onnxruntime on the CPU")


# Each takes (model_path, named): named when the user asked for that backend alone. Only torch
# differs then: it runs on the CPU only when named (anywhere else auto has faster choices).
_OPENERS = {"cuda": _open_cuda, "torch": open_torch, "openvino": _open_openvino, "cpu": _open_cpu}


def _headline(reason: str) -> str:
    """A skipped backend's reason without its install hint in parentheses (``(pip install ...)``)."""
    import re

    return re.sub(r" \(pip install [^)]*\)", "", reason)


def backend_preference(choice: str) -> tuple[str, ...]:
    """--backend auto tries every backend in order; a named one is required."""
    return BACKEND_NAMES if choice == "auto" else (choice,)


def _check_onnx(path: Path) -> None:
    """Refuse a file that is no ONNX model before a runtime tries it: OpenVINO, refused by its ONNX
    reader, tries its other formats' readers, and one of them logs a parse error of its own."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        onnx.load_model(str(path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError) as e:
        raise _model_error(path, e) from e


def open_backend(model_path: Path, prefer: tuple[str, ...] = BACKEND_NAMES, named: bool | None = None) -> Choice:
    """Open the first backend in ``prefer`` that works here; say which one and why.

    With one name in ``prefer`` that backend is required and its absence is an error. ``named``
    (default: one name in ``prefer``) says the user asked for it by name, see ``_OPENERS``.
    """
    model_path = Path(model_path)
    if not model_path.is_file():
        raise StylecastError(f"style model not found: {model_path}")
    _check_onnx(model_path)
    unknown = [p for p in prefer if p not in _OPENERS]
    if unknown:
        raise StylecastError(f"unknown backend {unknown[0]!r}: choose from auto, {', '.join(BACKEND_NAMES)}")
    skipped: list[str] = []
    for name in prefer:
        try:
            choice = _OPENERS[name](model_path, len(prefer) == 1 if named is None else named)
        except StylecastError as e:
            if len(prefer) == 1 or "cannot load style model" in str(e):
                raise
            skipped.append(str(e))
            continue
        # what was passed over, each in its first words ('stylecast doctor' has the whole story)
        reason = choice.reason + (f"; not used: {'; '.join(_headline(r) for r in skipped)}" if skipped else "")
        log.info("backend %s %s: %s", choice.backend.name, choice.backend.providers, reason)
        return Choice(choice.backend, reason)
    raise StylecastError(f"no usable backend: {'; '.join(skipped)}. {INSTALL_HINT}")
