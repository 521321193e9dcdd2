"""The fast paths of ``cnnlib.conv.conv2d``: BLAS matrix products over blocks and chunks.

Not written to be read by learners (``cnnlib.conv`` is: ``conv2d_naive``, ``pad2d``,
``im2col``, ``col2im`` and ``conv2d``'s definition). Everything here computes the same numbers
as ``conv2d_naive``, only faster: ``conv_shift`` (one product per kernel offset, stride 1) and
``conv_im2col`` (one product over the unrolled windows), chosen by ``method``; the block and
chunk sizes were measured with ``benchmarks/bench_conv.py``. Arguments arrive validated by
``cnnlib.conv``; as in CS231n's ``layers.py`` / ``fast_layers.py``, the fast module is a
separate file from the one that teaches.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy.linalg import blas


def method(stride: tuple[int, int], c_g: int, dtype: np.dtype) -> str:
    """``"shift"`` (one product per kernel offset) or ``"im2col"`` (one product over windows).

    The shift form needs stride 1 and pays off when each product is large enough: at least 16
    input channels per group. Otherwise unrolling the windows is cheap and one product wins.
    Inside im2col, stride 1 with ``W_out < 64`` unrolls along the flattened padded rows (long
    contiguous copies), wider outputs unroll the windows themselves (no extra output copy).
    Measured on the benchmark layers (benchmarks/bench_conv.py), all float32, 2 cores:
    the shift form runs the 3x3 layers with 64 and 128 channels and the dilated 5x5 layer
    with 32; im2col runs the 3-channel 224x224 layer and the 1-channel 28x28 batch (flattened).
    """
    blas_dtype = dtype in (np.float32, np.float64)  # sgemm/dgemm; longdouble needs matmul
    return "shift" if stride == (1, 1) and c_g >= 16 and blas_dtype else "im2col"


def conv_shift(x, w, bias, sides, dilation, groups, out_hw) -> np.ndarray:
    """Stride-1 convolution as a sum of ``kH * kW`` matrix products, accumulated in place.

    The input is stored channels-last and flattened to rows of ``C_g`` channels, with rows of
    zeros around each image row and image: input pixel ``(n, y, x)`` is row
    ``r0 + n S_img + y S_row + x``. Output pixel ``(n, i, j)`` is row ``q = n S_img + i S_row + j``
    of the output, and its kernel offset ``(m, l)`` reads input row ``q + base + off`` with
    ``off = m d_H S_row + l d_W``: for each offset a contiguous block of rows, so each product
    runs on views, without copies. With zero padding, the ``max(left, right)`` zero columns
    between two image rows serve as the right border of one and the left border of the next
    (and likewise the zero rows between images), so fewer rows are computed and thrown away.

    ``x`` is ``(N, C_in, H, W)`` before zero padding, ``sides = (left, right, top, bottom)``
    the zeros around it (another padding mode arrives padded, with ``sides`` all 0).
    """
    c_out, c_g, kh, kw = w.shape
    o_g = c_out // groups
    (dh, dw), (h_out, w_out) = dilation, out_hw
    left, right, top, bottom = sides
    dtype = x.dtype
    n, c_in, height, width = x.shape
    gap_x = shared_gap(left, right, dw * (kw - 1))
    gap_y = shared_gap(top, bottom, dh * (kh - 1))
    s_row = width + gap_x
    s_img = (height + gap_y) * s_row
    r0 = gap_y * s_row + gap_x  # row of input pixel (0, 0, 0)
    base = r0 - top * s_row - left  # input row read by output row 0 at offset (0, 0)
    needed = (n - 1) * s_img + (h_out - 1) * s_row + w_out
    total = max(r0 + n * s_img, base + needed + dh * (kh - 1) * s_row + dw * (kw - 1))
    # group-major, channels-last input with its zero gaps: flat[g, row, c]
    flat = np.zeros((groups, total, c_g), dtype=dtype)
    images = flat[:, r0 : r0 + n * s_img].reshape(groups, n, height + gap_y, s_row, c_g)
    x5 = x.reshape(n, groups, c_g, height, width).transpose(1, 0, 3, 4, 2)
    assign_in_blocks(images[:, :, :height, :width], x5, 1, 2)
    # wk[g, m, l] is the (C_g, O_g) matrix of kernel offset (m, l) in group g
    wk = np.ascontiguousarray(w.reshape(groups, o_g, c_g, kh, kw).transpose(0, 3, 4, 2, 1))
    out = np.empty((groups, n * s_img, o_g), dtype=dtype)
    gemm = gemm_for(dtype)
    # blocks of rows whose output stays in the cache through all kH kW products
    step = SHIFT_BLOCK_ROWS
    for g in range(groups):
        for start in range(0, needed, step):
            stop = min(start + step, needed)
            # column-major view of out[g][start:stop] (BLAS: C = alpha A B + beta C in place)
            acc = out[g, start:stop].T
            for m in range(kh):
                for l in range(kw):
                    off = base + m * dh * s_row + l * dw
                    block = flat[g, start + off : stop + off]
                    beta = 0.0 if m == l == 0 else 1.0
                    gemm(1.0, wk[g, m, l].T, block.T, beta=beta, c=acc, overwrite_c=1)
    result = np.empty((n, c_out, h_out, w_out), dtype=dtype)
    out6 = out.reshape(groups, n, height + gap_y, s_row, o_g)[:, :, :h_out, :w_out]
    bias = None if bias is None else bias.reshape(groups, o_g, 1, 1)
    assign_in_blocks(
        result.reshape(n, groups, o_g, h_out, w_out), out6.transpose(1, 0, 4, 2, 3), 0, 3, bias
    )
    return result


def shared_gap(before: int, after: int, span: int) -> int:
    """Zeros between two image rows (or images) that pad both: ``max(before, after)``.

    One gap serves as the ``after`` border of one row and the ``before`` border of the next.
    That works while the output is no longer than the data plus the gap,
    ``before + after - span <= max(before, after)``; otherwise the gap holds both borders.
    """
    return max(before, after) if min(before, after) <= span else before + after


BLOCK_BYTES = 256 * 2**10
# Rows per block of the shift form's products. Measured on a 2-core AVX-512 machine: about 7%
# faster for the 5x5 dilated layer of the benchmark (25 products with few channels, where
# re-reading the whole output for each product costs), no change for the 3x3 layers.
SHIFT_BLOCK_ROWS = 8192


def assign_in_blocks(
    dst: np.ndarray, src: np.ndarray, batch_axis: int, row_axis: int, add=None
) -> None:
    """``dst[...] = src`` (``+ add`` if given, for one image), one image, a few rows at a time.

    Moving channels to the last axis (or back) reads one array with a large stride; done in
    blocks that fit in the cache, the copy is many times faster than in one go.
    """
    per_row = dst.size // (dst.shape[batch_axis] * dst.shape[row_axis]) * dst.itemsize
    step = max(1, BLOCK_BYTES // max(per_row, 1))
    index = [slice(None)] * dst.ndim
    for b in range(dst.shape[batch_axis]):
        index[batch_axis] = b
        for r in range(0, dst.shape[row_axis], step):
            index[row_axis] = slice(r, r + step)
            if add is None:
                dst[tuple(index)] = src[tuple(index)]
            else:
                np.add(src[tuple(index)], add, out=dst[tuple(index)])


def gemm_for(dtype: np.dtype):
    return blas.sgemm if dtype == np.float32 else blas.dgemm


# Unroll at most this many bytes of windows at a time: a chunk that stays in the L2 cache
# between being written and being multiplied is much faster than one long pass through memory.
IM2COL_BYTES = 512 * 2**10


def conv_im2col(x_pad, w, bias, stride, dilation, groups, out_hw):
    """Unroll the windows into columns (im2col) and multiply by the weight matrix.

    ``cols[n, g, (c, m, l), (i, j)] = x_pad[n, g C_g + c, i s_H + m d_H, j s_W + l d_W]`` and
    ``out[n, g] = W_g @ cols[n, g]`` with ``W_g`` the ``(O_g, C_g kH kW)`` weights of group
    ``g``: all groups in one batched product, a few images at a time to bound the memory.
    A bias is one more column of ``W_g`` against a row of ones in ``cols``.

    With stride 1 and narrow images (``W_out < 64``) the columns run over the flattened
    padded image instead: column ``q = i W_pad + j`` of offset ``(m, l)`` is
    ``x_flat[q + m d_H W_pad + l d_W]``, so each row of ``cols`` is one contiguous slice rather
    than ``H_out`` short rows (copying short rows is slow). The columns with ``j >= W_out`` mix
    two image rows; they are computed and thrown away, which costs one more copy of the output:
    for wide images that copy costs more than the short rows save.
    """
    (sh, sw), (dh, dw) = stride, dilation
    n, c_in, _, w_pad = x_pad.shape
    c_out, c_g, kh, kw = w.shape
    h_out, w_out = out_hw
    o_g = c_out // groups
    flat = stride == (1, 1) and w_out < 64
    if flat:
        x_pad = np.ascontiguousarray(x_pad)
        # columns q < length hold every output pixel; windows of later q would leave x_pad
        width, length = w_pad, h_out * w_pad - dw * (kw - 1)
        sn, sc, sy, sx = x_pad.strides
        windows = as_strided(
            x_pad,
            shape=(n, groups, c_g, kh, kw, length),
            strides=(sn, sc * c_g, sc, sy * dh, sx * dw, sx),
            writeable=False,
        )
    else:
        width, length = w_out, h_out * w_out
        sn, sc, sy, sx = x_pad.strides
        windows = as_strided(
            x_pad,
            shape=(n, groups, c_g, kh, kw, h_out, w_out),
            strides=(sn, sc * c_g, sc, sy * dh, sx * dw, sy * sh, sx * sw),
            writeable=False,
        )
    k = c_g * kh * kw
    rows = k if bias is None else k + 1
    w_mat = np.empty((groups, o_g, rows), dtype=x_pad.dtype)
    w_mat[:, :, :k] = w.reshape(groups, o_g, k)
    result = np.empty((n, c_out, h_out, w_out), dtype=x_pad.dtype)
    step = max(1, IM2COL_BYTES // (groups * rows * length * x_pad.itemsize))
    cols = np.empty((min(step, n), groups, rows, length), dtype=x_pad.dtype)
    # the products land in ``result`` directly, or (flattened rows) in a wider scratch block
    wide = np.empty((min(step, n), groups, o_g, h_out * width), dtype=x_pad.dtype) if flat else None
    if bias is not None:
        w_mat[:, :, k] = bias.reshape(groups, o_g)
        cols[:, :, k] = 1.0
    for start in range(0, n, step):
        chunk = windows[start : start + step]
        part = cols[: len(chunk)]
        np.reshape(part[:, :, :k], chunk.shape, copy=False)[...] = chunk  # a view: fills cols
        if flat:
            np.matmul(w_mat, part, out=wide[: len(chunk), :, :, :length])
            block = wide[: len(chunk)].reshape(len(chunk), c_out, h_out, width)
            result[start : start + step] = block[..., :w_out]
        else:
            dst = result[start : start + step].reshape(len(chunk), groups, o_g, length)
            np.matmul(w_mat, part, out=dst)
    return result
