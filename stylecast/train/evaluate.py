"""Score styles by numbers: mean content and style loss on held-out photos (`stylecast eval-style`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecast.errors import StylecastError
from stylecast.machine import check_memory
from stylecast.sizing import cover_crop
from stylecast.models.vgg import VGGFeatures
from stylecast.models.vgg_weights import load_vgg16
from stylecast.train.data import list_images, read_rgb, to_tensor
from stylecast.train.losses import VGG_BYTES_PER_PIXEL, LossWeights, PerceptualLoss
from stylecast.train.trainer import load_style_image

# Raw (unweighted) losses, so numbers compare across training settings. The style image is scaled
# to twice the crop size, as in training (256-px crops, 512-px style), so strokes compare at scale.
RAW = LossWeights(content=1.0, style=1.0, tv=1.0)


@dataclass(frozen=True)
class StyleScores:
    images: int
    content_loss: float  # stylized vs photo, at the content layer
    style_loss: float  # stylized vs the style image's Grams
    unstylized_style_loss: float  # the photos themselves vs the style
    style_image_content_loss: float  # the style image vs the photos
    content_layer: str = "relu2_2"

    @property
    def style_ratio(self) -> float:
        """Stylized style loss as a fraction of the unstylized photos' (lower is more stylized)."""
        return self.style_loss / self.unstylized_style_loss

    def to_dict(self) -> dict:
        return {**asdict(self), "style_ratio": round(self.style_ratio, 4)}


def square_crop(rgb: np.ndarray, size: int) -> np.ndarray:
    return cover_crop(rgb, (size, size))


def _stylizer(model: Path, backend: str, mix: dict[str, float] | None = None):
    from stylecast.realtime.runtimes.backends import open_backend
    from stylecast.realtime.runtimes.stylizer import Stylizer

    choice = open_backend(model, ("cpu",) if backend == "auto" else (backend,))
    stylize = Stylizer(choice.backend, mix)
    return lambda rgb: cv2.cvtColor(stylize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)), cv2.COLOR_BGR2RGB)


def score_pairs(pairs: list[tuple[np.ndarray, np.ndarray]], style: torch.Tensor, vgg: VGGFeatures,
                content_layer: str) -> StyleScores:
    """``pairs`` are (photo, stylized) RGB uint8 images of one size."""
    loss = PerceptualLoss(vgg, [style], RAW, content_layer=content_layer)
    style_img = style
    content, stylized_style, plain_style, style_content = [], [], [], []
    with torch.no_grad():
        for photo, stylized in pairs:
            p, s = to_tensor(photo)[None], to_tensor(stylized)[None]
            terms = loss(s, p)
            content.append(terms["content"].item())
            stylized_style.append(terms["style"].item())
            plain_style.append(loss(p, p)["style"].item())
            resized = torch.nn.functional.interpolate(style_img, size=p.shape[2:], mode="area")
            style_content.append(loss(resized, p)["content"].item())
    mean = lambda xs: float(np.mean(xs))  # noqa: E731
    return StyleScores(len(pairs), mean(content), mean(stylized_style), mean(plain_style), mean(style_content), content_layer)


def _check_memory(size: int) -> None:
    # VGG looks at the photo, the painting of it and the style image at twice the side (no gradients:
    # a quarter of training's cost per pixel), after a full network painted the photo
    from stylecast.realtime.runtimes.protocol import frame_memory

    check_memory(size ** 2 * 6 * VGG_BYTES_PER_PIXEL / 4 + frame_memory(size ** 2), f"scoring at --size {size}",
                 "give a smaller --size")


def evaluate_model(model: Path, style: Path, data: Path, size: int = 256, limit: int = 50, backend: str = "auto",
                   content_layer: str = "relu2_2", vgg: VGGFeatures | None = None,
                   mix: dict[str, float] | None = None) -> StyleScores:
    """Stylize held-out photos with an ONNX model (a multi-style one painting ``mix``) and score them
    against the style image."""
    _check_memory(size)
    stylize = _stylizer(Path(model), backend, mix)
    photos = [read_rgb(p) for p in list_images(data)[:limit]]
    pairs = [(square_crop(p, size), None) for p in photos if p is not None]
    if not pairs:
        raise StylecastError(f"no readable photos under {data}")
    pairs = [(p, stylize(p)) for p, _ in pairs]
    return score_pairs(pairs, load_style_image(style, 2 * size), vgg or load_vgg16(), content_layer)


def evaluate_image(image: Path, content: Path, style: Path, size: int = 256, content_layer: str = "relu2_2",
                   vgg: VGGFeatures | None = None) -> StyleScores:
    """Score one finished image (a `paint` result, say) against its content photo and style."""
    _check_memory(size)
    got, photo = read_rgb(Path(image)), read_rgb(Path(content))
    if got is None or photo is None:
        raise StylecastError(f"cannot read {image if got is None else content} as an image")
    photo = square_crop(photo, size)
    got = square_crop(got, size)
    return score_pairs([(photo, got)], load_style_image(style, 2 * size), vgg or load_vgg16(), content_layer)
