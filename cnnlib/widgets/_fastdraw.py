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
import struct
import zlib
from collections.abc import Callable, Sequence
from functools import partial

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.collections import LineCollection, QuadMesh
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from numpy.typing import ArrayLike

from cnnlib.plotting import DIVERGING, SEQUENTIAL, cell_text_colors
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
            ax.apply_aspect()  # new limits may have moved an equal-aspect box
        for artist in artists:
            if artist.get_visible():
                artist.draw(renderer)


def png_bytes(rgba: np.ndarray) -> bytes:
    """A PNG (RGB, no row filter, zlib level 1) of an ``(H, W, 4)`` uint8 buffer.

    The figure is opaque, so alpha is dropped; flat-coloured cells compress well without
    PNG's row filters, and skipping them halves the encoding time of Pillow's writer.
    """
    h, w = rgba.shape[:2]
    raw = np.empty((h, 1 + 3 * w), dtype=np.uint8)
    raw[:, 0] = 0  # filter type "none" on every row
    raw[:, 1:] = rgba[..., :3].reshape(h, 3 * w)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 1))
        + chunk(b"IEND", b"")
    )


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
    rgba[padding : padding + h, padding : padding + w] = matplotlib.colormaps[cmap](
        (values - vmin) / span
    )
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
    return float(np.clip(0.9 * cell / (0.66 * max(longest, 1)), 7.0, largest))


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
    """Render ``s`` with its origin at sub-pixel offset ``(fx, fy)`` on a small canvas, crop it
    and store ``(bitmap rows bottom up, dx, dy)`` under ``key`` in ``CachedText._cache``."""
    w, h, d = RendererAgg.get_text_width_height_descent(renderer, s, prop, ismath=False)
    pad = math.ceil(prop.get_size_in_points() * renderer.dpi / 72) + 2
    width, height = math.ceil(w) + 2 * pad, math.ceil(h) + 2 * pad
    oy = pad + math.ceil(d)  # the origin at (pad + fx, oy + fy), y up, on a small canvas
    tmp = RendererAgg(width, height, renderer.dpi)
    RendererAgg.draw_text(tmp, gc, pad + fx, height - (oy + fy), s, prop, 0, False, mtext)
    rgba = np.asarray(tmp.buffer_rgba())
    rows, cols = np.nonzero(rgba[..., 3])
    if rows.size == 0:
        hit = (np.zeros((0, 0, 4), np.uint8), 0, 0)
    else:
        r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        # offsets of the crop's top-left pixel from the origin's pixel (x right, y up)
        hit = (rgba[r0:r1, c0:c1][::-1].copy(), c0 - pad, height - r0 - oy)  # rows bottom up
    cache = CachedText._cache
    if len(cache) >= CachedText._cache_size:
        cache.clear()
    cache[key] = hit
    return hit


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
        if "\n" in text or "$" in text or self.get_bbox_patch() or self.get_wrap():
            renderer.draw_text = partial(_draw_text_composed, renderer)
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
            False, self,
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
    characters of ``s`` combine (a ligature): such a string is drawn as a whole."""
    key0 = (hash(prop), renderer.dpi, matplotlib.rcParams["text.hinting"])
    pairs = [(a, b, *key0) for a, b in zip(s, s[1:], strict=False)]
    if any(key not in _advances for key in pairs):
        items = renderer._prepare_font(prop)._layout(s, flags=get_hinting_flag())
        if len(items) != len(s) or any(a.char != c for a, c in zip(items, s, strict=True)):
            return None
        if len(_advances) > 50_000:
            _advances.clear()
        for key, left, right in zip(pairs, items[:-1], items[1:], strict=True):
            _advances[key] = float(right.x - left.x)
    pens, x = [0.0], 0.0
    for key in pairs:
        x += _advances[key]
        pens.append(x)
    return pens


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
            m = _char_metrics[(c, *key0)] = RendererAgg.get_text_width_height_descent(
                renderer, c, prop, False
            )
        ascent, descent = max(ascent, m[1] - m[2]), max(descent, m[2])
    pens = _pens(renderer, s, prop)
    if pens is None:
        return RendererAgg.get_text_width_height_descent(renderer, s, prop, ismath)
    return pens[-1] + _char_metrics[(s[-1], *key0)][0], ascent + descent, descent


def _draw_text_composed(renderer, gc, x, y, s, prop, angle, ismath=False, mtext=None) -> None:
    """``RendererAgg.draw_text`` through a string bitmap composed from character bitmaps."""
    if angle % 360 or not _composable(s, ismath):
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


def _char_bitmap(renderer, gc, c, prop, mtext) -> tuple[np.ndarray, int, int]:
    """One character's cropped bitmap (rows bottom up) and its offsets, as ``_draw_text_cached``
    caches it (drawn at a whole-pixel origin)."""
    shaping = None if mtext is None else (mtext.get_fontfeatures(), mtext.get_language())
    key = (c, hash(prop), shaping, matplotlib.rcParams["text.hinting"], renderer.dpi,
           tuple(gc.get_rgb()), gc.get_alpha(), gc.get_antialiased(), 0, 0)  # fmt: skip
    hit = CachedText._cache.get(key)
    if hit is None:
        hit = _render_to_cache(renderer, gc, c, prop, mtext, 0.0, 0.0, key)
    return hit
