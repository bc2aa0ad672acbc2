"""Which runtime paints a style here: the first of CUDA (onnxruntime), PyTorch, OpenVINO and
onnxruntime on the CPU that works, each checked against full precision, and why it was chosen.

The backends themselves, and how their precision is checked, live beside this module.
"""
from __future__ import annotations

import logging
from importlib import util
from pathlib import Path

from stylecast.contract import int8_path
from stylecast.errors import StylecastError
from stylecast.realtime.runtimes import cuda, precision
from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
from stylecast.realtime.runtimes.openvino_backend import OpenVinoBackend
from stylecast.realtime.runtimes.precision import reduced_psnr
from stylecast.realtime.runtimes.protocol import Choice, model_error

log = logging.getLogger(__name__)

# auto tries them in this order; "torch" is picked there only where it runs on a CUDA GPU
BACKEND_NAMES = ("cuda", "torch", "openvino", "cpu")
INSTALL_HINT = (
    "install a runtime: pip install 'stylecast[cpu]' (onnxruntime), 'stylecast[gpu]' (onnxruntime-gpu) "
    "or 'stylecast[openvino]'"
)


def _has(module: str) -> bool:
    return util.find_spec(module) is not None


def _cuda_frames_backend(model_path: Path, providers: tuple, fp16: bool) -> OnnxRuntimeBackend:
    """A CUDA session of the style's frame graph: uint8 frames cross the bus, fp16 or fp32 compute on the GPU."""
    from stylecast.realtime.runtimes.gpu_model import gpu_frame_model

    return OnnxRuntimeBackend(model_path, providers, model=gpu_frame_model(model_path, fp16), io_binding=True,
                              precision="fp16" if fp16 else "fp32", takes_frames=True)


def _open_cuda(model_path: Path, named: bool = False) -> Choice:
    import onnxruntime as ort

    ok, why = cuda.cuda_available()
    if not ok:
        raise StylecastError(f"CUDA backend unavailable: {why}")
    cuda.load_cuda_libraries()
    providers = tuple(cuda.gpu_providers(ort.get_available_providers(), Path.home() / ".cache" / "stylecast"))
    try:
        backend = _cuda_frames_backend(model_path, providers, fp16=True)
    except StylecastError as e:  # no onnx to rewrite the graph with: the file as it is, frames converted on the host
        backend, why = OnnxRuntimeBackend(model_path, providers, io_binding=True), f"{why}; fp32 because {e}"
    # onnxruntime lists CUDA as available even when the CUDA libraries fail to load, then runs on CPU.
    if backend.name != "cuda":
        raise StylecastError("onnxruntime could not start its CUDA provider (CUDA/cuDNN libraries missing?); it would run on CPU")
    if backend.precision == "fp16":
        quality = _psnr_against_cpu(backend, model_path)
        if quality is not None and quality < precision.MIN_PSNR_DB:
            backend = _cuda_frames_backend(model_path, providers, fp16=False)
            return Choice(backend, f"{why}; fp32: fp16 gave {quality:.1f} dB PSNR against CPU fp32 (< {precision.MIN_PSNR_DB:.0f})")
        if quality is not None:
            why += f"; fp16 ({quality:.1f} dB PSNR against CPU fp32)"
    if backend.takes_frames:
        why += "; uint8 frames in and out of the graph"
    return Choice(backend, why)


def _openvino_psnr(backend: "OpenVinoBackend", model_path: Path) -> float | None:
    return reduced_psnr(backend, OpenVinoBackend(model_path, precision="f32"), model_path)


def _psnr_against_cpu(backend: OnnxRuntimeBackend, model_path: Path) -> float | None:
    return reduced_psnr(backend, OnnxRuntimeBackend(model_path), model_path)


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
    if quality is not None and quality < precision.MIN_PSNR_DB:
        return None, f"int8 gave {quality:.1f} dB PSNR against f32 on the style's picture (< {precision.MIN_PSNR_DB:.0f})"
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
        if quality is not None and quality < precision.MIN_PSNR_DB:
            return Choice(OpenVinoBackend(model_path, precision="f32"), f"OpenVINO f32: bf16 gave {quality:.1f} dB PSNR "
                          f"against f32 on the style's picture (< {precision.MIN_PSNR_DB:.0f}){int8_note}")
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
    quality = reduced_psnr(backend, TorchBackend(model_path, "cuda", "fp32", cuda_graphs=False), model_path)
    if quality is not None and quality < precision.MIN_PSNR_DB:
        return Choice(TorchBackend(model_path, "cuda", "fp32", compiled=compiled),
                      f"torch on {torch.cuda.get_device_name()}; fp32: fp16 gave {quality:.1f} dB PSNR against fp32 "
                      f"(< {precision.MIN_PSNR_DB:.0f})")
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
        raise model_error(path, e) from e


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
