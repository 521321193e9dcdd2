"""Every registered view, driven through a random sample of its whole control space.

Per-view tests check the numbers a view shows; this one checks the contract every view
shares: it builds with no arguments, no control combination raises out of a callback, the
figure is built once (updated, never re-created), and no figure leaks into pyplot.
"""

from __future__ import annotations

import html
import os
import random
import re

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

import cnnlib.widgets
from cnnlib.widgets import VIEWS, View

#: random control combinations per view: 60 under ``make test-thorough``, 20 in ``make test``
SAMPLES = 60 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 20

# The impossible settings a view teaches: the error is the lesson, shown in the view (the
# dimensions explorer of notebook 02 hides its picture and says why there is no output; the
# receptive-field explorer of 03 names the layer whose kernel outgrew its input; the
# parameters view says which group counts divide both channel counts). Any other error in
# ``state["error"]`` is a view failing on an update, and fails the contract.
TAUGHT = {
    "DimensionsExplorer": (
        r"ValueError: (kernel_size \d+ \(dilated to \d+\) is larger than the padded input"
        r"|padding \d+ removes more than the transposed convolution produces"
        r"|output_padding \d+ must be smaller than stride \d+ or dilation \d+)"
    ),
    "ReceptiveFieldExplorer": (
        r"ValueError: layer \d+ \(.*\): the kernel, dilated to \d+, is larger than its padded input"
    ),
    "ParametersView": (
        r"ValueError: groups \d+ must divide both C_in \d+ and C_out \d+; allowed here: \d"
    ),
}


def _assert_no_error_but_a_taught_one(view: View, change: str) -> None:
    error = view.state.get("error")
    if error is None:
        return
    rule = TAUGHT.get(type(view).__name__)
    assert rule is not None and re.match(rule, error), f"{change}: {error}"
    assert html.escape(error) in view.message.value, "the error is shown in the view"
    if type(view).__name__ == "DimensionsExplorer":
        assert view.error_text.get_visible(), "the explorer says why there is no picture"


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
        # errors from the view's own code are caught and shown; only a taught one is allowed
        _assert_no_error_but_a_taught_one(view, f"{name} = {value!r}")
    assert view.figure is figure, "the figure must be built once and updated"
    assert len(plt.get_fignums()) == open_before, "the view opened pyplot figures"
