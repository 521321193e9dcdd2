"""Notebook 07 beyond the smoke test: the ModelView's readout names the layer the smoke move
reached (ResNet-18 layer 4 -> 6, stage 2's first block) and switches models."""

from __future__ import annotations

from . import helpers as h


def check(page, seen) -> None:
    view = seen["view"]
    assert "4: features.layer1_0" in seen["before"]  # ResNet-18's first BasicBlock
    assert h.slider_value(view, "layer") == "6"
    readout = view.locator(".cnnlib-readout").first
    h.wait_until(lambda: "features.layer2_0" in readout.inner_text(), what="the readout of layer 6")
    assert "128 x 28 x 28" in readout.inner_text()

    before_src = h.figure_src(view)
    h.control(view, "model").locator("select").select_option("LeNet-5")
    h.wait_until(lambda: "output" in readout.inner_text(), timeout=60, what="LeNet-5's layer 6")
    h.wait_for_idle(page)
    h.wait_for_change(lambda: h.figure_src(view), before_src, what="a new figure")
    text = readout.inner_text()  # the RBF output: its 840 centres are fixed, not trained
    assert "RBFOutput" in text and "parameters  0\n" in text
    assert not h.error_outputs(page), h.error_outputs(page)
    h.screenshot(view, "07_architectures_model_view")
