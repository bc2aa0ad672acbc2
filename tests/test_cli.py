"""The command line: success paths and one clear line (exit 2, no partial file) for each bad input."""
import json
import os
import shutil
from pathlib import Path

import cv2
import pytest

from stylecast.cli import main
from stylecast.styles import bundled_styles, resolve_style
from stylecast.errors import StylecastError


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_clean_failure(code: int, err: str, folder: Path, match: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stylecast: error:"), err
    assert match in lines[0]
    assert "Traceback" not in err
    assert not [p for p in folder.rglob("*") if "partial" in p.name], "no partial output left"


def test_image_with_model_path(capsys, tmp_path, photo_path, tiny_model):
    out = tmp_path / "painted.jpg"
    code, stdout, err = _run(capsys, "image", photo_path, "-s", tiny_model, "-o", out)
    assert code == 0, err
    image = cv2.imread(str(out))
    assert image.shape == cv2.imread(str(photo_path)).shape
    assert "backend:" in err


def test_several_images_into_a_folder_with_max_side(capsys, tmp_path, photo_path, painting_path, tiny_model):
    code, stdout, err = _run(capsys, "image", photo_path, painting_path, "-s", tiny_model, "-o", tmp_path / "out", "--max-side", "200")
    assert code == 0, err
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == ["fruits-tiny.jpg", "starry_night-tiny.jpg"]
    assert all(max(cv2.imread(str(p)).shape[:2]) == 200 for p in written)


def test_a_folder_of_images_is_painted_file_by_file_into_a_folder(capsys, tmp_path, photo_path, painting_path, tiny_model):
    album = tmp_path / "album"
    album.mkdir()
    shutil.copy(photo_path, album / "b.jpg")
    shutil.copy(painting_path, album / "a.PNG")
    (album / "notes.txt").write_text("not a picture")
    (album / "sub").mkdir()  # not searched: only the folder's own files
    shutil.copy(photo_path, album / "sub" / "c.jpg")
    code, _, err = _run(capsys, "image", album, "-s", tiny_model, "-o", tmp_path / "out", "--max-side", "120")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a-tiny.png", "b-tiny.jpg"]
    assert max(cv2.imread(str(tmp_path / "out" / "b-tiny.jpg")).shape[:2]) == 120
    # a folder beside a file: both painted, into the folder -o names
    code, _, err = _run(capsys, "image", album, photo_path, "-s", tiny_model, "-o", tmp_path / "more", "--max-side", "120")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "more").iterdir()) == ["a-tiny.png", "b-tiny.jpg", f"{photo_path.stem}-tiny.jpg"]


def test_a_frame_size_of_gigabytes_is_refused_before_any_frame_is_made(capsys, tmp_path):
    for args in (["bench", "--size", "64000x64000", "-s", "cafe_terrace_rt"], ["bench", "styles", "--size", "8000x8000"],
                 ["live", "--source", str(tmp_path), "--size", "7681x4320"]):
        code, _, err = _run(capsys, *args)
        _assert_clean_failure(code, err, tmp_path, "at most 33,177,600 pixels")
    for args in (["bench", "--sizes", "640x480,9999999x2", "-s", "cafe_terrace_rt"], ["live", "--source", str(tmp_path), "--size", "20000x100"]):
        code, _, err = _run(capsys, *args)  # few pixels, but no camera, encoder or window is that long
        _assert_clean_failure(code, err, tmp_path, "at most 16384 pixels a side")


def test_more_streams_than_cores_is_refused_in_one_line(capsys, tmp_path, tiny_model):
    pytest.importorskip("av")
    from tests.realtime.clips import make_clip

    clip = make_clip(tmp_path / "c.mp4", frames=3, audio=None)
    code, _, err = _run(capsys, "video", clip, "-s", "cafe_terrace_rt", "-o", tmp_path / "o.mp4", "--streams", "4096", "--quiet")
    _assert_clean_failure(code, err, tmp_path, "--streams 4096: this machine has")
    assert not (tmp_path / "o.mp4").exists()


