"""ActivationExplorer and SaliencyView on the trained shapes network: CPU time from a control
change to the redrawn figure (target < 30 ms median), per control.

Each sweep visits new values (the units, channels, images and maps are computed on the first
visit; a second sweep over the same values shows the cached cost). The network is trained
once first (``trained_shapes_cnn``, not timed here: see bench_shapes). Times are CPU seconds
of this process (``time.process_time``), so a busy machine inflates them less than wall time.
"""

from __future__ import annotations

import statistics
import time

from benchmarks._timing import print_table, view_update_times

TARGET_MS = 30.0


def _sweeps(view, sweeps):
    rows = []
    for setup, control, values in sweeps:
        view.set_controls(**setup)
        view_update_times(view, control, values[-1:])  # a defined start
        first = view_update_times(view, control, values, clock=time.process_time)
        again = view_update_times(view, control, values, clock=time.process_time)
        med = 1000 * statistics.median(first)
        cached = 1000 * statistics.median(again)
        ok = "yes" if med < TARGET_MS else "NO"
        rows.append((type(view).__name__, control, len(values), med, cached, 1000 * max(first), ok))
    return rows


def main() -> None:
    import torch

    from cnnlib.training import trained_shapes_cnn
    from cnnlib.widgets import ActivationExplorer, SaliencyView
    from cnnlib.widgets.saliency import METHODS

    # the views run their tiny forward passes on one thread themselves (single_threaded):
    # timed with torch's default thread count, as in a notebook
    print(f"torch threads: {torch.get_num_threads()}")
    trained_shapes_cnn()
    act = ActivationExplorer()
    layers = [v for _, v in act.controls["layer"].options]
    rows = _sweeps(
        act,
        [
            ({"layer": layers[1]}, "col", list(range(1, 16))),
            ({"layer": layers[1], "col": 5}, "row", list(range(1, 16))),
            ({"layer": layers[1]}, "channel", list(range(1, 16))),
            ({}, "layer", layers[1:] + layers[:1]),
            ({}, "image", list(range(1, 16))),
        ],
    )
    sal = SaliencyView()
    classes = [v for _, v in sal.controls["target"].options]
    rows += _sweeps(
        sal,
        [
            ({}, "method", list(METHODS)[1:] + list(METHODS)[:1]),
            ({"method": "integrated gradients"}, "image", list(range(1, 16))),
            ({"method": "occlusion"}, "target", classes[1:] + classes[:1]),
        ],
    )
    headers = ["view", "control", "values", "median ms", "cached ms", "max ms", f"< {TARGET_MS:g}"]
    print_table(headers, rows)


if __name__ == "__main__":
    main()
