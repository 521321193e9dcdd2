"""GradientView: the number shown, and its terms, against torch autograd and brute force."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.colors import to_rgba

from cnnlib.backprop import gradient_terms
from cnnlib.shapes import conv_output_size
from cnnlib.widgets.gradient import (
    _INSERTED_COLOR,
    _PAD_COLOR,
    ENTRY,
    INSERTED,
    LABEL_ALL_G,
    PADDING,
    GradientView,
    _fmt,
)


def torch_grads(view):
    x = torch.tensor(view._x[None, None], requires_grad=True)
    w = torch.tensor(view._w[None, None], requires_grad=True)
    s, p = view.state["stride"], view.state["padding"]
    y = F.conv2d(x, w, stride=s, padding=p)
    g = torch.tensor(view.state["grad_out"])[None, None]
    assert tuple(y.shape[2:]) == view.state["output_shape"]
    (y * g).sum().backward()
    return x.grad[0, 0].numpy(), w.grad[0, 0].numpy()


@pytest.fixture(scope="module")
def view():
    return GradientView()


def test_default_view_has_no_error_and_matches_torch(view):
    assert "error" not in view.state
    gx, gw = torch_grads(view)
    np.testing.assert_allclose(view.state["grad_x"], gx, atol=1e-12)
    np.testing.assert_allclose(view.state["grad_weight"], gw, atol=1e-12)


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 2), (2, 1), (3, 0), (3, 2)])
def test_dx_cell_value_and_terms(view, stride, padding):
    rng = np.random.default_rng(stride * 10 + padding)
    view.set_controls(mode="dL/dx", stride=stride, padding=padding)
    gx, _ = torch_grads(view)
    g = view.state["grad_out"]
    ho, wo = g.shape
    for r, c in rng.integers(0, 6, size=(8, 2)):
        view.set_controls(row=int(r), col=int(c))
        st = view.state
        assert "error" not in st
        assert st["cell"] == (r, c)
        assert st["value"] == pytest.approx(gx[r, c], abs=1e-12)
        assert st["sum_of_terms"] == pytest.approx(gx[r, c], abs=1e-12)
        # brute force: the output cells whose window covers pixel (r, c), and the tap it is under
        expected = set()
        for i, j, a, b in itertools.product(range(ho), range(wo), range(3), range(3)):
            if i * stride + a - padding == r and j * stride + b - padding == c:
                expected.add(((i, j), (a, b), g[i, j] * view._w[a, b]))
        got = {(t["grad_out"], t["weight"], t["product"]) for t in st["terms"]}
        assert got == expected


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 0), (2, 2), (3, 1)])
def test_dw_cell_value_and_terms(view, stride, padding):
    view.set_controls(mode="dL/dw", stride=stride, padding=padding)
    _, gw = torch_grads(view)
    g = view.state["grad_out"]
    xp = np.pad(view._x, padding)
    for m, n in itertools.product(range(3), range(3)):
        view.set_controls(weight_row=m, weight_col=n)
        st = view.state
        assert "error" not in st and st["cell"] == (m, n)
        assert st["value"] == pytest.approx(gw[m, n], abs=1e-12)
        assert len(st["terms"]) == g.size  # every output gradient meets one pixel
        window = xp[m : m + stride * (g.shape[0] - 1) + 1 : stride][
            :, n : n + stride * (g.shape[1] - 1) + 1 : stride
        ]
        assert st["sum_of_terms"] == pytest.approx(float(np.sum(window * g)), abs=1e-12)


def test_play_walks_dx_in_raster_order(view):
    view.set_controls(mode="dL/dx", stride=1, padding=1)
    for step in (0, 7, 20, 35):
        view.controls["play"].value = step
        assert view.state["cell"] == divmod(step, 6)
        assert view.controls["row"].value * 6 + view.controls["col"].value == step


def test_full_control_sweep_shows_the_library(view):
    """Over the stride x padding x mode grid: the output size is cnnlib.shapes', the terms are
    cnnlib.backprop.gradient_terms' (tested against autograd in test_backprop.py)."""
    for mode, s, p in itertools.product(("dL/dx", "dL/dw"), range(1, 4), range(0, 3)):
        for a, b in itertools.product(range(0, 6, 2), range(0, 6, 3)):
            view.set_controls(
                mode=mode, stride=s, padding=p, row=a, col=b, weight_row=a % 3, weight_col=b % 3
            )
            st = view.state
            assert "error" not in st, (mode, s, p, a, b, st.get("error"))
            assert np.isfinite(st["value"])
            assert st["output_shape"] == conv_output_size(view._x.shape, view._w.shape, s, p)
            cell, wrt = ((a, b), "x") if mode == "dL/dx" else ((a % 3, b % 3), "weight")
            assert st["cell"] == cell
            assert st["terms"] == gradient_terms(st["grad_out"], view._x, view._w, cell, wrt, s, p)


