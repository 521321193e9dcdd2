"""Notebook 04 in JupyterLab: it runs top to bottom without errors, and picking another unit in
either ReceptiveFieldExplorer moves the highlighted field (new readout, new picture)."""

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


def test_04_receptive_field_runs_and_the_field_moves(page):
    open_notebook(page, "04_receptive_field.ipynb")
    seconds = run_all(page)
    assert not error_outputs(page), error_outputs(page)
    assert seconds < 120, f"Run All took {seconds:.0f} s"

    # the grid view: three 3x3 convs, unit (15, 15) sees cols 12..18; two steps right: 14..20
    view = view_locator(page, "ReceptiveFieldExplorer", 0)
    readout = view.locator(".cnnlib-readout").first
    assert "cols 12..18" in readout.inner_text()
    before_src, before_png = figure_src(view), figure_png(view)
    move_slider(view, "unit_col", 2)
    wait_for_change(lambda: slider_value(view, "unit_col"), "15", what="unit_col to move")
    assert slider_value(view, "unit_col") == "17"
    wait_until(lambda: "cols 14..20" in readout.inner_text(), what="the field to move")
    wait_for_change(lambda: figure_src(view), before_src, what="a new figure")
    assert figure_png(view) != before_png
    screenshot(view, "04_receptive_field_grid")

    # the photo view: SimpleCNN on 128 x 128, unit row 7 sees rows 41..78; one step down: 49..86
    photo = view_locator(page, "ReceptiveFieldExplorer", 1)
    readout = photo.locator(".cnnlib-readout").first
    assert "rows 41..78" in readout.inner_text()
    before_png = figure_png(photo)
    move_slider(photo, "unit_row", 1)
    wait_until(lambda: "rows 49..86" in readout.inner_text(), what="the field to move down")
    wait_until(lambda: figure_png(photo) != before_png, what="the photo's picture to change")
    assert not error_outputs(page), error_outputs(page)
    screenshot(photo, "04_receptive_field_photo")
