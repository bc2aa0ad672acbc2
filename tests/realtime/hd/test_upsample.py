"""Guided upsampling: exact where the painting is a linear function of the frame, sharp at the
frame's edges where a plain resize blurs them, and the network's own strokes kept as painted."""
import cv2
import numpy as np
import pytest

from stylecast.realtime.hd.upsample import GuidedUpsampler, resize_painting


def _small(frame: np.ndarray, factor: int) -> np.ndarray:
    h, w = frame.shape[:2]
    return cv2.resize(frame, (w // factor, h // factor), interpolation=cv2.INTER_AREA)


def test_constant_painting_stays_constant(photo_bgr):
    frame = cv2.resize(photo_bgr, (1024, 960), interpolation=cv2.INTER_CUBIC)
    small = _small(frame, 4)
    painting = np.full_like(small, (40, 120, 200))
    out = GuidedUpsampler(crisp=False)(painting, small, frame)
    assert out.shape == frame.shape
    assert np.array_equal(out, np.full_like(frame, (40, 120, 200)))


def test_linear_ramp_is_exact():
    ramp = np.tile(np.linspace(0, 255, 1280, dtype=np.float32), (720, 1))
    frame = cv2.cvtColor(np.round(ramp).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    small = _small(frame, 2)
    painting = cv2.convertScaleAbs(small, alpha=0.5, beta=30)
    out = GuidedUpsampler(crisp=False)(painting, small, frame).astype(int)
    want = cv2.convertScaleAbs(frame, alpha=0.5, beta=30).astype(int)
    assert np.abs(out - want)[:, 2:-2].max() <= 1  # the outermost columns: the resize's edge rule


def test_painting_linear_in_the_real_frame_comes_back_at_full_resolution(photo_bgr):
    """A 'style' that maps luma linearly, per channel: the full-size result is that map of the full-size
    frame (fine detail included), which a plain resize cannot give."""
    frame = cv2.resize(photo_bgr, (1024, 960), interpolation=cv2.INTER_CUBIC)
    luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
    gains, offsets = np.array([0.3, 0.6, 0.9], np.float32), np.array([20, 10, 5], np.float32)

    def paint(image: np.ndarray) -> np.ndarray:
        y = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)[..., None]
        return np.clip(y * gains + offsets + 0.5, 0, 255).astype(np.uint8)

    small = _small(frame, 4)
    want = paint(frame).astype(int)
    guided = np.abs(GuidedUpsampler(crisp=False)(paint(small), small, frame).astype(int) - want).mean()
    plain = np.abs(resize_painting(paint(small), frame).astype(int) - want).mean()
    assert luma.std() > 20  # a real, detailed frame
    assert guided < 0.6 * plain, (guided, plain)


def _transition_width(row: np.ndarray) -> int:
    """Pixels between 10% and 90% of a rising step."""
    lo, hi = row.min(), row.max()
    norm = (row - lo) / max(hi - lo, 1e-6)
    return int(np.argmax(norm >= 0.9) - np.argmax(norm > 0.1))


def test_step_edge_stays_sharp_where_a_resize_blurs_it():
    frame = np.zeros((480, 1280, 3), np.uint8)
    frame[:, 642:] = 200  # a step that falls between working-size pixels
    small = _small(frame, 4)
    painting = cv2.convertScaleAbs(small, alpha=0.8, beta=25)  # darker and lifted, edge where the frame's is
    row = lambda img: cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[240, 600:700].astype(np.float32)  # noqa: E731
    guided, plain = row(GuidedUpsampler(crisp=False)(painting, small, frame)), row(resize_painting(painting, frame))
    assert _transition_width(guided) <= 1
    assert _transition_width(plain) >= 3
    assert abs(float(guided[0]) - 25) <= 1 and abs(float(guided[-1]) - (200 * 0.8 + 25)) <= 1


def test_the_networks_own_strokes_are_kept_on_a_flat_frame():
    """Where the frame is flat the painting's texture is the network's: upsampled as painted, not smoothed."""
    frame = np.full((360, 640, 3), 128, np.uint8)
    small = _small(frame, 2)
    strokes = np.random.default_rng(0).integers(0, 255, small.shape, dtype=np.uint8)
    out = GuidedUpsampler(crisp=False)(strokes, small, frame)
    assert np.abs(out.astype(int) - resize_painting(strokes, frame)).max() <= 1


def test_same_size_is_returned_as_is_and_mismatched_inputs_refused(photo_bgr):
    up = GuidedUpsampler(crisp=False)
    assert up(photo_bgr, photo_bgr, photo_bgr) is photo_bgr
    with pytest.raises(ValueError, match="unexpected painting"):
        up(photo_bgr[:10], photo_bgr, photo_bgr)


def test_buffers_are_reused_but_results_are_fresh(photo_bgr):
    frame = cv2.resize(photo_bgr, (1024, 960))
    small = _small(frame, 2)
    up = GuidedUpsampler()
    first = up(small, small, frame)
    keep = first.copy()
    second = up(255 - small, small, frame)
    assert np.array_equal(first, keep), "an earlier result must not change under a later call"
    assert not np.array_equal(first, second)


def test_crisp_strokes_sharpen_more_the_more_they_are_enlarged(photo_bgr):
    from stylecast.realtime.hd.upsample import crisp_amount

    assert crisp_amount(640, 640) == 0 and crisp_amount(640, 1280) == 0.5 and crisp_amount(256, 1920) == 1.0
    frame = cv2.resize(photo_bgr, (1024, 960), interpolation=cv2.INTER_CUBIC)
    small = _small(frame, 4)
    strokes = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, small.shape, dtype=np.uint8), (0, 0), 1.5)
    soft = GuidedUpsampler(crisp=False)(strokes, small, frame)
    crisp = GuidedUpsampler()(strokes, small, frame)
    edges = lambda img: np.abs(np.diff(img.astype(np.float32), axis=1)).mean()  # noqa: E731
    assert edges(crisp) > 1.3 * edges(soft)
    assert abs(float(crisp.mean()) - float(soft.mean())) < 2, "sharper, not brighter or darker"


