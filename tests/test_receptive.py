"""Tests of cnnlib.receptive: the recursion, published numbers and the empirical field.

The independent reference is torch autograd: the input pixels with a non-zero gradient of one
output unit of a network with positive weights (``empirical_field``). Published numbers come
from Araujo, Norris & Sim, "Computing Receptive Fields of CNNs", Distill 2019, table 1.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.signal import convolve2d

from cnnlib.receptive import (
    ALEXNET_LAYERS,
    RESNET18_LAYERS,
    RESNET50_LAYERS,
    RESNET50_SLIM_LAYERS,
    SIMPLE_CNN_LAYERS,
    VGG16_LAYERS,
    conv_stack,
    effective_receptive_field,
    empirical_field,
    erf_moments,
    positive_copy,
    receptive_field,
    receptive_field_of,
    train_box_average,
    unit_windows,
)


# -- the recursion on worked examples -----------------------------------------------------------
def test_three_3x3_convs_grow_by_two():
    # seed: RF_1 = k_1 = 3, then + (3 - 1) * 1 per layer: two 3x3 see 5 (as one 5x5), three see 7
    assert [f.size for f in receptive_field([(3, 1, 1)] * 3)] == [3, 5, 7]
    assert [f.stride for f in receptive_field([(3, 1, 1)] * 3)] == [1, 1, 1]
    assert [f.padding for f in receptive_field([(3, 1, 1)] * 3)] == [1, 2, 3]


def test_stride_multiplies_later_growth():
    # conv3: 3; pool 2/2: 3 + 1*1 = 4, jump 2; conv3: 4 + 2*2 = 8; conv3: 8 + 2*2 = 12
    rows = receptive_field([(3, 1), (2, 2), (3, 1), (3, 1)])
    assert [f.size for f in rows] == [3, 4, 8, 12]
    assert [f.stride for f in rows] == [1, 2, 2, 2]


def test_dilation_counts_as_the_dilated_kernel():
    # dilated 1-2-4 3x3 convs: effective kernels 3, 5, 9 -> 3, 3 + 4 = 7, 7 + 8 = 15
    rows = receptive_field([(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)])
    assert [f.size for f in rows] == [3, 7, 15]
    assert [f.padding for f in rows] == [1, 3, 7]


def test_window_of_a_unit_unclipped_and_clipped():
    f = receptive_field([(3, 1, 1)] * 2)[-1]  # r = 5, S = 1, P = 2
    w = f.window(0, input_size=8)
    assert (w.start, w.end, w.clipped_start, w.clipped_end, w.size) == (-2, 2, 0, 2, 5)
    w = f.window(7, input_size=8)
    assert (w.start, w.end, w.clipped_start, w.clipped_end) == (5, 9, 5, 7)
    w = f.window(3)
    assert (w.start, w.end, w.clipped_start) == (1, 5, None)


def test_pairs_give_per_axis_fields():
    rows = receptive_field([((3, 5), 1), ((1, 3), (2, 1), (0, 1))])
    assert rows[-1].size == (3, 7) and rows[-1].stride == (2, 1) and rows[-1].padding == (0, 1)
    wr, wc = rows[-1].window((1, 2), input_size=(10, 10))
    assert (wr.start, wr.end, wc.start, wc.end) == (2, 4, 1, 7)


def test_clipping_follows_the_layers_down():
    # found by hypothesis: the first stride-3 conv on 37 columns reads only columns 0..35 (12
    # outputs); column 36 is read by nothing, though the formula's window -9 .. 44 covers it.
    # By hand, unit 0 downwards: max pool 3: units 0..2 of 3; avg pool 4 pad 1: -1..4 -> 0..3 of
    # 4; conv 3/3: 0..11 of 12; conv 3/3: columns 0..35 of 37.
    module = nn.Sequential(
        nn.Conv2d(1, 1, (1, 3), (1, 3)),
        nn.Conv2d(1, 1, (1, 3), (1, 3)),
        nn.AvgPool2d((1, 4), (1, 1), (0, 1)),
        nn.MaxPool2d((1, 3), (1, 1)),
    )
    layers = [((1, 3), (1, 3)), ((1, 3), (1, 3)), ((1, 4), 1, (0, 1)), ((1, 3), 1)]
    for f in (receptive_field(layers)[-1], receptive_field_of(module, (1, 1, 37))):
        wr, wc = f.window((0, 0), (1, 37))
        assert (wc.start, wc.end, wc.clipped_start, wc.clipped_end) == (-9, 44, 0, 35)
        assert (wr.start, wr.end, wr.clipped_start, wr.clipped_end) == (0, 0, 0, 0)
    rows, cols, _ = empirical_field(module, (1, 1, 37), (0, 0))
    assert (rows, cols) == ((0, 0), (0, 35))
    # a unit over the right padding of a truncated layer sees nothing, though its formula
    # window 13 * 3 - 3 .. 38 overlaps column 36
    w = receptive_field([(3, 3), (1, 1, 1)])[-1].window(13, 37)
    assert (w.start, w.end, w.clipped_start, w.clipped_end) == (36, 38, None, None)
    net = nn.Sequential(nn.Conv2d(1, 1, (1, 3), (1, 3)), nn.Conv2d(1, 1, 1, 1, (0, 1)))
    assert empirical_field(net, (1, 1, 37), (0, 13))[:2] == (None, None)
    assert receptive_field_of(net, (1, 1, 37)).window((0, 13))[1].clipped_start is None


@given(
    st.lists(
        st.tuples(st.integers(1, 7), st.integers(1, 4), st.integers(0, 3), st.integers(1, 4)),
        min_size=1,
        max_size=8,
    )
)
def test_closed_form(layers):
    # r_L = sum_l (d_l (k_l - 1)) prod_{i<l} s_i + 1 ; P_L = sum_l p_l prod_{i<l} s_i
    jumps = np.cumprod([1] + [s for _, s, _, _ in layers])[:-1]
    r = 1 + sum(d * (k - 1) * j for (k, _, _, d), j in zip(layers, jumps, strict=True))
    p = sum(pad * j for (_, _, pad, _), j in zip(layers, jumps, strict=True))
    f = receptive_field(layers)[-1]
    assert (f.size, f.stride, f.padding) == (r, int(np.prod([s for _, s, _, _ in layers])), p)


# -- published numbers --------------------------------------------------------------------------
def test_published_alexnet_vgg_resnet():
    # Araujo et al. 2019, table 1: alexnet_v2 r=195 S=32 P=64 (conv1 unpadded there),
    # vgg_16 r=212 S=32 P=90, resnet_v1_50 r=483 S=32
    alex = receptive_field(ALEXNET_LAYERS)[-1]
    assert (alex.size, alex.stride) == (195, 32)
    alex_v2 = receptive_field([(11, 4, 0), *ALEXNET_LAYERS[1:]])[-1]
    assert (alex_v2.size, alex_v2.stride, alex_v2.padding) == (195, 32, 64)
    vgg = receptive_field(VGG16_LAYERS)[-1]
    assert (vgg.size, vgg.stride, vgg.padding) == (212, 32, 90)
    assert receptive_field(VGG16_LAYERS)[-2].size == 196  # conv5_3, before pool5
    slim = receptive_field(RESNET50_SLIM_LAYERS)[-1]
    assert (slim.size, slim.stride) == (483, 32)


def test_resnet_trunks_by_hand():
    # torchvision ResNet-18: stem 7/2 -> 7, pool 3/2 -> 11 (jump 4); layer1 4 convs: +8 each -> 43;
    # layer2 first conv +8 -> 51 (jump 8), 3 more +16 -> 99; layer3 +16, then 3 x 32 -> 211;
    # layer4 +32, then 3 x 64 -> 435
    assert receptive_field(RESNET18_LAYERS)[-1].size == 435
    # ResNet-50 (v1.5): 11 + 3*8 = 35; +8 + 3*16 = 91; +16 + 5*32 = 267; +32 + 2*64 = 427
    assert receptive_field(RESNET50_LAYERS)[-1].size == 427
    assert len(RESNET50_LAYERS) == 2 + 3 * 16
    assert receptive_field(SIMPLE_CNN_LAYERS)[-1].size == 3 + 1 + 4 + 2 + 8 + 4 + 16


# -- torch modules ------------------------------------------------------------------------------
def _pool(kind, k, s, p, d, ceil, count_include_pad):
    if kind == "max":
        return nn.MaxPool2d(k, s, p, d, ceil_mode=ceil)
    return nn.AvgPool2d(k, s, p, ceil_mode=ceil, count_include_pad=count_include_pad)


@st.composite
def stacks(draw, max_layers=4):
    """A random chain of convolutions and pools: (module, layer tuples, input size)."""
    mods, layers = [], []
    for _ in range(draw(st.integers(1, max_layers))):
        kind = draw(st.sampled_from(["conv", "conv", "max", "avg"]))
        k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
        s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        d = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if kind != "avg" else (1, 1)
        if kind == "conv":
            p = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
            mods.append(nn.Conv2d(1, 1, k, s, p, d))
        else:
            p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
            ceil, cip = draw(st.booleans()), draw(st.booleans())
            mods.append(_pool(kind, k, s, p, d, ceil, cip))
        layers.append((k, s, p, d))
    size = (draw(st.integers(1, 72)), draw(st.integers(1, 72)))
    module = nn.Sequential(*mods)
    try:
        out = module(torch.zeros(1, 1, *size))
    except RuntimeError:  # an output smaller than 1
        out = None
    assume(out is not None and out.numel() > 0)
    return module, layers, size, tuple(out.shape[-2:])


def _assert_matches_empirical(field, module, size, unit, dense, channels=1):
    """The gradient support's box lies in the clipped window (which lies in the formula's) and
    reaches every window end that is inside the input; without holes (dense) it fills the
    clipped window. A window clipped to nothing has no gradient."""
    rows, cols, support = empirical_field(module, (channels, *size), unit)
    windows = field.window(unit, size)
    for w in windows:
        assert w.clipped_start is None or w.start <= w.clipped_start <= w.clipped_end <= w.end
    if any(w.clipped_start is None for w in windows):
        assert rows is None
    if rows is None:  # no gradient: the window lies in the padding, or its taps miss the input
        assert not dense or any(w.clipped_start is None for w in windows)
        return
    for w, (lo, hi), n in zip(windows, (rows, cols), size, strict=True):
        assert w.clipped_start <= lo <= hi <= w.clipped_end
        if w.start >= 0:
            assert lo == w.start
        if w.end <= n - 1:
            assert hi == w.end
        if dense:
            assert (lo, hi) == (w.clipped_start, w.clipped_end)
    if dense:
        wr, wc = field.window(unit, size)
        box = support[wr.clipped_start : wr.clipped_end + 1, wc.clipped_start : wc.clipped_end + 1]
        assert box.all() and support.sum() == box.size


@given(stacks(), st.data())
def test_formula_module_walk_and_gradient_support_agree(stack, data):
    module, layers, size, out_size = stack
    f = receptive_field(layers)[-1]
    g = receptive_field_of(module, (1, *size))
    assert g.size == f.size and g.stride == f.stride and g.padding == f.padding
    unit = (data.draw(st.integers(0, out_size[0] - 1)), data.draw(st.integers(0, out_size[1] - 1)))
    dense = all(d == (1, 1) and k[0] >= s[0] and k[1] >= s[1] for k, s, _, d in layers)
    _assert_matches_empirical(g, module, size, unit, dense)


@st.composite
def truncating_stacks(draw):
    """Dense strided stacks (d = 1, k >= s) on inputs whose sizes some stride does not fit, so
    that a layer drops the last pixels of the one below: (module, layers, size, out, ceil)."""
    mods, layers, ceil_any = [], [], False
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "max", "avg"]))
        s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        k = (draw(st.integers(s[0], 5)), draw(st.integers(s[1], 5)))
        if kind == "conv":
            p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
            mods.append(nn.Conv2d(1, 1, k, s, p))
        else:
            p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
            ceil = draw(st.booleans())
            ceil_any |= ceil
            mods.append(_pool(kind, k, s, p, 1, ceil, draw(st.booleans())))
        layers.append((k, s, p))
    size = (draw(st.integers(1, 40)), draw(st.integers(1, 40)))
    module = nn.Sequential(*mods)
    x, truncated = torch.zeros(1, 1, *size), False
    for m, (k, s, p) in zip(module, layers, strict=True):
        n = x.shape[-2:]
        truncated |= any((n[j] + 2 * p[j] - k[j]) % s[j] != 0 for j in range(2))
        try:
            x = m(x)
        except RuntimeError:  # an output smaller than 1
            x = None
        assume(x is not None and x.numel() > 0)
    assume(truncated)
    return module, layers, size, tuple(x.shape[-2:]), ceil_any


@given(truncating_stacks(), st.data())
def test_clipped_window_is_the_gradient_box_when_strides_truncate(stack, data):
    module, layers, size, out, ceil = stack
    g = receptive_field_of(module, (1, *size))
    last = (out[0] - 1, out[1] - 1)  # the units by the right and bottom borders
    some = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    for unit in {last, some, (0, out[1] - 1)}:
        _assert_matches_empirical(g, module, size, unit, dense=True)
        if not ceil:  # the layer list gives the same windows (it knows no ceil mode)
            assert receptive_field(layers)[-1].window(unit, size) == g.window(unit)


@pytest.mark.parametrize(("n_in", "n_out"), [(7, 4), (11, 4), (5, 3), (12, 5), (9, 9)])
def test_adaptive_pooling_windows(n_in, n_out):
    # torch's window i: floor(i n / m) .. ceil((i + 1) n / m) - 1, by hand for 7 -> 4:
    # 0..1, 1..3, 3..5, 5..6; the formula's (start, end) is a bound with jump 7 // 4 = 1
    net = nn.Sequential(nn.Conv2d(1, 1, 3, 1, 1), nn.AdaptiveAvgPool2d((n_out, 1)))
    g = receptive_field_of(net, (1, n_in, 1))
    for i in range(n_out):
        (r0, r1), _, _ = empirical_field(net, (1, n_in, 1), (i, 0))
        w = g.window((i, 0))[0]
        lo, hi = i * n_in // n_out, -(-(i + 1) * n_in // n_out) - 1
        assert (r0, r1) == (max(lo - 1, 0), min(hi + 1, n_in - 1))  # the conv adds 1 each side
        assert (w.clipped_start, w.clipped_end) == (r0, r1)
        assert w.start <= r0 and r1 <= w.end


@pytest.mark.parametrize("pooled", [(1, 4), (3, 1)])  # even windows: exact ends
def test_adaptive_pooling_to_one_along_one_axis_is_not_global(pooled):
    net = nn.Sequential(nn.Conv2d(1, 1, 3, 1, 1), nn.AdaptiveAvgPool2d(pooled))
    size = (9, 8)
    g = receptive_field_of(net, (1, *size))
    assert not g.is_global
    for unit in np.ndindex(*pooled):
        _assert_matches_empirical(g, net, size, unit, dense=True)
    rows, cols = g.window((0, 0))
    whole = rows if pooled[0] == 1 else cols  # the pooled axis: the whole input
    assert (whole.clipped_start, whole.clipped_end) == (0, size[0 if pooled[0] == 1 else 1] - 1)
    assert not receptive_field_of(net[:1], (1, *size)).is_global
    assert receptive_field_of(nn.AdaptiveAvgPool2d(1), (1, *size)).is_global


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_reflect_and_replicate_padding_leave_the_clipped_windows_exact(mode):
    """The copied border pixels lie inside each window while p <= (k - 1) / 2."""
    net = nn.Sequential(
        nn.Conv2d(1, 1, 3, 1, 1, padding_mode=mode),
        nn.Conv2d(1, 1, 5, 2, 2, padding_mode=mode),
        nn.Conv2d(1, 1, 3, 1, 1, padding_mode=mode),
    )
    size = (12, 10)
    g = receptive_field_of(net, (1, *size))
    for unit in np.ndindex(6, 5):
        rows, cols, _ = empirical_field(net, (1, *size), unit)
        windows = g.window(unit)
        assert (rows, cols) == tuple((w.clipped_start, w.clipped_end) for w in windows), unit


@given(stacks(max_layers=3))
def test_a_unit_inside_a_large_input_sees_the_whole_field(stack):
    module, layers, _, _ = stack
    f = receptive_field(layers)[-1]
    # the first unit whose field starts inside the input (u S >= P), on an input that holds it
    unit = tuple(-(-f.padding[j] // f.stride[j]) for j in range(2))
    size = tuple(unit[j] * f.stride[j] + f.size[j] + f.stride[j] + f.padding[j] for j in range(2))
    (r0, r1), (c0, c1), _ = empirical_field(module, (1, *size), unit)
    assert (r1 - r0 + 1, c1 - c0 + 1) == f.size
    assert (r0, c0) == tuple(unit[j] * f.stride[j] - f.padding[j] for j in range(2))


class _Block(nn.Module):
    """Two branches of convolutions with asymmetric zero padding, joined by a sum or a concat."""

    def __init__(self, branches, join):
        super().__init__()
        self.branches = nn.ModuleList(nn.Sequential(*b) for b in branches)
        self.join = join

    def forward(self, x):
        outs = [b(x) for b in self.branches]
        if self.join == "add":
            out = outs[0]
            for o in outs[1:]:
                out += o  # in place, as torchvision's blocks do
            return torch.relu(out)
        return torch.cat(outs, 1)


@st.composite
def branch(draw, strides):
    mods, layers = [], []
    for s in strides:
        k, d = draw(st.integers(1, 4)), draw(st.integers(1, 2))
        total = d * (k - 1)
        top, left = draw(st.integers(0, total)), draw(st.integers(0, total))
        mods += [nn.ZeroPad2d((left, total - left, top, total - top)), nn.Conv2d(1, 1, k, s, 0, d)]
        layers.append(((top, left), k, s, d))
    return mods, layers


def _branch_field(layers):
    # by hand, one axis at a time: start of unit 0 and end of unit 0, jump
    out = []
    for axis in range(2):
        start, end, jump = 0, 0, 1
        for pads, k, s, d in layers:
            start -= pads[axis] * jump
            end += (d * (k - 1) - pads[axis]) * jump
            jump *= s
        out.append((start, end, jump))
    return out


@given(st.lists(st.integers(1, 2), min_size=1, max_size=2), st.data())
def test_branches_take_the_union_of_fields(strides, data):
    n_branches = data.draw(st.integers(2, 3))
    drawn = [data.draw(branch(strides)) for _ in range(n_branches)]
    join = data.draw(st.sampled_from(["add", "cat"]))
    module = nn.Sequential(_Block([m for m, _ in drawn], join), nn.Conv2d(n_branches, 1, 1))
    if join == "add":
        module[1] = nn.Conv2d(1, 1, 1)
    size = (data.draw(st.integers(4, 40)), data.draw(st.integers(4, 40)))
    g = receptive_field_of(module, (1, *size))
    for axis in range(2):
        ends = [_branch_field(layers)[axis] for _, layers in drawn]
        start, end = min(e[0] for e in ends), max(e[1] for e in ends)
        assert g.size[axis] == end - start + 1 and g.padding[axis] == -start
        assert g.stride[axis] == math.prod(strides)
    out = module(torch.zeros(1, 1, *size)).shape[-2:]
    unit = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    _assert_matches_empirical(g, module, size, unit, dense=False)
    # each branch clipped layer by layer, then joined: the gradient box when no branch has holes
    if all(d == 1 and k >= s for _, layers in drawn for _, k, s, d in layers):
        rows, cols, _ = empirical_field(module, (1, *size), unit)
        windows = g.window(unit)
        assert (rows, cols) == tuple((w.clipped_start, w.clipped_end) for w in windows)


class BasicBlock(nn.Module):
    """torchvision's ResNet basic block: 3x3 (stride s), 3x3, plus a 1x1 stride-s shortcut."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


