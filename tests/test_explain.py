"""Tests of cnnlib.explain against independent references: Captum for every attribution
method, the module's own output for every opened-up unit, torch's functional ops for the
activations, scipy for the rank correlation, and hand-worked maps for the measurements."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnnlib import architectures as arch
from cnnlib import explain as ex

captum_attr = pytest.importorskip("captum.attr")

pytestmark = pytest.mark.filterwarnings(
    "ignore:Input Tensor 0 did not already require gradients:UserWarning"
)


def _randomise_batchnorm(model: nn.Module, seed: int) -> nn.Module:
    """Give every BatchNorm random statistics and affine parameters (fresh ones are identity)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(0.3 * torch.randn(n, generator=g))
            m.running_var.copy_(0.5 + torch.rand(n, generator=g))
            m.weight.data.copy_(1 + 0.3 * torch.randn(n, generator=g))
            m.bias.data.copy_(0.3 * torch.randn(n, generator=g))
    return model.eval()


def _centred(*shape: int) -> torch.Tensor:
    """Inputs in [-1, 1), zero-centred: a method that loses the input's sign (``|x| * grad``
    for ``x * grad``) differs from Captum on every negative pixel."""
    x = 2 * torch.rand(*shape) - 1
    assert (x < 0).float().mean() > 0.4
    return x


def _shapes_model():
    torch.manual_seed(0)
    return _randomise_batchnorm(arch.shapes_cnn(), 1), _centred(3, 1, 32, 32), [0, 2, 3]


def _lenet():
    torch.manual_seed(1)
    return arch.lenet5(modern=True).eval(), _centred(2, 1, 32, 32), [7, 1]


def _resnet():
    torch.manual_seed(2)
    return _randomise_batchnorm(arch.resnet18(num_classes=10), 3), _centred(1, 3, 64, 64), [4]


MODELS = {"shapes_cnn": _shapes_model, "lenet5": _lenet, "resnet18": _resnet}


@pytest.fixture(scope="module", params=list(MODELS))
def case(request):
    return MODELS[request.param]()


def _close(ours, theirs, tol=1e-5):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=tol * scale)


# --------------------------------------------------------------------------------------------
# The attribution methods equal Captum's
# --------------------------------------------------------------------------------------------
def test_saliency_matches_captum(case):
    model, x, t = case
    _close(ex.saliency(model, x, t), captum_attr.Saliency(model).attribute(x, target=t))


def test_gradient_x_input_matches_captum(case):
    model, x, t = case
    theirs = captum_attr.InputXGradient(model).attribute(x, target=t)
    _close(ex.gradient_x_input(model, x, t), theirs)


def test_integrated_gradients_matches_captum(case):
    model, x, t = case
    baseline = 0.5 * torch.rand_like(x)
    theirs = captum_attr.IntegratedGradients(model).attribute(
        x, baselines=baseline, target=t, n_steps=8
    )
    _close(ex.integrated_gradients(model, x, t, baseline=baseline.numpy(), steps=8), theirs)


def test_integrated_gradients_trapezoid_is_captums_rescaled():
    """Captum's riemann_trapezoid weights are 1/n (summing to (n-1)/n); ours are the trapezoid
    rule's 1/(n-1)."""
    model, x, t = _shapes_model()
    n = 10
    theirs = captum_attr.IntegratedGradients(model).attribute(
        x, target=t, n_steps=n, method="riemann_trapezoid"
    )
    ours = ex.integrated_gradients(model, x, t, steps=n, method="trapezoid")
    _close(ours, theirs * n / (n - 1))


def test_integrated_gradients_is_complete():
    """sum_i IG_i = y_t(x) - y_t(baseline) up to the quadrature error (Sundararajan et al.)."""
    model, x, t = _shapes_model()
    ig = ex.integrated_gradients(model, x, t, steps=64)
    with torch.no_grad():
        y = model(x)[torch.arange(3), t] - model(torch.zeros_like(x))[torch.arange(3), t]
    np.testing.assert_allclose(ig.sum((1, 2, 3)), y.numpy(), rtol=2e-3, atol=1e-4)


@pytest.mark.parametrize(("patch", "stride"), [(5, 3), ((4, 6), (2, 3))])
def test_occlusion_matches_captum(case, patch, stride):
    model, x, t = case
    if x.shape[-1] > 32:  # keep resnet18 fast: a coarser grid of 3 x 3 windows
        if isinstance(patch, tuple):
            pytest.skip("one window grid for resnet18 is enough")
        patch, stride = (24, 24), (20, 20)
    ph, pw = (patch, patch) if isinstance(patch, int) else patch
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    c = x.shape[1]
    theirs = captum_attr.Occlusion(model).attribute(
        x, target=t, sliding_window_shapes=(c, ph, pw), strides=(c, sh, sw), baselines=0.25
    )
    _close(ex.occlusion(model, x, t, patch=patch, stride=stride, baseline=0.25), theirs)


def _conv_layers(model):
    return [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]


