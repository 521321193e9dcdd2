"""Notebook 08 in JupyterLab: it runs top to bottom without errors (training included), the
ActivationExplorer answers a unit move and the SaliencyView a change of method with a new
picture."""

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


def test_08_runs_and_its_views_respond(page):
    open_notebook(page, "08_what_a_cnn_sees.ipynb")
    seconds = run_all(page)
    assert not error_outputs(page), error_outputs(page)
    assert seconds < 200, f"Run All took {seconds:.0f} s"

    view = view_locator(page, "ActivationExplorer")
    readout = view.locator(".cnnlib-readout").first
    assert "unit (row 7, col 8)" in readout.inner_text()
    before_src, before_png = figure_src(view), figure_png(view)
    move_slider(view, "col", 2)  # unit (7, 8) -> (7, 10)
    wait_until(lambda: slider_value(view, "col") == "10", what="the col slider to reach 10")
    wait_until(lambda: "col 10)" in readout.inner_text(), what="the readout of unit (7, 10)")
    wait_for_idle(page)
    wait_for_change(lambda: figure_src(view), before_src, what="a new explorer figure")
    assert figure_png(view) != before_png
    screenshot(view, "08_activation_explorer")

    sal = view_locator(page, "SaliencyView")
    sal_readout = sal.locator(".cnnlib-readout").first
    before_src, before_png = figure_src(sal), figure_png(sal)
    control(sal, "method").locator("select").select_option("Grad-CAM")
    wait_until(lambda: "Grad-CAM" in sal_readout.inner_text(), what="the Grad-CAM readout")
    wait_for_idle(page)
    wait_for_change(lambda: figure_src(sal), before_src, what="a new saliency figure")
    assert figure_png(sal) != before_png
    assert not error_outputs(page), error_outputs(page)
    screenshot(sal, "08_saliency_view")
