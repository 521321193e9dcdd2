"""ParametersView: its numbers against real nn.Conv2d layers and FlopCounterMode."""

from __future__ import annotations

import itertools
import random

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlib.widgets.parameters import (
    MAX_FILTERS,
    MAX_SLICES,
    ParametersView,
    divisors_in_common,
    filters_shown,
)


def real_conv(c_in, c_out, k, groups, bias):
    """The torch layer the view describes, on the meta device (shapes only, no arithmetic)."""
    return nn.Conv2d(c_in, c_out, k, padding="same", groups=groups, bias=bias, device="meta")


def flop_counter_macs(layer, c_in, size):
    counter = FlopCounterMode(display=False)
    with counter:
        out = layer(torch.empty(1, c_in, size, size, device="meta"))
    return counter.get_total_flops() / 2, tuple(out.shape[-2:])


def torch_accepts(c_in, c_out, groups):
    try:
        nn.Conv2d(c_in, c_out, 1, groups=groups, device="meta")
    except ValueError:
        return False
    return True


@pytest.fixture
def view():
    return ParametersView()


@pytest.fixture
def fast_view(monkeypatch):
    """A view whose figure is not rendered: the sweeps check ``state`` only."""
    v = ParametersView()
    monkeypatch.setattr(v, "_render", lambda: None)
    return v


def check_state(state, c_in, c_out, k, g, bias, size):
    layer = real_conv(c_in, c_out, k, g, bias)
    macs, out_size = flop_counter_macs(layer, c_in, size)
    assert "error" not in state, state.get("error")
    assert state["params"] == sum(p.numel() for p in layer.parameters())
    assert state["weight_params"] == layer.weight.numel()
    assert state["bias_params"] == (layer.bias.numel() if bias else 0)
    assert state["weight_shape"] == tuple(layer.weight.shape)
    assert state["macs"] == macs
    assert state["output_size"] == out_size
    assert f"= {state['params']:,}" in state["terms"]
    assert f"= {state['macs']:,}" in state["terms"]


def test_default_is_the_seed_example(view):
    s = view.state
    assert "error" not in s
    assert s["params"] == 64 * (3 * 3 * 3 + 1) == 1792
    assert s["weight_shape"] == (64, 3, 3, 3)
    assert s["macs"] == 32 * 32 * 64 * 3 * 3 * 3
    assert "64 × (3 × 3 × 3) + 64 = 1,792" in s["terms"]
    check_state(s, 3, 64, 3, 1, True, 32)


def test_every_channel_and_group_combination_up_to_8(fast_view):
    """All (C_in, C_out, groups) up to 8 with a random kernel, bias and size: valid combinations
    give torch's numbers, invalid groups give a message with the allowed values."""
    rng = random.Random(0)
    for c_in, c_out, g in itertools.product(range(1, 9), range(1, 9), range(1, 9)):
        k, bias, size = rng.randint(1, 7), rng.random() < 0.5, rng.randint(1, 64)
        fast_view.set_controls(
            in_channels=c_in, out_channels=c_out, groups=g, kernel_size=k, bias=bias, size=size
        )
        state = fast_view.state
        assert state["groups_valid"] == [d for d in range(1, 9) if torch_accepts(c_in, c_out, d)]
        if torch_accepts(c_in, c_out, g):
            check_state(state, c_in, c_out, k, g, bias, size)
        else:
            assert f"groups {g} must divide both C_in {c_in} and C_out {c_out}" in state["error"]
            allowed = ", ".join(str(d) for d in state["groups_valid"])
            assert state["error"].endswith(f"allowed here: {allowed}")


