"""Timing and table helpers shared by the benchmark modules."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any


def median_time(fn: Callable[[], Any], repeat: int = 7, warmup: int = 1, min_time=0.0) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def view_update_times(
    view, control: str, values: Iterable[Any], clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    """Seconds from setting ``view.controls[control].value`` to the redrawn figure, per value.

    The observer runs synchronously: when the assignment returns, ``state`` is recomputed and
    the figure re-rendered into the view's image. ``clock=time.process_time`` gives the CPU
    seconds of this process instead of wall time.
    """
    times = []
    for v in values:
        t0 = clock()
        view.controls[control].value = v
        times.append(clock() - t0)
        if "error" in view.state:
            raise RuntimeError(f"{type(view).__name__} {control}={v!r}: {view.state['error']}")
    return times


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a plain-text table with right-aligned columns."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for k, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if k == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
