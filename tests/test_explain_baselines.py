"""Tests of cnnlib.explain.baseline_map: the model-free maps, each against a hand-worked
example or a formula written out here (not scipy's filters that it calls)."""

import numpy as np
import pytest

from cnnlib.explain import BASELINES, baseline_map


def test_blurred_delta_is_the_sampled_gaussian():
    """A unit impulse far from the border blurs into exp(-r^2 / 2 sigma^2) / (2 pi sigma^2)
    (sampled; scipy truncates at 4 sigma, and the samples of a sigma-1.5 Gaussian sum to 1
    within 1e-6), sigma = 1.5."""
    x = np.zeros((1, 21, 21))
    x[0, 10, 10] = 1.0
    m = baseline_map(x, "blurred_image")
    yy, xx = np.mgrid[-10:11, -10:11]
    g = np.exp(-(yy**2 + xx**2) / (2 * 1.5**2))
    g[(np.abs(yy) > 6) | (np.abs(xx) > 6)] = 0  # truncated at 4 sigma = 6 pixels
    g /= g.sum()
    np.testing.assert_allclose(m, g, atol=1e-6)


def test_edges_of_a_vertical_step_are_four_times_its_height_beside_it():
    """The Sobel kernel [1 2 1]^T [-1 0 1] on a step of height h gives 4 h in the two columns
    next to the step and 0 elsewhere (border replicated)."""
    x = np.zeros((2, 1, 9, 10))
    x[:, :, :, 5:] = 0.5
    m = baseline_map(x, "edges")
    expected = np.zeros((9, 10))
    expected[:, 4:6] = 4 * 0.5
    np.testing.assert_allclose(m, np.broadcast_to(expected, (2, 9, 10)), atol=1e-6)


def test_local_contrast_is_zero_on_a_constant_image_and_peaks_on_a_dot():
    x = np.full((1, 15, 15), 0.3)
    assert np.abs(baseline_map(x, "local_contrast")).max() < 1e-6
    x[0, 4, 9] = 0.9  # a dot
    m = baseline_map(x, "local_contrast")
    assert np.unravel_index(m.argmax(), m.shape) == (4, 9)


def test_centre_prior_peaks_at_the_centre_and_channels_are_averaged():
    x = np.random.default_rng(0).random((3, 2, 7, 9))
    m = baseline_map(x, "centre")
    assert m.shape == (3, 7, 9) and np.unravel_index(m[0].argmax(), (7, 9)) == (3, 4)
    # d_max^2 - d^2: the corners (d^2 = 3^2 + 4^2) are 0, the centre d_max^2, nothing negative
    assert m[0, 3, 4] == 3**2 + 4**2 and m[0, 0, 0] == 0 and m[0, 6, 8] == 0 and m.min() == 0
    assert m[0, 3, 5] == 3**2 + 4**2 - 1 and m[0, 2, 4] == 3**2 + 4**2 - 1
    # a colour image counts as its channel mean: both channels equal -> the same map
    same = np.repeat(x[:, :1], 2, axis=1)
    np.testing.assert_allclose(
        baseline_map(same, "edges"), baseline_map(x[:, :1], "edges"), atol=1e-6
    )


def test_random_map_is_seeded():
    x = np.zeros((2, 1, 5, 5))
    a, b = baseline_map(x, "random", seed=3), baseline_map(x, "random", seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, baseline_map(x, "random", seed=4))


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"x": np.zeros((4, 4)), "kind": "edges"}, ValueError, "x must have 3 or 4 dimensions"),
        ({"x": np.zeros((1, 4, 4)), "kind": "blur"}, ValueError, "kind must be one of"),
        ({"x": np.zeros((0, 1, 4, 4)), "kind": "edges"}, ValueError, "at least one image"),
        ({"x": np.zeros((1, 4, 4)), "kind": "random", "seed": -1}, ValueError, "seed must be"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, words):
    with pytest.raises(error, match=words):
        baseline_map(**kwargs)


def test_every_kind_is_tested():
    assert set(BASELINES) == {"blurred_image", "local_contrast", "edges", "centre", "random"}


