"""Each teacher's painting of each training photo, made once and kept on disk.

A multi-style student learns from eight full-width teachers; running a teacher every step would
cost more than the student's own step (a width-32 net against a width-8 one). A teacher paints
per pixel with fixed-size strokes, so a square crop of its painting of a larger square is (up to
the instance norm's statistics) its painting of that crop: the student trains on random crops of
both. Two scales per photo give it strokes against close and far views.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from stylecast.errors import StylecastError
from stylecast.sizing import cover_crop
from stylecast.train.data import list_images, read_rgb

SCALES = (288, 416)


@dataclass
class TeacherPaintings:
    """``photos[k]`` (P, s, s, 3) RGB uint8 at ``SCALES[k]``; ``paintings[k]`` (S, P, s, s, 3) the same, painted."""

    styles: tuple[str, ...]
    photos: list[np.ndarray]
    paintings: list[np.ndarray]

    def save(self, folder: Path) -> None:
        from stylecast.atomic import atomic_path

        for k, scale in enumerate(SCALES):
            for kind, array in (("photos", self.photos[k]), ("paintings", self.paintings[k])):
                with atomic_path(folder / f"teacher_{kind}_{scale}.npy") as tmp:
                    with open(tmp, "wb") as f:
                        np.save(f, array)
        (folder / "teacher_styles.txt").write_text("\n".join(self.styles) + "\n")

    @classmethod
    def load(cls, folder: Path, styles: tuple[str, ...]) -> "TeacherPaintings | None":
        names = folder / "teacher_styles.txt"
        if not names.is_file() or tuple(names.read_text().split()) != styles:
            return None
        try:
            photos = [np.load(folder / f"teacher_photos_{s}.npy", mmap_mode="r") for s in SCALES]
            paintings = [np.load(folder / f"teacher_paintings_{s}.npy", mmap_mode="r") for s in SCALES]
        except (OSError, ValueError):
            return None
        return cls(styles, photos, paintings)


def _part_path(folder: Path, name: str) -> Path:
    return folder / f"teacher_part_{name}.npz"


def paint_teachers(styles: tuple[str, ...], data: Path, quiet: bool = False,
                   folder: Path | None = None) -> TeacherPaintings:
    """Run each painting's full network (OpenVINO f32, or onnxruntime) over every photo at each scale.
    With a ``folder``, each teacher's paintings are kept there as soon as they are made, and a run
    stopped on the way (Ctrl-C, a lost machine) starts again from the first teacher not yet done."""
    from stylecast.atomic import atomic_path
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.openvino_backend import OpenVinoBackend
    from stylecast.realtime.runtimes.stylizer import Stylizer
    from stylecast.styles import resolve_style

    images = [image for image in (read_rgb(p) for p in list_images(data)) if image is not None]
    if not images:
        raise StylecastError(f"no readable photos under {data}")
    photos = [np.stack([cover_crop(image, (s, s)) for image in images]) for s in SCALES]
    paintings = [np.empty((len(styles),) + p.shape, np.uint8) for p in photos]
    bar = tqdm(total=len(styles) * len(images) * len(SCALES), desc="teachers", unit="painting", disable=quiet)
    for i, name in enumerate(styles):
        part = _part_path(folder, name) if folder is not None else None
        if part is not None and (kept := _load_part(part, photos)) is not None:
            for k in range(len(SCALES)):
                paintings[k][i] = kept[k]
            bar.update(len(images) * len(SCALES))
            continue
        model = resolve_style(name)
        try:
            backend = OpenVinoBackend(model, precision="f32")
        except Exception:  # no OpenVINO here: onnxruntime gives the same fp32 painting
            backend = OnnxRuntimeBackend(model)
        stylize = Stylizer(backend)
        for k in range(len(SCALES)):
            for j, photo in enumerate(photos[k]):
                painted = stylize(cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
                paintings[k][i, j] = cv2.cvtColor(painted, cv2.COLOR_BGR2RGB)
                bar.update()
        if part is not None:
            with atomic_path(part) as tmp:
                np.savez(tmp, np.array(_fingerprint(photos)), *[p[i] for p in paintings])
    bar.close()
    return TeacherPaintings(styles, photos, paintings)


def _fingerprint(photos: list[np.ndarray]) -> str:
    """Which photos, at which scales: a teacher's kept paintings are reused only for the same ones."""
    digest = hashlib.sha256()
    for p in photos:
        digest.update(str(p.shape).encode())
        digest.update(np.ascontiguousarray(p).data)
    return digest.hexdigest()


def _load_part(path: Path, photos: list[np.ndarray]) -> list[np.ndarray] | None:
    """One teacher's kept paintings, if they were made from these very photos."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as kept:
            if str(kept["arr_0"]) != _fingerprint(photos):
                return None
            return [kept[f"arr_{n + 1}"] for n in range(len(SCALES))]
    except (OSError, ValueError, KeyError):
        return None


def drop_parts(folder: Path, styles: tuple[str, ...]) -> None:
    """Once the whole set is saved, the per-teacher files are redundant."""
    for name in styles:
        _part_path(folder, name).unlink(missing_ok=True)
