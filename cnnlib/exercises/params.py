"""Checkers for the exercises of notebook 03 (parameters and compute).

The reference is PyTorch itself: the parameters of a real ``nn.Conv2d`` (built on the
``meta`` device, so no memory is spent) and half the FLOPs that
``torch.utils.flop_counter.FlopCounterMode`` counts for it. Each checker tries the notebook's
worked case first (``nn.Conv2d(3, 64, 3)``: 1,792 parameters), then random ones, and prints
one success line or the first case that fails: the arguments, expected, got, and a hint when
the mistake is a common one (a forgotten bias, ``k`` instead of ``k^2``, groups ignored).

- ``check_layer_params(answer, in_channels, out_channels, kernel_size, bias=True, groups=1)``:
  a number counted by hand.
- ``check_conv2d_params(fn)``: ``fn(in_channels, out_channels, kernel_size, bias=True,
  groups=1)`` returns ``C_out * (C_in / groups * k * k) + C_out * [bias]``.
- ``check_depthwise_separable_params(fn)``: ``fn(in_channels, out_channels, kernel_size,
  bias=True)`` returns the parameters of a depthwise ``k x k`` convolution (``groups =
  C_in``) followed by a pointwise ``1 x 1`` one, both with or without bias.
- ``check_conv2d_macs(fn)``: ``fn(in_channels, out_channels, kernel_size, size, stride=1,
  padding=0)`` returns the multiply-accumulates of one ``size x size`` image.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Callable
from typing import Any

from cnnlib._validate import check_int
from cnnlib.exercises._report import FAIL as FAIL  # re-exported for tests
from cnnlib.exercises._report import NO_ANSWER as NO_ANSWER
from cnnlib.exercises._report import PASS as PASS
from cnnlib.exercises._report import Judge, Result, count, name_of, require_callable, show
from cnnlib.shapes import conv_output_size

__all__ = [
    "check_layer_params",
    "check_conv2d_params",
    "check_depthwise_separable_params",
    "check_conv2d_macs",
]


def _conv(c_in: int, c_out: int, k: int, bias: bool = True, groups: int = 1, **kw: Any):
    from torch import nn

    return nn.Conv2d(c_in, c_out, k, bias=bias, groups=groups, device="meta", **kw)


def _count(*layers: Any) -> int:
    return sum(p.numel() for layer in layers for p in layer.parameters())


def _torch_params(c_in: int, c_out: int, k: int, bias: bool = True, groups: int = 1) -> int:
    return _count(_conv(c_in, c_out, k, bias, groups))


def _torch_dsc_params(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    return _count(_conv(c_in, c_in, k, bias, groups=c_in), _conv(c_in, c_out, 1, bias))


def _torch_macs(c_in: int, c_out: int, k: int, size: int, stride: int, padding: int) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    layer = _conv(c_in, c_out, k, stride=stride, padding=padding)
    counter = FlopCounterMode(display=False)
    with counter:
        layer(torch.empty(1, c_in, size, size, device="meta"))
    return counter.get_total_flops() // 2


def _is_count(got: Any) -> bool:
    return isinstance(got, numbers.Integral) and not isinstance(got, bool)


def _args(names: tuple[str, ...], values: tuple) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


#: common mistakes: (the count a wrong formula gives for (C_in, C_out, k, bias, groups), its hint)
_PARAMS_MISTAKES: list[tuple[Callable[[int, int, int, bool, int], int], str]] = [
    (
        lambda ci, co, k, bias, g: co * (ci // g) * k * k,
        "Hint: every filter also has one bias (the '+ C_out').",
    ),
    (
        lambda ci, co, k, bias, g: co * (ci // g) * k * k + co,
        "Hint: with bias=False there is no bias term.",
    ),
    (
        lambda ci, co, k, bias, g: co * (ci // g) * k + (co if bias else 0),
        "Hint: a k x k kernel has k * k weights per input channel, not k.",
    ),
    (
        lambda ci, co, k, bias, g: co * k * k + (co if bias else 0),
        "Hint: each filter has one k x k slice per input channel it reads (C_in / groups).",
    ),
    (
        lambda ci, co, k, bias, g: co * (k * k + 1),
        "Hint: each filter has one k x k slice per input channel it reads (C_in / groups).",
    ),
    (
        lambda ci, co, k, bias, g: co * ci * k * k + (co if bias else 0),
        "Hint: with groups, each filter reads only C_in / groups input channels.",
    ),
]


def _params_hint(got: Any, c_in: int, c_out: int, k: int, bias: bool, groups: int) -> str:
    """The hint of the one mistake that gives ``got`` for this layer, or "" if none or several
    do (with ``C_in = k``, ``k`` instead of ``k^2`` and a forgotten ``C_in`` count the same)."""
    hints = {
        hint for formula, hint in _PARAMS_MISTAKES if got == formula(c_in, c_out, k, bias, groups)
    }
    return hints.pop() if len(hints) == 1 else ""


def _fn_params_hint(fn: Callable[..., Any], cases: list[tuple[int, int, int, bool, int]]) -> str:
    """The hint of the one mistake whose formula gives all of ``fn``'s answers, or ""."""
    try:
        answers = [fn(ci, co, k, bias=bias, groups=g) for ci, co, k, bias, g in cases]
    except Exception:  # the learner's code: no hint, never a crash
        return ""
    hints = {
        hint
        for formula, hint in _PARAMS_MISTAKES
        if all(a == formula(*case) for a, case in zip(answers, cases, strict=True))
    }
    return hints.pop() if len(hints) == 1 else ""


