"""Notebook 08 beyond the smoke test: the ActivationExplorer's readout names the unit the smoke
move reached, and the SaliencyView answers a change of method with a new picture."""

from __future__ import annotations

from . import helpers as h


def check(page, seen) -> None:
    view = seen["view"]
    assert "unit (row" in seen["before"]
    col = h.slider_value(view, "col")
    readout = view.locator(".cnnlib-readout").first
    h.wait_until(lambda: f"col {col})" in readout.inner_text(), what="the new unit's readout")
    h.screenshot(view, "08_activation_explorer")

    sal = h.view_locator(page, "SaliencyView")
    sal_readout = sal.locator(".cnnlib-readout").first
    before_src, before_png = h.figure_src(sal), h.figure_png(sal)
    h.control(sal, "method").locator("select").select_option("Grad-CAM")
    h.wait_until(lambda: "Grad-CAM" in sal_readout.inner_text(), what="the Grad-CAM readout")
    h.wait_for_idle(page)
    h.wait_for_change(lambda: h.figure_src(sal), before_src, what="a new saliency figure")
    assert h.figure_png(sal) != before_png
    assert not h.error_outputs(page), h.error_outputs(page)
    h.screenshot(sal, "08_saliency_view")
