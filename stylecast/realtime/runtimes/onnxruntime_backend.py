"""The onnxruntime backend: CPU, CUDA or TensorRT providers, one session per style."""
from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np

from stylecast.contract import TensorSpec, parse_metadata
from stylecast.realtime.runtimes.frame_graph import FRAME_INPUT, FRAME_OUTPUT
from stylecast.realtime.runtimes.mix import mix_feeds
from stylecast.realtime.runtimes.protocol import check_signature, model_error


_ORT_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(uint8)": "uint8"}


def _ort_specs(args) -> list[TensorSpec]:
    return [TensorSpec(a.name, tuple(d if isinstance(d, int) else None for d in a.shape) if a.shape is not None else None,
                       _ORT_TYPES.get(a.type, a.type)) for a in args]


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
            raise model_error(model_path, e) from e
        self.providers = tuple(self.session.get_providers())
        self.name = "cuda" if any(p in self.providers for p in GPU_PROVIDERS) else "cpu"
        self.precision = precision
        self.contract, self.card = parse_metadata(self.session.get_modelmeta().custom_metadata_map)
        if not takes_frames:  # a frame graph (uint8 in and out) is one we built ourselves
            check_signature(model_path, _ort_specs(self.session.get_inputs()), _ort_specs(self.session.get_outputs()),
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
