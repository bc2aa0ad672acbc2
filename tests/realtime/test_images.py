"""`stylecast image` with careless and hostile inputs: huge pictures refused before decoding,
same-named inputs refused before any output, pictures decoded one at a time."""
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecast.cli import main
from stylecast.realtime import images
from stylecast.realtime.images import header_size


def _png_of(path: Path, w: int, h: int) -> Path:
    """A real, valid PNG of w x h grey pixels, written without holding them (a huge one is a few MB)."""
    raw = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * w  # filter byte + one grey row
    body = b"".join(raw.compress(row) for _ in range(h)) + raw.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])  # 8-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def test_header_sizes_of_real_files(tmp_path, photo_path):
    assert header_size(photo_path.read_bytes()[:65536]) == (512, 480)  # fruits.jpg
    png = tmp_path / "a.png"
    cv2.imwrite(str(png), np.zeros((37, 91, 3), np.uint8))
    assert header_size(png.read_bytes()) == (91, 37)
    assert _png_of(tmp_path / "b.png", 300, 20) and header_size((tmp_path / "b.png").read_bytes()) == (300, 20)
    assert cv2.imread(str(tmp_path / "b.png")).shape == (20, 300, 3), "the made PNG is a real picture"
    assert header_size(b"GIF89a....") is None


def test_a_huge_picture_is_refused_before_decoding(tmp_path, capsys):
    big = _png_of(tmp_path / "huge.png", 16000, 16000)
    assert big.stat().st_size < 5_000_000
    code = main(["image", str(big), "-s", "cafe_terrace_rt", "-o", str(tmp_path / "out.png")])
    err = capsys.readouterr().err
    assert code == 2 and "16000x16000 (256 MP)" in err and "--max-side" in err and "Traceback" not in err
    assert not (tmp_path / "out.png").exists()


def test_beyond_opencvs_own_limit_is_one_line_even_with_max_side(tmp_path, capsys):
    big = _png_of(tmp_path / "giant.png", 33000, 33000)
    code = main(["image", str(big), "--max-side", "1000", "-s", "cafe_terrace_rt", "-o", str(tmp_path / "out.png")])
    err = capsys.readouterr().err
    assert code == 2 and "more than OpenCV can decode" in err and "Traceback" not in err


def test_a_painting_beyond_free_memory_is_refused_before_any_output_by_its_working_size(tmp_path, photo_path, capsys,
                                                                                        monkeypatch):
    # 4K: painted at 640 px (the default) it needs about half a GB; at --stroke-scale 0.1 (6400 px,
    # the picture's own 3840) onnxruntime would need some 12 GB, and the kernel would kill it unannounced
    import stylecast.machine

    picture = tmp_path / "uhd.jpg"
    cv2.imwrite(str(picture), cv2.resize(cv2.imread(str(photo_path)), (3840, 2160)))
    monkeypatch.setattr(stylecast.machine, "available_memory", lambda: 2 * 10**9)
    out = tmp_path / "out"
    code = main(["image", str(picture), "-s", "cafe_terrace_rt", "--backend", "cpu", "--stroke-scale", "0.1",
                 "-o", f"{out}/"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "painting" in err and "(3840x2160, painted at 3840x2160) needs about" in err and "2 GB is free" in err
    assert not out.exists() or not any(out.iterdir())
    assert main(["image", str(picture), "-s", "cafe_terrace_rt", "--backend", "cpu", "-o", f"{out}/"]) == 0
    [written] = out.iterdir()
    assert cv2.imread(str(written)).shape == (2160, 3840, 3)


def test_inputs_with_the_same_name_are_refused_before_any_output(tmp_path, photo_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "p.jpg").write_bytes(photo_path.read_bytes())
    out = tmp_path / "out"
    code = main(["image", str(tmp_path / "a" / "p.jpg"), str(tmp_path / "b" / "p.jpg"), "-s", "cafe_terrace_rt", "-o", f"{out}/"])
    err = capsys.readouterr().err
    assert code == 2 and "would both be written to" in err and "a/p.jpg" in err and "b/p.jpg" in err
    assert not out.exists() or not any(out.iterdir())


def test_videos_with_the_same_name_are_refused_too(tmp_path, capsys):
    pytest.importorskip("av")
    from tests.realtime.clips import make_clip

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        make_clip(tmp_path / folder / "clip.mkv", frames=3, audio=None)
    code = main(["video", str(tmp_path / "a" / "clip.mkv"), str(tmp_path / "b" / "clip.mkv"), "-o", f"{tmp_path / 'out'}/"])
    assert code == 2 and "would both be written to" in capsys.readouterr().err


def test_pictures_are_decoded_one_at_a_time(tmp_path, photo_path, monkeypatch):
    paths = []
    for i in range(4):
        p = tmp_path / f"p{i}.jpg"
        p.write_bytes(photo_path.read_bytes())
        paths.append(p)
    events = []
    real_read, real_write = images.read_image, images.write_image
    monkeypatch.setattr(images, "read_image", lambda path: events.append("read") or real_read(path))
    monkeypatch.setattr(images, "write_image", lambda path, image: events.append("write") or real_write(path, image))
    assert main(["image", *map(str, paths), "-s", "cafe_terrace_rt", "-o", f"{tmp_path / 'out'}/"]) == 0
    assert events == ["read", "write"] * 4, "each picture is painted and written before the next is decoded"


def test_transparency_is_kept_in_png_and_said_to_be_dropped_in_jpeg(tmp_path, photo_bgr, capsys):
    bgra = cv2.cvtColor(photo_bgr, cv2.COLOR_BGR2BGRA)
    bgra[:, : bgra.shape[1] // 2, 3] = 0  # the left half transparent
    bgra[:, : bgra.shape[1] // 2, :3] = 0  # and black underneath, as many editors leave it
    src = tmp_path / "logo.png"
    cv2.imwrite(str(src), bgra)
    out = tmp_path / "out.png"
    assert main(["image", str(src), "-s", "cafe_terrace_rt", "-o", str(out)]) == 0
    painted = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert painted.shape == bgra.shape and np.array_equal(painted[:, :, 3], bgra[:, :, 3])
    assert painted[:, -50:, :3].std() > 10, "the visible half is painted"
    capsys.readouterr()
    assert main(["image", str(src), "-s", "cafe_terrace_rt", "-o", str(tmp_path / "out.jpg")]) == 0
    assert "has transparency, which .jpg cannot hold" in capsys.readouterr().err
    assert cv2.imread(str(tmp_path / "out.jpg")).shape == photo_bgr.shape


def test_a_batch_shows_a_progress_bar_and_each_picture_above_it(tmp_path, photo_path, capsys):
    from stylecast.realtime.config import RunConfig

    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (tmp_path / name).write_bytes(photo_path.read_bytes())
    config = RunConfig(style="cafe_terrace_rt", max_side=96)
    written: list[Path] = []
    images.stylize_images([tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path / "c.jpg"], tmp_path / "out/", config,
                          on_written=written.append, show_progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "picture" in err
    assert [p.name for p in written] == [f"{n}-cafe_terrace_rt.jpg" for n in "abc"]
    images.stylize_images([tmp_path / "a.jpg"], tmp_path / "one.jpg", config, show_progress=True)
    assert "1/1" not in capsys.readouterr().err, "one picture: no bar"
