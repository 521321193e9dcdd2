"""DimensionsExplorer: where the windows of a convolution fall, and why the output has its size.

Along one axis (the view uses square inputs, so both axes are the same), a convolution with
kernel size ``k``, stride ``s``, padding ``p`` and dilation ``d`` places its windows at
``0, s, 2s, ...`` on the padded input of ``n + 2p`` cells; window ``j`` reads the taps
``j*s + i*d`` for ``i < k``. There are

    n_out = floor((n + 2p - d(k - 1) - 1) / s + 1)

windows, and an input cell that no tap of any window reads is thrown away.

A transposed convolution is drawn as Dumoulin & Visin draw it: the input with ``s - 1`` zeros
inserted between neighbouring cells, padded by ``p' = d(k - 1) - p`` cells on each side (cropped
when ``p'`` is negative) and by ``output_padding`` more at the end, then a stride-1 convolution
with the same dilation. Its output has ``(n - 1)s - 2p + d(k - 1) + output_padding + 1`` cells.
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba

from cnnlib._validate import check_bool, check_int
from cnnlib.plotting import ARITHMETIC_COLORS, HIGHLIGHT, move_rect, window_rect
from cnnlib.shapes import (
    conv_grid,
    conv_output_size,
    conv_transpose_output_size,
    explain_conv_output_size,
    explain_conv_transpose_output_size,
)
from cnnlib.widgets._base import check_slider_limits
from cnnlib.widgets._blit import BlitView
from cnnlib.widgets._cells import imshow

MAX_SIZE = 10
MAX_KERNEL = 5
MAX_PADDING = 4
MAX_STRIDE = 4
MAX_DILATION = 3
MAX_OUTPUT_PADDING = 3
#: milliseconds between two steps of the Play button
PLAY_INTERVAL = 600

# one colour per meaning, shared with the static pictures (draw_conv_grid)
INPUT = ARITHMETIC_COLORS["input"]
PADDING = ARITHMETIC_COLORS["padding"]
ZERO = ARITHMETIC_COLORS["zero"]
UNREACHED = ARITHMETIC_COLORS["unreached"]
OUTPUT = ARITHMETIC_COLORS["output"]
FAINT = "#555555"


def _swatch(colour: str, text: str) -> str:
    return (
        f'<span style="display:inline-block;width:1em;height:1em;background:{colour};'
        f'border:1px solid #888;vertical-align:middle"></span> {text} &nbsp; '
    )


_LEGEND_HEAD = (
    '<div style="font-size:1.1em">' + _swatch(INPUT, "input") + _swatch(PADDING, "padding")
)
_LEGEND_TAIL = (
    _swatch(UNREACHED, "input that no window reads (×)")
    + _swatch(OUTPUT, "output")
    + "· above the grid: every window position along a row</div>"
)
_LEGEND = _LEGEND_HEAD + _LEGEND_TAIL


def _line(clauses: list[str]) -> str:
    """One readout line of clauses joined by "; "; the line may break only between clauses."""
    spans = [f'<span style="white-space:nowrap">{html.escape(c)}</span>' for c in clauses]
    return '<div class="cnnlib-line" style="font-size:1.1em">' + "; ".join(spans) + "</div>"


_LEGEND_TRANSPOSED = _LEGEND_HEAD + _swatch(ZERO, "inserted zero") + _LEGEND_TAIL


def dimensions_state(n: int, k: int, s: int, p: int, d: int, a: int, transposed: bool) -> dict:
    """What the view shows for these numbers (no drawing), all from ``cnnlib.shapes``: the
    ``output_size`` (``conv_output_size`` or ``conv_transpose_output_size``), its step-by-step
    ``explanation`` and the grid of ``conv_grid`` (``cells``, ``kind`` per cell, ``input_at``,
    the ``taps`` of every window, the ``unreached`` input pixels)."""
    a = a if transposed else 0
    if transposed:
        out = conv_transpose_output_size(n, k, s, p, a, d)
        explanation = explain_conv_transpose_output_size(n, k, s, p, a, d)
    else:
        out = conv_output_size(n, k, s, p, d)
        explanation = explain_conv_output_size(n, k, s, p, d)
    grid = conv_grid(n, k, s, p, d, transposed, a)
    return {
        "output_size": out,
        "explanation": explanation,
        "effective_kernel": d * (k - 1) + 1,
        "padding_cells": d * (k - 1) - p if transposed else p,  # per side (< 0: cropped)
        "cells": grid.cells,
        "kind": np.array(grid.kind),
        "input_at": np.array(grid.input_cells),
        "taps": np.array(grid.taps),
        "unreached": grid.unreached,
    }


class DimensionsExplorer(BlitView):
    """Input, padding, every window position and the output of a convolution, to scale.

    Controls: ``size`` (input n x n), ``kernel_size``, ``padding``, ``stride``, ``dilation``,
    ``transposed`` (draw the transposed convolution instead), ``output_padding`` (transposed
    only), ``step`` (which window is highlighted, in raster order) and ``play`` (walks them).

    ``state``: ``output_size``, ``positions`` (window starts along one axis, in the cells of
    the drawn grid), ``unreached`` (input indices no window reads), ``formula`` (the formula
    with the numbers substituted), ``grid_size`` (cells of the drawn grid per axis),
    ``input_cells`` (the grid cell of each input index; outside the grid when cropped),
    ``window`` (row, col of the highlighted window), ``taps`` (its tap positions per axis),
    ``step``, ``transposed``.

    The constructor's arguments are the controls' starting values; each must lie within its
    slider (size <= 10, kernel_size <= 5, stride <= 4, padding <= 4, dilation <= 3,
    output_padding <= 3), else a ``ValueError`` names it.
    """

    figsize = (11.5, 4.8)  # with its three rows of controls, fits a 1080 px slide
    layout_rows = (
        ("size", "kernel_size", "padding"),
        ("stride", "dilation", "transposed", "output_padding"),
        ("play", "step"),
    )

    def __init__(
        self,
        size: int = 7,
        kernel_size: int = 3,
        stride: int = 2,
        padding: int = 1,
        dilation: int = 1,
        transposed: bool = False,
        output_padding: int = 0,
    ) -> None:
        self._initial = {
            "size": check_int("size", size, 1),
            "kernel_size": check_int("kernel_size", kernel_size, 1),
            "stride": check_int("stride", stride, 1),
            "padding": check_int("padding", padding, 0),
            "dilation": check_int("dilation", dilation, 1),
            "output_padding": check_int("output_padding", output_padding, 0),
        }
        limits = {"size": MAX_SIZE, "kernel_size": MAX_KERNEL, "stride": MAX_STRIDE}
        limits |= {"padding": MAX_PADDING, "dilation": MAX_DILATION}
        check_slider_limits(self._initial, limits | {"output_padding": MAX_OUTPUT_PADDING})
        transposed = check_bool("transposed", transposed)
        self._transposed0 = transposed
        self._last_step = 0
        self._shape_key: tuple | None = None
        super().__init__()

    # -- building ---------------------------------------------------------------------------
    def _build(self) -> None:
        v = self._initial
        style = {"description_width": "7.5em"}

        def slider(name: str, lo: int, hi: int) -> widgets.IntSlider:
            label = "out. padding" if name == "output_padding" else name.replace("_", " ")
            return widgets.IntSlider(value=v[name], min=lo, max=hi, description=label, style=style)

        self.controls = {
            "size": slider("size", 1, MAX_SIZE),
            "kernel_size": slider("kernel_size", 1, MAX_KERNEL),
            "padding": slider("padding", 0, MAX_PADDING),
            "stride": slider("stride", 1, MAX_STRIDE),
            "dilation": slider("dilation", 1, MAX_DILATION),
            "transposed": widgets.Checkbox(
                value=self._transposed0, description="transposed", indent=False
            ),
            "output_padding": slider("output_padding", 0, MAX_OUTPUT_PADDING),
            "play": widgets.Play(
                value=0, min=0, max=1, step=1, interval=PLAY_INTERVAL, description="play"
            ),
            "step": widgets.IntSlider(value=0, min=0, max=1, description="step", style=style),
        }

        fig = self.figure
        self.ax_in, self.ax_out = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.0]})
        for ax in (self.ax_in, self.ax_out):
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        self.im_in = imshow(self.ax_in, np.ones((1, 1, 4)), interpolation="nearest")
        self.input_border = window_rect(self.ax_in, 0, 0, 1, 1, color="black", linewidth=1.5)
        self.input_border.set_linestyle("--")
        self.grid_in = LineCollection([], colors="white", linewidths=1.0, zorder=2)
        self.ax_in.add_collection(self.grid_in)
        # the strip above the grid: every window position along the columns, one bar each
        self.strip = LineCollection([], colors=FAINT, linewidths=1.5, alpha=0.55, zorder=3)
        self.ax_in.add_collection(self.strip)
        (self.strip_taps,) = self.ax_in.plot(
            [], [], "s", color=FAINT, alpha=0.55, markersize=5, zorder=3
        )
        (self.strip_now,) = self.ax_in.plot(
            [], [], "s-", color=HIGHLIGHT, markersize=7, linewidth=2.5, zorder=4
        )
        self.tap_rects = [
            window_rect(self.ax_in, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=2.5)
            for _ in range(MAX_KERNEL * MAX_KERNEL)
        ]
        self.window_box = window_rect(self.ax_in, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=1.2)
        self.window_box.set_linestyle(":")
        (self.cross,) = self.ax_in.plot(
            [], [], "x", color="black", markersize=7, markeredgewidth=1.5, zorder=3
        )

        self.out_cells = window_rect(self.ax_out, 0, 0, 1, 1, color=OUTPUT, linewidth=0, fill=True)
        self.out_cells.set_alpha(0.55)
        self.out_cells.set_zorder(1)
        self.grid_out = LineCollection([], colors="white", linewidths=1.0, zorder=2)
        self.ax_out.add_collection(self.grid_out)
        self.out_rect = window_rect(self.ax_out, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=3.0)
        # only the highlighted window moves when the step changes: redraw just these
        self._moving = [*self.tap_rects, self.window_box, self.strip_now, self.out_rect]
        self.set_dynamic(self._moving)

        self.formula_text = fig.suptitle(" ", fontsize=17, fontfamily="DejaVu Sans")
        self.error_text = fig.text(
            0.5, 0.5, "", fontsize=18, ha="center", va="center", color="#b00020"
        )

    # -- updating ---------------------------------------------------------------------------
    def _update(self) -> None:
        c = self.controls
        n, k = c["size"].value, c["kernel_size"].value
        p, s, d = c["padding"].value, c["stride"].value, c["dilation"].value
        a = c["output_padding"].value
        transposed = bool(c["transposed"].value)
        c["output_padding"].disabled = not transposed
        play_moved = c["play"].value != self._last_step
        self.state = {
            "size": n,
            "kernel_size": k,
            "padding": p,
            "stride": s,
            "dilation": d,
            "transposed": transposed,
            "output_padding": a if transposed else 0,
        }
        try:
            geo = dimensions_state(n, k, s, p, d, a, transposed)
        except ValueError as exc:
            self._show_impossible(str(exc))
            raise
        self.error_text.set_visible(False)
        out, explanation, span = geo["output_size"], geo["explanation"], geo["effective_kernel"]
        cells, kind, input_at, taps = geo["cells"], geo["kind"], geo["input_at"], geo["taps"]
        positions, unreached, pad = taps[:, 0], geo["unreached"], geo["padding_cells"]
        shown = (input_at >= 0) & (input_at < cells)
        input_reached = np.ones(n, dtype=bool)
        input_reached[unreached] = False

        # the highlighted window: Play drives the flat raster index, the slider follows
        c["step"].max = out * out - 1
        c["play"].max = out * out - 1
        if play_moved:
            c["step"].value = min(c["play"].value, out * out - 1)
        step = c["step"].value
        c["play"].value = step
        self._last_step = step
        row, col = divmod(step, out)

        formula = explanation.text.splitlines()
        self.state.update(
            output_size=out,
            positions=[int(x) for x in positions],
            unreached=unreached,
            formula="\n".join(line.strip() for line in formula[:3]),
            explanation=explanation.text,
            grid_size=int(cells),
            padding_cells=int(pad),
            input_cells=[int(x) for x in input_at],
            effective_kernel=span,
            window=(row, col),
            taps=([int(t) for t in taps[row]], [int(t) for t in taps[col]]),
            step=step,
        )

        key = (n, k, p, s, d, a if transposed else 0, transposed)
        if key != self._shape_key:
            self._draw_still(
                n, cells, out, kind, input_at[shown], shown, input_reached, taps, pad, a
            )
            self._shape_key = key
        self._draw_window(taps, row, col, out, span)
        self.formula_text.set_text(_title(n, k, s, p, d, a, out, transposed))
        # the formula is the figure's title (seen in every copy of the picture); the readout
        # says what it counts, one clause per unbreakable piece so a line never wraps inside one
        lines = [line.strip().strip("()") for line in formula[3:]]
        facts = [
            f"output {out} × {out}",
            f"window {step + 1} of {out * out} at row {row}, column {col}",
            "window starts along each axis: "
            + ", ".join(str(x) for x in positions[:12])
            + (" …" if out > 12 else ""),
            f"input pixels no window reads: {', '.join(map(str, unreached)) or 'none'}",
        ]
        self.readout.value = (
            (_LEGEND_TRANSPOSED if transposed else _LEGEND)
            + "".join(_line(line.split("; ")) for line in lines)
            + _line(facts)
        )

    def _show_impossible(self, message: str) -> None:
        """Hide the picture and say why there is none (the base class shows the message too)."""
        for ax in (self.ax_in, self.ax_out):
            ax.set_visible(False)
        self.formula_text.set_text("no output for these numbers")
        self.error_text.set_text(_wrap(message, 60))
        self.error_text.set_visible(True)
        for artist in self._moving:  # drawn over the background even when their axes are hidden
            artist.set_visible(False)
        self.readout.value = ""
        self._shape_key = None

    def _draw_still(self, n, cells, out, kind, at, shown, input_reached, taps, pad, a):
        """Grid colours, the strip of window positions and the extents (on a shape change).

        ``at``: the grid cells of the inputs that are drawn (``shown``), in order.
        """
        for ax in (self.ax_in, self.ax_out):
            ax.set_visible(True)
        colours = np.array([to_rgba(PADDING), to_rgba(INPUT), to_rgba(ZERO)])
        lost = np.zeros(cells, dtype=bool)
        lost[at] = ~input_reached[shown]
        # cell (r, c): padding if its row or column is padding, an input pixel if both are
        lo, hi = np.minimum.outer(kind, kind), np.maximum.outer(kind, kind)
        kind2 = np.where(lo == 0, 0, np.where(hi == 1, 1, 2))
        rgba = colours[kind2]
        rgba[np.logical_or.outer(lost, lost) & (kind2 == 1)] = to_rgba(UNREACHED)
        self.im_in.set_data(rgba)
        self.im_in.set_extent((-0.5, cells - 0.5, cells - 0.5, -0.5))
        self.grid_in.set_segments(_grid_segments(cells))

        # strip above the grid: window j on level j mod (windows that overlap), in cell units
        levels = max(1, min(out, math.ceil(taps[0, -1] + 1)))
        y = -1.2 - 0.55 * (np.arange(out) % levels)
        self._strip_y = y
        self.strip.set_segments(
            [[(t[0] - 0.3, yy), (t[-1] + 0.3, yy)] for t, yy in zip(taps, y, strict=True)]
        )
        self.strip_taps.set_data(taps.ravel(), np.repeat(y, taps.shape[1]))
        top = y.min() - 0.6
        self.ax_in.set_xlim(-0.5, cells - 0.5)
        self.ax_in.set_ylim(cells - 0.5, top)

        # crosses on the input pixels no window reads (both axes)
        rr, cc = np.meshgrid(at, at, indexing="ij")
        mark = (lost[rr] | lost[cc]).ravel()
        self.cross.set_data(cc.ravel()[mark], rr.ravel()[mark])
        self.cross.set_markersize(max(3.0, min(9.0, 160 / cells)))

        if at.size:  # (a large transposed padding can crop every input away)
            first, last = int(at[0]), int(at[-1])
            move_rect(self.input_border, first, first, last - first + 1, last - first + 1)
        if self.state["transposed"]:
            self.input_border.set_visible(at.size > 0)
            crop = f", cropped by {-pad}" if pad < 0 else f", padding {pad}"
            extra = f" + {a} at the end" if a else ""
            zeros = self.state["stride"] - 1
            title = f"input {n}×{n}, {zeros} zero{'' if zeros == 1 else 's'} between{crop}{extra}"
        else:
            self.input_border.set_visible(pad > 0)
            title = f"input {n}×{n}" + (f", padding {pad} → {cells}×{cells}" if pad else "")
        self.ax_in.set_title(title, fontsize=15)

        move_rect(self.out_cells, 0, 0, out, out)
        self.grid_out.set_segments(_grid_segments(out))
        # the same scale as the input, row 0 level with the input's row 0
        margin = (cells - out) / 2
        self.ax_out.set_xlim(-0.5 - margin, out - 0.5 + margin)
        self.ax_out.set_ylim(cells - 0.5, top)
        self.ax_out.set_title(f"output {out}×{out}", fontsize=15)
        # the axes boxes stay where the first layout put them (aspect "equal" rescales the
        # cells inside them), so a shape change redraws but does not re-solve the layout
        self.full_redraw = True

    def _draw_window(self, taps, row, col, out, span) -> None:
        rows, cols = taps[row], taps[col]
        k = len(rows)
        for idx, rect in enumerate(self.tap_rects):
            visible = idx < k * k
            rect.set_visible(visible)
            if visible:
                move_rect(rect, rows[idx // k], cols[idx % k], 1, 1)
        move_rect(self.window_box, rows[0], cols[0], span, span)
        self.window_box.set_visible(span > k)
        self.strip_now.set_data(cols, np.full(k, self._strip_y[col]))
        move_rect(self.out_rect, row, col, 1, 1)
        self.strip_now.set_visible(True)
        self.out_rect.set_visible(True)


def _grid_segments(cells: int) -> list:
    """White lines between the cells of a ``cells x cells`` grid."""
    edges = np.arange(cells + 1) - 0.5
    lo, hi = -0.5, cells - 0.5
    return [[(e, lo), (e, hi)] for e in edges] + [[(lo, e), (hi, e)] for e in edges]


def _title(n: int, k: int, s: int, p: int, d: int, a: int, out: int, transposed: bool) -> str:
    """The formula with the numbers substituted, on one line for the figure."""
    if transposed:
        return f"n_out = ({n} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {a} + 1 = {out}"
    rest = n + 2 * p - d * (k - 1) - 1
    return f"n_out = ⌊({n} + 2·{p} − {d}·({k} − 1) − 1) / {s} + 1⌋ = ⌊{rest}/{s} + 1⌋ = {out}"


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
