"""cnnlib.conv against torch.nn.functional, torch.nn.Conv2d and scipy.signal.convolve2d."""

from unittest import mock

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnnlib import _conv_blas
from cnnlib import conv as conv_module
from cnnlib.conv import (
    avg_pool2d,
    col2im,
    conv2d,
    conv2d_naive,
    convolve2d,
    im2col,
    max_pool2d,
    pad2d,
)

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

TOL = {np.float32: 1e-5, np.float64: 1e-10}


def assert_close(got, expected, dtype):
    """Relative-to-scale closeness: |got - expected| <= tol * (1 + max|expected|)."""
    expected = np.asarray(expected)
    assert got.shape == expected.shape
    assert got.dtype == np.dtype(dtype)
    scale = 1.0 + float(np.abs(expected).max(initial=0.0))
    np.testing.assert_allclose(got, expected, rtol=TOL[dtype], atol=TOL[dtype] * scale)


pairs = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)).map(tuple))


@st.composite
def conv_cases(draw, max_size=12, max_channels=3, max_batch=3):
    """A random conv2d problem whose padded input holds the dilated kernel."""
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, max_channels))
    c_out = groups * draw(st.integers(1, max_channels))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dilation = draw(pairs)
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    padding = draw(
        st.one_of(
            st.sampled_from(["valid", "same"]),
            st.integers(0, 3),
            st.tuples(st.integers(0, 3), st.integers(0, 3)),
        )
    )
    stride = 1 if padding == "same" else draw(pairs)
    h = draw(st.integers(1, max_size))
    w = draw(st.integers(1, max_size))
    if padding == "valid":
        ph = pw = 0
    elif padding == "same":
        ph, pw = dh * (kh - 1), dw * (kw - 1)  # total, both sides
        top, left = ph // 2, pw // 2
        if mode == "reflect":
            assume(max(top, ph - top) < h and max(left, pw - left) < w)
        if mode == "circular":
            assume(max(top, ph - top) <= h and max(left, pw - left) <= w)
    else:
        p = (padding, padding) if isinstance(padding, int) else padding
        ph, pw = 2 * p[0], 2 * p[1]
        if mode == "reflect":
            assume(p[0] < h and p[1] < w)
        if mode == "circular":
            assume(p[0] <= h and p[1] <= w)
    assume(dh * (kh - 1) + 1 <= h + ph and dw * (kw - 1) + 1 <= w + pw)
    batch = draw(st.integers(1, max_batch))
    form = draw(st.sampled_from([3, 4]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    has_bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shape = (batch, c_in, h, w) if form == 4 else (c_in, h, w)
    x = rng.standard_normal(shape).astype(dtype)
    weight = rng.standard_normal((c_out, c_in // groups, kh, kw)).astype(dtype)
    bias = rng.standard_normal(c_out).astype(dtype) if has_bias else None
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return x, weight, bias, kwargs, mode, dtype


def torch_conv(x, weight, bias, kwargs, mode):
    """The reference: F.conv2d for zero padding, nn.Conv2d for the other padding modes."""
    xt, wt = torch.from_numpy(x), torch.from_numpy(weight)
    bt = None if bias is None else torch.from_numpy(bias)
    with torch.no_grad():
        if mode == "zeros":
            return F.conv2d(xt, wt, bt, **kwargs).numpy()
        c_out, c_g, kh, kw = weight.shape
        layer = torch.nn.Conv2d(
            c_g * kwargs["groups"],
            c_out,
            (kh, kw),
            bias=bias is not None,
            padding_mode=mode,
            **kwargs,
        ).to(wt.dtype)
        layer.weight.copy_(wt)
        if bias is not None:
            layer.bias.copy_(bt)
        return layer(xt).numpy()


@given(conv_cases())
def test_conv2d_matches_torch(case):
    x, weight, bias, kwargs, mode, dtype = case
    expected = torch_conv(x, weight, bias, kwargs, mode)
    assert_close(conv2d(x, weight, bias, padding_mode=mode, **kwargs), expected, dtype)
    # both vectorised kernels, whichever conv2d picks for this size
    methods = ["im2col", "shift"] if kwargs["stride"] in (1, (1, 1)) else ["im2col"]
    for method in methods:
        with mock.patch("cnnlib._conv_blas.method", return_value=method):
            got = conv2d(x, weight, bias, padding_mode=mode, **kwargs)
        assert_close(got, expected, dtype)


@settings(max_examples=25)
@given(conv_cases(max_size=7, max_channels=2, max_batch=2))
def test_conv2d_naive_matches_torch(case):
    x, weight, bias, kwargs, mode, dtype = case
    got = conv2d_naive(x, weight, bias, padding_mode=mode, **kwargs)
    assert_close(got, torch_conv(x, weight, bias, kwargs, mode), dtype)


@settings(max_examples=20)
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(16, 40),
    st.integers(1, 5),
    st.sampled_from(["same", 0, 2]),
    st.integers(1, 2),
)
def test_conv2d_larger_problems_match_torch(n, c_in, c_out, size, k, padding, dilation):
    """Sizes where conv2d picks the stride-1 shift form (16 or more channels) or im2col."""
    rng = np.random.default_rng(size)
    x = rng.standard_normal((n, c_in * 8, size, size + 3)).astype(np.float32)
    weight = rng.standard_normal((c_out * 8, c_in * 8, k, k)).astype(np.float32)
    args = conv_module._ConvArgs(x, weight, None, 1, padding, dilation, 1, "zeros")
    chosen = _conv_blas.method(args.stride, args.weight.shape[1], args.dtype)
    assert chosen == ("shift" if c_in >= 2 else "im2col")
    bias = rng.standard_normal(c_out * 8).astype(np.float32)
    kwargs = dict(stride=1, padding=padding, dilation=dilation, groups=1)
    assert_close(
        conv2d(x, weight, bias, **kwargs), torch_conv(x, weight, bias, kwargs, "zeros"), np.float32
    )


def test_hand_worked_example():
    """d2l.ai's example: 0*0 + 1*1 + 3*2 + 4*3 = 19 (top left), and so on, by hand."""
    x = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    k = np.array([[0, 1], [2, 3]])
    expected = np.array([[19, 25], [37, 43]])
    for fn in (conv2d, conv2d_naive):
        got = fn(x, k)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, expected)


def test_hand_worked_convolution_flips_the_kernel():
    """True convolution of the d2l example: the kernel turned by 180 degrees, [[3,2],[1,0]]."""
    x = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    k = np.array([[0, 1], [2, 3]])
    # 0*3 + 1*2 + 3*1 + 4*0 = 5, 1*3 + 2*2 + 4*1 + 5*0 = 11, ...
    np.testing.assert_array_equal(convolve2d(x, k, "valid"), [[5, 11], [23, 29]])


@settings(max_examples=60)
@given(
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(1, 9),
    st.sampled_from(["full", "valid", "same"]),
    st.sampled_from([np.float32, np.float64]),
    st.integers(0, 2**32 - 1),
)
def test_convolve2d_matches_scipy(h, w, kh, kw, mode, dtype, seed):
    if mode == "valid":
        assume((kh <= h and kw <= w) or (kh >= h and kw >= w))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((h, w)).astype(dtype)
    k = rng.standard_normal((kh, kw)).astype(dtype)
    assert_close(convolve2d(x, k, mode), scipy.signal.convolve2d(x, k, mode), dtype)


def test_convolve2d_valid_refuses_what_scipy_refuses():
    x, k = np.ones((3, 5)), np.ones((4, 2))
    with pytest.raises(ValueError):
        scipy.signal.convolve2d(x, k, "valid")
    with pytest.raises(ValueError, match="kernel"):
        convolve2d(x, k, "valid")


@st.composite
def pool_cases(draw, with_dilation=True):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), pairs))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    padding = draw(st.sampled_from([(ph, pw), ph])) if ph == pw else (ph, pw)
    dilation = draw(pairs) if with_dilation else 1
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    ceil_mode = draw(st.booleans())
    h = draw(st.integers(1, 11))
    w = draw(st.integers(1, 11))
    assume(dh * (kh - 1) + 1 <= h + 2 * ph and dw * (kw - 1) + 1 <= w + 2 * pw)
    form = draw(st.sampled_from([2, 3, 4]))
    shape = {2: (h, w), 3: (draw(st.integers(1, 3)), h, w)}.get(
        form, (draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w)
    )
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(shape).astype(dtype)
    kernel_size = (kh, kw) if (kh != kw or draw(st.booleans())) else kh
    kwargs = dict(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode)
    if with_dilation:
        kwargs["dilation"] = dilation
    return x, kwargs, dtype


