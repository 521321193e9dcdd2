"""SlidingKernel: every control drives state, checked against torch and a direct NumPy window."""

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

from cnnlib.data import house
from cnnlib.shapes import conv_output_size
from cnnlib.widgets.sliding_kernel import SlidingKernel

# The presets written out independently of the module under test.
KERNELS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box blur": [[1 / 9] * 3] * 3,
    "Sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "Laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
}


def torch_map(image, kernel, stride, padding, dilation, bias=0.0):
    x = torch.as_tensor(np.asarray(image, dtype=np.float64))[None, None]
    w = torch.as_tensor(np.asarray(kernel, dtype=np.float64))[None, None]
    b = torch.tensor([float(bias)], dtype=torch.float64)
    return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()


def numpy_window(image, kernel_shape, stride, padding, dilation, row, col):
    """The taps of output cell (row, col), read straight off the zero-padded image."""
    padded = np.pad(np.asarray(image, dtype=float), padding)
    kh, kw = kernel_shape
    r0, c0 = row * stride, col * stride
    rows = np.arange(r0, r0 + dilation * (kh - 1) + 1, dilation)
    cols = np.arange(c0, c0 + dilation * (kw - 1) + 1, dilation)
    return padded[r0 : rows[-1] + 1 : dilation, c0 : cols[-1] + 1 : dilation], rows, cols


def check_state(view, image, kernel):
    """Assert that view.state describes the current controls, by independent computation."""
    s = view.state
    assert "error" not in s, s.get("error")
    c = view.controls
    stride, padding, dilation = c["stride"].value, c["padding"].value, c["dilation"].value
    bias = c["bias"].value
    row, col = c["row"].value, c["col"].value
    expected_map = torch_map(image, kernel, stride, padding, dilation, bias)
    assert s["output_shape"] == expected_map.shape
    # the view's size is the library's (the one formula, in cnnlib.shapes)
    shape = conv_output_size(np.shape(image), np.shape(kernel), stride, padding, dilation)
    assert s["output_shape"] == shape
    np.testing.assert_allclose(s["output_map"], expected_map, atol=1e-9)
    assert (s["row"], s["col"]) == (row, col)
    assert c["row"].max == expected_map.shape[0] - 1
    assert c["col"].max == expected_map.shape[1] - 1
    window, rows, cols = numpy_window(image, np.shape(kernel), stride, padding, dilation, row, col)
    np.testing.assert_array_equal(s["window_rows"], rows)
    np.testing.assert_array_equal(s["window_cols"], cols)
    np.testing.assert_array_equal(s["window"], window)
    np.testing.assert_allclose(s["kernel"], kernel)
    np.testing.assert_allclose(s["products"], window * np.asarray(kernel))
    assert s["sum"] == pytest.approx(float(np.sum(window * np.asarray(kernel))), abs=1e-9)
    assert s["bias"] == pytest.approx(bias)
    assert s["output"] == pytest.approx(expected_map[row, col], abs=1e-9)
    assert s["output"] == pytest.approx(s["sum"] + bias, abs=1e-12)
    ow = expected_map.shape[1]
    assert c["play"].value == row * ow + col
    assert c["play"].max == expected_map.size - 1


def readout_value(view) -> tuple[str, float]:
    m = re.search(r'class="cnnlib-position">([^<]*)<.*data-value="([^"]+)"', view.readout.value)
    assert m, view.readout.value
    return m.group(1), float(m.group(2))


@pytest.fixture(scope="module")
def view():
    view = SlidingKernel()
    view._render_figure = view._render
    return view


def test_default_view_shows_sobel_x_on_the_house(view):
    view.set_controls(kernel="Sobel x", stride=1, padding=0, dilation=1, bias=0.0, row=0, col=0)
    assert view.state["kernel_name"] == "Sobel x"
    assert view.state["output_shape"] == (10, 10)
    check_state(view, house(), KERNELS["Sobel x"])
    assert view.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(view.controls) >= {
        "row",
        "col",
        "play",
        "stride",
        "padding",
        "dilation",
        "kernel",
        "bias",
    }