@pytest.mark.parametrize("relu", [True, False])
def test_grad_cam_matches_captum_at_several_layers(case, relu):
    model, x, t = case
    names = _conv_layers(model)
    modules = dict(model.named_modules())
    for name in {names[0], names[len(names) // 2], names[-1]}:
        theirs = captum_attr.LayerGradCam(model, modules[name]).attribute(
            x, target=t, relu_attributions=relu
        )
        _close(ex.grad_cam(model, x, t, layer=name, relu=relu), theirs[:, 0])


def test_grad_cam_on_the_shortcut_branch_of_resnet18():
    model, x, t = _resnet()
    layer = "features.layer3_0.shortcut.0"
    theirs = captum_attr.LayerGradCam(model, model.features.layer3_0.shortcut[0]).attribute(
        x, target=t
    )
    _close(ex.grad_cam(model, x, t, layer=layer, relu=False), theirs[:, 0])


def test_grad_cam_default_layer_is_the_input_of_global_average_pooling():
    model, x, t = _shapes_model()
    assert ex._default_layer(model, x) == "features.relu3"
    np.testing.assert_array_equal(
        ex.grad_cam(model, x, t), ex.grad_cam(model, x, t, layer="features.relu3")
    )
    resnet, xr, tr = _resnet()
    assert ex._default_layer(resnet, xr) == "features.layer4_1.relu"


# --------------------------------------------------------------------------------------------
# CAM
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [_shapes_model, _resnet])
def test_cam_equals_grad_cam_on_a_gap_linear_head(make):
    """y_c = sum_k w_ck (1/hw) sum_ij A_k[i,j] + b_c, so dy_c/dA_k[i,j] = w_ck / hw for every
    (i, j): Grad-CAM's alpha_k = w_ck / hw and Grad-CAM (no ReLU) = CAM / hw; with the ReLU,
    ReLU(CAM) / hw."""
    model, x, t = make()
    c = ex.cam(model, x, t)
    hw = c.shape[-1] * c.shape[-2]
    scale = np.abs(c).max()
    np.testing.assert_allclose(ex.grad_cam(model, x, t, relu=False) * hw, c, atol=1e-5 * scale)
    np.testing.assert_allclose(ex.grad_cam(model, x, t) * hw, np.maximum(c, 0), atol=1e-5 * scale)


def test_cam_averages_to_the_logit_minus_bias():
    model, x, t = _shapes_model()
    c = ex.cam(model, x, t)
    with torch.no_grad():
        logits = model(x)
    expected = logits[torch.arange(3), t] - model.classifier.bias[t]
    np.testing.assert_allclose(c.mean((1, 2)), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    single = ex.cam(model, x[0], 1)
    assert single.shape == (8, 8)


def test_cam_refuses_a_model_without_a_gap_linear_head():
    model, x, t = _lenet()
    with pytest.raises(ValueError, match="model must end in global average pooling"):
        ex.cam(model, x, t)


# --------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------
def test_activations_of_the_shapes_network_match_stepwise_torch():
    model, x, _ = _shapes_model()
    acts = ex.activations(model, x)
    assert list(acts) == [
        "features.conv1", "features.relu1", "features.pool1",
        "features.conv2", "features.relu2", "features.pool2",
        "features.conv3", "features.relu3", "avgpool",
    ]  # fmt: skip
    f = model.features
    with torch.no_grad():
        h = F.conv2d(x, f.conv1.weight, f.conv1.bias, padding=1)
        np.testing.assert_allclose(acts["features.conv1"], h.numpy(), atol=1e-6)
        h = F.relu(f.bn1(h))
        np.testing.assert_allclose(acts["features.relu1"], h.numpy(), atol=1e-6)
        np.testing.assert_allclose(acts["features.pool1"], F.max_pool2d(h, 2).numpy(), atol=1e-6)
    one = ex.activations(model, x[1].numpy())
    assert one["features.conv3"].shape == (32, 8, 8)
    np.testing.assert_allclose(one["features.conv3"], acts["features.conv3"][1], atol=1e-6)


def test_activations_of_resnet18_include_the_shortcut_branch_and_survive_inplace_relu():
    model, x, _ = _resnet()
    acts = ex.activations(model, x)
    convs = [k for k in acts if isinstance(dict(model.named_modules())[k], nn.Conv2d)]
    assert len(convs) == 20  # 17 on the main path, 3 projection shortcuts
    assert "features.layer2_0.shortcut.0" in acts
    block = model.features.layer2_0
    with torch.no_grad():
        shortcut = block.shortcut[0](torch.from_numpy(acts["features.layer1_1.relu"]))
        # conv1's output is followed by BatchNorm then an in-place ReLU: the stored copy is
        # still the convolution's output, negative values included
        conv1 = model.features.conv1(x)
    np.testing.assert_allclose(acts["features.layer2_0.shortcut.0"], shortcut.numpy(), atol=1e-5)
    np.testing.assert_allclose(acts["features.conv1"], conv1.numpy(), atol=1e-6)
    assert (acts["features.conv1"] < 0).any()


# --------------------------------------------------------------------------------------------
# One unit opened up
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained_small():
    """The shapes network after a short training run (its weights are no longer random)."""
    from cnnlib.data import shapes
    from cnnlib.training import train

    data = shapes(400, seed=5)
    x, y = torch.from_numpy(data.images), torch.from_numpy(data.labels)
    model, _ = train(arch.shapes_cnn, x, y, x[:50], y[:50], epochs=1, progress=False)
    return model, torch.from_numpy(shapes(5, seed=6).images)


def test_every_unit_of_every_conv_layer_adds_up_on_five_images(trained_small):
    model, images = trained_small
    for image in images:
        acts = ex.activations(model, image)
        inputs = {"features.conv1": image, "features.conv2": acts["features.pool1"]}
        inputs["features.conv3"] = acts["features.pool2"]
        for name, x_in in inputs.items():
            conv = dict(model.named_modules())[name]
            out = acts[name]
            k, i, j = (a.ravel() for a in np.indices(out.shape))
            windows, kernels, *_ = ex.conv_unit_terms(conv, torch.as_tensor(x_in), k, i, j)
            assert conv.bias is None  # shapes_cnn: no bias before batch norm
            totals = (windows * kernels).sum((1, 2, 3))
            np.testing.assert_allclose(totals, out.ravel(), rtol=1e-5, atol=1e-5)


def test_unit_contributions_of_the_shapes_network(trained_small):
    model, images = trained_small
    x = images[2]
    acts = ex.activations(model, x)
    u = ex.unit_contributions(model, "features.conv2", 5, 6, 9, x)
    assert u.windows.shape == u.kernel.shape == u.products.shape == (8, 3, 3)
    np.testing.assert_array_equal(u.input_rows, [5, 6, 7])  # row 6, padding 1
    np.testing.assert_array_equal(u.input_cols, [8, 9, 10])
    np.testing.assert_allclose(u.windows, acts["features.pool1"][:, 5:8, 8:11], atol=0)
    np.testing.assert_allclose(u.kernel, model.features.conv2.weight[5].detach().numpy())
    np.testing.assert_allclose(u.channel_sums, u.products.sum((1, 2)), rtol=1e-6, atol=1e-7)
    assert u.total == pytest.approx(float(acts["features.conv2"][5, 6, 9]), abs=1e-5)
    assert u.output == float(acts["features.conv2"][5, 6, 9])
    assert [(s.name, s.kind, s.row, s.col) for s in u.following] == [
        ("features.bn2", "BatchNorm2d", 6, 9),
        ("features.relu2", "ReLU", 6, 9),
        ("features.pool2", "MaxPool2d", 3, 4),
    ]
    bn = model.features.bn2
    z = (u.output - bn.running_mean[5]) / torch.sqrt(bn.running_var[5] + bn.eps)
    expected = float((z * bn.weight[5] + bn.bias[5]).detach())
    assert u.following[0].value == pytest.approx(expected, abs=1e-5)
    assert u.following[1].value == max(0.0, u.following[0].value)
    assert u.following[2].value == pytest.approx(float(acts["features.pool2"][5, 3, 4]))
    assert u.following[2].value == pytest.approx(float(acts["features.relu2"][5, 6:8, 8:10].max()))


def test_unit_contributions_of_resnet18_on_the_shortcut_and_the_stride_2_stem():
    model, x, _ = _resnet()
    acts = ex.activations(model, x)
    u = ex.unit_contributions(model, "features.layer2_0.shortcut.0", 7, 3, 2, x)
    assert u.windows.shape == (64, 1, 1) and u.bias == 0.0
    assert u.input_rows.tolist() == [6] and u.input_cols.tolist() == [4]  # stride 2
    assert u.output == pytest.approx(float(acts["features.layer2_0.shortcut.0"][0, 7, 3, 2]))
    # the shortcut's BatchNorm follows; the chain stops at the residual sum
    assert [s.name for s in u.following] == ["features.layer2_0.shortcut.1"]
    stem = ex.unit_contributions(model, "features.conv1", 0, 0, 0, x[0])
    assert stem.input_rows.tolist() == list(range(-3, 4))  # 7x7, padding 3
    assert np.all(stem.windows[:, :3, :] == 0) and np.all(stem.windows[:, :, :3] == 0)
    assert [s.kind for s in stem.following] == ["BatchNorm2d", "ReLU", "MaxPool2d"]


@st.composite
def conv_configs(draw):
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    if stride == (1, 1) and draw(st.booleans()):
        padding = "same"
    else:
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    h = draw(st.integers(max(kh * dilation[0], 3), 10))
    w = draw(st.integers(max(kw * dilation[1], 3), 10))
    return dict(
        in_channels=c_in, out_channels=c_out, kernel_size=(kh, kw), stride=stride,
        padding=padding, dilation=dilation, groups=groups, bias=draw(st.booleans()),
        padding_mode=mode,
    ), (h, w), draw(st.integers(0, 2**16))  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(conv_configs())
def test_unit_contributions_add_up_for_random_conv2d_configs(config):
    kwargs, (h, w), seed = config
    torch.manual_seed(seed)
    conv = nn.Conv2d(**kwargs)
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))
    x = torch.randn(kwargs["in_channels"], h, w)
    with torch.no_grad():
        reference = conv(x[None])[0]
    rng = np.random.default_rng(seed)
    k, i, j = (int(rng.integers(n)) for n in reference.shape)
    u = ex.unit_contributions(model, "0", k, i, j, x)
    assert u.output == float(reference[k, i, j])
    assert u.total == pytest.approx(u.output, abs=1e-5 * (1 + float(np.abs(u.products).sum())))
    assert u.windows.shape == (kwargs["in_channels"] // kwargs["groups"], *conv.kernel_size)
    g = k // (kwargs["out_channels"] // kwargs["groups"])
    per = kwargs["in_channels"] // kwargs["groups"]
    assert u.input_channels.tolist() == list(range(g * per, (g + 1) * per))
    if kwargs["padding_mode"] == "zeros":  # a window's in-image values are the input's
        inside = np.ix_(
            np.arange(per),
            np.flatnonzero((u.input_rows >= 0) & (u.input_rows < h)),
            np.flatnonzero((u.input_cols >= 0) & (u.input_cols < w)),
        )
        rows = u.input_rows[(u.input_rows >= 0) & (u.input_rows < h)]
        cols = u.input_cols[(u.input_cols >= 0) & (u.input_cols < w)]
        expected = x[u.input_channels][:, rows][:, :, cols].numpy()
        np.testing.assert_array_equal(u.windows[inside], expected)
    assert u.following[0].kind == "ReLU" and u.following[0].value == max(0.0, u.output)
    assert u.following[1].row == i // 2 and u.following[1].col == j // 2


# --------------------------------------------------------------------------------------------
# Maps and measurements
# --------------------------------------------------------------------------------------------
def test_attribution_map_gives_image_sized_maps_for_every_method():
    model, x, t = _shapes_model()
    for method in ex.METHODS:
        m = ex.attribution_map(model, x, t, method)
        assert m.shape == (3, 32, 32) and m.dtype == np.float32, method
        assert ex.attribution_map(model, x[0], t[0], method).shape == (32, 32)
    np.testing.assert_allclose(
        ex.attribution_map(model, x, t, "cam"),
        ex.upsample(ex.cam(model, x, t), 32),
    )


def test_upsample_matches_captum_interpolate():
    maps = np.random.default_rng(0).standard_normal((2, 8, 8)).astype(np.float32)
    theirs = captum_attr.LayerAttribution.interpolate(
        torch.from_numpy(maps[:, None]), (32, 32), "bilinear"
    )
    _close(ex.upsample(maps, (32, 32)), theirs[:, 0])


def test_pointing_game_on_hand_made_maps():
    masks = np.zeros((3, 6, 6), bool)
    masks[:, 1:3, 1:3] = True
    maps = np.zeros((3, 6, 6), np.float32)
    maps[0, 2, 2] = 1  # on the object
    maps[1, 5, 5] = 1  # far off
    maps[2, 2, 4] = 1  # two pixels right of the object
    assert ex.pointing_game(maps, masks).tolist() == [True, False, False]
    assert ex.pointing_game(maps, masks, tolerance=2).tolist() == [True, False, True]
    assert ex.pointing_game(maps[0], masks[0]) is True
    coarse = np.zeros((3, 3, 3), np.float32)
    coarse[:, 0, 0] = 1  # upsampled, its peak lands top left, on the object's corner region
    assert ex.pointing_game(coarse, masks, tolerance=1.5).all()
    # on the map's 3 x 3 grid each cell is 2 x 2 pixels: cell (0, 0) holds mask pixel (1, 1)
    assert ex.pointing_game(coarse, masks, on_grid=True).all()
    coarse[:, 0, 0], coarse[:, 2, 1] = 0, 1  # cell (2, 1): pixels 4..5 x 2..3, off the object
    assert not ex.pointing_game(coarse, masks, on_grid=True).any()
    with pytest.raises(ValueError, match="on_grid needs tolerance 0"):
        ex.pointing_game(np.zeros((4, 4)), masks[0], on_grid=True)


def test_deletion_curve_follows_the_map_order():
    model, x, t = _shapes_model()
    maps = np.random.default_rng(0).random((3, 32, 32)).astype(np.float32)
    curve = ex.deletion_curve(model, x, t, maps, steps=4)
    assert curve.fractions.tolist() == [0, 0.25, 0.5, 0.75, 1]
    with torch.no_grad():
        p0 = F.softmax(model(x), 1)[torch.arange(3), t]
        p1 = F.softmax(model(torch.zeros_like(x)), 1)[torch.arange(3), t]
        # half removed, by hand: the 512 pixels of highest map value
        cut = np.sort(maps.reshape(3, -1), 1)[:, -512][:, None, None]
        half = torch.where(torch.from_numpy(maps >= cut)[:, None], 0.0, x)
        p_half = F.softmax(model(half), 1)[torch.arange(3), t]
    np.testing.assert_allclose(curve.scores[:, 0], p0.numpy(), rtol=1e-6)
    np.testing.assert_allclose(curve.scores[:, 4], p1.numpy(), rtol=1e-6)
    np.testing.assert_allclose(curve.scores[:, 2], p_half.numpy(), rtol=1e-6)
    np.testing.assert_allclose(curve.auc, np.trapezoid(curve.scores, curve.fractions, axis=1))
    one = ex.deletion_curve(model, x[0], t[0], maps[0], steps=4)
    np.testing.assert_allclose(one.scores, curve.scores[0], rtol=1e-6)


def test_rank_correlation_matches_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 5, 5))
    b = a + rng.standard_normal((4, 5, 5))
    b[0] = np.round(b[0])  # ties
    expected = [spearmanr(p.ravel(), q.ravel()).statistic for p, q in zip(a, b, strict=True)]
    np.testing.assert_allclose(ex.rank_correlation(a, b), expected, rtol=1e-12)


