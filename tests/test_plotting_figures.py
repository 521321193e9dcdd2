"""plotting.label_cells and plotting.show_images (the figures of notebook 01)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnnlib.plotting import label_cells, new_figure, show_grid, show_images


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
