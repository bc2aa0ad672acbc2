"""Render one photo in every bundled style into docs/gallery.jpg (the README picture).

    python scripts/make_gallery.py [--photo docs/sample.jpg] [--out docs/gallery.jpg]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from stylecast.atomic import atomic_path
from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.styles import bundled_styles

TILE_WIDTH = 420


def labelled(image: np.ndarray, text: str) -> np.ndarray:
    h, w = image.shape[:2]
    tile = cv2.resize(image, (TILE_WIDTH, round(h * TILE_WIDTH / w)), interpolation=cv2.INTER_AREA)
    cv2.rectangle(tile, (0, 0), (TILE_WIDTH, 26), (0, 0, 0), -1)
    cv2.putText(tile, text, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=Path("docs/sample.jpg"))
    parser.add_argument("--out", type=Path, default=Path("docs/gallery.jpg"))
    parser.add_argument("--columns", type=int, default=4)
    args = parser.parse_args()
    photo = cv2.imread(str(args.photo))
    tiles = [labelled(photo, "original")]
    for style in bundled_styles():
        stylize = Stylizer(open_backend(style.model, ("cpu",)).backend)
        tiles.append(labelled(stylize(photo), style.name))
    while len(tiles) % args.columns:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[i:i + args.columns]) for i in range(0, len(tiles), args.columns)]
    with atomic_path(args.out) as tmp:
        cv2.imwrite(str(tmp), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {args.out} ({len(tiles)} tiles)")


if __name__ == "__main__":
    main()
