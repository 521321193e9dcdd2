"""An experiment kept for the record: would Winograd's algorithm bring conv2d to torch's speed?

torch (oneDNN) runs the benchmark layers near the cores' peak rate of multiply-adds, and the
layer's matrix product alone in OpenBLAS is slower than torch's whole layer (bench_conv), so
only fewer multiply-adds could close the gap. Winograd's minimal filtering F(m x m, 3 x 3)
(Lavin and Gray, 2016) computes an m x m output tile with (m + 2)^2 products per channel pair
instead of 9 m^2: 2.25x fewer for F(2x2, 3x3), 4x fewer for F(4x4, 3x3), at the cost of
transforming every input tile (B^T d B) and output tile (A^T M A).

This module measures both obstacles on the two 3x3 layers with 64 and 128 channels:
- accuracy: F(4x4, 3x3)'s transforms amplify float32 rounding, close to the 1e-5 bound that
  conv2d keeps against torch; F(2x2, 3x3) stays far below it;
- speed: F(2x2, 3x3) in NumPy, tiles processed in cache-sized bands with channels last, so
  that every transform step is a few whole-array additions and the products are BLAS calls.
  The transforms are many passes over memory, and they cost more than the products save.
conv2d does not use Winograd; rerun this module before trying again.
"""

from __future__ import annotations

import statistics

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks._timing import print_table
from benchmarks.bench_conv import block_medians
from cnnlib.conv import conv2d

# (N, C_in, H = W, C_out), 3x3 kernels, padding 1: the bench_conv layers with many channels
SHAPES = [(8, 64, 56, 64), (16, 128, 28, 128)]
BOUND = 1e-5  # conv2d against torch in float32, relative to 1 + max|y| (tests/test_conv.py)
POINTS = [0, 1, -1, 2, -2, 0.5, -0.5]


def cook_toom(m: int, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A^T, G, B^T)`` of F(m, r) from the points 0, 1, -1, 2, -2, ... and infinity.

    With ``a = m + r - 1`` and points ``p_0 .. p_{a-2}``: ``A^T[j, i] = p_i^j`` (``m x a``),
    ``G[i, k] = p_i^k / prod_{l != i} (p_i - p_l)`` (``a x r``), row ``i`` of ``B^T`` holds the
    coefficients of ``prod_{l != i} (x - p_l)``; the point at infinity adds the last row or
    column of each. Then ``y = A^T [(G g) * (B^T d)]`` is the correlation of ``d`` with ``g``.
    All entries are small multiples of powers of 2, so float64 holds them exactly.
    """
    a = m + r - 1
    points = np.array(POINTS[: a - 1], dtype=float)
    others = [np.delete(points, i) for i in range(a - 1)]
    a_t = np.vstack([np.vander(points, m, increasing=True), np.eye(m)[-1]]).T
    scale = [[np.prod(p - q)] for p, q in zip(points, others, strict=True)]
    g = np.vander(points, r, increasing=True) / scale
    g = np.vstack([g, np.eye(r)[-1]])
    # np.poly: coefficients of prod (x - root), highest power first
    b_t = [np.append(np.poly(q)[::-1], 0.0) for q in others] + [np.poly(points)[::-1]]
    return a_t, g, np.array(b_t)


def winograd_plain(x: np.ndarray, w: np.ndarray, m: int) -> np.ndarray:
    """F(m x m, 3 x 3) on a padded input ``x`` (N, C, H, W), all tiles at once, in x's dtype."""
    a_t, g, b_t = (t.astype(x.dtype) for t in cook_toom(m, 3))
    a = m + 2
    n, c, height, width = x.shape
    th, tw = (height - 2) // m, (width - 2) // m  # whole tiles only (the shapes divide)
    sn, sc, sy, sx = x.strides
    tiles = np.lib.stride_tricks.as_strided(
        x, (n, c, th, tw, a, a), (sn, sc, sy * m, sx * m, sy, sx), writeable=False
    )
    v = np.einsum("ia,nctuab,jb->ijtunc", b_t, tiles, b_t, optimize=True)
    u = np.einsum("ik,ockl,jl->ijco", g, w.astype(x.dtype), g)
    prod = np.matmul(v.reshape(a * a, -1, c), u.reshape(a * a, c, -1))
    prod = prod.reshape(a, a, th, tw, n, -1)
    y = np.einsum("pi,ijtuno,qj->notpuq", a_t, prod, a_t, optimize=True)
    return y.reshape(n, -1, th * m, tw * m)


