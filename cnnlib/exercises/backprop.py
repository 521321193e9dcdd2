"""Checkers for the exercises of notebook 06 (backpropagation through convolution).

The reference is PyTorch's autograd (``loss = sum(grad_out * y)``, then ``.backward()``), which
shares no code with ``cnnlib.backprop``. Each checker runs a hand-worked case first, then random
ones, and prints one success line or the first failing case: the input, expected and received
gradients, and a hint when the answer is what a common mistake gives (a kernel not rotated, a
gradient correlated the wrong way round, the gradient spread over a pooling window).

The exercises work on one channel, stride 1, no padding:

- ``my_grad_weight(x, grad_out)``: ``dL/dw`` of ``y = conv2d(x, w)``; ``x`` is ``(H, W)``,
  ``grad_out`` ``(H - kH + 1, W - kW + 1)``; returns ``(kH, kW)``:
  ``dL/dw[m, n] = sum_{i, j} grad_out[i, j] * x[i + m, j + n]``.
- ``my_grad_input(grad_out, w)``: ``dL/dx`` of the same layer; returns ``(H, W)``:
  the full convolution of ``grad_out`` with ``w``, i.e. ``rot180(w)`` sliding over
  ``grad_out`` padded with ``k - 1`` zeros.
- ``my_max_pool_backward(grad_out, x)``: ``dL/dx`` of ``max_pool2d(x, 2)`` (2 x 2 windows,
  stride 2; ``x`` has even sides). Where a window holds its maximum more than once (an
  all-zero window after a ReLU), the whole gradient goes to the first maximum, row by row,
  as torch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cnnlib.exercises._report import FAIL as FAIL  # re-exported for tests
from cnnlib.exercises._report import NO_ANSWER as NO_ANSWER
from cnnlib.exercises._report import PASS as PASS
from cnnlib.exercises._report import (
    Judge,
    Result,
    compare,
    fmt,
    name_of,
    require_callable,
    same,
)

__all__ = ["check_grad_input", "check_grad_weight", "check_max_pool_backward"]


def _torch_grads(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import torch
    import torch.nn.functional as F

    xt = torch.tensor(x[None, None], dtype=torch.float64, requires_grad=True)
    wt = torch.tensor(w[None, None], dtype=torch.float64, requires_grad=True)
    (F.conv2d(xt, wt) * torch.tensor(g[None, None], dtype=torch.float64)).sum().backward()
    return xt.grad[0, 0].numpy(), wt.grad[0, 0].numpy()


def _torch_pool_grad(x: np.ndarray, g: np.ndarray, kind: str = "max") -> np.ndarray:
    import torch
    import torch.nn.functional as F

    xt = torch.tensor(x[None, None], dtype=torch.float64, requires_grad=True)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    (pool(xt, 2) * torch.tensor(g[None, None], dtype=torch.float64)).sum().backward()
    return xt.grad[0, 0].numpy()


def _has_tie(x: np.ndarray) -> bool:
    """Whether some 2 x 2 window of ``x`` (stride 2) holds its maximum more than once."""
    h, w = x.shape
    windows = x[: h // 2 * 2, : w // 2 * 2].reshape(h // 2, 2, w // 2, 2).transpose(0, 2, 1, 3)
    windows = windows.reshape(h // 2, w // 2, 4)
    return bool(((windows == windows.max(axis=2, keepdims=True)).sum(axis=2) > 1).any())


def _cases(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(x, w, grad_out): the worked example of the notebook, then random integer cases."""
    cases = [(np.arange(9.0).reshape(3, 3), np.array([[0.0, 1.0], [2.0, 3.0]]), np.ones((2, 2)))]
    cases.append(
        (
            np.arange(20.0).reshape(4, 5) % 7,
            np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]]),
            np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0], [2.0, 1.0, 1.0]]),
        )
    )
    for _ in range(6):
        h, w = (int(v) for v in rng.integers(3, 8, size=2))
        kh, kw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        x = rng.integers(-4, 5, size=(h, w)).astype(float)
        k = rng.integers(-3, 4, size=(kh, kw)).astype(float)
        g = rng.integers(-3, 4, size=(h - kh + 1, w - kw + 1)).astype(float)
        cases.append((x, k, g))
    return cases


