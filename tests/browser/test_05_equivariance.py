"""Notebook 05 in JupyterLab: it runs top to bottom without errors, and the EquivarianceExplorer
answers a slider move and a layer change with a new picture and a new error."""

from __future__ import annotations

import pytest

from .conftest import (
    control,
    error_outputs,
    figure_png,
    figure_src,
    move_slider,
    open_notebook,
    run_all,
    screenshot,
    slider_value,
    view_locator,
    wait_for_change,
    wait_for_idle,
    wait_until,
)

pytestmark = pytest.mark.browser


def _error(view) -> float:
    value = view.locator(".cnnlib-readout .cnnlib-value").first.get_attribute("data-value")
    return float(value)


def test_05_equivariance_runs_and_the_explorer_responds(page):
    open_notebook(page, "05_equivariance.ipynb")
    seconds = run_all(page)
    assert not error_outputs(page), error_outputs(page)
    assert seconds < 200, f"Run All took {seconds:.0f} s"

    view = view_locator(page, "EquivarianceExplorer")
    assert slider_value(view, "shift_x") == "3"  # the notebook's preset: max pooling, (1, 3)
    odd_error = _error(view)
    assert odd_error > 1e-3  # an odd shift through a stride-2 layer: aliasing
    before_src, before_png = figure_src(view), figure_png(view)

    move_slider(view, "shift_x", 1)
    wait_for_change(lambda: slider_value(view, "shift_x"), "3", what="the shift x slider")
    wait_for_idle(page)
    wait_for_change(lambda: figure_src(view), before_src, what="a new figure")
    assert figure_png(view) != before_png
    assert _error(view) != odd_error

    # circular padding: exact at any shift, up to rounding (the BLAS summation order)
    control(view, "layer").locator("select").select_option("conv, circular padding")
    wait_until(lambda: _error(view) < 1e-12, what="a vanishing error for the circular convolution")
    assert not error_outputs(page), error_outputs(page)
    screenshot(view, "05_equivariance_view")
