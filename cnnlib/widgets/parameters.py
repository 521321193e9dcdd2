"""ParametersView: where the parameters of a convolution live, and how much arithmetic it costs.

The weight tensor of ``nn.Conv2d(C_in, C_out, k, groups=g, bias=...)`` has shape
``(C_out, C_in / g, k, k)``: ``C_out`` filters, each a stack of ``C_in / g`` slices of
``k x k`` weights, plus one bias per filter. The view draws the filters as stacks of slices,
coloured by the group of input channels they read, and counts term by term

    params = C_out * (C_in / g * k * k) + C_out            (the last term only with a bias)
    MACs   = H_out * W_out * C_out * (C_in / g) * k * k   (stride 1, "same" padding: H_out = H).

The numbers come from :func:`cnnlib.params.conv2d_params` and :func:`cnnlib.params.conv2d_macs`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba

from cnnlib._validate import check_bool, check_int
from cnnlib.params import conv2d_macs, conv2d_params
from cnnlib.plotting import HIGHLIGHT, MUTED_TEXT
from cnnlib.widgets._base import View, check_slider_limits

MAX_IN = 32
MAX_OUT = 64
MAX_KERNEL = 7
MAX_SIZE = 64
#: filters and slices per filter drawn at most; the rest are counted in a caption
MAX_FILTERS = 8
MAX_SLICES = 8

#: Okabe-Ito colours, one per group (cycled when there are more than 8 groups)
GROUP_COLORS = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#882255",  # Tol's wine: an eighth colour, so 8 drawn groups never repeat one
)

_FACE = 6.0  # side of a drawn k x k slice
_DEPTH = 0.55  # offset of each slice behind the one in front
_SLOT_W, _SLOT_H = 12.5, 13.0
_X0 = 8.0  # left edge of the first filter (the input channels sit left of it)


_READOUT = (
    '<div style="font-family:monospace;font-size:1.3em;line-height:1.5;'
    'white-space:pre-wrap">{}</div>'
)


def divisors_in_common(a: int, b: int) -> list[int]:
    """The groups a convolution from ``a`` to ``b`` channels allows: divisors of gcd(a, b)."""
    g = int(np.gcd(a, b))
    return [d for d in range(1, g + 1) if g % d == 0]


def filters_shown(out_channels: int, groups: int, count: int) -> list[int]:
    """Indices of the ``count`` filters drawn: the first ones of each group in turn, so that
    every group (up to ``count`` of them) is seen."""
    per_group = out_channels // groups
    order = [grp * per_group + i for i in range(per_group) for grp in range(groups)]
    return sorted(order[:count])


def _fmt(n: int) -> str:
    return f"{n:,}"


def _lighten(color: str, amount: float) -> tuple[float, float, float, float]:
    r, g, b, _ = to_rgba(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount, 1.0)


class ParametersView(View):
    """The weight tensor of a 2-D convolution drawn as stacked kernels, with its counts.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, groups, bias, size:
        Initial values of the controls (defaults: notebook 03's 3 -> 64, 3 x 3 example
        with bias, on a 32 x 32 input).

    Controls: ``in_channels`` (1-32), ``out_channels`` (1-64), ``kernel_size`` (1-7),
    ``groups`` (1-32; it must divide both channel counts, otherwise the view says which values
    are allowed), ``bias``, ``size`` (input height = width, for the MACs).

    ``state``: ``params``, ``weight_params``, ``bias_params``, ``macs``, ``weight_shape``,
    ``output_size``, ``terms`` (the two counting lines as text), ``groups_valid``,
    ``filters_drawn``, ``slices_drawn``, ``more_filters``.
    """

    figsize = (10.0, 4.8)
    layout_rows = (("in_channels", "out_channels", "kernel_size"), ("groups", "bias", "size"))

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 64,
        kernel_size: int = 3,
        groups: int = 1,
        bias: bool = True,
        size: int = 32,
    ) -> None:
        self._init = {
            "in_channels": check_int("in_channels", in_channels, 1),
            "out_channels": check_int("out_channels", out_channels, 1),
            "kernel_size": check_int("kernel_size", kernel_size, 1),
            "groups": check_int("groups", groups, 1),
            "size": check_int("size", size, 1),
        }
        limits = {"in_channels": MAX_IN, "out_channels": MAX_OUT, "kernel_size": MAX_KERNEL}
        check_slider_limits(self._init, limits | {"groups": MAX_IN, "size": MAX_SIZE})
        bias = check_bool("bias", bias)
        self._init_bias = bias
        self._drawn: tuple | None = None
        self._pending: tuple | None = None
        super().__init__()

    def _render(self) -> None:
        # the input size changes only the readout's numbers: no need to redraw the figure
        if self._pending != self._drawn or self.relayout:
            super()._render()
            self._drawn = self._pending

    # -- the view -------------------------------------------------------------------------
    def _build(self) -> None:
        style = {"description_width": "initial"}
        v = self._init
        self.controls = {
            "in_channels": widgets.IntSlider(
                value=v["in_channels"], min=1, max=MAX_IN, description="in channels", style=style
            ),
            "out_channels": widgets.IntSlider(
                value=v["out_channels"], min=1, max=MAX_OUT, description="out channels", style=style
            ),
            "kernel_size": widgets.IntSlider(
                value=v["kernel_size"],
                min=1,
                max=MAX_KERNEL,
                description="kernel size",
                style=style,
            ),
            "groups": widgets.IntSlider(
                value=v["groups"], min=1, max=MAX_IN, description="groups", style=style
            ),
            "bias": widgets.Checkbox(value=self._init_bias, description="bias"),
            "size": widgets.IntSlider(
                value=v["size"], min=1, max=MAX_SIZE, description="input H = W", style=style
            ),
        }
        ax = self.ax = self.figure.add_subplot()
        ax.set_xlim(-1.0, _X0 + 4 * _SLOT_W)
        ax.set_ylim(-3.3, 2 * _SLOT_H + 1.5)
        ax.set_aspect("equal")
        ax.set_axis_off()

        self.inputs = PolyCollection([], edgecolors="white", linewidths=0.5)
        self.slices = PolyCollection([], edgecolors="#333333", linewidths=0.8)
        self.cells = LineCollection([], colors="#333333", linewidths=0.6, alpha=0.7)
        ax.add_collection(self.inputs)
        ax.add_collection(self.slices)
        ax.add_collection(self.cells)
        (self.bias_dots,) = ax.plot([], [], "o", ms=11, color=HIGHLIGHT, mec="black", zorder=4)
        self.input_label = ax.text(2.0, -1.2, "", ha="center", va="top", fontsize=13)
        self.more = ax.text(
            _X0 + 4 * _SLOT_W - 0.5, -1.9, "", ha="right", va="top", fontsize=13, color=MUTED_TEXT
        )
        self.filter_labels = [
            ax.text(0, 0, "", ha="left", va="top", fontsize=12) for _ in range(MAX_FILTERS)
        ]
        self.title = ax.set_title("", fontsize=16)

    def _update(self) -> None:
        c = {name: ctl.value for name, ctl in self.controls.items()}
        c_in, c_out, k, g = c["in_channels"], c["out_channels"], c["kernel_size"], c["groups"]
        bias, size = c["bias"], c["size"]
        valid = divisors_in_common(c_in, c_out)
        self.state = {
            "in_channels": c_in,
            "out_channels": c_out,
            "kernel_size": k,
            "groups": g,
            "bias": bias,
            "size": size,
            "groups_valid": valid,
        }
        self._pending = (c_in, c_out, k, g, bias)
        if g not in valid:
            message = (
                f"groups {g} must divide both C_in {c_in} and C_out {c_out}; "
                f"allowed here: {', '.join(str(d) for d in valid)}"
            )
            self.readout.value = ""
            self.title.set_text(message)
            self.title.set_color(HIGHLIGHT)
            raise ValueError(message)
        self.title.set_color("black")

        per = c_in // g
        params = conv2d_params(c_in, c_out, k, bias=bias, groups=g)
        macs = conv2d_macs(c_in, c_out, k, size, groups=g)
        weight_shape = (c_out, per, k, k)
        shape_line = f"weight {weight_shape}" + (f" + bias ({c_out},)" if bias else ", no bias")
        bias_term = f" + {c_out}" if bias else ""
        params_line = (
            f"params = C_out × (C_in/g × k × k){' + C_out' if bias else ''}"
            f" = {c_out} × ({per} × {k} × {k}){bias_term} = {_fmt(params)}"
        )
        macs_line = (
            f"MACs   = H_out·W_out·C_out·(C_in/g)·k² = {size}·{size}·{c_out}·{per}·{k * k}"
            f" = {_fmt(macs)}"
        )
        self.state.update(
            params=params,
            weight_params=c_out * per * k * k,
            bias_params=c_out if bias else 0,
            macs=macs,
            weight_shape=weight_shape,
            output_size=(size, size),
            terms=f"{params_line}\n{macs_line}",
        )
        lines = [
            f"{shape_line}   <i>(stride 1, 'same' padding: H_out = H)</i>",
            html.escape(params_line),
            html.escape(macs_line),
        ]
        self.readout.value = _READOUT.format("<br>".join(lines))
        self._draw(c_in, c_out, k, g, bias)

    def _draw(self, c_in: int, c_out: int, k: int, g: int, bias: bool) -> None:
        per = c_in // g
        out_per_group = c_out // g
        n_filters = min(c_out, MAX_FILTERS)
        n_slices = min(per, MAX_SLICES)

        # input channels: a column of bars coloured by the group that reads them
        top, bottom = 2 * _SLOT_H - 1.0, 0.5
        height = (top - bottom) / c_in
        bars, bar_colors = [], []
        for ch in range(c_in):
            y1 = top - ch * height
            bars.append([(0.5, y1 - height), (3.5, y1 - height), (3.5, y1), (0.5, y1)])
            bar_colors.append(GROUP_COLORS[(ch // per) % len(GROUP_COLORS)])
        self.inputs.set_verts(bars)
        self.inputs.set_facecolors(bar_colors)
        self.inputs.set_linewidths(0.5 if c_in <= 16 else 0.0)
        self.input_label.set_text(f"input\n{c_in} ch")

        polys, colors, segments, dots = [], [], [], []
        cell = _FACE / k
        for label in self.filter_labels:
            label.set_text("")
        for slot, f in enumerate(filters_shown(c_out, g, n_filters)):
            row, col = divmod(slot, 4)
            x0 = _X0 + col * _SLOT_W
            y0 = (1 - row) * _SLOT_H + 0.3
            color = GROUP_COLORS[(f // out_per_group) % len(GROUP_COLORS)]
            for s in reversed(range(n_slices)):  # back to front
                dx = dy = s * _DEPTH
                polys.append(
                    [
                        (x0 + dx, y0 + dy),
                        (x0 + dx + _FACE, y0 + dy),
                        (x0 + dx + _FACE, y0 + dy + _FACE),
                        (x0 + dx, y0 + dy + _FACE),
                    ]
                )
                colors.append(_lighten(color, 0.25 + 0.5 * s / max(n_slices, 2)))
            for i in range(1, k):  # the k x k cells of the front slice
                segments.append([(x0 + i * cell, y0), (x0 + i * cell, y0 + _FACE)])
                segments.append([(x0, y0 + i * cell), (x0 + _FACE, y0 + i * cell)])
            dots.append((x0 + _FACE + 0.9, y0 + 0.4))
            first = (f // out_per_group) * per
            reads = f"ch {first}" if per == 1 else f"ch {first}–{first + per - 1}"
            self.filter_labels[slot].set_position((x0, y0 - 0.3))
            # with one group every filter reads every channel: the index is enough
            self.filter_labels[slot].set_text(f"#{f}: {reads}" if g > 1 else f"#{f}")
        self.slices.set_verts(polys)
        self.slices.set_facecolors(colors)
        self.cells.set_segments(segments)
        if bias:
            self.bias_dots.set_data([d[0] for d in dots], [d[1] for d in dots])
        else:
            self.bias_dots.set_data([], [])

        slices = f"{per} slice{'s' if per != 1 else ''}"
        cut = f" ({n_slices} of them drawn)" if per > n_slices else ""
        self.title.set_text(
            f"{c_out} filter{'s' if c_out != 1 else ''}, each {slices} of {k} × {k}{cut}"
            + (" + a bias (●)" if bias else "")
            + (f"; {g} groups" if g > 1 else "")
        )
        more = c_out - n_filters
        self.more.set_text(f"… and {more} more filter{'s' if more != 1 else ''}" if more else "")
        self.state.update(filters_drawn=n_filters, slices_drawn=n_slices, more_filters=more)
