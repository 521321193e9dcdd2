"""Notebook 06 beyond the smoke test: the GradientView's readout follows the smoke move
(dL/dx[2, 3] -> dL/dx[2, 4]) and its mode switch to dL/dw."""

from __future__ import annotations

from .helpers import control, error_outputs, screenshot, wait_until


def _position(view) -> str:
    return view.locator(".cnnlib-readout .cnnlib-position").first.inner_text().strip()


def check(page, seen) -> None:
    view = seen["view"]
    assert seen["before"].startswith("dL/dx[2, 3]")  # the notebook's preset
    wait_until(lambda: _position(view) == "dL/dx[2, 4]", what="the readout to follow")
    control(view, "mode").locator("button", has_text="dL/dw").click()
    wait_until(lambda: _position(view).startswith("dL/dw"), what="the dL/dw mode")
    assert not error_outputs(page), error_outputs(page)
    screenshot(view, "06_backprop_view")
