"""ActivationExplorer: every layer's maps for one image, and one unit of a convolution opened up.

Top row, CNN Explainer's overview: the input and, left to right, the output of every
convolution, activation and pooling step (:func:`cnnlib.explain.activations`), up to
``MAX_TILES`` channels each, every map scaled to its own range. Bottom row, one output unit
of the chosen ``Conv2d`` opened up (:func:`cnnlib.explain.unit_contributions`): its channel's
map with the unit outlined, then for the input channels that contribute most to this unit
(the largest ``|sum_{i,j} window_c[i, j] * kernel_c[i, j]|``) the window under the kernel and
the kernel slice, with numbers, and the arithmetic

    z = sum_c sum_{i,j} window_c[i, j] * kernel_c[i, j]  (+ beta, the bias, if the layer has one),

then what follows the unit (batch norm, ReLU, pooling: a max pool keeps its window's
largest value, which the readout shows beside this unit's own). The view works for any
``torch.nn.Module`` with ``Conv2d`` layers: with many channels it shows a readable subset
and says which.
"""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as widgets
import matplotlib
import numpy as np
from torch import nn

from cnnlib.plotting import DIVERGING, HIGHLIGHT, SEQUENTIAL, move_rect, symmetric_limits
from cnnlib.plotting import window_rect as _window_rect
from cnnlib.widgets._fastdraw import (
    BlitView,
    GlyphText,
    cell_grid,
    cell_mesh,
    fit_fontsize,
    imshow,
    short_number,
    text_colors,
    update_mesh,
)
from cnnlib.widgets._trained import (
    check_model_and_images,
    conv_layers,
    default_model_and_images,
    single_threaded,
)

#: overview columns drawn at most (with more steps: the convolutions, evenly picked)
MAX_COLUMNS = 10
#: maps per overview column at most
MAX_TILES = 16
#: input channels opened up (the largest |contributions| to the unit)
SHOWN_INPUTS = 3
#: windows with more taps than this are drawn without numbers (a 7 x 7 kernel)
MAX_LABELLED_TAPS = 25
#: maps larger than this are averaged down for drawing
DISPLAY_SIDE = 56
#: lines of the arithmetic panel
ARITH_LINES = 12


def _fold(sentence: str) -> str:
    """The unit's sentence on three lines (one is too wide for a 1440 px window): what is
    shown; the sum; what follows it (batch norm, ReLU, pooling)."""
    head, arrow, tail = sentence.partition(" → ")
    return head.replace("; ", ";\n", 1) + (f"\n→ {tail}" if arrow else "")


_READOUT = (
    '<div style="font-family:monospace;font-size:15px;line-height:1.4;'
    'white-space:pre-wrap">{}</div>'
)

_KINDS = {
    nn.Conv2d: "conv",
    nn.ReLU: "ReLU",
    nn.MaxPool2d: "max pool",
    nn.AvgPool2d: "average pool",
    nn.AdaptiveAvgPool2d: "global average pool",
    nn.AdaptiveMaxPool2d: "global max pool",
    nn.BatchNorm2d: "batch norm",
}


#: class name -> words, for the steps that follow a unit
_KIND_WORDS = {cls.__name__: word for cls, word in _KINDS.items()}


def step_kind(module: nn.Module) -> str:
    """A word for what a step does ("conv", "ReLU", "max pool", ...)."""
    for cls, word in _KINDS.items():
        if isinstance(module, cls):
            return word
    return type(module).__name__


def conv_label(index: int, count: int, conv: nn.Conv2d) -> str:
    """The layer dropdown's words: "conv 2 of 3: 3 × 3, 8 → 16 channels, stride 2"."""
    kh, kw = conv.kernel_size
    text = (
        f"conv {index} of {count}: {kh} × {kw}, {conv.in_channels} → {conv.out_channels} channels"
    )
    if conv.stride != (1, 1):
        text += f", stride {conv.stride[0]}"
    return text


