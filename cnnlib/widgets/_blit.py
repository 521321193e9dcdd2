"""The blitting base class of the views: ``BlitView`` redraws only what changed, in layers.

A full redraw of a figure with a few dozen labels costs 40-60 ms, most of it in text layout
and image resampling, and most slider moves change only a window outline and a few labels.
``BlitView`` keeps the figure in layers: layer 0 is everything not listed elsewhere (drawn by
a full ``canvas.draw()``), then each list given to ``set_layers`` in order; the last list is
redrawn on every update, the ones before it are cached as backgrounds. In ``_update``, call
``self.redraw_from(j)`` when an artist of layer ``j`` changed (0, or ``self.full_redraw = True``:
a full redraw); artists are drawn in list order, so list an artist after anything it must
cover. ``set_dynamic(artists)`` is the one-layer case. Not written for learners to read.
"""

from __future__ import annotations

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes

from cnnlib.plotting import png_bytes
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
