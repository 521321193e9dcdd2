"""cnnlib.equivariance: shifts, equivariance errors, shift consistency, blur pooling."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.conv import conv2d, max_pool2d
from cnnlib.equivariance import (
    BlurPool2d,
    binomial_filter,
    blur_pool2d,
    conv2d_matrix,
    equivariance_error,
    interior_is_empty,
    invariance_error,
    output_shifts,
    pooling_invariance,
    shift,
    shift_consistency,
)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 16, 16))
W = RNG.standard_normal((3, 2, 3, 3))


def conv_circular(x):
    return conv2d(x, W, padding=1, padding_mode="circular")


def conv_zeros(x):
    return conv2d(x, W, padding=1)


def conv_strided(x):
    return conv2d(x, W, stride=2, padding=1, padding_mode="circular")


def maxpool(x):
    return max_pool2d(x, 2)


def test_shift_by_hand():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(shift(x, 0, 1), [[2, 0, 1], [5, 3, 4]])
    np.testing.assert_array_equal(shift(x, 0, 1, "zeros"), [[0, 0, 1], [0, 3, 4]])
    np.testing.assert_array_equal(shift(x, -1, -1, "zeros"), [[4, 5, 0], [0, 0, 0]])
    np.testing.assert_array_equal(shift(x, 5, 0, "zeros"), np.zeros((2, 3)))
    np.testing.assert_array_equal(shift(x, 2, 3), x)  # a full turn


@given(st.integers(-7, 7), st.integers(-7, 7), st.sampled_from(["circular", "zeros"]))
def test_shift_matches_the_definition(dy, dx, mode):
    x = RNG.standard_normal((3, 5, 6))
    out = shift(x, dy, dx, mode)
    for i in range(5):
        for j in range(6):
            r, c = i - dy, j - dx
            if mode == "circular":
                expected = x[:, r % 5, c % 6]
            elif 0 <= r < 5 and 0 <= c < 6:
                expected = x[:, r, c]
            else:
                expected = 0.0
            np.testing.assert_array_equal(out[:, i, j], expected)


def test_circular_convolution_is_equivariant_at_every_shift():
    errors = [equivariance_error(conv_circular, X, dy, dx) for dy in range(16) for dx in range(16)]
    assert max(errors) < 1e-12


odd = st.sampled_from([1, 3, 5])


@given(odd, odd, st.integers(-6, 6), st.integers(-6, 6))
def test_circular_convolution_equivariance_property(kh, kw, dy, dx):
    x = RNG.standard_normal((1, 2, 9, 10))
    w = RNG.standard_normal((2, 2, kh, kw))

    def f(v):
        return conv2d(v, w, padding=(kh // 2, kw // 2), padding_mode="circular")

    assert equivariance_error(f, x, dy, dx) < 1e-12


def test_zero_padding_is_exact_in_the_interior_only():
    for dy, dx in [(1, 0), (0, 2), (3, -2), (-1, -1)]:
        interior = equivariance_error(conv_zeros, X, dy, dx, mode="zeros", region="interior")
        full = equivariance_error(conv_zeros, X, dy, dx, mode="zeros", region="full")
        assert interior == 0.0
        assert full > 1e-3  # measured: the borders differ


def test_interior_with_circular_shift_and_zero_padding():
    # the wrap-around seam sits at the border that "interior" drops
    assert equivariance_error(conv_zeros, X, 2, 3, region="interior") == 0.0
    assert equivariance_error(conv_zeros, X, 2, 3, region="full") > 1e-3


@pytest.mark.parametrize("f", [conv_strided, maxpool], ids=["strided conv", "max pool"])
def test_stride_breaks_equivariance_except_at_multiples_of_the_stride(f):
    for dy in range(-4, 5):
        for dx in range(-4, 5):
            err = equivariance_error(f, X, dy, dx, stride=2)
            if dy % 2 == 0 and dx % 2 == 0:
                assert err < 1e-12, (dy, dx, err)
            else:
                assert err > 1e-2, (dy, dx, err)


def test_odd_shift_error_is_against_the_nearer_output_shift():
    # computed by hand for shift (1, 0), stride 2: candidates (0, 0) and (1, 0)
    y = maxpool(X)
    ys = maxpool(shift(X, 1, 0))
    errs = [np.linalg.norm(ys - shift(y, oy, 0)) / np.linalg.norm(shift(y, oy, 0)) for oy in (0, 1)]
    assert equivariance_error(maxpool, X, 1, 0, stride=2) == pytest.approx(min(errs), rel=1e-12)


def test_blur_before_subsampling_reduces_the_aliasing():
    x = RNG.standard_normal((4, 32, 32))

    def plain(v):
        return max_pool2d(v, 2)

    def blurred(v):
        return blur_pool2d(max_pool2d(np.pad(v, ((0, 0), (0, 1), (0, 1)), mode="wrap"), 2, 1))

    for dy, dx in [(1, 0), (0, 1), (1, 1), (3, 1)]:
        e_plain = equivariance_error(plain, x, dy, dx, stride=2)
        e_blur = equivariance_error(blurred, x, dy, dx, stride=2)
        assert e_blur < 0.8 * e_plain, (dy, dx, e_plain, e_blur)
    # and it stays exact at even shifts
    assert equivariance_error(blurred, x, 2, 4, stride=2) < 1e-12


def test_binomial_filter_and_blur_pool_against_torch():
    np.testing.assert_allclose(binomial_filter(3), np.outer([1, 2, 1], [1, 2, 1]) / 16)
    np.testing.assert_allclose(binomial_filter(4).sum(), 1.0)
    x = RNG.standard_normal((2, 3, 8, 8))
    for mode, tmode in [("circular", "circular"), ("reflect", "reflect"), ("zeros", "constant")]:
        ours = blur_pool2d(x, stride=2, filter_size=3, padding_mode=mode)
        k = torch.tensor(binomial_filter(3)).expand(3, 1, 3, 3)
        ref = F.conv2d(F.pad(torch.tensor(x), (1, 1, 1, 1), mode=tmode), k, stride=2, groups=3)
        np.testing.assert_allclose(ours, ref.numpy(), atol=1e-12)
        module = BlurPool2d(3, padding_mode=mode).double()
        np.testing.assert_allclose(module(torch.tensor(x)).numpy(), ref.numpy(), atol=1e-12)
    assert blur_pool2d(x[0, 0]).shape == (4, 4)


@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(3, 6),
    st.integers(3, 6),
    st.integers(1, 2),
    st.integers(0, 1),
    st.sampled_from(["zeros", "circular"]),
)
def test_conv2d_matrix_times_x_is_conv2d(kh, kw, h, w, stride, padding, mode):
    x = RNG.standard_normal((h, w))
    k = RNG.standard_normal((kh, kw))
    a = conv2d_matrix(k, (h, w), stride, padding, mode)
    ref = F.conv2d(
        F.pad(torch.tensor(x)[None, None], (padding,) * 4, mode=mode.replace("zeros", "constant")),
        torch.tensor(k)[None, None],
        stride=stride,
    )[0, 0].numpy()
    np.testing.assert_allclose(a @ x.ravel(), ref.ravel(), atol=1e-12)
    # parameter sharing + local connectivity: each full row holds exactly the kernel's values
    if padding == 0:
        for row in a:
            assert sorted(row[row != 0]) == sorted(k[k != 0].ravel())


class ToyClassifier:
    """Predicts the row of the brightest pixel: changes under vertical shifts only."""

    def __call__(self, batch):
        flat = batch.reshape(len(batch), -1)
        return np.argmax(flat, axis=1) // batch.shape[-1]


def test_shift_consistency_by_construction():
    images = RNG.standard_normal((50, 6, 6))
    clf = ToyClassifier()
    assert shift_consistency(clf, images, [(0, 1), (0, 3), (0, -2)]) == 1.0
    assert shift_consistency(clf, images, [(1, 0)]) == 0.0
    assert shift_consistency(clf, images, [(0, 2), (1, 0)]) == 0.5
    # Zhang's random pairs: agreement exactly when the two vertical shifts coincide
    m = 2
    rng = np.random.default_rng(7)
    s1 = rng.integers(-m, m + 1, size=(2, 50))
    s2 = rng.integers(-m, m + 1, size=(2, 50))
    expected = np.mean(s1[0] == s2[0])
    assert shift_consistency(clf, images, m, seed=7) == pytest.approx(expected)
    scores = np.eye(3)[[0, 1, 2]]
    assert shift_consistency(lambda b: scores, images[:3], 3) == 1.0


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="mode"):
        shift(X, 1, 1, mode="wrap")
    with pytest.raises(TypeError, match="dy"):
        shift(X, 1.5, 1)
    with pytest.raises(ValueError, match="region"):
        equivariance_error(conv_zeros, X, 1, 1, region="middle")
    with pytest.raises(TypeError, match="f must be a callable"):
        equivariance_error(None, X, 1, 1)
    with pytest.raises(ValueError, match="interior is empty"):
        equivariance_error(conv_zeros, X, 8, 0, region="interior")
    with pytest.raises(ValueError, match="stride"):
        equivariance_error(conv_zeros, X, 1, 1, stride=0)
    with pytest.raises(ValueError, match="classifier must return"):
        shift_consistency(lambda b: np.zeros((len(b), 2, 2)), X[:, None], [(1, 1)])
    with pytest.raises(ValueError, match="at least one"):
        shift_consistency(ToyClassifier(), X, [])
    with pytest.raises(ValueError, match="padding_mode"):
        blur_pool2d(X, padding_mode="edge")
    with pytest.raises(ValueError, match="larger than"):
        conv2d_matrix(np.ones((5, 5)), (3, 3))
    with pytest.raises(
        ValueError, match=r"weight \(5, 5\) is larger than the padded input \(4, 4\)"
    ):
        conv2d_matrix(np.ones((5, 5)), (2, 2), padding=1)


@given(
    st.integers(3, 9), st.integers(-6, 6), st.integers(-6, 6), st.integers(1, 3), st.integers(0, 2)
)
def test_interior_is_empty_exactly_when_a_border_crop_leaves_nothing(size, dy, dx, s, margin):
    """Empty when, for a candidate output shift o (floor or ceil of d / s), cropping
    |o| + margin cells from both borders of the output leaves no cell."""
    h, w = size, size + 1
    expected = False
    for oy in {dy // s, -(-dy // s)}:
        for ox in {dx // s, -(-dx // s)}:
            my, mx = abs(oy) + margin, abs(ox) + margin
            expected |= np.ones((h, w))[my : h - my, mx : w - mx].size == 0
    assert interior_is_empty((h, w), dy, dx, (s, s), margin) == expected
    x = RNG.standard_normal((h * s, w * s))
    try:
        equivariance_error(
            lambda v: v[::s, ::s], x, dy, dx, region="interior", margin=margin, stride=s
        )
    except ValueError as e:
        assert expected and "interior is empty" in str(e)
    else:
        assert not expected


def test_invariance_error_is_the_relative_change_of_the_output():
    x = np.random.default_rng(0).standard_normal((6, 7))
    rolled = np.roll(x, (1, 2), axis=(0, 1))  # numpy's own circular shift
    expected = np.linalg.norm(rolled - x) / np.linalg.norm(x)
    assert invariance_error(lambda v: v, x, 1, 2) == pytest.approx(expected, rel=1e-12)
    for dy, dx in [(0, 0), (3, -2), (5, 6)]:  # a global sum ignores every circular shift
        assert invariance_error(lambda v: np.array([[v.sum()]]), x, dy, dx) < 1e-14
    assert invariance_error(lambda v: 0 * v, x, 1, 1) == 0.0
    with pytest.raises(TypeError, match="f must be"):
        invariance_error(3, x, 1, 1)


@given(
    st.integers(1, 3),
    st.sampled_from([1, 2, 4]),
    st.integers(-5, 5),
    st.sampled_from(["max", "avg"]),
    st.integers(0, 1000),
)
def test_pooling_invariance_matches_torch_pooling_of_rolled_images(b, k, d, kind, seed):
    images = np.random.default_rng(seed).integers(0, 4, size=(b, 8, 8)).astype(float)  # ties
    got = pooling_invariance(images, [k], [d], kind)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    t = torch.tensor(images)[:, None]
    a, b_ = pool(torch.roll(t, d, dims=3), k), pool(t, k)
    per_image = [
        0.0 if torch.equal(u, v) else float((u - v).norm() / v.norm())
        for u, v in zip(a, b_, strict=True)
    ]
    assert got["error"][0, 0] == pytest.approx(np.mean(per_image), rel=1e-9, abs=1e-12)
    assert got["unchanged"][0, 0] == pytest.approx(float((a == b_).double().mean()))


def test_pooling_invariance_by_hand_and_bad_sizes():
    x = np.zeros((1, 4, 4))
    x[0, 1, 0] = 1.0  # one bright pixel in the left half of the top-left 2x2 window
    got = pooling_invariance(x, [2, 4], [0, 1, 2])
    # 2x2: a shift by 1 keeps it in its window, by 2 moves it to the next window (2 of 4 change)
    assert got["unchanged"][0].tolist() == [1.0, 1.0, 0.5]
    assert got["unchanged"][1].tolist() == [1.0, 1.0, 1.0]  # global max: always the same
    with pytest.raises(ValueError, match="divide"):
        pooling_invariance(x, [3], [1])
    with pytest.raises(ValueError, match="kind"):
        pooling_invariance(x, [2], [1], kind="median")


@pytest.mark.parametrize(
    "d, stride, expected",
    [(0, 1, (0,)), (3, 1, (3,)), (4, 2, (2,)), (3, 2, (1, 2)), (-3, 2, (-2, -1)), (5, 3, (1, 2))],
)
def test_output_shifts_are_floor_and_ceil_of_the_shift_over_the_stride(d, stride, expected):
    assert output_shifts(d, stride) == expected
    # the whole-cell output shifts are those nearest d / s (by hand: 3 / 2 = 1.5 -> 1 and 2)
    assert all(abs(o - d / stride) < 1 for o in expected)


def test_output_shifts_bad_input():
    with pytest.raises(ValueError, match="stride must be a positive integer"):
        output_shifts(1, 0)
    with pytest.raises(TypeError, match="d must be an integer"):
        output_shifts(1.5, 2)


# -- tests found by mutation testing (tools/mutation.py equivariance) ------------------------
_IMG = np.arange(16.0).reshape(4, 4)
_ID = lambda v: v  # noqa: E731


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: shift("x", 0, 0), TypeError, "x"),
        (lambda: shift(_IMG, 0.5, 0), TypeError, "dy"),
        (lambda: shift(_IMG, 0, 0.5), TypeError, "dx"),
        (lambda: shift(_IMG, 0, 0, "wrap"), ValueError, "mode"),
        (lambda: equivariance_error(_ID, "x", 0, 0), TypeError, "x"),
        (lambda: equivariance_error(_ID, _IMG, 0, 0, mode="wrap"), ValueError, "mode"),
        (lambda: equivariance_error(_ID, _IMG, 0, 0, region="all"), ValueError, "region"),
        (lambda: equivariance_error(_ID, _IMG, 0, 0, margin=-1), ValueError, "margin"),
        (lambda: equivariance_error(lambda v: "y", _IMG, 0, 0), TypeError, r"f\(x\)"),
        (lambda: invariance_error(_ID, "x", 0, 0), TypeError, "x"),
        (lambda: invariance_error(_ID, _IMG, 0.5, 0), TypeError, "dy"),
        (lambda: invariance_error(_ID, _IMG, 0, 0, mode="wrap"), ValueError, "mode"),
        (
            lambda: invariance_error(lambda v: "y" if v[0, 0] else v, _IMG, 1, 0),
            TypeError,
            r"f\(shift\(x\)\)",
        ),  # fmt: skip
        (lambda: interior_is_empty((4, 4), 0.5, 0, 1, 0), TypeError, "dy"),
        (lambda: interior_is_empty((0, 4), 0, 0, 1, 0), ValueError, "shape"),
        (lambda: interior_is_empty((4, 4), 0, 0, 0, 0), ValueError, "stride"),
        (lambda: interior_is_empty((4, 4), 0, 0, 1, -1), ValueError, "margin"),
        (lambda: interior_is_empty((4, 4), 0, 0, 1, 0.5), TypeError, "margin"),
        (lambda: pooling_invariance("x", [2], [1]), TypeError, "images"),
        (lambda: pooling_invariance(_IMG[None], [2], [1], kind="min"), ValueError, "kind"),
        (lambda: pooling_invariance(_IMG[None], [0], [1]), ValueError, r"kernel_sizes\[\]"),
        (lambda: pooling_invariance(_IMG[None], [2], [0.5]), TypeError, r"shifts\[\]"),
        (lambda: pooling_invariance(_IMG[None], [2], 1), TypeError, "shifts"),
        (lambda: shift_consistency(_ID, "x", 1), TypeError, "images"),
        (lambda: shift_consistency(_ID, _IMG[None], 1, seed=-1), ValueError, "seed"),
        (lambda: shift_consistency(_ID, _IMG[None], -1), ValueError, "shifts"),
        (lambda: binomial_filter(0), ValueError, "size"),
        (lambda: blur_pool2d("x"), TypeError, "x"),
        (lambda: blur_pool2d(_IMG, stride=0), ValueError, "stride"),
        (lambda: blur_pool2d(_IMG, filter_size=0), ValueError, "filter_size"),
        (lambda: blur_pool2d(_IMG, padding_mode="wrap"), ValueError, "padding_mode"),
        (lambda: BlurPool2d(0), ValueError, "channels"),
        (lambda: BlurPool2d(2, stride=0), ValueError, "stride"),
        (lambda: BlurPool2d(2, filter_size=0), ValueError, "filter_size"),
        (lambda: BlurPool2d(2, padding_mode="wrap"), ValueError, "padding_mode"),
        (lambda: conv2d_matrix(np.ones((2, 2)), (0, 3)), ValueError, "input_shape"),
        (lambda: conv2d_matrix(np.ones((2, 2)), (3, 3), stride=0), ValueError, "stride"),
        (lambda: conv2d_matrix(np.ones((2, 2)), (3, 3), padding=-1), ValueError, "padding"),
        (
            lambda: conv2d_matrix(np.ones((2, 2)), (3, 3), padding_mode="wrap"),
            ValueError,
            "padding_mode",
        ),  # fmt: skip
        (lambda: conv2d_matrix(np.ones((2, 5)), (3, 3)), ValueError, "weight"),  # too wide only
    ],
)
def test_each_bad_argument_is_named(call, error, name):
    with pytest.raises(error, match=rf"^{name}[ :[]"):
        call()


def test_smallest_allowed_arguments_work():
    """The documented minimum of each argument is allowed: a 1 x 1 filter, stride 1, shifts
    0, margin 0, a 1 x 1 input."""
    np.testing.assert_array_equal(binomial_filter(1), [[1.0]])
    np.testing.assert_array_equal(blur_pool2d(_IMG, stride=1, filter_size=1), _IMG)
    blur = BlurPool2d(1, stride=1, filter_size=1)
    np.testing.assert_array_equal(blur(torch.ones(1, 1, 3, 3)).numpy(), np.ones((1, 1, 3, 3)))
    assert shift_consistency(lambda b: b.reshape(len(b), -1), _IMG[None], 0) == 1.0
    assert interior_is_empty((1, 1), 0, 0, 1, 0) is False
    np.testing.assert_array_equal(conv2d_matrix(np.ones((1, 1)), (1, 1)), [[1.0]])
    assert conv2d_matrix(np.ones((1, 1), np.float32), (2, 2)).dtype == np.float32


def test_even_blur_filters_pad_one_more_after_than_before():
    """BlurPool2d(filter_size=4) pads 1 before and 2 after on both axes (as blur_pool2d): on
    a one-hot image the module and the function agree with torch's padding by hand."""
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 1, 3] = 1.0
    mod = BlurPool2d(1, stride=1, filter_size=4, padding_mode="zeros")
    assert mod.pad == (1, 2, 1, 2)
    ours = mod(torch.tensor(x, dtype=torch.float32)).numpy()
    padded = F.pad(torch.tensor(x), (1, 2, 1, 2))
    k = torch.tensor(binomial_filter(4))[None, None]
    np.testing.assert_allclose(ours, F.conv2d(padded, k).numpy(), atol=1e-7)
    np.testing.assert_allclose(blur_pool2d(x, 1, 4, "zeros"), ours, atol=1e-7)


