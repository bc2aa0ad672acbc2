"""Training images: any folder of photos, read recursively, cropped and flipped at random."""
from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from stylecast.errors import StylecastError
from stylecast.sizing import fit_image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def list_images(root: Path) -> list[Path]:
    root = Path(root)
    if not root.is_dir():
        raise StylecastError(f"photo folder not found: {root}")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise StylecastError(f"no images (jpg/png/webp/bmp) under {root}")
    return files


def read_rgb(path: Path) -> np.ndarray | None:
    """HxWx3 uint8 RGB, or None when the file is not a readable image."""
    data = np.fromfile(path, np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def random_crop(image: np.ndarray, size: int, rng: random.Random, scale: tuple[float, float] = (0.8, 1.25)) -> np.ndarray:
    """Rescale so the short side is about ``size`` (times a random factor), crop, maybe mirror."""
    h, w = image.shape[:2]
    factor = size / min(h, w) * rng.uniform(*scale)
    factor = max(factor, size / min(h, w))  # never smaller than the crop
    nh, nw = max(size, round(h * factor)), max(size, round(w * factor))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=interp)
    y, x = rng.randint(0, nh - size), rng.randint(0, nw - size)
    crop = resized[y : y + size, x : x + size]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 -> 3xHxW float32 on the 0-255 scale."""
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float()


MIN_TRAIN_SIDE = 32  # pictures smaller than this are skipped like unreadable ones


class ImageFolder(Dataset):
    """Random square crops of the images under a folder; unreadable or tiny files are skipped and counted."""

    def __init__(self, root: Path, size: int, seed: int = 0, cache_limit: int = 2000) -> None:
        self.files = list_images(root)
        self.size = size
        self.seed = seed
        self.unreadable: set[Path] = set()
        # Decoding a 1080p PNG costs more than a training step's data needs: keep small copies.
        self.cache_limit = cache_limit
        self._cache: dict[Path, np.ndarray] = {}

    def _load(self, path: Path) -> np.ndarray | None:
        if path in self._cache:
            return self._cache[path]
        image = read_rgb(path)
        if image is not None and min(image.shape[:2]) < MIN_TRAIN_SIDE:
            # an icon enlarged to a crop is flat: its zero-variance features blow the gradients up
            # through every instance norm (NaN from the first step in a bottleneck design)
            image = None
        if image is not None:
            image = fit_image(image, shortest=round(self.size * 1.5))
            if len(self._cache) < self.cache_limit:
                self._cache[path] = image
        return image

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = random.Random(hash((self.seed, index, random.random())))
        for attempt in range(len(self.files)):
            path = self.files[(index + attempt) % len(self.files)]
            image = self._load(path)
            if image is not None:
                return to_tensor(random_crop(image, self.size, rng))
            self.unreadable.add(path)
        raise StylecastError("none of the training images could be read")
