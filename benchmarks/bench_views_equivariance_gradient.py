"""EquivarianceExplorer and GradientView: median time from a control change to the redrawn
figure (target < 30 ms), per control, swept over its values."""

from __future__ import annotations

import statistics

from benchmarks._timing import print_table, view_update_times

TARGET_MS = 30.0

#: (view, preset, control, values); consecutive values differ, so every assignment redraws
SWEEPS = [
    ("EquivarianceExplorer", {}, "shift_x", [1, 2, 3, 4, 5, 6, 7, 8, -8, -4]),
    ("EquivarianceExplorer", {}, "shift_y", [1, 2, 3, -1, -2, -3]),
    (
        "EquivarianceExplorer",
        {"shift_y": 1, "shift_x": 3},
        "layer",
        [
            "conv, zero padding",
            "conv, circular padding",
            "strided conv (stride 2)",
            "max pooling 2x2",
            "blur + pooling",
        ],
    ),
    ("GradientView", {"mode": "dL/dx"}, "play", list(range(1, 36))),
    ("GradientView", {"mode": "dL/dx"}, "col", [1, 2, 3, 4, 5, 0]),
    ("GradientView", {"mode": "dL/dw"}, "weight_col", [1, 2, 0, 1, 2, 0]),
    ("GradientView", {"mode": "dL/dx"}, "stride", [2, 3, 1, 2, 3, 1]),
    ("GradientView", {}, "mode", ["dL/dw", "dL/dx"] * 3),
]


def main() -> None:
    import cnnlib.widgets

    views = {}
    rows = []
    for name, preset, control, values in SWEEPS:
        if name not in views:
            views[name] = getattr(cnnlib.widgets, name)()
        view = views[name]
        if preset:
            view.set_controls(**preset)
        view_update_times(view, control, values[-1:])  # warm-up (and a defined start)
        times_ms = [1000 * t for t in view_update_times(view, control, values * 2)]
        median = statistics.median(times_ms)
        ok = "yes" if median < TARGET_MS else "NO"
        rows.append((name, control, len(times_ms), median, max(times_ms), ok))
    print_table(["view", "control", "updates", "median ms", "max ms", f"< {TARGET_MS:g} ms"], rows)


if __name__ == "__main__":
    main()