def test_memory_rules_exactly(monkeypatch):
    """One byte over the budget is refused, the budget itself accepted: binomial_filter and
    blur_pool2d 16 bytes per filter cell, conv2d_matrix the matrix's bytes."""
    import cnnlib._validate as validate

    for call, nbytes, culprit in [
        (lambda: binomial_filter(5), 16 * 25, "size 5"),
        (lambda: conv2d_matrix(np.ones((2, 2)), (4, 5)), 3 * 4 * 4 * 5 * 8, "input_shape"),
        (lambda: conv2d_matrix(np.ones((1, 1)), (1, 1), padding=2), 25 * 8, "padding"),
    ]:
        monkeypatch.setattr(validate, "_memory_budget", nbytes)
        call()
        monkeypatch.setattr(validate, "_memory_budget", nbytes - 1)
        with pytest.raises(ValueError, match=rf"^{culprit}.*memory budget"):
            call()
    # blur_pool2d's filter passes at its 16 bytes a cell (conv2d then refuses the image)
    monkeypatch.setattr(validate, "_memory_budget", 16 * 25)
    with pytest.raises(ValueError, match=r"^x of shape"):
        blur_pool2d(_IMG, 2, 5)
    monkeypatch.setattr(validate, "_memory_budget", 16 * 25 - 1)
    with pytest.raises(ValueError, match=r"^filter_size 5 makes the blur filter"):
        blur_pool2d(_IMG, 2, 5)


