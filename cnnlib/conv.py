"""Convolution, cross-correlation and pooling in NumPy, with PyTorch's semantics.

``conv2d`` gives the same numbers as ``torch.nn.functional.conv2d`` (a cross-correlation, like
every deep-learning library), ``conv2d_naive`` is the same function written as the loops of the
definition, ``convolve2d`` is the true (flipped-kernel) convolution of signal processing, as
``scipy.signal.convolve2d``, and ``max_pool2d`` / ``avg_pool2d`` follow ``torch.nn.functional``.

Shapes follow PyTorch: ``x`` is ``(N, C, H, W)``, ``(C, H, W)`` or ``(H, W)``, and the output keeps
the input's form. Sizes (``stride``, ``padding``, ``dilation``, ``kernel_size``) take an int or a
pair ``(h, w)``.

Written to be read by learners: ``conv2d_naive`` (the definition as loops), ``pad2d``, ``im2col``
/ ``col2im``, ``convolve2d``, the pooling functions and ``conv2d``'s argument rules. The BLAS
blocking and chunking that make ``conv2d`` fast live in the private ``cnnlib._conv_blas``.
"""

from __future__ import annotations

import numpy as np

from cnnlib import _conv_blas
from cnnlib._validate import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_memory,
    check_pair,
    check_real,
    get_memory_budget,
)
from cnnlib.shapes import conv_output_size, pool_output_size

__all__ = [
    "avg_pool2d",
    "col2im",
    "conv2d",
    "conv2d_naive",
    "convolve2d",
    "im2col",
    "max_pool2d",
    "pad2d",
]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}

Size = int | tuple[int, int]


# --------------------------------------------------------------------------------------------
# Shared steps: padding and output-size arithmetic
# --------------------------------------------------------------------------------------------


def pad2d(
    x: np.ndarray,
    padding: int | tuple[int, ...],
    mode: str = "zeros",
    value: float = 0.0,
) -> np.ndarray:
    """Pad the last two axes (height, width) of ``x``, as ``torch.nn.functional.pad``.

    ``padding`` is an int ``p`` (``p`` on all four sides), a pair ``(ph, pw)`` (``ph`` above and
    below, ``pw`` left and right) or a 4-tuple ``(left, right, top, bottom)`` in the order of
    ``torch.nn.functional.pad``. ``mode`` is one of

    - ``"zeros"``: the border holds ``value`` (0 unless given): ``x_pad[i] = value`` outside ``x``;
    - ``"reflect"``: mirror without repeating the edge, ``x_pad[-i] = x[i]`` (needs ``p < size``);
    - ``"replicate"``: repeat the edge, ``x_pad[-i] = x[0]``;
    - ``"circular"``: wrap around, ``x_pad[-i] = x[size - i]`` (needs ``p <= size``).

    These are the padding modes of ``torch.nn.Conv2d(padding_mode=...)``.
    """
    arr = check_array("x", x, (2, 3, 4))
    mode = check_choice("mode", mode, PADDING_MODES)
    left, right, top, bottom = _four_sides(padding)
    value = check_real("value", value, finite=False)
    if not (left or right or top or bottom):
        return arr
    height, width = arr.shape[-2:]
    size = arr[..., :1, :1].size * (height + top + bottom) * (width + left + right)
    check_memory(f"padding {padding!r}", size * arr.itemsize, "the padded array")
    for pad, size, axis in (
        (max(top, bottom), height, "height"),
        (max(left, right), width, "width"),
    ):
        if mode == "reflect" and pad >= size:
            raise ValueError(
                f"padding {pad} with mode 'reflect' must be smaller than the input's {axis} {size}"
            )
        if mode == "circular" and pad > size:
            raise ValueError(
                f"padding {pad} with mode 'circular' must be at most the input's {axis} {size}"
            )
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    if mode == "zeros":  # np.full and a copy: several times faster than np.pad on small inputs
        out = np.full(
            arr.shape[:-2] + (height + top + bottom, width + left + right), value, arr.dtype
        )
        out[..., top : top + height, left : left + width] = arr
        return out
    return np.pad(arr, widths, mode=_NUMPY_PAD_MODE[mode])


def _four_sides(padding: object) -> tuple[int, int, int, int]:
    """``padding`` (int, pair or torch-order 4-tuple) as ``(left, right, top, bottom)``."""
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        return tuple(check_int(f"padding[{i}]", p, 0) for i, p in enumerate(padding))
    ph, pw = check_pair("padding", padding, 0)
    return pw, pw, ph, ph


