import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecast.errors import StylecastError
from stylecast.train.gcompris.extract import extract_gcompris
from stylecast.train.gcompris.rcc import iter_rcc


def _write_rcc(path: Path, files: dict[str, tuple[bytes, bool]]) -> None:
    """A minimal version-3 .rcc with one folder level, written the way Qt's rcc lays it out."""
    folders: dict[str, list[str]] = {}
    for name in files:
        folder, leaf = name.split("/")
        folders.setdefault(folder, []).append(leaf)
    names, name_offsets = b"", {}

    def name_offset(n: str) -> int:
        nonlocal names
        if n not in name_offsets:
            name_offsets[n] = len(names)
            names += struct.pack(">HI", len(n), 0) + n.encode("utf-16-be")
        return name_offsets[n]

    data, data_offsets = b"", {}
    for name, (payload, compress) in files.items():
        data_offsets[name] = len(data)
        blob = struct.pack(">I", len(payload)) + zlib.compress(payload) if compress else payload
        data += struct.pack(">I", len(blob)) + blob
    # node 0: root; nodes 1..F: folders; then files of each folder
    nodes = [struct.pack(">IHII", 0, 2, len(folders), 1) + bytes(8)]
    first_child = 1 + len(folders)
    for folder, leaves in folders.items():
        nodes.append(struct.pack(">IHII", name_offset(folder), 2, len(leaves), first_child) + bytes(8))
        first_child += len(leaves)
    for folder, leaves in folders.items():
        for leaf in leaves:
            flags = 1 if files[f"{folder}/{leaf}"][1] else 0
            nodes.append(struct.pack(">IHHHI", name_offset(leaf), flags, 0, 0, data_offsets[f"{folder}/{leaf}"]) + bytes(8))
    header_size = 24
    data_at, names_at = header_size, header_size + len(data)
    tree_at = names_at + len(names)
    header = b"qres" + struct.pack(">IIIII", 3, tree_at, data_at, names_at, 0)
    path.write_bytes(header + data + names + b"".join(nodes))


def test_reads_folders_plain_and_compressed_entries(tmp_path):
    files = {"a/readme.txt": (b"hello " * 50, True), "a/raw.bin": (bytes(range(256)), False), "b/x.txt": (b"x", False)}
    rcc = tmp_path / "t.rcc"
    _write_rcc(rcc, files)
    got = dict(iter_rcc(rcc))
    assert got == {f"/{k}": v[0] for k, v in files.items()}


def test_not_an_rcc_file(tmp_path):
    bad = tmp_path / "bad.rcc"
    bad.write_bytes(b"PK\x03\x04 zip, not qres")
    with pytest.raises(StylecastError, match="not a Qt resource file"):
        list(iter_rcc(bad))


def test_real_gcompris_paintings(gcompris_rcc, tmp_path):
    entries = dict(iter_rcc(gcompris_rcc / "details.rcc"))
    cafe = entries["/gcompris/src/activities/details/resource/image/Gogh4_background.webp"]
    image = cv2.imdecode(np.frombuffer(cafe, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (500, 401, 3)
    only_details = tmp_path / "rcc"
    only_details.mkdir()
    (only_details / "details.rcc").symlink_to(gcompris_rcc / "details.rcc")
    report = extract_gcompris(tmp_path / "out", only_details)
    assert report.paintings == 8 and report.photos >= 10
    assert cv2.imread(str(tmp_path / "out" / "paintings" / "details-Gogh4.png")).shape == (500, 401, 3)
    assert "Cafe Terrace" in (tmp_path / "out" / "paintings" / "SOURCES.txt").read_text()


def test_missing_gcompris_names_the_package(tmp_path):
    with pytest.raises(StylecastError, match="apt-get install gcompris-qt-data"):
        extract_gcompris(tmp_path / "out", tmp_path / "absent")


def test_an_output_folder_that_cannot_be_made_is_said_before_any_extraction(gcompris_rcc, tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("a file where the folder should go")
    with pytest.raises(StylecastError, match="cannot create output folder"):
        extract_gcompris(blocker / "out", gcompris_rcc)


def test_puzzle_pieces_go_back_where_the_board_says():
    from stylecast.train.gcompris.puzzles import assemble, parse_board

    rng = np.random.default_rng(0)
    painting = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
    board = (100, 80)  # the painting sits at (20, 20) on the board
    pieces = []
    for y0, x0 in ((0, 0), (0, 30), (20, 0), (20, 30)):
        piece = cv2.cvtColor(painting[y0:y0 + 20, x0:x0 + 30], cv2.COLOR_BGR2BGRA)
        pieces.append((piece, (20 + x0 + 15) / board[0], (20 + y0 + 10) / board[1]))
    np.testing.assert_array_equal(assemble(pieces, board), painting)
    qml = 'instruction: qsTr("A Painter, A Title - 1900")\n"width": 100,\n "height": 80\n' \
          '"pixmapfile" : "image/p_1.webp",\n "x" : "0.5",\n "y" : "0.25"'
    assert parse_board(qml) == ("A Painter, A Title - 1900", (100, 80), [("image/p_1.webp", 0.5, 0.25)])


def test_real_jigsaw_paintings_are_reassembled(gcompris_rcc, tmp_path):
    only = tmp_path / "rcc"
    only.mkdir()
    (only / "paintings.rcc").symlink_to(gcompris_rcc / "paintings.rcc")
    report = extract_gcompris(tmp_path / "out", only)
    assert report.puzzles >= 20 and report.paintings == report.puzzles
    wave = cv2.imread(str(tmp_path / "out" / "paintings" / "puzzle-Katsushika_Hokusai_The_Great_Wave_off_Kanagawa.png"))
    assert wave.shape == (450, 665, 3)
    # no holes: the reassembled picture has no black gaps between pieces
    assert (wave.max(-1) < 8).mean() < 0.01
    assert "Great Wave" in (tmp_path / "out" / "paintings" / "SOURCES.txt").read_text()
