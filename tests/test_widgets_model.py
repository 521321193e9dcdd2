"""ModelView: its numbers against the real layers, its feature maps against a recomputation."""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlib import architectures as arch
from cnnlib.data import photo
from cnnlib.widgets.model import MEAN, STD, ModelView, as_maps


@pytest.fixture(scope="module")
def view():
    return ModelView()


def hand_receptive_fields(steps, image_side):
    """The seed's recursion r += (k - 1) * S, S *= s along the main path of each step (skip
    branches are never larger); global pooling / flattening: the whole image."""
    r, jump, is_global, out = 1, 1, False, []
    for _, step in steps:
        inside_partial = ()
        for name, m in step.named_modules():
            parts = name.split(".")
            if "shortcut" in parts or any(name.startswith(p + ".") for p in inside_partial):
                continue
            if isinstance(m, arch.PartialConv2d):  # its grouped convolutions run side by side
                inside_partial += (name,)
                m = m.convs[0]
            if isinstance(m, (nn.AdaptiveAvgPool2d, nn.Flatten)):
                is_global = True
            elif isinstance(m, nn.Conv2d):
                k, s, d = m.kernel_size[0], m.stride[0], m.dilation[0]
                r, jump = r + d * (k - 1) * jump, jump * s
            elif isinstance(m, nn.MaxPool2d):
                r, jump = r + (m.kernel_size - 1) * jump, jump * m.stride
            elif isinstance(m, arch.Subsampling):
                r, jump = r + (m.kernel_size - 1) * jump, jump * m.kernel_size
        out.append((image_side if is_global else r, is_global))
    return out


def flop_macs(module, x):
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = module(x)
    return counter.get_total_flops() // 2, y


@pytest.mark.parametrize("model", ["LeNet-5", "ResNet-18"])
def test_state_equals_counts_from_the_real_layers(view, model):
    build = arch.MODELS[model][0]
    real = build().eval()
    steps = arch.layer_sequence(real)
    side = 32 if model == "LeNet-5" else 224
    channels = 1 if model == "LeNet-5" else 3
    x = torch.randn(1, channels, side, side)
    fields = hand_receptive_fields(steps, side)
    if model == "LeNet-5":  # C1 5, S2 6, C3 14, S4 16, C5 32 (the whole 32x32 input)
        assert [f for f, _ in fields[:5]] == [5, 6, 14, 16, 32]
    view.controls["model"].value = model
    assert view.controls["layer"].max == len(steps) - 1
    for i, (name, step) in enumerate(steps):
        macs, x = flop_macs(step, x)
        view.controls["layer"].value = i
        state = view.state
        assert "error" not in state, state.get("error")
        assert state["model"] == model and state["layer"] == i and state["layer_name"] == name
        assert state["output_shape"] == tuple(x.shape[1:])
        assert state["params"] == sum(p.numel() for p in step.parameters())
        assert state["macs"] == macs
        assert (state["receptive_field"], state["receptive_field_global"]) == fields[i], name


def test_resnet18_fields_are_the_published_ones(view):
    # Araujo et al. (Distill 2019) give 435 for torchvision's ResNet-18 trunk
    view.set_controls(model="ResNet-18", layer=11)
    assert view.state["layer_name"] == "features.layer4_1"
    assert view.state["receptive_field"] == 435


def test_first_feature_maps_are_the_photo_through_the_first_convolution(view):
    view.set_controls(model="ResNet-18", layer=0)
    # step 0 gets its weights when the photo reaches it: a fresh layer seeded with 0
    torch.manual_seed(0)
    conv1 = torch.nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
    img = (photo((1, 3, 224, 224)) - MEAN) / STD
    x = torch.tensor(img.transpose(2, 0, 1), dtype=torch.float32)[None]
    expected = F.conv2d(x, conv1.weight, stride=2, padding=3)[0, :8].detach().numpy()
    shown = np.stack(view.model_layers("ResNet-18")[0].maps)
    assert view.state["maps_shown"] == 8
    assert np.allclose(shown, expected, atol=1e-4)
    rgb = view.photo_im.get_array()
    assert rgb.shape == (224, 224, 3)