def test_custom_data_and_bad_input():
    v = GradientView(np.arange(16.0).reshape(4, 4), np.ones((2, 2)), seed=3)
    assert "error" not in v.state and v.state["grad_x"].shape == (4, 4)
    with pytest.raises(ValueError, match="x must be"):
        GradientView(np.zeros((12, 12)))
    with pytest.raises(ValueError, match="weight must be"):
        GradientView(np.zeros((4, 4)), np.ones((5, 5)))
    with pytest.raises(TypeError, match="x must"):
        GradientView("picture")


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 2), (2, 1), (3, 0), (3, 2)])
def test_dx_canvas_is_the_dilated_padded_gradient_torch_s_dx_reads(view, stride, padding):
    """Sliding rot180(w) over the canvas the view draws gives torch's dL/dx; the cell kinds
    are counted by hand: ho * wo entries, the dilation's zeros between them, padding around."""
    view.set_controls(mode="dL/dx", stride=stride, padding=padding, row=0, col=0)
    st = view.state
    canvas, kinds = st["work"], st["work_kinds"]
    gx, _ = torch_grads(view)
    kh, kw = view._w.shape
    rot = view._w[::-1, ::-1]
    for r, c in itertools.product(range(gx.shape[0]), range(gx.shape[1])):
        window = canvas[r + padding : r + padding + kh, c + padding : c + padding + kw]
        assert np.sum(window * rot) == pytest.approx(gx[r, c], abs=1e-12)
    ho, wo = st["output_shape"]
    span = ((ho - 1) * stride + 1) * ((wo - 1) * stride + 1)
    assert np.sum(kinds == ENTRY) == ho * wo
    assert np.sum(kinds == INSERTED) == span - ho * wo
    assert np.all(canvas[kinds != ENTRY] == 0)
    np.testing.assert_array_equal(np.sort(canvas[kinds == ENTRY]), np.sort(st["grad_out"].ravel()))


def test_inserted_zeros_are_coloured_apart_from_padding(view):
    view.set_controls(mode="dL/dx", stride=2, padding=1, row=1, col=1)
    kinds = view.state["work_kinds"]
    drawn = view.im_work.get_array()[..., :3]
    inserted = np.round(np.array(to_rgba(_INSERTED_COLOR)[:3]) * 255)
    padding = np.round(np.array(to_rgba(_PAD_COLOR)[:3]) * 255)
    assert np.all(drawn[kinds == INSERTED] == inserted)
    assert np.all(drawn[kinds == PADDING] == padding)
    assert not np.array_equal(inserted, padding)
    assert "stride inserts" in view.work_key.get_text()
    view.set_controls(stride=1)
    assert not np.any(view.state["work_kinds"] == INSERTED)
    assert "stride" not in view.work_key.get_text()


@pytest.mark.parametrize("mode", ["dL/dx", "dL/dw"])
def test_dy_panel_shows_its_numbers(view, mode):
    """Every cell of a small dL/dy carries its number; a large one labels the cells in play."""
    view.set_controls(mode=mode, stride=2, padding=1, row=2, col=3)
    g = view.state["grad_out"]
    assert g.size <= LABEL_ALL_G and view.state["grad_out_labelled"].all()
    shown = {
        tuple(map(round, t.get_position()[::-1])): t.get_text()
        for t in view.g_labels
        if t.get_visible()
    }
    assert shown == {(r, c): _fmt(g[r, c]) for r, c in np.ndindex(g.shape)}
    view.set_controls(stride=1, padding=2)  # 8 x 8: only the cells in play
    st = view.state
    in_play = {t["grad_out"] for t in st["terms"]}
    assert st["grad_out"].size > LABEL_ALL_G
    if len(in_play) > LABEL_ALL_G:  # dL/dw: every cell is in play, too many to read
        in_play = set()
    assert {tuple(x) for x in np.argwhere(st["grad_out_labelled"])} == in_play
    assert sum(t.get_visible() for t in view.g_labels) == len(in_play)


def test_dy_numbers_follow_the_cells_in_play_while_play_walks(view):
    """A large dL/dy labels only the cells in play: the picture after a step equals a fresh
    view's picture at that step (the numbers are redrawn, not left from the step before)."""
    view.set_controls(mode="dL/dx", stride=1, padding=2, row=0, col=0)
    view.controls["play"].value = 0
    view.controls["play"].value = 8  # row 1, col 2
    fresh = GradientView()
    fresh.set_controls(mode="dL/dx", stride=1, padding=2, row=1, col=2)
    assert view.state["cell"] == fresh.state["cell"] == (1, 2)
    assert view.image.value == fresh.image.value
