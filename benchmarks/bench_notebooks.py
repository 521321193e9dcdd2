"""Execution time of every notebook, as nbval and a learner's "Run All" meet it.

Target (course issue): the whole series under 60 s on the 2-core machine, never over 120 s.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from benchmarks._timing import print_table

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TARGET_TOTAL_S = 60.0


def execution_time(path: Path) -> float:
    """Seconds to execute ``path`` top to bottom in a fresh kernel (kernel start excluded)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3")
    client.resources = {"metadata": {"path": str(path.parent)}}
    with client.setup_kernel():
        t0 = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        return time.perf_counter() - t0


def main() -> None:
    rows = []
    total = 0.0
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        seconds = execution_time(path)
        total += seconds
        rows.append((path.name, f"{seconds:.1f}"))
    rows.append(("total", f"{total:.1f}"))
    print_table(["notebook", "seconds"], rows)
    verdict = "meets" if total < TARGET_TOTAL_S else "MISSES"
    print(f"series total {total:.1f} s: {verdict} the {TARGET_TOTAL_S:.0f} s target")


if __name__ == "__main__":
    main()
