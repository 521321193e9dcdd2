"""ModelView: walk through a famous network layer by layer on a real photo.

Pick an architecture (``model``) and a step of it (``layer``, the steps of
:func:`cnnlib.architectures.layer_sequence`); the view shows the step's output shape, its
parameters (:func:`cnnlib.params.count_params`), its multiply-accumulates on that input
(:func:`cnnlib.params.count_macs`), the receptive field of one of its units on the input
(:func:`cnnlib.receptive.receptive_field_of`, drawn as a square on the photo) and the first
feature maps it produces for Grace Hopper's photo.

The famous networks' weights are random (seeded, nothing is downloaded): the maps show what
the layer's arithmetic does to an image (edges from random filters, shrinking resolution,
more channels), not what a trained network has learned. The course's own shapes network
(``SHAPES``, :func:`cnnlib.architectures.shapes_cnn`) can run either way: ``weights="trained"``
loads the weights shipped with ``cnnlib`` (:func:`cnnlib.training.load_shapes_cnn`, trained on
``cnnlib.data.shapes``; notebook 08) and shows one of its test images, its maps and the class
it predicts; ``"random"`` the same network freshly initialised, to compare.

The counts come from a table computed on the meta device (``_model_table``, checked by a
test); the photo runs through the model step by step only as far as the slider has been, each
step getting its random weights when the photo reaches it (``MapRunner``). A model switch
keeps the layer unless reaching it costs more than ``SWITCH_MACS``; anything slower than a
moment shows "computing ..." at once. Moving back to a visited layer only swaps cached arrays.
"""

from __future__ import annotations

import functools
import html
import math
from dataclasses import dataclass, field

import ipywidgets as widgets
import matplotlib
import numpy as np
import torch
from torch import nn

from cnnlib._validate import check_int
from cnnlib.architectures import MODELS, PatchEmbedding, layer_sequence, shapes_cnn
from cnnlib.data import SHAPE_CLASSES, photo
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


#: the course's trained network (notebook 08), the one model with trained weights
SHAPES = "Shapes CNN"
WEIGHTS = ("random", "trained")
#: the shapes network's input: this test image (``cnnlib.data.shapes(8, seed=1)``, the
#: seed of the network's test set)
SHAPES_IMAGE = 1


def model_names() -> list[str]:
    """The view's models: the famous architectures, then the course's shapes network."""
    return [*MODELS, SHAPES]


@functools.cache
def _shapes_recipe() -> dict:
    """The shipped network's constructor arguments (``widths``, ``convs_per_block``, ...)."""
    from cnnlib.training import SHAPES_WEIGHTS

    saved = torch.load(SHAPES_WEIGHTS, map_location="cpu", weights_only=True)
    return {k: tuple(v) if isinstance(v, list) else v for k, v in saved["net"].items()}


def builder(model: str):
    """A function that builds ``model`` (random weights; the architecture of the shipped
    shapes network for ``SHAPES``)."""
    if model == SHAPES:
        return lambda: shapes_cnn(**_shapes_recipe())
    return MODELS[model][0]


@functools.cache
def shapes_input() -> tuple[np.ndarray, int]:
    """The shapes network's input image ``(32, 32)`` in [0, 1] and its true class."""
    from cnnlib.data import shapes

    data = shapes(8, seed=1)
    return data.images[SHAPES_IMAGE, 0].astype(np.float32), int(data.labels[SHAPES_IMAGE])


def input_size(model: str) -> tuple[int, int, int, int]:
    """The input a model is shown with: LeNet-5 and the shapes network read 1 x 32 x 32, the
    others 3 x 224 x 224."""
    return (1, 1, 32, 32) if model in ("LeNet-5", SHAPES) else (1, 3, 224, 224)


