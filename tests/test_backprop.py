"""cnnlib.backprop against torch autograd (float64) and against central differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from cnnlib.backprop import (
    avg_pool2d_backward,
    conv2d_backward,
    dilate,
    gradient_check,
    gradient_terms,
    max_pool2d_backward,
    numerical_gradient,
    rot180,
    torch_max_pool_backward_is_safe,
)
from cnnlib.conv import conv2d, max_pool2d

TOL = 1e-10


def torch_conv_grads(g, x, w, b, stride, padding, dilation, groups):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    y = F.conv2d(xt, wt, bt, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y.backward(torch.tensor(g))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def close(a, b, tol=TOL):
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return a.shape == b.shape and float(np.max(np.abs(a - b), initial=0.0)) <= tol * scale


pair = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))
pad = st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)))


@st.composite
def conv_case(draw):
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, padding, dilation = draw(pair), draw(pad), draw(pair)
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    h0, w0 = max(1, dh * (kh - 1) + 1 - 2 * ph), max(1, dw * (kw - 1) + 1 - 2 * pw)
    h, w = draw(st.integers(h0, h0 + 5)), draw(st.integers(w0, w0 + 5))
    seed = draw(st.integers(0, 2**32 - 1))
    return n, c_in, c_out, groups, h, w, kh, kw, stride, padding, dilation, seed


@given(conv_case())
def test_conv2d_backward_equals_torch_autograd(case):
    n, c_in, c_out, groups, h, w, kh, kw, stride, padding, dilation, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in // groups, kh, kw))
    b = rng.standard_normal(c_out)
    y = F.conv2d(
        torch.tensor(x), torch.tensor(weight), None, stride, padding, dilation, groups
    ).numpy()
    g = rng.standard_normal(y.shape)
    gx, gw, gb = conv2d_backward(g, x, weight, stride, padding, dilation, groups)
    tx, tw, tb = torch_conv_grads(g, x, weight, b, stride, padding, dilation, groups)
    assert close(gx, tx) and close(gw, tw) and close(gb, tb)


@pytest.mark.parametrize("shape", [(4, 5), (2, 4, 5)])
def test_conv2d_backward_keeps_the_input_form(shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    weight = rng.standard_normal((3, 3)) if len(shape) == 2 else rng.standard_normal((3, 2, 2, 2))
    y = conv2d(x, weight, padding=1)
    g = rng.standard_normal(y.shape)
    gx, gw, gb = conv2d_backward(g, x, weight, padding=1)
    x4 = x.reshape((1,) * (4 - x.ndim) + x.shape)
    w4 = weight.reshape((1,) * (4 - weight.ndim) + weight.shape)
    g4 = g.reshape((1,) * (4 - g.ndim) + g.shape)
    tx, tw, tb = torch_conv_grads(g4, x4, w4, np.zeros(w4.shape[0]), 1, 1, 1, 1)
    assert gx.shape == x.shape and gw.shape == weight.shape
    assert close(gx, tx.reshape(x.shape)) and close(gw, tw.reshape(weight.shape))
    assert close(gb, tb)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d_backward_same_padding_even_kernel():
    # "same" with an even kernel pads asymmetrically (one more at the bottom/right), as torch
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 2, 6, 7))
    weight = rng.standard_normal((3, 2, 4, 2))
    g = rng.standard_normal((1, 3, 6, 7))
    gx, gw, _ = conv2d_backward(g, x, weight, padding="same", dilation=(1, 2))
    tx, tw, _ = torch_conv_grads(g, x, weight, np.zeros(3), 1, "same", (1, 2), 1)
    assert close(gx, tx) and close(gw, tw)


def test_worked_example_by_hand():
    # x = [[0,1,2],[3,4,5],[6,7,8]], w = [[0,1],[2,3]], dL/dy = ones(2,2):
    # dL/dw[m,n] = sum of the 2x2 block of x starting at (m,n): [[8,12],[20,24]]
    # dL/dx = sum of the kernel over the windows covering each pixel
    x = np.arange(9.0).reshape(3, 3)
    w = np.array([[0.0, 1.0], [2.0, 3.0]])
    gx, gw, gb = conv2d_backward(np.ones((2, 2)), x, w)
    np.testing.assert_array_equal(gw, [[8, 12], [20, 24]])
    np.testing.assert_array_equal(gx, [[0, 1, 1], [2, 6, 4], [2, 5, 3]])
    assert gb.tolist() == [4.0]


def test_stride_is_a_dilation_of_the_gradient():
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(dilate(g, 2), [[1, 0, 2], [0, 0, 0], [3, 0, 4]])
    np.testing.assert_array_equal(dilate(g, (1, 3)), [[1, 0, 0, 2], [3, 0, 0, 4]])
    np.testing.assert_array_equal(rot180(np.array([[1, 2], [3, 4]])), [[4, 3], [2, 1]])


@st.composite
def pool_case(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), pair))
    ph = draw(st.integers(0, kh // 2))
    pw = draw(st.integers(0, kw // 2))
    padding = draw(st.sampled_from([(ph, pw), min(ph, pw)]))
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    h = draw(st.integers(kh, 8))
    w = draw(st.integers(kw, 8))
    ceil_mode = draw(st.booleans())
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    return (n, c, h, w), (kh, kw), stride, padding, ceil_mode, seed


def torch_pool_grad(fn, g, x, **kw):
    xt = torch.tensor(x, requires_grad=True)
    y = fn(xt, **kw)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), xt.grad.numpy()


@given(pool_case(), st.integers(1, 2))
def test_max_pool2d_backward_equals_torch_autograd(case, dilation):
    shape, k, stride, padding, ceil_mode, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if dilation * (k[0] - 1) + 1 > shape[2] or dilation * (k[1] - 1) + 1 > shape[3]:
        dilation = 1
    kw = dict(kernel_size=k, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    # torch's backward writes out of bounds when a window has no tap inside x (issue 14 item
    # 13): never send it such a configuration (test_max_pool2d_backward_skips_windows_with_no_
    # tap_inside checks ours on one, against numerical gradients)
    assume(torch_max_pool_backward_is_safe(shape[2:], k, stride, padding, dilation, ceil_mode))
    y = F.max_pool2d(torch.tensor(x), **kw)
    g = rng.standard_normal(tuple(y.shape))
    _, tx = torch_pool_grad(F.max_pool2d, g, x, **kw)
    gx = max_pool2d_backward(g, x, k, stride, padding, dilation, ceil_mode)
    assert close(gx, tx)


@given(pool_case(), st.booleans())
def test_avg_pool2d_backward_equals_torch_autograd(case, count_include_pad):
    shape, k, stride, padding, ceil_mode, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    kw = dict(
        kernel_size=k,
        stride=stride,
        padding=padding,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
    )
    y = F.avg_pool2d(torch.tensor(x), **kw)
    g = rng.standard_normal(tuple(y.shape))
    _, tx = torch_pool_grad(F.avg_pool2d, g, x, **kw)
    gx = avg_pool2d_backward(g, x, k, stride, padding, ceil_mode, count_include_pad)
    assert close(gx, tx)


def test_max_pool2d_backward_skips_windows_with_no_tap_inside():
    """Padding 1, dilation 3, stride 4: the second window's taps all miss the 2 x 8 input.

    Its output is -inf and its index lies outside the plane (as torch's); it passes no gradient,
    and the other windows' gradient is the numerical one.
    """
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8))
    args = ((2, 3), (1, 4), (1, 1), (3, 3))
    y, idx = max_pool2d(x, *args, return_indices=True)
    assert np.isneginf(y).any() and (idx >= x.size).any()
    g = np.where(np.isneginf(y), 5.0, rng.standard_normal(y.shape))
    got = max_pool2d_backward(g, x, *args)
    finite = np.isfinite(y)

    def loss(v):
        return float((g * max_pool2d(v, *args))[finite].sum())

    eps, numeric = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        numeric[i] = (loss(x + step) - loss(x - step)) / (2 * eps)
    np.testing.assert_allclose(got, numeric, atol=1e-8)


def test_max_pool_routes_the_gradient_to_the_argmax():
    x = np.array([[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 9.0, 1.0]])
    gx = max_pool2d_backward(np.array([[10.0, 20.0]]), x, 2)
    np.testing.assert_array_equal(gx, [[0, 10, 0, 0], [0, 0, 20, 0]])


@given(conv_case())
def test_numerical_gradient_check_of_conv2d_backward(case):
    n, c_in, c_out, groups, h, w, kh, kw, stride, padding, dilation, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, c_in, min(h, 6), min(w, 6)))
    weight = rng.standard_normal((c_out, c_in // groups, kh, kw))
    try:
        y = conv2d(x, weight, stride=stride, padding=padding, dilation=dilation, groups=groups)
    except ValueError:  # the crop to 6 made the kernel too large: nothing to check
        return
    g = rng.standard_normal(y.shape)

    def loss_x(xv):
        yv = conv2d(xv, weight, stride=stride, padding=padding, dilation=dilation, groups=groups)
        return float(np.sum(g * yv))

    def loss_w(wv):
        yv = conv2d(x, wv, stride=stride, padding=padding, dilation=dilation, groups=groups)
        return float(np.sum(g * yv))

    gx, gw, _ = conv2d_backward(g, x, weight, stride, padding, dilation, groups)
    # The loss is linear in x and in w: central differences have no truncation error at any
    # eps, only round-off (about |L| 1e-16 / eps), so a larger eps than the default is exact
    # to more digits (with eps=1e-6 a rare small entry reached a relative error of 2e-6).
    # An entry far below the gradient's scale (a sum that nearly cancels, 1e-7 beside entries
    # near 1) is compared on that scale (tiny): there the round-off alone, ~1e-11, would be
    # a relative error of 1e-5 (hypothesis found such cases). A wrong gradient is off by
    # O(scale) somewhere and still fails by orders of magnitude.
    err_x, report_x = gradient_check(loss_x, x, gx, eps=1e-4, tiny=1e-3 * np.abs(gx).max() + 1e-8)
    err_w, report_w = gradient_check(
        loss_w, weight, gw, eps=1e-4, tiny=1e-3 * np.abs(gw).max() + 1e-8
    )
    assert err_x < 1e-6, report_x
    assert err_w < 1e-6, report_w


def test_numerical_gradient_of_a_known_function():
    # f(x) = sum(x^3) + x0*x1 has gradient 3x^2 + (x1, x0, 0, ...)
    x = np.array([0.5, -1.0, 2.0])

    def f(v):
        return float(np.sum(v**3) + v[0] * v[1])

    expected = 3 * x**2 + np.array([x[1], x[0], 0.0])
    np.testing.assert_allclose(numerical_gradient(f, x, eps=1e-5), expected, rtol=1e-8)
    assert np.array_equal(x, [0.5, -1.0, 2.0])  # x untouched


def test_gradient_check_catches_a_wrong_gradient_and_says_where():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])

    def f(v):
        return float(np.sum(v**2))

    err, report = gradient_check(f, x, 2 * x)
    assert err < 1e-8 and "OK" in report
    wrong = 2 * x
    wrong[1, 0] = 5.0  # the right value is 6
    err, report = gradient_check(f, x, wrong)
    assert err == pytest.approx(1 / 11, rel=1e-6)
    assert "(1, 0)" in report and "WRONG" in report


def test_bad_input_names_the_argument():
    x = np.zeros((1, 2, 5, 5))
    w = np.zeros((3, 2, 3, 3))
    with pytest.raises(ValueError, match="grad_out must have the shape"):
        conv2d_backward(np.zeros((1, 3, 4, 4)), x, w)
    with pytest.raises(ValueError, match="groups"):
        conv2d_backward(np.zeros((1, 3, 3, 3)), x, w, groups=2)
    with pytest.raises(ValueError, match="stride"):
        conv2d_backward(np.zeros((1, 3, 3, 3)), x, w, stride=0)
    with pytest.raises(TypeError, match="padding"):
        conv2d_backward(np.zeros((1, 3, 3, 3)), x, w, padding=1.5)
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv2d_backward(np.zeros((1, 3, 3, 3)), x, w, dilation=3)
    with pytest.raises(ValueError, match="weight"):
        conv2d_backward(np.zeros((3, 3)), np.zeros((5, 5)), w)
    with pytest.raises(TypeError, match="grad_out"):
        conv2d_backward("abc", x, w)
    with pytest.raises(ValueError, match="grad_out must have the shape"):
        max_pool2d_backward(np.zeros((1, 2, 3, 3)), x, 2)
    with pytest.raises(ValueError, match="grad_out must have the shape"):
        avg_pool2d_backward(np.zeros((1, 2, 3, 3)), x, 2)
    with pytest.raises(TypeError, match="f must be a callable"):
        numerical_gradient(3.0, x)
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(np.sum, x, eps=0)
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda v: v, x)
    with pytest.raises(ValueError, match="analytic"):
        gradient_check(np.sum, x, np.zeros(3))


@given(pool_case(), st.integers(1, 2))
def test_max_pool2d_backward_with_ties_sends_the_gradient_to_the_first_maximum_as_torch(
    case, dilation
):
    """After a ReLU whole windows are 0: every cell ties. Torch routes each window's gradient to
    its first maximum (row by row); so must we, with overlapping windows too."""
    shape, k, stride, padding, ceil_mode, seed = case
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.integers(-3, 2, size=shape), 0).astype(float)  # mostly 0, many ties
    if dilation * (k[0] - 1) + 1 > shape[2] or dilation * (k[1] - 1) + 1 > shape[3]:
        dilation = 1
    kw = dict(kernel_size=k, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    # torch's backward writes out of bounds when a window has no tap inside x (issue 14 item
    # 13): never send it such a configuration (test_max_pool2d_backward_skips_windows_with_no_
    # tap_inside checks ours on one, against numerical gradients)
    assume(torch_max_pool_backward_is_safe(shape[2:], k, stride, padding, dilation, ceil_mode))
    y = F.max_pool2d(torch.tensor(x), **kw)
    g = rng.standard_normal(tuple(y.shape))
    _, tx = torch_pool_grad(F.max_pool2d, g, x, **kw)
    gx = max_pool2d_backward(g, x, k, stride, padding, dilation, ceil_mode)
    assert close(gx, tx)


def test_max_pool_tie_in_an_all_zero_window_goes_to_its_top_left_cell():
    x = np.zeros((4, 4))
    x[2, 3] = 1.0  # one window has a single winner, three are all zero
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 3] = 1.0, 2.0, 3.0, 4.0
    assert np.array_equal(max_pool2d_backward(g, x, 2), expected)
    xt = torch.tensor(x[None, None], requires_grad=True)
    (F.max_pool2d(xt, 2) * torch.tensor(g)).sum().backward()
    assert np.array_equal(xt.grad[0, 0].numpy(), expected)  # torch: the same rule


# -- gradient_terms: the products behind one entry, against torch autograd and brute force --------
def test_gradient_terms_hand_example():
    x = np.arange(9.0).reshape(3, 3)
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = np.array([[1.0, -1.0], [2.0, 0.5]])
    # pixel (0, 0) is read only by output (0, 0), under tap (0, 0): 1 * 1
    (t,) = gradient_terms(g, x, w, (0, 0))
    assert (t["grad_out"], t["weight"], t["product"]) == ((0, 0), (0, 0), 1.0)
    # dL/dw[0, 0] = sum_ij g[i, j] x[i, j] = 1*0 - 1*1 + 2*3 + 0.5*4 = 7
    terms = gradient_terms(g, x, w, (0, 0), wrt="weight")
    assert [t["input"] for t in terms] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert sum(t["product"] for t in terms) == 7.0


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_gradient_terms_sum_to_autograd_and_are_the_covering_windows(stride, padding):
    rng = np.random.default_rng(10 * stride + padding)
    x = rng.integers(-3, 4, size=(6, 5)).astype(float)
    w = rng.integers(-2, 3, size=(3, 2)).astype(float)
    xt = torch.tensor(x[None, None], requires_grad=True)
    wt = torch.tensor(w[None, None], requires_grad=True)
    y = F.conv2d(xt, wt, stride=stride, padding=padding)
    g = rng.integers(-2, 3, size=tuple(y.shape[2:])).astype(float)
    (y * torch.tensor(g)).sum().backward()
    gx, gw = xt.grad[0, 0].numpy(), wt.grad[0, 0].numpy()
    ho, wo = g.shape
    for r in range(6):
        for c in range(5):
            terms = gradient_terms(g, x, w, (r, c), "x", stride, padding)
            assert sum(t["product"] for t in terms) == pytest.approx(gx[r, c], abs=1e-12)
            expected = {
                ((i, j), (a, b), g[i, j] * w[a, b])
                for i in range(ho)
                for j in range(wo)
                for a in range(3)
                for b in range(2)
                if i * stride + a - padding == r and j * stride + b - padding == c
            }
            assert {(t["grad_out"], t["weight"], t["product"]) for t in terms} == expected
    xp = np.pad(x, padding)
    for m in range(3):
        for n in range(2):
            terms = gradient_terms(g, x, w, (m, n), "weight", stride, padding)
            assert len(terms) == g.size
            assert sum(t["product"] for t in terms) == pytest.approx(gw[m, n], abs=1e-12)
            for t in terms:
                i, j = t["grad_out"]
                assert t["other_value"] == xp[i * stride + m, j * stride + n]


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(cell=(6, 0)), "cell (6, 0) must lie inside the x of shape (6, 6)"),
        (dict(cell=(0, 3), wrt="weight"), "inside the weight of shape (3, 3)"),
        (dict(wrt="bias"), "wrt must be one of"),
        (dict(grad_out=np.zeros((3, 3))), "grad_out must have the shape of the forward output"),
        (dict(stride=0), "stride must be a positive integer"),
    ],
)
def test_gradient_terms_bad_input_names_the_argument(kwargs, words):
    args = dict(grad_out=np.zeros((4, 4)), x=np.zeros((6, 6)), weight=np.ones((3, 3)), cell=(0, 0))
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        gradient_terms(**{**args, **kwargs})


# ------------------------------------------------- found by mutation testing (make mutation)
_X = np.ones((1, 1, 4, 4))
_G = np.ones((1, 1, 2, 2))
_W = np.ones((1, 1, 3, 3))


@pytest.mark.parametrize(
    "call, error, name",
    [
        (lambda: rot180(np.ones(3)), ValueError, "weight"),
        (lambda: dilate(np.ones(3), 2), ValueError, "grad"),
        (lambda: conv2d_backward(_G, np.ones(3), _W), ValueError, "x"),
        (lambda: conv2d_backward(_G, _X, _W, dilation=0), ValueError, "dilation"),
        (lambda: conv2d_backward(_G, _X, _W, groups=0), ValueError, "groups"),
        (lambda: avg_pool2d_backward(_G, _X, 2, stride=0), ValueError, "stride"),
        (lambda: avg_pool2d_backward(_G, _X, 2, padding=-1), ValueError, "padding"),
        (lambda: avg_pool2d_backward(np.ones(5), _X, 2), ValueError, "grad_out"),
        (lambda: gradient_check(np.sum, np.ones(2), np.ones(2), tiny=0), ValueError, "tiny"),
        (lambda: gradient_check(np.sum, np.ones(2), np.ones(2), eps=0), ValueError, "eps"),
        (
            lambda: gradient_terms(np.ones((2, 2)), np.ones((4, 4)), np.ones((3, 3)), (-1, 0)),
            ValueError,
            "cell",
        ),
        (
            lambda: gradient_terms(np.ones((2, 2)), np.ones((4, 4)), np.ones(3), (0, 0)),
            ValueError,
            "weight",
        ),
        (
            lambda: gradient_terms(
                np.ones((2, 2)), np.ones((4, 4)), np.ones((3, 3)), (0, 0), stride=0
            ),
            ValueError,
            "stride",
        ),
        (lambda: torch_max_pool_backward_is_safe(0, 2), ValueError, "input_size"),
        (lambda: torch_max_pool_backward_is_safe(8, 0), ValueError, "kernel_size"),
        (lambda: torch_max_pool_backward_is_safe(8, 2, stride=0), ValueError, "stride"),
        (lambda: torch_max_pool_backward_is_safe(8, 2, dilation=0), ValueError, "dilation"),
    ],
)
def test_each_bad_argument_is_named(call, error, name):
    with pytest.raises(error, match=rf"^{name}\b"):
        call()


def test_gradients_keep_the_inputs_precision():
    """float32 in, float32 out (as torch); a float64 among the inputs makes the result float64."""
    f32 = np.float32
    gx, gw, gb = conv2d_backward(_G.astype(f32), _X.astype(f32), _W.astype(f32))
    assert gx.dtype == gw.dtype == gb.dtype == f32
    gx, gw, gb = conv2d_backward(_G.astype(f32), _X, _W.astype(f32))  # x float64
    assert gx.dtype == gw.dtype == gb.dtype == np.float64
    gx, gw, gb = conv2d_backward(_G.astype(f32), _X.astype(f32), _W)  # weight float64
    assert gx.dtype == np.float64
    assert max_pool2d_backward(_G.astype(f32), _X.astype(f32), 2).dtype == f32
    assert max_pool2d_backward(_G, _X.astype(f32), 2).dtype == np.float64
    assert dilate(_G.astype(f32), 2).dtype == f32


def test_gradient_check_verdicts_by_hand():
    """f = sum(x^2) at x = (1, 2): the gradient is (2, 4). Off by 1e-4 relative: suspicious;
    off by a half: wrong; a 0-d x is checked like any other."""
    f = lambda v: float((v**2).sum())  # noqa: E731
    x = np.array([1.0, 2.0])
    assert "[OK]" in gradient_check(f, x, np.array([2.0, 4.0])).report
    assert "[suspicious]" in gradient_check(f, x, np.array([2.0, 4.0 * (1 + 2e-4)])).report
    assert "[WRONG]" in gradient_check(f, x, np.array([2.0, 6.0])).report
    assert gradient_check(f, np.zeros(0), np.zeros(0)) == (0.0, "x is empty: nothing to check")
    scalar = gradient_check(f, np.array(3.0), np.array(6.0))
    assert scalar.error < 1e-6 and "[OK]" in scalar.report
    assert numerical_gradient(f, np.array(3.0)) == pytest.approx(6.0)


def test_avg_pool_gradient_keeps_float32_like_torch():
    """torch's avg_pool2d gradient of a float32 input is float32 (and close to ours); the
    divisors are integers and must not promote the result to float64."""
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    g = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)
    xt = torch.tensor(x, requires_grad=True)
    F.avg_pool2d(xt, 2, stride=1, padding=0).backward(torch.tensor(g))
    ours = avg_pool2d_backward(g, x, 2, stride=1)
    assert xt.grad.dtype == torch.float32 and ours.dtype == np.float32
    np.testing.assert_allclose(ours, xt.grad.numpy(), rtol=1e-6)
    assert avg_pool2d_backward(g.astype(np.float64), x, 2, stride=1).dtype == np.float64


# -- tests found by mutation testing (tools/mutation.py backprop), second round --------------
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv_backward_with_string_padding_against_torch(padding):
    """'same' with an even dilated kernel pads one more after than before, as torch."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 7, 8)), rng.standard_normal((3, 2, 4, 3))
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, padding=padding, dilation=(1, 2))
    g = rng.standard_normal(tuple(y.shape))
    y.backward(torch.tensor(g))
    gx, gw, _ = conv2d_backward(g, x, w, padding=padding, dilation=(1, 2))
    assert close(gx, xt.grad.numpy()) and close(gw, wt.grad.numpy())


