"""The README's before/after row for --paint, and the measurements behind docs/person.md.

    python scripts/person_row.py -s starry_night_lite_rt -o docs/person_row.jpg

Row: the photo, --paint all, --paint background, --paint person (opencv-doc face_swapped.jpg).
Then, on photos of people with the face and a patch of the room marked by hand, how far
--paint background leaves the face from the original (grey levels, mean absolute) and how strongly
it paints the room compared with --paint all.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from stylecast.atomic import atomic_path
from stylecast.realtime.effects import paint_where
from stylecast.realtime.hd.painter import FullSizePainter, WorkingSizePainter
from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.segment.matte import PersonMatte
from stylecast.segment.segmenter import PersonSegmenter
from stylecast.styles import resolve_style

DOCS = Path("/usr/share/doc/opencv-doc/opencv4/html")
DATA = Path("/usr/share/doc/opencv-doc/examples/data")
# photo -> (face box, room box), each (y0, y1, x0, x1), marked by hand
MARKED = {
    DOCS / "face_swapped.jpg": ((90, 200, 120, 210), (0, 160, 0, 60)),
    DOCS / "faceDetection.png": ((230, 360, 240, 360), (0, 200, 440, 512)),
    DATA / "messi5.jpg": ((92, 125, 222, 255), (0, 60, 0, 548)),
}


def region(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    y0, y1, x0, x1 = box
    return image[y0:y1, x0:x1].astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-s", "--style", default="starry_night_lite_rt")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--height", type=int, default=240)
    args = parser.parse_args()
    backend = open_backend(resolve_style(args.style), ("cpu",)).backend
    paint = FullSizePainter(WorkingSizePainter(Stylizer(backend), None))
    matte = PersonMatte(PersonSegmenter(), smooth=False)
    print(f"{'photo':<20}{'face change, background':>25}{'face change, all':>18}{'room: background / all':>24}")
    row = []
    for photo, (face, room) in MARKED.items():
        image = cv2.imread(str(photo))
        painted = paint(image)
        person = matte(image)
        looks = {where: paint_where(image, painted, person, where) for where in ("all", "background", "person")}
        change = {where: (np.abs(region(out, face) - region(image, face)).mean(),
                          np.abs(region(out, room) - region(image, room)).mean()) for where, out in looks.items()}
        print(f"{photo.name:<20}{change['background'][0]:>25.1f}{change['all'][0]:>18.1f}"
              f"{change['background'][1] / change['all'][1]:>24.3f}")
        if not row:
            for label, tile in (("photo", image), ("--paint all", looks["all"]), ("--paint background", looks["background"]),
                                ("--paint person", looks["person"])):
                tile = cv2.resize(tile, (round(tile.shape[1] * args.height / tile.shape[0]), args.height),
                                  interpolation=cv2.INTER_AREA)
                cv2.putText(tile, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
                cv2.putText(tile, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
                row.append(tile)
    with atomic_path(args.output) as tmp:
        cv2.imwrite(str(tmp), np.hstack(row), [cv2.IMWRITE_JPEG_QUALITY, 88])


if __name__ == "__main__":
    main()
