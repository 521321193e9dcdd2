"""A View that redraws only what changed (blitting, in layers) on an Agg canvas.

A full redraw of a figure with a few dozen labels costs 40-60 ms, most of it in text layout
and image resampling, and most slider moves change only a window outline and a few labels.
``BlitView`` keeps the figure in layers: layer 0 is everything not listed elsewhere (drawn by
a full ``canvas.draw()``), then each list given to ``set_layers`` in order; the last list is
redrawn on every update, the ones before it are cached as backgrounds. In ``_update``, call
``self.redraw_from(j)`` when an artist of layer ``j`` changed (0, or ``self.full_redraw = True``:
a full redraw); artists are drawn in list order, so list an artist after anything it must
cover. ``set_dynamic(artists)`` is the one-layer case.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.collections import LineCollection, QuadMesh
from matplotlib.colors import to_rgba
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox, TransformedBbox
from numpy.typing import ArrayLike

from cnnlib.plotting import DIVERGING, SEQUENTIAL, cell_text_colors, colormap, png_bytes
from cnnlib.widgets._base import View


class BlitView(View):
    """A :class:`View` that caches its still layers and redraws only what changed."""

    #: space (inches) the constrained layout leaves around each axes: room for titles of
    #: equal-aspect axes, which the layout engine under-estimates
    layout_pad: float = 0.12

    def __init__(self) -> None:
        self.layers: list[list[Artist]] = [[]]
        self._backgrounds: list = [None]
        self._dirty = 0
        super().__init__()

    def set_layers(self, *layers: list[Artist]) -> None:
        """Declare the cached layers 1..n-1 and, last, the artists redrawn on every update."""
        for artist in self._layered():
            artist.set_animated(False)
        self.layers = [list(layer) for layer in layers]
        for artist in self._layered():
            artist.set_animated(True)  # left out of canvas.draw(): drawn by _render
        self._backgrounds = [None] * len(self.layers)
        self._dirty = 0

    def set_dynamic(self, artists: list[Artist]) -> None:
        """One layer over the background: ``artists`` are redrawn on every update."""
        self.set_layers(artists)

    @property
    def full_redraw(self) -> bool:
        """Set to True in ``_update`` when anything outside the dynamic artists changed."""
        return self._dirty == 0

    @full_redraw.setter
    def full_redraw(self, value: bool) -> None:
        if value:
            self.redraw_from(0)

    def redraw_from(self, layer: int) -> None:
        """Mark layer ``layer`` (0: everything) and the layers above it as changed."""
        self._dirty = min(self._dirty, layer)

    def replace_artist(self, old: Artist, new: Artist) -> None:
        """Put ``new`` in ``old``'s place in the layers (e.g. a mesh rebuilt for a new shape)."""
        for layer in self.layers:
            for k, artist in enumerate(layer):
                if artist is old:
                    layer[k] = new
                    new.set_animated(True)
        old.remove()

    def _layered(self) -> list[Artist]:
        return [artist for layer in self.layers for artist in layer]

    def _render(self) -> None:
        fig = self.figure
        canvas = fig.canvas
        n = len(self.layers)
        if self.relayout:
            # lay out with the layered artists included, so that the layout leaves them room
            for artist in self._layered():
                artist.set_animated(False)
            fig.set_layout_engine("constrained", h_pad=self.layout_pad, w_pad=self.layout_pad)
            canvas.draw()
            for artist in self._layered():
                artist.set_animated(True)
            fig.set_layout_engine("none")
            self.relayout = False
            self._dirty = 0
        if "error" in self.state or any(bg is None for bg in self._backgrounds):
            self._dirty = 0
        renderer = canvas.get_renderer()
        if self._dirty == 0:
            canvas.draw()  # layer 0: everything but the layered (animated) artists
            self._backgrounds[0] = canvas.copy_from_bbox(fig.bbox)
            start = 1
        else:
            start = self._dirty
            canvas.restore_region(self._backgrounds[start - 1])
        for j in range(start, n):
            self._draw(self.layers[j - 1], renderer)
            self._backgrounds[j] = canvas.copy_from_bbox(fig.bbox)
        self._draw(self.layers[n - 1], renderer)
        self._dirty = n
        self.image.value = png_bytes(np.asarray(canvas.buffer_rgba()))

    @staticmethod
    def _draw(artists: list[Artist], renderer) -> None:
        for ax in {id(a.axes): a.axes for a in artists if a.axes is not None}.values():
            _apply_aspect(ax)  # new limits may have moved an equal-aspect box
        for artist in artists:
            if artist.get_visible():
                artist.draw(renderer)


