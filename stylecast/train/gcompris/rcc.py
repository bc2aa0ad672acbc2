"""Reader for Qt binary resource files (.rcc), where GCompris keeps its photos and paintings."""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from stylecast.errors import StylecastError

_MAGIC = b"qres"
_FLAG_COMPRESSED = 0x01  # qCompress: 4-byte big-endian length, then a zlib stream
_FLAG_DIRECTORY = 0x02
_FLAG_ZSTD = 0x04


@dataclass(frozen=True)
class _Header:
    version: int
    tree: int
    data: int
    names: int


def _header(blob: bytes, source: Path) -> _Header:
    if blob[:4] != _MAGIC:
        raise StylecastError(f"{source} is not a Qt resource file (no 'qres' magic)")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    if version not in (1, 2, 3):
        raise StylecastError(f"{source}: unsupported Qt resource version {version}")
    return _Header(version, tree, data, names)


def _name(blob: bytes, h: _Header, offset: int) -> str:
    (length,) = struct.unpack_from(">H", blob, h.names + offset)
    start = h.names + offset + 6  # 2 bytes length, 4 bytes hash
    return blob[start : start + 2 * length].decode("utf-16-be")


def _payload(blob: bytes, h: _Header, offset: int, flags: int, name: str) -> bytes:
    (size,) = struct.unpack_from(">I", blob, h.data + offset)
    raw = blob[h.data + offset + 4 : h.data + offset + 4 + size]
    if flags & _FLAG_COMPRESSED:
        return zlib.decompress(raw[4:])
    if flags & _FLAG_ZSTD:
        raise StylecastError(f"{name}: zstd-compressed Qt resources are not supported")
    return raw


def iter_rcc(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield (resource path, file bytes) for every file in a Qt .rcc file."""
    blob = Path(path).read_bytes()
    h = _header(blob, Path(path))
    node_size = 14 if h.version == 1 else 22  # v2+ adds an 8-byte modification time

    def walk(index: int, prefix: str) -> Iterator[tuple[str, bytes]]:
        at = h.tree + index * node_size
        name_offset, flags = struct.unpack_from(">IH", blob, at)
        name = _name(blob, h, name_offset) if index else ""
        full = f"{prefix}/{name}" if name else prefix
        if flags & _FLAG_DIRECTORY:
            count, first = struct.unpack_from(">II", blob, at + 6)
            for child in range(first, first + count):
                yield from walk(child, full)
        else:
            (data_offset,) = struct.unpack_from(">I", blob, at + 10)  # after country, language
            yield full, _payload(blob, h, data_offset, flags, full)

    yield from walk(0, "")
