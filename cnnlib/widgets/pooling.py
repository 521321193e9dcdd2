"""PoolingView: a max or average window slides over a feature map.

The view shows the (padded) feature map with the window outlined and, in max mode, the winning
cell circled (a small dot marks the winner of every window), and the output map with the cell
being written outlined. A key under the map says what the marks are (``pooling_key``). What
it draws is the definition (as ``torch.nn.functional``)

    max:  output[i, j] = max_{m, n < k} padded[i*s + m, j*s + n]     (padding = -inf)
    avg:  output[i, j] = (1 / k^2) sum_{m, n < k} padded[i*s + m, j*s + n]   (padding = 0)

with kernel size ``k``, stride ``s`` and ``padding`` at most ``k // 2`` (torch's rule). The
output map comes from :func:`cnnlib.conv.max_pool2d` / :func:`cnnlib.conv.avg_pool2d` and its
size from :func:`cnnlib.shapes.pool_output_size`; the highlighted window is recomputed from the
definition, so the picture shows both. ``pooling_map`` and ``pooling_window`` compute what the
view shows from the control values, without drawing.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from cnnlib._validate import check_array
from cnnlib.conv import avg_pool2d, max_pool2d
from cnnlib.data import default_feature_map
from cnnlib.plotting import ACCENT, HIGHLIGHT, SEQUENTIAL, move_rect, window_rect
from cnnlib.shapes import pool_output_size
from cnnlib.widgets._blit import BlitView
from cnnlib.widgets._cells import (
    cell_grid,
    cell_mesh,
    fit_fontsize,
    make_labels,
    make_veil,
    padded_rgba,
    place_labels,
    place_veil,
    short_number,
    text_colors,
    update_mesh,
)
from cnnlib.widgets._position import RasterPosition

MODES = ("max", "avg")
MAX_KERNEL = 4
MAX_STRIDE = 4
#: largest feature map the view accepts: beyond this the cells are too small to read
MAX_SIZE = 32
#: maps with at most this many cells get every cell labelled (drawn once per setting)
LABEL_ALL = 100
PLAY_INTERVAL = 700


def pooling_map(x: np.ndarray, mode: str, k: int, s: int, p: int) -> dict:
    """What a setting of the controls shows of the whole map (no drawing): ``padded`` (the map
    padded with ``-inf`` for max, 0 for avg), ``output_map`` (``cnnlib.conv.max_pool2d`` /
    ``avg_pool2d``), ``winners`` (max mode: the row and column arrays of each window's maximum,
    else None) and ``output_shape`` (``cnnlib.shapes.pool_output_size``)."""
    h, w = x.shape
    hp, wp = h + 2 * p, w + 2 * p
    if k > hp or k > wp:
        raise ValueError(
            f"kernel_size {k} is larger than the padded input ({hp} x {wp}): "
            "lower kernel_size or raise padding"
        )
    if 2 * p > k:
        raise ValueError(f"padding {p} must be at most half of kernel_size {k}, as in torch")
    if mode == "max":
        out, idx = max_pool2d(x, k, s, p, return_indices=True)
        winners = np.divmod(idx, w)
    else:
        out, winners = avg_pool2d(x, k, s, p), None
    return {
        "padded": np.pad(x, p, constant_values=-np.inf if mode == "max" else 0.0),
        "output_map": out,
        "winners": winners,
        "output_shape": pool_output_size((h, w), k, s, p),
    }


def pooling_key(mode: str) -> str:
    """What the marks on the feature map mean, as the view writes it under the map."""
    if mode == "max":
        return (
            "dot: the maximum of each window, the value the output keeps\n"
            "ring: the maximum of the window shown"
        )
    return "no dots: each output is the mean of its window,\nall k × k cells (padding counts as 0)"


def pooling_window(
    padded: np.ndarray, mode: str, k: int, s: int, p: int, row: int, col: int
) -> dict:
    """The window of output cell ``(row, col)`` (no drawing): ``window_rows``, ``window_cols``
    (indices into ``padded``), ``window``, ``output`` (its max, or its sum over ``k * k``) and
    ``argmax`` (max mode: the first maximum in row-major order, in map coordinates)."""
    rows = row * s + np.arange(k)
    cols = col * s + np.arange(k)
    window = padded[np.ix_(rows, cols)]
    if mode == "max":
        m, n = divmod(int(np.argmax(window)), k)  # first maximum in row-major order
        value = float(window[m, n])
        argmax = (int(rows[m]) - p, int(cols[n]) - p)
    else:
        value = float(window.sum() / (k * k))
        argmax = None
    return {
        "window_rows": rows,
        "window_cols": cols,
        "window": window,
        "output": value,
        "argmax": argmax,
    }


class PoolingView(RasterPosition, BlitView):
    """Max or average pooling, one window at a time.

    Parameters
    ----------
    feature_map:
        A 2-D array (at most ``32 x 32``) of finite real numbers; default
        :func:`cnnlib.data.default_feature_map`.

    Controls: ``mode`` (max / avg), ``kernel_size``, ``stride``, ``padding`` (at most
    ``kernel_size // 2``), ``row``, ``col`` (the output cell), ``play`` (walks the output in
    raster order).
    """

    figsize = (10.0, 4.6)
    layout_rows = (("play", "row", "col"), ("mode", "kernel_size", "stride", "padding"))
    widened_controls = ("padding",)

    def __init__(self, feature_map: Any = None) -> None:
        self._map = self._check_map(feature_map)
        self._cache_key: tuple | None = None
        super().__init__()

    @staticmethod
    def _check_map(feature_map: Any) -> np.ndarray:
        if feature_map is None:
            return default_feature_map()
        arr = check_array("feature_map", feature_map, (2,)).astype(np.float64)
        if arr.shape[0] < 1 or arr.shape[1] < 1:
            raise ValueError(
                f"feature_map must have at least one row and one column, got {arr.shape}"
            )
        if max(arr.shape) > MAX_SIZE:
            raise ValueError(
                f"feature_map must be at most {MAX_SIZE} x {MAX_SIZE} so that its cells stay "
                f"readable, got {arr.shape[0]} x {arr.shape[1]}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError("feature_map must contain only finite numbers (no NaN or infinity)")
        return arr

    # -- the view -------------------------------------------------------------------------
    def _build(self) -> None:
        x = self._map
        h, w = x.shape
        kmax = max(1, min(MAX_KERNEL, h, w))
        k0 = min(2, kmax)
        self.controls = {
            **self.position_controls(PLAY_INTERVAL),
            "mode": widgets.ToggleButtons(options=list(MODES), value="max", description="mode"),
            "kernel_size": widgets.IntSlider(value=k0, min=1, max=kmax, description="kernel size"),
            "stride": widgets.IntSlider(value=k0, min=1, max=MAX_STRIDE, description="stride"),
            "padding": widgets.IntSlider(value=0, min=0, max=k0 // 2, description="padding"),
        }
        self.controls["mode"].style.button_width = "4em"
        for name in ("kernel_size", "stride", "padding"):
            self.controls[name].style.description_width = "6em"

        self.ax_in, self.ax_out = self.figure.subplots(
            1, 2, gridspec_kw={"width_ratios": [1.25, 1]}
        )
        self._vmin, self._vmax = float(x.min()), float(x.max())
        if self._vmax == self._vmin:
            self._vmax = self._vmin + 1.0
        self._label_all = x.size <= LABEL_ALL

        self.im_in = cell_mesh(self.ax_in, (h, w), SEQUENTIAL)
        self.map_border = window_rect(self.ax_in, 0, 0, h, w, color=ACCENT, linewidth=1.5)
        self.map_border.set_linestyle("--")
        # every cell's value (static), or none when the map is large
        self.cell_labels = make_labels(self.ax_in, x.size if self._label_all else 0, 13)
        # winners of every window (static) and of the current one (dynamic)
        self.winners = self.ax_in.scatter(
            [], [], s=28, marker="o", color=HIGHLIGHT, edgecolors="white", zorder=5
        )
        self.window = window_rect(self.ax_in, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=3.5)
        self.best = self.ax_in.scatter(
            [0],
            [0],
            s=900,
            marker="o",
            facecolors="none",
            edgecolors=HIGHLIGHT,
            linewidths=3,
            zorder=5,
        )
        # what the dots and the ring are (changes with the mode)
        self.key_text = self.ax_in.text(
            0.5, -0.02, "", transform=self.ax_in.transAxes, ha="center", va="top", fontsize=12
        )
        # window cells whose value is not on the static layer: padding, or all when unlabelled
        self.window_labels = make_labels(self.ax_in, MAX_KERNEL**2, 13)

        self.im_out = cell_mesh(self.ax_out, (1, 1), SEQUENTIAL)
        self.im_out.set_clim(self._vmin, self._vmax)
        for ax in (self.ax_in, self.ax_out):
            ax.set_aspect("equal")  # square cells
        self.out_labels = make_labels(self.ax_out, LABEL_ALL, 13)
        self.veil = make_veil(self.ax_out)  # greys the cells not yet written
        self.out_rect = window_rect(self.ax_out, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=3.5)
        # a fixed title height (y=1) spares matplotlib a search for tick labels on each draw
        self.ax_in.set_title(" ", fontsize=16, y=1.0)
        self.ax_out.set_title(" ", fontsize=16, y=1.0)
        grid_in = cell_grid(self.ax_in, (h, w))
        grid_out = cell_grid(self.ax_out, (1, 1))
        grid_in.set_zorder(1.5)  # under the labels of the static layer
        self.set_layers(
            # changes with the mode, kernel size, stride and padding
            [self.ax_in.title, self.key_text, self.winners, self.im_out, *self.out_labels],
            [
                self.window,
                self.best,
                *self.window_labels,
                *self.veil,
                grid_out,
                self.out_rect,
                self.ax_out.title,
            ],
        )

    def _update(self) -> None:
        c = self.controls
        play_moved = self._play_moved()
        mode = c["mode"].value
        k, s = c["kernel_size"].value, c["stride"].value
        c["padding"].max = k // 2
        p = c["padding"].value
        x = self._map
        h, w = x.shape
        self.state = {
            "mode": mode,
            "kernel_size": k,
            "stride": s,
            "padding": p,
            "input_shape": (h, w),
            "padded_shape": (h + 2 * p, w + 2 * p),
            "key": pooling_key(mode),
        }
        key = (mode, k, s, p)
        if key != self._cache_key:
            try:
                self._still = pooling_map(x, mode, k, s, p)
            except ValueError:
                self.readout.value = ""
                self._cache_key = None
                raise
            self._padded, self._out = self._still["padded"], self._still["output_map"]
            self._winners = self._still["winners"]
            old = self._cache_key or (None,) * 4
            self._cache_key = key
            self._draw_still(mode, p, *self._still["output_shape"])
            # the feature map and its labels change only with the padding
            self.redraw_from(0 if old[3] != p else 1)

        oh, ow = self._still["output_shape"]
        row, col, step = self._sync_position(play_moved, (oh, ow))
        now = pooling_window(self._padded, mode, k, s, p, row, col)
        rows, cols, window = now["window_rows"], now["window_cols"], now["window"]
        value, argmax = now["output"], now["argmax"]
        if mode == "max":
            formula = f"max(window) = {value:.4g}"
            detail = "the largest value in the window"
        else:
            formula = f"{window.sum():.4g} / {k * k} = {value:.4g}"
            detail = f"sum {window.sum():.4f} / {k * k} cells"
        self.state.update(
            row=row,
            col=col,
            step=step,
            **now,
            output_map=self._out,
            output_shape=(oh, ow),
        )

        move_rect(self.window, rows[0], cols[0], k, k)
        self.best.set_visible(argmax is not None)
        if argmax is not None:
            self.best.set_offsets([[argmax[1] + p, argmax[0] + p]])
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        inside = (rr >= p) & (rr < p + h) & (cc >= p) & (cc < p + w)
        shown = ~inside | (not self._label_all)  # cells the static layer has not labelled
        values = window[shown]
        colors = text_colors(values, self._vmin, self._vmax, diverging=False)
        colors = [cl if ins else "black" for cl, ins in zip(colors, inside[shown], strict=True)]
        place_labels(self.window_labels, values, rr[shown], cc[shown], colors)

        place_veil(self.veil, row, col, (oh, ow))
        move_rect(self.out_rect, row, col, 1, 1)
        self.ax_out.title.set_text(f"output[{row}, {col}] = {formula}")
        self._show_position(row, col, value, f" ({detail})")

    def _draw_still(self, mode: str, p: int, oh: int, ow: int) -> None:
        """Update what changes only with the mode, kernel size, stride or padding."""
        x = self._map
        h, w = x.shape
        hp, wp = self._padded.shape
        rgba = padded_rgba(x, p, SEQUENTIAL, self._vmin, self._vmax)
        self.im_in = update_mesh(self, self.im_in, rgba=rgba)
        cell_grid(self.ax_in, (hp, wp), lines=max(hp, wp) <= 40)
        move_rect(self.map_border, p, p, h, w)
        self.map_border.set_visible(p > 0)
        self.key_text.set_text(pooling_key(mode))
        pad_note = {"max": " (−∞)", "avg": " (0)"}[mode]
        self.ax_in.title.set_text(
            f"feature map {h} × {w}" + (f", padding {p}{pad_note}" if p else "")
        )
        finite = self._padded[np.isfinite(self._padded)]
        longest = max([len(short_number(v)) for v in np.unique(finite)] + [2])  # "−∞"
        size = fit_fontsize(self.ax_in, (hp, wp), longest)
        for label in self.cell_labels + self.window_labels:
            label.set_fontsize(size)
        if self._label_all:
            rr, cc = np.indices((h, w))
            colors = text_colors(x, self._vmin, self._vmax, diverging=False)
            place_labels(self.cell_labels, x, rr + p, cc + p, colors)
        if self._winners is not None:
            wr, wc = self._winners
            self.winners.set_offsets(
                np.column_stack([wc.ravel() + p, wr.ravel() + p]) + [0.3, -0.3]
            )
            self.winners.set_visible(True)
        else:
            self.winners.set_visible(False)

        self.im_out = update_mesh(self, self.im_out, self._out, (self._vmin, self._vmax))
        cell_grid(self.ax_out, (oh, ow), lines=max(oh, ow) <= 40)
        out_rows, out_cols = np.indices((oh, ow))
        longest = max(len(_out_fmt(v)) for v in np.unique(self._out))
        size = fit_fontsize(self.ax_out, (oh, ow), longest)
        for label in self.out_labels:
            label.set_fontsize(size)
        if self._out.size <= len(self.out_labels):
            colors = text_colors(self._out, self._vmin, self._vmax, diverging=False)
            place_labels(self.out_labels, self._out, out_rows, out_cols, colors, _out_fmt)
        else:
            place_labels(self.out_labels, [], [], [], [])


def _out_fmt(value: float) -> str:
    """An output cell's label: 3 significant digits (averages of quarters stay exact), whole
    numbers instead of an exponent from 1000 on."""
    value = float(value)
    if abs(value - round(value)) < 1e-9:
        return str(int(round(value)))
    text = f"{value:.3g}"
    return f"{value:.0f}" if "e" in text and abs(value) >= 1 else text
