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
