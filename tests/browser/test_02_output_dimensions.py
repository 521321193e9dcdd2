"""Notebook 02 in JupyterLab: it runs top to bottom without errors, and the DimensionsExplorer
answers a slider move with a new picture and a new formula in its readout."""

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


def test_02_output_dimensions_runs_and_the_explorer_responds(page):
    open_notebook(page, "02_output_dimensions.ipynb")
    seconds = run_all(page)
    assert not error_outputs(page), error_outputs(page)
    assert seconds < 120, f"Run All took {seconds:.0f} s"

    view = view_locator(page, "DimensionsExplorer")
    readout = view.locator(".cnnlib-readout").first
    # the default: 7 inputs, kernel 3, stride 2, padding 1 -> floor(6/2 + 1) = 4
    assert "6 cells left to slide over in steps of 2" in readout.inner_text()
    assert "output 4 × 4" in readout.inner_text()
    before_src, before_png = figure_src(view), figure_png(view)

    move_slider(view, "stride", 1)  # stride 2 -> 3
    wait_for_change(lambda: slider_value(view, "stride"), "2", what="the stride slider to move")
    assert slider_value(view, "stride") == "3"
    wait_for_change(lambda: figure_src(view), before_src, what="a new figure")
    assert figure_png(view) != before_png
    # 7 + 2*1 - 1*(3-1) - 1 = 6 cells of room, stride 3: floor(6/3 + 1) = 3 windows
    wait_until(lambda: "in steps of 3" in readout.inner_text(), what="the readout")
    assert "output 3 × 3" in readout.inner_text()
    assert not error_outputs(page), error_outputs(page)
    screenshot(view, "02_dimensions_explorer_moved")

    # an impossible combination: a message in the view, not a traceback
    move_slider(view, "size", -6)  # size 7 -> 1, with kernel 3 and padding 1: still fits
    wait_until(lambda: slider_value(view, "size") == "1", what="the size slider to reach 1")
    move_slider(view, "padding", -1)  # padding 0: a kernel of 3 on 1 pixel does not fit
    wait_until(lambda: slider_value(view, "padding") == "0", what="the padding slider to reach 0")
    message = view.locator(".cnnlib-message").first
    try:
        wait_until(lambda: "larger than the padded input" in message.inner_text(), timeout=60)
    except pytest.fail.Exception:
        shown = {"message": message.inner_text(), "readout": readout.inner_text()}
        screenshot(view, "02_dimensions_explorer_no_message")
        pytest.fail(f"no 'larger than the padded input' message after 60 s; the view shows {shown}")
    assert "Traceback" not in message.inner_text()
    screenshot(view, "02_dimensions_explorer_impossible")