def _apply_aspect(ax: Axes) -> None:
    """``ax.apply_aspect()`` unless nothing it depends on changed since the last call.

    (It costs ~0.3 ms an axes and invalidates the axes' transforms, so the texts on it are
    laid out again; most updates change no limits.)
    """
    if getattr(ax, "_cnnlib_aspect_key", None) != _aspect_key(ax):
        ax.apply_aspect()
        ax._cnnlib_aspect_key = _aspect_key(ax)  # after: "datalim" moves the limits


def _aspect_key(ax: Axes) -> tuple:
    fig = ax.figure
    return (
        tuple(ax.viewLim.bounds),
        # (get_position() would call apply_aspect itself)
        tuple(ax._originalPosition.bounds),
        tuple(ax._position.bounds),
        ax.get_aspect(),
        ax.get_adjustable(),
        ax.get_anchor(),
        fig.bbox.width,
        fig.bbox.height,
    )


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


# -- text drawn from a bitmap cache -----------------------------------------------------------
class CachedText(Text):
    """A :class:`~matplotlib.text.Text` that renders each string once and then pastes the bitmap.

    Agg renders text glyph by glyph (~1 ms for a 15-character label), so a figure with a few
    dozen labels spends most of a redraw on text that did not change. Here a line is rendered
    on a small transparent canvas at the same sub-pixel offset, cropped, cached (keyed by the
    string, font, colour and sub-pixel offset) and pasted with one ``draw_image``. Rotated
    text, math text, usetex, path effects and other renderers take matplotlib's own path.
    """

    _cache: dict[tuple, tuple[np.ndarray, int, int]] = {}
    _cache_size = 2048

    def draw(self, renderer) -> None:
        if (
            type(renderer) is not RendererAgg
            or self.get_usetex()
            or self.get_path_effects()
            or self.get_rotation() % 360
        ):
            return super().draw(renderer)
        renderer.draw_text = partial(_draw_text_cached, renderer)  # only for this draw
        try:
            super().draw(renderer)
        finally:
            del renderer.draw_text


def _draw_text_cached(renderer, gc, x, y, s, prop, angle, ismath=False, mtext=None) -> None:
    """``RendererAgg.draw_text`` through ``CachedText._cache`` (x right, y down, baseline)."""
    if ismath or angle % 360:
        return RendererAgg.draw_text(renderer, gc, x, y, s, prop, angle, ismath, mtext)
    up = renderer.height - y  # FreeType places glyphs in y-up coordinates
    ix, iy = math.floor(x), math.floor(up)
    fx, fy = x - ix, up - iy
    shaping = None if mtext is None else (mtext.get_fontfeatures(), mtext.get_language())
    key = (s, hash(prop), shaping, matplotlib.rcParams["text.hinting"], renderer.dpi,
           tuple(gc.get_rgb()), gc.get_alpha(), gc.get_antialiased(),
           round(fx * 256), round(fy * 256))  # fmt: skip
    cache = CachedText._cache
    hit = cache.get(key)
    if hit is None:
        hit = _render_to_cache(renderer, gc, s, prop, mtext, fx, fy, key)
    img, dx, dy = hit
    if img.size == 0:
        return
    gc1 = renderer.new_gc()
    gc1.copy_properties(gc)
    gc1.set_alpha(1.0)  # the bitmap carries the text's alpha already
    # draw_image takes the image's bottom-left corner, y up from the canvas' bottom
    renderer.draw_image(gc1, ix + dx, iy + dy - img.shape[0], img)
    gc1.restore()


def _render_to_cache(renderer, gc, s, prop, mtext, fx, fy, key) -> tuple[np.ndarray, int, int]:
    """:func:`_render_bitmap`, stored under ``key`` in ``CachedText._cache``."""
    hit = _render_bitmap(renderer, gc, s, prop, mtext, fx, fy)
    cache = CachedText._cache
    if len(cache) >= CachedText._cache_size:
        cache.clear()
    cache[key] = hit
    return hit


