"""Quality at HD: a painting made at a working size and guided-upsampled, against the same
painting's full network run at the full output size, on held-out photos.

    python benchmarks/hd_quality.py --data /usr/share/backgrounds/mate/nature --size 1280x720 \\
        --style starry_night=/usr/share/doc/opencv-doc/examples/data/starry_night.jpg \\
        --governed starry_night_fast:336 [--picture docs/hd_upsampling.jpg] [--unsharp 1:1 ...]

For each photo (cover-cropped to --size): the full network at full size, the governed network at
its working long side brought back by guided upsampling, and by a plain resize. Content loss and
style ratio are `stylecast eval-style`'s, at the output size (style image at twice the short side).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.hd.painter import WorkingSizePainter
from stylecast.realtime.hd.upsample import GuidedUpsampler, resize_painting
from stylecast.realtime.live.capture import parse_size
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.sizing import cover_crop
from stylecast.styles import resolve_style
from stylecast.styles.mixes import parse_style


def paintings(photos: list[np.ndarray], full: str, governed: str, side: int) -> dict[str, list[np.ndarray]]:
    """BGR outputs of each method, one per photo."""
    prefer = ("openvino", "cpu")
    full_net = Stylizer(open_backend(resolve_style(full), prefer).backend)
    spec = parse_style(governed)  # a mix or one painting of a multi-style network too: paintings_rt:starry_night
    small_net = WorkingSizePainter(Stylizer(open_backend(spec.model, prefer).backend, spec.mix), side)
    up = GuidedUpsampler()
    out: dict[str, list[np.ndarray]] = {"full network, full size": [], "guided": [], "resized": []}
    for photo in photos:
        out["full network, full size"].append(full_net(photo))
        painted = small_net(photo)
        out["guided"].append(up(painted.painting, painted.small, photo))
        out["resized"].append(resize_painting(painted.painting, photo))
    return out


def unsharp(image: np.ndarray, amount: float, sigma: float) -> np.ndarray:
    """``image`` + ``amount`` x (``image`` - its Gaussian blur): fine detail at the output size."""
    return cv2.addWeighted(image, 1 + amount, cv2.GaussianBlur(image, (0, 0), sigma), -amount, 0)


def scores(photos: list[np.ndarray], outputs: list[np.ndarray], style: Path) -> dict[str, float]:
    from stylecast.models.vgg_weights import load_vgg16
    from stylecast.train.evaluate import score_pairs
    from stylecast.train.trainer import load_style_image

    rgb = lambda image: cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # noqa: E731
    short = min(photos[0].shape[:2])
    s = score_pairs([(rgb(p), rgb(o)) for p, o in zip(photos, outputs)], load_style_image(style, 2 * short), _vgg(load_vgg16),
                    "relu2_2")
    return {"content_loss": round(s.content_loss), "style_ratio": round(s.style_ratio, 4)}


_VGG = None


def _vgg(load):
    global _VGG
    _VGG = _VGG or load()
    return _VGG


def side_by_side(photo: np.ndarray, outputs: dict[str, list[np.ndarray]], index: int, crop: int = 360) -> np.ndarray:
    """Crops at 100% of one photo: the photo, then each method, with labels."""
    h, w = photo.shape[:2]
    y, x = (h - crop) // 2, (w - crop) // 2
    tiles = [("photo", photo)] + [(name, images[index]) for name, images in outputs.items()]
    row = []
    for name, image in tiles:
        tile = image[y:y + crop, x:x + crop].copy()
        cv2.putText(tile, name, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(tile, name, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
        row.append(tile)
    return np.hstack(row)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="held-out photos")
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--style", required=True, help="FULL_STYLE=PAINTING_IMAGE")
    ap.add_argument("--governed", required=True, help="STYLE:LONG_SIDE, e.g. starry_night_fast:336 or paintings_rt:starry_night:496 (any -s)")
    ap.add_argument("--limit", type=int, default=6)
    ap.add_argument("--picture", type=Path, help="write a side-by-side of the first photo here")
    ap.add_argument("--unsharp", action="append", default=[], metavar="AMOUNT:SIGMA",
                    help="also score the guided output sharpened at full size (unsharp mask, sigma in px); repeatable")
    args = ap.parse_args()
    full, painting = args.style.split("=", 1)
    network, side = args.governed.rsplit(":", 1)
    size = parse_size(args.size)
    files = sorted(p for p in args.data.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[: args.limit]
    photos = [cover_crop(cv2.imread(str(p)), size) for p in files]
    outputs = paintings(photos, full, network, int(side))
    for spec in args.unsharp:
        amount, sigma = (float(v) for v in spec.split(":"))
        outputs[f"guided, unsharp {spec}"] = [unsharp(image, amount, sigma) for image in outputs["guided"]]
    report = {"size": args.size, "full": full, "governed": args.governed, "photos": len(photos)}
    for name, images in outputs.items():
        report[name] = scores(photos, images, Path(painting))
    print(json.dumps(report))
    if args.picture:
        cv2.imwrite(str(args.picture), side_by_side(photos[0], outputs, 0), [cv2.IMWRITE_JPEG_QUALITY, 90])


if __name__ == "__main__":
    main()
