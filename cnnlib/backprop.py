"""Backpropagation through convolution and pooling, written from the formulas.

For ``y = conv2d(x, w, b, stride=s, padding=p, dilation=d)`` (cross-correlation, as in torch),

    y[n, o, i, j] = b[o] + sum_{c, m, k} xp[n, c, s*i + d*m, s*j + d*k] * w[o, c, m, k]

where ``xp`` is ``x`` padded with ``p`` zeros. The chain rule gives

- ``dL/dw = xp cross-correlated with dL/dy``: the stride of the forward pass becomes the
  *dilation* of the gradient in this correlation, and the dilation becomes its stride;
- ``dL/dx = the full convolution of dL/dy, dilated by the stride, with w``; written as a
  cross-correlation this is the kernel rotated by 180 degrees sliding over the gradient padded by
  ``d*(k-1)``; finally the rows and columns that were padding are cropped away;
- ``dL/db = sum of dL/dy over the batch and the positions``.

Every correlation here is ``cnnlib.conv.conv2d``: the backward pass is two more convolutions.
``numerical_gradient`` and ``gradient_check`` verify any of it by central differences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from cnnlib._validate import (
    check_array,
    check_bool,
    check_int,
    check_memory,
    check_pair,
    check_real,
)
from cnnlib.conv import avg_pool2d, conv2d, max_pool2d
from cnnlib.shapes import conv_output_size, pool_output_size

__all__ = [
    "GradientCheck",
    "avg_pool2d_backward",
    "conv2d_backward",
    "dilate",
    "gradient_check",
    "gradient_terms",
    "max_pool2d_backward",
    "numerical_gradient",
    "rot180",
    "show_dilation",
    "show_kernel_fit",
    "show_pool_routing",
    "show_rotation",
    "torch_max_pool_backward_is_safe",
]


def rot180(weight: np.ndarray) -> np.ndarray:
    """Return the kernel rotated by 180 degrees over its last two axes: ``w[..., ::-1, ::-1]``."""
    w = check_array("weight", weight, (2, 3, 4))
    return w[..., ::-1, ::-1]


def dilate(grad: np.ndarray, stride: int | tuple[int, int]) -> np.ndarray:
    """Insert ``stride - 1`` zeros between neighbouring entries of the last two axes.

    ``out[..., s*i, s*j] = grad[..., i, j]`` and zero elsewhere; the output has
    ``(H - 1) * s + 1`` rows. This is how a strided forward pass shows up in the backward pass.
    """
    g = check_array("grad", grad, (2, 3, 4))
    sh, sw = check_pair("stride", stride, 1)
    h, w = g.shape[-2:]
    size = g[..., :1, :1].size * ((h - 1) * sh + 1) * ((w - 1) * sw + 1)
    check_memory(f"stride {stride!r}", size * g.itemsize, "the dilated gradient")
    out = np.zeros((*g.shape[:-2], (h - 1) * sh + 1, (w - 1) * sw + 1), dtype=g.dtype)
    out[..., ::sh, ::sw] = g
    return out


def _as_nchw(x: np.ndarray) -> np.ndarray:
    """View ``(H, W)`` or ``(C, H, W)`` as ``(1, 1, H, W)`` / ``(1, C, H, W)``."""
    return x.reshape((1,) * (4 - x.ndim) + x.shape)


def _conv_padding(padding, kernel: tuple[int, int], dilation: tuple[int, int], stride):
    """Return (top, bottom, left, right) zero padding; ``"same"`` may be asymmetric, as in torch."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"padding='same' needs stride 1, got stride {stride}")
            th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
            return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = check_pair("padding", padding, 0)
    return (ph, ph, pw, pw)