def test_pool_backward_of_3d_and_2d_inputs_against_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 6))
    xt = torch.tensor(x, requires_grad=True)
    y = F.avg_pool2d(xt, 3, stride=2, padding=1)
    g = rng.standard_normal(tuple(y.shape))
    y.backward(torch.tensor(g))
    assert close(avg_pool2d_backward(g, x, 3, stride=2, padding=1), xt.grad.numpy())
    assert close(avg_pool2d_backward(g[0], x[0], 3, stride=2, padding=1), xt.grad.numpy()[0])
    with pytest.raises(ValueError, match="avg_pool2d output"):
        avg_pool2d_backward(g[:, :2], x, 3, stride=2, padding=1)
    with pytest.raises(ValueError, match="max_pool2d output"):
        max_pool2d_backward(g[:, :2], x, 3, stride=2, padding=1)


def test_backward_memory_rules_exactly(monkeypatch):
    """dilate: the dilated array's bytes; conv2d_backward: 3 padded copies of x at 4 bytes or
    more a number, blamed on the padding when the padded input is over 4 times x. At the
    budget itself the rule passes (conv2d_backward's inner conv2d then asks for more)."""
    import cnnlib._validate as validate

    g = np.ones((2, 3, 4), np.float32)
    cases = [
        (lambda: dilate(g, (2, 3)), 2 * 5 * 10 * 4, r"^stride \(2, 3\) makes the dilated grad"),
        (
            lambda: conv2d_backward(np.ones((1, 1, 6, 6)), np.ones((1, 1, 2, 2)), _W, padding=3),
            3 * 1 * 1 * 8 * 8 * 8,
            r"^padding makes conv2d_backward",
        ),
        (
            lambda: conv2d_backward(
                np.ones((1, 1, 3, 3), np.float16), np.ones((1, 1, 5, 5), np.float16), _W
            ),
            3 * 25 * 4,
            r"^x of shape \(1, 1, 5, 5\) makes conv2d_backward",
        ),
    ]
    for (call, nbytes, message), at_budget in zip(cases, [None, "conv2d", "conv2d"], strict=True):
        monkeypatch.setattr(validate, "_memory_budget", nbytes)
        if at_budget is None:
            call()
        else:
            with pytest.raises(ValueError, match=rf"makes {at_budget} need"):
                call()
        monkeypatch.setattr(validate, "_memory_budget", nbytes - 1)
        with pytest.raises(ValueError, match=message):
            call()


