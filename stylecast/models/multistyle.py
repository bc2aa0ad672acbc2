"""One network for many paintings: conditional instance norm (Dumoulin et al., ICLR 2017).

Every convolution is shared; each instance norm keeps one row of scale and shift per painting, and
the row it uses is the style-weights vector times that table. A one-hot vector gives one painting,
any other non-negative vector a blend of them, all in one forward pass at the cost of one style.
The convolutions are a TransformerNet's, under the same names, so a trained single-style network
(say ``cafe_terrace_rt``) can seed them and a single painting can be taken back out as a plain net.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from stylecast.models.transformer import TransformerNet

EPS = 1e-5  # nn.InstanceNorm2d's, so a painting taken out as a plain net computes the same


class ConditionalInstanceNorm(nn.Module):
    """Instance norm whose affine is ``weights @ scale`` and ``weights @ shift`` (one row per painting)."""

    def __init__(self, channels: int, styles: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(styles, channels))
        self.shift = nn.Parameter(torch.zeros(styles, channels))
        # (batch or 1, styles), summing to 1; set by MultiStyleNet.forward for the whole net at once,
        # because the TransformerNet's blocks call their norms with the features alone.
        self.weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.weights is None:
            raise RuntimeError("a conditional instance norm runs inside MultiStyleNet.forward, which sets its weights")
        w = self.weights.to(self.scale.dtype)
        scale = (w @ self.scale)[:, :, None, None]
        shift = (w @ self.shift)[:, :, None, None]
        return F.instance_norm(x, eps=EPS) * scale + shift


def _replace_norms(module: nn.Module, styles: int) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.InstanceNorm2d):
            setattr(module, name, ConditionalInstanceNorm(child.num_features, styles))
        else:
            _replace_norms(child, styles)


class MultiStyleNet(nn.Module):
    """``net(x, weights)``: x (N, 3, H, W) RGB 0-255; weights (S,), (1, S) or (N, S), non-negative, any sum > 0."""

    def __init__(self, styles: Sequence[str], width: int = 8, residual_blocks: int = 5, design: str = "shuffle",
                 bottleneck: int = 0) -> None:
        super().__init__()
        if not styles or len(set(styles)) != len(styles):
            raise ValueError(f"a multi-style net needs distinct painting names, not {list(styles)}")
        self.styles = tuple(styles)
        self.net = TransformerNet(width, residual_blocks, design, 0.0, bottleneck)
        _replace_norms(self.net, len(self.styles))

    @property
    def norms(self) -> list[ConditionalInstanceNorm]:
        return [m for m in self.net.modules() if isinstance(m, ConditionalInstanceNorm)]

    def one_hot(self, name: str) -> torch.Tensor:
        w = torch.zeros(len(self.styles))
        w[self.styles.index(name)] = 1.0
        return w

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        # (1, -1), not (-1, S): the exported graph then holds no painting count but its input's, and
        # a painting added later (train.multistyle.add_style) only widens that input and the tables.
        w = (weights if weights.dim() == 2 else weights.reshape(1, -1)).float()
        w = w / w.sum(dim=1, keepdim=True)  # a mix is a convex blend whatever the caller's scale
        for norm in self.norms:
            norm.weights = w
        return self.net(x)

    def adopt(self, single: TransformerNet, rows: Sequence[int] | None = None) -> None:
        """Take ``single``'s convolutions, and its norms' affine as the rows ``rows`` (default: every painting)."""
        rows = range(len(self.styles)) if rows is None else rows
        theirs = dict(single.named_modules())
        with torch.no_grad():
            for name, mine in self.net.named_modules():
                other = theirs.get(name)
                if isinstance(mine, ConditionalInstanceNorm) and isinstance(other, nn.InstanceNorm2d):
                    for r in rows:
                        mine.scale[r].copy_(other.weight)
                        mine.shift[r].copy_(other.bias)
                elif isinstance(mine, nn.Conv2d) and isinstance(other, nn.Conv2d):
                    mine.load_state_dict(other.state_dict())

    def single(self, name: str) -> TransformerNet:
        """Painting ``name`` alone as a plain TransformerNet (the same output as its one-hot weights)."""
        i = self.styles.index(name)
        t = self.net
        plain = TransformerNet(t.width, t.residual_blocks, t.design, 0.0, t.bottleneck)
        mine = dict(self.net.named_modules())
        with torch.no_grad():
            for name_, module in plain.named_modules():
                source = mine[name_] if name_ else self.net
                if isinstance(module, nn.InstanceNorm2d):
                    module.weight.copy_(source.scale[i])
                    module.bias.copy_(source.shift[i])
                elif isinstance(module, nn.Conv2d):
                    module.load_state_dict(source.state_dict())
        return plain

    def inference_copy(self) -> "MultiStyleNet":
        """A copy whose convolutions take models.inference's exact faster forms (what export writes)."""
        from stylecast.models.inference import inference_form

        fast = copy.deepcopy(self)
        fast.net = inference_form(fast.net)
        return fast.eval()
