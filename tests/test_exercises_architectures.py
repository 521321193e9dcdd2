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


def patchify_in(order, name):
    """A learner's patchify that lays the axes ``(n, c, rows of patches, row in patch, columns
    of patches, column in patch)`` out in ``order`` before flattening each patch."""

    def patchify(images, patch_size):
        n, c, h, w = images.shape
        p = patch_size
        x = images.reshape(n, c, h // p, p, w // p, p).permute(*order)
        return x.reshape(n, (h // p) * (w // p), c * p * p)

    patchify.__name__ = patchify.__qualname__ = name
    return patchify


good_patchify = patchify_in((0, 2, 4, 1, 3, 5), "good_patchify")
channel_last_patchify = patchify_in((0, 2, 4, 3, 5, 1), "channel_last_patchify")
column_major_patchify = patchify_in((0, 4, 2, 1, 3, 5), "column_major_patchify")
#: each patch flattened as (channel, column, row): the transposed patch
rows_inside_columns_patchify = patchify_in((0, 2, 4, 1, 5, 3), "rows_inside_columns_patchify")


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


# -- found by mutation testing: what a learner reads on a miss ------------------------------------
def _hint(out):
    """The verdict's Hint line (what the learner is told to try)."""
    return next(line for line in out.splitlines() if line.startswith("Hint:"))


class ProjectedBiasBlock(GoodBlock):
    """F's two convs keep their bias only when the shape changes: + 2 x channels exactly at the
    first projecting case (16, 32, stride=2), after the identity case it passes."""

    def __init__(self, in_channels, channels, stride=1):
        super().__init__(in_channels, channels, stride)
        if stride != 1 or in_channels != channels:
            self.f[0] = nn.Conv2d(in_channels, channels, 3, stride, 1)
            self.f[3] = nn.Conv2d(channels, channels, 3, 1, 1)


class UnpaddedBlock(GoodBlock):
    """padding 0 in both 3x3 convs: the parameter count is right, the output 4 pixels smaller."""

    def __init__(self, in_channels, channels, stride=1):
        super().__init__(in_channels, channels, stride)
        self.f[0] = nn.Conv2d(in_channels, channels, 3, stride, 0, bias=False)
        self.f[3] = nn.Conv2d(channels, channels, 3, 1, 0, bias=False)

    def forward(self, x):
        y, skip = self.f(x), self.skip(x)
        m = (skip.shape[-1] - y.shape[-1]) // 2  # the skip cropped to F's smaller output
        return torch.relu(y + skip[..., m : skip.shape[-2] - m, m : skip.shape[-1] - m])


def test_basic_block_hints_name_the_bias_and_the_padding(capsys):
    check_basic_block(ProjectedBiasBlock)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "(16, 32, stride=2)" in out and "bias=False" in _hint(out)
    check_basic_block(UnpaddedBlock)
    out = capsys.readouterr().out
    # 8 -> 6 -> 4 by hand; the hint names the padding the learner left out
    assert out.startswith(FAIL) and "(2, 16, 8, 8)" in out and "(2, 16, 4, 4)" in out
    assert "padding 1" in _hint(out)


def good_scaling(phi, alpha, beta, gamma):
    return alpha**phi, beta**phi, gamma**phi


def test_compound_scaling_verdicts_name_the_case_the_rule_and_the_count(capsys):
    check_compound_scaling(good_scaling)
    assert "all 4 cases" in capsys.readouterr().out

    def fails_at_three(phi, alpha, beta, gamma):  # right except at the case phi = 3
        if phi == 3:
            raise ValueError("no")
        return good_scaling(phi, alpha, beta, gamma)

    check_compound_scaling(fails_at_three)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "fn(3, alpha=1.2, beta=1.1, gamma=1.15) raised" in out

    def fixed_resolution(phi, alpha, beta, gamma):  # gamma left out: wrong at phi = 0 already
        return alpha**phi, beta**phi, gamma

    check_compound_scaling(fixed_resolution)
    out = capsys.readouterr().out
    # the rule is the hint (no product hint for this mistake), the worked answer is kept back
    assert "gamma" in _hint(out) and "phi" in _hint(out) and "Answer:" not in out
    check_compound_scaling(fixed_resolution, show_answer=True)
    out = capsys.readouterr().out
    assert "Answer:" in out and "gamma**phi" in out


def test_patchify_hints_name_the_layout_mistake(capsys):
    check_patchify(rows_inside_columns_patchify)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "rows come before columns" in _hint(out)
    # F.unfold's own layout (N, C p^2, patches): on the 4 x 4 hand case the shape is the same
    check_patchify(lambda images, p: torch.nn.functional.unfold(images, p, stride=p))
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "axis 1" in _hint(out)
    check_patchify(lambda images, p: images.reshape(images.shape[0], -1))
    out = capsys.readouterr().out
    assert "(1, 4, 4)" in _hint(out)  # the expected (N, H W / p^2, C p^2) of the hand case

    def fails_on_the_large_image(images, p):
        if p == 16:
            raise ValueError("too big")
        return good_patchify(images, p)

    check_patchify(fails_on_the_large_image)
    out = capsys.readouterr().out
    assert "fn(images of shape (1, 3, 32, 32), patch_size=16) raised" in out


def test_compound_scaling_catches_the_constants_typed_in(capsys):
    """EfficientNet's alpha, beta, gamma typed into the function instead of the arguments: right
    on every case but the last hand-picked one (1.3, 1.05, 1.1)."""

    def typed_in(phi, alpha=1.2, beta=1.1, gamma=1.15):
        return 1.2**phi, 1.1**phi, 1.15**phi

    check_compound_scaling(typed_in)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "fn(2.5, alpha=1.3, beta=1.05, gamma=1.1)" in out
