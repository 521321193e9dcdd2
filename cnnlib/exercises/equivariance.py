"""Checkers for the exercises of notebook 05 (translation equivariance).

References are independent of ``cnnlib.equivariance``: ``np.roll`` for shifts, PyTorch's
``conv1d``/``conv2d`` for the layers. Each checker prints one success line or what is wrong.

- ``my_shift(x, dy, dx)``: circular shift, ``out[i, j] = x[(i - dy) % H, (j - dx) % W]``.
- ``check_equivariant_shifts(answer, stride)``: which shifts ``dy`` in ``0 .. 2*stride+1`` (with
  ``dx = 0``) does a circular convolution with that stride commute with, on a 24 x 24 image?
  Measured, not assumed: the multiples of the stride when it divides 24, otherwise only 0.
- ``my_circulant(kernel, n)``: the ``n x n`` matrix ``A`` of the 1-D circular cross-correlation
  ``y[i] = sum_m x[(i + m - 1) % n] * kernel[m]`` of a 3-tap kernel, so that ``A @ x == y``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from cnnlib._validate import check_int
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
    require_callable,
    same,
    show,
    whole_numbers,
)

__all__ = ["check_circulant", "check_equivariant_shifts", "check_shift"]

#: the references are exact float64 integer arithmetic: compare tighter than the other checkers
RTOL, ATOL = 1e-9, 1e-12


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return same(a, b, rtol=RTOL, atol=ATOL)


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_SHIFT = (
    "rows = (np.arange(H) - dy) % H, cols = (np.arange(W) - dx) % W; return x[np.ix_(rows, cols)]."
)


def check_shift(fn: Callable[..., Any], show_answer: bool = False) -> Result:
    """Check ``fn(x, dy, dx)`` = circular shift down by ``dy``, right by ``dx`` (``np.roll``).

    Prints one verdict; returns a Result, true on success.
    """
    require_callable(fn)
    rng = np.random.default_rng(0)
    cases = [(np.arange(12.0).reshape(3, 4), 1, 0), (np.arange(12.0).reshape(3, 4), 0, 1)]
    cases += [(np.arange(20.0).reshape(4, 5), -1, 2), (np.arange(20.0).reshape(4, 5), 5, -7)]
    for _ in range(4):
        h, w = (int(v) for v in rng.integers(2, 7, size=2))
        cases.append(
            (rng.integers(0, 9, size=(h, w)).astype(float), *map(int, rng.integers(-8, 9, 2)))
        )
    hint = (
        "out[i, j] = x[(i - dy) % H, (j - dx) % W]: build the row and column indices, then "
        "index x with them."
    )
    with Judge(
        name_of(fn, "your shift"), hint, "np.roll", answer=_ANSWER_SHIFT, show_answer=show_answer
    ) as j:
        for x, dy, dx in cases:
            call = f"fn(x, dy={dy}, dx={dx})"
            where = f"x =\n{fmt(x)}\n"
            got = j.call(call, fn, x.copy(), dy, dx, where=where)
            compare(
                j,
                call,
                where,
                got,
                np.roll(x, (dy, dx), axis=(0, 1)),
                lambda got, x=x, dy=dy, dx=dx: _shift_hint(x, dy, dx, got),
                rtol=RTOL,
                atol=ATOL,
            )
        j.passed_cases(len(cases))
    return j.result


def _shift_hint(x: np.ndarray, dy: int, dx: int, got: np.ndarray) -> str:
    if _same(got, np.roll(x, (-dy, -dx), axis=(0, 1))):
        return "the shift goes the wrong way: out[i, j] = x[i - dy, j - dx]."
    if _same(got, np.roll(x, (dx, dy), axis=(0, 1))):
        return "dy and dx are swapped: dy moves rows (axis 0), dx columns."
    return ""


def measured_shift_errors(stride: int, size: int = 24, seed: int = 0) -> dict[int, float]:
    """Relative error ``||f(shift(x)) - shift(f(x), dy / s)||`` of a circular strided conv
    (torch), for ``dy = 0 .. 2*stride + 1`` and ``dx = 0``; fractional output shifts use the
    nearer whole one, as ``cnnlib.equivariance.equivariance_error``."""
    import torch
    import torch.nn.functional as F

    stride = check_int("stride", stride, 1)
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.standard_normal((1, 1, size, size)))
    w = torch.tensor(rng.standard_normal((1, 1, 3, 3)))

    def f(t: torch.Tensor) -> np.ndarray:
        return F.conv2d(F.pad(t, (1, 1, 1, 1), mode="circular"), w, stride=stride)[0, 0].numpy()

    y = f(x)
    errors = {}
    for dy in range(2 * stride + 2):
        a = f(torch.roll(x, dy, dims=2))
        errs = [
            np.linalg.norm(a - np.roll(y, o, axis=0)) / np.linalg.norm(y)
            for o in {dy // stride, -(-dy // stride)}
        ]
        errors[dy] = float(min(errs))
    return errors


#: the image size of ``check_equivariant_shifts`` (the notebook's exercise names it)
CHECK_SIZE = 24


def check_equivariant_shifts(
    answer: Iterable[int] | None, stride: int = 3, show_answer: bool = False
) -> Result:
    """Check the set of vertical shifts ``dy`` in ``0 .. 2*stride + 1`` for which a circular
    convolution with ``stride`` is exactly shift-equivariant on a ``CHECK_SIZE`` x ``CHECK_SIZE``
    image; the truth is measured. A shift by the stride rolls the output by one cell only when
    the stride divides the image size (the grid of windows then wraps onto itself).

    A first wrong answer says how many shifts are wrong and gives a hint, but not which; the
    measured table (the worked answer) comes from the second wrong answer on, or at once with
    ``show_answer=True``."""
    size = CHECK_SIZE
    errors = measured_shift_errors(stride, size=size)
    truth = {dy for dy, e in errors.items() if e < 1e-12}
    top = 2 * stride + 1
    table = "\n".join(f"  dy = {dy}: relative error {e:.1e}" for dy, e in errors.items())
    hint = (
        f"for each shift dy, ask whether shifting the input by dy moves the grid of windows "
        f"(one every {stride} rows, round the {size}-row torus) onto itself."
    )
    worked = f"exactly {sorted(truth)}; measured on a {size} x {size} image:\n{table}"
    judge = Judge(
        f"the equivariant shifts of stride {stride}",
        hint,
        answer=worked,
        show_answer=show_answer,
        given=answer,
    )
    with judge as j:
        if answer is None:
            j.no_answer(
                f"replace None with a set of shifts from 0 to {top} and run this cell again."
            )
        try:
            got = set(j.read("", lambda: whole_numbers(answer, "shifts")))
        except NotWhole as exc:
            j.fail(
                f"{exc.shown} is not a whole shift.",
                f"dy moves the image by whole rows, 0 to {top}.",
            )
        except (TypeError, ValueError) as exc:
            j.fail(
                f"the answer must be a set of integers, got {show(answer)} ({exc}).",
                f"write a set such as {{0, 1}} of the shifts from 0 to {top} you expect.",
            )
        outside = sorted(v for v in got if v not in errors)
        got -= set(outside)
        if got == truth and not outside:
            why = (
                f"the multiples of the stride: {stride} divides the image size {size}"
                if truth == {dy for dy in errors if dy % stride == 0}
                else f"the stride {stride} does not divide the image size {size}"
            )
            j.passed(
                f"exactly {sorted(truth)}, {why}; measured on a {size} x {size} image:\n{table}"
            )
        missing, extra = sorted(truth - got), sorted(got - truth)
        j.fail(
            f"it is not {sorted(got)}.\n"
            + (
                f"{len(missing)} equivariant shift(s) are missing from your answer.\n"
                if missing
                else ""
            )
            + (f"{len(extra)} shift(s) in your answer are not equivariant.\n" if extra else "")
            + (
                f"out of range, not measured here: {show(outside)} (the question asks about "
                f"dy = 0 to {top})\n"
                if outside
                else ""
            )
        )
    return j.result


def _torch_circular_conv1d(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    t = torch.tensor(x, dtype=torch.float64)[None, None]
    k = torch.tensor(np.array(kernel), dtype=torch.float64)[None, None]
    return F.conv1d(F.pad(t, (1, 1), mode="circular"), k)[0, 0].numpy()


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_CIRCULANT = (
    "A = np.zeros((n, n)); for every row i and tap m in 0, 1, 2: A[i, (i + m - 1) % n] += "
    "kernel[m]."
)


def check_circulant(fn: Callable[..., Any], show_answer: bool = False) -> Result:
    """Check ``fn(kernel, n)``: the ``n x n`` matrix ``A`` with ``A @ x`` equal to the circular
    cross-correlation ``y[i] = sum_m x[(i + m - 1) % n] kernel[m]`` (torch ``conv1d``) for every x.

    Prints one verdict; returns a Result, true on success.
    """
    require_callable(fn)
    rng = np.random.default_rng(0)
    cases = [(np.array([1.0, 2.0, 3.0]), 5), (np.array([-1.0, 0.0, 1.0]), 4)]
    cases += [(rng.integers(-3, 4, size=3).astype(float), int(n)) for n in (3, 6, 8)]
    hint = (
        "row i of A computes y[i]: it holds kernel[m] at column (i + m - 1) % n, for m = 0, 1, 2."
    )
    with Judge(
        name_of(fn, "your circulant"), hint, answer=_ANSWER_CIRCULANT, show_answer=show_answer
    ) as j:
        for kernel, n in cases:
            call = f"fn(kernel={kernel.tolist()}, n={n})"
            a = j.array(call, j.call(call, fn, kernel.copy(), n))
            # A is right iff it maps every basis vector right: its columns are conv(e_k)
            expected = np.stack([_torch_circular_conv1d(e, kernel) for e in np.eye(n)], axis=1)
            if a.shape != (n, n):
                j.fail(f"{call} returned shape {a.shape}, expected {(n, n)}.", "A is n x n.")
            if not _same(a, expected):
                why = ""
                if _same(a.T, expected):
                    why = (
                        "your matrix is transposed (for a circulant, the same as a flipped "
                        "kernel): row i computes y[i]."
                    )
                elif np.allclose(a[0, -1], 0) and kernel[0] != 0:
                    why = "the corners are missing: circular padding wraps around (a circulant)."
                x = np.arange(1.0, n + 1)
                j.fail(
                    f"{call}\nexpected =\n{fmt(expected)}\ngot =\n{fmt(a)}\n"
                    f"e.g. x = {x.tolist()}: A @ x = {fmt(a @ x)}, conv = {fmt(expected @ x)}",
                    why,
                )
        j.passed(f"all {len(cases)} matrices reproduce the circular convolution.")
    return j.result
