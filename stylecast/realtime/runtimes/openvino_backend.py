"""The OpenVINO backend: the CPU in f32, bf16 or the style's int8 copy, compiled once per frame size."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from stylecast.contract import METADATA_CARD_KEY, METADATA_CONTRACT_KEY, TensorSpec, int8_path, parse_metadata
from stylecast.errors import StylecastError
from stylecast.realtime.runtimes.mix import mix_feeds
from stylecast.realtime.runtimes.protocol import check_signature, model_error

log = logging.getLogger(__name__)


def _openvino_specs(ports) -> list[TensorSpec]:
    specs = []
    for port in ports:
        shape = port.get_partial_shape()
        dims = None if shape.rank.is_dynamic else tuple(None if d.is_dynamic else d.get_length() for d in shape)
        specs.append(TensorSpec(port.any_name, dims, port.get_element_type().to_dtype().name))
    return specs


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
            raise model_error(model_path, e) from e
        self.precision = precision
        self.name = "openvino"
        self.takes_frames = False
        self.providers = (f"CPU:{precision}",)
        self.contract, self.card = parse_metadata(self._metadata())
        check_signature(model_path, _openvino_specs(self.model.inputs), _openvino_specs(self.model.outputs), self.contract)
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