def test_a_picture_named_twice_is_painted_once(capsys, tmp_path, photo_path, tiny_model, monkeypatch):
    monkeypatch.chdir(photo_path.parent)
    code, out, err = _run(capsys, "image", photo_path.name, f"./{photo_path.name}", photo_path, "-s", tiny_model,
                          "-o", tmp_path / "out", "--max-side", "64")
    assert code == 0, err
    assert out.split() == [str(tmp_path / "out" / f"{photo_path.stem}-tiny.jpg")]


def test_a_folder_without_images_is_said_in_one_line(capsys, tmp_path, tiny_model):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a picture")
    code, _, err = _run(capsys, "image", empty, "-s", tiny_model, "-o", tmp_path / "out")
    _assert_clean_failure(code, err, tmp_path, "no image files in")
    assert not (tmp_path / "out").exists()


def test_missing_input(capsys, tmp_path, tiny_model):
    code, _, err = _run(capsys, "image", tmp_path / "nope.jpg", "-s", tiny_model, "-o", tmp_path / "o.jpg")
    _assert_clean_failure(code, err, tmp_path, "input not found")


def test_a_folder_given_as_the_style_is_named_as_a_folder(capsys, tmp_path, photo_path):
    code, _, err = _run(capsys, "image", photo_path, "-s", tmp_path, "-o", tmp_path / "o.jpg")
    _assert_clean_failure(code, err, tmp_path, "is a folder, not a style")


def test_not_an_image(capsys, tmp_path, tiny_model):
    fake = tmp_path / "notes.jpg"
    fake.write_text("this is text, not a JPEG")
    code, _, err = _run(capsys, "image", fake, "-s", tiny_model, "-o", tmp_path / "o.jpg")
    _assert_clean_failure(code, err, tmp_path, "is not an image")
    assert not (tmp_path / "o.jpg").exists()


