"""Distil every bundled painting into one conditional-instance-norm network, on a CPU, resumably.

The student (models.multistyle) starts from a trained single-style network of its design for every
row, then learns each teacher's painting of the training photos (teacher_paintings.py), one
painting per sample, pixel MSE plus optionally the texture term of plain distillation. Checkpoints
every ``save_every`` steps and on Ctrl-C; ``resume`` continues from the last one.
"""
from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from stylecast.contract import StyleCard
from stylecast.errors import StylecastError
from stylecast.models.multistyle import MultiStyleNet
from stylecast.realtime.media.outputs import ensure_writable
from stylecast.train.checkpoint import check_resume, load_checkpoint, save_checkpoint
from stylecast.train.device import choose_compute, describe_hardware
from stylecast.train.losses import check_crops_memory
from stylecast.train.multistyle.steps import run_steps
from stylecast.train.multistyle.teacher_paintings import SCALES, TeacherPaintings, drop_parts, paint_teachers

CHECKPOINT_NAME = "checkpoint.pt"


@dataclass
class MultiStyleConfig:
    styles: tuple[str, ...]
    data: Path
    out: Path
    width: int = 8
    design: str = "shuffle"
    residual_blocks: int = 5
    bottleneck: int = 0  # residual blocks squeezed to this many channels (0: plain), as the _lite_rt nets
    # a bundled single-style net of the same design seeds every row, or a run's checkpoint.pt continues it
    init_from: str | None = "cafe_terrace_rt"
    steps: int = 4000
    batch: int = 8
    size: int = 256
    lr: float = 1e-3
    final_lr: float = 1e-4
    texture_weight: float = 0.0
    texture_from: int = 0  # the step the texture term starts at (it costs a VGG pass each step)
    texture_batch: int = 4  # samples of each batch the texture term sees (VGG dominates a step's cost)
    teachers_from: Path | None = None  # a run folder whose teacher paintings to reuse (default: out)
    save_every: int = 100
    seed: int = 0
    precision: str = "auto"
    quiet: bool = False
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(data=str(self.data), out=str(self.out), styles=list(self.styles),
                 teachers_from=str(self.teachers_from) if self.teachers_from else None)
        return d


