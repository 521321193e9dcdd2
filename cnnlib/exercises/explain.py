"""Checkers for the exercises of notebooks 08 (what a CNN sees) and 09 (is an explanation right?).

Each checker runs the learner's function on a hand-worked case first, then on random cases,
against an independent reference, and prints one verdict (see ``_report``).

- ``check_unit(fn)``: ``fn(x, weight, bias, row, col, stride=1, padding=0)`` returns the
  pre-activation of one output unit of a convolution, ``x`` ``(C, H, W)``, ``weight``
  ``(C, kh, kw)`` (one filter), ``bias`` a number:
  ``z = b + sum_c sum_{a,b} x_pad[c, row s + a, col s + b] w[c, a, b]``.
  Reference: ``torch.nn.functional.conv2d``.
- ``check_cam(fn)``: ``fn(features, weights, target)`` returns the class activation map
  ``CAM[i, j] = sum_k weights[target, k] features[k, i, j]`` of features ``(K, h, w)`` and the
  linear layer's ``weights`` ``(classes, K)``. Reference: :func:`cnnlib.explain.cam` on a
  network that outputs those features, then global average pooling and that linear layer.
- ``check_pointing_game(fn)``: ``fn(saliency_map, mask)`` returns True when the map's peak
  (its first largest value, row by row) lies on the mask. Reference:
  :func:`cnnlib.explain.pointing_game`.
- ``check_shortcut_share(fn)``: ``fn(attribution, marker)`` returns, per image, the share of
  the map's absolute mass on the marker,
  ``sum_p |a[n, p]| [p in marker[n]] / sum_p |a[n, p]|``, for maps ``(N, H, W)`` with negative
  values and boolean markers ``(N, H, W)``. Reference: :func:`cnnlib.explain.mass_in_mask`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlib.exercises._report import (
    Judge,
    Result,
    compare,
    name_of,
    number,
    require_callable,
    show,
)
from cnnlib.shapes import conv_output_size

__all__ = ["check_unit", "check_cam", "check_pointing_game", "check_shortcut_share"]


def _cs231n_case() -> tuple[np.ndarray, np.ndarray, float]:
    """A 3-channel 5 x 5 input of small integers and one 3 x 3 x 3 filter of -1, 0, 1, as in
    CS231n's convolution demo (padding 1, stride 2)."""
    rng = np.random.default_rng(231)
    x = rng.integers(0, 3, size=(3, 5, 5)).astype(float)
    w = rng.integers(-1, 2, size=(3, 3, 3)).astype(float)
    return x, w, 1.0


def _reference_unit(x, w, b, row, col, stride, padding) -> float:
    import torch
    import torch.nn.functional as F

    out = F.conv2d(
        torch.from_numpy(x)[None],
        torch.from_numpy(w)[None],
        torch.tensor([float(b)], dtype=torch.float64),
        stride=stride,
        padding=padding,
    )
    return float(out[0, 0, row, col])


def check_unit(fn: Callable) -> Result:
    """Check ``fn(x, weight, bias, row, col, stride=1, padding=0)`` (see the module docstring).

    Prints one verdict; returns True on success.
    """
    require_callable(fn)
    x0, w0, b0 = _cs231n_case()
    cases = [(x0, w0, b0, r, c, 2, 1) for r, c in ((0, 0), (1, 2), (2, 1))]
    rng = np.random.default_rng(8)
    for _ in range(12):
        c_in, k = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        h, w = int(rng.integers(k, 9)), int(rng.integers(k, 9))
        s, p = int(rng.integers(1, 3)), int(rng.integers(0, k))
        out_h, out_w = conv_output_size((h, w), k, s, p)
        cases.append((
            rng.normal(size=(c_in, h, w)), rng.normal(size=(c_in, k, k)), float(rng.normal()),
            int(rng.integers(0, out_h)), int(rng.integers(0, out_w)), s, p,
        ))  # fmt: skip
    hint = (
        "pad x with zeros on every side, take the window x_pad[:, row*stride : row*stride + kh, "
        "col*stride : col*stride + kw] (all channels), multiply by the filter, sum everything "
        "and add the bias."
    )
    with Judge(name_of(fn, "your unit"), hint, "torch.nn.functional.conv2d") as j:
        for x, w, b, row, col, s, p in cases:
            call = f"fn(x, weight, bias={b:.4g}, row={row}, col={col}, stride={s}, padding={p})"
            where = f"x: {x.shape}, weight: {w.shape}\n"
            got = j.call(call, fn, x.copy(), w.copy(), b, row, col, stride=s, padding=p)
            try:
                value = j.read(call, lambda got=got: number(got))
            except (TypeError, ValueError):
                j.fail(
                    f"{call} returned {show(got)}, not one number.\n{where}",
                    "return a single number: the sum over channels and taps, plus the bias.",
                )
            expected = _reference_unit(x, w, b, row, col, s, p)
            if not np.isclose(value, expected, rtol=1e-6, atol=1e-8):
                why = ""
                if np.isclose(value, expected - b, rtol=1e-6, atol=1e-8):
                    why = "add the bias once, after the sum."
                elif p and np.isclose(value, _reference_unit(x, w, b, row, col, s, 0)
                                      if _fits(x, w, row, col, s) else np.nan):  # fmt: skip
                    why = "the window is taken from the padded input: pad first, then slice."
                elif s > 1 and np.isclose(value, _reference_unit(x, w, b, row, col, 1, p)):
                    why = "output unit (row, col) starts at row*stride, col*stride of the input."
                j.fail(f"{call}: expected {expected:.6g}, got {value:.6g}.\n{where}", why)
        j.passed_cases(len(cases))
    return j.result


