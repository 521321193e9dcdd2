"""The exercise checkers of notebook 07: right answers pass, typical wrong ones are caught.

The "learner" code is written here from the formulas, independent of cnnlib.architectures.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlib.exercises.architectures import (
    FAIL,
    PASS,
    check_basic_block,
    check_compound_scaling,
    check_patchify,
)


class GoodBlock(nn.Module):
    def __init__(self, in_channels, channels, stride=1):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
        )
        self.skip = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.skip = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride, bias=False), nn.BatchNorm2d(channels)
            )

    def forward(self, x):
        return torch.relu(self.f(x) + self.skip(x))


class NoSkipBlock(GoodBlock):
    def forward(self, x):
        return torch.relu(self.f(x))


class BiasBlock(GoodBlock):
    def __init__(self, in_channels, channels, stride=1):
        super().__init__(in_channels, channels, stride)
        self.f[0] = nn.Conv2d(in_channels, channels, 3, stride, 1)
        self.f[3] = nn.Conv2d(channels, channels, 3, 1, 1)


class IdentityOnlyBlock(GoodBlock):
    def __init__(self, in_channels, channels, stride=1):
        super().__init__(in_channels, channels, stride)
        self.skip = nn.Identity()


def good_patchify(images, patch_size):
    n, c, h, w = images.shape
    p = patch_size
    x = images.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(n, (h // p) * (w // p), c * p * p)


def channel_last_patchify(images, patch_size):
    n, c, h, w = images.shape
    p = patch_size
    x = images.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(n, (h // p) * (w // p), c * p * p)


def column_major_patchify(images, patch_size):
    n, c, h, w = images.shape
    p = patch_size
    x = images.reshape(n, c, h // p, p, w // p, p).permute(0, 4, 2, 1, 3, 5)
    return x.reshape(n, (h // p) * (w // p), c * p * p)


def test_basic_block_checker(capsys):
    check_basic_block(GoodBlock)
    assert capsys.readouterr().out.startswith(PASS)
    check_basic_block(NoSkipBlock)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "ReLU(x)" in out
    check_basic_block(BiasBlock)
    assert "bias=False" in capsys.readouterr().out
    check_basic_block(IdentityOnlyBlock)
    assert "1x1 conv" in capsys.readouterr().out
    check_basic_block(lambda *a, **k: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_patchify_checker(capsys):
    check_patchify(good_patchify)
    assert capsys.readouterr().out.startswith(PASS)
    check_patchify(channel_last_patchify)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "channel first" in out
    check_patchify(column_major_patchify)
    assert capsys.readouterr().out.startswith(FAIL)
    check_patchify(lambda images, p: None)
    assert "return" in capsys.readouterr().out
    check_patchify(lambda images, p: images)
    assert "shape" in capsys.readouterr().out


def test_compound_scaling_checker(capsys):
    check_compound_scaling(lambda phi, alpha, beta, gamma: (alpha**phi, beta**phi, gamma**phi))
    assert capsys.readouterr().out.startswith(PASS)
    check_compound_scaling(lambda phi, alpha, beta, gamma: (alpha * phi, beta * phi, gamma * phi))
    assert "power" in capsys.readouterr().out
    check_compound_scaling(lambda phi, alpha, beta, gamma: alpha**phi)
    assert "three numbers" in capsys.readouterr().out


class ShortcutBiasBlock(GoodBlock):
    """The projection's 1x1 conv keeps nn.Conv2d's default bias: + channels parameters."""

    def __init__(self, in_channels, channels, stride=1):
        super().__init__(in_channels, channels, stride)
        if stride != 1 or in_channels != channels:
            self.skip[0] = nn.Conv2d(in_channels, channels, 1, stride)


class StridedBiasBlock(GoodBlock):
    """Biases on all three convs, only when the stride is 2 and the channels stay: + 3 x channels
    exactly at the checker's case (8, 8, stride=2), after the cases it passes."""

    def __init__(self, in_channels, channels, stride=1):
        super().__init__(in_channels, channels, stride)
        if stride != 1 and in_channels == channels:
            self.f[0] = nn.Conv2d(in_channels, channels, 3, stride, 1)
            self.f[3] = nn.Conv2d(channels, channels, 3, 1, 1)
            self.skip[0] = nn.Conv2d(in_channels, channels, 1, stride)


def test_basic_block_bias_hint_counts_the_shortcut_conv(capsys):
    # a hand count: (16, 32, stride 2) has 32 biases too many, (8, 8, stride 2) 3 x 8
    check_basic_block(ShortcutBiasBlock)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "(16, 32, stride=2)" in out and "bias=False" in out
    assert "1x1 conv + BN" not in out
    check_basic_block(StridedBiasBlock)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "(8, 8, stride=2)" in out and "bias=False" in out
    assert "1x1 conv + BN" not in out


def test_compound_scaling_power_hint_only_for_a_product(capsys):
    # at phi = 1, alpha * phi == alpha ** phi: another mistake must not get the product hint
    check_compound_scaling(
        lambda phi, alpha, beta, gamma: (alpha**phi, beta ** (2 * phi), gamma ** (2 * phi))
    )
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "fn(1," in out and "power" not in out
    # the product on one multiplier only is not "alpha * phi" for all three
    check_compound_scaling(lambda phi, alpha, beta, gamma: (alpha * phi, beta**phi, gamma**phi))
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "power" not in out
    check_compound_scaling(lambda phi, alpha, beta, gamma: (alpha * phi, beta * phi, gamma * phi))
    assert "Hint: scaling is a power, alpha ** phi, not alpha * phi." in capsys.readouterr().out