def _crop(photo: np.ndarray, painting: np.ndarray, size: int, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    s = photo.shape[0]
    y, x = rng.randint(0, s - size), rng.randint(0, s - size)
    a, b = photo[y:y + size, x:x + size], painting[y:y + size, x:x + size]
    if rng.random() < 0.5:
        a, b = a[:, ::-1], b[:, ::-1]
    return a, b


def _tensor(batch: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(np.stack(batch).transpose(0, 3, 1, 2))).float()


class MultiStyleTrainer:
    def __init__(self, config: MultiStyleConfig, resume: bool = False) -> None:
        self.config = config
        self.out = Path(config.out)
        ensure_writable(self.out)
        self.checkpoint_path = self.out / CHECKPOINT_NAME
        check_resume(self.checkpoint_path, resume)
        self.compute = choose_compute("cpu" if not torch.cuda.is_available() else "auto", config.precision)
        check_crops_memory(self.compute.device, config.batch, config.size)
        torch.manual_seed(config.seed)
        self.rng = random.Random(config.seed)
        self.net = MultiStyleNet(config.styles, config.width, config.residual_blocks, config.design, config.bottleneck)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.lr)
        self.step, self.elapsed, self.history = 0, 0.0, []
        if resume:
            self._restore(load_checkpoint(self.checkpoint_path))
        elif config.init_from and config.init_from.endswith(".pt"):
            self._continue(load_checkpoint(Path(config.init_from)))
        elif config.init_from:
            self._seed(config.init_from)
        self.layout = self.compute.memory_format  # NHWC for oneDNN's bf16 kernels: VGG's passes take 40% less
        self.net.to(self.compute.device, memory_format=self.layout)
        self.teachers = self._teachers()
        self.vgg = None

    def _same_net(self, ckpt: dict, what: str, advice: str) -> dict:
        """The checkpoint's config, once its network is this run's (same paintings, same width)."""
        saved = ckpt["config"]
        if (tuple(saved["styles"]) != self.config.styles or saved["width"] != self.config.width
                or saved.get("bottleneck", 0) != self.config.bottleneck):
            raise StylecastError(f"{what} is a {_describe(saved['width'], saved['design'], saved.get('bottleneck', 0))} "
                                 f"net of {', '.join(saved['styles'])}: {advice}")
        return saved

    def _seed(self, init_from: str) -> None:
        """A bundled single-style net of the same design in every row, or a multi-style network of the same
        paintings (e.g. the bundled ``paintings_rt``) continued as it is."""
        from stylecast.export.onnx import load_multistyle, load_onnx_net, paints
        from stylecast.styles import resolve_style

        path = resolve_style(init_from)
        multistyle = bool(paints(path))
        if multistyle:
            net, card = load_multistyle(path)
            if net.styles != self.config.styles:
                raise StylecastError(f"--init-from {init_from} paints {', '.join(net.styles)}: "
                                     "--distill-from must name the same paintings, in the same order")
        else:
            net, card = load_onnx_net(path)
        if (card.width, card.design, card.bottleneck) != (self.config.width, self.config.design, self.config.bottleneck):
            raise StylecastError(f"--init-from {init_from} is a {_describe(card.width, card.design, card.bottleneck)} "
                                 f"network, not {_describe(self.config.width, self.config.design, self.config.bottleneck)}")
        if multistyle:
            self.net.load_state_dict(net.state_dict())
            # the card then counts every step behind the network, the bundled one's included
            self.config.extra["parent_steps"] = int(card.training.get("steps", 0)) + int(card.training.get("parent_steps", 0))
        else:
            self.net.adopt(net)

    def _continue(self, ckpt: dict) -> None:
        """Another run's network (a later stage of the same schedule), with a fresh optimizer and step count."""
        saved = self._same_net(ckpt, "--init-from", "use the same paintings and width")
        self.net.load_state_dict(ckpt["model"])
        self.config.extra["parent_steps"] = int(ckpt["step"]) + int(saved.get("extra", {}).get("parent_steps", 0))

    def _teachers(self) -> TeacherPaintings:
        folder = Path(self.config.teachers_from or self.out)
        cached = TeacherPaintings.load(folder, self.config.styles)
        if cached is not None:
            return cached
        folder.mkdir(parents=True, exist_ok=True)
        made = paint_teachers(self.config.styles, self.config.data, self.config.quiet, folder)
        made.save(folder)
        drop_parts(folder, self.config.styles)
        return TeacherPaintings.load(folder, self.config.styles)  # memory-mapped from now on

    def _restore(self, ckpt: dict) -> None:
        self._same_net(ckpt, str(self.checkpoint_path), "resume with the same paintings and width")
        self.net.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.step, self.elapsed = int(ckpt["step"]), float(ckpt.get("elapsed", 0.0))
        self.history = list(ckpt.get("history", []))
        self.rng.setstate(_tuple_state(ckpt["rng"]))

    def save(self) -> None:
        save_checkpoint(self.checkpoint_path, {
            "config": self.config.to_dict(), "step": self.step, "elapsed": self.elapsed,
            "model": self.net.state_dict(), "optimizer": self.optimizer.state_dict(), "history": self.history,
            "rng": _list_state(self.rng.getstate()),
        })

    def lr_at(self, step: int) -> float:
        """Cosine from lr to final_lr over the run."""
        c = self.config
        t = min(1.0, step / max(1, c.steps))
        return c.final_lr + 0.5 * (c.lr - c.final_lr) * (1 + math.cos(math.pi * t))

    def batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c, t = self.config, self.teachers
        photos, targets, weights = [], [], torch.zeros(c.batch, len(c.styles))
        for i in range(c.batch):
            k = self.rng.randrange(len(SCALES))
            j = self.rng.randrange(t.photos[k].shape[0])
            s = self.rng.randrange(len(c.styles))
            a, b = _crop(t.photos[k][j], t.paintings[k][s, j], c.size, self.rng)
            photos.append(a)
            targets.append(b)
            weights[i, s] = 1.0
        return _tensor(photos), _tensor(targets), weights

    def _texture(self, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        from stylecast.models.vgg import STYLE_LAYERS
        from stylecast.models.vgg_weights import load_vgg16
        from stylecast.train.losses import gram_matrix, style_loss

        if self.vgg is None:
            self.vgg = load_vgg16().to(self.compute.device, memory_format=self.layout)
        with torch.no_grad():
            grams = {name: gram_matrix(f) for name, f in self.vgg(target, STYLE_LAYERS).items()}
        return self.config.texture_weight * style_loss(self.vgg(y, STYLE_LAYERS), grams)

    def train_step(self) -> dict[str, float]:
        x, target, w = (t.to(self.compute.device) for t in self.batch())
        x, target = x.contiguous(memory_format=self.layout), target.contiguous(memory_format=self.layout)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_at(self.step)
        with self.compute.autocast():
            y = self.net(x, w)
            terms = {"distill": torch.mean((y.float() - target) ** 2)}
            total = terms["distill"]
            if self.config.texture_weight > 0 and self.step >= self.config.texture_from:
                n = self.config.texture_batch
                terms["texture"] = self._texture(y[:n], target[:n])
                total = total + terms["texture"]
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.optimizer.step()
        self.step += 1
        return {k: float(v.detach()) for k, v in terms.items()} | {"total": float(total.detach())}

    def run(self) -> None:
        c = self.config
        run_steps(self, self.train_step, c.steps, c.save_every, "multi-style", c.quiet)

    def hardware(self) -> str:
        return describe_hardware(self.compute)


def _describe(width: int, design: str, bottleneck: int) -> str:
    return f"width-{width} {design}" + (f" bottleneck-{bottleneck}" if bottleneck else "")


def _list_state(state: tuple) -> list:
    return [state[0], list(state[1]), state[2]]


def _tuple_state(state: list) -> tuple:
    return (state[0], tuple(state[1]), state[2])


def _card(trainer: "MultiStyleTrainer", name: str) -> StyleCard:
    from stylecast.styles import resolve_style

    c = trainer.config
    teachers = {}
    for painting in c.styles:
        model = resolve_style(painting)
        card = StyleCard.from_json(model.with_suffix(".json").read_text())
        teachers[painting] = {"model": model.name, "width": card.width, "design": card.design,
                              "style_ratio": card.evaluation.get("style_ratio"), "style_source": card.style_source,
                              "style_license": card.style_license}
    recent = trainer.history[-1] if trainer.history else {}
    return StyleCard(
        name=name, width=c.width, design=c.design, bottleneck=c.bottleneck, styles=tuple(c.styles),
        style_image=f"{name}.jpg", style_source="; ".join(t["style_source"] for t in teachers.values()),
        style_license="Public domain" if all(t["style_license"] == "Public domain" for t in teachers.values()) else "",
        training={"steps": trainer.step, "parent_steps": c.extra.get("parent_steps", 0), "distilled_from": teachers, "init_from": c.init_from, "batch": c.batch,
                  "size": c.size, "lr": [c.lr, c.final_lr], "weights": {"texture": c.texture_weight},
                  "texture_from": c.texture_from, "final_losses": {k: v for k, v in recent.items() if k != "step"},
                  "wall_time_s": round(trainer.elapsed, 1),
                  "steps_per_s": round(trainer.step / trainer.elapsed, 3) if trainer.elapsed else None,
                  "precision": trainer.compute.precision, "hardware": trainer.hardware(),
                  "train_images": int(trainer.teachers.photos[0].shape[0]), "scales": list(SCALES)},
    )


def write_strip(names: tuple[str, ...], path: Path, side: int = 96) -> None:
    """The gallery picture of a multi-style network: its paintings' thumbnails side by side."""
    import cv2

    from stylecast.atomic import atomic_path
    from stylecast.sizing import cover_crop
    from stylecast.styles import resolve_style

    tiles = []
    for name in names:
        image = cv2.imread(str(resolve_style(name).with_suffix(".jpg")))
        tiles.append(cover_crop(image, (side, side)) if image is not None else np.zeros((side, side, 3), np.uint8))
    with atomic_path(path) as tmp:
        cv2.imwrite(str(tmp), np.hstack(tiles), [cv2.IMWRITE_JPEG_QUALITY, 90])


def export_multistyle_run(trainer: "MultiStyleTrainer", name: str | None = None) -> Path:
    """Write NAME.onnx, NAME.json (card) and NAME.jpg (the paintings' strip) into the run folder."""
    from stylecast.atomic import atomic_path
    from stylecast.export.onnx import export_multistyle_onnx

    name = name or trainer.out.name
    card = _card(trainer, name)
    net = MultiStyleNet(trainer.config.styles, trainer.config.width, trainer.config.residual_blocks, trainer.config.design,
                        trainer.config.bottleneck)
    net.load_state_dict({k: v.float().cpu() for k, v in trainer.net.state_dict().items()})
    verify = np.ascontiguousarray(trainer.teachers.photos[0][0][:256, :256])
    path = trainer.out / f"{name}.onnx"
    export_multistyle_onnx(net, path, card, verify)
    with atomic_path(trainer.out / f"{name}.json") as tmp:
        tmp.write_text(card.to_json() + "\n")
    write_strip(trainer.config.styles, trainer.out / f"{name}.jpg")
    return path