def test_cascading_randomization_goes_top_down_and_leaves_the_model_alone():
    model, x, t = _shapes_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = ex.cascading_randomization(model, x, t, methods=("saliency", "grad_cam"), seed=3)
    assert result.layers == [
        "original", "classifier", "features.bn3", "features.conv3", "features.bn2",
        "features.conv2", "features.bn1", "features.conv1",
    ]  # fmt: skip
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    for rho in result.correlations.values():
        assert rho.shape == (8, 3) and np.all(rho[0] == 1)
    # step 1 by hand: the classifier re-initialised under seed 3
    import copy

    clone = copy.deepcopy(model)
    with torch.random.fork_rng():
        torch.manual_seed(3)
        clone.classifier.reset_parameters()
    for method in ("saliency", "grad_cam"):
        a = np.abs(ex.attribution_map(model, x, t, method))
        b = np.abs(ex.attribution_map(clone, x, t, method))
        np.testing.assert_allclose(result.correlations[method][1], ex.rank_correlation(a, b))


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------
ALL = [
    ex.saliency,
    ex.gradient_x_input,
    ex.integrated_gradients,
    ex.occlusion,
    ex.cam,
    ex.grad_cam,
]


@pytest.mark.parametrize("fn", ALL)
def test_bad_input_names_the_argument(fn):
    model, x, _ = _shapes_model()
    with pytest.raises(ValueError, match="model has no Conv2d"):
        fn(arch.mlp(1024, (8,), 4), x, 0)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fn("resnet", x, 0)
    with pytest.raises(ValueError, match="target .* out of range .* 4 outputs"):
        fn(model, x, 4)
    with pytest.raises(ValueError, match="target .* out of range"):
        fn(model, x, [0, -1, 2])
    with pytest.raises(ValueError, match="target must be one int or 3 ints"):
        fn(model, x, [0, 1])
    with pytest.raises(TypeError, match="target must be an int"):
        fn(model, x, 1.5)
    with pytest.raises(ValueError, match="x must have 1 channel"):
        fn(model, torch.rand(2, 3, 32, 32), 0)
    with pytest.raises(ValueError, match=r"x must be one image \(C, H, W\)"):
        fn(model, torch.rand(32, 32), 0)
    with pytest.raises(TypeError, match="x must be a torch.Tensor or a NumPy array"):
        fn(model, [[[0.0]]], 0)


