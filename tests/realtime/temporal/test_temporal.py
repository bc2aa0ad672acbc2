import json

import cv2
import numpy as np
import pytest

from stylecast.cli import main
from stylecast.realtime.temporal.smoothing import EmaSmoother, FlowSmoother, make_smoother
from stylecast.realtime.temporal.warping_error import warping_error
from tests.realtime.clips import make_clip


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.random((h // 8, w // 8, 3)).astype(np.float32)
    big = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    detail = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip((0.7 * big + 0.3 * detail) * 255, 0, 255).astype(np.uint8)


def _pan(texture: np.ndarray, frames: int, step: int, size=(96, 128)) -> list[np.ndarray]:
    h, w = size
    return [np.ascontiguousarray(texture[10:10 + h, 10 + i * step:10 + i * step + w]) for i in range(frames)]


@pytest.fixture(scope="module")
def scene():
    tex = _texture(160, 260)
    painted = cv2.applyColorMap(cv2.cvtColor(tex, cv2.COLOR_BGR2GRAY), cv2.COLORMAP_JET)  # a fixed "style"
    return _pan(tex, 10, 3), _pan(painted, 10, 3)


def test_consistent_output_on_a_known_pan_scores_near_zero(scene):
    originals, stylized = scene
    scores = warping_error(originals, stylized, flow_scale=1.0)
    assert scores.pairs == 9 and scores.valid_fraction > 0.7
    assert scores.warping_error < 2e-3


def test_flicker_scores_high_and_stability_sees_it(scene):
    originals, stylized = scene
    rng = np.random.default_rng(1)
    flicker = [np.clip(s.astype(int) + rng.integers(-40, 40, s.shape), 0, 255).astype(np.uint8) for s in stylized]
    steady, noisy = warping_error(originals, stylized, 1.0), warping_error(originals, flicker, 1.0)
    assert noisy.warping_error > 10 * steady.warping_error
    assert noisy.stability > steady.stability


def test_flow_smoothing_cuts_the_warping_error(scene):
    originals, stylized = scene
    rng = np.random.default_rng(2)
    flicker = [np.clip(s.astype(int) + rng.integers(-40, 40, s.shape), 0, 255).astype(np.uint8) for s in stylized]
    smoother = FlowSmoother()
    smoothed = [smoother(o, s) for o, s in zip(originals, flicker)]
    before, after = warping_error(originals, flicker, 1.0), warping_error(originals, smoothed, 1.0)
    assert after.warping_error < 0.6 * before.warping_error
    assert smoother.cuts == 0  # a pan is not a scene cut


def test_ema_steadies_a_static_scene():
    frame = _texture(64, 64)
    rng = np.random.default_rng(3)
    ema = EmaSmoother()
    outs = [ema(frame, np.clip(frame.astype(int) + rng.integers(-30, 30, frame.shape), 0, 255).astype(np.uint8)) for _ in range(20)]
    assert np.abs(outs[-1].astype(int) - frame).mean() < 8


def test_scene_cut_resets_the_history():
    a = _texture(64, 96, seed=1)
    b = cv2.applyColorMap(cv2.normalize(_texture(64, 96, seed=2)[..., 0], None, 0, 255, cv2.NORM_MINMAX), cv2.COLORMAP_HSV)
    smoother = FlowSmoother()
    smoother(a, a)
    smoother(a, a)
    out = smoother(b, b // 2)
    assert smoother.cuts == 1
    np.testing.assert_array_equal(out, b // 2)  # nothing of the previous scene bleeds in


def test_unknown_mode():
    from stylecast.errors import StylecastError

    assert make_smoother("off")(np.zeros((2, 2, 3), np.uint8), np.ones((2, 2, 3), np.uint8)).max() == 1
    with pytest.raises(StylecastError, match="unknown smoothing"):
        make_smoother("blur")


def test_eval_temporal_and_video_smoothing_end_to_end(tmp_path, tiny_model, capsys):
    pytest.importorskip("av")
    src = make_clip(tmp_path / "in.mkv", frames=12, size=(96, 64), audio=None)
    for mode in ("off", "flow"):
        assert main(["video", str(src), "-s", str(tiny_model), "-o", str(tmp_path / f"{mode}.mp4"), "--smooth", mode,
                     "--backend", "cpu", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["eval-temporal", str(tmp_path / "off.mp4"), "--source", str(src)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pairs"] == 11 and report["warping_error"] >= 0 and 0 < report["valid_fraction"] <= 1
    assert main(["eval-temporal", str(tmp_path / "off.mp4"), "--source", str(tmp_path / "missing.mp4")]) == 2
    other = make_clip(tmp_path / "other.mp4", frames=30, size=(96, 64), audio=None)  # MKV headers hold no frame count
    wide = make_clip(tmp_path / "wide.mkv", frames=12, size=(128, 48), audio=None)
    capsys.readouterr()
    for wrong, said in ((other, "12 frames against 30"), (wide, "another shape")):
        assert main(["eval-temporal", str(tmp_path / "off.mp4"), "--source", str(wrong)]) == 2
        err = capsys.readouterr().err
        assert "cannot have been made from" in err and said in err, err


def test_a_thumbnail_sized_video_is_smoothed_and_scored_though_flow_refuses_frames_that_small(tmp_path, tiny_model, capsys):
    pytest.importorskip("av")
    from stylecast.realtime.temporal.flow import FlowEstimator

    rng = np.random.default_rng(1)
    for h, w in ((8, 8), (400, 2), (2, 400)):  # one side under DIS's 12 is refused too, however long the other
        a = rng.integers(0, 255, (h, w), dtype=np.uint8)
        flow = FlowEstimator(0.5).calc_small(a, np.roll(a, 1, axis=0))
        assert flow.shape == (h, w, 2) and np.isfinite(flow).all()
    src = make_clip(tmp_path / "thumb.mkv", frames=6, size=(8, 8), audio=None)
    assert main(["video", str(src), "-s", str(tiny_model), "-o", str(tmp_path / "t.mp4"), "--smooth", "flow",
                 "--backend", "cpu", "--quiet"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["eval-temporal", str(tmp_path / "t.mp4"), "--source", str(src)]) == 0
    assert json.loads(capsys.readouterr().out)["pairs"] == 5


def test_full_resolution_flow_follows_walking_people_that_half_resolution_misses():
    """On real footage the unstylized clip should score near zero: at half resolution DIS loses the
    small walking people of vtest.avi, and that miss would count as flicker."""
    from stylecast.realtime.media.sources import VideoFileSource
    from tests.conftest import OPENCV_DATA

    path = OPENCV_DATA / "vtest.avi"
    if not path.exists():
        pytest.skip("apt-get install opencv-doc")
    with VideoFileSource(path) as src:
        frames = [cv2.resize(f.image, (384, 288), interpolation=cv2.INTER_AREA) for f, _ in zip(src, range(12))]
    full, half = warping_error(frames, frames), warping_error(frames, frames, flow_scale=0.5)
    assert full.warping_error < 0.7 * half.warping_error


def test_eval_temporal_rejects_a_bad_flow_scale(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["eval-temporal", str(tmp_path / "a.mp4"), "--source", str(tmp_path / "b.mp4"), "--flow-scale", "2"])
    assert "between 0.1 and 1" in capsys.readouterr().err


def test_static_texture_sees_strokes_washed_out_of_a_still_scene():
    """A still camera: the same frame twice and again. Painted with crisp strokes, and the same painting
    blurred (what a smoother that averages warped frames does to a wall): the second keeps less texture,
    while the warping error cannot tell them apart (neither flickers)."""
    still = [_texture(96, 128, seed=3)] * 6
    strokes = cv2.applyColorMap(cv2.cvtColor(_texture(96, 128, seed=4), cv2.COLOR_BGR2GRAY), cv2.COLORMAP_JET)
    crisp = [strokes] * 6
    washed = [cv2.GaussianBlur(strokes, (0, 0), 1.5)] * 6
    a, b = warping_error(still, crisp, 1.0), warping_error(still, washed, 1.0)
    assert a.warping_error < 1e-4 and b.warping_error < 1e-4
    assert b.static_texture < 0.6 * a.static_texture


def test_flow_smoothing_keeps_the_texture_of_a_still_background():
    """vtest.avi: a still hall, people walking. A crisp fixed 'style' (edges, colour-mapped) smoothed by
    flow: holding sub-pixel flow still keeps clearly more of the still background's texture than
    resampling by the flow's noise did (0.83 against 0.73 of the unsmoothed texture here)."""
    from tests.conftest import OPENCV_DATA

    clip = OPENCV_DATA / "vtest.avi"
    if not clip.is_file():
        pytest.skip("apt-get install opencv-doc")
    import itertools

    from stylecast.realtime.media.sources import VideoFileSource

    with VideoFileSource(clip) as src:
        originals = [cv2.resize(f.image, (384, 288), interpolation=cv2.INTER_AREA) for f in itertools.islice(src, 40)]
    painted = [cv2.applyColorMap(cv2.Laplacian(cv2.cvtColor(o, cv2.COLOR_BGR2GRAY), cv2.CV_8U, ksize=3) * 4,
                                 cv2.COLORMAP_JET) for o in originals]
    base = warping_error(originals, painted, 1.0).static_texture

    def kept(still_px: float) -> float:
        smoother = FlowSmoother(still_px=still_px)
        return warping_error(originals, [smoother(o, p) for o, p in zip(originals, painted)], 1.0).static_texture / base

    held, resampled = kept(0.25), kept(0.0)
    assert held > resampled + 0.05 and held > 0.78
