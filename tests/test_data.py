"""Tests of cnnlib.data.shapes: the images, their labels and masks, checked against an
independent rasterisation of each object's outline (matplotlib's point-in-polygon test)."""

import numpy as np
import pytest
from matplotlib.path import Path
from scipy import ndimage

from cnnlib.data import SHAPE_CLASSES, shape_outline, shape_params, shapes
from cnnlib.explain import baseline_map, pointing_game


def test_shapes_dtypes_and_shapes():
    s = shapes(10, size=40)
    assert s.images.shape == (10, 1, 40, 40) and s.images.dtype == np.float32
    assert s.labels.shape == (10,) and s.labels.dtype == np.int64
    assert s.masks.shape == (10, 40, 40) and s.masks.dtype == bool
    assert 0 <= s.images.min() and s.images.max() <= 1
    images, labels, masks = s  # a NamedTuple unpacks
    assert images is s.images and set(SHAPE_CLASSES) >= {"disc", "square", "triangle", "cross"}


def test_same_seed_same_images_other_seed_other_images():
    a, b, c = shapes(50, seed=3), shapes(50, seed=3), shapes(50, seed=4)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.images, c.images)


@pytest.mark.parametrize("n", [1, 7, 400, 1001])
def test_classes_are_balanced(n):
    counts = np.bincount(shapes(n, seed=1).labels, minlength=len(SHAPE_CLASSES))
    assert counts.sum() == n and counts.max() - counts.min() <= 1


def _boundary_distance(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Distance of each point to the nearest edge of a closed polygon."""
    a, b = polygon[:-1], polygon[1:]
    d = b - a
    t = np.clip(((points[:, None] - a) * d).sum(-1) / (d * d).sum(-1), 0, 1)
    nearest = a + t[..., None] * d
    return np.linalg.norm(points[:, None] - nearest, axis=-1).min(1)


@pytest.mark.parametrize("style", ["natural", "plain"])
def test_masks_match_an_independent_rasterisation_of_the_outline(style):
    """A pixel is in the mask iff its centre lies inside the outline polygon (matplotlib), for
    every pixel not within a hair of the boundary (the disc's outline is a 64-gon)."""
    n, size = 200, 32
    s = shapes(n, size=size, seed=7, style=style)
    p = shape_params(n, size=size, seed=7, style=style)
    np.testing.assert_array_equal(s.labels, p.labels)
    yy, xx = np.mgrid[0:size, 0:size]
    centres = np.stack([xx.ravel(), yy.ravel()], 1).astype(float)
    for i in range(n):
        outline = shape_outline(p.labels[i], p.cx[i], p.cy[i], p.r[i], p.angle[i])
        inside = Path(outline).contains_points(centres)
        margin = 0.02 * p.r[i] if SHAPE_CLASSES[p.labels[i]] == "disc" else 1e-6
        clear = _boundary_distance(centres, outline) > margin
        np.testing.assert_array_equal(s.masks[i].ravel()[clear], inside[clear])
        assert s.masks[i].sum() >= (20 if style == "plain" else 12)  # never a speck


def test_mask_is_exactly_where_the_object_was_drawn():
    """Without noise or distractors, the image differs from the background exactly on the
    mask, and every mask pixel has the object's level."""
    s = shapes(300, seed=2, noise=0.0, distractors=0, style="plain")
    p = shape_params(300, seed=2, style="plain")
    background, level = p.level[:, 0, None, None], p.level[:, 1, None, None]
    img = s.images[:, 0]
    np.testing.assert_array_equal(img != background.astype(np.float32), s.masks)
    np.testing.assert_array_equal(
        img[s.masks], np.broadcast_to(level, img.shape)[s.masks].astype(np.float32)
    )
    assert np.all(level - background >= 0.35)


def test_distractors_are_outside_the_mask_small_and_apart_from_the_object():
    clean = shapes(300, seed=9, noise=0.0, distractors=0, style="plain")
    s = shapes(300, seed=9, noise=0.0, distractors=2, style="plain")
    p = shape_params(300, seed=9, style="plain")
    np.testing.assert_array_equal(s.masks, clean.masks)  # the same objects
    img = s.images[:, 0]
    extra = (img != p.level[:, 0, None, None].astype(np.float32)) & ~s.masks
    # every image has one or two distractors (a rare one finds no room clear of the object)
    eight = np.ones((3, 3), bool)  # a thin diagonal segment is 8-connected
    parts = [ndimage.label(e, eight)[1] for e in extra]
    assert np.mean([1 <= k <= 2 for k in parts]) > 0.95 and max(parts) <= 2
    # a distractor (or two that touch) covers at most 18 pixels, an object more than twice that
    largest = max(np.bincount(ndimage.label(e, eight)[0].ravel())[1:].max(initial=0) for e in extra)
    assert largest <= 18 and s.masks.sum((1, 2)).min() > 2 * 18
    grown = ndimage.binary_dilation(s.masks, structure=np.ones((1, 3, 3), bool))
    assert not (extra & grown).any()  # no distractor touches its object


def test_natural_objects_are_lighter_or_darker_than_their_surroundings_at_random():
    """The object's mean differs from the ring of background around it by at least the
    texture's typical spread, lighter on about half the images and darker on the rest."""
    s = shapes(1000, seed=3, noise=0.0, distractors=0)
    img = s.images[:, 0]
    ring = ndimage.binary_dilation(s.masks, np.ones((1, 5, 5), bool)) & ~s.masks
    inside = (img * s.masks).sum((1, 2)) / s.masks.sum((1, 2))
    around = (img * ring).sum((1, 2)) / ring.sum((1, 2))
    lighter = inside > around
    assert 0.45 < lighter.mean() < 0.55
    assert np.median(np.abs(inside - around)) > 0.1
    # not a flat background: the texture varies as much as the object stands out
    outside = np.where(s.masks, np.nan, img)
    assert np.median(np.nanstd(outside, axis=(1, 2))) > 0.08


def test_distractors_of_the_natural_style_are_apart_from_the_object():
    clean = shapes(300, seed=9, noise=0.0, distractors=0)
    s = shapes(300, seed=9, noise=0.0, distractors=2)
    np.testing.assert_array_equal(s.masks, clean.masks)  # the same objects
    changed = s.images[:, 0] != clean.images[:, 0]
    # a distractor changes the background (away from the object) and never the object
    grown = ndimage.binary_dilation(s.masks, structure=np.ones((1, 3, 3), bool))
    assert not (changed & grown).any()
    assert np.mean(changed.any((1, 2))) > 0.95


BASELINE_KINDS = ("blurred_image", "local_contrast", "edges", "centre")


def test_model_free_maps_cannot_find_the_natural_objects_but_the_blur_finds_the_plain_ones():
    """The pointing game (Zhang et al. 2016) of four maps that know no model, on 1,000 test
    images: on the default (natural) data each hits the object on at most 40 % of them (the
    mask covers about 9 % of the image); on the plain data a blurred copy of the image finds
    the object almost always (the object is always the brightest thing), the confound the
    natural style removes."""
    natural, plain = shapes(1000, seed=1), shapes(1000, seed=1, style="plain")
    rates = {
        k: pointing_game(baseline_map(natural.images, k), natural.masks).mean()
        for k in BASELINE_KINDS
    }
    assert max(rates.values()) <= 0.40, rates
    assert pointing_game(baseline_map(plain.images, "blurred_image"), plain.masks).mean() > 0.95
    assert pointing_game(baseline_map(plain.images, "centre"), plain.masks).mean() > 0.5


def test_noise_is_gaussian_with_the_given_spread():
    clean = shapes(200, seed=4, noise=0.0)
    noisy = shapes(200, seed=4, noise=0.05)
    diff = (noisy.images - clean.images)[(clean.images > 0.2) & (clean.images < 0.8)]
    assert abs(diff.mean()) < 2e-3 and abs(diff.std() - 0.05) < 2e-3


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"n": 0}, ValueError, "n must be a positive integer"),
        ({"n": 2.5}, TypeError, "n must be an integer"),
        ({"n": 4, "size": 8}, ValueError, "size must be an integer >= 16"),
        ({"n": 4, "seed": -1}, ValueError, "seed must be a non-negative integer"),
        ({"n": 4, "noise": 2}, ValueError, "noise must be a number between 0 and 1"),
        ({"n": 4, "noise": "high"}, ValueError, "noise must be a number"),
        ({"n": 4, "distractors": 5}, ValueError, "distractors must be between 0 and 4"),
        ({"n": 4, "style": "flat"}, ValueError, "style must be one of 'natural', 'plain'"),
        ({"n": 4, "distractors": True}, TypeError, "distractors must be an integer"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name):
    with pytest.raises(error, match=name):
        shapes(**kwargs)


