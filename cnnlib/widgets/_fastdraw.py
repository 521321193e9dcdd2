"""A View that redraws only its moving artists (blitting) on an Agg canvas.

A full redraw of a figure with a few dozen labels costs 40-60 ms, most of it in text layout
and image resampling. Most slider moves change only a window outline and a handful of labels:
``BlitView`` draws the still part once, keeps it as a background, and on each update restores
that background and draws only the artists listed in ``self.dynamic`` (in that order, so list
an artist after anything it must cover). Set ``self.full_redraw = True`` in ``_update`` when a
still artist changed (new data, new extents); ``self.relayout = True`` implies it.
"""

from __future__ import annotations

import io

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.text import Text

from cnnlib.widgets._base import View


class BlitView(View):
    """A :class:`View` whose updates redraw only ``self.dynamic`` over a cached background."""

    #: space (inches) the constrained layout leaves around each axes: room for titles of
    #: equal-aspect axes, which the layout engine under-estimates
    layout_pad: float = 0.12

    def __init__(self) -> None:
        self.dynamic: list[Artist] = []
        self.full_redraw = True
        self._background = None
        super().__init__()

    def set_dynamic(self, artists: list[Artist]) -> None:
        """Declare the artists redrawn on every update (they are left out of the background)."""
        for artist in self.dynamic:
            artist.set_animated(False)
        self.dynamic = list(artists)
        for artist in self.dynamic:
            artist.set_animated(True)
        self.full_redraw = True

    def _render(self) -> None:
        fig = self.figure
        canvas = fig.canvas
        if self.relayout:
            # lay out with the dynamic artists included, so that the layout leaves them room
            for artist in self.dynamic:
                artist.set_animated(False)
            fig.set_layout_engine("constrained", h_pad=self.layout_pad, w_pad=self.layout_pad)
            canvas.draw()
            for artist in self.dynamic:
                artist.set_animated(True)
            self.full_redraw = True
        if self.full_redraw or self._background is None or "error" in self.state:
            fig.set_layout_engine("none")
            canvas.draw()  # draws everything but the animated (dynamic) artists
            self._background = canvas.copy_from_bbox(fig.bbox)
            self.relayout = False
            self.full_redraw = False
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for artist in self.dynamic:
            if artist.get_visible():
                artist.draw(renderer)
        self.image.value = _png(np.asarray(canvas.buffer_rgba()))


def _png(rgba: np.ndarray) -> bytes:
    """PNG bytes of an RGBA buffer, saved as RGB (the figure is opaque) with light compression."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(out, format="png", compress_level=1)
    return out.getvalue()


# -- cells: grid lines, labels and text colours that stay cheap to redraw ---------------------
def cell_grid(ax: Axes, shape: tuple[int, int], lines: bool = True) -> LineCollection:
    """Show ``shape`` cells on ``ax`` with white borders drawn as one LineCollection.

    (Minor ticks with grid lines cost ~5 ms per axes per redraw; one collection costs ~0.1.)
    Hides the axis; call again when the shape changes; returns the collection.
    """
    h, w = shape
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_axis_off()
    grid = getattr(ax, "_cnnlib_grid", None)
    if grid is None:
        grid = LineCollection([], colors="white", linewidths=0.8, zorder=2)
        ax.add_collection(grid, autolim=False)
        ax._cnnlib_grid = grid
    segs = [((x - 0.5, -0.5), (x - 0.5, h - 0.5)) for x in range(1, w)]
    segs += [((-0.5, y - 0.5), (w - 0.5, y - 0.5)) for y in range(1, h)]
    grid.set_segments(segs if lines else [])
    return grid


def make_labels(ax: Axes, count: int, fontsize: float) -> list[Text]:
    """``count`` hidden bold centred text artists, to be placed by ``place_labels``."""
    return [
        ax.text(
            0,
            0,
            "",
            ha="center",
            va="center",
            fontsize=fontsize,
            fontweight="bold",
            visible=False,
            zorder=4,
        )
        for _ in range(count)
    ]


def place_labels(labels, values, rows, cols, colors, fmt=None) -> None:
    """Write ``values[k]`` at cell ``(rows[k], cols[k])`` in ``colors[k]``; hide extra labels."""
    fmt = fmt or short_number
    values, rows, cols = np.ravel(values), np.ravel(rows), np.ravel(cols)
    for k, label in enumerate(labels):
        if k < values.size:
            label.set_position((cols[k], rows[k]))
            label.set_text(fmt(values[k]))
            label.set_color(colors[k])
            label.set_visible(True)
        else:
            label.set_visible(False)


def short_number(value: float) -> str:
    """A cell label: integers as integers, other numbers with 2 significant digits."""
    value = float(value)
    if not np.isfinite(value):
        return "−∞" if value < 0 else ("∞" if value > 0 else "nan")
    if abs(value - round(value)) < 1e-9 and abs(value) < 1e6:
        return str(int(round(value)))
    return f"{value:.2g}"


def text_colors(values, vmin: float, vmax: float, diverging: bool) -> list[str]:
    """Black or white text, whichever reads better on the colormap's cell colour.

    ``diverging``: the map is dark at both ends and pale in the middle (PuOr_r); otherwise
    it is dark at the bottom and pale at the top (cividis).
    """
    span = vmax - vmin if vmax > vmin else 1.0
    t = (np.ravel(np.asarray(values, dtype=float)) - vmin) / span
    dark = np.abs(t - 0.5) > 0.32 if diverging else t < 0.55
    return ["white" if d else "black" for d in dark]


PAD_COLOR = "#d9d9d9"


def padded_rgba(
    values: np.ndarray, padding: int, cmap: str, vmin: float, vmax: float, pad_color=PAD_COLOR
) -> np.ndarray:
    """RGBA cells of ``values`` coloured by ``cmap`` with a ``padding``-wide frame in ``pad_color``.

    (An RGBA image draws faster than a masked array through a colormap.)
    """
    h, w = values.shape
    rgba = np.empty((h + 2 * padding, w + 2 * padding, 4))
    rgba[:] = to_rgba(pad_color)
    span = vmax - vmin if vmax > vmin else 1.0
    rgba[padding : padding + h, padding : padding + w] = matplotlib.colormaps[cmap](
        (values - vmin) / span
    )
    return rgba
