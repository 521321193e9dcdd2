"""ModelView: walk through a famous network layer by layer on a real photo.

Pick an architecture (``model``) and a step of it (``layer``, the steps of
:func:`cnnlib.architectures.layer_sequence`); the view shows the step's output shape, its
parameters (:func:`cnnlib.params.count_params`), its multiply-accumulates on that input
(:func:`cnnlib.params.count_macs`), the receptive field of one of its units on the input
(:func:`cnnlib.receptive.receptive_field_of`, drawn as a square on the photo) and the first
feature maps it produces for Grace Hopper's photo.

The weights are random (seeded, nothing is downloaded): the maps show what the layer's
arithmetic does to an image (edges from random filters, shrinking resolution, more
channels), not what a trained network has learned.

The counts come from a table computed on the meta device (``_model_table``, checked by a
test); the photo runs through the model step by step only as far as the slider has been, each
step getting its random weights when the photo reaches it (``MapRunner``). A model switch
keeps the layer unless reaching it costs more than ``SWITCH_MACS``; anything slower than a
moment shows "computing ..." at once. Moving back to a visited layer only swaps cached arrays.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import ipywidgets as widgets
import matplotlib
import numpy as np
import torch
from torch import nn

from cnnlib._validate import check_int
from cnnlib.architectures import MODELS, PatchEmbedding, layer_sequence
from cnnlib.data import photo
from cnnlib.params import count_macs, count_params
from cnnlib.plotting import HIGHLIGHT, SEQUENTIAL
from cnnlib.receptive import receptive_field_of
from cnnlib.widgets._base import check_slider_limits
from cnnlib.widgets._blit import BlitView
from cnnlib.widgets._cells import imshow

#: feature maps drawn per layer
MAPS = 8
#: a model switch keeps the layer unless its maps cost more multiply-accumulates than this
#: (ViT-B/16 then opens at its first encoder block, not its fourth): each switch < 1 s
SWITCH_MACS = 2_000_000_000
#: an update that must run more than this many MACs says first that it is working
BUSY_MACS = 500_000_000
#: feature maps larger than this are averaged down for drawing (a panel is ~120 pixels wide)
DISPLAY_SIDE = 112
#: ImageNet statistics used to normalise the photo (as the reference models expect)
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])

_READOUT = (
    '<div style="font-family:monospace;font-size:1.25em;line-height:1.45;'
    'white-space:pre-wrap">{}</div>'
)


def input_size(model: str) -> tuple[int, int, int, int]:
    """The input a model is shown with: LeNet-5 reads 1 x 32 x 32, the others 3 x 224 x 224."""
    return (1, 1, 32, 32) if model == "LeNet-5" else (1, 3, 224, 224)


def as_maps(t: torch.Tensor, count: int = MAPS) -> tuple[list[np.ndarray], str]:
    """The first ``count`` channels of one output as 2-D arrays, and what they are.

    ``(C, H, W)``: channels; ``(T, D)`` transformer tokens: the patch tokens of each of the
    first features, laid back on the patch grid; a vector: one near-square grid (padded with NaN).
    """
    t = t.detach().float()
    if t.dim() == 3 and t.shape[1] * t.shape[2] == 1:  # after global pooling: a vector
        t = t.reshape(-1)
    if t.dim() == 3:
        return [t[i].numpy().copy() for i in range(min(count, t.shape[0]))], "channels"
    if t.dim() == 2:
        side = math.isqrt(t.shape[0] - 1)
        if side * side == t.shape[0] - 1:
            grid = t[1:].T.reshape(t.shape[1], side, side)
            return [grid[i].numpy().copy() for i in range(min(count, t.shape[1]))], "tokens"
        return [t.numpy().copy()], "matrix"
    v = t.reshape(-1).numpy()
    side = math.ceil(math.sqrt(v.size))
    grid = np.full(side * side, np.nan)
    grid[: v.size] = v
    return [grid.reshape(side, side)], "vector"


def display_rgba(m: np.ndarray, max_side: int = DISPLAY_SIDE) -> np.ndarray:
    """A map as RGBA bytes for drawing: block means down to ``max_side`` pixels, scaled to its
    own range, coloured with the sequential colormap (NaN padding white)."""
    f = math.ceil(max(m.shape) / max_side)
    if f > 1:
        h, w = m.shape[0] // f * f, m.shape[1] // f * f
        m = m[:h, :w].reshape(h // f, f, w // f, f).mean(axis=(1, 3))
    lo, hi = np.nanmin(m), np.nanmax(m)
    scaled = (m - lo) / (hi - lo if hi > lo else 1.0)
    cmap = matplotlib.colormaps[SEQUENTIAL].with_extremes(bad="white")
    return cmap(scaled, bytes=True)


@dataclass
class LayerInfo:
    """What the view shows for one step of a model."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    receptive_field: int
    is_global: bool
    maps: list[np.ndarray] = field(default_factory=list)
    maps_kind: str = ""
    images: list[np.ndarray] = field(default_factory=list)


