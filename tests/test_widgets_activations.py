"""ActivationExplorer: its numbers against torch (forward hooks and the layer's own output),
every control over its values, any nn.Module (ResNet-18 on a photo), and bad input refused."""

from __future__ import annotations

import html

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.widgets.activations import (
    MAX_COLUMNS,
    MAX_TILES,
    SHOWN_INPUTS,
    ActivationExplorer,
    mosaic,
    shown_inputs,
)


@pytest.fixture(scope="module")
def view():
    return ActivationExplorer()


def hooked(model, x):
    """Each Conv2d's input and output, by module path, from torch forward hooks."""
    seen, handles = {}, []
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            handles.append(
                m.register_forward_hook(
                    lambda mod, i, o, name=name: seen.__setitem__(name, (i[0], o))
                )
            )
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return seen


def check_unit(view):
    """The opened-up unit against a recomputation from the hooked layer input (torch)."""
    s = view.state
    assert "error" not in s, s.get("error")
    model, x = view._model, view._x[s["image"] : s["image"] + 1]
    conv = dict(model.named_modules())[s["layer"]]
    inp, out = hooked(model, x)[s["layer"]]
    ph, pw = conv.padding
    padded = F.pad(inp, (pw, pw, ph, ph))[0]
    kh, kw = conv.kernel_size
    sh, sw = conv.stride
    dh, dw = conv.dilation
    rows = s["row"] * sh + dh * np.arange(kh)
    cols = s["col"] * sw + dw * np.arange(kw)
    window = padded[:, rows][:, :, cols].numpy()
    np.testing.assert_allclose(s["window"], window, rtol=1e-5, atol=1e-6)
    kernel = conv.weight[s["channel"]].detach().numpy()
    np.testing.assert_allclose(s["kernel"], kernel, rtol=1e-6)
    np.testing.assert_allclose(
        s["channel_sums"], (window * kernel).sum(axis=(1, 2)), rtol=1e-4, atol=1e-5
    )
    expected = float(out[0, s["channel"], s["row"], s["col"]])
    assert s["pre_activation"] == pytest.approx(expected, rel=1e-4, abs=1e-5)
    assert float(s["channel_sums"].sum()) + s["bias"] == pytest.approx(expected, rel=1e-4, abs=1e-5)
    np.testing.assert_allclose(s["output_map"], out[0, s["channel"]].numpy(), rtol=1e-5, atol=1e-6)
    assert view.controls["channel"].max == out.shape[1] - 1
    assert (view.controls["row"].max, view.controls["col"].max) == tuple(
        out.shape[2:] - np.int64(1)
    )
    # the channels opened up are those with the largest |contribution| to this unit,
    # recomputed from the hooked window and the weights (not from the view's sums)
    contributions = np.abs((window * kernel).sum(axis=(1, 2)))
    count = min(SHOWN_INPUTS, len(contributions))
    group = s["channel"] // (conv.out_channels // conv.groups) * (conv.in_channels // conv.groups)
    shown = np.asarray(s["shown_inputs"]) - group
    assert len(shown) == count == len(set(shown))
    others = np.delete(contributions, shown)
    assert others.size == 0 or contributions[shown].min() >= others.max() - 1e-6


def test_default_view_shows_the_trained_network_and_every_step(view):
    from cnnlib.training import trained_shapes_cnn

    assert view._model is trained_shapes_cnn().model
    # 6 convolutions, 6 ReLUs, 2 max pools and the average pool: more steps than MAX_COLUMNS,
    # so the overview shows the convolutions
    assert view.state["steps"] == 6 + 6 + 2 + 1 > MAX_COLUMNS
    assert [name for name, _, _ in view.state["overview"]] == [
        f"features.conv{k}" for k in range(1, 7)
    ]
    check_unit(view)


