"""ReceptiveFieldExplorer, driven from code: its state against hand-worked rules and autograd.

References: the published recurrence of the field's size, jump and offset (Araujo, Norris &
Sim, "Computing receptive fields of convolutional neural networks", Distill 2019), written out
here and not taken from cnnlib.receptive, for every layer's window; torch (on shape-only
tensors) for which settings are possible; and torch autograd on a positive copy of the same
stack (``layer_supports``: where the chosen unit's gradient is non-zero on every intermediate
activation) for the units coloured in every layer and for the shaded input box.
"""

import os
import random

import numpy as np
import pytest
import torch
import torch.nn as nn

from cnnlib.receptive import empirical_field, positive_copy, unit_windows
from cnnlib.widgets import ReceptiveFieldExplorer
from cnnlib.widgets.receptive_field import (
    _FIELD,
    _PAD,
    MAX_DILATION,
    MAX_KERNEL,
    MAX_STRIDE,
    PRESETS,
    layer_padding,
)

#: ``make test-thorough``: every control combination of the sweeps below; ``make test`` a seeded
#: quarter of them (each preset, each layer, both refusal and success still reached)
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


def _grid(rng: random.Random, full: bool) -> list[tuple[int, int, int]]:
    """(kernel_size, stride, dilation) over the view's whole range, or a seeded quarter of it."""
    grid = [
        (k, s, d)
        for k in range(1, MAX_KERNEL + 1)
        for s in range(1, MAX_STRIDE + 1)
        for d in range(1, MAX_DILATION + 1)
    ]
    return grid if full else rng.sample(grid, len(grid) // 4)


def as_module(layers):
    mods = []
    for kind, k, s, p, d in layers:
        if kind == "conv":
            mods.append(nn.Conv2d(1, 1, k, s, p, d))
        else:
            mods.append(nn.MaxPool2d(k, s, p, d))
    return nn.Sequential(*mods)


def torch_output_sizes(layers, n):
    """Output sizes per layer from torch itself, or None if torch refuses the stack."""
    x = torch.zeros(1, 1, n, n, device="meta")
    sizes = []
    try:
        for m in as_module(layers):
            x = m(x)
            sizes.append(x.shape[-1])
    except RuntimeError:
        return None
    return sizes


def layer_supports(layers, n, unit):
    """Per layer, input first: the boolean (H, W) support of d(unit) / d(that layer's output)
    by torch autograd, on a positive copy of the stack (pools become window sums, so every
    unit in a window gets a gradient) and a positive input."""
    twin = positive_copy(as_module(layers))
    gen = torch.Generator().manual_seed(0)
    x = (0.5 + torch.rand(1, 1, n, n, generator=gen, dtype=torch.float64)).requires_grad_(True)
    acts = [x]
    for m in twin:
        acts.append(m(acts[-1]))
    grads = torch.autograd.grad(acts[-1][0, 0, unit[0], unit[1]], acts[:-1])
    return [(g[0, 0] != 0).numpy() for g in grads] + [_one_hot(acts[-1].shape[-2:], unit)]


def _one_hot(shape, unit):
    top = np.zeros(tuple(shape), dtype=bool)
    top[unit] = True
    return top


def check_dependencies(view):
    """The coloured units of every layer and the shaded input box against autograd."""
    st = view.state
    supports = layer_supports(st["layers"], st["input_size"][0], st["unit"])
    assert len(st["dependencies"]) == len(st["row_dependencies"]) == len(supports)
    for level, sup in enumerate(supports):
        rows, cols = np.flatnonzero(sup.any(1)), np.flatnonzero(sup.any(0))
        assert st["row_dependencies"][level] == tuple(rows.tolist()), level
        assert st["dependencies"][level] == tuple(cols.tolist()), level
        # a 2-D unit depends on the product of its row and column sets
        assert (sup == np.outer(sup.any(1), sup.any(0))).all(), level
    sup = supports[0]
    if not sup.any():
        assert st["input_window_clipped"] is None
    else:
        rows, cols = np.flatnonzero(sup.any(1)), np.flatnonzero(sup.any(0))
        box = (rows[0], rows[-1], cols[0], cols[-1])
        assert st["input_window_clipped"] == tuple(int(v) for v in box)


def check_drawing(view):
    """The side view colours as many units as ``dependencies`` holds, and draws as padding
    cells the field's taps outside each layer."""
    st = view.state
    faces = view.units.get_facecolors()
    edges = view.units.get_edgecolors()
    coloured = np.all(np.isclose(faces, _FIELD), axis=1).sum()
    padding = np.all(np.isclose(faces, _PAD), axis=1) & np.all(np.isclose(edges, _FIELD), axis=1)
    assert coloured == sum(len(v) for v in st["dependencies"])
    outside = [
        sum(1 for t in taps if not 0 <= t < n)
        for taps, n in zip(
            st["field_taps"], [st["input_size"][0], *st["output_sizes"]], strict=True
        )
    ]
    assert padding.sum() == sum(outside)


def check_field_taps(view):
    """``field_taps`` (the field's columns with the borders ignored) against autograd on an
    input so large that the same unit, moved inwards by a multiple of the jump, meets no
    border: its dependencies there, moved back, are the taps."""
    st = view.state
    jumps = [1, *st["jumps"]]
    shift = jumps[-1] * (-(-(st["size"] + st["padding"]) // jumps[-1]) + 2)  # input pixels
    big = st["input_size"][0] + 2 * shift
    unit = tuple(u + shift // jumps[-1] for u in st["unit"])
    supports = layer_supports(st["layers"], big, unit)
    for level, sup in enumerate(supports):
        cols = np.flatnonzero(sup.any(0)) - shift // jumps[level]
        assert st["field_taps"][level] == tuple(cols.tolist()), level


def recurrence(tuples):
    """Per layer ``(r, j, P)`` by Araujo et al. (2019): ``r_l = r_{l-1} + d_l (k_l - 1) j_{l-1}``,
    ``j_l = j_{l-1} s_l``, ``P_l = P_{l-1} + p_l j_{l-1}``; unit ``u`` of layer ``l`` sees the
    input ``u j_l - P_l .. u j_l - P_l + r_l - 1``."""
    r, j, pad, rows = 1, 1, 0, []
    for k, s, p, d in tuples:
        r, pad, j = r + d * (k - 1) * j, pad + p * j, j * s
        rows.append((r, j, pad))
    return rows


def test_recurrence_by_hand():
    # 3x3 s1, 2x2 pool s2, 3x3 s1 pad 1: r = 3, 4, 4 + 2*2 = 8; j = 1, 2, 2; P = 0, 0, 0 + 1*2
    assert recurrence([(3, 1, 0, 1), (2, 2, 0, 1), (3, 1, 1, 1)]) == [
        (3, 1, 0),
        (4, 2, 0),
        (8, 2, 2),
    ]
    # dilation 2 on a 3x3: 5 wide
    assert recurrence([(3, 1, 1, 2)]) == [(5, 1, 1)]


def check_state(view):
    st = view.state
    assert "error" not in st, st.get("error")
    layers = st["layers"]
    n = st["input_size"][0]
    assert st["output_sizes"] == torch_output_sizes(layers, n)
    tuples = [(k, s, p, d) for _, k, s, p, d in layers]
    rows = recurrence(tuples)
    assert st["sizes"] == [r for r, _, _ in rows]
    assert st["jumps"] == [j for _, j, _ in rows]
    assert st["paddings"] == [p for _, _, p in rows]
    assert (st["size"], st["jump"], st["padding"]) == rows[-1]
    ur, uc = st["unit"]
    assert 0 <= ur < st["output_sizes"][-1] and 0 <= uc < st["output_sizes"][-1]
    # the window in layer l is the field of the top unit of the layers above l, in layer-l units
    for level in range(len(layers)):
        r, j, pad = recurrence(tuples[level:])[-1]
        for u, windows in ((uc, st["windows"]), (ur, st["row_windows"])):
            assert windows[level] == (u * j - pad, u * j - pad + r - 1)
    assert st["windows"][-1] == (uc, uc)
    # the walk is the library's (unit_windows is tested against autograd in test_receptive.py)
    walk_r, walk_c = unit_windows(tuples, ur, n), unit_windows(tuples, uc, n)
    assert st["output_sizes"] == list(walk_c.sizes[1:])
    assert st["windows"] == list(walk_c.windows) and st["row_windows"] == list(walk_r.windows)
    assert st["dependencies"] == [tuple(v.tolist()) for v in walk_c.reads]
    assert st["row_dependencies"] == [tuple(v.tolist()) for v in walk_r.reads]
    assert st["field_taps"] == [tuple(v.tolist()) for v in walk_c.taps]
    r, j, pad = rows[-1]
    assert st["input_window"] == (
        ur * j - pad,
        ur * j - pad + r - 1,
        uc * j - pad,
        uc * j - pad + r - 1,
    )
    check_dependencies(view)


@pytest.fixture
def view():
    return ReceptiveFieldExplorer()


def test_default_three_convs(view):
    st = view.state
    assert st["sizes"] == [3, 5, 7] and st["unit"] == (15, 15)
    assert st["input_window"] == (12, 18, 12, 18)  # 15 - 3 .. 15 + 3
    check_state(view)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_presets_match_the_formula_and_the_gradient_support(view, preset):
    view.controls["preset"].value = preset
    st = view.state
    module = as_module(st["layers"])
    n_top = st["output_sizes"][-1]
    rng = random.Random(0)
    units = {(0, 0), (n_top - 1, n_top - 1), (0, n_top - 1), (n_top // 2, n_top // 2)}
    units |= {(rng.randrange(n_top), rng.randrange(n_top)) for _ in range(3)}
    for ur, uc in sorted(units):
        view.set_controls(unit_row=ur, unit_col=uc)
        check_state(view)
        rows, cols, _ = empirical_field(module, (1, 32, 32), (ur, uc))
        # the presets leave no holes: the gradient support fills the clipped window
        assert (*rows, *cols) == view.state["input_window_clipped"]


def test_dilated_preset_colours_the_taps_not_a_block(view):
    # by hand: the d4 layer's unit 15 reads 15 - 4 + {0, 4, 8}; each of those, through the d2
    # layer, reads itself -2, 0, +2; each of those, through the 3x3, reads itself -1, 0, +1
    view.controls["preset"].value = "dilated 1-2-4"
    st = view.state
    assert st["unit"] == (15, 15)
    assert st["dependencies"][3] == (15,)
    assert st["dependencies"][2] == (11, 15, 19)
    assert st["dependencies"][1] == tuple(range(9, 22, 2))
    assert st["dependencies"][0] == tuple(range(8, 23))
    assert st["row_dependencies"] == st["dependencies"]
    assert st["input_window_clipped"] == (8, 22, 8, 22)
    check_state(view)
    check_drawing(view)
    check_field_taps(view)


def test_shaded_box_is_the_gradient_box_when_taps_skip_the_border(view):
    # dilated 1-2-4 with the d2 layer at stride 2 (16 units): unit 13 of the top (d4, pad 4)
    # reads layer-2 units 9, 13 (17 is padding); those read layer-1 units 16, 18, 20 and 24,
    # 26, 28; the input 15 .. 21 and 23 .. 29. The formula clipped to the input gives 15 .. 31.
    view.controls["preset"].value = "dilated 1-2-4"
    view.set_controls(layer=2, stride=2)
    view.set_controls(unit_row=13, unit_col=13)
    st = view.state
    assert st["dependencies"][2] == (9, 13)
    assert st["dependencies"][1] == (16, 18, 20, 24, 26, 28)
    assert st["dependencies"][0] == (*range(15, 22), *range(23, 30))
    assert st["input_window_clipped"] == (15, 29, 15, 29)
    rows, cols, _ = empirical_field(as_module(st["layers"]), (1, 32, 32), (13, 13))
    assert (*rows, *cols) == st["input_window_clipped"]
    check_state(view)
    check_drawing(view)
    check_field_taps(view)


def test_random_dilated_strided_stacks_agree_with_autograd_layer_by_layer(view, monkeypatch):
    monkeypatch.setattr(view, "_render", lambda: None)
    rng = random.Random(3)
    done = sparse = 0
    while done < 100:
        view.controls["preset"].value = rng.choice(list(PRESETS))
        n_layers = len(view.state["layers"])
        for layer in range(1, n_layers + 1):
            if rng.random() < 0.7:
                view.set_controls(
                    layer=layer,
                    kernel_size=rng.randint(1, MAX_KERNEL),
                    stride=rng.randint(1, MAX_STRIDE),
                    dilation=rng.randint(1, MAX_DILATION),
                )
        if "error" in view.state:
            continue
        n_top = view.state["output_sizes"][-1]
        view.set_controls(unit_row=rng.randrange(n_top), unit_col=rng.randrange(n_top))
        check_state(view)
        check_drawing(view)
        if done % 4 == 0:
            check_field_taps(view)
        st = view.state
        sparse += any(
            len(deps) < deps[-1] - deps[0] + 1 for deps in st["dependencies"] if len(deps)
        )
        done += 1
    assert sparse > 30  # most of these stacks leave gaps somewhere


def test_photo_mode_control_sweep_shows_no_error(view, monkeypatch):
    monkeypatch.setattr(view, "_render", lambda: None)
    view.controls["photo"].value = True
    rng = random.Random(4)
    for preset in PRESETS:
        view.controls["preset"].value = preset
        base = list(view.state["layers"])
        for layer in range(1, len(base) + 1):
            for k, s, d in _grid(rng, THOROUGH):
                view.set_controls(layer=layer, kernel_size=k, stride=s, dilation=d)
                kind = base[layer - 1][0]
                layers = list(base)
                layers[layer - 1] = (kind, k, s, layer_padding(kind, k, d), d)
                if torch_output_sizes(layers, 128) is None:
                    assert "layer" in view.state["error"]
                    continue
                assert "error" not in view.state, view.state["error"]
                n_top = view.state["output_sizes"][-1]
                view.set_controls(unit_row=rng.randrange(n_top), unit_col=rng.randrange(n_top))
                assert "error" not in view.state, view.state["error"]
            _, k, s, _, d = base[layer - 1]
            view.set_controls(kernel_size=k, stride=s, dilation=d)
    view.set_controls(preset="dilated 1-2-4", layer=2, stride=3, unit_row=0, unit_col=9)
    check_state(view)


def test_published_seed_numbers(view):
    view.controls["preset"].value = "SimpleCNN (4 conv blocks)"
    # by hand: 3, +1 (pool, jump 2), +4, +2 (jump 4), +8, +4 (jump 8), +16 = 38
    assert view.state["sizes"] == [3, 4, 8, 10, 18, 22, 38]
    view.controls["preset"].value = "dilated 1-2-4"
    assert view.state["sizes"] == [3, 7, 15]


def test_full_control_grid_never_raises_on_a_possible_stack(view, monkeypatch):
    monkeypatch.setattr(view, "_render", lambda: None)  # the state, not the PNG, is under test
    rng = random.Random(1)
    checked = refused = 0
    for preset in PRESETS:
        view.controls["preset"].value = preset
        base = list(view.state["layers"])
        for layer in range(1, len(base) + 1):
            # every combination on the first and last layer (a quarter unless THOROUGH)
            grid = _grid(rng, THOROUGH)
            if 1 < layer < len(base):
                grid = rng.sample(grid, 30 if THOROUGH else 10)
            for k, s, d in grid:
                view.set_controls(layer=layer, kernel_size=k, stride=s, dilation=d)
                kind = base[layer - 1][0]
                layers = list(base)
                layers[layer - 1] = (kind, k, s, layer_padding(kind, k, d), d)
                if torch_output_sizes(layers, 32) is None:
                    assert "error" in view.state and "layer" in view.state["error"]
                    refused += 1
                    continue
                assert view.state["layers"] == layers
                n_top = view.state["output_sizes"][-1]
                view.set_controls(unit_row=rng.randrange(n_top), unit_col=rng.randrange(n_top))
                check_state(view)
                checked += 1
            # back to the preset's layer before editing the next one
            _, k, s, _, d = base[layer - 1]
            view.set_controls(kernel_size=k, stride=s, dilation=d)
    assert checked > (800 if THOROUGH else 200) and refused > 0, (checked, refused)


def test_random_edits_agree_with_the_gradient_support(view, monkeypatch):
    monkeypatch.setattr(view, "_render", lambda: None)
    rng = random.Random(2)
    done = 0
    while done < 25:
        view.controls["preset"].value = rng.choice(list(PRESETS))
        n_layers = len(view.state["layers"])
        for _ in range(2):
            view.set_controls(
                layer=rng.randint(1, n_layers),
                kernel_size=rng.randint(1, MAX_KERNEL),
                stride=rng.randint(1, 2),
                dilation=rng.randint(1, 3),
            )
        if "error" in view.state:
            continue
        n_top = view.state["output_sizes"][-1]
        view.set_controls(unit_row=rng.randrange(n_top), unit_col=rng.randrange(n_top))
        check_state(view)
        st = view.state
        rows, cols, _ = empirical_field(as_module(st["layers"]), (1, 32, 32), st["unit"])
        r0, r1, c0, c1 = st["input_window"]
        clipped = st["input_window_clipped"]
        if rows is None:
            continue
        # the support lies in the clipped window and reaches each end inside the input
        assert clipped[0] <= rows[0] <= rows[1] <= clipped[1]
        assert clipped[2] <= cols[0] <= cols[1] <= clipped[3]
        assert (r0 < 0 or rows[0] == r0) and (c0 < 0 or cols[0] == c0)
        assert (r1 > 31 or rows[1] == r1) and (c1 > 31 or cols[1] == c1)
        if all(d == 1 and k >= s for _, k, s, _, d in st["layers"]):  # no holes: exact
            assert (*rows, *cols) == clipped
        done += 1


def test_clipped_window_skips_pixels_a_stride_drops(view):
    # layer 1 as a 4x4 conv of stride 4 (pad 1) on 32: (32 + 2 - 4) // 4 + 1 = 8 units reading
    # -1 .. 30, so column 31 is read by nothing. Top unit 7 by hand: layer 2 units 6..8 -> 6..7;
    # layer 1 units 5..8 -> 5..7; input 5*4 - 1 .. 7*4 - 1 + 3 = 19 .. 30 (formula: 19 .. 38)
    view.set_controls(layer=1, kernel_size=4, stride=4)
    view.set_controls(unit_row=7, unit_col=7)
    st = view.state
    assert st["input_window"] == (19, 38, 19, 38)
    assert st["input_window_clipped"] == (19, 30, 19, 30)
    rows, cols, _ = empirical_field(as_module(st["layers"]), (1, 32, 32), (7, 7))
    assert (*rows, *cols) == st["input_window_clipped"]
    check_state(view)


def test_layer_selector_loads_that_layers_settings(view):
    view.controls["preset"].value = "dilated 1-2-4"
    view.controls["layer"].value = 2
    assert view.controls["dilation"].value == 2 and view.controls["kernel_size"].value == 3
    view.controls["kernel_size"].value = 5  # layer 2: k' = 2*4 + 1 = 9
    assert view.state["layers"][1] == ("conv", 5, 1, 4, 2)
    assert view.state["sizes"] == [3, 11, 19]
    view.controls["layer"].value = 1
    assert view.controls["kernel_size"].value == 3 and view.controls["dilation"].value == 1
    assert view.state["sizes"] == [3, 11, 19]  # choosing a layer edits nothing
    view.controls["preset"].value = "three 3x3 convs"
    view.controls["preset"].value = "dilated 1-2-4"
    assert view.state["sizes"] == [3, 7, 15]  # a preset restores its layers


def test_photo_mode_and_picture_changes(view):
    before = view.image.value
    view.controls["unit_col"].value = 3
    assert view.image.value != before
    assert view.state["input_window"][2:] == (0, 6)
    view.controls["photo"].value = True
    st = view.state
    assert st["input_size"] == (128, 128) and st["unit"] == (63, 63)
    assert view.front.get_array().shape == (128, 128)
    check_state(view)
    img = view.image.value
    view.controls["unit_row"].value = 10
    assert view.image.value != img
    check_state(view)


def test_play_sweeps_the_unit_along_the_top_layer(view):
    assert view.controls["play"].max == 31
    for v in [3, 5, 31]:  # (play starts at 0)
        view.controls["play"].value = v
        assert view.state["unit"] == (15, v) and view.controls["unit_col"].value == v
        check_state(view)
    view.controls["preset"].value = "SimpleCNN (4 conv blocks)"  # 4 x 4 top layer: play clamps to 3
    assert view.controls["play"].max == 3 and view.state["unit"] == (1, 1)
    view.controls["unit_row"].value = 2  # the clamp of play must not move unit_col
    assert view.state["unit"] == (2, 1)
    view.controls["play"].value = 0
    assert view.state["unit"] == (2, 0)
    check_state(view)


def test_impossible_stack_is_a_message_not_an_exception(view):
    view.controls["preset"].value = "SimpleCNN (4 conv blocks)"
    view.set_controls(layer=6, kernel_size=7, dilation=4)  # pool dilated to 25 on an 8 x 8 map
    assert (
        "layer 6" in view.state["error"] and "larger than its padded input" in view.state["error"]
    )
    assert "larger than" in view.message.value
    view.controls["dilation"].value = 1
    assert "error" not in view.state
    check_state(view)


def test_bad_preset_names_the_argument():
    with pytest.raises(ValueError, match="preset must be one of"):
        ReceptiveFieldExplorer(preset="resnet")


@pytest.mark.parametrize("style", ["default", "lecture"])
def test_every_layer_label_fits_in_the_figure(style):
    # the lecture style draws the labels larger; the widest one ("max pool 7x7 s4 d4 -> ...")
    # was cut off at the figure's left edge
    from cnnlib.plotting import use_style

    use_style(style)
    try:
        for preset in PRESETS:
            view = ReceptiveFieldExplorer(preset=preset, photo=True)
            for layer in range(1, len(PRESETS[preset]) + 1):
                view.set_controls(
                    layer=layer, kernel_size=MAX_KERNEL, stride=MAX_STRIDE, dilation=MAX_DILATION
                )
                fig = view.figure
                fig.canvas.draw()
                renderer = fig.canvas.get_renderer()
                for label in view.left_labels + view.right_labels:
                    if label.get_visible() and label.get_text():
                        box = label.get_window_extent(renderer)
                        assert 0 <= box.x0 and box.x1 <= fig.bbox.width, (preset, label.get_text())
    finally:
        use_style("default")
