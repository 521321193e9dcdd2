"""Cell-drawing primitives of the views: images drawn by index lookup (``PixelImage``,
``imshow``), grid lines, cell labels and their text colours, veils and meshes that stay cheap
to redraw. Not written for learners to read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.collections import LineCollection, QuadMesh
from matplotlib.colors import to_rgba
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox, TransformedBbox
from numpy.typing import ArrayLike

from cnnlib.plotting import DIVERGING, SEQUENTIAL, cell_text_colors, colormap

if TYPE_CHECKING:
    from cnnlib.widgets._blit import BlitView


# -- images drawn by index lookup --------------------------------------------------------------
class PixelImage(AxesImage):
    """An :class:`~matplotlib.image.AxesImage` with nearest-neighbour interpolation drawn by
    an index lookup: the same pixels as matplotlib's resampler, a fraction of its time.

    Matplotlib sends every image through a general pipeline (masked arrays, float RGBA, an
    affine resampler) on every draw: ~2 ms for a small image. Here the output pixel grid and
    its transform are matplotlib's own (``_make_image``'s, kept from one draw to the next);
    output pixel ``(r, k)`` takes the colour of the input cell under its centre. Other
    interpolations, an ``alpha``, non-affine axes or another renderer take matplotlib's path.
    """

    _index_cache: tuple | None = None
    _rgba_cache: tuple | None = None

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        A = self._A
        if (
            type(renderer) is not RendererAgg
            or self.get_interpolation() not in ("nearest", "none")
            or self.get_alpha() is not None
            or A is None
            or A.size == 0
            or not self.get_transform().is_affine
            or np.any(self.get_transform().get_matrix()[[0, 1], [1, 0]])  # rotated
            or (np.ma.isMaskedArray(A) and np.ma.getmask(A) is not np.ma.nomask and A.mask.any())
        ):
            return super().draw(renderer)
        placed = self._placement(renderer, A.shape[:2])
        if placed is None:
            return
        rows, cols, x0, y0 = placed
        rgba = self._rgba(A)
        # one 4-byte pixel per element, rows then columns: ~10x faster than one 2-D gather
        pixels = rgba.view(np.uint32).reshape(rgba.shape[:2])
        out = (
            pixels.take(rows, axis=0)
            .take(cols, axis=1)
            .view(np.uint8)
            .reshape(len(rows), len(cols), 4)
        )
        gc = renderer.new_gc()
        self._set_gc_clip(gc)
        gc.set_url(self.get_url())
        gc.set_gid(self.get_gid())
        renderer.draw_image(gc, x0, y0, out)
        gc.restore()
        self.stale = False

    def _rgba(self, A) -> np.ndarray:
        """``A`` coloured (``to_rgba``, bytes), kept until the data, norm or colormap change."""
        key = (self.norm.vmin, self.norm.vmax, self.cmap.name, self.norm.__class__)
        hit = self._rgba_cache
        if hit is None or hit[0] is not A or hit[1] != key:
            if A.ndim == 2:
                self.norm.autoscale_None(A)
                key = (self.norm.vmin, self.norm.vmax, self.cmap.name, self.norm.__class__)
            rgba = np.ascontiguousarray(self.to_rgba(np.asarray(A), bytes=True))
            if rgba.shape[-1] == 3:
                rgba = np.dstack([rgba, np.full(rgba.shape[:2], 255, np.uint8)])
            hit = self._rgba_cache = (A, key, rgba)
        return hit[2]

    def _placement(self, renderer, shape: tuple[int, int]):
        """Rows and columns of the input cell under each output pixel's centre (output rows
        bottom up, as ``draw_image`` takes them), and where the output goes; None if nothing
        shows."""
        extent = tuple(self.get_extent())
        x1, x2, y1, y2 = extent
        trans = self.get_transform()
        out_bbox = TransformedBbox(Bbox(np.array([[x1, y1], [x2, y2]])), trans)
        if self.get_clip_on():
            clip = self.get_clip_box() or self.axes.bbox
        else:
            clip = self.get_figure(root=True).bbox
        matrix = trans.get_matrix()
        key = (shape, self.origin, extent, tuple(matrix.ravel()), tuple(clip.extents))
        if self._index_cache is not None and self._index_cache[0] == key:
            return self._index_cache[1]
        placed = _nearest_placement(shape, self.origin, extent, matrix, out_bbox, clip)
        self._index_cache = (key, placed)
        return placed


def _nearest_placement(shape, origin, extent, matrix, out_bbox, clip_bbox):
    """The output grid of ``AxesImage._make_image`` (matplotlib 3.11, magnification 1, rounded
    to pixel borders) and, per output pixel centre, the input row and column under it.

    ``matrix`` is the data-to-display affine (axis-aligned). Cell ``(i, j)`` of an ``h x w``
    image with extent ``(l, r, b, t)`` covers ``x`` from ``l + j (r - l)/w`` and, with origin
    "upper", ``y`` from ``t - i (t - b)/h`` (origin "lower": from ``b + i (t - b)/h``).
    """
    clipped = Bbox.intersection(out_bbox, clip_bbox)
    if clipped is None:
        return None
    e = clipped.extents
    x0 = np.floor(e[0] + 0.5)
    y0 = np.ceil(e[1] - 0.5 - 1e-8)
    x1 = np.floor(e[2] + 0.5 + 1e-8)
    y1 = np.ceil(e[3] - 0.5)
    height, width = int(y1 - y0), int(x1 - x0)
    if height <= 0 or width <= 0:
        return None
    h, w = shape
    l, r, b, t = extent
    (sx, _, tx), (_, sy, ty) = matrix[:2]
    xd = (x0 + np.arange(width) + 0.5 - tx) / sx  # output pixel centres in data coordinates
    yd = (y0 + np.arange(height) + 0.5 - ty) / sy  # bottom up
    u = (xd - l) / (r - l) * w  # in cells, as the resampler reads the array
    v = (t - yd) / (t - b) * h if origin == "upper" else (yd - b) / (t - b) * h
    # a pixel centre on a cell border (in float) may go either way: matplotlib's fixed-point
    # resampler picks the cell on the other side for a few of them
    cols, rows = np.floor(u).astype(np.intp), np.floor(v).astype(np.intp)
    keep_c = np.flatnonzero((cols >= 0) & (cols < w))
    keep_r = np.flatnonzero((rows >= 0) & (rows < h))
    if keep_c.size == 0 or keep_r.size == 0:
        return None
    c_lo, c_hi, r_lo, r_hi = keep_c[0], keep_c[-1], keep_r[0], keep_r[-1]
    return (rows[r_lo : r_hi + 1], cols[c_lo : c_hi + 1], float(x0 + c_lo), float(y0 + r_lo))


def imshow(ax: Axes, X: ArrayLike, **kwargs) -> AxesImage:
    """``ax.imshow(X, **kwargs)`` drawn as a :class:`PixelImage` (fast nearest-neighbour)."""
    im = ax.imshow(X, **kwargs)
    im.__class__ = PixelImage  # same state, faster draw
    return im


# -- cells: grid lines, labels and text colours that stay cheap to redraw ---------------------
def cell_grid(ax: Axes, shape: tuple[int, int], lines: bool = True) -> LineCollection:
    """Show ``shape`` cells on ``ax`` with white borders drawn as one LineCollection.

    (Minor ticks with grid lines cost ~5 ms per axes per redraw; one collection costs ~0.1.)
    Hides the axis; call again when the shape changes; returns the collection.
    """
    h, w = shape
    grid = getattr(ax, "_cnnlib_grid", None)
    if (
        grid is not None
        and getattr(grid, "_cnnlib_shape", None) == (h, w, lines)
        and ax.get_xlim() == (-0.5, w - 0.5)
        and ax.get_ylim() == (h - 0.5, -0.5)
    ):
        return grid  # setting the same limits again would still invalidate the transforms
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_axis_off()
    if grid is None:
        grid = LineCollection([], colors="white", linewidths=0.8, zorder=2)
        ax.add_collection(grid, autolim=False)
        ax._cnnlib_grid = grid
    segs = [((x - 0.5, -0.5), (x - 0.5, h - 0.5)) for x in range(1, w)]
    segs += [((-0.5, y - 0.5), (w - 0.5, y - 0.5)) for y in range(1, h)]
    grid.set_segments(segs if lines else [])
    grid._cnnlib_shape = (h, w, lines)
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


def place_labels(
    labels: list[Text],
    values: ArrayLike,
    rows: ArrayLike,
    cols: ArrayLike,
    colors: Sequence[str],
    fmt: Callable[[float], str] | None = None,
) -> None:
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
    """A short cell label that hides no digit left of the point: 36.5 -> "36.5", 166.78 -> "167".

    Integers as integers; other numbers below 1 with 2 significant digits, from 1 to 100 with
    one decimal (0.996 -> "1.0", so that only a whole number reads as one), from 100 to a
    million rounded to whole numbers. An exponent only for the very small (below 0.0001) and
    the very large (a million or more).
    """
    value = float(value)
    if not np.isfinite(value):
        return "−∞" if value < 0 else ("∞" if value > 0 else "nan")
    size = abs(value)
    if abs(value - round(value)) < 1e-9 and size < 1e6:
        return str(int(round(value)))
    if size < 1e-4 or size >= 1e6:
        return f"{value:.2g}"
    text = f"{value:.2g}"
    if abs(float(text)) < 1:
        return text
    if round(size, 1) < 100:
        return f"{value:.1f}"
    return str(int(round(value)))


def text_colors(values: ArrayLike, vmin: float, vmax: float, diverging: bool) -> list[str]:
    """Black or white text for cells coloured by the views' colormap (``DIVERGING`` if
    ``diverging`` else ``SEQUENTIAL``) on ``[vmin, vmax]``: ``plotting.cell_text_colors``,
    the WCAG contrast rule every view shares."""
    return cell_text_colors(values, DIVERGING if diverging else SEQUENTIAL, vmin, vmax)


PAD_COLOR = "#d9d9d9"
VEIL_COLOR = (0.85, 0.85, 0.85, 1.0)  # opaque: numbers not yet written stay hidden


def make_veil(ax: Axes, color=VEIL_COLOR) -> list[Rectangle]:
    """Two rectangles that grey out the cells of a grid after a position in raster order."""
    return [
        ax.add_patch(Rectangle((0, 0), 0, 0, facecolor=color, edgecolor="none", zorder=2.5))
        for _ in range(2)
    ]


def place_veil(veil: list[Rectangle], row: int, col: int, shape: tuple[int, int]) -> None:
    """Cover the cells after ``(row, col)`` of a ``shape`` grid: the rest of the row, then below.

    (Two patches draw ten times faster than an RGBA image over the grid.)
    """
    h, w = shape
    rest_of_row, below = veil
    rest_of_row.set_bounds(col + 0.5, row - 0.5, w - col - 1, 1)
    below.set_bounds(-0.5, row + 0.5, w, h - row - 1)


def cell_mesh(ax: Axes, shape: tuple[int, int], cmap: str) -> QuadMesh:
    """A ``shape`` grid of coloured cells centred on integer coordinates.

    Update it with ``set_array(values)`` + ``set_clim``, or ``set_array(None)`` +
    ``set_facecolor(rgba)`` for ready-made colours; it leaves the axes' limits alone.
    (A QuadMesh draws a few times faster than an image, which is resampled on every draw.)
    """
    h, w = shape
    xs, ys = np.meshgrid(np.arange(w + 1) - 0.5, np.arange(h + 1) - 0.5)
    mesh = QuadMesh(np.stack([xs, ys], axis=-1), cmap=cmap, zorder=1, antialiased=False)
    mesh.set_array(np.zeros((h, w)))
    ax.add_collection(mesh, autolim=False)
    return mesh


def update_mesh(
    view: BlitView,
    mesh: QuadMesh,
    values: np.ndarray | None = None,
    clim: tuple[float, float] | None = None,
    rgba: np.ndarray | None = None,
) -> QuadMesh:
    """Show ``values`` (coloured by the mesh's colormap within ``clim``) or ``rgba`` colours.

    Returns the mesh, a new one (in the old one's place in ``view``'s layers) if the grid's
    shape changed.
    """
    shape = (values if rgba is None else rgba).shape[:2]
    if mesh.get_coordinates().shape[:2] != (shape[0] + 1, shape[1] + 1):
        new = cell_mesh(mesh.axes, shape, mesh.get_cmap().name)
        view.replace_artist(mesh, new)
        mesh = new
    if rgba is None:
        mesh.set_array(values)
        if clim is not None:
            mesh.set_clim(*clim)
    else:
        mesh.set_array(None)
        mesh.set_facecolor(rgba.reshape(-1, rgba.shape[-1]))
    return mesh


def padded_rgba(
    values: np.ndarray,
    padding: int,
    cmap: str,
    vmin: float,
    vmax: float,
    pad_color: str = PAD_COLOR,
) -> np.ndarray:
    """RGBA cells of ``values`` coloured by ``cmap`` with a ``padding``-wide frame in ``pad_color``.

    (An RGBA image draws faster than a masked array through a colormap.)
    """
    h, w = values.shape
    rgba = np.empty((h + 2 * padding, w + 2 * padding, 4))
    rgba[:] = to_rgba(pad_color)
    span = vmax - vmin if vmax > vmin else 1.0
    rgba[padding : padding + h, padding : padding + w] = colormap(cmap)((values - vmin) / span)
    return rgba


def fit_fontsize(ax: Axes, shape: tuple[int, int], longest: int, largest: float = 14.0) -> float:
    """The font size (points) at which ``longest`` characters fit in a cell of a ``shape`` grid.

    Uses the axes' slot in the figure (before the equal-aspect shrink), so it is an estimate;
    bold digits are about 0.66 em wide.
    """
    fig = ax.figure
    box = ax.get_position(original=True)
    width_pt = box.width * fig.get_figwidth() * 72
    height_pt = box.height * fig.get_figheight() * 72
    cell = min(width_pt / max(shape[1], 1), height_pt / max(shape[0], 1))
    size = float(np.clip(0.9 * cell / (0.66 * max(longest, 1)), 7.0, largest))
    return max(7.0, math.floor(2 * size) / 2)  # half points: few fonts, so few glyph caches