def test_gradients_follow_grad_out_precision_too():
    f32 = np.float32
    gx, gw, gb = conv2d_backward(_G, _X.astype(f32), _W.astype(f32))  # grad_out float64
    assert gx.dtype == gw.dtype == gb.dtype == np.float64


def test_numerical_gradient_takes_up_to_8_dimensions():
    f = lambda v: float(v.sum())  # noqa: E731
    assert numerical_gradient(f, np.ones((1,) * 8)).shape == (1,) * 8
    with pytest.raises(ValueError, match="^x must have"):
        numerical_gradient(f, np.ones((1,) * 9))
    with pytest.raises(ValueError, match="^analytic"):
        gradient_check(f, np.ones(2), np.ones((1,) * 9))
    with pytest.raises(ValueError, match="^eps"):
        gradient_check(f, np.ones(2), np.ones(2), eps=-1e-6)


def test_more_bad_arguments_are_named_and_eps_is_used():
    """gradient_check differentiates with the eps it is given: for x^3 at 1 the central
    difference is 3 + eps^2 (by hand), so eps = 0.1 is off by 0.01."""
    with pytest.raises(ValueError, match="^grad_out must have 2 dimensions"):
        gradient_terms(np.ones(3), np.ones((4, 4)), np.ones((3, 3)), (0, 0))
    with pytest.raises(ValueError, match="^padding must be a non-negative integer"):
        gradient_terms(np.ones((2, 2)), np.ones((4, 4)), np.ones((3, 3)), (0, 0), padding=-1)
    with pytest.raises(TypeError, match="^ceil_mode must be True or False"):
        torch_max_pool_backward_is_safe(8, 2, ceil_mode=1)
    cube = lambda v: float((v**3).sum())  # noqa: E731
    r = gradient_check(cube, np.array([1.0]), np.array([3.0]), eps=0.1)
    assert r.error == pytest.approx(0.01 / (3 + 3.01), rel=1e-3)  # |a - n| / (|a| + |n|)


