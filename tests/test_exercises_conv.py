"""The exercise checkers of notebook 01: right answers pass, typical wrong ones are caught.

The "learner" functions here are written from the definitions with plain loops, independent of
cnnlib.conv, and each wrong one carries one typical mistake; the test asserts the checker fails
it and prints the hint that names the mistake.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib.exercises._report import forget_misses
from cnnlib.exercises.conv import (
    FAIL,
    NO_ANSWER,
    PASS,
    check_conv2d,
    check_convolve2d,
    check_max_pool2d,
    check_output_shape,
    check_output_value,
)

# -- learner solutions ----------------------------------------------------------------------


def good_conv2d(x, kernel, stride=1, padding=0):
    x = np.pad(np.asarray(x, dtype=float), padding)
    kh, kw = kernel.shape
    oh = (x.shape[0] - kh) // stride + 1
    ow = (x.shape[1] - kw) // stride + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.sum(
                x[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel
            )
    return out


def flipped_conv2d(x, kernel, stride=1, padding=0):
    return good_conv2d(x, kernel[::-1, ::-1], stride, padding)


def transposed_kernel_conv2d(x, kernel, stride=1, padding=0):
    return good_conv2d(x, kernel.T, stride, padding)


def no_stride_conv2d(x, kernel, stride=1, padding=0):
    return good_conv2d(x, kernel, 1, padding)


def no_padding_conv2d(x, kernel, stride=1, padding=0):
    return good_conv2d(x, kernel, stride, 0)


def off_by_one_conv2d(x, kernel, stride=1, padding=0):
    """Loops to H - kH instead of H - kH + 1: the last row and column are missing."""
    return good_conv2d(x, kernel, stride, padding)[:-1, :-1]


def ceil_conv2d(x, kernel, stride=1, padding=0):
    """Rounds the output size up: a window that runs off the edge (zero-filled) is kept."""
    x = np.pad(np.asarray(x, dtype=float), padding)
    kh, kw = kernel.shape
    oh = -(-(x.shape[0] - kh) // stride) + 1
    ow = -(-(x.shape[1] - kw) // stride) + 1
    big = np.pad(x, ((0, kh + stride), (0, kw + stride)))
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.sum(
                big[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel
            )
    return out


def good_max_pool2d(x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    oh = (x.shape[0] - kernel_size) // s + 1
    ow = (x.shape[1] - kernel_size) // s + 1
    out = np.empty((oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = x[i * s : i * s + kernel_size, j * s : j * s + kernel_size].max()
    return out


def avg_instead_of_max(x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    oh = (x.shape[0] - kernel_size) // s + 1
    ow = (x.shape[1] - kernel_size) // s + 1
    return np.array(
        [
            [x[i * s : i * s + kernel_size, j * s : j * s + kernel_size].mean() for j in range(ow)]
            for i in range(oh)
        ]
    )


def stride_one_by_default(x, kernel_size, stride=None):
    return good_max_pool2d(x, kernel_size, 1 if stride is None else stride)


def max_from_zero(x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    oh = (x.shape[0] - kernel_size) // s + 1
    ow = (x.shape[1] - kernel_size) // s + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            best = 0.0  # the bug: the maximum of negative numbers comes out as 0
            for v in x[i * s : i * s + kernel_size, j * s : j * s + kernel_size].ravel():
                best = max(best, v)
            out[i, j] = best
    return out


def pool_ignores_stride(x, kernel_size, stride=None):
    return good_max_pool2d(x, kernel_size, 1)


# -- conv2d ---------------------------------------------------------------------------------


def test_correct_conv2d_passes(capsys):
    check_conv2d(good_conv2d)
    out = capsys.readouterr().out
    assert out.startswith(PASS) and "all" in out and FAIL not in out


def test_a_torch_based_solution_passes(capsys):
    import torch
    import torch.nn.functional as F

    def torch_conv(x, kernel, stride=1, padding=0):
        t = F.conv2d(
            torch.tensor(x)[None, None], torch.tensor(kernel)[None, None], None, stride, padding
        )
        return t[0, 0]

    check_conv2d(torch_conv)
    assert capsys.readouterr().out.startswith(PASS)


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (flipped_conv2d, "kernel flipped"),
        (transposed_kernel_conv2d, "transposed"),
        (no_stride_conv2d, "stride is ignored"),
        (no_padding_conv2d, "padding is ignored"),
        (off_by_one_conv2d, "floor((H + 2*padding - kH) / stride) + 1"),
        (ceil_conv2d, "floor((H + 2*padding - kH) / stride) + 1"),
    ],
)
def test_typical_conv2d_mistakes_are_named(capsys, fn, hint):
    check_conv2d(fn)
    out = capsys.readouterr().out
    assert out.startswith(FAIL), out
    assert hint in out, out
    assert "x (shape" in out and "expected" in out


def test_the_worked_example_comes_first(capsys):
    check_conv2d(flipped_conv2d)
    out = capsys.readouterr().out
    # d2l's 3 x 3 input and 2 x 2 kernel; the correct output[0, 0] is 0*0 + 1*1 + 3*2 + 4*3 = 19
    assert "x (shape (3, 3))" in out
    assert "first difference at output[0, 0]: expected 19, got 5" in out


def test_exceptions_and_missing_return_are_reported(capsys):
    def raises(x, kernel, stride=1, padding=0):
        raise IndexError("index 3 is out of bounds")

    def no_return(x, kernel, stride=1, padding=0):
        good_conv2d(x, kernel, stride, padding)

    def no_keywords(x, kernel):
        return good_conv2d(x, kernel)

    check_conv2d(raises)
    assert "raised IndexError: index 3 is out of bounds" in capsys.readouterr().out
    check_conv2d(no_return)
    out = capsys.readouterr().out
    assert out.startswith(NO_ANSWER) and "no_return: it returns None" in out
    check_conv2d(no_keywords)
    assert "raised TypeError" in capsys.readouterr().out
    with pytest.raises(TypeError, match="fn must be a function"):
        check_conv2d(np.zeros(3))


def test_a_solution_wrong_only_on_random_cases_is_caught(capsys):
    """The fixed cases pad by at most 1; a function that mishandles padding 2 is caught by the
    random cases (seed 0 draws padding 2)."""

    def wrong_for_padding_2(x, kernel, stride=1, padding=0):
        return good_conv2d(x, kernel, stride, min(padding, 1))

    check_conv2d(wrong_for_padding_2)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "padding=2" in out, out


# -- true convolution -----------------------------------------------------------------------


def test_convolve2d_from_a_flipped_correlation_passes(capsys):
    check_convolve2d(lambda x, k: good_conv2d(x, k[::-1, ::-1]))
    out = capsys.readouterr().out
    assert out.startswith(PASS), out


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda x, k: good_conv2d(x, k), "kernel[kH - 1 - m, kW - 1 - n]: what must you do"),
        (lambda x, k: good_conv2d(x, k[::-1, :]), "only the rows are reversed"),
        (lambda x, k: good_conv2d(x, k[:, ::-1]), "only the columns are reversed"),
        (lambda x, k: good_conv2d(x, k.T), "a transpose is not a 180-degree turn"),
        (lambda x, k: good_conv2d(x, k[::-1, ::-1], padding=1), "expected (3, 3)"),
    ],
)
def test_convolve2d_mistakes_are_named(capsys, fn, hint):
    check_convolve2d(fn)
    out = capsys.readouterr().out
    assert out.startswith(FAIL), out
    assert hint in out, out


# -- max pooling ----------------------------------------------------------------------------


def test_correct_max_pool2d_passes(capsys):
    check_max_pool2d(good_max_pool2d)
    out = capsys.readouterr().out
    assert out.startswith(PASS), out


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (avg_instead_of_max, "average pooling"),
        (stride_one_by_default, "stride = kernel_size"),
        (max_from_zero, "start the maximum from the window"),
        (pool_ignores_stride, "stride"),
    ],
)
def test_typical_pooling_mistakes_are_named(capsys, fn, hint):
    check_max_pool2d(fn)
    out = capsys.readouterr().out
    assert out.startswith(FAIL), out
    assert hint in out, out


# -- predictions ----------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _fresh_misses():
    forget_misses()  # each test starts with no wrong answers counted


def test_output_value_right_and_wrong(capsys):
    x = np.arange(9).reshape(3, 3)
    k = np.array([[0, 1], [2, 3]])
    check_output_value(19, x, k, 0, 0)
    assert capsys.readouterr().out.startswith(f"{PASS} output[0, 0]: 19, correct.")
    check_output_value(43, x, k, 1, 1)
    assert capsys.readouterr().out.startswith(PASS)
    check_output_value(20, x, k, 0, 0)  # a first miss: a hint, not the sum
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "sum = 19" not in out and "[[0. 1.]" not in out
    assert "row 0*1 = 0, column 0*1 = 0" in out
    # the flipped kernel gives 0*3 + 1*2 + 3*1 + 4*0 = 5; a second miss: the worked answer
    check_output_value(5, x, k, 0, 0)
    out = capsys.readouterr().out
    assert "flipped" in out and "sum = 19" in out and "[[0. 1.]\n [3. 4.]]" in out


def test_output_value_with_stride_and_padding(capsys):
    x = np.arange(16.0).reshape(4, 4)
    k = np.ones((3, 3))
    # padded by 1, stride 2: output[1, 1] sums x[1:4, 1:4] = 5+6+7+9+10+11+13+14+15 = 90
    check_output_value(90, x, k, 1, 1, stride=2, padding=1)
    assert capsys.readouterr().out.startswith(PASS)
    # output[0, 0] sums the window x[0:2, 0:2] with zeros around it: 0+1+4+5 = 10
    check_output_value(10, x, k, 0, 0, stride=2, padding=1)
    assert capsys.readouterr().out.startswith(PASS)
    check_output_value(9, x, k, 0, 0, stride=2, padding=1)
    assert capsys.readouterr().out.startswith(FAIL)
    with pytest.raises(ValueError, match="outside the output"):
        check_output_value(0, x, k, 2, 0, stride=2, padding=1)
    check_output_value("ten", x, k, 0, 0, stride=2, padding=1)
    assert "must be one number, got 'ten'" in capsys.readouterr().out
    check_output_value(None, x, k, 0, 0, stride=2, padding=1)
    out = capsys.readouterr().out
    assert out.startswith(NO_ANSWER) and PASS not in out and FAIL not in out


def test_output_shape(capsys):
    # (32 + 2*1 - 5) // 2 + 1 = 15
    check_output_shape((8, 16, 15, 15), (8, 3, 32, 32), (16, 3, 5, 5), stride=2, padding=1)
    assert capsys.readouterr().out.startswith(PASS)
    check_output_shape((8, 3, 15, 15), (8, 3, 32, 32), (16, 3, 5, 5), stride=2, padding=1)
    out = capsys.readouterr().out  # a first miss: the rule, not the number
    assert out.startswith(FAIL) and "one output channel per filter" in out and "16" not in out
    check_output_shape((8, 16, 16, 16), (8, 3, 32, 32), (16, 3, 5, 5), stride=2, padding=1)
    out = capsys.readouterr().out  # a second miss: the worked answer
    hint = next(line for line in out.splitlines() if line.startswith("Hint:"))
    assert "H_out and W_out" in hint and "channel" not in hint
    assert "Answer: (8, 16, 15, 15)" in out and "= 15" in out
    check_output_shape((16, 15, 15), (8, 3, 32, 32), (16, 3, 5, 5), stride=2, padding=1)
    assert "four axes" in capsys.readouterr().out
    check_output_shape(None, (8, 3, 32, 32), (16, 3, 5, 5))
    assert capsys.readouterr().out.startswith(NO_ANSWER)
    with pytest.raises(ValueError, match="C_in"):
        check_output_shape((1, 1, 1, 1), (1, 3, 8, 8), (4, 2, 3, 3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        check_output_shape((1, 1, 1, 1), (1, 3, 4, 4), (4, 3, 7, 7), padding=1)


def test_output_shape_with_a_fraction_is_wrong_not_rounded(capsys):
    # (32 + 2*1 - 5) / 2 + 1 = 15.5 without the floor: int() used to round it to the right 15
    check_output_shape((8, 16, 15.5, 15.5), (8, 3, 32, 32), (16, 3, 5, 5), stride=2, padding=1)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "15.5 is not a whole number of pixels" in out
    assert "use // for the floor" in out and PASS not in out
    check_output_shape((8, 16, 15, 15.9), (8, 3, 32, 32), (16, 3, 5, 5), stride=2, padding=1)
    assert "15.9 is not a whole number" in capsys.readouterr().out
    # an integer-valued float is the same number of pixels
    check_output_shape((8, 16, 15.0, np.float32(15)), (8, 3, 32, 32), (16, 3, 5, 5), 2, 1)
    assert capsys.readouterr().out.startswith(PASS)


# -- tests found by mutation testing (tools/mutation.py exercises) ---------------------------
def test_conv_checkers_name_their_bad_arguments():
    from cnnlib.exercises.conv import check_output_shape, check_output_value

    x, k = np.ones((3, 3)), np.ones((2, 2))
    with pytest.raises(ValueError, match="^row must be a non-negative integer"):
        check_output_value(1.0, x, k, -1, 0)
    with pytest.raises(TypeError, match="^kernel must be an array"):
        check_output_value(1.0, x, "k", 0, 0)
    with pytest.raises(ValueError, match="^padding must be a non-negative integer"):
        check_output_shape((1, 1, 2, 2), (1, 1, 3, 3), (1, 1, 2, 2), padding=-1)


def test_output_shape_refuses_a_bad_stride_by_name():
    with pytest.raises(ValueError, match="^stride must be a positive integer"):
        check_output_shape((1, 1, 2, 2), (1, 1, 3, 3), (1, 1, 2, 2), stride=0)


def test_output_shape_worked_answer_fills_in_each_axis(capsys):
    # a hand count on a non-square input: H_out = (8 - 3) // 1 + 1 = 6, W_out = (6 - 3) + 1 = 4
    check_output_shape((1, 4, 4, 6), (1, 3, 8, 6), (4, 3, 3, 3), show_answer=True)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "(1, 4, 6, 4)" in out
    assert "floor((8 + 2*0 - 3) / 1) + 1 = 6" in out and "floor((6 + 2*0 - 3) / 1) + 1 = 4" in out


def test_convolve2d_and_max_pool2d_show_the_call_and_the_answer_on_request(capsys):
    check_convolve2d(lambda x, k: good_conv2d(x, k))  # the cross-correlation, not flipped
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(f"{FAIL} your convolve2d: fn(x, kernel)"), out
    assert "Answer:" not in out  # a first miss keeps the worked answer back
    check_max_pool2d(avg_instead_of_max, show_answer=True)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "Answer:" in out and "].max()" in out


def test_convolve2d_default_seed_is_zero_and_seeds_draw_valid_kernels(capsys):
    def wrong_on_negatives(x, k):  # right on the fixed cases (no negative x), wrong on the drawn
        return good_conv2d(x, k[::-1, ::-1]) + (1.0 if x.min() < 0 else 0.0)

    outs = []
    for seed in (None, 0, 1):
        check_convolve2d(wrong_on_negatives, **({} if seed is None else {"seed": seed}))
        outs.append(capsys.readouterr().out)
    assert outs[0].startswith(FAIL) and outs[0] == outs[1] != outs[2]
    import torch
    import torch.nn.functional as F

    def torch_convolve2d(x, k):  # torch refuses a kernel with no rows or no columns
        t = torch.tensor(k[::-1, ::-1].copy())[None, None]
        return F.conv2d(torch.tensor(x)[None, None], t)[0, 0].numpy()

    for seed in range(6):  # every drawn kernel has 1 to H rows and 1 to W columns
        check_convolve2d(torch_convolve2d, seed=seed)
        assert capsys.readouterr().out.startswith(PASS)
