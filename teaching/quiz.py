"""Five quiz questions per notebook, each answer checked against the library.

``python -m teaching.quiz`` writes ``teaching/quiz.md`` (answers folded). Every question holds
the answer as a lecturer would write it on the board (``answer``, typed here) and a
``check`` that computes it with ``cnnlib`` (or torch, where the course's library has no such
function); ``tests/test_teaching.py`` asserts that the two agree and that the saved
``quiz.md`` is what this script writes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnlib import architectures, backprop, conv, equivariance, explain, params, receptive, shapes

QUIZ = Path(__file__).with_name("quiz.md")

TOPICS = {
    0: "Course index: the vocabulary (ReLU, softmax, cross-entropy)",
    1: "Convolution and pooling",
    2: "Output dimensions",
    3: "Parameters and compute",
    4: "Receptive field",
    5: "Translation equivariance",
    6: "Backpropagation through convolution",
    7: "Architectures",
    8: "What a CNN sees",
    9: "Is an explanation right?",
}


@dataclass(frozen=True)
class Question:
    notebook: int
    text: str
    answer: Any
    why: str
    check: Callable[[], Any]


X3 = np.arange(1.0, 10.0).reshape(3, 3)  # [[1 2 3] [4 5 6] [7 8 9]]
K2 = np.array([[1.0, 0.0], [0.0, -1.0]])
P4 = np.array(
    [[1.0, 3.0, 2.0, 0.0], [4.0, 2.0, 1.0, 1.0], [0.0, 1.0, 5.0, 6.0], [2.0, 2.0, 7.0, 0.0]]
)


def _linear_model(w: list[float]) -> nn.Module:
    """A 1 x 2 x 2 image to one score: ``y = w . x`` (one 2 x 2 filter, no bias)."""
    m = nn.Sequential(nn.Conv2d(1, 1, 2, bias=False), nn.Flatten())
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor(w).reshape(1, 1, 2, 2))
    return m


_W = [2.0, -3.0, 0.5, 0.0]
_XI = torch.tensor([[[[1.0, 2.0], [1.0, -1.0]]]])


def _peak_on_mask() -> bool:
    heat = np.zeros((4, 4))
    heat[1, 2] = 1.0
    mask = np.zeros((4, 4), bool)
    mask[0:2, 2:4] = True
    return bool(explain.pointing_game(heat, mask))


QUESTIONS: tuple[Question, ...] = (
    # 00 -----------------------------------------------------------------------------------------
    Question(
        0,
        "What is ReLU(-2.5) and ReLU(1.5)?",
        (0.0, 1.5),
        "ReLU(z) = max(0, z).",
        lambda: tuple(float(v) for v in torch.relu(torch.tensor([-2.5, 1.5]))),
    ),
    Question(
        0,
        "The scores (logits) of three classes are z = (0, 0, ln 3). What probability does "
        "softmax give the third class?",
        0.6,
        "e^{ln 3} / (1 + 1 + 3) = 3/5.",
        lambda: float(torch.softmax(torch.tensor([0.0, 0.0, math.log(3)]), 0)[2]),
    ),
    Question(
        0,
        "A ten-class network that outputs equal scores for every class: what is its "
        "cross-entropy loss on any image (to 3 decimals)?",
        2.303,
        "-log(1/10) = ln 10: the loss of guessing; a trained network must beat it.",
        lambda: round(float(nn.functional.cross_entropy(torch.zeros(1, 10), torch.tensor([3]))), 3),
    ),
    Question(
        0,
        "For softmax with cross-entropy, scores z = (0, 0, ln 3) and true class 0: what is dL/dz?",
        (-0.8, 0.2, 0.6),
        "softmax(z) - onehot(y) = (0.2, 0.2, 0.6) - (1, 0, 0).",
        lambda: _ce_grad([0.0, 0.0, math.log(3)], 0),
    ),
    Question(
        0,
        "A batch of shape (8, 3, 32, 32) (batch, channels, height, width) goes through 16 "
        "filters of 3 x 3 with padding 1. Shape of the output?",
        (8, 16, 32, 32),
        "PyTorch's NCHW layout: the channels become 16, padding 1 keeps 32 x 32.",
        lambda: conv.conv2d(np.zeros((8, 3, 32, 32)), np.zeros((16, 3, 3, 3)), padding=1).shape,
    ),
    # 01 -----------------------------------------------------------------------------------------
    Question(
        1,
        "x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] and kernel [[1, 0], [0, -1]]: what is the "
        "top-left output of the cross-correlation (PyTorch's conv2d)?",
        -4.0,
        "1*1 + 2*0 + 4*0 + 5*(-1) = -4.",
        lambda: float(conv.conv2d(X3, K2)[0, 0]),
    ),
    Question(
        1,
        "The same x and kernel, but a true convolution (kernel turned by 180 degrees, as "
        "scipy.signal.convolve2d): the top-left 'valid' output?",
        4.0,
        "The flipped kernel is [[-1, 0], [0, 1]]: -1 + 5 = 4.",
        lambda: float(conv.convolve2d(X3, K2, mode="valid")[0, 0]),
    ),
    Question(
        1,
        "The output of the same cross-correlation, whole: which 2 x 2 array?",
        [[-4.0, -4.0], [-4.0, -4.0]],
        "Each window minus its bottom-right neighbour: x[i, j] - x[i+1, j+1] = -4 everywhere.",
        lambda: conv.conv2d(X3, K2).tolist(),
    ),
    Question(
        1,
        "2 x 2 max pooling (stride 2) of [[1, 3, 2, 0], [4, 2, 1, 1], [0, 1, 5, 6], [2, 2, 7, 0]]?",
        [[4.0, 2.0], [2.0, 7.0]],
        "The largest number of each 2 x 2 block.",
        lambda: conv.max_pool2d(P4, 2).tolist(),
    ),
    Question(
        1,
        "A dense layer from a 28 x 28 image to a 26 x 26 map has how many weights and "
        "biases, against one 3 x 3 convolution (one channel in, one out)?",
        (530660, 10),
        "784 * 676 + 676 against 9 + 1: locality and weight sharing.",
        lambda: (params.linear_params(784, 676), params.conv2d_params(1, 1, 3)),
    ),
    # 02 -----------------------------------------------------------------------------------------
    Question(
        2,
        "LeNet-5's first layer: a 32 x 32 input, a 5 x 5 kernel, stride 1, no padding. "
        "Output size?",
        28,
        "(32 - 5) / 1 + 1.",
        lambda: shapes.conv_output_size(32, 5),
    ),
    Question(
        2,
        "AlexNet's first layer: 224 x 224, kernel 11, stride 4, padding 2. Output size?",
        55,
        "floor((224 + 4 - 11) / 4) + 1 = floor(54.25) + 1.",
        lambda: shapes.conv_output_size(224, 11, stride=4, padding=2),
    ),
    Question(
        2,
        "How much padding on each side keeps the size of a 5 x 5 convolution at stride 1?",
        (2, 2),
        "d(k - 1) = 4 cells in all, half on each side.",
        lambda: shapes.same_padding(5),
    ),
    Question(
        2,
        "A 6-pixel row, 3-wide pooling, stride 2: how many outputs with ceil_mode False, "
        "and with ceil_mode True?",
        (2, 3),
        "floor(3 / 2) + 1 = 2; ceil gives 3, and the third window starts at 4, inside the row.",
        lambda: (
            shapes.pool_output_size(6, 3, 2),
            shapes.pool_output_size(6, 3, 2, ceil_mode=True),
        ),
    ),
    Question(
        2,
        "A transposed convolution, kernel 4, stride 2, padding 1, on a 7 x 7 map. Output size?",
        14,
        "(7 - 1) * 2 - 2 + 3 + 1: it doubles the size.",
        lambda: shapes.conv_transpose_output_size(7, 4, stride=2, padding=1),
    ),
    # 03 -----------------------------------------------------------------------------------------
    Question(
        3,
        "Parameters of a 3 x 3 convolution from 64 to 128 channels, with bias?",
        73856,
        "128 * (64 * 9 + 1).",
        lambda: params.conv2d_params(64, 128, 3),
    ),
    Question(
        3,
        "The same layer without bias (as before a batch norm)?",
        73728,
        "128 * 64 * 9.",
        lambda: params.conv2d_params(64, 128, 3, bias=False),
    ),
    Question(
        3,
        "A depthwise separable version (3 x 3 depthwise on 64 channels, then 1 x 1 from 64 "
        "to 128), both with bias: how many parameters?",
        8960,
        "64 * (9 + 1) + 128 * (64 + 1) = 640 + 8320, about 8 times fewer.",
        lambda: params.conv2d_params(64, 64, 3, groups=64) + params.conv2d_params(64, 128, 1),
    ),
    Question(
        3,
        "Multiply-accumulates of a 1 x 1 convolution from 256 to 64 channels on a 56 x 56 map?",
        51380224,
        "56 * 56 * 64 * 256.",
        lambda: params.conv2d_macs(256, 64, 1, output_size=56),
    ),
    Question(
        3,
        "How many trainable parameters does ResNet-18 (1000 classes) have?",
        11689512,
        "The published count (torchvision); the course's resnet18() has the same layout.",
        lambda: params.count_params(architectures.resnet18()),
    ),
    # 04 -----------------------------------------------------------------------------------------
    Question(
        4,
        "Five 3 x 3 convolutions, stride 1: receptive field of one output unit?",
        11,
        "Each layer adds k - 1 = 2: 1 + 5 * 2.",
        lambda: receptive.receptive_field([(3, 1, 1)] * 5)[-1].size,
    ),
    Question(
        4,
        "A 3 x 3 convolution with stride 2, then a 3 x 3 with stride 1: receptive field "
        "and jump (effective stride)?",
        (7, 2),
        "3, then 3 + 2 * 2 = 7; the jump is 2 * 1.",
        lambda: _rf_size_stride([(3, 2, 1), (3, 1, 1)]),
    ),
    Question(
        4,
        "After ResNet's stem (conv 7, stride 2, padding 3; max pool 3, stride 2, padding "
        "1), which input columns does unit 4 see?",
        (11, 21),
        "r = 11, S = 4, P = 5: from 4 * 4 - 5 = 11 to 11 + 10 = 21.",
        lambda: tuple(receptive.receptive_field([(7, 2, 3), (3, 2, 1)])[-1].window(4)[:2]),
    ),
    Question(
        4,
        "Four 3 x 3 convolutions with dilations 1, 2, 4, 8 (stride 1): receptive field?",
        31,
        "1 + 2 * (1 + 2 + 4 + 8): it doubles with each layer.",
        lambda: receptive.receptive_field([(3, 1, d, d) for d in (1, 2, 4, 8)])[-1].size,
    ),
    Question(
        4,
        "Two stacked 3 x 3 convolutions see as far as one 5 x 5. Parameters of each "
        "choice from 64 to 64 channels, no bias?",
        (73728, 102400),
        "2 * 64 * 64 * 9 against 64 * 64 * 25: the VGG argument.",
        lambda: (
            2 * params.conv2d_params(64, 64, 3, bias=False),
            params.conv2d_params(64, 64, 5, bias=False),
        ),
    ),
    # 05 -----------------------------------------------------------------------------------------
    Question(
        5,
        "Shift [1, 2, 3, 4] one place to the right, circularly?",
        [4.0, 1.0, 2.0, 3.0],
        "The last value wraps round to the front.",
        lambda: equivariance.shift(np.array([[1.0, 2.0, 3.0, 4.0]]), 0, 1)[0].tolist(),
    ),
    Question(
        5,
        "A stride-1 convolution with circular padding, input shifted by (1, 2): how far "
        "is the output from the shifted output (the largest difference)?",
        0.0,
        "Exactly equivariant: with circular padding there is no border.",
        lambda: _circular_error(),
    ),
    Question(
        5,
        "With stride 2, an input shift of 3 pixels matches which whole-cell output shifts?",
        (1, 2),
        "3 / 2 lies between 1 and 2: no output shift matches exactly.",
        lambda: equivariance.output_shifts(3, 2),
    ),
    Question(
        5,
        "The centre weight of the 3 x 3 binomial blur used by blur pooling?",
        0.25,
        "[1, 2, 1]^T [1, 2, 1] / 16: 4 / 16.",
        lambda: float(equivariance.binomial_filter(3)[1, 1]),
    ),
    Question(
        5,
        "A single bright pixel at column 0 or at column 1 of a 4-pixel row: do 2-wide max "
        "pools (stride 2) give the same output?",
        True,
        "Both fall in the first window; a shift from column 1 to 2 would change the output.",
        lambda: _pool_same(),
    ),
    # 06 -----------------------------------------------------------------------------------------
    Question(
        6,
        "y = conv2d(x, w) + b gives a 3 x 3 output and dL/dy is all ones. dL/db?",
        9.0,
        "The bias touches every output once: sum of dL/dy.",
        lambda: float(
            backprop.conv2d_backward(
                np.ones((1, 1, 3, 3)), np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2))
            )[2][0]
        ),
    ),
    Question(
        6,
        "x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], a 2 x 2 kernel, dL/dy = [[1, 0], [0, 0]]: "
        "what is dL/dw?",
        [[1.0, 2.0], [4.0, 5.0]],
        "Only output (0, 0) has gradient; its window is the top-left 2 x 2 of x.",
        lambda: backprop.conv2d_backward(
            np.array([[[[1.0, 0.0], [0.0, 0.0]]]]), X3[None, None], np.zeros((1, 1, 2, 2))
        )[1][0, 0].tolist(),
    ),
    Question(
        6,
        "Stride 2: dL/dy of shape 3 x 3 is dilated before the full convolution. Shape "
        "after dilation?",
        (5, 5),
        "s - 1 = 1 zero between entries: 3 + 2.",
        lambda: backprop.dilate(np.ones((3, 3)), 2).shape,
    ),
    Question(
        6,
        "2 x 2 max pooling of [[1, 3], [4, 2]] and dL/dy = 5: what is dL/dx?",
        [[0.0, 0.0], [5.0, 0.0]],
        "Only the maximum, 4, receives the gradient.",
        lambda: backprop.max_pool2d_backward(
            np.array([[5.0]]), np.array([[1.0, 3.0], [4.0, 2.0]]), 2
        ).tolist(),
    ),
    Question(
        6,
        "The central difference of f(x) = x^3 at x = 2 (eps = 1e-3), to 4 decimals?",
        12.0,
        "(f(2 + eps) - f(2 - eps)) / (2 eps) = 12 + eps^2: the error is eps^2.",
        lambda: round(
            float(
                backprop.numerical_gradient(lambda v: float(np.sum(v**3)), np.array([2.0]), 1e-3)[0]
            ),
            4,
        ),
    ),
    # 07 -----------------------------------------------------------------------------------------
    Question(
        7,
        "How many trainable parameters has LeNet-5 as the course builds it (LeCun et al. "
        "1998's layout)?",
        60000,
        "The paper's 'about 60,000'.",
        lambda: params.count_params(architectures.lenet5()),
    ),
    Question(
        7,
        "ViT-B/16 cuts a 224 x 224 image into 16 x 16 patches. How many patches (tokens "
        "before the class token)?",
        196,
        "(224 / 16)^2 = 14 * 14: a conv 16 / stride 16.",
        lambda: shapes.conv_output_size(224, 16, stride=16) ** 2,
    ),
    Question(
        7,
        "MobileNetV2's trainable parameters (1000 classes)?",
        3504872,
        "The published count; depthwise separable blocks keep it small.",
        lambda: params.count_params(architectures.mobilenet_v2()),
    ),
    Question(
        7,
        "EfficientNet-B0's trainable parameters (1000 classes), against ResNet-18's 11,689,512?",
        5288548,
        "The published count: compound scaling and MBConv blocks, half ResNet-18's parameters "
        "for a higher ImageNet accuracy.",
        lambda: params.count_params(architectures.efficientnet_b0()),
    ),
    Question(
        7,
        "A stride-2 residual block maps a 56 x 56 map to 28 x 28. Output size of its 1 x 1, "
        "stride-2 shortcut convolution (no padding)?",
        28,
        "floor((56 - 1) / 2) + 1: the shortcut must match the main path's shape.",
        lambda: shapes.conv_output_size(56, 1, stride=2),
    ),
    # 08 -----------------------------------------------------------------------------------------
    Question(
        8,
        "A linear model y = w . x with w = (2, -3, 0.5, 0) on a 2 x 2 image: its "
        "saliency map |dy/dx|?",
        [[2.0, 3.0], [0.5, 0.0]],
        "The gradient of a linear model is w everywhere, whatever x is.",
        lambda: explain.saliency(_linear_model(_W), _XI, 0)[0, 0].tolist(),
    ),
    Question(
        8,
        "The same model and x = [[1, 2], [1, -1]]: gradient x input?",
        [[2.0, -6.0], [0.5, 0.0]],
        "x * w; for a linear model its sum is y itself.",
        lambda: explain.gradient_x_input(_linear_model(_W), _XI, 0)[0, 0].tolist(),
    ),
    Question(
        8,
        "The course's shapes network sees a 32 x 32 image. On what grid does its CAM live?",
        (8, 8),
        "Two 2 x 2 max pools: 32 / 4. It must be upsampled to be laid on the image.",
        lambda: explain.cam(architectures.shapes_cnn(), torch.zeros(1, 1, 32, 32), 0).shape[1:],
    ),
    Question(
        8,
        "A heat map peaks at (1, 2); the object's mask covers rows 0-1, columns 2-3 of a "
        "4 x 4 image. A hit in the pointing game?",
        True,
        "The peak lies on the mask.",
        _peak_on_mask,
    ),
    Question(
        8,
        "A map spread evenly over a 4 x 4 image, an object covering 4 of its 16 pixels: "
        "what share of the map's mass lies on the object?",
        0.25,
        "The mask's area: the score a map that knows nothing gets, the row to beat.",
        lambda: float(explain.mass_in_mask(np.ones((4, 4)), _quarter_mask())),
    ),
    # 09 -----------------------------------------------------------------------------------------
    Question(
        9,
        "The linear model y = w . x above, x = [[1, 2], [1, -1]], integrated gradients from a "
        "black (all-zero) baseline: what do its attributions sum to?",
        -3.5,
        "Completeness: the sum is y(x) - y(baseline) = (2 - 6 + 0.5 + 0) - 0.",
        lambda: round(float(explain.integrated_gradients(_linear_model(_W), _XI, 0).sum()), 4),
    ),
    Question(
        9,
        "A signed map reads (-3, -1, 2, 4) over four pixels. Spearman's rank correlation "
        "between it and its absolute value (3, 1, 2, 4)?",
        0.4,
        "Ranks (1, 2, 3, 4) against (3, 1, 2, 4): 1 - 6 * (4 + 1 + 1 + 0) / (4 * 15). This is "
        "why the randomisation test reports signed and absolute maps apart.",
        lambda: round(
            float(
                explain.rank_correlation(np.array([[-3.0, -1, 2, 4]]), np.array([[3.0, 1, 2, 4]]))[
                    0
                ]
            ),
            6,
        ),
    ),
    Question(
        9,
        "A map is 0 except -2 on a one-pixel marker and +8 on one object pixel. What share of "
        "its mass lies on the marker?",
        0.2,
        "Mass is absolute: 2 / (2 + 8). Without the absolute value the -2 would cancel and "
        "hide the shortcut.",
        lambda: _marker_share(),
    ),
    Question(
        9,
        "Shift every input pixel by +1 and give the linear model the bias -sum(w), so its "
        "output is unchanged (Kindermans et al. 2017). Which of saliency and gradient x input "
        "changes?",
        ("gradient_x_input",),
        "The gradient is still w, so saliency stays; gradient x input multiplies by the "
        "shifted x, so it changes although the model's answers did not.",
        lambda: _changed_by_a_shift(),
    ),
    Question(
        9,
        "A test set's objects cover 12 % of each image on average. A map that knows nothing "
        "puts its mass evenly: what mass on the object must a method beat?",
        0.12,
        "The mean mask area: chance for the mass score, the first row of the scoreboard.",
        lambda: round(
            float(explain.mass_in_mask(np.ones((3, 5, 5)), _three_pixel_masks()).mean()), 2
        ),
    ),
)


def _marker_share() -> float:
    m = np.zeros((4, 4))
    m[0, 0], m[2, 2] = -2.0, 8.0
    marker = np.zeros((4, 4), bool)
    marker[0, 0] = True
    return round(float(explain.mass_in_mask(m, marker)), 6)


def _changed_by_a_shift() -> tuple[str, ...]:
    shifted = nn.Sequential(nn.Conv2d(1, 1, 2), nn.Flatten())
    with torch.no_grad():
        shifted[0].weight.copy_(torch.tensor(_W).reshape(1, 1, 2, 2))
        shifted[0].bias.fill_(-sum(_W))
    plain, x1 = _linear_model(_W), _XI + 1
    assert torch.allclose(plain(_XI), shifted(x1))
    return tuple(
        name
        for name in ("saliency", "gradient_x_input")
        if not np.allclose(
            getattr(explain, name)(plain, _XI, 0), getattr(explain, name)(shifted, x1, 0)
        )
    )


def _three_pixel_masks() -> np.ndarray:
    """Three 5 x 5 masks of 3 pixels each (an area of 0.12), in three places."""
    m = np.zeros((3, 5, 5), bool)
    m[0, 0, :3] = m[1, 2, 1:4] = m[2, 4, 2:] = True
    return m


def _ce_grad(z: list[float], y: int) -> tuple[float, ...]:
    t = torch.tensor([z], requires_grad=True)
    nn.functional.cross_entropy(t, torch.tensor([y])).backward()
    return tuple(round(float(v), 6) for v in t.grad[0])


def _rf_size_stride(layers) -> tuple[int, int]:
    f = receptive.receptive_field(layers)[-1]
    return (f.size, f.stride)


def _circular_error() -> float:
    rng = np.random.default_rng(0)
    x, k = rng.normal(size=(8, 8)), rng.normal(size=(3, 3))

    def f(a):
        return conv.conv2d(a, k, padding=1, padding_mode="circular")

    return round(equivariance.equivariance_error(f, x, 1, 2), 12)


def _pool_same() -> bool:
    a, b = np.zeros((2, 4)), np.zeros((2, 4))
    a[0, 0], b[0, 1] = 1.0, 1.0
    return bool(np.array_equal(conv.max_pool2d(a, 2), conv.max_pool2d(b, 2)))


def _quarter_mask() -> np.ndarray:
    m = np.zeros((4, 4), bool)
    m[:2, :2] = True
    return m


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, (tuple, list)):
        return (
            "(" + ", ".join(_show(t) for t in v) + ")"
            if isinstance(v, tuple)
            else ("[" + ", ".join(_show(t) for t in v) + "]")
        )
    return str(v)


def render() -> str:
    out = [
        "# Quiz: five questions per notebook",
        "",
        "For a lecture's last five minutes or a weekly test. Each answer was checked against the "
        "course's library: `python -m teaching.quiz` writes this page from `teaching/quiz.py`, "
        "and `tests/test_teaching.py` recomputes every answer with `cnnlib` (or torch).",
        "",
    ]
    for nb, topic in TOPICS.items():
        out += [f"## {nb:02d} {topic}", ""]
        for i, q in enumerate((q for q in QUESTIONS if q.notebook == nb), 1):
            out += [
                f"{i}. {q.text}",
                "",
                f"   <details><summary>Answer</summary>{_show(q.answer)}: {q.why}</details>",
                "",
            ]
    return "\n".join(out)


def main() -> None:
    QUIZ.write_text(render(), encoding="utf-8")
    print(f"wrote {QUIZ}")


if __name__ == "__main__":
    main()
