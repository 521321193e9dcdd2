"""EquivarianceExplorer: the error shown against an independent torch computation."""

import itertools
import os
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.equivariance import equivariance_error, output_shifts
from cnnlib.widgets.equivariance import KERNEL, LAYERS, EquivarianceExplorer

#: ``make test-thorough`` sweeps every shift; ``make test`` a seeded quarter of them
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


def torch_layer(name, x):
    t = torch.tensor(x)[None, None]
    k = torch.tensor(KERNEL)[None, None]
    if name == "conv, zero padding":
        y = F.conv2d(t, k, padding=1)
    elif name == "conv, circular padding":
        y = F.conv2d(F.pad(t, (1, 1, 1, 1), mode="circular"), k)
    elif name == "strided conv (stride 2)":
        y = F.conv2d(F.pad(t, (1, 1, 1, 1), mode="circular"), k, stride=2)
    elif name == "max pooling 2x2":
        y = F.max_pool2d(t, 2)
    else:  # max over wrapped 2x2 windows with stride 1, then a binomial blur with stride 2
        m = F.max_pool2d(F.pad(t, (0, 1, 0, 1), mode="circular"), 2, stride=1)
        b = torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64)
        blur = (torch.outer(b, b) / 16)[None, None]
        y = F.conv2d(F.pad(m, (1, 1, 1, 1), mode="circular"), blur, stride=2)
    return y[0, 0].numpy()