# -- notebook 06's figures: what they draw, checked against the hand-worked examples ----------
@pytest.fixture
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def _grid(ax) -> np.ndarray:
    return np.asarray(ax.images[0].get_array())


def _outlines(ax) -> list[tuple[float, float, float, float]]:
    """The rectangles drawn on ``ax``: (row, col, height, width) of the cells they outline."""
    return [(p.get_y() + 0.5, p.get_x() + 0.5, p.get_height(), p.get_width()) for p in ax.patches]


def test_show_rotation_names_the_tap_under_the_pixel_in_each_window(close_figures):
    """The notebook's worked example by hand: the centre pixel of a 3 x 3 input sits under
    w[1,1], w[1,0], w[0,1], w[0,0] in the windows of y[0,0], y[0,1], y[1,0], y[1,1]."""
    from cnnlib.backprop import show_rotation

    x, w = np.arange(9.0).reshape(3, 3), np.array([[0.0, 1.0], [2.0, 3.0]])
    fig = show_rotation(x, w, (1, 1))
    axes = fig.axes
    assert [ax.get_title() for ax in axes[:4]] == [
        "window of y[0,0]", "window of y[0,1]", "window of y[1,0]", "window of y[1,1]"
    ]  # fmt: skip
    assert [ax.get_xlabel() for ax in axes[:4]] == [
        "x[1,1] under w[1,1]", "x[1,1] under w[1,0]", "x[1,1] under w[0,1]", "x[1,1] under w[0,0]"
    ]  # fmt: skip
    for ax, (i, j) in zip(axes[:4], [(0, 0), (0, 1), (1, 0), (1, 1)], strict=True):
        assert _outlines(ax) == [(1, 1, 1, 1), (i, j, 2, 2)]  # the pixel, then the window
    np.testing.assert_array_equal(_grid(axes[4]), w)
    np.testing.assert_array_equal(_grid(axes[5]), [[3.0, 2.0], [1.0, 0.0]])
    # a corner pixel lies in one window only
    assert len(show_rotation(x, w, (0, 0)).axes) == 3
    with pytest.raises(ValueError, match="cell"):
        show_rotation(x, w, (3, 0))