def test_bad_layers_and_units_name_the_argument():
    model, x, t = _shapes_model()
    with pytest.raises(ValueError, match="layer 'features.conv9' is not a module"):
        ex.grad_cam(model, x, t, layer="features.conv9")
    with pytest.raises(ValueError, match="layer 'features.conv9' is not a module"):
        ex.unit_contributions(model, "features.conv9", 0, 0, 0, x[0])
    with pytest.raises(TypeError, match="layer must be a module path"):
        ex.grad_cam(model, x, t, layer=3)
    with pytest.raises(ValueError, match="is a ReLU, not a Conv2d"):
        ex.unit_contributions(model, "features.relu1", 0, 0, 0, x[0])
    with pytest.raises(ValueError, match="channel must be below 16"):
        ex.unit_contributions(model, "features.conv2", 16, 0, 0, x[0])
    with pytest.raises(ValueError, match=r"row and col must be below the output size \(8, 8\)"):
        ex.unit_contributions(model, "features.conv3", 0, 8, 0, x[0])
    with pytest.raises(ValueError, match="x must be one image"):
        ex.unit_contributions(model, "features.conv1", 0, 0, 0, x)
    with pytest.raises(ValueError, match="model has no Conv2d"):
        ex.activations(arch.mlp(1024, (8,), 4), x)
    with pytest.raises(ValueError, match="x of shape .* does not fit the model"):
        ex.saliency(model, torch.rand(1, 1, 2, 2), 0)
    with pytest.raises(ValueError, match="patch"):
        ex.occlusion(model, x, t, patch=40)
    with pytest.raises(ValueError, match="method must be one of"):
        ex.attribution_map(model, x, t, "lime")
    with pytest.raises(ValueError, match="maps"):
        ex.deletion_curve(model, x, t, np.zeros((3, 16, 16)))
    with pytest.raises(TypeError, match="masks must be boolean"):
        ex.pointing_game(np.zeros((6, 6)), np.zeros((6, 6)))


