"""DimensionsExplorer: median time from a control change to the redrawn figure (target < 30 ms),
per control, swept over its values. A step moves one window (blitted); the other controls
redraw the grids. "wall ms" is what the user waits on this machine; "cpu ms" is the process's
own CPU time for the same updates, which does not grow when other processes share the cores.
"""

from __future__ import annotations

import statistics
import time

from benchmarks._timing import print_table, view_update_times

TARGET_MS = 30.0

#: (preset, control, values); consecutive values differ, so every assignment redraws
SWEEPS = [
    ({}, "step", list(range(1, 16)) + [0]),
    ({}, "play", list(range(1, 16)) + [0]),
    ({}, "size", [5, 6, 8, 9, 10, 7]),
    ({}, "kernel_size", [1, 2, 4, 5, 3]),
    ({}, "padding", [0, 2, 3, 4, 1]),
    ({}, "stride", [1, 3, 4, 2]),
    ({}, "dilation", [2, 3, 1]),
    ({}, "transposed", [True, False]),
    ({"transposed": True, "size": 4}, "step", list(range(1, 30)) + [0]),
    ({"transposed": True, "size": 4}, "output_padding", [1, 0]),
]


def main() -> None:
    from cnnlib.widgets import DimensionsExplorer

    view = DimensionsExplorer()
    rows = []
    for preset, control, values in SWEEPS:
        view.set_controls(**preset)
        view_update_times(view, control, values[-1:])  # warm-up (and a defined start)
        wall_ms = [1000 * t for t in view_update_times(view, control, values * 2)]
        cpu_ms = [
            1000 * t for t in view_update_times(view, control, values * 2, clock=time.process_time)
        ]
        wall, cpu = statistics.median(wall_ms), statistics.median(cpu_ms)
        label = control + (" (transposed)" if preset else "")
        ok = "yes" if wall < TARGET_MS else ("cpu only" if cpu < TARGET_MS else "NO")
        rows.append((label, len(wall_ms), wall, max(wall_ms), cpu, ok))
    headers = ["control", "updates", "wall ms", "max ms", "cpu ms", f"< {TARGET_MS:g} ms"]
    print_table(headers, rows)


if __name__ == "__main__":
    main()