def test_show_dilation_draws_g_dilated_then_padded(close_figures):
    from cnnlib.backprop import show_dilation

    g = np.array([[1.0, -2.0], [3.0, 4.0]])
    fig = show_dilation(g, 2, 3)
    small, dilated, padded = (_grid(ax) for ax in fig.axes)
    np.testing.assert_array_equal(small, g)
    np.testing.assert_array_equal(dilated, [[1, 0, -2], [0, 0, 0], [3, 0, 4]])
    assert padded.shape == (7, 7) and padded[2, 2] == 1 and padded[4, 4] == 4
    assert padded.sum() == g.sum() and np.count_nonzero(padded) == 4
    assert _outlines(fig.axes[2]) == [(0, 0, 3, 3)]
    assert fig.axes[1].get_title() == "dilate(g, 2)"
    with pytest.raises(ValueError, match="stride"):
        show_dilation(g, 0, 3)


def test_show_pool_routing_sends_each_window_gradient_to_its_winner(close_figures):
    """By hand: the winners of the four 2 x 2 windows are 4, 5, 6 and 7."""
    from cnnlib.backprop import show_pool_routing

    x = np.array([[1.0, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [3, 6, 1, 1]])
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    fig = show_pool_routing(x, g, 2)
    winners = sorted(_outlines(fig.axes[0]))
    assert winners == [(1, 0, 1, 1), (1, 3, 1, 1), (2, 2, 1, 1), (3, 1, 1, 1)]
    expected_max = np.zeros((4, 4))
    expected_max[1, 0], expected_max[1, 3], expected_max[3, 1], expected_max[2, 2] = 1, 2, 3, 4
    np.testing.assert_array_equal(_grid(fig.axes[2]), expected_max)
    np.testing.assert_array_equal(_grid(fig.axes[3]), np.kron(g, np.ones((2, 2))) / 4)
    # a tie (an all-zero window, as after a ReLU): the first cell, row by row, wins
    fig = show_pool_routing(np.zeros((2, 2)), np.array([[5.0]]), 2)
    assert _outlines(fig.axes[0]) == [(0, 0, 1, 1)]
    np.testing.assert_array_equal(_grid(fig.axes[2]), [[5, 0], [0, 0]])
    with pytest.raises(ValueError, match="grad_out must have the shape"):
        show_pool_routing(x, np.ones((3, 3)), 2)


def test_show_kernel_fit_draws_the_loss_and_both_kernels(close_figures):
    from cnnlib.backprop import show_kernel_fit

    target = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    learned = target + np.array([[0.004, -0.001, 0], [0, -0.004, 0], [0, 0, 0]])
    fig = show_kernel_fit([1.0, 0.1, 0.01], learned, target, name="Sobel (hidden)")
    curve, left, right = fig.axes
    assert curve.get_yscale() == "log" and list(curve.lines[0].get_ydata()) == [1.0, 0.1, 0.01]
    labels = [t.get_text() for t in left.texts]
    assert labels[:3] == ["-1.00", "0.00", "1.00"] and labels[4] == "0.00"  # never "-0.00"
    assert [t.get_text() for t in right.texts][:3] == ["-1", "0", "1"]
    assert right.get_title() == "Sobel (hidden)"
    with pytest.raises(ValueError, match="losses"):
        show_kernel_fit(np.ones((2, 2)), learned, target)
