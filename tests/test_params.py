"""cnnlib.params against real torch layers, torch's FlopCounterMode and published numbers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from cnnlib import architectures
from cnnlib._validate import memory_budget
from cnnlib.params import (
    conv2d_macs,
    conv2d_params,
    count_macs,
    count_params,
    linear_params,
    summary,
)


def torch_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def flop_counter_macs(model: nn.Module, size: tuple[int, ...]) -> float:
    """Half of FlopCounterMode's FLOPs for one forward pass (eval mode, no grad).

    The MATH attention backend decomposes attention into the bmm's FlopCounterMode sees (the
    fused CPU flash kernel is not in its table); the fused MultiheadAttention path is off for
    the same reason.
    """
    training = model.training
    fastpath = torch.backends.mha.get_fastpath_enabled()
    model.eval()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
            model(torch.zeros(size))
    finally:
        model.train(training)
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return counter.get_total_flops() / 2


# --------------------------------------------------------------------------------------------
# conv2d_params, linear_params, conv2d_macs
# --------------------------------------------------------------------------------------------
def test_seed_example_1792():
    # the seed: 64 filters of 3x3 on RGB, 64 x (3 x 3 x 3 + 1) = 64 x 28
    assert conv2d_params(3, 64, 3) == 64 * 28 == 1792
    assert torch_params(nn.Conv2d(3, 64, 3, padding=1)) == 1792


def test_published_vgg_numbers():
    # VGG-16 conv1_1 (3 -> 64, 3x3) has 1,792 parameters; conv2_1 (64 -> 128) has
    # 128 * (64 * 9 + 1) = 73,856 (Simonyan & Zisserman's layer table, torchvision's vgg16)
    assert conv2d_params(3, 64, (3, 3)) == 1_792
    assert conv2d_params(64, 128, 3) == 73_856
    # VGG-16's first fully connected layer: 25088 -> 4096
    assert linear_params(512 * 7 * 7, 4096) == 102_764_544


def test_no_bias_and_depthwise_by_hand():
    assert conv2d_params(3, 64, 3, bias=False) == 1728
    assert conv2d_params(32, 32, 3, groups=32) == 32 * 9 + 32
    assert conv2d_params(4, 6, (1, 5), groups=2) == 6 * (2 * 5) + 6


@given(
    c_in_per_group=st.integers(1, 6),
    c_out_per_group=st.integers(1, 6),
    groups=st.integers(1, 4),
    kh=st.integers(1, 7),
    kw=st.integers(1, 7),
    bias=st.booleans(),
)
def test_conv2d_params_equals_a_real_layer(c_in_per_group, c_out_per_group, groups, kh, kw, bias):
    c_in, c_out = c_in_per_group * groups, c_out_per_group * groups
    layer = nn.Conv2d(c_in, c_out, (kh, kw), bias=bias, groups=groups)
    kernel = kh if kh == kw and kh % 2 else (kh, kw)
    assert conv2d_params(c_in, c_out, kernel, bias=bias, groups=groups) == torch_params(layer)


@given(st.integers(1, 300), st.integers(1, 300), st.booleans())
def test_linear_params_equals_a_real_layer(n_in, n_out, bias):
    assert linear_params(n_in, n_out, bias) == torch_params(nn.Linear(n_in, n_out, bias=bias))


@given(
    c_in_per_group=st.integers(1, 4),
    c_out_per_group=st.integers(1, 4),
    groups=st.integers(1, 3),
    k=st.integers(1, 5),
    size=st.integers(1, 12),
    padding=st.integers(0, 2),
    stride=st.integers(1, 3),
)
def test_conv2d_macs_equals_half_the_flop_counter(
    c_in_per_group, c_out_per_group, groups, k, size, padding, stride
):
    c_in, c_out = c_in_per_group * groups, c_out_per_group * groups
    if size + 2 * padding < k:
        return
    layer = nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, groups=groups)
    out = layer(torch.zeros(1, c_in, size, size)).shape[-2:]
    expected = flop_counter_macs(layer, (1, c_in, size, size))
    assert conv2d_macs(c_in, c_out, k, tuple(out), groups=groups) == expected


# --------------------------------------------------------------------------------------------
# count_params
# --------------------------------------------------------------------------------------------
def test_count_params_is_the_trainable_sum_and_excludes_frozen():
    model = architectures.SimpleCNN()
    assert count_params(model) == torch_params(model) == 1_558_026
    total = sum(p.numel() for p in model.parameters())
    for p in model.features[0].parameters():
        p.requires_grad_(False)
    frozen = sum(p.numel() for p in model.features[0].parameters())
    assert frozen == 1792 + 128
    assert count_params(model) == total - frozen == torch_params(model)


def test_count_params_counts_a_shared_tensor_once():
    a, b = nn.Linear(4, 4), nn.Linear(4, 4)
    b.weight = a.weight
    model = nn.Sequential(a, b)
    assert count_params(model) == 16 + 4 + 4 == torch_params(model)


# --------------------------------------------------------------------------------------------
# count_macs against FlopCounterMode
# --------------------------------------------------------------------------------------------
SEED_MODELS = [
    ("ConvBlock", lambda: architectures.ConvBlock(3, 16), (2, 3, 12, 12)),
    ("SimpleCNN", lambda: architectures.SimpleCNN(), (1, 3, 32, 32)),
    ("SimpleCNN-digits", lambda: architectures.simple_cnn(1, 10, (16, 32, 64)), (3, 1, 8, 8)),
    ("DepthwiseSeparableConv", lambda: architectures.DepthwiseSeparableConv(8, 16), (1, 8, 9, 9)),
]


@pytest.mark.parametrize("name,make,size", SEED_MODELS, ids=[m[0] for m in SEED_MODELS])
def test_count_macs_on_the_seed_models(name, make, size):
    model = make()
    macs = count_macs(model, size)
    assert macs > 0
    assert macs == flop_counter_macs(model, size)


def test_count_macs_simple_cnn_by_hand():
    # 32x32 RGB: four 3x3 'same' convs at 32, 16, 8, 4 pixels, then 512 -> 10
    expected = (
        32 * 32 * 64 * 3 * 9
        + 16 * 16 * 128 * 64 * 9
        + 8 * 8 * 256 * 128 * 9
        + 4 * 4 * 512 * 256 * 9
        + 512 * 10
    )
    assert count_macs(architectures.SimpleCNN(), (1, 3, 32, 32)) == expected


@st.composite
def random_stacks(draw):
    """A random nn.Sequential of conv / BN / ReLU / pooling layers, then Flatten and Linear."""
    c = draw(st.integers(1, 4))
    h = w = draw(st.integers(6, 16))
    size = (draw(st.integers(1, 2)), c, h, w)
    layers: list[nn.Module] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "bn", "relu", "maxpool", "avgpool"]))
        if kind == "conv":
            groups = draw(st.sampled_from([g for g in (1, 2, 3, 4) if c % g == 0]))
            out = groups * draw(st.integers(1, 3))
            k = draw(st.integers(1, 4))
            d = draw(st.integers(1, 2))
            p = draw(st.integers(0, 2))
            s = draw(st.integers(1, 2))
            if h + 2 * p - d * (k - 1) < 1 or w + 2 * p - d * (k - 1) < 1:
                continue
            layers.append(nn.Conv2d(c, out, k, s, p, d, groups=groups, bias=draw(st.booleans())))
            h = (h + 2 * p - d * (k - 1) - 1) // s + 1
            w = (w + 2 * p - d * (k - 1) - 1) // s + 1
            c = out
        elif kind == "bn":
            layers.append(nn.BatchNorm2d(c))
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif h >= 2 and w >= 2:
            layers.append(nn.MaxPool2d(2) if kind == "maxpool" else nn.AvgPool2d(2))
            h, w = h // 2, w // 2
    layers += [nn.Flatten(), nn.Linear(c * h * w, draw(st.integers(1, 5)))]
    return nn.Sequential(*layers), size


@given(random_stacks())
def test_count_macs_and_summary_on_random_stacks(stack):
    model, size = stack
    macs = count_macs(model, size)
    assert macs == flop_counter_macs(model, size)
    table = summary(model, size)
    assert sum(r.params for r in table.rows) == torch_params(model)
    assert sum(r.macs for r in table.rows) == macs
    assert [(r.name, r.output_shape) for r in table.rows] == leaf_output_shapes(model, size)


class Products(nn.Module):
    """Products called directly, outside any conv or linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(8, 6))
        self.conv_w = nn.Parameter(torch.randn(4, 2, 3, 3))
        self.bias = nn.Parameter(torch.zeros(5))

    def forward(self, x):  # x: (2, 5, 8)
        y = x @ self.w  # (2, 5, 6)
        y = y + torch.matmul(x, self.w)
        s = torch.bmm(x, x.transpose(1, 2))  # (2, 5, 5)
        s = torch.baddbmm(s, x, x.transpose(1, 2))
        m = torch.addmm(self.bias, x[0], x[1].T)  # (5, 5)
        m = m + torch.mm(x[0], x[1].T) + x[0].mm(x[1].T)
        e = torch.einsum("bij,bkj->bik", x, x)
        e = e + torch.einsum("bij,bkj->bik", [x, x])  # the list form
        lin = F.linear(x, self.w.T[:4], None)  # (2, 5, 4)
        img = x.reshape(2, 4, 2, 5)
        c = F.conv2d(img, self.conv_w, padding=1, groups=2)
        ct = F.conv_transpose2d(c, self.conv_w, stride=2)
        return y.sum() + s.sum() + m.sum() + e.sum() + lin.sum() + c.sum() + ct.sum()


