"""Checkers of notebook 05: right answers pass, typical mistakes are caught and named."""

import numpy as np
import pytest

from cnnlib.exercises._report import forget_misses
from cnnlib.exercises.equivariance import (
    FAIL,
    NO_ANSWER,
    PASS,
    check_circulant,
    check_equivariant_shifts,
    check_shift,
    measured_shift_errors,
)


def good_shift(x, dy, dx):
    h, w = x.shape
    out = np.empty_like(x)
    for i in range(h):
        for j in range(w):
            out[i, j] = x[(i - dy) % h, (j - dx) % w]
    return out


def good_circulant(kernel, n):
    a = np.zeros((n, n))
    for i in range(n):
        for m in range(3):
            a[i, (i + m - 1) % n] += kernel[m]
    return a


def toeplitz_only(kernel, n):
    a = np.zeros((n, n))
    for i in range(n):
        for m in range(3):
            if 0 <= i + m - 1 < n:
                a[i, i + m - 1] += kernel[m]
    return a


@pytest.mark.parametrize(
    "checker,fn",
    [(check_shift, good_shift), (check_circulant, good_circulant)],
)
def test_right_answers_pass(checker, fn, capsys):
    checker(fn)
    assert capsys.readouterr().out.startswith(PASS)


@pytest.mark.parametrize(
    "checker,fn,hint",
    [
        (check_shift, lambda x, dy, dx: good_shift(x, -dy, -dx), "wrong way"),
        (check_shift, lambda x, dy, dx: good_shift(x, dx, dy), "swapped"),
        (check_circulant, lambda k, n: good_circulant(k, n).T, "transposed"),
        (check_circulant, lambda k, n: good_circulant(k[::-1], n), "flipped kernel"),
        (check_circulant, toeplitz_only, "corners"),
        (check_circulant, lambda k, n: np.zeros((n, n + 1)), "shape"),
    ],
)
def test_mistakes_are_caught_and_named(checker, fn, hint, capsys):
    checker(fn)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and hint in out


def test_equivariant_shifts_are_measured():
    errors = measured_shift_errors(3)
    assert set(errors) == set(range(8))
    assert all((errors[d] < 1e-12) == (d % 3 == 0) for d in errors)


def test_equivariant_shift_answers(capsys):
    check_equivariant_shifts({0, 3, 6}, stride=3)
    assert capsys.readouterr().out.startswith(PASS)
    check_equivariant_shifts({0, 2, 4, 6}, stride=3)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "1 equivariant shift(s) are missing" in out
    assert "2 shift(s) in your answer are not equivariant" in out
    assert "[3]" not in out and "[0, 3, 6]" not in out and "Answer:" not in out  # a hint first
    check_equivariant_shifts({0, 3}, stride=3)  # the second miss: the measured answer
    out = capsys.readouterr().out
    assert "Answer: exactly [0, 3, 6]" in out and "dy = 7: relative error" in out
    check_equivariant_shifts(None)
    assert capsys.readouterr().out.startswith(NO_ANSWER)
    check_equivariant_shifts([0, 2, 4], stride=2)
    assert capsys.readouterr().out.startswith(PASS)


def test_equivariant_shifts_need_a_stride_that_divides_the_size(capsys):
    # 3 divides 24 but not 32: on 32 x 32 only dy = 0 is exact
    errors = measured_shift_errors(3, size=32)
    assert [d for d, e in errors.items() if e < 1e-12] == [0]
    check_equivariant_shifts({0, 3, 6}, stride=3)
    out = capsys.readouterr().out
    assert "multiples of the stride" in out and "24 x 24" in out
    check_equivariant_shifts({0}, stride=5)  # 5 does not divide 24: not "the multiples"
    out = capsys.readouterr().out
    assert out.startswith(PASS) and "multiples" not in out and "does not divide" in out


def test_equivariant_shifts_refuse_fractions_and_name_the_range(capsys):
    # 6.5 used to be rounded down to 6, and the answer passed
    check_equivariant_shifts([0, 3, 6.5], stride=3)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "6.5 is not a whole shift" in out and PASS not in out
    check_equivariant_shifts({0, 3, 6.0}, stride=3)  # an integer-valued float is a whole shift
    assert capsys.readouterr().out.startswith(PASS)
    # 9 is a multiple of 3 (and equivariant on 24 x 24) but outside the shifts measured
    check_equivariant_shifts({0, 3, 6, 9}, stride=3)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "not equivariant" not in out
    assert "out of range, not measured here: [9]" in out and "dy = 0 to 7" in out
    check_equivariant_shifts({-3, 0, 2, 3, 6}, stride=3)
    out = capsys.readouterr().out
    assert "1 shift(s) in your answer are not equivariant" in out
    assert "out of range, not measured here: [-3]" in out


@pytest.fixture(autouse=True)
def _fresh_misses():
    forget_misses()  # each test starts with no wrong answers counted


# -- found by mutation testing --------------------------------------------------------------------
def test_circulant_is_judged_to_its_documented_tolerance(capsys):
    # atol 1e-12: a matrix with 1e-10 in every cell (the zeros included) is not the circulant
    check_circulant(lambda kernel, n: good_circulant(kernel, n) + 1e-10)
    assert capsys.readouterr().out.startswith("❌")


def test_circulant_and_shift_answers_name_the_call_and_the_learners_value(capsys):
    check_circulant(lambda kernel, n: "a matrix")
    out = capsys.readouterr().out
    assert out.startswith("❌") and "fn(kernel=[1.0, 2.0, 3.0], n=5) returned 'a matrix'" in out
    check_equivariant_shifts({0: 3}, stride=3)  # a dict, not a set: the answer is shown
    out = capsys.readouterr().out
    assert out.startswith("❌") and "{0: 3}" in out and "0 to 7" in out


def test_the_measured_shift_errors_are_the_same_every_run():
    assert measured_shift_errors(2) == measured_shift_errors(2)