def test_every_layer_channel_and_unit_adds_up(view):
    layers = [v for _, v in view.controls["layer"].options]
    for image in (0, 7):
        for layer in layers:
            view.set_controls(image=image, layer=layer)
            c = view.controls
            for channel in sorted({0, c["channel"].max // 2, c["channel"].max}):
                for row, col in ((0, 0), (c["row"].max, c["col"].max), (3, 5)):
                    view.set_controls(channel=channel, row=min(row, c["row"].max), col=col)
                    check_unit(view)


def test_every_control_over_its_values_never_fails(view):
    for name, control in view.controls.items():
        if hasattr(control, "options"):
            values = [v for _, v in control.options]
        else:
            values = range(control.min, control.max + 1)
        for v in values:
            control.value = v
            assert "error" not in view.state, (name, v, view.state.get("error"))
            assert view.state[name] == v


def test_a_new_image_changes_the_picture(view):
    view.set_controls(image=0)
    before = view.image.value
    view.controls["image"].value = 1
    assert view.image.value != before
    assert view.state["image"] == 1


def test_the_arithmetic_shows_the_steps_after_the_unit(view):
    view.set_controls(layer="features.conv1", channel=2, row=5, col=6)
    after = view.state["after"]
    assert after, "batch norm, ReLU and pooling follow conv1"
    text = "\n".join(t.get_text() for t in view.arith)
    assert "= output" in text
    for name, _ in after:
        assert name[:13] in text


def test_resnet18_on_a_photo_shows_a_subset_and_says_so():
    from cnnlib.architectures import resnet18
    from cnnlib.data import grace_hopper

    torch.manual_seed(0)
    model = resnet18()
    photo = grace_hopper(gray=False, size=224)[:224, :224].transpose(2, 0, 1)
    view = ActivationExplorer(model, photo)
    layers = [v for _, v in view.controls["layer"].options]
    assert len(layers) == 20  # 17 3x3/7x7 convolutions and 3 1x1 shortcuts
    assert len(view.state["overview"]) == MAX_COLUMNS
    view.set_controls(layer=layers[10], channel=200, row=3, col=9)
    check_unit(view)
    assert layers[10] in [n for n, _, _ in view.state["overview"]]
    assert len(view.state["shown_inputs"]) == SHOWN_INPUTS
    assert "3 of 128" in view.readout.value or "3 of 256" in view.readout.value
    titles = [t.get_text() for t in view.col_titles if t.axes.get_visible()]
    first = view.state["channel"] // MAX_TILES * MAX_TILES  # the tiles around the channel
    assert any(f"maps {first}–{first + MAX_TILES - 1}" in t for t in titles)


def test_shown_inputs_are_the_largest_absolute_contributions_in_channel_order():
    sums = np.array([0.004, -0.003, 0.5, -0.7, 0.0, 0.2])
    assert shown_inputs(sums) == [2, 3, 5]  # |-0.7| > 0.5 > 0.2, listed by channel
    assert shown_inputs(sums[:2]) == [0, 1]  # fewer than three: all of them


def test_the_readout_says_the_pool_keeps_the_window_maximum_beside_the_unit(view):
    view.set_controls(layer="features.conv2", channel=2, row=5, col=6)  # pool1 follows
    s = view.state
    names = [name for name, _ in s["after"]]
    assert names == ["batch norm", "ReLU", "max pool"]
    relu, pooled = s["after"][1][1], s["after"][2][1]
    assert pooled >= relu  # the window's maximum is at least this unit's value
    text = html.unescape(view.readout.value)
    assert f"its window's maximum {pooled:.4g} (this unit {relu:.4g})" in text
    assert "(no bias)" in text  # shapes_cnn's convolutions have none: batch norm follows
    lines = "\n".join(t.get_text() for t in view.arith)
    assert "bias" not in lines and "(this unit)" in lines
    # the window's maximum, recomputed with torch from the hooked ReLU output
    model, x = view._model, view._x[s["image"] : s["image"] + 1]
    with torch.no_grad():
        relu_out = model.features[:6](x)[0, s["channel"]]  # conv1, bn1, relu1, conv2, bn2, relu2
    window = relu_out[s["row"] // 2 * 2 : s["row"] // 2 * 2 + 2, s["col"] // 2 * 2 :][:, :2]
    assert pooled == pytest.approx(float(window.max()), abs=1e-6)
    assert relu == pytest.approx(float(relu_out[s["row"], s["col"]]), abs=1e-6)


def test_mosaic_tiles_every_map_scaled_to_its_own_range():
    maps = np.stack([np.arange(4.0).reshape(2, 2), 10 + 2 * np.arange(4.0).reshape(2, 2)])
    out, cols = mosaic(maps)
    assert cols == 2 and out.shape == (2, 5)  # two 2 x 2 tiles and a one-pixel gap
    np.testing.assert_allclose(out[:, :2], [[0, 1 / 3], [2 / 3, 1]])
    np.testing.assert_allclose(out[:, 3:], [[0, 1 / 3], [2 / 3, 1]])
    assert np.isnan(out[:, 2]).all()


def test_bad_input_names_the_argument():
    from cnnlib.architectures import resnet18

    with pytest.raises(TypeError, match="model"):
        ActivationExplorer(model="resnet", images=np.zeros((1, 1, 8, 8)))
    with pytest.raises(ValueError, match="model.*Conv2d"):
        ActivationExplorer(model=nn.Sequential(nn.Flatten(), nn.Linear(64, 2)),
                           images=np.zeros((1, 1, 8, 8)))  # fmt: skip
    with pytest.raises(ValueError, match="images must have 3 channels"):
        ActivationExplorer(model=resnet18(), images=np.zeros((1, 1, 64, 64)))
    with pytest.raises(ValueError, match="images must have 3 or 4 dimensions"):
        ActivationExplorer(model=resnet18(), images=np.zeros((64, 64)))
    with pytest.raises(ValueError, match="images.*finite"):
        ActivationExplorer(model=nn.Conv2d(1, 1, 3), images=np.full((1, 1, 5, 5), np.nan))
    with pytest.raises(ValueError, match="images of shape .* cannot go through"):
        ActivationExplorer(model=nn.Conv2d(1, 1, 5), images=np.zeros((1, 1, 3, 3)))
    with pytest.raises(TypeError, match="images"):
        ActivationExplorer(model=nn.Conv2d(1, 1, 3), images="cat.png")


def test_a_single_conv_layer_is_a_model_too():
    # the hand-made example of notebook 01: 3 x 5 x 5 input, two 3 x 3 x 3 filters, stride 2
    conv = nn.Conv2d(3, 2, 3, stride=2, padding=1)
    x = torch.arange(75.0).reshape(3, 5, 5) % 3
    view = ActivationExplorer(conv, x)
    assert view.controls["row"].max == view.controls["col"].max == 2
    for channel in range(2):
        for row in range(3):
            for col in range(3):
                view.set_controls(channel=channel, row=row, col=col)
                check_unit(view)
    assert view.state["after"] == []  # nothing follows: the layer is the whole model
