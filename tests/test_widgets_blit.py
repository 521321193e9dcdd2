"""Every BlitView shows after each control change exactly what a fresh full redraw shows.

BlitView keeps cached backgrounds, replays unchanged labels (GlyphText), keeps image index
tables (PixelImage) and skips apply_aspect when no limit moved. A stale cache would show an
old number or a map in the wrong place; here a random walk over each view's controls compares
the blitted PNG with a redraw from nothing (caches dropped, every layer drawn again).
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cnnlib.widgets import (
    ActivationExplorer,
    DimensionsExplorer,
    ModelView,
    PoolingView,
    ReceptiveFieldExplorer,
    SaliencyView,
    SlidingKernel,
)
from cnnlib.widgets._cells import PixelImage
from cnnlib.widgets._text import GlyphText


def pixels(view) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(view.image.value)).convert("RGBA"))


def fresh_pixels(view) -> np.ndarray:
    """The figure redrawn from nothing: no background, label, image table or aspect kept."""
    fig = view.figure
    for text in fig.findobj(GlyphText):
        text._memo = None
    for im in fig.findobj(PixelImage):
        im._index_cache = im._rgba_cache = None
    for ax in fig.axes:
        ax._cnnlib_aspect_key = None
    view.full_redraw = True
    view._render()
    return pixels(view)


def random_value(control: widgets.Widget, rng: np.random.Generator):
    if isinstance(control, (widgets.Dropdown, widgets.ToggleButtons, widgets.Select)):
        return (
            control.options[rng.integers(len(control.options))][1]
            if isinstance(control.options[0], tuple)
            else control.options[rng.integers(len(control.options))]
        )
    if isinstance(control, (widgets.Checkbox, widgets.ToggleButton)):
        return bool(rng.integers(2))
    if isinstance(control, (widgets.FloatSlider, widgets.BoundedFloatText)):
        return float(rng.uniform(control.min, control.max))
    if hasattr(control, "min") and hasattr(control, "max"):
        return int(rng.integers(control.min, control.max + 1))
    return None


def tiny_classifier() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 6, 1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3),
    ).eval()  # fmt: skip


def tiny_images(n: int = 5, size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.normal(size=(n, 1, size, size)).astype(np.float32)
    masks = rng.random((n, size, size)) > 0.7
    return images, masks


def make(name: str):
    if name == "ActivationExplorer":
        return ActivationExplorer(tiny_classifier(), tiny_images()[0])
    if name == "SaliencyView":
        images, masks = tiny_images()
        return SaliencyView(tiny_classifier(), images, masks)
    return {
        "SlidingKernel": SlidingKernel,
        "PoolingView": PoolingView,
        "DimensionsExplorer": DimensionsExplorer,
        "ReceptiveFieldExplorer": ReceptiveFieldExplorer,
        "ModelView": lambda: ModelView("LeNet-5"),
    }[name]()


VIEWS = [
    "ActivationExplorer",
    "SaliencyView",
    "SlidingKernel",
    "PoolingView",
    "DimensionsExplorer",
    "ReceptiveFieldExplorer",
    "ModelView",
]


@pytest.mark.parametrize("name", VIEWS)
def test_blitted_figure_equals_a_fresh_redraw(name: str) -> None:
    view = make(name)
    rng = np.random.default_rng(sum(map(ord, name)))
    names = [n for n, c in view.controls.items() if random_value(c, rng) is not None]
    assert names, f"{name} has no control to drive"
    compared = 0
    for step in range(24):
        control = view.controls[names[rng.integers(len(names))]]
        value = random_value(control, rng)
        try:
            control.value = value
        except Exception:  # a value the control itself refuses (a trait error): not a move
            continue
        if step % 3 == 2:
            blitted = pixels(view)
            fresh = fresh_pixels(view)
            mismatch = np.any(blitted != fresh, axis=-1)
            assert not mismatch.any(), (
                f"{name} step {step}: {int(mismatch.sum())} pixels differ from a fresh redraw "
                f"(rows {np.nonzero(mismatch.any(1))[0][[0, -1]]}, state {view.state.get('error')})"
            )
            compared += 1
    assert compared >= 6