def _torch_input(x):
    # torch pools (C, H, W) and (N, C, H, W); a 2-D plane goes in as one channel
    return torch.from_numpy(x[None] if x.ndim == 2 else x)


@given(pool_cases())
def test_max_pool2d_matches_torch(case):
    x, kwargs, dtype = case
    values, indices = F.max_pool2d(_torch_input(x), return_indices=True, **kwargs)
    if x.ndim == 2:
        values, indices = values[0], indices[0]
    got = max_pool2d(x, **kwargs)
    assert_close(got, values.numpy(), dtype)
    got_values, got_indices = max_pool2d(x, return_indices=True, **kwargs)
    assert_close(got_values, values.numpy(), dtype)
    assert got_indices.dtype == np.int64
    np.testing.assert_array_equal(got_indices, indices.numpy())


@given(pool_cases(with_dilation=False), st.booleans())
def test_avg_pool2d_matches_torch(case, count_include_pad):
    x, kwargs, dtype = case
    expected = F.avg_pool2d(_torch_input(x), count_include_pad=count_include_pad, **kwargs)
    if x.ndim == 2:
        expected = expected[0]
    got = avg_pool2d(x, count_include_pad=count_include_pad, **kwargs)
    assert_close(got, expected.numpy(), dtype)


def test_max_pool2d_indices_of_a_known_plane():
    """Hand-checked: 2x2 windows of 0..15 take their bottom-right corner."""
    x = np.arange(16.0).reshape(4, 4)
    values, indices = max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(values, [[5, 7], [13, 15]])
    np.testing.assert_array_equal(indices, [[5, 7], [13, 15]])