def _fits(x, w, row, col, s) -> bool:
    """Whether the unpadded window of unit (row, col) lies inside x (a no-padding answer)."""
    return row * s + w.shape[1] <= x.shape[1] and col * s + w.shape[2] <= x.shape[2]


def _reference_cam(features: np.ndarray, weights: np.ndarray, target: int) -> np.ndarray:
    import torch
    from torch import nn

    from cnnlib.explain import cam

    k = features.shape[0]
    identity = nn.Conv2d(k, k, 1, bias=False).double()
    head = nn.Linear(k, weights.shape[0]).double()
    with torch.no_grad():
        identity.weight.copy_(torch.eye(k, dtype=torch.float64)[:, :, None, None])
        head.weight.copy_(torch.from_numpy(weights))
    model = nn.Sequential(identity, nn.AdaptiveAvgPool2d(1), nn.Flatten(), head).float()
    return np.asarray(cam(model, features.astype(np.float32), target), dtype=float)


def check_cam(fn: Callable) -> Result:
    """Check ``fn(features, weights, target)`` (see the module docstring). Prints one verdict;
    returns True on success."""
    require_callable(fn)
    cases = [
        (np.arange(8.0).reshape(2, 2, 2), np.array([[1.0, 0.0], [0.5, -1.0]]), 1),
    ]
    rng = np.random.default_rng(12)
    for _ in range(8):
        k, classes = int(rng.integers(1, 9)), int(rng.integers(2, 6))
        h, w = int(rng.integers(1, 8)), int(rng.integers(1, 8))
        feats = np.maximum(rng.normal(size=(k, h, w)), 0)  # after a ReLU
        cases.append((feats, rng.normal(size=(classes, k)), int(rng.integers(0, classes))))
    hint = (
        "weight each feature map k by the linear layer's weight of the target class, "
        "weights[target, k], and add the weighted maps up (no averaging, no ReLU)."
    )
    with Judge(name_of(fn, "your CAM"), hint, "cnnlib.explain.cam") as j:
        for feats, weights, target in cases:
            call = f"fn(features, weights, target={target})"
            where = f"features: {feats.shape}, weights: {weights.shape}\n"
            got = j.call(call, fn, feats.copy(), weights.copy(), target)
            expected = _reference_cam(feats, weights, target)

            def why(arr, feats=feats, weights=weights, target=target, expected=expected):
                if arr.shape == expected.shape and np.allclose(arr * feats.shape[0], expected):
                    return "add the weighted maps up: a sum over k, not a mean."
                if arr.shape == expected.shape and np.allclose(arr, np.maximum(expected, 0)):
                    return "CAM keeps the negative values: no ReLU (Grad-CAM adds one)."
                if weights.shape[1] == weights.shape[0] and arr.shape == expected.shape:
                    return "weights is (classes, K): the target's weights are weights[target]."
                return ""

            compare(j, call, where, got, expected, why, at="CAM", rtol=1e-5, atol=1e-6)
        j.passed_cases(len(cases))
    return j.result


