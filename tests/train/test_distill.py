"""Distillation: a cheaper network learns a trained style from that style's ONNX file alone."""
import random
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecast.contract import StyleCard  # noqa: E402
from stylecast.errors import StylecastError  # noqa: E402
from stylecast.export.onnx import export_onnx  # noqa: E402
from stylecast.models.transformer import TransformerNet  # noqa: E402
from stylecast.train.checkpoint import load_checkpoint  # noqa: E402
from stylecast.train.config import TrainConfig  # noqa: E402
from stylecast.train.distill import agreement_db, distill_loss  # noqa: E402
from stylecast.train.trainer import Trainer, train  # noqa: E402
from tests.train.test_trainer import _make_images  # noqa: E402


@pytest.fixture(scope="module")
def teacher(tmp_path_factory, photo_bgr, painting_path) -> Path:
    """A width-8 style exported the real way, with a card and a thumbnail beside it like a bundled style."""
    torch.manual_seed(2)
    net = TransformerNet(width=8)
    with torch.no_grad():  # random weights paint a flat grey; this makes a real, varied image
        net.decoder[-1].conv.weight.mul_(40)
        net.decoder[-1].conv.bias.fill_(128)
    folder = tmp_path_factory.mktemp("teacher")
    card = StyleCard(name="mentor", width=8, style_image="starry_night.jpg", style_source="test painting", style_license="PD",
                     training={"steps": 4000})
    rgb = cv2.cvtColor(cv2.resize(photo_bgr, (64, 64)), cv2.COLOR_BGR2RGB)
    export_onnx(net.eval(), folder / "mentor.onnx", card, rgb)
    cv2.imwrite(str(folder / "mentor.jpg"), cv2.resize(cv2.imread(str(painting_path)), (64, 48)))
    return folder / "mentor.onnx"


@pytest.fixture
def config(tmp_path, teacher) -> TrainConfig:
    return TrainConfig(style=teacher.with_suffix(".jpg"), data=_make_images(tmp_path / "photos"), out=tmp_path / "student",
                       width=8, bottleneck=4, distill_from=teacher, steps=40, batch=2, size=64, lr=1e-2,
                       checkpoint_every=20, sample_every=40, precision="fp32")


def test_a_bottleneck_student_starts_from_the_teachers_ends_and_learns_its_painting(config, teacher):
    random.seed(0)  # the crops draw from Python's generator: the same crops whatever ran before
    student = Trainer(replace(config, steps=60))
    assert student.loss is None, "no VGG: the teacher's output is the target"
    assert student.plan == "blocks"
    for mine, theirs in ((student.net.encoder, student.teacher.net.encoder), (student.net.decoder, student.teacher.net.decoder)):
        for name, value in theirs.state_dict().items():
            assert torch.equal(mine.state_dict()[name], value), name
    untrained = config.out.parent / "untrained.onnx"
    export_onnx(student.net.float().eval(), untrained, StyleCard(name="untrained", width=8), np.zeros((64, 64, 3), np.uint8))
    student.run(progress=False)
    result = student.export()
    history = load_checkpoint(config.out / "checkpoint.pt")["history"]
    # A 4-channel bottleneck cannot copy the teacher's blocks exactly: the pixel error falls less
    for term, share in (("distill", 0.85), ("blocks", 0.7)):
        assert np.mean([h[term] for h in history[-10:]]) < share * np.mean([h[term] for h in history[:5]]), term
    card = result.card
    assert card.bottleneck == 4 and card.training["distilled_from"]["name"] == "mentor"
    assert card.training["parent_steps"] == 4000, "the teacher's training is what the student knows"
    assert (card.style_source, card.style_license, card.style_image) == ("test painting", "PD", "starry_night.jpg")
    assert (config.out / "student.jpg").is_file()
    photos = config.data
    assert agreement_db(result.onnx_path, teacher, photos, size=(96, 64)) > agreement_db(untrained, teacher, photos, size=(96, 64)) + 1.5


