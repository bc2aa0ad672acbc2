"""Export a TransformerNet to ONNX with dynamic batch/height/width, then prove the file works.

Right after writing, the ONNX checker runs and onnxruntime output is compared with PyTorch on a
real image; the contract and the style card go into the ONNX metadata so the runtime needs no
side files.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from stylecast.atomic import atomic_path
from stylecast.contract import (DEFAULT_CONTRACT, METADATA_CARD_KEY, METADATA_CONTRACT_KEY, ModelContract, StyleCard,
                                parse_metadata)
from stylecast.errors import StylecastError
from stylecast.export.fp16 import compress_weights_fp16, restore_fp32_weights
from stylecast.export.graph import weight_values
from stylecast.export.target import check_onnx_target
from stylecast.models.inference import inference_form
from stylecast.models.transformer import TransformerNet
from stylecast.realtime.media.outputs import writable_folders

OPSET = 17
MAX_ABS_ERROR_FP32 = 0.5
MAX_ABS_ERROR_FP16_WEIGHTS = 4.0


class _ClampedOutput(nn.Module):
    """The exported graph clamps to the contract's range, so every runtime gets valid pixels."""

    def __init__(self, net: nn.Module, low: float, high: float) -> None:
        super().__init__()
        self.net, self.low, self.high = net, low, high

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).clamp(self.low, self.high)


@dataclass(frozen=True)
class ExportReport:
    path: Path
    max_abs_error: float
    mean_abs_error: float
    fp16_path: Path | None = None
    fp16_max_abs_error: float | None = None


def write_onnx(net: TransformerNet, path: Path, contract: ModelContract) -> None:
    """Writes the net's exact faster form (models.inference); callers check parity against ``net``."""
    wrapped = _ClampedOutput(inference_form(net), *contract.value_range).eval()
    dummy = torch.rand(1, 3, 64, 64) * 255
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings():
        # The tracer warns about shape checks inside InstanceNorm; they hold for every size.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped, (dummy,), str(path), opset_version=OPSET, dynamo=False,
            input_names=[contract.input_name], output_names=[contract.output_name],
            dynamic_axes={contract.input_name: axes, contract.output_name: axes},
        )


def _add_metadata(model: onnx.ModelProto, contract: ModelContract, card: StyleCard) -> None:
    del model.metadata_props[:]
    for key, value in ((METADATA_CONTRACT_KEY, contract.to_json()), (METADATA_CARD_KEY, card.to_json())):
        model.metadata_props.add(key=key, value=value)
    model.producer_name = "stylecast"


def _compare(path: Path, net: TransformerNet, image: np.ndarray, contract: ModelContract) -> tuple[float, float]:
    import onnxruntime as ort

    x = np.ascontiguousarray(image.transpose(2, 0, 1)[None]).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run([contract.output_name], {contract.input_name: x})[0]
    with torch.no_grad():
        want = net(torch.from_numpy(x)).clamp(*contract.value_range).numpy()
    if got.shape != want.shape:
        raise StylecastError(f"exported model gives shape {got.shape}, PyTorch {want.shape}")
    diff = np.abs(got - want)
    return float(diff.max()), float(diff.mean())


def export_onnx(
    net: TransformerNet, path: Path, card: StyleCard, verify_image: np.ndarray,
    fp16: bool = False, contract: ModelContract = DEFAULT_CONTRACT,
) -> ExportReport:
    """Write ``path`` (and ``*.fp16.onnx`` when asked), check each, and return the parity numbers.

    ``verify_image`` is an HxWx3 uint8 RGB image whose sides are multiples of the size multiple.
    """
    net = net.float().eval().to(memory_format=torch.contiguous_format)
    path = Path(path)
    with atomic_path(path) as tmp:
        write_onnx(net, tmp, contract)
        model = onnx.load(str(tmp))
        _add_metadata(model, contract, card)
        onnx.checker.check_model(model)
        onnx.save(model, str(tmp))
        max_err, mean_err = _compare(tmp, net, verify_image, contract)
        if max_err >= MAX_ABS_ERROR_FP32:
            raise StylecastError(f"ONNX export differs from PyTorch: max abs error {max_err:.3f} >= {MAX_ABS_ERROR_FP32}")
    report = ExportReport(path, max_err, mean_err)
    if not fp16:
        return report
    half_path = path.with_suffix(".fp16.onnx")
    with atomic_path(half_path) as tmp:
        half = compress_weights_fp16(model)
        onnx.checker.check_model(half)
        onnx.save(half, str(tmp))
        half_err, _ = _compare(tmp, net, verify_image, contract)
        if half_err >= MAX_ABS_ERROR_FP16_WEIGHTS:
            raise StylecastError(f"fp16 copy differs from PyTorch: max abs error {half_err:.3f}")
    return ExportReport(path, max_err, mean_err, half_path, half_err)


