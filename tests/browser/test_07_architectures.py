"""Notebook 07 in JupyterLab: it runs top to bottom without errors, and the ModelView answers
a layer move and a model change with a new picture and new numbers."""

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


def test_07_architectures_runs_and_the_model_view_responds(page):
    open_notebook(page, "07_architectures.ipynb")
    seconds = run_all(page)
    assert not error_outputs(page), error_outputs(page)
    assert seconds < 180, f"Run All took {seconds:.0f} s"

    view = view_locator(page, "ModelView")
    readout = view.locator(".cnnlib-readout").first
    assert "4: features.layer1_0" in readout.inner_text()  # ResNet-18's first BasicBlock
    before_src, before_png = figure_src(view), figure_png(view)

    move_slider(view, "layer", 2)  # layer 4 -> 6: the first block of stage 2
    wait_until(lambda: slider_value(view, "layer") == "6", what="the layer slider to reach 6")
    wait_until(lambda: "features.layer2_0" in readout.inner_text(), what="the readout of layer 6")
    wait_for_idle(page)
    wait_for_change(lambda: figure_src(view), before_src, what="a new figure")
    assert figure_png(view) != before_png
    assert "128 x 28 x 28" in readout.inner_text()

    before_src = figure_src(view)
    control(view, "model").locator("select").select_option("LeNet-5")
    wait_until(lambda: "output" in readout.inner_text(), timeout=60, what="LeNet-5's layer 6")
    wait_for_idle(page)
    wait_for_change(lambda: figure_src(view), before_src, what="a new figure")
    text = readout.inner_text()  # the RBF output: its 840 centres are fixed, not trained
    assert "RBFOutput" in text and "parameters  0\n" in text
    assert not error_outputs(page), error_outputs(page)
    screenshot(view, "07_architectures_model_view")