def test_shape_outline_refuses_an_unknown_label():
    with pytest.raises(ValueError, match="label must be below 4"):
        shape_outline(4, 10, 10, 5, 0)


def test_shortcut_marker_predicts_the_class_in_training_and_not_in_testing():
    from cnnlib.data import MARKER_SIDE, shortcut_shapes

    plain = shapes(2000, seed=4)
    s, marker = shortcut_shapes(2000, seed=4, marked_class=2, rate=0.9)
    present = marker.any((1, 2))
    assert abs(present[s.labels == 2].mean() - 0.9) < 0.04 and not present[s.labels != 2].any()
    np.testing.assert_array_equal(s.masks, plain.masks)  # the objects are untouched
    assert not (marker & s.masks).any()
    # the marker is the corner square, white on a dark corner, black on a light one
    k = MARKER_SIDE
    assert marker[present][:, :k, :k].all() and marker.sum() == present.sum() * k * k
    corner = plain.images[present, 0, :k, :k].mean((1, 2))
    values = s.images[present, 0, 0, 0]
    np.testing.assert_array_equal(values, np.where(corner < 0.5, 1.0, 0.0))
    np.testing.assert_array_equal(s.images[~present], plain.images[~present])
    t, test_marker = shortcut_shapes(2000, seed=5, independent=True)
    rate = [test_marker.any((1, 2))[t.labels == c].mean() for c in range(len(SHAPE_CLASSES))]
    assert all(abs(r - 0.5) < 0.06 for r in rate)


def test_shortcut_shapes_refuses_bad_arguments():
    from cnnlib.data import shortcut_shapes

    with pytest.raises(ValueError, match="marked_class must be below 4"):
        shortcut_shapes(4, marked_class=4)
    with pytest.raises(ValueError, match="rate must be a number between 0 and 1"):
        shortcut_shapes(4, rate=1.5)
    with pytest.raises(TypeError, match="independent must be True or False"):
        shortcut_shapes(4, independent=1)