def resnet18_trunk(width=4):
    layers = [nn.Conv2d(3, width, 7, 2, 3), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = width
    for stage in range(4):
        cout = width * 2**stage
        layers += [BasicBlock(cin, cout, 1 if stage == 0 else 2), BasicBlock(cout, cout, 1)]
        cin = cout
    return nn.Sequential(*layers)


def test_residual_block_matches_gradient_support():
    block = nn.Sequential(BasicBlock(2, 3, 2), BasicBlock(3, 3, 1))
    g = receptive_field_of(block, (2, 21, 21))
    # conv1 3/2: 3, conv2: 3 + 2*2 = 7 (shortcut 1x1/2 sees 1); second block: 7 + 2*2*2 = 15
    assert g.size == (15, 15) and g.stride == (2, 2) and g.padding == (7, 7)
    for unit in [(0, 0), (5, 5), (10, 3), (4, 10)]:
        _assert_matches_empirical(g, block, (21, 21), unit, dense=False, channels=2)


def test_resnet18_module_walk_matches_the_layer_list():
    trunk = resnet18_trunk()
    g = receptive_field_of(trunk, (3, 224, 224))
    f = receptive_field(RESNET18_LAYERS)[-1]
    assert g.size == (435, 435) == (f.size, f.size)
    assert g.stride == (32, 32) and g.padding == (f.padding, f.padding)
    rows = {r.name: r for r in receptive_field_of(trunk, (3, 224, 224), per_layer=True)}
    assert rows["4.conv1"].size == (11 + 8, 11 + 8)
    assert "4.downsample" not in rows  # stage 1 keeps its width and stride: no shortcut conv
    # stem 7/2 then pool 3/2: 7 + 2*2 = 11 at stride 4; blocks 4 and 5 add four 3x3 convs at
    # stride 4: 11 + 4*2*4 = 43; stage 2's shortcut (1x1, stride 2) sees that field, at stride 8
    assert rows["5"].size == (43, 43) and rows["5"].stride == (4, 4)
    assert rows["6.downsample"].size == (43, 43) and rows["6.downsample"].stride == (8, 8)
    assert rows["6.conv1"].size == (43 + 8, 43 + 8)
    assert rows["11"].size == (435, 435)


def test_vgg16_features_module_matches_published():
    mods, cin = [], 3
    for n, cout in zip([2, 2, 3, 3, 3], [4, 8, 8, 8, 8], strict=True):
        for _ in range(n):
            mods += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
            cin = cout
        mods.append(nn.MaxPool2d(2, 2))
    g = receptive_field_of(nn.Sequential(*mods), (3, 224, 224))
    assert (g.size, g.stride, g.padding) == ((212, 212), (32, 32), (90, 90))


class ConvBlock(nn.Module):  # the seed's SimpleCNN block
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


def test_simple_cnn_global_pooling_sees_everything():
    features = nn.Sequential(
        *[ConvBlock(3, 4), nn.MaxPool2d(2), ConvBlock(4, 4), nn.MaxPool2d(2)],
        *[ConvBlock(4, 4), nn.MaxPool2d(2), ConvBlock(4, 4), nn.AdaptiveAvgPool2d(1)],
    )
    before = receptive_field_of(features[:-1], (3, 32, 32))
    assert before.size == (38, 38) and before.stride == (8, 8) and not before.is_global
    g = receptive_field_of(features, (3, 32, 32))
    assert g.is_global and g.size == (32, 32)
    w = g.window((0, 0))
    assert (w[0].clipped_start, w[0].clipped_end) == (0, 31)
    (r0, r1), (c0, c1), _ = empirical_field(features, (3, 32, 32))
    assert (r0, r1, c0, c1) == (0, 31, 0, 31)
    model = nn.Sequential(features, nn.Flatten(), nn.Linear(4, 10))
    assert receptive_field_of(model, (3, 32, 32)).is_global
    bn_before = features[0].bn.running_mean.clone()
    receptive_field_of(features.train(), (3, 32, 32))
    assert torch.equal(features[0].bn.running_mean, bn_before)  # the walk changes nothing


def test_per_layer_rows_are_named_by_module_path():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3))
    rows = receptive_field_of(net, (1, 16, 16), per_layer=True)
    assert [r.name for r in rows] == ["0", "1", "2", "3"]
    sizes = [f.size for f in receptive_field([3, (2, 2), 3])]
    assert [r.size[0] for r in rows] == [sizes[0], sizes[0], sizes[1], sizes[2]] == [3, 3, 4, 8]


