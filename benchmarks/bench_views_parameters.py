"""ParametersView: median time from a control change to the redrawn figure (target < 30 ms)."""

from __future__ import annotations

import statistics

from benchmarks._timing import print_table, view_update_times

TARGET_MS = 30.0

#: every sweep starts from this setting (16 -> 32 channels allow groups 1, 2, 4, 8, 16)
BASE = {"in_channels": 16, "out_channels": 32, "kernel_size": 3, "groups": 1, "bias": True}

#: control -> values swept (consecutive values differ, so every assignment redraws)
SWEEPS = {
    "in_channels": [4, 8, 16, 32, 2, 3],
    "out_channels": [8, 16, 32, 64, 1, 64],
    "kernel_size": [1, 3, 5, 7, 2, 3],
    "groups": [2, 4, 8, 16, 1, 4],
    "bias": [False, True],
    "size": [8, 16, 64, 1, 32],
}


def main() -> None:
    from cnnlib.widgets.parameters import ParametersView

    view = ParametersView()
    rows = []
    for control, values in SWEEPS.items():
        view.set_controls(**BASE)
        view_update_times(view, control, values[:1])  # warm-up
        times_ms = [1000 * t for t in view_update_times(view, control, values * 3)]
        median = statistics.median(times_ms)
        ok = "yes" if median < TARGET_MS else "NO"
        rows.append((control, len(times_ms), median, max(times_ms), ok))
    print_table(["control", "updates", "median ms", "max ms", f"< {TARGET_MS:g} ms"], rows)


if __name__ == "__main__":
    main()