def check_pointing_game(fn: Callable) -> Result:
    """Check ``fn(saliency_map, mask) -> bool`` (see the module docstring). Prints one
    verdict; returns True on success."""
    from cnnlib.explain import pointing_game

    require_callable(fn)
    on = np.zeros((4, 5))
    on[1, 3] = 2.0
    mask = np.zeros((4, 5), bool)
    mask[1, 2:4] = True
    transposed = np.zeros((4, 5))
    transposed[3, 1] = 2.0  # the peak at (3, 1): row and column swapped, off the mask
    cases = [(on, mask), (transposed, mask), (-on, mask)]
    rng = np.random.default_rng(3)
    for _ in range(15):
        h, w = int(rng.integers(2, 9)), int(rng.integers(2, 9))
        m = rng.normal(size=(h, w))
        k = rng.random((h, w)) < 0.3
        cases.append((m, k))
    hint = (
        "find the peak with np.unravel_index(np.argmax(saliency_map), saliency_map.shape) "
        "and look the mask up there."
    )
    with Judge(name_of(fn, "your pointing game"), hint, "cnnlib.explain.pointing_game") as j:
        for m, k in cases:
            call = f"fn(saliency_map, mask) with a {m.shape[0]} x {m.shape[1]} map"
            peak = np.unravel_index(np.argmax(m), m.shape)
            where = f"peak at row {peak[0]}, column {peak[1]}; mask there: {bool(k[peak])}"
            got = j.call(call, fn, m.copy(), k.copy())
            if not isinstance(got, bool | np.bool_):
                j.fail(f"{call} returned {show(got)}, not True or False.",
                       "return a bool: mask[peak_row, peak_col].")  # fmt: skip
            expected = pointing_game(m, k)
            if bool(got) != expected:
                why = ""
                if bool(got) == bool(k[np.unravel_index(np.argmin(m), m.shape)]):
                    why = "the peak is the largest value (argmax), not the smallest."
                j.fail(f"{call}: expected {expected}, got {bool(got)} ({where}).", why)
        j.passed_cases(len(cases), cases="maps")
    return j.result


_SHARE_ANSWER = "a = np.abs(attribution); return (a * marker).sum(axis=(1, 2)) / a.sum(axis=(1, 2))"


def check_shortcut_share(fn: Callable, show_answer: bool = False) -> Result:
    """Check ``fn(attribution, marker)`` (see the module docstring). Prints one verdict;
    returns True on success. The worked answer is shown from the second different wrong
    answer on (or at once with ``show_answer=True``)."""
    from cnnlib.explain import mass_in_mask

    require_callable(fn)
    # by hand: |1| of |1| + |-3| on the marker, 1 / 4; without the absolute value -0.5
    hand = np.array([[[1.0, -3.0], [0.0, 0.0]]])
    hand_marker = np.array([[[True, False], [False, False]]])
    cases = [(hand, hand_marker)]
    rng = np.random.default_rng(21)
    for _ in range(6):
        n, h, w = int(rng.integers(1, 5)), int(rng.integers(3, 9)), int(rng.integers(3, 9))
        a = rng.normal(size=(n, h, w))
        k = np.zeros((n, h, w), bool)
        k[:, :2, :2] = True  # a corner marker, as in shortcut_shapes
        cases.append((a, k))
    hint = (
        "per image, add up |attribution| on the marker's pixels and divide by the sum of "
        "|attribution| over the whole image: one number per image."
    )
    with Judge(
        name_of(fn, "your shortcut share"),
        hint,
        "cnnlib.explain.mass_in_mask",
        answer=_SHARE_ANSWER,
        show_answer=show_answer,
    ) as j:
        for a, k in cases:
            call = (
                f"fn(attribution, marker) with {a.shape[0]} map(s) of {a.shape[1]} x {a.shape[2]}"
            )
            where = f"attribution: {a.shape}, marker: {k.shape}, {int(k[0].sum())} marker pixels\n"
            got = j.call(call, fn, a.copy(), k.copy())
            expected = np.asarray(mass_in_mask(a, k), dtype=float)

            def why(arr, a=a, k=k, expected=expected):
                signed = (a * k).sum(axis=(1, 2)) / a.sum(axis=(1, 2))
                if arr.size == 1 and expected.size > 1:
                    return "one number per image: sum over the pixels, axis=(1, 2), not all."
                if arr.shape == expected.shape and np.allclose(arr, signed):
                    return (
                        "a negative attribution is evidence too: take np.abs(attribution) "
                        "before adding up, or the signs cancel."
                    )
                area = k.sum(axis=(1, 2)) / k[0].size
                if arr.shape == expected.shape and np.allclose(arr * area, expected):
                    return "divide by the whole map's absolute mass, not by the marker's area."
                return ""

            compare(j, call, where, got, expected, why, at="share", rtol=1e-5, atol=1e-8)
        j.passed_cases(len(cases), cases="maps")
    return j.result