def test_random_sample_of_the_whole_control_grid(fast_view):
    rng = random.Random(1)
    valid = 0
    for _ in range(300):
        c_in, c_out = rng.randint(1, 32), rng.randint(1, 64)
        # half the time a group count torch accepts, otherwise any slider value
        g = (
            rng.choice(divisors_in_common(c_in, c_out))
            if rng.random() < 0.5
            else rng.randint(1, 32)
        )
        k, bias, size = rng.randint(1, 7), rng.random() < 0.5, rng.randint(1, 64)
        fast_view.set_controls(
            in_channels=c_in, out_channels=c_out, groups=g, kernel_size=k, bias=bias, size=size
        )
        if torch_accepts(c_in, c_out, g):
            valid += 1
            check_state(fast_view.state, c_in, c_out, k, g, bias, size)
        else:
            assert "error" in fast_view.state
    assert valid > 150


def test_what_is_drawn(view):
    view.set_controls(in_channels=32, out_channels=20, groups=2, kernel_size=5, bias=False)
    s = view.state
    assert s["filters_drawn"] == MAX_FILTERS and s["more_filters"] == 20 - MAX_FILTERS
    assert s["slices_drawn"] == MAX_SLICES  # 16 slices per filter, 8 drawn
    assert len(view.slices.get_paths()) == MAX_FILTERS * MAX_SLICES
    assert len(view.cells.get_segments()) == MAX_FILTERS * 2 * (5 - 1)
    assert len(view.bias_dots.get_xdata()) == 0
    assert view.more.get_text() == "… and 12 more filters"
    assert "16 slices of 5 × 5 (8 of them drawn)" in view.title.get_text()
    assert len(view.inputs.get_paths()) == 32
    view.set_controls(in_channels=2, out_channels=3, groups=1, kernel_size=1, bias=True)
    s = view.state
    assert s["filters_drawn"] == 3 and s["more_filters"] == 0 and s["slices_drawn"] == 2
    assert len(view.slices.get_paths()) == 3 * 2
    assert len(view.cells.get_segments()) == 0
    assert len(view.bias_dots.get_xdata()) == 3
    assert view.more.get_text() == ""


def test_drawn_filters_show_every_group():
    assert filters_shown(32, 4, 8) == [0, 1, 8, 9, 16, 17, 24, 25]
    assert filters_shown(32, 32, 8) == list(range(8))
    assert filters_shown(3, 1, 3) == [0, 1, 2]
    for c_out, g in [(64, 8), (12, 3), (16, 16), (10, 5)]:
        shown = filters_shown(c_out, g, MAX_FILTERS)
        groups_seen = {f // (c_out // g) for f in shown}
        assert len(shown) == min(c_out, MAX_FILTERS)
        assert len(groups_seen) == min(g, MAX_FILTERS)


def test_invalid_groups_is_a_message_and_the_view_recovers(view):
    view.controls["groups"].value = 2  # 3 input channels
    assert "groups 2 must divide both C_in 3 and C_out 64; allowed here: 1" in view.state["error"]
    assert "groups 2" in view.message.value
    view.controls["in_channels"].value = 4
    assert "error" not in view.state
    check_state(view.state, 4, 64, 3, 2, True, 32)


def test_moving_a_slider_changes_the_picture(view):
    before = view.image.value
    view.controls["kernel_size"].value = 5
    assert view.image.value != before
    before = view.image.value
    view.controls["bias"].value = False
    assert view.image.value != before


def test_depthwise_counts():
    view = ParametersView(in_channels=16, out_channels=16, groups=16, kernel_size=3)
    assert view.state["params"] == 16 * 9 + 16
    assert view.state["weight_shape"] == (16, 1, 3, 3)


@pytest.mark.parametrize(
    "kwargs,error,words",
    [
        ({"in_channels": 0}, ValueError, "in_channels"),
        ({"out_channels": 65}, ValueError, "out_channels must be at most 64"),
        ({"kernel_size": 2.5}, TypeError, "kernel_size"),
        ({"bias": "yes"}, TypeError, "bias"),
        ({"size": 0}, ValueError, "size"),
    ],
)
def test_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        ParametersView(**kwargs)