def _verify_image_for(ckpt: dict) -> np.ndarray:
    """A real picture to check parity on: the style image the net was trained with, else a bundled one."""
    import cv2

    from stylecast.styles import bundled_styles

    candidates = [Path(ckpt.get("config", {}).get("style", ""))] + [s.thumbnail for s in bundled_styles() if s.thumbnail]
    for path in candidates:
        if path and path.is_file():
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                image = cv2.resize(image, (256, 256), interpolation=cv2.INTER_AREA)
                return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    raise StylecastError("no real image found to verify the export against (no style image, no bundled style)")


def export_checkpoint(checkpoint: Path, out: Path, fp16: bool = False, overwrite: bool = False) -> ExportReport:
    """`stylecast export`: a training checkpoint -> a verified ONNX file with its card."""
    from stylecast.train.checkpoint import load_checkpoint, net_from_checkpoint

    out = Path(out)
    with writable_folders([out.parent]):  # one made here is removed again if nothing is written there
        check_onnx_target(out, overwrite)
        ckpt = load_checkpoint(checkpoint)
        net = net_from_checkpoint(ckpt)
        card_fields = dict(ckpt.get("card") or {"name": out.stem, "width": net.width})
        card_fields["name"] = out.stem
        return export_onnx(net, out, StyleCard(**card_fields), _verify_image_for(ckpt), fp16=fp16)


_WEIGHTED_OPS = ("Conv", "ConvTranspose", "InstanceNormalization")


def _module_path(node_name: str) -> str:
    """``/net/residuals/residuals.0/conv1/conv/Conv`` -> ``residuals.0.conv1.conv`` (the exporter's scope names)."""
    parts = node_name.strip("/").split("/")[1:-1]  # drop the wrapper's "net" and the op's own name
    dotted = [i for i, part in enumerate(parts) if "." in part]
    start = dotted[-1] if dotted else 0
    return ".".join(parts[start:])


def _onnx_weights(model: onnx.ModelProto) -> dict[str, torch.Tensor]:
    """Each weighted layer's parameters by the PyTorch name of its module, found through the graph.

    The exporter may store a weight as a Constant node or share one between equal layers (untrained
    norms are all ones), so initializer names alone do not say which layer owns it; the node that reads it does.
    """
    values = weight_values(model.graph)  # initializers, folded (Constant) weights, fp16 casts, shared weights
    weights = {}
    for node in model.graph.node:
        if node.op_type not in _WEIGHTED_OPS:
            continue
        path = _module_path(node.name)
        for suffix, name in zip(("weight", "bias"), node.input[1:3]):
            if name in values:
                weights[f"{path}.{suffix}"] = torch.from_numpy(values[name].astype(np.float32))
    return weights


def load_onnx_net(path: Path) -> tuple[TransformerNet, StyleCard]:
    """An exported style back as a trainable TransformerNet (exact: the weights round-trip), with its card.

    Lets a shipped style be fine-tuned or distilled without the training run that made it.
    """
    net, card, _ = load_onnx_style(path)
    return net, card


def _read_style_model(path: Path) -> tuple[onnx.ModelProto, dict[str, str]]:
    """A style file and its metadata, or one line saying why it cannot be read."""
    try:
        model = onnx.load(str(path))
    except Exception as e:
        raise StylecastError(f"cannot load style model {path}: {str(e).splitlines()[0][:200]}") from e
    return model, {p.key: p.value for p in model.metadata_props}


