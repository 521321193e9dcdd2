"""cnnlib.conv.conv2d against torch.nn.functional.conv2d on the CPU (float32).

Five layer shapes (stride 1, "same"-size padding p = d (k - 1) / 2). The target: conv2d no
slower than torch on the geometric mean of the time ratios, and never more than 3x slower.
With the default threads, each function is timed in a block of its own runs (torch, conv2d,
torch again, with short pauses between blocks); the table shows the medians. The two torch
blocks must agree within 25%, else the machine was busy: the row is measured again (three
tries), then flagged. Torch's two threads slow down several times while another process holds
a core, which would flatter conv2d; so both are timed again with the second table, and the
verdict takes each function's better time of the two. A last table compares one thread each
by CPU time, which a busy machine disturbs much less than wall time.

A second table times the matrix product alone: every multiply-add of the layer in one NumPy
``matmul`` on operands built beforehand (im2col without the unrolling). GEMM/torch shows how
far OpenBLAS's product alone is from torch's whole layer (oneDNN runs near the cores' peak
rate of multiply-adds); conv2d/GEMM shows what unrolling and copying add, or, below 1, what
the shift form's smaller products save.
"""

from __future__ import annotations

import math
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks._timing import median_time, print_table
from cnnlib.conv import conv2d

# (N, C_in, H = W, C_out, k, dilation)
SHAPES = [
    (8, 64, 56, 64, 3, 1),
    (1, 3, 224, 64, 3, 1),
    (32, 1, 28, 8, 5, 1),
    (16, 128, 28, 128, 3, 1),
    (8, 32, 64, 32, 5, 2),
]
MAX_RATIO = 3.0
MAX_GEO_MEAN = 1.0
ATTEMPTS = 3


def block_medians(ours, reference, repeat: int = 9, warmup: int = 2, pause: float = 0.3):
    """Median wall times (seconds): ``reference`` block, ``ours`` block, ``reference`` block.

    Not interleaved: after each NumPy call OpenBLAS's worker threads keep spinning for a while
    and take the second core from torch's OpenMP threads, which made torch look up to 3x slower
    than it is when the calls alternate. The pauses let the spinning threads go to sleep.
    Returns ``(ours, reference, reference_again)``.
    """

    def block(fn):
        time.sleep(pause)
        return median_time(fn, repeat=repeat, warmup=warmup)

    first = block(reference)
    mine = block(ours)
    again = block(reference)
    return mine, first, again


def interleaved_medians(fns, repeat: int = 9, warmup: int = 2, clock=time.perf_counter):
    """Median time (seconds) of each function, the runs of all functions interleaved.

    Used for the one-thread table only: with one thread each there are no spinning BLAS
    workers, and interleaving makes a busy machine slow both alike.
    """
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, ts in zip(fns, times, strict=True):
            t0 = clock()
            fn()
            ts.append(clock() - t0)
    return [statistics.median(ts) for ts in times]


def print_environment() -> None:
    """What decides the speed: BLAS threads and variables, torch threads, the machine's load."""
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        print(f"{var}={os.environ.get(var, '(unset)')}")
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            name = pool.get("internal_api")
            print(f"{name}: {pool.get('num_threads')} threads, {pool.get('architecture', '')}")
    except ImportError:
        pass
    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads)")
    print(f"CPUs: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")


def cases():
    """``(label, conv2d call, torch call)`` for each shape, checked to agree."""
    rng = np.random.default_rng(0)
    for n, c_in, size, c_out, k, d in SHAPES:
        x = rng.standard_normal((n, c_in, size, size)).astype(np.float32)
        w = rng.standard_normal((c_out, c_in, k, k)).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)
        p = d * (k - 1) // 2
        xt, wt, bt = (torch.from_numpy(a) for a in (x, w, b))

        def ours(x=x, w=w, b=b, p=p, d=d):
            return conv2d(x, w, b, padding=p, dilation=d)

        def reference(xt=xt, wt=wt, bt=bt, p=p, d=d):
            with torch.no_grad():
                return F.conv2d(xt, wt, bt, padding=p, dilation=d)

        got, expected = ours(), reference().numpy()
        assert np.allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
        label = f"N={n} C={c_in} H={size} O={c_out} k={k}" + (f" d={d}" if d > 1 else "")
        yield label, ours, reference


def macs(n: int, c_in: int, size: int, c_out: int, k: int) -> int:
    """Multiply-adds of a "same" layer: ``N H W C_out C_in k^2`` (stride 1)."""
    return n * size * size * c_out * c_in * k * k


def gemm_alone(n: int, c_in: int, size: int, c_out: int, k: int):
    """The layer's multiply-adds as one product on prebuilt operands, in the faster layout.

    ``(N H W, C_in k^2) @ (C_in k^2, C_out)`` or its transpose: OpenBLAS is slow when the
    product is only ``C_out`` columns wide, so both are tried and the faster one is returned.
    """
    rng = np.random.default_rng(1)
    rows, inner = n * size * size, c_in * k * k
    cols = rng.standard_normal((rows, inner), dtype=np.float32)
    w_mat = rng.standard_normal((inner, c_out), dtype=np.float32)
    out = np.empty((rows, c_out), dtype=np.float32)
    cols_t, w_t = np.ascontiguousarray(cols.T), np.ascontiguousarray(w_mat.T)
    out_t = np.empty((c_out, rows), dtype=np.float32)
    layouts = [
        lambda: np.matmul(cols, w_mat, out=out),
        lambda: np.matmul(w_t, cols_t, out=out_t),
    ]
    return min(layouts, key=lambda fn: median_time(fn, repeat=3))


