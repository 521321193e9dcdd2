"""The checkers of notebook 08 pass a correct answer and catch the usual wrong ones."""

import types

import numpy as np
import pytest

from cnnlib.exercises.explain import check_cam, check_pointing_game, check_unit


def good_unit(x, weight, bias, row, col, stride=1, padding=0):
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    kh, kw = weight.shape[1:]
    window = xp[:, row * stride : row * stride + kh, col * stride : col * stride + kw]
    return float((window * weight).sum() + bias)


def no_bias(x, weight, bias, row, col, stride=1, padding=0):
    return good_unit(x, weight, 0.0, row, col, stride, padding)


def no_stride(x, weight, bias, row, col, stride=1, padding=0):
    return good_unit(x, weight, bias, row, col, 1, padding)


def starter_unit(x, weight, bias, row, col, stride=1, padding=0):
    raise NotImplementedError


def good_cam(features, weights, target):
    return np.tensordot(weights[target], features, axes=1)


def mean_cam(features, weights, target):
    return good_cam(features, weights, target) / len(features)


def good_pointing(saliency_map, mask):
    return bool(mask[np.unravel_index(np.argmax(saliency_map), saliency_map.shape)])


def argmin_pointing(saliency_map, mask):
    return bool(mask[np.unravel_index(np.argmin(saliency_map), saliency_map.shape)])


@pytest.mark.parametrize(
    ("check", "fn"),
    [(check_unit, good_unit), (check_cam, good_cam), (check_pointing_game, good_pointing)],
)
def test_a_right_answer_passes(check, fn, capsys):
    assert bool(check(fn)) is True
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize(
    ("check", "fn", "hint"),
    [
        (check_unit, no_bias, "bias"),
        (check_unit, no_stride, "row*stride"),
        (check_cam, mean_cam, "not a mean"),
        (check_pointing_game, argmin_pointing, "argmax"),
    ],
)
def test_a_usual_mistake_fails_with_its_hint(check, fn, hint, capsys):
    assert bool(check(fn)) is False
    out = capsys.readouterr().out
    assert out.startswith("❌") and hint in out.splitlines()[-1]


def test_the_starter_is_no_answer_yet(capsys):
    assert bool(check_unit(starter_unit)) is False
    assert capsys.readouterr().out.startswith("✏️ No answer yet")


def test_the_cs231n_case_by_hand():
    # unit (0, 0) with padding 1: the window is the top-left 2 x 2 of each channel behind a zero
    # border; checked against the loops above, themselves checked against torch by check_unit
    from cnnlib.exercises.explain import _cs231n_case, _reference_unit

    x, w, b = _cs231n_case()
    by_hand = sum(
        x[c, i, j] * w[c, i + 1, j + 1] for c in range(3) for i in range(2) for j in range(2)
    )
    assert _reference_unit(x, w, b, 0, 0, 2, 1) == pytest.approx(by_hand + b)


def good_share(attribution, marker):
    a = np.abs(attribution)
    return (a * marker).sum(axis=(1, 2)) / a.sum(axis=(1, 2))


def signed_share(attribution, marker):
    return (attribution * marker).sum(axis=(1, 2)) / attribution.sum(axis=(1, 2))


def pooled_share(attribution, marker):
    a = np.abs(attribution)
    return (a * marker).sum() / a.sum()


def test_shortcut_share_passes_the_right_answer_and_the_reference(capsys):
    from cnnlib.exercises.explain import check_shortcut_share
    from cnnlib.explain import mass_in_mask

    assert bool(check_shortcut_share(good_share)) is True
    assert capsys.readouterr().out.startswith("✅")
    # the hand-worked case of the checker: |1| of |1| + |-3| lies on the marker
    a = np.array([[[1.0, -3.0], [0.0, 0.0]]])
    k = np.array([[[True, False], [False, False]]])
    assert mass_in_mask(a, k)[0] == pytest.approx(0.25)
    assert signed_share(a, k)[0] == pytest.approx(-0.5)


@pytest.mark.parametrize(
    ("fn", "hint"), [(signed_share, "np.abs"), (pooled_share, "one number per image")]
)
def test_shortcut_share_hint_first_then_the_answer(fn, hint, capsys):
    from cnnlib.exercises._report import ANSWER, ASK, forget_misses
    from cnnlib.exercises.explain import check_shortcut_share

    def named(f):  # the learner's one name, as in the notebook, for two different answers
        code = f.__code__.replace(co_name="my_shortcut_share")
        return types.FunctionType(code, f.__globals__, "my_shortcut_share")

    forget_misses()
    assert bool(check_shortcut_share(named(fn))) is False
    first = capsys.readouterr().out
    assert first.startswith("❌") and hint in first and ASK in first and ANSWER not in first
    other = signed_share if fn is pooled_share else pooled_share
    assert bool(check_shortcut_share(named(other))) is False
    assert f"{ANSWER} a = np.abs(attribution)" in capsys.readouterr().out
    forget_misses()


# -- found by mutation testing: the hand-picked cases and what the verdict names -------------------
def clamped_unit(x, weight, bias, row, col, stride=1, padding=0):
    """No padding: the window is sliced from x at row*stride - padding, clamped at 0."""
    kh, kw = weight.shape[1:]
    r0, c0 = max(row * stride - padding, 0), max(col * stride - padding, 0)
    return float((x[:, r0 : r0 + kh, c0 : c0 + kw] * weight).sum() + bias)


def test_unit_the_corner_case_catches_a_clamped_window(capsys):
    # right wherever the padded window keeps its top-left inside x, e.g. units (1, 2), (2, 1)
    check_unit(clamped_unit)
    out = capsys.readouterr().out
    assert out.startswith("❌") and "row=0, col=0, stride=2, padding=1" in out


def test_unit_ignored_stride_is_named_in_the_hint(capsys):
    check_unit(no_stride)
    out = capsys.readouterr().out
    hint = next(line for line in out.splitlines() if line.startswith("Hint:"))
    assert "row=1, col=2" in out and "row*stride" in hint


def abs_pointing(saliency_map, mask):
    """The peak of |map|: right wherever the largest value is also the largest magnitude."""
    a = np.abs(saliency_map)
    return bool(mask[np.unravel_index(np.argmax(a), a.shape)])


def test_pointing_game_the_negative_map_catches_the_absolute_peak(capsys):
    check_pointing_game(good_pointing)
    out = capsys.readouterr().out
    assert out.startswith("✅") and "18 maps" in out and "cnnlib.explain.pointing_game" in out
    check_pointing_game(abs_pointing)
    out = capsys.readouterr().out
    # the third hand map, -on: every value <= 0, the peak is the first 0, at (0, 0)
    assert "expected False, got True (peak at row 0, column 0" in out
    hint = next(line for line in out.splitlines() if line.startswith("Hint:"))
    assert "argmax" in hint


def test_shortcut_share_names_the_image_that_differs(capsys):
    from cnnlib.exercises.explain import check_shortcut_share

    check_shortcut_share(signed_share)
    out = capsys.readouterr().out
    assert out.startswith("❌") and "first difference at share[0]" in out