def _check_fits(name: str, kernel: int, dilation: int, padded: int, axis: str) -> None:
    span = dilation * (kernel - 1) + 1
    if span > padded:
        raise ValueError(
            f"{name} {kernel} (dilated {span}) is larger than the padded input {padded} ({axis})"
        )


def _float_dtype(*arrays: np.ndarray) -> np.dtype:
    dtype = np.result_type(*arrays)
    return np.dtype(np.float32) if dtype.itemsize < 4 else dtype


# --------------------------------------------------------------------------------------------
# conv2d: argument handling shared by the fast and the naive version
# --------------------------------------------------------------------------------------------


class _ConvArgs:
    """Validated arguments of ``conv2d``, with ``x`` batched (NCHW) and cast to the output dtype."""

    def __init__(self, x, weight, bias, stride, padding, dilation, groups, padding_mode):
        x = check_array("x", x, (2, 3, 4))
        if x.ndim == 2:
            weight = check_array("weight", weight, (2,))
            self.form = 2
            x = x[None, None]
            weight = weight[None, None]
        else:
            weight = check_array("weight", weight, (4,))
            self.form = x.ndim
            if x.ndim == 3:
                x = x[None]
        self.groups = check_int("groups", groups, 1)
        self.stride = check_pair("stride", stride, 1)
        self.dilation = check_pair("dilation", dilation, 1)
        padding_mode = check_choice("padding_mode", padding_mode, PADDING_MODES)
        n, c_in, height, width = x.shape
        c_out, c_in_g, kh, kw = weight.shape
        if 0 in weight.shape:
            raise ValueError(f"weight must not have an empty axis, got shape {weight.shape}")
        if 0 in x.shape:
            raise ValueError(f"x must not have an empty axis, got shape {x.shape}")
        g = self.groups
        if c_in % g:
            raise ValueError(f"in_channels {c_in} of x must be divisible by groups {g}")
        if c_out % g:
            raise ValueError(f"out_channels {c_out} of weight must be divisible by groups {g}")
        if c_in_g != c_in // g:
            raise ValueError(
                f"weight must have in_channels / groups = {c_in} / {g} = {c_in // g} input "
                f"channels (axis 1), got {c_in_g} (weight shape {weight.shape})"
            )
        if isinstance(padding, str):
            padding = check_choice("padding", padding, ("valid", "same"))
            if padding == "valid":
                sides = (0, 0, 0, 0)
            else:
                if self.stride != (1, 1):
                    raise ValueError(
                        f"padding='same' needs stride 1 (as in torch), got stride {self.stride}"
                    )
                th, tw = self.dilation[0] * (kh - 1), self.dilation[1] * (kw - 1)
                sides = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
        else:
            ph, pw = check_pair("padding", padding, 0)
            sides = (pw, pw, ph, ph)
        if bias is not None:
            bias = check_array("bias", bias, (0, 1) if self.form == 2 else (1,))
            bias = bias.reshape(-1)
            if bias.shape != (c_out,):
                raise ValueError(
                    f"bias must have shape ({c_out},) (one per output channel), got {bias.shape}"
                )
        left, right, top, bottom = sides
        _check_fits("kernel_size", kh, self.dilation[0], height + top + bottom, "height")
        _check_fits("kernel_size", kw, self.dilation[1], width + left + right, "width")
        self.dtype = _float_dtype(x, weight, *(() if bias is None else (bias,)))
        self.x = x.astype(self.dtype, copy=False)
        self.sides = sides
        self.padding_mode = padding_mode
        self.weight = weight.astype(self.dtype, copy=False)
        self.bias = None if bias is None else bias.astype(self.dtype, copy=False)
        padded = (height + top + bottom, width + left + right)
        self.out_hw = conv_output_size(padded, (kh, kw), self.stride, 0, self.dilation)
        # a stride used by one window only, or a dilation of a one-tap kernel, does not matter
        # (torch takes a stride of 2**62; NumPy's strides would overflow)
        self.stride = tuple(1 if self.out_hw[a] == 1 else self.stride[a] for a in range(2))
        self.dilation = tuple(1 if (kh, kw)[a] == 1 else self.dilation[a] for a in range(2))
        # working memory: the output, and per image the padded input (or the shift form's
        # channels-last copy) and the shift form's output rows
        isz = self.dtype.itemsize
        self.out_bytes = n * c_out * self.out_hw[0] * self.out_hw[1] * isz
        self.image_bytes = (c_in + c_out) * padded[0] * padded[1] * isz
        budget = get_memory_budget()
        if sides != (0, 0, 0, 0) and 4 * height * width < padded[0] * padded[1]:
            culprit = f"padding {padding!r}"
        else:
            culprit = f"x of shape {x.shape}"
        check_memory(culprit, self.out_bytes + self.image_bytes, "conv2d")
        # images per chunk: a batch (maybe a broadcast view) is never copied in full
        room = np.inf if budget is None else (budget - self.out_bytes) // 2
        self.chunk = int(max(1, min(n, room // self.image_bytes)))

    def padded(self) -> np.ndarray:
        """The batched input padded as ``padding`` and ``padding_mode`` say."""
        return pad2d(self.x, self.sides, self.padding_mode)

    def finish(self, out: np.ndarray) -> np.ndarray:
        """Give the output the input's form."""
        if self.form == 2:
            return out[0, 0]
        if self.form == 3:
            return out[0]
        return out


def conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: Size = 1,
    padding: Size | str = 0,
    dilation: Size = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
) -> np.ndarray:
    r"""2-D cross-correlation, the ``conv2d`` of deep learning (same numbers as torch).

    With ``x_pad`` the input padded by ``padding`` (filled as ``padding_mode`` says), stride
    ``s``, dilation ``d`` and ``C_g = C_in / groups`` input channels per group, output channel
    ``o`` of group ``g = o // (C_out / groups)`` is

    .. math::
        \mathrm{out}[n, o, i, j] = b[o] + \sum_{c=0}^{C_g-1} \sum_{m=0}^{k_H-1} \sum_{l=0}^{k_W-1}
            x_\mathrm{pad}[n,\, g C_g + c,\, i s_H + m d_H,\, j s_W + l d_W]\; w[o, c, m, l]

    and the output has ``H_out = floor((H + 2 p_H - d_H (k_H - 1) - 1) / s_H) + 1`` rows (the
    same rule for the width). The kernel is not flipped: this is a cross-correlation, as
    ``torch.nn.functional.conv2d``; ``convolve2d`` is the flipped (true) convolution.

    Arguments (PyTorch's names and order):

    - ``x``: ``(N, C_in, H, W)``, ``(C_in, H, W)`` or ``(H, W)``; the output has the same form.
    - ``weight``: ``(C_out, C_in / groups, kH, kW)``, or ``(kH, kW)`` with a 2-D ``x``.
    - ``bias``: ``(C_out,)`` or ``None``.
    - ``stride``, ``dilation``: an int or a pair ``(h, w)``, at least 1.
    - ``padding``: an int, a pair, ``"valid"`` (no padding) or ``"same"`` (output as large as
      the input; needs stride 1; the total ``d (k - 1)`` is split with the extra row/column at
      the bottom/right, as torch does).
    - ``groups``: split the channels into ``groups`` independent convolutions.
    - ``padding_mode``: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``, as
      ``torch.nn.Conv2d`` (see ``pad2d``).

    float32 inputs give a float32 output, float64 (or integer) inputs float64. The work is
    done by matrix products (BLAS), not Python loops over pixels: with stride 1 and at least
    16 input channels per group, by one product per kernel offset, accumulated in place;
    otherwise by one product over the unrolled windows (im2col). ``conv2d_naive`` is the
    same function as plain loops.
    """
    a = _ConvArgs(x, weight, bias, stride, padding, dilation, groups, padding_mode)
    n = a.x.shape[0]
    if a.chunk >= n:
        return a.finish(_conv_batch(a))
    out = np.empty((n, a.weight.shape[0], *a.out_hw), dtype=a.dtype)
    whole = a.x
    for start in range(0, n, a.chunk):
        a.x = whole[start : start + a.chunk]
        out[start : start + a.chunk] = _conv_batch(a)
    return a.finish(out)


def _conv_batch(a: _ConvArgs) -> np.ndarray:
    """``conv2d`` of the images ``a.x``, by the faster method for them (``cnnlib._conv_blas``)."""
    if _conv_blas.method(a.stride, a.weight.shape[1], a.dtype) == "shift":
        if a.padding_mode == "zeros":  # the shift form lays out the zeros itself
            x, sides = a.x, a.sides
        else:
            x, sides = a.padded(), (0, 0, 0, 0)
        return _conv_blas.conv_shift(x, a.weight, a.bias, sides, a.dilation, a.groups, a.out_hw)
    return _conv_blas.conv_im2col(
        a.padded(), a.weight, a.bias, a.stride, a.dilation, a.groups, a.out_hw
    )


def conv2d_naive(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: Size = 1,
    padding: Size | str = 0,
    dilation: Size = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
) -> np.ndarray:
    r"""``conv2d`` written as the loops of its definition (slow, for reading and checking).

    .. math::
        \mathrm{out}[n, o, i, j] = b[o] + \sum_{c, m, l}
            x_\mathrm{pad}[n,\, g C_g + c,\, i s_H + m d_H,\, j s_W + l d_W]\; w[o, c, m, l]

    with ``g = o // (C_out / groups)`` and ``C_g = C_in / groups``. Same arguments, same
    output as ``conv2d``.
    """
    a = _ConvArgs(x, weight, bias, stride, padding, dilation, groups, padding_mode)
    check_memory(f"x of shape {a.x.shape}", a.out_bytes + len(a.x) * a.image_bytes, "conv2d")
    x_pad, w = a.padded(), a.weight
    (sh, sw), (dh, dw) = a.stride, a.dilation
    batch = x_pad.shape[0]
    c_out, c_g, kh, kw = w.shape
    out_per_group = c_out // a.groups
    h_out, w_out = a.out_hw
    b = np.zeros(c_out, dtype=a.dtype) if a.bias is None else a.bias
    out = np.zeros((batch, c_out, h_out, w_out), dtype=a.dtype)
    for n in range(batch):
        for o in range(c_out):
            g = o // out_per_group
            for i in range(h_out):
                for j in range(w_out):
                    window = x_pad[
                        n,
                        g * c_g : (g + 1) * c_g,
                        i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                        j * sw : j * sw + dw * (kw - 1) + 1 : dw,
                    ]
                    out[n, o, i, j] = b[o] + np.sum(window * w[o])
    return a.finish(out)


def _unfold_args(shape, kernel_size, stride, padding, dilation):
    (kh, kw), (sh, sw) = check_pair("kernel_size", kernel_size, 1), check_pair("stride", stride, 1)
    (ph, pw), (dh, dw) = check_pair("padding", padding, 0), check_pair("dilation", dilation, 1)
    c, h, w = shape
    _check_fits("kernel_size", kh, dh, h + 2 * ph, "height")
    _check_fits("kernel_size", kw, dw, w + 2 * pw, "width")
    h_out = conv_output_size(h, kh, sh, ph, dh)
    w_out = conv_output_size(w, kw, sw, pw, dw)
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (h_out, w_out)


def im2col(
    x: np.ndarray,
    kernel_size: Size,
    stride: Size = 1,
    padding: Size = 0,
    dilation: Size = 1,
) -> np.ndarray:
    """Unroll every window of one image into a column: ``X_col`` of shape
    ``(C kH kW, H_out W_out)`` with
    ``X_col[(c, m, l), (i, j)] = x_pad[c, i s_H + m d_H, j s_W + l d_W]`` (zero padding).

    Then ``conv2d(x, w) = (W_row @ X_col).reshape(C_out, H_out, W_out)`` with
    ``W_row = w.reshape(C_out, C kH kW)``: a convolution is one matrix product, the way
    ``conv2d`` computes it. ``x`` is ``(C, H, W)`` or ``(H, W)``; as
    ``torch.nn.functional.unfold`` for one image.
    """
    x = check_array("x", x, (2, 3))
    x3 = x[None] if x.ndim == 2 else x
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (h_out, w_out) = _unfold_args(
        x3.shape, kernel_size, stride, padding, dilation
    )
    c, h, w = x3.shape
    check_memory(
        f"x of shape {x.shape} with kernel_size {(kh, kw)}, stride {(sh, sw)}, padding "
        f"{(ph, pw)}, dilation {(dh, dw)}",
        x.itemsize * c * ((h + 2 * ph) * (w + 2 * pw) + kh * kw * h_out * w_out),
        "the padded image and its columns",
    )
    xp = np.pad(x3, ((0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((x3.shape[0], kh, kw, h_out, w_out), dtype=xp.dtype)
    for m in range(kh):
        for l in range(kw):  # noqa: E741 (the formula's letter)
            r, c = m * dh, l * dw
            cols[:, m, l] = xp[
                :, r : r + sh * (h_out - 1) + 1 : sh, c : c + sw * (w_out - 1) + 1 : sw
            ]
    return cols.reshape(x3.shape[0] * kh * kw, h_out * w_out)


def col2im(
    cols: np.ndarray,
    input_shape: tuple[int, ...],
    kernel_size: Size,
    stride: Size = 1,
    padding: Size = 0,
    dilation: Size = 1,
) -> np.ndarray:
    """The transpose (adjoint) of ``im2col``: add every column back onto the pixels its window
    covered, ``x[c, i s_H + m d_H - p_H, j s_W + l d_W - p_W] += cols[(c, m, l), (i, j)]``
    (the padding is cropped away). Overlapping windows add up.

    This is the backward pass of ``im2col``: with ``cols = W_row.T @ dL/dy`` it gives
    ``dL/dx`` of the convolution. ``input_shape`` is ``(C, H, W)`` or ``(H, W)``; as
    ``torch.nn.functional.fold`` for one image.
    """
    cols = check_array("cols", cols, (2,))
    if not isinstance(input_shape, tuple | list) or len(input_shape) not in (2, 3):
        raise ValueError(f"input_shape must be (C, H, W) or (H, W), got {input_shape!r}")
    shape = tuple(check_int("input_shape[]", v, 1) for v in input_shape)
    shape3 = (1, *shape) if len(shape) == 2 else shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (h_out, w_out) = _unfold_args(
        shape3, kernel_size, stride, padding, dilation
    )
    c, h, w = shape3
    if cols.shape != (c * kh * kw, h_out * w_out):
        raise ValueError(
            f"cols must have shape ({c * kh * kw}, {h_out * w_out}) = (C kH kW, H_out W_out) "
            f"for input_shape {shape}, got {cols.shape}"
        )
    blocks = cols.reshape(c, kh, kw, h_out, w_out)
    xp = np.zeros((c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for m in range(kh):
        for l in range(kw):  # noqa: E741
            r, q = m * dh, l * dw
            xp[:, r : r + sh * (h_out - 1) + 1 : sh, q : q + sw * (w_out - 1) + 1 : sw] += blocks[
                :, m, l
            ]
    out = xp[:, ph : ph + h, pw : pw + w]
    return out[0] if len(shape) == 2 else out


# --------------------------------------------------------------------------------------------
# True convolution
# --------------------------------------------------------------------------------------------


def convolve2d(x: np.ndarray, kernel: np.ndarray, mode: str = "full") -> np.ndarray:
    r"""True 2-D convolution (the kernel is flipped), as ``scipy.signal.convolve2d``.

    .. math::
        (x * k)[i, j] = \sum_{m, l} x[i - m, j - l]\, k[m, l]

    which is the cross-correlation of ``x`` with the kernel turned by 180 degrees. ``mode``:

    - ``"full"``: every overlap, ``(H + kH - 1, W + kW - 1)``;
    - ``"valid"``: only full overlaps, ``(H - kH + 1, W - kW + 1)`` (if the kernel is the larger
      one in both axes, the two swap roles, as in scipy: convolution commutes);
    - ``"same"``: the centre of ``"full"`` with the size of ``x``.
    """
    x = check_array("x", x, (2,))
    kernel = check_array("kernel", kernel, (2,))
    mode = check_choice("mode", mode, ("full", "valid", "same"))
    if 0 in x.shape or 0 in kernel.shape:
        raise ValueError(f"x and kernel must not be empty, got {x.shape} and {kernel.shape}")
    dtype = _float_dtype(x, kernel)
    x, kernel = x.astype(dtype, copy=False), kernel.astype(dtype, copy=False)
    (h, w), (kh, kw) = x.shape, kernel.shape
    flipped = kernel[::-1, ::-1]
    if mode == "valid":
        if kh <= h and kw <= w:
            return conv2d(x, flipped)
        if kh >= h and kw >= w:
            return conv2d(kernel, x[::-1, ::-1])
        raise ValueError(
            f"mode='valid' needs x {x.shape} or kernel {kernel.shape} to be at least as large "
            "as the other in every axis"
        )
    full = conv2d(x, flipped, padding=(kh - 1, kw - 1))
    if mode == "full":
        return full
    top, left = (kh - 1) // 2, (kw - 1) // 2
    return full[top : top + h, left : left + w]


# --------------------------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------------------------


def _pool_setup(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Validated pooling arguments and the batched input."""
    x = check_array("x", x, (2, 3, 4))
    form = x.ndim
    x4 = x.reshape((1,) * (4 - x.ndim) + x.shape)
    if 0 in x4.shape:
        raise ValueError(f"x must not have an empty axis, got shape {x.shape}")
    k = check_pair("kernel_size", kernel_size, 1)
    s = k if stride is None else check_pair("stride", stride, 1)
    p = check_pair("padding", padding, 0)
    d = check_pair("dilation", dilation, 1)
    ceil_mode = check_bool("ceil_mode", ceil_mode)
    for axis in range(2):
        if p[axis] > k[axis] // 2:
            raise ValueError(
                f"padding {p[axis]} must be at most half of kernel_size {k[axis]} "
                f"(torch's rule: padding <= kernel_size // 2)"
            )
    size = x4.shape[2:]
    if not ceil_mode:  # with ceil_mode a window may hang over the end: pool_output_size decides
        for a, axis in enumerate(("height", "width")):
            _check_fits("kernel_size", k[a], d[a], size[a] + 2 * p[a], axis)
    out = pool_output_size(size, k, s, p, d, ceil_mode)
    # a stride that only one window uses does not matter (torch takes a stride of 2**62)
    s = tuple(1 if out[a] == 1 else s[a] for a in range(2))
    return x4, form, k, s, p, d, out


def _pool_taps(n_out: int, k: int, s: int, p: int, d: int, size: int):
    """The taps of each window along one axis that can fall inside the input.

    Window ``i`` reads positions ``i s - p + m d`` for ``m < k``; only those in ``[0, size)``
    matter (padding never wins a max and adds nothing to a sum), and there are at most
    ``T = min(k, ceil(size / d))`` of them, from the first ``m`` with a position ``>= 0``.
    Returns ``pos`` ``(n_out, T)`` with ``size`` (a fill slot) where a tap is outside ``x``.
    A huge window over a small input is therefore a small job, as in torch.
    """
    start = np.arange(n_out, dtype=np.int64) * s - p
    first = np.where(start < 0, start % d, start)  # first position >= 0 of each window
    m0 = (first - start) // d  # its tap number
    taps = min(k, (size - 1) // d + 1)
    t = np.arange(taps, dtype=np.int64)
    pos = first[:, None] + t[None, :] * d
    inside = (pos < size) & (m0[:, None] + t[None, :] < k)
    return np.where(inside, pos, size)


def _pool_gather(x4, k, s, p, d, out, fill, what):
    """``g[n, c, i, j, t, u]``: the taps of window ``(i, j)`` inside ``x`` (``fill`` elsewhere),
    in the row-major order of the window; and the positions ``(rows, cols)`` they read."""
    n, c, h, w = x4.shape
    rows = _pool_taps(out[0], k[0], s[0], p[0], d[0], h)
    cols = _pool_taps(out[1], k[1], s[1], p[1], d[1], w)
    taps = rows.shape[1] * cols.shape[1]
    nbytes = n * c * out[0] * out[1] * taps * x4.itemsize
    culprit = (
        f"kernel_size {k}"
        if taps > 1 and nbytes / taps * 4 <= (get_memory_budget() or np.inf)
        else f"x of shape {x4.shape}"
    )
    check_memory(culprit, 2 * nbytes + 2 * x4.nbytes, f"{what}'s windows")
    x_ext = np.full((n, c, h + 1, w + 1), fill, dtype=x4.dtype)
    x_ext[:, :, :h, :w] = x4
    g = x_ext[:, :, rows[:, None, :, None], cols[None, :, None, :]]
    return g, rows, cols


def _unbatch(y: np.ndarray, form: int) -> np.ndarray:
    return y.reshape(y.shape[4 - form :])


def max_pool2d(
    x: np.ndarray,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    .. math::
        \mathrm{out}[n, c, i, j] = \max_{m < k_H,\ l < k_W}
            x_\mathrm{pad}[n, c,\, i s_H + m d_H,\, j s_W + l d_W]

    where the padding is ``-inf`` (it never wins). The output has
    ``H_out = floor((H + 2 p - d (k - 1) - 1) / s) + 1`` rows (``ceil`` instead of ``floor``
    with ``ceil_mode``, dropping a last window that would start in the bottom/right padding);
    the same for the width. ``stride`` defaults to ``kernel_size``; ``padding`` must be at most
    ``kernel_size // 2``, as in torch.

    With ``return_indices``, also returns where each maximum came from as a flat index
    ``row * W + col`` into the input plane (int64), as torch does (the first maximum in
    row-major window order wins a tie; a NaN wins over numbers, the last NaN over NaNs).
    """
    x4, form, k, s, p, d, out = _pool_setup(x, kernel_size, stride, padding, dilation, ceil_mode)
    return_indices = check_bool("return_indices", return_indices)
    if x4.dtype.itemsize < 4:
        x4 = x4.astype(np.float32)
    g, tap_rows, tap_cols = _pool_gather(x4, k, s, p, d, out, -np.inf, "max_pool2d")
    n, c = x4.shape[:2]
    flat = g.reshape(n, c, out[0], out[1], -1)
    values = flat.max(axis=-1)
    if not return_indices:
        return _unbatch(values, form)
    best = flat.argmax(axis=-1)
    nan = np.isnan(values)
    if nan.any():  # torch keeps the last NaN of a window
        last_nan = flat.shape[-1] - 1 - np.isnan(flat[..., ::-1]).argmax(axis=-1)
        best = np.where(nan, last_nan, best)
    t, u = np.divmod(best, tap_cols.shape[1])
    i = np.arange(out[0])[:, None]
    j = np.arange(out[1])[None, :]
    rows = tap_rows[i, t]
    cols = tap_cols[j, u]
    h, w = x4.shape[2:]
    # a window of -inf only (or all padding) keeps torch's choice: its first tap at or after
    # x's first row and column, outside x when no tap of the window falls inside
    empty = np.isneginf(values)
    if empty.any():
        first_r = _first_inside(np.arange(out[0]) * s[0] - p[0], d[0])[:, None]
        first_c = _first_inside(np.arange(out[1]) * s[1] - p[1], d[1])[None, :]
        rows = np.where(empty, first_r, rows)
        cols = np.where(empty, first_c, cols)
    indices = (rows * w + cols).astype(np.int64)
    return _unbatch(values, form), _unbatch(indices, form)


def _first_inside(start: np.ndarray, dilation: int) -> np.ndarray:
    """First window position ``start + t * dilation`` that is >= 0."""
    return np.where(start < 0, start + (-start + dilation - 1) // dilation * dilation, start)


def avg_pool2d(
    x: np.ndarray,
    kernel_size: Size,
    stride: Size | None = None,
    padding: Size = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    r"""2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    .. math::
        \mathrm{out}[n, c, i, j] = \frac{1}{D_{ij}} \sum_{m < k_H,\ l < k_W}
            x_\mathrm{pad}[n, c,\, i s_H + m,\, j s_W + l]

    with zero padding and the output size of ``max_pool2d`` (dilation 1). The divisor
    ``D_ij`` is the number of window positions inside the padded input
    ``(H + 2 p_H) x (W + 2 p_W)`` with ``count_include_pad`` (a ``ceil_mode`` window that hangs
    over the padded border is clipped), and the number inside ``x`` itself without it.
    """
    x4, form, k, s, p, _, out = _pool_setup(x, kernel_size, stride, padding, 1, ceil_mode)
    count_include_pad = check_bool("count_include_pad", count_include_pad)
    if x4.dtype.itemsize < 4:
        x4 = x4.astype(np.float32)
    g, _, _ = _pool_gather(x4, k, s, p, (1, 1), out, 0.0, "avg_pool2d")
    sums = g.sum(axis=(-2, -1))
    h, w = x4.shape[2:]
    div_h = _window_counts(out[0], k[0], s[0], p[0], h, count_include_pad)
    div_w = _window_counts(out[1], k[1], s[1], p[1], w, count_include_pad)
    return _unbatch(sums / (div_h[:, None] * div_w[None, :]).astype(x4.dtype), form)


def _window_counts(n_out: int, k: int, s: int, p: int, size: int, include_pad: bool):
    """Window lengths along one axis: clipped to the padded input, or to the input itself."""
    k = min(k, size + 2 * p + 1)  # longer windows are clipped to the same length
    start = np.arange(n_out, dtype=np.int64) * s - p
    end = np.minimum(start + k, size + p)
    if include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)