def _correlate_valid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``out[m, n] = sum_{i, j} a[i + m, j + n] * b[i, j]`` with plain loops (for the hints)."""
    oh, ow = a.shape[0] - b.shape[0] + 1, a.shape[1] - b.shape[1] + 1
    out = np.zeros((max(oh, 0), max(ow, 0)))
    for m in range(out.shape[0]):
        for n in range(out.shape[1]):
            out[m, n] = np.sum(a[m : m + b.shape[0], n : n + b.shape[1]] * b)
    return out


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_GRAD_WEIGHT = (
    "dL/dw[m, n] = np.sum(grad_out * x[m : m + H_out, n : n + W_out]) for m < H - H_out + "
    "1, n < W - W_out + 1."
)


def check_grad_weight(fn: Callable[..., Any], seed: int = 0, show_answer: bool = False) -> Result:
    """Check ``fn(x, grad_out)`` = ``dL/dw`` of ``y = conv2d(x, w)`` (one channel, stride 1).

    ``dL/dw[m, n] = sum_{i, j} grad_out[i, j] * x[i + m, j + n]``: ``x`` cross-correlated with
    ``grad_out``. Prints one verdict; returns a Result, true on success.
    """
    require_callable(fn)
    cases = _cases(np.random.default_rng(seed))
    rule = (
        "dL/dw[m, n] = sum over i, j of grad_out[i, j] * x[i + m, j + n]: slide grad_out over "
        "x like a kernel, no rotation."
    )
    with Judge(
        name_of(fn, "your dL/dw"),
        rule,
        "torch autograd",
        answer=_ANSWER_GRAD_WEIGHT,
        show_answer=show_answer,
    ) as j:
        for x, w, g in cases:
            _weight_case(j, fn, x, w, g)
        j.passed_cases(len(cases))
    return j.result


def _weight_case(
    j: Judge, fn: Callable[..., Any], x: np.ndarray, w: np.ndarray, g: np.ndarray
) -> None:
    _, expected = _torch_grads(x, w, g)

    def hint(got: np.ndarray, x=x, g=g, expected=expected) -> str:
        if same(got, _correlate_valid(x, g[::-1, ::-1])):
            return "Hint: grad_out was flipped: dL/dw is a cross-correlation, no rotation."
        if same(got, _correlate_valid(x, g)[::-1, ::-1]):
            return "Hint: your answer is rotated by 180 degrees: w[m, n] meets x[i+m, j+n]."
        if got.shape != expected.shape:
            return (
                "Hint: dL/dw has the kernel's shape: (H - H_out + 1, W - W_out + 1) = "
                f"{expected.shape}."
            )
        return ""

    where = f"x =\n{fmt(x)}\ngrad_out =\n{fmt(g)}\n"
    got = j.call("fn(x, grad_out)", fn, x.copy(), g.copy(), where=where)
    compare(j, "fn(x, grad_out)", where, got, expected, hint)


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_GRAD_INPUT = (
    "pad grad_out with k - 1 zeros on every side and cross-correlate it with w[::-1, ::-1]: "
    "out[i, j] = np.sum(padded[i : i + kH, j : j + kW] * w[::-1, ::-1])."
)


def check_grad_input(fn: Callable[..., Any], seed: int = 0, show_answer: bool = False) -> Result:
    """Check ``fn(grad_out, w)`` = ``dL/dx`` of ``y = conv2d(x, w)`` (one channel, stride 1).

    ``dL/dx`` is the full convolution of ``grad_out`` with ``w``: pad ``grad_out`` with
    ``k - 1`` zeros on every side and cross-correlate with ``rot180(w)``. Prints one verdict;
    returns a Result, true on success.
    """
    require_callable(fn)
    cases = _cases(np.random.default_rng(seed))
    rule = (
        "pixel x[r, c] met w[r - i, c - j] in output (i, j): pad grad_out with k - 1 zeros on "
        "every side and slide the kernel, turned by 180 degrees, over it."
    )
    with Judge(
        name_of(fn, "your dL/dx"),
        rule,
        "torch autograd",
        answer=_ANSWER_GRAD_INPUT,
        show_answer=show_answer,
    ) as j:
        for x, w, g in cases:
            _input_case(j, fn, x, w, g)
        j.passed_cases(len(cases))
    return j.result


def _input_case(
    j: Judge, fn: Callable[..., Any], x: np.ndarray, w: np.ndarray, g: np.ndarray
) -> None:
    expected, _ = _torch_grads(x, w, g)

    def hint(got: np.ndarray, w=w, g=g, expected=expected) -> str:
        kh, kw = w.shape
        padded = np.pad(g, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
        if same(got, _correlate_valid(padded, w)) and not np.allclose(w, w[::-1, ::-1]):
            return (
                "Hint: the kernel is not rotated: slide rot180(w) = w[::-1, ::-1] over the "
                "padded gradient (pixel x[r, c] met w[r - i, c - j] in output (i, j))."
            )
        if got.shape != expected.shape:
            return (
                f"Hint: dL/dx has the input's shape {expected.shape}: pad grad_out with "
                f"k - 1 = ({kh - 1}, {kw - 1}) zeros on every side (a full convolution)."
            )
        return ""

    where = f"w =\n{fmt(w)}\ngrad_out =\n{fmt(g)}\n"
    got = j.call("fn(grad_out, w)", fn, g.copy(), w.copy(), where=where)
    compare(j, "fn(grad_out, w)", where, got, expected, hint)


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_MAX_POOL_BACKWARD = (
    "out = np.zeros_like(x); for each 2 x 2 window (i, j), put grad_out[i, j] at the "
    "position of np.argmax of x's window."
)


def check_max_pool_backward(
    fn: Callable[..., Any], seed: int = 0, show_answer: bool = False
) -> Result:
    """Check ``fn(grad_out, x)`` = ``dL/dx`` of ``y = max_pool2d(x, 2)`` (2 x 2, stride 2).

    Each window's gradient goes to the cell that held its maximum, all of it; the other three
    cells get 0. With ties (cases with all-zero windows) the first maximum, row by row, takes
    it, as in torch. Prints one verdict; returns a Result, true on success.
    """
    require_callable(fn)
    rng = np.random.default_rng(seed)
    cases = [
        (
            np.array([[1.0, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [3, 6, 1, 1]]),
            np.array([[1.0, 2.0], [3.0, 4.0]]),
        )
    ]
    for _ in range(5):
        h, w = (2 * int(v) for v in rng.integers(1, 5, size=2))
        x = rng.permutation(h * w).reshape(h, w).astype(float)  # distinct: one argmax
        cases.append((x, rng.integers(-3, 4, size=(h // 2, w // 2)).astype(float)))
    # ties, as after a ReLU: all-zero windows and repeated maxima
    cases.append(
        (
            np.array([[0.0, 0, 2, 2], [0, 0, 1, 2], [0, 3, 0, 0], [3, 0, 0, 0]]),
            np.array([[1.0, -2.0], [3.0, 4.0]]),
        )
    )
    for _ in range(2):
        h, w = (2 * int(v) for v in rng.integers(2, 5, size=2))
        x = np.maximum(rng.integers(-3, 2, size=(h, w)), 0).astype(float)
        cases.append((x, rng.integers(1, 4, size=(h // 2, w // 2)).astype(float)))
    rule = (
        "each window's gradient grad_out[i, j] goes, all of it, to the cell that holds the "
        "window's maximum; the other three cells get 0."
    )
    with Judge(
        name_of(fn, "your max pooling backward"),
        rule,
        "torch autograd",
        answer=_ANSWER_MAX_POOL_BACKWARD,
        show_answer=show_answer,
    ) as j:
        for x, g in cases:
            _pool_case(j, fn, x, g)
        j.passed_cases(len(cases))
    return j.result


def _pool_case(j: Judge, fn: Callable[..., Any], x: np.ndarray, g: np.ndarray) -> None:
    expected = _torch_pool_grad(x, g)

    def hint(got: np.ndarray, x=x, g=g, expected=expected) -> str:
        if same(got, _torch_pool_grad(x, g, "avg")):
            return (
                "Hint: that is average pooling's gradient (g/4 everywhere); with max "
                "pooling only the winner of each window receives the gradient."
            )
        if _has_tie(x) and not same(got, expected):
            return (
                "Hint: some window has several equal maxima (an all-zero window after a "
                "ReLU, say). Torch gives the whole gradient to the first of them, reading "
                "the window row by row; the others get 0."
            )
        return ""

    where = f"x =\n{fmt(x)}\ngrad_out =\n{fmt(g)}\n"
    got = j.call("fn(grad_out, x)", fn, g.copy(), x.copy(), where=where)
    compare(j, "fn(grad_out, x)", where, got, expected, hint)
