"""Checkers of notebook 02: correct learner answers pass, typical mistakes are caught and named.

The learner functions are written from the definitions, independent of cnnlib.shapes.
"""

import math

import pytest

from cnnlib.exercises.shapes import (
    FAIL,
    PASS,
    check_lost_pixels,
    check_output_size,
    check_same_padding,
)


def good_output_size(size, kernel_size, stride, padding, dilation):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def counted_output_size(size, kernel_size, stride, padding, dilation):
    """Count the windows one by one: an independent correct answer."""
    span = dilation * (kernel_size - 1) + 1
    return sum(
        1 for start in range(0, size + 2 * padding, stride) if start + span <= size + 2 * padding
    )


def ceil_output_size(size, kernel_size, stride, padding, dilation):
    return math.ceil((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1


def no_dilation_output_size(size, kernel_size, stride, padding, dilation):
    return (size + 2 * padding - kernel_size) // stride + 1


def one_side_padding_output_size(size, kernel_size, stride, padding, dilation):
    return (size + padding - dilation * (kernel_size - 1) - 1) // stride + 1


def float_output_size(size, kernel_size, stride, padding, dilation):
    return float(good_output_size(size, kernel_size, stride, padding, dilation))


def good_same_padding(kernel_size, dilation):
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


def swapped_same_padding(kernel_size, dilation):
    before, after = good_same_padding(kernel_size, dilation)
    return after, before


def odd_only_same_padding(kernel_size, dilation):
    p = dilation * (kernel_size - 1) // 2
    return p, p


def good_lost_pixels(size, kernel_size, stride):
    read = set()
    start = 0
    while start + kernel_size <= size:
        read.update(range(start, start + kernel_size))
        start += stride
    return [i for i in range(size) if i not in read]


def tail_only_lost_pixels(size, kernel_size, stride):
    last = (size - kernel_size) // stride * stride + kernel_size
    return list(range(last, size))


def nothing_lost(size, kernel_size, stride):
    return []


def test_correct_output_size_passes(capsys):
    assert check_output_size(good_output_size)
    assert check_output_size(counted_output_size)
    assert capsys.readouterr().out.startswith(PASS)


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (ceil_output_size, "floor"),
        (no_dilation_output_size, "dilated kernel"),
        (one_side_padding_output_size, "both sides"),
        (float_output_size, "return an int"),
        (lambda *a: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_wrong_output_size_is_caught_and_named(fn, hint, capsys):
    assert not check_output_size(fn)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and hint in out
    assert "fn(size=" in out


def test_same_padding(capsys):
    assert check_same_padding(good_same_padding)
    assert capsys.readouterr().out.startswith(PASS)
    assert not check_same_padding(swapped_same_padding)
    assert "at the end" in capsys.readouterr().out
    assert not check_same_padding(odd_only_same_padding)
    out = capsys.readouterr().out
    assert "padding cells in all" in out and "fn(kernel_size=2, dilation=1)" in out
    assert not check_same_padding(lambda k, d: 3)
    assert "pair" in capsys.readouterr().out


def test_lost_pixels(capsys):
    assert check_lost_pixels(good_lost_pixels)
    assert capsys.readouterr().out.startswith(PASS)
    assert not check_lost_pixels(tail_only_lost_pixels)
    out = capsys.readouterr().out
    assert "between windows" in out and "[2, 5, 6]" not in out  # predicted first: a hint only
    assert not check_lost_pixels(nothing_lost)
    assert "after it are lost" in capsys.readouterr().out


def test_checkers_refuse_non_functions():
    for check in (check_output_size, check_same_padding, check_lost_pixels):
        with pytest.raises(TypeError, match="fn"):
            check(42)


def test_fractional_answers_are_named_not_rounded(capsys):
    # d(k - 1) / 2 on both sides: (0.5, 0.5) for k = 2 used to be reported as "(0, 0)"
    assert not check_same_padding(lambda k, d: (d * (k - 1) / 2,) * 2)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "fn(kernel_size=2, dilation=1) returned (0.5, 0.5)" in out
    assert "0.5 is not a whole number of pixels" in out and "odd total d(k - 1) = 1" in out

    # the right pair with 0.9 added before used to be rounded down onto it and pass
    def almost(kernel_size, dilation):
        before, after = good_same_padding(kernel_size, dilation)
        return before + 0.9, after

    assert not check_same_padding(almost)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "0.9 is not a whole number" in out
    # integer-valued floats are whole pixels
    assert check_same_padding(lambda k, d: tuple(map(float, good_same_padding(k, d))))
    assert capsys.readouterr().out.startswith(PASS)
    # pixel indices plus a half used to be rounded down onto the right ones
    assert not check_lost_pixels(lambda *a: [i + 0.5 for i in good_lost_pixels(*a)])
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "is not a pixel index" in out
    assert check_lost_pixels(lambda *a: [float(i) for i in good_lost_pixels(*a)])


# -- found by mutation testing: what a learner reads -----------------------------------------------
def _hint(out):
    return next(line for line in out.splitlines() if line.startswith("Hint:"))


def test_output_size_a_mistake_of_no_known_kind_gets_the_counting_rule(capsys):
    # one window too many everywhere matches none of the named mistakes: the rule is the hint
    check_output_size(lambda *case: good_output_size(*case) + 1)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "d(k - 1) + 1 cells" in _hint(out)
    # a float that is the wrong number is wrong, not "the right number as a float"
    check_output_size(lambda *case: good_output_size(*case) + 0.5)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "expected an int" in out and "d(k - 1) + 1 cells" in _hint(out)


def test_same_padding_pass_names_the_count_and_torch(capsys):
    check_same_padding(good_same_padding)
    out = capsys.readouterr().out
    # 6 kernel sizes x 3 dilations, judged against torch's padding="same"
    assert out.startswith(PASS) and "18" in out and 'torch padding="same"' in out
