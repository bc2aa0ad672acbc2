import json
import shutil

import pytest

torch = pytest.importorskip("torch")

from stylecast.cli import main  # noqa: E402
from stylecast.train.evaluate import evaluate_image, evaluate_model  # noqa: E402


def test_the_photo_itself_scores_zero_content_and_ratio_one(photo_path, painting_path, vgg):
    scores = evaluate_image(photo_path, photo_path, painting_path, size=64, vgg=vgg)
    assert scores.content_loss == pytest.approx(0.0, abs=1e-3)
    assert scores.style_ratio == pytest.approx(1.0)
    assert scores.style_image_content_loss > 1000


def test_the_painting_scores_better_style_than_the_photo(photo_path, painting_path, vgg):
    scores = evaluate_image(painting_path, photo_path, painting_path, size=64, vgg=vgg)
    assert scores.style_ratio < 0.6
    assert scores.content_loss == pytest.approx(scores.style_image_content_loss, rel=0.05)


def test_model_scoring_over_a_folder(tiny_model, photo_path, painting_path, tmp_path, vgg):
    folder = tmp_path / "held_out"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg"):
        shutil.copy(photo_path, folder / name)
    scores = evaluate_model(tiny_model, painting_path, folder, size=64, vgg=vgg)
    assert scores.images == 2 and scores.content_loss > 0 and scores.style_loss > 0


def test_cli_needs_the_right_companion(tiny_model, photo_path, painting_path, capsys):
    assert main(["eval-style", str(tiny_model), "--style", str(painting_path)]) == 2
    assert "--data" in capsys.readouterr().err
    assert main(["eval-style", str(photo_path), "--style", str(painting_path)]) == 2
    assert "--content" in capsys.readouterr().err


def test_a_size_beyond_free_memory_is_one_line(tiny_model, photo_path, painting_path, capsys, monkeypatch):
    monkeypatch.setattr("stylecast.machine.available_memory", lambda: 10 ** 9)
    for target in (["eval-style", str(tiny_model), "--data", str(photo_path.parent)],
                   ["eval-style", str(photo_path), "--content", str(photo_path)]):
        assert main([*target, "--style", str(painting_path), "--size", "1024"]) == 2
        err = capsys.readouterr().err
        assert "give a smaller --size" in err and "Traceback" not in err


def test_cli_prints_json(photo_path, painting_path, capsys, vgg_cache, monkeypatch):
    monkeypatch.setattr("stylecast.models.vgg_weights.default_cache_dir", lambda: vgg_cache)
    assert main(["eval-style", str(painting_path), "--content", str(photo_path), "--style", str(painting_path), "--size", "64"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == 1 and report["style_ratio"] < 0.6