def count_layers(model: str) -> list[LayerInfo]:
    """Count every step of ``model`` on the meta device (no memory, no weights): output
    shape, parameters, MACs and receptive field on the view's input."""
    build = MODELS[model][0]
    size = input_size(model)
    with torch.device("meta"):
        meta = build()
    steps = layer_sequence(meta)
    fields = receptive_field_of(nn.Sequential(*(m for _, m in steps)), size, per_layer=True)
    rf = {f.name: f for f in fields}
    infos = []
    x = torch.empty(size, device="meta")
    for i, (name, step) in enumerate(steps):
        macs = count_macs(step, tuple(x.shape))
        with torch.no_grad():
            x = step(x)
        if isinstance(step, PatchEmbedding):  # a token sees its own patch
            rf_size, is_global = step.conv_proj.kernel_size[0], False
        else:
            rf_size, is_global = rf[str(i)].size[0], rf[str(i)].is_global
        shape = tuple(x.shape[1:])
        params = count_params(step)
        infos.append(LayerInfo(name, type(step).__name__, shape, params, macs, rf_size, is_global))
    return infos


def _counted(model: str) -> list[LayerInfo]:
    """``count_layers(model)`` from the table computed once and stored in
    ``cnnlib.widgets._model_table`` (a test recomputes it), or live for a model not in it."""
    from cnnlib.widgets._model_table import TABLE

    if model not in TABLE:
        return count_layers(model)
    return [LayerInfo(*row) for row in TABLE[model]]


def _resettable(module: nn.Module) -> bool:
    """Every parameter and buffer of ``module`` belongs to a submodule that can initialise
    it again (``reset_parameters``): it can be built on the meta device and filled later."""
    return all(
        hasattr(m, "reset_parameters") or hasattr(m, "_reset_parameters")
        for m in module.modules()
        if m._parameters or m._buffers
    )


class MapRunner:
    """Runs the photo through a model's steps on demand, keeping the first feature maps.

    The model is built on the meta device; step ``i`` gets real weights only when the photo
    reaches it (initialised by its layers' ``reset_parameters`` under ``torch.manual_seed(i)``),
    runs once and gives its memory back. Showing layer 4 of VGG-16 costs its first five steps,
    not a 138-million-parameter build and a full forward pass. A model with a layer that cannot
    initialise itself again (LeNet-5's connection tables) is built whole, seeded with 0.
    """

    def __init__(self, model: str, infos: list[LayerInfo]) -> None:
        build = MODELS[model][0]
        size = input_size(model)
        with torch.device("meta"):
            meta = build().eval()
        steps = layer_sequence(meta)
        self.lazy = all(_resettable(step) for _, step in steps)
        if not self.lazy:
            with torch.random.fork_rng():
                torch.manual_seed(0)
                steps = layer_sequence(build().eval())
        self.steps = steps
        self.infos = infos
        img = photo(size)
        if size[1] == 3:
            img = (img - MEAN) / STD
        self.x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32))[
            None
        ]
        self.done = 0

    @staticmethod
    def materialise(step: nn.Module, seed: int) -> None:
        """Give a meta-device ``step`` real, freshly initialised weights (seeded)."""
        step.to_empty(device="cpu")
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            for m in step.modules():
                if m._parameters or m._buffers:
                    reset = getattr(m, "reset_parameters", None) or m._reset_parameters
                    reset()

    def run_to(self, index: int) -> None:
        """Compute the maps of every step up to ``index`` not computed yet."""
        with torch.no_grad():
            while self.done <= index and self.done < len(self.steps):
                _, step = self.steps[self.done]
                if self.lazy:
                    self.materialise(step, self.done)
                self.x = step(self.x)
                info = self.infos[self.done]
                info.maps, info.maps_kind = as_maps(self.x[0])
                if self.lazy:
                    step.to_empty(device="meta")  # its weights are not needed again
                self.done += 1
        if self.done == len(self.steps):
            self.steps, self.x = [], None  # finished: keep only the maps


