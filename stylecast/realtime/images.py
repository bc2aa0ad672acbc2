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
from stylecast.realtime.stylizer import Stylizer
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


def limit_side(image: np.ndarray, max_side: int | None) -> np.ndarray:
    h, w = image.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return image
    s = max_side / max(h, w)
    return cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def plan_jobs(inputs: Sequence[Path], output: Path, style_name: str, overwrite: bool) -> list[ImageJob]:
    """Decide every output path up front, so bad arguments fail before any work is done."""
    if not inputs:
        raise StylecastError("no input images given")
    for src in inputs:
        if not src.is_file():
            raise StylecastError(f"input not found: {src}")
    to_dir = len(inputs) > 1 or output.is_dir() or str(output).endswith(os.sep)
    if to_dir:
        if output.exists() and not output.is_dir():
            raise StylecastError(f"{output} is a file; with several inputs -o must be a folder")
        jobs = [ImageJob(src, output / f"{src.stem}-{style_name}{_out_suffix(src.suffix)}") for src in inputs]
    else:
        if not cv2.haveImageWriter(str(output)):
            raise StylecastError(f"cannot write images of type '{output.suffix or '(none)'}': use .jpg, .png or .webp")
        jobs = [ImageJob(inputs[0], output)]
    sources = {src.resolve() for src in inputs}
    for job in jobs:
        if job.target.resolve() in sources:
            raise StylecastError(f"output {job.target} is one of the inputs; stylecast never overwrites an input")
        if job.target.exists() and not overwrite:
            raise StylecastError(f"{job.target} exists: add --overwrite to replace it")
    return jobs


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
    for src in inputs:
        if not src.is_file():
            raise StylecastError(f"input not found: {src}")
    model = resolve_style(config.style)
    jobs = plan_jobs(inputs, Path(output), model.stem, config.overwrite)
    for folder in {job.target.parent for job in jobs}:
        _ensure_writable(folder)
    images = [read_image(job.source) for job in jobs]  # every input is checked before any output
    choice = open_backend(model, config.prefer)
    stylize = Stylizer(choice.backend)
    written = []
    for job, image in zip(jobs, images):
        write_image(job.target, stylize(limit_side(image, config.max_side)))
        written.append(job.target)
    return choice, written