def test_max_pool2d_tied_windows_report_the_first_maximum_as_torch():
    """Ties, forward: each 2x2 window of this plane holds its maximum twice or more; by hand the
    reported index is the first in row-major order (torch's rule, a strict ``>`` scan), and
    torch's ``return_indices`` agrees (overlapping windows, stride 1, and after a ReLU)."""
    x = np.array([[1.0, 3.0, 3.0], [3.0, 3.0, 0.0], [0.0, 0.0, 0.0]])
    values, indices = max_pool2d(x, 2, 1, return_indices=True)
    np.testing.assert_array_equal(values, [[3, 3], [3, 3]])
    np.testing.assert_array_equal(indices, [[1, 1], [3, 4]])  # by hand
    _, t_indices = F.max_pool2d(torch.from_numpy(x)[None], 2, 1, return_indices=True)
    np.testing.assert_array_equal(indices, t_indices[0].numpy())
    relu = np.maximum(np.random.default_rng(0).integers(-3, 2, size=(2, 3, 7, 7)), 0) * 1.0
    for args in ((2, 2), (3, 1, 1), (3, 2, 1, 2)):
        got, idx = max_pool2d(relu, *args, return_indices=True)
        want, t_idx = F.max_pool2d(torch.from_numpy(relu), *args, return_indices=True)
        np.testing.assert_array_equal(got, want.numpy())
        np.testing.assert_array_equal(idx, t_idx.numpy())


def test_avg_pool2d_hand_worked_divisors():
    """A 2x2 plane of ones, kernel 2, padding 1: each corner window holds 1 real value of 4."""
    x = np.ones((2, 2))
    np.testing.assert_array_equal(avg_pool2d(x, 2, padding=1), np.full((2, 2), 0.25))
    np.testing.assert_array_equal(
        avg_pool2d(x, 2, padding=1, count_include_pad=False), np.ones((2, 2))
    )


@pytest.mark.parametrize("dilation", [1, 2])
def test_max_pool_of_minus_inf_points_into_the_input(dilation):
    """A window holding only -inf reports its first position inside x, as torch does."""
    x = np.full((1, 1, 5, 5), -np.inf)
    values, indices = max_pool2d(x, 3, 1, 1, dilation, return_indices=True)
    _, expected = F.max_pool2d(torch.from_numpy(x), 3, 1, 1, dilation, return_indices=True)
    np.testing.assert_array_equal(indices, expected.numpy())
    assert np.isneginf(values).all()


# ------------------------------------------------------------------ output forms and dtypes


def test_output_keeps_the_input_form():
    rng = np.random.default_rng(0)
    x4 = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    assert conv2d(x4, w).shape == (2, 4, 4, 3)
    assert conv2d(x4[0], w).shape == (4, 4, 3)
    np.testing.assert_array_equal(conv2d(x4[0], w), conv2d(x4[:1], w)[0])
    assert conv2d(x4[0, 0], w[0, 0]).shape == (4, 3)
    np.testing.assert_array_equal(conv2d(x4[0, 0], w[0, 0]), conv2d(x4[:1, :1], w[:1, :1])[0, 0])
    for pool in (max_pool2d, avg_pool2d):
        assert pool(x4, 2).shape == (2, 3, 3, 2)
        assert pool(x4[0], 2).shape == (3, 3, 2)
        assert pool(x4[0, 0], 2).shape == (3, 2)


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.int64, np.float64),
        (np.int32, np.float64),
        (np.bool_, np.float64),
    ],
)
def test_output_dtype(dtype, expected):
    x = np.ones((1, 2, 5, 5), dtype=dtype)
    w = np.ones((3, 2, 3, 3), dtype=dtype)
    assert conv2d(x, w).dtype == expected
    assert conv2d_naive(x, w).dtype == expected
    assert max_pool2d(x, 2).dtype == expected
    assert avg_pool2d(x, 2).dtype == expected
    assert convolve2d(x[0, 0], w[0, 0]).dtype == expected