class Attention(nn.Module):
    def __init__(self, batch_first: bool, need_weights: bool) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(8, 2, batch_first=batch_first)
        self.kv = nn.MultiheadAttention(8, 4, kdim=6, vdim=3, batch_first=batch_first)
        self.batch_first = batch_first
        self.need_weights = need_weights

    def forward(self, x):
        y, _ = self.mha(x, x, x, need_weights=self.need_weights)
        k = torch.zeros(*x.shape[:-1], 6)
        v = torch.zeros(*x.shape[:-1], 3)
        z, _ = self.kv(y, k, v, need_weights=self.need_weights)
        q = y.unsqueeze(1)
        a = F.scaled_dot_product_attention(q, q, q)
        return z.sum() + a.sum()


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("need_weights", [True, False])
def test_count_macs_on_attention(batch_first, need_weights):
    model = Attention(batch_first, need_weights)
    size = (3, 7, 8)
    assert count_macs(model, size) == flop_counter_macs(model, size)


def test_count_macs_on_direct_products():
    model = Products()
    assert count_macs(model, (2, 5, 8)) == flop_counter_macs(model, (2, 5, 8))


def test_scaled_dot_product_attention_by_hand():
    class SDPA(nn.Module):
        def forward(self, x):  # (b, h, L, E) attends to itself
            return F.scaled_dot_product_attention(x, x, x)

    b, h, length, e = 2, 3, 10, 4
    # Q K^T: L x E x L per head, A V: L x L x E per head
    assert count_macs(SDPA(), (b, h, length, e)) == b * h * 2 * length * length * e


