"""Distillation: train a cheaper network to paint exactly as a trained style does.

Training a style from scratch takes thousands of steps of VGG losses (a GPU's work). Matching a
trained network needs no VGG: the teacher is the style's own ONNX file made trainable again
(``export.onnx.load_onnx_net``, exact), so a cheaper design can take over a shipped style on a CPU.
Where the student's residual blocks carry as many channels as the teacher's, every stage gets a
direct target and the stages learn in parallel: each residual block maps the teacher's block input
to that block's output. A student with the teacher's ends (same width and design) starts from the
teacher's encoder and decoder; one with other ends (say the shuffle design) starts from the layers
that have the teacher's shapes, its encoder learns the teacher's encoder output, and its decoder
learns to paint from the teacher's last block output.
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


# What the student can learn beside the final painting (see distill_plan).
PLANS = ("pixels", "blocks", "stages")


def shares_ends(student: TransformerNet, teacher: TransformerNet) -> bool:
    same = ("width", "design", "input_blur")
    return all(getattr(student, k) == getattr(teacher, k) for k in same) and len(student.residuals) == len(teacher.residuals)


def distill_plan(student: TransformerNet, teacher: TransformerNet) -> str:
    """"blocks": the ends are the teacher's, so only the blocks need their own targets; "stages": the
    block activations have the teacher's shape, so encoder, blocks and decoder all get targets;
    "pixels": nothing lines up, only the painting is matched."""
    if shares_ends(student, teacher):
        return "blocks"
    if student.width == teacher.width and len(student.residuals) == len(teacher.residuals):
        return "stages"
    return "pixels"


def adopt_ends(student: TransformerNet, teacher: TransformerNet) -> None:
    """Start the student's encoder and decoder from every teacher tensor of the same name and shape.

    All of them when the two ``shares_ends``; for other ends, the layers next to the residual blocks
    (same channels, same kernel) usually match.
    """
    for mine, theirs in ((student.encoder, teacher.encoder), (student.decoder, teacher.decoder)):
        source = theirs.state_dict()
        state = mine.state_dict()
        for name, tensor in state.items():
            if name in source and source[name].shape == tensor.shape:
                state[name] = source[name].clone()
        mine.load_state_dict(state)


def _mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.mean((a.float() - b.float()) ** 2)


def distill_loss(student: TransformerNet, x: torch.Tensor, teacher: Teacher, plan: str,
                 texture: tuple[VGG16Features, float] | None = None) -> dict[str, torch.Tensor]:
    """Pixel MSE to the teacher's painting (0-255 scale), plus the stage targets of ``plan`` (PLANS).

    Block and encoder targets are feature MSE (times BLOCK_WEIGHT); the decoder's is pixel MSE of its
    painting of the teacher's last block output. ``texture`` (vgg, weight) adds the style loss of the
    student's painting against the Grams of the teacher's painting of the same photo: pixel MSE alone
    lets a smaller student smooth the strokes.
    """
    from stylecast.train.losses import gram_matrix, style_loss

    if plan not in PLANS:
        raise ValueError(f"unknown distillation plan {plan!r}: one of {', '.join(PLANS)}")
    target, acts = teacher(x)
    encoded = student.encoder(student.blur(x))
    y = student.decoder(student.residuals(encoded))
    terms = {"distill": _mse(y, target)}
    total = terms["distill"]
    if texture is not None:
        vgg, weight = texture
        with torch.no_grad():
            grams = {name: gram_matrix(f) for name, f in vgg(target, STYLE_LAYERS).items()}
        terms["texture"] = weight * style_loss(vgg(y, STYLE_LAYERS), grams)
        total = total + terms["texture"]
    if plan in ("blocks", "stages"):
        errors = [_mse(block(a), b) for block, a, b in zip(student.residuals, acts, acts[1:])]
        terms["blocks"] = BLOCK_WEIGHT * torch.stack(errors).mean()
        total = total + terms["blocks"]
    if plan == "stages":
        terms["encoder"] = BLOCK_WEIGHT * _mse(encoded, acts[0])
        terms["decoder"] = _mse(student.decoder(acts[-1]), target)
        total = total + terms["encoder"] + terms["decoder"]
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
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.precision import psnr
    from stylecast.realtime.runtimes.stylizer import Stylizer

    frames = calibration_frames(Path(data), limit, size)  # the photos as a camera would deliver them
    if not frames:
        raise StylecastError(f"no readable photos under {data}")
    a, b = Stylizer(OnnxRuntimeBackend(Path(student))), Stylizer(OnnxRuntimeBackend(Path(teacher)))
    return float(np.mean([psnr(a(frame), b(frame)) for frame in frames]))