def test_conv2d_accepts_a_torch_tensor():
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    assert_close(conv2d(x, w), F.conv2d(x, w).numpy(), np.float64)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_pad2d_matches_torch_pad(mode):
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    sides = (1, 3, 2, 0)  # left, right, top, bottom
    torch_mode = "constant" if mode == "zeros" else mode
    expected = F.pad(torch.from_numpy(x), sides, mode=torch_mode).numpy()
    np.testing.assert_array_equal(pad2d(x, sides, mode), expected)
    np.testing.assert_array_equal(pad2d(x, (2, 1), mode), pad2d(x, (1, 1, 2, 2), mode))


# ------------------------------------------------------------------ bad input

X = np.zeros((1, 4, 6, 6))
W = np.zeros((2, 4, 3, 3))

BAD_CONV = [
    # (description, kwargs for conv2d, exception, words the message must contain)
    ("x rank 5", dict(x=np.zeros((1, 1, 1, 6, 6))), ValueError, "x must have"),
    ("x rank 1", dict(x=np.zeros(6)), ValueError, "x must have"),
    ("weight rank 3", dict(weight=np.zeros((2, 4, 3))), ValueError, "weight must have"),
    ("2-D x with 4-D weight", dict(x=np.zeros((6, 6))), ValueError, "weight must have"),
    ("kernel larger than input", dict(weight=np.zeros((2, 4, 7, 3))), ValueError, "kernel_size 7"),
    ("dilated kernel too large", dict(dilation=3), ValueError, "dilated 7"),
    ("channels vs groups", dict(groups=3), ValueError, "groups"),
    ("weight in-channels", dict(weight=np.zeros((2, 3, 3, 3))), ValueError, "weight"),
    ("out-channels vs groups", dict(weight=np.zeros((3, 2, 3, 3)), groups=2), ValueError, "groups"),
    ("stride 0", dict(stride=0), ValueError, "stride"),
    ("stride pair with 0", dict(stride=(1, 0)), ValueError, "stride[1]"),
    ("negative padding", dict(padding=-1), ValueError, "padding"),
    ("negative dilation", dict(dilation=0), ValueError, "dilation"),
    ("groups 0", dict(groups=0), ValueError, "groups"),
    ("float stride", dict(stride=2.5), TypeError, "stride"),
    ("string stride", dict(stride="3"), TypeError, "stride"),
    ("float padding", dict(padding=1.5), TypeError, "padding"),
    ("float groups", dict(groups=1.0), TypeError, "groups"),
    ("bool dilation", dict(dilation=True), TypeError, "dilation"),
    ("padding triple", dict(padding=(1, 1, 1)), ValueError, "padding"),
    ("unknown padding string", dict(padding="full"), ValueError, "padding"),
    ("same with stride 2", dict(padding="same", stride=2), ValueError, "padding='same'"),
    ("unknown padding_mode", dict(padding_mode="mirror"), ValueError, "padding_mode"),
    ("reflect padding too large", dict(padding=6, padding_mode="reflect"), ValueError, "padding 6"),
    ("complex x", dict(x=np.zeros((1, 4, 6, 6), dtype=complex)), TypeError, "x must be real"),
    ("string x", dict(x=np.array([["a", "b"], ["c", "d"]])), TypeError, "x must be"),
    ("plain string x", dict(x="image"), TypeError, "x must be"),
    (
        "complex weight",
        dict(weight=np.zeros((2, 4, 3, 3), dtype=complex)),
        TypeError,
        "weight must be real",
    ),
    ("bias wrong length", dict(bias=np.zeros(3)), ValueError, "bias"),
    ("bias 2-D", dict(bias=np.zeros((2, 1))), ValueError, "bias"),
    ("empty weight", dict(weight=np.zeros((0, 4, 3, 3))), ValueError, "weight"),
]


@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [pytest.param(kw, e, words, id=name) for name, kw, e, words in BAD_CONV],
)
def test_conv2d_rejects_bad_input(fn, kwargs, exc, words):
    args = dict(x=X, weight=W) | kwargs
    with pytest.raises(exc) as info:
        fn(**args)
    assert words in str(info.value)


BAD_POOL = [
    ("padding above half the kernel", dict(kernel_size=3, padding=2), ValueError, "padding 2"),
    ("kernel larger than input", dict(kernel_size=7), ValueError, "kernel_size 7"),
    ("kernel 0", dict(kernel_size=0), ValueError, "kernel_size"),
    ("stride 0", dict(kernel_size=2, stride=0), ValueError, "stride"),
    ("float kernel", dict(kernel_size=2.5), TypeError, "kernel_size"),
    ("string kernel", dict(kernel_size="3"), TypeError, "kernel_size"),
    ("negative padding", dict(kernel_size=2, padding=-1), ValueError, "padding"),
    ("ceil_mode not a bool", dict(kernel_size=2, ceil_mode="yes"), TypeError, "ceil_mode"),
    ("x rank 5", dict(x=np.zeros((1, 1, 1, 4, 4)), kernel_size=2), ValueError, "x must have"),
    ("complex x", dict(x=np.zeros((4, 4), dtype=complex), kernel_size=2), TypeError, "x"),
]


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [pytest.param(kw, e, words, id=name) for name, kw, e, words in BAD_POOL],
)
def test_pool_rejects_bad_input(pool, kwargs, exc, words):
    args = dict(x=np.zeros((1, 2, 6, 6))) | kwargs
    with pytest.raises(exc) as info:
        pool(**args)
    assert words in str(info.value)


