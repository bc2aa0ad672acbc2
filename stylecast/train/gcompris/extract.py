"""Extract real photos and paintings (Van Gogh, and jigsaw-cut classics reassembled) from Debian's
gcompris-qt-data for offline training."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import cv2
import numpy as np

from stylecast.atomic import atomic_path
from stylecast.errors import StylecastError
from stylecast.realtime.media.outputs import ensure_writable
from stylecast.train.gcompris.puzzles import file_stem, reassemble_paintings
from stylecast.train.gcompris.rcc import iter_rcc

DEFAULT_RCC_DIR = Path("/usr/share/gcompris-qt/rcc")
# Activities whose pictures are photographs (wildlife, monuments, everyday objects).
PHOTO_SOURCES = ("erase", "explore_monuments", "explore_world_animals", "explore_farm_animals", "categorization")
# In details.rcc the full-size "_background" pictures are whole paintings or monument photos.
PAINTING_MARKERS = ("Gogh", "Tanguy", "Eglise_dAuvers", "Night_Cafe")
PAINTING_TITLES = {
    "Gogh4": "Van Gogh, Cafe Terrace at Night (1888)",
    "Van_Gogh_The_Night_Cafe": "Van Gogh, The Night Cafe (1888)",
    "PortraitOfPereTanguy": "Van Gogh, Portrait of Pere Tanguy (1887)",
    "VincentVanGoghBridge": "Van Gogh, Langlois Bridge at Arles (1888)",
    "Eglise_dAuvers-sur-Oise": "Van Gogh, The Church at Auvers (1890)",
    "VincentVanGogh0012": "Van Gogh, The Courtyard of the Hospital at Arles (1889)",
    "VincentVanGogh0013": "Van Gogh, The Painter on the Road to Tarascon (1888)",
    "VincentVanGogh0019": "Van Gogh, Harvest at La Crau (1888)",
}
MIN_PHOTO_SIDE = 256


@dataclass(frozen=True)
class ExtractReport:
    photos: int
    paintings: int
    skipped_small: int
    puzzles: int = 0  # paintings reassembled from the jigsaw activity (counted in paintings too)


def _decode(data: bytes) -> np.ndarray | None:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def _write_png(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), image):
            raise StylecastError(f"cannot write {path}")


def extract_gcompris(out_dir: Path, rcc_dir: Path = DEFAULT_RCC_DIR) -> ExtractReport:
    """Write photos to OUT/photos/ and paintings (with a license note) to OUT/paintings/."""
    if not rcc_dir.is_dir():
        raise StylecastError(f"{rcc_dir} not found: install it with 'apt-get install gcompris-qt-data'")
    out_dir = Path(out_dir)
    for folder in ("photos", "paintings"):  # an unwritable OUT is one line now, not a traceback mid-way
        ensure_writable(out_dir / folder)
    photos = paintings = small = 0
    for source in PHOTO_SOURCES:
        rcc = rcc_dir / f"{source}.rcc"
        if not rcc.is_file():
            continue
        for name, data in iter_rcc(rcc):
            stem = PurePosixPath(name).stem
            if PurePosixPath(name).suffix.lower() not in (".webp", ".jpg", ".jpeg", ".png"):
                continue
            image = _decode(data)
            if image is None or min(image.shape[:2]) < MIN_PHOTO_SIDE:
                small += 1
                continue
            _write_png(out_dir / "photos" / f"{source}-{stem}.png", image)
            photos += 1
    details = rcc_dir / "details.rcc"
    if details.is_file():
        for name, data in iter_rcc(details):
            stem = PurePosixPath(name).stem
            if not stem.endswith("_background"):
                continue
            base = stem[: -len("_background")]
            is_painting = any(m in base for m in PAINTING_MARKERS)
            image = _decode(data)
            if image is None:
                continue
            folder = "paintings" if is_painting else "photos"
            _write_png(out_dir / folder / f"details-{base}.png", image)
            paintings += is_painting
            photos += not is_painting
    puzzle_notes = []
    if (rcc_dir / "paintings.rcc").is_file():
        for painting in reassemble_paintings(rcc_dir / "paintings.rcc"):
            name = f"puzzle-{file_stem(painting.title)}.png"
            _write_png(out_dir / "paintings" / name, painting.image)
            puzzle_notes.append(f"{name}: {painting.title}. Public domain painting; reassembled from {painting.pieces} "
                                f"pieces of GCompris' paintings activity ({painting.board}).")
    _write_painting_notes(out_dir / "paintings", puzzle_notes)
    return ExtractReport(photos, paintings + len(puzzle_notes), small, len(puzzle_notes))


def _write_painting_notes(folder: Path, extra: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"details-{k}.png: {v}. Public domain; via GCompris (details activity)." for k, v in PAINTING_TITLES.items()]
    lines += extra
    (folder / "SOURCES.txt").write_text("\n".join(lines) + "\n")
