"""The training loop: Johnson et al.'s feed-forward style network with VGG16 perceptual losses."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from stylecast.atomic import atomic_path
from stylecast.contract import StyleCard
from stylecast.errors import StylecastError
from stylecast.sizing import MIN_VGG_SIDE, cover_crop
from stylecast.models.transformer import TransformerNet
from stylecast.models.vgg import VGG16Features
from stylecast.models.vgg_weights import load_vgg16
from stylecast.realtime.media.outputs import ensure_writable
from stylecast.train.checkpoint import check_finite, check_resume, lineage_steps, load_checkpoint, save_checkpoint
from stylecast.train.config import TrainConfig
from stylecast.train.data import ImageFolder, read_rgb, to_tensor
from stylecast.train import distributed
from stylecast.train.device import Compute, choose_compute, describe_hardware
from stylecast.train.distill import Teacher, adopt_ends, distill_loss, distill_plan, teacher_summary
from stylecast.train.losses import LossWeights, PerceptualLoss, check_crops_memory, stability_loss
from stylecast.train.video_pairs import VideoPairs, temporal_loss

CHECKPOINT_NAME = "checkpoint.pt"
THUMBNAIL_SIDE = 256


class TrainingInterrupted(Exception):
    """Ctrl-C during training; the checkpoint has been saved."""


@dataclass(frozen=True)
class TrainResult:
    onnx_path: Path
    card: StyleCard
    losses: dict[str, float]


def load_style_image(path: Path, max_side: int) -> torch.Tensor:
    """1x3xHxW float 0-255; large paintings are shrunk so the Gram targets see brush strokes at scale."""
    image = read_rgb(Path(path)) if Path(path).is_file() else None
    if image is None:
        raise StylecastError(f"style image not found or not an image: {path}")
    h, w = image.shape[:2]
    if min(h, w) < MIN_VGG_SIDE:
        raise StylecastError(f"style image {path} is {w}x{h}: the style loss needs {MIN_VGG_SIDE} px or more on each "
                             f"side; give a larger picture of the painting")
    if max(h, w) > max_side:
        s = max_side / max(h, w)
        if round(min(h, w) * s) < MIN_VGG_SIDE:
            raise StylecastError(f"style image {path} is {w}x{h}: shrunk to --style-size {max_side} it would be "
                                 f"under {MIN_VGG_SIDE} px across; give a larger --style-size or a less elongated crop")
        image = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    return to_tensor(image)[None]


def _batches(loader) -> Iterator[torch.Tensor]:
    while True:
        yield from loader


class _EpochLoader:
    """A DataLoader over a DistributedSampler that reshuffles every pass, as one process's does."""

    def __init__(self, loader: DataLoader, sampler) -> None:
        self.loader, self.sampler, self.epoch = loader, sampler, 0

    def __iter__(self):
        self.sampler.set_epoch(self.epoch)
        self.epoch += 1
        return iter(self.loader)