def test_pool_refuses_what_torch_refuses():
    x = torch.zeros(1, 1, 6, 6)
    for fn, ref in ((max_pool2d, F.max_pool2d), (avg_pool2d, F.avg_pool2d)):
        with pytest.raises(RuntimeError):
            ref(x, 3, padding=2)
        with pytest.raises(ValueError, match="padding"):
            fn(x.numpy(), 3, padding=2)


@pytest.mark.parametrize(
    ("size", "k", "s", "p"), [(2, 3, 2, 0), (3, 3, 2, 0), (4, 5, 3, 1), (2, 4, 3, 2), (5, 3, 2, 1)]
)
def test_pool_ceil_mode_window_may_hang_over_a_small_input_as_in_torch(size, k, s, p):
    """GoogLeNet-style pooling (k 3, s 2, ceil_mode) on a map smaller than the kernel."""
    x = torch.from_numpy(np.random.default_rng(size * k).standard_normal((2, 3, size, size + 1)))
    args = dict(kernel_size=k, stride=s, padding=p, ceil_mode=True)
    got, idx = max_pool2d(x.numpy(), **args, return_indices=True)
    expected, expected_idx = F.max_pool2d(x, **args, return_indices=True)
    assert_close(got, expected, np.float64)
    np.testing.assert_array_equal(idx, expected_idx.numpy())
    for include in (True, False):
        got = avg_pool2d(x.numpy(), **args, count_include_pad=include)
        assert_close(got, F.avg_pool2d(x, **args, count_include_pad=include), np.float64)


def test_pool_ceil_mode_still_refuses_an_empty_output():
    with pytest.raises(RuntimeError):
        F.max_pool2d(torch.zeros(1, 1, 1, 1), 3, 2, ceil_mode=True)
    with pytest.raises(ValueError, match="output"):
        max_pool2d(np.zeros((1, 1)), 3, 2, ceil_mode=True)


def test_max_pool2d_rejects_bad_dilation_and_flag():
    with pytest.raises(ValueError, match="dilation"):
        max_pool2d(np.zeros((4, 4)), 2, dilation=0)
    with pytest.raises(TypeError, match="return_indices"):
        max_pool2d(np.zeros((4, 4)), 2, return_indices=1)
    with pytest.raises(TypeError, match="count_include_pad"):
        avg_pool2d(np.zeros((4, 4)), 2, count_include_pad=None)


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        (dict(x=np.zeros((1, 4, 4)), kernel=np.ones((2, 2))), ValueError, "x must have"),
        (dict(x=np.zeros((4, 4)), kernel=np.ones((1, 2, 2))), ValueError, "kernel must have"),
        (dict(x=np.zeros((4, 4)), kernel=np.ones((2, 2)), mode="circular"), ValueError, "mode"),
        (dict(x=np.zeros((4, 4)), kernel=np.ones((2, 2), dtype=complex)), TypeError, "kernel"),
    ],
)
def test_convolve2d_rejects_bad_input(kwargs, exc, words):
    with pytest.raises(exc) as info:
        convolve2d(**kwargs)
    assert words in str(info.value)


def test_pad2d_rejects_bad_input():
    with pytest.raises(ValueError, match="mode"):
        pad2d(np.zeros((3, 3)), 1, "edge")
    with pytest.raises(ValueError, match="padding 3 with mode 'reflect'"):
        pad2d(np.zeros((3, 3)), 3, "reflect")
    with pytest.raises(ValueError, match="padding 4 with mode 'circular'"):
        pad2d(np.zeros((3, 3)), 4, "circular")
    # the message names the axis that breaks the rule, with that axis's padding
    with pytest.raises(ValueError, match="padding 2 with mode 'reflect' .* height 2"):
        pad2d(np.zeros((2, 10)), (2, 4), "reflect")
    with pytest.raises(ValueError, match="padding 5 with mode 'circular' .* width 4"):
        pad2d(np.zeros((9, 4)), (1, 5), "circular")
    with pytest.raises(ValueError, match="padding"):
        pad2d(np.zeros((3, 3)), -1)