def test_functions_restore_the_training_mode():
    model, x, t = _shapes_model()
    model.train()
    ex.saliency(model, x, t)
    ex.unit_contributions(model, "features.conv1", 0, 0, 0, x[0])
    assert model.training
    assert all(p.grad is None for p in model.parameters())


def test_chunked_batches_give_the_same_maps(monkeypatch):
    """IG, occlusion and deletion run their forward passes in chunks of about
    ``_CHUNK_ELEMENTS`` input values; tiny chunks (3 images) must not change a number."""
    model, x, t = _shapes_model()
    maps = np.random.default_rng(2).random((3, 32, 32))
    whole = (
        ex.integrated_gradients(model, x, t, steps=5),
        ex.occlusion(model, x, t, patch=8, stride=8),
        ex.deletion_curve(model, x, t, maps, steps=5).scores,
    )
    monkeypatch.setattr(ex, "_CHUNK_ELEMENTS", 3 * 32 * 32)
    chunked = (
        ex.integrated_gradients(model, x, t, steps=5),
        ex.occlusion(model, x, t, patch=8, stride=8),
        ex.deletion_curve(model, x, t, maps, steps=5).scores,
    )
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_module_called_twice_appears_twice():
    conv = nn.Conv2d(2, 2, 3, padding=1)
    relu = nn.ReLU()
    model = nn.Sequential(conv, relu, conv, relu)
    x = torch.rand(2, 5, 5)
    acts = ex.activations(model, x)
    assert list(acts) == ["0", "1", "0 (call 2)", "1 (call 2)"]
    with torch.no_grad():
        np.testing.assert_allclose(acts["1 (call 2)"], model(x[None])[0].numpy(), atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(
    st.integers(6, 14),
    st.integers(6, 14),
    st.integers(1, 6),
    st.integers(1, 6),
    st.data(),
)
def test_occlusion_matches_captum_for_random_patches_and_strides(h, w, ph, pw, data):
    """Every patch and stride Captum accepts (stride <= patch), on odd and even image sizes."""
    ph, pw = min(ph, h), min(pw, w)
    sh, sw = data.draw(st.integers(1, ph)), data.draw(st.integers(1, pw))
    torch.manual_seed(h * 100 + w)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(4, 3),
    ).eval()  # fmt: skip
    x = torch.rand(2, 2, h, w)
    theirs = captum_attr.Occlusion(model).attribute(
        x, target=[2, 0], sliding_window_shapes=(2, ph, pw), strides=(2, sh, sw)
    )
    _close(ex.occlusion(model, x, [2, 0], patch=(ph, pw), stride=(sh, sw)), theirs)


