"""cnnlib.shapes against the shapes that real torch.nn layers produce (and refuse)."""

from __future__ import annotations

import re
import warnings
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from cnnlib._validate import memory_budget
from cnnlib.shapes import (
    Explanation,
    conv_grid,
    conv_output_size,
    conv_transpose_output_size,
    explain_conv_output_size,
    explain_conv_transpose_output_size,
    explain_pool_output_size,
    pool_output_size,
    same_padding,
)

TORCH_ERRORS = (RuntimeError, ValueError)


def pairs(lo: int, hi: int):
    return st.tuples(st.integers(lo, hi), st.integers(lo, hi))


def torch_shape(layer: nn.Module, size: tuple[int, int]):
    """The (H, W) that ``layer`` produces on a (1, 1, H, W) input, or None if torch refuses."""
    x = torch.zeros(1, 1, *size)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tuple(layer(x).shape[-2:])
    except TORCH_ERRORS:
        return None


def agree(expected, ours_fn):
    """Both directions: torch refuses -> we raise ValueError; torch succeeds -> same shape."""
    if expected is None:
        with pytest.raises(ValueError):
            ours_fn()
    else:
        assert ours_fn() == expected


# -- property tests against torch ---------------------------------------------------------------
@given(size=pairs(1, 14), k=pairs(1, 6), s=pairs(1, 4), p=pairs(0, 4), d=pairs(1, 3))
def test_conv_output_size_matches_conv2d(size, k, s, p, d):
    layer = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
    agree(torch_shape(layer, size), lambda: conv_output_size(size, k, s, p, d))


@given(size=st.integers(1, 20), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 4))
def test_conv_output_size_int_in_int_out(size, k, s, p):
    expected = torch_shape(nn.Conv2d(1, 1, k, stride=s, padding=p, bias=False), (size, size))
    if expected is None:
        with pytest.raises(ValueError, match="kernel_size"):
            conv_output_size(size, k, s, p)
    else:
        out = conv_output_size(size, k, s, p)
        assert type(out) is int and out == expected[0]


@given(
    size=pairs(1, 14),
    k=pairs(1, 6),
    s=pairs(1, 4),
    p=pairs(0, 3),
    d=pairs(1, 3),
    ceil_mode=st.booleans(),
)
def test_pool_output_size_matches_max_pool2d(size, k, s, p, d, ceil_mode):
    layer = nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
    agree(torch_shape(layer, size), lambda: pool_output_size(size, k, s, p, d, ceil_mode))


@given(size=pairs(1, 14), k=pairs(1, 6), s=pairs(1, 4), p=pairs(0, 3), ceil_mode=st.booleans())
def test_pool_output_size_matches_avg_pool2d(size, k, s, p, ceil_mode):
    layer = nn.AvgPool2d(k, stride=s, padding=p, ceil_mode=ceil_mode)
    agree(torch_shape(layer, size), lambda: pool_output_size(size, k, s, p, ceil_mode=ceil_mode))


def test_pool_output_size_exhaustive_small_grid():
    """Every small combination, so the rare ceil_mode drop cases are all covered."""
    dropped = 0
    for size in range(1, 11):
        for k in range(1, 5):
            for s in range(1, 5):
                for p in range(0, 3):
                    for ceil_mode in (False, True):
                        layer = nn.MaxPool2d((1, k), (1, s), (0, p), ceil_mode=ceil_mode)
                        expected = torch_shape(layer, (1, size))
                        expected = None if expected is None else expected[1]
                        agree(expected, partial(pool_output_size, size, k, s, p, 1, ceil_mode))
                        if expected is not None and ceil_mode:
                            e = explain_pool_output_size(size, k, s, p, ceil_mode=True)
                            assert e.result == expected
                            dropped += "dropped" in e.text
    assert dropped > 0  # the grid does reach torch's drop rule