def test_im2col_in_chunks_of_images_matches_torch():
    """The memory bound splits the batch; one image at a time gives the same numbers."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 9, 8))
    w = rng.standard_normal((6, 2, 3, 3))
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, groups=2).numpy()
    with mock.patch.object(_conv_blas, "IM2COL_BYTES", 1):
        assert_close(conv2d(x, w, stride=2, groups=2), expected, np.float64)


@pytest.mark.parametrize("width", [9, 70])  # narrow: flattened padded rows; wide: plain windows
@pytest.mark.parametrize("budget", [1, 2**20])
@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_im2col_stride_one_matches_torch(width, budget, mode):
    """Stride 1, few channels: both unrollings, whole batch or one image at a time."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 7, width)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 4)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    kwargs = dict(stride=1, padding=(1, 3), dilation=(2, 1), groups=2)
    expected = torch_conv(x, w, b, kwargs, mode)
    with (
        mock.patch.object(_conv_blas, "IM2COL_BYTES", budget),
        mock.patch("cnnlib._conv_blas.method", return_value="im2col"),
    ):
        assert_close(conv2d(x, w, b, padding_mode=mode, **kwargs), expected, np.float32)
        assert_close(
            conv2d(x, w, padding_mode=mode, **kwargs),
            torch_conv(x, w, None, kwargs, mode),
            np.float32,
        )


@pytest.mark.parametrize("block_bytes", [1, 700])
@pytest.mark.parametrize("block_rows", [7, 2**20])
@pytest.mark.parametrize("mode", ["zeros", "circular"])
def test_shift_form_copies_in_blocks_match_torch(block_bytes, block_rows, mode):
    """Copies in and out and the products go a few rows at a time; any block size works."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 32, 11, 9)).astype(np.float32)
    w = rng.standard_normal((6, 16, 3, 2)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    kwargs = dict(stride=1, padding=(2, 1), dilation=(1, 2), groups=2)
    expected = torch_conv(x, w, b, kwargs, mode)
    with (
        mock.patch.object(_conv_blas, "BLOCK_BYTES", block_bytes),
        mock.patch.object(_conv_blas, "SHIFT_BLOCK_ROWS", block_rows),
        mock.patch("cnnlib._conv_blas.method", return_value="shift"),
    ):
        assert_close(conv2d(x, w, b, padding_mode=mode, **kwargs), expected, np.float32)


def test_max_pool2d_nan_as_torch():
    """NaN propagates; torch reports the last NaN of the window (it updates on every NaN)."""
    x = np.array([[1.0, np.nan, 3.0], [np.nan, 0.0, 2.0], [1.0, 1.0, 1.0]])
    values, indices = max_pool2d(x, 2, 1, return_indices=True)
    t_values, t_indices = F.max_pool2d(torch.from_numpy(x)[None], 2, 1, return_indices=True)
    np.testing.assert_array_equal(values, t_values[0].numpy())  # NaN == NaN here
    np.testing.assert_array_equal(indices, t_indices[0].numpy())


@given(
    st.integers(1, 3),
    st.integers(3, 9),
    st.integers(3, 9),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(1, 2),
    st.integers(0, 10_000),
)
def test_im2col_and_col2im_are_torch_unfold_and_fold(c, h, w, k, s, p, d, seed):
    assume(d * (k - 1) + 1 <= min(h, w) + 2 * p)
    x = np.random.default_rng(seed).standard_normal((c, h, w))
    kw = dict(kernel_size=k, stride=s, padding=p, dilation=d)
    cols = im2col(x, **kw)
    ref = torch.nn.functional.unfold(torch.from_numpy(x)[None], **kw)[0].numpy()
    np.testing.assert_allclose(cols, ref, rtol=0, atol=0)
    back = col2im(cols, x.shape, **kw)
    ref_back = torch.nn.functional.fold(torch.from_numpy(ref)[None], (h, w), **kw)[0].numpy()
    np.testing.assert_allclose(back, ref_back, rtol=1e-12, atol=1e-12)
    # W_row @ X_col is the convolution
    weight = np.random.default_rng(seed + 1).standard_normal((2, c, k, k))
    out = (weight.reshape(2, -1) @ cols).reshape(
        2, *conv2d(x, weight, stride=s, padding=p, dilation=d).shape[1:]
    )
    np.testing.assert_allclose(out, conv2d(x, weight, stride=s, padding=p, dilation=d), atol=1e-10)


def test_im2col_by_hand_and_bad_arguments():
    x = np.arange(9.0).reshape(3, 3)
    cols = im2col(x, 2)
    # column (i, j) is the window at (i, j) read row by row
    assert cols.T.tolist() == [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    assert col2im(np.ones((4, 4)), (3, 3), 2).tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    with pytest.raises(ValueError, match="kernel_size"):
        im2col(x, 4)
    with pytest.raises(ValueError, match="cols must have shape"):
        col2im(np.ones((4, 3)), (3, 3), 2)
    with pytest.raises(ValueError, match="input_shape"):
        col2im(np.ones((4, 4)), 3, 2)


# ------------------------------------------------- found by mutation testing (make mutation)
@pytest.mark.parametrize(
    "call, error, name",
    [
        (
            lambda: avg_pool2d(np.ones((4, 4)), 2, count_include_pad=1),
            TypeError,
            "count_include_pad",
        ),
        (lambda: col2im(np.ones(3), (1, 4, 4), 2), ValueError, "cols"),
        (lambda: convolve2d(np.ones((3, 3)), np.ones((2, 2)), mode="wide"), ValueError, "mode"),
        (
            lambda: conv2d(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), padding="full"),
            ValueError,
            "padding",
        ),
        (
            lambda: conv2d(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), dilation=0),
            ValueError,
            "dilation",
        ),
        (lambda: max_pool2d(np.ones((4, 4)), 2, stride=0), ValueError, "stride"),
    ],
)
def test_each_bad_argument_is_named(call, error, name):
    with pytest.raises(error, match=rf"^{name}\b"):
        call()


def test_a_kernel_too_wide_names_the_width():
    """5 rows, 3 columns, a 3x5 kernel: fits the height, not the width."""
    with pytest.raises(ValueError, match=r"^kernel_size.*width"):
        conv2d(np.ones((1, 5, 3)), np.ones((1, 1, 3, 5)))


def test_conv2d_result_dtype_follows_every_operand_as_torch():
    """NumPy's promotion: float32 with a float64 operand (input, weight or bias) is float64."""
    f32 = np.float32
    x, w, b = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), np.ones(1)
    assert conv2d(x.astype(f32), w.astype(f32), b.astype(f32)).dtype == f32
    assert conv2d(x, w.astype(f32), b.astype(f32)).dtype == np.float64
    assert conv2d(x.astype(f32), w.astype(f32), b).dtype == np.float64