def mosaic(maps: np.ndarray, max_side: int = DISPLAY_SIDE) -> tuple[np.ndarray, int]:
    """``(n, H, W)`` maps tiled into one near-square image (NaN between tiles); each tile scaled
    to [0, 1] by its own range and averaged down to at most ``max_side`` pixels. Returns the
    mosaic and its number of tile columns."""
    n, h, w = maps.shape
    f = math.ceil(max(h, w) / max_side)
    if f > 1:
        h, w = h // f, w // f
        maps = maps[:, : h * f, : w * f].reshape(n, h, f, w, f).mean(axis=(2, 4))
    lo = maps.min(axis=(1, 2), keepdims=True)
    hi = maps.max(axis=(1, 2), keepdims=True)
    maps = (maps - lo) / np.where(hi > lo, hi - lo, 1.0)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    gap = max(1, h // 8)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = maps[k]
    return out, cols


def _rgba(values: np.ndarray, cmap: str = SEQUENTIAL) -> np.ndarray:
    if cmap not in _WHITE_BAD:  # built once: a new colormap builds its lookup table on first use
        _WHITE_BAD[cmap] = matplotlib.colormaps[cmap].with_extremes(bad="white")
    return _WHITE_BAD[cmap](values, bytes=True)


_WHITE_BAD: dict[str, matplotlib.colors.Colormap] = {}


def _text(ax, x: float, y: float, **kwargs: Any) -> GlyphText:
    """A label whose new strings are composed from cached character bitmaps (fast to change)."""
    label = GlyphText(x, y, "", clip_on=False, **kwargs)
    ax.add_artist(label)
    return label


class ActivationExplorer(BlitView):
    """Every layer's maps for one image; one unit of a convolution opened up with numbers.

    Parameters
    ----------
    model:
        A ``torch.nn.Module`` with at least one ``Conv2d`` (put in eval mode); default the
        trained shapes network (:func:`cnnlib.training.trained_shapes_cnn`).
    images:
        ``(N, C, H, W)`` or ``(C, H, W)`` array or tensor with the channels the model's first
        convolution takes; default test images of :func:`cnnlib.data.shapes`.

    Controls: ``image``, ``layer`` (a convolution), ``channel`` (its output channel), ``row``
    and ``col`` (the unit). ``state``: ``image``, ``layer`` (module path), ``channel``, ``row``,
    ``col``, ``overview`` (the steps shown: path, kind, shape), ``shown_inputs`` (the input
    channels opened up), ``window``, ``kernel``, ``channel_sums``, ``bias``, ``pre_activation``,
    ``output`` (the module's own output at the unit), ``after`` (the steps that follow).
    """

    figsize = (13.0, 5.3)
    layout_rows = (("image", "layer"), ("channel", "row", "col"))

    def __init__(self, model: Any = None, images: Any = None) -> None:
        if model is None and images is None:
            model, images, labels, _, classes = default_model_and_images()
            self._titles = [f"test image {i}: {classes[k]}" for i, k in enumerate(labels)]
        else:
            if model is None:
                model = default_model_and_images()[0]
            if images is None:
                images = default_model_and_images()[1]
            self._titles = None
        self._model, self._x = check_model_and_images(model, images)
        if self._titles is None:
            self._titles = [f"image {i}" for i in range(len(self._x))]
        self._convs = conv_layers(self._model)
        self._acts: dict[int, dict[str, np.ndarray]] = {}
        self._kinds = {n: step_kind(m) for n, m in self._model.named_modules()}
        self._shown: tuple | None = None
        self._unit_cache: dict[tuple, Any] = {}
        super().__init__()

    # -- data ---------------------------------------------------------------------------
    def activations_of(self, image: int) -> dict[str, np.ndarray]:
        """Every step's output ``(1, C, h, w)`` for image ``image`` (computed once, cached)."""
        if image not in self._acts:
            from cnnlib.explain import activations

            acts = activations(self._model, self._x[image : image + 1])
            self._acts[image] = {k: v for k, v in acts.items() if np.ndim(v) == 4}
            if len(self._acts) > 8:  # keep memory bounded for large models
                self._acts.pop(next(iter(self._acts)))
        return self._acts[image]

    def kind(self, name: str) -> str:
        """The word for step ``name`` of the overview ("conv", "ReLU", ...)."""
        return self._kinds.get(name.split(" (call ")[0], "")

    def _columns(self, acts: dict[str, np.ndarray], layer: str) -> list[str]:
        """The steps drawn in the overview: all of them, or (too many) evenly picked
        convolutions, always including ``layer``."""
        names = list(acts)
        if len(names) > MAX_COLUMNS:  # batch norm only rescales each map: drop it first
            names = [n for n in names if self.kind(n) != "batch norm"]
        if len(names) <= MAX_COLUMNS:
            return names
        convs = [n for n in names if self.kind(n) == "conv"]
        if len(convs) > MAX_COLUMNS:
            picks = np.linspace(0, len(convs) - 1, MAX_COLUMNS).round().astype(int)
            chosen = [convs[i] for i in picks]
            if layer not in chosen:
                nearest = min(range(MAX_COLUMNS), key=lambda k: abs(picks[k] - convs.index(layer)))
                chosen[nearest] = layer
            convs = chosen
        return convs

    # -- the view -----------------------------------------------------------------------
    def _build(self) -> None:
        n = len(self._x)
        count = len(self._convs)
        options = [(conv_label(i + 1, count, m), name) for i, (name, m) in enumerate(self._convs)]
        first = self._convs[0][1]
        self.controls = {
            "image": widgets.IntSlider(value=0, min=0, max=n - 1, description="image"),
            "layer": widgets.Dropdown(
                options=options,
                value=self._convs[0][0],
                description="layer",
                # the longest name, "conv 4 of 6: 3 × 3, 16 → 16 channels", whole at any scale
                layout=self.scaled_width(460),
            ),
            "channel": widgets.IntSlider(
                value=0, min=0, max=first.out_channels - 1, description="channel"
            ),
            "row": widgets.IntSlider(value=0, min=0, max=1, description="row"),
            "col": widgets.IntSlider(value=0, min=0, max=1, description="col"),
        }
        fig = self.figure
        outer = fig.add_gridspec(2, 1, height_ratios=[0.5, 1.6])
        top = outer[0].subgridspec(1, MAX_COLUMNS + 1, width_ratios=[1.3] + [1.0] * MAX_COLUMNS)
        self.ax_input = fig.add_subplot(top[0])
        self.col_axes = [fig.add_subplot(top[k + 1]) for k in range(MAX_COLUMNS)]
        bottom = outer[1].subgridspec(
            SHOWN_INPUTS, 4, width_ratios=[2.4, 1.0, 1.0, 2.6], hspace=0.15, wspace=0.05
        )
        self.ax_map = fig.add_subplot(bottom[:, 0])
        self.win_axes = [fig.add_subplot(bottom[k, 1]) for k in range(SHOWN_INPUTS)]
        self.ker_axes = [fig.add_subplot(bottom[k, 2]) for k in range(SHOWN_INPUTS)]
        self.ax_text = fig.add_subplot(bottom[:, 3])
        for ax in [self.ax_input, *self.col_axes, self.ax_map, self.ax_text]:
            ax.set_axis_off()
        for ax in [*self.win_axes, *self.ker_axes]:
            ax.set_aspect("equal")

        blank = np.zeros((2, 2, 4), np.uint8)
        self.input_im = imshow(self.ax_input, blank, interpolation="nearest")
        self.input_title = _text(self.ax_input, 0.5, 1.02, ha="center", va="bottom", fontsize=10,
                                 transform=self.ax_input.transAxes)  # fmt: skip
        self.col_ims, self.col_titles = [], []
        for ax in self.col_axes:
            self.col_ims.append(imshow(ax, blank, interpolation="nearest"))
            self.col_titles.append(
                _text(ax, 0.5, 1.02, ha="center", va="bottom", fontsize=9, transform=ax.transAxes)
            )
        self.tile_rects = [
            _window_rect(ax, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=2) for ax in self.col_axes
        ]
        self.map_im = imshow(self.ax_map, np.zeros((2, 2)), cmap=DIVERGING, interpolation="nearest")
        self.map_title = _text(self.ax_map, 0.5, 1.01, ha="center", va="bottom", fontsize=11,
                               transform=self.ax_map.transAxes)  # fmt: skip
        self.unit_rect = _window_rect(self.ax_map, 0, 0, 1, 1, color="black", linewidth=2.5)

        labels = MAX_LABELLED_TAPS
        self.win_meshes = [cell_mesh(ax, (3, 3), DIVERGING) for ax in self.win_axes]
        self.ker_meshes = [cell_mesh(ax, (3, 3), DIVERGING) for ax in self.ker_axes]
        self.win_labels = [self._labels(ax, labels) for ax in self.win_axes]
        self.ker_labels = [self._labels(ax, labels) for ax in self.ker_axes]
        self.win_titles = [
            _text(ax, 0.5, 1.03, ha="center", va="bottom", fontsize=10, transform=ax.transAxes)
            for ax in self.win_axes
        ]
        self.ker_titles = [
            _text(ax, 0.5, 1.03, ha="center", va="bottom", fontsize=10, transform=ax.transAxes)
            for ax in self.ker_axes
        ]
        self.sum_texts = [
            _text(ax, 1.08, 0.5, ha="left", va="center", fontsize=11, transform=ax.transAxes)
            for ax in self.ker_axes
        ]
        # words and numbers apart: the words repeat (their bitmaps are cached), the numbers not
        self.arith = [
            _text(self.ax_text, 0.05, 0.97 - 0.075 * k, ha="left", va="top", fontsize=11.5,
                  family="monospace", transform=self.ax_text.transAxes)
            for k in range(ARITH_LINES)
        ]  # fmt: skip
        self.arith_values = [
            _text(self.ax_text, 0.78, 0.97 - 0.075 * k, ha="right", va="top",
                  fontsize=11.5, family="monospace", transform=self.ax_text.transAxes)
            for k in range(ARITH_LINES)
        ]  # fmt: skip
        self.win_grids = [cell_grid(ax, (3, 3)) for ax in self.win_axes]
        self.ker_grids = [cell_grid(ax, (3, 3)) for ax in self.ker_axes]
        # the overview's maps change with the image; its titles (bold: the layer) go with
        # the channel's layer, so that a new layer does not redraw the maps
        overview = [self.input_im, *self.col_ims]
        # the channel's map changes with the channel; the windows, and which kernel slices are
        # shown (the largest contributions to this unit), with the unit
        channel = [
            self.input_title,
            *self.col_titles,
            self.map_im,
            self.map_title,
            *self.tile_rects,
        ]
        unit = [
            *self.ker_meshes,
            *self.ker_grids,
            *(t for ls in self.ker_labels for t in ls),
            *self.ker_titles,
            *self.win_titles,
            self.unit_rect,
            *self.win_meshes,
            *self.win_grids,
            *(t for ls in self.win_labels for t in ls),
            *self.sum_texts,
            *self.arith,
            *self.arith_values,
        ]
        self.set_layers(overview, channel, unit)
        self._drawn: dict[str, Any] = {}

    @staticmethod
    def _labels(ax, count: int) -> list[GlyphText]:
        return [
            _text(
                ax,
                0,
                0,
                ha="center",
                va="center",
                fontsize=9,
                fontweight="bold",
                visible=False,
            )
            for _ in range(count)
        ]

    @single_threaded
    def _update(self) -> None:
        c = self.controls
        image, layer = c["image"].value, c["layer"].value
        conv = dict(self._convs)[layer]
        acts = self.activations_of(image)
        if layer not in acts:
            raise ValueError(f"layer {layer} did not run on this image (is it in forward?)")
        out = acts[layer][0]  # (C_out, H_out, W_out)
        c_out, h_out, w_out = out.shape
        self._updating = True
        try:
            c["channel"].max = c_out - 1
            c["row"].max = h_out - 1
            c["col"].max = w_out - 1
        finally:
            self._updating = False
        channel, row, col = c["channel"].value, c["row"].value, c["col"].value

        columns = self._columns(acts, layer)
        start = channel // MAX_TILES * MAX_TILES
        shown = (image, tuple(columns), layer, start)
        if self._shown is None or shown[1] != self._shown[1]:
            self.full_redraw = True  # overview columns appear or disappear
        if shown != self._shown:
            maps_changed = self._draw_overview(image, acts, columns, layer, start)
            self.redraw_from(1 if maps_changed else 2)
            self._shown = shown
        weights = conv.weight.detach()[channel].numpy().astype(float)
        if self._drawn.get("channel") != (image, layer, channel):
            self._draw_map(out[channel], layer, channel)
            self._place_tile(columns, layer, channel)
            self._drawn["channel"] = (image, layer, channel)
            self.redraw_from(2)

        unit = self._unit(image, layer, channel, row, col)
        unit["has_bias"] = conv.bias is not None
        inputs = shown_inputs(unit["channel_sums"])  # indices into the channel's group of inputs
        group = channel // (conv.out_channels // conv.groups) * (conv.in_channels // conv.groups)
        numbers = [group + i for i in inputs]
        if self._drawn.get("kernels") != (layer, channel, tuple(inputs)):
            self._draw_kernels(weights, inputs, numbers)
            self._drawn["kernels"] = (layer, channel, tuple(inputs))
        move_rect(self.unit_rect, row, col, 1, 1)
        self._draw_windows(unit["window"], unit["channel_sums"], inputs)
        lines = arithmetic_lines(unit, inputs, numbers)
        for k, (words, value) in enumerate(zip(self.arith, self.arith_values, strict=True)):
            words.set_text(lines[k][0] if k < len(lines) else "")
            value.set_text(lines[k][1] if k < len(lines) else "")
        label = dict((v, k) for k, v in c["layer"].options)[layer]
        self.state = {
            "image": image,
            "layer": layer,
            "layer_label": label,
            "channel": channel,
            "row": row,
            "col": col,
            "overview": [(n, self.kind(n), tuple(acts[n].shape[1:])) for n in columns],
            "steps": len(acts),
            "output_map": out[channel],
            "shown_inputs": numbers,
            **unit,
        }
        self.readout.value = _READOUT.format(
            html.escape(
                f"{self._titles[image]}  ·  {label}  ·  channel {channel}, unit (row {row}, "
                f"col {col})\n{_fold(unit_sentence(unit, inputs))}"
            )
        )

    def _unit(self, image: int, layer: str, channel: int, row: int, col: int) -> dict[str, Any]:
        """The opened-up unit as plain arrays (from :func:`cnnlib.explain.unit_contributions`)."""
        key = (image, layer, channel, row, col)
        if key not in self._unit_cache:
            from cnnlib.explain import unit_contributions

            u = unit_contributions(
                self._model, layer, channel, row, col, self._x[image : image + 1]
            )
            self._unit_cache[key] = {
                "window": np.asarray(u.windows, dtype=float),
                "kernel": np.asarray(u.kernel, dtype=float),
                "channel_sums": np.asarray(u.channel_sums, dtype=float),
                "input_channels": [int(i) for i in u.input_channels],
                "bias": float(u.bias),
                "pre_activation": float(u.total),
                "output": float(u.output),
                "after": [(_KIND_WORDS.get(f.kind, f.kind), float(f.value)) for f in u.following],
            }
            if len(self._unit_cache) > 512:
                self._unit_cache.pop(next(iter(self._unit_cache)))
        return self._unit_cache[key]

    # -- drawing ------------------------------------------------------------------------
    def _draw_overview(self, image, acts, columns, layer, start) -> bool:
        """Titles and (if they changed) maps of the overview; returns whether the maps did."""
        firsts = []
        for name in columns:
            n = acts[name].shape[1]
            firsts.append(min(start if name == layer else 0, max(0, n - MAX_TILES)))
        pics = (image, tuple(columns), tuple(firsts))
        maps_changed = pics != getattr(self, "_pics", None)
        self._pics = pics
        x = self._x[image].numpy()
        if x.shape[0] == 3:
            lo, hi = x.min(), x.max()
            rgb = ((x - lo) / (hi - lo if hi > lo else 1.0)).transpose(1, 2, 0)
            pic = (255 * rgb).astype(np.uint8)
        else:
            pic = _rgba(mosaic(x[:1])[0], "gray")
        if maps_changed:
            self._set_image(self.ax_input, self.input_im, pic)
        h, w = x.shape[1:]
        self.input_title.set_text(f"{self._titles[image]}\n{x.shape[0]} × {h} × {w}")
        self._tiles = {}
        conv_names = [n for n, _ in self._convs]
        for k, ax in enumerate(self.col_axes):
            visible = k < len(columns)
            ax.set_visible(visible)
            if not visible:
                continue
            name = columns[k]
            t = acts[name][0]
            first = firsts[k]
            maps = t[first : first + MAX_TILES]
            ncols = math.ceil(math.sqrt(len(maps)))  # as mosaic() tiles them
            self._tiles[name] = (first, ncols, maps.shape[1:])
            if maps_changed:
                self._set_image(ax, self.col_ims[k], _rgba(mosaic(maps)[0]))
            words = self.kind(name)
            if words == "conv":
                words = f"conv {conv_names.index(name) + 1}"
            shape = " × ".join(str(s) for s in t.shape)
            more = "" if len(maps) == t.shape[0] else f"\nmaps {first}–{first + len(maps) - 1}"
            self.col_titles[k].set_text(f"{words}\n{shape}{more}")
            self.col_titles[k].set_fontweight("bold" if name == layer else "normal")
        return maps_changed

    @staticmethod
    def _set_image(ax, im, rgba: np.ndarray) -> None:
        h, w = rgba.shape[:2]
        same = im.get_array() is not None and im.get_array().shape[:2] == (h, w)
        im.set_data(rgba)
        if not same:  # new limits cost more than the new pixels
            im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
            ax.set_xlim(-0.5, w - 0.5)
            ax.set_ylim(h - 0.5, -0.5)

    def _place_tile(self, columns, layer, channel) -> None:
        """Outline the channel's map in the overview column of its layer."""
        for k, rect in enumerate(self.tile_rects):
            rect.set_visible(k < len(columns) and columns[k] == layer)
            if rect.get_visible():
                first, ncols, (h, w) = self._tiles[layer]
                r, cc = divmod(channel - first, ncols)
                h, w = mosaic_tile(h, w)
                gap = max(1, h // 8)
                move_rect(rect, r * (h + gap), cc * (w + gap), h, w)

    def _draw_map(self, m: np.ndarray, layer: str, channel: int) -> None:
        self.map_im.set_data(m)
        self.map_im.set_clim(*symmetric_limits(m))
        h, w = m.shape
        self.map_im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        self.ax_map.set_xlim(-0.5, w - 0.5)
        self.ax_map.set_ylim(h - 0.5, -0.5)
        number = [n for n, _ in self._convs].index(layer) + 1
        self.map_title.set_text(f"conv {number}, output channel {channel}: {h} × {w} units")

    def _draw_cells(self, k, values, meshes, labels, ax, size) -> None:
        """Cells of panel ``k`` coloured by value (zero white), numbered if small enough."""
        kh, kw = values.shape
        lim = symmetric_limits(values)
        meshes[k] = update_mesh(self, meshes[k], values, lim)
        cell_grid(ax, (kh, kw))
        if kh * kw > MAX_LABELLED_TAPS:
            for label in labels[k]:
                label.set_visible(False)
            return
        colors = text_colors(values, *lim, diverging=True)
        for t, label in enumerate(labels[k]):
            if t < values.size:
                r, c = divmod(t, kw)
                label.set_position((c, r))
                label.set_text(cell_number(values.flat[t]))
                label.set_color(colors[t])
                label.set_fontsize(size)
                label.set_visible(True)
            else:
                label.set_visible(False)

    def _font_size(self, values: np.ndarray) -> float:
        longest = max(len(cell_number(v)) for v in values.ravel()[:2000])
        return fit_fontsize(self.ker_axes[0], values.shape[-2:], max(longest, 5), largest=11.0)

    def _draw_kernels(self, weights: np.ndarray, inputs: list[int], numbers: list[int]) -> None:
        size = self._font_size(weights)
        for k in range(SHOWN_INPUTS):
            on = k < len(inputs)
            # the panels' own artists (all layered), not their axes: hiding an axes would
            # need a full redraw, and an axes with its axis off draws nothing itself
            for artist in (self.ker_meshes[k], self.win_meshes[k], self.ker_grids[k],
                           self.win_grids[k], self.ker_titles[k], self.win_titles[k],
                           self.sum_texts[k]):  # fmt: skip
                artist.set_visible(on)
            if not on:
                for label in (*self.ker_labels[k], *self.win_labels[k]):
                    label.set_visible(False)
                continue
            i = inputs[k]
            self._draw_cells(
                k, weights[i], self.ker_meshes, self.ker_labels, self.ker_axes[k], size
            )
            self.ker_titles[k].set_text("× kernel slice")
            self.win_titles[k].set_text(f"input channel {numbers[k]}: window")

    def _draw_windows(self, window: np.ndarray, sums: np.ndarray, inputs: list[int]) -> None:
        size = self._font_size(window[inputs])
        for k, i in enumerate(inputs):
            self._draw_cells(k, window[i], self.win_meshes, self.win_labels, self.win_axes[k], size)
            self.sum_texts[k].set_text(f"sum\n{sums[i]:+.3f}")


def cell_number(value: float) -> str:
    """A cell label: whole numbers as they are, others with two decimals (``-0.0051`` reads
    ``-0.01``: short enough for a small cell, and few distinct labels draw fast)."""
    value = float(value)
    if value == round(value) and abs(value) < 1e6:
        return str(int(round(value)))
    if abs(value) >= 100:
        return short_number(value)
    return f"{value:.2f}"


def mosaic_tile(h: int, w: int, max_side: int = DISPLAY_SIDE) -> tuple[int, int]:
    """The size of a ``h x w`` map's tile in :func:`mosaic`."""
    f = math.ceil(max(h, w) / max_side)
    return (h // f, w // f) if f > 1 else (h, w)


def shown_inputs(channel_sums: np.ndarray, count: int = SHOWN_INPUTS) -> list[int]:
    """The input channels opened up for one unit: the ``count`` whose contributions
    ``channel_sums[c] = sum_{i,j} window_c[i, j] kernel_c[i, j]`` are largest in absolute
    value (ties: the lower channel), in channel order; all of them if there are few. (A large
    kernel slice over a window of zeros contributes nothing: the sums, not the weights, say
    what made this unit's value.)"""
    sums = np.abs(np.asarray(channel_sums, dtype=float).ravel())
    return sorted(int(i) for i in np.argsort(-sums, kind="stable")[:count])


def arithmetic_lines(
    unit: dict[str, Any], inputs: list[int], numbers: list[int]
) -> list[tuple[str, str]]:
    """The unit's sum written out as (words, number) lines: the shown channels (``inputs``
    index the unit's group, ``numbers`` are their channel numbers), the others together, bias,
    total, and the steps that follow."""
    sums = unit["channel_sums"]
    lines = [("input channel", "sum")]
    for i, number in zip(inputs, numbers, strict=True):
        lines.append((f"  {number}", f"{sums[i]:+.3f}"))
    rest = [i for i in range(len(sums)) if i not in inputs]
    if rest:
        lines.append((f"  {len(rest)} others", f"{float(sums[rest].sum()):+.3f}"))
    if unit.get("has_bias", True):
        lines.append(("bias", f"{unit['bias']:+.3f}"))
    lines.append(("─" * 30, ""))
    lines.append(("= output", f"{unit['pre_activation']:+.3f}"))
    previous = unit["pre_activation"]
    for name, value in unit["after"]:
        if name in _POOL_WORDS:  # the pool's output is its window's, not this unit's value
            lines.append((f"{name[:13]}", f"{value:+.3f}"))
            lines.append((f"  ({_POOL_WORDS[name]})", f"{previous:+.3f}"))
        else:
            lines.append((name[:13], f"{value:+.3f}"))
        previous = value
    return lines


#: what a pooling step keeps, for the readout (its value is the window's, not the unit's)
_POOL_WORDS = {
    "max pool": "this unit",
    "average pool": "this unit",
    "global average pool": "this unit",
    "global max pool": "this unit",
}


def unit_sentence(unit: dict[str, Any], inputs: list[int]) -> str:
    """One line for the readout: how many channels are shown and the total, then the steps
    after the unit (a pool's value is its window's maximum or mean, said as such, with this
    unit's own value beside it)."""
    n = len(unit["channel_sums"])
    shown = "all" if len(inputs) == n else f"{len(inputs)} of {n} (the largest contributions)"
    after, previous = "", unit["pre_activation"]
    for name, value in unit["after"]:
        if "max pool" in name:
            after += f" → {name}: its window's maximum {value:.4g} (this unit {previous:.4g})"
        elif "average pool" in name:
            after += f" → {name}: its window's mean {value:.4g} (this unit {previous:.4g})"
        else:
            after += f" → {name} {value:.4g}"
        previous = value
    bias = " + bias" if unit.get("has_bias", True) else " (no bias)"
    return (
        f"input channels shown: {shown}; sum of all {n} channel sums{bias} = "
        f"{unit['pre_activation']:.4g} (the layer's own output: {unit['output']:.4g}){after}"
    )
