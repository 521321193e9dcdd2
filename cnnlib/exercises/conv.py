"""Checkers for the exercises of notebook 01 (convolution and pooling).

Each checker runs the learner's answer against PyTorch (``torch.nn.functional``), an
independent reference, on a hand-worked case first and then on random ones, and prints either
one success line or what is wrong: the input, the expected and the received output, the first
position where they differ, and a hint when the mistake is a common one (a flipped kernel, an
output one row too short, a stride that is ignored).

The exercises' functions work on one channel, so that the loops stay short:

- ``my_conv2d(x, kernel, stride=1, padding=0)``: ``x`` is ``(H, W)``, ``kernel`` is
  ``(kH, kW)``, ``stride`` and ``padding`` are ints (zero padding on all four sides); it
  returns the ``(H_out, W_out)`` cross-correlation
  ``out[i, j] = sum_{m, n} x_pad[i s + m, j s + n] k[m, n]`` with
  ``H_out = floor((H + 2 p - kH) / s) + 1``, exactly what ``torch.nn.functional.conv2d``
  computes.
- ``my_convolve2d(x, kernel)``: the true convolution of signal processing ("valid" mode, as
  ``scipy.signal.convolve2d``), to be written with a cross-correlation and a flipped kernel.
- ``my_max_pool2d(x, kernel_size, stride=None)``: ``x`` is ``(H, W)``; ``stride=None`` means
  ``stride = kernel_size``; no padding; ``out[i, j] = max_{m, n < k} x[i s + m, j s + n]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from cnnlib._validate import check_array, check_int
from cnnlib.exercises._report import FAIL as FAIL  # re-exported for tests
from cnnlib.exercises._report import NO_ANSWER as NO_ANSWER
from cnnlib.exercises._report import PASS as PASS
from cnnlib.exercises._report import (
    Judge,
    NotWhole,
    Result,
    compare,
    fmt,
    name_of,
    number,
    require_callable,
    same,
    show,
    whole_numbers,
)
from cnnlib.shapes import conv_output_size, pool_output_size

__all__ = [
    "check_conv2d",
    "check_convolve2d",
    "check_max_pool2d",
    "check_output_shape",
    "check_output_value",
]

#: the worked example of the notebook (d2l.ai's): output[0, 0] = 0*0 + 1*1 + 3*2 + 4*3 = 19
WORKED_X = np.arange(9.0).reshape(3, 3)
WORKED_K = np.array([[0.0, 1.0], [2.0, 3.0]])


def _torch_conv2d(x: np.ndarray, k: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    out = F.conv2d(
        torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))[None, None],
        torch.from_numpy(np.ascontiguousarray(k, dtype=np.float64))[None, None],
        stride=stride,
        padding=padding,
    )
    return out[0, 0].numpy()


def _torch_pool(x: np.ndarray, kernel_size: int, stride: int | None, kind: str) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))[None, None]
    return pool(t, kernel_size, stride=stride)[0, 0].numpy()


# --------------------------------------------------------------------------------------------
# conv2d
# --------------------------------------------------------------------------------------------


def _conv_cases(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, int, int]]:
    cases = [
        (WORKED_X, WORKED_K, 1, 0),  # the hand-worked example
        (np.arange(20.0).reshape(4, 5), np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]]), 1, 0),
        (np.arange(36.0).reshape(6, 6) % 7, np.array([[1.0, 0.0], [0.0, -1.0]]), 2, 0),
        (np.arange(25.0).reshape(5, 5), np.array([[1.0, 2.0], [3.0, 4.0]]), 1, 1),
        (np.arange(49.0).reshape(7, 7) % 5, np.array([[0, 1, 0], [1, -4, 1], [0, 1, 2.0]]), 2, 1),
        (np.arange(56.0).reshape(7, 8) % 6, np.array([[2.0, -1.0], [0.5, 1.0]]), 3, 0),
    ]
    for _ in range(8):
        h, w = (int(v) for v in rng.integers(3, 9, size=2))
        kh, kw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1))
        stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        x = rng.integers(-5, 6, size=(h, w)).astype(np.float64)
        k = rng.integers(-3, 4, size=(kh, kw)).astype(np.float64)
        cases.append((x, k, stride, padding))
    return cases


def _conv_hint(x: np.ndarray, k: np.ndarray, stride: int, padding: int, got: np.ndarray) -> str:
    """Name a common mistake if ``got`` is what that mistake would give."""
    h, w = x.shape
    kh, kw = k.shape
    if same(got, _torch_conv2d(x, k[::-1, ::-1], stride, padding)) and not np.allclose(
        k, k[::-1, ::-1]
    ):
        return (
            "Hint: this is the output with the kernel flipped (true convolution). conv2d in "
            "deep learning is a cross-correlation: multiply x_pad[i*s + m, j*s + n] by "
            "kernel[m, n], without flipping."
        )
    if k.shape[0] == k.shape[1] and same(got, _torch_conv2d(x, k.T, stride, padding)):
        return "Hint: this is the output with the kernel transposed: kernel[m, n] pairs with row m."
    if stride > 1 and same(got, _torch_conv2d(x, k, 1, padding)):
        return "Hint: the stride is ignored: output[i, j] starts at row i*stride, col j*stride."
    if padding > 0 and same(got, _torch_conv2d(x, k, stride, 0)):
        return f"Hint: the padding is ignored: add {padding} rows/columns of zeros on every side."
    oh, ow = conv_output_size((h, w), (kh, kw), stride, padding)
    if got.shape != (oh, ow):
        return (
            f"Hint: the output size is floor((H + 2*padding - kH) / stride) + 1: "
            f"floor(({h} + 2*{padding} - {kh}) / {stride}) + 1 = {oh} rows and "
            f"floor(({w} + 2*{padding} - {kw}) / {stride}) + 1 = {ow} columns."
        )
    return ""


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_CONV2D = (
    "pad x with `padding` zeros, then H_out = (H_pad - kH) // stride + 1 (W_out likewise) "
    "and out[i, j] = np.sum(x_pad[i*stride : i*stride + kH, j*stride : j*stride + kW] * "
    "kernel), the kernel not flipped."
)


def check_conv2d(fn: Callable[..., Any], seed: int = 0, show_answer: bool = False) -> Result:
    """Check ``fn(x, kernel, stride=1, padding=0)`` against ``torch.nn.functional.conv2d``.

    ``x`` is ``(H, W)``, ``kernel`` ``(kH, kW)``; ``fn`` must return the ``(H_out, W_out)``
    cross-correlation with zero padding,
    ``out[i, j] = sum_{m, n} x_pad[i*stride + m, j*stride + n] * kernel[m, n]``.
    Prints one verdict (see :mod:`cnnlib.exercises._report`); returns a Result, true on success.
    """
    require_callable(fn)
    cases = _conv_cases(np.random.default_rng(seed))
    hint = (
        "pad x with `padding` zeros on every side, then out[i, j] = sum over m, n of "
        "x_pad[i*stride + m, j*stride + n] * kernel[m, n]; compare your output with the expected "
        "one at the first difference."
    )
    with Judge(
        name_of(fn, "your conv2d"), hint, "PyTorch", answer=_ANSWER_CONV2D, show_answer=show_answer
    ) as j:
        for x, k, stride, padding in cases:
            call = f"fn(x, kernel, stride={stride}, padding={padding})"
            where = f"x (shape {x.shape}) =\n{fmt(x)}\nkernel (shape {k.shape}) =\n{fmt(k)}\n"
            got = j.call(call, fn, x.copy(), k.copy(), stride=stride, padding=padding, where=where)
            compare(
                j,
                call,
                where,
                got,
                _torch_conv2d(x, k, stride, padding),
                lambda got, x=x, k=k, s=stride, p=padding: _conv_hint(x, k, s, p, got),
                at="output",
            )
        j.passed_cases(len(cases))
    return j.result


# --------------------------------------------------------------------------------------------
# true convolution from a cross-correlation
# --------------------------------------------------------------------------------------------


def _flip_hint(x: np.ndarray, k: np.ndarray, got: np.ndarray) -> str:
    """Name a common mistake without writing the solution: the exercise asks for the flip."""
    import scipy.signal

    def corr(kernel: np.ndarray) -> np.ndarray:
        return scipy.signal.correlate2d(x, kernel, mode="valid")

    if same(got, corr(k)):
        return (
            "this is the cross-correlation (conv2d) with the kernel as it is. The true "
            "convolution pairs x[i + m, j + n] with kernel[kH - 1 - m, kW - 1 - n]: what "
            "must you do to the kernel before conv2d gives that?"
        )
    if same(got, corr(k[::-1, :])):
        return "only the rows are reversed; a 180-degree turn reverses the columns too."
    if same(got, corr(k[:, ::-1])):
        return "only the columns are reversed; a 180-degree turn reverses the rows too."
    if k.shape[0] == k.shape[1] and same(got, corr(k.T)):
        return "a transpose is not a 180-degree turn: it must reverse the rows and the columns."
    return ""


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_CONVOLVE2D = (
    "return conv2d(x, kernel[::-1, ::-1]): turn the kernel by 180 degrees (rows and columns "
    "reversed), then cross-correlate."
)


def check_convolve2d(fn: Callable[..., Any], seed: int = 0, show_answer: bool = False) -> Result:
    """Check ``fn(x, kernel)`` against ``scipy.signal.convolve2d(x, kernel, mode="valid")``.

    ``x`` is ``(H, W)`` and ``kernel`` ``(kH, kW)`` with ``kH <= H``, ``kW <= W``; ``fn`` must
    return the true (flipped-kernel) convolution over full overlaps,
    ``out[i, j] = sum_{m, n} x[i + m, j + n] kernel[kH - 1 - m, kW - 1 - n]``.
    Prints one verdict; returns a Result, true on success.
    """
    import scipy.signal

    require_callable(fn)
    rng = np.random.default_rng(seed)
    cases = [
        (np.arange(16.0).reshape(4, 4), np.array([[1.0, 2.0], [3.0, 4.0]])),
        (np.arange(30.0).reshape(5, 6) % 7, np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0]])),
        (np.arange(36.0).reshape(6, 6) % 5, np.array([[0.0, 1, 2], [3, 4, 5], [6, 7, 8]])),
    ]
    for _ in range(6):
        h, w = (int(v) for v in rng.integers(2, 8, size=2))
        kh, kw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
        cases.append(
            (rng.integers(-4, 5, size=(h, w)).astype(float), rng.normal(size=(kh, kw)).round(1))
        )
    hint = (
        "the true convolution is a cross-correlation (conv2d) with a changed kernel: "
        "out[i, j] = sum over m, n of x[i + m, j + n] * kernel[kH - 1 - m, kW - 1 - n]."
    )
    with Judge(
        name_of(fn, "your convolve2d"),
        hint,
        "scipy.signal.convolve2d",
        answer=_ANSWER_CONVOLVE2D,
        show_answer=show_answer,
    ) as j:
        for x, k in cases:
            call = "fn(x, kernel)"
            where = f"x (shape {x.shape}) =\n{fmt(x)}\nkernel (shape {k.shape}) =\n{fmt(k)}\n"
            got = j.call(call, fn, x.copy(), k.copy(), where=where)
            expected = scipy.signal.convolve2d(x, k, mode="valid")
            compare(j, call, where, got, expected, lambda got, x=x, k=k: _flip_hint(x, k, got))
        j.passed_cases(len(cases))
    return j.result


# --------------------------------------------------------------------------------------------
# max pooling
# --------------------------------------------------------------------------------------------


def _pool_cases(rng: np.random.Generator) -> list[tuple[np.ndarray, int, int | None]]:
    cases: list[tuple[np.ndarray, int, int | None]] = [
        (np.array([[1.0, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [3, 6, 1, 1]]), 2, None),
        (np.arange(25.0).reshape(5, 5) % 7, 3, 1),
        (np.arange(36.0).reshape(6, 6) % 5, 2, 1),
        (-np.arange(1.0, 17.0).reshape(4, 4), 2, None),  # all negative: a max started at 0 fails
        (np.arange(49.0).reshape(7, 7) % 9, 3, 2),
    ]
    for _ in range(6):
        h, w = (int(v) for v in rng.integers(2, 9, size=2))
        k = int(rng.integers(1, min(h, w, 4) + 1))
        stride = None if rng.random() < 0.3 else int(rng.integers(1, 4))
        cases.append((rng.normal(size=(h, w)).round(2), k, stride))
    return cases


def _pool_hint(x: np.ndarray, k: int, stride: int | None, got: np.ndarray) -> str:
    s = k if stride is None else stride
    if same(got, _torch_pool(x, k, stride, "avg")):
        return "Hint: this is average pooling; max pooling keeps the largest value of each window."
    if stride is None and k > 1 and same(got, _torch_pool(x, k, 1, "max")):
        return "Hint: stride=None means stride = kernel_size (windows side by side), not 1."
    if s > 1 and same(got, _torch_pool(x, k, 1, "max")):
        return "Hint: the stride is ignored: window (i, j) starts at row i*stride, col j*stride."
    if np.all(x < 0) and np.any(got == 0):
        return "Hint: every input here is negative; start the maximum from the window, not from 0."
    h, w = x.shape
    oh, ow = pool_output_size((h, w), k, s)
    if got.shape != (oh, ow):
        return (
            f"Hint: the output size is floor((H - k) / stride) + 1 = "
            f"floor(({h} - {k}) / {s}) + 1 = {oh} rows and {ow} columns."
        )
    return ""


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_MAX_POOL2D = (
    "s = kernel_size if stride is None else stride; out[i, j] = x[i*s : i*s + k, j*s : j*s "
    "+ k].max() for i < (H - k) // s + 1 and j < (W - k) // s + 1."
)


def check_max_pool2d(fn: Callable[..., Any], seed: int = 0, show_answer: bool = False) -> Result:
    """Check ``fn(x, kernel_size, stride=None)`` against ``torch.nn.functional.max_pool2d``.

    ``x`` is ``(H, W)``; ``stride=None`` means ``stride = kernel_size``; no padding:
    ``out[i, j] = max_{0 <= m, n < k} x[i*stride + m, j*stride + n]``.
    Prints one verdict; returns a Result, true on success.
    """
    require_callable(fn)
    cases = _pool_cases(np.random.default_rng(seed))
    hint = (
        "window (i, j) covers rows i*stride to i*stride + k - 1 and the same columns; "
        "out[i, j] is the largest value in it (stride=None means stride = kernel_size)."
    )
    with Judge(
        name_of(fn, "your max_pool2d"),
        hint,
        "PyTorch",
        answer=_ANSWER_MAX_POOL2D,
        show_answer=show_answer,
    ) as j:
        for x, k, stride in cases:
            call = f"fn(x, kernel_size={k}, stride={stride})"
            where = f"x (shape {x.shape}) =\n{fmt(x)}\n"
            got = j.call(call, fn, x.copy(), k, stride=stride, where=where)
            compare(
                j,
                call,
                where,
                got,
                _torch_pool(x, k, stride, "max"),
                lambda got, x=x, k=k, s=stride: _pool_hint(x, k, s, got),
                at="output",
            )
        j.passed_cases(len(cases))
    return j.result


# --------------------------------------------------------------------------------------------
# predictions: one output value, an output shape
# --------------------------------------------------------------------------------------------


def check_output_value(
    answer: float,
    x: Any,
    kernel: Any,
    row: int,
    col: int,
    stride: int = 1,
    padding: int = 0,
    show_answer: bool = False,
) -> Result:
    """Check a predicted ``conv2d(x, kernel, stride, padding)[row, col]`` (2-D ``x``, ``kernel``).

    The reference is ``torch.nn.functional.conv2d``. A first wrong answer gets a hint (where
    the window starts, whether the number is the flipped kernel's); the worked answer (the
    window, ``window * kernel`` element by element and their sum) comes from the second wrong
    answer on, or at once with ``show_answer=True``.
    """
    x = check_array("x", x, (2,)).astype(np.float64)
    kernel = check_array("kernel", kernel, (2,)).astype(np.float64)
    stride = check_int("stride", stride, 1)
    padding = check_int("padding", padding, 0)
    out = _torch_conv2d(x, kernel, stride, padding)
    row, col = check_int("row", row, 0), check_int("col", col, 0)
    if row >= out.shape[0] or col >= out.shape[1]:
        raise ValueError(
            f"(row, col) = ({row}, {col}) is outside the output, whose shape is {out.shape}"
        )
    expected = float(out[row, col])
    kh, kw = kernel.shape
    padded = np.pad(x, padding)
    window = padded[row * stride : row * stride + kh, col * stride : col * stride + kw]
    hint = (
        f"output[{row}, {col}] is the sum of the {kh} x {kw} window that starts at padded row "
        f"{row}*{stride} = {row * stride}, column {col}*{stride} = {col * stride}, multiplied "
        "element by element by the kernel (not flipped)."
    )
    worked = "\n".join(
        [
            f"the window at padded row {row * stride}, column {col * stride}:",
            fmt(window),
            "window * kernel, element by element:",
            fmt(window * kernel),
            f"sum = {fmt(expected)}",
        ]
    )
    with Judge(
        f"output[{row}, {col}]", hint, answer=worked, show_answer=show_answer, given=answer
    ) as j:
        if answer is None:
            j.no_answer("replace None with your prediction and run this cell again.")
        try:
            value = j.read("", lambda: number(answer))
        except (TypeError, ValueError) as exc:
            j.fail(f"the answer must be one number, got {show(answer)} ({exc}).")
        if np.isclose(value, expected, rtol=1e-6, atol=1e-8):
            j.passed(f"{fmt(expected)}, correct.")
        flipped = float((window * kernel[::-1, ::-1]).sum())
        if np.isclose(value, flipped) and not np.isclose(value, expected):
            j.fail(
                f"it is not {fmt(value)}.",
                "your number is the sum with the kernel flipped: conv2d does not flip.",
            )
        j.fail(f"it is not {fmt(value)}.")
    return j.result


def check_output_shape(
    answer: Sequence[int],
    input_shape: Sequence[int],
    weight_shape: Sequence[int],
    stride: int = 1,
    padding: int = 0,
    show_answer: bool = False,
) -> Result:
    """Check a predicted output shape of ``conv2d`` for an ``(N, C_in, H, W)`` input.

    ``weight_shape`` is ``(C_out, C_in, kH, kW)``; the reference is the shape PyTorch returns,
    ``(N, C_out, floor((H + 2p - kH) / s) + 1, floor((W + 2p - kW) / s) + 1)``. A first wrong
    answer gets the rule for each wrong axis; the worked answer (each axis filled in) comes
    from the second wrong answer on, or at once with ``show_answer=True``.
    """
    import torch
    import torch.nn.functional as F

    input_shape = tuple(check_int("input_shape[i]", v, 1) for v in input_shape)
    weight_shape = tuple(check_int("weight_shape[i]", v, 1) for v in weight_shape)
    stride = check_int("stride", stride, 1)
    padding = check_int("padding", padding, 0)
    if len(input_shape) != 4 or len(weight_shape) != 4:
        raise ValueError(
            "input_shape must be (N, C_in, H, W) and weight_shape (C_out, C_in, kH, kW), "
            f"got {input_shape} and {weight_shape}"
        )
    if input_shape[1] != weight_shape[1]:
        raise ValueError(
            f"the weight's C_in = weight_shape[1] = {weight_shape[1]} must equal the input's "
            f"channels input_shape[1] = {input_shape[1]}"
        )
    for axis, size, k in (
        ("height", input_shape[2], weight_shape[2]),
        ("width", input_shape[3], weight_shape[3]),
    ):
        if k > size + 2 * padding:
            raise ValueError(
                f"kernel {axis} {k} is larger than the padded input {axis} {size + 2 * padding}"
            )
    # shapes only: tensors on the "meta" device hold no data
    expected = tuple(
        F.conv2d(
            torch.empty(input_shape, device="meta"),
            torch.empty(weight_shape, device="meta"),
            stride=stride,
            padding=padding,
        ).shape
    )
    hint = (
        "the output has four axes (N, C_out, H_out, W_out): N passes through, one channel per "
        "filter, and H_out = floor((H + 2p - kH) / s) + 1."
    )
    n, _, h, w = input_shape
    c_out, c_in, kh, kw = weight_shape
    worked = (
        f"{expected}: N = {n} passes through; C_out = weight_shape[0] = {c_out} (one channel per "
        f"filter, the {c_in} input channels are summed inside each); H_out = floor(({h} + "
        f"2*{padding} - {kh}) / {stride}) + 1 = {expected[2]}; W_out = floor(({w} + 2*{padding} "
        f"- {kw}) / {stride}) + 1 = {expected[3]}."
    )
    with Judge("the output shape", hint, answer=worked, show_answer=show_answer, given=answer) as j:
        if answer is None:
            j.no_answer(
                "replace None with your predicted shape (N, C_out, H_out, W_out) and run this "
                "cell again."
            )
        try:
            got = tuple(j.read("", lambda: whole_numbers(answer, "a shape")))
        except NotWhole as exc:
            j.fail(
                f"it is not {show(answer)}: {exc.shown} is not a whole number of pixels.",
                "use // for the floor.",
            )
        except (TypeError, ValueError) as exc:
            j.fail(f"the answer must be a tuple of 4 integers, got {show(answer)} ({exc}).")
        if got == expected:
            j.passed(f"{expected}, correct.")
        parts = []
        if len(got) != 4:
            parts.append("It has four axes: (N, C_out, H_out, W_out).")
        else:
            if got[0] != n:
                parts.append("The batch size N passes through unchanged.")
            if got[1] != c_out:
                parts.append(
                    "There is one output channel per filter (the input channels are summed "
                    "inside each filter): which axis of weight_shape counts the filters?"
                )
            if got[2:] != expected[2:]:
                wrong = [
                    f"{a}_out"
                    for a, g, e in zip("HW", got[2:], expected[2:], strict=True)
                    if g != e
                ]
                parts.append(
                    f"{' and '.join(wrong)}: floor((H + 2p - kH) / s) + 1 along each axis; "
                    "the padding is added on both sides, and // is the floor."
                )
        j.fail(f"it is not {show(got)}.", " ".join(parts))
    return j.result
