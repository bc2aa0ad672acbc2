"""One frame in, one stylized frame out: preprocess -> backend -> postprocess."""
from __future__ import annotations

import numpy as np

from stylecast.realtime.runtimes.backends import Backend
from stylecast.realtime.runtimes.preprocess import pad_frame, postprocess, preprocess


class Stylizer:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 BGR -> stylized HxWx3 uint8 BGR of the same size."""
        h, w = frame.shape[:2]
        contract = self.backend.contract
        if self.backend.takes_frames:
            painted = self.backend.run_frame(pad_frame(frame, contract.size_multiple))
            return painted if painted.shape[:2] == (h, w) else np.ascontiguousarray(painted[:h, :w])
        return postprocess(self.backend.run(preprocess(frame, contract)), h, w, contract)
