"""The second input of a multi-style network: how much of each painting to paint with.

A backend keeps its default vector in ``feeds`` and passes it with every frame; a Stylizer with a mix
of its own passes that instead, so several mixes paint with one opened network.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from stylecast.contract import ModelContract
from stylecast.errors import StylecastError


def mix_vector(contract: ModelContract, mix: Mapping[str, float] | None = None) -> np.ndarray:
    """The weights vector for ``mix`` (painting name -> weight); None: the first painting alone."""
    # float64 until normalized: weights as large as 1e300 or as small as 1e-320 are valid as given, but
    # not in float32, where they overflow to inf (a black picture) or vanish to 0
    w = np.zeros(len(contract.styles), np.float64)
    if not mix:
        w[0] = 1.0
        return w.astype(np.float32)
    for name, weight in mix.items():
        if name not in contract.styles:
            raise StylecastError(f"this network does not paint '{name}': it paints {', '.join(contract.styles)}")
        if not np.isfinite(weight) or weight < 0:
            raise StylecastError(f"the weight of '{name}' must be a finite number, 0 or more, not {weight}")
        w[contract.styles.index(name)] = weight
    if w.sum() <= 0:
        raise StylecastError("a mix needs at least one painting with a weight above 0")
    return (w / w.sum()).astype(np.float32)


def each_painting(contract: ModelContract) -> list[dict[str, float] | None]:
    """One mix per painting a network paints: each painting alone, or [None] for a single-style network."""
    return [{name: 1.0} for name in contract.styles] or [None]


def mix_feeds(contract: ModelContract, mix: Mapping[str, float] | np.ndarray | None = None) -> dict[str, np.ndarray]:
    """What a backend passes beside each frame: nothing for a single style, the weights for a multi-style one."""
    if not contract.styles:
        if mix is not None and len(mix):
            raise StylecastError("this style paints one painting: a mix needs a multi-style network")
        return {}
    vector = mix if isinstance(mix, np.ndarray) else mix_vector(contract, mix)
    return {contract.weights_name: np.ascontiguousarray(vector, np.float32)}