def _render_bitmap(renderer, gc, s, prop, mtext, fx, fy) -> tuple[np.ndarray, int, int]:
    """Render ``s`` with its origin at sub-pixel offset ``(fx, fy)`` on a small canvas and crop
    it: ``(bitmap rows bottom up, dx, dy)``."""
    w, h, d = RendererAgg.get_text_width_height_descent(renderer, s, prop, ismath=False)
    pad = math.ceil(prop.get_size_in_points() * renderer.dpi / 72) + 2
    width, height = math.ceil(w) + 2 * pad, math.ceil(h) + 2 * pad
    oy = pad + math.ceil(d)  # the origin at (pad + fx, oy + fy), y up, on a small canvas
    tmp = RendererAgg(width, height, renderer.dpi)
    RendererAgg.draw_text(tmp, gc, pad + fx, height - (oy + fy), s, prop, 0, False, mtext)
    rgba = np.asarray(tmp.buffer_rgba())
    rows, cols = np.nonzero(rgba[..., 3])
    if rows.size == 0:
        return np.zeros((0, 0, 4), np.uint8), 0, 0
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    # offsets of the crop's top-left pixel from the origin's pixel (x right, y up)
    return rgba[r0:r1, c0:c1][::-1].copy(), c0 - pad, height - r0 - oy  # rows bottom up


# -- text composed from cached glyph bitmaps --------------------------------------------------
class GlyphText(CachedText):
    """A :class:`CachedText` for text that keeps changing (numbers, titles): a new string is
    composed from cached bitmaps of its characters, so it costs no FreeType call at all.

    Drawn at whole pixels (half a pixel of shift is invisible). A character is rendered once
    (matplotlib's own ``draw_text``); pairs of characters are laid out once (their hinted,
    kerned advance); the string's metrics for the layout come from the same caches. Other
    renderers, rotated, math and usetex text take matplotlib's own path.
    """

    def draw(self, renderer) -> None:
        if (
            type(renderer) is not RendererAgg
            or self.get_usetex()
            or self.get_path_effects()
            or self.get_rotation() % 360
        ):
            return Text.draw(self, renderer)
        text = self.get_text()
        if not self.get_visible() or not text:
            return
        key = self._memo_key(renderer)
        memo = getattr(self, "_memo", None)
        if key is not None and memo is not None and memo[0] == key:
            self._replay(renderer, memo[1])
            return
        recorded: list = []  # filled by _draw_text_composed; None in it: drawn another way
        self._draw_composed(renderer, text, recorded)
        self._memo = None if key is None or None in recorded else (key, recorded)

    def _memo_key(self, renderer) -> tuple | None:
        """Everything the drawn pixels and their place depend on; None: do not memoize."""
        if self.get_bbox_patch() or self.get_wrap() or "$" in self.get_text():
            return None
        trans = self.get_transform()
        if not trans.is_affine:
            return None
        color = self.get_color()
        if not isinstance(color, (str, tuple)):
            color = to_rgba(color)
        return (self.get_text(), hash(self._fontproperties), color,
                self.get_alpha(), self._antialiased, self.get_horizontalalignment(),
                self.get_verticalalignment(), self._multialignment, self._linespacing,
                self.get_rotation_mode(), self._x, self._y, trans.get_matrix().tobytes(),
                id(renderer), renderer.width, renderer.height, renderer.dpi,
                matplotlib.rcParams["text.hinting"])  # fmt: skip

    def _replay(self, renderer, recorded: list) -> None:
        """Paste the bitmaps of the last draw at their places (the text did not change)."""
        gc = renderer.new_gc()
        self._set_gc_clip(gc)
        gc.set_url(self._url)
        for x, y, img in recorded:
            renderer.draw_image(gc, x, y, img)
        gc.restore()
        self.stale = False

    def _draw_composed(self, renderer, text: str, record: list) -> None:
        if "\n" in text or "$" in text or self.get_bbox_patch() or self.get_wrap():
            renderer.draw_text = partial(_draw_text_composed, renderer, record=record)
            try:
                Text.draw(self, renderer)
            finally:
                del renderer.draw_text
            return
        # one plain line: Text.draw's steps without its generality
        self._renderer = renderer
        _, info, _ = self._get_layout(renderer)
        line, _, (dx, dy) = info[0]
        x = float(self.convert_xunits(self._x))
        y = float(self.convert_yunits(self._y))
        x, y = self.get_transform().transform((x, y))
        if not (np.isfinite(x) and np.isfinite(y)):
            return
        gc = renderer.new_gc()
        gc.set_foreground(to_rgba(self.get_color()), isRGBA=True)
        gc.set_alpha(self.get_alpha())
        gc.set_url(self._url)
        gc.set_antialiased(self._antialiased)
        gc.set_snap(self.get_snap())
        self._set_gc_clip(gc)
        _draw_text_composed(
            renderer, gc, x + dx, renderer.height - (y + dy), line, self._fontproperties, 0,
            False, self, record=record,
        )  # fmt: skip
        gc.restore()
        self.stale = False

    def _get_layout(self, renderer):
        # the layout is relative to the text's position: the same for the same string, font,
        # alignment and dpi, whatever the text's place (unless wrapped to its axes)
        if self.get_wrap() or type(renderer) is not RendererAgg:
            return super()._get_layout(renderer)
        key = (self.get_text(), hash(self._fontproperties), self.get_horizontalalignment(),
               self.get_verticalalignment(), self._multialignment, self.get_rotation(),
               self.get_transform_rotates_text(), self.get_rotation_mode(), self._linespacing,
               self.get_usetex(), self.get_parse_math(), renderer.dpi,
               matplotlib.rcParams["text.hinting"])  # fmt: skip
        hit = _layouts.get(key)
        if hit is None:
            renderer.get_text_width_height_descent = partial(_composed_metrics, renderer)
            try:
                hit = super()._get_layout(renderer)
            finally:
                del renderer.get_text_width_height_descent
            if len(_layouts) > 20_000:
                _layouts.clear()
            _layouts[key] = hit
        return hit


