"""Execution time of every notebook, as nbval and a learner's "Run All" meet it.

Budgets come from the course registry (``cnnlib.course.Lesson.budget_s``: 15 s for 00-07 and
60 s for 08 on a quiet 2-core machine; the index has no entry and gets 15 s); the course issue's
target is notebooks 00-07 under 60 s together. Each row names the notebook's slowest cell, the
place to look when it misses its budget.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from benchmarks._timing import print_table
from cnnlib.course import LESSONS

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TARGET_TOTAL_S = 60.0  # notebooks 00-07 together
BUDGETS = {item.file: item.budget_s for item in LESSONS}
DEFAULT_BUDGET_S = 15.0


def cell_times(path: Path) -> list[float]:
    """Seconds per cell to execute ``path`` top to bottom in a fresh kernel (start excluded).

    A cell that raises ends the run: its time is the last entry, and ``failed`` is set on the
    list (``getattr(times, "failed", None)``: the index of that cell)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3")
    client.resources = {"metadata": {"path": str(path.parent)}}
    times = []
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            t0 = time.perf_counter()
            try:
                client.execute_cell(cell, index)
            except CellExecutionError:
                times.append(time.perf_counter() - t0)
                return _Failed(times, index)
            times.append(time.perf_counter() - t0)
    return times


class _Failed(list):
    """Cell times of a run that stopped at cell ``failed`` with an error."""

    def __init__(self, times: list[float], failed: int) -> None:
        super().__init__(times)
        self.failed = failed


def execution_time(path: Path) -> float:
    """Seconds to execute ``path`` top to bottom in a fresh kernel (kernel start excluded)."""
    return sum(cell_times(path))


def main() -> None:
    rows = []
    total = 0.0
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        times = cell_times(path)
        seconds = sum(times)
        budget = BUDGETS.get(path.name, DEFAULT_BUDGET_S)
        if path.name < "08":
            total += seconds
        slowest = max(range(len(times)), key=times.__getitem__)
        verdict = "ok" if seconds <= budget else "OVER"
        if getattr(times, "failed", None) is not None:
            verdict = f"ERROR in cell {times.failed}"
        rows.append(
            (
                path.name,
                f"{seconds:.1f}",
                f"{budget:.0f}",
                verdict,
                f"{slowest} ({times[slowest]:.1f} s)",
            )
        )
    rows.append(("00-07 total", f"{total:.1f}", f"{TARGET_TOTAL_S:.0f}", "", ""))
    print_table(["notebook", "seconds", "budget", "", "slowest cell"], rows)
    verdict = "meets" if total < TARGET_TOTAL_S else "MISSES"
    print(f"notebooks 00-07 total {total:.1f} s: {verdict} the {TARGET_TOTAL_S:.0f} s target")


if __name__ == "__main__":
    main()
