"""Checkers of notebook 06: correct learner answers pass, typical mistakes are caught and named.

The learner functions are plain loops from the definitions, independent of cnnlib.backprop.
"""

import numpy as np
import pytest

from cnnlib.exercises.backprop import (
    FAIL,
    PASS,
    check_grad_input,
    check_grad_weight,
    check_max_pool_backward,
)


def correlate(a, b):
    oh, ow = a.shape[0] - b.shape[0] + 1, a.shape[1] - b.shape[1] + 1
    out = np.zeros((oh, ow))
    for m in range(oh):
        for n in range(ow):
            out[m, n] = np.sum(a[m : m + b.shape[0], n : n + b.shape[1]] * b)
    return out


def good_grad_weight(x, grad_out):
    return correlate(x, grad_out)


def flipped_grad_weight(x, grad_out):
    return correlate(x, grad_out[::-1, ::-1])


def good_grad_input(grad_out, w):
    kh, kw = w.shape
    return correlate(np.pad(grad_out, ((kh - 1, kh - 1), (kw - 1, kw - 1))), w[::-1, ::-1])


def unrotated_grad_input(grad_out, w):
    kh, kw = w.shape
    return correlate(np.pad(grad_out, ((kh - 1, kh - 1), (kw - 1, kw - 1))), w)


def same_size_grad_input(grad_out, w):
    return correlate(np.pad(grad_out, 1), w[::-1, ::-1])


def good_pool_backward(grad_out, x):
    out = np.zeros_like(x)
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            win = x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
            a, b = np.unravel_index(np.argmax(win), (2, 2))
            out[2 * i + a, 2 * j + b] += grad_out[i, j]
    return out


def last_max_pool_backward(grad_out, x):
    """Right without ties; with ties it picks the last maximum instead of the first."""
    out = np.zeros_like(x)
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            win = x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].ravel()
            a, b = divmod(3 - int(np.argmax(win[::-1])), 2)
            out[2 * i + a, 2 * j + b] += grad_out[i, j]
    return out


def avg_pool_backward(grad_out, x):
    return np.kron(grad_out, np.ones((2, 2))) / 4


@pytest.mark.parametrize(
    "checker,fn",
    [
        (check_grad_weight, good_grad_weight),
        (check_grad_input, good_grad_input),
        (check_max_pool_backward, good_pool_backward),
    ],
)
def test_right_answers_pass(checker, fn, capsys):
    checker(fn)
    assert capsys.readouterr().out.startswith(PASS)


@pytest.mark.parametrize(
    "checker,fn,hint",
    [
        (check_grad_weight, flipped_grad_weight, "flipped"),
        (check_grad_input, unrotated_grad_input, "not rotated"),
        (check_grad_input, same_size_grad_input, "full convolution"),
        (check_max_pool_backward, avg_pool_backward, "average pooling"),
        (check_max_pool_backward, last_max_pool_backward, "first of them"),
        (check_grad_input, lambda g, w: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_mistakes_are_caught_and_named(checker, fn, hint, capsys):
    checker(fn)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and hint in out
    assert "expected" in out or "raised" in out or "None" in out


def test_not_a_function():
    with pytest.raises(TypeError, match="fn must be a function"):
        check_grad_weight(3)


def test_a_slightly_wrong_answer_is_reported_not_crashed(capsys):
    """3e-6 relative error: beyond the checker's tolerance (1e-6), so the first wrong cell is
    named; the index search once used a looser tolerance than the test and found no cell."""

    def nearly(x, grad_out):
        out = correlate(x, grad_out)
        out[0, 1] *= 1 + 3e-6
        return out

    check_grad_weight(nearly)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "first difference at [0, 1]" in out


# -- found by mutation testing --------------------------------------------------------------------
def _hint(out):
    return next(line for line in out.splitlines() if line.startswith("Hint:"))


def test_a_rotated_weight_gradient_is_named(capsys):
    check_grad_weight(lambda x, g: good_grad_weight(x, g)[::-1, ::-1])
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "rotated by 180 degrees" in _hint(out)


def test_an_unpadded_input_gradient_is_told_the_padding_per_axis(capsys):
    def valid_only(grad_out, w):  # no padding: a smaller map than x
        return correlate(grad_out, w[::-1, ::-1]) if min(grad_out.shape) >= max(w.shape) else w

    check_grad_input(valid_only)
    out = capsys.readouterr().out
    # the worked example: x 3 x 3, w 2 x 2: pad by k - 1 = (1, 1)
    assert out.startswith(FAIL) and "(3, 3)" in _hint(out) and "(1, 1)" in _hint(out)


def test_max_pool_backward_pass_names_torch_and_the_drawn_cases_repeat(capsys):
    check_max_pool_backward(good_pool_backward)
    assert "torch autograd" in capsys.readouterr().out

    def wrong_off_four_rows(grad_out, x):  # right on the two hand-made 4 x 4 cases only
        return good_pool_backward(grad_out, x) * (1.0 if x.shape[0] == 4 else 2.0)

    check_max_pool_backward(wrong_off_four_rows)
    first = capsys.readouterr().out
    check_max_pool_backward(wrong_off_four_rows)
    assert first.startswith(FAIL) and capsys.readouterr().out == first
