"""Drawing primitives: cell geometry, colour limits, PNG output, the lecture style."""

import io

import matplotlib as mpl
import numpy as np
import pytest
from PIL import Image

from cnnlib import plotting


def test_window_rect_covers_exactly_the_cells():
    fig = plotting.new_figure(4, 4)
    ax = fig.add_subplot()
    plotting.show_grid(ax, np.zeros((6, 6)))
    rect = plotting.window_rect(ax, row=2, col=1, height=3, width=2)
    assert rect.get_xy() == (0.5, 1.5)
    assert (rect.get_width(), rect.get_height()) == (2, 3)
    plotting.move_rect(rect, 0, 4, 2, 2)
    assert rect.get_xy() == (3.5, -0.5)


def test_symmetric_limits_centre_zero():
    assert plotting.symmetric_limits(np.array([-1.0, 3.0])) == (-3.0, 3.0)
    assert plotting.symmetric_limits(np.zeros(3)) == (-1.0, 1.0)


def test_figure_png_is_the_rendered_figure():
    fig = plotting.new_figure(2, 1, dpi=50)
    data = plotting.figure_png(fig)
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    assert img.size == (100, 50)
    # the pixels Agg drew, unchanged (Pillow decodes the PNG independently of our writer)
    fig.add_subplot().plot([0, 1], [1, 0])
    img = Image.open(io.BytesIO(plotting.figure_png(fig)))
    np.testing.assert_array_equal(np.asarray(img), np.asarray(fig.canvas.buffer_rgba()))


def test_lecture_style_enlarges_type_and_views_and_switches_back():
    default_size = mpl.rcParams["font.size"]
    try:
        plotting.use_style("lecture")
        assert mpl.rcParams["font.size"] == plotting.LECTURE_RC["font.size"] > default_size
        fig = plotting.new_figure(2, 1, dpi=80)
        # 1.5 times the pixels per point, on 1.5 ** (2/3) times the pixels
        assert fig.dpi == 120
        assert tuple(fig.bbox.size) == pytest.approx((160 * 1.5 ** (2 / 3), 80 * 1.5 ** (2 / 3)))
        assert plotting.view_scale() == 1.5
    finally:
        plotting.use_style("default")
    assert mpl.rcParams["font.size"] == mpl.rcParamsDefault["font.size"]
    fig = plotting.new_figure(2, 1, dpi=80)
    assert fig.dpi == 80 and tuple(fig.bbox.size) == pytest.approx((160, 80))
    assert plotting.view_scale() == 1.0


def test_use_style_names_the_rule():
    with pytest.raises(ValueError, match="style must be one of"):
        plotting.use_style("huge")


@pytest.mark.parametrize("lines", [True, False])
def test_set_grid_lines_draws_cell_borders_only_when_asked(lines):
    fig = plotting.new_figure(3, 3)
    ax = fig.add_subplot()
    plotting.set_grid_lines(ax, (4, 5), lines=lines)
    ticks = ax.xaxis.get_minor_ticks() + ax.yaxis.get_minor_ticks()
    assert len(ticks) == 5 + 1 + 4 + 1
    assert all(t.gridline.get_visible() == lines for t in ticks)
    assert ax.get_xlim() == (-0.5, 4.5)
    assert ax.get_ylim() == (3.5, -0.5)