def test_a_training_run_inside_its_photo_folder_is_refused(capsys, tmp_path, painting_path):
    """Photos are found in subfolders: the run's samples would have become training photos on --resume."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for out in (photos / "run", photos):
        code, _, err = _run(capsys, "train", "--style", painting_path, "--data", photos, "--out", out, "--steps", "1")
        _assert_clean_failure(code, err, tmp_path, "is inside --data")
        assert not (photos / "run").exists()


def test_a_damaged_picture_in_a_batch_is_skipped_and_named_and_the_rest_are_painted(capsys, tmp_path, photo_path, tiny_model):
    """One bad file among many stopped the batch at it, leaving every later picture unpainted."""
    album = tmp_path / "album"
    album.mkdir()
    shutil.copy(photo_path, album / "a.jpg")
    (album / "b.jpg").write_bytes(photo_path.read_bytes()[:3000])  # a copy cut short
    (album / "c.png").write_text("text, not a PNG")
    shutil.copy(photo_path, album / "d.jpg")
    code, out, err = _run(capsys, "image", album, "-s", tiny_model, "-o", tmp_path / "out", "--max-side", "96")
    assert code == 2, "the batch is not called a success"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a-tiny.jpg", "d-tiny.jpg"]
    assert f"skipped: {album / 'b.jpg'} is not an image" in err and f"skipped: {album / 'c.png'}" in err
    assert "2 input(s) could not be read" in err and "Traceback" not in err


def test_a_painting_given_as_the_style_says_how_to_make_a_style_of_it(capsys, tmp_path, photo_path, painting_path):
    code, _, err = _run(capsys, "image", photo_path, "-s", painting_path, "-o", tmp_path / "o.jpg")
    _assert_clean_failure(code, err, tmp_path, f"{painting_path} is a picture, not a style")
    assert f"stylecast train --style {painting_path}" in err and f"stylecast paint PHOTO {painting_path}" in err
    assert not (tmp_path / "o.jpg").exists()
    notes = tmp_path / "notes.txt"
    notes.write_text("not a network")
    with pytest.raises(StylecastError, match="is not a style model: give a bundled style name"):
        resolve_style(str(notes))


def test_unknown_style_suggests_the_closest(tmp_path, tiny_model):
    shutil.copy(tiny_model, tmp_path / "cafe_terrace.onnx")
    with pytest.raises(StylecastError, match="Did you mean 'cafe_terrace'"):
        resolve_style("cafe_terace", folder=tmp_path)
    assert resolve_style("cafe_terrace", folder=tmp_path) == tmp_path / "cafe_terrace.onnx"


def test_unknown_style_on_the_command_line(capsys, tmp_path, photo_path):
    code, _, err = _run(capsys, "image", photo_path, "-s", "no_such_style_xyz", "-o", tmp_path / "o.jpg")
    _assert_clean_failure(code, err, tmp_path, "unknown style 'no_such_style_xyz'")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_as_user(capsys, tmp_path, photo_path, tiny_model):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = _run(capsys, "image", photo_path, "-s", tiny_model, "-o", locked / "o.jpg")
    _assert_clean_failure(code, err, tmp_path, "not writable")


def test_unwritable_output(capsys, tmp_path, photo_path, tiny_model):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    code, _, err = _run(capsys, "image", photo_path, "-s", tiny_model, "-o", blocker / "sub" / "o.jpg")
    _assert_clean_failure(code, err, tmp_path, "cannot create output folder")


def test_unknown_output_type(capsys, tmp_path, photo_path, tiny_model):
    code, _, err = _run(capsys, "image", photo_path, "-s", tiny_model, "-o", tmp_path / "o.xyz")
    _assert_clean_failure(code, err, tmp_path, "cannot write images of type '.xyz'")


def test_corrupt_onnx(capsys, tmp_path, photo_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(os.urandom(2048))
    code, _, err = _run(capsys, "image", photo_path, "-s", bad, "-o", tmp_path / "o.jpg")
    _assert_clean_failure(code, err, tmp_path, "corrupt or not an ONNX model")
    assert not (tmp_path / "o.jpg").exists()


def test_a_text_file_named_onnx_is_one_line_even_from_the_runtimes_own_logging(tmp_path, photo_path):
    import subprocess
    import sys

    pytest.importorskip("openvino")
    bad = tmp_path / "notes.onnx"
    bad.write_text("garbage")  # OpenVINO's TensorFlow reader, tried next, logged its own parse error to stderr
    proc = subprocess.run([sys.executable, "-m", "stylecast", "image", str(photo_path), "-s", str(bad), "-o",
                           str(tmp_path / "o.jpg")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "corrupt or not an ONNX model" in proc.stderr, proc.stderr


def test_never_overwrites_input_or_existing_output(capsys, tmp_path, photo_path, tiny_model):
    src = tmp_path / "in.jpg"
    shutil.copy(photo_path, src)
    before = src.read_bytes()
    code, _, err = _run(capsys, "image", src, "-s", tiny_model, "-o", src)
    _assert_clean_failure(code, err, tmp_path, "is one of the inputs")
    assert src.read_bytes() == before
    out = tmp_path / "o.png"
    out.write_bytes(b"keep me")
    code, _, err = _run(capsys, "image", src, "-s", tiny_model, "-o", out)
    _assert_clean_failure(code, err, tmp_path, "--overwrite")
    assert out.read_bytes() == b"keep me"
    assert _run(capsys, "image", src, "-s", tiny_model, "-o", out, "--overwrite")[0] == 0
    assert cv2.imread(str(out)) is not None


@pytest.mark.skipif(not bundled_styles(), reason="no bundled style in this checkout")
def test_bundled_style_by_name_and_listing(capsys, tmp_path, photo_path):
    style = bundled_styles()[0]
    code, out, err = _run(capsys, "styles")
    assert code == 0 and style.name in out and "trained:" in out and "stylecast bench styles" in err
    from stylecast.styles import lighter_variants

    cards: dict[str, list[str]] = {}  # a style's name line, then its indented lines
    for line in out.splitlines():
        if not line.startswith("\t"):
            cards[line.split("\t")[0]] = []
        else:
            cards[list(cards)[-1]].append(line.strip())
    assert set(cards) == {s.name for s in bundled_styles()}
    from stylecast.styles.mixes import painting_row

    for name, lines in cards.items():
        lighter = lighter_variants(name)
        if (row := painting_row(name)) is not None:  # the multi-style network's row for the painting
            lighter.append(f"{row} (on the multi-style network)")
        said = [line for line in lines if line.startswith("lighter networks")]
        assert said == ([f"lighter networks, same painting: {', '.join(lighter)}"] if lighter else [])
    code, out, err = _run(capsys, "image", photo_path, "-s", style.name, "-o", tmp_path / "o.jpg")
    assert code == 0, err
    original, painted = cv2.imread(str(photo_path)), cv2.imread(str(tmp_path / "o.jpg"))
    assert painted.shape == original.shape
    assert abs(painted.astype(float) - original).mean() > 10, "a style changes the picture"


@pytest.mark.skipif(not bundled_styles(), reason="no bundled style in this checkout")
def test_styles_shows_the_named_cards_only(capsys):
    code, every, _ = _run(capsys, "styles")
    cards = {}
    for block in every.split("\n"):
        if block and not block.startswith("\t"):
            name = block.split("\t")[0]
            cards[name] = block + "\n"
        elif block:
            cards[name] += block + "\n"
    names = [s.name for s in bundled_styles()][-2:]
    code, out, _ = _run(capsys, "styles", names[1], names[0], names[1])
    assert code == 0 and out == cards[names[1]] + cards[names[0]], "each card once, in the order asked, as in the full list"
    code, out, err = _run(capsys, "styles", names[0][:-1] + "x")
    assert code == 2 and out == "" and f"Did you mean '{names[0]}'?" in err and "Traceback" not in err


def test_help_explains_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("image", "styles", "export", "train"):
        assert command in out


@pytest.mark.parametrize("option", ["--input-blur", "--temporal-luma"])
def test_negative_flicker_options_are_refused_before_training(option, capsys, tmp_path, photo_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--style", str(photo_path), "--data", str(tmp_path), "--out", str(tmp_path / "run"), option, "-1"])
    assert exit_info.value.code == 2
    assert "must be 0 or more" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_train_distills_a_style_without_a_painting(capsys, tmp_path, photo_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        shutil.copy(photo_path, photos / f"p{i}.jpg")
    out = tmp_path / "runs" / "rt_copy"
    code, stdout, _ = _run(capsys, "train", "--distill-from", "cafe_terrace_rt", "--data", photos, "--out", out,
                           "--width", "8", "--design", "shuffle", "--bottleneck", "8", "--steps", "2", "--batch", "2",
                           "--size", "64", "--quiet")
    assert code == 0 and "wrote" in stdout
    assert (out / "rt_copy.onnx").is_file() and (out / "rt_copy.jpg").is_file(), "the teacher's picture comes along"
    card = json.loads((out / "rt_copy.json").read_text())
    assert card["bottleneck"] == 8 and card["training"]["distilled_from"]["name"] == "cafe_terrace_rt"


def test_train_without_a_painting_or_a_teacher_is_one_line(capsys, tmp_path):
    (tmp_path / "photos").mkdir()
    code, _, err = _run(capsys, "train", "--data", tmp_path / "photos", "--out", tmp_path / "run")
    _assert_clean_failure(code, err, tmp_path, "--style PAINTING")
    assert not (tmp_path / "run").exists()


def test_every_option_and_argument_says_what_it_does():
    import argparse

    from stylecast.cli import build_parser

    silent = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, path + [name])
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                silent.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), [])
    assert silent == [], f"--help says nothing about: {silent}"


@pytest.mark.parametrize("args, said", [
    (["live", "--fps", "-1"], "must be more than 0"),
    (["live", "--fps", "0"], "must be more than 0"),
    (["live", "--duration", "-1"], "must be more than 0"),
    (["live", "--strength", "5"], "between 0 and 1"),
    (["live", "--port", "-5"], "port number from 1 to 65535"),
    (["live", "--port", "http"], "must be a whole number"),
    (["train", "--style", "S", "--seed", "99999999999999999999999"], "from 0 to 4294967295"),  # was an overflow traceback
    (["train", "--add-style", "P", "--to", "paintings_rt", "--name", "a=b"], "letters, digits, _ or -"),
    (["data", "video-pairs", "V", "D", "--shortest", "5"], "must be 32 or more"),  # no crop VGG can score
    (["live", "--sink", "http", "--host", "0.0.0.0", "--token", "x"], "8 or more"),  # guessed in a few tries
    (["live", "--sink", "http", "--token", "open sesame"], "letters, digits"),  # breaks the printed URL
    (["bench", "live", "SOURCE", "--seconds", "0"], "must be more than 0"),
    (["bench", "live", "SOURCE", "--fps", "nan"], "finite number"),
    (["bench", "styles", "--fps", "inf"], "finite number"),
    (["train", "--data", "D", "--out", "O", "--lr", "0"], "must be more than 0"),
    (["train", "--data", "D", "--out", "O", "--style-weight", "-0.00001"], "0 or more"),
    (["paint", "P", "S", "-o", "O", "--style-scale", "-2"], "must be more than 0"),
    (["paint", "P", "S", "-o", "O", "--save-every", "-1"], "0 or more"),
    (["eval-temporal", "O", "--source", "I", "--flow-scale", "x"], "must be a number"),
    (["train", "--data", "D", "--out", "O", "--size", "30"], "must be 32 or more"),
    (["train", "--data", "D", "--out", "O", "--size", "250"], "must be a multiple of 4, not 250 (try 248)"),
    (["train", "--data", "D", "--out", "O", "--style-size", "4"], "must be 32 or more"),
    (["paint", "P", "S", "-o", "O", "--size", "3"], "must be 32 or more"),
    (["eval-style", "M", "--style", "S", "--size", "3"], "must be 32 or more"),
])
def test_out_of_range_numbers_are_refused_before_any_work(args, said, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and said in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["image", "P", "-o", "O"], ["video", "V", "-o", "O"], ["live"], ["bench"],
                                  ["bench", "styles"]])
def test_an_empty_style_is_refused_not_painted_with_the_default(args, capsys):
    # `-s "$STYLE"` with STYLE unset: image painted the default (live read it as the folder ".")
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "-s", " "])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "-s/--style" in err and "is empty" in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["live", "--size", "0x0"], ["bench", "--sizes", "640x480,0x5"],
                                  ["bench", "--sizes", "640x480,"]])
def test_a_size_without_pixels_is_one_line(args, capsys, tmp_path, tiny_model):
    code, _, err = _run(capsys, *args, "--source" if args[0] == "live" else "--model",
                        str(tiny_model) if args[0] == "bench" else str(tmp_path / "clip.mp4"))
    assert code == 2 and "bad size" in err and "Traceback" not in err, err


def test_a_crf_outside_the_encoders_range_is_one_line(capsys, tmp_path):
    pytest.importorskip("av")
    from tests.realtime.clips import make_clip

    clip = make_clip(tmp_path / "in.mkv", frames=4)
    for out, crf, said in (("o.mp4", "52", "h264's range 0-51"), ("o.webm", "-4", "vp9's range 0-63"),
                           (f"new{os.sep}", "99", "h264's range 0-51")):
        # not --quiet: refused while planning, before a progress bar starts (one line on stderr)
        code, _, err = _run(capsys, "video", clip, "-s", "cafe_terrace_rt", "-o", f"{tmp_path}{os.sep}{out}", "--crf", crf)
        _assert_clean_failure(code, err, tmp_path, said)
        assert not (tmp_path / out).exists()
    code, _, err = _run(capsys, "video", clip, "-s", "cafe_terrace_rt", "-o", tmp_path / "o.webm", "--crf", "63", "--quiet")
    assert code == 0, err


def test_an_output_ending_in_a_separator_is_a_new_folder(capsys, tmp_path, photo_path):
    pytest.importorskip("av")
    from tests.realtime.clips import make_clip

    clip = make_clip(tmp_path / "in.mkv", frames=3)
    code, out, err = _run(capsys, "image", photo_path, "-s", "cafe_terrace_rt", "-o", f"{tmp_path / 'stills'}{os.sep}")
    assert code == 0, err
    assert [p.name for p in (tmp_path / "stills").iterdir()] == [f"{photo_path.stem}-cafe_terrace_rt{photo_path.suffix.lower()}"]
    code, out, err = _run(capsys, "video", clip, "-s", "cafe_terrace_rt", "-o", f"{tmp_path / 'films'}/", "--quiet")
    assert code == 0, err
    assert [p.name for p in (tmp_path / "films").iterdir()] == ["in-cafe_terrace_rt.mp4"]


def test_a_new_output_folder_is_removed_again_when_nothing_could_be_written_there(capsys, tmp_path):
    pytest.importorskip("av")
    from tests.realtime.clips import make_clip

    not_an_image = tmp_path / "photo.jpg"
    not_an_image.write_bytes(b"\xff\xd8 not a picture")
    code, _, err = _run(capsys, "image", not_an_image, "-s", "cafe_terrace_rt", "-o", f"{tmp_path / 'a' / 'stills'}{os.sep}")
    assert code == 2 and "not an image" in err, err
    assert not (tmp_path / "a").exists()
    # a file FFmpeg opens (its header comes first) but whose frames are missing: an unfinished download
    clip = make_clip(tmp_path / "whole.mp4", frames=12, size=(320, 240), audio=None, faststart=True)
    head = tmp_path / "head.mp4"
    head.write_bytes(clip.read_bytes()[:clip.stat().st_size // 8])
    code, _, err = _run(capsys, "video", head, "-s", "cafe_terrace_rt", "-o", f"{tmp_path / 'films'}{os.sep}", "--quiet")
    assert code == 2 and "no frame could be decoded" in err, err
    assert not (tmp_path / "films").exists()
    (tmp_path / "mine").mkdir()  # a folder that was there stays
    assert _run(capsys, "video", head, "-s", "cafe_terrace_rt", "-o", f"{tmp_path / 'mine'}{os.sep}", "--quiet")[0] == 2
    assert (tmp_path / "mine").is_dir()


@pytest.mark.parametrize("command", ["paint", "export", "quantize"])
def test_paint_export_and_quantize_refused_leave_no_new_folder(command, capsys, tmp_path, painting_path, tiny_model):
    pytest.importorskip("torch")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a picture, not a checkpoint")
    (tmp_path / "empty").mkdir()
    out = tmp_path / "new" / "deeper"
    args = {"paint": ["paint", broken, painting_path, "-o", out / "x.png", "--steps", "1"],
            "export": ["export", broken, "-o", out / "x.onnx"],
            "quantize": ["quantize", tiny_model, "--data", tmp_path / "empty", "-o", out / "x.onnx"]}[command]
    code, _, err = _run(capsys, *args)
    assert code == 2 and "Traceback" not in err, err
    assert not (tmp_path / "new").exists()


def test_a_folder_given_where_one_video_is_wanted_is_named_as_a_folder(capsys, tmp_path):
    pytest.importorskip("av")
    code, _, err = _run(capsys, "live", "--source", tmp_path, "--sink", "file", "--record", tmp_path / "r.mp4", "--duration", "1")
    _assert_clean_failure(code, err, tmp_path, "is a folder, not a video file")
    code, _, err = _run(capsys, "bench", "video", tmp_path)
    _assert_clean_failure(code, err, tmp_path, "is a folder, not a video file")


def test_live_beyond_free_memory_is_refused_before_any_sink_opens(capsys, tmp_path, monkeypatch):
    """--stroke-scale 0.1 paints a 1280x720 camera at its own size: on onnxruntime that needs several
    times what the default 640 px does; beyond free memory the kernel would end the session unannounced."""
    pytest.importorskip("av")
    import stylecast.machine
    from tests.realtime.clips import make_clip

    clip = make_clip(tmp_path / "in.mp4", frames=6, size=(1280, 720), audio=None)
    monkeypatch.setattr(stylecast.machine, "available_memory", lambda: 400 * 10**6)
    record = tmp_path / "r.mp4"
    code, _, err = _run(capsys, "live", "--source", clip, "-s", "cafe_terrace_rt", "--backend", "cpu", "--sink", "file",
                        "--record", record, "--duration", "1", "--stroke-scale", "0.1")
    assert code == 2 and "Traceback" not in err, err
    assert "painting 1280x720 frames at 1280x720 needs about" in err and "--stroke-scale" in err
    assert not record.exists() and not list(tmp_path.glob("*.partial*"))
    code, _, err = _run(capsys, "live", "--source", clip, "-s", "cafe_terrace_rt", "--backend", "cpu", "--sink", "file",
                        "--record", record, "--duration", "1")
    assert code == 0 and record.is_file(), err


def test_record_alone_adds_the_file_sink_to_the_others(capsys, tmp_path, monkeypatch):
    # `live --sink http --record r.mp4` streamed and silently recorded nothing
    import stylecast.realtime.live.loop as loop
    from stylecast.realtime.live.loop import LiveStats

    seen = []
    monkeypatch.setattr(loop, "run_live", lambda config: seen.append(config) or LiveStats())
    assert main(["live", "--sink", "http", "--record", str(tmp_path / "r.mp4")]) == 0
    assert main(["live", "--record", str(tmp_path / "r.mp4")]) == 0
    assert main(["live", "--sink", "file", "--sink", "http", "--record", str(tmp_path / "r.mp4")]) == 0
    assert [c.sinks for c in seen] == [("http", "file"), ("window", "file"), ("file", "http")]
    assert all(c.record == tmp_path / "r.mp4" for c in seen)


def test_a_live_recording_goes_to_a_file_named_by_its_suffix(capsys, tmp_path):
    """--record r.webm was refused with advice about a --codec live does not have; --record DIR/
    failed on the temporary file's name."""
    pytest.importorskip("av")
    from tests.realtime.clips import make_clip, video_facts

    clip = make_clip(tmp_path / "in.mp4", frames=6, audio=None)
    for folder in (f"{tmp_path}{os.sep}new{os.sep}", str(tmp_path)):
        code, _, err = _run(capsys, "live", "--source", clip, "-s", "cafe_terrace_rt", "--sink", "file", "--record", folder,
                            "--duration", "1")
        assert code == 2 and "is a folder: give the recording's file name" in err, err
    code, _, err = _run(capsys, "live", "--source", clip, "-s", "cafe_terrace_rt", "--sink", "file",
                        "--record", tmp_path / "r.webm", "--duration", "1")
    assert code == 0, err
    import av

    assert video_facts(tmp_path / "r.webm")["frames"] > 0
    with av.open(str(tmp_path / "r.webm")) as container:
        assert container.streams.video[0].codec_context.name in ("vp9", "libvpx-vp9")