# -- tests found by mutation testing (tools/mutation.py conv), second round ------------------
def test_conv2d_in_chunks_under_a_small_budget_equals_torch(monkeypatch):
    """A budget that holds the output and two padded images per step: conv2d runs the batch
    of 5 in chunks of 2 (then 1), and the result is still torch's."""
    import cnnlib._validate as validate

    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((5, 2, 8, 8)), rng.standard_normal((3, 2, 3, 3))
    out_bytes, image_bytes = 5 * 3 * 6 * 6 * 8, (2 + 3) * 8 * 8 * 8
    monkeypatch.setattr(validate, "_memory_budget", out_bytes + 2 * 2 * image_bytes)
    want = F.conv2d(torch.tensor(x), torch.tensor(w)).numpy()
    np.testing.assert_allclose(conv2d(x, w), want, rtol=1e-10, atol=1e-12)


def test_pad2d_on_one_side_pair_and_its_memory_rule(monkeypatch):
    """Top and bottom only (torch order (left, right, top, bottom)) is padding too; the
    padded array's bytes are the rule, to the byte."""
    import cnnlib._validate as validate

    x = np.arange(6.0).reshape(2, 3)
    want = F.pad(torch.tensor(x)[None], (0, 0, 1, 0))[0].numpy()
    np.testing.assert_array_equal(pad2d(x, (0, 0, 1, 0)), want)
    monkeypatch.setattr(validate, "_memory_budget", 3 * 5 * 8)
    assert pad2d(x, (1, 1, 0, 1)).shape == (3, 5)
    monkeypatch.setattr(validate, "_memory_budget", 3 * 5 * 8 - 1)
    with pytest.raises(ValueError, match=r"^padding \(1, 1, 0, 1\) makes the padded array"):
        pad2d(x, (1, 1, 0, 1))


def test_col2im_with_padding_is_torch_fold():
    rng = np.random.default_rng(6)
    cols = rng.standard_normal((2 * 3 * 3, 4 * 5))  # (C kh kw, windows) of a 2 x 5 x 6 input
    ours = col2im(cols, (2, 5, 6), 3, stride=(1, 1), padding=(1, 0))
    want = F.fold(torch.tensor(cols)[None], (5, 6), 3, padding=(1, 0))[0].numpy()
    np.testing.assert_allclose(ours, want, rtol=1e-12)


def test_convolve2d_refuses_an_empty_image_or_an_empty_kernel_alone():
    for x, k in [(np.zeros((0, 3)), np.ones((2, 2))), (np.ones((3, 3)), np.zeros((2, 0)))]:
        with pytest.raises(ValueError, match="^x and kernel must not be empty"):
            convolve2d(x, k)


