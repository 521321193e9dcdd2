"""The exercise checkers of notebook 03: right answers pass, typical wrong ones are caught.

The "learner" functions are written here from the formulas, independent of cnnlib.params; each
wrong one carries one typical mistake, and the checker must fail it with the matching hint.
"""

from __future__ import annotations

import pytest

from cnnlib.exercises._report import forget_misses
from cnnlib.exercises.params import (
    FAIL,
    PASS,
    check_conv2d_macs,
    check_conv2d_params,
    check_depthwise_separable_params,
    check_layer_params,
)


def good_params(in_channels, out_channels, kernel_size, bias=True, groups=1):
    return out_channels * (in_channels // groups * kernel_size**2) + (out_channels if bias else 0)


def no_bias_params(in_channels, out_channels, kernel_size, bias=True, groups=1):
    return out_channels * in_channels // groups * kernel_size**2


def linear_k_params(in_channels, out_channels, kernel_size, bias=True, groups=1):
    return out_channels * (in_channels // groups * kernel_size) + (out_channels if bias else 0)


def ignores_groups(in_channels, out_channels, kernel_size, bias=True, groups=1):
    return out_channels * in_channels * kernel_size**2 + (out_channels if bias else 0)


def float_params(in_channels, out_channels, kernel_size, bias=True, groups=1):
    return out_channels * (in_channels / groups * kernel_size**2) + (out_channels if bias else 0)


def good_dsc(in_channels, out_channels, kernel_size, bias=True):
    depthwise = in_channels * kernel_size**2 + (in_channels if bias else 0)
    pointwise = in_channels * out_channels + (out_channels if bias else 0)
    return depthwise + pointwise


def dsc_without_depthwise_bias(in_channels, out_channels, kernel_size, bias=True):
    return in_channels * kernel_size**2 + in_channels * out_channels + (out_channels if bias else 0)


def dsc_standard(in_channels, out_channels, kernel_size, bias=True):
    return in_channels * out_channels * kernel_size**2 + (out_channels if bias else 0)


def good_macs(in_channels, out_channels, kernel_size, size, stride=1, padding=0):
    out = (size + 2 * padding - kernel_size) // stride + 1
    return out * out * out_channels * in_channels * kernel_size**2


def input_size_macs(in_channels, out_channels, kernel_size, size, stride=1, padding=0):
    return size * size * out_channels * in_channels * kernel_size**2


def bias_macs(in_channels, out_channels, kernel_size, size, stride=1, padding=0):
    out = (size + 2 * padding - kernel_size) // stride + 1
    return good_macs(in_channels, out_channels, kernel_size, size, stride, padding) + (
        out * out * out_channels
    )


def raises(*args, **kwargs):
    raise RuntimeError("not written yet")


def run(capsys, checker, fn):
    checker(fn)
    return capsys.readouterr().out


def test_correct_solutions_pass(capsys):
    for checker, fn in [
        (check_conv2d_params, good_params),
        (check_depthwise_separable_params, good_dsc),
        (check_conv2d_macs, good_macs),
    ]:
        out = run(capsys, checker, fn)
        assert out.startswith(PASS) and "cases match PyTorch" in out, out


@pytest.mark.parametrize(
    "fn,words",
    [
        (no_bias_params, "one bias"),
        (linear_k_params, "k * k weights"),
        (ignores_groups, "C_in / groups"),
        (float_params, "whole number"),
        (raises, "raised RuntimeError: not written yet"),
    ],
)
def test_wrong_conv2d_params_are_caught(capsys, fn, words):
    out = run(capsys, check_conv2d_params, fn)
    assert out.startswith(FAIL) and words in out, out
    assert "expected" in out or "raised" in out or "returned" in out


@pytest.mark.parametrize(
    "fn,words",
    [
        (dsc_without_depthwise_bias, "depthwise convolution has a bias"),
        (dsc_standard, "standard convolution"),
    ],
)
def test_wrong_depthwise_separable_params_are_caught(capsys, fn, words):
    out = run(capsys, check_depthwise_separable_params, fn)
    assert out.startswith(FAIL) and words in out, out


@pytest.mark.parametrize(
    "fn,words", [(input_size_macs, "output size"), (bias_macs, "bias additions")]
)
def test_wrong_macs_are_caught(capsys, fn, words):
    out = run(capsys, check_conv2d_macs, fn)
    assert out.startswith(FAIL) and words in out and "expected" in out, out


def test_layer_params_by_hand(capsys):
    check_layer_params(1792, 3, 64, 3)
    out = capsys.readouterr().out
    assert out.startswith(PASS) and "1,792" in out
    check_layer_params(1728, 3, 64, 3)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "it is not 1,728" in out and "one bias" in out
    assert "1,792" not in out  # a first miss: the hint, not the count
    check_layer_params(73_856, 64, 128, 3)
    assert capsys.readouterr().out.startswith(PASS)
    check_layer_params("1792", 3, 64, 3)
    assert "whole number" in capsys.readouterr().out
    check_layer_params(16 * 9 + 16, 16, 16, 3, groups=16)
    assert capsys.readouterr().out.startswith(PASS)


def no_in_channels_params(in_channels, out_channels, kernel_size, bias=True, groups=1):
    return out_channels * kernel_size**2 + (out_channels if bias else 0)


def test_hints_name_only_an_unambiguous_mistake(capsys):
    # the first case is nn.Conv2d(3, 64, 3): C_in = k = 3, so 64 * 3 * 3 + 64 = 640 is both
    # "k instead of k * k" and "C_in forgotten"; the other cases tell the two apart
    out = run(capsys, check_conv2d_params, no_in_channels_params)
    assert out.startswith(FAIL) and "expected 1,792, got 640" in out
    assert "one k x k slice per input channel" in out and "not k." not in out
    out = run(capsys, check_conv2d_params, linear_k_params)
    assert "expected 1,792, got 640" in out and "k * k weights per input channel, not k" in out
    assert "slice" not in out
    # one number by hand: the same 640 names no mistake; with C_in = 4 != k it does
    check_layer_params(640, 3, 64, 3)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "it is not 640." in out
    assert "slice" not in out and "not k." not in out  # only the general hint
    check_layer_params(64 * 3 * 3 + 64, 4, 64, 3)  # C_in forgotten
    assert "one k x k slice per input channel" in capsys.readouterr().out
    check_layer_params(64 * 4 * 3 + 64, 4, 64, 3)  # k instead of k * k
    assert "not k." in capsys.readouterr().out


@pytest.fixture(autouse=True)
def _fresh_misses():
    forget_misses()  # each test starts with no wrong answers counted


# -- tests found by mutation testing (tools/mutation.py exercises) ---------------------------
def test_layer_params_checker_names_its_bad_arguments_and_takes_a_1x1_kernel():
    from cnnlib.exercises.params import check_layer_params

    with pytest.raises(ValueError, match="^in_channels must be a positive integer"):
        check_layer_params(10, 0, 4, 3)
    with pytest.raises(ValueError, match="^kernel_size must be a positive integer"):
        check_layer_params(10, 1, 4, 0)
    assert check_layer_params(2 * 1 * 1 + 2, 1, 2, 1)  # by hand: 2 weights and 2 biases


# -- found by mutation testing: the hand-picked case and the name ---------------------------------
def test_macs_hand_picked_strided_case_catches_a_misplaced_plus_one(capsys):
    """(n + 2p - k + 1) // s instead of (n + 2p - k) // s + 1: the same at stride 1; the hand
    case (4, 4, 3, 9, stride=2, padding=1) is the first it gets wrong: 4 x 4 outputs, not
    (9 + 2 - 3) // 2 + 1 = 5."""

    def plus_one_inside(c_in, c_out, k, size, stride=1, padding=0):
        out = (size + 2 * padding - k + 1) // stride
        return out * out * c_out * c_in * k * k

    check_conv2d_macs(plus_one_inside)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "fn(4, 4, 3, 9, stride=2, padding=1)" in out
    assert "(output 5 x 5)" in out and f"{4 * 4 * 4 * 4 * 9:,}" in out


def test_depthwise_separable_verdict_names_the_learners_function(capsys):
    def my_separable(c_in, c_out, k, bias=True):
        return c_in * k * k + c_in * c_out  # the biases forgotten

    check_depthwise_separable_params(my_separable)
    out = capsys.readouterr().out
    assert out.startswith(f"{FAIL} my_separable:") and "bias" in out
