"""Famous convolutional networks, built from scratch in torch, one small class per named block.

Every model follows its reference layout (the 1998 paper for LeNet-5, torchvision for the
rest), so its parameter count is the published one:

=====================  ===========  ================================================
model                  parameters   reference
=====================  ===========  ================================================
``lenet5()``               60,000   LeCun et al. 1998 (C1 156, S2 12, C3 1,516, ...)
``alexnet()``          61,100,840   torchvision ``alexnet``
``vgg16()``           138,357,544   torchvision ``vgg16`` (``vgg16_bn``: 138,365,992)
``resnet18()``         11,689,512   torchvision ``resnet18``
``resnet50()``         25,557,032   torchvision ``resnet50``
``mobilenet_v2()``      3,504,872   torchvision ``mobilenet_v2``
``efficientnet_b0()``   5,288,548   torchvision ``efficientnet_b0``
``vit_b_16()``         86,567,656   torchvision ``vit_b_16``
=====================  ===========  ================================================

Weights are random (no downloads): the models are for counting, inspecting and training.

Every builder estimates its memory before it allocates, from the closed-form parameter count
``P`` of its layers (``k^2 C_in C_out / groups + C_out`` per convolution, ``(n_in + 1) n_out``
per linear map, ``2 C`` per batch norm): ``4 P`` bytes plus about 4 KiB per module for the
Python objects, and refuses sizes past cnnlib's memory budget with a ``ValueError`` naming the
argument that makes the model large (``cnnlib.set_memory_budget`` changes the budget).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from cnnlib._validate import (
    check_bool,
    check_choice,
    check_int,
    check_memory,
    check_pair,
    check_real,
    get_memory_budget,
)

__all__ = [
    "ConvBlock",
    "DepthwiseSeparableConv",
    "SimpleCNN",
    "simple_cnn",
    "ShapesCNN",
    "shapes_cnn",
    "mlp",
    "StackBlock",
    "he_init_",
    "deep_stack",
    "ScaledTanh",
    "Subsampling",
    "PartialConv2d",
    "RBFOutput",
    "LENET5_C3_TABLE",
    "lenet5",
    "ImageClassifier",
    "AlexNet",
    "alexnet",
    "VGG",
    "VGG16_CONFIG",
    "vgg16",
    "vgg16_bn",
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "resnet18",
    "resnet50",
    "InvertedResidual",
    "MobileNetV2",
    "mobilenet_v2",
    "SqueezeExcitation",
    "MBConv",
    "EfficientNet",
    "efficientnet_b0",
    "SelfAttention",
    "EncoderBlock",
    "PatchEmbedding",
    "ClassToken",
    "VisionTransformer",
    "vit_b_16",
    "MODELS",
    "layer_sequence",
    "trunk",
    "depth",
    "plot_patches",
]


def _check_positive_ints(name: str, values: Sequence[int]) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise TypeError(f"{name} must be a non-empty sequence of positive integers, got {values!r}")
    return tuple(check_int(f"{name}[{i}]", v, 1) for i, v in enumerate(values))


def _check_probability(name: str, value: object, closed: bool = True) -> float:
    """A dropout-like probability: a real number in ``[0, 1]`` (``[0, 1)`` unless ``closed``)."""
    p = check_real(name, value)
    if not (0 <= p <= 1 if closed else 0 <= p < 1):
        raise ValueError(f"{name} must be in [0, {'1]' if closed else '1)'}, got {value!r}")
    return p


# --------------------------------------------------------------------------------------------
# Parameter counts in closed form, to refuse a model past the memory budget before building it
# --------------------------------------------------------------------------------------------
#: a torch module's Python objects with its tensors' headers (measured: 3-5 KiB per layer), so
#: that a million tiny layers is refused as well as one huge one
MODULE_BYTES = 4096


def _conv_params(
    c_in: int, c_out: int, k: int | tuple[int, int], bias: bool = True, groups: int = 1
) -> int:
    """``C_out (C_in / groups) k_h k_w`` weights, plus ``C_out`` biases."""
    kh, kw = (k, k) if isinstance(k, int) else k
    return c_out * (c_in // groups) * kh * kw + (c_out if bias else 0)


def _linear_params(n_in: int, n_out: int) -> int:
    """``n_in n_out`` weights plus ``n_out`` biases."""
    return (n_in + 1) * n_out


def _check_model_memory(
    size_of: Callable[..., tuple[int, int]], defaults: dict[str, object], **sizes: object
) -> None:
    """Refuse a model whose ``4 P + MODULE_BYTES M`` bytes exceed the memory budget, where
    ``(P, M) = size_of(**sizes)`` are its parameter (and float buffer) count and module count.

    The error names the argument whose reset to its default (in ``defaults``) shrinks the
    model most; when every size is at its default, the one whose reset to 1 (or ``(1,)``) does.
    """
    budget = get_memory_budget()

    def nbytes(**s: object) -> float:
        params, modules = size_of(**s)
        return 4.0 * params + MODULE_BYTES * modules

    total = nbytes(**sizes)
    if budget is None or total <= budget:
        return

    def shrinks(name: str) -> tuple[float, float]:
        unit = (1,) * len(sizes[name]) if isinstance(sizes[name], tuple) else 1
        default = defaults.get(name, unit)
        return total - nbytes(**{**sizes, name: default}), total - nbytes(**{**sizes, name: unit})

    culprit = max(sizes, key=shrinks)
    check_memory(f"{culprit}={sizes[culprit]!r}", total, "the model's parameters")


def _plain_cnn_size(in_channels: int, num_classes: int, widths: tuple[int, ...]) -> tuple[int, int]:
    """``SimpleCNN`` / ``ShapesCNN``: a 3x3 convolution and a batch norm per width, then a
    linear classifier."""
    params, c = 0, in_channels
    for w in widths:
        params += _conv_params(c, w, 3) + 2 * w
        c = w
    return params + _linear_params(c, num_classes), 5 * len(widths) + 3


def _shapes_cnn_size(
    in_channels: int, num_classes: int, widths: tuple[int, ...], convs_per_block: int
) -> tuple[int, int]:
    """``ShapesCNN``: ``convs_per_block`` 3x3 convolutions (no bias) and batch norms per
    width, then a linear classifier."""
    params, c = 0, in_channels
    for w in widths:
        for _ in range(convs_per_block):
            params += _conv_params(c, w, 3, bias=False) + 2 * w
            c = w
    return params + _linear_params(c, num_classes), 4 * len(widths) * convs_per_block + 3


class ImageClassifier(nn.Module):
    """A convolutional trunk ``features``, then ``avgpool``, flatten and ``classifier``.

    Subclasses fill the three parts; ``layer_sequence`` lists the steps one by one.
    """

    features: nn.Sequential
    avgpool: nn.Module
    classifier: nn.Module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    def layer_sequence(self) -> list[tuple[str, nn.Module]]:
        """The model as ``(name, module)`` steps whose composition is ``forward``."""
        steps = [(f"features.{n}", m) for n, m in self.features.named_children()]
        steps += [("avgpool", self.avgpool), ("flatten", nn.Flatten())]
        if isinstance(self.classifier, nn.Sequential):
            steps += [(f"classifier.{n}", m) for n, m in self.classifier.named_children()]
        else:
            steps.append(("classifier", self.classifier))
        return steps


# --------------------------------------------------------------------------------------------
# The course's own building blocks (the notebooks' ConvBlock and SimpleCNN)
# --------------------------------------------------------------------------------------------
class ConvBlock(nn.Module):
    """Convolution, batch normalisation, ReLU: ``y = max(0, BN(W * x + b))``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 1,
    ) -> None:
        super().__init__()
        in_channels = check_int("in_channels", in_channels, 1)
        out_channels = check_int("out_channels", out_channels, 1)
        kernel_size = check_pair("kernel_size", kernel_size, 1)
        stride, padding = check_pair("stride", stride, 1), check_pair("padding", padding, 0)
        _check_model_memory(
            lambda in_channels, out_channels, kernel_size: (
                _conv_params(in_channels, out_channels, kernel_size) + 2 * out_channels,
                4,
            ),
            {},
            in_channels=in_channels,
            out_channels=out_channels,
            kernel_size=kernel_size,
        )
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class DepthwiseSeparableConv(nn.Module):
    """A depthwise ``k x k`` convolution (one filter per channel) then a pointwise ``1 x 1`` one.

    Parameters: ``C_in k^2 + C_in C_out`` weights (plus ``C_in + C_out`` biases) instead of
    ``C_in C_out k^2`` for a standard convolution: ``k^2 C_out / (k^2 + C_out)`` times fewer.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 1,
    ) -> None:
        super().__init__()
        in_channels = check_int("in_channels", in_channels, 1)
        out_channels = check_int("out_channels", out_channels, 1)
        kernel_size = check_pair("kernel_size", kernel_size, 1)
        stride, padding = check_pair("stride", stride, 1), check_pair("padding", padding, 0)
        _check_model_memory(
            lambda in_channels, out_channels, kernel_size: (
                _conv_params(in_channels, in_channels, kernel_size, groups=in_channels)
                + _conv_params(in_channels, out_channels, 1),
                3,
            ),
            {},
            in_channels=in_channels,
            out_channels=out_channels,
            kernel_size=kernel_size,
        )
        self.depthwise = nn.Conv2d(
            in_channels,
            in_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            groups=in_channels,
        )
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class SimpleCNN(ImageClassifier):
    """The course's small CNN: ``ConvBlock``s separated by 2x2 max pooling, global average
    pooling, one linear classifier.

    ``widths`` are the channels of the blocks; the default network is ``(64, 128, 256, 512)``
    on RGB input. Each block but the last is followed by ``MaxPool2d(2)``, so an input must be at
    least ``2 ** (len(widths) - 1)`` pixels on a side.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        widths: Sequence[int] = (64, 128, 256, 512),
    ) -> None:
        super().__init__()
        in_channels = check_int("in_channels", in_channels, 1)
        num_classes = check_int("num_classes", num_classes, 1)
        widths = _check_positive_ints("widths", widths)
        _check_model_memory(
            _plain_cnn_size,
            dict(in_channels=3, num_classes=10, widths=(64, 128, 256, 512)),
            in_channels=in_channels,
            num_classes=num_classes,
            widths=widths,
        )
        layers: list[nn.Module] = []
        c = in_channels
        for i, w in enumerate(widths):
            layers.append(ConvBlock(c, w))
            layers.append(nn.MaxPool2d(2) if i < len(widths) - 1 else nn.AdaptiveAvgPool2d(1))
            c = w
        self.features = nn.Sequential(*layers[:-1])
        self.avgpool = layers[-1]
        self.classifier = nn.Linear(c, num_classes)