def conv2d_backward(
    grad_out: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a loss through ``y = conv2d(x, weight, bias, stride, padding, dilation)``.

    Given ``grad_out = dL/dy`` return ``(grad_x, grad_weight, grad_bias)`` with the shapes of
    ``x``, ``weight`` and the bias ``(C_out,)``:

    - ``grad_weight[o, c, m, k] = sum_{n,i,j} dL/dy[n,o,i,j] * xp[n, g C_g + c, s*i + d*m,
      s*j + d*k]`` with ``g = o // (C_out / groups)`` the group of ``o`` and ``C_g`` its input
      channels (``g C_g + c = c`` without groups), i.e. ``conv2d(xp, dL/dy, stride=d,
      dilation=s)`` with batch and channels swapped;
    - ``grad_x = crop(conv2d(dilate(dL/dy, s), rot180(w), padding=d*(k-1), dilation=d))``, the
      full convolution of the stride-dilated gradient with the kernel, the padding cropped;
    - ``grad_bias[o] = sum_{n,i,j} dL/dy[n,o,i,j]``.

    Shapes follow ``conv2d``: ``x`` is ``(N, C, H, W)``, ``(C, H, W)`` or ``(H, W)``; ``weight``
    is ``(C_out, C/groups, kH, kW)``, or ``(kH, kW)`` with a 2-D ``x``; ``grad_out`` has the shape
    of the forward output. Zero padding only.
    """
    x = check_array("x", x, (2, 3, 4))
    weight = check_array("weight", weight, (2, 4))
    grad_out = check_array("grad_out", grad_out, (2, 3, 4))
    if weight.ndim == 2 and x.ndim != 2:
        raise ValueError(
            f"a 2-D weight {weight.shape} needs a 2-D x, got x of shape {x.shape}; "
            "give weight as (C_out, C_in/groups, kH, kW)"
        )
    if weight.ndim == 4 and x.ndim == 2:
        raise ValueError(f"a 2-D x {x.shape} needs a 2-D weight (kH, kW), got {weight.shape}")
    sh, sw = check_pair("stride", stride, 1)
    dh, dw = check_pair("dilation", dilation, 1)
    groups = check_int("groups", groups, 1)
    x4 = _as_nchw(x)
    w4 = _as_nchw(weight)
    n, c, h, w = x4.shape
    c_out, c_per_group, kh, kw = w4.shape
    if c % groups or c_out % groups:
        raise ValueError(
            f"groups={groups} must divide the input channels {c} and the output channels {c_out}"
        )
    if c_per_group * groups != c:
        raise ValueError(
            f"weight has {c_per_group} input channels per group, but x has {c} channels "
            f"and groups={groups} (expected {c // groups})"
        )
    top, bottom, left, right = _conv_padding(padding, (kh, kw), (dh, dw), (sh, sw))
    hp, wp = h + top + bottom, w + left + right
    reach_h, reach_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if reach_h > hp or reach_w > wp:
        raise ValueError(
            f"the dilated kernel ({reach_h}, {reach_w}) is larger than "
            f"the padded input ({hp}, {wp})"
        )
    ho, wo = conv_output_size((hp, wp), (kh, kw), (sh, sw), 0, (dh, dw))
    # a stride used by one window only, or the dilation of a one-tap kernel, does not matter
    sh, sw = (1 if ho == 1 else sh), (1 if wo == 1 else sw)
    dh, dw = (1 if kh == 1 else dh), (1 if kw == 1 else dw)
    culprit = "padding" if 4 * h * w < hp * wp else f"x of shape {x.shape}"
    check_memory(culprit, 3 * n * c * hp * wp * max(x.itemsize, 4), "conv2d_backward")
    expected = (n, c_out, ho, wo)[4 - x.ndim :]
    if grad_out.shape != expected:
        raise ValueError(
            f"grad_out must have the shape of the forward output {expected}, got {grad_out.shape}"
        )
    dtype = np.result_type(x, weight, grad_out)
    x4 = x4.astype(dtype, copy=False)
    w4 = w4.astype(dtype, copy=False)
    g4 = _as_nchw(grad_out).astype(dtype, copy=False)

    xp = np.pad(x4, ((0, 0), (0, 0), (top, bottom), (left, right)))
    og = c_out // groups
    grad_w = np.empty_like(w4)
    for gi in range(groups):
        cs = slice(gi * c_per_group, (gi + 1) * c_per_group)
        os_ = slice(gi * og, (gi + 1) * og)
        # batch <-> channels: each (input channel, output channel) pair is one correlation of
        # the padded input with the output gradient, summed over the batch.
        corr = conv2d(
            xp[:, cs].transpose(1, 0, 2, 3),
            g4[:, os_].transpose(1, 0, 2, 3),
            stride=(dh, dw),
            dilation=(sh, sw),
        )
        grad_w[os_] = corr[:, :, :kh, :kw].transpose(1, 0, 2, 3)

    # weight (C_out, C/g, kH, kW) -> (C, C_out/g, kH, kW): within each group the roles of the
    # input and output channels swap, and the kernel is rotated by 180 degrees.
    w_t = (
        w4.reshape(groups, og, c_per_group, kh, kw)
        .transpose(0, 2, 1, 3, 4)
        .reshape(c, og, kh, kw)[..., ::-1, ::-1]
    )
    full = conv2d(
        dilate(g4, (sh, sw)),
        np.ascontiguousarray(w_t),
        padding=(dh * (kh - 1), dw * (kw - 1)),
        dilation=(dh, dw),
        groups=groups,
    )
    # rows/cols of xp that no window reached (the stride did not fit) get zero gradient
    grad_xp = np.zeros((n, c, hp, wp), dtype=dtype)
    grad_xp[:, :, : full.shape[2], : full.shape[3]] = full
    grad_x = grad_xp[:, :, top : top + h, left : left + w]
    grad_b = g4.sum(axis=(0, 2, 3))
    return (
        grad_x.reshape(x.shape),
        grad_w.reshape(weight.shape),
        grad_b,
    )


def gradient_terms(
    grad_out: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray,
    cell: tuple[int, int],
    wrt: str = "x",
    stride: int = 1,
    padding: int = 0,
) -> list[dict]:
    """The products that add up to one entry of ``dL/dx`` or ``dL/dw`` (2-D, dilation 1).

    For ``y = conv2d(x, w, stride=s, padding=p)`` with ``g = dL/dy`` and ``xp`` the padded input:

    - ``wrt="x"``, ``cell = (r, c)``: ``dL/dx[r, c] = sum g[i, j] * w[a, b]`` over the taps
      ``(a, b)`` with ``s i + a = r + p`` and ``s j + b = c + p`` for an output cell ``(i, j)``:
      the outputs whose window put pixel ``(r, c)`` under tap ``(a, b)``. Taps are visited in
      row-major order.
    - ``wrt="weight"``, ``cell = (m, n)``: ``dL/dw[m, n] = sum_{i, j} g[i, j] xp[s i + m,
      s j + n]``: every output gradient meets the pixel its window put under that tap. Output
      cells are visited in row-major order.

    Returns one dict per product: ``grad_out`` (the cell ``(i, j)`` of ``g``), ``weight`` (the
    tap, for ``wrt="x"``) or ``input`` (the pixel of ``x``, negative or past the end in the
    padding, for ``wrt="weight"``), ``grad_value``, ``other_value`` and their ``product``. Their
    sum is ``conv2d_backward``'s entry.
    """
    x = check_array("x", x, (2,))
    weight = check_array("weight", weight, (2,))
    g = check_array("grad_out", grad_out, (2,))
    if not isinstance(wrt, str) or wrt not in ("x", "weight"):
        raise ValueError(f"wrt must be one of 'x', 'weight', got {wrt!r}")
    s = check_int("stride", stride, 1)
    p = check_int("padding", padding, 0)
    r, c = check_pair("cell", cell, 0)
    kh, kw = weight.shape
    ho, wo = conv_output_size(x.shape, (kh, kw), s, p)
    if g.shape != (ho, wo):
        raise ValueError(
            f"grad_out must have the shape of the forward output {(ho, wo)}, got {g.shape}"
        )
    limit = x.shape if wrt == "x" else weight.shape
    if r >= limit[0] or c >= limit[1]:
        raise ValueError(f"cell {(r, c)} must lie inside the {wrt} of shape {limit}")
    terms = []
    if wrt == "x":
        for a in range(kh):
            for b in range(kw):
                i, j = r + p - a, c + p - b
                if i % s == 0 and j % s == 0 and 0 <= i // s < ho and 0 <= j // s < wo:
                    gi, gj = i // s, j // s
                    terms.append(_term("weight", (gi, gj), (a, b), g[gi, gj], weight[a, b]))
        return terms
    xp = np.pad(x, p)
    for gi in range(ho):
        for gj in range(wo):
            pr, pc = s * gi + r, s * gj + c
            terms.append(_term("input", (gi, gj), (pr - p, pc - p), g[gi, gj], xp[pr, pc]))
    return terms


def _term(other: str, out_cell, other_cell, grad_value, other_value) -> dict:
    return {
        "grad_out": out_cell,
        other: other_cell,
        "grad_value": float(grad_value),
        "other_value": float(other_value),
        "product": float(grad_value * other_value),
    }


def _pool_output_check(grad_out: np.ndarray, y: np.ndarray, what: str) -> None:
    if grad_out.shape != y.shape:
        raise ValueError(
            f"grad_out must have the shape of the {what} output {y.shape}, got {grad_out.shape}"
        )


def max_pool2d_backward(
    grad_out: np.ndarray,
    x: np.ndarray,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Gradient of a loss through ``y = max_pool2d(x, kernel_size, stride, padding, dilation)``.

    Only the winner of each window receives gradient:
    ``dL/dx[n, c, p] = sum over windows (i, j) whose argmax is p of dL/dy[n, c, i, j]``
    (the argmax is the one ``max_pool2d(..., return_indices=True)`` reports; overlapping windows
    that share a winner add up).
    """
    x = check_array("x", x, (2, 3, 4))
    grad_out = check_array("grad_out", grad_out, (2, 3, 4))
    y, idx = max_pool2d(
        x, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=True
    )
    _pool_output_check(grad_out, y, "max_pool2d")
    x4 = _as_nchw(x)
    n, c, h, w = x4.shape
    g = _as_nchw(grad_out).reshape(n * c, -1)
    flat_idx = np.asarray(idx).reshape(n * c, -1).astype(np.int64)
    grad = np.zeros((n * c, h * w), dtype=np.result_type(x, grad_out))
    rows = np.repeat(np.arange(n * c), flat_idx.shape[1])
    # a window with no tap inside x (padding and dilation only) has an index outside the plane
    # (torch's, too) and passes no gradient
    inside = flat_idx.ravel() < h * w
    np.add.at(grad, (rows[inside], flat_idx.ravel()[inside]), g.ravel()[inside])
    return grad.reshape(x.shape)


def avg_pool2d_backward(
    grad_out: np.ndarray,
    x: np.ndarray,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Gradient of a loss through ``y = avg_pool2d(x, kernel_size, stride, padding, ...)``.

    Each window shares its gradient equally among the cells it averaged:
    ``dL/dx[p] = sum over windows R containing p of dL/dy[R] / |R|``, where ``|R|`` is the
    divisor torch uses (the window clipped to the padded input, or to the input itself when
    ``count_include_pad=False``). Padding cells receive gradient too, and are cropped away.
    """
    x = check_array("x", x, (2, 3, 4))
    grad_out = check_array("grad_out", grad_out, (2, 3, 4))
    y = avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad)
    _pool_output_check(grad_out, y, "avg_pool2d")
    kh, kw = check_pair("kernel_size", kernel_size, 1)
    sh, sw = (kh, kw) if stride is None else check_pair("stride", stride, 1)
    ph, pw = check_pair("padding", padding, 0)
    count_include_pad = check_bool("count_include_pad", count_include_pad)
    x4 = _as_nchw(x)
    g4 = _as_nchw(grad_out)
    n, c, h, w = x4.shape
    ho, wo = g4.shape[2:]

    def window(size: int, pad: int, k: int, s: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """``member[i, r]``: input cell ``r`` lies in window ``i``; and each window's divisor."""
        s = 1 if count == 1 else s
        k = min(k, size + 2 * pad + 1)  # longer windows are clipped to the same cells
        start = np.arange(count, dtype=np.int64) * s - pad
        end = np.minimum(start + k, size + pad)
        if count_include_pad:
            div = end - start
        else:
            div = np.minimum(end, size) - np.maximum(start, 0)
        r = np.arange(size)
        member = (r[None, :] >= start[:, None]) & (r[None, :] < end[:, None])
        return member.astype(dtype), div

    dtype = np.result_type(x, grad_out)  # as torch: float32 stays float32
    rows, div_h = window(h, ph, kh, sh, ho)
    cols, div_w = window(w, pw, kw, sw, wo)
    share = g4 / np.outer(div_h, div_w).astype(dtype)
    # separable: dL/dx[r, q] = sum_{i, j} member_h[i, r] share[i, j] member_w[j, q]
    grad = np.einsum("ir,ncij,jq->ncrq", rows, share, cols, optimize=True)
    return grad.reshape(x.shape)


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Central-difference gradient of a scalar function:
    ``grad[p] = (f(x + eps e_p) - f(x - eps e_p)) / (2 eps)`` for every entry ``p`` of ``x``.

    ``x`` is copied to float64 and never modified. The error is O(eps^2) plus round-off
    of about ``|f| * 1e-16 / eps``.
    """
    if not callable(f):
        raise TypeError(f"f must be a callable returning a scalar, got {type(f).__name__}")
    # C order: the loop below writes through x.reshape(-1), which must be a view
    x = np.array(check_array("x", x, tuple(range(0, 9))), dtype=np.float64, order="C")
    eps = check_real("eps", eps, positive=True)
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    gflat = grad.reshape(-1)
    for p in range(flat.size):
        old = flat[p]
        flat[p] = old + eps
        f_plus = _scalar(f(x))
        flat[p] = old - eps
        f_minus = _scalar(f(x))
        flat[p] = old
        gflat[p] = (f_plus - f_minus) / (2 * eps)
    return grad


def _scalar(value: object) -> float:
    arr = np.asarray(value.detach() if hasattr(value, "detach") else value)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


class GradientCheck(NamedTuple):
    """Result of ``gradient_check``: the worst relative error and a printable report."""

    error: float
    report: str


def gradient_check(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic: np.ndarray,
    eps: float = 1e-6,
    tiny: float = 1e-8,
) -> GradientCheck:
    """Compare an analytic gradient with central differences of ``f`` at ``x``.

    Relative error per entry: ``|a - n| / max(|a| + |n|, tiny)``; the result's ``error`` is the
    largest. ``tiny`` keeps entries where both gradients vanish from dividing zero by zero.
    As a rule of thumb in float64: below 1e-6 the gradient is right (the ``OK`` verdict), above
    1e-3 it is wrong.
    """
    x = check_array("x", x, tuple(range(0, 9)))
    analytic = check_array("analytic", analytic, tuple(range(0, 9)))
    tiny = check_real("tiny", tiny, positive=True)
    eps = check_real("eps", eps, positive=True)
    if analytic.shape != x.shape:
        raise ValueError(f"analytic must have the shape of x {x.shape}, got {analytic.shape}")
    numeric = numerical_gradient(f, x, eps)
    rel = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), tiny)
    if rel.size == 0:
        return GradientCheck(0.0, "x is empty: nothing to check")
    worst = np.unravel_index(int(np.argmax(rel)), rel.shape)
    err = float(rel[worst])
    verdict = "OK" if err < 1e-6 else ("suspicious" if err < 1e-3 else "WRONG")
    report = (
        f"gradient check over {rel.size} entries (eps={eps:g}): max relative error {err:.2e} "
        f"[{verdict}]\n"
        f"  worst entry {tuple(int(i) for i in worst)}: analytic {analytic[worst]:.6g}, "
        f"numerical {numeric[worst]:.6g}"
    )
    return GradientCheck(err, report)


def torch_max_pool_backward_is_safe(
    input_size: tuple[int, int],
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> bool:
    """Whether torch's ``max_pool2d`` backward may be called on this configuration.

    torch 2.x writes out of bounds in the backward pass (and can kill the kernel) when a
    window has no tap inside the input: along an axis, window ``i`` reads
    ``i s - p + m d`` for ``m < k``, and it is unsafe if none of these lies in ``[0, size)``
    (possible with dilation: the taps jump over the input). ``max_pool2d_backward`` of this
    module handles such windows (they pass no gradient); tests and notebooks that compare with
    torch call its backward only when this returns ``True``.
    """
    h, w = check_pair("input_size", input_size, 1)
    k = check_pair("kernel_size", kernel_size, 1)
    s = k if stride is None else check_pair("stride", stride, 1)
    p = check_pair("padding", padding, 0)
    d = check_pair("dilation", dilation, 1)
    ceil_mode = check_bool("ceil_mode", ceil_mode)
    out = pool_output_size((h, w), k, s, p, d, ceil_mode)
    for a, size in enumerate((h, w)):
        # a window starting inside the input has its first tap there: only the windows
        # starting before it (i s < p) or past its end (i s >= size + p) can miss it
        lead = min(out[a], -(-p[a] // s[a]))
        tail = min(out[a], max(lead, -(-(size + p[a]) // s[a])))
        check_memory(
            f"padding {p} with stride {s}", 32.0 * (lead + out[a] - tail), "the window positions"
        )
        i = np.r_[0:lead, tail : out[a]].astype(np.int64)
        start = i * s[a] - p[a]
        first = np.where(start < 0, start % d[a], start)  # first tap position >= 0
        reaches = (first - start) // d[a] < k[a]
        if not np.all(reaches & (first < size)):
            return False
    return True


# --------------------------------------------------------------------------------------------
# Figures of notebook 06 (drawing only: every number comes from the functions above)
# --------------------------------------------------------------------------------------------
def _figure(width: float, height: float, ratios: Sequence[float]):
    import matplotlib.pyplot as plt

    return plt.subplots(
        1, len(ratios), figsize=(width, height), layout="constrained",
        gridspec_kw={"width_ratios": list(ratios)},
    )  # fmt: skip


def show_rotation(x: np.ndarray, weight: np.ndarray, pixel: tuple[int, int] = (1, 1)):
    """A pyplot figure of why ``dL/dx`` reads the kernel rotated (stride 1, no padding): one
    panel per output window that covers ``pixel`` of the 2-D ``x`` (the window outlined, the
    pixel in white, and the tap it sits under, from ``gradient_terms``: ``w[r - i, c - j]`` in
    the window of ``y[i, j]``), then ``weight`` and ``rot180(weight)``. Returns the figure."""
    from cnnlib.plotting import (
        DIVERGING,
        SEQUENTIAL,
        label_cells,
        show_grid,
        symmetric_limits,
        window_rect,
    )

    x = check_array("x", x, (2,))
    weight = check_array("weight", weight, (2,))
    r, c = check_pair("pixel", pixel, 0)
    g = np.ones(conv_output_size(x.shape, weight.shape))
    terms = sorted(gradient_terms(g, x, weight, (r, c)), key=lambda t: t["grad_out"])
    kh, kw = weight.shape
    limits = symmetric_limits(weight)
    fig, axes = _figure(15, 3.2, [3] * len(terms) + [2.4, 2.4])
    for ax, term in zip(axes, terms, strict=False):
        (i, j), (a, b) = term["grad_out"], term["weight"]
        label_cells(show_grid(ax, x, SEQUENTIAL, title=f"window of y[{i},{j}]"), fontsize=14)
        window_rect(ax, r, c, 1, 1, color="white", linewidth=4)
        window_rect(ax, i, j, kh, kw, linewidth=6)
        ax.set_xlabel(f"x[{r},{c}] under w[{a},{b}]")
    label_cells(show_grid(axes[-2], weight, DIVERGING, *limits, title="w"), fontsize=14)
    rotated = show_grid(axes[-1], rot180(weight), DIVERGING, *limits, title="rot180(w)")
    label_cells(rotated, fontsize=14)
    return fig


def show_dilation(grad_out: np.ndarray, stride: int, kernel_size: int):
    """A pyplot figure of the output gradient ``g`` (2-D) of a layer with ``stride``, then
    ``dilate(g, stride)``, then that padded by ``kernel_size - 1`` with the first position of
    the rotated kernel outlined: what ``dL/dx`` correlates with ``rot180(w)``. Returns it."""
    from cnnlib.plotting import DIVERGING, label_cells, show_grid, symmetric_limits, window_rect

    g = check_array("grad_out", grad_out, (2,))
    s = check_int("stride", stride, 1)
    k = check_int("kernel_size", kernel_size, 1)
    gd = dilate(g, s)
    padded = np.pad(gd, k - 1)
    limits = symmetric_limits(g)
    fig, axes = _figure(14, 3.8, [g.shape[1], gd.shape[1], padded.shape[1]])
    panels = ((g, f"g = dL/dy (stride {s})"), (gd, f"dilate(g, {s})"),
              (padded, f"padded by k-1 = {k - 1}"))  # fmt: skip
    for ax, (values, title) in zip(axes, panels, strict=True):
        label_cells(show_grid(ax, values, DIVERGING, *limits, title=title), fontsize=13)
    window_rect(axes[2], 0, 0, k, k)
    return fig


def show_pool_routing(x: np.ndarray, grad_out: np.ndarray, kernel_size: int = 2):
    """A pyplot figure of pooling's backward pass on the 2-D ``x``: ``x`` with each window's
    winner outlined (the argmax ``max_pool2d`` reports: the first one on a tie), ``g = dL/dy``,
    then ``dL/dx`` of max pooling (``max_pool2d_backward``) and of average pooling
    (``avg_pool2d_backward``). Returns the figure."""
    from cnnlib.plotting import (
        DIVERGING,
        SEQUENTIAL,
        label_cells,
        show_grid,
        symmetric_limits,
        window_rect,
    )

    x = check_array("x", x, (2,))
    g = check_array("grad_out", grad_out, (2,))
    k = check_int("kernel_size", kernel_size, 1)
    _, idx = max_pool2d(x, k, return_indices=True)
    if g.shape != idx.shape:
        raise ValueError(f"grad_out must have the shape of the pooled output {idx.shape}, "
                         f"got {g.shape}")  # fmt: skip
    limits = symmetric_limits(g)
    fig, axes = _figure(14, 3.3, [1, 1, 1, 1])
    label_cells(show_grid(axes[0], x, SEQUENTIAL, title="x (winners outlined)"), fontsize=14)
    for r, c in zip(*np.unravel_index(np.ravel(idx), x.shape), strict=True):
        window_rect(axes[0], r, c, 1, 1)
    panels = ((g, "g = dL/dy"), (max_pool2d_backward(g, x, k), "dL/dx, max pooling"),
              (avg_pool2d_backward(g, x, k), "dL/dx, average pooling"))  # fmt: skip
    for ax, (values, title) in zip(axes[1:], panels, strict=True):
        label_cells(show_grid(ax, values, DIVERGING, *limits, title=title), fontsize=14)
    return fig


def show_kernel_fit(
    losses: Sequence[float], learned: np.ndarray, target: np.ndarray, name: str = "hidden kernel"
):
    """A pyplot figure of a kernel learned by gradient descent: the loss per step (log scale),
    the learned kernel and the hidden one it was fitted to (titled ``name``), both with their
    numbers (the learned one to 2 decimals). Returns the figure."""
    from cnnlib.plotting import DIVERGING, HIGHLIGHT, label_cells, show_grid, symmetric_limits

    loss = check_array("losses", losses, (1,))
    learned = check_array("learned", learned, (2,))
    target = check_array("target", target, (2,))
    limits = symmetric_limits(target)
    fig, axes = _figure(14, 2.9, [6, 3, 3])
    axes[0].semilogy(loss, color=HIGHLIGHT)
    axes[0].set(xlabel="gradient step", ylabel="loss", title="squared error, log scale")
    shown = show_grid(axes[1], learned.round(2) + 0.0, DIVERGING, *limits, title="learned w")
    label_cells(shown, fmt="{:.2f}", fontsize=14)  # + 0.0 above: -0.00 is drawn as 0.00
    label_cells(show_grid(axes[2], target, DIVERGING, *limits, title=str(name)),
                fmt="{:g}", fontsize=14)  # fmt: skip
    return fig
