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

from cnnlib.exercises._report import FAIL, FORGOT_RETURN, PASS

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


def check_basic_block(cls: Callable[..., Any]) -> None:
    """Check a learner's ``BasicBlock`` class: parameters, output shapes and the skip."""
    import torch
    from torch import nn

    cases = [(16, 16, 1), (16, 32, 2), (8, 8, 2), (4, 12, 1)]
    for c_in, c, stride in cases:
        call = f"{getattr(cls, '__name__', 'cls')}({c_in}, {c}, stride={stride})"
        try:
            block = cls(c_in, c, stride=stride)
        except Exception as exc:  # the learner's code: report, never crash the notebook
            print(f"{FAIL} {call} raised {type(exc).__name__}: {exc}")
            return
        if not isinstance(block, nn.Module):
            print(f"{FAIL} {call} is not a torch.nn.Module (subclass nn.Module)")
            return
        expected = _reference_block_params(c_in, c, stride)
        got = sum(p.numel() for p in block.parameters())
        if got != expected:
            hint = ""
            projection = stride != 1 or c_in != c  # a 1x1 conv on the shortcut: 3 convs
            if got - expected in ((c, 2 * c, 3 * c) if projection else (c, 2 * c)):
                hint = " Hint: convolutions followed by batch norm need no bias (bias=False)."
            elif projection:
                hint = " Hint: when the shape changes the shortcut is a 1x1 conv + BN."
            print(f"{FAIL} {call}: expected {expected:,} parameters, got {got:,}.{hint}")
            return
        size = 8
        out = (size + 2 - 3) // stride + 1
        x = torch.randn(2, c_in, size, size, generator=torch.Generator().manual_seed(0))
        block.eval()
        try:
            with torch.no_grad():
                y = block(x)
        except Exception as exc:
            print(f"{FAIL} {call} on a (2, {c_in}, 8, 8) input raised {type(exc).__name__}: {exc}")
            return
        if tuple(y.shape) != (2, c, out, out):
            print(f"{FAIL} {call}: output shape expected {(2, c, out, out)}, got {tuple(y.shape)}")
            return
        if stride == 1 and c_in == c:
            with torch.no_grad():
                for m in block.modules():
                    if isinstance(m, nn.Conv2d):
                        m.weight.zero_()
                y = block(x)
            if not torch.allclose(y, x.clamp(min=0), atol=1e-5):
                err = float((y - x.clamp(min=0)).abs().max())
                print(
                    f"{FAIL} {call}: with every convolution set to zero, F(x) = 0 and the block "
                    f"must return ReLU(x + 0) = ReLU(x); it differs by up to {err:.3g}. "
                    "Hint: add the input x to F(x) before the last ReLU."
                )
                return
    print(f"{PASS} your block matches on all {len(cases)} cases (parameters, shapes, the skip).")


def check_patchify(fn: Callable[..., Any]) -> None:
    """Check ``fn(images, patch_size)`` against ``F.unfold(images, p, stride=p)`` (transposed)."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    hand = torch.arange(16.0).reshape(1, 1, 4, 4)
    cases = [(hand, 2), (torch.randn(2, 3, 8, 8, generator=g), 4)]
    cases += [
        (torch.randn(1, 3, 32, 32, generator=g), 16),
        (torch.randn(3, 2, 6, 6, generator=g), 3),
    ]
    for images, p in cases:
        call = f"fn(images of shape {tuple(images.shape)}, patch_size={p})"
        expected = F.unfold(images, p, stride=p).transpose(1, 2)
        try:
            got = fn(images.clone(), p)
        except Exception as exc:
            print(f"{FAIL} {call} raised {type(exc).__name__}: {exc}")
            return
        if got is None:
            print(f"{FAIL} {call} {FORGOT_RETURN}")
            return
        got = torch.as_tensor(got, dtype=expected.dtype)
        if tuple(got.shape) != tuple(expected.shape):
            print(f"{FAIL} {call}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}")
            return
        if not torch.allclose(got, expected):
            msg = f"{FAIL} {call}: the numbers differ."
            if images is hand:
                msg += f"\n  input:\n{images[0, 0]}\n  expected:\n{expected[0]}\n  got:\n{got[0]}"
            wrong_order = images.unfold(2, p, p).unfold(3, p, p)  # (N, C, h, w, p, p)
            channel_last = wrong_order.permute(0, 2, 3, 4, 5, 1).reshape(got.shape)
            if torch.allclose(got, channel_last):
                msg += "\n  Hint: flatten each patch as (channel, row, column), channel first."
            print(msg)
            return
    print(f"{PASS} your patches match F.unfold on all {len(cases)} cases.")


def check_compound_scaling(fn: Callable[..., Any]) -> None:
    """Check ``fn(phi, alpha, beta, gamma)`` returns ``(alpha^phi, beta^phi, gamma^phi)``."""
    cases = [(0, 1.2, 1.1, 1.15), (1, 1.2, 1.1, 1.15), (3, 1.2, 1.1, 1.15), (2.5, 1.3, 1.05, 1.1)]
    for phi, a, b, c in cases:
        call = f"fn({phi}, alpha={a}, beta={b}, gamma={c})"
        expected = (a**phi, b**phi, c**phi)
        try:
            got = fn(phi, alpha=a, beta=b, gamma=c)
        except Exception as exc:
            print(f"{FAIL} {call} raised {type(exc).__name__}: {exc}")
            return
        try:
            got = tuple(float(v) for v in got)
        except (TypeError, ValueError):
            print(
                f"{FAIL} {call} must return three numbers (depth, width, resolution), got {got!r}"
            )
            return
        if len(got) != 3 or not _close(got, expected):
            hint = ""
            if _multiplies(fn, cases):
                hint = " Hint: scaling is a power, alpha ** phi, not alpha * phi."
            print(f"{FAIL} {call}: expected {expected}, got {got}.{hint}")
            return
    print(f"{PASS} your multipliers match on all {len(cases)} cases.")


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
