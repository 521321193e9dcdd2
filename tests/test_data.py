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


@pytest.mark.parametrize(("style", "n"), [("natural", 200), ("plain", 200), ("natural", 5)])
def test_masks_match_an_independent_rasterisation_of_the_outline(style, n):
    """A pixel is in the mask iff its centre lies inside the outline polygon (matplotlib), for
    every pixel not within a hair of the boundary (the disc's outline is a 64-gon); with
    n = 5, three classes have a single image."""
    size = 32
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


# -- tests found by mutation testing (tools/mutation.py data) --------------------------------
def _photo_file():
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        img = Image.open(f)
        img.load()
    return img


def test_grace_hopper_against_pil():
    """PIL's own luma (L = 0.299 R + 0.587 G + 0.114 B, rounded to a byte) and its Lanczos
    resize of the shorter side (512 -> 40: 600 -> round(46.875) = 47)."""
    from PIL import Image

    from cnnlib.data import grace_hopper

    img = _photo_file()
    gray = grace_hopper()
    assert gray.shape == (600, 512) and gray.dtype == np.float64
    np.testing.assert_allclose(gray, np.asarray(img.convert("L")) / 255.0, atol=0.6 / 255)
    rgb = grace_hopper(gray=False)
    np.testing.assert_array_equal(rgb, np.asarray(img) / 255.0)
    small = grace_hopper(gray=False, size=40)
    assert small.shape == (47, 40, 3)
    np.testing.assert_array_equal(small, np.asarray(img.resize((40, 47), Image.LANCZOS)) / 255.0)
    assert grace_hopper(size=1).shape == (1, 1)
    with pytest.raises(ValueError, match=r"^size must be a positive integer"):
        grace_hopper(size=0)
    with pytest.raises(TypeError, match=r"^gray must be True or False"):
        grace_hopper(gray=1)


def test_memory_rules_of_the_data_functions_exactly(monkeypatch):
    """Each function refuses a job one byte over the budget and accepts it at the budget:
    grace_hopper 144 bytes per output pixel squared, checkerboard 24, shape_params 96 per
    object (the rules their comments give)."""
    import cnnlib._validate as validate
    from cnnlib.data import checkerboard, grace_hopper

    for call, nbytes, what in [
        (lambda: grace_hopper(size=4), 144 * 4 * 4, "the resized photo"),
        (lambda: checkerboard(5), 24 * 5 * 5, "the checkerboard"),
        (lambda: shape_params(7), 96 * 7, "the shape parameters"),
    ]:
        monkeypatch.setattr(validate, "_memory_budget", nbytes)
        call()
        monkeypatch.setattr(validate, "_memory_budget", nbytes - 1)
        with pytest.raises(ValueError, match=f"makes {what} need .* memory budget"):
            call()


def test_checkerboard_by_hand():
    from cnnlib.data import checkerboard

    board = checkerboard(5, square=2)
    want = [[0, 0, 1, 1, 0], [0, 0, 1, 1, 0], [1, 1, 0, 0, 1], [1, 1, 0, 0, 1], [0, 0, 1, 1, 0]]
    assert board.dtype == np.float64 and board.tolist() == want
    assert checkerboard().tolist() == [[(r + c) % 2 for c in range(8)] for r in range(8)]
    with pytest.raises(ValueError, match=r"^square must be a positive integer"):
        checkerboard(4, square=0)


def test_the_defaults_are_the_documented_ones():
    from cnnlib.data import shortcut_shapes

    a, b = shape_params(8), shape_params(8, 32, 0, "natural")
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    a, b = shapes(4), shapes(4, 32, 0, 0.05, 2, "natural")
    np.testing.assert_array_equal(a.images, b.images)
    (a, ma), (b, mb) = shortcut_shapes(8), shortcut_shapes(8, 0, 0, 0.9, False, 32)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(ma, mb)


def test_shortcut_shapes_edges_of_its_arguments():
    """n = 1 and rate = 1 are allowed (rate 1: every image of the class is marked); n = 0
    and a negative class are refused by name."""
    from cnnlib.data import shortcut_shapes

    s, marker = shortcut_shapes(40, marked_class=1, rate=1)
    assert (marker.any((1, 2)) == (s.labels == 1)).all()
    assert shortcut_shapes(1)[0].images.shape == (1, 1, 32, 32)
    with pytest.raises(ValueError, match=r"^n must be a positive integer"):
        shortcut_shapes(0)
    with pytest.raises(ValueError, match=r"^marked_class must be a non-negative integer"):
        shortcut_shapes(4, marked_class=-1)


def test_shape_params_ranges_by_the_docstring():
    """Angles fill [0, 2 pi); each object has its own levels: plain, 0.35..0.7 above its
    background in [0, 0.3]; natural, 0.2..0.4 above or below (both signs) a mean in
    [0.3, 0.7]. Up to four distractors are allowed."""
    p = shape_params(400, seed=1, style="plain")
    assert 0 <= p.angle.min() < 0.1 and 2 * np.pi - 0.1 < p.angle.max() < 2 * np.pi
    up = p.level[:, 1] - p.level[:, 0]
    assert 0 <= p.level[:, 0].min() and p.level[:, 0].max() <= 0.3
    assert 0.35 <= up.min() < 0.4 and 0.65 < up.max() <= 0.7 and len(set(up)) == 400
    q = shape_params(400, seed=1)
    d = q.level[:, 1] - q.level[:, 0]
    assert 0.2 <= np.abs(d).min() < 0.25 and 0.35 < np.abs(d).max() <= 0.4
    assert 0.35 < (d > 0).mean() < 0.65
    assert shapes(3, distractors=4).images.shape == (3, 1, 32, 32)