# -- issue 14: bad arguments found by the fuzz suite, each refused by name
@pytest.mark.parametrize("fn", [ex.saliency, ex.gradient_x_input, ex.cam, ex.grad_cam])
def test_target_none_is_refused_by_name(fn):
    model, x = _shapes_model()[0], torch.rand(1, 32, 32)
    with pytest.raises(TypeError, match="target"):
        fn(model, x, None)


def test_meta_tensor_x_is_refused_by_name():
    with pytest.raises(TypeError, match="^x "):
        ex.integrated_gradients(_shapes_model()[0], torch.empty(1, 32, 32, device="meta"), 0)


def test_huge_steps_is_refused_by_the_memory_budget():
    with pytest.raises(ValueError, match="steps"):
        ex.integrated_gradients(_shapes_model()[0], torch.rand(1, 32, 32), 0, steps=10**6)


def test_huge_upsample_size_is_refused_by_name():
    with pytest.raises(ValueError, match="size"):
        ex.upsample(np.zeros((4, 4)), 2**62)


def test_heatmap_of_a_set_is_refused_by_name():
    with pytest.raises(TypeError, match="attribution"):
        ex.heatmap({1, 2})


def test_pointing_game_refuses_nan_tolerance():
    maps, masks = np.zeros((8, 8)), np.ones((8, 8), dtype=bool)
    with pytest.raises(ValueError, match="tolerance"):
        ex.pointing_game(maps, masks, tolerance=float("nan"))


def test_rank_correlation_refuses_complex():
    a = torch.zeros(2, 4, 4, dtype=torch.complex64)
    with pytest.raises(TypeError, match="^a "):
        ex.rank_correlation(a, np.zeros((2, 4, 4)))


