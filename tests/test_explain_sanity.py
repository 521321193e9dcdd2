"""Tests of the measurements of cnnlib.explain that check a map: the cascading randomisation
(every parameterised layer reset, batch norm's statistics included), integrated gradients'
completeness, and the insertion / deletion curves against a hand-computed model."""

import numpy as np
import pytest
import torch
from torch import nn

from cnnlib import explain
from cnnlib.architectures import shapes_cnn


def _model_with_trained_looking_batch_norm():
    torch.manual_seed(0)
    model = shapes_cnn(widths=(4, 8))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 2)
            m.bias.data.uniform_(-1, 1)
    return model.eval()


def test_cascade_resets_every_parameterised_layer_batch_norm_included(monkeypatch):
    model = _model_with_trained_looking_batch_norm()
    reset = []
    original = nn.BatchNorm2d.reset_parameters

    def spy(self):
        original(self)
        reset.append(
            (
                float(self.running_mean.abs().max()),
                float((self.running_var - 1).abs().max()),
                float((self.weight.detach() - 1).abs().max()),
                float(self.bias.detach().abs().max()),
            )
        )

    monkeypatch.setattr(nn.BatchNorm2d, "reset_parameters", spy)
    x = torch.rand(3, 1, 16, 16)
    cascade = explain.cascading_randomization(model, x, [0, 1, 2], methods=("saliency",))
    assert cascade.layers == [
        "original",
        "classifier",
        "features.bn2",
        "features.conv2",
        "features.bn1",
        "features.conv1",
    ]
    assert len(reset) == 2 and all(v == 0 for r in reset for v in r)
    # the model itself is untouched
    bn = model.features.bn1
    assert float(bn.running_mean.abs().max()) > 0 and float((bn.weight - 1).abs().max()) > 0
    # after the last step nothing learned is left: the maps are those of a network whose
    # every layer was re-initialised under the same seeds, built here independently
    fresh = _model_with_trained_looking_batch_norm()
    names = dict(fresh.named_modules())
    for step, name in enumerate(cascade.layers[1:]):
        torch.manual_seed(step)
        original(names[name]) if "bn" in name else names[name].reset_parameters()
    expected = explain.attribution_map(fresh, x, [0, 1, 2], "saliency")
    now = explain.attribution_map(model, x, [0, 1, 2], "saliency")
    rho = explain.rank_correlation(np.abs(now), np.abs(expected))
    np.testing.assert_allclose(cascade.correlations["saliency"][-1], rho, atol=1e-6)


def test_cascade_reports_signed_and_absolute_correlations():
    model = _model_with_trained_looking_batch_norm()
    x = torch.rand(4, 1, 16, 16)
    a = explain.cascading_randomization(model, x, 1, methods=("gradient_x_input",))
    s = explain.cascading_randomization(model, x, 1, methods=("gradient_x_input",), absolute=False)
    np.testing.assert_allclose(a.signed["gradient_x_input"], s.correlations["gradient_x_input"])
    assert a.correlations["gradient_x_input"].shape == (len(a.layers), 4)
    assert not np.allclose(a.correlations["gradient_x_input"], a.signed["gradient_x_input"])


@pytest.mark.parametrize("method", ["gausslegendre", "trapezoid"])
def test_integrated_gradients_completeness(method):
    """Sundararajan et al.'s completeness: sum IG = y_t(x) - y_t(x'), up to the quadrature
    error, which shrinks as the steps grow."""
    model = _model_with_trained_looking_batch_norm()
    x = torch.rand(5, 1, 16, 16)
    with torch.no_grad():
        gap = (model(x) - model(torch.zeros_like(x)))[:, 2].numpy()
    errors = []
    for steps in (4, 64):
        ig = explain.integrated_gradients(model, x, 2, steps=steps, method=method)
        errors.append(np.abs(ig.sum((1, 2, 3)) - gap).max())
    assert errors[1] < 0.02 * np.abs(gap).max() + 1e-4
    # unless both are float32 rounding of logits near 1: Gauss-Legendre can be exact at 4 steps
    # here (1.9e-8 at 4 and at 64 steps on one CPU kind)
    assert errors[1] < errors[0] or max(errors) < 1e-6, errors