def check_layer_params(
    answer: Any,
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    bias: bool = True,
    groups: int = 1,
    show_answer: bool = False,
) -> Result:
    """Check a parameter count made by hand against ``nn.Conv2d(...)``'s real parameters.

    Prints one verdict naming the layer; returns a Result, true on success. A first wrong
    count gets a hint (the common mistake it matches, or how to count); the worked count
    ``C_out * (C_in / groups * k * k + 1)`` comes from the second wrong count on, or at once
    with ``show_answer=True``.
    """
    c_in = check_int("in_channels", in_channels, 1)
    c_out = check_int("out_channels", out_channels, 1)
    k = check_int("kernel_size", kernel_size, 1)
    layer = f"nn.Conv2d({c_in}, {c_out}, {k}, bias={bias}, groups={groups})"
    expected = _torch_params(c_in, c_out, k, bias, groups)
    hint = (
        "count per filter: the k x k weights of every input channel the filter reads, then "
        "its bias, if it has one; then multiply by the number of filters."
    )
    per_filter = f"{c_in // groups} x {k} x {k}" + (" + 1" if bias else "")
    worked = (
        f"{c_out} filters, each with {c_in // groups} input channel(s) of {k} x {k} weights"
        + (" and one bias" if bias else " and no bias")
        + f": {c_out} x ({per_filter}) = {count(expected)}."
    )
    judge = Judge(
        f"the parameters of {layer}", hint, answer=worked, show_answer=show_answer, given=answer
    )
    with judge as j:
        if answer is None:
            j.no_answer("replace None with your count and run this cell again.")
        if not _is_count(answer):
            j.fail(f"the answer must be a whole number, got {show(answer)}.")
        if answer == expected:
            j.passed(f"{count(expected)}, correct.")
        j.fail(
            f"it is not {count(answer)}.",
            _params_hint(answer, c_in, c_out, k, bias, groups),
        )
    return j.result


def _random_layers(rng: random.Random, n: int) -> list[tuple[int, int, int, bool, int]]:
    cases = [(3, 64, 3, True, 1), (64, 128, 3, True, 1), (3, 64, 3, False, 1)]
    cases += [(8, 8, 3, True, 8), (16, 32, 5, True, 4)]
    while len(cases) < n:
        groups = rng.choice([1, 1, 2, 3, 4])
        c_in = groups * rng.randint(1, 8)
        c_out = groups * rng.randint(1, 8)
        cases.append((c_in, c_out, rng.randint(1, 7), rng.random() < 0.7, groups))
    return cases


def _count_of(j: Judge, call: str, got: Any) -> int:
    """The learner's count, or the check ends: a count is a whole number."""
    if not _is_count(got):
        j.fail(
            f"{call} returned {show(got)} ({type(got).__name__}).",
            "a count is a whole number: use // not /, and return an int.",
        )
    return int(got)


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_CONV2D_PARAMS = (
    "out_channels * (in_channels // groups) * kernel_size**2 + (out_channels if bias else 0)."
)


def check_conv2d_params(fn: Callable[..., Any], seed: int = 0, show_answer: bool = False) -> Result:
    """Check ``fn(in_channels, out_channels, kernel_size, bias=True, groups=1)`` against the
    parameters of real ``nn.Conv2d`` layers. Prints one verdict; returns a Result, true on a
    pass."""
    require_callable(fn)
    cases = _random_layers(random.Random(seed), 25)
    hint = (
        "count per filter: the k x k weights of every input channel the filter reads, then "
        "its bias, if it has one; then multiply by the number of filters."
    )
    with Judge(
        name_of(fn, "your conv2d_params"),
        hint,
        "PyTorch",
        answer=_ANSWER_CONV2D_PARAMS,
        show_answer=show_answer,
    ) as j:
        for c_in, c_out, k, bias, groups in cases:
            call = f"fn({c_in}, {c_out}, {k}, bias={bias}, groups={groups})"
            got = _count_of(j, call, j.call(call, fn, c_in, c_out, k, bias=bias, groups=groups))
            expected = _torch_params(c_in, c_out, k, bias, groups)
            if got != expected:
                why = j.hint_from(lambda: _fn_params_hint(fn, cases))
                j.fail(f"{call}: expected {count(expected)}, got {count(got)}.", why)
        j.passed_cases(len(cases))
    return j.result


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_DEPTHWISE_SEPARABLE_PARAMS = (
    "depthwise in_channels * k**2 (+ in_channels biases) plus pointwise in_channels * "
    "out_channels (+ out_channels biases)."
)


