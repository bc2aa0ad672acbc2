"""One frame in, one stylized frame out: preprocess -> backend -> postprocess."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from stylecast.realtime.runtimes.protocol import Backend
from stylecast.realtime.runtimes.mix import mix_feeds
from stylecast.realtime.runtimes.preprocess import margin_for, pad_frame, postprocess, preprocess


class Stylizer:
    """``mix`` (painting -> weight) picks what a multi-style network paints; each Stylizer keeps its own,
    so several share one opened network (one compiled model in memory, whatever the mixes)."""

    def __init__(self, backend: Backend, mix: Mapping[str, float] | np.ndarray | None = None) -> None:
        self.backend = backend
        self.feeds = mix_feeds(backend.contract, mix) if mix is not None else None

    def with_mix(self, mix: Mapping[str, float] | np.ndarray) -> "Stylizer":
        """A Stylizer on the same opened network painting ``mix`` (costs nothing: no second network)."""
        return Stylizer(self.backend, mix)

    @property
    def weights(self) -> np.ndarray | None:
        """The weights vector in the contract's painting order (None for a single-style network)."""
        feeds = self.feeds if self.feeds is not None else self.backend.feeds
        return feeds.get(self.backend.contract.weights_name)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 BGR -> stylized HxWx3 uint8 BGR of the same size."""
        h, w = frame.shape[:2]
        contract = self.backend.contract
        # Without a mix of its own, the backend's default feeds (the call any Backend takes).
        extra = () if self.feeds is None else (self.feeds,)
        m = margin_for(h, w)  # a reflected margin keeps the network's border artefacts out of the picture
        if self.backend.takes_frames:
            painted = self.backend.run_frame(pad_frame(frame, contract.size_multiple, m), *extra)
            return painted if painted.shape[:2] == (h, w) else np.ascontiguousarray(painted[m:m + h, m:m + w])
        return postprocess(self.backend.run(preprocess(frame, contract, m), *extra), h, w, contract, m)
