"""plotting.label_cells, plotting.show_images and plotting.show_conv_window (the figures of
notebook 01)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnnlib.plotting import label_cells, new_figure, show_conv_window, show_grid, show_images


def test_label_cells_writes_every_value_in_its_cell_with_a_contrasting_colour():
    fig = new_figure(4, 4)
    ax = fig.subplots()
    values = np.array([[0.0, 1.0], [2.0, 3.0]])
    im = show_grid(ax, values, cmap="gray")
    labels = label_cells(im)
    assert [t.get_text() for t in labels] == ["0", "1", "2", "3"]
    assert [t.get_position() for t in labels] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    # gray: 0 is black (white text), 3 is white (black text)
    assert labels[0].get_color() == "white" and labels[3].get_color() == "black"
    assert label_cells(im, "{:.1f}")[1].get_text() == "1.0"


def test_show_images_one_titled_axis_per_image_and_symmetric_limits():
    a = np.arange(12.0).reshape(3, 4)
    b = a - 20.0
    fig = show_images([a, b], ["a", "b"], cmaps=["gray", "PuOr_r"], symmetric=[False, True])
    try:
        axes = fig.axes
        assert [ax.get_title() for ax in axes] == ["a", "b"]
        assert axes[0].images[0].get_clim() == (0.0, 11.0)
        assert axes[1].images[0].get_clim() == (-20.0, 20.0)
        assert not axes[0].axison
    finally:
        plt.close(fig)


def test_show_images_percentile_saturates_the_extremes():
    a = np.concatenate([np.linspace(-1, 1, 99), [50.0]]).reshape(10, 10)
    fig = show_images([a, a], ["s", "p"], symmetric=[True, False], percentile=99)
    try:
        sym, plain = (ax.images[0].get_clim() for ax in fig.axes)
        m = np.percentile(np.abs(a), 99)
        assert sym == pytest.approx((-m, m)) and m < 50
        assert plain == pytest.approx(tuple(np.percentile(a, [1, 99])))
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="percentile"):
        show_images([a], ["a"], percentile=10)


def test_show_images_rejects_mismatched_lists():
    with pytest.raises(ValueError, match="titles must have one entry per image"):
        show_images([np.zeros((2, 2))], ["a", "b"])
    with pytest.raises(ValueError, match="cmaps and symmetric"):
        show_images([np.zeros((2, 2))], ["a"], cmaps=["gray", "gray"])


@pytest.mark.parametrize(
    ("row", "col", "title"),
    [  # Dive into Deep Learning, section 7.2: its worked example and the last output, by hand
        (0, 0, "output[0, 0] = 0·0 + 1·1 + 3·2 + 4·3 = 19"),
        (1, 1, "output[1, 1] = 4·0 + 5·1 + 7·2 + 8·3 = 43"),
    ],
)
def test_show_conv_window_writes_the_sum_out_and_outlines_the_window(row, col, title):
    x = np.arange(9.0).reshape(3, 3)
    kernel = np.array([[0.0, 1.0], [2.0, 3.0]])
    fig = show_conv_window(x, kernel, row=row, col=col)
    try:
        assert fig.get_suptitle() == title
        axes = fig.axes
        assert [ax.get_title() for ax in axes] == ["input", "kernel", "output"]
        assert np.array_equal(axes[2].images[0].get_array(), [[19, 25], [37, 43]])
        assert [t.get_text() for t in axes[2].texts] == ["19", "25", "37", "43"]
        (window,) = axes[0].patches  # the 2 x 2 window under the kernel, on the input's cells
        assert window.get_xy() == (col - 0.5, row - 0.5)
        assert (window.get_width(), window.get_height()) == (2, 2)
        (cell,) = axes[2].patches
        assert cell.get_xy() == (col - 0.5, row - 0.5) and cell.get_width() == 1
    finally:
        plt.close(fig)


def test_show_conv_window_names_what_is_wrong():
    x, kernel = np.zeros((3, 3)), np.zeros((2, 2))
    with pytest.raises(ValueError, match="outside the"):
        show_conv_window(x, kernel, row=2)
    with pytest.raises(ValueError, match="must be 2-D"):
        show_conv_window(np.zeros((1, 3, 3)), kernel)
