from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecast.errors import StylecastError  # noqa: E402
from stylecast.train.checkpoint import load_checkpoint  # noqa: E402
from stylecast.train.config import TrainConfig  # noqa: E402
from stylecast.train.trainer import Trainer, TrainingInterrupted, train  # noqa: E402


def _make_images(folder: Path, count: int = 6) -> Path:
    """Smooth gradients with shapes: stand-ins for photos, made by the test."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for i in range(count):
        yy, xx = np.mgrid[0:96, 0:128]
        img = np.stack([(xx * rng.uniform(0.5, 2)) % 256, (yy * rng.uniform(0.5, 2)) % 256, np.full_like(xx, rng.integers(0, 255))], -1).astype(np.uint8)
        cv2.circle(img, (int(rng.integers(20, 100)), int(rng.integers(20, 70))), 18, tuple(int(v) for v in rng.integers(0, 255, 3)), -1)
        cv2.imwrite(str(folder / f"img{i}.png"), img)
    (folder / "broken.jpg").write_bytes(b"not an image")
    return folder


def _make_style(path: Path) -> Path:
    yy, xx = np.mgrid[0:128, 0:128]
    stripes = ((np.sin(xx / 3.0 + yy / 5.0) > 0) * 255).astype(np.uint8)
    cv2.imwrite(str(path), np.stack([stripes, 255 - stripes, np.full_like(stripes, 80)], -1))
    return path


@pytest.fixture
def config(tmp_path, vgg_cache) -> TrainConfig:
    return TrainConfig(
        style=_make_style(tmp_path / "style.png"), data=_make_images(tmp_path / "photos"), out=tmp_path / "run",
        width=8, steps=30, batch=2, size=64, style_size=128, lr=1e-2, checkpoint_every=10, sample_every=15,
        precision="fp32", cache_dir=vgg_cache, style_weight=1e-5,
    )


def test_total_loss_falls_and_outputs_are_written(config):
    result = train(config, progress=False)
    history = load_checkpoint(config.out / "checkpoint.pt")["history"]
    totals = np.array([h["total"] for h in history])
    # Falls, at a rate that differs between CPUs and runs (30 steps reached 0.35x to 0.75x of the
    # start): a clear drop and a downward trend, not one machine's pace.
    assert totals[-5:].mean() < 0.85 * totals[:5].mean()
    assert np.polyfit(np.arange(len(totals)), totals, 1)[0] < 0
    assert result.onnx_path == config.out / "run.onnx" and result.onnx_path.is_file()
    assert (config.out / "run.fp16.onnx").is_file() and (config.out / "run.json").is_file() and (config.out / "run.jpg").is_file()
    assert sorted(p.name for p in (config.out / "samples").iterdir()) == ["step_000015.jpg", "step_000030.jpg"]
    assert result.card.training["steps"] == 30 and result.card.training["final_losses"]["total"] > 0


def test_resume_continues_from_the_saved_step(config):
    from dataclasses import replace

    with pytest.raises(StylecastError, match="nothing to resume"):  # a mistyped --out is not a fresh start
        Trainer(replace(config, steps=10), resume=True)
    first = Trainer(replace(config, steps=10))
    first.run(progress=False)
    saved = load_checkpoint(config.out / "checkpoint.pt")
    assert saved["step"] == 10
    with pytest.raises(StylecastError, match="--resume"):
        Trainer(replace(config, steps=20))
    second = Trainer(replace(config, steps=14), resume=True)
    assert second.step == 10
    for key, value in second.net.state_dict().items():
        torch.testing.assert_close(value, first.net.state_dict()[key])
    second.run(progress=False)
    after = load_checkpoint(config.out / "checkpoint.pt")
    assert after["step"] == 14 and [h["step"] for h in after["history"]] == list(range(1, 15))


def test_ctrl_c_saves_a_checkpoint(config, monkeypatch):
    trainer = Trainer(config)
    real_step = trainer.train_step
    calls = {"n": 0}

    def step_then_interrupt(batch, pairs=None):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real_step(batch, pairs)

    monkeypatch.setattr(trainer, "train_step", step_then_interrupt)
    with pytest.raises(TrainingInterrupted, match="--resume"):
        trainer.run(progress=False)
    assert load_checkpoint(config.out / "checkpoint.pt")["step"] == 3


def test_unreadable_images_are_counted_not_fatal(config):
    trainer = Trainer(config)
    for i in range(len(trainer.dataset)):
        trainer.dataset[i]
    assert trainer.unreadable_count == 1


def test_an_icon_among_the_photos_is_skipped_and_a_bottleneck_net_trains_on_the_rest(config):
    from dataclasses import replace

    cv2.imwrite(str(config.data / "icon.png"), np.full((1, 1, 3), 128, np.uint8))
    config = replace(config, bottleneck=16, steps=4, checkpoint_every=2, sample_every=4)
    trainer = Trainer(config)
    for i in range(len(trainer.dataset)):
        trainer.dataset[i]
    assert trainer.unreadable_count == 2, "the broken file and the 1x1 icon"
    losses = trainer.run(progress=False)
    assert np.isfinite(losses["total"])


def test_a_run_whose_loss_stops_being_a_number_ends_with_one_error_and_no_network(config, monkeypatch):
    from dataclasses import replace

    config = replace(config, steps=6, checkpoint_every=2, sample_every=6)
    trainer = Trainer(config)
    real = trainer.train_step
    calls = []

    def diverging(*args):
        terms = real(*args)
        calls.append(1)
        return {**terms, "total": float("nan")} if len(calls) >= 3 else terms

    monkeypatch.setattr(trainer, "train_step", diverging)
    with pytest.raises(StylecastError, match=r"diverged at step 3: the loss is nan; the last checkpoint, .* is from before it"):
        trainer.run(progress=False)
    assert load_checkpoint(config.out / "checkpoint.pt")["step"] == 2, "the good checkpoint is kept, not overwritten"
    assert not list(config.out.glob("*.onnx"))


def test_bad_inputs_are_clear_errors(config, tmp_path):
    from dataclasses import replace

    with pytest.raises(StylecastError, match="photo folder not found"):
        Trainer(replace(config, data=tmp_path / "nothing"))
    with pytest.raises(StylecastError, match="style image not found"):
        Trainer(replace(config, style=tmp_path / "nothing.jpg"))
    with pytest.raises(StylecastError, match="--video-pairs is only read with --temporal-weight"):
        Trainer(replace(config, video_pairs=tmp_path))
    (tmp_path / "taken").write_text("a file where the run folder's parent should be")
    with pytest.raises(StylecastError, match="cannot create output folder"):
        Trainer(replace(config, out=tmp_path / "taken" / "run")).run(progress=False)


def test_crops_beyond_free_memory_are_refused_before_training(config, monkeypatch):
    """train --size 8000 was killed by the kernel minutes in, with no message."""
    from dataclasses import replace

    from stylecast.train.losses import VGG_BYTES_PER_PIXEL

    need = (config.batch * config.size ** 2 + config.style_size ** 2) * VGG_BYTES_PER_PIXEL
    monkeypatch.setattr("stylecast.machine.available_memory", lambda: need // 2)
    with pytest.raises(StylecastError, match="give a smaller --size or --batch"):
        Trainer(config)
    monkeypatch.setattr("stylecast.machine.available_memory", lambda: need * 2)
    Trainer(replace(config, steps=1)).run(progress=False)


def test_stability_term_is_trained_and_recorded(config):
    from dataclasses import replace

    trainer = Trainer(replace(config, steps=3, stability_weight=10.0))
    trainer.run(progress=False)
    assert "stability" in trainer.history[-1] and trainer.history[-1]["stability"] > 0
    assert trainer.card().training["weights"]["stability"] == 10.0


def test_init_from_another_run_fine_tunes(config, tmp_path):
    from dataclasses import replace

    base = Trainer(replace(config, steps=2))
    base.run(progress=False)
    tuned = Trainer(replace(config, out=tmp_path / "tuned", steps=1, init_from=config.out / "checkpoint.pt"))
    assert tuned.step == 0
    for key, value in tuned.net.state_dict().items():
        torch.testing.assert_close(value, base.net.state_dict()[key])
    # The card counts the steps behind the starting weights, through a second fine-tune and a resume.
    tuned.run(progress=False)
    assert tuned.card().training["parent_steps"] == 2
    again = Trainer(replace(config, out=tmp_path / "again", steps=1, init_from=tmp_path / "tuned" / "checkpoint.pt"))
    assert again.card().training["parent_steps"] == 3
    resumed = Trainer(replace(config, out=tmp_path / "tuned", steps=2, init_from=config.out / "checkpoint.pt"), resume=True)
    assert resumed.card().training["parent_steps"] == 2
    with pytest.raises(StylecastError, match="same --width"):
        Trainer(replace(config, out=tmp_path / "bad", width=16, init_from=config.out / "checkpoint.pt"))


def test_shuffle_design_trains_exports_and_refuses_a_mismatched_resume(config):
    from dataclasses import replace

    fast = replace(config, steps=12, design="shuffle")
    result = train(fast, progress=False)
    history = load_checkpoint(config.out / "checkpoint.pt")["history"]
    assert np.mean([h["total"] for h in history[-3:]]) < np.mean([h["total"] for h in history[:3]])
    assert result.card.design == "shuffle" and result.onnx_path.is_file()
    with pytest.raises(StylecastError, match="same --width, --design and --bottleneck"):
        Trainer(replace(config, steps=20), resume=True)


@pytest.mark.parametrize("shape, style_size, said", [
    ((1, 1), 512, "is 1x1: the style loss needs 32 px or more on each side"),
    ((4000, 3), 512, "is 3x4000: the style loss needs 32 px or more"),
    ((40, 4000), 512, "is 4000x40: shrunk to --style-size 512 it would be under 32 px across"),
])
def test_a_style_image_too_small_for_the_style_loss_is_one_line(shape, style_size, said, tmp_path):
    # these reached VGG's pooling (or OpenCV's resize) and ended in a traceback, in train and eval-style
    from stylecast.train.trainer import load_style_image

    path = tmp_path / "style.png"
    cv2.imwrite(str(path), np.full((*shape, 3), 128, np.uint8))
    with pytest.raises(StylecastError, match=said):
        load_style_image(path, style_size)
    cv2.imwrite(str(path), np.full((40, 4000, 3), 128, np.uint8))
    assert load_style_image(path, 4000).shape == (1, 3, 40, 4000)  # at its own size it is wide enough