def load_onnx_style(path: Path) -> tuple[TransformerNet, StyleCard, ModelContract]:
    """``load_onnx_net`` plus the model contract from the same file (what a runtime needs to feed the net)."""
    from stylecast.models.inference import training_form

    path = Path(path)
    if not path.is_file():
        raise StylecastError(f"style model not found: {path}")
    model, props = _read_style_model(path)
    if METADATA_CARD_KEY not in props:
        raise StylecastError(f"{path} has no stylecast style card: only models exported by stylecast can be trained again")
    card = StyleCard.from_json(props[METADATA_CARD_KEY])
    if parse_metadata(props)[0].styles:
        raise StylecastError(f"{path} is a multi-style network: it runs on onnxruntime or OpenVINO, and trains "
                             "with 'stylecast train --add-style'")
    weights = _onnx_weights(model)
    blocks = len({k.split(".")[1] for k in weights if k.startswith("residuals.")})
    template = TransformerNet(card.width, blocks, card.design, float(card.training.get("input_blur") or 0.0), card.bottleneck)
    fast = inference_form(template)
    weights = {k: v for k, v in weights.items() if not k.startswith("blur.")}  # a fixed blur, not learned
    try:
        fast.load_state_dict(weights)
    except RuntimeError as e:
        raise StylecastError(f"{path} is not the network its card describes (width {card.width} {card.design}): "
                             f"{str(e).splitlines()[0][:200]}") from e
    net = training_form(fast, template)
    # The round trip must give the file's weights back, to within storage: the bundled styles are rebuilt
    # from int8 copies (half a step of 127 per channel, then fp16). Biases are not compared: int8
    # calibration corrects each output channel's bias on its own, also the copies a fast layer repeats.
    for name, value in inference_form(net).state_dict().items():
        if name.endswith(".weight") and not torch.allclose(value, weights[name], atol=6e-3 * float(weights[name].abs().max())):
            raise StylecastError(f"cannot recover the trainable form of {path}: {name} does not round-trip")
    contract, _ = parse_metadata(props)
    return net, card, contract


class _MixedClampedOutput(nn.Module):
    def __init__(self, net: nn.Module, low: float, high: float) -> None:
        super().__init__()
        self.net, self.low, self.high = net, low, high

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return self.net(x, weights).clamp(self.low, self.high)


