"""A hint first, the worked answer second: the one mechanism every checker shares.

On the first wrong answer to an exercise a checker prints what is wrong and a hint, never the
answer; from the second *different* wrong answer on (or at once with ``show_answer=True``) it
also prints ``Answer: <the worked answer>``. The same answer run again is not a new miss (a
notebook run twice shows the same verdicts); a pass starts the count again. And 02's
Exercise 1 refuses ``int(room / stride)``, which truncates a negative room toward zero.
"""

from __future__ import annotations

import importlib
import inspect
import math

import numpy as np
import pytest
import torch

from cnnlib.exercises._report import ANSWER, ASK, FAIL, HINT, PASS, forget_misses, misses
from cnnlib.exercises.conv import check_convolve2d, check_output_shape, check_output_value
from cnnlib.exercises.equivariance import check_equivariant_shifts
from cnnlib.exercises.params import check_layer_params
from cnnlib.exercises.shapes import NO_ROOM_CASES, check_lost_pixels, check_output_size


@pytest.fixture(autouse=True)
def _fresh_misses():
    forget_misses()


# 01 Exercise 4: conv2d(x, k)[1, 2] = 2*1 + 0*0 + 3*(-1) + 1*2 = 1, worked by hand
X_EX = np.array([[2.0, 0, 1, 3], [1, 4, 2, 0], [0, 1, 3, 1], [2, 2, 0, 1]])
K_EX = np.array([[1.0, 0], [-1, 2]])

#: (a checker of one predicted value, two different wrong answers, the right one, and a text
#: only the worked answer has)
PREDICTIONS = [
    (lambda a, **kw: check_output_value(a, X_EX, K_EX, 1, 2, **kw), (3, 4), 1, "sum = 1"),
    (
        # (32 + 2*1 - 5) // 2 + 1 = 15 by hand
        lambda a, **kw: check_output_shape(a, (8, 3, 32, 32), (16, 3, 5, 5), 2, 1, **kw),
        ((8, 3, 15, 15), (8, 16, 16, 16)),
        (8, 16, 15, 15),
        "(8, 16, 15, 15)",
    ),
    # 128 filters of 64 x 5 x 5 weights and a bias: 128 * 1601 = 204,928
    (lambda a, **kw: check_layer_params(a, 64, 128, 5, **kw), (204_800, 5), 204_928, "204,928"),
    # stride 3 divides 24: the shifts 0, 3, 6 of 0..7 carry the grid of windows onto itself
    (
        lambda a, **kw: check_equivariant_shifts(a, 3, **kw),
        ({0, 1, 2}, {0, 3}),
        {0, 3, 6},
        "[0, 3, 6]",
    ),
]


@pytest.mark.parametrize("check, wrong, right, answer", PREDICTIONS)
def test_the_first_miss_gives_a_hint_without_the_answer(capsys, check, wrong, right, answer):
    assert not check(wrong[0])
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and HINT in out
    assert answer not in out and ANSWER not in out
    assert out.rstrip().endswith(ASK)
    check(wrong[0])  # the same answer again (the cell run again) is not a second miss
    assert capsys.readouterr().out == out


@pytest.mark.parametrize("check, wrong, right, answer", PREDICTIONS)
def test_the_second_miss_gives_the_worked_answer(capsys, check, wrong, right, answer):
    check(wrong[0])
    capsys.readouterr()
    assert not check(wrong[1])
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and HINT in out
    assert f"\n{ANSWER} " in out and answer in out.split(ANSWER, 1)[1]


@pytest.mark.parametrize("check, wrong, right, answer", PREDICTIONS)
def test_the_answer_on_request_and_a_pass_starts_again(capsys, check, wrong, right, answer):
    check(wrong[0], show_answer=True)  # on request, at the first miss
    out = capsys.readouterr().out
    assert answer in out.split(ANSWER, 1)[1]
    assert check(right)
    assert capsys.readouterr().out.startswith(PASS)
    check(wrong[1])  # after a pass, a miss is a first miss again
    out = capsys.readouterr().out
    assert ANSWER not in out and answer not in out