def input_image(model: str) -> np.ndarray:
    """What the model is shown: a shapes test image, or the photo at the model's size."""
    if model == SHAPES:
        return shapes_input()[0][..., None]
    return photo(input_size(model))


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
    build = builder(model)
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
    ``weights="trained"`` (the shapes network only) loads the shipped weights instead;
    ``logits`` holds the last step's output once the image has gone through every step.
    """

    def __init__(self, model: str, infos: list[LayerInfo], weights: str = "random") -> None:
        build = builder(model)
        size = input_size(model)
        if weights == "trained":
            from cnnlib.training import load_shapes_cnn

            steps = layer_sequence(load_shapes_cnn()[0].eval())
            self.lazy = False
        else:
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
        self.logits: np.ndarray | None = None
        img = input_image(model)
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
            self.logits = self.x[0].numpy().copy()
            self.steps, self.x = [], None  # finished: keep only the maps


def analyse(model: str, weights: str = "random") -> list[LayerInfo]:
    """Every step of ``model`` counted, with the first feature maps of its input."""
    infos = [LayerInfo(**vars(i)) for i in _counted(model)]
    MapRunner(model, infos, weights).run_to(len(infos) - 1)
    return infos


def prediction(logits: np.ndarray) -> tuple[str, float]:
    """The shapes network's answer: the class of the largest logit and its softmax probability,
    ``p_c = exp(z_c) / sum_j exp(z_j)``."""
    z = np.asarray(logits, dtype=np.float64)
    p = np.exp(z - z.max())
    p /= p.sum()
    c = int(np.argmax(z))
    return SHAPE_CLASSES[c], float(p[c])


class ModelView(BlitView):
    """Pick an architecture and a layer: output shape, parameters, MACs, receptive field and
    the first feature maps of that layer for a photo (random weights), or for a test image
    through the course's shapes network with its trained or random weights.

    Controls: ``model``, ``layer``, ``weights`` (``"random"`` or ``"trained"``; only the shapes
    network has trained weights, for the others the control is disabled). State: what the
    readout shows, ``weights``, and for the shapes network ``prediction``, ``probability``
    and ``true_class``.
    """

    figsize = (11.0, 4.6)
    layout_rows = (("model", "weights", "layer"),)

    def __init__(self, model: str = "ResNet-18", layer: int = 4, weights: str = "random") -> None:
        if not isinstance(model, str) or model not in model_names():
            raise ValueError(f"model must be one of {', '.join(model_names())}, got {model!r}")
        layer = check_int("layer", layer, 0)
        check_slider_limits({"layer": layer}, {"layer": len(_counted(model)) - 1})
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be 'random' or 'trained', got {weights!r}")
        if weights == "trained" and model != SHAPES:
            raise ValueError(
                f"weights='trained' needs model={SHAPES!r} (the other models' trained weights "
                f"would be downloads), got model={model!r}"
            )
        self._initial = (model, layer, weights)
        self._cache: dict[tuple[str, str], list[LayerInfo]] = {}
        self._runners: dict[tuple[str, str], MapRunner] = {}
        self._logits: dict[tuple[str, str], np.ndarray] = {}
        super().__init__()

    def model_layers(
        self, model: str, upto: int | None = None, weights: str = "random"
    ) -> list[LayerInfo]:
        """The counted steps of ``model``, with feature maps computed up to step ``upto``
        (every step when None); computed on first use, then cached."""
        key = (model, weights)
        if key not in self._cache:
            infos = [LayerInfo(**vars(i)) for i in _counted(model)]
            self._cache[key] = infos
            self._runners[key] = MapRunner(model, infos, weights)
        infos = self._cache[key]
        runner = self._runners.get(key)
        if runner is not None:
            if model == SHAPES:  # tiny: run to the answer at once
                upto = None
            runner.run_to(len(infos) - 1 if upto is None else upto)
            if runner.done == len(infos):
                if runner.logits is not None:
                    self._logits[key] = runner.logits
                del self._runners[key]
        return infos

    def _weights(self, model: str) -> str:
        return self.controls["weights"].value if model == SHAPES else "random"

    def _build(self) -> None:
        model, layer, weights = self._initial
        infos = self.model_layers(model, upto=-1, weights=weights)
        self.controls["model"] = widgets.Dropdown(
            options=model_names(), value=model, description="model"
        )
        self.controls["weights"] = widgets.ToggleButtons(
            options=list(WEIGHTS), value=weights, description="weights", disabled=model != SHAPES
        )
        self.controls["weights"].style.button_width = "6em"
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

    def cost(self, model: str, index: int, weights: str = "random") -> int:
        """Multiply-accumulates still to run before step ``index`` of ``model`` has maps."""
        key = (model, weights)
        runner = self._runners.get(key)
        if key in self._cache and runner is None:
            return 0
        infos = self._cache[key] if key in self._cache else _counted(model)
        done = runner.done if runner is not None else 0
        return sum(info.macs for info in infos[done : index + 1])

    def _busy(self, model: str, weights: str = "random") -> None:
        # sent to the page at once, before the work: the learner sees that it is working
        self.message.value = (
            '<div class="cnnlib-busy" style="font-size:1.1em">&#8987; computing the feature '
            f"maps of {html.escape(model)} ({weights} weights) &hellip;</div>"
        )

    def _on_model(self, change: dict) -> None:
        # keep the slider inside the new model's steps before the redraw, at a layer whose
        # maps cost at most SWITCH_MACS to compute: a switch answers in well under a second
        model = change["new"]
        toggle = self.controls["weights"]
        weights = self._weights(model)
        if (model, weights) not in self._cache:
            self._busy(model, weights)
        n = len(self.model_layers(model, upto=-1, weights=weights))
        slider = self.controls["layer"]
        target = min(slider.value, n - 1)
        while target > 0 and self.cost(model, target, weights) > SWITCH_MACS:
            target -= 1
        self._updating = True
        try:
            if slider.value != target:
                slider.value = target
            slider.max = n - 1
            toggle.disabled = model != SHAPES  # only the shapes network has trained weights
            if toggle.disabled:
                toggle.value = "random"
        finally:
            self._updating = False

    def _show_photo(self, model: str) -> None:
        size = input_size(model)
        img = input_image(model)
        self.photo_im.set_data(img[..., 0] if size[1] == 1 else img)
        if model == SHAPES:
            self.ax_photo.set_title(
                f"a test image ({SHAPE_CLASSES[shapes_input()[1]]})", fontsize=13
            )
        else:
            self.ax_photo.set_title("input photo", fontsize=13)
        self.photo_im.set_extent((-0.5, size[3] - 0.5, size[2] - 0.5, -0.5))
        self.ax_photo.set_xlim(-0.5, size[3] - 0.5)
        self.ax_photo.set_ylim(size[2] - 0.5, -0.5)
        self._shown_model = model

    def _update(self) -> None:
        model = self.controls["model"].value
        index = self.controls["layer"].value
        weights = self._weights(model)
        if self.cost(model, index, weights) > BUSY_MACS:
            self._busy(model, weights)
        infos = self.model_layers(model, upto=index, weights=weights)
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
            "weights": weights,
        }
        answer = ""
        if model == SHAPES:
            label, prob = prediction(self._logits[(model, weights)])
            true = SHAPE_CLASSES[shapes_input()[1]]
            self.state.update(prediction=label, probability=prob, true_class=true)
            answer = f"prediction  {label} (p = {prob:.2f}); the image is a {true}"
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
            f"{model} ({weights} weights)  ·  layer {index}: {info.name} ({info.kind})  →  {shape}"
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
        if answer:
            lines.append(answer)
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
