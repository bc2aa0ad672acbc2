"""The person segmentation network: a frame in, the probability of "person" per pixel out, at the
network's own small size. Runs on OpenVINO, or onnxruntime where OpenVINO is not installed."""
from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from stylecast.errors import StylecastError
from stylecast.realtime.hd.painter import shrink
from stylecast.realtime.runtimes.openvino_backend import UNPINNED
from stylecast.segment import HERE

# MediaPipe's two selfie models: the landscape one is cheaper and made for 16:9 calls, the general
# (square) one holds up on 4:3 and portrait frames, where the landscape one squashed misses people
# (on opencv-doc basketball1.png it finds no one; the general one finds both players).
LANDSCAPE = HERE / "selfie_landscape.onnx"
GENERAL = HERE / "selfie_general.onnx"
LANDSCAPE_FROM = 1.5  # width / height from which the landscape model is used


def model_for(width: int, height: int) -> Path:
    return LANDSCAPE if width >= LANDSCAPE_FROM * height else GENERAL


class _Session:
    """One network on whichever runtime is installed, OpenVINO first (the CPU styles' runtime, so
    it obeys the same ISA limits); ``run`` is thread-safe.

    One thread, not spinning: 2.6 ms (OpenVINO) or 2.75 ms (onnxruntime) for the general model on
    this 2-core Xeon, where two threads saved under a millisecond but held both cores that the
    style network runs on next."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise StylecastError(f"the person segmentation network is missing ({path}): reinstall stylecast")
        try:
            import openvino as ov
        except ImportError:
            ov = None
        if ov is not None:
            # unpinned as the style networks are: the first compile in a process sets it for all
            compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_NUM_THREADS": 1, "INFERENCE_PRECISION_HINT": "f32",
                                                                  **UNPINNED})
            local = threading.local()

            def run(frame: np.ndarray) -> np.ndarray:
                if not hasattr(local, "request"):  # a request per thread: several frames may segment at once
                    local.request = compiled.create_infer_request()
                return local.request.infer({0: frame[None]})[0]

            self.run, self.runtime = run, "openvino"
            return
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise StylecastError("person segmentation needs OpenVINO or onnxruntime: pip install 'stylecast[cpu]'") from e
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.run = lambda frame: session.run(None, {"frame": frame[None]})[0]
        self.runtime = "onnxruntime"


class PersonSegmenter:
    """BGR uint8 frame -> float32 person probability (0-1) at the network's input size (h, w).

    Thread-safe; the network for a frame's shape is loaded on first use."""

    def __init__(self) -> None:
        self._sessions: dict[Path, _Session] = {}
        self._lock = threading.Lock()

    def session(self, path: Path) -> _Session:
        with self._lock:
            if path not in self._sessions:
                self._sessions[path] = _Session(path)
            return self._sessions[path]

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        path = model_for(w, h)
        net_h, net_w = (144, 256) if path == LANDSCAPE else (256, 256)
        # bilinear for what halving leaves, as MediaPipe feeds these networks
        return self.session(path).run(shrink(frame, (net_w, net_h), cv2.INTER_LINEAR))
