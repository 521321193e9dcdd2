"""The output position of a sliding-window view: ``row``/``col`` sliders and a raster Play.

A view that writes one output cell at a time (a convolution, a pooling) shows the cell chosen
by two sliders, ``row`` and ``col``, and a Play button that walks the output in raster order:
Play's value is the flat index ``step = row * W_out + col``. The sliders follow Play when Play
moved, Play follows the sliders otherwise, and all three are clamped to the current output
size (which changes with kernel size, stride, padding, ...).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets


class RasterPosition:
    """Mixin (listed before the View class) for views with ``play``, ``row`` and ``col``.

    ``_update`` calls :meth:`_play_moved` first (before anything can move Play) and later
    :meth:`_sync_position` with the output shape; :meth:`set_controls` widens the maxima of
    the position and of :attr:`widened_controls` before setting values, so that a preset may
    name a cell of an output that is larger than the current one.
    """

    #: further controls whose maximum depends on other controls (e.g. ``padding``)
    widened_controls: tuple[str, ...] = ()
    _last_step = 0

    @staticmethod
    def position_controls(interval: int) -> dict[str, widgets.Widget]:
        """The ``play``, ``row`` and ``col`` controls (maxima set by :meth:`_sync_position`)."""
        return {
            "play": widgets.Play(
                value=0, min=0, max=1, step=1, interval=interval, description="play"
            ),
            "row": widgets.IntSlider(value=0, min=0, max=1, description="row"),
            "col": widgets.IntSlider(value=0, min=0, max=1, description="col"),
        }

    def set_controls(self, **values: Any) -> None:
        """Set several controls with one redraw; positions are clamped to the new output size."""
        for name in ("row", "col", "play", *self.widened_controls):
            if name in values and isinstance(values[name], int):
                control = self.controls[name]
                control.max = max(control.max, values[name])
        super().set_controls(**values)

    def _play_moved(self) -> bool:
        """True if the Play button moved since the last update (it then drives the sliders)."""
        return self.controls["play"].value != self._last_step

    def _sync_position(self, play_moved: bool, shape: tuple[int, int]) -> tuple[int, int, int]:
        """Clamp the position to an output of ``shape = (H_out, W_out)`` and return
        ``(row, col, step)`` with ``step = row * W_out + col``."""
        c = self.controls
        oh, ow = shape
        c["row"].max, c["col"].max = oh - 1, ow - 1
        c["play"].max = oh * ow - 1
        if play_moved:
            c["row"].value, c["col"].value = divmod(min(c["play"].value, oh * ow - 1), ow)
        row, col = c["row"].value, c["col"].value
        step = row * ow + col
        c["play"].value = step
        self._last_step = step
        return row, col, step

    def _show_position(self, row: int, col: int, value: float, detail: str) -> None:
        """Write ``output[row, col] = value detail`` in the readout (the classes
        ``cnnlib-position`` and ``cnnlib-value`` are what tests and browser tests read)."""
        self.readout.value = (
            '<span style="font-size:1.5em;font-family:monospace">'
            f'<span class="cnnlib-position">output[{row}, {col}]</span> = '
            f'<span class="cnnlib-value" data-value="{value:.4f}">{value:.4f}</span>'
            f"{detail}</span>"
        )
