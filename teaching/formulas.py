"""The one-page formula sheet: every formula with a worked number computed by ``cnnlib``.

``python -m teaching.formulas`` writes ``teaching/formula_sheet.md``. Each entry names the
``cnnlib`` function that implements it, its arguments and the number it returns; the test
(``tests/test_teaching.py``) checks that the saved sheet is what this script writes and
recomputes every number from the formula as printed, so a sheet and a library that disagree
cannot both pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnlib.backprop import conv2d_backward, max_pool2d_backward
from cnnlib.params import conv2d_macs, conv2d_params, linear_params
from cnnlib.receptive import receptive_field
from cnnlib.shapes import (
    conv_output_size,
    conv_transpose_output_size,
    pool_output_size,
    same_padding,
)

SHEET = Path(__file__).with_name("formula_sheet.md")

#: the small arrays of the gradient examples (printed on the sheet)
X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 1.0, 1.0]])
W = np.array([[1.0, -1.0], [2.0, 0.0]])
G = np.array([[1.0, 0.0], [2.0, -1.0]])
P = np.array(
    [[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 1.0, 6.0], [0.0, 2.0, 7.0, 1.0], [8.0, 1.0, 0.0, 3.0]]
)
GP = np.array([[1.0, 2.0], [3.0, 4.0]])


@dataclass(frozen=True)
class Entry:
    key: str
    topic: str
    quantity: str
    formula: str  # Markdown; symbols as in the notebooks
    call: str  # the cnnlib call, as printed
    compute: Callable[[], Any]


def _rf(layers):
    last = receptive_field(layers)[-1]
    return (last.size, last.stride, last.padding)


def _grads():
    gx, gw, gb = conv2d_backward(G[None, None], X[None, None], W[None, None])
    return gx[0, 0], gw[0, 0], gb


ENTRIES: tuple[Entry, ...] = (
    Entry(
        "conv_out",
        "Output size",
        "convolution, one axis",
        "$n_\\text{out} = \\left\\lfloor \\dfrac{n + 2p - d(k-1) - 1}{s} \\right\\rfloor + 1$",
        "shapes.conv_output_size(224, 7, stride=2, padding=3)",
        lambda: conv_output_size(224, 7, stride=2, padding=3),
    ),
    Entry(
        "conv_out_dilated",
        "Output size",
        "dilated convolution",
        "same formula, the kernel spans $d(k-1)+1$ pixels",
        "shapes.conv_output_size(32, 3, padding=2, dilation=2)",
        lambda: conv_output_size(32, 3, padding=2, dilation=2),
    ),
    Entry(
        "pool_out",
        "Output size",
        "pooling (floor mode)",
        "as convolution, stride defaults to $k$",
        "shapes.pool_output_size(7, 2)",
        lambda: pool_output_size(7, 2),
    ),
    Entry(
        "pool_out_ceil",
        "Output size",
        "pooling, `ceil_mode=True`",
        "$\\lceil\\cdot\\rceil$ instead of $\\lfloor\\cdot\\rfloor$, but the last window must "
        "start inside the input or left padding",
        "shapes.pool_output_size(7, 2, ceil_mode=True)",
        lambda: pool_output_size(7, 2, ceil_mode=True),
    ),
    Entry(
        "same_pad",
        "Output size",
        "'same' padding (stride 1)",
        "$p_\\text{total} = d(k-1)$: $\\lfloor p_\\text{total}/2 \\rfloor$ before, the rest after",
        "shapes.same_padding(4)",
        lambda: same_padding(4),
    ),
    Entry(
        "transpose_out",
        "Output size",
        "transposed convolution",
        "$n_\\text{out} = (n-1)s - 2p + d(k-1) + a + 1$ ($a$ = output padding)",
        "shapes.conv_transpose_output_size(14, 2, stride=2)",
        lambda: conv_transpose_output_size(14, 2, stride=2),
    ),
    Entry(
        "conv_params",
        "Parameters",
        "convolution",
        "$C_\\text{out}\\left(\\dfrac{C_\\text{in}}{g} k_h k_w + 1\\right)$ (the $+1$ is the bias)",
        "params.conv2d_params(3, 64, 3)",
        lambda: conv2d_params(3, 64, 3),
    ),
    Entry(
        "depthwise_params",
        "Parameters",
        "depthwise convolution ($g = C_\\text{in}$)",
        "same formula with $g = C_\\text{in} = C_\\text{out}$",
        "params.conv2d_params(32, 32, 3, groups=32)",
        lambda: conv2d_params(32, 32, 3, groups=32),
    ),
    Entry(
        "linear_params",
        "Parameters",
        "fully connected layer",
        "$n_\\text{in} n_\\text{out} + n_\\text{out}$",
        "params.linear_params(400, 120)",
        lambda: linear_params(400, 120),
    ),
    Entry(
        "conv_macs",
        "Compute",
        "multiply-accumulates of a convolution",
        "$H_\\text{out} W_\\text{out} C_\\text{out} \\dfrac{C_\\text{in}}{g} k_h k_w$ "
        "(bias not counted)",
        "params.conv2d_macs(3, 64, 3, output_size=224)",
        lambda: conv2d_macs(3, 64, 3, output_size=224),
    ),
    Entry(
        "rf_stack",
        "Receptive field",
        "size after a stack",
        "$r_l = r_{l-1} + d_l(k_l - 1)\\,S_{l-1}$, $r_0 = 1$",
        "receptive.receptive_field([(3, 1, 1)] * 3)[-1].size",
        lambda: receptive_field([(3, 1, 1)] * 3)[-1].size,
    ),
    Entry(
        "rf_stem",
        "Receptive field",
        "size, jump and padding (ResNet stem: conv 7/2 p3, pool 3/2 p1)",
        "$S_l = S_{l-1} s_l$, $P_l = P_{l-1} + p_l S_{l-1}$; unit $u$ sees "
        "$uS - P \\ldots uS - P + r - 1$",
        "receptive.receptive_field([(7, 2, 3), (3, 2, 1)])[-1]: (size, stride, padding)",
        lambda: _rf([(7, 2, 3), (3, 2, 1)]),
    ),
    Entry(
        "rf_dilated",
        "Receptive field",
        "dilated stack (dilation 1, 2, 4)",
        "same recursion with $d_l$",
        "receptive.receptive_field([(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)])[-1].size",
        lambda: receptive_field([(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)])[-1].size,
    ),
    Entry(
        "grad_w",
        "Gradients",
        "$\\partial L/\\partial w$ of $y = x \\star w$",
        "$\\dfrac{\\partial L}{\\partial w_{mn}} = \\sum_{i,j} g_{ij}\\, x_{si+m,\\,sj+n}$ "
        "($g = \\partial L/\\partial y$): $x$ cross-correlated with $g$",
        "backprop.conv2d_backward(g, x, w)[1]",
        lambda: _grads()[1],
    ),
    Entry(
        "grad_x",
        "Gradients",
        "$\\partial L/\\partial x$",
        "$g$ dilated by $s$, padded by $k-1$, cross-correlated with $\\mathrm{rot180}(w)$",
        "backprop.conv2d_backward(g, x, w)[0]",
        lambda: _grads()[0],
    ),
    Entry(
        "grad_b",
        "Gradients",
        "$\\partial L/\\partial b$",
        "$\\sum_{i,j} g_{ij}$",
        "backprop.conv2d_backward(g, x, w)[2]",
        lambda: _grads()[2],
    ),
    Entry(
        "grad_maxpool",
        "Gradients",
        "max pooling 2 x 2",
        "each $g_{ij}$ goes to the position of its window's maximum; all others get 0",
        "backprop.max_pool2d_backward(gp, xp, 2)",
        lambda: max_pool2d_backward(GP, P, 2),
    ),
)


def _cell(v: Any) -> str:
    """A value as printed on the sheet: ints plainly, arrays as rows separated by ';'."""
    if isinstance(v, np.ndarray):
        rows = np.atleast_2d(v)
        return "[" + "; ".join(" ".join(f"{int(round(t))}" for t in r) for r in rows) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(_cell(t) for t in v) + ")"
    return str(v)


def _matrix(name: str, a: np.ndarray) -> str:
    return f"`{name} = {_cell(a)}`"


def render() -> str:
    out = [
        "# Formula sheet",
        "",
        "One page for the whole course, in PyTorch's conventions (cross-correlation, `NCHW`).",
        "Symbols: input size $n$, kernel $k$, stride $s$, padding $p$ (per side), dilation $d$, "
        "groups $g$; $S$ is the jump (effective stride) and $P$ the effective padding. Every "
        "result below is what the named `cnnlib` call returns, written by "
        "`python -m teaching.formulas`; `tests/test_teaching.py` recomputes each one from the "
        "formula as printed.",
        "",
    ]
    topic = None
    for e in ENTRIES:
        if e.topic != topic:
            if topic is not None:
                out.append("")
            topic = e.topic
            out += [
                f"## {topic}",
                "",
                "| | formula | worked example (`cnnlib.…`) | result |",
                "|---|---|---|---|",
            ]
            if topic == "Gradients":
                out[-2:-2] = [
                    f"Examples: {_matrix('x', X)}, {_matrix('w', W)}, {_matrix('g', G)} "
                    f"(stride 1, no padding); pooling {_matrix('xp', P)}, {_matrix('gp', GP)}. "
                    "Rows are separated by `;`.",
                    "",
                ]
        out.append(f"| {e.quantity} | {e.formula} | `{e.call}` | `{_cell(e.compute())}` |")
    out += [
        "",
        "Softmax with cross-entropy: $L = -\\log \\mathrm{softmax}(z)_y$ and "
        "$\\partial L / \\partial z = \\mathrm{softmax}(z) - \\mathrm{onehot}(y)$ "
        "(the training notebook derives it; the test checks it against torch's autograd).",
        "",
    ]
    return "\n".join(out)


def main() -> None:
    SHEET.write_text(render(), encoding="utf-8")
    print(f"wrote {SHEET}")


if __name__ == "__main__":
    main()
