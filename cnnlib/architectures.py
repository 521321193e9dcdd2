"""Famous convolutional networks, built from scratch in torch, one small class per named block.

Every model follows its reference layout (the 1998 paper for LeNet-5, torchvision for the
rest), so its parameter count is the published one:

=====================  ===========  ================================================
model                  parameters   reference
=====================  ===========  ================================================
``lenet5()``               60,840   LeCun et al. 1998 (C1 156, S2 12, C3 1,516, ...)
``alexnet()``          61,100,840   torchvision ``alexnet``
``vgg16()``           138,357,544   torchvision ``vgg16`` (``vgg16_bn``: 138,365,992)
``resnet18()``         11,689,512   torchvision ``resnet18``
``resnet50()``         25,557,032   torchvision ``resnet50``
``mobilenet_v2()``      3,504,872   torchvision ``mobilenet_v2``
``efficientnet_b0()``   5,288,548   torchvision ``efficientnet_b0``
``vit_b_16()``         86,567,656   torchvision ``vit_b_16``
=====================  ===========  ================================================

Weights are random (no downloads): the models are for counting, inspecting and training.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib._validate import check_int

__all__ = [
    "ConvBlock",
    "DepthwiseSeparableConv",
    "SimpleCNN",
    "simple_cnn",
    "ScaledTanh",
    "Subsampling",
    "PartialConv2d",
    "RBFOutput",
    "LENET5_C3_TABLE",
    "lenet5",
]


def _check_positive_ints(name: str, values: Sequence[int]) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise TypeError(f"{name} must be a non-empty sequence of positive integers, got {values!r}")
    return tuple(check_int(f"{name}[{i}]", v, 1) for i, v in enumerate(values))


# --------------------------------------------------------------------------------------------
# The seed's building blocks
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


class SimpleCNN(nn.Module):
    """The seed's small CNN: ``ConvBlock``s separated by 2x2 max pooling, global average
    pooling, one linear classifier.

    ``widths`` are the channels of the blocks; the seed's network is ``(64, 128, 256, 512)`` on
    RGB input. Each block but the last is followed by ``MaxPool2d(2)``, so an input must be at
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
        layers: list[nn.Module] = []
        c = in_channels
        for i, w in enumerate(widths):
            layers.append(ConvBlock(c, w))
            layers.append(nn.MaxPool2d(2) if i < len(widths) - 1 else nn.AdaptiveAvgPool2d(1))
            c = w
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def simple_cnn(
    in_channels: int = 3, num_classes: int = 10, widths: Sequence[int] = (64, 128, 256, 512)
) -> SimpleCNN:
    """The seed's ``SimpleCNN``; e.g. ``simple_cnn(1, 10, (16, 32, 64))`` for 8x8 digits."""
    return SimpleCNN(in_channels, num_classes, widths)


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
        self.weight = nn.Parameter(torch.ones(check_int("channels", channels, 1)))
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
    ``-y`` to serve as logits.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        in_features = check_int("in_features", in_features, 1)
        out_features = check_int("out_features", out_features, 1)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -((x.unsqueeze(1) - self.weight) ** 2).sum(-1)


def lenet5(modern: bool = False, num_classes: int = 10) -> nn.Sequential:
    """LeNet-5 on a ``1 x 32 x 32`` input, layers named as in the paper.

    ``modern=False`` (the 1998 network): C1 conv 6@5x5 (156 params), S2 trainable
    subsampling (12), C3 partial conv with the connection table (1,516), S4 (32), C5 conv
    120@5x5 (48,120), F6 linear 84 (10,164), scaled tanh after each, RBF output (840).
    ``modern=True``: the same widths with ReLU, max pooling, a full C3 (2,416) and a linear
    output (850), as it is usually taught today.
    """
    num_classes = check_int("num_classes", num_classes, 1)
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
