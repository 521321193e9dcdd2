"""draw_conv_grid: the picture shows the grid that cnnlib.shapes.conv_grid describes."""

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from cnnlib.plotting import ARITHMETIC_COLORS, HIGHLIGHT, draw_conv_grid
from cnnlib.shapes import conv_grid


def _draw(*args, window=0):
    ax = Figure().subplots()
    draw_conv_grid(ax, conv_grid(*args), window=window, title="t")
    return ax


def test_colours_follow_the_cells():
    # transposed, 3 inputs, stride 2, padding 1: 1 padding cell, i 0 i 0 i, 1 padding + 1 extra
    ax = _draw(3, 3, 2, 1, 1, True, 1)
    rgba = ax.images[0].get_array()
    assert rgba.shape == (8, 8, 4)
    row = [tuple(c) for c in rgba[1]]
    expected = ["padding", "input", "zero", "input", "zero", "input", "padding", "padding"]
    assert row == [to_rgba(ARITHMETIC_COLORS[k]) for k in expected]
    assert tuple(rgba[0, 0]) == to_rgba(ARITHMETIC_COLORS["padding"])


def test_window_and_lost_pixels():
    # 7 inputs, kernel 2, stride 3: window 1 reads 3 and 4; pixels 2, 5, 6 are never read
    ax = _draw(7, 2, 3, 0, 1, False, 0, window=1)
    outlined = [p for p in ax.patches if p.get_edgecolor() == to_rgba(HIGHLIGHT)]
    corners = sorted((p.get_x() + 0.5, p.get_y() + 0.5) for p in outlined)
    assert corners[:4] == [(3, 3), (3, 4), (4, 3), (4, 4)]  # the 2 x 2 taps
    assert len(outlined) == 5  # and the output cell
    rgba = ax.images[0].get_array()
    lost = to_rgba(ARITHMETIC_COLORS["unreached"])
    assert [tuple(rgba[0, c]) == lost for c in range(7)] == [0, 0, 1, 0, 0, 1, 1]
    assert np.all(rgba[2, :, :3] == rgba[2, 0, :3])  # the whole lost row
    assert ax.get_title() == "t"