def test_shape_outlines_are_closed_and_have_their_corners():
    """By hand in the shape's own frame (r = 1, angle 0, centre 0, y down): the disc a
    64-gon on the unit circle, the triangle's 3 vertices on it (down, up-left, up-right on
    screen: y = +1, -1/2, -1/2), the square's corners at 0.7, the cross's 12 corners."""
    disc = shape_outline(0, 0.0, 0.0, 1.0, 0.0)
    assert disc.shape == (65, 2) and np.allclose(np.hypot(*disc.T), 1)
    tri = shape_outline(2, 0.0, 0.0, 1.0, 0.0)
    assert tri.shape == (4, 2) and np.allclose(tri[0], tri[-1])
    assert np.allclose(sorted(tri[:3, 1]), [-0.5, -0.5, 1.0])
    square = shape_outline(1, 0.0, 0.0, 1.0, 0.0)
    assert {tuple(v) for v in np.round(square, 9)} == {
        (-0.7, -0.7),
        (0.7, -0.7),
        (0.7, 0.7),
        (-0.7, 0.7),
    }
    cross = shape_outline(3, 0.0, 0.0, 1.0, 0.0)
    a, w = 0.95, 0.3
    corners = {(a, w), (w, a)}
    corners = {(sx * x, sy * y) for x, y in corners for sx in (1, -1) for sy in (1, -1)}
    corners |= {(sx * w, sy * w) for sx in (1, -1) for sy in (1, -1)}
    assert cross.shape == (13, 2) and np.allclose(cross[0], cross[-1])
    assert {tuple(v) for v in np.round(cross, 9) + 0.0} == corners
    # a point on the square's edge is inside (max(|u|, |v|) <= 0.7)
    from cnnlib.data import _inside

    assert _inside(1, np.array(0.7), np.array(0.0)) and not _inside(1, np.array(0.71), 0.0)


def test_textures_have_zero_mean_and_unit_spread_each_and_any_size():
    from cnnlib.data import _textures

    t = _textures(8, 17, np.random.default_rng(0))  # an odd size: the FFT's length is given
    assert t.shape == (8, 17, 17) and t.dtype == np.float32
    np.testing.assert_allclose(t.mean((1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(t.std((1, 2)), 1, atol=1e-4)


@pytest.mark.parametrize("style", ["plain", "natural"])
def test_distractors_levels_and_forms(style):
    """Without noise, the pixels that distractors change are theirs. Each image has 1..4
    pieces: dots (radius 1..1.6, at most 3 wide) and at most one segment (4..8 long, 1 wide);
    each piece (but a few that touch) is one flat level, plain 0.35..0.7 above the
    background, natural 0.2..0.4 above or below the background at its centre (both signs
    occur)."""
    n = 300
    bare = shapes(n, seed=2, noise=0.0, distractors=0, style=style)
    drawn = shapes(n, seed=2, noise=0.0, distractors=4, style=style)
    changed = (bare.images != drawn.images)[:, 0]
    steps, segments, longest, merged, counts = [], 0, 0, 0, []
    for i in range(n):
        pieces, count = ndimage.label(changed[i], structure=np.ones((3, 3)))
        assert count <= 4  # (none where no candidate centre was clear of the object)
        counts.append(count)
        long_here = 0
        for j, box in enumerate(ndimage.find_objects(pieces), 1):
            levels = np.unique(drawn.images[i, 0][pieces == j])
            if len(levels) > 1:  # two pieces that touch
                merged += 1
                continue
            extent = max(b.stop - b.start for b in box)
            longest = max(longest, extent)
            long_here += extent >= 4
            cy, cx = (round((b.start + b.stop - 1) / 2) for b in box)
            steps.append(levels[0] - bare.images[i, 0, cy, cx])
        assert long_here <= 2  # one segment, or two dots that touch
        segments += long_here
    steps = np.array(steps)
    assert merged < 0.1 * len(steps) and 2 < np.mean(counts) < 3  # 1..4 uniformly: 2.5
    assert 5 <= longest <= 9 and 0.3 < segments / n < 0.7
    if style == "plain":
        assert 0.35 - 1e-6 <= steps.min() and steps.max() <= 0.7 + 1e-6
    else:
        mag = np.abs(steps)
        assert np.quantile(mag, 0.05) > 0.15 and np.quantile(mag, 0.95) < 0.45
        assert 0.3 < (steps > 0).mean() < 0.7


def test_default_image_refuses_a_size_below_one_by_name():
    from cnnlib.data import default_image

    with pytest.raises(ValueError, match=r"^size must be a positive integer"):
        default_image(0)


def test_digits_are_scikit_learns_scaled_to_0_1():
    from sklearn.datasets import load_digits

    from cnnlib.data import digits

    images, labels = digits()
    reference = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float32
    assert labels.dtype == np.int64
    assert np.array_equal(images, (reference.images / 16.0).astype(np.float32))
    assert np.array_equal(labels, reference.target)
    assert images.min() == 0.0 and images.max() == 1.0
