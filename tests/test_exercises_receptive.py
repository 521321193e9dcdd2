"""The checkers of notebook 04 pass a correct answer and catch the usual wrong ones."""

import math

import pytest

from cnnlib.exercises.receptive import check_receptive_field, check_window


def good_rf(layers):
    r, jump = 1, 1
    for k, s, *rest in layers:
        d = rest[0] if rest else 1
        r += d * (k - 1) * jump
        jump *= s
    return r


def no_stride(layers):
    return 1 + sum(k - 1 for k, *_ in layers)


def own_stride(layers):
    r, jump = 1, 1
    for k, s, *_ in layers:
        jump *= s
        r += (k - 1) * jump
    return r


def sum_of_kernels(layers):
    return sum(k for k, *_ in layers)


def good_window(layers, unit):
    # independent of cnnlib: follow the unit down, layer by layer
    a = b = unit
    for k, s, p in reversed(layers):
        a, b = a * s - p, b * s - p + k - 1
    return a, b


def test_correct_answers_pass(capsys):
    check_receptive_field(good_rf)
    check_receptive_field(good_rf, dilation=True)
    check_window(good_window)
    out = capsys.readouterr().out
    assert out.count("✅") == 3 and "❌" not in out


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (no_stride, "product of the strides of the layers *below*"),
        (own_stride, "i < l"),
        (sum_of_kernels, "start from r_0 = 1"),
        (lambda layers: "7", "not an integer"),
        (lambda layers: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_wrong_sizes_are_caught_with_a_hint(fn, hint, capsys):
    check_receptive_field(fn)
    out = capsys.readouterr().out
    assert "❌" in out and hint in out


def test_ignoring_dilation_is_caught(capsys):
    def undilated(layers):
        return good_rf([(k, s) for k, s, *_ in layers])

    check_receptive_field(undilated)  # fine without dilation
    assert "✅" in capsys.readouterr().out
    check_receptive_field(undilated, dilation=True)
    out = capsys.readouterr().out
    assert "❌" in out and "d (k - 1) + 1" in out


def test_wrong_windows_are_caught(capsys):
    def no_padding(layers, unit):
        a, b = good_window([(k, s, 0) for k, s, _ in layers], unit)
        return a, b

    def exclusive_end(layers, unit):
        a, b = good_window(layers, unit)
        return a, b + 1

    def centre_only(layers, unit):
        a, b = good_window(layers, unit)
        return math.floor((a + b) / 2), math.floor((a + b) / 2)

    for fn, hint in [
        (no_padding, "effective padding"),
        (exclusive_end, "inclusive"),
        (centre_only, "should hold"),
        (lambda layers, unit: 3, "not a pair"),
    ]:
        check_window(fn)
        out = capsys.readouterr().out
        assert "❌" in out and hint in out


def test_fractional_windows_are_named_not_rounded(capsys):
    # int() truncated the window plus a half: (-2.5, 3.5) was reported as a wrong (-2, 3)
    check_window(lambda layers, unit: tuple(v + 0.5 for v in good_window(layers, unit)))
    out = capsys.readouterr().out
    assert "❌" in out and "is not an input index" in out
    check_window(lambda layers, unit: tuple(float(v) for v in good_window(layers, unit)))
    assert "✅" in capsys.readouterr().out


# -- found by mutation testing --------------------------------------------------------------------
def test_ignoring_dilation_gets_its_own_hint(capsys):
    def undilated(layers):
        return good_rf([(k, s) for k, s, *_ in layers])

    check_receptive_field(undilated, dilation=True)
    out = capsys.readouterr().out
    hint = next(line for line in out.splitlines() if line.startswith("Hint:"))
    # the first worked stack (3, 1, 1), (3, 1, 2), (3, 1, 4): 1 + 2 + 4 + 8 = 15, not 7
    assert "expected 15, got 7" in out and "spans d (k - 1) + 1" in hint


def test_the_drawn_stacks_are_the_same_every_run(capsys):
    def wrong_on_deep_stacks(layers):  # right on the worked stacks (at most 4 layers)
        return good_rf(layers) + (len(layers) > 4)

    check_receptive_field(wrong_on_deep_stacks)
    first = capsys.readouterr().out
    check_receptive_field(wrong_on_deep_stacks)
    assert first.startswith("❌") and capsys.readouterr().out == first