def test_padding_modes_and_same_padding():
    net = nn.Sequential(
        nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"), nn.Conv2d(1, 1, 4, padding="same")
    )
    g = receptive_field_of(net, (1, 12, 12))
    # torch's "same" for k = 4 pads 1 before, 2 after
    assert g.size == (6, 6) and g.padding == (2, 2)
    _assert_matches_empirical(g, net, (12, 12), (5, 5), dense=True)  # inner: no reflection


def test_max_pool_window_sum_covers_the_window():
    # the empirical twin replaces a max pool by a window sum: every maximum lies in its support
    torch.manual_seed(0)
    pool = nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True)
    x = torch.rand(1, 1, 13, 11, dtype=torch.float64)
    twin = positive_copy(nn.Sequential(pool))
    y = pool(x)
    assert twin(x).shape == y.shape
    for r in range(y.shape[-2]):
        for c in range(y.shape[-1]):
            xr = x.clone().requires_grad_(True)
            twin(xr)[0, 0, r, c].backward()
            assert y[0, 0, r, c] == x[0, 0][xr.grad[0, 0] > 0].max()


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("layers", "error", "match"),
    [
        ([], ValueError, "layers must hold at least one"),
        ("33", TypeError, "layers must be a sequence"),
        ([(3, 0)], ValueError, r"layers\[0\] stride must be a positive integer"),
        ([(3, 1), (0, 1)], ValueError, r"layers\[1\] kernel_size must be a positive"),
        ([(3, 1, -1)], ValueError, r"layers\[0\] padding must be a non-negative"),
        ([(3, 1, 0, 0)], ValueError, r"layers\[0\] dilation must be a positive"),
        ([(3, 1.5)], TypeError, r"layers\[0\] stride must be an integer"),
        ([(3, 1, 0, 1, 9)], ValueError, r"layers\[0\] must be a tuple"),
    ],
)
def test_bad_layers_name_the_argument(layers, error, match):
    with pytest.raises(error, match=match):
        receptive_field(layers)