@pytest.mark.parametrize("conv", [nn.Conv1d, nn.ConvTranspose2d, nn.Conv3d, nn.ConvTranspose1d])
def test_count_macs_on_other_convolutions(conv):
    dims = {nn.Conv1d: 1, nn.ConvTranspose1d: 1, nn.ConvTranspose2d: 2, nn.Conv3d: 3}[conv]
    layer = conv(4, 6, 3, stride=2, padding=1, groups=2)
    size = (2, 4, *([7] * dims))
    assert count_macs(layer, size) == flop_counter_macs(layer, size)


def test_what_is_not_counted_is_said():
    class Recurrent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(4, 3)

        def forward(self, x):
            return self.lstm(x)[0]

    with pytest.warns(UserWarning, match="recurrent layers \\(LSTM\\) are not counted"):
        count_macs(Recurrent(), (5, 1, 4))

    class ThreeWay(nn.Module):
        def forward(self, x):
            return torch.einsum("ij,jk,kl->il", x, x, x)

    with pytest.warns(UserWarning, match="einsum 'ij,jk,kl->il' with 3 operands is not counted"):
        count_macs(ThreeWay(), (3, 3))


def test_count_macs_leaves_the_model_as_it_was():
    model = architectures.ConvBlock(3, 8)
    model.train()
    before = model.bn.running_mean.clone()
    count_macs(model, (2, 3, 5, 5))
    summary(model, (2, 3, 5, 5))
    assert model.training and model.bn.training
    assert torch.equal(model.bn.running_mean, before)
    model.eval()
    count_macs(model, (2, 3, 5, 5))
    assert not model.training and not model.bn.training


#: torchvision's model cards: "GFLOPS" at 224 x 224, which are multiply-accumulates
PUBLISHED_GMACS = {
    "alexnet": 0.71,
    "vgg16": 15.47,
    "resnet18": 1.81,
    "resnet50": 4.09,
    "mobilenet_v2": 0.30,
    "efficientnet_b0": 0.39,
    "vit_b_16": 17.56,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_GMACS))
