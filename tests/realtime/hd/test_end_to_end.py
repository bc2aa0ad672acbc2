"""Paint small, show big, through the commands: stroke scale changes the strokes, not the output
size; odd sizes work in image, video and live."""
import cv2
import numpy as np
import pytest

from stylecast.cli import main
from tests.realtime.clips import decoded_frames, make_clip, video_facts


def fineness(image: np.ndarray) -> float:
    """Neighbouring pixels' luma difference over that of pixels 8 apart: lower for larger strokes."""
    y = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return float(np.abs(y[:, 1:] - y[:, :-1]).mean() / np.abs(y[:, 8:] - y[:, :-8]).mean())


def test_stroke_scale_changes_stroke_size_and_not_output_size(tmp_path, photo_bgr, capsys):
    big = cv2.resize(photo_bgr, (1280, 1200), interpolation=cv2.INTER_CUBIC)
    src = tmp_path / "photo.png"
    cv2.imwrite(str(src), big)
    outputs = {}
    for scale in ("1", "2.5"):
        out = tmp_path / f"s{scale}.png"
        assert main(["image", str(src), "-s", "starry_night_lite_rt", "--stroke-scale", scale, "-o", str(out)]) == 0
        outputs[scale] = cv2.imread(str(out))
    assert outputs["1"].shape == outputs["2.5"].shape == big.shape
    assert fineness(outputs["2.5"]) < 0.9 * fineness(outputs["1"])
    # and it is still this photo, edges in place: closer to the photo than to the photo mirrored
    assert np.abs(outputs["2.5"].astype(int) - big).mean() < np.abs(outputs["2.5"].astype(int) - big[:, ::-1]).mean()


def test_stroke_scale_out_of_range_is_one_line(tmp_path, photo_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["image", str(photo_path), "--stroke-scale", "20", "-o", str(tmp_path / "x.png")])
    assert e.value.code == 2 and "--stroke-scale: must be 0.1-8" in capsys.readouterr().err


def test_odd_size_image_end_to_end(tmp_path, photo_bgr):
    src = tmp_path / "odd.png"
    cv2.imwrite(str(src), cv2.resize(photo_bgr, (641, 359)))
    out = tmp_path / "out.png"
    assert main(["image", str(src), "-s", "cafe_terrace_rt", "--stroke-scale", "2", "-o", str(out)]) == 0
    assert cv2.imread(str(out)).shape == (359, 641, 3)


def test_odd_size_video_end_to_end_with_flow_smoothing(tmp_path):
    pytest.importorskip("av")
    src = make_clip(tmp_path / "odd.mkv", frames=12, size=(641, 359), fps=12, audio=None, codec="ffv1")
    out = tmp_path / "out.mp4"
    assert main(["video", str(src), "-s", "cafe_terrace_rt", "--stroke-scale", "2", "--smooth", "flow",
                 "--quiet", "-o", str(out)]) == 0
    facts = video_facts(out)
    assert facts["frames"] == 12 and facts["size"] == video_facts(src)["size"]
    frames = decoded_frames(out)
    assert frames[0].std() > 5  # painted, not blank


def test_odd_size_live_end_to_end(tmp_path):
    pytest.importorskip("av")
    from stylecast.realtime.live.config import LiveConfig
    from stylecast.realtime.live.loop import run_live

    src = make_clip(tmp_path / "odd.mkv", frames=12, size=(320, 240), fps=12, audio=None)

    class Keep:
        frames: list = []

        def write(self, frame):
            self.frames.append(frame.image)

    sink = Keep()
    stats = run_live(LiveConfig(source=str(src), styles=("cafe_terrace_rt",), sinks=(), size=(641, 359), duration=2, loop=True,
                                stroke_scale=2.0), sinks_override=[sink])
    assert stats.frames >= 3 and all(f.shape == (359, 641, 3) for f in sink.frames)
    assert stats.painting.startswith("cafe_terrace_rt at ") and stats.painting.endswith("x180")
