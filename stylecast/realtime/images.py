"""Stylize still images: the `stylecast image` command."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from stylecast.atomic import atomic_path
from stylecast.errors import StylecastError
from stylecast.realtime.backends import Choice, open_backend
from stylecast.realtime.config import RunConfig
from stylecast.realtime.hd.painter import FullSizePainter, WorkingSizePainter
from stylecast.realtime.hd.working_size import stroke_long_side
from stylecast.realtime.outputs import plan_targets
from stylecast.realtime.stylizer import Stylizer
from stylecast.sizing import fit_image
from stylecast.styles import resolve_style


@dataclass(frozen=True)
class ImageJob:
    source: Path
    target: Path


def read_image(path: Path) -> np.ndarray:
    if not path.is_file():
        raise StylecastError(f"input not found: {path}")
    data = np.fromfile(path, np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise StylecastError(f"{path} is not an image OpenCV can read (jpg, png, webp, bmp, tiff, ...)")
    return image


def plan_jobs(inputs: Sequence[Path], output: Path, style_name: str, overwrite: bool) -> list[ImageJob]:
    """Decide every output path up front, so bad arguments fail before any work is done."""
    pairs = plan_targets(inputs, output, lambda src: f"{src.stem}-{style_name}{_out_suffix(src.suffix)}",
                         _check_image_writer, overwrite)
    return [ImageJob(src, target) for src, target in pairs]


def _check_image_writer(output: Path) -> None:
    if not cv2.haveImageWriter(str(output)):
        raise StylecastError(f"cannot write images of type '{output.suffix or '(none)'}': use .jpg, .png or .webp")


def _out_suffix(suffix: str) -> str:
    return suffix.lower() if suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") else ".png"


def _ensure_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StylecastError(f"cannot create output folder {folder}: {e.strerror}") from e
    if not os.access(folder, os.W_OK):
        raise StylecastError(f"output folder {folder} is not writable")


def write_image(path: Path, image: np.ndarray) -> None:
    try:
        with atomic_path(path) as tmp:
            if not cv2.imwrite(str(tmp), image):
                raise StylecastError(f"could not write {path}")
    except OSError as e:
        raise StylecastError(f"could not write {path}: {e.strerror}") from e


def stylize_images(inputs: Sequence[Path], output: Path, config: RunConfig) -> tuple[Choice, list[Path]]:
    """Stylize each input into its planned output; returns the backend choice and files written."""
    inputs = [Path(p) for p in inputs]
    model = resolve_style(config.style)
    jobs = plan_jobs(inputs, Path(output), model.stem, config.overwrite)
    for folder in {job.target.parent for job in jobs}:
        _ensure_writable(folder)
    images = [read_image(job.source) for job in jobs]  # every input is checked before any output
    choice = open_backend(model, config.prefer)
    stylize = FullSizePainter(WorkingSizePainter(Stylizer(choice.backend), stroke_long_side(config.stroke_scale)))
    written = []
    for job, image in zip(jobs, images):
        write_image(job.target, stylize(fit_image(image, longest=config.max_side)))
        written.append(job.target)
    return choice, written