def analyse(model: str) -> list[LayerInfo]:
    """Every step of ``model`` counted, with the first feature maps of the photo."""
    infos = [LayerInfo(**vars(i)) for i in _counted(model)]
    MapRunner(model, infos).run_to(len(infos) - 1)
    return infos


class ModelView(BlitView):
    """Pick an architecture and a layer: output shape, parameters, MACs, receptive field and
    the first feature maps of that layer for a photo (random weights)."""

    figsize = (11.0, 4.6)
    layout_rows = (("model", "layer"),)

    def __init__(self, model: str = "ResNet-18", layer: int = 4) -> None:
        if not isinstance(model, str) or model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
        layer = check_int("layer", layer, 0)
        check_slider_limits({"layer": layer}, {"layer": len(_counted(model)) - 1})
        self._initial = (model, layer)
        self._cache: dict[str, list[LayerInfo]] = {}
        self._runners: dict[str, MapRunner] = {}
        super().__init__()

    def model_layers(self, model: str, upto: int | None = None) -> list[LayerInfo]:
        """The counted steps of ``model``, with feature maps computed up to step ``upto``
        (every step when None); computed on first use, then cached."""
        if model not in self._cache:
            infos = [LayerInfo(**vars(i)) for i in _counted(model)]
            self._cache[model] = infos
            self._runners[model] = MapRunner(model, infos)
        infos = self._cache[model]
        runner = self._runners.get(model)
        if runner is not None:
            runner.run_to(len(infos) - 1 if upto is None else upto)
            if runner.done == len(infos):
                del self._runners[model]
        return infos

    def _build(self) -> None:
        model, layer = self._initial
        infos = self.model_layers(model, upto=-1)
        self.controls["model"] = widgets.Dropdown(
            options=list(MODELS), value=model, description="model"
        )
        self.controls["layer"] = widgets.IntSlider(
            value=layer,
            min=0,
            max=len(infos) - 1,
            description="layer",
            continuous_update=True,
            layout=widgets.Layout(width="420px"),
        )
        self.controls["model"].observe(self._on_model, names="value")
        fig = self.figure
        grid = fig.add_gridspec(2, 6, width_ratios=[2.2, 0.08, 1, 1, 1, 1])
        self.ax_photo = fig.add_subplot(grid[:, 0])
        self.photo_im = imshow(self.ax_photo, np.zeros((2, 2)), cmap="gray", vmin=0, vmax=1)
        self.ax_photo.set_xticks([])
        self.ax_photo.set_yticks([])
        self.ax_photo.set_title("input photo", fontsize=13)
        (self.rf_box,) = self.ax_photo.plot([], [], color=HIGHLIGHT, linewidth=2.5)
        self.map_axes = [fig.add_subplot(grid[r, 2 + c]) for r in range(2) for c in range(4)]
        self.map_ims = []
        for ax in self.map_axes:
            im = imshow(ax, np.zeros((2, 2, 4), np.uint8), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            self.map_ims.append(im)
        self.title = fig.suptitle("", fontsize=14)
        self._shown_model: str | None = None
        self._visible = len(self.map_axes)
        self.set_dynamic([*self.map_ims, self.rf_box, self.title])

    def cost(self, model: str, index: int) -> int:
        """Multiply-accumulates still to run before step ``index`` of ``model`` has maps."""
        runner = self._runners.get(model)
        if model in self._cache and runner is None:
            return 0
        infos = self._cache[model] if model in self._cache else _counted(model)
        done = runner.done if runner is not None else 0
        return sum(info.macs for info in infos[done : index + 1])

    def _busy(self, model: str) -> None:
        # sent to the page at once, before the work: the learner sees that it is working
        self.message.value = (
            '<div class="cnnlib-busy" style="font-size:1.1em">&#8987; computing the feature '
            f"maps of {html.escape(model)} (random weights) &hellip;</div>"
        )

    def _on_model(self, change: dict) -> None:
        # keep the slider inside the new model's steps before the redraw, at a layer whose
        # maps cost at most SWITCH_MACS to compute: a switch answers in well under a second
        model = change["new"]
        if model not in self._cache:
            self._busy(model)
        n = len(self.model_layers(model, upto=-1))
        slider = self.controls["layer"]
        target = min(slider.value, n - 1)
        while target > 0 and self.cost(model, target) > SWITCH_MACS:
            target -= 1
        self._updating = True
        try:
            if slider.value != target:
                slider.value = target
            slider.max = n - 1
        finally:
            self._updating = False

    def _show_photo(self, model: str) -> None:
        size = input_size(model)
        img = photo(size)
        self.photo_im.set_data(img[..., 0] if size[1] == 1 else img)
        self.photo_im.set_extent((-0.5, size[3] - 0.5, size[2] - 0.5, -0.5))
        self.ax_photo.set_xlim(-0.5, size[3] - 0.5)
        self.ax_photo.set_ylim(size[2] - 0.5, -0.5)
        self._shown_model = model

    def _update(self) -> None:
        model = self.controls["model"].value
        index = self.controls["layer"].value
        if self.cost(model, index) > BUSY_MACS:
            self._busy(model)
        infos = self.model_layers(model, upto=index)
        index = min(index, len(infos) - 1)
        info = infos[index]
        if model != self._shown_model:
            self._show_photo(model)
            self.full_redraw = True
        if len(info.maps) != self._visible:  # panels appear or disappear
            self._visible = len(info.maps)
            self.full_redraw = True
        size = input_size(model)
        self.state = {
            "model": model,
            "layer": index,
            "layer_name": info.name,
            "layer_type": info.kind,
            "input_size": size[1:],
            "output_shape": info.output_shape,
            "params": info.params,
            "macs": info.macs,
            "receptive_field": info.receptive_field,
            "receptive_field_global": info.is_global,
            "maps_shown": len(info.maps),
        }
        # the field of the centre unit, clipped to the photo
        h, w = size[2], size[3]
        r = info.receptive_field
        top, left = max((h - r) / 2, 0) - 0.5, max((w - r) / 2, 0) - 0.5
        bottom, right = min((h + r) / 2, h) - 0.5, min((w + r) / 2, w) - 0.5
        self.rf_box.set_data([left, right, right, left, left], [top, top, bottom, bottom, top])
        if not info.images:
            info.images = [display_rgba(m) for m in info.maps]
        for k, (ax, im) in enumerate(zip(self.map_axes, self.map_ims, strict=True)):
            if k < len(info.maps):
                m = info.maps[k]
                rgba = info.images[k]
                im.set_data(rgba)
                im.set_extent((-0.5, rgba.shape[1] - 0.5, rgba.shape[0] - 0.5, -0.5))
                ax.set_xlim(-0.5, rgba.shape[1] - 0.5)
                ax.set_ylim(rgba.shape[0] - 0.5, -0.5)
                label = {"vector": f"{np.sum(~np.isnan(m))} values", "tokens": f"feature {k}"}
                title = label.get(info.maps_kind, f"channel {k}")
                if ax.get_title() != title:  # titles are part of the cached background
                    ax.set_title(title, fontsize=11)
                    self.full_redraw = True
                ax.set_visible(True)
                im.set_visible(True)
            else:
                ax.set_visible(False)
                im.set_visible(False)
        shape = " x ".join(str(s) for s in info.output_shape)
        self.title.set_text(
            f"{model} (random weights)  ·  layer {index}: {info.name} ({info.kind})  →  {shape}"
        )
        note = "  (global: the whole image)" if info.is_global else ""
        if not info.is_global and r > w:
            note = "  (larger than the image: border units see padding)"
        lines = [
            f"layer       {index}: {html.escape(info.name)}  ({info.kind})",
            f"output      {shape}",
            f"parameters  {info.params:,}",
            f"MACs        {info.macs:,}",
            f"receptive   {r} x {r} pixels of the {w} x {h} input" + note,
        ]
        self.readout.value = _READOUT.format("\n".join(lines))


def model_table_source() -> str:
    """The source of ``cnnlib/widgets/_model_table.py``: ``count_layers`` of every model."""
    lines = [
        '"""What ``ModelView`` shows of each step before any weight exists, computed once by',
        "``cnnlib.widgets.model.count_layers`` and stored so that a model switch costs no",
        "counting: (name, kind, output shape, parameters, MACs, receptive field, global).",
        "Regenerate: ``python -m cnnlib.widgets.model``; tests/test_widgets_model.py checks it.",
        '"""',
        "",
        "# fmt: off",
        "TABLE = {",
    ]
    for model in MODELS:
        lines.append(f"    {model!r}: [")
        for i in count_layers(model):
            row = (i.name, i.kind, i.output_shape, i.params, i.macs, i.receptive_field)
            lines.append(f"        {(*row, i.is_global)!r},")
        lines.append("    ],")
    return "\n".join([*lines, "}", "# fmt: on", ""])


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    from pathlib import Path

    Path(__file__).with_name("_model_table.py").write_text(model_table_source())
