"""Shifts, equivariance errors and shift consistency: Property 1 as a measurement.

A layer ``f`` is *shift-equivariant* when shifting its input shifts its output,
``f(shift(x, dy, dx)) = shift(f(x), dy, dx)``. A convolution with circular padding is exactly
equivariant; zero padding breaks it at the borders; stride and pooling break it for shifts that
are not multiples of the stride (aliasing). Blurring before subsampling (``blur_pool2d``,
Zhang 2019, "Making Convolutional Networks Shift-Invariant Again") repairs much of it.

``f`` is *shift-invariant* when the output does not change at all, ``f(shift(x)) = f(x)``
(``invariance_error``); pooling is so only locally and approximately (``pooling_invariance``),
global pooling on a torus exactly, for shifts that are multiples of the total stride.

Notebook 05's trained example: two small CNNs on the shifted digits that differ only in how
they downsample (``shift_cnn``: ``MaxPool2d(2)`` or Zhang's MaxBlurPool), trained by
``train_shift_cnns`` and shipped in ``cnnlib/weights/shift_cnns.pt`` (``make weights``, which
runs ``python -m cnnlib.equivariance``), read back by ``load_shift_cnns``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnlib._validate import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_memory,
    check_pair,
)
from cnnlib.conv import conv2d
from cnnlib.shapes import conv_output_size

__all__ = [
    "SHIFT_RECIPE",
    "SHIFT_WEIGHTS",
    "BlurPool2d",
    "accuracy_by_shift",
    "binomial_filter",
    "blur_pool2d",
    "conv2d_matrix",
    "equivariance_error",
    "interior_is_empty",
    "invariance_error",
    "load_shift_cnns",
    "output_shifts",
    "plot_conv2d_matrices",
    "pooling_invariance",
    "pooling_invariance_table",
    "save_shift_cnns",
    "shift",
    "shift_cnn",
    "shift_consistency",
    "shifted_digits",
    "train_shift_cnns",
]

SHIFT_MODES = ("circular", "zeros")


def shift(x: np.ndarray, dy: int, dx: int, mode: str = "circular") -> np.ndarray:
    """Shift the last two axes of ``x`` down by ``dy`` rows and right by ``dx`` columns.

    ``out[..., i, j] = x[..., i - dy, j - dx]``: with ``mode="circular"`` the indices wrap
    around (``np.roll``); with ``mode="zeros"`` cells shifted in from outside are 0.
    Negative shifts move up / left.
    """
    x = check_array("x", x, (2, 3, 4, 5))
    dy = check_int("dy", dy)
    dx = check_int("dx", dx)
    mode = check_choice("mode", mode, SHIFT_MODES)
    out = np.roll(x, (dy, dx), axis=(-2, -1))
    if mode == "zeros":
        h, w = x.shape[-2:]
        if dy > 0:
            out[..., : min(dy, h), :] = 0
        elif dy < 0:
            out[..., max(h + dy, 0) :, :] = 0
        if dx > 0:
            out[..., :, : min(dx, w)] = 0
        elif dx < 0:
            out[..., :, max(w + dx, 0) :] = 0
    return out


def _as_array(name: str, value: object) -> np.ndarray:
    return check_array(name, value, (2, 3, 4, 5))


def output_shifts(d: int, stride: int) -> tuple[int, ...]:
    """The whole-cell output shifts that match an input shift ``d`` through stride ``s``:
    ``floor(d / s)`` and ``ceil(d / s)``, sorted (one value when ``s`` divides ``d``).

    >>> output_shifts(3, 2), output_shifts(-3, 2), output_shifts(4, 2)
    ((1, 2), (-2, -1), (2,))
    """
    d = check_int("d", d)
    s = check_int("stride", stride, 1)
    return tuple(sorted({d // s, -(-d // s)}))


def interior_is_empty(
    shape: tuple[int, int], dy: int, dx: int, stride: tuple[int, int], margin: int
) -> bool:
    """Whether ``equivariance_error(..., region="interior")`` has no cell left to compare.

    The interior drops ``|o| + margin`` cells at each border of an ``(h, w)`` output, for each
    candidate output shift ``o`` of an input shift ``d`` (``floor(d / s)`` and ``ceil(d / s)``);
    it is empty when that covers the output along an axis: ``2 (|o| + margin) >= size``.
    """
    shape = check_pair("shape", shape, 1)
    dy, dx = check_int("dy", dy), check_int("dx", dx)
    stride = check_pair("stride", stride, 1)
    margin = check_int("margin", margin, 0)
    for d, s, size in ((dy, stride[0], shape[0]), (dx, stride[1], shape[1])):
        if any(2 * (abs(o) + margin) >= size for o in output_shifts(d, s)):
            return True
    return False


def equivariance_error(
    f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    dy: int,
    dx: int,
    mode: str = "circular",
    region: str = "full",
    margin: int | None = None,
    stride: int | tuple[int, int] = 1,
) -> float:
    """Relative equivariance error ``||f(shift(x)) - shift(f(x))|| / ||shift(f(x))||``.

    ``f`` maps an array whose last two axes are spatial to another such array. The input is
    shifted by ``(dy, dx)`` (``mode`` as in ``shift``); the output of a layer with ``stride`` s
    is compared with ``f(x)`` shifted by ``(dy / s, dx / s)``. When a shift is not a multiple of
    the stride no whole-cell output shift exists: the error is then measured against the nearer
    of the two candidates ``floor(d / s)`` and ``ceil(d / s)`` on each axis (the smaller error),
    so a non-zero value cannot be blamed on the choice of the output shift -- it is aliasing.

    ``region="full"`` compares every output cell; ``region="interior"`` drops
    ``|output shift| + margin`` cells at every border (``margin``: how far ``f`` reaches, e.g.
    ``kernel_size // 2``; default 1), which removes the cells a border or the wrap-around seam
    can touch. Returns 0.0 if both sides are zero.
    """
    if not callable(f):
        raise TypeError(f"f must be a callable, got {type(f).__name__}")
    x = _as_array("x", x)
    dy = check_int("dy", dy)
    dx = check_int("dx", dx)
    mode = check_choice("mode", mode, SHIFT_MODES)
    region = check_choice("region", region, ("full", "interior"))
    margin = 1 if margin is None else check_int("margin", margin, 0)
    sy, sx = check_pair("stride", stride, 1)
    y = _as_array("f(x)", f(x))
    y_shifted = _as_array("f(shift(x))", f(shift(x, dy, dx, mode)))
    if y.shape != y_shifted.shape:
        raise ValueError(
            f"f changed its output shape under a shift: {y.shape} vs {y_shifted.shape}"
        )
    best = np.inf
    for oy in output_shifts(dy, sy):
        for ox in output_shifts(dx, sx):
            ref = shift(y, oy, ox, mode)
            a, b = y_shifted, ref
            if region == "interior":
                h, w = y.shape[-2:]
                my, mx = abs(oy) + margin, abs(ox) + margin
                if interior_is_empty((h, w), dy, dx, (sy, sx), margin):
                    raise ValueError(
                        f"the interior is empty: margin {margin} plus the output shift "
                        f"({oy}, {ox}) covers the whole {h}x{w} output"
                    )
                a = a[..., my : h - my, mx : w - mx]
                b = b[..., my : h - my, mx : w - mx]
            num = float(np.linalg.norm(a - b))
            den = float(np.linalg.norm(b))
            err = 0.0 if num == 0 else (num / den if den > 0 else np.inf)
            best = min(best, err)
    return best


def invariance_error(
    f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    dy: int,
    dx: int,
    mode: str = "circular",
) -> float:
    """Relative invariance error ``||f(shift(x)) - f(x)|| / ||f(x)||``: how much the output
    changes when the input is shifted by ``(dy, dx)`` (``mode`` as in ``shift``). Unlike
    ``equivariance_error`` the output is not shifted back: 0 means ``f`` did not notice the
    shift at all. Returns 0.0 if both sides are zero.
    """
    if not callable(f):
        raise TypeError(f"f must be a callable, got {type(f).__name__}")
    x = _as_array("x", x)
    dy, dx = check_int("dy", dy), check_int("dx", dx)
    mode = check_choice("mode", mode, SHIFT_MODES)
    y = _as_array("f(x)", f(x))
    y_shifted = _as_array("f(shift(x))", f(shift(x, dy, dx, mode)))
    if y.shape != y_shifted.shape:
        raise ValueError(
            f"f changed its output shape under a shift: {y.shape} vs {y_shifted.shape}"
        )
    num, den = float(np.linalg.norm(y_shifted - y)), float(np.linalg.norm(y))
    return 0.0 if num == 0 else (num / den if den > 0 else float("inf"))


def _check_sequence(name: str, value: object) -> list:
    """``value`` as a list: a list, tuple or 1-D array (not a string, set or scalar)."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return list(value)
    if not isinstance(value, list | tuple):
        raise TypeError(f"{name} must be a list of integers, got {type(value).__name__}")
    return list(value)


def pooling_invariance(
    images: np.ndarray,
    kernel_sizes: Sequence[int],
    shifts: Sequence[int],
    kind: str = "max",
) -> dict[str, np.ndarray]:
    """How invariant ``k x k`` pooling with stride ``k`` is to horizontal circular shifts.

    For every ``k`` in ``kernel_sizes`` and ``d`` in ``shifts``, over the ``(B, H, W)``
    ``images``: ``"error"[i, j]``, the mean over images of
    ``invariance_error(pool_k, image, 0, d)``, and ``"unchanged"[i, j]``, the fraction of
    pooled values that stay exactly equal (``pool_k(shift(x)) == pool_k(x)`` cell by cell).
    ``kind`` is ``"max"`` or ``"avg"``; ``k`` must divide ``H`` and ``W`` (a torus of windows).
    """
    from cnnlib.conv import avg_pool2d, max_pool2d

    images = check_array("images", images, (3,))
    kind = check_choice("kind", kind, ("max", "avg"))
    pool = max_pool2d if kind == "max" else avg_pool2d
    h, w = images.shape[1:]
    sizes = [
        check_int("kernel_sizes[]", k, 1) for k in _check_sequence("kernel_sizes", kernel_sizes)
    ]
    for k in sizes:
        if h % k or w % k:
            raise ValueError(f"kernel_sizes: {k} must divide the image size {h}x{w}")
    moves = [check_int("shifts[]", d) for d in _check_sequence("shifts", shifts)]
    error = np.zeros((len(sizes), len(moves)))
    unchanged = np.zeros_like(error)
    for i, k in enumerate(sizes):
        pooled = pool(images, k)
        for j, d in enumerate(moves):
            moved = pool(shift(images, 0, d), k)
            error[i, j] = np.mean(
                [invariance_error(lambda v, k=k: pool(v, k), im, 0, d) for im in images]
            )
            unchanged[i, j] = np.mean(moved == pooled)
    return {"error": error, "unchanged": unchanged}


def pooling_invariance_table(
    results: Mapping[str, Mapping[str, np.ndarray]],
    kernel_sizes: Sequence[int],
    shifts: Sequence[int],
    unchanged: str | None = "max",
) -> str:
    """``pooling_invariance``'s results as a text table: ``results`` maps a kind (``"max"``,
    ``"avg"``) to what ``pooling_invariance(images, kernel_sizes, shifts, kind)`` returned.

    One row per kind and pool size ``k x k`` with its ``"error"`` at every shift (a column per
    shift); then, for the kind ``unchanged`` (``None``: none), one row per pool size with the
    fraction of pooled values exactly unchanged.
    """
    sizes = [
        check_int("kernel_sizes[]", k, 1) for k in _check_sequence("kernel_sizes", kernel_sizes)
    ]
    moves = [check_int("shifts[]", d) for d in _check_sequence("shifts", shifts)]
    if not isinstance(results, Mapping) or not results:
        raise TypeError("results must be a non-empty dict: kind -> pooling_invariance(...)")
    if unchanged is not None and unchanged not in results:
        raise ValueError(f"unchanged must be None or one of {list(results)}, got {unchanged!r}")
    for kind, result in results.items():
        for key in ("error", "unchanged"):
            shape = np.shape(result[key]) if isinstance(result, Mapping) and key in result else None
            if shape != (len(sizes), len(moves)):
                raise ValueError(
                    f"results[{kind!r}][{key!r}] must have shape ({len(sizes)}, {len(moves)}), "
                    f"one row per kernel size and one column per shift, got {shape}"
                )
    lines = [f"{'':12}" + "".join(f"{d:>7}" for d in moves)]
    for kind, result in results.items():
        for i, k in enumerate(sizes):
            row = "".join(f"{e:>7.3f}" for e in result["error"][i])
            lines.append(f"{kind} {k:>2}x{k:<2}   " + row)
    if unchanged is not None:
        lines += ["", f"{unchanged} pooling, fraction of pooled values exactly unchanged:"]
        for i, k in enumerate(sizes):
            row = "".join(f"{u:>7.2f}" for u in results[unchanged]["unchanged"][i])
            lines.append(f"    {k:>2}x{k:<2}   " + row)
    return "\n".join(lines)


def shift_consistency(
    classifier: Callable[[np.ndarray], np.ndarray],
    images: np.ndarray,
    shifts: int | Sequence[tuple[int, int]],
    mode: str = "circular",
    seed: int = 0,
) -> float:
    """Fraction of predictions that a shift leaves unchanged (Zhang 2019).

    ``classifier`` maps a batch ``(N, ..., H, W)`` to scores ``(N, K)`` (the prediction is the
    argmax) or to labels ``(N,)``. With an int ``shifts = m``: Zhang's consistency, the fraction
    of images whose predictions at two random shifts ``(h1, w1)``, ``(h2, w2)`` drawn uniformly
    from ``[-m, m]`` agree (seeded by ``seed``). With a sequence of ``(dy, dx)``: the fraction of
    (image, shift) pairs whose prediction equals the prediction for the unshifted image.
    """
    if not callable(classifier):
        raise TypeError(f"classifier must be a callable, got {type(classifier).__name__}")
    images = check_array("images", images, (3, 4))
    mode = check_choice("mode", mode, SHIFT_MODES)

    def predict(batch: np.ndarray) -> np.ndarray:
        return _predictions(classifier, batch)

    def shifted(batch: np.ndarray, dys: np.ndarray, dxs: np.ndarray) -> np.ndarray:
        return np.stack(
            [shift(im, int(a), int(b), mode) for im, a, b in zip(batch, dys, dxs, strict=True)]
        )

    seed = check_int("seed", seed, 0)
    n = images.shape[0]
    if isinstance(shifts, (int, np.integer)) and not isinstance(shifts, bool):
        m = check_int("shifts", shifts, 0)
        rng = np.random.default_rng(seed)
        s1 = rng.integers(-m, m + 1, size=(2, n))
        s2 = rng.integers(-m, m + 1, size=(2, n))
        p1 = predict(shifted(images, s1[0], s1[1]))
        p2 = predict(shifted(images, s2[0], s2[1]))
        return float(np.mean(p1 == p2))
    if not isinstance(shifts, (list, tuple)):
        raise TypeError(
            f"shifts must be an int or a list of (dy, dx) pairs, got {type(shifts).__name__}"
        )
    for k, s in enumerate(shifts):  # check_pair would take an int v as (v, v): (2, 3) is not
        if not isinstance(s, (list, tuple)) or len(s) != 2:  # two shifts (2, 2) and (3, 3)
            raise TypeError(f"shifts[{k}] must be a (dy, dx) pair, got {s!r}")
    pairs = [check_pair(f"shifts[{k}]", s) for k, s in enumerate(shifts)]
    if not pairs:
        raise ValueError("shifts must hold at least one (dy, dx) pair")
    base = predict(images)
    same = [predict(shifted(images, np.full(n, a), np.full(n, b))) == base for a, b in pairs]
    return float(np.mean(same))


def _predictions(classifier: Callable[[np.ndarray], np.ndarray], batch: np.ndarray) -> np.ndarray:
    """The labels ``classifier`` predicts for ``batch``: the argmax of ``(N, K)`` scores, or
    its ``(N,)`` labels as they are; anything else is refused by name."""
    out = classifier(batch)
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    out = np.asarray(out)
    if out.ndim not in (1, 2):
        raise ValueError(f"classifier must return (N, K) scores or (N,) labels, got {out.shape}")
    if out.shape[0] != len(batch):
        raise ValueError(
            f"classifier must return one prediction per image: {len(batch)} images gave "
            f"an output of shape {out.shape}"
        )
    return out.argmax(axis=1) if out.ndim == 2 else out


def accuracy_by_shift(
    classifier: Callable[[np.ndarray], np.ndarray],
    images: np.ndarray,
    labels: np.ndarray,
    shifts: Sequence[tuple[int, int]],
    mode: str = "zeros",
) -> np.ndarray:
    """Accuracy of ``classifier`` on ``images`` shifted by each ``(dy, dx)`` of ``shifts``:
    ``acc[k] = mean_n [predict(shift(images, dy_k, dx_k))[n] == labels[n]]``.

    ``classifier`` is as in ``shift_consistency`` (scores or labels for a batch
    ``(N, ..., H, W)``); ``mode`` fills what a shift brings in (``"zeros"``: blank, as a digit
    moved on its page). A trained classifier that is shift-invariant gives a flat row.
    """
    if not callable(classifier):
        raise TypeError(f"classifier must be a callable, got {type(classifier).__name__}")
    images = check_array("images", images, (3, 4))
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integer class labels, got dtype {labels.dtype}")
    if labels.shape != images.shape[:1]:
        raise ValueError(
            f"labels must have shape ({len(images)},), one label per image, got {labels.shape}"
        )
    mode = check_choice("mode", mode, SHIFT_MODES)
    if not isinstance(shifts, list | tuple):
        raise TypeError(f"shifts must be a list of (dy, dx) pairs, got {type(shifts).__name__}")
    for k, s in enumerate(shifts):
        if not isinstance(s, list | tuple) or len(s) != 2:
            raise TypeError(f"shifts[{k}] must be a (dy, dx) pair, got {s!r}")
    pairs = [check_pair(f"shifts[{k}]", s) for k, s in enumerate(shifts)]
    return np.array(
        [np.mean(_predictions(classifier, shift(images, a, b, mode)) == labels) for a, b in pairs]
    )


def binomial_filter(size: int = 3) -> np.ndarray:
    """The normalised 2-D binomial filter: the outer product of row ``size-1`` of Pascal's triangle.

    ``size=3`` gives ``[1, 2, 1]^T [1, 2, 1] / 16``, a cheap approximation of a Gaussian blur.
    """
    size = check_int("size", size, 1)
    check_memory(f"size {size}", 2.0 * size * size * 8, "the filter")
    if size <= 1024:  # exact: the integer coefficients of Pascal's triangle
        row = np.array([1.0])
        for _ in range(size - 1):
            row = np.convolve(row, [1.0, 1.0])
    else:  # the coefficients overflow float64 beyond row 1029: the binomial pmf instead
        from scipy.stats import binom

        row = binom.pmf(np.arange(size), size - 1, 0.5)
    k = np.outer(row, row)
    return k / k.sum()


def blur_pool2d(
    x: np.ndarray, stride: int = 2, filter_size: int = 3, padding_mode: str = "circular"
) -> np.ndarray:
    """Anti-aliased subsampling: blur each channel with ``binomial_filter(filter_size)``,
    then keep every ``stride``-th row and column.

    ``y[c] = (x[c] * B)[::stride, ::stride]`` with ``B`` the binomial filter, padded by
    ``padding_mode`` so that the blur keeps the size (as Zhang's BlurPool). ``x`` is
    ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``.
    """
    x = check_array("x", x, (2, 3, 4))
    stride = check_int("stride", stride, 1)
    filter_size = check_int("filter_size", filter_size, 1)
    check_memory(f"filter_size {filter_size}", 2.0 * filter_size**2 * 8, "the blur filter")
    padding_mode = check_choice("padding_mode", padding_mode, ("circular", "zeros", "reflect"))
    kernel = binomial_filter(filter_size)
    lo = (filter_size - 1) // 2
    hi = filter_size - 1 - lo
    x4 = x.reshape((1,) * (4 - x.ndim) + x.shape)
    pad_mode = {"circular": "wrap", "zeros": "constant", "reflect": "reflect"}[padding_mode]
    xp = np.pad(x4, ((0, 0), (0, 0), (lo, hi), (lo, hi)), mode=pad_mode)
    c = x4.shape[1]
    weight = np.broadcast_to(kernel, (c, 1, filter_size, filter_size)).astype(x.dtype)
    y = conv2d(xp, weight, stride=stride, groups=c)
    return y.reshape(x.shape[:-2] + y.shape[-2:])


class BlurPool2d(nn.Module):
    """Torch module of ``blur_pool2d``: a fixed depthwise binomial blur with stride.

    Its padding defaults to ``"reflect"`` (as in Zhang's MaxBlurPool, inside networks), while
    ``blur_pool2d`` defaults to ``"circular"`` (exact shift arithmetic on a torus); with the same
    ``padding_mode`` the two compute the same numbers.

    Replaces a strided subsampling step: ``MaxPool2d(2)`` becomes
    ``nn.Sequential(nn.MaxPool2d(2, stride=1), BlurPool2d(channels))`` (Zhang's MaxBlurPool).
    """

    def __init__(
        self, channels: int, stride: int = 2, filter_size: int = 3, padding_mode: str = "reflect"
    ):
        super().__init__()
        self.channels = check_int("channels", channels, 1)
        self.stride = check_int("stride", stride, 1)
        filter_size = check_int("filter_size", filter_size, 1)
        self.padding_mode = check_choice(
            "padding_mode", padding_mode, ("circular", "zeros", "reflect")
        )
        lo = (filter_size - 1) // 2
        self.pad = (lo, filter_size - 1 - lo, lo, filter_size - 1 - lo)
        kernel = torch.tensor(binomial_filter(filter_size), dtype=torch.float32)
        self.register_buffer("kernel", kernel.expand(self.channels, 1, -1, -1).clone())

    def extra_repr(self) -> str:
        size = self.kernel.shape[-1]
        return (
            f"{self.channels}, stride={self.stride}, filter_size={size}, "
            f"padding_mode={self.padding_mode!r}"
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mode = {"zeros": "constant"}.get(self.padding_mode, self.padding_mode)
        x = nn.functional.pad(x, self.pad, mode=mode)
        k = self.kernel.to(x.dtype)
        return nn.functional.conv2d(x, k, stride=self.stride, groups=self.channels)


def conv2d_matrix(
    weight: np.ndarray,
    input_shape: tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    padding_mode: str = "zeros",
) -> np.ndarray:
    """The matrix ``A`` of a single-channel convolution: ``A @ x.ravel() == conv2d(x, w).ravel()``.

    Row ``(i, j)`` holds the kernel at the columns of the input cells its window covers:
    ``A[i*W_out + j, r*W + c] += w[m, n]`` with ``(r, c) = (s*i + m - p, s*j + n - p)``, dropped
    outside the input (``"zeros"``) or wrapped around (``"circular"``). Every row holds the same
    kH*kW numbers (parameter sharing) and is zero outside one window (local connectivity): for
    stride 1 the matrix is doubly block-Toeplitz, and doubly block-circulant when circular.
    """
    w = check_array("weight", weight, (2,))
    h, wd = check_pair("input_shape", input_shape, 1)
    sh, sw = check_pair("stride", stride, 1)
    ph, pw = check_pair("padding", padding, 0)
    padding_mode = check_choice("padding_mode", padding_mode, ("zeros", "circular"))
    kh, kw = w.shape
    if kh > h + 2 * ph or kw > wd + 2 * pw:
        raise ValueError(
            f"weight {w.shape} is larger than the padded input {(h + 2 * ph, wd + 2 * pw)}"
        )
    ho, wo = conv_output_size((h, wd), (kh, kw), (sh, sw), (ph, pw))
    culprit = "padding" if ho * wo > 4 * h * wd else f"input_shape {(h, wd)}"
    check_memory(culprit, 1.0 * ho * wo * h * wd * w.itemsize, "the matrix")
    a = np.zeros((ho * wo, h * wd), dtype=w.dtype)
    for i in range(ho):
        for j in range(wo):
            for m in range(kh):
                for n in range(kw):
                    r, c = sh * i + m - ph, sw * j + n - pw
                    if padding_mode == "circular":
                        r, c = r % h, c % wd
                    elif not (0 <= r < h and 0 <= c < wd):
                        continue
                    a[i * wo + j, r * wd + c] += w[m, n]
    return a


def plot_conv2d_matrices(
    matrices: Mapping[str, np.ndarray], block: int | tuple[int, int], height: float = 4.6
):
    """Draw matrices of ``conv2d_matrix`` side by side, one title (the key) each, and return
    the pyplot figure.

    Zero entries stay blank; every other entry is coloured by its value, with one colour bar
    for all (a step per integer when every value is an integer, as the taps 1..9). Thin lines
    every ``block = (rows, columns)`` entries mark the blocks: with ``block`` the output and
    the input width, one block row per output row, one block column per input row of the
    image. ``height`` is the figure's height in inches.
    """
    import matplotlib.pyplot as plt

    from cnnlib.plotting import MUTED

    if not isinstance(matrices, Mapping) or not matrices:
        raise TypeError("matrices must be a non-empty dict: title -> matrix")
    arrays = {str(t): check_array(f"matrices[{t!r}]", a, (2,)) for t, a in matrices.items()}
    rows, cols = check_pair("block", block, 1)
    if not isinstance(height, float | int) or not 1 <= height <= 20:
        raise ValueError(f"height must be a number of inches from 1 to 20, got {height!r}")
    values = np.concatenate([a[a != 0] for a in arrays.values()])
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("matrices must hold finite values, not all zero")
    lo, hi = float(values.min()), float(values.max())
    ticks = None
    if np.all(values == np.round(values)) and hi - lo <= 20:
        ticks, lo, hi = range(int(lo), int(hi) + 1), lo - 0.5, hi + 0.5
    n = len(arrays)
    fig, axes = plt.subplots(
        1, n, figsize=(height * n + 1.0, height), layout="constrained", squeeze=False
    )
    for ax, (title, a) in zip(axes[0], arrays.items(), strict=True):
        im = ax.imshow(
            np.ma.masked_equal(a, 0), cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest"
        )
        ax.set(title=title, xlabel="input pixel (flattened)", ylabel="output pixel (flattened)")
        for t in range(rows, a.shape[0], rows):
            ax.axhline(t - 0.5, color=MUTED, linewidth=0.6)
        for t in range(cols, a.shape[1], cols):
            ax.axvline(t - 0.5, color=MUTED, linewidth=0.6)
    fig.colorbar(im, ax=axes[0], ticks=ticks, shrink=0.8, label="kernel tap value (blank: 0)")
    return fig


# --------------------------------------------------------------------------------------------
# Notebook 05's trained example: MaxPool against MaxBlurPool on the shifted digits
# --------------------------------------------------------------------------------------------
#: how the two networks are trained: the 8 x 8 digits zero-padded by ``pad`` on every side
#: (16 x 16), the training set plus one copy of it shifted by up to ``max_shift`` pixels,
#: ``epochs`` of Adam on batches of ``batch_size`` at learning rate ``lr``
SHIFT_RECIPE: dict = {"pad": 4, "max_shift": 3, "epochs": 8, "batch_size": 64, "lr": 0.01}
#: the two networks, by name: does it blur before subsampling?
SHIFT_NETS: dict[str, bool] = {"MaxPool": False, "MaxBlurPool": True}
#: the weights ``make weights`` writes (``save_shift_cnns``) and ``load_shift_cnns`` reads
SHIFT_WEIGHTS = Path(__file__).with_name("weights") / "shift_cnns.pt"


def shift_cnn(blur: bool = False) -> nn.Module:
    """Notebook 05's digit classifier: conv 3x3 (1 -> 16), ReLU, *down*, conv 3x3 (16 -> 32),
    ReLU, *down*, conv 3x3 (32 -> 10), global average pooling: ten logits.

    *down* halves the map: ``MaxPool2d(2)``, or with ``blur`` Zhang's MaxBlurPool,
    ``MaxPool2d(2, stride=1)`` then ``BlurPool2d`` (blur before subsampling). Convolutions
    pad with zeros by 1; everything else is the same in both networks.
    """
    blur = check_bool("blur", blur)

    def down(channels: int) -> nn.Module:
        if blur:
            return nn.Sequential(nn.MaxPool2d(2, stride=1), BlurPool2d(channels))
        return nn.MaxPool2d(2)

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        down(16),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        down(32),
        nn.Conv2d(32, 10, 3, padding=1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )


def shifted_digits(
    seed: int = 0, augment: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x_train, y_train, x_test, y_test)``: ``cnnlib.training.digits_split(seed=seed)`` with
    every image zero-padded by ``SHIFT_RECIPE["pad"]`` (8 x 8 -> 16 x 16, so that a digit moved
    by a few pixels stays in view).

    With ``augment``, the training set is followed by a copy of it in which image ``n`` is
    shifted by ``(a_n, b_n)`` drawn uniformly from ``[-max_shift, max_shift]`` (zeros fill in),
    by a generator seeded with ``seed``: twice as many training images, labels repeated.
    """
    from cnnlib.training import digits_split

    seed = check_int("seed", seed, 0)
    augment = check_bool("augment", augment)
    pad, m = SHIFT_RECIPE["pad"], SHIFT_RECIPE["max_shift"]
    x_train, y_train, x_test, y_test = digits_split(seed=seed)
    x_train = nn.functional.pad(x_train, (pad, pad, pad, pad))
    x_test = nn.functional.pad(x_test, (pad, pad, pad, pad))
    if augment:
        moves = np.random.default_rng(seed).integers(-m, m + 1, size=(len(x_train), 2))
        moved = np.stack(
            [
                shift(im, int(a), int(b), "zeros")
                for im, (a, b) in zip(x_train.numpy(), moves, strict=True)
            ]
        )
        x_train = torch.cat([x_train, torch.from_numpy(moved).float()])
        y_train = torch.cat([y_train, y_train])
    return x_train, y_train, x_test, y_test


def train_shift_cnns(
    seed: int = 0,
    augment: bool = True,
    epochs: int = SHIFT_RECIPE["epochs"],
    progress: bool = True,
) -> tuple[dict[str, nn.Module], dict[str, dict[str, list[float]]]]:
    """Train both networks of ``SHIFT_NETS`` (``shift_cnn(blur)``) on ``shifted_digits(seed,
    augment)`` with ``cnnlib.training.train`` (Adam, ``SHIFT_RECIPE``'s batch size and
    learning rate, initial weights drawn under ``seed``); return ``(models, histories)``,
    dicts by name, the models in eval mode.

    Deterministic: the same arguments give the same weights bit for bit on one machine and
    torch version. ``progress`` shows a progress bar per network.
    """
    from cnnlib.training import train

    seed = check_int("seed", seed, 0)
    epochs = check_int("epochs", epochs, 1)
    x_train, y_train, x_test, y_test = shifted_digits(seed, augment)
    models, histories = {}, {}
    for name, blur in SHIFT_NETS.items():
        models[name], histories[name] = train(
            lambda blur=blur: shift_cnn(blur),
            x_train,
            y_train,
            x_test,
            y_test,
            epochs=epochs,
            batch_size=SHIFT_RECIPE["batch_size"],
            lr=SHIFT_RECIPE["lr"],
            seed=seed,
            progress=progress,
            desc=name,
        )
    return models, histories


def save_shift_cnns(
    path: str | Path = SHIFT_WEIGHTS, seed: int = 0, progress: bool = False
) -> tuple[dict[str, nn.Module], dict[str, dict[str, list[float]]]]:
    """Train both networks with the default recipe (``train_shift_cnns(seed)``) and write
    their ``state_dict``s and histories, the recipe, ``seed``, and the torch version and CPU
    capability that made them to ``path`` (``make weights``); return what it trained."""
    from cnnlib.training import made_by

    models, histories = train_shift_cnns(seed, progress=progress)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "state_dicts": {name: model.state_dict() for name, model in models.items()},
            "histories": histories,
            "recipe": SHIFT_RECIPE,
            "seed": int(seed),
            "made_by": made_by(),
        },
        path,
    )
    return models, histories


def load_shift_cnns(
    path: str | Path = SHIFT_WEIGHTS,
) -> tuple[dict[str, nn.Module], dict[str, dict[str, list[float]]]]:
    """The two networks ``save_shift_cnns`` wrote, in eval mode, and their training
    histories: ``(models, histories)``, dicts by name, as ``train_shift_cnns`` returns them."""
    saved = torch.load(Path(path), map_location="cpu", weights_only=True)
    models = {}
    for name, blur in SHIFT_NETS.items():
        models[name] = shift_cnn(blur)
        models[name].load_state_dict(saved["state_dicts"][name])
        models[name].eval()
    return models, saved["histories"]


if __name__ == "__main__":  # make weights
    import time

    start = time.perf_counter()
    _, written = save_shift_cnns()
    accuracies = ", ".join(f"{k} {h['test_accuracy'][-1]:.3f}" for k, h in written.items())
    print(
        f"wrote {SHIFT_WEIGHTS} ({SHIFT_WEIGHTS.stat().st_size / 1024:.0f} KiB): test accuracy "
        f"{accuracies} after {time.perf_counter() - start:.0f} s"
    )
