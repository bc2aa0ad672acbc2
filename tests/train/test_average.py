"""Weight averaging of runs (scripts/average_runs.py): the mean is a working, exportable network."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from stylecast.errors import StylecastError  # noqa: E402
from stylecast.models.transformer import TransformerNet  # noqa: E402
from stylecast.train.average import average_runs, average_state  # noqa: E402
from stylecast.train.checkpoint import load_checkpoint, net_from_checkpoint, save_checkpoint  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _run(folder: Path, seed: int, width: int = 8, style_weight: float = 5e-5, input_blur: float = 0.0) -> Path:
    torch.manual_seed(seed)
    net = TransformerNet(width=width)
    folder.mkdir(parents=True)
    card = {"name": folder.name, "width": width, "design": "johnson",
            "training": {"steps": 10, "weights": {"style": style_weight}, "final_losses": {"total": 1.0}}}
    save_checkpoint(folder / "checkpoint.pt", {"config": {"width": width, "design": "johnson", "input_blur": input_blur}, "step": 10,
                                                "model": net.state_dict(), "card": card})
    return folder / "checkpoint.pt"


def test_average_is_the_weighted_mean_and_keeps_counters(tmp_path):
    a, b = (load_checkpoint(_run(tmp_path / n, s))["model"] for n, s in (("a", 0), ("b", 1)))
    mid = average_state([a, b], [1, 1])
    key = next(k for k, v in a.items() if v.is_floating_point() and v.numel() > 1)
    assert not torch.equal(a[key], b[key])
    torch.testing.assert_close(mid[key], (a[key] + b[key]) / 2)
    only_a = average_state([a, b], [3, 0])
    assert all(torch.equal(only_a[k], a[k]) for k in a)
    counters = [k for k, v in a.items() if not v.is_floating_point()]
    assert all(torch.equal(mid[k], a[k]) for k in counters)
    with pytest.raises(StylecastError, match="weights"):
        average_state([a, b], [-1, 2])


def test_averaged_run_loads_exports_and_records_its_ingredients(tmp_path):
    from stylecast.export.onnx import export_checkpoint

    paths = [_run(tmp_path / "steady", 0), _run(tmp_path / "styled", 1, style_weight=1e-4)]
    average_runs(paths, [0.4, 0.6], tmp_path / "soup")
    ckpt = load_checkpoint(tmp_path / "soup" / "checkpoint.pt")
    card = ckpt["card"]
    assert card["name"] == "soup" and [i["run"] for i in card["training"]["averaged_from"]] == ["steady", "styled"]
    assert [i["share"] for i in card["training"]["averaged_from"]] == [0.4, 0.6]
    assert "final_losses" not in card["training"]
    x = torch.rand(1, 3, 32, 32) * 255
    nets = [net_from_checkpoint(load_checkpoint(p)) for p in paths]
    soup = net_from_checkpoint(ckpt)
    with torch.no_grad():
        # Not the output of either ingredient, yet a working stylization network of the same shape.
        ys = [n(x) for n in nets]
        y = soup(x)
    assert y.shape == x.shape and all((y - other).abs().mean() > 0.1 for other in ys)
    report = export_checkpoint(tmp_path / "soup" / "checkpoint.pt", tmp_path / "soup.onnx")
    assert report.path.is_file() and report.max_abs_error < 0.5


def test_different_networks_cannot_be_averaged(tmp_path):
    with pytest.raises(StylecastError, match="different networks"):
        average_runs([_run(tmp_path / "a", 0, width=8), _run(tmp_path / "b", 0, width=16)], [1, 1], tmp_path / "out")


def test_runs_that_blur_their_input_differently_cannot_be_averaged(tmp_path):
    with pytest.raises(StylecastError, match="blur their input differently"):
        average_runs([_run(tmp_path / "a", 0), _run(tmp_path / "b", 1, input_blur=1.0)], [1, 1], tmp_path / "out")
    assert not (tmp_path / "out" / "checkpoint.pt").exists()


def test_script_refuses_a_used_output_folder(tmp_path):
    _run(tmp_path / "a", 0)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "average_runs.py"), str(tmp_path / "a"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "not empty" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"