def test_bad_module_arguments_name_the_argument():
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        receptive_field_of([(3, 1)], (1, 8, 8))
    with pytest.raises(ValueError, match="input_size must be"):
        receptive_field_of(nn.Conv2d(1, 1, 3), (8, 8))
    with pytest.raises(ValueError, match=r"input_size\[1\] must be a positive"):
        receptive_field_of(nn.Conv2d(1, 1, 3), (1, 0, 8))
    with pytest.raises(ValueError, match="unit must be a non-negative"):
        receptive_field([(3, 1)])[0].window(-1)
    up = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Upsample(scale_factor=2))
    with pytest.raises(ValueError, match="cannot follow"):
        receptive_field_of(up, (1, 8, 8))
    rows = receptive_field_of(up, (1, 8, 8), per_layer=True)
    assert rows[0].size == (3, 3) and rows[1].size is None and "cannot follow" in rows[1].note


# -- effective receptive field ------------------------------------------------------------------
@pytest.mark.parametrize("depth", [1, 2, 5, 8])
def test_uniform_erf_is_the_repeated_box_filter(depth):
    net = conv_stack([(3, 1, 1)] * depth).double()
    size = 2 * depth + 5
    erf = effective_receptive_field(net, torch.rand(2, 1, size, size, dtype=torch.float64))
    ref = np.ones((1, 1))
    for _ in range(depth):
        ref = convolve2d(ref, np.ones((3, 3)))
    ref /= ref.sum()
    c = size // 2
    assert np.allclose(erf[c - depth : c + depth + 1, c - depth : c + depth + 1], ref)
    m = erf_moments(erf)
    # a sum of `depth` independent uniforms on {-1, 0, 1}: variance 2/3, excess kurtosis -1.5/depth
    assert np.allclose(m.std, math.sqrt(2 * depth / 3))
    assert np.allclose(m.kurtosis, -1.5 / depth)
    assert np.allclose(m.mean, c)


