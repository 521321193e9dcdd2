"""ReceptiveFieldExplorer: median time from a control change to the redrawn figure (target
< 30 ms), per control, in grid mode (32 x 32) and photo mode (128 x 128)."""

from __future__ import annotations

import statistics

from benchmarks._timing import print_table, view_update_times

TARGET_MS = 30.0

#: (setup, control, values); consecutive values differ, so every assignment redraws
SWEEPS = [
    ({}, "unit_col", list(range(0, 32, 3))),
    ({}, "unit_row", list(range(0, 32, 3))),
    ({}, "play", list(range(1, 32, 2))),
    ({"layer": 2}, "kernel_size", [1, 2, 4, 5, 6, 7, 3]),
    ({"layer": 2}, "stride", [2, 3, 4, 1]),
    ({"layer": 2}, "dilation", [2, 3, 4, 1]),
    ({}, "layer", [1, 2, 3]),
    ({}, "preset", ["3x3 convs + stride-2 pooling", "dilated 1-2-4", "SimpleCNN (4 conv blocks)"]),
    ({"preset": "SimpleCNN (4 conv blocks)", "photo": True}, "unit_col", list(range(16))),
    ({"preset": "SimpleCNN (4 conv blocks)", "photo": True}, "kernel_size", [5, 7, 1, 3]),
    ({"preset": "SimpleCNN (4 conv blocks)"}, "photo", [True, False]),
]


def main() -> None:
    from cnnlib.widgets import ReceptiveFieldExplorer

    rows = []
    for setup, control, values in SWEEPS:
        view = ReceptiveFieldExplorer()
        view.set_controls(**setup)
        view_update_times(view, control, values[-1:])  # warm-up (and a defined start)
        times_ms = [1000 * t for t in view_update_times(view, control, values * 2)]
        median = statistics.median(times_ms)
        label = control + (" (photo)" if setup.get("photo") else "")
        ok = "yes" if median < TARGET_MS else "NO"
        rows.append((label, len(times_ms), median, max(times_ms), ok))
    print_table(["control", "updates", "median ms", "max ms", f"< {TARGET_MS:g} ms"], rows)


if __name__ == "__main__":
    main()
