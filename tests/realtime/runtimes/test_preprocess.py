import numpy as np
import pytest

from stylecast.contract import ModelContract
from stylecast.realtime.runtimes.preprocess import padded_size, postprocess, preprocess


def test_round_trip_keeps_pixels_and_size_at_odd_sizes(photo_bgr):
    frame = np.ascontiguousarray(photo_bgr[:479, :341])
    x = preprocess(frame)
    assert x.shape == (1, 3, 480, 344) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, 0, :479, :341], frame[:, :, 2])  # channel 0 is red
    back = postprocess(x, 479, 341)
    np.testing.assert_array_equal(back, frame)


def test_padding_reflects_instead_of_black_border(photo_bgr):
    frame = np.ascontiguousarray(photo_bgr[:97, :101])
    x = preprocess(frame)
    assert x.shape[2:] == (100, 104)
    np.testing.assert_array_equal(x[0, :, 97, :101], x[0, :, 95, :101])  # reflect-101 mirrors row 95


def test_postprocess_clips_and_rounds():
    out = np.array([-20.0, 0.4, 0.6, 254.6, 300.0], np.float32).reshape(1, 1, 1, 5).repeat(3, axis=1)
    img = postprocess(out, 1, 5)
    assert img[0, :, 0].tolist() == [0, 0, 1, 255, 255]


def test_contract_size_multiple_is_used():
    contract = ModelContract(size_multiple=8)
    assert preprocess(np.zeros((10, 10, 3), np.uint8), contract).shape == (1, 3, 16, 16)
    assert padded_size(641, 479, 4) == (644, 480)


def test_bad_frames_are_rejected():
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        preprocess(np.zeros((10, 10), np.uint8))


def test_a_margin_reflects_every_side_and_crops_back(photo_bgr):
    frame = np.ascontiguousarray(photo_bgr[:97, :101])
    x = preprocess(frame, margin=8)
    assert x.shape[2:] == (116, 120)  # 97 + 16 and 101 + 16, up to multiples of 4
    np.testing.assert_array_equal(x[0, 0, 8:105, 8:109], frame[:, :, 2])
    np.testing.assert_array_equal(x[0, :, 7, 8:109], x[0, :, 9, 8:109])  # row -1 mirrors row 1
    np.testing.assert_array_equal(postprocess(x, 97, 101, margin=8), frame)


def _edge_gaps(image: np.ndarray) -> np.ndarray:
    """Mean grey of the outer 2 rows/columns minus the 8 next to them: top, bottom, left, right."""
    g = image.astype(np.float32).mean(axis=2)
    return np.array([g[:2].mean() - g[2:10].mean(), g[-2:].mean() - g[-10:-2].mean(),
                     g[:, :2].mean() - g[:, 2:10].mean(), g[:, -2:].mean() - g[:, -10:-2].mean()])


def test_starry_night_has_no_dark_line_along_the_edges():
    """The networks pad with zeros inside; painted from a reflected margin, the outer two rows and
    columns differ from the rows next to them as the photo's do (the top ones were 34 grey levels
    darker)."""
    import cv2

    from stylecast.realtime.runtimes.backends import open_backend
    from stylecast.realtime.runtimes.stylizer import Stylizer
    from stylecast.styles import resolve_style

    from tests.conftest import OPENCV_DATA

    names = ["fruits.jpg", "baboon.jpg", "building.jpg", "home.jpg", "butterfly.jpg"]
    if not all((OPENCV_DATA / n).is_file() for n in names):
        pytest.skip("apt-get install opencv-doc")
    stylize = Stylizer(open_backend(resolve_style("starry_night_lite_rt"), ("cpu",)).backend)
    frames = [cv2.resize(cv2.imread(str(OPENCV_DATA / n)), (640, 480)) for n in names]
    excess = np.mean([_edge_gaps(stylize(f)) - _edge_gaps(f) for f in frames], axis=0)
    assert np.abs(excess).max() < 6, excess