def test_erf_moments_of_a_box():
    box = np.zeros((9, 9))
    box[2:7, 1:4] = 1  # 5 rows (variance (25 - 1)/12 = 2), 3 columns (variance 2/3)
    m = erf_moments(box)
    assert np.allclose(m.std, (math.sqrt(2), math.sqrt(2 / 3)))
    assert np.allclose(m.mean, (4, 2))
    # discrete uniform on n values: excess kurtosis -6 (n^2 + 1) / (5 (n^2 - 1))
    assert np.allclose(m.kurtosis, (-6 * 26 / (5 * 24), -6 * 10 / (5 * 8)))
    with pytest.raises(ValueError, match="erf must be"):
        erf_moments(np.zeros((3, 3)))


def test_erf_support_is_the_theoretical_field_for_random_weights():
    net = conv_stack([(3, 1, 1)] * 4, channels=3, init="normal", seed=1).double()
    erf = effective_receptive_field(net, torch.rand(3, 3, 15, 15, dtype=torch.float64))
    rows, cols = np.nonzero(erf)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (3, 11, 3, 11)  # 7 -/+ 4
    assert np.isclose(erf.sum(), 1)


def test_conv_stack_checks_arguments():
    with pytest.raises(ValueError, match="init must be one of"):
        conv_stack([(3, 1)], init="zeros")
    with pytest.raises(ValueError, match="channels must be a positive"):
        conv_stack([(3, 1)], channels=0)
    net = conv_stack([(3, 1, 1)] * 3, activation="relu")
    assert sum(isinstance(m, nn.ReLU) for m in net) == 2


