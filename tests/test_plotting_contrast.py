"""WCAG 2.x contrast: plotting.relative_luminance, contrast_ratio, text_color, and every
number every view writes on a cell, over its control grid, measured in the rendered figure."""

from __future__ import annotations

import io
import os
import random

import ipywidgets as widgets
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.colors import to_rgba
from PIL import Image

import cnnlib.widgets
from cnnlib import plotting
from cnnlib.widgets import VIEWS

#: ``make test-thorough`` renders every setting below; ``make test`` the defaults and a seeded
#: third of the others (each a full render of the view)
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


# -- the formula, against published values -----------------------------------------------------
def test_relative_luminance_matches_published_values():
    # WCAG 2.x definition: black 0, white 1; sRGB mid grey #808080 is 0.2159 (linearised 0.2159)
    assert plotting.relative_luminance("black") == 0.0
    assert plotting.relative_luminance("white") == pytest.approx(1.0)
    assert plotting.relative_luminance("#808080") == pytest.approx(0.2159, abs=1e-4)
    # pure primaries give the coefficients themselves
    assert plotting.relative_luminance("#ff0000") == pytest.approx(0.2126)
    assert plotting.relative_luminance("#00ff00") == pytest.approx(0.7152)
    assert plotting.relative_luminance("#0000ff") == pytest.approx(0.0722)


def test_contrast_ratio_matches_published_values():
    assert plotting.contrast_ratio("black", "white") == pytest.approx(21.0)
    assert plotting.contrast_ratio("white", "white") == pytest.approx(1.0)
    # the familiar AA limits: #767676 on white passes at 4.54:1, #777777 fails at 4.48:1
    assert plotting.contrast_ratio("#767676", "white") == pytest.approx(4.54, abs=0.01)
    assert plotting.contrast_ratio("#777777", "white") == pytest.approx(4.48, abs=0.01)


def test_relative_luminance_refuses_a_colour_without_channels():
    with pytest.raises(ValueError, match="color"):
        plotting.relative_luminance(np.zeros((3, 2)))


@given(st.tuples(*[st.floats(0, 1)] * 3))
def test_text_color_is_the_better_of_black_and_white_and_always_passes(rgb):
    chosen = plotting.text_color(rgb)
    ratio = plotting.contrast_ratio(chosen, rgb)
    other = "white" if chosen == "black" else "black"
    assert ratio >= plotting.contrast_ratio(other, rgb) - 1e-12
    assert ratio >= plotting.MIN_CONTRAST


def test_text_color_on_arrays_gives_one_name_per_cell():
    cells = np.array([[0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.2, 0.2, 0.6, 1.0]])
    assert plotting.text_color(cells) == ["white", "black", "white"]


def test_cell_text_colors_follow_the_colormap_ends():
    # cividis is dark blue at its bottom and pale yellow at its top
    assert plotting.cell_text_colors([0.0, 1.0], "cividis", 0.0, 1.0) == ["white", "black"]


# -- every label of every view, over its control grid -------------------------------------------
def _grid_values(control: widgets.Widget) -> list:
    """Every value a control allows (up to 8, spread over the range for long sliders)."""
    if isinstance(control, widgets.Play):
        return []
    if hasattr(control, "options") and control.options:
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        if isinstance(control, widgets.SelectMultiple):
            return [tuple(values[:1]), tuple(values)]
        return values
    if isinstance(control, (widgets.Checkbox, widgets.ToggleButton)):
        return [False, True]
    if hasattr(control, "min") and isinstance(control.value, int):
        lo, hi = control.min, control.max
        return sorted({int(v) for v in np.linspace(lo, hi, min(8, hi - lo + 1))})
    if hasattr(control, "min"):
        return list(np.linspace(control.min, control.max, 4))
    return []


def _full_render(view) -> np.ndarray:
    """Render the view as it renders itself, every cached layer redrawn; the RGB pixels."""
    if hasattr(view, "redraw_from"):
        view.redraw_from(0)  # BlitView: no cached layer
    if hasattr(view, "_background"):
        view._background = None  # GradientView's cached background
    if hasattr(view, "_drawn"):
        view._drawn = None  # ParametersView skips unchanged figures
    view._render()
    return np.asarray(Image.open(io.BytesIO(view.image.value)).convert("RGB"))


def _label_contrasts(view) -> list[tuple[str, float]]:
    """(text, contrast) of every number the view shows on its figure, against the colour
    under it, measured in the view's own rendering.

    The view renders itself once with its numbers hidden and once as it shows them; the
    colour under a number is the most common pixel of the first rendering in the number's
    box. A number whose pixels do not change the picture is not shown (under an opaque veil);
    one that does must be drawn in its own colour (not faintly, under a translucent layer).
    """
    fig = view.figure
    texts = [
        t
        for ax in fig.axes
        for t in ax.texts
        if t.get_visible() and any(ch.isdigit() for ch in t.get_text())
    ]
    if not texts:
        return []
    try:
        for t in texts:
            t.set_visible(False)
        without = _full_render(view).astype(int)
        for t in texts:
            t.set_visible(True)
        shown = _full_render(view).astype(int)
        renderer = fig.canvas.get_renderer()
        height = shown.shape[0]
        result = []
        for t in texts:
            box = t.get_window_extent(renderer)
            x0, x1 = max(int(np.floor(box.x0)), 0), int(np.ceil(box.x1))
            y0, y1 = max(height - int(np.ceil(box.y1)), 0), height - int(np.floor(box.y0))
            under, drawn = without[y0:y1, x0:x1], shown[y0:y1, x0:x1]
            diff = np.abs(drawn - under).sum(axis=-1)
            if diff.size == 0 or diff.max() == 0:
                continue  # not visible
            colours, counts = np.unique(under.reshape(-1, 3), axis=0, return_counts=True)
            background = colours[np.argmax(counts)] / 255.0
            ink = drawn.reshape(-1, 3)[np.argmax(diff)] / 255.0
            declared = np.array(to_rgba(t.get_color())[:3])
            if np.abs(ink - declared).max() > 0.2:  # drawn, but not in its colour
                result.append((t.get_text(), plotting.contrast_ratio(ink, background)))
            else:
                result.append((t.get_text(), plotting.contrast_ratio(declared, background)))
        return result
    finally:
        for t in texts:
            t.set_visible(True)
        _full_render(view)


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_every_number_on_a_cell_has_wcag_contrast(name):
    view = getattr(cnnlib.widgets, name)()
    grid = {n: _grid_values(c) for n, c in view.controls.items()}
    grid = {n: v for n, v in grid.items() if v}
    settings: list[dict] = [{}]
    for n, values in grid.items():  # each control over its whole range, the others default
        settings += [{n: v} for v in values]
    rng = random.Random(0)
    for _ in range(25):  # and combinations of all of them
        settings.append({n: rng.choice(v) for n, v in grid.items()})
    if not THOROUGH:
        settings = settings[:1] + rng.sample(settings[1:], len(settings[1:]) // 3)
    defaults = {n: view.controls[n].value for n in grid}
    checked, failures = 0, []
    for setting in settings:
        try:
            view.set_controls(**{**defaults, **setting})
        except widgets.TraitError:
            continue
        for text, ratio in _label_contrasts(view):
            checked += 1
            if ratio < plotting.MIN_CONTRAST:
                failures.append((setting, text, round(ratio, 2)))
    assert not failures, failures[:10]
    if name in {"SlidingKernel", "PoolingView", "GradientView"}:
        assert checked > 100, f"{name} drew only {checked} numbers on cells"
