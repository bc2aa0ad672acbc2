"""`stylecast train --add-style PAINTING --to NETWORK`: teach a multi-style network one more painting.

Only the new painting's row of instance-norm scale and shift learns (Dumoulin et al.: a new style
is mostly a new affine on shared features), with the VGG perceptual losses against the painting.
Every shared convolution and every old row stays as it was, bit for bit, so the old paintings
paint exactly as before; the new row starts from the mean of the old ones, a painting-like start.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from stylecast.contract import StyleCard
from stylecast.errors import StylecastError
from stylecast.models.multistyle import MultiStyleNet
from stylecast.realtime.media.outputs import ensure_writable
from stylecast.train.checkpoint import check_resume, load_checkpoint, save_checkpoint
from stylecast.train.data import ImageFolder
from stylecast.train.device import choose_compute, describe_hardware
from stylecast.train.losses import check_crops_memory
from stylecast.train.multistyle.steps import run_steps

CHECKPOINT_NAME = "checkpoint.pt"


@dataclass
class AddStyleConfig:
    style: Path  # the painting's picture
    network: str  # a bundled multi-style network's name, or its .onnx
    data: Path
    out: Path
    name: str = ""  # the painting's name in the network (default: from the picture's file name)
    steps: int = 1500
    batch: int = 4
    size: int = 256
    style_size: int = 512
    lr: float = 2e-2  # a few hundred numbers learn: a larger step than whole networks take
    content_weight: float = 1.0
    # Four times ordinary training's 5e-5: one row on frozen convolutions reaches a full network's
    # style ratio only when pushed harder (The Scream re-added: 1.55x the full network at 5e-5, 1.30x
    # at 1e-4, 1.06x at 2e-4, with content loss 1.06x, 1.26x, 1.53x; docs/training.md)
    style_weight: float = 2e-4
    tv_weight: float = 1.0
    save_every: int = 100
    seed: int = 0
    precision: str = "auto"
    quiet: bool = False

    def painting_name(self) -> str:
        return self.name or re.sub(r"[^a-z0-9_]+", "_", Path(self.style).stem.lower()).strip("_") or "painting"

    def to_dict(self) -> dict:
        return {**asdict(self), "style": str(self.style), "data": str(self.data), "out": str(self.out)}


def grown(net: MultiStyleNet, name: str) -> MultiStyleNet:
    """``net`` with one more painting, whose row is the mean of the others'; all else copied."""
    if name in net.styles:
        raise StylecastError(f"the network already paints '{name}': give the new painting another --name")
    t = net.net
    bigger = MultiStyleNet(net.styles + (name,), t.width, t.residual_blocks, t.design, t.bottleneck)
    state = net.state_dict()
    mine = bigger.state_dict()
    with torch.no_grad():
        for key, value in state.items():
            if key.endswith((".scale", ".shift")):
                mine[key] = torch.cat([value, value.mean(0, keepdim=True)])
            else:
                mine[key] = value.clone()
    bigger.load_state_dict(mine)
    return bigger


