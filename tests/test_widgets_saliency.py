"""SaliencyView: each method's map is cnnlib.explain.attribution_map's (the methods are
checked against Captum in tests/test_explain.py), the peak and the pointing game against the
mask, the outline against a hand-drawn one, every control over its values, any model, and bad
input refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnlib import explain
from cnnlib.widgets.saliency import METHODS, SaliencyView, outline_segments


@pytest.fixture(scope="module")
def view():
    return SaliencyView()


def test_defaults_are_the_trained_network_its_test_images_and_masks(view):
    from cnnlib.training import trained_shapes_cnn

    run = trained_shapes_cnn()
    assert view._model is run.model
    n = len(view._x)
    np.testing.assert_array_equal(view._x.numpy(), run.test.images[:n])
    np.testing.assert_array_equal(view._masks, run.test.masks[:n])
    assert view.state["target"] == run.test.labels[0]  # the true class first


def check_map(view):
    s = view.state
    assert "error" not in s, s.get("error")
    x = view._x[s["image"] : s["image"] + 1]
    expected = explain.attribution_map(view._model, x, s["target"], s["function"])[0]
    np.testing.assert_allclose(s["map"], expected, rtol=1e-5, atol=1e-7)
    if s["function"] in ("saliency", "gradient_x_input"):  # and from autograd, not cnnlib
        assert not view._model.training
        xg = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(view._model(xg)[0, s["target"]], xg)
        raw = g.abs() if s["function"] == "saliency" else x * g
        np.testing.assert_allclose(s["map"], raw[0].sum(0).numpy(), rtol=1e-4, atol=1e-6)
    # the peak: the first largest value of the map; a hit when the mask holds it
    peak = np.unravel_index(np.argmax(expected), expected.shape)
    assert s["peak"] == peak
    assert s["hit"] == bool(view._masks[s["image"]][peak])
    with torch.no_grad():
        p = torch.softmax(view._model(x), 1)[0]
    assert s["prediction"] == int(p.argmax())
    assert s["probability"] == pytest.approx(float(p.max()), rel=1e-6)


def test_every_method_target_and_image_shows_the_explain_map(view):
    for image in (0, 3, 11):
        for target in range(len(view._classes)):
            for method in METHODS:
                view.set_controls(image=image, target=target, method=method)
                check_map(view)
                assert view.state["method"] == method
                assert ("on the object" in view.readout.value) == view.state["hit"]


def test_every_control_over_its_values_never_fails(view):
    for name, control in view.controls.items():
        if hasattr(control, "options"):
            values = [v for v in (o[1] if isinstance(o, tuple) else o for o in control.options)]
        else:
            values = range(control.min, control.max + 1)
        for v in values:
            control.value = v
            assert "error" not in view.state, (name, v, view.state.get("error"))


def test_a_change_of_method_changes_the_picture(view):
    view.set_controls(image=2, method="gradient (saliency)")
    before = view.image.value
    view.controls["method"].value = "CAM"
    assert view.image.value != before


def test_outline_of_one_pixel_is_its_four_sides():
    mask = np.zeros((2, 3), bool)
    mask[0, 1] = True  # the cell centred on (x=1, y=0) spans [0.5, 1.5] x [-0.5, 0.5]
    segs = {tuple(map(tuple, s)) for s in outline_segments(mask)}
    assert segs == {
        ((0.5, -0.5), (0.5, 0.5)),
        ((1.5, -0.5), (1.5, 0.5)),
        ((0.5, -0.5), (1.5, -0.5)),
        ((0.5, 0.5), (1.5, 0.5)),
    }


def test_outline_length_is_the_perimeter():
    mask = np.zeros((9, 9), bool)
    mask[2:6, 3:8] = True  # a 4 x 5 rectangle: perimeter 18
    mask[7, 0] = True  # and a lone pixel at the border: 4
    assert len(outline_segments(mask)) == 18 + 4


def test_any_model_without_masks_has_no_pointing_game():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(4, 3),
    )  # fmt: skip
    view = SaliencyView(model, torch.rand(2, 3, 12, 12))
    for method in METHODS:
        view.controls["method"].value = method
        assert "error" not in view.state, (method, view.state.get("error"))
        assert view.state["hit"] is None
        assert view.state["map"].shape == (12, 12)
    assert view.controls["target"].options[2] == ("class 2", 2)


def test_bad_input_names_the_argument():
    with pytest.raises(TypeError, match="model"):
        SaliencyView(model=42, images=np.zeros((1, 1, 8, 8)))
    with pytest.raises(ValueError, match="model.*Conv2d"):
        SaliencyView(model=nn.Sequential(nn.Flatten(), nn.Linear(64, 2)),
                     images=np.zeros((1, 1, 8, 8)))  # fmt: skip
    with pytest.raises(ValueError, match="images must have 1 channel"):
        SaliencyView(images=np.zeros((2, 3, 32, 32)))
    with pytest.raises(ValueError, match="masks must have shape"):
        SaliencyView(images=np.zeros((2, 1, 32, 32)), masks=np.zeros((2, 16, 16), bool))
    with pytest.raises(TypeError, match="masks"):
        SaliencyView(images=np.zeros((1, 1, 32, 32)), masks=np.zeros((1, 32, 32)))
    # a mask is not a weighting: integer 0/1 arrays are refused with the fix, as pointing_game does
    with pytest.raises(TypeError, match=r"masks must be boolean.*m > 0"):
        SaliencyView(images=np.zeros((1, 1, 8, 8)), masks=np.ones((8, 8), np.int64))
    with pytest.raises(TypeError, match="masks"):
        SaliencyView(
            images=np.zeros((1, 1, 8, 8)), masks=torch.ones(8, 8, dtype=torch.bool, device="meta")
        )
    conv = nn.Sequential(nn.Conv2d(1, 2, 3))
    with pytest.raises(ValueError, match="model must return class scores"):
        SaliencyView(model=conv, images=np.zeros((1, 1, 8, 8)))


def test_true_class_is_the_image_label_whatever_the_target(view):
    """The readout and the picture's title name the image's own label as the true class, and
    the target (another class here) only as the score mapped."""
    from cnnlib.data import SHAPE_CLASSES
    from cnnlib.training import trained_shapes_cnn

    labels = trained_shapes_cnn().test.labels
    for image in (0, 1, 5):
        label = int(labels[image])
        target = (label + 1) % len(SHAPE_CLASSES)
        view.set_controls(image=image, target=target, method="gradient (saliency)")
        s = view.state
        assert "error" not in s, s.get("error")
        assert (s["label"], s["target"]) == (label, target)
        assert s["target_name"] == SHAPE_CLASSES[target]
        assert f"true class: {SHAPE_CLASSES[label]}" in view.readout.value
        assert f"score of &#x27;{SHAPE_CLASSES[target]}&#x27;" in view.readout.value
        assert view.titles[0].get_text().startswith(f"image {image}: {SHAPE_CLASSES[label]}")


def test_every_panel_title_is_drawn_above_its_panel(view):
    """The titles sit above their axes (y = 1.02 in axes coordinates): clipped to their axes,
    as an artist added to an axes is by default, they drew nothing at all."""
    from io import BytesIO

    from PIL import Image

    view.set_controls(image=0, target=0, method="gradient (saliency)")
    assert all(t.get_text() for t in view.titles)
    rgb = np.asarray(Image.open(BytesIO(view.image.value)).convert("L"))
    height = rgb.shape[0]
    for ax in (view.ax_img, view.ax_map, view.ax_over):
        box = ax.get_window_extent()
        band = rgb[: int(height - box.y1) - 1, int(box.x0) : int(box.x1)]  # above the axes
        assert band.size and (band < 128).sum() > 50, "no title drawn above the panel"
