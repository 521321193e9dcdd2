"""Browser latency of every view (issue 12): from a key press on a slider to the view's
``<img>`` getting its new ``src``, measured in Chromium against a JupyterLab from this .venv.

The measurement lives with the browser tests' fixtures (``tests/browser/bench_latency.py``);
this runs it and prints its table. Targets: median <= 50 ms, 90th percentile <= 100 ms on a
quiet 2-core machine; the table states the load average it was measured under.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    cmd = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    cmd += ["-n", "0"] if _has_xdist() else []
    cmd.append("tests/browser/bench_latency.py")
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    lines = result.stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("browser latency")), None)
    if start is None or result.returncode != 0:
        print("the browser measurement failed:\n" + result.stdout[-3000:] + result.stderr[-2000:])
        return
    table = []
    for line in lines[start:]:
        if not line.strip() or line.startswith(".") or "passed" in line:
            break
        table.append(line)
    print("\n".join(table))


def _has_xdist() -> bool:
    try:
        import xdist  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
