"""Update latency of the convolution views (SlidingKernel, PoolingView).

For each control: the median time from setting ``view.controls[name].value`` to the re-rendered
PNG, over a sweep of values. "wall ms" is what the learner waits (it includes waiting for a CPU
on a busy machine); "cpu ms" is the processor time the update itself used. Position moves
redraw only the moving artists over a cached background; a setting change (stride, padding,
kernel, mode) redraws the whole figure.
"""

from __future__ import annotations

import os
import statistics
import time

from benchmarks._timing import print_table, view_update_times

TARGET_MS = 30.0
REPEATS = 3


def _row(view_name: str, view, control: str, values: list, what: str) -> list:
    wall, cpu = [], []
    for _ in range(REPEATS):
        wall += view_update_times(view, control, values)
        cpu += view_update_times(view, control, values, clock=time.process_time)
    wall_ms = 1e3 * statistics.median(wall)
    cpu_ms = 1e3 * statistics.median(cpu)
    ok = "yes" if wall_ms < TARGET_MS else ("cpu only" if cpu_ms < TARGET_MS else "NO")
    return [view_name, control, what, len(wall), wall_ms, cpu_ms, TARGET_MS, ok]


def measure() -> list[list]:
    """One row per (view, control): median wall and CPU milliseconds per update."""
    from cnnlib.widgets.pooling import PoolingView
    from cnnlib.widgets.sliding_kernel import SlidingKernel

    rows = []
    sk = SlidingKernel()
    sk.set_controls(row=0, col=0)
    rows.append(_row("SlidingKernel", sk, "col", [1, 2, 3, 4, 5, 6, 7, 8, 9, 0], "move"))
    rows.append(_row("SlidingKernel", sk, "row", [1, 2, 3, 4, 5, 6, 7, 8, 9, 0], "move"))
    rows.append(_row("SlidingKernel", sk, "play", list(range(1, 21)), "move"))
    rows.append(_row("SlidingKernel", sk, "stride", [2, 3, 1], "setting"))
    rows.append(_row("SlidingKernel", sk, "padding", [1, 2, 3, 0], "setting"))
    rows.append(_row("SlidingKernel", sk, "dilation", [2, 3, 1], "setting"))
    rows.append(_row("SlidingKernel", sk, "kernel", ["box blur", "sharpen", "Sobel x"], "setting"))
    rows.append(_row("SlidingKernel", sk, "bias", [1.0, -2.0, 0.0], "setting"))

    pv = PoolingView()
    pv.set_controls(row=0, col=0)
    rows.append(_row("PoolingView", pv, "col", [1, 2, 3, 0], "move"))
    rows.append(_row("PoolingView", pv, "row", [1, 2, 3, 0], "move"))
    rows.append(_row("PoolingView", pv, "play", list(range(1, 16)), "move"))
    rows.append(_row("PoolingView", pv, "stride", [1, 3, 4, 2], "setting"))
    rows.append(_row("PoolingView", pv, "kernel_size", [3, 4, 1, 2], "setting"))
    rows.append(_row("PoolingView", pv, "mode", ["avg", "max"], "setting"))
    return rows


def main() -> None:
    rows = measure()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} (wall times grow with the load)")
    print_table(
        ["view", "control", "kind", "updates", "wall ms", "cpu ms", "target ms", "under target"],
        rows,
    )


if __name__ == "__main__":
    main()