def check_depthwise_separable_params(
    fn: Callable[..., Any], seed: int = 0, show_answer: bool = False
) -> Result:
    """Check ``fn(in_channels, out_channels, kernel_size, bias=True)`` against a real depthwise
    ``nn.Conv2d(C_in, C_in, k, groups=C_in)`` followed by a pointwise ``nn.Conv2d(C_in, C_out,
    1)``: ``C_in k^2 + C_in C_out`` weights and ``C_in + C_out`` biases. Prints one verdict;
    returns a Result, true on success."""
    require_callable(fn)
    rng = random.Random(seed)
    cases = [(32, 64, 3, True), (3, 64, 3, False), (1, 1, 1, True)]
    cases += [
        (rng.randint(1, 64), rng.randint(1, 128), rng.randint(1, 7), rng.random() < 0.6)
        for _ in range(20)
    ]
    hint = (
        "add the two layers: a depthwise k x k convolution (groups = C_in: one k x k filter "
        "per input channel) and a pointwise 1 x 1 convolution from C_in to C_out, each with "
        "its biases when bias=True."
    )
    with Judge(
        name_of(fn, "your depthwise separable count"),
        hint,
        "PyTorch",
        answer=_ANSWER_DEPTHWISE_SEPARABLE_PARAMS,
        show_answer=show_answer,
    ) as j:
        for c_in, c_out, k, bias in cases:
            call = f"fn({c_in}, {c_out}, {k}, bias={bias})"
            got = _count_of(j, call, j.call(call, fn, c_in, c_out, k, bias=bias))
            expected = _torch_dsc_params(c_in, c_out, k, bias)
            if got != expected:
                weights = c_in * k * k + c_in * c_out
                why = ""
                if bias and got == weights:
                    why = "both convolutions have a bias: C_in for the depthwise, C_out after."
                elif got == c_in * c_out * k * k + (c_out if bias else 0):
                    why = "that is a standard convolution; the depthwise one has groups = C_in."
                elif bias and got == weights + c_out:
                    why = "the depthwise convolution has a bias too (one per input channel)."
                j.fail(f"{call}: expected {count(expected)}, got {count(got)}.", why)
        j.passed_cases(len(cases))
    return j.result


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_CONV2D_MACS = (
    "out = (size + 2*padding - kernel_size) // stride + 1; return out * out * out_channels "
    "* in_channels * kernel_size**2."
)


def check_conv2d_macs(fn: Callable[..., Any], seed: int = 0, show_answer: bool = False) -> Result:
    """Check ``fn(in_channels, out_channels, kernel_size, size, stride=1, padding=0)`` (one
    ``size x size`` image) against half the FLOPs FlopCounterMode counts for ``nn.Conv2d``.
    Prints one verdict; returns a Result, true on success."""
    require_callable(fn)
    rng = random.Random(seed)
    cases = [(3, 64, 3, 32, 1, 1), (3, 8, 3, 8, 1, 0), (4, 4, 3, 9, 2, 1)]
    while len(cases) < 25:
        k, p = rng.randint(1, 5), rng.randint(0, 2)
        size = rng.randint(max(1, k - 2 * p), 20)
        cases.append((rng.randint(1, 8), rng.randint(1, 8), k, size, rng.randint(1, 3), p))
    hint = (
        "every output value (H_out x W_out positions, C_out channels) costs one "
        "multiply-accumulate per weight of its filter (C_in x k x k)."
    )
    with Judge(
        name_of(fn, "your conv2d_macs"),
        hint,
        "PyTorch",
        answer=_ANSWER_CONV2D_MACS,
        show_answer=show_answer,
    ) as j:
        for c_in, c_out, k, size, s, p in cases:
            call = f"fn({c_in}, {c_out}, {k}, {size}, stride={s}, padding={p})"
            got = _count_of(j, call, j.call(call, fn, c_in, c_out, k, size, stride=s, padding=p))
            expected = _torch_macs(c_in, c_out, k, size, s, p)
            if got != expected:
                out = conv_output_size(size, k, s, p)
                why = ""
                if got == size * size * c_out * c_in * k * k:
                    why = "use the output size, not the input size."
                elif got == out * out * c_out * c_in * k * k + out * out * c_out:
                    why = "the bias additions are not multiply-accumulates."
                j.fail(
                    f"{call}: expected {count(expected)} (output {out} x {out}), got {count(got)}.",
                    why,
                )
        j.passed_cases(len(cases))
    return j.result