class AddStyleTrainer:
    def __init__(self, config: AddStyleConfig, resume: bool = False) -> None:
        from stylecast.export.onnx import load_multistyle
        from stylecast.models.vgg_weights import load_vgg16
        from stylecast.styles import resolve_style
        from stylecast.train.losses import LossWeights, PerceptualLoss
        from stylecast.train.trainer import load_style_image

        self.config = config
        self.out = Path(config.out)
        self.checkpoint_path = self.out / CHECKPOINT_NAME
        check_resume(self.checkpoint_path, resume)
        self.compute = choose_compute("cpu" if not torch.cuda.is_available() else "auto", config.precision)
        check_crops_memory(self.compute.device, config.batch, config.size)
        torch.manual_seed(config.seed)
        self.source = resolve_style(config.network)
        try:
            base, self.base_card = load_multistyle(self.source)
        except StylecastError as e:  # a bundled name resolves to a cached copy: name what the user gave
            if "is not a multi-style network" not in str(e):
                raise
            raise StylecastError(f"--to {config.network}: it paints one painting, not several; give a multi-style "
                                 "network, e.g. --to paintings_rt") from e
        self.base = base.eval()
        self.name = config.painting_name()
        self.net = grown(self.base, self.name)
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.rows = [p for n, p in self.net.named_parameters() if n.endswith((".scale", ".shift"))]
        for p in self.rows:
            p.requires_grad_(True)
        self.optimizer = torch.optim.Adam(self.rows, lr=config.lr)
        self.step, self.elapsed, self.history = 0, 0.0, []
        if resume:
            ckpt = load_checkpoint(self.checkpoint_path)
            self.net.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.step, self.elapsed = int(ckpt["step"]), float(ckpt.get("elapsed", 0.0))
            self.history = list(ckpt.get("history", []))
        self.layout = self.compute.memory_format
        self.net.to(self.compute.device, memory_format=self.layout)
        vgg = load_vgg16().to(self.compute.device, memory_format=self.layout)
        style = load_style_image(config.style, config.style_size).to(self.compute.device)
        self.loss = PerceptualLoss(vgg, [style], LossWeights(config.content_weight, config.style_weight, config.tv_weight))
        self.dataset = ImageFolder(config.data, config.size, seed=config.seed + self.step)
        self.weights = self.net.one_hot(self.name).to(self.compute.device)
        ensure_writable(self.out)  # last: a run refused above leaves no folder behind

    def _keep_old_rows(self) -> None:
        """Only the last row learns: the old paintings' gradients are zeroed (Adam then leaves them exactly)."""
        for p in self.rows:
            if p.grad is not None:
                p.grad[:-1].zero_()

    def train_step(self, x: torch.Tensor) -> dict[str, float]:
        x = x.to(self.compute.device).contiguous(memory_format=self.layout)
        with self.compute.autocast():
            content = self.loss.content_target(x)
            y = self.net(x, self.weights)
            terms = self.loss(y, content_features=content)
        self.optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        self._keep_old_rows()
        self.optimizer.step()
        self.step += 1
        return {k: float(v.detach()) for k, v in terms.items()}

    def save(self) -> None:
        save_checkpoint(self.checkpoint_path, {
            "config": self.config.to_dict(), "step": self.step, "elapsed": self.elapsed,
            "model": self.net.state_dict(), "optimizer": self.optimizer.state_dict(), "history": self.history})

    def run(self) -> None:
        c = self.config
        loader = DataLoader(self.dataset, batch_size=c.batch, shuffle=True, drop_last=True, num_workers=0)
        batches = iter(())

        def step() -> dict[str, float]:
            nonlocal batches
            x = next(batches, None)
            if x is None:  # a new pass over the photos
                batches = iter(loader)
                x = next(batches)
            return self.train_step(x)

        run_steps(self, step, c.steps, c.save_every, f"adding {self.name}", c.quiet)

    def export(self) -> Path:
        """NAME.onnx (every old painting plus the new one) and its card, into --out."""
        from stylecast.atomic import atomic_path
        from stylecast.export.onnx import grow_multistyle_onnx

        net = self.net.float().cpu().eval()  # its new rows go into a copy of the source file (old rows: the file's own)
        name = self.out.name
        training = dict(self.base_card.training)
        training["added"] = {**training.get("added", {}), self.name: {
            "style_image": Path(self.config.style).name, "steps": self.step, "wall_time_s": round(self.elapsed, 1),
            "lr": self.config.lr, "weights": {"content": self.config.content_weight, "style": self.config.style_weight,
                                              "tv": self.config.tv_weight},
            "hardware": describe_hardware(self.compute), "added_to": self.source.name}}
        card = StyleCard(**{**self.base_card.__dict__, "name": name, "styles": net.styles, "training": training,
                            "evaluation": {}})
        path = self.out / f"{name}.onnx"
        frame = self.dataset[0].permute(1, 2, 0).numpy().astype("uint8")
        grow_multistyle_onnx(self.source, path, net, card, frame)
        with atomic_path(self.out / f"{name}.json") as tmp:
            tmp.write_text(card.to_json() + "\n")
        return path