def test_training_towards_a_box_widens_and_flattens_the_erf():
    net = conv_stack([(3, 1, 1)] * 4, init="uniform")  # starts as a 9 x 9 binomial-like blur
    x = torch.rand(8, 1, 21, 21)
    before = erf_moments(effective_receptive_field(net, x))
    assert np.allclose(before.std, math.sqrt(4 * 2 / 3))
    losses = train_box_average(net, 9, steps=100, lr=1e-2)
    after = erf_moments(effective_receptive_field(net, x))
    assert np.mean(losses[-20:]) < 0.8 * np.mean(losses[:5])
    # a 9 x 9 box: std sqrt(80 / 12) = 2.58, excess kurtosis -1.23; training moves towards it
    assert min(after.std) > max(before.std) + 0.1
    assert max(after.kurtosis) < min(before.kurtosis) - 0.03


def test_train_box_average_rejects_an_even_box_and_a_shrinking_module():
    with pytest.raises(ValueError, match="box must be odd"):
        train_box_average(nn.Conv2d(1, 1, 3, padding=1), 8, steps=1)
    with pytest.raises(ValueError, match="keep the input's size"):
        train_box_average(nn.Conv2d(1, 1, 3), 9, steps=1)


def test_cnnlib_architectures_trunks():
    from cnnlib import architectures

    for build, layers in [
        (architectures.alexnet, ALEXNET_LAYERS),
        (architectures.resnet18, RESNET18_LAYERS),
    ]:
        g = receptive_field_of(architectures.trunk(build()), (3, 224, 224))
        f = receptive_field(layers)[-1]
        assert g.size == (f.size, f.size) and g.stride == (32, 32)
        assert g.padding == (f.padding, f.padding)
    # squeeze-and-excitation gates pool the whole image: every unit sees everything
    g = receptive_field_of(architectures.trunk(architectures.efficientnet_b0()), (3, 64, 64))
    assert g.is_global