def geo_mean_verdict(ratios: list[float]) -> None:
    """Print the geometric mean of the ratios and whether the target is met."""
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    verdict = "meets" if geo <= MAX_GEO_MEAN and max(ratios) <= MAX_RATIO else "MISSES"
    print(
        f"geometric mean ratio {geo:.2f} (target <= {MAX_GEO_MEAN}), worst {max(ratios):.2f} "
        f"(target <= {MAX_RATIO}): {verdict} the target"
    )


def compare_blocks(title: str) -> dict[str, tuple[float, float]]:
    """Default threads, wall time, each function in its own blocks (see ``block_medians``).

    Returns ``(conv2d, torch)`` seconds per shape, for the verdict after the second table.
    """
    rows, times = [], {}
    for label, ours, reference in cases():
        for _ in range(ATTEMPTS):  # a row whose torch blocks disagree is measured again
            t_ours, t_torch, t_again = block_medians(ours, reference)
            steady = max(t_torch, t_again) <= 1.25 * min(t_torch, t_again)
            if steady:
                break
        t_ref = statistics.median([t_torch, t_again])
        times[label] = (t_ours, t_ref)
        ok = "yes" if t_ours / t_ref <= MAX_RATIO else "NO"
        row = [label, t_ours * 1e3, t_torch * 1e3, t_again * 1e3, t_ours / t_ref, ok]
        rows.append(row + ["yes" if steady else "NO (busy machine?)"])
    print(f"\n{title}")
    headers = ["shape (float32)", "conv2d ms", "torch ms", "torch again", "ratio", "ratio<=3"]
    print_table(headers + ["torch blocks agree"], rows)
    return times


def compare_gemm(title: str, first: dict[str, tuple[float, float]]) -> dict:
    """The layer's matrix product alone against torch; conv2d and torch are timed again.

    Torch's times are checked against ``first`` (the first table's): torch's two threads slow
    down several times when another process holds a core, and both torch blocks of a row can
    fall in such a spell. Returns ``(conv2d, torch)`` seconds per shape.
    """
    rows, floors, moved, times = [], [], [], {}
    for (n, c_in, size, c_out, k, _), (label, ours, reference) in zip(SHAPES, cases(), strict=True):
        t_gemm, t_torch, t_again = block_medians(gemm_alone(n, c_in, size, c_out, k), reference)
        t_ref = statistics.median([t_torch, t_again])
        before = first[label][1]
        if max(before, t_ref) > 1.25 * min(before, t_ref):
            moved.append(f"{label} ({before * 1e3:.3g} -> {t_ref * 1e3:.3g} ms)")
        t_ours = block_medians(ours, reference, repeat=5)[0]
        times[label] = (t_ours, t_ref)
        floors.append(t_gemm / t_ref)
        gmacs = macs(n, c_in, size, c_out, k) / 1e9
        rows.append(
            [label, t_gemm * 1e3, t_ref * 1e3, gmacs / t_gemm, gmacs / t_ref]
            + [t_gemm / t_ref, t_ours / t_gemm]
        )
    print(f"\n{title}")
    headers = ["shape (float32)", "GEMM ms", "torch ms", "GEMM GMAC/s", "torch GMAC/s"]
    print_table(headers + ["GEMM/torch", "conv2d/GEMM"], rows)
    geo = math.exp(sum(math.log(r) for r in floors) / len(floors))
    print(
        f"geometric mean GEMM/torch {geo:.2f}: the multiply-adds alone, as one BLAS product, "
        "against torch's whole layer"
    )
    if moved:
        print(
            "torch's time moved by more than 25% between the two tables for "
            f"{'; '.join(moved)}: the machine was busy during one of them"
        )
    return times


def verdict_of_both(first: dict, second: dict) -> None:
    """The target, from each function's better time of the two tables.

    A busy moment only ever slows a run down, so the smaller of two medians measured apart is
    the better estimate of each function's speed on an idle machine.
    """
    ratios = []
    for label, (ours, ref) in first.items():
        ours_again, ref_again = second[label]
        ratios.append(min(ours, ours_again) / min(ref, ref_again))
    print("\nVerdict (default threads; each function's better time of the two tables):")
    print("ratios " + " / ".join(f"{r:.2f}" for r in ratios))
    geo_mean_verdict(ratios)


def compare(title: str, clock=time.perf_counter) -> None:
    """Time every shape with ``clock``, runs interleaved; print the table and the verdict."""
    rows, ratios = [], []
    for label, ours, reference in cases():
        t_ours, t_torch = interleaved_medians([ours, reference], clock=clock)
        ratio = t_ours / t_torch
        ratios.append(ratio)
        ok = "yes" if ratio <= MAX_RATIO else "NO"
        rows.append([label, t_ours * 1e3, t_torch * 1e3, ratio, ok])
    print(f"\n{title}")
    print_table(["shape (float32)", "conv2d ms", "torch ms", "ratio", "ratio<=3"], rows)
    geo_mean_verdict(ratios)


def main() -> None:
    print_environment()
    first = compare_blocks(
        "Default threads, wall time (medians of blocks of 9 runs: torch, conv2d, torch):"
    )
    second = compare_gemm(
        "The layer's matrix product alone (default threads, blocks as above):", first
    )
    verdict_of_both(first, second)
    # On a shared machine, threads wait for each other's cores and wall times swing widely.
    # One thread each, timed by the CPU time of the calling thread, compares the work done.
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            compare(
                "One thread each, CPU time of the thread (less sensitive to load):",
                clock=time.thread_time,
            )
    finally:
        torch.set_num_threads(torch_threads)


if __name__ == "__main__":
    main()
