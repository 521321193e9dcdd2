"""Checkers for the exercises of notebook 02 (output dimensions).

The reference is PyTorch itself: the shape a real ``torch.nn.Conv2d`` produces, the output of
``padding="same"``, and autograd's gradient (zero exactly at the input pixels no window reads);
none of it shares code with ``cnnlib.shapes``. Each checker runs worked cases first, then random
ones, and prints one success line or the first failing case (input, expected, got) with a hint
when the answer is what a common mistake gives.

- ``my_output_size(size, kernel_size, stride, padding, dilation)``: the output size of a
  convolution along one axis, ``floor((size + 2p - d(k - 1) - 1) / s) + 1``.
- ``my_same_padding(kernel_size, dilation)``: the padding ``(before, after)`` that keeps the
  size at stride 1, split as torch's ``padding="same"`` splits it.
- ``my_lost_pixels(size, kernel_size, stride)``: the input indices (no padding, no dilation)
  that no window reads, in increasing order.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from cnnlib.exercises._report import FAIL as FAIL  # re-exported for tests
from cnnlib.exercises._report import PASS as PASS
from cnnlib.exercises._report import (
    Judge,
    NotWhole,
    Result,
    name_of,
    read_items,
    require_callable,
    show,
    whole_number,
)

__all__ = ["check_lost_pixels", "check_output_size", "check_same_padding"]


# -- references (torch) -------------------------------------------------------------------------
def _torch_conv_size(size: int, k: int, s: int, p: int, d: int) -> int:
    import torch
    from torch import nn

    layer = nn.Conv2d(1, 1, (1, k), stride=(1, s), padding=(0, p), dilation=(1, d), bias=False)
    with torch.no_grad():
        return int(layer(torch.zeros(1, 1, 1, size)).shape[-1])


def _torch_same(k: int, d: int, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # even kernels: torch warns that it pads a copy
        out = F.conv2d(
            torch.tensor(x[None, None]), torch.tensor(w[None, None]), padding="same", dilation=d
        )
    return out[0, 0].numpy()


def _torch_lost(size: int, k: int, s: int) -> list[int]:
    import torch
    import torch.nn.functional as F

    x = torch.ones(1, 1, size, requires_grad=True)
    F.conv1d(x, torch.ones(1, 1, k), stride=s).sum().backward()
    return [int(i) for i in torch.nonzero(x.grad[0, 0] == 0).flatten()]


# -- output size --------------------------------------------------------------------------------
#: kernels that do not fit their padded input by fewer cells than the stride (the room R is
#: -1 or -2): no window fits, the answer is 0, and ``int(R / s) + 1`` wrongly gives 1
NO_ROOM_CASES = [(4, 5, 2, 0, 1), (3, 3, 3, 0, 2), (6, 4, 4, 0, 2), (1, 2, 2, 0, 1)]


def _windows(size: int, k: int, s: int, p: int, d: int) -> int:
    """The number of window starts, counted (no formula): 0 when the kernel does not fit."""
    return len(range(0, size + 2 * p - d * (k - 1), s))


def _size_cases(rng: np.random.Generator) -> list[tuple[int, int, int, int, int]]:
    """(size, kernel_size, stride, padding, dilation): worked cases, then random valid ones."""
    cases = [(32, 5, 1, 0, 1), (224, 7, 2, 3, 1), (7, 3, 2, 1, 1), (9, 3, 1, 0, 2), (6, 3, 2, 0, 1)]
    cases += NO_ROOM_CASES
    while len(cases) < 30:
        size, k = int(rng.integers(1, 40)), int(rng.integers(1, 8))
        s, p, d = int(rng.integers(1, 5)), int(rng.integers(0, 4)), int(rng.integers(1, 4))
        if size + 2 * p >= d * (k - 1) + 1:
            cases.append((size, k, s, p, d))
    return cases


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_OUTPUT_SIZE = (
    "room = size + 2*padding - dilation*(kernel_size - 1) - 1, then return room // stride + "
    "1. // is the floor: -1 // 2 is -1, so a kernel that does not fit gives 0 windows, "
    "where int(-1 / 2) + 1 would give 1."
)


def check_output_size(fn: Callable[..., Any], seed: int = 0, show_answer: bool = False) -> Result:
    """Check ``fn(size, kernel_size, stride, padding, dilation)`` against ``nn.Conv2d``.

    The expected answer is ``floor((size + 2p - d(k - 1) - 1) / s) + 1``, the shape torch
    produces. A kernel that does not fit its padded input by fewer cells than the stride
    (:data:`NO_ROOM_CASES`: torch refuses such a layer) has no window, 0, counted window by
    window: so ``int(room / stride)``, which rounds -0.5 up to 0, is refused. Prints one verdict;
    returns a Result, true on success.
    """
    require_callable(fn)
    cases = _size_cases(np.random.default_rng(seed))
    hint = (
        "count the positions of the first cell of a window: the dilated kernel spans "
        "d(k - 1) + 1 cells of the padded input (size + 2p cells), and windows start every s "
        "cells."
    )
    with Judge(
        name_of(fn, "your output size"),
        hint,
        "nn.Conv2d",
        answer=_ANSWER_OUTPUT_SIZE,
        show_answer=show_answer,
    ) as j:
        for size, k, s, p, d in cases:
            call = f"fn(size={size}, kernel_size={k}, stride={s}, padding={p}, dilation={d})"
            if size + 2 * p < d * (k - 1) + 1:  # no room: torch refuses; count the windows
                expected = _windows(size, k, s, p, d)
            else:
                expected = _torch_conv_size(size, k, s, p, d)
            got = j.call(call, fn, size, k, s, p, d)
            if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
                if isinstance(got, float) and got == expected:
                    j.fail(f"{call} returned the float {got!r}.", "return an int (use //).")
                j.fail(f"{call} returned {show(got)} ({type(got).__name__}), expected an int.")
            if got != expected:
                hint_text = j.hint_from(lambda: _size_hint(fn, cases))
                j.fail(f"{call} returned {got}, expected {expected}.", hint_text)
        j.passed_cases(len(cases))
    return j.result


#: common mistakes: the formula a learner wrote, and what to tell them
_SIZE_MISTAKES = [
    (
        lambda n, k, s, p, d: math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1,
        "you rounded up: the last window must fit inside the padded input, so use floor.",
    ),
    (
        lambda n, k, s, p, d: int((n + 2 * p - d * (k - 1) - 1) / s) + 1,
        "int() rounds toward zero: when the kernel does not fit the padded input the room is "
        "negative (e.g. -1), int(-1 / 2) is 0, and you count one window where none fits. "
        "Use // (the floor: -1 // 2 is -1).",
    ),
    (
        lambda n, k, s, p, d: (n + 2 * p - k) // s + 1,
        "the dilated kernel spans d(k - 1) + 1 cells, not k.",
    ),
    (
        lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1,
        "padding p is added on both sides: 2p.",
    ),
    (
        lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s,
        "count the first window too: + 1.",
    ),
]


def _size_hint(fn: Callable[..., Any], cases: list) -> str:
    """A hint naming the mistake whose formula gives all of the learner's answers, if any."""
    try:
        answers = [fn(*case) for case in cases]
    except Exception:
        return ""
    for formula, hint in _SIZE_MISTAKES:
        if all(a == formula(*case) for a, case in zip(answers, cases, strict=True)):
            return hint
    return ""


