"""Notebook 01 in a real JupyterLab: Run All without errors, and both views answer the mouse.

The expected numbers are computed here, in the test process, from the views' default data and
cnnlib.conv (itself tested against torch); the page only says where the window is and what it
shows. A slider move must change the picture and the readout, to the right number.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnlib.conv import conv2d, max_pool2d
from cnnlib.data import default_feature_map, house
from cnnlib.widgets.sliding_kernel import PRESETS

from .conftest import (
    error_outputs,
    figure_png,
    figure_src,
    move_slider,
    open_notebook,
    run_all,
    screenshot,
    view_locator,
    wait_for_idle,
    wait_until,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "01_convolution.ipynb"


def readout(view) -> tuple[int, int, float]:
    """(row, col, value) as the view's readout shows them: "output[6, 3] = 21.0000 ..."."""
    position = view.locator(".cnnlib-readout .cnnlib-position").first.inner_text()
    row, col = (int(v) for v in re.findall(r"\d+", position))
    value = view.locator(".cnnlib-readout .cnnlib-value").first.get_attribute("data-value")
    return row, col, float(value)


def test_run_all_then_move_the_views(page):
    open_notebook(page, NOTEBOOK)
    seconds = run_all(page)
    print(f"Run All took {seconds:.1f} s")
    screenshot(page, "01_convolution_after_run_all")
    errors = error_outputs(page)
    assert not errors, "cells or views showed errors:\n" + "\n".join(errors)

    # -- SlidingKernel: the notebook leaves it at output cell (6, 3) of house() * Sobel x
    expected = conv2d(house(), PRESETS["Sobel x"])
    view = view_locator(page, "SlidingKernel")
    row, col, value = readout(view)
    assert (row, col) == (6, 3)
    assert value == pytest.approx(expected[row, col], abs=1e-4)
    src, png = figure_src(view), figure_png(view)

    move_slider(view, "col", 2)
    wait_until(lambda: readout(view)[:2] == (6, 5), what="the SlidingKernel readout at (6, 5)")
    wait_for_idle(page)
    new_src = figure_src(view)
    row, col, value = readout(view)
    assert (row, col) == (6, 5)
    assert value == pytest.approx(expected[6, 5], abs=1e-4)
    assert not np.isclose(expected[6, 5], expected[6, 3])  # the move must change the number
    assert new_src != src and figure_png(view) != png
    screenshot(view, "01_convolution_sliding_kernel_moved")

    # -- PoolingView: the notebook leaves it in max mode at output cell (1, 2), 2 x 2 windows
    pooled = max_pool2d(default_feature_map(), 2)
    pool = view_locator(page, "PoolingView")
    row, col, value = readout(pool)
    assert (row, col) == (1, 2)
    assert value == pytest.approx(pooled[1, 2], abs=1e-4)
    src, png = figure_src(pool), figure_png(pool)

    move_slider(pool, "row", 1)
    wait_until(lambda: readout(pool)[:2] == (2, 2), what="the PoolingView readout at (2, 2)")
    wait_for_idle(page)
    new_src = figure_src(pool)
    row, col, value = readout(pool)
    assert (row, col) == (2, 2)
    assert value == pytest.approx(pooled[2, 2], abs=1e-4)
    assert new_src != src and figure_png(pool) != png
    screenshot(pool, "01_convolution_pooling_moved")
