"""The README's row of mixes: one photo painted from one painting to another in weight steps.

    python scripts/mix_row.py docs/sample.jpg starry_night the_scream -o docs/mix_row.jpg
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from stylecast.atomic import atomic_path
from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.sizing import cover_crop
from stylecast.styles.mixes import network_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", type=Path)
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=5, help="pictures in the row (default 5: 0, 25, 50, 75, 100%%)")
    parser.add_argument("--size", default="320x240")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    frame = cover_crop(cv2.imread(str(args.photo)), (w, h))
    backend = open_backend(network_for([args.a, args.b]).model, ("cpu",)).backend
    tiles = []
    for t in np.linspace(0, 1, args.steps):
        painted = Stylizer(backend, {args.a: 1 - t, args.b: t})(frame)
        for label, y in ((f"{args.a} {1 - t:.0%}", 16), (f"{args.b} {t:.0%}", h - 8)):
            cv2.putText(painted, label, (6, y), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(painted, label, (6, y), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(painted)
    with atomic_path(args.output) as tmp:
        cv2.imwrite(str(tmp), np.hstack([frame] + tiles), [cv2.IMWRITE_JPEG_QUALITY, 88])


if __name__ == "__main__":
    main()
