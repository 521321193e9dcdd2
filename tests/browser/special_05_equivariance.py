"""Notebook 05 beyond the smoke test: an odd shift through max pooling aliases (the notebook's
preset, shift (1, 3)); the smoke move changes the error; circular padding makes it vanish."""

from __future__ import annotations

from .helpers import control, error_outputs, screenshot, wait_until


def _error(view) -> float:
    value = view.locator(".cnnlib-readout .cnnlib-value").first.get_attribute("data-value")
    return float(value)


def check(page, seen) -> None:
    view = seen["view"]
    odd_error = float(seen["before_value"])
    assert odd_error > 1e-3  # an odd shift through a stride-2 layer: aliasing
    assert _error(view) != odd_error  # shift x 3 -> 4

    # circular padding: exact at any shift, up to rounding (the BLAS summation order)
    control(view, "layer").locator("select").select_option("conv, circular padding")
    wait_until(lambda: _error(view) < 1e-12, what="a vanishing error for the circular convolution")
    assert not error_outputs(page), error_outputs(page)
    screenshot(view, "05_equivariance_view")
