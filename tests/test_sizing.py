import numpy as np
import pytest

from stylecast.sizing import fit_image, fit_size


def test_longest_side_shrinks_only_unless_asked():
    assert fit_size(1920, 1080, longest=640) == (640, 360)
    assert fit_size(320, 240, longest=640) == (320, 240)
    assert fit_size(320, 240, longest=640, grow=True) == (640, 480)
    assert fit_size(640, 480, longest=None) == (640, 480)  # no limit given


def test_shortest_side_and_even_rounding_for_video():
    assert fit_size(1000, 500, shortest=384) == (768, 384)
    assert fit_size(720, 405, longest=500, even=True) == (500, 282)  # 281.25 -> even
    assert fit_size(4000, 10, longest=100, even=True, minimum=2) == (100, 2)
    with pytest.raises(ValueError):
        fit_size(10, 10, longest=5, shortest=5)


def test_fit_image_resizes_and_keeps_small_images_untouched():
    image = np.zeros((480, 640, 3), np.uint8)
    assert fit_image(image, longest=320).shape == (240, 320, 3)
    assert fit_image(image, longest=800) is image
    assert fit_image(image, longest=800, grow=True).shape == (600, 800, 3)
