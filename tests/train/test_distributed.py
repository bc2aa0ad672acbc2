"""`stylecast train` under `torchrun --nproc_per_node 2` on CPU (gloo): the same training as one
process with the same global batch and seed, checkpoints resumable with another number of ranks."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Eight real photos (opencv-doc), so two ranks of two images each see different pictures."""
    names = ["fruits.jpg", "baboon.jpg", "building.jpg", "home.jpg", "orange.jpg", "apple.jpg", "butterfly.jpg", "messi5.jpg"]
    if not all((OPENCV_DATA / n).is_file() for n in names):
        pytest.skip("apt-get install opencv-doc")
    folder = tmp_path_factory.mktemp("photos")
    for name in names:
        shutil.copy(OPENCV_DATA / name, folder / name)
    return folder


def _train(photos: Path, out: Path, steps: int, ranks: int, *extra: str) -> subprocess.CompletedProcess:
    args = ["train", "--style", str(OPENCV_DATA / "starry_night.jpg"), "--data", str(photos), "--out", str(out),
            "--steps", str(steps), "--batch", "4", "--size", "64", "--width", "8", "--precision", "fp32", "--quiet",
            "--checkpoint-every", "10", "--sample-every", "1000", *extra]
    if ranks == 1:
        command = [sys.executable, "-m", "stylecast", *args]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(ranks), "-m", "stylecast", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # two ranks on two cores, one thread each
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


def _history(out: Path) -> list[dict]:
    return torch.load(out / "checkpoint.pt", weights_only=False)["history"]


def test_two_gloo_ranks_train_as_one_process_does_and_one_process_resumes_them(photos, tmp_path):
    one = _train(photos, tmp_path / "one", 30, 1)
    assert one.returncode == 0, one.stderr
    two = _train(photos, tmp_path / "two", 30, 2)
    assert two.returncode == 0, two.stderr
    assert two.stdout.count("wrote ") == 1, "rank 0 alone reports and exports"
    first, second = _history(tmp_path / "one"), _history(tmp_path / "two")
    assert len(first) == len(second) == 30
    single, double = (np.mean([h["total"] for h in run[-10:]]) for run in (first, second))
    assert abs(double - single) / single < 0.05
    assert double < 0.9 * second[0]["total"], "the two ranks learned"
    assert (tmp_path / "two" / "two.onnx").is_file()
    # the two ranks' checkpoint goes on in one process (another machine may have one core free)
    r = _train(photos, tmp_path / "two", 35, 1, "--resume")
    assert r.returncode == 0, r.stderr
    resumed = _history(tmp_path / "two")
    assert [h["step"] for h in resumed] == list(range(1, 36)) and resumed[:30] == second


def test_an_uneven_batch_is_refused_in_one_line(photos, tmp_path):
    r = _train(photos, tmp_path / "odd", 5, 2, "--batch", "3")
    assert r.returncode != 0
    assert "stylecast: error: --batch 3 does not split over 2 processes: give a multiple of 2" in r.stderr
    assert not (tmp_path / "odd").exists()


def test_distillation_which_runs_the_network_several_times_a_step_trains_on_two_ranks(photos, tmp_path):
    """Not through the DDP wrapper (one forward pass per backward): its gradients are averaged by an
    all-reduce of their own; both ranks finish, rank 0 reports and exports once."""
    out = tmp_path / "distilled"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "stylecast", "train",
               "--distill-from", "cafe_terrace_rt", "--width", "8", "--design", "shuffle", "--data", str(photos),
               "--out", str(out), "--steps", "10", "--batch", "4", "--size", "64", "--precision", "fp32", "--quiet",
               "--sample-every", "1000"]
    r = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("wrote ") == 1
    assert [h["step"] for h in _history(out)] == list(range(1, 11))


def test_a_rank_variable_that_is_no_number_is_one_line(monkeypatch):
    from stylecast.errors import StylecastError
    from stylecast.train.distributed import ranks_from_env

    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(StylecastError, match="WORLD_SIZE='two' is not a whole number"):
        ranks_from_env()
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not ranks_from_env().distributed
