"""VGG16 convolutional base as a feature extractor for perceptual losses (no torchvision)."""
from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn
from torch.nn import functional as F

# (block, convs per block, channels): configurations "D" (VGG16) and "E" (VGG19) of Simonyan & Zisserman.
VGG16_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))
VGG19_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 4, 256), (4, 4, 512), (5, 4, 512))


def conv_names(blocks: tuple[tuple[int, int, int], ...]) -> tuple[str, ...]:
    return tuple(f"conv{b}_{i}" for b, n, _ in blocks for i in range(1, n + 1))


def torchvision_conv_indices(blocks: tuple[tuple[int, int, int], ...]) -> tuple[int, ...]:
    """Positions of the convolutions in torchvision's ``features`` (conv, ReLU, ..., pool per block)."""
    indices, at = [], 0
    for _, n, _ in blocks:
        for _ in range(n):
            indices.append(at)
            at += 2
        at += 1
    return tuple(indices)


CONV_NAMES = conv_names(VGG16_BLOCKS)
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")

# Caffe preprocessing, which the original (Keras/Caffe) VGG16 weights were trained with:
# BGR order, 0-255 scale, per-channel ImageNet mean removed, no std scaling.
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
# torchvision's weights expect RGB on 0-1, normalized by mean and std.
TORCHVISION_RGB_MEAN = (0.485, 0.456, 0.406)
TORCHVISION_RGB_STD = (0.229, 0.224, 0.225)


class VGGFeatures(nn.Module):
    """VGG conv layers; ``forward`` takes RGB 0-255 and returns the requested activations.

    ``preprocessing`` is "caffe" or "torchvision" and must match where the weights came from.
    """

    blocks: tuple[tuple[int, int, int], ...] = VGG16_BLOCKS

    def __init__(self, preprocessing: str = "caffe") -> None:
        super().__init__()
        self.layers = nn.ModuleDict()
        cin = 3
        for block, n, cout in self.blocks:
            for i in range(1, n + 1):
                self.layers[f"conv{block}_{i}"] = nn.Conv2d(cin, cout, 3, padding=1)
                cin = cout
        self.order: list[str] = []
        for block, n, _ in self.blocks:
            for i in range(1, n + 1):
                self.order += [f"conv{block}_{i}", f"relu{block}_{i}"]
            self.order.append(f"pool{block}")
        self.set_preprocessing(preprocessing)

    def set_preprocessing(self, preprocessing: str) -> None:
        if preprocessing == "caffe":
            mean, scale, flip = torch.tensor(CAFFE_BGR_MEAN[::-1]), torch.ones(3), True
        elif preprocessing == "torchvision":
            mean = torch.tensor(TORCHVISION_RGB_MEAN) * 255
            scale = 1 / (torch.tensor(TORCHVISION_RGB_STD) * 255)
            flip = False
        else:
            raise ValueError(f"unexpected preprocessing: {preprocessing!r} not in ('caffe', 'torchvision')")
        self.preprocessing = preprocessing
        self.flip_to_bgr = flip
        # mean and scale are given in RGB order; flipping happens after normalization.
        self.register_buffer("mean", mean.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", scale.view(1, 3, 1, 1), persistent=False)

    def normalize(self, rgb255: torch.Tensor) -> torch.Tensor:
        x = (rgb255 - self.mean) * self.scale
        return x.flip(1) if self.flip_to_bgr else x

    def forward(self, rgb255: torch.Tensor, layers: Iterable[str] = STYLE_LAYERS) -> dict[str, torch.Tensor]:
        wanted = set(layers)
        unknown = wanted - set(self.order)
        if unknown:
            raise ValueError(f"unexpected VGG16 layers: {sorted(unknown)}")
        out: dict[str, torch.Tensor] = {}
        x = self.normalize(rgb255)
        for name in self.order:
            if name.startswith("conv"):
                x = self.layers[name](x)
            elif name.startswith("relu"):
                x = F.relu(x)
            else:
                x = F.max_pool2d(x, 2)
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return out


class VGG16Features(VGGFeatures):
    blocks = VGG16_BLOCKS


class VGG19Features(VGGFeatures):
    blocks = VGG19_BLOCKS
