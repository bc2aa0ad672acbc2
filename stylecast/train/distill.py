"""Distillation: train a cheaper network to paint exactly as a trained style does.

Training a style from scratch takes thousands of steps of VGG losses (a GPU's work). Matching a
trained network needs no VGG: the teacher is the style's own ONNX file made trainable again
(``export.onnx.load_onnx_net``, exact), so a cheaper design can take over a shipped style on a CPU.
When the student shares the teacher's ends (same width and design), it starts from the teacher's
encoder and decoder, and each of its residual blocks also learns to map the teacher's block input
to that block's output: every block gets a direct target, and the blocks learn in parallel.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from stylecast.contract import StyleCard
from stylecast.errors import StylecastError
from stylecast.models.transformer import TransformerNet
from stylecast.models.vgg import STYLE_LAYERS, VGG16Features

# Block features are O(1) and pixels 0-255: this puts the two terms on a par at the start.
BLOCK_WEIGHT = 1e4


class Teacher(nn.Module):
    """A trained style network, frozen; gives its painting and the activations between residual blocks."""

    def __init__(self, model: Path) -> None:
        from stylecast.export.onnx import load_onnx_net

        super().__init__()
        self.model = Path(model)
        net, self.card = load_onnx_net(self.model)
        self.net = net.requires_grad_(False).eval()

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        net = self.net
        acts = [net.encoder(net.blur(x))]
        for block in net.residuals:
            acts.append(block(acts[-1]))
        return net.decoder(acts[-1]), acts


def shares_ends(student: TransformerNet, teacher: TransformerNet) -> bool:
    same = ("width", "design", "input_blur")
    return all(getattr(student, k) == getattr(teacher, k) for k in same) and len(student.residuals) == len(teacher.residuals)


def adopt_ends(student: TransformerNet, teacher: TransformerNet) -> None:
    """Start the student from the teacher's encoder and decoder (the two must ``shares_ends``)."""
    student.encoder.load_state_dict(teacher.encoder.state_dict())
    student.decoder.load_state_dict(teacher.decoder.state_dict())


def distill_loss(student: TransformerNet, x: torch.Tensor, teacher: Teacher, blockwise: bool,
                 texture: tuple[VGG16Features, float] | None = None) -> dict[str, torch.Tensor]:
    """Pixel MSE to the teacher's painting (0-255 scale), plus per-block feature MSE when ``blockwise``.

    ``texture`` (vgg, weight) adds the style loss of the student's painting against the Grams of the
    teacher's painting of the same photo: pixel MSE alone lets a smaller student smooth the strokes.
    """
    from stylecast.train.losses import gram_matrix, style_loss

    target, acts = teacher(x)
    y = student(x)
    terms = {"distill": torch.mean((y.float() - target.float()) ** 2)}
    total = terms["distill"]
    if texture is not None:
        vgg, weight = texture
        with torch.no_grad():
            grams = {name: gram_matrix(f) for name, f in vgg(target, STYLE_LAYERS).items()}
        terms["texture"] = weight * style_loss(vgg(y, STYLE_LAYERS), grams)
        total = total + terms["texture"]
    if blockwise:
        errors = [torch.mean((block(a).float() - b.float()) ** 2) for block, a, b in zip(student.residuals, acts, acts[1:])]
        terms["blocks"] = BLOCK_WEIGHT * torch.stack(errors).mean()
        total = total + terms["blocks"]
    terms["total"] = total
    return terms


def teacher_summary(teacher: Teacher | None) -> dict | None:
    """What a distilled style was distilled from, for its card."""
    if teacher is None:
        return None
    card: StyleCard = teacher.card
    return {"model": teacher.model.name, "name": card.name, "width": card.width, "design": card.design,
            "bottleneck": card.bottleneck, "style_ratio": card.evaluation.get("style_ratio")}


def agreement_db(student: Path, teacher: Path, data: Path, size: tuple[int, int] = (640, 480), limit: int = 12) -> float:
    """Mean PSNR of the student's paintings against the teacher's on held-out photos, both in fp32."""
    from stylecast.export.quantize import calibration_frames
    from stylecast.realtime.backends import OnnxRuntimeBackend, psnr
    from stylecast.realtime.stylizer import Stylizer

    frames = calibration_frames(Path(data), limit, size)  # the photos as a camera would deliver them
    if not frames:
        raise StylecastError(f"no readable photos under {data}")
    a, b = Stylizer(OnnxRuntimeBackend(Path(student))), Stylizer(OnnxRuntimeBackend(Path(teacher)))
    return float(np.mean([psnr(a(frame), b(frame)) for frame in frames]))