def simple_cnn(
    in_channels: int = 3, num_classes: int = 10, widths: Sequence[int] = (64, 128, 256, 512)
) -> SimpleCNN:
    """The course's ``SimpleCNN``; e.g. ``simple_cnn(1, 10, (16, 32, 64))`` for 8x8 digits."""
    return SimpleCNN(in_channels, num_classes, widths)


class ShapesCNN(ImageClassifier):
    """The network notebook 08 trains on ``cnnlib.data.shapes``: one block per width of
    ``convs_per_block`` times ``conv 3x3 (padding 1, no bias) -> BatchNorm -> ReLU`` (max
    pooling 2x2 after every block but the last), global average pooling, one linear layer.
    The convolutions have no bias because batch norm subtracts each channel's batch mean right
    after (a bias would cancel; its ``beta`` is the shift). The convolutions are numbered
    ``conv1, conv2, ...`` through the blocks, pools by block. With nothing between the last
    ReLU and the logits but the average and the linear map,
    ``y_c = sum_k w_ck mean_ij A_k[i, j] + b_c``: the class activation map ``sum_k w_ck A_k``
    is exact (Zhou et al. 2016).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 4,
        widths: Sequence[int] = (8, 16, 32),
        convs_per_block: int = 1,
    ) -> None:
        super().__init__()
        in_channels = check_int("in_channels", in_channels, 1)
        num_classes = check_int("num_classes", num_classes, 1)
        widths = _check_positive_ints("widths", widths)
        convs_per_block = check_int("convs_per_block", convs_per_block, 1)
        if convs_per_block > 4:
            raise ValueError(f"convs_per_block must be between 1 and 4, got {convs_per_block}")
        _check_model_memory(
            _shapes_cnn_size,
            dict(in_channels=1, num_classes=4, widths=(8, 16, 32), convs_per_block=1),
            in_channels=in_channels,
            num_classes=num_classes,
            widths=widths,
            convs_per_block=convs_per_block,
        )
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        c, k = in_channels, 0
        for i, w in enumerate(widths, start=1):
            for _ in range(convs_per_block):
                k += 1
                layers[f"conv{k}"] = nn.Conv2d(c, w, 3, padding=1, bias=False)
                layers[f"bn{k}"] = nn.BatchNorm2d(w)
                layers[f"relu{k}"] = nn.ReLU()
                c = w
            if i < len(widths):
                layers[f"pool{i}"] = nn.MaxPool2d(2)
        self.features = nn.Sequential(layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)


def shapes_cnn(
    in_channels: int = 1,
    num_classes: int = 4,
    widths: Sequence[int] = (8, 16, 32),
    convs_per_block: int = 1,
) -> ShapesCNN:
    """The ``ShapesCNN`` of notebook 08 (random weights; ``cnnlib.training.train_shapes_cnn``
    trains it)."""
    return ShapesCNN(in_channels, num_classes, widths, convs_per_block)


def mlp(
    in_features: int = 64, hidden: Sequence[int] = (256,), num_classes: int = 10
) -> nn.Sequential:
    """A multilayer perceptron on flattened images: ``Linear -> ReLU`` per hidden width, then a
    linear classifier; ``sum (n_in + 1) n_out`` parameters and no notion of neighbouring pixels."""
    in_features = check_int("in_features", in_features, 1)
    num_classes = check_int("num_classes", num_classes, 1)
    hidden = _check_positive_ints("hidden", hidden)

    def size(in_features: int, hidden: tuple[int, ...], num_classes: int) -> tuple[int, int]:
        w = (in_features, *hidden, num_classes)
        return sum(_linear_params(a, b) for a, b in zip(w, w[1:], strict=False)), 2 * len(w)

    _check_model_memory(
        size,
        dict(in_features=64, hidden=(256,), num_classes=10),
        in_features=in_features,
        hidden=hidden,
        num_classes=num_classes,
    )
    widths = (in_features, *hidden)
    layers: list[nn.Module] = [nn.Flatten()]
    for a, b in zip(widths, widths[1:], strict=False):
        layers += [nn.Linear(a, b), nn.ReLU(inplace=True)]
    layers.append(nn.Linear(widths[-1], num_classes))
    return nn.Sequential(*layers)


class StackBlock(nn.Module):
    """One layer of a deep stack: ``y = ReLU(conv3x3(x))``, or with ``skip``
    ``y = x + ReLU(conv3x3(x))`` (``F(x) + x``: the identity gives the gradient a path).

    With ``batch_norm`` the layer is ``ReLU(BN(conv3x3(x)))`` and the convolution has no bias
    (batch norm subtracts each channel's mean, so a bias before it would cancel).
    """

    def __init__(self, channels: int, skip: bool = False, batch_norm: bool = False) -> None:
        super().__init__()
        channels = check_int("channels", channels, 1)
        skip, batch_norm = check_bool("skip", skip), check_bool("batch_norm", batch_norm)
        _check_model_memory(
            lambda channels: (_conv_params(channels, channels, 3) + 2 * channels, 4),
            {},
            channels=channels,
        )
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm)
        self.bn = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
        self.skip = skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn(self.conv(x)))
        return x + y if self.skip else y


STACK_INITS = ("default", "he")


def he_init_(model: nn.Module) -> nn.Module:
    """He (Kaiming) initialisation of every convolution and linear layer, in place:
    ``w ~ N(0, 2 / fan_in)`` with ``fan_in = C_in k_h k_w / groups`` (He et al. 2015, eq. 10),
    biases zero. A ReLU halves the second moment and the factor 2 restores it, so the signal
    keeps its size through any number of conv + ReLU layers. Returns ``model``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def deep_stack(
    depth: int,
    channels: int = 16,
    skip: bool = False,
    in_channels: int = 1,
    num_classes: int = 10,
    init: str = "default",
    batch_norm: bool = False,
) -> nn.Sequential:
    """A 3x3 stem, ``depth`` ``StackBlock``s, global average pooling and a linear classifier:
    the same network with and without skip connections, to compare their gradients.

    ``init="default"`` keeps PyTorch's initialisation (``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``,
    whose variance ``1/(3 fan_in)`` shrinks the signal about 6x per conv + ReLU layer);
    ``init="he"`` applies ``he_init_``. ``batch_norm`` puts ``BatchNorm2d`` after every block's
    convolution.
    """
    depth = check_int("depth", depth, 1)
    channels = check_int("channels", channels, 1)
    skip = check_bool("skip", skip)
    in_channels = check_int("in_channels", in_channels, 1)
    num_classes = check_int("num_classes", num_classes, 1)
    init = check_choice("init", init, STACK_INITS)
    batch_norm = check_bool("batch_norm", batch_norm)

    def size(depth: int, channels: int, in_channels: int, num_classes: int) -> tuple[int, int]:
        block = _conv_params(channels, channels, 3, not batch_norm) + 2 * channels * batch_norm
        stem, head = _conv_params(in_channels, channels, 3), _linear_params(channels, num_classes)
        return stem + depth * block + head, 3 * depth + 5

    _check_model_memory(
        size,
        dict(channels=16, in_channels=1, num_classes=10),
        depth=depth,
        channels=channels,
        in_channels=in_channels,
        num_classes=num_classes,
    )
    model = nn.Sequential(
        nn.Conv2d(in_channels, channels, 3, padding=1),
        *(StackBlock(channels, skip, batch_norm) for _ in range(depth)),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, num_classes),
    )
    return he_init_(model) if init == "he" else model