def test_hand_worked_cell(view):
    # The window of output[4, 5] on the house is rows 4..6, cols 5..7:
    # [[5, 5, 5], [9, 9, 9], [9, 2, 2]]; Sobel x gives -5 + 5 - 18 + 18 - 9 + 2 = -7.
    view.set_controls(kernel="Sobel x", stride=1, padding=0, dilation=1, bias=0.0, row=4, col=5)
    np.testing.assert_array_equal(view.state["window"], [[5, 5, 5], [9, 9, 9], [9, 2, 2]])
    assert view.state["output"] == -7.0
    assert readout_value(view) == ("output[4, 5]", -7.0)
    assert 'data-value="-7.0000"' in view.readout.value


def test_every_preset_stride_padding_dilation_and_the_corner_positions(view):
    image = house()
    combos = itertools.product(KERNELS, range(1, 4), range(0, 4), range(1, 4))
    for k, (name, stride, padding, dilation) in enumerate(combos):
        # drawing is what costs time: draw one combination in five (all kernels, all
        # strides, paddings and dilations get drawn), compute the state of every one
        view._render = view._render_figure if k % 5 == 0 else lambda: None
        # alternate between the last cell (clamped to the output size) and the first
        row = col = 99 if k % 2 else 0
        view.set_controls(
            kernel=name, stride=stride, padding=padding, dilation=dilation, row=row, col=col
        )
        assert view.controls["dilation"].value == dilation  # 3 x 3 kernel fits 12 x 12 up to 5
        oh, ow = view.state["output_shape"]
        assert (view.state["row"], view.state["col"]) == ((oh - 1, ow - 1) if k % 2 else (0, 0))
        check_state(view, image, KERNELS[name])
    del view._render


def test_every_position_of_every_setting_state_only():
    """All presets x strides x paddings x dilations; in each, the four corner cells and a
    seeded eighth of the others (every cell under ``make test-thorough``), drawing switched
    off."""
    image = house()
    view = SlidingKernel()
    view._render = lambda: None  # the state is computed as usual; only the PNG is skipped
    rng = random.Random(0)
    cells = 0
    for name, stride, padding, dilation in itertools.product(
        KERNELS, range(1, 4), range(0, 4), range(1, 4)
    ):
        view.set_controls(kernel=name, stride=stride, padding=padding, dilation=dilation, play=0)
        expected = torch_map(image, KERNELS[name], stride, padding, dilation)
        assert view.state["output_shape"] == expected.shape
        ow = expected.shape[1]
        for row, col in positions(*expected.shape, rng):
            view.controls["play"].value = row * ow + col
            s = view.state
            assert "error" not in s, s["error"]
            assert (s["row"], s["col"]) == (row, col)
            assert s["output"] == pytest.approx(expected[row, col], abs=1e-9)
            window, _, _ = numpy_window(image, (3, 3), stride, padding, dilation, row, col)
            np.testing.assert_array_equal(s["window"], window)
            cells += 1
    assert cells > (10_000 if THOROUGH else 1_500)


def test_every_position_by_sliders_and_by_play(view):
    image = house()
    view.set_controls(kernel="sharpen", stride=2, padding=1, dilation=2, bias=1.5, row=0, col=0)
    oh, ow = view.state["output_shape"]
    assert (oh, ow) == (5, 5)  # (12 + 2 - 5) // 2 + 1
    for row in range(oh):
        view.controls["row"].value = row
        for col in range(ow):
            view.controls["col"].value = col
            check_state(view, image, KERNELS["sharpen"])
    for step in range(oh * ow):
        view.controls["play"].value = step
        assert (view.state["row"], view.state["col"]) == divmod(step, ow)
        assert view.state["step"] == step
        check_state(view, image, KERNELS["sharpen"])


