"""DimensionsExplorer: what it reports against real torch layers, over its whole control grid."""

from __future__ import annotations

import itertools
import os
import random
import warnings

import ipywidgets as widgets
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.shapes import conv_output_size
from cnnlib.widgets import DimensionsExplorer
from cnnlib.widgets.dimensions import (
    MAX_DILATION,
    MAX_KERNEL,
    MAX_OUTPUT_PADDING,
    MAX_PADDING,
    MAX_SIZE,
    MAX_STRIDE,
)

GRID = list(
    itertools.product(
        range(1, MAX_SIZE + 1),
        range(1, MAX_KERNEL + 1),
        range(0, MAX_PADDING + 1),
        range(1, MAX_STRIDE + 1),
        range(1, MAX_DILATION + 1),
        [False, True],
        range(0, MAX_OUTPUT_PADDING + 1),
    )
)


def torch_layer(n, k, p, s, d, transposed, a):
    if transposed:
        return nn.ConvTranspose2d(
            1, 1, k, stride=s, padding=p, output_padding=a, dilation=d, bias=False
        )
    return nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)


def torch_reference(n, k, p, s, d, transposed, a):
    """(output size, unreached input indices) from torch, or None where torch gives no output.

    Unreached indices come from autograd: with an all-ones kernel, d(sum of output)/d(input)
    is zero exactly at the input pixels that no window reads.
    """
    try:
        layer = torch_layer(n, k, p, s, d, transposed, a)
        nn.init.ones_(layer.weight)
        x = torch.ones(1, 1, n, n, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = layer(x)
    except (RuntimeError, ValueError):
        return None
    if 0 in y.shape:  # torch's oneDNN path returns an empty tensor instead of refusing
        return None
    y.sum().backward()
    per_column = x.grad[0, 0].abs().sum(dim=0)
    return y.shape[-1], [int(i) for i in torch.nonzero(per_column == 0).flatten()]


def set_all(view, n, k, p, s, d, transposed, a):
    view.set_controls(
        size=n,
        kernel_size=k,
        padding=p,
        stride=s,
        dilation=d,
        transposed=transposed,
        output_padding=a,
    )


@pytest.fixture(scope="module")
def view():
    return DimensionsExplorer()


@pytest.fixture(scope="module")
def fast_view():
    """A view whose figure is never rendered: only its state is checked."""
    v = DimensionsExplorer()
    v._render = lambda: None
    return v


def test_sweep_state_matches_torch(fast_view):
    """A large random sample of the whole control grid: output size, unreached pixels, errors
    (800 combinations under ``make test-thorough``, 200 in ``make test``)."""
    rng = random.Random(0)
    sample = rng.sample(GRID, 800 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 200)
    errors = 0
    for combo in sample:
        set_all(fast_view, *combo)
        n, k, p, s, d, transposed, a = combo
        expected = torch_reference(*combo)
        state = fast_view.state
        if expected is None:
            errors += 1
            assert "error" in state, combo
            assert "output_size" not in state, combo
            continue
        assert "error" not in state, (combo, state.get("error"))
        out, unreached = expected
        assert state["output_size"] == out, combo
        assert state["unreached"] == unreached, combo
        assert state["transposed"] is transposed
    assert 0 < errors < len(sample)  # both kinds of combination were met


def test_every_conv_combination_shows_the_library_output_size(fast_view):
    """The full grid of the (non-transposed) sliders: the view's size is cnnlib.shapes' (tested
    against torch in test_shapes.py and, on the sweep above, against nn.Conv2d here), and an
    impossible setting is an error exactly where the library refuses it."""
    fast_view.controls["transposed"].value = False
    for n, k, p, s, d in itertools.product(
        range(1, MAX_SIZE + 1),
        range(1, MAX_KERNEL + 1),
        range(0, MAX_PADDING + 1),
        range(1, MAX_STRIDE + 1),
        range(1, MAX_DILATION + 1),
    ):
        fast_view.set_controls(size=n, kernel_size=k, padding=p, stride=s, dilation=d)
        try:
            expected = conv_output_size(n, k, s, p, d)
        except ValueError:
            assert "error" in fast_view.state
        else:
            assert fast_view.state["output_size"] == expected


@pytest.mark.parametrize(
    "combo",
    [
        (7, 3, 1, 2, 1, False, 0),
        (8, 2, 0, 3, 2, False, 0),
        (10, 5, 4, 4, 3, False, 0),
        (4, 3, 1, 2, 1, True, 1),
        (10, 3, 4, 2, 1, True, 0),  # padding larger than d(k-1): the picture is cropped
        (5, 4, 0, 3, 2, True, 2),
        (3, 1, 0, 4, 1, True, 3),
    ],
)
def test_the_drawn_grid_computes_the_layer(view, combo):
    """Convolving the drawn grid (inputs at ``input_cells``, zeros elsewhere) at stride 1
    (transposed) or s (direct), with the windows shown, gives torch's layer output."""
    n, k, p, s, d, transposed, a = combo
    set_all(view, *combo)
    state = view.state
    assert "error" not in state, state.get("error")
    torch.manual_seed(0)
    x = torch.randn(1, 1, n, n, dtype=torch.float64)
    w = torch.randn(1, 1, k, k, dtype=torch.float64)
    cells = state["grid_size"]
    grid = torch.zeros(1, 1, cells, cells, dtype=torch.float64)
    at = np.array(state["input_cells"])
    keep = (at >= 0) & (at < cells)
    idx = torch.as_tensor(at[keep])
    grid[0, 0, idx[:, None], idx[None, :]] = x[0, 0][keep][:, keep]
    if transposed:
        expected = F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=a, dilation=d)
        got = F.conv2d(grid, torch.flip(w, (2, 3)), dilation=d)
        step = 1
    else:
        expected = F.conv2d(x, w, stride=s, padding=p, dilation=d)
        got = F.conv2d(grid, w, stride=s, dilation=d)
        step = s
    assert got.shape == expected.shape
    assert torch.allclose(got, expected)
    assert state["output_size"] == expected.shape[-1]
    # the window starts and the highlighted window's taps, against torch's unfold
    index = torch.arange(cells, dtype=torch.float64).view(1, 1, 1, cells)
    cols = F.unfold(index, (1, k), dilation=(1, d), stride=(1, step))[0]  # (k, windows)
    assert state["positions"] == [int(v) for v in cols[0]]
    view.controls["step"].value = view.controls["step"].max  # the last window
    row, col = view.state["window"]
    out = state["output_size"]
    assert (row, col) == (out - 1, out - 1)
    assert view.state["taps"][1] == [int(v) for v in cols[:, col]]