def test_mass_in_mask_by_hand():
    from cnnlib.explain import mass_in_mask

    maps = np.array([[[1.0, -3.0], [0.0, 4.0]], [[2.0, 2.0], [2.0, 2.0]]])
    masks = np.array([[[True, True], [False, False]], [[True, False], [False, False]]])
    np.testing.assert_allclose(mass_in_mask(maps, masks), [4 / 8, 1 / 4])
    assert np.isnan(mass_in_mask(np.zeros((2, 2)), masks[0]))
    with pytest.raises(TypeError, match="masks must be boolean"):
        mass_in_mask(maps, masks.astype(float))


def test_bootstrap_interval_covers_the_mean_and_shrinks_with_more_images():
    from scipy import stats

    from cnnlib.explain import bootstrap_interval

    rng = np.random.default_rng(0)
    hits = rng.random(1000) < 0.3
    mean, low, high = bootstrap_interval(hits)
    assert mean == hits.mean() and low < mean < high
    # the normal approximation of a proportion's interval: mean +- 1.96 sqrt(p (1 - p) / n)
    half = stats.norm.ppf(0.975) * np.sqrt(mean * (1 - mean) / len(hits))
    assert abs((high - low) / 2 - half) < 0.1 * half
    _, low4, high4 = bootstrap_interval(np.tile(hits, 4))
    assert (high4 - low4) < 0.6 * (high - low)
    assert bootstrap_interval(np.array([np.nan, 1.0, 1.0]))[0] == 1.0
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        bootstrap_interval(hits, confidence=95)


def test_score_maps_by_hand():
    """Two 4 x 4 images whose object is the top-left 2 x 2 block. Image 0's map peaks on the
    object; image 1's one pixel right of it (a strict miss, a hit within 1 pixel) and, on its
    2 x 2 grid, in the top-right cell (a miss there too). Every image alike gives a
    zero-width interval."""
    from cnnlib.explain import score_maps

    masks = np.zeros((2, 4, 4), bool)
    masks[:, :2, :2] = True
    maps = np.zeros((2, 4, 4))
    maps[0, 1, 1] = 3.0  # on the object; all its positive mass there
    maps[1, 0, 2], maps[1, 0, 0], maps[1, 3, 3] = 2.0, 1.0, -5.0  # a quarter on the object
    grid = np.zeros((2, 2, 2))
    grid[0, 0, 0], grid[1, 0, 1] = 1.0, 1.0
    score = score_maps({"m": maps, "same": maps[[0, 0]]}, masks, grids={"m": grid})
    s = score["m"]
    assert s["strict"][0] == 0.5 and s["1 px"][0] == 1.0 and s["grid"][0] == 0.5
    assert s["mass"][0] == pytest.approx((1.0 + 1 / 3) / 2)  # the -5 does not count
    assert score["same"] == {
        "strict": (1.0, 1.0, 1.0), "1 px": (1.0, 1.0, 1.0), "grid": None,
        "mass": (1.0, 1.0, 1.0),
    }  # fmt: skip
    with pytest.raises(ValueError, match="grids"):
        score_maps({"m": maps}, masks, grids={"other": grid})
    with pytest.raises(TypeError, match="maps must be a non-empty dict"):
        score_maps({}, masks)


def test_interval_table_by_hand():
    from cnnlib.explain import format_interval, interval_table

    assert format_interval((0.523, 0.4912, 0.554)) == " 52.3 [49.1, 55.4]"
    assert format_interval(None) == "—"
    table = interval_table(
        {"grad_cam": [(0.5, 0.25, 0.75), None], "chance": {"a": (0.1, 0.05, 0.15)}},
        ["strict", "within 1 px"],
    )
    # the name column: the longest name ("grad cam", 8) + 2; each cell column: 17 + 2 wide
    assert table.split("\n") == [
        "map" + " " * 7 + " " * 13 + "strict" + " " * 8 + "within 1 px",
        "grad cam" + " " * 2 + " " + " 50.0 [25.0, 75.0]" + " " * 18 + "—",
        "chance" + " " * 4 + " " + " 10.0 [ 5.0, 15.0]",
    ]
    with pytest.raises(ValueError, match="interval must be"):
        format_interval((0.1, 0.2))
    with pytest.raises(ValueError, match="3 cells for 2 columns"):
        interval_table({"x": [None, None, None]}, ["a", "b"])