def torch_error(name, x, dy, dx):
    stride = 1 if "conv," in name else 2
    a = torch_layer(name, np.roll(x, (dy, dx), axis=(0, 1)))
    y = torch_layer(name, x)
    errs = []
    for oy in {dy // stride, -(-dy // stride)}:
        for ox in {dx // stride, -(-dx // stride)}:
            b = np.roll(y, (oy, ox), axis=(0, 1))
            errs.append(np.linalg.norm(a - b) / np.linalg.norm(b))
    return min(errs)


@pytest.fixture(scope="module")
def view():
    return EquivarianceExplorer()


def test_builds_without_error(view):
    assert "error" not in view.state
    assert view.state["equivariance_error"] == 0.0  # no shift yet


@pytest.mark.parametrize("name", list(LAYERS))
def test_error_matches_torch(view, name):
    x = view._image
    for dy, dx in [(1, 0), (0, 3), (2, 2), (-3, 5), (4, -2)]:
        view.set_controls(layer=name, shift_y=dy, shift_x=dx)
        st = view.state
        assert "error" not in st
        expected = torch_error(name, x, dy, dx)
        assert st["equivariance_error"] == pytest.approx(expected, rel=1e-9, abs=1e-13)
        np.testing.assert_allclose(
            st["shifted_output"], torch_layer(name, np.roll(x, (dy, dx), axis=(0, 1))), atol=1e-12
        )


def test_what_the_view_shows_is_the_lesson(view):
    # circular conv: exact at every shift; strided layers: exact only at even shifts
    for dy, dx in itertools.product(range(-3, 4), repeat=2):
        view.set_controls(layer="conv, circular padding", shift_y=dy, shift_x=dx)
        assert view.state["equivariance_error"] < 1e-12
        for name in ("strided conv (stride 2)", "max pooling 2x2", "blur + pooling"):
            view.controls["layer"].value = name
            err = view.state["equivariance_error"]
            if dy % 2 == 0 and dx % 2 == 0:
                assert err < 1e-12 and view.state["output_shift"] == (dy // 2, dx // 2)
            else:
                assert err > 1e-3
        view.controls["layer"].value = "conv, zero padding"
        assert view.state["interior_error"] == 0.0
        assert (view.state["equivariance_error"] > 0) == (dy != 0 or dx != 0)


def test_blur_pooling_aliases_less_than_max_pooling(view):
    errs = {}
    for name in ("max pooling 2x2", "blur + pooling"):
        view.set_controls(layer=name, shift_y=1, shift_x=1)
        errs[name] = view.state["equivariance_error"]
    assert errs["blur + pooling"] < errs["max pooling 2x2"]


def test_full_control_sweep_shows_the_library(view):
    for name in LAYERS:
        for dy in range(-8, 9, 2):
            for dx in (-8, -3, 0, 5, 8):
                view.set_controls(layer=name, shift_y=dy, shift_x=dx)
                st = view.state
                assert "error" not in st, st.get("error")
                # the numbers are the library's (tested against torch in test_equivariance.py)
                f, stride = LAYERS[name]
                assert st["equivariance_error"] == equivariance_error(
                    f, view._image, dy, dx, stride=stride
                )
                oy, ox = st["output_shift"]
                assert oy in output_shifts(dy, stride) and ox in output_shifts(dx, stride)


def test_custom_image_and_bad_input():
    rng = np.random.default_rng(0)
    v = EquivarianceExplorer(rng.standard_normal((12, 16)))
    v.set_controls(layer="conv, circular padding", shift_y=3, shift_x=-5)
    assert v.state["equivariance_error"] < 1e-12
    with pytest.raises(ValueError, match="even sides"):
        EquivarianceExplorer(np.zeros((9, 9)))
    with pytest.raises(ValueError, match="image must have 2 dimensions"):
        EquivarianceExplorer(np.zeros((3, 8, 8)))


def torch_interior_error(name, x, dy, dx):
    """Interior error by hand (torch), or None when a candidate output shift leaves no cell."""
    stride, margin = (1, 1) if "conv," in name else (2, 2)
    a = torch_layer(name, np.roll(x, (dy, dx), axis=(0, 1)))
    y = torch_layer(name, x)
    h, w = y.shape
    errs = []
    for oy in {dy // stride, -(-dy // stride)}:
        for ox in {dx // stride, -(-dx // stride)}:
            my, mx = abs(oy) + margin, abs(ox) + margin
            if h - 2 * my <= 0 or w - 2 * mx <= 0:
                return None
            b = np.roll(y, (oy, ox), axis=(0, 1))[my : h - my, mx : w - mx]
            d = a[my : h - my, mx : w - mx] - b
            errs.append(0.0 if not d.any() else np.linalg.norm(d) / np.linalg.norm(b))
    return min(errs)


@pytest.mark.parametrize("size", [8, 16])
def test_small_images_every_layer_and_shift(size, monkeypatch):
    # every slider position on a small image: no error; the interior error is n/a (NaN, said
    # in the readout) exactly when no output cell is left away from the borders and the shift
    x = np.random.default_rng(size).random((size, size))
    v = EquivarianceExplorer(x)
    monkeypatch.setattr(v, "_render", lambda: None)  # state only: the sweep stays fast
    lo, hi = v.controls["shift_y"].min, v.controls["shift_y"].max
    shifts = list(itertools.product(range(lo, hi + 1), repeat=2))
    rng = random.Random(size)
    seen_na = seen_value = 0
    for name in LAYERS:
        # every shift under make test-thorough; a seeded quarter, corners included, otherwise
        corners = [(dy, dx) for dy in (lo, 0, hi) for dx in (lo, 0, hi)]
        some = shifts if THOROUGH else corners + rng.sample(shifts, len(shifts) // 4)
        for dy, dx in some:
            v.set_controls(layer=name, shift_y=dy, shift_x=dx)
            st = v.state
            assert "error" not in st, (name, dy, dx, st.get("error"))
            expected = torch_interior_error(name, x, dy, dx)
            if expected is None:
                assert np.isnan(st["interior_error"]), (name, dy, dx)
                assert "interior n/a" in v.readout.value
                seen_na += 1
            else:
                assert st["interior_error"] == pytest.approx(expected, rel=1e-9, abs=1e-13)
                seen_value += 1
            assert st["equivariance_error"] == pytest.approx(
                torch_error(name, x, dy, dx), rel=1e-9, abs=1e-13
            )
    assert seen_na and seen_value


def test_interior_na_still_draws_the_figure():
    v = EquivarianceExplorer(np.random.default_rng(1).random((8, 8)))
    v.set_controls(layer="max pooling 2x2", shift_y=3, shift_x=0)
    assert "error" not in v.state and v.message.value == ""
    assert np.isnan(v.state["interior_error"])
    assert v.state["equivariance_error"] > 0 and v.image.value[:4] == b"\x89PNG"
    oy, ox = v.state["output_shift"]
    assert oy in (1, 2) and ox == 0  # 3 / 2: the nearer of floor and ceil
    assert v.ax_b.title.get_text() == f"shift(f(x)), ({oy}, {ox})"


@pytest.mark.parametrize("style", ["default", "lecture"])
def test_layer_dropdown_holds_the_longest_name(style):
    """The dropdown is as wide as its label (80 px), its arrow (about 30 px) and the longest
    layer name at the style's type size (13 px times the view's scale; a character of
    JupyterLab's sans-serif type is at most about 0.6 em wide on average)."""
    from cnnlib.plotting import use_style

    use_style(style)
    try:
        view = EquivarianceExplorer()
        width = int(view.controls["layer"].layout.width.removesuffix("px"))
        font = 13 * view.scale
        longest = max(len(name) for name in LAYERS)
        assert width >= 80 * view.scale + 30 * view.scale + 0.6 * font * longest
    finally:
        use_style("default")
