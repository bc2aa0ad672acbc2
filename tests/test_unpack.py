"""The bundled styles ship as int8 only and are unpacked, once, with their float networks rebuilt."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stylecast.contract import INT8_SUFFIX, int8_path
from stylecast.styles import PACKAGE_DIR, bundled_styles
from stylecast.styles.unpack import unpacked

NAMES = ("cafe_terrace_rt", "paintings_rt")


def test_the_package_holds_int8_networks_only_and_stays_under_25_mib():
    networks = sorted(PACKAGE_DIR.glob("*.onnx"))
    assert networks and all(p.name.endswith(INT8_SUFFIX) for p in networks)
    assert sum(p.stat().st_size for p in PACKAGE_DIR.iterdir() if p.is_file()) <= 25 * 2**20
    for style in bundled_styles():  # every painting still has its full network, unpacked
        assert style.model.is_file() and int8_path(style.model).is_file() and style.card is not None


@pytest.fixture
def package(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "package"
    folder.mkdir()
    for name in NAMES:
        for suffix in (INT8_SUFFIX, ".json", ".jpg"):
            shutil.copy2(PACKAGE_DIR / f"{name}{suffix}", folder / f"{name}{suffix}")
    monkeypatch.setenv("STYLECAST_CACHE", str(tmp_path / "cache"))
    return folder


def test_unpacking_rebuilds_each_float_network_once(package, tmp_path, photo_bgr):
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.precision import psnr
    from stylecast.realtime.runtimes.stylizer import Stylizer

    folder = unpacked(package)
    assert folder.parent == tmp_path / "cache" / "styles"
    assert sorted(s.name for s in bundled_styles(folder)) == sorted(NAMES)
    frame = np.ascontiguousarray(photo_bgr[:240, :320])
    for name in NAMES:
        model = folder / f"{name}.onnx"
        float_net, int8_net = OnnxRuntimeBackend(model), OnnxRuntimeBackend(int8_path(model))
        assert float_net.card == int8_net.card and float_net.contract == int8_net.contract
        mix = {float_net.contract.styles[0]: 1.0} if float_net.contract.styles else None
        a, b = Stylizer(float_net, mix)(frame), Stylizer(int8_net, mix)(frame)
        assert 30 <= psnr(a, b) < 80 and psnr(a, frame) < 20  # two forms of one painting, not the photo
    made = (folder / "cafe_terrace_rt.onnx").stat().st_mtime_ns
    assert unpacked(package) == folder and (folder / "cafe_terrace_rt.onnx").stat().st_mtime_ns == made
    os.utime(package / "cafe_terrace_rt.int8.onnx")  # a new package: unpacked afresh
    again = unpacked(package)
    assert again != folder and (again / "cafe_terrace_rt.onnx").is_file()
    assert not [p for p in again.parent.iterdir() if p.name.startswith(".")], "no half-built folder left"


def test_processes_starting_together_all_get_a_complete_folder(package):
    code = ("import sys; from pathlib import Path; from stylecast.styles.unpack import unpacked; "
            "f = unpacked(Path(sys.argv[1])); print(f, len(list(f.glob('*.onnx'))))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(package)], stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(outs) == 1 and outs.pop().endswith(f" {2 * len(NAMES)}")


def test_an_unwritable_cache_falls_back_to_the_temp_folder(package, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("STYLECAST_CACHE", str(blocker / "cache"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    folder = unpacked(package)
    assert folder.is_relative_to(tmp_path / "tmp") and (folder / "paintings_rt.onnx").is_file()


def test_a_cache_that_cannot_be_written_at_all_is_one_clear_error(package, tmp_path, monkeypatch):
    from stylecast.errors import StylecastError
    from stylecast.styles import unpack

    def full_disk(files, folder):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(unpack, "_unpack", full_disk)
    with pytest.raises(StylecastError, match="No space left on device.*STYLECAST_CACHE"):
        unpacked(package)
    assert not list((tmp_path / "cache" / "styles").iterdir()), "nothing half-made left"


def test_folders_of_other_versions_go_once_a_day_old(package, tmp_path):
    import time

    styles = tmp_path / "cache" / "styles"
    old, young = styles / "0123456789abcdef", styles / "fedcba9876543210"
    for folder in (old, young):
        folder.mkdir(parents=True)
    day_ago = time.time() - 2 * 86400
    os.utime(old, (day_ago, day_ago))
    folder = unpacked(package)
    assert folder.is_dir() and young.is_dir() and not old.exists()
