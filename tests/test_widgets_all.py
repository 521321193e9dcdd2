"""Every registered view, driven through a random sample of its whole control space.

Per-view tests check the numbers a view shows; this one checks the contract every view
shares: it builds with no arguments, no control combination raises out of a callback, the
figure is built once (updated, never re-created), and no figure leaks into pyplot.
"""

from __future__ import annotations

import random

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

import cnnlib.widgets
from cnnlib.widgets import VIEWS, View

SAMPLES = 60


def _choices(control: widgets.Widget) -> list:
    """A few values this control allows (its bounds, and values between)."""
    if isinstance(control, (widgets.Play,)):
        return []  # the Play button drives a slider the sample already moves
    if hasattr(control, "options") and control.options:
        opts = control.options
        values = [o[1] if isinstance(o, tuple) else o for o in opts]
        if isinstance(control, (widgets.SelectMultiple,)):
            return [tuple(values[:1]), tuple(values)]
        return list(values)
    if isinstance(control, (widgets.Checkbox, widgets.ToggleButton)):
        return [False, True]
    if hasattr(control, "min") and hasattr(control, "max"):
        lo, hi = control.min, control.max
        if isinstance(control.value, int):
            return sorted({lo, hi, (lo + hi) // 2, min(hi, lo + 1)})
        return [lo, hi, (lo + hi) / 2]
    return []


@pytest.fixture(params=sorted(VIEWS))
def view(request) -> View:
    return getattr(cnnlib.widgets, request.param)()


def test_builds_with_no_arguments_and_shows_a_figure(view):
    assert view.controls, "a view has controls"
    assert "error" not in view.state, view.state.get("error")
    assert view.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "image/png" in bundle


def test_random_control_combinations_never_raise_or_leak(view):
    rng = random.Random(0)
    figure = view.figure
    open_before = len(plt.get_fignums())
    names = [n for n, c in view.controls.items() if _choices(c)]
    assert names, "no control could be sampled"
    for _ in range(SAMPLES):
        name = rng.choice(names)
        control = view.controls[name]
        value = rng.choice(_choices(control))
        try:
            control.value = value
        except widgets.TraitError:
            continue  # the control itself refuses the value (e.g. a bound moved): allowed
        # errors from the view's own code are caught and shown; the view keeps working
        assert isinstance(view.state, dict)
    assert view.figure is figure, "the figure must be built once and updated"
    assert len(plt.get_fignums()) == open_before, "the view opened pyplot figures"