_layouts: dict[tuple, tuple] = {}
_advances: dict[tuple, float] = {}
_char_metrics: dict[tuple, tuple[float, float, float]] = {}


def _pens(renderer, s: str, prop) -> list[float] | None:
    """The pen position of each character of ``s`` (sums of cached pair advances; a string
    with a pair not seen before is laid out once, and all its pairs are kept); None if some
    characters of ``s`` combine (a ligature): such a string is drawn as a whole.

    The first time a font is seen, every pair of :data:`WARM_CHARS` is learnt at once (one
    layout of a string holding them all), so that new numbers cost no layout."""
    key0 = (hash(prop), renderer.dpi, matplotlib.rcParams["text.hinting"])
    if key0 not in _warmed_fonts:
        _warmed_fonts.add(key0)
        _learn_pairs(renderer, WARM_PAIRS, prop, key0)
    pairs = [(a, b, *key0) for a, b in zip(s, s[1:], strict=False)]
    if any(key not in _advances for key in pairs) and not _learn_pairs(renderer, s, prop, key0):
        return None
    pens, x = [0.0], 0.0
    for key in pairs:
        x += _advances[key]
        pens.append(x)
    return pens


def _learn_pairs(renderer, s: str, prop, key0: tuple) -> bool:
    """Lay out ``s`` and keep the advance of each of its character pairs; False (nothing
    kept) if some characters combine."""
    items = renderer._prepare_font(prop)._layout(s, flags=get_hinting_flag())
    if len(items) != len(s) or any(a.char != c for a, c in zip(items, s, strict=True)):
        return False
    if len(_advances) > 50_000:
        _advances.clear()
    for a, b, left, right in zip(s, s[1:], items[:-1], items[1:], strict=False):
        _advances[(a, b, *key0)] = float(right.x - left.x)
    return True


def _de_bruijn_pairs(alphabet: str) -> str:
    """A shortest string holding every ordered pair of ``alphabet``'s characters (an Euler
    path through the complete digraph with loops: ``len(alphabet) ** 2 + 1`` characters)."""
    n = len(alphabet)
    unused = {a: list(range(n))[::-1] for a in range(n)}  # outgoing edges not yet walked
    stack, path = [0], []
    while stack:  # Hierholzer's algorithm
        v = stack[-1]
        if unused[v]:
            stack.append(unused[v].pop())
        else:
            path.append(stack.pop())
    return "".join(alphabet[i] for i in reversed(path))


#: characters of numbers and their units: every pair and every bitmap of these is made at
#: once for a new font (a number never seen before then costs no FreeType call)
WARM_CHARS = "0123456789.,-+−×=e ()%:"
WARM_PAIRS = _de_bruijn_pairs(WARM_CHARS)
_warmed_fonts: set[tuple] = set()


def _composable(s: str, ismath) -> bool:
    return not ismath and 0 < len(s) <= 200 and s.isprintable()


def _composed_metrics(renderer, s, prop, ismath):
    """``get_text_width_height_descent`` from per-character metrics and pair advances."""
    if not _composable(s, ismath):
        return RendererAgg.get_text_width_height_descent(renderer, s, prop, ismath)
    key0 = (hash(prop), renderer.dpi, matplotlib.rcParams["text.hinting"])
    ascent = descent = 0.0
    for c in set(s):
        m = _char_metrics.get((c, *key0))
        if m is None:
            if len(_char_metrics) > 50_000:
                _char_metrics.clear()
            for char in WARM_CHARS if c in WARM_CHARS else c:  # the number characters at once
                if (char, *key0) not in _char_metrics:
                    _char_metrics[(char, *key0)] = RendererAgg.get_text_width_height_descent(
                        renderer, char, prop, False
                    )
            m = _char_metrics[(c, *key0)]
        ascent, descent = max(ascent, m[1] - m[2]), max(descent, m[2])
    pens = _pens(renderer, s, prop)
    if pens is None:
        return RendererAgg.get_text_width_height_descent(renderer, s, prop, ismath)
    return pens[-1] + _char_metrics[(s[-1], *key0)][0], ascent + descent, descent


