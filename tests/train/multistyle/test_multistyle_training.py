"""`train --distill-from A,B`: one network learns several trained paintings, resumably, on a CPU."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")




def _train(out: Path, photo_folder: Path, steps: int, *extra: str) -> int:
    from stylecast.cli import main

    return main(["train", "--distill-from", "cafe_terrace_rt,starry_night_lite_rt", "--width", "8", "--design", "shuffle",
                 "--data", str(photo_folder), "--out", str(out), "--steps", str(steps), "--batch", "2", "--size", "64",
                 "--checkpoint-every", "2", "--init-from", "cafe_terrace_rt", "--quiet", *extra])


def test_two_paintings_are_distilled_into_one_network_that_mixes_them(photo_folder, tmp_path, photo_bgr, capsys):
    from stylecast.contract import StyleCard
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.precision import psnr
    from stylecast.realtime.runtimes.stylizer import Stylizer
    from stylecast.sizing import cover_crop
    from stylecast.train.checkpoint import load_checkpoint

    out = tmp_path / "both"
    assert _train(out, photo_folder, 4) == 0
    model = out / "both.onnx"
    backend = OnnxRuntimeBackend(model)
    assert backend.contract.styles == ("cafe_terrace_rt", "starry_night_lite_rt")
    card = StyleCard.from_json((out / "both.json").read_text())
    assert card.styles == backend.contract.styles and card.training["steps"] == 4
    assert (out / "teacher_paintings_288.npy").is_file(), "the teachers' paintings are kept for the next stage"
    rows = {k: v for k, v in load_checkpoint(out / "checkpoint.pt")["model"].items() if k.endswith(".scale")}
    assert rows and all(not np.array_equal(v[0].numpy(), v[1].numpy()) for v in rows.values()), \
        "both rows started from cafe_terrace_rt's norms; each learned its own painting"
    frame = cover_crop(photo_bgr, (128, 96))
    a, b = Stylizer(backend, {"cafe_terrace_rt": 1})(frame), Stylizer(backend, {"starry_night_lite_rt": 1})(frame)
    mix = Stylizer(backend, {"cafe_terrace_rt": 1, "starry_night_lite_rt": 1})(frame)
    assert psnr(a, b) < 99 and psnr(mix, a) < 99 and psnr(mix, b) < 99, "three different paintings"
    # a later stage starts from this one's network and reuses its teachers' paintings
    later = tmp_path / "later"
    assert _train(later, photo_folder, 2, "--init-from", str(out / "checkpoint.pt"), "--lr", "2e-4") == 0
    assert not (later / "teacher_paintings_288.npy").exists()
    assert load_checkpoint(later / "checkpoint.pt")["config"]["extra"]["parent_steps"] == 4
    assert np.load(out / "teacher_photos_288.npy").shape == (len(list(photo_folder.iterdir())), 288, 288, 3)


def test_an_interrupted_run_resumes_and_a_finished_one_is_not_overwritten(photo_folder, tmp_path, capsys):
    from stylecast.train.checkpoint import load_checkpoint

    out = tmp_path / "run"
    assert _train(out, photo_folder, 2) == 0
    assert _train(out, photo_folder, 4) == 2, "a run folder with a checkpoint needs --resume"
    assert "--resume" in capsys.readouterr().err
    assert _train(out, photo_folder, 4, "--resume") == 0
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt["step"] == 4 and [h["step"] for h in ckpt["history"]] == [2, 4]


def test_unknown_or_repeated_paintings_are_refused_before_any_work(photo_folder, tmp_path, capsys):
    from stylecast.cli import main

    for spec in ("cafe_terrace_rt,no_such_painting", "cafe_terrace_rt,cafe_terrace_rt", "cafe_terrace_rt,", ","):
        code = main(["train", "--distill-from", spec, "--data", str(photo_folder), "--out", str(tmp_path / "x"), "--quiet",
                     "--steps", "1", "--width", "8", "--design", "shuffle"])  # were it not refused: quick
        assert code == 2
    assert not (tmp_path / "x").exists()


def test_a_bottleneck_network_starts_from_a_lite_rt_one_and_a_start_of_another_design_is_refused(photo_folder, tmp_path,
                                                                                                  photo_bgr, capsys):
    from stylecast.cli import main
    from stylecast.contract import StyleCard
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.precision import psnr
    from stylecast.realtime.runtimes.stylizer import Stylizer
    from stylecast.sizing import cover_crop
    from stylecast.styles import resolve_style

    common = ["train", "--distill-from", "cafe_terrace_rt,starry_night_lite_rt", "--width", "32", "--design", "shuffle",
              "--bottleneck", "64", "--data", str(photo_folder), "--steps", "1", "--batch", "2", "--size", "64",
              "--lr", "1e-6", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "no"), "--init-from", "cafe_terrace_rt"]) == 2
    assert "bottleneck-64" in capsys.readouterr().err
    out = tmp_path / "wide"
    assert main([*common, "--out", str(out), "--init-from", "starry_night_lite_rt"]) == 0
    card = StyleCard.from_json((out / "wide.json").read_text())
    assert (card.width, card.design, card.bottleneck) == (32, "shuffle", 64)
    # every row started as starry_night_lite_rt, and one tiny step later still paints as it does
    frame = cover_crop(photo_bgr, (128, 96))
    wide = Stylizer(OnnxRuntimeBackend(out / "wide.onnx"), {"starry_night_lite_rt": 1})(frame)
    alone = Stylizer(OnnxRuntimeBackend(resolve_style("starry_night_lite_rt")))(frame)
    assert psnr(wide, alone) > 35 and psnr(wide, frame) < 20


def test_teachers_painted_before_a_ctrl_c_are_not_painted_again(photo_folder, tmp_path, monkeypatch):
    """The teachers' paintings (minutes for eight teachers) were all lost when a run stopped before
    the last one was done."""
    from stylecast.realtime.runtimes import stylizer
    from stylecast.train.multistyle import teacher_paintings as tp

    real = stylizer.Stylizer
    teachers_run: list[object] = []

    class Counting(real):
        stop_at_second = True

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            teachers_run.append(self)

        def __call__(self, frame):
            if self.stop_at_second and len(teachers_run) > 1:
                raise KeyboardInterrupt  # Ctrl-C while the second teacher paints
            return super().__call__(frame)

    monkeypatch.setattr(stylizer, "Stylizer", Counting)
    styles = ("cafe_terrace_rt", "starry_night_lite_rt")
    with pytest.raises(KeyboardInterrupt):
        tp.paint_teachers(styles, photo_folder, quiet=True, folder=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["teacher_part_cafe_terrace_rt.npz"]

    teachers_run.clear()
    Counting.stop_at_second = False
    again = tp.paint_teachers(styles, photo_folder, quiet=True, folder=tmp_path)
    assert len(teachers_run) == 1, "only the teacher not yet done runs"
    fresh = tp.paint_teachers(styles, photo_folder, quiet=True)
    for k in range(len(tp.SCALES)):
        assert np.array_equal(again.paintings[k], fresh.paintings[k]), "what was kept is what would be painted"
    tp.drop_parts(tmp_path, styles)
    assert not list(tmp_path.iterdir())


def test_a_run_continues_the_bundled_multistyle_network_of_the_same_paintings(photo_folder, tmp_path, photo_bgr, capsys):
    from stylecast.cli import main
    from stylecast.contract import StyleCard
    from stylecast.export.onnx import paints
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.precision import psnr
    from stylecast.realtime.runtimes.stylizer import Stylizer
    from stylecast.sizing import cover_crop
    from stylecast.styles import resolve_style

    bundled = resolve_style("paintings_rt")
    paintings = paints(bundled)
    common = ["train", "--width", "8", "--design", "shuffle", "--data", str(photo_folder), "--steps", "1",
              "--batch", "2", "--size", "64", "--lr", "1e-9", "--init-from", "paintings_rt", "--quiet"]
    for other in (",".join(paintings[:2]), ",".join(reversed(paintings))):
        assert main([*common, "--distill-from", other, "--out", str(tmp_path / "no")]) == 2
        assert "same paintings, in the same order" in capsys.readouterr().err
    out = tmp_path / "more"
    assert main([*common, "--distill-from", ",".join(paintings), "--out", str(out)]) == 0
    card, bundled_card = (StyleCard.from_json(p.read_text()) for p in (out / "more.json", bundled.with_suffix(".json")))
    assert card.training["parent_steps"] == bundled_card.training["steps"] + bundled_card.training["parent_steps"]
    frame = cover_crop(photo_bgr, (128, 96))
    before, after = OnnxRuntimeBackend(bundled), OnnxRuntimeBackend(out / "more.onnx")
    for name in (paintings[0], paintings[-1]):
        assert psnr(Stylizer(after, {name: 1})(frame), Stylizer(before, {name: 1})(frame)) > 40, \
            "one step at a negligible rate leaves the bundled network's painting as it was"