def test_play_walks_the_windows_in_raster_order(view):
    set_all(view, 7, 3, 1, 2, 1, False, 0)
    out = view.state["output_size"]
    assert view.controls["play"].max == view.controls["step"].max == out * out - 1
    for step in range(out * out):
        view.controls["play"].value = step
        assert view.state["step"] == step == view.controls["step"].value
        assert view.state["window"] == divmod(step, out)
    view.controls["step"].value = 5
    assert view.controls["play"].value == 5  # the Play button follows the slider


def test_formula_and_readout_show_the_numbers(view):
    set_all(view, 7, 3, 1, 2, 1, False, 0)
    assert view.state["formula"].splitlines()[1] == "= floor((7 + 2*1 - 1*(3-1) - 1) / 2 + 1)"
    assert view.state["formula"].endswith("= 4")
    assert "6 cells left to slide over in steps of 2" in view.readout.value
    assert "floor" not in view.readout.value  # the formula is shown once: in the title
    assert "n_out = ⌊(7 + 2·1 − 1·(3 − 1) − 1) / 2 + 1⌋" in view.formula_text.get_text()
    before = view.image.value
    view.controls["stride"].value = 3
    assert view.state["output_size"] == 3
    assert view.image.value != before
    # by hand: 7 inputs, kernel 2, stride 3: windows read 0-1 and 3-4; 2, 5 and 6 are lost
    set_all(view, 7, 2, 0, 3, 1, False, 0)
    assert view.state["positions"] == [0, 3]
    assert view.state["unreached"] == [2, 5, 6]
    set_all(view, 4, 3, 1, 2, 1, True, 1)
    assert "(4 - 1)*2 - 2*1 + 1*(3-1) + 1 + 1" in view.state["formula"]
    assert view.state["output_size"] == 8