@given(size=st.integers(1, 16), k=st.integers(1, 5), ceil_mode=st.booleans())
def test_pool_default_stride_is_kernel_size(size, k, ceil_mode):
    expected = torch_shape(nn.MaxPool2d(k, ceil_mode=ceil_mode), (size, size))
    agree(
        None if expected is None else expected[0],
        lambda: pool_output_size(size, k, None, 0, 1, ceil_mode),
    )


@given(
    size=pairs(1, 10),
    k=pairs(1, 5),
    s=pairs(1, 4),
    p=pairs(0, 5),
    a=pairs(0, 3),
    d=pairs(1, 3),
)
def test_conv_transpose_output_size_matches_conv_transpose2d(size, k, s, p, a, d):
    def build():
        return nn.ConvTranspose2d(
            1, 1, k, stride=s, padding=p, output_padding=a, dilation=d, bias=False
        )

    try:
        layer = build()
    except TORCH_ERRORS:  # torch refuses some output_padding already in the constructor
        expected = None
    else:
        expected = torch_shape(layer, size)
    # At a computed size of exactly 0, torch's generic path raises "Output size is too small",
    # but its oneDNN path (some strides) returns an empty tensor: no output either way, we raise.
    if expected is not None and 0 in expected:
        expected = None
    agree(expected, lambda: conv_transpose_output_size(size, k, s, p, a, d))


@given(size=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 3))
def test_conv_transpose_inverts_conv_shape(size, k, s, p):
    """A stride-s convolution maps s input sizes onto one; output_padding picks them all."""
    try:
        out = conv_output_size(size, k, s, p)
    except ValueError:
        return
    back = set()
    for a in range(s):
        try:
            back.add(conv_transpose_output_size(out, k, s, p, a))
        except ValueError:  # padding trims the whole output: only when the input was tiny
            assert (out - 1) * s - 2 * p + (k - 1) + a + 1 < 1
    assert size in back
    assert all(conv_output_size(b, k, s, p) == out for b in back)


@given(k=pairs(1, 6), d=pairs(1, 3), size=pairs(1, 9))
def test_same_padding_is_torch_same(k, d, size):
    """padding="same" in torch equals explicit F.pad with our (before, after) split."""
    torch.manual_seed(0)
    x = torch.randn(1, 1, *size)
    w = torch.randn(1, 1, *k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = F.conv2d(x, w, padding="same", dilation=d)
    (top, bottom), (left, right) = same_padding(k, d)
    padded = F.pad(x, (left, right, top, bottom))
    got = F.conv2d(padded, w, dilation=d)
    assert got.shape == expected.shape == x.shape
    assert torch.allclose(got, expected, atol=1e-5)


def test_same_padding_int_and_even_kernel():
    assert same_padding(3) == (1, 1)
    assert same_padding(4) == (1, 2)  # the extra cell goes at the end, as torch does
    assert same_padding(4, dilation=3) == (4, 5)
    assert same_padding((1, 2)) == ((0, 0), (0, 1))


# -- hand-worked and published cases ------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((224, 7, 2, 3), 112),  # ResNet stem conv
        ((224, 11, 4, 2), 55),  # AlexNet conv1 (torchvision)
        ((32, 5), 28),  # LeNet-5 C1
        ((7, 3, 2, 0, 2), 2),  # dilated: span 5, (7 - 5) // 2 + 1
        ((5, 3, 1, 0), 3),  # Dumoulin & Visin fig. 2.1: 4x4... here 5 - 3 + 1
    ],
)
def test_conv_output_size_hand_cases(args, expected):
    assert conv_output_size(*args) == expected


def test_pool_ceil_mode_drop_rule_hand_case():
    # size 5, kernel 2, stride 2, padding 1: ceil((5 + 2 - 1 - 1) / 2) + 1 = 4, but the 4th
    # window would start at 6 = 5 + 1, the right padding: torch drops it and returns 3.
    assert pool_output_size(5, 2, 2, 1, ceil_mode=True) == 3
    assert pool_output_size(5, 2, 2, 1, ceil_mode=False) == 3
    # size 5, kernel 2, stride 2, no padding: ceil_mode keeps a last half window
    assert pool_output_size(5, 2, 2, 0, ceil_mode=True) == 3
    assert pool_output_size(5, 2, 2, 0, ceil_mode=False) == 2
    assert pool_output_size(112, 3, 2, 1) == 56  # ResNet stem max pool