def _draw_text_composed(
    renderer, gc, x, y, s, prop, angle, ismath=False, mtext=None, *, record: list | None = None
) -> None:
    """``RendererAgg.draw_text`` through a string bitmap composed from character bitmaps.

    With a ``record`` list, each pasted bitmap is appended to it as ``(x, y, bitmap)``, and
    None for a line drawn another way (matplotlib's own ``draw_text``).
    """
    if angle % 360 or not _composable(s, ismath):
        if record is not None:
            record.append(None)
        return RendererAgg.draw_text(renderer, gc, x, y, s, prop, angle, ismath, mtext)
    ix, iy = math.floor(x), math.floor(renderer.height - y)
    shaping = None if mtext is None else (mtext.get_fontfeatures(), mtext.get_language())
    key = ("composed", s, hash(prop), shaping, matplotlib.rcParams["text.hinting"],
           renderer.dpi, tuple(gc.get_rgb()), gc.get_alpha(), gc.get_antialiased())  # fmt: skip
    cache = CachedText._cache
    hit = cache.get(key)
    if hit is None:
        pens = _pens(renderer, s, prop)
        if pens is None:
            if record is not None:
                record.append(None)
            return RendererAgg.draw_text(renderer, gc, x, y, s, prop, angle, ismath, mtext)
        parts = [
            (round(p), _char_bitmap(renderer, gc, c, prop, mtext))
            for p, c in zip(pens, s, strict=True)
        ]
        parts = [(p, g) for p, g in parts if g[0].size]
        if not parts:
            hit = (np.zeros((0, 0, 4), np.uint8), 0, 0)
        else:
            left = min(p + dx for p, (_, dx, _) in parts)
            right = max(p + dx + img.shape[1] for p, (img, dx, _) in parts)
            top = max(dy for _, (_, _, dy) in parts)
            bottom = min(dy - img.shape[0] for _, (img, _, dy) in parts)
            out = np.zeros((top - bottom, right - left, 4), np.uint8)
            for p, (img, dx, dy) in parts:  # rows bottom up, as the character bitmaps
                r0, c0 = dy - img.shape[0] - bottom, p + dx - left
                view = out[r0 : r0 + img.shape[0], c0 : c0 + img.shape[1]]
                np.maximum(view, img, out=view)
            hit = (out, left, top)
        if len(cache) >= CachedText._cache_size:
            cache.clear()
        cache[key] = hit
    img, dx, dy = hit
    if img.size == 0:
        return
    gc1 = renderer.new_gc()
    gc1.copy_properties(gc)
    gc1.set_alpha(1.0)  # the bitmap carries the text's alpha already
    renderer.draw_image(gc1, ix + dx, iy + dy - img.shape[0], img)
    gc1.restore()
    if record is not None:
        record.append((ix + dx, iy + dy - img.shape[0], img))


def _char_bitmap(renderer, gc, c, prop, mtext) -> tuple[np.ndarray, int, int]:
    """One character's cropped bitmap (rows bottom up) and its offsets, as ``_draw_text_cached``
    caches it (drawn at a whole-pixel origin). A character of :data:`WARM_CHARS` not seen
    before in this font and colour brings all of them."""
    shaping = None if mtext is None else (mtext.get_fontfeatures(), mtext.get_language())
    rest = (hash(prop), shaping, matplotlib.rcParams["text.hinting"], renderer.dpi,
            tuple(gc.get_rgb()), gc.get_alpha(), gc.get_antialiased(), 0, 0)  # fmt: skip
    hit = _glyphs.get((c, *rest))
    if hit is None:
        if len(_glyphs) > 20_000:
            _glyphs.clear()
        for char in WARM_CHARS if c in WARM_CHARS else c:
            key = (char, *rest)
            if key not in _glyphs:
                _glyphs[key] = _render_bitmap(renderer, gc, char, prop, mtext, 0.0, 0.0)
        hit = _glyphs[(c, *rest)]
    return hit


#: character bitmaps of GlyphText (apart from CachedText's string cache: never crowded out)
_glyphs: dict[tuple, tuple[np.ndarray, int, int]] = {}