# -- same padding -------------------------------------------------------------------------------
#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_SAME_PADDING = (
    "total = dilation*(kernel_size - 1); return total // 2, total - total // 2 (an odd "
    "total puts the extra cell after)."
)


def check_same_padding(fn: Callable[..., Any], seed: int = 0, show_answer: bool = False) -> Result:
    """Check ``fn(kernel_size, dilation)`` = ``(before, after)``, torch's ``padding="same"``.

    The total is ``d(k - 1)``; torch puts ``total // 2`` before and the rest after. Checked by
    padding a random input so and comparing the convolution with torch's ``padding="same"``.
    Prints one verdict; returns a Result, true on success.
    """
    require_callable(fn)
    rng = np.random.default_rng(seed)
    cases = [(k, d) for d in (1, 2, 3) for k in range(1, 7)]
    hint = (
        "at stride 1 the output loses as many cells as the dilated kernel spans minus one; "
        "split that total between before and after as torch does."
    )
    with Judge(
        name_of(fn, "your same padding"),
        hint,
        'torch padding="same"',
        answer=_ANSWER_SAME_PADDING,
        show_answer=show_answer,
    ) as j:
        for k, d in cases:
            call = f"fn(kernel_size={k}, dilation={d})"
            got = j.call(call, fn, k, d)
            total = d * (k - 1)
            try:
                items = j.read(call, lambda got=got: [whole_number(v) for v in read_items(got)])
                if len(items) != 2:
                    raise TypeError(f"{len(items)} values")
                before, after = items
            except NotWhole as exc:
                why = "an odd total" if total % 2 else "the total"
                j.fail(
                    f"{call} returned {show(got)}: {exc.shown} is not a whole number of pixels.",
                    f"for {why} d(k - 1) = {total}, torch puts total // 2 before and the rest "
                    "after.",
                )
            except (TypeError, ValueError) as exc:
                j.fail(
                    f"{call} returned {show(got)} ({exc}).",
                    "return a pair (before, after) of ints.",
                )
            x = rng.standard_normal((11, 11))
            w = rng.standard_normal((k, k))
            expected = _torch_same(k, d, x, w)
            ok = min(before, after) >= 0 and max(before, after) <= 64
            if ok:
                padded = np.pad(x, ((before, after), (before, after)))
                ours = _correlate(padded, w, d)
                ok = ours.shape == expected.shape and np.allclose(ours, expected, atol=1e-6)
            if not ok:
                if before + after != total:
                    why = f"the dilated kernel needs d(k - 1) = {total} padding cells in all."
                elif (after, before) == (total // 2, total - total // 2):
                    why = "torch puts the extra cell of an even total at the end (after)."
                else:
                    why = "torch puts total // 2 before and the rest after."
                j.fail(
                    f"{call} returned ({before}, {after}), expected "
                    f"({total // 2}, {total - total // 2}).",
                    why,
                )
        j.passed_cases(len(cases))
    return j.result


def _correlate(x: np.ndarray, w: np.ndarray, d: int) -> np.ndarray:
    """Valid cross-correlation of ``x`` with ``w`` dilated by ``d`` (loops, for the checker)."""
    k = w.shape[0]
    span = d * (k - 1) + 1
    n0, n1 = x.shape[0] - span + 1, x.shape[1] - span + 1
    out = np.zeros((max(n0, 0), max(n1, 0)))
    for i in range(k):
        for j in range(k):
            out += w[i, j] * x[i * d : i * d + n0, j * d : j * d + n1]
    return out


# -- lost pixels --------------------------------------------------------------------------------
#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_LOST_PIXELS = (
    "the windows start at range(0, size - kernel_size + 1, stride), each reads kernel_size "
    "pixels from its start; return the indices in range(size) that no window reads."
)