def test_detail_at_the_output_size_sharpens_only_what_was_enlarged(photo_bgr):
    from stylecast.realtime.hd.upsample import detail_amount

    assert detail_amount(640, 640) == 0 and detail_amount(640, 960) == 0.5 and detail_amount(640, 1920) == 1.0
    frame = cv2.resize(photo_bgr, (1024, 960), interpolation=cv2.INTER_CUBIC)
    small = _small(frame, 2)
    strokes = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, small.shape, dtype=np.uint8), (0, 0), 1.5)
    plain = GuidedUpsampler()(strokes, small, frame)
    detailed = GuidedUpsampler(detail=True)(strokes, small, frame)
    fine = lambda img: np.abs(cv2.Laplacian(img.astype(np.float32), cv2.CV_32F)).mean()  # noqa: E731
    assert fine(detailed) > 1.3 * fine(plain)
    assert abs(float(detailed.mean()) - float(plain.mean())) < 2, "sharper, not brighter or darker"
    flat = np.full_like(small, (40, 120, 200))
    assert np.array_equal(GuidedUpsampler(crisp=False, detail=True)(flat, small, frame), np.full_like(frame, (40, 120, 200)))
    assert GuidedUpsampler(detail=True)(strokes, small, small) is strokes, "not enlarged: as painted"


def test_image_paints_with_detail_at_the_output_size(photo_bgr):
    from stylecast.realtime.hd.painter import FullSizePainter, WorkingSizePainter

    frame = cv2.resize(photo_bgr, (1280, 1200), interpolation=cv2.INTER_CUBIC)
    blocky = lambda small: cv2.resize(cv2.resize(small, None, fx=0.25, fy=0.25), small.shape[1::-1])  # noqa: E731
    painter = WorkingSizePainter(blocky, 640)
    fine = lambda img: np.abs(cv2.Laplacian(img.astype(np.float32), cv2.CV_32F)).mean()  # noqa: E731
    assert fine(FullSizePainter(painter)(frame)) > 1.2 * fine(FullSizePainter(painter, detail=False)(frame))
