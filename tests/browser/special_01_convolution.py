"""Notebook 01 beyond the smoke test: the numbers the two views show are conv2d's and
max_pool2d's, computed here from the views' default data (cnnlib.conv is tested against torch).

The smoke move took the SlidingKernel from output cell (6, 3) of house() * Sobel x to (6, 5).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnlib.conv import conv2d, max_pool2d
from cnnlib.data import default_feature_map, house
from cnnlib.widgets.sliding_kernel import PRESETS

from .helpers import (
    figure_png,
    figure_src,
    move_slider,
    screenshot,
    view_locator,
    wait_for_idle,
    wait_until,
)


def readout(view) -> tuple[int, int, float]:
    """(row, col, value) as the view's readout shows them: "output[6, 3] = 21.0000 ..."."""
    position = view.locator(".cnnlib-readout .cnnlib-position").first.inner_text()
    row, col = (int(v) for v in re.findall(r"\d+", position))
    value = view.locator(".cnnlib-readout .cnnlib-value").first.get_attribute("data-value")
    return row, col, float(value)


def check(page, seen) -> None:
    expected = conv2d(house(), PRESETS["Sobel x"])
    assert "output[6, 3]" in seen["before"]
    assert float(seen["before_value"]) == pytest.approx(expected[6, 3], abs=1e-4)
    view = seen["view"]
    wait_until(lambda: readout(view)[:2] == (6, 5), what="the SlidingKernel readout at (6, 5)")
    row, col, value = readout(view)
    assert value == pytest.approx(expected[6, 5], abs=1e-4)
    assert not np.isclose(expected[6, 5], expected[6, 3])  # the move must change the number
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
