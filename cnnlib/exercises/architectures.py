"""Checkers for the exercises of notebook 07 (famous architectures).

Each checker runs the learner's code against an independent reference and prints one success
line or the first case that fails: the input, expected, got, and a hint for a common mistake.

- ``check_basic_block(cls)``: ``cls(in_channels, channels, stride=1)`` is a residual block
  ``y = ReLU(F(x) + shortcut(x))`` with ``F`` = conv3x3(stride)-BN-ReLU-conv3x3-BN (no conv
  bias) and a 1x1 conv + BN shortcut when the shape changes. Reference: the parameter count of
  the same layers built from ``nn.Conv2d`` / ``nn.BatchNorm2d``, output shapes from the
  convolution arithmetic, and the skip itself: with every convolution weight set to zero, an
  identity-shortcut block must return ``ReLU(x)``.
- ``check_patchify(fn)``: ``fn(images, patch_size)`` cuts ``(N, C, H, W)`` images into
  non-overlapping ``p x p`` patches, row by row, each flattened as ``(C, p, p)``:
  ``(N, HW / p^2, C p^2)``. Reference: ``torch.nn.functional.unfold``.
- ``check_compound_scaling(fn)``: ``fn(phi, alpha=1.2, beta=1.1, gamma=1.15)`` returns the
  depth, width and resolution multipliers ``(alpha^phi, beta^phi, gamma^phi)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from cnnlib.exercises._report import FAIL as FAIL  # re-exported for tests
from cnnlib.exercises._report import NO_ANSWER as NO_ANSWER
from cnnlib.exercises._report import PASS as PASS
from cnnlib.exercises._report import (
    Judge,
    Result,
    count,
    fmt,
    name_of,
    number,
    read_items,
    require_callable,
    show,
)
from cnnlib.shapes import conv_output_size

__all__ = ["check_basic_block", "check_patchify", "check_compound_scaling"]


def _reference_block_params(c_in: int, c: int, stride: int) -> int:
    from torch import nn

    layers = [
        nn.Conv2d(c_in, c, 3, stride, 1, bias=False, device="meta"),
        nn.BatchNorm2d(c, device="meta"),
        nn.Conv2d(c, c, 3, 1, 1, bias=False, device="meta"),
        nn.BatchNorm2d(c, device="meta"),
    ]
    if stride != 1 or c_in != c:
        layers += [
            nn.Conv2d(c_in, c, 1, stride, bias=False, device="meta"),
            nn.BatchNorm2d(c, device="meta"),
        ]
    return sum(p.numel() for layer in layers for p in layer.parameters())


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_BASIC_BLOCK = (
    "f = Sequential(Conv2d(in_channels, channels, 3, stride, 1, bias=False), BatchNorm2d, "
    "ReLU, Conv2d(channels, channels, 3, 1, 1, bias=False), BatchNorm2d); shortcut = "
    "Identity(), or Sequential(Conv2d(in_channels, channels, 1, stride, bias=False), "
    "BatchNorm2d) when the stride or the width changes; forward returns relu(f(x) + "
    "shortcut(x))."
)


def check_basic_block(cls: Callable[..., Any], show_answer: bool = False) -> Result:
    """Check a learner's ``BasicBlock`` class: parameters, output shapes and the skip.

    Prints one verdict; returns a Result, true on success.
    """
    import torch
    from torch import nn

    require_callable(cls, "cls")
    cases = [(16, 16, 1), (16, 32, 2), (8, 8, 2), (4, 12, 1)]
    rule = (
        "F(x) = conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN, the shortcut is the input "
        "(a 1x1 conv + BN when the stride or the width changes), and forward returns "
        "ReLU(F(x) + shortcut(x))."
    )
    with Judge(
        name_of(cls, "your block"),
        rule,
        result_hint="forward must return a tensor.",
        answer=_ANSWER_BASIC_BLOCK,
        show_answer=show_answer,
    ) as j:
        for c_in, c, stride in cases:
            call = f"{name_of(cls, 'cls')}({c_in}, {c}, stride={stride})"
            block = j.call(call, cls, c_in, c, stride=stride)
            if not isinstance(block, nn.Module):
                j.fail(f"{call} is not a torch.nn.Module.", "subclass nn.Module.")
            expected = _reference_block_params(c_in, c, stride)
            got = j.read(call, lambda block=block: sum(p.numel() for p in block.parameters()))
            if got != expected:
                why = ""
                projection = stride != 1 or c_in != c  # a 1x1 conv on the shortcut: 3 convs
                if got - expected in ((c, 2 * c, 3 * c) if projection else (c, 2 * c)):
                    why = "convolutions followed by batch norm need no bias (bias=False)."
                elif projection:
                    why = "when the shape changes the shortcut is a 1x1 conv + BN."
                j.fail(f"{call}: expected {count(expected)} parameters, got {count(got)}.", why)
            size = 8
            out = conv_output_size(size, 3, stride, 1)
            x = torch.randn(2, c_in, size, size, generator=torch.Generator().manual_seed(0))
            block.eval()
            forward = f"{call} on a (2, {c_in}, 8, 8) input"
            with torch.no_grad():
                y = j.array(forward, j.call(forward, block, x.clone()))
            if y.shape != (2, c, out, out):
                j.fail(
                    f"{forward}: output shape expected {(2, c, out, out)}, got {y.shape}.",
                    "the first conv3x3 has padding 1 and the stride; the second keeps the size.",
                )
            if stride == 1 and c_in == c:

                def zero_convs(block: Any = block, x: Any = x) -> Any:
                    with torch.no_grad():
                        for m in block.modules():
                            if isinstance(m, nn.Conv2d):
                                m.weight.zero_()
                        return block(x.clone())

                y = j.array(forward, j.read(forward, zero_convs))
                relu = x.clamp(min=0).numpy().astype(np.float64)
                if y.shape != relu.shape or not np.allclose(y, relu, atol=1e-5):
                    err = float(np.max(np.abs(y - relu))) if y.shape == relu.shape else np.inf
                    j.fail(
                        f"{call}: with every convolution set to zero, F(x) = 0 and the block "
                        f"must return ReLU(x + 0) = ReLU(x); it differs by up to {err:.3g}.",
                        "add the input x to F(x) before the last ReLU.",
                    )
        j.passed(f"matches on all {len(cases)} cases (parameters, shapes, the skip).")
    return j.result


def _patch_hint(images: Any, p: int, got: np.ndarray, expected: np.ndarray) -> str:
    """Name a common mistake of patchify whose output ``got`` is."""
    n, c, h, w = images.shape
    x = images.numpy().astype(np.float64)
    grid = x.reshape(n, c, h // p, p, w // p, p)

    def close(a: np.ndarray) -> bool:
        return a.shape == got.shape and bool(np.allclose(got, a, rtol=1e-5, atol=1e-6))

    if close(np.swapaxes(expected, 1, 2)):
        return (
            "your axes are (N, C p^2, patches), the layout F.unfold returns: the patches "
            "must be axis 1 and each patch's values axis 2."
        )
    if got.shape != expected.shape:
        return (
            f"the result is (N, number of patches, values per patch) = (N, H W / p^2, C p^2) = "
            f"{expected.shape}."
        )
    if close(x.reshape(expected.shape)):
        return (
            "reshape alone does not cut patches: a patch's pixels are not next to each other "
            "in memory. Split H into (H/p, p) and W into (W/p, p), then bring the patch axes "
            "together before flattening."
        )
    if close(grid.transpose(0, 2, 4, 3, 5, 1).reshape(expected.shape)):
        return "flatten each patch as (channel, row, column), channel first."
    if close(grid.transpose(0, 4, 2, 1, 3, 5).reshape(expected.shape)):
        return "number the patches row by row: patch (r, c) is number r * (W / p) + c."
    if close(grid.transpose(0, 2, 4, 1, 5, 3).reshape(expected.shape)):
        return "inside a patch, rows come before columns: (channel, row, column)."
    return ""


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_PATCHIFY = (
    "images.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(n, (h // "
    "p) * (w // p), c * p * p)."
)


def check_patchify(fn: Callable[..., Any], show_answer: bool = False) -> Result:
    """Check ``fn(images, patch_size)`` against ``F.unfold(images, p, stride=p)`` (transposed).

    Prints one verdict; returns a Result, true on success.
    """
    import torch
    import torch.nn.functional as F

    require_callable(fn)
    g = torch.Generator().manual_seed(0)
    hand = torch.arange(16.0).reshape(1, 1, 4, 4)
    cases = [(hand, 2), (torch.randn(2, 3, 8, 8, generator=g), 4)]
    cases += [
        (torch.randn(1, 3, 32, 32, generator=g), 16),
        (torch.randn(3, 2, 6, 6, generator=g), 3),
    ]
    rule = (
        "patch (r, c) of image n is images[n, :, r*p:(r+1)*p, c*p:(c+1)*p], flattened in "
        "(channel, row, column) order; the patches are numbered row by row."
    )
    result = "return a torch tensor (or a NumPy array) of shape (N, H W / p^2, C p^2)."
    with Judge(
        name_of(fn, "your patchify"),
        rule,
        "F.unfold",
        result,
        answer=_ANSWER_PATCHIFY,
        show_answer=show_answer,
    ) as j:
        for images, p in cases:
            call = f"fn(images of shape {tuple(images.shape)}, patch_size={p})"
            where = f"images[0, 0] =\n{fmt(images[0, 0].numpy())}\n" if images is hand else ""
            expected = F.unfold(images, p, stride=p).transpose(1, 2).numpy().astype(np.float64)
            got = j.array(call, j.call(call, fn, images.clone(), p, where=where), where)
            if got.shape != expected.shape:
                j.fail(
                    f"{call} returned shape {got.shape}, expected {expected.shape}.\n{where}",
                    _patch_hint(images, p, got, expected),
                )
            if not np.allclose(got, expected, rtol=1e-5, atol=1e-6):
                shown = f"{where}expected[0] =\n{fmt(expected[0])}\ngot[0] =\n{fmt(got[0])}\n"
                j.fail(
                    f"{call}: the numbers differ.\n" + (shown if images is hand else ""),
                    _patch_hint(images, p, got, expected),
                )
        j.passed_cases(len(cases))
    return j.result


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_COMPOUND_SCALING = "return alpha**phi, beta**phi, gamma**phi."


def check_compound_scaling(fn: Callable[..., Any], show_answer: bool = False) -> Result:
    """Check ``fn(phi, alpha, beta, gamma)`` returns ``(alpha^phi, beta^phi, gamma^phi)``.

    Prints one verdict; returns a Result, true on success.
    """
    require_callable(fn)
    cases = [(0, 1.2, 1.1, 1.15), (1, 1.2, 1.1, 1.15), (3, 1.2, 1.1, 1.15), (2.5, 1.3, 1.05, 1.1)]
    rule = (
        "each multiplier grows by its own factor once per step of phi: depth alpha, width "
        "beta, resolution gamma, each raised to phi."
    )
    with Judge(
        name_of(fn, "your scaling"), rule, answer=_ANSWER_COMPOUND_SCALING, show_answer=show_answer
    ) as j:
        for phi, a, b, c in cases:
            call = f"fn({phi}, alpha={a}, beta={b}, gamma={c})"
            expected = (a**phi, b**phi, c**phi)
            got = j.call(call, fn, phi, alpha=a, beta=b, gamma=c)
            try:
                values = j.read(call, lambda got=got: [number(v) for v in read_items(got)])
            except (TypeError, ValueError) as exc:
                j.fail(
                    f"{call} returned {show(got)} ({exc}).",
                    "return three numbers: (depth, width, resolution).",
                )
            values = tuple(values)
            if len(values) != 3 or not _close(values, expected):
                why = j.hint_from(lambda: _multiplies(fn, cases))
                j.fail(
                    f"{call}: expected {expected}, got {show(values)}.",
                    "scaling is a power, alpha ** phi, not alpha * phi." if why else "",
                )
        j.passed_cases(len(cases))
    return j.result


def _close(got: tuple[float, ...], expected: tuple[float, ...]) -> bool:
    return len(got) == len(expected) and all(
        math.isclose(u, v, rel_tol=1e-9) for u, v in zip(got, expected, strict=True)
    )


def _multiplies(fn: Callable[..., Any], cases: list[tuple[float, ...]]) -> bool:
    """True if ``fn`` returns ``(alpha * phi, beta * phi, gamma * phi)`` on every case whose
    ``phi`` tells a product from a power (phi not 0 or 1, where ``a * 1 == a ** 1``)."""
    telling = [case for case in cases if case[0] not in (0, 1)]
    try:
        return all(
            _close(
                tuple(float(v) for v in fn(phi, alpha=a, beta=b, gamma=c)),
                (a * phi, b * phi, c * phi),
            )
            for phi, a, b, c in telling
        )
    except Exception:  # the learner's code: no hint, never a crash
        return False