def winograd_f2x3(x: np.ndarray, w: np.ndarray, b: np.ndarray, band: int = 8) -> np.ndarray:
    """F(2x2, 3x3), padding 1, float32: bands of ``band`` tile rows per image, channels last.

    ``B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]`` and
    ``A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]`` are additions only, done on strided views.
    """
    n, c, h, wd = x.shape
    o = w.shape[0]
    th, tw = -(-h // 2), -(-wd // 2)
    xp = np.zeros((n, 2 * th + 2, 2 * tw + 2, c), x.dtype)
    xp[:, 1 : 1 + h, 1 : 1 + wd] = x.transpose(0, 2, 3, 1)
    g = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], x.dtype)
    u = np.einsum("ik,ockl,jl->ijco", g, w, g).reshape(16, c, o)
    out = np.empty((n, 2 * th, 2 * tw, o), x.dtype)
    rows = np.empty((4, band, 2 * tw + 2, c), x.dtype)
    v = np.empty((4, 4, band, tw, c), x.dtype)
    prod = np.empty((16, band * tw, o), x.dtype)
    z = np.empty((2, 4, band, tw, o), x.dtype)
    for i in range(n):
        for t0 in range(0, th, band):
            nb = min(band, th - t0)
            r, vb, zb = rows[:, :nb], v[:, :, :nb], z[:, :, :nb]
            d = [xp[i, 2 * t0 + k : 2 * t0 + k + 2 * nb : 2] for k in range(4)]
            np.subtract(d[0], d[2], out=r[0])
            np.add(d[1], d[2], out=r[1])
            np.subtract(d[2], d[1], out=r[2])
            np.subtract(d[1], d[3], out=r[3])
            e = [r[:, :, k : k + 2 * tw : 2] for k in range(4)]
            np.subtract(e[0], e[2], out=vb[:, 0])
            np.add(e[1], e[2], out=vb[:, 1])
            np.subtract(e[2], e[1], out=vb[:, 2])
            np.subtract(e[1], e[3], out=vb[:, 3])
            mb = prod[:, : nb * tw]
            np.matmul(np.ascontiguousarray(vb).reshape(16, nb * tw, c), u, out=mb)
            m4 = mb.reshape(4, 4, nb, tw, o)
            np.add(m4[0], m4[1], out=zb[0])
            zb[0] += m4[2]
            np.subtract(m4[1], m4[2], out=zb[1])
            zb[1] -= m4[3]
            dst = out[i, 2 * t0 : 2 * t0 + 2 * nb].reshape(nb, 2, tw, 2, o)
            dst = dst.transpose(1, 3, 0, 2, 4)  # (i, j, t, u, o)
            np.add(zb[:, 0], zb[:, 1], out=dst[:, 0])
            dst[:, 0] += zb[:, 2]
            np.subtract(zb[:, 1], zb[:, 2], out=dst[:, 1])
            dst[:, 1] -= zb[:, 3]
    result = np.empty((n, o, h, wd), x.dtype)
    np.add(out[:, :h, :wd].transpose(0, 3, 1, 2), b[:, None, None], out=result)
    return result


def relative_error(got: np.ndarray, exact: np.ndarray) -> float:
    """``max |got - exact| / (1 + max |exact|)``: the scale of conv2d's tests."""
    return float(np.abs(got - exact).max() / (1.0 + np.abs(exact).max()))


def main() -> None:
    rng = np.random.default_rng(0)
    accuracy, speed = [], []
    for n, c, size, o in SHAPES:
        x = rng.standard_normal((n, c, size, size)).astype(np.float32)
        w = rng.standard_normal((o, c, 3, 3)).astype(np.float32)
        b = rng.standard_normal(o).astype(np.float32)
        xt, wt, bt = (torch.from_numpy(t) for t in (x, w, b))
        exact = F.conv2d(xt.double(), wt.double(), bt.double(), padding=1).numpy()
        label = f"N={n} C={c} H={size} O={o} k=3"
        padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        no_bias = exact - b[:, None, None]
        errors = [relative_error(conv2d(x, w, b, padding=1), exact)]
        errors += [relative_error(winograd_plain(padded, w, m), no_bias) for m in (2, 4)]
        errors.append(relative_error(winograd_f2x3(x, w, b), exact))
        accuracy.append([label, *errors, "yes" if max(errors[:2]) < BOUND else "NO"])

        def reference(xt=xt, wt=wt, bt=bt):
            with torch.no_grad():
                return F.conv2d(xt, wt, bt, padding=1)

        t_wino, t_torch, t_again = block_medians(
            lambda x=x, w=w, b=b: winograd_f2x3(x, w, b), reference
        )
        t_conv = block_medians(lambda x=x, w=w, b=b: conv2d(x, w, b, padding=1), reference)[0]
        t_ref = statistics.median([t_torch, t_again])
        speed.append([label, t_ref * 1e3, t_conv * 1e3, t_wino * 1e3, t_wino / t_ref])
    print(f"\nFloat32 error against float64 torch, relative to 1 + max|y| (bound {BOUND:g}):")
    headers = ["shape", "conv2d", "F(2x2,3x3)", "F(4x4,3x3)", "F(2x2,3x3) banded"]
    print_table(headers + ["conv2d, F(2x2) within"], accuracy)
    print("\nTime (ms, default threads, blocks as in bench_conv):")
    print_table(["shape", "torch", "conv2d", "Winograd F(2x2,3x3)", "Winograd/torch"], speed)