def test_a_student_of_another_width_learns_from_pixels_alone(config):
    result = train(replace(config, width=16, design="shuffle", bottleneck=0, steps=25), progress=False)
    history = load_checkpoint(config.out / "checkpoint.pt")["history"]
    assert "blocks" not in history[0] and "encoder" not in history[0]
    assert np.mean([h["distill"] for h in history[-5:]]) < np.mean([h["distill"] for h in history[:5]])
    assert result.card.design == "shuffle" and result.card.training["distill_plan"] == "pixels"


def test_a_student_with_other_ends_learns_every_stage_of_the_teacher(config, teacher):
    random.seed(0)
    student = Trainer(replace(config, design="shuffle", steps=60))
    assert student.plan == "stages"
    # The layers beside the residual blocks have the teacher's shapes and start as the teacher's.
    mine, theirs = student.net, student.teacher.net
    assert torch.equal(mine.encoder[2][0].conv.weight, theirs.encoder[2][0].conv.weight)
    assert torch.equal(mine.decoder[0][1].conv.weight, theirs.decoder[0][1].conv.weight)
    assert mine.encoder[1][0].conv.weight.shape != theirs.encoder[1][0].conv.weight.shape
    untrained = config.out.parent / "untrained_shuffle.onnx"
    export_onnx(mine.float().eval(), untrained, StyleCard(name="untrained", width=8, design="shuffle"), np.zeros((64, 64, 3), np.uint8))
    student.run(progress=False)
    result = student.export()
    history = load_checkpoint(config.out / "checkpoint.pt")["history"]
    for term in ("distill", "blocks", "encoder", "decoder"):
        assert np.mean([h[term] for h in history[-10:]]) < 0.85 * np.mean([h[term] for h in history[:5]]), term
    assert result.card.training["distill_plan"] == "stages"
    photos = config.data
    assert agreement_db(result.onnx_path, teacher, photos, size=(96, 64)) > agreement_db(untrained, teacher, photos, size=(96, 64)) + 1.5


def test_an_unknown_plan_is_refused(config):
    trainer = Trainer(replace(config, steps=1))
    with pytest.raises(ValueError, match="plan"):
        distill_loss(trainer.net, torch.zeros(1, 3, 64, 64), trainer.teacher, "everything")


def test_resuming_with_another_bottleneck_or_blur_is_refused(config):
    Trainer(replace(config, steps=2)).run(progress=False)
    with pytest.raises(StylecastError, match="--bottleneck"):
        Trainer(replace(config, bottleneck=8), resume=True)
    with pytest.raises(StylecastError, match="--input-blur"):
        Trainer(replace(config, input_blur=1.0), resume=True)


def test_the_texture_term_matches_the_grams_of_the_teachers_painting(config, vgg_cache):
    trainer = Trainer(replace(config, steps=3, texture_weight=1e-6, cache_dir=vgg_cache))
    trainer.run(progress=False)
    assert all(h["texture"] > 0 for h in trainer.history)
    assert trainer.card().training["weights"]["texture"] == 1e-6


def test_distillation_refuses_the_video_losses_and_a_missing_teacher(config, tmp_path):
    with pytest.raises(StylecastError, match="--temporal-weight"):
        Trainer(replace(config, temporal_weight=10.0))
    with pytest.raises(StylecastError, match="goes with --distill-from"):
        Trainer(replace(config, distill_from=None, texture_weight=1e-6))
    with pytest.raises(StylecastError, match="not found"):
        Trainer(replace(config, distill_from=tmp_path / "nothing.onnx"))


def test_a_bundled_style_can_be_fine_tuned_without_its_run(config, tmp_path, vgg_cache):
    from stylecast.styles import resolve_style

    rt = resolve_style("cafe_terrace_rt")  # width 8, shuffle: its run is not in the package, only its .onnx
    same = replace(config, out=tmp_path / "again", design="shuffle", bottleneck=0, init_from=rt, distill_from=rt, steps=1,
                   texture_weight=1e-6, cache_dir=vgg_cache)
    trainer = Trainer(same)
    assert trainer.parent_steps > 0, "the card's training steps carry over"
    trainer.run(progress=False)
    first = trainer.history[0]
    assert first["distill"] < 0.01 and first["blocks"] < 0.01, "starting from the style itself, the student already paints it"
    assert first["texture"] < 1e-3, "the texture target is the teacher's own painting"