def test_bias_adds_to_every_output(view):
    view.set_controls(kernel="box blur", stride=1, padding=1, dilation=1, row=3, col=7)
    for bias in (-10.0, -2.5, 0.0, 4.0, 10.0):
        view.controls["bias"].value = bias
        check_state(view, house(), KERNELS["box blur"])
        assert view.state["output"] == pytest.approx(view.state["sum"] + bias)
        assert readout_value(view)[1] == pytest.approx(round(view.state["output"], 4))


def test_sliders_track_the_output_size_and_clamp_the_position(view):
    view.set_controls(kernel="identity", stride=1, padding=3, dilation=1, row=15, col=15)
    assert (view.state["row"], view.state["col"]) == (15, 15)
    view.controls["stride"].value = 3
    assert view.state["output_shape"] == (6, 6)
    assert view.controls["row"].max == 5 and view.controls["col"].max == 5
    assert (view.state["row"], view.state["col"]) == (5, 5)
    check_state(view, house(), KERNELS["identity"])


def test_each_control_changes_the_picture(view):
    view.set_controls(kernel="Sobel x", stride=1, padding=0, dilation=1, bias=0.0, row=0, col=0)
    for name, value in [
        ("row", 3),
        ("col", 4),
        ("play", 7),
        ("stride", 2),
        ("padding", 2),
        ("dilation", 2),
        ("kernel", "Laplacian"),
        ("bias", 2.0),
    ]:
        before = view.image.value
        view.controls[name].value = value
        assert "error" not in view.state
        assert view.image.value != before, name


def test_dilation_is_limited_so_the_kernel_fits_and_an_impossible_value_is_a_message():
    image = np.arange(42.0).reshape(6, 7)
    view = SlidingKernel(image, np.ones((3, 3)))
    assert view.controls["dilation"].max == 2  # (6 - 1) // (3 - 1)
    view.controls["dilation"].value = 3
    assert view.controls["dilation"].value == 2
    check_state(view, image, np.ones((3, 3)))
    # Lift the limit to reach the impossible case: it must become a message, not an exception.
    view._update_dilation_range = lambda: None
    view.controls["dilation"].max = 5
    view.controls["dilation"].value = 4  # 9 x 9 taps on a 6 x 7 image
    assert "larger than the padded input" in view.state["error"]
    assert "larger than the padded input" in view.message.value
    assert view.readout.value == ""
    view.controls["padding"].value = 2  # 10 x 11 padded: fits again
    assert "error" not in view.state
    assert view.message.value == ""
    check_state(view, image, np.ones((3, 3)))


def test_custom_image_and_rectangular_kernel():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(7, 9))
    kernel = rng.normal(size=(2, 3))
    view = SlidingKernel(image, kernel, bias=0.25)
    assert view.controls["kernel"].value == "custom"
    assert "custom" in view.controls["kernel"].options
    assert view.controls["bias"].value == 0.25
    for stride, padding, dilation in itertools.product((1, 2, 3), (0, 1, 3), (1, 2, 3)):
        view.set_controls(kernel="custom", stride=stride, padding=padding, dilation=dilation)
        check_state(view, image, kernel)
        oh, ow = view.state["output_shape"]
        view.set_controls(row=oh - 1, col=ow - 1)
        check_state(view, image, kernel)
    view.controls["kernel"].value = "Sobel y"  # presets still work on a custom image
    check_state(view, image, KERNELS["Sobel y"])


def test_torch_tensor_and_integer_inputs_and_preset_name():
    image = torch.arange(25, dtype=torch.int64).reshape(5, 5)
    view = SlidingKernel(image, "Laplacian")
    assert view.controls["kernel"].value == "Laplacian"
    assert "custom" not in view.controls["kernel"].options
    check_state(view, image.numpy(), KERNELS["Laplacian"])