def check_lost_pixels(fn: Callable[..., Any], seed: int = 0, show_answer: bool = False) -> Result:
    """Check ``fn(size, kernel_size, stride)`` = the input indices no window reads.

    No padding, no dilation: windows start at ``0, s, 2s, ...`` while they fit and read ``k``
    pixels each. The reference is torch autograd (the gradient is zero exactly there). Prints
    one verdict; returns a Result, true on success.
    """
    require_callable(fn)
    rng = np.random.default_rng(seed)
    cases = [(7, 2, 3), (8, 3, 2), (5, 1, 2), (7, 3, 2), (10, 3, 3)]
    while len(cases) < 25:
        k = int(rng.integers(1, 5))
        cases.append((int(rng.integers(k, 20)), k, int(rng.integers(1, 6))))
    hint = (
        "list the windows (start 0, s, 2s, ... while the window fits) and the pixels each "
        "reads; the lost pixels are the others."
    )
    with Judge(
        name_of(fn, "your lost pixels"),
        hint,
        "torch autograd",
        answer=_ANSWER_LOST_PIXELS,
        show_answer=show_answer,
    ) as j:
        for size, k, s in cases:
            call = f"fn(size={size}, kernel_size={k}, stride={s})"
            expected = _torch_lost(size, k, s)
            got = j.call(call, fn, size, k, s)
            try:
                items = j.read(call, lambda got=got: [whole_number(v) for v in read_items(got)])
            except NotWhole as exc:
                j.fail(
                    f"{call} returned {show(got)}: {exc.shown} is not a pixel index.",
                    "pixel indices are whole numbers 0 to size - 1.",
                )
            except (TypeError, ValueError) as exc:
                j.fail(f"{call} returned {show(got)} ({exc}).", "return a list of input indices.")
            items = sorted(items)
            if items != expected:
                last = (size - k) // s * s + k  # one past the last pixel read
                tail = list(range(last, size))
                if items == tail and expected != tail:
                    why = f"stride {s} > kernel {k}: the {s - k} pixel(s) between windows are lost."
                elif set(tail) - set(items):
                    why = f"the last window ends at pixel {last - 1}: the pixels after it are lost."
                else:
                    why = "list the pixels that no window reads, nothing else."
                # the notebook asks to predict the first cases: their answer waits for a 2nd miss
                j.fail(f"{call} returned {show(items)}.", why, withheld=f"{call} is {expected}.")
        j.passed_cases(len(cases))
    return j.result