def test_binomial_filter_beyond_pascal_is_the_binomial_pmf():
    """Past row 1024 the filter comes from the pmf: its centre is C(n, n/2) / 2^n squared,
    by Stirling about 2 / (pi n) for n = 1200."""
    k = binomial_filter(1201)
    assert k.sum() == pytest.approx(1.0) and k[600, 600] == pytest.approx(
        2 / (np.pi * 1200), rel=1e-3
    )


def test_shifts_in_zeros_mode_are_used_everywhere():
    """mode='zeros' reaches every shift the functions make: a sum over the image changes
    when content leaves it (circular shifts keep the sum)."""
    x = np.zeros((6, 6))
    x[0, 0] = 1.0
    total = lambda v: np.full((1, 1), v.sum())  # noqa: E731
    assert invariance_error(total, x, -1, -1, mode="zeros") == pytest.approx(1.0)
    assert invariance_error(total, x, -1, -1) == 0.0
    left = shift(np.ones((2, 3)), 0, -1, mode="zeros")
    np.testing.assert_array_equal(left, [[1, 1, 0], [1, 1, 0]])
    np.testing.assert_array_equal(shift(np.ones((2, 3)), 0, 0, mode="zeros"), np.ones((2, 3)))
    labels = lambda b: (b.sum((1, 2)) > 0.5).astype(int)  # noqa: E731
    assert shift_consistency(labels, x[None], [(1, 1)], mode="zeros") == 1.0
    assert shift_consistency(labels, x[None], [(-1, -1)], mode="zeros") == 0.0
    assert shift_consistency(labels, x[None], [(-1, -1)]) == 1.0