@pytest.mark.parametrize("size", [5, 8, 17, 32, 224])
@pytest.mark.parametrize("k", [1, 3, 5, 7])
def test_seed_common_cases_table(size, k):
    """The seed's table: same padding keeps H, valid gives H - k + 1, stride 2 about halves."""
    if k > size:
        return
    same = conv_output_size(size, k, 1, (k - 1) // 2)
    valid = conv_output_size(size, k, 1, 0)
    halved = conv_output_size(size, k, 2, 0)
    assert same == size
    assert valid == size - k + 1
    assert halved == (size - k) // 2 + 1
    assert abs(halved - size / 2) <= k / 2
    for (stride, pad), ours in [((1, (k - 1) // 2), same), ((1, 0), valid), ((2, 0), halved)]:
        layer = nn.Conv2d(1, 1, k, stride=stride, padding=pad, bias=False)
        assert torch_shape(layer, (size, size)) == (ours, ours)


def test_pair_results():
    assert conv_output_size((10, 12), 3) == (8, 10)
    assert conv_output_size(10, (3, 5)) == (8, 6)  # one pair argument -> a pair result
    assert pool_output_size((9, 8), (3, 2)) == (3, 4)
    assert conv_transpose_output_size([4, 5], 3, 2) == (9, 11)


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fn", "kwargs", "exc", "name"),
    [
        (conv_output_size, dict(size=5.0, kernel_size=3), TypeError, "size"),
        (conv_output_size, dict(size="5", kernel_size=3), TypeError, "size"),
        (conv_output_size, dict(size=5, kernel_size=True), TypeError, "kernel_size"),
        (conv_output_size, dict(size=5, kernel_size=None), TypeError, "kernel_size"),
        (conv_output_size, dict(size=0, kernel_size=1), ValueError, "size"),
        (conv_output_size, dict(size=5, kernel_size=0), ValueError, "kernel_size"),
        (conv_output_size, dict(size=5, kernel_size=3, stride=0), ValueError, "stride"),
        (conv_output_size, dict(size=5, kernel_size=3, padding=-1), ValueError, "padding"),
        (conv_output_size, dict(size=5, kernel_size=3, dilation=0), ValueError, "dilation"),
        (conv_output_size, dict(size=(5, 5, 5), kernel_size=3), ValueError, "size"),
        (conv_output_size, dict(size=(5, -1), kernel_size=3), ValueError, r"size\[1\]"),
        (conv_output_size, dict(size=2, kernel_size=3), ValueError, "kernel_size"),
        (conv_output_size, dict(size=5, kernel_size=3, dilation=3), ValueError, "dilated"),
        (pool_output_size, dict(size=5, kernel_size=2, stride=0), ValueError, "stride"),
        (pool_output_size, dict(size=5, kernel_size=3, padding=2), ValueError, "padding"),
        (pool_output_size, dict(size=5, kernel_size=2, ceil_mode=1), TypeError, "ceil_mode"),
        (
            pool_output_size,
            dict(size=(5, 5), kernel_size=(3, 4), padding=(1, 3)),
            ValueError,
            r"padding\[1\]",
        ),
        (
            conv_transpose_output_size,
            dict(size=3, kernel_size=3, stride=2, output_padding=2),
            ValueError,
            "output_padding",
        ),
        (conv_transpose_output_size, dict(size=1, kernel_size=3, padding=2), ValueError, "padding"),
        (
            conv_transpose_output_size,
            dict(size=3, kernel_size=3, output_padding=-1),
            ValueError,
            "output_padding",
        ),
        (same_padding, dict(kernel_size=0), ValueError, "kernel_size"),
        (same_padding, dict(kernel_size=3, dilation=1.5), TypeError, "dilation"),
    ],
)
def test_bad_input_names_the_argument(fn, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        fn(**kwargs)


# -- explanations -------------------------------------------------------------------------------
@given(
    size=st.integers(1, 40),
    k=st.integers(1, 7),
    s=st.integers(1, 4),
    p=st.integers(0, 3),
    d=st.integers(1, 3),
)
def test_explain_conv_substitutes_the_numbers(size, k, s, p, d):
    rest = size + 2 * p - d * (k - 1) - 1
    if rest < 0:
        with pytest.raises(ValueError):
            explain_conv_output_size(size, k, s, p, d)
        return
    e = explain_conv_output_size(size, k, s, p, d)
    assert isinstance(e, Explanation)
    assert e.result == conv_output_size(size, k, s, p, d)
    assert f"floor(({size} + 2*{p} - {d}*({k}-1) - 1) / {s} + 1)" in e.text
    assert f"floor({rest}/{s} + 1)" in e.text
    assert e.text.splitlines()[2].endswith(f"= {rest // s + 1}")
    assert rf"\frac{{{rest}}}{{{s}}}" in e.latex and r"\lfloor" in e.latex
    assert e._repr_latex_().startswith("$$") and e._repr_markdown_().startswith("$$")
    assert str(e) == e.text


def test_explain_pool_mentions_the_dropped_window():
    e = explain_pool_output_size(5, 2, 2, 1, ceil_mode=True)
    assert e.result == 3
    assert "ceil(5/2) + 1 = 3 + 1 = 4" in e.text
    assert "dropped" in e.text and r"\lceil" in e.latex
    kept = explain_pool_output_size(5, 2, 2, 0, ceil_mode=True)
    assert kept.result == 3 and "dropped" not in kept.text
    floor = explain_pool_output_size(5, 2)
    assert floor.result == 2 and "floor(3/2 + 1)" in floor.text


def test_explain_conv_transpose_and_pairs():
    e = explain_conv_transpose_output_size(3, 3, 2, 1, 1)
    assert e.result == 6 == conv_transpose_output_size(3, 3, 2, 1, 1)
    assert "(3 - 1)*2 - 2*1 + 1*(3-1) + 1 + 1" in e.text
    both = explain_conv_output_size((7, 9), (3, 5), 2)
    assert both.result == (3, 3)
    assert "H_out" in both.text and "W_out" in both.text
    assert "H_{out}" in both.latex and "W_{out}" in both.latex
    with pytest.raises(ValueError, match="output_padding"):
        explain_conv_transpose_output_size(3, 3, 1, 0, 1)


# -- the grid of the pictures -------------------------------------------------------------------
@given(
    n=st.integers(1, 9),
    k=st.integers(1, 5),
    s=st.integers(1, 4),
    p=st.integers(0, 5),
    d=st.integers(1, 3),
    a=st.integers(0, 3),
    transposed=st.booleans(),
)
def test_conv_grid_computes_the_layer(n, k, s, p, d, a, transposed):
    """Inputs placed at input_cells, zeros elsewhere, windows as drawn: torch's layer output;
    unreached inputs are where autograd's gradient is zero."""
    a = a if transposed else 0
    try:
        grid = conv_grid(n, k, s, p, d, transposed, a)
    except ValueError:
        expected = None
        try:
            layer = (
                nn.ConvTranspose1d(1, 1, k, s, p, a, dilation=d)
                if transposed
                else nn.Conv1d(1, 1, k, s, p, dilation=d)
            )
            expected = layer(torch.zeros(1, 1, n)).shape[-1]
        except TORCH_ERRORS:
            pass
        assert expected in (None, 0)
        return
    torch.manual_seed(0)
    x = torch.randn(1, 1, n, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, 1, k, dtype=torch.float64)
    line = torch.zeros(1, 1, grid.cells, dtype=torch.float64)
    for i, t in enumerate(grid.input_cells):
        if 0 <= t < grid.cells:
            line[0, 0, t] = x[0, 0, i]
    assert all(grid.kind[t] == 1 for t in grid.input_cells if 0 <= t < grid.cells)
    if transposed:
        expected = F.conv_transpose1d(x, w, stride=s, padding=p, output_padding=a, dilation=d)
        got = F.conv1d(line, torch.flip(w, (2,)), dilation=d)
    else:
        expected = F.conv1d(x, w, stride=s, padding=p, dilation=d)
        got = F.conv1d(line, w, stride=s, dilation=d)
    assert got.shape == expected.shape and grid.output_size == expected.shape[-1]
    assert torch.allclose(got, expected)
    assert all(window[-1] < grid.cells for window in grid.taps)
    ones = torch.ones(1, 1, n, requires_grad=True)  # all-ones kernel: no cancellation
    if transposed:
        y = F.conv_transpose1d(ones, torch.ones(1, 1, k), None, s, p, a, dilation=d)
    else:
        y = F.conv1d(ones, torch.ones(1, 1, k), stride=s, padding=p, dilation=d)
    y.sum().backward()
    assert grid.unreached == [int(i) for i in torch.nonzero(ones.grad[0, 0] == 0).flatten()]


# ------------------------------------------------- found by mutation testing (make mutation)
# Each test below kills mutants of cnnlib/shapes.py that every earlier test let through.

CONV_7_3_2_1_TEXT = (
    "H_out = floor((H_in + 2p - d(k-1) - 1) / s + 1)\n"
    "      = floor((7 + 2*1 - 1*(3-1) - 1) / 2 + 1)\n"
    "      = floor(6/2 + 1) = floor(4) = 4\n"
    "(padded input 7 + 2*1 = 9 cells; dilated kernel 1*(3-1) + 1 = 3 cells; "
    "6 cells left to slide over in steps of 2)"
)
CONV_7_3_2_1_LATEX = (
    r"\begin{aligned}H_{out} &= \left\lfloor \frac{H_{in} + 2p - d(k-1) - 1}{s} + 1 \right\rfloor"
    r" \\ &= \left\lfloor \frac{7 + 2 \cdot 1 - 1 \cdot (3-1) - 1}{2} + 1 \right\rfloor"
    r" \\ &= \left\lfloor \frac{6}{2} + 1 \right\rfloor = \left\lfloor 4 \right\rfloor = 4"
    r"\end{aligned}"
)


def test_explain_conv_text_and_latex_word_for_word():
    """Hand-checked: (7 + 2 - 2 - 1) / 2 + 1 = 4, every step as the learner reads it."""
    e = explain_conv_output_size(7, 3, 2, 1)
    assert (e.text, e.latex, e.result) == (CONV_7_3_2_1_TEXT, CONV_7_3_2_1_LATEX, 4)
    from IPython.lib.pretty import pretty

    assert pretty(e) == CONV_7_3_2_1_TEXT


def test_explain_conv_pair_joins_the_axes():
    """Two axes: H's and W's explanations, blank line (text) and \\qquad (LaTeX) between."""
    e = explain_conv_output_size((7, 5), (3, 2), (2, 1), 0, (1, 2))
    h, w = e.text.split("\n\n")
    assert h.startswith("H_out = floor(") and h.splitlines()[1].endswith(
        "(7 + 2*0 - 1*(3-1) - 1) / 2 + 1)"
    )
    assert w.startswith("W_out = floor(") and w.splitlines()[1].endswith(
        "(5 + 2*0 - 2*(2-1) - 1) / 1 + 1)"
    )
    assert w.splitlines()[2] == "      = floor(2/1 + 1) = floor(3) = 3"
    left, right = e.latex.split(r"\end{aligned} \qquad \begin{aligned}")
    assert left.startswith(r"\begin{aligned}H_{out} &=") and right.startswith(r"W_{out} &=")
    assert right.endswith(r"= \left\lfloor 3 \right\rfloor = 3\end{aligned}")
    assert e.result == (3, 3)
    assert explain_conv_output_size(5, (2, 3)).result == (4, 3)  # by hand: 5-2+1, 5-3+1


def test_explain_conv_non_terminating_fraction_shows_dots():
    """(10 - 2 - 1) / 3 + 1 = 3.333...: three decimals and an ellipsis; 2.5 stays 2.5."""
    e = explain_conv_output_size(10, 3, 3)
    assert e.text.splitlines()[2] == "      = floor(7/3 + 1) = floor(3.333) = 3"
    assert r"\left\lfloor 3.333\ldots \right\rfloor = 3" in e.latex
    e = explain_pool_output_size(5, 2, 2, 1, ceil_mode=True)
    assert r"\left\lceil 2.5 \right\rceil + 1 = 3 + 1 = 4" in e.latex
    assert r"\ldots" not in e.latex
    e = explain_pool_output_size(3, 2, 16, ceil_mode=True)  # 1 / 16 = 0.0625: 0.062...
    assert r"\left\lceil 0.062\ldots \right\rceil + 1" in e.latex
    e = explain_pool_output_size(6, 2, 4, 0, ceil_mode=True)  # (6 - 2) / 4 = 1 exactly
    assert r"\left\lceil 1 \right\rceil + 1 = 1 + 1 = 2" in e.latex


def test_explain_pool_dropped_window_word_for_word():
    """Hand-checked: ceil((5 + 2 - 1 - 1) / 2) + 1 = 4, but window 4 would start at 3 * 2 = 6,
    in the right padding (6 >= 5 + 1): torch drops it, 3."""
    e = explain_pool_output_size(5, 2, 2, 1, ceil_mode=True)
    assert e.text == (
        "H_out = ceil((H_in + 2p - d(k-1) - 1) / s) + 1\n"
        "      = ceil((5 + 2*1 - 1*(2-1) - 1) / 2) + 1\n"
        "      = ceil(5/2) + 1 = 3 + 1 = 4\n"
        "      -> 4 - 1 = 3  (the last window would start at 6 >= H_in + p = 6, in the right "
        "padding: dropped)\n"
        "(padded input 5 + 2*1 = 7 cells; dilated kernel 1*(2-1) + 1 = 2 cells; 5 cells left to "
        "slide over in steps of 2)"
    )
    assert e.latex == (
        r"\begin{aligned}H_{out} &= \left\lceil \frac{H_{in} + 2p - d(k-1) - 1}{s} \right\rceil"
        r" + 1 \\ &= \left\lceil \frac{5 + 2 \cdot 1 - 1 \cdot (2-1) - 1}{2} \right\rceil + 1"
        r" \\ &= \left\lceil \frac{5}{2} \right\rceil + 1 = \left\lceil 2.5 \right\rceil + 1"
        r" = 3 + 1 = 4 \\ &\to 4 - 1 = 3 \quad\text{(the last window would start at 6} \ge"
        r" H_{in} + p = 6\text{: dropped)}\end{aligned}"
    )
    assert e.result == 3


def test_explain_conv_transpose_word_for_word():
    """Hand-checked: (3 - 1) * 2 - 2 + 2 + 1 + 1 = 6."""
    e = explain_conv_transpose_output_size(3, 3, 2, 1, 1)
    assert e.text == (
        "H_out = (H_in - 1)*s - 2p + d(k-1) + output_padding + 1\n"
        "      = (3 - 1)*2 - 2*1 + 1*(3-1) + 1 + 1\n"
        "      = 4 - 2 + 2 + 1 + 1 = 6\n"
        "(3 inputs placed 2 apart span 5 cells; the dilated kernel adds 2; padding trims 1 from "
        "each end; output_padding adds 1 at the end)"
    )
    assert e.latex == (
        r"\begin{aligned}H_{out} &= (H_{in} - 1)\,s - 2p + d(k-1) + a + 1 \\ &= (3 - 1)\cdot 2"
        r" - 2\cdot 1 + 1\cdot(3-1) + 1 + 1 \\ &= 4 - 2 + 2 + 1 + 1 = 6\end{aligned}"
    )
    assert explain_conv_transpose_output_size((3, 4), 2, 2).result == (6, 8)


ARGS = ("size", "kernel_size", "stride", "padding", "dilation")


@pytest.mark.parametrize("which", ARGS)
def test_any_one_pair_argument_makes_a_pair_result(which):
    assert conv_transpose_output_size(3, 2) == 4  # the default stride is 1: (3 - 1) + 1 + 1
    assert explain_conv_transpose_output_size(3, 2).result == 4
    """One argument given as (H, W), the rest as ints: a pair, each axis as torch computes it."""
    base = {"size": 9, "kernel_size": 3, "stride": 1, "padding": 1, "dilation": 1}
    other = {"size": 8, "kernel_size": 2, "stride": 2, "padding": 0, "dilation": 2}
    args = dict(base, **{which: (base[which], other[which])})
    size = args["size"] if isinstance(args["size"], tuple) else (args["size"],) * 2
    rest = {k: v for k, v in args.items() if k != "size"}
    want = torch_shape(nn.Conv2d(1, 1, **rest), size)
    assert conv_output_size(**args) == want
    assert explain_conv_output_size(**args).result == want
    pool_want = torch_shape(nn.MaxPool2d(**rest), size)
    assert pool_output_size(**args) == pool_want
    e = explain_pool_output_size(**args)
    assert e.result == pool_want
    assert [t.split(" ")[0] for t in e.text.split("\n\n")] == ["H_out", "W_out"]
    assert r"\qquad \begin{aligned}W_{out}" in e.latex
    t_args = dict(args, output_padding=0)
    t_want = torch_shape(
        nn.ConvTranspose2d(1, 1, **{k: v for k, v in t_args.items() if k != "size"}), size
    )
    assert conv_transpose_output_size(**t_args) == t_want
    e = explain_conv_transpose_output_size(**t_args)
    assert e.result == t_want
    assert [t.split(" ")[0] for t in e.text.split("\n\n")] == ["H_out", "W_out"]
    assert r"\qquad \begin{aligned}W_{out}" in e.latex
    t_args["output_padding"] = (0, 1)  # output_padding alone as a pair
    assert isinstance(
        conv_transpose_output_size(**dict(base, output_padding=(0, 1), stride=2)), tuple
    )


def test_same_padding_pair_from_either_argument():
    """By hand: d(k - 1) cells in all, the odd one at the end: (before, after) per axis."""
    assert same_padding((3, 5)) == ((1, 1), (2, 2))
    assert same_padding(3, (1, 2)) == ((1, 1), (2, 2))
    assert same_padding((2, 3), 1) == ((0, 1), (1, 1))
    assert same_padding(4) == (1, 2)
    with pytest.raises(ValueError, match="^dilation"):
        same_padding(3, 0)
    with pytest.raises(ValueError, match="^kernel_size"):
        same_padding(0)


def test_errors_name_the_axis_of_a_pair():
    with pytest.raises(ValueError, match=r"kernel_size\[1\] 9 is larger"):
        conv_output_size((8, 8), (3, 9))
    with pytest.raises(
        ValueError, match=r"kernel_size 3 \(dilated to 9\) is larger than the padded"
    ):
        conv_output_size(8, 3, dilation=4)
    with pytest.raises(
        ValueError, match=r"^kernel_size 9 is larger than the padded input 8 \+ 2\*0 = 8"
    ):
        conv_output_size(8, 9)
    with pytest.raises(ValueError, match=r"^dilation"):
        conv_output_size(8, 3, dilation=0)
    with pytest.raises(TypeError, match="^ceil_mode"):
        pool_output_size(8, 2, ceil_mode=1)
    with pytest.raises(ValueError, match=r"^padding\[1\] 9 removes more than"):
        conv_transpose_output_size((5, 5), 3, padding=(0, 9))
    with pytest.raises(ValueError, match=r"^padding 9 removes more than"):
        conv_transpose_output_size(5, 3, padding=9)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"size": 0}, "size"),
        ({"kernel_size": 0}, "kernel_size"),
        ({"stride": 0}, "stride"),
        ({"padding": -1}, "padding"),
        ({"dilation": 0}, "dilation"),
        ({"output_padding": -1}, "output_padding"),
    ],
)
def test_conv_grid_refuses_each_argument_by_name(kwargs, name):
    args = {"size": 5, "kernel_size": 3} | kwargs
    with pytest.raises(ValueError, match=rf"^{name} "):
        conv_grid(**args)
    with pytest.raises(TypeError, match="^transposed"):
        conv_grid(5, 3, transposed=1)


