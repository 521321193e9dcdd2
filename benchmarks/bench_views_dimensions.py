"""DimensionsExplorer: median time from a control change to the redrawn figure (target < 30 ms),
per control, swept over its values (a step moves one window; the other controls redraw the
grids)."""

from __future__ import annotations

import statistics

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
        times_ms = [1000 * t for t in view_update_times(view, control, values * 2)]
        median = statistics.median(times_ms)
        label = control + ("" if not preset else " (transposed)")
        ok = "yes" if median < TARGET_MS else "NO"
        rows.append((label, len(times_ms), median, max(times_ms), ok))
    print_table(["control", "updates", "median ms", "max ms", f"< {TARGET_MS:g} ms"], rows)


if __name__ == "__main__":
    main()