def test_impossible_combination_is_a_message_not_a_traceback(view):
    set_all(view, 2, 5, 0, 1, 1, False, 0)
    assert "kernel_size 5 is larger than the padded input" in view.state["error"]
    assert "kernel_size 5" in view.message.value
    assert view.error_text.get_text()
    assert not view.ax_in.get_visible()
    assert not any(a.get_visible() for a in view._moving)  # no window left over the message
    set_all(view, 3, 3, 0, 1, 1, True, 1)  # output_padding 1 is not < stride 1 nor dilation 1
    assert "output_padding" in view.state["error"]
    set_all(view, 3, 3, 0, 1, 1, False, 1)  # output_padding is ignored by a direct conv
    assert "error" not in view.state
    assert view.ax_in.get_visible() and not view.error_text.get_visible()
    assert view.controls["output_padding"].disabled


def test_rendered_sample_never_raises(view):
    """Every control, to every bound and back, with the figure drawn (no exception escapes)."""
    rng = random.Random(1)
    figure = view.figure
    possible = 0
    for combo in rng.sample(GRID, 40):
        set_all(view, *combo)
        view.controls["step"].value = rng.randint(0, view.controls["step"].max)
        assert view.image.value[:4] == b"\x89PNG"
        if torch_reference(*combo) is not None:
            assert "error" not in view.state, view.state.get("error")
            possible += 1
    assert possible >= 10  # the conditional assert above ran (most of the grid is possible)
    assert view.figure is figure


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="stride"):
        DimensionsExplorer(stride=0)
    with pytest.raises(TypeError, match="size"):
        DimensionsExplorer(size=2.5)
    with pytest.raises(TypeError, match="transposed"):
        DimensionsExplorer(transposed="yes")
    v = DimensionsExplorer(size=5, kernel_size=2, stride=2, padding=0)
    assert v.state["output_size"] == 2 and v.state["unreached"] == [4]
    assert isinstance(v.controls["transposed"], widgets.Checkbox)


def test_out_of_range_arguments_are_refused_not_changed():
    # the reviewer's call: it showed size 10, kernel 5, output 6 without a word
    with pytest.raises(ValueError, match="size must be at most 10 in this view, got 32"):
        DimensionsExplorer(size=32, kernel_size=7, stride=2, padding=3)
    with pytest.raises(ValueError, match="kernel_size must be at most 5 in this view, got 7"):
        DimensionsExplorer(size=10, kernel_size=7, stride=2, padding=3)
    # one past each slider's end is refused, naming the argument; the end itself is shown as is
    tops = {
        "size": 10,
        "kernel_size": 5,
        "stride": 4,
        "padding": 4,
        "dilation": 3,
        "output_padding": 3,
    }
    for name, top in tops.items():
        with pytest.raises(ValueError, match=f"^{name} must be at most {top} in this view"):
            DimensionsExplorer(**{name: top + 1})
    v = DimensionsExplorer(size=10, kernel_size=5, stride=4, padding=4, dilation=1)
    assert "error" not in v.state
    assert (v.state["size"], v.state["kernel_size"]) == (10, 5)
    assert (v.state["stride"], v.state["padding"]) == (4, 4)
    assert v.state["output_size"] == (10 + 2 * 4 - 5) // 4 + 1  # floor(13 / 4) + 1 = 4
    v = DimensionsExplorer(dilation=3, transposed=True, output_padding=1)
    assert "error" not in v.state and v.state["dilation"] == 3
    assert v.state["output_padding"] == 1