def _sum_model(h: int, w: int) -> nn.Module:
    """logits [sum(x), 0]: p_0 = sigmoid(sum of the pixels)."""
    conv = nn.Conv2d(1, 1, 1, bias=False)
    linear = nn.Linear(h * w, 2, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        linear.weight.zero_()
        linear.weight[0] = 1.0
    return nn.Sequential(conv, nn.Flatten(), linear).eval()


@pytest.mark.parametrize("insertion", [False, True])
def test_insertion_and_deletion_against_a_hand_computed_model(insertion):
    x = (np.arange(16, dtype=np.float32).reshape(1, 4, 4) - 4) / 8  # sums of about -2..2
    order = np.random.default_rng(1).permutation(16)
    maps = np.empty(16, np.float32)
    maps[order] = np.arange(16, 0, -1)  # pixel order[0] is the most salient
    curve = explain.deletion_curve(
        _sum_model(4, 4), x, 0, maps.reshape(4, 4), steps=4, baseline="mean", insertion=insertion
    )
    flat, mean = x.ravel(), x.mean()
    expected = []
    for k in (0, 4, 8, 12, 16):
        img = np.full(16, mean) if insertion else flat.copy()
        img[order[:k]] = flat[order[:k]] if insertion else mean
        expected.append(1 / (1 + np.exp(-img.sum())))
    np.testing.assert_allclose(curve.scores, expected, rtol=1e-5)
    auc = sum((a + b) / 2 * 0.25 for a, b in zip(expected, expected[1:], strict=False))
    assert curve.auc == pytest.approx(auc, rel=1e-5)
    floor = expected[0] if insertion else expected[-1]
    assert curve.floor == pytest.approx(floor, abs=1e-6)
    assert curve.above_floor == pytest.approx(auc - floor, abs=1e-6)


def test_blur_fill_is_a_gaussian_blur_and_a_bad_fill_is_refused():
    x = np.zeros((1, 41, 41), np.float32)
    x[0, 20, 20] = 1.0
    model = _sum_model(41, 41)
    curve = explain.deletion_curve(model, x, 0, np.ones((41, 41)), steps=1, baseline="blur")
    # everything replaced by the blur: a blurred impulse keeps its mass (the kernel, cut at
    # 4 sigma = 16 pixels, stays inside the image), so the sum and the score do not change
    assert curve.scores[-1] == pytest.approx(1 / (1 + np.exp(-1.0)), rel=1e-4)
    assert curve.scores[0] == pytest.approx(curve.scores[-1], rel=1e-4)
    # ... but it is spread: the centre pixel of the blur is 1 / (2 pi 4^2)
    only_centre = np.zeros((41, 41))
    only_centre[20, 20] = 1  # delete (blur) just the centre pixel first
    c = explain.deletion_curve(model, x, 0, only_centre, steps=1681, baseline="blur")
    expected_sum = 1 / (2 * np.pi * 16)  # the blurred value that replaces the impulse
    assert c.scores[1] == pytest.approx(1 / (1 + np.exp(-expected_sum)), rel=1e-3)
    with pytest.raises(ValueError, match="baseline must be one of 'mean', 'blur'"):
        explain.deletion_curve(model, x, 0, np.ones((41, 41)), baseline="grey")


def test_show_maps_draws_signed_maps_symmetric_and_refuses_bad_arguments():
    import matplotlib.pyplot as plt

    x = np.zeros((2, 1, 4, 4), np.float32)
    signed = np.zeros((2, 4, 4), np.float32)
    signed[:, 0, 0] = [-2.0, 3.0]
    positive = np.abs(signed)
    masks = np.zeros((2, 4, 4), bool)
    masks[:, 1:3, 1:3] = True
    fig = explain.show_maps(x, {"cam": signed, "saliency": positive}, masks, ["a", "b"])
    try:
        axes = np.array(fig.axes).reshape(2, 3)
        # per image: the signed map from -max|m| to +max|m|, the other from 0 to its maximum
        assert axes[0, 1].images[0].get_clim() == (-2.0, 2.0)
        assert axes[1, 1].images[0].get_clim() == (-3.0, 3.0)
        assert axes[1, 2].images[0].get_clim() == (0.0, 3.0)
        assert len(axes[0, 1].collections) == 1  # the mask's outline
        assert axes[0, 0].get_title() == "a"
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match=r"maps\['cam'\]"):
        explain.show_maps(x, {"cam": signed[:1]})
    with pytest.raises(ValueError, match="titles"):
        explain.show_maps(x, {"cam": signed}, titles=["a"])
    with pytest.raises(TypeError, match="maps"):
        explain.show_maps(x, {})
    with pytest.raises(TypeError, match="Cascade"):
        explain.plot_cascade({"layers": []})


def test_plot_deletion_draws_each_order_mean_curve_in_its_panel():
    import matplotlib.pyplot as plt

    from cnnlib.explain import DeletionCurve, plot_deletion

    f = np.linspace(0, 1, 3)
    a = DeletionCurve(f, np.array([[1.0, 0.5, 0.0], [0.0, 0.5, 0.0]]), np.zeros(2))
    b = DeletionCurve(f, np.array([[0.2, 0.4, 0.6]]), np.zeros(1))
    fig = plot_deletion({("cam", "deletion"): a, ("no network: edges", "insertion"): b})
    try:
        (cam,), (edges,) = (ax.lines for ax in fig.axes)
        assert [ax.get_title() for ax in fig.axes] == ["deletion", "insertion"]
        np.testing.assert_allclose(cam.get_ydata(), [0.5, 0.5, 0.0])  # the mean over images
        np.testing.assert_allclose(edges.get_ydata(), [0.2, 0.4, 0.6])
        assert cam.get_linestyle() == "-" and edges.get_linestyle() == "--"
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="keys must be"):
        plot_deletion({("cam", "both"): a})
    with pytest.raises(TypeError, match="must be a DeletionCurve"):
        plot_deletion({("cam", "deletion"): "a"})
