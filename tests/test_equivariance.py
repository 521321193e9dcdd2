"""cnnlib.equivariance: shifts, equivariance errors, shift consistency, blur pooling."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.conv import conv2d, max_pool2d
from cnnlib.equivariance import (
    SHIFT_NETS,
    SHIFT_RECIPE,
    SHIFT_WEIGHTS,
    BlurPool2d,
    accuracy_by_shift,
    binomial_filter,
    blur_pool2d,
    conv2d_matrix,
    equivariance_error,
    interior_is_empty,
    invariance_error,
    load_shift_cnns,
    output_shifts,
    plot_conv2d_matrices,
    pooling_invariance,
    pooling_invariance_table,
    save_shift_cnns,
    shift,
    shift_cnn,
    shift_consistency,
    shifted_digits,
    train_shift_cnns,
)
from cnnlib.training import made_by

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


def test_accuracy_by_shift_by_construction():
    """ToyClassifier reads the row of the brightest pixel: right for every image when the
    labels are those rows, and a vertical shift by d moves every answer by d."""
    images = np.zeros((4, 6, 6))
    rows = np.array([0, 2, 3, 5])
    images[np.arange(4), rows, [1, 4, 2, 0]] = 1.0
    shifts = [(0, 0), (0, 3), (1, 0), (-2, 5)]  # rows: kept, kept, +1, -2 (mod 6)
    acc = accuracy_by_shift(ToyClassifier(), images, rows, shifts, mode="circular")
    np.testing.assert_array_equal(acc, [1.0, 1.0, 0.0, 0.0])
    # zeros mode (the default): under (1, 0) the rows become 1, 3, 4 and the pixel of row 5
    # leaves the image, whose blank answer 0 is wrong for the label 6
    acc = accuracy_by_shift(ToyClassifier(), images, rows + 1, [(1, 0)])
    np.testing.assert_array_equal(acc, [0.75])
    scores = np.eye(3)  # (N, K) scores: the argmax is the prediction
    acc = accuracy_by_shift(lambda b: scores, images[:3], np.array([0, 1, 1]), [(0, 0)])
    assert acc.tolist() == pytest.approx([2 / 3])


def test_accuracy_by_shift_refuses_bad_labels_and_shifts():
    images = np.zeros((2, 4, 4))
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\)"):
        accuracy_by_shift(ToyClassifier(), images, np.array([0, 1, 2]), [(0, 1)])
    with pytest.raises(TypeError, match="labels must be integer"):
        accuracy_by_shift(ToyClassifier(), images, np.array([0.0, 1.0]), [(0, 1)])
    with pytest.raises(TypeError, match=r"shifts\[1\] must be a \(dy, dx\) pair"):
        accuracy_by_shift(ToyClassifier(), images, np.array([0, 1]), [(0, 1), 2])
    with pytest.raises(TypeError, match="shifts must be a list"):
        accuracy_by_shift(ToyClassifier(), images, np.array([0, 1]), 2)
    with pytest.raises(TypeError, match=r"shifts\[0\]"):
        accuracy_by_shift(ToyClassifier(), images, np.array([0, 1]), [(0.5, 1)])


def test_pooling_invariance_table_by_hand():
    results = {
        "max": {"error": np.array([[0.0, 0.25], [0.0, 0.125]]), "unchanged": np.eye(2)},
        "avg": {"error": np.array([[0.0, 0.5], [0.0, 1 / 3]]), "unchanged": np.zeros((2, 2))},
    }
    expected = [
        " " * 12 + "      0      1",
        "max  2x2      0.000  0.250",
        "max 16x16     0.000  0.125",
        "avg  2x2      0.000  0.500",
        "avg 16x16     0.000  0.333",
        "",
        "max pooling, fraction of pooled values exactly unchanged:",
        "     2x2       1.00   0.00",
        "    16x16      0.00   1.00",
    ]
    assert pooling_invariance_table(results, [2, 16], [0, 1]).split("\n") == expected
    assert pooling_invariance_table(results, [2, 16], [0, 1], None).split("\n") == expected[:5]
    with pytest.raises(ValueError, match=r"results\['max'\]\['error'\] must have shape \(3, 2\)"):
        pooling_invariance_table(results, [2, 4, 16], [0, 1])
    with pytest.raises(ValueError, match="unchanged must be None or one of"):
        pooling_invariance_table(results, [2, 16], [0, 1], "min")
    with pytest.raises(TypeError, match="results must be a non-empty dict"):
        pooling_invariance_table({}, [2, 16], [0, 1])


def test_pooling_invariance_table_prints_pooling_invariance():
    """The table's numbers are pooling_invariance's, rounded as printed."""
    images = RNG.random((3, 8, 8))
    results = {k: pooling_invariance(images, [2, 4], [0, 1, 3], k) for k in ("max", "avg")}
    lines = pooling_invariance_table(results, [2, 4], [0, 1, 3]).split("\n")
    rows = [[float(v) for v in line.split()[2:]] for line in lines[1:5]]
    np.testing.assert_allclose(rows[:2], results["max"]["error"], atol=5e-4)
    np.testing.assert_allclose(rows[2:], results["avg"]["error"], atol=5e-4)
    unchanged = [[float(v) for v in line.split()[1:]] for line in lines[-2:]]
    np.testing.assert_allclose(unchanged, results["max"]["unchanged"], atol=5e-3)


def test_plot_conv2d_matrices_draws_each_matrix_with_blank_zeros():
    import matplotlib.pyplot as plt

    k = np.arange(1.0, 10.0).reshape(3, 3)
    a_zero = conv2d_matrix(k, (4, 4), padding=1)
    a_circ = conv2d_matrix(k, (4, 4), padding=1, padding_mode="circular")
    fig = plot_conv2d_matrices({"zeros": a_zero, "circular": a_circ}, block=4, height=3)
    try:
        panels, bar = fig.axes[:2], fig.axes[2]
        assert len(fig.axes) == 3 and [ax.get_title() for ax in panels] == ["zeros", "circular"]
        for ax, a in zip(panels, (a_zero, a_circ), strict=True):
            shown = ax.images[0].get_array()
            np.testing.assert_array_equal(np.ma.getmaskarray(shown), a == 0)  # zeros blank
            np.testing.assert_array_equal(shown.compressed(), a[a != 0])
            assert ax.images[0].get_clim() == (0.5, 9.5)  # one colour per tap 1..9
            assert len(ax.lines) == 3 + 3  # block lines at 4, 8, 12 in both directions
        assert [int(t) for t in bar.get_yticks()] == list(range(1, 10))
        assert fig.get_size_inches()[1] == 3
    finally:
        plt.close(fig)
    with pytest.raises(TypeError, match="matrices must be a non-empty dict"):
        plot_conv2d_matrices({}, block=4)
    with pytest.raises(ValueError, match="not all zero"):
        plot_conv2d_matrices({"zero": np.zeros((4, 4))}, block=2)
    with pytest.raises(ValueError, match="block"):
        plot_conv2d_matrices({"A": a_zero}, block=0)


# --------------------------------------------------------------------------------------------
# Notebook 05's trained example: MaxPool against MaxBlurPool on the shifted digits
# --------------------------------------------------------------------------------------------
def test_shift_cnn_layout():
    """Both networks have 160 + 4,640 + 2,890 = 7,690 weights (3x3 convolutions 1 -> 16 ->
    32 -> 10 with biases; the blur is a fixed buffer), halve 16 x 16 to 8 x 8 to 4 x 4, and
    give ten logits; only the downsampling differs."""
    x = torch.rand(5, 1, 16, 16)
    for blur in (False, True):
        net = shift_cnn(blur)
        assert sum(p.numel() for p in net.parameters() if p.requires_grad) == 7690
        assert net[:3](x).shape == (5, 16, 8, 8) and net[:6](x).shape == (5, 32, 4, 4)
        assert net(x).shape == (5, 10)
    plain, blurred = shift_cnn(False), shift_cnn(True)
    assert isinstance(plain[2], torch.nn.MaxPool2d) and plain[2].stride == 2
    assert isinstance(blurred[2][0], torch.nn.MaxPool2d) and blurred[2][0].stride == 1
    assert isinstance(blurred[2][1], BlurPool2d) and blurred[2][1].stride == 2
    # MaxBlurPool by hand: 2x2 max with stride 1, reflect-pad, [1 2 1]^T [1 2 1] / 16, stride 2
    h = torch.rand(2, 16, 8, 8)
    k = torch.tensor(np.outer([1, 2, 1], [1, 2, 1]) / 16, dtype=torch.float32)
    ref = F.conv2d(
        F.pad(F.max_pool2d(h, 2, stride=1), (1, 1, 1, 1), mode="reflect"),
        k.expand(16, 1, 3, 3),
        stride=2,
        groups=16,
    )
    torch.testing.assert_close(blurred[2](h), ref)
    with pytest.raises(TypeError, match="blur must be True or False"):
        shift_cnn("yes")


def test_shifted_digits_are_the_split_padded_plus_shifted_copies():
    from cnnlib.training import digits_split

    x_train, y_train, x_test, y_test = digits_split()
    xa, ya, xt, yt = shifted_digits()
    pad = SHIFT_RECIPE["pad"]
    n = len(x_train)
    assert xa.shape == (2 * n, 1, 16, 16) and xt.shape == (len(x_test), 1, 16, 16)
    torch.testing.assert_close(xa[:n, :, pad:-pad, pad:-pad], x_train, rtol=0, atol=0)
    assert xa[:n].sum() == x_train.sum() and torch.equal(xt[:, :, pad:-pad, pad:-pad], x_test)
    assert torch.equal(ya, torch.cat([y_train, y_train])) and torch.equal(yt, y_test)
    # every copy is its original moved by some (a, b) with |a|, |b| <= 3, found by search
    # with torch.roll (nothing leaves the 16 x 16 frame: the digit has 4 blank pixels around)
    m = SHIFT_RECIPE["max_shift"]
    original, copy = xa[:n, 0], xa[n:, 0]
    found = torch.zeros(n, dtype=torch.bool)
    unmoved = torch.zeros(n, dtype=torch.bool)
    for a in range(-m, m + 1):
        for b in range(-m, m + 1):
            same = (torch.roll(original, (a, b), (1, 2)) == copy).flatten(1).all(1)
            found |= same
            if a == b == 0:
                unmoved = same
    assert found.all() and unmoved.float().mean() < 0.1  # about 1 in 49 is not moved
    no_copies = shifted_digits(augment=False)
    assert torch.equal(no_copies[0], xa[:n]) and torch.equal(no_copies[2], xt)
    with pytest.raises(TypeError, match="augment must be True or False"):
        shifted_digits(augment=1)


def test_train_shift_cnns_is_deterministic():
    a_models, a_hist = train_shift_cnns(epochs=1, progress=False)
    b_models, b_hist = train_shift_cnns(epochs=1, progress=False)
    assert set(a_models) == set(SHIFT_NETS) and a_hist == b_hist
    for name in SHIFT_NETS:
        for (key, p), q in zip(
            a_models[name].state_dict().items(),
            b_models[name].state_dict().values(),
            strict=True,
        ):
            assert torch.equal(p, q), (name, key)
        assert not a_models[name].training and len(a_hist[name]["test_accuracy"]) == 1


def _shift_right(x: torch.Tensor, d: int) -> torch.Tensor:
    """``x`` moved ``d >= 0`` pixels to the right, zeros coming in (a reference for shift)."""
    out = torch.zeros_like(x)
    out[..., d:] = x[..., : x.shape[-1] - d]
    return out


def assert_notebook_05_claims(models, histories):
    """What notebook 05 says of its two trained networks, recomputed with torch alone."""
    _, _, x_test, y_test = shifted_digits(augment=False)
    acc = {}
    with torch.no_grad():
        for name, model in models.items():
            acc[name] = np.array(
                [
                    int((model(_shift_right(x_test, d)).argmax(1) == y_test).sum()) / len(y_test)
                    for d in range(5)
                ]
            )
            assert acc[name][0] == pytest.approx(histories[name]["test_accuracy"][-1], abs=1e-12)
            assert acc[name][0] > 0.8  # it learned the digits (chance: 0.1)
    plain, blurred = acc["MaxPool"], acc["MaxBlurPool"]
    assert plain[1:4].max() < min(plain[0], plain[4]) and plain[4] != plain[0]
    assert np.ptp(blurred[:4]) < np.ptp(plain[:4]) and blurred[0] < plain[0]
    consistency = {
        name: np.mean(
            [
                shift_consistency(
                    lambda b, m=model: m(torch.as_tensor(b)).detach(),
                    x_test.numpy(),
                    3,
                    mode="zeros",
                    seed=s,
                )
                for s in range(3)
            ]
        )
        for name, model in models.items()
    }
    assert consistency["MaxBlurPool"] > consistency["MaxPool"]


def test_shipped_shift_cnns_are_small_current_and_make_the_notebooks_claims():
    """cnnlib/weights/shift_cnns.pt (``make weights``): tens of KB, the current recipe, the
    layouts of ``shift_cnn``, the saved test accuracy recomputed, and notebook 05's claims."""
    assert SHIFT_WEIGHTS.stat().st_size <= 100 * 1024
    saved = torch.load(SHIFT_WEIGHTS, weights_only=True)
    assert saved["recipe"] == SHIFT_RECIPE and saved["seed"] == 0
    models, histories = load_shift_cnns()
    assert set(models) == set(SHIFT_NETS) and not any(m.training for m in models.values())
    for name, history in histories.items():
        assert len(history["test_accuracy"]) == SHIFT_RECIPE["epochs"], name
    assert_notebook_05_claims(models, histories)


@pytest.mark.thorough
def test_make_weights_makes_the_shipped_shift_cnns(tmp_path):
    """Retraining as ``make weights`` does gives the shipped weights bit for bit on the torch
    version and CPU kind that made them (recorded in the file); elsewhere training rounds
    differently (a different SIMD kernel), and the retrained networks must still make every
    claim of notebook 05."""
    path = tmp_path / "shift_cnns.pt"
    save_shift_cnns(path)
    models, histories = load_shift_cnns(path)
    assert_notebook_05_claims(models, histories)
    shipped = torch.load(SHIFT_WEIGHTS, weights_only=True)
    made_here = made_by()
    if shipped["made_by"] != made_here:
        pytest.skip(f"bit-for-bit comparison needs {shipped['made_by']}, this is {made_here}")
    retrained = torch.load(path, weights_only=True)
    assert retrained["histories"] == shipped["histories"]
    for name in SHIFT_NETS:
        for key, p in shipped["state_dicts"][name].items():
            assert torch.equal(retrained["state_dicts"][name][key], p), (name, key)
