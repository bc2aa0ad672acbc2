"""Int8 copies of style models for CPUs with int8 dot products (AVX512-VNNI, AVX-VNNI, AMX).

NNCF's post-training quantization calibrates activation ranges on real photos and writes a
QuantizeLinear/DequantizeLinear ONNX beside the model (``NAME.int8.onnx``, same contract and card,
height and width still dynamic). OpenVINO runs its convolutions in int8: about 1.9x its bf16 on
CPUs without AMX. A copy that stylizes too differently from fp32 is refused here, and checked
again where it is used (see ``stylecast.realtime.runtimes.backends``).
"""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stylecast.atomic import atomic_path
from stylecast.contract import ModelContract, int8_path
from stylecast.errors import StylecastError
from stylecast.export.target import check_onnx_target
from stylecast.realtime.media.outputs import writable_folders
from stylecast.sizing import cover_crop

if TYPE_CHECKING:
    import nncf

log = logging.getLogger(__name__)

CALIBRATION_SIZE = (512, 384)  # (w, h) of the calibration frames: a webcam-like 4:3 crop


@dataclass(frozen=True)
class QuantizeReport:
    path: Path
    images: int
    psnr_db: float  # int8 against fp32, mean over the checked photos
    bytes: int


def calibration_frames(data: Path, limit: int, size: tuple[int, int] = CALIBRATION_SIZE) -> list[np.ndarray]:
    """Up to ``limit`` photos under ``data`` as BGR frames of ``size``, the way a camera delivers them."""
    import cv2

    from stylecast.train.data import list_images

    frames = []
    for path in list_images(Path(data)):
        image = cv2.imread(str(path))
        if image is not None:
            frames.append(cover_crop(image, size))
        if len(frames) == limit:
            break
    return frames


def _psnr_int8(fp32_model: Path, int8_model: Path, frames: list[np.ndarray]) -> float:
    """Mean PSNR of the int8 graph against the fp32 one, both through OpenVINO as stylecast runs them."""
    from stylecast.realtime.runtimes.openvino_backend import OpenVinoBackend
    from stylecast.realtime.runtimes.precision import psnr
    from stylecast.realtime.runtimes.mix import each_painting
    from stylecast.realtime.runtimes.stylizer import Stylizer

    # A QDQ graph runs its convolutions in int8 whatever the hint; f32 keeps the rest exact.
    full, low = (OpenVinoBackend(path, precision="f32") for path in (fp32_model, int8_model))
    scores = [psnr(Stylizer(low, mix)(frame), Stylizer(full, mix)(frame)) for mix in each_painting(full.contract)
              for frame in frames]
    return float(np.mean(scores))


# A multi-style network scales and shifts each instance norm's output by the mix (MatMul of the
# weights and the tables, then Mul and Add). Left to itself NNCF quantizes the inputs of those Mul and
# Add too: two more quantize passes over every normed activation, where a single-style network's
# constant affine is part of the norm. Kept in float, the convolutions still get int8 inputs.
MIX_FLOAT_OPS = ("MatMul", "Mul", "Add", "ReduceSum", "Div")


def _float_ops(contract: ModelContract) -> nncf.IgnoredScope | None:
    import nncf

    return nncf.IgnoredScope(types=list(MIX_FLOAT_OPS), validate=False) if contract.styles else None


def quantize_model(model: Path, data: Path, out: Path | None = None, limit: int = 32, check: int = 6,
                   overwrite: bool = False) -> QuantizeReport:
    """Write an int8 copy of ``model`` calibrated on photos under ``data``; refuse one below 35 dB PSNR.

    The last ``check`` photos are held out of calibration and used for the quality check.
    """
    from importlib import import_module

    try:  # here, for the one-line error; _quantize_into uses them
        import_module("nncf"), import_module("onnx")
    except ImportError as e:
        raise StylecastError("quantizing needs NNCF and onnx: pip install 'stylecast[int8]'") from e
    model = Path(model)
    out = Path(out) if out else int8_path(model)
    if not model.is_file():
        raise StylecastError(f"style model not found: {model}")
    if out.resolve() == model.resolve():
        raise StylecastError(f"the int8 copy would overwrite its input {model}: choose another --out")
    with writable_folders([out.parent]):  # one made here is removed again if nothing is written there
        check_onnx_target(out, overwrite)
        return _quantize_into(model, out, data, limit, check)


def _quantize_into(model: Path, out: Path, data: Path, limit: int, check: int) -> QuantizeReport:
    import nncf
    import onnx

    from stylecast.contract import parse_metadata
    from stylecast.export.fp16 import restore_fp32_weights
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.precision import MIN_PSNR_DB
    from stylecast.realtime.runtimes.preprocess import preprocess

    try:
        graph = restore_fp32_weights(onnx.load(str(model)))
    except Exception as e:
        raise StylecastError(f"cannot load style model {model}: {str(e).splitlines()[0][:200]}") from e
    contract, _ = parse_metadata({p.key: p.value for p in graph.metadata_props})
    frames = calibration_frames(data, limit + check)
    if len(frames) < check + 2:
        raise StylecastError(f"need at least {check + 2} readable photos under {data} to calibrate, found {len(frames)}")
    held_out, calibration = frames[-check:], frames[:-check]
    samples = [{contract.input_name: preprocess(f, contract)} for f in calibration]
    if contract.styles:  # a multi-style network is calibrated on every painting in turn
        from stylecast.realtime.runtimes.mix import mix_feeds

        samples = [{**sample, **mix_feeds(contract, {painting: 1.0})}
                   for sample in samples for painting in contract.styles]
    # NNCF logs an INFO line per step on top of its progress bars; the summary line is stylecast's.
    logging.getLogger("nncf").setLevel(logging.ERROR)
    quantized = nncf.quantize(graph, nncf.Dataset(samples), preset=nncf.QuantizationPreset.PERFORMANCE,
                              subset_size=len(samples), ignored_scope=_float_ops(contract))
    del quantized.metadata_props[:]
    quantized.metadata_props.extend(graph.metadata_props)
    quantized.producer_name = "stylecast"
    with atomic_path(out) as tmp, tempfile.TemporaryDirectory() as work:
        onnx.save(quantized, str(tmp))
        reference = Path(work) / "fp32.onnx"
        onnx.save(graph, str(reference))
        quality = _psnr_int8(reference, tmp, held_out)
        if quality < MIN_PSNR_DB:
            raise StylecastError(f"int8 stylizes too differently from fp32 ({quality:.1f} dB PSNR < {MIN_PSNR_DB:.0f}); "
                                 "nothing written: keep using bf16/fp32")
        OnnxRuntimeBackend(tmp)  # loads in the reference runtime too, metadata and all
    return QuantizeReport(out, len(calibration), quality, out.stat().st_size)
