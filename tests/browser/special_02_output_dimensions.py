"""Notebook 02 beyond the smoke test: the formula in the DimensionsExplorer's readout before and
after the smoke move (stride 2 -> 3), and an impossible setting shown as a message."""

from __future__ import annotations

import pytest

from .helpers import move_slider, screenshot, slider_value, wait_until


def check(page, seen) -> None:
    view = seen["view"]
    # the default: 7 inputs, kernel 3, stride 2, padding 1 -> floor(6/2 + 1) = 4
    assert "6 cells left to slide over in steps of 2" in seen["before"]
    assert "output 4 × 4" in seen["before"]
    assert slider_value(view, "stride") == "3"
    readout = view.locator(".cnnlib-readout").first
    # 7 + 2*1 - 1*(3-1) - 1 = 6 cells of room, stride 3: floor(6/3 + 1) = 3 windows
    wait_until(lambda: "in steps of 3" in readout.inner_text(), what="the readout")
    assert "output 3 × 3" in readout.inner_text()
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