def test_a_video_cut_short_is_painted_as_far_as_it_goes_with_a_warning(capsys, tmp_path):
    pytest.importorskip("av")
    from tests.realtime.clips import make_clip, video_facts

    whole = make_clip(tmp_path / "whole.mp4", frames=40, audio=None, faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # a download stopped half way
    code, out, err = _run(capsys, "video", whole, "-s", "cafe_terrace_rt", "-o", tmp_path / "a.mp4", "--quiet")
    assert code == 0 and "cut short" not in err, err
    code, out, err = _run(capsys, "video", cut, "-s", "cafe_terrace_rt", "-o", tmp_path / "b.mp4", "--quiet")
    assert code == 0, err
    painted = video_facts(tmp_path / "b.mp4")["frames"]
    assert 0 < painted < 36
    assert f"ended after {painted} of the 40 frames" in err and "Traceback" not in err


def test_image_and_video_without_a_style_paint_with_the_default_and_say_so(capsys, tmp_path, photo_path):
    pytest.importorskip("av")
    from stylecast.styles import STILL_DEFAULT
    from tests.realtime.clips import make_clip, video_facts

    small = tmp_path / "small.png"
    cv2.imwrite(str(small), cv2.resize(cv2.imread(str(photo_path)), (96, 64), interpolation=cv2.INTER_AREA))
    code, _, err = _run(capsys, "image", small, "-o", tmp_path / "default.png", "--backend", "cpu")
    assert code == 0, err
    assert f"style: {STILL_DEFAULT} (the default" in err
    code, _, err = _run(capsys, "image", small, "-s", STILL_DEFAULT, "-o", tmp_path / "named.png", "--backend", "cpu")
    assert code == 0 and "the default" not in err
    default, named = cv2.imread(str(tmp_path / "default.png")), cv2.imread(str(tmp_path / "named.png"))
    assert (default == named).all(), "no -s paints exactly what -s STILL_DEFAULT paints"
    assert abs(default.astype(float) - cv2.imread(str(small))).mean() > 10

    clip = make_clip(tmp_path / "in.mkv", frames=6, size=(96, 64))
    code, _, err = _run(capsys, "video", clip, "-o", tmp_path / "out.mp4", "--quiet")
    assert code == 0, err
    assert f"style: {STILL_DEFAULT} (the default" in err
    assert video_facts(tmp_path / "out.mp4")["frames"] == 6


def test_the_multistyle_network_named_alone_says_which_painting_it_paints(capsys, tmp_path, photo_path):
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), cv2.resize(cv2.imread(str(photo_path)), (96, 64), interpolation=cv2.INTER_AREA))
    code, _, err = _run(capsys, "image", small, "-s", "paintings_rt", "-o", tmp_path / "alone.png", "--backend", "cpu")
    assert code == 0, err
    assert "style: paintings_rt paints 8 paintings and, named alone, the first: cafe_terrace" in err
    assert "paintings_rt:PAINTING picks another" in err
    code, _, err = _run(capsys, "image", small, "-s", "paintings_rt:cafe_terrace", "-o", tmp_path / "named.png",
                        "--backend", "cpu")
    assert code == 0 and "named alone" not in err
    assert (cv2.imread(str(tmp_path / "alone.png")) == cv2.imread(str(tmp_path / "named.png"))).all()