def test_cam_of_an_infinite_image_is_refused_by_name():
    with pytest.raises(ValueError, match="x gives"):
        ex.cam(_shapes_model()[0], torch.full((1, 32, 32), float("inf")), 0)


def test_integrated_gradients_refuses_numpy_bool_baseline():
    with pytest.raises(TypeError, match="baseline"):
        ex.integrated_gradients(_shapes_model()[0], torch.rand(1, 32, 32), 0, baseline=np.True_)


# -- tests found by mutation testing (tools/mutation.py explain) -----------------------------
@pytest.mark.parametrize(
    ("pool", "size"),
    [
        (nn.AdaptiveAvgPool2d((3, 5)), (7, 8)),  # overlapping windows
        (nn.AdaptiveMaxPool2d((4, 2)), (9, 5)),
        (nn.MaxPool2d(3, stride=2, padding=1), (7, 6)),
        (nn.MaxPool2d(2, stride=3, dilation=2), (9, 8)),  # gaps: some pixels in no window
        (nn.AvgPool2d((2, 3), stride=(3, 2)), (8, 9)),
        (nn.MaxPool2d(3, stride=1, padding=1, dilation=2), (6, 5)),  # overlapping taps
    ],
)
def test_pooled_position_is_the_last_window_torch_pools_the_pixel_into(pool, size):
    """torch as the oracle: max-pool a one-hot image of the pixel with the pool's geometry;
    the outputs that see the 1 are the windows holding the pixel."""
    geometry = pool
    if isinstance(pool, nn.AdaptiveAvgPool2d):
        geometry = nn.AdaptiveMaxPool2d(pool.output_size)
    elif isinstance(pool, nn.AvgPool2d):
        geometry = nn.MaxPool2d(pool.kernel_size, pool.stride, pool.padding)
    out_size = pool(torch.zeros(1, 1, *size)).shape[-2:]
    for r in range(size[0]):
        for c in range(size[1]):
            one_hot = torch.zeros(1, 1, *size)
            one_hot[0, 0, r, c] = 1.0
            hits = torch.nonzero(geometry(one_hot)[0, 0] > 0).tolist()
            want = tuple(max(hits)) if hits else None
            assert ex._pooled_position(pool, (r, c), size, out_size) == want, (r, c)


def test_pointing_game_on_grid_rules_by_hand():
    """A 2 x 2 grid on a 4 x 6 mask: cell (0, 1) holds the object pixel (1, 4); a grid that
    divides one side only is refused, on_grid must be a bool; a 3-D (N, H, W) mask of one
    image is read like the 2-D one."""
    mask = np.zeros((4, 6), bool)
    mask[1, 4] = True
    grid = np.array([[0.0, 1.0], [0.5, 0.2]])
    assert ex.pointing_game(grid, mask, on_grid=True) is True
    assert ex.pointing_game(grid[::-1], mask, on_grid=True) is False
    assert ex.pointing_game(grid[None], mask[None], on_grid=True).tolist() == [True]
    with pytest.raises(ValueError, match="^on_grid needs tolerance 0 and a map grid"):
        ex.pointing_game(np.zeros((2, 4)), mask, on_grid=True)  # 4 divides 4, not 6
    with pytest.raises(ValueError, match="^on_grid needs tolerance 0 and a map grid"):
        ex.pointing_game(np.zeros((3, 2)), mask, on_grid=True)  # 2 divides 6, not 4
    with pytest.raises(TypeError, match="^on_grid must be True or False"):
        ex.pointing_game(grid, mask, on_grid=1)
    # tolerance by hand: the peak (0, 0) is 4 pixels from (0, 4) in a 2-D mask of width 5
    far = np.zeros((1, 5), bool)
    far[0, 4] = True
    peak = np.array([[1.0, 0, 0, 0, 0]])
    assert not ex.pointing_game(peak, far, tolerance=3.9) and ex.pointing_game(
        peak, far, tolerance=4
    )


def test_fills_per_image_and_channel_by_hand():
    """'mean' is each image's mean per channel; 'blur' blurs each image's channel alone
    (scipy on every 2-D slice, sigma 4, border replicated); a bad fill is refused by name."""
    from scipy import ndimage

    x = torch.arange(2 * 2 * 5 * 6, dtype=torch.float32).reshape(2, 2, 5, 6) ** 1.5
    mean = ex._fill(x, "mean")
    for i in range(2):
        for c in range(2):
            assert torch.allclose(mean[i, c], x[i, c].mean().expand(5, 6))
            want = ndimage.gaussian_filter(x[i, c].numpy(), 4.0, mode="nearest")
            np.testing.assert_allclose(ex._fill(x, "blur")[i, c].numpy(), want, rtol=1e-5)
    assert torch.equal(ex._fill(x, 0.25), torch.full_like(x, 0.25))
    with pytest.raises(ValueError, match="^baseline must be one of"):
        ex._fill(x, "median")


