"""The feed-forward transformation network of Johnson et al. 2016, with the usual fixes.

Instance norm instead of batch norm (Ulyanov et al.) and nearest upsampling followed by a
convolution instead of transposed convolutions, which leave checkerboard artifacts (Odena et al.).
Input and output are RGB images on the 0-255 scale, NCHW; height and width must be multiples of
``SIZE_MULTIPLE`` (two stride-2 convolutions, two 2x upsamplings).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from stylecast.contract import NETWORK_DESIGNS


class ConvLayer(nn.Module):
    """Reflection-padded convolution: zero padding would darken the borders of every frame."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x))


class ConvNormReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, upsample: bool = False) -> None:
        layers: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="nearest")] if upsample else []
        layers += [ConvLayer(cin, cout, kernel, stride), nn.InstanceNorm2d(cout, affine=True), nn.ReLU()]
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.norm1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, 3)
        self.norm2 = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        return x + self.norm2(self.conv2(y))


class BottleneckBlock(nn.Module):
    """A residual block that squeezes to ``mid`` channels (1x1), mixes space there (3x3), expands (1x1).

    With mid = channels / 2 it costs a fifth of a ResidualBlock's multiply-adds; the five residual
    blocks were 70% of a full-width net, so this is what lets a full-width net reach 12 fps on 2 cores.
    """

    def __init__(self, channels: int, mid: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(channels, mid, 1)
        self.norm1 = nn.InstanceNorm2d(mid, affine=True)
        self.conv = ConvLayer(mid, mid, 3)
        self.norm2 = nn.InstanceNorm2d(mid, affine=True)
        self.expand = nn.Conv2d(mid, channels, 1)
        self.norm3 = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.squeeze(x)))
        y = F.relu(self.norm2(self.conv(y)))
        return x + self.norm3(self.expand(y))


class InputBlur(nn.Module):
    """Fixed Gaussian blur of the input frame (no weights to learn).

    Camera noise and codec blocks change from frame to frame, and the network turns them into
    strokes that appear and vanish: flicker. Blurring them away before the first layer removes
    that source; the style's strokes still come from the network, so the style barely changes.
    """

    def __init__(self, sigma: float) -> None:
        super().__init__()
        radius = max(1, round(3 * sigma))
        taps = torch.exp(-torch.arange(-radius, radius + 1, dtype=torch.float32) ** 2 / (2 * sigma ** 2))
        # Not saved in state dicts: it follows from sigma, and nets with and without it share weights.
        self.register_buffer("taps", (taps / taps.sum()).repeat(3, 1, 1, 1), persistent=False)  # (3, 1, 1, k)
        self.sigma, self.radius = sigma, radius

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (self.radius,) * 4, mode="reflect")
        x = F.conv2d(x, self.taps.to(x.dtype), groups=3)
        return F.conv2d(x, self.taps.to(x.dtype).transpose(2, 3), groups=3)


class TransformerNet(nn.Module):
    """Image transformation network; ``width`` scales every channel count (32 = Johnson's net).

    ``design="shuffle"`` is the CPU real-time variant: no convolution at full resolution. On CPU
    the 9x9 first and last layers (3 channels in or out, which vectorize badly) took half the time
    of a width-8 net, so 2x2 pixel blocks are folded into channels on the way in (space-to-depth)
    and the last convolution predicts 2x2 blocks on the way out (depth-to-space).
    ``bottleneck`` > 0 builds the residual blocks as BottleneckBlocks squeezing to that many channels.
    """

    def __init__(self, width: int = 32, residual_blocks: int = 5, design: str = "johnson", input_blur: float = 0.0,
                 bottleneck: int = 0) -> None:
        super().__init__()
        if design not in NETWORK_DESIGNS:
            raise ValueError(f"unknown design {design!r}: use one of {', '.join(NETWORK_DESIGNS)}")
        if input_blur < 0:
            raise ValueError(f"input_blur is a Gaussian sigma in pixels, not {input_blur}")
        if bottleneck < 0:
            raise ValueError(f"bottleneck is a channel count (0: plain residual blocks), not {bottleneck}")
        self.width = width
        self.bottleneck = bottleneck
        self.input_blur = input_blur
        self.residual_blocks = residual_blocks
        self.design = design
        w = width
        if design == "johnson":
            encoder = nn.Sequential(
                ConvNormReLU(3, w, 9),
                ConvNormReLU(w, 2 * w, 3, stride=2),
                ConvNormReLU(2 * w, 4 * w, 3, stride=2),
            )
            decoder = nn.Sequential(
                ConvNormReLU(4 * w, 2 * w, 3, upsample=True),
                ConvNormReLU(2 * w, w, 3, upsample=True),
                ConvLayer(w, 3, 9),
            )
        else:
            encoder = nn.Sequential(
                nn.PixelUnshuffle(2),  # (3, H, W) -> (12, H/2, W/2)
                ConvNormReLU(12, 2 * w, 5),
                ConvNormReLU(2 * w, 4 * w, 3, stride=2),
            )
            decoder = nn.Sequential(
                ConvNormReLU(4 * w, 2 * w, 3, upsample=True),
                ConvLayer(2 * w, 12, 5),
                nn.PixelShuffle(2),  # (12, H/2, W/2) -> (3, H, W)
            )
        # Registered in this order: saved optimizer states follow the parameter order.
        self.encoder = encoder
        self.residuals = nn.Sequential(*(BottleneckBlock(4 * w, bottleneck) if bottleneck else ResidualBlock(4 * w)
                                         for _ in range(residual_blocks)))
        self.decoder = decoder
        self.blur = InputBlur(input_blur) if input_blur > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (N, 3, H, W) RGB 0-255 -> (N, 3, H, W) RGB, roughly 0-255 (clamped only at export)
        return self.decoder(self.residuals(self.encoder(self.blur(x))))
