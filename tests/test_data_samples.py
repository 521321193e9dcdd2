"""The views' sample pictures in cnnlib.data, checked by hand (pixel counts, crop offsets)."""

import numpy as np
import pytest

from cnnlib.data import default_feature_map, default_image, grace_hopper, house, photo


def test_house_by_hand():
    img = house()
    assert img.shape == (12, 12)
    # sky 0, roof 5, walls 9, door and window 2
    assert set(np.unique(img).tolist()) == {0.0, 2.0, 5.0, 9.0}
    assert img[0].tolist() == [0.0] * 12
    assert np.flatnonzero(img[1] == 5).tolist() == [4, 5, 6, 7]  # the roof's top row
    assert np.flatnonzero(img[4] == 5).tolist() == list(range(1, 11))  # its widest row
    # door 4 x 2 = 8 pixels, window 2 x 3 = 6 pixels
    assert (img == 2).sum() == 14
    # walls 6 x 8 = 48 pixels, less the door and the window
    assert (img == 9).sum() == 48 - 14


def test_default_feature_map_is_0_to_63_without_ties():
    fmap = default_feature_map()
    assert fmap.shape == (8, 8) and fmap.dtype == np.float64
    assert sorted(fmap.ravel().tolist()) == list(range(64))
    np.testing.assert_array_equal(fmap, default_feature_map())  # fixed order


def test_default_image_is_a_crop_of_the_photo():
    img = default_image()
    assert img.shape == (32, 32) and 0 <= img.min() and img.max() <= 1
    # the photo resized to 64 x 75; by hand: top 75 // 6 = 12, left (64 - 64) // 2 + 16 = 16
    np.testing.assert_array_equal(img, grace_hopper(size=64)[12:44, 16:48])


def test_photo_is_the_centre_crop_in_the_model_input_size():
    rgb = photo((1, 3, 32, 32))
    assert rgb.shape == (32, 32, 3)
    # the photo resized to 32 x 38 (600 / 512 * 32 = 37.5): the crop starts at row 3
    full = grace_hopper(gray=False, size=32)
    assert full.shape[:2] == (38, 32)
    np.testing.assert_array_equal(rgb, full[3:35])
    gray = photo((1, 1, 32, 32))
    assert gray.shape == (32, 32, 1)
    np.testing.assert_array_equal(gray[..., 0], grace_hopper(size=32)[3:35])


@pytest.mark.parametrize(
    "size, error, words",
    [
        ((1, 2, 8, 8), ValueError, "channels"),
        ((1, 3, 8, 9), ValueError, "wider than the photo"),
        ((1, 3, 8), ValueError, r"size must be a tuple \(N, C, H, W\)"),
        ((1, 3, 0, 8), ValueError, r"size\[2\] must be a positive integer"),
        ((1, 3, 8.0, 8), TypeError, r"size\[2\] must be an integer"),
    ],
)
def test_photo_bad_size_names_the_rule(size, error, words):
    with pytest.raises(error, match=words):
        photo(size)