# -- unit_windows: the walk down from one unit, against hand examples and torch autograd ----------
def test_unit_windows_hand_examples():
    # 3x3 conv (padding 1) then 2x2 pool on 8 pixels: 8 -> 8 -> 4 units
    w = unit_windows([(3, 1, 1), (2, 2)], 1, 8)
    assert w.sizes == (8, 8, 4)
    assert w.windows == ((1, 4), (2, 3), (1, 1))
    assert [r.tolist() for r in w.reads] == [[1, 2, 3, 4], [2, 3], [1]]
    # at the border: unit 0 of two padded 3x3 convs reaches two padding cells on the input
    w = unit_windows([(3, 1, 1)] * 2, 0, 5)
    assert w.windows == ((-2, 2), (-1, 1), (0, 0))
    assert [r.tolist() for r in w.reads] == [[0, 1, 2], [0, 1], [0]]
    assert [t.tolist() for t in w.taps] == [[-2, -1, 0, 1, 2], [-1, 0, 1], [0]]
    # a dilated kernel leaves gaps: taps 0, 2, 4
    assert unit_windows([(3, 1, 0, 2)], 0, 9).reads[0].tolist() == [0, 2, 4]


def test_unit_windows_agree_with_autograd_and_receptive_field():
    rng = np.random.default_rng(0)
    checked = 0
    while checked < 40:
        layers = []
        for _ in range(rng.integers(1, 5)):
            k, s, d = (int(v) for v in rng.integers(1, [5, 4, 4]))
            layers.append((k, s, int(rng.integers(0, d * (k - 1) // 2 + 1)), d))
        n = int(rng.integers(6, 40))
        net = nn.Sequential(*(nn.Conv1d(1, 1, k, s, p, d, bias=False) for k, s, p, d in layers))
        for m in net:
            nn.init.ones_(m.weight)
        x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
        acts = [x]
        try:
            for m in net.double():
                acts.append(m(acts[-1]))
        except RuntimeError:  # torch refuses the stack: so does unit_windows
            with pytest.raises(ValueError, match="larger than the padded input"):
                unit_windows(layers, 0, n)
            continue
        unit = int(rng.integers(acts[-1].shape[-1]))
        w = unit_windows(layers, unit, n)
        assert w.sizes == tuple(a.shape[-1] for a in acts)
        grads = torch.autograd.grad(acts[-1][0, 0, unit], acts[:-1])
        for level, g in enumerate(grads):
            assert w.reads[level].tolist() == np.flatnonzero(g[0, 0].numpy()).tolist(), level
        field = receptive_field(layers)[-1].window(unit)
        assert w.windows[0] == (field.start, field.end)
        checked += 1


@pytest.mark.parametrize(
    "args, error, words",
    [
        (([(3, 1)], 5, 5), ValueError, "unit must be below the top layer's size 3"),
        (([(9, 1)], 0, 5), ValueError, r"layers\[0\]: kernel_size 9 is larger"),
        (([((3, 3), 1)], 0, 5), TypeError, "works along one axis"),
        (([], 0, 5), ValueError, "at least one layer"),
        (([(3, 1)], 0, 0), ValueError, "n_in must be a positive integer"),
    ],
)
def test_unit_windows_bad_input_names_the_argument(args, error, words):
    with pytest.raises(error, match=words):
        unit_windows(*args)


# ------------------------------------------------- found by mutation testing (make mutation)
@pytest.mark.parametrize(
    "call, error, name",
    [
        (
            lambda: receptive_field_of(nn.Conv2d(1, 1, 3), (1, 8, 8), per_layer=1),
            TypeError,
            "per_layer",
        ),
        (lambda: train_box_average(nn.Conv2d(1, 1, 3, padding=1), 3, steps=0), ValueError, "steps"),
        (lambda: train_box_average(nn.Conv2d(1, 1, 3, padding=1), 3, size=0), ValueError, "size"),
        (lambda: unit_windows([(3, 1, 0, 1)], -1, 8), ValueError, "unit"),
        (lambda: unit_windows([(3, 1, 0, 1)], 6, 8), ValueError, "unit"),  # units 0 .. 5
        (lambda: empirical_field(nn.Conv2d(1, 1, 3), (1, 8, 8), (-1, 0)), ValueError, "unit"),
        (
            lambda: effective_receptive_field(nn.Conv2d(1, 1, 3), torch.ones(1, 1, 8, 8), (0, -1)),
            ValueError,
            "unit",
        ),
        (lambda: receptive_field([(3, 1, 0)])[-1].window(-1), ValueError, "unit"),
        (lambda: receptive_field([(3, 1, 0)])[-1].window(0, 0), ValueError, "input_size"),
    ],
)
def test_each_bad_argument_is_named(call, error, name):
    with pytest.raises(error, match=rf"^{name}\b"):
        call()


def test_the_last_unit_is_allowed():
    walk = unit_windows([(3, 1, 0, 1)], 5, 8)  # 8 - 3 + 1 = 6 units: 0 .. 5
    assert walk.windows[0] == (5, 7)


def test_receptive_field_of_budgets_a_real_run():
    """A module with no meta kernel (here ``.item()``) runs on real zeros, budgeted at 8 float32
    copies of the input: (1, 3, 32, 32) -> 8 * 3,072 * 4 = 98,304 bytes."""
    from cnnlib._validate import memory_budget

    class NoMeta(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 1, 3)

        def forward(self, x):
            return self.conv(x) * (1 + 0 * x.sum().item())

    conv = NoMeta()
    with memory_budget(98_304):
        assert receptive_field_of(conv, (1, 3, 32, 32)).size == (3, 3)
    with (
        memory_budget(98_303),
        pytest.raises(ValueError, match=r"^input_size \(1, 3, 32, 32\) makes a real run need"),
    ):
        receptive_field_of(conv, (1, 3, 32, 32))


def test_a_window_clipped_to_one_pixel_is_kept():
    """3x3, padding 1 on a 1-pixel input: unit 0 sees -1 .. 1, of which only pixel 0 exists."""
    w = receptive_field([(3, 1, 1)])[-1].window(0, 1)
    assert (w.start, w.end, w.clipped_start, w.clipped_end) == (-1, 1, 0, 0)


def test_erf_of_one_pixel_has_no_kurtosis():
    """A point mass has variance 0: its excess kurtosis is undefined (NaN), its std 0."""
    erf = np.zeros((5, 5))
    erf[2, 3] = 1.0
    m = erf_moments(erf)
    assert m.mean == (2.0, 3.0) and m.std == (0.0, 0.0)
    assert all(math.isnan(k) for k in m.kurtosis)


def test_empirical_field_defaults_to_the_centre_unit():
    """On a 9x9 input a 3x3 conv has 7x7 units; the centre is (3, 3), which sees 3 .. 5."""
    rows, cols, _ = empirical_field(nn.Conv2d(1, 1, 3), (1, 9, 9))
    assert rows == (3, 5) and cols == (3, 5)
    rows, cols, _ = empirical_field(nn.Conv2d(1, 1, 3), (1, 9, 5))  # 7x3 units: centre (3, 1)
    assert rows == (3, 5) and cols == (1, 3)


def test_conv_stack_normal_init_is_he():
    """He initialisation: std sqrt(2 / fan_in), 2,304 weights of fan_in 16 * 9 = 144."""
    stack = conv_stack([(3, 1, 1, 1)], channels=16, init="normal")
    w = stack[0].weight.detach()
    assert float(w.std()) == pytest.approx(math.sqrt(2 / 144), rel=0.05)
    assert abs(float(w.mean())) < 0.01


def test_positive_copy_weights_are_in_half_to_one_and_a_half():
    twin = positive_copy(nn.Sequential(nn.Conv2d(2, 4, 3), nn.Linear(4, 4)))
    for w in (twin[0].weight.detach(), twin[1].weight.detach()):
        assert 0.5 <= float(w.min()) and float(w.max()) <= 1.5


def test_functional_calls_with_torch_defaults_by_hand():
    """F.conv2d called with its defaults (stride 1, padding 0, dilation 1), then a 5x5 'same'
    conv (padding 2 each side): r = 3 + 4 = 7, jump 1, P = 0 + 2 = 2."""

    class Functional(nn.Module):
        def forward(self, x):
            y = F.conv2d(x, torch.ones(1, 1, 3, 3))
            return F.conv2d(y, torch.ones(1, 1, 5, 5), padding="same")

    f = receptive_field_of(Functional(), (1, 16, 16))
    assert (f.size, f.jump, f.padding) == ((7, 7), (1, 1), (2, 2))
    w = f.window((0, 0))
    assert (w[0].start, w[0].end) == (-2, 4)
