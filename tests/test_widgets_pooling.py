"""PoolingView: every control drives state, checked against torch and a direct NumPy window."""

from __future__ import annotations

import itertools
import random
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sweep import THOROUGH, positions

from cnnlib.conv import avg_pool2d, max_pool2d
from cnnlib.data import default_feature_map
from cnnlib.shapes import pool_output_size
from cnnlib.widgets.pooling import PoolingView, pooling_key


def torch_pool(x, mode, k, s, p):
    """The output map (and, for max, the (row, col) of each maximum) from torch."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float64))[None, None]
    if mode == "max":
        out, idx = F.max_pool2d(t, k, s, p, return_indices=True)
        return out[0, 0].numpy(), np.divmod(idx[0, 0].numpy(), t.shape[-1])
    return F.avg_pool2d(t, k, s, p, count_include_pad=True)[0, 0].numpy(), None


def numpy_window(x, mode, k, s, p, row, col):
    fill = -np.inf if mode == "max" else 0.0
    padded = np.pad(np.asarray(x, dtype=float), p, constant_values=fill)
    return padded[row * s : row * s + k, col * s : col * s + k]


def check_state(view, x):
    s = view.state
    assert "error" not in s, s.get("error")
    c = view.controls
    mode, k, stride, p = (
        c["mode"].value,
        c["kernel_size"].value,
        c["stride"].value,
        c["padding"].value,
    )
    row, col = c["row"].value, c["col"].value
    expected, where = torch_pool(x, mode, k, stride, p)
    assert (s["mode"], s["kernel_size"], s["stride"], s["padding"]) == (mode, k, stride, p)
    assert s["output_shape"] == expected.shape
    assert s["output_shape"] == pool_output_size(np.shape(x), k, stride, p)  # the library's
    np.testing.assert_allclose(s["output_map"], expected, rtol=1e-12, atol=1e-12)
    assert c["row"].max == expected.shape[0] - 1 and c["col"].max == expected.shape[1] - 1
    assert c["play"].value == row * expected.shape[1] + col
    assert (s["row"], s["col"]) == (row, col)
    window = numpy_window(x, mode, k, stride, p, row, col)
    np.testing.assert_array_equal(s["window"], window)
    np.testing.assert_array_equal(s["window_rows"], row * stride + np.arange(k))
    np.testing.assert_array_equal(s["window_cols"], col * stride + np.arange(k))
    assert s["output"] == pytest.approx(expected[row, col], rel=1e-12, abs=1e-12)
    if mode == "max":
        assert s["output"] == np.max(window)
        assert s["argmax"] == (where[0][row, col], where[1][row, col])
        assert np.asarray(x, dtype=float)[s["argmax"]] == s["output"]
    else:
        assert s["output"] == pytest.approx(np.sum(window) / k**2)
        assert s["argmax"] is None


def readout_value(view) -> tuple[str, float]:
    m = re.search(r'class="cnnlib-position">([^<]*)<.*data-value="([^"]+)"', view.readout.value)
    assert m, view.readout.value
    return m.group(1), float(m.group(2))


@pytest.fixture(scope="module")
def view():
    return PoolingView()


def test_default_view_is_2x2_max_pooling_of_an_8x8_map(view):
    view.set_controls(mode="max", kernel_size=2, stride=2, padding=0, row=0, col=0)
    x = default_feature_map()
    assert x.shape == (8, 8) and len(np.unique(x)) == 64  # no ties: one clear winner
    assert view.state["output_shape"] == (4, 4)
    check_state(view, x)
    assert view.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(view.controls) >= {"mode", "kernel_size", "stride", "padding", "row", "col", "play"}


def test_hand_worked_windows(view):
    x = default_feature_map()
    view.set_controls(mode="max", kernel_size=2, stride=2, padding=0, row=1, col=2)
    # rows 2..3, cols 4..5 of the map
    assert view.state["window"].tolist() == x[2:4, 4:6].tolist()
    r, c = np.unravel_index(np.argmax(x[2:4, 4:6]), (2, 2))
    assert view.state["argmax"] == (2 + r, 4 + c)
    assert readout_value(view) == ("output[1, 2]", float(x[2:4, 4:6].max()))
    view.controls["mode"].value = "avg"
    assert view.state["output"] == pytest.approx(x[2:4, 4:6].mean())
    assert readout_value(view)[1] == pytest.approx(round(x[2:4, 4:6].mean(), 4))


def test_every_setting_and_every_position(view):
    """Every mode, kernel, stride and padding; in each, the four corner cells and a seeded
    eighth of the others (every cell under ``make test-thorough``)."""
    x = default_feature_map()
    rng = random.Random(0)
    n = 0
    for mode, k, s in itertools.product(("max", "avg"), range(1, 5), range(1, 5)):
        for p in range(k // 2 + 1):
            view.set_controls(mode=mode, kernel_size=k, stride=s, padding=p, row=0, col=0)
            assert view.controls["padding"].value == p
            check_state(view, x)
            oh, ow = view.state["output_shape"]
            # drawing costs time, so draw the first and last position of each setting
            view._render = lambda: None
            for row, col in positions(oh, ow, rng):
                view.set_controls(row=row, col=col)
                check_state(view, x)
                n += 1
            del view._render
            view.set_controls(row=oh - 1, col=ow - 1)
            check_state(view, x)
    assert n > (500 if THOROUGH else 200)


def test_play_walks_the_output_in_raster_order(view):
    x = default_feature_map()
    view.set_controls(mode="max", kernel_size=3, stride=2, padding=1, row=0, col=0)
    oh, ow = view.state["output_shape"]
    assert (oh, ow) == (4, 4)  # (8 + 2 - 3) // 2 + 1
    for step in range(oh * ow):
        view.controls["play"].value = step
        assert (view.state["row"], view.state["col"]) == divmod(step, ow)
        check_state(view, x)
    assert view.controls["play"].max == oh * ow - 1


def test_padding_is_limited_to_half_the_kernel(view):
    view.set_controls(mode="max", kernel_size=4, stride=1, padding=2)
    assert view.controls["padding"].max == 2
    view.controls["kernel_size"].value = 3
    assert view.controls["padding"].max == 1 and view.controls["padding"].value == 1
    view.controls["kernel_size"].value = 1
    assert view.controls["padding"].value == 0
    check_state(view, default_feature_map())


def test_position_is_clamped_when_the_output_shrinks(view):
    view.set_controls(mode="avg", kernel_size=1, stride=1, padding=0, row=7, col=7)
    assert (view.state["row"], view.state["col"]) == (7, 7)
    view.controls["stride"].value = 4
    assert view.state["output_shape"] == (2, 2)
    assert (view.state["row"], view.state["col"]) == (1, 1)
    check_state(view, default_feature_map())


def test_each_control_changes_the_picture(view):
    view.set_controls(mode="max", kernel_size=2, stride=2, padding=0, row=0, col=0)
    for name, value in [
        ("row", 2),
        ("col", 3),
        ("play", 5),
        ("mode", "avg"),
        ("kernel_size", 3),
        ("stride", 1),
        ("padding", 1),
        ("mode", "max"),
    ]:
        before = view.image.value
        view.controls[name].value = value
        assert "error" not in view.state
        assert view.image.value != before, name


def test_an_impossible_kernel_is_a_message_not_an_exception():
    view = PoolingView()
    view.controls["kernel_size"].max = 12
    view.controls["kernel_size"].value = 9  # larger than the 8 x 8 map
    assert "kernel_size 9 is larger than the padded input (8 x 8)" in view.state["error"]
    assert "larger than the padded input" in view.message.value
    assert view.readout.value == ""
    view.controls["padding"].value = 1  # 10 x 10: fits
    assert "error" not in view.state and view.message.value == ""
    check_state(view, default_feature_map())


def test_ties_pick_the_first_maximum_like_torch():
    x = np.zeros((4, 6))
    x[1, 1] = x[0, 3] = x[1, 2] = 5.0
    view = PoolingView(x)
    for row, col in itertools.product(range(2), range(3)):
        view.set_controls(row=row, col=col)
        check_state(view, x)
    view.set_controls(kernel_size=3, stride=1, padding=1, row=1, col=2)
    check_state(view, x)
    assert view.state["argmax"] == (0, 3)  # ties with (1, 1) and (1, 2); row-major first


def test_outputs_equal_cnnlib_conv_and_torch_on_custom_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 7))
    view = PoolingView(torch.as_tensor(x))
    for mode, k, s in itertools.product(("max", "avg"), range(1, 5), range(1, 4)):
        for p in range(k // 2 + 1):
            view.set_controls(mode=mode, kernel_size=k, stride=s, padding=p, row=99, col=99)
            check_state(view, x)
            ours = (max_pool2d if mode == "max" else avg_pool2d)(x, k, s, p)
            np.testing.assert_allclose(view.state["output_map"], ours, rtol=1e-12)


@settings(max_examples=25)
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    mode=st.sampled_from(["max", "avg"]),
    k=st.integers(1, 4),
    s=st.integers(1, 4),
    p=st.integers(0, 2),
    seed=st.integers(0, 2**16),
    where=st.floats(0, 1),
)
def test_random_maps_against_torch(h, w, mode, k, s, p, seed, where):
    x = np.random.default_rng(seed).integers(-5, 6, size=(h, w)).astype(float)  # many ties
    view = PoolingView(x)
    view.set_controls(mode=mode, kernel_size=k, stride=s, padding=p)
    k = view.controls["kernel_size"].value
    assert k == min(k, h, w, 4) and view.controls["padding"].value <= k // 2
    oh, ow = view.state["output_shape"]
    view.controls["play"].value = min(int(where * oh * ow), oh * ow - 1)
    check_state(view, x)


@pytest.mark.parametrize(
    ("arg", "error", "words"),
    [
        (np.zeros((4, 4, 3)), ValueError, "feature_map must have 2 dimensions"),
        ("map", TypeError, "feature_map"),
        (np.array([[1.0, np.inf]]), ValueError, "feature_map must contain only finite"),
        (np.zeros((3, 0)), ValueError, "feature_map must have at least one"),
        (np.zeros((40, 8)), ValueError, "feature_map must be at most 32 x 32"),
        ([[1, "a"]], TypeError, "feature_map"),
    ],
)
def test_bad_feature_map_names_the_argument(arg, error, words):
    with pytest.raises(error, match=re.escape(words)):
        PoolingView(arg)


def test_widget_box_and_static_png():
    view = PoolingView()
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] == "<PoolingView view>"
    assert "image/png" in bundle


@pytest.mark.parametrize("value", [1234.5, -2047.25, 999.75, 0.125, 36.5])
def test_output_labels_have_no_exponent_and_stay_within_half_a_digit(value):
    from cnnlib.widgets.pooling import _out_fmt

    text = _out_fmt(value)
    assert "e" not in text
    last_digit = 10.0 ** min(0, -len(text.split(".")[1]) if "." in text else 0)
    assert abs(float(text) - value) <= last_digit / 2 + 1e-12


def test_a_key_says_what_the_dots_are(view):
    """Max mode: one dot per window, on the cell torch's max_pool2d picks, and a key under
    the map that names the dots and the ring; average mode: no dots, and the key says so."""
    view.set_controls(mode="max", kernel_size=2, stride=2, padding=0, row=0, col=0)
    key = view.key_text.get_text()
    assert key == view.state["key"] == pooling_key("max")
    assert "dot" in key and "maximum" in key and "ring" in key
    dots = view.winners.get_offsets()
    x = torch.tensor(view._map)[None, None]
    _, idx = F.max_pool2d(x, 2, 2, return_indices=True)
    rows, cols = np.divmod(idx.numpy().ravel(), view._map.shape[1])
    np.testing.assert_allclose(dots, np.column_stack([cols, rows]) + [0.3, -0.3])
    view.set_controls(mode="avg")
    assert not view.winners.get_visible()
    assert view.key_text.get_text() == pooling_key("avg") and "no dots" in pooling_key("avg")
