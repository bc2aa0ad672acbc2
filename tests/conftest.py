"""Shared fixtures: real images from Debian packages when installed, tiny models made on the spot."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
GCOMPRIS_RCC = Path("/usr/share/gcompris-qt/rcc")


def _need(path: Path, package: str) -> Path:
    if not path.exists():
        pytest.skip(f"{path} missing: apt-get install {package}")
    return path


@pytest.fixture(scope="session")
def photo_path() -> Path:
    """A real photograph (fruits on a table, 512x480)."""
    return _need(OPENCV_DATA / "fruits.jpg", "opencv-doc")


@pytest.fixture(scope="session")
def photo_bgr(photo_path: Path) -> np.ndarray:
    import cv2

    return cv2.imread(str(photo_path))


@pytest.fixture(scope="session")
def painting_path() -> Path:
    return _need(OPENCV_DATA / "starry_night.jpg", "opencv-doc")


@pytest.fixture(scope="session")
def gcompris_rcc() -> Path:
    return _need(GCOMPRIS_RCC, "gcompris-qt-data")


@pytest.fixture(scope="session")
def vgg_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("vgg-cache")


@pytest.fixture(scope="session")
def vgg(vgg_cache: Path):
    pytest.importorskip("torch")
    from stylecast.models.vgg_weights import load_vgg16

    return load_vgg16(cache_dir=vgg_cache)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """An exported width-8 TransformerNet (random weights, real export path)."""
    torch = pytest.importorskip("torch")
    from stylecast.contract import StyleCard
    from stylecast.export.onnx import export_onnx
    from stylecast.models.transformer import TransformerNet

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("models") / "tiny.onnx"
    image = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    export_onnx(TransformerNet(width=8), path, StyleCard(name="tiny", width=8), image)
    return path


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory, photo_path) -> Path:
    """A small folder of real photos (from opencv-doc) to train on in a test."""
    import shutil

    folder = tmp_path_factory.mktemp("photos")
    for name in ("fruits.jpg", "lena.jpg", "baboon.jpg", "building.jpg"):
        if (OPENCV_DATA / name).is_file():
            shutil.copy(OPENCV_DATA / name, folder / name)
    return folder


def ctrl_c_as_at_a_terminal() -> None:
    """``preexec_fn`` for a child that a test stops with SIGINT: where pytest itself was started with
    SIGINT ignored (``cmd &`` in a script), the child would inherit that and never see the Ctrl-C."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
