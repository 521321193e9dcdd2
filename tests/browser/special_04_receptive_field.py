"""Notebook 04 beyond the smoke test: the grid view's field moves with the unit (smoke move:
unit_col 15 -> 17), and the photo view's field moves down with its unit row."""

from __future__ import annotations

from . import helpers as h


def check(page, seen) -> None:
    view = seen["view"]
    # three 3x3 convs: unit (15, 15) sees cols 12..18; two steps right: 14..20
    assert "cols 12..18" in seen["before"]
    assert h.slider_value(view, "unit_col") == "17"
    readout = view.locator(".cnnlib-readout").first
    h.wait_until(lambda: "cols 14..20" in readout.inner_text(), what="the field to move")
    h.screenshot(view, "04_receptive_field_grid")

    # the photo view: SimpleCNN on 128 x 128, unit row 7 sees rows 41..78; one step down: 49..86
    photo = h.view_locator(page, "ReceptiveFieldExplorer", 1)
    readout = photo.locator(".cnnlib-readout").first
    assert "rows 41..78" in readout.inner_text()
    before_png = h.figure_png(photo)
    h.move_slider(photo, "unit_row", 1)
    h.wait_until(lambda: "rows 49..86" in readout.inner_text(), what="the field to move down")
    h.wait_until(lambda: h.figure_png(photo) != before_png, what="the photo's picture to change")
    assert not h.error_outputs(page), h.error_outputs(page)
    h.screenshot(photo, "04_receptive_field_photo")
