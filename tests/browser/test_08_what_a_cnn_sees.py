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
    before_text = readout.inner_text()
    assert "unit (row" in before_text
    before_src, before_png = figure_src(view), figure_png(view)
    col = int(slider_value(view, "col"))
    step = -1 if col > 0 else 1
    move_slider(view, "col", step)
    wait_until(lambda: slider_value(view, "col") == str(col + step), what="the col slider")
    wait_until(lambda: f"col {col + step})" in readout.inner_text(), what="the new unit's readout")
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