_X44 = np.ones((4, 4))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: im2col(_X44, 0), ValueError, r"^kernel_size must be"),
        (lambda: im2col(_X44, 2, stride=0), ValueError, r"^stride must be"),
        (lambda: im2col(_X44, 2, dilation=0), ValueError, r"^dilation must be"),
        (lambda: im2col(_X44, 5), ValueError, r"^kernel_size 5 .* padded input 4 \(height\)"),
        (lambda: im2col(_X44[None], (2, 5)), ValueError, r"^kernel_size 5 .* input 4 \(width\)"),
        (lambda: col2im(_X44, (0, 3, 3), 2), ValueError, r"^input_shape\[\] must be"),
        (lambda: pad2d(_X44, 1, value="a"), TypeError, r"^value must be"),
        (lambda: max_pool2d(_X44, 2, stride=0), ValueError, r"^stride must be"),
        (lambda: max_pool2d(_X44, 2, padding=-1), ValueError, r"^padding must be"),
        (lambda: max_pool2d(_X44, 2, ceil_mode=1), TypeError, r"^ceil_mode must be"),
        (lambda: max_pool2d(_X44, 7, padding=1), ValueError, r"^kernel_size 7 .* 6 \(height\)"),
        (
            lambda: conv2d(np.ones((1, 1, 3, 4)), np.ones((1, 1, 4, 1))),
            ValueError,
            r"^kernel_size 4 .* 3 \(height\)",
        ),  # fmt: skip
        (lambda: conv2d(_X44, np.ones((2, 2)), dilation=0), ValueError, r"^dilation must be"),
    ],
)
def test_more_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_memory_refusals_name_the_culprit_and_the_job(monkeypatch):
    """max_pool2d's windows: 2 copies of the window stack (n c H_out W_out taps numbers) and
    2 of x, blamed on the kernel; conv2d: a padding that makes the input over 4 times larger
    is blamed, to the byte of the output and one padded image."""
    import cnnlib._validate as validate

    x = np.ones((1, 1, 6, 6))
    need = 2 * (4 * 4 * 9 * 8) + 2 * x.nbytes
    monkeypatch.setattr(validate, "_memory_budget", need)
    assert max_pool2d(x, 3, stride=1).shape == (1, 1, 4, 4)
    monkeypatch.setattr(validate, "_memory_budget", need - 1)
    with pytest.raises(ValueError, match=r"^kernel_size \(3, 3\) makes max_pool2d's windows"):
        max_pool2d(x, 3, stride=1)
    small, w = np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1))
    need = 1 * 1 * 8 * 8 * 8 + (1 + 1) * 8 * 8 * 8  # output 8 x 8, padded input and output
    monkeypatch.setattr(validate, "_memory_budget", need)
    assert conv2d(small, w, padding=3).shape == (1, 1, 8, 8)
    monkeypatch.setattr(validate, "_memory_budget", need - 1)
    with pytest.raises(ValueError, match=r"^padding 3 makes conv2d need"):
        conv2d(small, w, padding=3)


def test_a_small_budget_splits_the_batch_and_keeps_the_dtype(monkeypatch):
    """Under the budget of the chunk test, the batch of 5 runs as 2 + 2 + 1 images (counted
    at the batch step), float32 stays float32; with no budget it runs at once."""
    import cnnlib._validate as validate

    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((5, 2, 8, 8), np.float32), rng.standard_normal((3, 2, 3, 3))
    w = w.astype(np.float32)
    sizes = []
    real = conv_module._conv_batch
    monkeypatch.setattr(conv_module, "_conv_batch", lambda a: sizes.append(len(a.x)) or real(a))
    monkeypatch.setattr(validate, "_memory_budget", 5 * 3 * 6 * 6 * 4 + 2 * 2 * 5 * 8 * 8 * 4)
    out = conv2d(x, w)
    assert sizes == [2, 2, 1] and out.dtype == np.float32
    want = F.conv2d(torch.tensor(x), torch.tensor(w)).numpy()
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)
    sizes.clear()
    monkeypatch.setattr(validate, "_memory_budget", None)
    conv2d(x, w)
    assert sizes == [5]


def test_dtypes_and_small_forms_against_torch():
    """float16 computes in float32 (as torch's CPU conv cannot); a float64 weight makes the
    result float64; im2col keeps float32; a 2-D conv takes a 0-d bias; a pair padding may be
    0 on one axis; max pooling with padding on rows only and dilation is torch's."""
    f16 = np.ones((1, 1, 4, 4), np.float16)
    assert conv2d(f16, np.ones((1, 1, 2, 2), np.float16)).dtype == np.float32
    assert conv2d(f16.astype(np.float32), np.ones((1, 1, 2, 2))).dtype == np.float64
    assert im2col(np.ones((1, 4, 4), np.float32), 2).dtype == np.float32
    assert conv2d(_X44, np.ones((2, 2)), bias=np.float64(1.0))[0, 0] == 5.0  # 4 ones + 1
    x = np.arange(6.0).reshape(2, 3)
    want = F.pad(torch.tensor(x)[None], (1, 1, 0, 0))[0].numpy()
    np.testing.assert_array_equal(pad2d(x, (0, 1)), want)
    x = np.random.default_rng(8).standard_normal((1, 1, 7, 6))
    want = F.max_pool2d(torch.tensor(x), 2, stride=2, padding=(1, 0), dilation=2).numpy()
    np.testing.assert_array_equal(max_pool2d(x, 2, stride=2, padding=(1, 0), dilation=2), want)
