"""ReceptiveFieldExplorer: which input pixels does one unit of the top layer see?

Left, a stack of layers seen from the side (one row per layer, the input at the bottom, one
axis): every unit is drawn above the centre of its own field, and the units the chosen top unit
depends on are coloured, layer by layer down to the input, with the window's width written
beside each row. Right, the input seen from the front (a grid, or the photo in "photo" mode)
with the chosen unit's field outlined: the dashed part lies in the padding.

The numbers come from :mod:`cnnlib.receptive` (``field_state`` gathers them, without drawing):
``r, S, P`` per layer from :func:`~cnnlib.receptive.receptive_field`, and the walk from the top
unit downwards from :func:`~cnnlib.receptive.unit_windows`: a window of units ``a .. b`` of
layer ``l`` (kernel ``k``, stride ``s``, padding ``p``, dilation ``d``) spans the units
``a s - p .. b s - p + d(k - 1)`` of layer ``l - 1``; at the input this is
``u S - P .. u S - P + r - 1``. The coloured units are the ones the chosen unit depends on,
which a dilated kernel leaves with gaps: unit ``a`` reads only its taps ``a s - p + m d``
(``m = 0 .. k - 1``), so the dependency set of layer ``l - 1`` is the set of taps of the
dependency set of layer ``l`` that lie inside ``0 .. n - 1`` (per axis; a 2-D unit depends on
the product of its row and column sets). The taps that fall outside a layer are drawn as
padding.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.patches import Polygon, Rectangle

from cnnlib._validate import check_bool
from cnnlib.plotting import ACCENT, HIGHLIGHT, MUTED
from cnnlib.receptive import receptive_field, unit_windows
from cnnlib.shapes import conv_output_size
from cnnlib.widgets._blit import BlitView
from cnnlib.widgets._cells import imshow
from cnnlib.widgets._text import CachedText

#: a layer: (kind, kernel_size, stride, dilation); convolutions are padded d(k-1)//2, pools 0
PRESETS: dict[str, list[tuple[str, int, int, int]]] = {
    "three 3x3 convs": [("conv", 3, 1, 1)] * 3,
    "3x3 convs + stride-2 pooling": [
        ("conv", 3, 1, 1),
        ("pool", 2, 2, 1),
        ("conv", 3, 1, 1),
        ("pool", 2, 2, 1),
        ("conv", 3, 1, 1),
    ],
    "dilated 1-2-4": [("conv", 3, 1, 1), ("conv", 3, 1, 2), ("conv", 3, 1, 4)],
    "SimpleCNN (4 conv blocks)": [
        ("conv", 3, 1, 1),
        ("pool", 2, 2, 1),
        ("conv", 3, 1, 1),
        ("pool", 2, 2, 1),
        ("conv", 3, 1, 1),
        ("pool", 2, 2, 1),
        ("conv", 3, 1, 1),
    ],
}
GRID_SIZE = 32  # input size in grid mode
PHOTO_SIZE = 128  # input size in photo mode
MAX_LAYERS = max(len(v) for v in PRESETS.values())
MAX_KERNEL, MAX_STRIDE, MAX_DILATION = 7, 4, 4
LABEL_SIZE = 12  # points, the layer labels beside the side view
PLAY_INTERVAL = 400  # milliseconds per step of the Play button

_UNIT = to_rgba("#d9d9d9")
_FIELD = to_rgba(HIGHLIGHT)
_PAD = to_rgba("white")


def layer_padding(kind: str, k: int, d: int) -> int:
    """The padding the explorer gives a layer: ``d(k - 1) // 2`` for a conv ("same" for odd k
    and stride 1), 0 for a pool."""
    return d * (k - 1) // 2 if kind == "conv" else 0


def describe(kind: str, k: int, s: int, d: int) -> str:
    """A short label: ``conv 3x3 s1`` (plus ``d2`` when dilated)."""
    name = "conv" if kind == "conv" else "max pool"
    return f"{name} {k}x{k} s{s}" + (f" d{d}" if d > 1 else "")


def field_state(layers: list[tuple[str, int, int, int, int]], unit: tuple[int, int], n_in: int):
    """What the view shows for one unit (no drawing), from ``cnnlib.receptive``: ``r, S, P`` per
    layer from ``receptive_field`` and, per axis, the unit's windows and the units it depends on
    from ``unit_windows``. ``layers`` holds ``(kind, kernel_size, stride, padding, dilation)``."""
    spec = [(k, s, p, d) for _kind, k, s, p, d in layers]
    fields = receptive_field(spec)
    rows, cols = (unit_windows(spec, u, n_in) for u in unit)
    clipped = None
    if rows.reads[0].size and cols.reads[0].size:  # the bounding box of the gradient's support
        clipped = (*_ends(rows.reads[0]), *_ends(cols.reads[0]))
    (r0, r1), (c0, c1) = rows.windows[0], cols.windows[0]
    return {
        "input_size": (n_in, n_in),
        "output_sizes": list(cols.sizes[1:]),
        "sizes": [f.size for f in fields],
        "jumps": [f.stride for f in fields],
        "paddings": [f.padding for f in fields],
        "size": fields[-1].size,
        "jump": fields[-1].stride,
        "padding": fields[-1].padding,
        "unit": tuple(unit),
        "windows": list(cols.windows),
        "row_windows": list(rows.windows),
        "dependencies": [tuple(v.tolist()) for v in cols.reads],
        "row_dependencies": [tuple(v.tolist()) for v in rows.reads],
        "field_taps": [tuple(v.tolist()) for v in cols.taps],
        "input_window": (r0, r1, c0, c1),
        "input_window_clipped": clipped,
    }


def _ends(indices: np.ndarray) -> tuple[int, int]:
    """The first and the last of sorted ``indices``, as ints."""
    return int(indices[0]), int(indices[-1])


def _text(ax, x: float, y: float, **kwargs: Any) -> CachedText:
    """An empty label on ``ax`` (like ``ax.text``, unclipped) whose bitmap is cached."""
    label = CachedText(x, y, "", clip_on=False, **kwargs)
    ax.add_artist(label)
    return label


class ReceptiveFieldExplorer(BlitView):
    """Pick a unit of the top layer; see the window it depends on in every layer below.

    Controls: ``preset``, ``layer`` (the layer that ``kernel_size``, ``stride`` and ``dilation``
    edit), ``unit_row`` and ``unit_col`` (the unit of the top layer; ``play`` sweeps
    ``unit_col``), ``photo`` (draw the field
    on the photo of Grace Hopper, 128 x 128, instead of a 32 x 32 grid).

    ``state``: ``layers`` (kind, kernel_size, stride, padding, dilation per layer),
    ``input_size``, ``output_sizes`` (per layer), ``sizes``, ``jumps``, ``paddings`` (r, S, P per
    layer), ``size``, ``jump``, ``padding`` (the top layer's), ``unit``, ``windows`` and
    ``row_windows`` (for layers ``0 .. L``, input first: the unclipped range ``(first, last)``
    that the chosen unit's field spans in that layer, columns and rows; at the input these are
    pixels), ``dependencies`` and ``row_dependencies`` (for layers ``0 .. L``, input first: the
    sorted column / row indices of the units the chosen unit depends on, the coloured units; a
    dilated layer leaves gaps), ``field_taps`` (per layer, the columns the field reaches with
    the borders ignored: those outside the layer are the padding cells drawn),
    ``input_window`` (``(row_start, row_end, col_start, col_end)``, unclipped) and
    ``input_window_clipped`` (the shaded box: the bounding box of the input pixels the unit
    depends on, i.e. of the support of its gradient, or None if it depends on none).
    """

    figsize = (12.0, 5.2)
    layout_rows = (("preset", "photo"), ("layer", "kernel_size", "stride", "dilation"))

    def __init__(self, preset: str = "three 3x3 convs", photo: bool = False) -> None:
        if not isinstance(preset, str) or preset not in PRESETS:
            raise ValueError(
                f"preset must be one of {', '.join(map(repr, PRESETS))}, got {preset!r}"
            )
        self._initial = (preset, check_bool("photo", photo))
        super().__init__()

    # -- build --------------------------------------------------------------------------------
    def _build(self) -> None:
        preset, photo = self._initial
        style = {"description_width": "initial"}
        self.controls = {
            # wide enough for the longest preset, "3x3 convs + stride-2 pooling", at any scale
            "preset": widgets.Dropdown(
                options=list(PRESETS),
                value=preset,
                description="preset",
                layout=self.scaled_width(300),
            ),
            "photo": widgets.Checkbox(value=photo, description="photo", indent=False),
            "layer": widgets.IntSlider(1, 1, MAX_LAYERS, description="edit layer", style=style),
            "kernel_size": widgets.IntSlider(3, 1, MAX_KERNEL, description="kernel", style=style),
            "stride": widgets.IntSlider(1, 1, MAX_STRIDE, description="stride", style=style),
            "dilation": widgets.IntSlider(1, 1, MAX_DILATION, description="dilation", style=style),
            "unit_row": widgets.IntSlider(0, 0, 1, description="unit row", style=style),
            "unit_col": widgets.IntSlider(0, 0, 1, description="unit column", style=style),
            # sweeps unit_col along the top layer (a lecture animation)
            "play": widgets.Play(value=0, min=0, max=1, interval=PLAY_INTERVAL, description="play"),
        }  # fmt: skip
        self._layers: list[tuple[str, int, int, int]] = list(PRESETS[preset])
        self._seen: dict[str, Any] = {}
        # registered before the base's observers, so they run first
        self.controls["preset"].observe(self._on_preset, names="value")
        self.controls["layer"].observe(self._on_layer, names="value")
        self._quietly(lambda: self._on_preset({"new": preset}))
        from cnnlib.data import grace_hopper

        img = grace_hopper(size=PHOTO_SIZE)
        top = (img.shape[0] - PHOTO_SIZE) // 2
        left = (img.shape[1] - PHOTO_SIZE) // 2
        self._photo = img[top : top + PHOTO_SIZE, left : left + PHOTO_SIZE]

        fig = self.figure
        # fixed positions (figure fractions) with room for the row labels: no layout engine to
        # re-solve when a preset changes the labels
        fig.set_layout_engine("none")
        # the left edge leaves room for the widest row label any slider setting can write
        widest = fig.text(0, 0, describe("pool", MAX_KERNEL, MAX_STRIDE, MAX_DILATION)
                          + f" \u2192 {PHOTO_SIZE}", fontsize=LABEL_SIZE)  # fmt: skip
        label_width = widest.get_window_extent(fig.canvas.get_renderer()).width / fig.bbox.width
        widest.remove()
        right = 0.615  # labels end 0.01 axes widths left of the axes, plus a 0.005 margin
        left = max(0.175, (label_width + 0.005 + 0.01 * right) / 1.01)
        self.ax_side = fig.add_axes((left, 0.03, right - left, 0.86))
        self.ax_front = fig.add_axes((0.74, 0.06, 0.245, 0.80))
        ax = self.ax_side
        ax.set_axis_off()
        self.units = PolyCollection([], linewidths=1.2, zorder=2)
        ax.add_collection(self.units)
        self.funnel = Polygon(np.zeros((3, 2)), closed=True, facecolor=HIGHLIGHT, alpha=0.15,
                              edgecolor="none", zorder=1)  # fmt: skip
        ax.add_patch(self.funnel)
        # labels just outside the axes at every row (x in axes fractions, y in data): they stay
        # put when the limits change, so their cached bitmaps can be pasted again
        rows = ax.get_yaxis_transform()
        kw = {"fontsize": LABEL_SIZE, "va": "center", "transform": rows}
        self.left_labels = [_text(ax, -0.01, i, ha="right", **kw) for i in range(MAX_LAYERS + 1)]
        self.right_labels = [_text(ax, 1.01, i, ha="left", **kw) for i in range(MAX_LAYERS + 1)]
        self.side_title = _text(ax, 0.5, 1.0, transform=ax.transAxes, ha="center", va="bottom",
                                fontsize=13)  # fmt: skip

        axf = self.ax_front
        self.front = imshow(axf, np.zeros((GRID_SIZE, GRID_SIZE)), cmap="gray", vmin=0, vmax=1,
                            interpolation="nearest", zorder=0)  # fmt: skip
        self.outline = Rectangle((0, 0), 1, 1, fill=False, edgecolor=HIGHLIGHT, linewidth=2.5,
                                 linestyle="--", zorder=3)  # fmt: skip
        self.clipped = Rectangle((0, 0), 1, 1, facecolor=HIGHLIGHT, alpha=0.35,
                                 edgecolor=HIGHLIGHT, linewidth=2.5, zorder=2)  # fmt: skip
        self.border = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor=MUTED, linewidth=1.0)
        for patch in (self.outline, self.clipped, self.border):
            axf.add_patch(patch)
        (self.centre,) = axf.plot([0], [0], "o", color=ACCENT, markersize=7, zorder=4)
        axf.set_xticks([])
        axf.set_yticks([])
        self.front_title = _text(axf, 0.5, 1.01, transform=axf.transAxes, ha="center",
                                 va="bottom", fontsize=13)  # fmt: skip
        # a new unit moves only these; anything else redraws the whole figure
        # (the right-hand labels count the units read, which changes at the borders)
        self.set_dynamic(
            [self.funnel, self.units, self.clipped, self.outline, self.centre, self.front_title]
            + self.right_labels
        )
        self._still: tuple | None = None
        # grid mode: cells as a faint checkerboard (cheaper to draw than 64 grid lines)
        i = np.arange(GRID_SIZE)
        self._board = np.where((i[:, None] + i[None, :]) % 2, 0.90, 0.97)

    # -- update -------------------------------------------------------------------------------
    def _quietly(self, fn: Any) -> None:
        """Run ``fn`` (which sets controls) without a redraw per control."""
        was, self._updating = self._updating, True
        try:
            fn()
        finally:
            self._updating = was

    def _on_preset(self, change: dict) -> None:
        # runs before the base's observer: load the preset's layers, then the base redraws
        self._layers = list(PRESETS[change["new"]])

        def load() -> None:
            self.controls["layer"].max = len(self._layers)
            self.controls["layer"].value = len(self._layers)
            self._load_layer()

        self._quietly(load)

    def _on_layer(self, change: dict) -> None:
        self._quietly(self._load_layer)

    def _load_layer(self) -> None:
        _, k, s, d = self._layers[self.controls["layer"].value - 1]
        self.controls["kernel_size"].value = k
        self.controls["stride"].value = s
        self.controls["dilation"].value = d

    def _sync_controls(self) -> None:
        """Write the sliders into the selected layer; note a new preset or mode."""
        c = {name: ctl.value for name, ctl in self.controls.items()}
        seen, self._seen = self._seen, c
        if not seen or c["preset"] != seen["preset"] or c["photo"] != seen["photo"]:
            self._centre = True
        i = c["layer"] - 1
        self._layers[i] = (self._layers[i][0], c["kernel_size"], c["stride"], c["dilation"])
        self._played = bool(seen) and c["play"] != seen["play"]

    def _update(self) -> None:
        self._centre = False
        self._sync_controls()
        photo = self.controls["photo"].value
        n_in = PHOTO_SIZE if photo else GRID_SIZE
        layers = [(kind, k, s, layer_padding(kind, k, d), d) for kind, k, s, d in self._layers]

        # per layer: the output size (cnnlib.shapes), then r, S, P (cnnlib.receptive)
        outs = [n_in]
        for i, (kind, k, s, p, d) in enumerate(layers):
            try:
                outs.append(conv_output_size(outs[-1], k, s, p, d))
            except ValueError:
                raise ValueError(
                    f"layer {i + 1} ({describe(kind, k, s, d)}): the kernel, dilated to "
                    f"{d * (k - 1) + 1}, is larger than its padded input {outs[-1]} + 2*{p}"
                ) from None
        n_top = outs[-1]
        for name in ("unit_row", "unit_col", "play"):
            ctl = self.controls[name]
            ctl.max = n_top - 1
            if self._centre and name != "play":
                ctl.value = (n_top - 1) // 2
        if self._played:
            self.controls["unit_col"].value = self.controls["play"].value
        self._seen["unit_col"] = self.controls["unit_col"].value
        self._seen["play"] = self.controls["play"].value  # after a clamp to the new max
        u = (self.controls["unit_row"].value, self.controls["unit_col"].value)
        st = field_state(layers, u, n_in)
        self.state = {
            "preset": self.controls["preset"].value,
            "photo": photo,
            "layers": layers,
            **st,
        }
        self._draw_field(
            layers,
            outs,
            [1, *st["sizes"]],
            [1, *st["jumps"]],
            [0, *st["paddings"]],
            st["windows"],
            [np.array(v, dtype=int) for v in st["dependencies"]],
            [np.array(v, dtype=int) for v in st["field_taps"]],
            n_in,
        )
        self.relayout = False

    # -- draw ---------------------------------------------------------------------------------
    def _draw_field(self, layers, outs, sizes, jumps, paddings, windows, deps, taps, n_in) -> None:
        st = self.state
        n_layers = len(layers)
        verts, colors, edges = [], [], []
        spans = []
        h = 0.32
        for level in range(n_layers + 1):
            n, S, P, r = outs[level], jumps[level], paddings[level], sizes[level]
            a, b = windows[level]
            # the layer's units, then the field's taps that fall in its padding
            pad = taps[level][(taps[level] < 0) | (taps[level] >= n)]
            idx = np.concatenate([np.arange(n), pad])
            centre = idx * S - P + (r - 1) / 2
            half = S / 2 - (0 if st["photo"] else min(0.06 * S, 0.1))
            x0, x1 = centre - half, centre + half
            y = level  # the input at the bottom
            quads = np.empty((idx.size, 4, 2))
            quads[:, [0, 3], 0] = x0[:, None]
            quads[:, [1, 2], 0] = x1[:, None]
            quads[:, :2, 1], quads[:, 2:, 1] = y - h, y + h
            verts.append(quads)
            face = np.array([_UNIT] * n + [_PAD] * pad.size).reshape(-1, 4)
            face[deps[level]] = _FIELD
            edge = np.array([_PAD] * n + [_FIELD] * pad.size).reshape(-1, 4)
            colors.append(face)
            edges.append(edge)
            ca, cb = a * S - P + (r - 1) / 2 - half, b * S - P + (r - 1) / 2 + half
            spans.append((y, ca, cb))
        verts, colors, edges = (np.concatenate(v) for v in (verts, colors, edges))
        self.units.set_verts(verts)
        self.units.set_facecolors(colors)
        self.units.set_edgecolors(edges)
        top = len(spans) - 1
        left = [(x0, y + (-h if k == top else h)) for k, (y, x0, _) in enumerate(spans)]
        right = [(x1, y + (-h if k == top else h)) for k, (y, _, x1) in enumerate(spans)]
        self.funnel.set_xy(np.array([*left, *right[::-1]]))

        ax = self.ax_side
        c0, c1 = st["input_window"][2], st["input_window"][3]
        xmin = min(min(-P - 1 for P in paddings), c0 - 1) - 0.5
        xmax = max(n_in + max(paddings), c1 + 1) + 0.5
        self.units.set_linewidth(0.0 if st["photo"] else 1.2)  # 128 columns: no room for borders
        ax.set_xlim(xmin, xmax)
        still = (tuple(layers), st["photo"], xmin, xmax)
        if still != self._still:  # more than the unit changed: redraw everything
            self._still = still
            self.full_redraw = True
        ax.set_ylim(-0.7, n_layers + 0.7)
        for level in range(MAX_LAYERS + 1):
            lab_l, lab_r = self.left_labels[level], self.right_labels[level]
            if level > n_layers:
                lab_l.set_visible(False)
                lab_r.set_visible(False)
                continue
            y = level
            a, b = windows[level]
            # the window's width, and how many units the chosen unit reads where it leaves gaps
            # in the layer (dilation, a stride that drops units); the padding is not a gap
            inside = min(b, outs[level] - 1) - max(a, 0) + 1
            read = "" if deps[level].size == inside else f", {deps[level].size} read"
            if level == 0:
                text = f"input {n_in}x{n_in}"
                right = f"field {b - a + 1} px" + read.replace(", ", "\n")  # bold: wider
            else:
                kind, k, s, _, d = layers[level - 1]
                text = f"{describe(kind, k, s, d)} \u2192 {outs[level]}"
                right = "chosen unit" if level == n_layers else f"window {b - a + 1}{read}"
            lab_l.set_text(text)
            lab_l.set_y(y)
            lab_r.set_text(right)
            lab_r.set_y(y)
            lab_r.set_fontweight("bold" if level == 0 else "normal")
            lab_l.set_visible(True)
            lab_r.set_visible(True)
        self.side_title.set_text(
            f"r = {st['size']}, jump S = {st['jump']}, padding P = {st['padding']} (columns)"
        )

        # front view: the input with the unit's field
        r0, r1, c0, c1 = st["input_window"]
        if st["photo"]:
            self.front.set_data(self._photo)
        else:
            self.front.set_data(self._board)
        self.front.set_extent((-0.5, n_in - 0.5, n_in - 0.5, -0.5))
        self.outline.set_bounds(c0 - 0.5, r0 - 0.5, c1 - c0 + 1, r1 - r0 + 1)
        cl = st["input_window_clipped"]
        self.clipped.set_visible(cl is not None)
        if cl is not None:
            self.clipped.set_bounds(cl[2] - 0.5, cl[0] - 0.5, cl[3] - cl[2] + 1, cl[1] - cl[0] + 1)
        self.border.set_bounds(-0.5, -0.5, n_in, n_in)
        self.centre.set_data([(c0 + c1) / 2], [(r0 + r1) / 2])
        axf = self.ax_front
        lo, hi = -0.5, n_in - 0.5
        if not st["photo"]:  # show the padding that the top layer's fields reach into
            n_top, S, P, r = outs[-1], jumps[-1], paddings[-1], sizes[-1]
            lo, hi = min(lo, -P - 0.5), max(hi, (n_top - 1) * S - P + r - 0.5)
        axf.set_xlim(lo, hi)
        axf.set_ylim(hi, lo)
        ur, uc = st["unit"]
        self.front_title.set_text(f"field of unit ({ur}, {uc}): {r1 - r0 + 1} x {c1 - c0 + 1}")
        self.clipped.set_alpha(0.2 if st["photo"] else 0.35)
        top = st["output_sizes"][-1]
        nowrap = '<span style="white-space:nowrap">'
        self.readout.value = (
            f"<div>{nowrap}<b>receptive field {st['size']} x {st['size']} px</b></span>"
            f" &middot; {nowrap}jump {st['jump']}</span>"
            f" &middot; {nowrap}effective padding {st['padding']}</span></div>"
            f"<div>{nowrap}unit ({ur}, {uc}) of the {top} x {top} top layer sees rows {r0}..{r1},"
            f" cols {c0}..{c1}</span> {nowrap}(negative or &ge; {n_in}: padding)</span></div>"
        )