def test_conv_grid_cells_by_hand():
    """Direct, n = 4, k = 3, s = 2, p = 1: 0 | 1 1 1 1 | 0, inputs at cells 1..4, step 2.
    Transposed, n = 3, k = 3, s = 2, p = 1, a = 1: p' = 2 - 1 = 1 cell of padding, inputs at
    1, 3, 5 with a zero between, one output_padding cell: 0 1 2 1 2 1 0 0, step 1."""
    g = conv_grid(4, 3, 2, 1)
    assert (g.kind, g.input_cells, g.step, g.transposed) == (
        (0, 1, 1, 1, 1, 0),
        (1, 2, 3, 4),
        2,
        False,
    )
    t = conv_grid(3, 3, 2, 1, transposed=True, output_padding=1)
    assert (t.kind, t.input_cells, t.step, t.transposed) == (
        (0, 1, 2, 1, 2, 1, 0, 0),
        (1, 3, 5),
        1,
        True,
    )


def test_conv_grid_memory_check_names_the_largest_argument_and_counts_cells_and_taps():
    """A grid of ``cells`` cells and ``taps`` taps is estimated at 40 bytes each: n = 100,
    k = 3, p = 2 (cells 104, 102 windows, taps 306) needs 40 * 410 = 16,400 bytes."""
    with memory_budget(40 * 410):
        conv_grid(100, 3, padding=2)
    with (
        memory_budget(40 * 410 - 1),
        pytest.raises(ValueError, match=r"^size 100 makes the grid need"),
    ):
        conv_grid(100, 3, padding=2)
    # transposed, n = 10, k = 3, s = 3, p = 0: p' = 2, cells 28 + 4 = 32, 30 windows, 90 taps
    with memory_budget(40 * 122):
        conv_grid(10, 3, 3, transposed=True)
    with memory_budget(40 * 122 - 1), pytest.raises(ValueError, match=r"^size 10 makes the grid"):
        conv_grid(10, 3, 3, transposed=True)
    for name, transposed in (("padding", False), ("stride", True), ("dilation", True)):
        args = {"size": 2, "kernel_size": 2, name: 10**9, "transposed": transposed}
        with pytest.raises(ValueError, match=rf"^{name} 1000000000 makes the grid need"):
            conv_grid(**args)