class Trainer:
    def __init__(self, config: TrainConfig, resume: bool = False) -> None:
        self.config = config
        self.out = Path(config.out)
        self.checkpoint_path = self.out / CHECKPOINT_NAME
        check_resume(self.checkpoint_path, resume)
        self.ranks = distributed.ranks_from_env()
        self.compute: Compute = choose_compute(config.device, config.precision, self.ranks.local_rank)
        distributed.start(self.ranks, self.compute.device)
        self.local_batch = distributed.local_batch(config.batch, self.ranks)
        check_crops_memory(self.compute.device, config.batch, config.size, self.local_batch, config.style_size)
        if self.compute.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # crops never change size: pick the fastest kernels once
        torch.manual_seed(config.seed)
        self.dataset = ImageFolder(config.data, config.size, seed=config.seed)
        self.pairs: VideoPairs | None = None
        if config.video_pairs is not None and config.temporal_weight == 0:
            raise StylecastError("--video-pairs is only read with --temporal-weight W (e.g. 1000): give both, or neither")
        if config.temporal_weight > 0:
            if config.video_pairs is None:
                raise StylecastError("--temporal-weight needs --video-pairs DIR (make it with 'stylecast data video-pairs VIDEO DIR')")
            self.pairs = VideoPairs(config.video_pairs, config.size, seed=config.seed)
        self.teacher: Teacher | None = None
        self.texture: tuple[VGG16Features, float] | None = None  # (vgg, weight) for distillation's texture term
        self.loss: PerceptualLoss | None = None
        self._set_up_losses()
        self.net = self._new_net().to(self.compute.device, memory_format=self.compute.memory_format)
        # Which stages get their own targets depends on how the student's layers line up with the teacher's.
        self.plan = distill_plan(self.net, self.teacher.net) if self.teacher is not None else None
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.lr)
        self.step = 0
        self.elapsed = 0.0
        self.parent_steps = 0  # steps behind the --init-from weights, for the card
        self.history: list[dict[str, float]] = []
        if resume:
            self._restore(load_checkpoint(self.checkpoint_path))
        elif config.init_from is not None:
            self._start_from(_weights_to_start_from(config.init_from))
        elif self.teacher is not None:
            # What the student knows comes from the teacher's training, so its card counts those steps.
            self.parent_steps = int(self.teacher.card.training.get("steps", 0) or 0) + lineage_steps(self.teacher.card.training)
            if self.plan != "pixels":
                adopt_ends(self.net, self.teacher.net)
        distributed.same_start(self.net, self.ranks)
        # Under torchrun the perceptual path (one forward pass a step) trains through
        # DistributedDataParallel; the paths that run the network several times a step average
        # their gradients themselves (see stylecast.train.distributed).
        self.model = self.net
        if self.ranks.distributed and self.teacher is None and config.stability_weight == 0 and config.temporal_weight == 0:
            self.model = distributed.wrap(self.net, self.compute.device)
        self.samples = self._sample_batch()

    def _set_up_losses(self) -> None:
        """VGG perceptual losses against the painting, or (distillation) the teacher network."""
        config, device, layout = self.config, self.compute.device, self.compute.memory_format
        if config.texture_weight > 0 and config.distill_from is None:
            raise StylecastError("--texture-weight matches a teacher's painting: it goes with --distill-from STYLE")
        if config.distill_from is None:
            vgg = load_vgg16(config.vgg_weights, config.cache_dir).to(device, memory_format=layout)
            style = load_style_image(config.style, config.style_size).to(device)
            weights = LossWeights(config.content_weight, config.style_weight, config.tv_weight)
            self.loss = PerceptualLoss(vgg, [style], weights, content_layer=config.content_layer)
            return
        if config.temporal_weight > 0 or config.stability_weight > 0:
            raise StylecastError("--distill-from learns the teacher's output only: drop --temporal-weight/--stability-weight")
        self.teacher = Teacher(config.distill_from).to(device, memory_format=layout)
        if config.texture_weight > 0:
            vgg = load_vgg16(config.vgg_weights, config.cache_dir).to(device, memory_format=layout)
            self.texture = (vgg, config.texture_weight)

    def _new_net(self) -> TransformerNet:
        cfg = self.config
        return TransformerNet(cfg.width, cfg.residual_blocks, cfg.design, cfg.input_blur, cfg.bottleneck)

    def _restore(self, ckpt: dict) -> None:
        saved = TrainConfig.from_dict(ckpt["config"])
        cfg = self.config
        if (saved.width, saved.residual_blocks, saved.design, saved.bottleneck) != (cfg.width, cfg.residual_blocks, cfg.design, cfg.bottleneck):
            raise StylecastError(f"checkpoint is a width-{saved.width} {saved.design} network (bottleneck {saved.bottleneck}), "
                                 f"not width {cfg.width} {cfg.design} (bottleneck {cfg.bottleneck}): resume with the same "
                                 "--width, --design and --bottleneck")
        if saved.input_blur != cfg.input_blur:
            raise StylecastError(f"checkpoint was trained with --input-blur {saved.input_blur}, not {cfg.input_blur}: "
                                 "the network would see different frames; resume with the same --input-blur")
        self.net.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.step = int(ckpt["step"])
        self.elapsed = float(ckpt.get("elapsed", 0.0))
        self.history = list(ckpt.get("history", []))
        self.parent_steps = int((ckpt.get("card") or {}).get("training", {}).get("parent_steps", 0) or 0)

    def _start_from(self, ckpt: dict) -> None:
        """Fine-tune: take another run's network weights, but a fresh optimizer and step count."""
        saved = ckpt.get("config", {})
        width, design, bottleneck = saved.get("width"), saved.get("design", "johnson"), saved.get("bottleneck", 0)
        if (width, design, bottleneck) != (self.config.width, self.config.design, self.config.bottleneck):
            raise StylecastError(f"--init-from is a width-{width} {design} network (bottleneck {bottleneck}), not width "
                                 f"{self.config.width} {self.config.design} (bottleneck {self.config.bottleneck}): "
                                 "use the same --width, --design and --bottleneck")
        self.net.load_state_dict(ckpt["model"])
        parent = (ckpt.get("card") or {}).get("training", {})
        self.parent_steps = int(parent.get("steps", ckpt.get("step", 0)) or 0) + lineage_steps(parent)

    def _sample_batch(self) -> torch.Tensor:
        """Center crops of the first few images, the same at every sample so progress is visible."""
        crops = []
        for path in self.dataset.files[:4]:
            image = read_rgb(path)
            if image is None:
                continue
            crops.append(to_tensor(cover_crop(image, (self.config.size, self.config.size))))
        if not crops:
            raise StylecastError(f"none of the first images under {self.config.data} could be read")
        return torch.stack(crops)

    def save(self) -> None:
        """Rank 0 writes the checkpoint (every rank holds the same weights); the others wait for it,
        so none runs ahead of a checkpoint that a resume would start from."""
        if self.ranks.main:
            self._save()
        distributed.barrier(self.ranks)

    def _save(self) -> None:
        save_checkpoint(self.checkpoint_path, {
            "config": self.config.to_dict(),
            "step": self.step,
            "elapsed": self.elapsed,
            "model": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "history": self.history,
            "card": asdict(self.card()),
        })

    def train_step(self, batch: torch.Tensor, pairs: dict[str, torch.Tensor] | None = None) -> dict[str, float]:
        x = batch.to(self.compute.device, memory_format=self.compute.memory_format, non_blocking=True)
        if self.teacher is not None:
            return self._distill_step(x)
        moving = None
        if pairs is not None:
            moving = {k: v.to(self.compute.device, non_blocking=True) for k, v in pairs.items()}
            # Video frames get the style and content losses too: with the temporal loss alone the
            # network learns to wash out whatever looks like the training clip, and stays as
            # unsteady as before on other footage.
            frames = moving["cur"][: max(1, x.shape[0] // 2)].to(memory_format=self.compute.memory_format)
            x = torch.cat([x, frames])
            shared = frames.shape[0]  # stylized once, for both the perceptual and the temporal terms
        with self.compute.autocast():
            content_features = self.loss.content_target(x)
            y = self.model(x)
            terms = self.loss(y, content_features=content_features)
            if self.config.stability_weight > 0:
                terms["stability"] = self.config.stability_weight * stability_loss(self.net, x, y, mode=self.config.stability_mode)
                terms["total"] = terms["total"] + terms["stability"]
            if moving is not None:
                terms["temporal"] = self.config.temporal_weight * temporal_loss(self.net, moving, self.config.temporal_luma, cur_stylized=y[-shared:])
                terms["total"] = terms["total"] + terms["temporal"]
        return self._apply(terms)

    def _distill_step(self, x: torch.Tensor) -> dict[str, float]:
        with self.compute.autocast():
            terms = distill_loss(self.net, x, self.teacher, self.plan, self.texture)
        return self._apply(terms)

    def _apply(self, terms: dict[str, torch.Tensor]) -> dict[str, float]:
        self.optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        if self.model is self.net:  # DistributedDataParallel averaged them during backward
            distributed.average_gradients(list(self.net.parameters()), self.ranks)
        self.optimizer.step()
        return distributed.average_terms({k: float(v.detach()) for k, v in terms.items()}, self.ranks, self.compute.device)

    def write_samples(self) -> Path:
        """A grid with the content crops on top and their stylizations below."""
        self.net.eval()
        with torch.no_grad(), self.compute.autocast():
            y = self.net(self.samples.to(self.compute.device, memory_format=self.compute.memory_format))
        self.net.train()
        top = np.concatenate(list(self.samples.permute(0, 2, 3, 1).numpy()), axis=1)
        bottom = np.concatenate(list(y.float().clamp(0, 255).permute(0, 2, 3, 1).cpu().numpy()), axis=1)
        grid = np.concatenate([top, bottom], axis=0).astype(np.uint8)
        path = self.out / "samples" / f"step_{self.step:06d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            cv2.imwrite(str(tmp), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
        return path

    def run(self, progress: bool = True) -> dict[str, float]:
        """Train up to ``config.steps``; returns the mean of the last logged losses."""
        cfg = self.config
        ensure_writable(self.out)  # a folder that cannot be made is one line, not a traceback
        batches = _batches(self._loader(self.dataset))
        pair_batches = _batches(self._loader(self.pairs)) if self.pairs is not None else None
        self.net.train()
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not progress or not self.ranks.main, unit="step",
                   dynamic_ncols=True)
        started = time.perf_counter() - self.elapsed
        try:
            while self.step < cfg.steps:
                terms = self.train_step(next(batches), next(pair_batches) if pair_batches else None)
                check_finite(terms, self.step + 1, self.checkpoint_path)
                self.step += 1
                self.elapsed = time.perf_counter() - started
                self.history.append({"step": self.step, **terms})
                bar.update(1)
                bar.set_postfix({k: f"{terms[k]:.3g}" for k in ("total", "content", "style", "distill", "blocks", "encoder", "decoder", "texture") if k in terms})
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                    self.save()
                if (self.step % cfg.sample_every == 0 or self.step == cfg.steps) and self.ranks.main:
                    self.write_samples()
        except KeyboardInterrupt:  # under torchrun every rank gets it: rank 0 saves, none waits for the others
            if self.ranks.main:
                self._save()
            raise TrainingInterrupted(f"interrupted at step {self.step}; saved {self.checkpoint_path}, continue with --resume") from None
        finally:
            bar.close()
        return self.recent_losses()

    def _loader(self, dataset) -> DataLoader:
        """Batches of ``--batch`` images; under torchrun each rank draws its share of them from its
        own part of the data."""
        drop_last = len(dataset) >= self.config.batch
        if not self.ranks.distributed:
            return DataLoader(dataset, batch_size=self.config.batch, shuffle=True, drop_last=drop_last)
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(dataset, num_replicas=self.ranks.world, rank=self.ranks.rank, shuffle=True,
                                     seed=self.config.seed, drop_last=drop_last)
        return _EpochLoader(DataLoader(dataset, batch_size=self.local_batch, sampler=sampler, drop_last=drop_last), sampler)

    def recent_losses(self, last: int = 50) -> dict[str, float]:
        recent = self.history[-last:]
        if not recent:
            return {}
        return {k: float(np.mean([h[k] for h in recent])) for k in recent[-1] if k != "step"}

    @property
    def unreadable_count(self) -> int:
        return len(self.dataset.unreadable)

    def card(self) -> StyleCard:
        cfg = self.config
        teacher = self.teacher.card if self.teacher is not None else None
        return StyleCard(
            name=cfg.name, width=cfg.width, design=cfg.design, bottleneck=cfg.bottleneck,
            style_image=teacher.style_image if teacher and teacher.style_image else Path(cfg.style).name,
            style_source=cfg.style_source or (teacher.style_source if teacher else ""),
            style_license=cfg.style_license or (teacher.style_license if teacher else ""),
            training={
                "steps": self.step, "distilled_from": teacher_summary(self.teacher), "distill_plan": self.plan, "init_from": str(cfg.init_from) if cfg.init_from else None, "parent_steps": self.parent_steps, "batch": cfg.batch, "size": cfg.size, "style_size": cfg.style_size,
                "content_layer": cfg.content_layer, "input_blur": cfg.input_blur,
                "weights": {"content": cfg.content_weight, "style": cfg.style_weight, "tv": cfg.tv_weight,
                            "stability": cfg.stability_weight, "temporal": cfg.temporal_weight, "temporal_luma": cfg.temporal_luma,
                            "texture": cfg.texture_weight},
                "video_pairs": str(cfg.video_pairs) if cfg.temporal_weight > 0 else None,
                "stability_mode": cfg.stability_mode if cfg.stability_weight > 0 else None,
                "final_losses": self.recent_losses(),
                "wall_time_s": round(self.elapsed, 1),
                "steps_per_s": round(self.step / self.elapsed, 3) if self.elapsed else None,
                "precision": self.compute.precision,
                "hardware": describe_hardware(self.compute),
                "train_images": len(self.dataset),
            },
        )

    def export(self) -> TrainResult:
        """Write NAME.onnx (+ fp16-weight copy), NAME.json (card) and NAME.jpg (style thumbnail) into --out."""
        from stylecast.export.onnx import export_onnx

        card = self.card()
        net = self._new_net()
        net.load_state_dict({k: v.float().cpu() for k, v in self.net.state_dict().items()})
        verify = self.samples[0].permute(1, 2, 0).numpy().astype(np.uint8)
        onnx_path = self.out / f"{card.name}.onnx"
        export_onnx(net, onnx_path, card, verify, fp16=True)
        write_card_files(card, self.out, Path(self.config.style))
        return TrainResult(onnx_path, card, self.recent_losses())


def _weights_to_start_from(path: Path) -> dict:
    """A run's checkpoint, or an exported style (.onnx, e.g. a bundled one) in the same shape."""
    if Path(path).suffix.lower() != ".onnx":
        return load_checkpoint(path)
    from stylecast.export.onnx import load_onnx_net

    net, card = load_onnx_net(path)
    config = {"width": card.width, "design": card.design, "bottleneck": card.bottleneck, "input_blur": net.input_blur}
    return {"config": config, "model": net.state_dict(), "card": asdict(card)}


def write_card_files(card: StyleCard, folder: Path, style_image: Path) -> None:
    with atomic_path(folder / f"{card.name}.json") as tmp:
        tmp.write_text(card.to_json() + "\n")
    image = read_rgb(style_image) if Path(style_image).is_file() else None  # a distilled style may have no picture
    if image is not None:
        h, w = image.shape[:2]
        s = THUMBNAIL_SIDE / max(h, w)
        thumb = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        with atomic_path(folder / f"{card.name}.jpg") as tmp:
            cv2.imwrite(str(tmp), cv2.cvtColor(thumb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])


def train(config: TrainConfig, resume: bool = False, progress: bool = True) -> TrainResult | None:
    """Train and export; under torchrun only rank 0 exports and returns the result (the others None)."""
    trainer = Trainer(config, resume=resume)
    try:
        trainer.run(progress=progress)
        if not trainer.ranks.main:
            return None
        if trainer.unreadable_count:
            print(f"warning: skipped {trainer.unreadable_count} unreadable or tiny (under 32 px) image(s) under {config.data}")
        return trainer.export()
    finally:
        distributed.stop(trainer.ranks)