def _mixed_parity(path: Path, net, contract: ModelContract, image: np.ndarray, mixes: list) -> tuple[float, float]:
    """Max and mean abs difference of onnxruntime against PyTorch on ``image`` (RGB), over ``mixes``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.ascontiguousarray(image.transpose(2, 0, 1)[None]).astype(np.float32)
    errors = []
    for w in mixes:
        got = session.run([contract.output_name], {contract.input_name: x, contract.weights_name: w.numpy()})[0]
        with torch.no_grad():
            want = net(torch.from_numpy(x), w).clamp(*contract.value_range).numpy()
        errors.append(np.abs(got - want))
    return max(float(e.max()) for e in errors), float(np.mean([e.mean() for e in errors]))


def export_multistyle_onnx(net, path: Path, card: StyleCard, verify_image: np.ndarray) -> ExportReport:
    """A MultiStyleNet as ONNX: the frame input of any size plus the weights vector; verified against
    PyTorch on ``verify_image`` (HxWx3 uint8 RGB) for every painting one-hot and for an even mix."""
    contract = ModelContract(styles=tuple(net.styles))
    reference = net.float().eval()
    wrapped = _MixedClampedOutput(reference.inference_copy(), *contract.value_range).eval()
    axes = {0: "batch", 2: "height", 3: "width"}
    path = Path(path)
    with atomic_path(path) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapped, (torch.rand(1, 3, 64, 64) * 255, torch.ones(len(net.styles))), str(tmp), opset_version=OPSET,
                dynamo=False, input_names=[contract.input_name, contract.weights_name], output_names=[contract.output_name],
                dynamic_axes={contract.input_name: axes, contract.output_name: axes},
            )
        model = onnx.load(str(tmp))
        _add_metadata(model, contract, card)
        onnx.checker.check_model(model)
        onnx.save(model, str(tmp))
        mixes = [reference.one_hot(name) for name in net.styles] + [torch.ones(len(net.styles))]
        max_err, mean_err = _mixed_parity(tmp, reference, contract, verify_image, mixes)
        if max_err >= MAX_ABS_ERROR_FP32:
            raise StylecastError(f"ONNX export differs from PyTorch: max abs error {max_err:.3f} >= {MAX_ABS_ERROR_FP32}")
    return ExportReport(path, max_err, mean_err)


def _multistyle_weights(model: onnx.ModelProto) -> dict[str, torch.Tensor]:
    """The inference-form MultiStyleNet's parameters, by name, from an exported file or one rebuilt from
    its int8 copy (fp16-stored weights behind Casts; convolution weights renamed by the dequantizer)."""
    values = weight_values(model.graph)
    weights = {name.removeprefix("net."): value for name, value in values.items() if name.startswith("net.net.")}
    for node in model.graph.node:
        if node.op_type in ("Conv", "ConvTranspose"):  # the layer reading a weight names it, whatever its tensor is called
            for suffix, name in zip(("weight", "bias"), node.input[1:3]):
                if name in values:
                    weights[f"net.{_module_path(node.name)}.{suffix}"] = values[name]
    return {name: torch.from_numpy(value.astype(np.float32)) for name, value in weights.items()}


def paints(path: Path) -> tuple[str, ...]:
    """The paintings a multi-style network file mixes (none for a single-style one)."""
    return tuple(parse_metadata(_read_style_model(path)[1])[0].styles)


def load_multistyle(path: Path):
    """A multi-style network file back as a trainable MultiStyleNet (exact), with its card.

    The exporter names each weight after its parameter in the exported (inference-form) module, so
    the file's initializers load into that form by name and ``training_form`` undoes the rewrites.
    """
    from stylecast.models.inference import training_form
    from stylecast.models.multistyle import MultiStyleNet

    path = Path(path)
    model, props = _read_style_model(path)
    contract, card = parse_metadata(props)
    if not contract.styles or card is None:
        raise StylecastError(f"{path} is not a multi-style network (no paintings in its contract)")
    weights = _multistyle_weights(model)
    blocks = len({k.split(".")[2] for k in weights if k.startswith("net.residuals.")})
    template = MultiStyleNet(contract.styles, card.width, blocks, card.design, card.bottleneck)
    fast = template.inference_copy()
    try:  # by the names the network has: a rebuilt file also holds each fp16 original beside its cast
        fast.load_state_dict({name: value for name, value in weights.items() if name in fast.state_dict()})
    except RuntimeError as e:
        raise StylecastError(f"{path} is not the network its card describes: {str(e).splitlines()[0][:200]}") from e
    template.net = training_form(fast.net, template.net)
    return template.train(), card


def grow_multistyle_onnx(source: Path, path: Path, net, card: StyleCard, verify_image: np.ndarray) -> ExportReport:
    """``source`` (a multi-style file) with ``net``'s extra painting rows appended to its norm tables.

    Everything else is the source graph as it was (every weight the same bytes), so its paintings
    paint exactly as before; the new rows are checked against ``net`` on ``verify_image`` (RGB).
    """
    # fp32 tables to append to (a bundled network stores fp16 behind Casts: restoring them is exact)
    model = restore_fp32_weights(onnx.load(str(source)))
    contract, _ = parse_metadata({p.key: p.value for p in model.metadata_props})
    grown = ModelContract(**{**contract.__dict__, "styles": tuple(net.styles)})
    # named as the file names them: after models.inference's rewrites (a decoder norm moves up one place)
    params = {name: p.detach().float().cpu().numpy() for name, p in net.float().cpu().inference_copy().named_parameters()}
    for init in model.graph.initializer:
        key = init.name.removeprefix("net.")
        if key.endswith((".scale", ".shift")) and key in params:
            old = numpy_helper.to_array(init)
            new = params[key]
            if new.shape[0] <= old.shape[0] or new.shape[1:] != old.shape[1:]:
                raise StylecastError(f"{init.name}: the grown network's table {new.shape} does not extend {old.shape}")
            init.CopyFrom(numpy_helper.from_array(np.concatenate([old, new[old.shape[0]:]]).astype(old.dtype), init.name))
    for value in model.graph.input:
        if value.name == contract.weights_name:
            value.type.tensor_type.shape.dim[-1].dim_value = len(net.styles)
    del model.graph.value_info[:]  # shapes inferred for the old painting count (int8 rebuilds carry them)
    _add_metadata(model, grown, card)
    path = Path(path)
    with atomic_path(path) as tmp:
        onnx.checker.check_model(model)
        onnx.save(model, str(tmp))
        new_rows = [net.one_hot(name) for name in net.styles[len(contract.styles):]]
        max_err, mean_err = _mixed_parity(tmp, net.float().eval(), grown, verify_image, new_rows)
        if max_err >= MAX_ABS_ERROR_FP32:
            raise StylecastError(f"the grown network differs from PyTorch: max abs error {max_err:.3f}")
    return ExportReport(path, max_err, mean_err)
