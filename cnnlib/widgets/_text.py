"""Text the views redraw cheaply: ``CachedText`` renders each string once and pastes its
bitmap; ``GlyphText`` composes new strings from cached glyph bitmaps and learnt pair advances.
Pixel for pixel what matplotlib's Agg text draws (``tests/test_widgets_fastdraw.py``). Not
written for learners to read.
"""

from __future__ import annotations

import math
from functools import partial

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.colors import to_rgba
from matplotlib.text import Text


# -- text drawn from a bitmap cache -----------------------------------------------------------
def _matplotlib_draws(text: Text, renderer) -> bool:
    """Whether ``text`` takes matplotlib's own path: another renderer than Agg, usetex, path
    effects or a rotation."""
    return (
        type(renderer) is not RendererAgg
        or bool(text.get_usetex())
        or bool(text.get_path_effects())
        or bool(text.get_rotation() % 360)
    )


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
        if _matplotlib_draws(self, renderer):
            return super().draw(renderer)
        renderer.draw_text = partial(_draw_text_cached, renderer)  # only for this draw
        try:
            super().draw(renderer)
        finally:
            del renderer.draw_text

    def _get_layout(self, renderer):
        # matplotlib's own layout, computed once per string, font, alignment and dpi: it is
        # relative to the text's position (unless wrapped to its axes)
        if self.get_wrap() or type(renderer) is not RendererAgg:
            return super()._get_layout(renderer)
        key = _layout_key(self, renderer)
        hit = _exact_layouts.get(key)
        if hit is None:
            hit = super()._get_layout(renderer)
            if len(_exact_layouts) > 20_000:
                _exact_layouts.clear()
            _exact_layouts[key] = hit
        return hit


def _layout_key(text: Text, renderer) -> tuple:
    """Everything ``Text._get_layout`` depends on but the text's position."""
    return (text.get_text(), hash(text._fontproperties), text.get_horizontalalignment(),
            text.get_verticalalignment(), text._multialignment, text.get_rotation(),
            text.get_transform_rotates_text(), text.get_rotation_mode(), text._linespacing,
            text.get_usetex(), text.get_parse_math(), renderer.dpi,
            matplotlib.rcParams["text.hinting"])  # fmt: skip


_exact_layouts: dict[tuple, tuple] = {}


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
        if _matplotlib_draws(self, renderer):
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
            return Text._get_layout(self, renderer)
        key = _layout_key(self, renderer)
        hit = _layouts.get(key)
        if hit is None:
            renderer.get_text_width_height_descent = partial(_composed_metrics, renderer)
            try:
                hit = Text._get_layout(self, renderer)
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
    if ix + dx < 0 or iy + dy - img.shape[0] < 0:  # Agg's draw_image misplaces a clipped paste
        if record is not None:
            record.append(None)
        return RendererAgg.draw_text(renderer, gc, x, y, s, prop, angle, ismath, mtext)
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
