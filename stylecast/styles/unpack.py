"""The bundled styles, unpacked once into a cache folder the runtimes read.

The package ships each style's int8 copy (``NAME.int8.onnx``), its card and its picture, and no
float network: that is a third of the size. The float network every runtime other than OpenVINO
int8 needs (onnxruntime, PyTorch, the GPU, `train --distill-from`) is rebuilt from the int8 weights
(``stylecast.export.dequantize``) into ``NAME.onnx`` beside links to the rest, so the folder looks
as the package used to and every reader takes it as it is.

The folder is named after the package files' names, sizes and times, so a changed package is
unpacked afresh; it is built under a temporary name and renamed, so two processes starting at once
both see a complete folder.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from stylecast.contract import INT8_SUFFIX
from stylecast.errors import StylecastError

# Bump when the unpacked form changes, so old caches are not reused.
FORMAT = 1
SHIPPED = ("*.int8.onnx", "*.json", "*.jpg")


def cache_root() -> Path:
    """$STYLECAST_CACHE, else $XDG_CACHE_HOME/stylecast, else ~/.cache/stylecast."""
    if os.environ.get("STYLECAST_CACHE"):
        return Path(os.environ["STYLECAST_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "stylecast"


def _shipped(package: Path) -> list[Path]:
    return sorted(p for pattern in SHIPPED for p in package.glob(pattern))


def _key(files: list[Path]) -> str:
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _link(source: Path, target: Path) -> None:
    try:
        target.symlink_to(source)
    except OSError:  # no symlinks here (Windows without the right): a copy
        shutil.copyfile(source, target)


def _unpack(files: list[Path], folder: Path) -> None:
    import onnx

    from stylecast.export.dequantize import float_from_int8
    from stylecast.export.fp16 import compress_weights_fp16

    for path in files:
        _link(path, folder / path.name)
        if path.name.endswith(INT8_SUFFIX):
            rebuilt = compress_weights_fp16(float_from_int8(onnx.load(str(path))))
            onnx.save(rebuilt, str(folder / (path.name.removesuffix(INT8_SUFFIX) + ".onnx")))


def _writable(root: Path) -> Path:
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root)
        probe.close()
        return root
    except OSError:
        return Path(tempfile.gettempdir()) / f"stylecast-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


def unpacked(package: Path) -> Path:
    """The folder of ``package``'s styles with their float networks rebuilt, made on first use."""
    files = _shipped(package)
    root = _writable(cache_root()) / "styles"
    folder = root / _key(files)
    if folder.is_dir():
        return folder
    try:
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=root))
        try:
            work.chmod(0o755)  # mkdtemp's 0700 would hide a shared $STYLECAST_CACHE from other users
            _unpack(files, work)
            try:
                os.rename(work, folder)
            except OSError:  # another process finished first: its folder is as good
                if not folder.is_dir():
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    except OSError as e:  # a full disk, most likely
        raise StylecastError(f"could not unpack the bundled styles into {root}: {e.strerror or e}; point "
                             "STYLECAST_CACHE at a writable folder with 50 MB free") from e
    _forget_stale(root, keep=folder)
    return folder


def _forget_stale(root: Path, keep: Path, days: float = 1.0) -> None:
    """Folders of earlier package versions, and work left by a killed unpack, once a day old: a
    process of another install may still be reading a younger one."""
    now = time.time()
    for old in root.iterdir():
        try:
            stale = old != keep and now - old.stat().st_mtime > days * 86400
        except OSError:  # another process removed it meanwhile
            continue
        if stale:
            shutil.rmtree(old, ignore_errors=True)
