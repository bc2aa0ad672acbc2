"""Stylize still images: the `stylecast image` command."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from stylecast.atomic import atomic_path
from stylecast.errors import StylecastError
from stylecast.machine import check_memory
from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.runtimes.protocol import Choice
from stylecast.realtime.config import RunConfig
from stylecast.realtime.hd.painter import FullSizePainter, WorkingSizePainter
from stylecast.realtime.hd.working_size import stroke_long_side
from stylecast.realtime.media.outputs import expand_folders, plan_targets, writable_folders
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.segment.matte import person_matte
from stylecast.sizing import MAX_FRAME_PIXELS, fit_image, fit_size
from stylecast.styles.mixes import parse_style


@dataclass(frozen=True)
class ImageJob:
    source: Path
    target: Path


# OpenCV refuses to decode more than this many pixels (its OPENCV_IO_MAX_IMAGE_PIXELS default).
OPENCV_MAX_PIXELS = 1 << 30
# Memory per pixel of a still at its own size, beside the network's at the working size: the picture,
# the guided upsampling's float planes, the sharpening (7680x4320 took 1.0 GB, /usr/bin/time; a margin on top).
IMAGE_BYTES_PER_PIXEL = 40


def header_size(head: bytes) -> tuple[int, int] | None:
    """(w, h) from a PNG's or JPEG's header, without decoding it; None for other formats."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(head):  # JPEG segments up to the frame header (SOF0-SOF15 but DHT, JPG, DAC)
        if head[i] != 0xFF:
            return None
        marker, length = head[i + 1], int.from_bytes(head[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(head[i + 7:i + 9], "big"), int.from_bytes(head[i + 5:i + 7], "big")
        i += 2 + length
    return None


def check_image_size(path: Path, max_side: int | None) -> tuple[int, int] | None:
    """Refuse, before decoding, a picture beyond 8K without --max-side (or that OpenCV cannot read);
    returns its size where the header tells it."""
    with open(path, "rb") as f:
        size = header_size(f.read(256 * 1024))
    if size is None:
        return None
    w, h = size
    if w * h > OPENCV_MAX_PIXELS:
        raise StylecastError(f"{path} is {w}x{h} ({w * h / 1e6:.0f} MP), more than OpenCV can decode "
                             f"({OPENCV_MAX_PIXELS / 1e6:.0f} MP): shrink it with another tool first")
    if w * h > MAX_FRAME_PIXELS and not max_side:
        raise StylecastError(f"{path} is {w}x{h} ({w * h / 1e6:.0f} MP): painting it at full size needs about "
                             f"{w * h * IMAGE_BYTES_PER_PIXEL / 1e9:.0f} GB of memory; add --max-side 7680 (or smaller) to shrink it")
    return size


def check_image_memory(path: Path, size: tuple[int, int], painter: WorkingSizePainter, width: int,
                       max_side: int | None) -> None:
    """Refuse a picture whose painting would not fit in free memory (say, 8K at --stroke-scale 0.1,
    painted at nearly its own size on onnxruntime): the kernel would kill the process unannounced."""
    w, h = fit_size(*size, longest=max_side)
    need, (pw, ph) = painter.memory_needed((w, h), width, IMAGE_BYTES_PER_PIXEL)
    check_memory(need, f"painting {path} ({w}x{h}, painted at {pw}x{ph})",
                 "add --max-side 1920 (or smaller) to shrink it, or paint smaller with a larger --stroke-scale")


ALPHA_SUFFIXES = (".png", ".webp")  # outputs that keep transparency
# What a folder given to `image` is searched for: what OpenCV reads, as far as a suffix tells.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def read_image(path: Path) -> np.ndarray:
    """HxWx3 BGR, or HxWx4 BGRA where the picture has transparency (painted from its colour, the
    alpha put back on the painting)."""
    if not path.is_file():
        raise StylecastError(f"input not found: {path}")
    data = np.fromfile(path, np.uint8)
    # PNG and WebP may carry alpha, which IMREAD_COLOR drops; other formats go through IMREAD_COLOR,
    # which also applies a JPEG's EXIF rotation
    alpha_capable = data[:4].tobytes() == b"\x89PNG" or data[8:12].tobytes() == b"WEBP"
    try:
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED if alpha_capable else cv2.IMREAD_COLOR) if data.size else None
    except cv2.error as e:  # e.g. over OpenCV's own pixel limit
        raise StylecastError(f"{path} cannot be decoded: {str(e).strip().splitlines()[-1][:160]}") from e
    if image is None:
        raise StylecastError(f"{path} is not an image OpenCV can read (jpg, png, webp, bmp, tiff, ...)")
    if image.dtype != np.uint8:  # 16-bit PNG
        image = (image >> 8).astype(np.uint8)
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4 and image[:, :, 3].min() == 255:
        return np.ascontiguousarray(image[:, :, :3])  # an alpha channel that hides nothing
    return image


def paint_keeping_alpha(paint, image: np.ndarray) -> np.ndarray:
    """``paint`` a BGR picture; a BGRA one is painted from its colour and gets its alpha back."""
    if image.shape[2] != 4:
        return paint(image)
    painted = paint(np.ascontiguousarray(image[:, :, :3]))
    return np.dstack([painted, image[:, :, 3]])


def plan_jobs(inputs: Sequence[Path], output: Path | str, style_name: str, overwrite: bool,
              skip_existing: bool = False) -> list[ImageJob]:
    """Decide every output path up front, so bad arguments fail before any work is done."""
    files, folder_given = expand_folders(inputs, IMAGE_SUFFIXES, "image")
    pairs = plan_targets(files, output, lambda src: f"{src.stem}-{style_name}{_out_suffix(src.suffix)}",
                         _check_image_writer, overwrite, to_folder=folder_given, skip_existing=skip_existing)
    return [ImageJob(src, target) for src, target in pairs]


def _check_image_writer(output: Path) -> None:
    if not cv2.haveImageWriter(str(output)):
        raise StylecastError(f"cannot write images of type '{output.suffix or '(none)'}': use .jpg, .png or .webp")


def _out_suffix(suffix: str) -> str:
    return suffix.lower() if suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") else ".png"


def write_image(path: Path, image: np.ndarray) -> None:
    try:
        with atomic_path(path) as tmp:
            if not cv2.imwrite(str(tmp), image):
                raise StylecastError(f"could not write {path}")
    except OSError as e:
        raise StylecastError(f"could not write {path}: {e.strerror}") from e


def stylize_images(inputs: Sequence[Path], output: Path | str, config: RunConfig,
                   on_written: Callable[[Path], None] | None = None,
                   on_unreadable: Callable[[str], None] | None = None,
                   show_progress: bool | None = False) -> tuple[Choice | None, list[str], int]:
    """Stylize each input into its planned output; returns the backend choice (None when every output
    exists already and ``config.skip_existing`` leaves nothing to do), notes for the user
    (transparency dropped) and how many inputs could not be read. ``on_written`` hears of each file
    as soon as it is complete. In a batch, an input that cannot be decoded is told to
    ``on_unreadable`` and the rest are painted (one damaged file must not stop a catalogue); alone,
    it is an error. ``show_progress``: a bar over a batch of several pictures (None: where stderr
    is a terminal); ``on_written`` should then print with ``tqdm.write``."""
    inputs = [Path(p) for p in inputs]
    spec = parse_style(config.style)
    jobs = plan_jobs(inputs, output, spec.label, config.overwrite, config.skip_existing)
    if not jobs:
        return None, []
    with writable_folders({job.target.parent for job in jobs}):  # one that ends up empty is removed again
        sizes = {job.source: check_image_size(job.source, config.max_side) for job in jobs}  # from the headers, before any decoding
        choice = open_backend(spec.model, config.prefer)
        painter = WorkingSizePainter(Stylizer(choice.backend, spec.mix), stroke_long_side(config.stroke_scale))
        for source, size in sizes.items():
            if size is not None:
                check_image_memory(source, size, painter, choice.network_width, config.max_side)
        stylize = FullSizePainter(painter, person_matte(config.paint, smooth=False), config.paint)
        notes: list[str] = []
        unreadable = 0
        # tqdm's disable=None: shown where stderr is a terminal, not in logs and pipes
        hidden = True if len(jobs) < 2 else (None if show_progress is None else not show_progress)
        for job in tqdm(jobs, unit="picture", disable=hidden, dynamic_ncols=True):  # one picture in memory at a time
            try:
                picture = read_image(job.source)
            except StylecastError as e:
                if len(jobs) == 1 or on_unreadable is None:
                    raise
                unreadable += 1
                on_unreadable(str(e))
                continue
            if (note := _paint_into(job, fit_image(picture, longest=config.max_side), stylize)) is not None:
                notes.append(note)
            if on_written is not None:
                on_written(job.target)
        return choice, notes, unreadable


def _paint_into(job: ImageJob, image: np.ndarray, stylize: FullSizePainter) -> str | None:
    """Paint ``image`` into ``job.target``; says so where its transparency could not be kept."""
    painted = paint_keeping_alpha(stylize, image)
    note = None
    if painted.shape[2] == 4 and job.target.suffix.lower() not in ALPHA_SUFFIXES:
        note = (f"{job.source} has transparency, which {job.target.suffix} cannot hold: it was dropped "
                f"(write .png or .webp to keep it)")
        painted = np.ascontiguousarray(painted[:, :, :3])
    write_image(job.target, painted)
    return note