def test_integrated_gradients_baselines_by_hand():
    x = torch.zeros(1, 2, 3)
    assert torch.equal(ex._baseline(0.5, x, False), torch.full((1, 2, 3), 0.5))
    row = np.array([1.0, 2.0, 3.0])  # a 1-D baseline broadcasts along the last axis
    assert torch.equal(ex._baseline(row, x, False), torch.tensor(row).float().expand(1, 2, 3))
    with pytest.raises(TypeError, match="^baseline must be"):
        ex._baseline("a", x, False)


def test_deletion_curve_of_one_image_has_its_area_and_floor():
    """A single (C, H, W) image: the area is the trapezoid rule over the curve; the floor is
    the last score for deletion and the first for insertion, and above_floor their gap."""
    model = _shapes_model()[0]
    x = torch.rand(1, 32, 32, generator=torch.Generator().manual_seed(0))
    saliency = np.arange(32 * 32, dtype=float).reshape(32, 32)
    for insertion in (False, True):
        r = ex.deletion_curve(model, x, 1, saliency, steps=4, insertion=insertion)
        assert r.scores.shape == (5,)
        trapezoid = float(np.sum((r.scores[1:] + r.scores[:-1]) / 2 * np.diff(r.fractions)))
        assert float(r.auc) == pytest.approx(trapezoid, rel=1e-5)
        assert float(r.floor) == float(r.scores[0] if insertion else r.scores[-1])
        assert float(r.above_floor) == pytest.approx(float(r.auc) - float(r.floor))


def test_occlusion_with_a_patch_as_large_as_the_image():
    """One window covering everything: every pixel gets the drop of the whole image occluded."""
    model = _shapes_model()[0]
    x = torch.rand(1, 32, 32, generator=torch.Generator().manual_seed(1))
    a = ex.occlusion(model, x, 2, patch=32, stride=32)
    with torch.no_grad():
        drop = model(x[None])[0, 2] - model(torch.zeros(1, 1, 32, 32))[0, 2]
    np.testing.assert_allclose(a, np.full(a.shape, float(drop)), rtol=1e-4, atol=1e-5)


def test_more_bad_inputs_are_named():
    model = _shapes_model()[0]
    with pytest.raises(TypeError, match="^x must hold real numbers"):
        ex.saliency(model, torch.ones(1, 32, 32, dtype=torch.bool), 0)
    with pytest.raises(ValueError, match="^seed must be a non-negative integer"):
        ex.cascading_randomization(model, torch.rand(1, 32, 32), 0, ["saliency"], seed=-1)
    a32 = np.ones((2,) + (1,) * 31)  # 32 dimensions: allowed; 33: refused
    assert np.isnan(ex.rank_correlation(a32, a32)).all()
    with pytest.raises(ValueError, match="^a must have"):
        ex.rank_correlation(np.ones((1,) * 33), np.ones((1,) * 33))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda m, x: ex.unit_contributions(m, "features.conv1", -1, 0, 0, x),
            ValueError,
            "^channel",
        ),
        (lambda m, x: ex.unit_contributions(m, "features.conv1", 0, -1, 0, x), ValueError, "^row"),
        (lambda m, x: ex.unit_contributions(m, "features.conv1", 0, 0, -1, x), ValueError, "^col"),
        (
            lambda m, x: ex.deletion_curve(m, x, 0, np.zeros((32, 32)), steps=0),
            ValueError,
            "^steps",
        ),  # fmt: skip
        (
            lambda m, x: ex.deletion_curve(m, x, 0, np.zeros((32, 32)), insertion=1),
            TypeError,
            "^insertion",
        ),  # fmt: skip
        (lambda m, x: ex.occlusion(m, x, 0, patch=0), ValueError, "^patch"),
        (lambda m, x: ex.occlusion(m, x, 0, stride=0), ValueError, "^stride"),
        (
            lambda m, x: ex.cascading_randomization(m, x, 0, ["saliency"], absolute=1),
            TypeError,
            "^absolute",
        ),  # fmt: skip
        (lambda m, x: ex.bootstrap_interval(np.ones(3), resamples=0), ValueError, "^resamples"),
        (lambda m, x: ex.bootstrap_interval(np.ones(3), confidence=1), ValueError, "^confidence"),
        (lambda m, x: ex.rank_correlation(np.ones((2, 2)), "b"), TypeError, "^b "),
        (lambda m, x: ex.mass_in_mask("m", np.ones((2, 2), bool)), TypeError, "^maps"),
    ],
)
def test_explain_functions_name_their_bad_arguments(call, error, message):
    model = _shapes_model()[0]
    with pytest.raises(error, match=message):
        call(model, torch.rand(1, 32, 32, generator=torch.Generator().manual_seed(0)))


def test_deletion_curves_of_a_batch_have_their_gap_above_the_floor():
    model = _shapes_model()[0]
    x = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(2))
    maps = np.arange(2 * 32 * 32, dtype=float).reshape(2, 32, 32)
    r = ex.deletion_curve(model, x, [0, 1], maps, steps=2)
    np.testing.assert_allclose(r.above_floor, r.auc - r.floor)
