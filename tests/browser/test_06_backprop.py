"""Notebook 06 in JupyterLab: it runs top to bottom without errors, and the GradientView
answers a slider move and a mode switch with a new picture and a new number."""

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


def _position(view) -> str:
    return view.locator(".cnnlib-readout .cnnlib-position").first.inner_text().strip()


def test_06_backprop_runs_and_the_gradient_view_responds(page):
    open_notebook(page, "06_backprop.ipynb")
    seconds = run_all(page)
    assert not error_outputs(page), error_outputs(page)
    assert seconds < 120, f"Run All took {seconds:.0f} s"

    view = view_locator(page, "GradientView")
    assert _position(view) == "dL/dx[2, 3]"  # the notebook's preset
    before_src, before_png = figure_src(view), figure_png(view)

    move_slider(view, "col", 1)
    wait_for_change(lambda: slider_value(view, "col"), "3", what="the col slider")
    wait_until(lambda: _position(view) == "dL/dx[2, 4]", what="the readout to follow")
    wait_for_idle(page)
    wait_for_change(lambda: figure_src(view), before_src, what="a new figure")
    assert figure_png(view) != before_png

    control(view, "mode").locator("button", has_text="dL/dw").click()
    wait_until(lambda: _position(view).startswith("dL/dw"), what="the dL/dw mode")
    assert not error_outputs(page), error_outputs(page)
    screenshot(view, "06_backprop_view")
