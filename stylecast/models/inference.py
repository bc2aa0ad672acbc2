"""Exact, cheaper forms of two TransformerNet layers, swapped in when a net is exported.

Both rewrites compute the same function with the same weights (rearranged), so a trained net
needs no retraining; export's parity check against the plain PyTorch net proves it each time.
Measured with OpenVINO int8 on a 2-core AVX512-VNNI CPU at 640x480 (width 32): 145 -> 117 ms.

* Nearest 2x upsample + reflection-padded 3x3 conv. After the upsample each output pixel sees
  only a 2x2 block of the low-resolution input, with weights that depend on the pixel's row and
  column parity: that is a stride-2 transposed convolution with a 4x4 kernel, 16 instead of 36
  multiply-adds per low-resolution pixel and channel pair. Reflection padding of the upsampled
  image equals edge padding of the low-resolution one, so borders match too. (Trained as a
  transposed conv it would grow checkerboards; built from an upsample + conv it cannot.)
* The last 9x9 conv has 3 output channels, which CPU kernels vectorize badly (it took 20% of the
  net). Predicting each 2x2 output block at once (a stride-2 conv with 12 output channels, then
  depth-to-space) does the same sums with the output channels the hardware wants.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from stylecast.models.transformer import ConvLayer, TransformerNet

# _TAPS[a][t][k]: for output row parity a, kernel row k of the 3x3 conv reads low-resolution
# row t of the 2x2 window whose rows are i - 1 + a and i + a (i: the output row // 2).
_TAPS = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]],
                      [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])
# Few output channels: CPU convolution kernels work in blocks of 8-16 output channels.
FEW_CHANNELS = 4


class UpsampleConvTransposed(nn.Module):
    """``layer(nn.Upsample(scale_factor=2, mode="nearest")(x))`` for a 3x3 stride-1 ConvLayer."""

    def __init__(self, layer: ConvLayer) -> None:
        super().__init__()
        conv = layer.conv
        if conv.kernel_size != (3, 3) or conv.stride != (1, 1):
            raise ValueError("only a 3x3 stride-1 convolution after a 2x upsample has this form")
        weight = conv.weight.detach().float()  # (out, in, 3, 3)
        self.conv = nn.ConvTranspose2d(weight.shape[1], weight.shape[0], 4, stride=2, padding=3)
        with torch.no_grad():
            self.conv.weight.copy_(self._from_weight(weight))
            self.conv.bias.copy_(conv.bias.detach().float())

    @staticmethod
    def _from_weight(weight: torch.Tensor) -> torch.Tensor:
        """The transposed kernel (in, out, 4, 4) computing the 3x3 conv ``weight`` (out, in, 3, 3) after the upsample."""
        kernel = torch.zeros(weight.shape[1], weight.shape[0], 4, 4)
        for a in (0, 1):
            for b in (0, 1):
                phase = torch.einsum("ty,ux,oiyx->iotu", _TAPS[a], _TAPS[b], weight)  # (in, out, 2, 2)
                # a transposed conv adds input row r through kernel row k into output row
                # 2r + k - padding: window row t of phase a lands on kernel row 3 - a - 2t
                for t in (0, 1):
                    for u in (0, 1):
                        kernel[:, :, 3 - a - 2 * t, 3 - b - 2 * u] = phase[:, :, t, u]
        return kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (1, 1, 1, 1), mode="replicate"))


class BlockOutputConv(nn.Module):
    """A reflection-padded stride-1 ConvLayer computed as one conv per 2x2 output block."""

    def __init__(self, layer: ConvLayer) -> None:
        super().__init__()
        conv = layer.conv
        k = conv.kernel_size[0]
        if conv.stride != (1, 1) or conv.kernel_size != (k, k) or k % 2 == 0:
            raise ValueError("only a stride-1 convolution with an odd square kernel has this form")
        weight = conv.weight.detach().float()
        out, cin = weight.shape[:2]
        self.half = k // 2
        # One (k + 1)-wide kernel per position (a, b) in the 2x2 block, holding the original kernel
        # shifted by (a, b); k + 1 is even, so the stride-2 conv yields exactly H / 2 rows.
        kernel = torch.zeros(out, 2, 2, cin, k + 1, k + 1)
        for a in (0, 1):
            for b in (0, 1):
                kernel[:, a, b, :, a:a + k, b:b + k] = weight
        self.conv = nn.Conv2d(cin, out * 4, k + 1, stride=2)
        with torch.no_grad():
            self.conv.weight.copy_(kernel.reshape(out * 4, cin, k + 1, k + 1))
            self.conv.bias.copy_(conv.bias.detach().float().repeat_interleave(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.conv(F.pad(x, (self.half,) * 4, mode="reflect")), 2)


def _swap(stage: nn.Sequential) -> None:
    for i, block in enumerate(stage):
        if isinstance(block, nn.Sequential) and len(block) > 1 and isinstance(block[0], nn.Upsample) \
                and block[0].mode == "nearest" and float(block[0].scale_factor) == 2.0 \
                and isinstance(block[1], ConvLayer) and block[1].conv.kernel_size == (3, 3):
            stage[i] = nn.Sequential(UpsampleConvTransposed(block[1]), *list(block)[2:])
        elif isinstance(block, ConvLayer) and block.conv.out_channels <= FEW_CHANNELS and block.conv.stride == (1, 1):
            stage[i] = BlockOutputConv(block)


def inference_form(net: TransformerNet) -> nn.Module:
    """A copy of ``net`` computing the same function faster; ``net`` itself is left as it is."""
    fast = copy.deepcopy(net).float().eval()
    for stage in (fast.encoder, fast.decoder):
        _swap(stage)
    return fast


def _upsample_conv_weight(kernel: torch.Tensor) -> torch.Tensor:
    """Inverse of UpsampleConvTransposed's kernel: (in, out, 4, 4) -> the 3x3 conv's (out, in, 3, 3)."""
    # Each of the 16 transposed taps is a sum of 3x3 taps (the forward map above); solve it back.
    basis = torch.eye(9).reshape(9, 1, 1, 3, 3)
    forward = torch.stack([UpsampleConvTransposed._from_weight(b).reshape(16) for b in basis], 1)  # (16, 9)
    cin, out = kernel.shape[:2]
    flat = kernel.detach().float().permute(2, 3, 0, 1).reshape(16, cin * out)
    solved = torch.linalg.lstsq(forward, flat).solution  # (9, in * out)
    return solved.reshape(3, 3, cin, out).permute(3, 2, 0, 1).contiguous()


def training_form(fast: nn.Module, template: TransformerNet) -> TransformerNet:
    """The plain TransformerNet whose inference_form is ``fast``: an exported style made trainable again.

    ``template`` fixes the architecture (its weights are overwritten in a copy).
    """
    net = copy.deepcopy(template).float()
    for plain_stage, fast_stage in ((net.encoder, fast.encoder), (net.decoder, fast.decoder)):
        for plain, rewritten in zip(plain_stage, fast_stage):
            if isinstance(rewritten, BlockOutputConv):
                out = plain.conv.out_channels
                k = plain.conv.kernel_size[0]
                weight = rewritten.conv.weight.detach().reshape(out, 2, 2, -1, k + 1, k + 1)[:, 0, 0, :, :k, :k]
                # the four copies of each bias may differ a little (int8 bias correction): their mean
                _set(plain.conv, weight, rewritten.conv.bias.detach().reshape(out, 4).mean(1))
            elif isinstance(rewritten, nn.Sequential) and isinstance(rewritten[0], UpsampleConvTransposed):
                _set(plain[1].conv, _upsample_conv_weight(rewritten[0].conv.weight), rewritten[0].conv.bias.detach())
                for a, b in zip(list(plain)[2:], list(rewritten)[1:]):
                    a.load_state_dict(b.state_dict())
            else:
                plain.load_state_dict(rewritten.state_dict())
    net.residuals.load_state_dict(fast.residuals.state_dict())
    return net.eval()


def _set(conv: nn.Conv2d, weight: torch.Tensor, bias: torch.Tensor) -> None:
    with torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