def test_explanations_refuse_what_the_size_functions_refuse():
    with pytest.raises(ValueError, match="^stride"):
        explain_pool_output_size(5, 2, stride=0)
    with pytest.raises(ValueError, match="^padding"):
        explain_conv_transpose_output_size(5, 3, padding=-1)
    with pytest.raises(ValueError, match="^output_padding"):
        explain_conv_transpose_output_size(5, 3, 2, output_padding=-1)
    with pytest.raises(ValueError, match="^dilation"):
        explain_conv_transpose_output_size(5, 3, dilation=0)
    with pytest.raises(TypeError, match="^ceil_mode"):
        explain_pool_output_size(5, 2, ceil_mode=1)
    message = (
        "kernel_size[0] 9 (dilated to 17) is larger than the padded input 5 + 2*0 = 5: the "
        "output size would be -11, and torch refuses an output smaller than 1"
    )  # by hand: 2 * (9 - 1) + 1 = 17, (5 - 17) / 1 + 1 = -11
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        conv_output_size((5, 5), (9, 1), dilation=2)


def test_too_small_message_with_padding_by_hand():
    """5 + 2 * 1 = 7 padded cells, (7 - 9) / 1 + 1 = -1 windows."""
    message = (
        "kernel_size 9 is larger than the padded input 5 + 2*1 = 7: the output size would be "
        "-1, and torch refuses an output smaller than 1"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        conv_output_size(5, 9, padding=1)
