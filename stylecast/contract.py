"""The model contract: what an exported stylecast network takes and gives.

Export writes it into the ONNX metadata; the runtime reads it back instead of guessing.
This module must stay free of torch so the runtime path can use it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

METADATA_CONTRACT_KEY = "stylecast.contract"
METADATA_CARD_KEY = "stylecast.card"
# TransformerNet designs (stylecast.models.transformer); here so torch-free code can name them.
NETWORK_DESIGNS = ("johnson", "shuffle")
INT8_SUFFIX = ".int8.onnx"


def int8_path(model: Path) -> Path:
    """Where a style's int8 copy lives (from `stylecast quantize`): ``NAME.int8.onnx`` beside ``NAME.onnx``."""
    model = Path(model)
    return model.with_name(model.name.removesuffix(".onnx") + INT8_SUFFIX)


@dataclass(frozen=True)
class ModelContract:
    input_name: str = "input"
    output_name: str = "output"
    layout: str = "NCHW"
    channels: str = "RGB"
    value_range: tuple[float, float] = (0.0, 255.0)
    # Two stride-2 convolutions and two 2x upsamplings: other sizes come back a different size.
    size_multiple: int = 4
    version: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "ModelContract":
        data = json.loads(text)
        data["value_range"] = tuple(data["value_range"])
        return cls(**data)


DEFAULT_CONTRACT = ModelContract()


@dataclass(frozen=True)
class StyleCard:
    """What a user (and the gallery) needs to know about one trained style."""

    name: str
    width: int
    design: str = "johnson"  # TransformerNet design, so a benchmark can rebuild the same network
    bottleneck: int = 0  # residual blocks' squeezed channels (0: Johnson's plain blocks)
    style_image: str = ""
    style_source: str = ""
    style_license: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)

    @property
    def network(self) -> str:
        """The network in a few words, e.g. 'width 32 shuffle bottleneck 64'."""
        return f"width {self.width} {self.design}" + (f" bottleneck {self.bottleneck}" if self.bottleneck else "")

    @property
    def cost_rank(self) -> tuple[int, int, int]:
        """Sorts networks cheapest first without running them: no full-resolution convolutions first,
        then the narrower, then squeezed residual blocks (the order measured on 2-core CPUs:
        _rt, _lite_rt, _fast, _lite, full)."""
        return (0 if self.design == "shuffle" else 1, self.width, 0 if self.bottleneck else 1)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "StyleCard":
        data = json.loads(text)
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def parse_metadata(values: dict[str, str]) -> tuple[ModelContract, StyleCard | None]:
    """The contract and card export wrote into a model's metadata (a model without them gets the defaults)."""
    contract = ModelContract.from_json(values[METADATA_CONTRACT_KEY]) if METADATA_CONTRACT_KEY in values else DEFAULT_CONTRACT
    card = StyleCard.from_json(values[METADATA_CARD_KEY]) if METADATA_CARD_KEY in values else None
    return contract, card
