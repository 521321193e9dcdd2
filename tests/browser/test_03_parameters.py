"""Notebook 03 in JupyterLab: it runs top to bottom without errors, and the ParametersView
answers a slider move with a new picture and new counts."""

from __future__ import annotations

import pytest

from .conftest import (
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
    wait_until,
)

pytestmark = pytest.mark.browser


def test_03_parameters_runs_and_the_view_responds(page):
    open_notebook(page, "03_parameters.ipynb")
    seconds = run_all(page)
    assert not error_outputs(page), error_outputs(page)
    assert seconds < 120, f"Run All took {seconds:.0f} s"

    view = view_locator(page, "ParametersView")
    readout = view.locator(".cnnlib-readout").first
    assert "= 1,792" in readout.inner_text()  # the seed's 3 -> 64, 3 x 3 example
    before_src, before_png = figure_src(view), figure_png(view)

    move_slider(view, "kernel_size", 2)  # 3 x 3 -> 5 x 5
    wait_for_change(lambda: slider_value(view, "kernel_size"), "3", what="the k slider to move")
    assert slider_value(view, "kernel_size") == "5"
    wait_for_change(lambda: figure_src(view), before_src, what="a new figure")
    assert figure_png(view) != before_png
    # 64 x (3 x 5 x 5) + 64 = 4,864 parameters
    wait_until(lambda: "= 4,864" in readout.inner_text(), what="the readout to count 4,864")
    assert not error_outputs(page), error_outputs(page)
    screenshot(view, "03_parameters_view")