def test_published_gflops_of_famous_models(name):
    with torch.device("meta"):  # shapes only: no memory, no arithmetic
        model = getattr(architectures, name)()
    macs = count_macs(model, (1, 3, 224, 224))
    assert round(macs / 1e9, 2) == PUBLISHED_GMACS[name]
    counter = FlopCounterMode(display=False)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
            model.eval()(torch.zeros(1, 3, 224, 224, device="meta"))
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    assert macs == counter.get_total_flops() / 2


# --------------------------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------------------------
class TwoBranches(nn.Module):
    """A residual block with a projection shortcut: two branches that meet in an addition."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1)
        )
        self.shortcut = nn.Conv2d(4, 8, 1, stride=2, bias=False)
        self.head = nn.Linear(8, 3)
        self.unused = nn.Linear(2, 2)

    def forward(self, x):
        y = torch.relu(self.main(x) + self.shortcut(x))
        return self.head(y.mean((2, 3)))


def leaf_output_shapes(model: nn.Module, size) -> list[tuple[str, tuple]]:
    """(name, output shape) of every leaf module in the order it ran, by plain hooks."""
    seen = []
    handles = [
        m.register_forward_hook(lambda mod, a, out, n=n: seen.append((n, tuple(out.shape))))
        for n, m in model.named_modules()
        if not list(m.children())
    ]
    with torch.no_grad():
        model.eval()(torch.zeros(size))
    for h in handles:
        h.remove()
    return seen


@pytest.mark.parametrize(
    "make,size",
    [
        (lambda: architectures.SimpleCNN(), (1, 3, 32, 32)),
        (lambda: architectures.DepthwiseSeparableConv(8, 16), (2, 8, 9, 9)),
        (TwoBranches, (1, 4, 9, 9)),
    ],
)
def test_summary_rows_add_up_and_match_real_shapes(make, size):
    model = make()
    table = summary(model, size)
    assert sum(r.params for r in table.rows) == count_params(model) == torch_params(model)
    assert sum(r.macs for r in table.rows) == count_macs(model, size) == table.total_macs
    leaves = [(r.name, r.output_shape) for r in table.rows if r.name != ""]
    assert leaves == leaf_output_shapes(model, size)
    for r in table.rows:
        if r.output_shape:
            assert r.output_bytes == 4 * torch.Size(r.output_shape).numel()


@pytest.mark.parametrize("name", ["resnet50", "vit_b_16"])
def test_summary_of_famous_models_adds_up(name):
    with torch.device("meta"):  # shapes only: no memory, no arithmetic
        model = getattr(architectures, name)()
    table = summary(model, (1, 3, 224, 224))
    assert sum(r.params for r in table.rows) == count_params(model) == torch_params(model)
    assert sum(r.macs for r in table.rows) == table.total_macs


def test_summary_of_two_branches_names_both_and_charges_unused_parameters():
    table = summary(TwoBranches(), (1, 4, 9, 9))
    names = [r.name for r in table.rows]
    assert names == ["", "main.0", "main.1", "main.2", "shortcut", "head"]
    root = table.rows[0]
    assert root.params == linear_params(2, 2) and root.type == "TwoBranches"
    shortcut = table.rows[names.index("shortcut")]
    assert shortcut.params == conv2d_params(4, 8, 1, bias=False)
    assert shortcut.macs == conv2d_macs(4, 8, 1, 5)
    assert shortcut.output_shape == (1, 8, 5, 5)


def test_summary_text_and_html():
    table = summary(architectures.ConvBlock(3, 64), (1, 3, 8, 8))
    text = str(table)
    assert "conv" in text and "Conv2d" in text and "1,792" in text and "[1, 64, 8, 8]" in text
    assert "Trainable parameters: 1,920" in text  # 1,792 + BN's 2 x 64
    page = table._repr_html_()
    assert page.startswith('<table class="cnnlib-summary">') and "<td" in page
    assert page.count("<tr") == len(table.rows) + 2  # header + rows + total
    assert repr(table) == text


def test_summary_receptive_fields_by_hand():
    # r += (k - 1) * jump, jump *= stride: conv3 -> 3, pool2 -> 4 (jump 2), conv3 -> 8,
    # pool2 -> 10 (jump 4), conv3 -> 18, pool2 -> 22 (jump 8), conv3 -> 38, then global pooling
    table = summary(architectures.SimpleCNN(), (1, 3, 32, 32))
    fields = {r.name: r.receptive_field for r in table.rows}
    convs = [n for n in fields if n.endswith("conv")]
    assert [fields[n].size for n in convs] == [(3, 3), (8, 8), (18, 18), (38, 38)]
    assert fields["classifier"].is_global
    assert "38x38" in str(table) and "all (32x32)" in str(table)
    # not an image model: the column is left blank, the rest still works
    seq = summary(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), (2, 4))
    assert all(r.receptive_field is None for r in seq.rows)
    assert sum(r.params for r in seq.rows) == 15


def test_summary_reports_frozen_parameters():
    model = architectures.ConvBlock(3, 4)
    model.conv.weight.requires_grad_(False)
    table = summary(model, (1, 3, 5, 5))
    assert "Frozen parameters: 108" in str(table)
    assert sum(r.params for r in table.rows) == count_params(model) == 4 + 8


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call,error,words",
    [
        (lambda: conv2d_params(0, 4, 3), ValueError, "in_channels"),
        (lambda: conv2d_params(3, 4.0, 3), TypeError, "out_channels"),
        (lambda: conv2d_params(3, 4, 0), ValueError, "kernel_size"),
        (lambda: conv2d_params(3, 4, (3, 3, 3)), ValueError, "kernel_size"),
        (lambda: conv2d_params(3, 4, 3, bias=1), TypeError, "bias"),
        (lambda: conv2d_params(3, 4, 3, groups=2), ValueError, "groups 2 must divide in_channels"),
        (lambda: conv2d_params(4, 6, 3, groups=4), ValueError, "groups 4 must divide out_ch"),
        (lambda: conv2d_macs(4, 4, 3, 0), ValueError, "output_size"),
        (lambda: linear_params(3, -1), ValueError, "out_features"),
        (lambda: linear_params("3", 1), TypeError, "in_features"),
        (lambda: count_params([nn.Linear(2, 2)]), TypeError, "model"),
        (lambda: count_macs("resnet", (1, 3, 8, 8)), TypeError, "model"),
        (lambda: count_macs(nn.Conv2d(3, 4, 3), (1, 0, 8, 8)), ValueError, "input_size[1]"),
        (lambda: count_macs(nn.Conv2d(3, 4, 3), "1x3x8x8"), TypeError, "input_size"),
        (lambda: count_macs(nn.Conv2d(3, 4, 3), ()), ValueError, "input_size"),
        (lambda: count_macs(nn.Conv2d(3, 4, 3), (1, 5, 8, 8)), ValueError, "input_size"),
        (lambda: summary(nn.Conv2d(3, 4, 5), (1, 3, 2, 2)), ValueError, "does not fit"),
        (lambda: summary(nn.MultiheadAttention(8, 2), (5, 1, 8)), ValueError, "input_size"),
    ],
)
def test_bad_input_names_the_argument(call, error, words):
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        call()


# ------------------------------------------------- found by mutation testing (make mutation)
_W, _V, _CW = torch.randn(8, 6), torch.randn(8), torch.randn(4, 4, 3, 3)

#: product calls on x of shape (2, 5, 8) that count_macs charges by name, and their MACs: from
#: FlopCounterMode ("torch"), or by hand where FlopCounterMode has no rule (addbmm, mv, dot)
RARER_PRODUCTS = {
    "addbmm": (lambda x: torch.addbmm(torch.zeros(5, 6), x, _W.expand(2, 8, 6)), 2 * 5 * 8 * 6),
    "rmatmul": (lambda x: _W.__rmatmul__(x), "torch"),
    "rmatmul 1-D": (lambda x: _V.__rmatmul__(x), 2 * 5 * 8),
    "tensordot": (lambda x: torch.tensordot(x, _W, dims=1), "torch"),
    "tensordot 2 dims": (lambda x: torch.tensordot(x, x, dims=([1, 2], [1, 2])), "torch"),
    "linear, weight=": (lambda x: F.linear(x, weight=_W.T), "torch"),
    "linear 1-D": (lambda x: F.linear(x, _V), 2 * 5 * 8),
    "matmul 1-D": (lambda x: torch.matmul(_V, _V), 8),
    "rmatmul batched": (lambda x: _W.expand(2, 8, 6).__rmatmul__(x), "torch"),
    "addbmm_": (lambda x: torch.zeros(5, 6).addbmm_(x, _W.expand(2, 8, 6)), 2 * 5 * 8 * 6),
    "conv1d": (lambda x: F.conv1d(x, torch.randn(3, 5, 2)), "torch"),
    "conv3d": (lambda x: F.conv3d(x[None, None], torch.randn(1, 1, 2, 2, 2)), "torch"),
    "conv_transpose1d": (lambda x: F.conv_transpose1d(x, torch.randn(5, 3, 2)), "torch"),
    "conv_transpose3d": (
        lambda x: F.conv_transpose3d(x[None, None], torch.randn(1, 2, 2, 2, 2)),
        "torch",
    ),
    "conv2d, weight=": (lambda x: F.conv2d(x.reshape(2, 4, 2, 5), weight=_CW, padding=1), "torch"),
    "conv_transpose2d, weight=": (
        lambda x: F.conv_transpose2d(x.reshape(2, 4, 2, 5), weight=_CW, stride=2),
        "torch",
    ),
}


class _Call(nn.Module):
    def __init__(self, f) -> None:
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


@pytest.mark.parametrize("name", list(RARER_PRODUCTS))
def test_count_macs_on_rarer_products(name):
    f, want = RARER_PRODUCTS[name]
    model = _Call(f)
    if want == "torch":
        want = flop_counter_macs(model, (2, 5, 8))
        assert want > 0
    assert count_macs(model, (2, 5, 8)) == want


def test_an_einsum_with_an_ellipsis_is_said_not_counted():
    model = _Call(lambda x: torch.einsum("...ij,...kj->...ik", x, x))
    with pytest.warns(UserWarning, match=r"einsum '...ij,...kj->...ik' with 2 operands"):
        assert count_macs(model, (2, 5, 8)) == 0


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("unbatched", [True, False])
def test_count_macs_on_attention_with_bias_kv_and_zero_attn(batch_first, unbatched):
    """add_bias_kv and add_zero_attn each add one key and value to attend to."""

    class KV(nn.Module):
        def __init__(self, **extra) -> None:
            super().__init__()
            self.mha = nn.MultiheadAttention(8, 2, batch_first=batch_first, **extra)

        def forward(self, x):
            return self.mha(x, x, x, need_weights=False)[0]

    size = (7, 8) if unbatched else (3, 7, 8)
    for extra in (
        {"add_bias_kv": True},
        {"add_zero_attn": True},
        {"add_bias_kv": True, "add_zero_attn": True},
    ):
        model = KV(**extra)
        assert count_macs(model, size) == flop_counter_macs(model, size), extra


def _small_net() -> nn.Module:
    m = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1, bias=False),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32, 3),
    )
    m[1].weight.requires_grad_(False)  # 2 frozen parameters
    return m


SMALL_NET_TEXT = """\
Layer  Type         Output shape  Params  MACs  Output bytes         RF
-----------------------------------------------------------------------
0      Conv2d       [1, 2, 4, 4]      18   288           128        3x3
1      BatchNorm2d  [1, 2, 4, 4]       2     0           128        3x3
2      ReLU         [1, 2, 4, 4]       0     0           128        3x3
3      Flatten      [1, 32]            0     0           128  all (4x4)
4      Linear       [1, 3]            99    96            12  all (4x4)
-----------------------------------------------------------------------
Total                                119   384
Input size: [1, 1, 4, 4]
Trainable parameters: 119
Frozen parameters: 2
Multiply-accumulates: 384 (384)"""


def test_summary_text_by_hand():
    """Hand-checked: the 3x3 conv (1 -> 2, no bias) has 2 * 9 = 18 weights and 16 * 2 * 9 = 288
    MACs; batch norm's 2 trainable betas (its gammas frozen); the linear 32 * 3 + 3 = 99 and 96
    MACs; outputs of 32 float32 (128 bytes) and 3 (12 bytes); the conv sees 3x3, the flattened
    layers everything."""
    assert str(summary(_small_net(), (1, 1, 4, 4))) == SMALL_NET_TEXT


def test_summary_html_carries_the_same_cells():
    html = summary(_small_net(), (1, 1, 4, 4))._repr_html_()
    left, right = '<td style="text-align:left">', '<td style="text-align:right">'
    head = "".join(
        f'<th style="text-align:{"left" if i < 3 else "right"}">{c}</th>'
        for i, c in enumerate(
            ["Layer", "Type", "Output shape", "Params", "MACs", "Output bytes", "RF"]
        )
    )
    assert html.startswith(
        f'<table class="cnnlib-summary">\n<thead><tr>{head}</tr></thead><tbody>\n'
    )
    conv = ["0", "Conv2d", "[1, 2, 4, 4]"], ["18", "288", "128", "3x3"]
    row = (
        "<tr>"
        + "".join(left + c + "</td>" for c in conv[0])
        + "".join(right + c + "</td>" for c in conv[1])
    )
    assert row + "</tr>\n" in html
    total = f'<tr style="font-weight:bold">{left}Total</td>{left}</td>{left}</td>{right}119</td>'
    assert total in html
    assert html.endswith(
        "</tbody></table>\n<p>Input size: [1, 1, 4, 4]<br>Trainable parameters: 119<br>"
        "Frozen parameters: 2<br>Multiply-accumulates: 384 (384)</p>"
    )
    assert html.count("<tr>") == 6 and html.count("</tr>") == 7  # head, 5 layers, total


def test_summary_of_a_single_layer_and_of_tuple_outputs():
    one = summary(nn.Conv2d(1, 1, 3), (1, 1, 5, 5))
    assert one.rows[0].name == "" and str(one).splitlines()[2].startswith("(model)  Conv2d")

    class Pair(nn.Module):
        def forward(self, x):
            return x, {"a": x[:, :1], "b": x.double()}

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pair = Pair()

        def forward(self, x):
            return self.pair(x)[0]

    row = summary(Net(), (2, 3, 4)).rows[0]
    # by hand: 24 float32 (96 bytes), 8 float32 (32 bytes), 24 float64 (192 bytes)
    assert row.output_shape == ((2, 3, 4), ((2, 1, 4), (2, 3, 4)))
    assert row.output_bytes == 96 + 32 + 192


@pytest.mark.parametrize(
    "n, text",
    [
        (999, "999"),
        (1000, "1.00 k"),
        (999_999, "1000.00 k"),
        (10**6, "1.00 M"),
        (1_234_567, "1.23 M"),
        (10**9 - 1, "1000.00 M"),
        (10**9, "1.00 G"),
        (2_500_000_000, "2.50 G"),
    ],
)
def test_short_numbers_by_hand(n, text):
    from cnnlib.params import _short

    assert _short(n) == text


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: conv2d_params(0, 1, 3), "in_channels"),
        (lambda: conv2d_params(1, 0, 3), "out_channels"),
        (lambda: conv2d_params(1, 1, 0), "kernel_size"),
        (lambda: conv2d_params(4, 4, 3, groups=0), "groups"),
        (lambda: conv2d_macs(0, 1, 3, 4), "in_channels"),
        (lambda: conv2d_macs(1, 0, 3, 4), "out_channels"),
        (lambda: conv2d_macs(1, 1, 0, 4), "kernel_size"),
        (lambda: conv2d_macs(1, 1, 3, 0), "output_size"),
        (lambda: linear_params(0, 1), "in_features"),
        (lambda: linear_params(1, 0), "out_features"),
    ],
)
def test_each_bad_argument_is_named(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()


def test_bias_must_be_a_flag():
    with pytest.raises(TypeError, match="^bias"):
        conv2d_params(1, 1, 3, bias=1)
    with pytest.raises(TypeError, match="^bias"):
        linear_params(1, 1, bias=1)


def test_grouped_counts_are_ints():
    """c_in / g is an exact division: the counts stay ints (1,792 not 1792.0)."""
    for value in (
        conv2d_params(4, 6, 3, groups=2),
        conv2d_macs(4, 6, 3, 5, groups=2),
        count_macs(nn.Conv2d(4, 6, 3, groups=2), (1, 4, 5, 5)),
        count_macs(nn.ConvTranspose2d(4, 6, 3, groups=2), (1, 4, 5, 5)),
    ):
        assert type(value) is int


def test_count_macs_input_memory_and_dtype():
    """The forward pass is budgeted at 8 copies of the input: (1, 3, 32, 32) float32 is
    3,072 * 4 = 12,288 bytes, 98,304 in all; a float64 model gets a float64 input (twice that)."""
    conv = nn.Conv2d(3, 1, 1)
    with memory_budget(98_304):
        count_macs(conv, (1, 3, 32, 32))
    with (
        memory_budget(98_303),
        pytest.raises(
            ValueError, match=r"^input_size \(1, 3, 32, 32\) makes the forward pass need"
        ),
    ):
        count_macs(conv, (1, 3, 32, 32))
    double = nn.Conv2d(3, 1, 1).double()
    assert count_macs(double, (1, 3, 32, 32)) == 3 * 32 * 32
    with memory_budget(2 * 98_304 - 1), pytest.raises(ValueError, match="input_size"):
        count_macs(double, (1, 3, 32, 32))


@pytest.mark.parametrize("enabled", [True, False])
def test_count_macs_restores_the_attention_fast_path(enabled):
    old = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(enabled)
    try:
        count_macs(Attention(batch_first=True, need_weights=False), (3, 7, 8))
        assert torch.backends.mha.get_fastpath_enabled() is enabled
    finally:
        torch.backends.mha.set_fastpath_enabled(old)


def test_attention_module_called_with_keywords():
    class ByName(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mha = nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True)

        def forward(self, x):
            return self.mha(query=x, key=x[:5], value=x[:5], need_weights=False)[0]

    model = ByName()
    assert count_macs(model, (7, 3, 8)) == flop_counter_macs(model, (7, 3, 8))


def _mha_arguments(batched: bool, bias_kv: bool, zero_attn: bool):
    mha = nn.MultiheadAttention(8, 2, add_bias_kv=bias_kv, add_zero_attn=zero_attn)
    q = torch.randn(7, 3, 8) if batched else torch.randn(7, 8)
    kv = q[:5]  # 5 keys for 7 queries
    return (
        q,
        kv,
        kv,
        8,
        2,
        mha.in_proj_weight,
        mha.in_proj_bias,
        mha.bias_k,
        mha.bias_v,
        zero_attn,
        0.0,
        mha.out_proj.weight,
        mha.out_proj.bias,
    )


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize(
    "bias_kv, zero_attn", [(False, False), (True, False), (False, True), (True, True)]
)
@pytest.mark.parametrize("by_keyword", [False, True])
def test_multi_head_attention_forward_called_directly(batched, bias_kv, zero_attn, by_keyword):
    """F.multi_head_attention_forward outside nn.MultiheadAttention: its MACs by name, with
    bias_k / add_zero_attn given by position or by keyword, against FlopCounterMode."""
    args = _mha_arguments(batched, bias_kv, zero_attn)
    names = ("bias_k", "bias_v", "add_zero_attn")

    def call(x):
        if by_keyword:
            kw = dict(zip(names, args[7:10], strict=True))
            return F.multi_head_attention_forward(
                *args[:7],
                **kw,
                dropout_p=0.0,
                out_proj_weight=args[11],
                out_proj_bias=args[12],
                training=False,
                need_weights=False,
            )[0]
        return F.multi_head_attention_forward(*args, training=False, need_weights=False)[0]

    model = _Call(call)
    size = tuple(args[0].shape)
    assert count_macs(model, size) == flop_counter_macs(model, size)


def test_summary_counts_a_shared_weight_once():
    """Two linear layers holding the same weight: 16 + 4 + 4 parameters, not 16 + 4 + 16 + 4."""
    a, b = nn.Linear(4, 4), nn.Linear(4, 4)
    b.weight = a.weight
    table = summary(nn.Sequential(a, b), (1, 4))
    assert [r.params for r in table.rows] == [20, 4]
    assert sum(r.params for r in table.rows) == torch_params(nn.Sequential(a, b)) == 24


@pytest.mark.parametrize(
    ("f", "hand"),
    [
        # sublist form (operand, [axes], ...): every (b, i, j, k) product once
        (lambda x: torch.einsum(x, [0, 1, 2], _W, [2, 3]), 2 * 5 * 8 * 6),
        # with an output sublist [b, k]: torch sums i out of x first, then (b, j) @ (j, k)
        (lambda x: torch.einsum(x, [0, 1, 2], _W, [2, 3], [0, 3]), 2 * 8 * 6),
        (lambda x: torch.einsum("bij,jk", [x, _W]), 2 * 5 * 8 * 6),  # a list of operands
        (lambda x: torch.einsum("bij,jk->k", x, _W), 8 * 6),  # b and i summed out first
        (lambda x: torch.einsum("bij,bij->bi", x, x), 2 * 5 * 8),  # a batched dot product
        (lambda x: torch.einsum("bij,bij->bij", x, x), 0),  # elementwise: no product summed
        (lambda x: torch.einsum("bij,k->bijk", x, _V[:3]), 0),  # outer product: none either
    ],
)
def test_einsum_is_counted_as_torch_computes_it(f, hand):
    """A letter in one operand only and not in the output is summed before the product (free),
    and a product with no summed letter is elementwise (free): FlopCounterMode's count, halved,
    and the hand count agree, in every call form of torch.einsum."""
    model = _Call(f)
    assert flop_counter_macs(model, (2, 5, 8)) == hand
    assert count_macs(model, (2, 5, 8)) == hand
