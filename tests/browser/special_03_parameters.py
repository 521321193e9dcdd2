"""Notebook 03 beyond the smoke test: the ParametersView counts 1,792 parameters for the
3 -> 64, 3 x 3 example and 4,864 after the smoke move (kernel 3 -> 5)."""

from __future__ import annotations

from .helpers import screenshot, slider_value, wait_until


def check(page, seen) -> None:
    view = seen["view"]
    assert "= 1,792" in seen["before"]  # 64 x (3 x 3 x 3) + 64
    assert slider_value(view, "kernel_size") == "5"
    readout = view.locator(".cnnlib-readout").first
    # 64 x (3 x 5 x 5) + 64 = 4,864 parameters
    wait_until(lambda: "= 4,864" in readout.inner_text(), what="the readout to count 4,864")
    screenshot(view, "03_parameters_view")