# --------------------------------------------------------------------------------------------
# LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998)
# --------------------------------------------------------------------------------------------
class ScaledTanh(nn.Module):
    """LeNet-5's squashing function ``f(a) = A tanh(S a)`` with ``A = 1.7159``, ``S = 2/3``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class Subsampling(nn.Module):
    """LeNet-5's trainable subsampling: per map ``y = w * (sum of a 2x2 block) + b``.

    Two parameters per feature map (one coefficient, one bias).
    """

    def __init__(self, channels: int, kernel_size: int = 2) -> None:
        super().__init__()
        self.kernel_size = check_int("kernel_size", kernel_size, 1)
        channels = check_int("channels", channels, 1)
        _check_model_memory(lambda channels: (2 * channels, 1), {}, channels=channels)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size
        s = F.avg_pool2d(x, k) * (k * k)
        return s * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


#: LeNet-5's C3 connection table (Table I of the paper): the S2 maps each C3 map reads.
LENET5_C3_TABLE: tuple[tuple[int, ...], ...] = (
    *(tuple(sorted((j + d) % 6 for d in range(3))) for j in range(6)),
    *(tuple(sorted((j + d) % 6 for d in range(4))) for j in range(6)),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class PartialConv2d(nn.Module):
    """A convolution in which output map ``j`` reads only the input maps ``table[j]``.

    ``y_j = b_j + sum_{i in table[j]} w_{j,i} * x_i``: each output map has
    ``len(table[j]) k^2 + 1`` parameters. Output maps with the same fan-in are computed
    together by one grouped convolution over the gathered input maps.
    """

    def __init__(self, table: Sequence[Sequence[int]], kernel_size: int) -> None:
        super().__init__()
        kernel_size = check_int("kernel_size", kernel_size, 1)
        self.table = tuple(tuple(check_int("table entry", i, 0) for i in row) for row in table)
        if not self.table or any(not row for row in self.table):
            raise ValueError("table must list at least one input map for every output map")
        fan_ins = sorted({len(row) for row in self.table})
        self.convs = nn.ModuleList()
        order: list[int] = []
        for n in fan_ins:
            outs = [j for j, row in enumerate(self.table) if len(row) == n]
            gather = [i for j in outs for i in self.table[j]]
            self.register_buffer(f"gather{n}", torch.tensor(gather), persistent=False)
            self.convs.append(nn.Conv2d(n * len(outs), len(outs), kernel_size, groups=len(outs)))
            order.extend(outs)
        self.register_buffer("unsort", torch.argsort(torch.tensor(order)), persistent=False)
        self.fan_ins = tuple(fan_ins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [
            conv(x.index_select(1, getattr(self, f"gather{n}")))
            for n, conv in zip(self.fan_ins, self.convs, strict=True)
        ]
        return torch.cat(parts, 1).index_select(1, self.unsort)


class RBFOutput(nn.Module):
    """LeNet-5's output layer: ``y_i = sum_j (x_j - w_ij)^2`` (Euclidean radial basis units).

    The network predicts the class of the *smallest* penalty, so ``forward`` returns
    ``-y`` to serve as logits. The centres ``w`` are fixed, not trained: the paper chose them by
    hand (stylised 7 x 12 bitmaps of +-1), here they are random in [-1, 1]. They are a buffer,
    so they are saved in the ``state_dict`` but are not parameters (``count_params`` skips them).
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        in_features = check_int("in_features", in_features, 1)
        out_features = check_int("out_features", out_features, 1)
        _check_model_memory(
            lambda in_features, out_features: (in_features * out_features, 1),
            {},
            in_features=in_features,
            out_features=out_features,
        )
        self.register_buffer("weight", torch.empty(out_features, in_features).uniform_(-1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -((x.unsqueeze(1) - self.weight) ** 2).sum(-1)


def lenet5(modern: bool = False, num_classes: int = 10) -> nn.Sequential:
    """LeNet-5 on a ``1 x 32 x 32`` input, layers named as in the paper.

    ``modern=False`` (the 1998 network): C1 conv 6@5x5 (156 params), S2 trainable
    subsampling (12), C3 partial conv with the connection table (1,516), S4 (32), C5 conv
    120@5x5 (48,120), F6 linear 84 (10,164), scaled tanh after each, RBF output (its 84 x 10
    centres fixed, not trained): 60,000 trainable parameters, as the paper counts.
    ``modern=True``: the same widths with ReLU, max pooling, a full C3 (2,416) and a linear
    output (850), as it is usually taught today.
    """
    modern = check_bool("modern", modern)
    num_classes = check_int("num_classes", num_classes, 1)

    def size(num_classes: int) -> tuple[int, int]:
        c3 = sum(len(row) * 25 + 1 for row in LENET5_C3_TABLE)  # 1,516: the partial C3
        if modern:  # full C3, max pooling, a linear output
            c3, subsampling, output = _conv_params(6, 16, 5), 0, _linear_params(84, num_classes)
        else:  # S2 and S4: 2 per map; the RBF centres: 84 per class (a buffer)
            subsampling, output = 2 * (6 + 16), 84 * num_classes
        trunk = _conv_params(1, 6, 5) + c3 + _conv_params(16, 120, 5) + _linear_params(120, 84)
        return trunk + subsampling + output, 20

    _check_model_memory(size, {}, num_classes=num_classes)
    act = nn.ReLU if modern else ScaledTanh

    def pool(c: int) -> nn.Module:
        return nn.MaxPool2d(2) if modern else Subsampling(c)

    c3 = nn.Conv2d(6, 16, 5) if modern else PartialConv2d(LENET5_C3_TABLE, 5)
    out = nn.Linear(84, num_classes) if modern else RBFOutput(84, num_classes)
    return nn.Sequential(
        OrderedDict(
            C1=nn.Sequential(nn.Conv2d(1, 6, 5), act()),
            S2=nn.Sequential(pool(6), act()) if not modern else pool(6),
            C3=nn.Sequential(c3, act()),
            S4=nn.Sequential(pool(16), act()) if not modern else pool(16),
            C5=nn.Sequential(nn.Conv2d(16, 120, 5), act()),
            F6=nn.Sequential(nn.Flatten(), nn.Linear(120, 84), act()),
            output=out,
        )
    )


# --------------------------------------------------------------------------------------------
# AlexNet (Krizhevsky et al. 2012) and VGG (Simonyan & Zisserman 2014), torchvision layouts
# --------------------------------------------------------------------------------------------
class AlexNet(ImageClassifier):
    """Five convolutions (11x11 stride 4, 5x5, three 3x3) with ReLU and overlapping max
    pooling, then three fully connected layers with dropout."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        num_classes = check_int("num_classes", num_classes, 1)
        dropout = _check_probability("dropout", dropout)

        def size(num_classes: int) -> tuple[int, int]:
            convs = [(3, 64, 11), (64, 192, 5), (192, 384, 3), (384, 256, 3), (256, 256, 3)]
            fcs = [(256 * 6 * 6, 4096), (4096, 4096), (4096, num_classes)]
            params = sum(_conv_params(*c) for c in convs) + sum(_linear_params(*f) for f in fcs)
            return params, 22

        _check_model_memory(size, {}, num_classes=num_classes)
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(64, 192, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(192, 384, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )


#: VGG-16 (configuration "D"): channels of the 3x3 convolutions, "M" = 2x2 max pooling
VGG16_CONFIG = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    "M",
)


class VGG(ImageClassifier):
    """Stacks of 3x3 convolutions (padding 1) and 2x2 max pooling, then three fully connected
    layers: two 3x3 layers see a 5x5 window with ``2 * 3^2 = 18 < 25`` weights per channel pair."""

    def __init__(
        self,
        config: Sequence[int | str] = VGG16_CONFIG,
        batch_norm: bool = False,
        num_classes: int = 1000,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if isinstance(config, (str, bytes)) or not isinstance(config, Sequence) or not config:
            raise TypeError(
                f"config must be a non-empty sequence of widths and 'M', got {config!r}"
            )
        config = tuple(
            v if v == "M" else check_int(f"config[{i}]", v, 1) for i, v in enumerate(config)
        )
        batch_norm = check_bool("batch_norm", batch_norm)
        num_classes = check_int("num_classes", num_classes, 1)
        dropout = _check_probability("dropout", dropout)

        def size(config: tuple, num_classes: int) -> tuple[int, int]:
            params, c = 0, 3
            for w in config:
                if w != "M":
                    params += _conv_params(c, w, 3) + 2 * w * batch_norm
                    c = w
            fcs = [(c * 7 * 7, 4096), (4096, 4096), (4096, num_classes)]
            return params + sum(_linear_params(*f) for f in fcs), 3 * len(config) + 9

        _check_model_memory(
            size,
            dict(config=VGG16_CONFIG, num_classes=1000),
            config=config,
            num_classes=num_classes,
        )
        layers: list[nn.Module] = []
        c = 3
        for v in config:
            if v == "M":
                layers.append(nn.MaxPool2d(2, stride=2))
                continue
            layers.append(nn.Conv2d(c, int(v), 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(v)))
            layers.append(nn.ReLU(inplace=True))
            c = int(v)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        self.classifier = nn.Sequential(
            nn.Linear(c * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )


def alexnet(num_classes: int = 1000) -> AlexNet:
    """AlexNet, torchvision layout: 61,100,840 parameters, 0.71 GMACs at 224x224."""
    return AlexNet(check_int("num_classes", num_classes, 1))


def vgg16(num_classes: int = 1000) -> VGG:
    """VGG-16, torchvision layout: 138,357,544 parameters, 15.47 GMACs at 224x224."""
    return VGG(VGG16_CONFIG, False, check_int("num_classes", num_classes, 1))


def vgg16_bn(num_classes: int = 1000) -> VGG:
    """VGG-16 with batch normalisation after every convolution: 138,365,992 parameters."""
    return VGG(VGG16_CONFIG, True, check_int("num_classes", num_classes, 1))


# --------------------------------------------------------------------------------------------
# ResNet (He et al. 2015), torchvision layout (stride on the 3x3 convolution, "v1.5")
# --------------------------------------------------------------------------------------------
def _conv_bn(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a skip: ``y = ReLU(F(x) + x)`` (a 1x1 projection on the skip
    when the shape changes)."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        out = channels * self.expansion
        self.residual = nn.Sequential(
            *_conv_bn(in_channels, channels, 3, stride),
            nn.ReLU(inplace=True),
            *_conv_bn(channels, out, 3),
        )
        self.shortcut = (
            nn.Sequential(*_conv_bn(in_channels, out, 1, stride))
            if stride != 1 or in_channels != out
            else nn.Identity()
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.residual(x) + self.shortcut(x))


class Bottleneck(BasicBlock):
    """1x1 (reduce), 3x3, 1x1 (expand 4x) convolutions and a skip: ``y = ReLU(F(x) + x)``."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__(in_channels, channels, stride)
        self.residual = nn.Sequential(
            *_conv_bn(in_channels, channels, 1),
            nn.ReLU(inplace=True),
            *_conv_bn(channels, channels, 3, stride),
            nn.ReLU(inplace=True),
            *_conv_bn(channels, channels * self.expansion, 1),
        )


class ResNet(ImageClassifier):
    """A 7x7 stride-2 stem and max pooling, four stages of residual blocks (64, 128, 256, 512
    channels; stride 2 from the second stage on), global average pooling, one linear layer."""

    def __init__(
        self, block: type[BasicBlock], depths: Sequence[int], num_classes: int = 1000
    ) -> None:
        super().__init__()
        if not (isinstance(block, type) and issubclass(block, BasicBlock)):
            raise TypeError(f"block must be BasicBlock or Bottleneck (a class), got {block!r}")
        num_classes = check_int("num_classes", num_classes, 1)
        depths = _check_positive_ints("depths", depths)
        if len(depths) != 4:
            raise ValueError(f"depths must give 4 stages' block counts, got {len(depths)}")
        e = block.expansion

        def block_params(c: int, width: int, stride: int) -> int:
            if e == 1:  # 3x3, 3x3
                convs = [(c, width, 3), (width, width, 3)]
            else:  # 1x1 reduce, 3x3, 1x1 expand
                convs = [(c, width, 1), (width, width, 3), (width, width * e, 1)]
            if stride != 1 or c != width * e:  # the projection shortcut
                convs.append((c, width * e, 1))
            return sum(_conv_params(*v, False) + 2 * v[1] for v in convs)

        def size(num_classes: int, depths: tuple[int, ...]) -> tuple[int, int]:
            params, c = _conv_params(3, 64, 7, False) + 2 * 64, 64
            for i, (width, n) in enumerate(zip((64, 128, 256, 512), depths, strict=False)):
                first = block_params(c, width, 2 if i > 0 else 1)
                params += first + (n - 1) * block_params(width * e, width, 1)
                c = width * e
            return params + _linear_params(c, num_classes), 5 + 12 * sum(depths)

        _check_model_memory(size, dict(num_classes=1000), num_classes=num_classes, depths=depths)
        conv1, bn1 = _conv_bn(3, 64, 7, 2)
        layers = OrderedDict(
            conv1=conv1, bn1=bn1, relu=nn.ReLU(inplace=True), maxpool=nn.MaxPool2d(3, 2, 1)
        )
        c = 64
        for i, (width, n) in enumerate(zip((64, 128, 256, 512), depths, strict=True)):
            for j in range(n):
                layers[f"layer{i + 1}_{j}"] = block(c, width, 2 if i > 0 and j == 0 else 1)
                c = width * block.expansion
        self.features = nn.Sequential(layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18: BasicBlocks (2, 2, 2, 2); 11,689,512 parameters, 1.81 GMACs at 224x224."""
    return ResNet(BasicBlock, (2, 2, 2, 2), check_int("num_classes", num_classes, 1))


def resnet50(num_classes: int = 1000) -> ResNet:
    """ResNet-50: Bottlenecks (3, 4, 6, 3); 25,557,032 parameters, 4.09 GMACs at 224x224."""
    return ResNet(Bottleneck, (3, 4, 6, 3), check_int("num_classes", num_classes, 1))


# --------------------------------------------------------------------------------------------
# MobileNetV2 (Sandler et al. 2018) and EfficientNet-B0 (Tan & Le 2019), torchvision layouts
# --------------------------------------------------------------------------------------------
def _conv_bn_act(
    c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, act: type = nn.ReLU6
) -> nn.Sequential:
    return nn.Sequential(*_conv_bn(c_in, c_out, k, stride, groups), act(inplace=True))


class InvertedResidual(nn.Module):
    """Expand (1x1), filter (3x3 depthwise), project (1x1, linear): thin in, thin out, wide
    inside; a skip ``y = F(x) + x`` when the stride is 1 and the width is kept."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = in_channels * expand_ratio
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(_conv_bn_act(in_channels, hidden, 1))
        layers.append(_conv_bn_act(hidden, hidden, 3, stride, groups=hidden))
        layers.extend(_conv_bn(hidden, out_channels, 1))
        self.residual = nn.Sequential(*layers)
        self.use_skip = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.residual(x)
        return y + x if self.use_skip else y


#: MobileNetV2's stages: (expansion t, channels c, repeats n, first stride s)
MOBILENET_V2_CONFIG = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


class MobileNetV2(ImageClassifier):
    """A 3x3 stride-2 stem, 17 inverted residual blocks, a 1x1 convolution to 1280 channels,
    global average pooling and one linear layer."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        num_classes = check_int("num_classes", num_classes, 1)
        dropout = _check_probability("dropout", dropout)

        def size(num_classes: int) -> tuple[int, int]:
            params, c = _conv_params(3, 32, 3, False) + 2 * 32, 32
            for t, width, n, _ in MOBILENET_V2_CONFIG:
                for _ in range(n):
                    h = c * t  # expand 1x1 (t > 1), depthwise 3x3, project 1x1
                    convs = [(c, h, 1)] * (t != 1) + [(h, h, 3, False, h), (h, width, 1)]
                    params += sum(_conv_params(*v[:3], False, *v[4:]) + 2 * v[1] for v in convs)
                    c = width
            params += _conv_params(c, 1280, 1, False) + 2 * 1280
            return params + _linear_params(1280, num_classes), 160

        _check_model_memory(size, {}, num_classes=num_classes)
        layers: list[nn.Module] = [_conv_bn_act(3, 32, 3, 2)]
        c = 32
        for t, width, n, s in MOBILENET_V2_CONFIG:
            for j in range(n):
                layers.append(InvertedResidual(c, width, s if j == 0 else 1, t))
                c = width
        layers.append(_conv_bn_act(c, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_classes))


def mobilenet_v2(num_classes: int = 1000) -> MobileNetV2:
    """MobileNetV2 (width 1.0): 3,504,872 parameters, 0.30 GMACs at 224x224."""
    return MobileNetV2(check_int("num_classes", num_classes, 1))


class SqueezeExcitation(nn.Module):
    """Channel attention: ``y = x * sigmoid(W2 SiLU(W1 mean_hw(x)))``, one weight per channel."""

    def __init__(self, channels: int, squeeze_channels: int) -> None:
        super().__init__()
        channels = check_int("channels", channels, 1)
        squeeze_channels = check_int("squeeze_channels", squeeze_channels, 1)
        _check_model_memory(
            lambda channels, squeeze_channels: (
                _conv_params(channels, squeeze_channels, 1)
                + _conv_params(squeeze_channels, channels, 1),
                4,
            ),
            {},
            channels=channels,
            squeeze_channels=squeeze_channels,
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.fc2(F.silu(self.fc1(self.avgpool(x)))))


class MBConv(nn.Module):
    """EfficientNet's block: an inverted residual with SiLU, a k x k depthwise convolution
    and squeeze-and-excitation (squeezed to a quarter of the block's input width).

    With a skip, training uses *stochastic depth*: each sample's ``F(x)`` is dropped with
    probability ``drop_prob`` (and scaled by ``1 / (1 - drop_prob)`` otherwise), so
    ``y = x + m F(x) / (1 - p)`` with ``m ~ Bernoulli(1 - p)``; in eval mode ``y = x + F(x)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        expand_ratio: int,
        drop_prob: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0 <= drop_prob < 1:
            raise ValueError(f"drop_prob must be in [0, 1), got {drop_prob}")
        self.drop_prob = float(drop_prob)
        hidden = in_channels * expand_ratio
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(_conv_bn_act(in_channels, hidden, 1, act=nn.SiLU))
        layers.append(_conv_bn_act(hidden, hidden, kernel_size, stride, hidden, act=nn.SiLU))
        layers.append(SqueezeExcitation(hidden, max(1, in_channels // 4)))
        layers.extend(_conv_bn(hidden, out_channels, 1))
        self.residual = nn.Sequential(*layers)
        self.use_skip = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.residual(x)
        if not self.use_skip:
            return y
        if self.training and self.drop_prob > 0:
            keep = 1.0 - self.drop_prob
            mask = torch.empty(y.shape[0], 1, 1, 1, device=y.device).bernoulli_(keep)
            y = y * mask / keep
        return y + x


#: EfficientNet-B0's stages: (expansion, kernel, first stride, channels, repeats)
EFFICIENTNET_B0_CONFIG = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)


class EfficientNet(ImageClassifier):
    """A 3x3 stride-2 stem, 16 MBConv blocks, a 1x1 convolution to 1280 channels, global
    average pooling and one linear layer (B0: the baseline that compound scaling grows)."""

    def __init__(
        self, num_classes: int = 1000, dropout: float = 0.2, stochastic_depth: float = 0.2
    ) -> None:
        super().__init__()
        num_classes = check_int("num_classes", num_classes, 1)
        dropout = _check_probability("dropout", dropout)
        stochastic_depth = _check_probability("stochastic_depth", stochastic_depth, closed=False)

        def size(num_classes: int) -> tuple[int, int]:
            params, c = _conv_params(3, 32, 3, False) + 2 * 32, 32
            for t, k, _, width, n in EFFICIENTNET_B0_CONFIG:
                for _ in range(n):
                    h, sq = c * t, max(1, c // 4)
                    convs = [(c, h, 1)] * (t != 1) + [(h, h, k, False, h), (h, width, 1)]
                    params += sum(_conv_params(*v[:3], False, *v[4:]) + 2 * v[1] for v in convs)
                    params += _conv_params(h, sq, 1) + _conv_params(sq, h, 1)  # excitation
                    c = width
            params += _conv_params(c, 1280, 1, False) + 2 * 1280
            return params + _linear_params(1280, num_classes), 240

        _check_model_memory(size, {}, num_classes=num_classes)
        layers: list[nn.Module] = [_conv_bn_act(3, 32, 3, 2, act=nn.SiLU)]
        c = 32
        total = sum(n for *_, n in EFFICIENTNET_B0_CONFIG)
        for t, k, s, width, n in EFFICIENTNET_B0_CONFIG:
            for j in range(n):
                p = stochastic_depth * (len(layers) - 1) / total  # grows with depth
                layers.append(MBConv(c, width, k, s if j == 0 else 1, t, p))
                c = width
        layers.append(_conv_bn_act(c, 1280, 1, act=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_classes))


def efficientnet_b0(num_classes: int = 1000) -> EfficientNet:
    """EfficientNet-B0: 5,288,548 parameters, 0.39 GMACs at 224x224."""
    return EfficientNet(check_int("num_classes", num_classes, 1))


# --------------------------------------------------------------------------------------------
# Vision Transformer (Dosovitskiy et al. 2020), torchvision layout
# --------------------------------------------------------------------------------------------
class SelfAttention(nn.Module):
    """Multi-head self-attention: ``softmax(Q K^T / sqrt(d)) V`` per head, then a projection.

    The same parameters as ``nn.MultiheadAttention`` (an input projection to Q, K, V and an
    output projection), written out so that every matrix product is visible.
    """

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        dim, num_heads = check_int("dim", dim, 1), check_int("num_heads", num_heads, 1)
        if dim % num_heads:
            raise ValueError(f"dim {dim} must be divisible by num_heads {num_heads}")
        _check_model_memory(
            lambda dim: (_linear_params(dim, 3 * dim) + _linear_params(dim, dim), 3), {}, dim=dim
        )
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = self.qkv(x).reshape(n, t, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(n, t, d))


class EncoderBlock(nn.Module):
    """A pre-norm transformer block: ``x = x + Attn(LN(x))``, then ``x = x + MLP(LN(x))``."""

    def __init__(self, dim: int, num_heads: int, mlp_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        dim, mlp_dim = check_int("dim", dim, 1), check_int("mlp_dim", mlp_dim, 1)
        dropout = _check_probability("dropout", dropout)

        def size(dim: int, mlp_dim: int) -> tuple[int, int]:
            attention = _linear_params(dim, 3 * dim) + _linear_params(dim, dim)
            return 4 * dim + attention + _linear_params(dim, mlp_dim) + _linear_params(
                mlp_dim, dim
            ), 12

        _check_model_memory(size, {}, dim=dim, mlp_dim=mlp_dim)
        self.ln_1 = nn.LayerNorm(dim, eps=1e-6)
        self.self_attention = SelfAttention(dim, num_heads)
        self.ln_2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(mlp_dim, dim),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attention(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class PatchEmbedding(nn.Module):
    """Patches to tokens: cut the image into ``p x p`` patches, map each linearly to ``dim``
    numbers (a stride-``p`` convolution), prepend a class token, add position embeddings:
    ``(N, 3, H, W) -> (N, 1 + HW / p^2, dim)``."""

    def __init__(self, image_size: int, patch_size: int, dim: int) -> None:
        super().__init__()
        image_size = check_int("image_size", image_size, 1)
        patch_size = check_int("patch_size", patch_size, 1)
        if image_size % patch_size:
            raise ValueError(
                f"image_size {image_size} must be divisible by patch_size {patch_size}"
            )
        dim = check_int("dim", dim, 1)

        def size(image_size: int, patch_size: int, dim: int) -> tuple[int, int]:
            tokens = (image_size // patch_size) ** 2 + 1
            return _conv_params(3, dim, patch_size) + dim + tokens * dim, 2

        _check_model_memory(size, {}, image_size=image_size, patch_size=patch_size, dim=dim)
        self.image_size = image_size
        self.conv_proj = nn.Conv2d(3, dim, patch_size, stride=patch_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        tokens = (image_size // patch_size) ** 2 + 1
        self.pos_embedding = nn.Parameter(torch.empty(1, tokens, dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Class token zeros, position embeddings normal with std 0.02 (the projection
        initialises itself). Nothing to fill on the meta device (where a first ``normal_``
        would cost seconds of imports)."""
        if self.pos_embedding.is_meta:
            return
        with torch.no_grad():
            self.class_token.zero_()
            self.pos_embedding.normal_(std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            size = self.image_size
            raise ValueError(f"input must be {size}x{size} pixels, got {tuple(x.shape[-2:])}")
        patches = self.conv_proj(x).flatten(2).transpose(1, 2)
        cls = self.class_token.expand(x.shape[0], -1, -1)
        return torch.cat([cls, patches], 1) + self.pos_embedding


class ClassToken(nn.Module):
    """Select the class token: ``(N, T, dim) -> (N, dim)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0]


class VisionTransformer(nn.Module):
    """Patches to tokens (``PatchEmbedding``), ``depth`` encoder blocks, a final layer norm,
    and a linear classifier on the class token."""

    def __init__(
        self,
        image_size: int = 224,
        patch_size: int = 16,
        depth: int = 12,
        num_heads: int = 12,
        dim: int = 768,
        mlp_dim: int = 3072,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        image_size = check_int("image_size", image_size, 1)
        patch_size = check_int("patch_size", patch_size, 1)
        depth = check_int("depth", depth, 1)
        num_heads = check_int("num_heads", num_heads, 1)
        dim = check_int("dim", dim, 1)
        mlp_dim = check_int("mlp_dim", mlp_dim, 1)
        num_classes = check_int("num_classes", num_classes, 1)

        def size(
            image_size: int, depth: int, dim: int, mlp_dim: int, num_classes: int
        ) -> tuple[int, int]:
            tokens = (image_size // patch_size) ** 2 + 1
            embed = _conv_params(3, dim, patch_size) + dim + tokens * dim  # + class token
            attention = _linear_params(dim, 3 * dim) + _linear_params(dim, dim)
            block = (
                4 * dim + attention + _linear_params(dim, mlp_dim) + _linear_params(mlp_dim, dim)
            )
            return embed + depth * block + 2 * dim + _linear_params(dim, num_classes), 12 * depth

        _check_model_memory(
            size,
            dict(image_size=224, depth=12, dim=768, mlp_dim=3072, num_classes=1000),
            image_size=image_size,
            depth=depth,
            dim=dim,
            mlp_dim=mlp_dim,
            num_classes=num_classes,
        )
        if dim % num_heads:
            raise ValueError(f"dim {dim} must be divisible by num_heads {num_heads}")
        self.patch_embed = PatchEmbedding(image_size, patch_size, dim)
        blocks = (EncoderBlock(dim, num_heads, mlp_dim) for _ in range(depth))
        self.encoder = nn.Sequential(*blocks)
        self.ln = nn.LayerNorm(dim, eps=1e-6)
        self.class_token = ClassToken()
        self.heads = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.heads(self.class_token(self.ln(self.encoder(self.patch_embed(x)))))

    def layer_sequence(self) -> list[tuple[str, nn.Module]]:
        """The model as ``(name, module)`` steps whose composition is ``forward``."""
        blocks = [(f"encoder.{n}", m) for n, m in self.encoder.named_children()]
        return [
            ("patch_embed", self.patch_embed),
            *blocks,
            ("ln", self.ln),
            ("class_token", self.class_token),
            ("heads", self.heads),
        ]


def vit_b_16(num_classes: int = 1000) -> VisionTransformer:
    """ViT-B/16 on 224x224 images: 12 blocks of width 768, 12 heads, MLP 3072;
    86,567,656 parameters and 17.56 GMACs."""
    return VisionTransformer(224, 16, 12, 12, 768, 3072, check_int("num_classes", num_classes, 1))


# --------------------------------------------------------------------------------------------
# Walking a model
# --------------------------------------------------------------------------------------------
_WEIGHT_LAYERS = (nn.Conv2d, nn.Linear, PartialConv2d, RBFOutput)


def layer_sequence(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``model`` as a list of ``(name, module)`` steps: applying them in order is ``model(x)``.

    Works for every model of this module (and any ``nn.Sequential``).
    """
    if isinstance(model, nn.Sequential):
        return list(model.named_children())
    if hasattr(model, "layer_sequence"):
        return model.layer_sequence()
    raise TypeError(f"model must be an nn.Sequential or a cnnlib model, got {type(model).__name__}")


def trunk(model: nn.Module) -> nn.Module:
    """The feature extractor of ``model``: every step before the classifier (``features`` of a
    CNN, patch embedding + encoder of a ViT, LeNet-5's C1..C5)."""
    if isinstance(model, ImageClassifier):
        return model.features
    if isinstance(model, VisionTransformer):
        return nn.Sequential(model.patch_embed, model.encoder)
    if isinstance(model, nn.Sequential):
        steps = []
        for m in model.children():
            if any(isinstance(sub, nn.Flatten) for sub in m.modules()):
                break
            steps.append(m)
        return nn.Sequential(*steps)
    raise TypeError(f"model must be an nn.Sequential or a cnnlib model, got {type(model).__name__}")


def depth(model: nn.Module) -> int:
    """Weight layers (convolutions and linear maps) on the main path from input to output.

    This is the count in the names VGG-16 and ResNet-18/50; it is not the longest path, since
    side branches do not add depth: a residual block's projection shortcut and a
    squeeze-and-excitation gate are skipped; LeNet-5's subsampling is not counted.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")

    def walk(m: nn.Module) -> int:
        if isinstance(m, _WEIGHT_LAYERS):
            return 1
        if isinstance(m, SqueezeExcitation):
            return 0
        return sum(walk(c) for n, c in m.named_children() if n != "shortcut")

    return walk(model)


#: every named model: builder, year, and the idea it introduced
MODELS: dict[str, tuple] = {
    "LeNet-5": (lenet5, 1998, "convolution + subsampling, learned end to end"),
    "AlexNet": (alexnet, 2012, "a deep CNN trained on GPUs wins ImageNet"),
    "VGG-16": (vgg16, 2014, "only 3x3 convolutions, very deep"),
    "ResNet-18": (resnet18, 2015, "skip connections y = F(x) + x"),
    "ResNet-50": (resnet50, 2015, "bottleneck blocks 1x1-3x3-1x1"),
    "MobileNetV2": (mobilenet_v2, 2018, "inverted residuals, linear bottlenecks"),
    "EfficientNet-B0": (efficientnet_b0, 2019, "compound scaling of depth, width, resolution"),
    "ViT-B/16": (vit_b_16, 2020, "patches to tokens, then attention"),
}


def plot_patches(
    image: np.ndarray | torch.Tensor,
    patch_size: int = 16,
    tokens: Sequence[int] = (0, 1, 2, 12, 13, 14, 15, 16),
    figsize: tuple[float, float] = (11, 4.6),
) -> Figure:
    """ViT's view of an ``(H, W, 3)`` image: the image with its grid of ``patch_size`` patches,
    and beside it the patches numbered ``tokens`` in token order (row by row: patch ``t`` is
    row ``t // (W / p)``, column ``t % (W / p)``), side by side. Returns the figure."""
    import matplotlib.pyplot as plt

    image = np.asarray(image)
    p = check_int("patch_size", patch_size, 1)
    if image.ndim != 3 or image.shape[0] % p or image.shape[1] % p:
        raise ValueError(
            f"image must be (H, W, C) with H and W multiples of patch_size {p}, got {image.shape}"
        )
    per_row = image.shape[1] // p
    fig, axes = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 1.3]})
    axes[0].imshow(image)
    for t in range(0, max(image.shape[:2]) + 1, p):
        axes[0].axhline(t - 0.5, color="white", linewidth=0.8)
        axes[0].axvline(t - 0.5, color="white", linewidth=0.8)
    n = (image.shape[0] // p) * per_row
    axes[0].set_title(f"{n} patches of {p} x {p}")
    axes[0].axis("off")
    rows = (divmod(t, per_row) for t in tokens)  # (row, column) of each token's patch
    strip = np.concatenate(
        [image[p * r : p * (r + 1), p * c : p * (c + 1)] for r, c in rows], axis=1
    )
    axes[1].imshow(strip)
    axes[1].set_xticks(np.arange(len(tokens)) * p + (p - 1) / 2, [f"{t}" for t in tokens])
    axes[1].set_yticks([])
    axes[1].set_title(f"the tokens, row by row: {per_row - 1} ends row 1,\n{per_row} starts row 2")
    return fig
