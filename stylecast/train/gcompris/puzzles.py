"""Reassemble the famous paintings that GCompris' `paintings` activity cuts into jigsaw pieces.

Each board file (``resource/board/boardN_0.qml``) names the painting and lists its pieces with the
position of each piece's centre as a fraction of the board (702x515 px). The pieces are webp
images with alpha: laid back at those centres they tile the painting without gaps.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from stylecast.train.gcompris.rcc import iter_rcc

BOARD_PREFIX = "/gcompris/src/activities/paintings/resource/"
_TITLE = re.compile(r'instruction:\s*qsTr\("([^"]+)"\)')
_BOARD_SIZE = re.compile(r'"width"\s*:\s*(\d+),\s*"height"\s*:\s*(\d+)')
_PIECE = re.compile(r'"pixmapfile"\s*:\s*"(image/[^"]+)",\s*"x"\s*:\s*"([\d.]+)",\s*"y"\s*:\s*"([\d.]+)"')


@dataclass(frozen=True)
class Painting:
    board: str  # e.g. board3_0
    title: str  # as the activity shows it, e.g. "Giuseppe Arcimboldo, The Librarian - 1566"
    image: np.ndarray  # BGR, cropped to the pieces
    pieces: int


def parse_board(qml: str) -> tuple[str, tuple[int, int], list[tuple[str, float, float]]] | None:
    title, size = _TITLE.search(qml), _BOARD_SIZE.search(qml)
    pieces = [(name, float(x), float(y)) for name, x, y in _PIECE.findall(qml)]
    if not title or not size or not pieces:
        return None
    return title.group(1), (int(size.group(1)), int(size.group(2))), pieces


def assemble(pieces: list[tuple[np.ndarray, float, float]], board: tuple[int, int]) -> np.ndarray | None:
    """Alpha-composite BGRA ``pieces`` centred at fractional board positions; crop to what they cover."""
    width, height = board
    canvas = np.zeros((height, width, 3), np.float32)
    cover = np.zeros((height, width), np.float32)
    for piece, fx, fy in pieces:
        h, w = piece.shape[:2]
        x0, y0 = round(fx * width - w / 2), round(fy * height - h / 2)
        xa, ya, xb, yb = max(0, x0), max(0, y0), min(width, x0 + w), min(height, y0 + h)
        if xa >= xb or ya >= yb:
            continue
        part = piece[ya - y0: yb - y0, xa - x0: xb - x0]
        alpha = part[..., 3:4].astype(np.float32) / 255
        canvas[ya:yb, xa:xb] = canvas[ya:yb, xa:xb] * (1 - alpha) + part[..., :3] * alpha
        cover[ya:yb, xa:xb] = np.maximum(cover[ya:yb, xa:xb], alpha[..., 0])
    ys, xs = np.nonzero(cover > 0.5)
    if ys.size == 0:
        return None
    crop = canvas[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    return np.clip(crop + 0.5, 0, 255).astype(np.uint8)


def reassemble_paintings(rcc: Path) -> list[Painting]:
    files = dict(iter_rcc(rcc))
    paintings = []
    for name in sorted(files):
        if not (name.startswith(BOARD_PREFIX + "board/") and name.endswith(".qml")):
            continue
        parsed = parse_board(files[name].decode("utf-8", "replace"))
        if parsed is None:
            continue
        title, board, placements = parsed
        pieces = []
        for image_name, fx, fy in placements:
            data = files.get(BOARD_PREFIX + image_name)
            piece = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
            if piece is not None and piece.ndim == 3 and piece.shape[2] == 3:
                piece = cv2.cvtColor(piece, cv2.COLOR_BGR2BGRA)  # rectangular pieces: fully opaque
            if piece is not None and piece.ndim == 3 and piece.shape[2] == 4:
                pieces.append((piece, fx, fy))
        image = assemble(pieces, board) if pieces else None
        if image is not None:
            paintings.append(Painting(Path(name).stem, title, image, len(pieces)))
    return paintings


def file_stem(title: str) -> str:
    """A file name from the title: 'Katsushika Hokusai, The Great Wave off Kanagawa - 1823-1829' ->
    'Katsushika_Hokusai_The_Great_Wave_off_Kanagawa'."""
    words = re.sub(r"[^A-Za-z0-9]+", "_", title.split(" - ")[0]).strip("_")
    return words[:80]
