"""The model as a GPU should run it: fp16 compute, uint8 frames in and out.

Bundled styles store fp16 *weights* that are cast back to fp32 inside the graph (small files, any
runtime). A GPU is fastest computing in fp16, so for CUDA/TensorRT the graph is rewritten: weights
back to plain fp32 initializers, then every tensor converted to fp16 with casts only at the
input and output (onnxconverter-common, part of the ``[gpu]`` extra). Then the frame conversions
move into the graph too (``frame_graph``), so only uint8 frames cross the bus.
"""
from __future__ import annotations

from pathlib import Path

from stylecast.errors import StylecastError
from stylecast.export.fp16 import restore_fp32_weights
from stylecast.realtime.runtimes.frame_graph import with_frame_io


def _fp16_compute(path: Path):
    """The model at ``path`` as an fp16-compute ``onnx.ModelProto`` (fp32 in, fp32 out)."""
    try:
        import onnx
        from onnxconverter_common import float16
    except ImportError as e:
        raise StylecastError("fp16 on the GPU needs onnx and onnxconverter-common: pip install 'stylecast[gpu]'") from e
    model = restore_fp32_weights(onnx.load(str(path)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns about values clipped to the fp16 range; ours fit
        return float16.convert_float_to_float16(model, keep_io_types=True)


def fp16_compute_model(path: Path) -> bytes:
    """Serialized fp16-compute version of the model at ``path`` (fp32 in, fp32 out)."""
    return _fp16_compute(path).SerializeToString()


def gpu_frame_model(path: Path, fp16: bool = True) -> bytes:
    """Serialized graph the CUDA backend runs: uint8 BGR frames in and out, fp16 (or fp32) compute inside."""
    if fp16:
        model = _fp16_compute(path)
    else:
        try:
            import onnx
        except ImportError as e:
            raise StylecastError("frames in the GPU graph need onnx: pip install 'stylecast[gpu]'") from e
        model = onnx.load(str(path))
    return with_frame_io(model).SerializeToString()
