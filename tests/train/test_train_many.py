"""scripts/train_many.py: several `stylecast train` jobs side by side, with a table at the end."""
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

from tests.train.test_trainer import _make_images, _make_style  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_many.py"


def test_two_jobs_train_side_by_side_and_are_tabled(tmp_path):
    style, photos = _make_style(tmp_path / "style.png"), _make_images(tmp_path / "photos")
    common = f"--style {style} --data {photos} --width 8 --batch 2 --size 32 --style-size 64 --precision fp32"
    jobs = tmp_path / "jobs.txt"
    jobs.write_text(f"# two tiny styles\nfirst {common} --steps 2\nsecond {common} --steps 3 --design shuffle\n")
    done = subprocess.run([sys.executable, str(SCRIPT), str(jobs), "--runs", str(tmp_path / "runs")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.split() and line.split()[0] in ("first", "second")}
    assert "2/2" in lines["first"] and "done" in lines["first"]
    assert "3/3" in lines["second"] and "done" in lines["second"]
    assert (tmp_path / "runs" / "second" / "second.onnx").is_file()


def test_a_job_line_without_a_name_is_refused(tmp_path):
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("--style x.png --data photos\n")
    done = subprocess.run([sys.executable, str(SCRIPT), str(jobs)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "starts with its run name" in done.stderr