@settings(max_examples=20)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 3),
    dilation=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    where=st.floats(0, 1),
)
def test_random_shapes_against_torch(h, w, kh, kw, stride, padding, dilation, seed, where):
    kh, kw = min(kh, h), min(kw, w)
    rng = np.random.default_rng(seed)
    image = rng.integers(-9, 10, size=(h, w)).astype(float)
    kernel = rng.normal(size=(kh, kw))
    view = SlidingKernel(image, kernel)
    view.set_controls(stride=stride, padding=padding)
    view.controls["dilation"].value = dilation  # clamped to the largest that fits
    d = view.controls["dilation"].value
    assert (kh - 1) * d + 1 <= h and (kw - 1) * d + 1 <= w
    oh, ow = view.state["output_shape"]
    step = min(int(where * oh * ow), oh * ow - 1)
    view.controls["play"].value = step
    check_state(view, image, kernel)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"image": np.zeros((4, 4, 3))}, ValueError, "image must have 2 dimensions"),
        ({"image": "house"}, TypeError, "image"),
        ({"image": np.array([[1.0, np.nan]])}, ValueError, "image must contain only finite"),
        ({"image": np.zeros((0, 3))}, ValueError, "image"),
        ({"image": np.zeros((60, 60))}, ValueError, "image must be at most"),
        ({"image": np.zeros((3, 3)) + 1j}, TypeError, "image must be real"),
        ({"kernel": np.ones((13, 3))}, ValueError, "kernel 13 x 3 is larger than the image"),
        ({"kernel": np.ones(3)}, ValueError, "kernel must have 2 dimensions"),
        ({"kernel": "blur"}, ValueError, "kernel must be one of"),
        ({"kernel": [[np.inf]]}, ValueError, "kernel must contain only finite"),
        ({"image": np.ones((2, 5))}, ValueError, "image 2 x 5 is smaller than the 3 x 3 preset"),
        ({"image": np.ones((2, 5)), "kernel": "sharpen"}, ValueError, "kernel 'sharpen' (3 x 3)"),
        ({"bias": "1"}, TypeError, "bias must be a real number"),
        ({"bias": float("nan")}, ValueError, "bias must be finite"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, words):
    with pytest.raises(error, match=re.escape(words)):
        SlidingKernel(**kwargs)


def test_a_small_image_offers_only_the_kernels_that_fit():
    image = np.arange(10.0).reshape(2, 5)
    view = SlidingKernel(image, [[1.0, -1.0]])
    assert list(view.controls["kernel"].options) == ["custom"]
    check_state(view, image, [[1.0, -1.0]])
    for padding in range(4):
        view.controls["padding"].value = padding
        check_state(view, image, [[1.0, -1.0]])
    assert list(SlidingKernel(np.ones((3, 3))).controls["kernel"].options) == list(KERNELS)


def test_widget_box_and_static_png():
    view = SlidingKernel()
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] == "<SlidingKernel view>"
    assert "image/png" in bundle
    assert view.widget.children[-1] is view.image


def _labels_fit_their_cells(ax, labels) -> bool:
    """Each visible label's drawn width is inside one cell (cells are 1 data unit wide)."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    x0, _ = ax.transData.transform((0, 0))
    x1, _ = ax.transData.transform((1, 0))
    cell = abs(x1 - x0)
    widths = [
        t.get_window_extent(renderer).width for t in labels if t.get_visible() and t.get_text()
    ]
    return bool(widths) and max(widths) <= cell


def test_kernel_product_and_output_labels_fit_a_5x5_kernel_on_a_0_255_image():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (12, 12)).astype(float)
    kernel = (rng.standard_normal((5, 5)) * 3).round(2)
    view = SlidingKernel(image, kernel=kernel)
    for row, col in [(0, 0), (3, 4), (7, 7)]:
        view.controls["row"].value, view.controls["col"].value = row, col
        assert _labels_fit_their_cells(view.ax_k, view.k_labels)
        assert _labels_fit_their_cells(view.ax_p, view.p_labels)
        assert _labels_fit_their_cells(view.ax_out, [view.out_label])
