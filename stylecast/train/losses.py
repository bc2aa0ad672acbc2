"""Perceptual losses of Johnson et al. 2016 and Gatys et al. 2015, on VGG16 features.

Every function returns new tensors and leaves its inputs alone; ``PerceptualLoss`` returns a dict
of named, weighted terms plus ``total``. Grams and losses are computed in float32 even under
bf16 autocast, because Gram entries are sums over H*W products and lose too much in bf16.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from stylecast.machine import check_memory
from stylecast.models.vgg import STYLE_LAYERS, VGG16Features


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C), normalized by C*H*W so layers and sizes are comparable."""
    n, c, h, w = features.shape
    f = features.float().reshape(n, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def style_loss(features: dict[str, torch.Tensor], target_grams: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum over layers of the squared Frobenius distance between Grams, averaged over the batch."""
    total = torch.zeros((), device=next(iter(features.values())).device)
    for name, target in target_grams.items():
        g = gram_matrix(features[name])
        total = total + ((g - target) ** 2).sum(dim=(1, 2)).mean()
    return total


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(features.float(), target.float())


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels: penalizes high-frequency noise."""
    x = image.float()
    dh = (x[:, :, 1:, :] - x[:, :, :-1, :]) ** 2
    dw = (x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2
    return dh.mean() + dw.mean()


@dataclass(frozen=True)
class LossWeights:
    # Balanced on Caffe-preprocessed VGG16 features: content MSE at relu2_2 starts near 1e5,
    # the style sum near 3e10, so 5e-5 puts them on the same footing.
    content: float = 1.0
    style: float = 5e-5
    tv: float = 1.0


# Peak memory per pixel scored with gradients through VGG16 on the CPU (float32: its activations, their
# gradients, the optimizer's state), with a margin: paint took 2.2 GB at 1024 px, train 3.0 GB for two
# 768 px crops (/usr/bin/time).
VGG_BYTES_PER_PIXEL = 2500


def check_vgg_memory(device: torch.device, pixels: float, doing: str, advice: str) -> None:
    """On the CPU, refuse in one line work whose ``pixels`` (scored with gradients) would not fit in
    free memory: the kernel would kill it minutes in, silently. A GPU says so itself, at once."""
    if device.type == "cpu":
        check_memory(pixels * VGG_BYTES_PER_PIXEL, doing, advice)


def check_crops_memory(device: torch.device, batch: int, size: int, here: int | None = None, style_side: int = 0) -> None:
    """``check_vgg_memory`` for a training step: ``batch`` crops of ``size`` px (``here`` of them in this
    process, under torchrun) and a style image of ``style_side``."""
    check_vgg_memory(device, (batch if here is None else here) * size ** 2 + style_side ** 2,
                     f"training {batch} crops of {size} px", "give a smaller --size or --batch")


class PerceptualLoss(nn.Module):
    """Content + style + total-variation loss against one or more fixed style images."""

    def __init__(
        self,
        vgg: VGG16Features,
        style_images: Sequence[torch.Tensor],
        weights: LossWeights = LossWeights(),
        content_layer: str = "relu2_2",
        style_layers: Sequence[str] = STYLE_LAYERS,
        style_mix: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.vgg = vgg
        self.weights = weights
        self.content_layer = content_layer
        self.style_layers = tuple(style_layers)
        mix = list(style_mix) if style_mix is not None else [1.0] * len(style_images)
        if len(mix) != len(style_images):
            raise ValueError(f"unexpected style weights: {len(mix)} != {len(style_images)} images")
        total = sum(mix)
        grams: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            for image, m in zip(style_images, mix):
                feats = vgg(image, self.style_layers)
                for name in self.style_layers:
                    g = gram_matrix(feats[name]) * (m / total)
                    grams[name] = grams[name] + g if name in grams else g
        # Style targets are computed once; buffers follow the module across devices.
        for name, g in grams.items():
            self.register_buffer(f"gram_{name}", g, persistent=False)

    @property
    def target_grams(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, f"gram_{name}") for name in self.style_layers}

    def content_target(self, content: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.vgg(content, [self.content_layer])[self.content_layer]

    def forward(self, output: torch.Tensor, content: torch.Tensor | None = None,
                content_features: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Losses of ``output`` against the content image (or its precomputed features)."""
        if content_features is None:
            if content is None:
                raise ValueError("give content or content_features")
            content_features = self.content_target(content)
        feats = self.vgg(output, set(self.style_layers) | {self.content_layer})
        terms = {
            "content": self.weights.content * content_loss(feats[self.content_layer], content_features),
            "style": self.weights.style * style_loss(feats, self.target_grams),
            "tv": self.weights.tv * total_variation(output),
        }
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        return terms


def random_small_warp(batch: int, max_shift: float = 0.02, max_angle: float = 0.02, generator: torch.Generator | None = None) -> torch.Tensor:
    """Affine matrices (N, 2, 3) for tiny shifts/rotations, the motion between video frames."""
    g = generator
    angle = (torch.rand(batch, generator=g) * 2 - 1) * max_angle
    shift = (torch.rand(batch, 2, generator=g) * 2 - 1) * max_shift
    cos, sin = torch.cos(angle), torch.sin(angle)
    return torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)


def apply_warp(images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid.to(images.device), mode="bilinear", padding_mode="reflection", align_corners=False)


def random_pixel_shift(max_shift: int = 4, generator: torch.Generator | None = None) -> tuple[int, int]:
    """A whole-pixel move (dy, dx), not both zero: the sub-stride phase changes that make a
    strided network's strokes jump between video frames."""
    while True:
        dy, dx = (torch.randint(-max_shift, max_shift + 1, (2,), generator=generator)).tolist()
        if dy or dx:
            return dy, dx


def shift_image(images: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Move content by (dy, dx) pixels, filling the uncovered border by reflection."""
    pad = max(abs(dy), abs(dx))
    padded = F.pad(images, (pad, pad, pad, pad), mode="reflect")
    h, w = images.shape[-2:]
    return padded[..., pad - dy : pad - dy + h, pad - dx : pad - dx + w]


def stability_loss(net: nn.Module, content: torch.Tensor, output: torch.Tensor, noise: float = 4.0, mode: str = "shift") -> torch.Tensor:
    """Gupta et al. 2017 / Huang et al. 2017: stylizing a slightly moved, noisier frame should give
    the moved stylization of the original frame. Trains flicker out of the network itself.

    ``shift`` moves by whole pixels, so the moved target is exact and the network is not taught to
    blur; ``affine`` uses tiny rotations and sub-pixel shifts, whose bilinear target is softer."""
    if mode == "shift":
        dy, dx = random_pixel_shift()
        moved = shift_image(content, dy, dx)
        target = shift_image(output, dy, dx)
        # The reflected border is not a real move of the picture: compare the interior only.
        m = max(abs(dy), abs(dx)) + 4
        inner = (..., slice(m, -m), slice(m, -m))
    elif mode == "affine":
        theta = random_small_warp(content.shape[0]).to(content.device)
        moved = apply_warp(content, theta)
        target = apply_warp(output, theta)
        inner = (...,)
    else:
        raise ValueError(f"unknown stability mode {mode!r}: use shift or affine")
    moved = moved + noise * torch.randn_like(moved)
    return F.mse_loss(net(moved).float()[inner], target.float()[inner])
