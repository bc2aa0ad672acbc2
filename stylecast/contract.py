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
    # A multi-style network (models.multistyle) names its paintings and takes their mix as a second
    # input: a float vector with one non-negative weight per painting (the graph normalises the sum).
    styles: tuple[str, ...] = ()
    weights_name: str = "style_weights"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "ModelContract":
        data = json.loads(text)
        data["value_range"] = tuple(data["value_range"])
        data["styles"] = tuple(data.get("styles", ()))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


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
    # A multi-style network's paintings (bundled style names), in the order of its weights input.
    styles: tuple[str, ...] = ()

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
        if "styles" in known:
            known["styles"] = tuple(known["styles"])
        return cls(**known)


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output as a runtime reports it: None for a dimension of any size."""

    name: str
    shape: tuple[int | None, ...] | None  # None: the rank is not known either
    dtype: str  # numpy's name: float32, uint8, ...


def signature_problem(inputs: list[TensorSpec], outputs: list[TensorSpec], contract: ModelContract) -> str | None:
    """Why a graph does not take and give frames as ``contract`` says (None if it does): a style
    network takes one float 1x3xHxW tensor of any H and W and gives one of the same shape; a
    multi-style one also takes its float weights vector, one per painting the contract names."""
    if contract.styles:
        mix = [t for t in inputs if t.name == contract.weights_name]
        if len(mix) != 1:
            return f"it paints {len(contract.styles)} styles but has no '{contract.weights_name}' input for their weights"
        if mix[0].dtype != "float32" or (mix[0].shape is not None and mix[0].shape[-1] not in (None, len(contract.styles))):
            return f"its '{contract.weights_name}' input is not a float vector of {len(contract.styles)} weights"
        inputs = [t for t in inputs if t.name != contract.weights_name]

    def describe(t: TensorSpec) -> str:
        dims = "?" if t.shape is None else "x".join("?" if d is None else str(d) for d in t.shape)
        return f"'{t.name}' {t.dtype} {dims}"

    for kind, specs, name in (("input", inputs, contract.input_name), ("output", outputs, contract.output_name)):
        if len(specs) != 1:
            return f"it has {len(specs)} {kind}s ({', '.join(describe(t) for t in specs)}); a style has one"
        t = specs[0]
        if t.name != name:
            return f"its {kind} is {describe(t)}, not '{name}'"
        if t.dtype not in ("float32", "float16"):
            return f"its {kind} {describe(t)} is not float"
        if t.shape is not None:
            if len(t.shape) != 4 or t.shape[1] not in (None, 3):
                return f"its {kind} {describe(t)} is not a 3-channel image (N x 3 x height x width)"
            if kind == "input" and (t.shape[2] is not None or t.shape[3] is not None):
                return f"its input {describe(t)} takes frames of one size only; a style takes any size"
            fixed = [d for d in t.shape[2:] if d is not None]
            if kind == "output" and fixed and max(fixed) < 8:
                return f"its output {describe(t)} is not a picture of the input's size"
    return None


def parse_metadata(values: dict[str, str]) -> tuple[ModelContract, StyleCard | None]:
    """The contract and card export wrote into a model's metadata (a model without them gets the defaults)."""
    contract = ModelContract.from_json(values[METADATA_CONTRACT_KEY]) if METADATA_CONTRACT_KEY in values else DEFAULT_CONTRACT
    card = StyleCard.from_json(values[METADATA_CARD_KEY]) if METADATA_CARD_KEY in values else None
    return contract, card