def test_every_model_and_its_first_middle_and_last_layer(view):
    for model in arch.MODELS:
        view.controls["model"].value = model
        last = view.controls["layer"].max
        for layer in (last, 0, last // 2):
            view.controls["layer"].value = layer
            assert "error" not in view.state, (model, layer, view.state.get("error"))
            assert view.state["layer"] == layer
            assert 1 <= view.state["maps_shown"] <= 8
    # a shorter model after a longer one pulls the slider back inside
    view.set_controls(model="VGG-16", layer=39)
    view.controls["model"].value = "LeNet-5"
    assert view.state["layer"] == view.controls["layer"].value == 6
    assert view.state["layer_name"] == "output"


def test_vit_tokens_are_laid_back_on_the_patch_grid(view):
    view.set_controls(model="ViT-B/16", layer=0)
    assert view.state["output_shape"] == (197, 768)
    assert view.state["receptive_field"] == 16  # one patch
    maps = view.model_layers("ViT-B/16")[0].maps
    assert [m.shape for m in maps] == [(14, 14)] * 8


def test_as_maps_forms():
    t = torch.arange(2 * 17 * 5, dtype=torch.float32).reshape(17, 10)
    maps, kind = as_maps(t)  # 16 patch tokens + class token -> 4x4 grids
    assert kind == "tokens" and len(maps) == 8
    assert np.array_equal(maps[3], t[1:, 3].reshape(4, 4).numpy())
    maps, kind = as_maps(torch.arange(10.0))
    assert kind == "vector" and maps[0].shape == (4, 4)
    assert np.array_equal(maps[0].ravel()[:10], np.arange(10.0))
    assert np.isnan(maps[0].ravel()[10:]).all()
    maps, kind = as_maps(torch.ones(64, 1, 1))
    assert kind == "vector" and maps[0].shape == (8, 8)
    maps, kind = as_maps(torch.zeros(3, 5, 6))
    assert kind == "channels" and len(maps) == 3 and maps[0].shape == (5, 6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="model"):
        ModelView(model="GoogLeNet")


def test_the_stored_counting_table_is_what_counting_gives_now():
    from cnnlib.widgets import model as model_module

    path = Path(model_module.__file__).with_name("_model_table.py")
    assert path.read_text() == model_module.model_table_source(), (
        "cnnlib/widgets/_model_table.py is stale: run `python -m cnnlib.widgets.model`"
    )


def test_maps_computed_step_by_step_equal_one_forward_pass_of_the_same_weights():
    from cnnlib.widgets.model import MapRunner, _counted

    infos = _counted("ResNet-18")
    runner = MapRunner("ResNet-18", infos)
    assert runner.lazy
    runner.run_to(5)
    assert runner.done == 6 and not infos[6].maps
    # the same weights, built for real: step i reset under torch.manual_seed(i)
    real = arch.resnet18().eval()
    steps = arch.layer_sequence(real)
    x = runner.__class__("ResNet-18", _counted("ResNet-18")).x
    with torch.no_grad():
        for i, (_, step) in enumerate(steps[:6]):
            torch.manual_seed(i)
            for m in step.modules():
                if m._parameters or m._buffers:
                    m.reset_parameters()
            x = step(x)
            assert np.allclose(np.stack(infos[i].maps), x[0, :8].numpy(), atol=1e-4)
    # the weights of finished steps are given back
    assert all(p.is_meta for _, s in runner.steps[:6] for p in s.parameters())


def test_a_model_switch_keeps_the_layer_unless_it_costs_too_much():
    from cnnlib.widgets.model import SWITCH_MACS

    view = ModelView()  # nothing computed yet
    view.set_controls(model="ResNet-18", layer=4)
    view.controls["model"].value = "VGG-16"
    assert view.state["layer"] == 4
    view.controls["model"].value = "ViT-B/16"
    layer = view.state["layer"]
    infos = view.model_layers("ViT-B/16", upto=-1)
    assert sum(i.macs for i in infos[: layer + 1]) <= SWITCH_MACS
    assert sum(i.macs for i in infos[: layer + 2]) > SWITCH_MACS
    assert view.message.value == ""  # the busy note is gone once the maps are there


def test_the_trained_shapes_network_runs_with_its_shipped_weights():
    """Layer 0's maps are the shipped network's first convolution of the test image
    (torch, from the weights file), the prediction is its arg-max logit with its softmax
    probability; the random-weight version of the same network shows other maps."""
    from cnnlib.data import SHAPE_CLASSES, shapes
    from cnnlib.training import load_shapes_cnn
    from cnnlib.widgets.model import SHAPES, SHAPES_IMAGE

    view = ModelView(model=SHAPES, layer=0, weights="trained")
    net = load_shapes_cnn()[0]
    data = shapes(8, seed=1)
    x = torch.from_numpy(data.images[SHAPES_IMAGE : SHAPES_IMAGE + 1].astype(np.float32))
    with torch.no_grad():
        first = net.features.conv1(x)[0, :8].numpy()
        logits = net(x)[0]
    assert np.allclose(
        np.stack(view.model_layers(SHAPES, weights=view.state["weights"])[0].maps), first, atol=1e-5
    )
    probs = torch.softmax(logits, 0)
    assert view.state["prediction"] == SHAPE_CLASSES[int(probs.argmax())]
    assert view.state["probability"] == pytest.approx(float(probs.max()), rel=1e-5)
    assert view.state["true_class"] == SHAPE_CLASSES[int(data.labels[SHAPES_IMAGE])]
    assert view.state["weights"] == "trained" and "trained weights" in view.title.get_text()
    assert "prediction" in view.readout.value
    view.controls["weights"].value = "random"
    assert view.state["weights"] == "random"
    assert not np.allclose(
        np.stack(view.model_layers(SHAPES, weights=view.state["weights"])[0].maps), first, atol=1e-2
    )


def test_only_the_shapes_network_has_trained_weights():
    from cnnlib.widgets.model import SHAPES

    view = ModelView(model="LeNet-5", layer=0)
    assert view.controls["weights"].disabled
    view.controls["weights"].value = "trained"  # disabled in the page; ignored if set anyway
    assert view.state["weights"] == "random" and "error" not in view.state
    view.controls["model"].value = SHAPES
    assert not view.controls["weights"].disabled
    view.controls["weights"].value = "trained"
    assert view.state["weights"] == "trained"
    view.controls["model"].value = "LeNet-5"
    assert view.controls["weights"].disabled and view.controls["weights"].value == "random"
    assert view.state["weights"] == "random" and "random weights" in view.title.get_text()
    with pytest.raises(ValueError, match="weights='trained' needs model"):
        ModelView(model="ResNet-18", weights="trained")
    with pytest.raises(ValueError, match="weights must be"):
        ModelView(model=SHAPES, weights="imagenet")