def test_video_with_openvino_stylizes_two_frames_at_once_or_one_when_asked(capsys, tmp_path):
    pytest.importorskip("openvino")
    pytest.importorskip("av")
    from tests.realtime.clips import make_clip, video_facts

    clip = make_clip(tmp_path / "in.mkv", frames=12, size=(96, 64))
    auto = "2 frames at once" if (os.cpu_count() or 1) >= 2 else None  # one core: nothing to overlap
    for streams, said in ((None, auto), ("1", None)):
        out = tmp_path / f"out{streams}.mp4"
        extra = ("--streams", streams) if streams else ()
        code, stdout, err = _run(capsys, "video", clip, "-s", "cafe_terrace_rt", "-o", out, "--backend", "openvino", "--quiet", *extra)
        assert code == 0, err
        assert video_facts(out)["frames"] == 12
        assert ("frames at once" in err) == (said is not None), err
        if said:
            assert said in err
    code, _, err = _run(capsys, "video", clip, "-s", "cafe_terrace_rt", "-o", tmp_path / "cpu.mp4", "--backend", "cpu", "--streams", "2")
    _assert_clean_failure(code, err, tmp_path, "only the OpenVINO backend")


def test_live_streams_from_the_command_line(tmp_path, capsys):
    """`stylecast live --streams 2` stylizes two frames at once with OpenVINO and says so; elsewhere it is one clean line."""
    pytest.importorskip("openvino")
    pytest.importorskip("av")
    from tests.realtime.clips import make_clip, video_facts

    clip = make_clip(tmp_path / "in.mkv", frames=30, size=(96, 64))
    record = tmp_path / "live.mp4"
    code, _, err = _run(capsys, "live", "--source", clip, "-s", "cafe_terrace_rt", "--sink", "file", "--record", record,
                        "--backend", "openvino", "--streams", "2", "--duration", "2", "--smooth", "off")
    assert code == 0, err
    assert "2 frames at once" in err and video_facts(record)["frames"] > 5
    code, _, err = _run(capsys, "live", "--source", clip, "-s", "cafe_terrace_rt", "--sink", "file", "--record",
                        tmp_path / "cpu.mp4", "--backend", "cpu", "--streams", "2", "--duration", "2")
    _assert_clean_failure(code, err, tmp_path, "only the OpenVINO backend")


def test_a_reader_that_goes_away_ends_the_output_quietly():
    """`stylecast styles | head -1`: the pipe closes before stylecast has written; no traceback follows."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-m", "stylecast", "styles"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # before the interpreter has even started: every write meets a closed pipe
    err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141
    assert err == ""


def test_styles_show_their_held_out_scores(capsys):
    from stylecast.styles import bundled_styles

    assert main(["styles"]) == 0
    out = capsys.readouterr().out
    scored = [s for s in bundled_styles() if s.card and "style_ratio" in s.card.evaluation]
    assert scored, "the bundled cards carry held-out scores"
    for s in scored:
        block = out.split(f"{s.name}\t", 1)[1].split("\n\t", 4)
        assert any(f"style ratio {s.card.evaluation['style_ratio']}" in line for line in block), s.name
    assert "dB PSNR against its teacher" in out  # the distilled ones


def test_bench_takes_s_like_every_other_command(capsys, tiny_model):
    assert main(["bench", "-s", str(tiny_model), "--sizes", "32x32", "--backends", "cpu", "--runs", "1", "--no-baseline",
                 "--no-smoothing", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == str(tiny_model)