def test_a_function_checker_keeps_its_worked_answer_for_the_second_miss(capsys):
    def my_convolve2d(x, kernel):
        return torch.nn.functional.conv2d(
            torch.tensor(x)[None, None], torch.tensor(kernel)[None, None]
        )[0, 0].numpy()  # not flipped: the cross-correlation

    check_convolve2d(my_convolve2d)
    first = capsys.readouterr().out
    assert first.startswith(FAIL) and ASK in first and "kernel[::-1, ::-1]" not in first
    assert misses("my_convolve2d") == 1
    check_convolve2d(my_convolve2d)  # run again unchanged: the same verdict
    assert capsys.readouterr().out == first and misses("my_convolve2d") == 1

    def my_convolve2d(x, kernel):  # edited, still wrong: a transpose is not a 180-degree turn
        return torch.nn.functional.conv2d(
            torch.tensor(x)[None, None], torch.tensor(kernel.T.copy())[None, None]
        )[0, 0].numpy()

    check_convolve2d(my_convolve2d)
    second = capsys.readouterr().out
    assert "kernel[::-1, ::-1]" in second.split(ANSWER, 1)[1]


def test_no_answer_yet_is_not_a_miss(capsys):
    check_output_value(None, X_EX, K_EX, 1, 2)
    check_output_value(None, X_EX, K_EX, 1, 2)
    assert misses("output[1, 2]") == 0
    check_output_value(3, X_EX, K_EX, 1, 2)
    assert ANSWER not in capsys.readouterr().out


def test_every_checker_takes_show_answer():
    names = ["architectures", "backprop", "conv", "equivariance", "params", "receptive", "shapes"]
    for name in names:
        module = importlib.import_module(f"cnnlib.exercises.{name}")
        for fn in module.__all__:
            parameter = inspect.signature(getattr(module, fn)).parameters.get("show_answer")
            assert parameter is not None and parameter.default is False, f"{name}.{fn}"


def test_show_answer_must_be_a_bool():
    with pytest.raises(TypeError, match="show_answer must be True or False"):
        check_output_value(1, X_EX, K_EX, 1, 2, show_answer="yes")


# -- 02 Exercise 1: int(room / stride) is refused ---------------------------------------------
def _room(size, k, s, p, d):
    return size + 2 * p - d * (k - 1) - 1


def test_the_no_room_cases_are_what_truncation_gets_wrong():
    for size, k, s, p, d in NO_ROOM_CASES:
        room = _room(size, k, s, p, d)
        assert -s < room < 0  # floor(room / s) = -1, int(room / s) = 0
        # no window fits: every start position runs past the padded input
        assert all(start + d * (k - 1) > size + 2 * p - 1 for start in range(size + 2 * p))
        with pytest.raises(RuntimeError):  # torch refuses such a layer: no torch reference
            torch.nn.Conv1d(1, 1, k, s, p, d)(torch.zeros(1, 1, size))


def test_output_size_refuses_int_of_room_over_stride(capsys):
    def my_output_size(size, kernel_size, stride, padding, dilation):
        return int(_room(size, kernel_size, stride, padding, dilation) / stride) + 1

    assert not check_output_size(my_output_size)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "returned 1, expected 0" in out
    assert "int() rounds toward zero" in out and ANSWER not in out

    def my_output_size(size, kernel_size, stride, padding, dilation):  # edited, still truncating
        return math.trunc((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1

    assert not check_output_size(my_output_size)  # the second miss: the worked answer
    assert "room // stride + 1" in capsys.readouterr().out.split(ANSWER, 1)[1]


@pytest.mark.parametrize(
    "fn",
    [
        lambda n, k, s, p, d: _room(n, k, s, p, d) // s + 1,
        lambda n, k, s, p, d: math.floor(_room(n, k, s, p, d) / s) + 1,
    ],
)
def test_output_size_accepts_the_floor(capsys, fn):
    assert check_output_size(fn)
    assert capsys.readouterr().out.startswith(PASS)


def test_lost_pixels_asks_before_it_shows(capsys):
    """02 Ex. 3 asks to predict the lost pixels of size 7, kernel 2 first: stride 3 reads the
    windows 0-1 and 3-4 and loses 2, 5 and 6, which only the worked answer may show."""

    def my_lost_pixels(size, kernel_size, stride):
        return list(range((size - kernel_size) // stride * stride + kernel_size, size))  # tail

    assert not check_lost_pixels(my_lost_pixels)
    first = capsys.readouterr().out
    assert "fn(size=7, kernel_size=2, stride=3) returned [5, 6]." in first
    assert "[2, 5, 6]" not in first and first.rstrip().endswith(ASK)

    def my_lost_pixels(size, kernel_size, stride):  # edited, still wrong: nothing lost
        return []

    assert not check_lost_pixels(my_lost_pixels)
    second = capsys.readouterr().out.split(ANSWER, 1)[1]
    assert "fn(size=7, kernel_size=2, stride=3) is [2, 5, 6]." in second
