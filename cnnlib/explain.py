"""What a trained CNN sees: every layer's activations, one unit opened up, attribution maps
(saliency, gradient x input, integrated gradients, occlusion, CAM, Grad-CAM), and the
measurements that check a map against ground truth (pointing game, deletion curve, the
cascading-randomisation sanity check of Adebayo et al. 2018).

Conventions (the same for every function):

- ``model``: any ``torch.nn.Module`` with at least one ``Conv2d``. It runs in eval mode (its
  training flag is restored afterwards); its parameters get no ``.grad``.
- ``x``: one image ``(C, H, W)`` or a batch ``(N, C, H, W)``, a ``torch.Tensor`` or a NumPy
  array, ``C`` the ``in_channels`` of the model's first ``Conv2d``. Results keep that form:
  one image in, no batch axis out.
- ``target``: the class whose logit ``y_t = model(x)[n, t]`` is explained; an int (the same for
  every image) or one int per image.
- ``layer``: a module path as ``model.named_modules()`` spells it, e.g. ``"features.conv2"``.

What comes back (NumPy ``float32`` arrays unless said otherwise):

- ``activations(model, x)``: ``dict[str, ndarray]``, module path -> output, in call order,
  ``(C', h, w)`` per image (``(N, C', h, w)`` for a batch).
- ``unit_contributions(model, layer, channel, row, col, x)``: a ``UnitContributions``
  (arrays, floats and a list of ``FollowingStep``); ``conv_unit_terms`` gives the same terms
  for many units of one ``Conv2d`` at once (float64).
- ``saliency``, ``gradient_x_input``, ``integrated_gradients``, ``occlusion``: the shape of
  ``x``, ``(C, H, W)`` or ``(N, C, H, W)``.
- ``cam``, ``grad_cam``: ``(h, w)`` or ``(N, h, w)``, on the layer's own grid.
- ``attribution_map(model, x, target, method)``: any of ``METHODS`` at the image's size,
  ``(H, W)`` or ``(N, H, W)`` (channels summed by ``heatmap``, grids resized by ``upsample``).
- ``pointing_game(maps, masks)``: a ``bool`` for one map, ``ndarray[bool]`` ``(N,)`` for many.
- ``deletion_curve(model, x, target, maps)``: a ``DeletionCurve`` of float64 arrays,
  ``fractions (S+1,)``, ``scores (N, S+1)``, ``auc (N,)`` (no ``N`` axis for one image).
- ``cascading_randomization(model, x, target)``: a ``Cascade``, ``layers`` (list of str) and
  ``correlations`` method -> float64 ``(L+1, N)``.
- ``rank_correlation(a, b)``: Spearman's rho per image, float64 ``(N,)``.

Integrated gradients, occlusion and the deletion curve run their many forward passes in
chunks of about half a million input values (2 MB of float32, plus the model's activations for
that chunk), so memory does not grow with the number of steps or windows.

Bad input raises ``TypeError`` / ``ValueError`` naming the argument: a model without a
``Conv2d``, a layer path that does not exist, a target out of range, an image of the wrong
shape or channel count.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import numbers
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib._validate import (
    INT64_MAX,
    check_array,
    check_bool,
    check_bool_array,
    check_choice,
    check_int,
    check_memory,
    check_pair,
    check_real,
)

__all__ = [
    "METHODS",
    "activations",
    "UnitContributions",
    "FollowingStep",
    "unit_contributions",
    "conv_unit_terms",
    "saliency",
    "gradient_x_input",
    "integrated_gradients",
    "occlusion",
    "cam",
    "grad_cam",
    "attribution_map",
    "heatmap",
    "upsample",
    "pointing_game",
    "DeletionCurve",
    "FILLS",
    "deletion_curve",
    "rank_correlation",
    "Cascade",
    "cascading_randomization",
    "BASELINES",
    "baseline_map",
    "mass_in_mask",
    "bootstrap_interval",
    "SIGNED",
    "score_maps",
    "format_interval",
    "interval_table",
    "show_maps",
    "plot_deletion",
    "plot_cascade",
]

#: the attribution methods ``attribution_map`` knows, in the order the notebook shows them
METHODS: tuple[str, ...] = (
    "saliency",
    "gradient_x_input",
    "integrated_gradients",
    "occlusion",
    "cam",
    "grad_cam",
)

ACTIVATIONS = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Hardtanh,
    nn.Sigmoid,
    nn.Tanh,
    nn.Softplus,
)
POOLING = (
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
    nn.LPPool2d,
)
# elements per chunk of the batched forward passes (occlusion, integrated gradients, deletion)
_CHUNK_ELEMENTS = 1 << 19


# --------------------------------------------------------------------------------------------
# Argument checks and the common forward / backward steps
# --------------------------------------------------------------------------------------------
def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        raise ValueError("model has no Conv2d layer: these maps explain convolutional networks")
    return model


def _check_input(model: nn.Module, x: object) -> tuple[torch.Tensor, bool]:
    """``x`` as a float32 batch ``(N, C, H, W)`` and whether it was a single image."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "fiu":
            raise TypeError(f"x must be an array of real numbers, got dtype {x.dtype}")
        x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor or a NumPy array, got {type(x).__name__}")
    if x.is_complex() or x.dtype == torch.bool:
        raise TypeError(f"x must hold real numbers, got {x.dtype}")
    if x.is_meta or x.layout != torch.strided or x.is_quantized:
        raise TypeError(
            f"x must be an ordinary (dense, CPU) tensor, got a {x.layout} tensor on {x.device}"
        )
    if x.ndim not in (3, 4):
        raise ValueError(
            f"x must be one image (C, H, W) or a batch (N, C, H, W), got shape {tuple(x.shape)}"
        )
    single = x.ndim == 3
    x = x.detach().to(torch.float32)
    if single:
        x = x[None]
    if x.shape[0] == 0:
        raise ValueError("x must hold at least one image, got an empty batch")
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    if x.shape[1] != first.in_channels:
        raise ValueError(
            f"x must have {first.in_channels} channel(s) (the model's first Conv2d), "
            f"got {x.shape[1]} in shape {tuple(x.shape)}"
        )
    return x, single


def _target_tensor(target: object) -> torch.Tensor:
    """``target`` as an integer tensor, or a ``TypeError`` naming it (None, str, float ...)."""
    try:
        a = np.asarray(target)
    except Exception:  # noqa: BLE001 - a ragged list, an object that refuses conversion
        a = np.asarray(None)
    if a.dtype.kind not in "iu":
        raise TypeError(f"target must be an int or a sequence of ints, got {target!r}")
    if a.dtype.kind == "u" and a.size and a.max() > INT64_MAX:
        raise ValueError(f"target {target!r} is out of range")
    return torch.as_tensor(a.astype(np.int64))


def _check_call(model: object, x: object, target: object) -> tuple[nn.Module, torch.Tensor, bool]:
    """The checks every method shares: ``model``, ``x`` (as ``_check_input``) and the type of
    ``target`` (its range is checked against the model's outputs by ``_check_target``)."""
    model = _check_model(model)
    x, single = _check_input(model, x)
    _target_tensor(target)
    return model, x, single


def _check_target(target: object, n: int, num_classes: int) -> torch.Tensor:
    t = _target_tensor(target)
    if t.ndim == 0:
        t = t.expand(n)
    if t.shape != (n,):
        raise ValueError(f"target must be one int or {n} ints (one per image), got {target!r}")
    if (t < 0).any() or (t >= num_classes).any():
        raise ValueError(
            f"target {target!r} is out of range for a model with {num_classes} outputs "
            f"(0..{num_classes - 1})"
        )
    return t.to(torch.int64)


def _get_layer(model: nn.Module, layer: object) -> nn.Module:
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a module path (str), got {type(layer).__name__}")
    modules = dict(model.named_modules())
    if layer not in modules or layer == "":
        convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d)]
        shown = ", ".join(convs[:6]) + (", ..." if len(convs) > 6 else "")
        raise ValueError(f"layer {layer!r} is not a module of the model (its Conv2d: {shown})")
    return modules[layer]


@contextlib.contextmanager
def _evaluating(model: nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _forward(model: nn.Module, x: torch.Tensor, logits: bool = True) -> torch.Tensor:
    try:
        out = model(x)
    except RuntimeError as exc:
        raise ValueError(f"x of shape {tuple(x.shape)} does not fit the model: {exc}") from None
    if logits and (not isinstance(out, torch.Tensor) or out.ndim != 2):
        raise ValueError("model must return logits of shape (N, classes)")
    return out


def _logit(model: nn.Module, x: torch.Tensor, target: object) -> tuple[torch.Tensor, torch.Tensor]:
    """``y_t = model(x)[n, t_n]`` per image, and the checked targets."""
    out = _forward(model, x)
    t = _check_target(target, len(x), out.shape[1])
    return out.gather(1, t[:, None])[:, 0], t


def _input_gradient(model: nn.Module, x: torch.Tensor, target: object) -> torch.Tensor:
    """``dy_t / dx`` for every image (images do not interact in eval mode, so one backward
    pass of ``sum_n y_t(x_n)`` gives each image its own gradient)."""
    x = x.clone().requires_grad_(True)
    with torch.enable_grad():
        y, _ = _logit(model, x, target)
        (grad,) = torch.autograd.grad(y.sum(), x)
    return grad


def _out(t: torch.Tensor, single: bool) -> np.ndarray:
    a = t.detach().to(torch.float32).numpy()
    return a[0] if single else a


# --------------------------------------------------------------------------------------------
# Activations and one unit opened up
# --------------------------------------------------------------------------------------------
def activations(model: nn.Module, x: torch.Tensor | np.ndarray) -> dict[str, np.ndarray]:
    """The output of every convolution, activation and pooling module for ``x``, by module path
    in the order the forward pass calls them (forward hooks, so branches such as a ResNet's
    shortcut are included). A module called twice appears again as ``"path (call 2)"``.
    """
    model = _check_model(model)
    x, single = _check_input(model, x)
    kinds = (nn.Conv2d, *ACTIVATIONS, *POOLING)
    found: dict[str, np.ndarray] = {}

    def hook(name: str) -> Callable:
        def record(module, inputs, output):
            out = output[0] if isinstance(output, tuple) else output
            key, k = name, 1
            while key in found:
                k += 1
                key = f"{name} (call {k})"
            found[key] = _out(out.detach().clone(), single)

        return record

    handles = [
        m.register_forward_hook(hook(n)) for n, m in model.named_modules() if isinstance(m, kinds)
    ]
    try:
        with _evaluating(model), torch.no_grad():
            _forward(model, x, logits=False)
    finally:
        for h in handles:
            h.remove()
    return found


@dataclass
class FollowingStep:
    """One module after the opened unit: its path, kind (class name), where the unit's value
    went (``row``, ``col``; a pooling module maps the unit to the window holding it) and the
    module's output there."""

    name: str
    kind: str
    row: int
    col: int
    value: float


@dataclass
class UnitContributions:
    """Output unit ``(channel, row, col)`` of the ``Conv2d`` ``layer``, opened up.

    ``pre-activation = sum_c sum_{a,b} windows[c, a, b] * kernel[c, a, b] + bias``:
    ``windows`` ``(C_in/groups, kh, kw)`` are the padded input values under the kernel
    (``input_rows``, ``input_cols``: their coordinates in the unpadded input, dilation
    included; outside ``0..H-1`` means padding), ``kernel`` the filter's slices, ``products``
    their elementwise products, ``channel_sums`` the sum per input channel
    (``input_channels`` says which ones: a grouped convolution sees only its group),
    ``total`` the pre-activation, ``output`` the module's own output at the unit (equal to
    ``total`` up to float32 rounding: checked). ``following`` are the modules the value then
    goes through (see ``unit_contributions``).
    """

    layer: str
    channel: int
    row: int
    col: int
    input_channels: np.ndarray
    input_rows: np.ndarray
    input_cols: np.ndarray
    windows: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    channel_sums: np.ndarray
    bias: float
    total: float
    output: float
    following: list[FollowingStep] = field(default_factory=list)


def _pooled_position(module: nn.Module, pos: tuple[int, int], size_in, size_out):
    """Where a pooling module sends input position ``pos``: the output whose window holds it
    (the last such window when windows overlap), or None when no window does."""
    if isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d):
        new = []
        for p, n_in, n_out in zip(pos, size_in, size_out, strict=True):
            # windows [floor(o I / O), ceil((o + 1) I / O)) cover every pixel: the last one
            # that starts at or before p holds it
            starts = np.arange(n_out) * n_in // n_out
            new.append(int(np.searchsorted(starts, p, side="right")) - 1)
        return tuple(new)
    k = check_pair("kernel_size", module.kernel_size)
    s = check_pair("stride", module.stride if module.stride is not None else module.kernel_size)
    pad = check_pair("padding", getattr(module, "padding", 0))
    dil = check_pair("dilation", getattr(module, "dilation", 1))
    new = []
    for i in range(2):
        # the last window whose taps start, start + dil, ..., start + dil (k - 1) hold it
        o = min((pos[i] + pad[i]) // s[i], size_out[i] - 1)
        while o >= 0 and (pos[i] + pad[i] - o * s[i]) % dil[i]:
            o -= 1
        start = o * s[i] - pad[i]
        if o < 0 or not start <= pos[i] <= start + dil[i] * (k[i] - 1):
            return None
        new.append(o)
    return tuple(new)


def conv_unit_terms(
    conv: nn.Conv2d,
    x: torch.Tensor,
    channel: int | np.ndarray,
    row: int | np.ndarray,
    col: int | np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The terms of output units ``(channel[u], row[u], col[u])`` of ``conv`` on its input
    ``x`` ``(C_in, H, W)``, for many units at once (the arrays broadcast to ``U`` units):
    ``(windows, kernels, channels, rows, cols)`` with ``windows``, ``kernels``
    ``(U, C_in/groups, kh, kw)`` float64 (``sum(windows * kernels) + bias`` is each unit's
    pre-activation), the input channels ``(U, C_in/groups)`` of each unit's group, and the
    window's input rows ``(U, kh)`` and columns ``(U, kw)`` (negative or past the border:
    padding, filled as ``padding_mode`` says)."""
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
    channel, row, col = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(v)) for v in (channel, row, col))
    )
    left, right, top, bottom = conv._reversed_padding_repeated_twice
    mode = "constant" if conv.padding_mode == "zeros" else conv.padding_mode
    padded = F.pad(x.detach()[None], (left, right, top, bottom), mode=mode)[0].double().numpy()
    per_group = conv.in_channels // conv.groups
    group = channel // (conv.out_channels // conv.groups)
    chans = group[:, None] * per_group + np.arange(per_group)  # (U, Cg)
    rows = row[:, None] * conv.stride[0] + conv.dilation[0] * np.arange(conv.kernel_size[0])
    cols = col[:, None] * conv.stride[1] + conv.dilation[1] * np.arange(conv.kernel_size[1])
    windows = padded[chans[:, :, None, None], rows[:, None, :, None], cols[:, None, None, :]]
    kernels = conv.weight.detach().double().numpy()[channel]
    return windows, kernels, chans, rows - top, cols - left


def unit_contributions(
    model: nn.Module,
    layer: str,
    channel: int,
    row: int,
    col: int,
    x: torch.Tensor | np.ndarray,
) -> UnitContributions:
    """Open up output unit ``(k, i, j) = (channel, row, col)`` of the ``Conv2d`` at path
    ``layer`` for one image ``x`` (``(C, H, W)`` or ``(1, C, H, W)``):

    ``z = b_k + sum_{c in group(k)} sum_{a,b} x_pad[c, i s_h + a d_h, j s_w + b d_w] W[k, c, a, b]``

    with the module's stride ``s``, dilation ``d``, padding (any ``padding_mode``) and groups.
    ``following``: the chain of modules each fed exactly the previous one's output tensor
    (what an ``nn.Sequential`` does: BatchNorm, ReLU, pooling ...), with the value at the
    unit's position; the chain ends at the next ``Conv2d`` / ``Linear``, at a module that
    changes the layout in another way, and does not follow a tensor into a residual sum or a
    functional call (so for a ResNet block it stops where the block adds its shortcut). A
    module called more than once is opened at its first call.
    """
    model = _check_model(model)
    conv = _get_layer(model, layer)
    if not isinstance(conv, nn.Conv2d):
        raise ValueError(f"layer {layer!r} is a {type(conv).__name__}, not a Conv2d")
    x, _ = _check_input(model, x)
    if len(x) != 1:
        raise ValueError(f"x must be one image, got a batch of {len(x)}")
    channel = check_int("channel", channel, 0)
    if channel >= conv.out_channels:
        raise ValueError(
            f"channel must be below {conv.out_channels} (layer {layer!r}), got {channel}"
        )
    row, col = check_int("row", row, 0), check_int("col", col, 0)

    names = {m: n for n, m in model.named_modules()}
    seen: dict[str, object] = {}
    steps: list[FollowingStep] = []

    def on_conv(module, inputs, output):
        if "input" not in seen:
            seen["input"], seen["output"] = inputs[0].detach().clone(), output.detach().clone()
            h, w = output.shape[-2:]
            if row < h and col < w:
                seen["chain"], seen["pos"] = output, (row, col)

    def on_leaf(module, inputs, output):
        chain = seen.get("chain")
        if chain is None or module is conv or not inputs or inputs[0] is not chain:
            return
        out = output[0] if isinstance(output, tuple) else output
        if isinstance(module, nn.Conv2d | nn.Linear) or not isinstance(out, torch.Tensor):
            seen["chain"] = None
            return
        pos = seen["pos"]
        if isinstance(module, POOLING) and out.ndim == 4:
            pos = _pooled_position(module, pos, chain.shape[-2:], out.shape[-2:])
        elif out.shape != chain.shape:
            pos = None
        if pos is None:
            seen["chain"] = None
            return
        value = float(out[0, channel, pos[0], pos[1]])
        steps.append(FollowingStep(names[module], type(module).__name__, *pos, value))
        seen["chain"], seen["pos"] = out, pos

    leaves = [m for m in model.modules() if not list(m.children()) and m is not conv]
    handles = [conv.register_forward_hook(on_conv)]
    handles += [m.register_forward_hook(on_leaf) for m in leaves]
    try:
        with _evaluating(model), torch.no_grad():
            _forward(model, x, logits=False)
    finally:
        for h in handles:
            h.remove()
    if "input" not in seen:
        raise ValueError(f"layer {layer!r} is not called by the model's forward pass")
    out_h, out_w = seen["output"].shape[-2:]
    if row >= out_h or col >= out_w:
        raise ValueError(
            f"row and col must be below the output size ({out_h}, {out_w}) of layer "
            f"{layer!r}, got ({row}, {col})"
        )

    windows, kernel, chans, rows, cols = conv_unit_terms(conv, seen["input"][0], channel, row, col)
    windows, kernel = windows[0], kernel[0]
    products = windows * kernel
    channel_sums = products.sum(axis=(1, 2))
    bias = 0.0 if conv.bias is None else float(conv.bias[channel].detach())
    total = float(channel_sums.sum() + bias)
    output = float(seen["output"][0, channel, row, col])
    if not np.isclose(total, output, rtol=1e-4, atol=1e-5 * (1 + np.abs(products).sum())):
        raise RuntimeError(
            f"layer {layer!r} output {output} differs from its weighted sum {total}: "
            "its forward is not a plain convolution"
        )
    return UnitContributions(
        layer, channel, row, col, chans[0], rows[0], cols[0],
        windows.astype(np.float32), kernel.astype(np.float32), products.astype(np.float32),
        channel_sums.astype(np.float32), bias, total, output, steps,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Gradient and perturbation maps on the input
# --------------------------------------------------------------------------------------------
def saliency(
    model: nn.Module, x: torch.Tensor | np.ndarray, target: int | Sequence[int]
) -> np.ndarray:
    """Saliency (Simonyan et al. 2014): ``|dy_t / dx|``, per pixel and channel."""
    model, x, single = _check_call(model, x, target)
    with _evaluating(model):
        return _out(_input_gradient(model, x, target).abs(), single)


def gradient_x_input(
    model: nn.Module, x: torch.Tensor | np.ndarray, target: int | Sequence[int]
) -> np.ndarray:
    """Gradient times input (Shrikumar et al. 2016): ``x * dy_t / dx``."""
    model, x, single = _check_call(model, x, target)
    with _evaluating(model):
        return _out(x * _input_gradient(model, x, target), single)


def _baseline(baseline: object, x: torch.Tensor, single: bool) -> torch.Tensor:
    if baseline is None:
        return torch.zeros_like(x)
    if isinstance(baseline, bool | np.bool_):
        raise TypeError("baseline must be a number or an array like x, got a bool")
    if isinstance(baseline, numbers.Real):
        return torch.full_like(x, check_real("baseline", baseline))
    b = check_array("baseline", baseline, (0, 1, 2, 3, 4))
    if not np.all(np.isfinite(b)):
        raise ValueError("baseline must contain only finite numbers (no NaN or inf)")
    b = torch.as_tensor(b.astype(np.float32))
    if single and b.ndim == 3:
        b = b[None]
    try:
        return torch.broadcast_to(b, x.shape).clone()
    except RuntimeError:
        raise ValueError(
            f"baseline of shape {tuple(b.shape)} does not match x {tuple(x.shape)}"
        ) from None


def integrated_gradients(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    target: int | Sequence[int],
    baseline: float | np.ndarray | torch.Tensor | None = None,
    steps: int = 50,
    method: str = "gausslegendre",
) -> np.ndarray:
    """Integrated gradients (Sundararajan et al. 2017), from baseline ``x'`` (default 0):

    ``IG(x) = (x - x') * int_0^1 dy_t/dx (x' + a (x - x')) da
    ~ (x - x') * sum_k w_k dy_t/dx (x' + a_k (x - x'))``

    with ``steps`` nodes ``a_k`` and weights ``w_k`` of the Gauss-Legendre rule on [0, 1]
    (``method="gausslegendre"``, Captum's default) or the trapezoid rule (``"trapezoid"``:
    ``a_k = k/(steps-1)``, ``w_k = 1/(steps-1)``, halved at both ends; Captum's
    ``"riemann_trapezoid"`` uses ``1/steps`` instead, so its weights sum to
    ``(steps-1)/steps``). By completeness, ``sum IG ~ y_t(x) - y_t(x')``.
    """
    model, x, single = _check_call(model, x, target)
    steps = check_int("steps", steps, 2)
    method = check_choice("method", method, ("gausslegendre", "trapezoid"))
    base = _baseline(baseline, x, single)
    if method == "gausslegendre":
        # leggauss solves a steps x steps eigenproblem
        check_memory(f"steps {steps}", 3 * 8.0 * steps * steps, "the Gauss-Legendre nodes")
        alphas, weights = _gauss_legendre(steps)
    else:
        alphas = np.linspace(0, 1, steps)
        weights = np.full(steps, 1 / (steps - 1))
        weights[[0, -1]] /= 2
    n = len(x)
    targets = _check_target(target, n, _num_classes(model, x))
    alphas = torch.tensor(alphas, dtype=torch.float32)
    weights = torch.tensor(weights, dtype=torch.float32)
    total = torch.zeros_like(x)
    chunk = _step(x)
    with _evaluating(model):
        # the (step, image) pairs in chunks, so memory stays at one chunk whatever N and steps
        for start in range(0, steps * n, chunk):
            k = torch.arange(start, min(start + chunk, steps * n))
            step, image = k // n, k % n
            a = alphas[step].view(-1, 1, 1, 1)
            path = base[image] + a * (x[image] - base[image])
            grad = _input_gradient(model, path, targets[image])
            total.index_add_(0, image, grad * weights[step].view(-1, 1, 1, 1))
    return _out(total * (x - base), single)


@functools.lru_cache(maxsize=16)
def _gauss_legendre(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the ``steps``-point Gauss-Legendre rule on [0, 1]."""
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    return 0.5 * (nodes + 1), 0.5 * weights


def _step(x: torch.Tensor) -> int:
    return max(1, _CHUNK_ELEMENTS // max(1, x[0].numel()))


def _num_classes(model: nn.Module, x: torch.Tensor) -> int:
    with _evaluating(model), torch.no_grad():
        return _forward(model, x[:1]).shape[1]


def occlusion(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    target: int | Sequence[int],
    patch: int | tuple[int, int] = 4,
    stride: int | tuple[int, int] = 2,
    baseline: float = 0.0,
) -> np.ndarray:
    """Occlusion (Zeiler & Fergus 2014): slide a ``patch`` of value ``baseline`` (all channels)
    over the image with ``stride``; each pixel gets the mean drop of the target logit over the
    windows that cover it:

    ``A[p] = mean_{w : p in w} ( y_t(x) - y_t(x with w occluded) )``

    Windows start at ``0, s, 2s, ...`` up to the first that reaches the border (clipped
    there, as Captum does), so every pixel is covered when ``stride <= patch``; a pixel no
    window covers gets 0.
    """
    model, x, single = _check_call(model, x, target)
    ph, pw = check_pair("patch", patch, 1)
    sh, sw = check_pair("stride", stride, 1)
    baseline = check_real("baseline", baseline)
    n, c, h, w = x.shape
    if ph > h or pw > w:
        raise ValueError(f"patch ({ph}, {pw}) is larger than the image ({h}, {w})")
    tops = sh * np.arange(-(-(h - ph) // sh) + 1)
    lefts = sw * np.arange(-(-(w - pw) // sw) + 1)
    masks = torch.zeros(len(tops) * len(lefts), h, w, dtype=torch.bool)
    for k, (i, j) in enumerate((i, j) for i in tops for j in lefts):
        masks[k, i : i + ph, j : j + pw] = True
    with _evaluating(model), torch.no_grad():
        y, t = _logit(model, x, target)
        drops = torch.empty(len(masks), n)
        per_mask = max(1, _step(x) // n)
        for s in range(0, len(masks), per_mask):
            m = masks[s : s + per_mask, None, None]  # (M, 1, 1, H, W)
            occluded = torch.where(m, torch.tensor(float(baseline)), x[None]).reshape(-1, c, h, w)
            y_occ = _forward(model, occluded).gather(1, t.repeat(len(m))[:, None])[:, 0]
            drops[s : s + per_mask] = y[None] - y_occ.view(len(m), n)
    counts = masks.sum(0).float()
    total = torch.einsum("mn,mhw->nhw", drops, masks.float())
    attribution = torch.where(counts > 0, total / counts.clamp(min=1), 0.0)
    return _out(attribution[:, None].expand(n, c, h, w), single)


# --------------------------------------------------------------------------------------------
# Class activation maps
# --------------------------------------------------------------------------------------------
def _is_global_average(m: nn.Module) -> bool:
    return isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size in (1, (1, 1), [1, 1])


def cam(model: nn.Module, x: torch.Tensor | np.ndarray, target: int | Sequence[int]) -> np.ndarray:
    """Class activation map (Zhou et al. 2016) of a network ending in global average pooling
    and one linear layer, ``y_c = sum_k w_ck (1/hw) sum_ij A_k[i, j] + b_c``:

    ``CAM_c[i, j] = sum_k w_ck A_k[i, j]``  (so ``y_c = mean_ij CAM_c[i, j] + b_c``)

    ``A`` is the input of the last ``AdaptiveAvgPool2d(1)``, at its own resolution ``(h, w)``.
    """
    model, x, single = _check_call(model, x, target)
    seen: dict[str, torch.Tensor] = {}
    gaps = [m for m in model.modules() if _is_global_average(m)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not gaps or not linears:
        raise ValueError("model must end in global average pooling and one Linear layer for CAM")

    def on_gap(module, inputs, output):
        seen["A"] = inputs[0].detach()

    def on_linear(module, inputs, output):
        seen["linear"] = module

    handles = [gaps[-1].register_forward_hook(on_gap)]
    handles += [m.register_forward_hook(on_linear) for m in linears]
    try:
        with _evaluating(model), torch.no_grad():
            y, t = _logit(model, x, target)
            logits = _forward(model, x)
    finally:
        for h in handles:
            h.remove()
    A, linear = seen.get("A"), seen.get("linear")
    if A is None or linear is None or linear.in_features != A.shape[1]:
        raise ValueError("model must end in global average pooling and one Linear layer for CAM")
    weights = linear.weight.detach()[t]  # (N, K)
    maps = torch.einsum("nk,nkij->nij", weights, A)
    explained = F.linear(A.mean((2, 3)), linear.weight, linear.bias)
    if not torch.isfinite(logits).all():
        raise ValueError("x gives the model non-finite logits (inf or NaN in x?): no CAM")
    if not torch.allclose(explained, logits, rtol=1e-4, atol=1e-4 * (1 + logits.abs().max())):
        raise ValueError(
            "model must end in global average pooling and one Linear layer for CAM: "
            "its logits are not the linear layer applied to the pooled features"
        )
    return _out(maps, single)


def _default_layer(model: nn.Module, x: torch.Tensor) -> str:
    """The innermost module whose output is fed to the last global average pooling (the
    final feature maps); without such a pooling, the last ``Conv2d`` called."""
    calls: list[tuple[str, torch.Tensor]] = []
    names = {m: n for n, m in model.named_modules()}

    def record(module, inputs, output):
        calls.append((names[module], output))
        if _is_global_average(module):
            calls.append(("<gap>", inputs[0]))

    handles = [m.register_forward_hook(record) for n, m in model.named_modules() if n]
    try:
        with _evaluating(model), torch.no_grad():
            _forward(model, x[:1], logits=False)
    finally:
        for h in handles:
            h.remove()
    gap_inputs = [i for i, (n, _) in enumerate(calls) if n == "<gap>"]
    if gap_inputs:
        fed = calls[gap_inputs[-1]][1]
        for name, out in calls[: gap_inputs[-1]]:
            if out is fed:
                return name
    convs = [n for n, _ in calls if isinstance(dict(model.named_modules())[n], nn.Conv2d)]
    return convs[-1]


def grad_cam(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    target: int | Sequence[int],
    layer: str | None = None,
    relu: bool = True,
) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017) at the output ``A`` of module ``layer``:

    ``alpha_k = (1/hw) sum_ij dy_t / dA_k[i, j]``,  ``Grad-CAM = ReLU(sum_k alpha_k A_k)``

    (``relu=False`` leaves out the ReLU). ``layer=None``: the module whose output feeds the
    last global average pooling (e.g. ``"features.relu3"`` of ``shapes_cnn``), else the last
    ``Conv2d``. On a GAP + linear head at that layer, ``alpha_k = w_tk / hw``, so Grad-CAM
    without ReLU is ``CAM / hw``.
    """
    model, x, single = _check_call(model, x, target)
    relu = check_bool("relu", relu)
    if layer is None:
        layer = _default_layer(model, x)
    module = _get_layer(model, layer)
    seen: dict[str, torch.Tensor] = {}

    def record(m, inputs, output):
        seen.setdefault("A", output[0] if isinstance(output, tuple) else output)

    handle = module.register_forward_hook(record)
    try:
        with _evaluating(model), torch.enable_grad():
            y, _ = _logit(model, x.clone().requires_grad_(True), target)
            if "A" not in seen:
                raise ValueError(f"layer {layer!r} is not called by the model's forward pass")
            A = seen["A"]
            if A.ndim != 4:
                raise ValueError(
                    f"layer {layer!r} must output (N, C, h, w) maps, got {tuple(A.shape)}"
                )
            (grad,) = torch.autograd.grad(y.sum(), A)
    finally:
        handle.remove()
    alpha = grad.mean((2, 3), keepdim=True)
    maps = (alpha * A.detach()).sum(1)
    return _out(maps.clamp(min=0) if relu else maps, single)


# --------------------------------------------------------------------------------------------
# Maps at the image's resolution, and the measurements
# --------------------------------------------------------------------------------------------
def heatmap(attribution: np.ndarray) -> np.ndarray:
    """An input attribution ``(C, H, W)`` or ``(N, C, H, W)`` summed over its channels."""
    a = check_array("attribution", attribution, (3, 4)).astype(np.float32, copy=False)
    return a.sum(axis=-3)


def upsample(maps: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Bilinear resize of maps ``(h, w)`` or ``(N, h, w)`` to ``size`` (half-pixel centres,
    ``F.interpolate(..., align_corners=False)``, as Captum's ``LayerAttribution.interpolate``)."""
    size = check_pair("size", size, 1)
    m = check_array("maps", maps, (2, 3)).astype(np.float32)
    n = int(np.prod(m.shape[:-2]))
    check_memory(f"size {size}", 4.0 * n * size[0] * size[1], "the upsampled maps")
    t = torch.from_numpy(m.reshape(-1, 1, *m.shape[-2:]))
    out = F.interpolate(t, size=size, mode="bilinear", align_corners=False)
    return out.numpy().reshape(*m.shape[:-2], *size)


def attribution_map(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    target: int | Sequence[int],
    method: str,
    **options,
) -> np.ndarray:
    """The map of ``method`` (one of ``METHODS``) at the image's resolution: input
    attributions summed over channels (``heatmap``), CAM and Grad-CAM upsampled bilinearly
    (``upsample``). ``options`` go to the method (e.g. ``patch=`` for occlusion, ``layer=``
    for Grad-CAM). Shape ``(H, W)`` or ``(N, H, W)``."""
    method = check_choice("method", method, METHODS)
    fn = {
        "saliency": saliency,
        "gradient_x_input": gradient_x_input,
        "integrated_gradients": integrated_gradients,
        "occlusion": occlusion,
        "cam": cam,
        "grad_cam": grad_cam,
    }[method]
    result = fn(model, x, target, **options)
    size = tuple(np.shape(x)[-2:])
    if method in ("cam", "grad_cam"):
        return upsample(result, size)
    return heatmap(result)


def pointing_game(
    maps: np.ndarray, masks: np.ndarray, tolerance: float = 0, on_grid: bool = False
) -> bool | np.ndarray:
    """The pointing game (Zhang et al. 2016): does the map's peak ``argmax_p map[p]`` fall on
    the object (within ``tolerance`` pixels of a mask pixel)? ``maps`` ``(H, W)`` or
    ``(N, H, W)`` at any resolution (upsampled bilinearly to the mask's); the first maximum
    counts. ``masks``: boolean ``(H, W)`` or ``(N, H, W)``, True on the object (as
    ``cnnlib.data.shapes`` gives them; NumPy, torch or nested lists); a numeric array is
    refused, even one of exact 0s and 1s (write ``m > 0``): a mask is not a weighting.
    Returns a bool per image; ``mean()`` is the pointing accuracy.

    Zhang et al. count a hit within 15 pixels, so that a coarse map is not failed for peaking
    just beside a small object; they score maps resized to the original images (about
    500 x 375 pixels), so 15 pixels are 3-4 % of the side: about ``tolerance=1`` on 32 x 32
    images. A CAM of ``shapes_cnn`` lives on an 8 x 8 grid (stride 4) and its units see the
    object's outline, so its peak often lies a pixel or two outside the mask:
    ``tolerance=0`` is the strict version of the game.

    ``on_grid=True`` plays on the map's own coarser grid instead (its size must divide the
    mask's): a cell counts as object when any of its pixels is, and the peak cell must be
    one (no upsampling, no tolerance)."""
    m = check_array("maps", maps, (2, 3)).astype(np.float32)
    on_grid = check_bool("on_grid", on_grid)
    k = check_bool_array("masks", masks, (2, 3))
    if m.ndim != k.ndim or m.ndim not in (2, 3) or (m.ndim == 3 and len(m) != len(k)):
        raise ValueError(f"maps {m.shape} and masks {k.shape} must both be (H, W) or (N, H, W)")
    if 0 in m.shape[-2:] or 0 in k.shape[-2:]:
        raise ValueError(f"maps {m.shape} and masks {k.shape} must have at least one pixel")
    tolerance = check_real("tolerance", tolerance)
    if tolerance < 0:
        raise ValueError(f"tolerance must be a non-negative number, got {tolerance!r}")
    single = m.ndim == 2
    if not len(m):
        return np.zeros(0, bool)
    m, k = m.reshape(-1, *m.shape[-2:]), k.reshape(-1, *k.shape[-2:])
    if on_grid:
        (gh, gw), (mh, mw) = m.shape[-2:], k.shape[-2:]
        if tolerance or mh % gh or mw % gw:
            raise ValueError(
                f"on_grid needs tolerance 0 and a map grid {(gh, gw)} that divides the "
                f"mask {(mh, mw)}"
            )
        k = k.reshape(len(k), gh, mh // gh, gw, mw // gw).any(axis=(2, 4))
    elif m.shape[-2:] != k.shape[-2:]:
        m = upsample(m, k.shape[-2:])
    h, w = k.shape[-2:]
    peak = m.reshape(len(m), -1).argmax(1)
    py, px = peak // w, peak % w
    yy, xx = np.mgrid[0:h, 0:w]
    d2 = (yy[None] - py[:, None, None]) ** 2 + (xx[None] - px[:, None, None]) ** 2
    hits = np.where(k, d2, np.inf).reshape(len(k), -1).min(1) <= tolerance**2
    return bool(hits[0]) if single else hits


@dataclass
class DeletionCurve:
    """``scores[n, s]``: the softmax probability of the target after removing (deletion) or
    restoring (insertion) the ``fractions[s]`` most salient pixels of image ``n``; ``auc[n]``:
    the area under it over fractions 0..1 (trapezoid rule; deletion: lower means the map found
    what the score depends on, insertion: higher). ``floor[n]``: the probability on the fully
    filled image (where deletion ends and insertion starts); ``above_floor = auc - floor``,
    the area between the curve and that floor, so a fill that the network scores low or high
    does not move the number."""

    fractions: np.ndarray
    scores: np.ndarray
    auc: np.ndarray
    floor: np.ndarray | None = None
    above_floor: np.ndarray | None = None


#: how ``deletion_curve`` fills the removed pixels (besides a constant)
FILLS: tuple[str, ...] = ("mean", "blur")


def _fill(x: torch.Tensor, baseline: float | str) -> torch.Tensor:
    """The image the removed pixels take: a constant, each image's mean (per channel) or its
    Gaussian blur (standard deviation 4 pixels, border replicated)."""
    if isinstance(baseline, str):
        baseline = check_choice("baseline", baseline, FILLS)
        if baseline == "mean":
            return x.mean((2, 3), keepdim=True).expand_as(x).clone()
        from scipy import ndimage

        blurred = ndimage.gaussian_filter(x.numpy(), (0, 0, 4.0, 4.0), mode="nearest")
        return torch.from_numpy(np.ascontiguousarray(blurred, dtype=np.float32))
    return torch.full_like(x, check_real("baseline", baseline))


def deletion_curve(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    target: int | Sequence[int],
    maps: np.ndarray,
    steps: int = 16,
    baseline: float | str = 0.0,
    insertion: bool = False,
) -> DeletionCurve:
    """The deletion and insertion metrics (Petsiuk et al. 2018). Deletion: replace the pixels
    (all channels) by the fill ``baseline`` in order of decreasing ``maps`` value (ties: first
    pixel first) and follow ``p_t = softmax(model(x))[t]`` at the fractions ``s / steps``
    removed, ``AUC = int_0^1 p_t(f) df``. Insertion (``insertion=True``): start from the fill
    and put the original pixels back in the same order. ``baseline``: a number (0 is black
    on [0, 1] images), ``"mean"`` (each image's mean) or ``"blur"`` (a Gaussian blur of
    standard deviation 4 pixels, as Petsiuk et al. insert into a blurred image).
    ``maps``: ``(H, W)`` or ``(N, H, W)`` at the image's size."""
    model, x, single = _check_call(model, x, target)
    steps = check_int("steps", steps, 1)
    insertion = check_bool("insertion", insertion)
    n, c, h, w = x.shape
    m = (
        np.asarray(maps, dtype=np.float32).reshape(-1, h * w)
        if np.size(maps) == n * h * w
        else None
    )
    if m is None:
        raise ValueError(f"maps must be {(h, w) if single else (n, h, w)}, got {np.shape(maps)}")
    fill = _fill(x, baseline)
    order = np.argsort(-m, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(n)[:, None], order] = np.arange(h * w)
    fractions = np.linspace(0, 1, steps + 1)
    changed = torch.from_numpy(rank[None] < np.round(fractions * h * w)[:, None, None]).view(
        steps + 1, n, 1, h, w
    )
    start, end = (fill, x) if insertion else (x, fill)
    scores = torch.empty(steps + 1, n)
    with _evaluating(model), torch.no_grad():
        t = _check_target(target, n, _num_classes(model, x))
        per = max(1, _step(x) // n)
        for s in range(0, steps + 1, per):
            r = changed[s : s + per]
            batch = torch.where(r, end[None], start[None]).reshape(-1, c, h, w)
            p = F.softmax(_forward(model, batch), 1).gather(1, t.repeat(len(r))[:, None])
            scores[s : s + per] = p.view(len(r), n)
    scores = scores.T.double().numpy()
    auc = np.trapezoid(scores, fractions, axis=1)
    floor = scores[:, 0] if insertion else scores[:, -1]
    if single:
        return DeletionCurve(fractions, scores[0], auc[0], floor[0], auc[0] - floor[0])
    return DeletionCurve(fractions, scores, auc, floor, auc - floor)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rank correlation per image of two stacks of maps ``(N, ...)``: Pearson's
    correlation of the ranks (ties get their mean rank). A constant map gives nan."""
    from scipy.stats import rankdata

    ranks = tuple(range(2, 33))
    a = check_array("a", a, ranks).astype(np.float64, copy=False)
    b = check_array("b", b, ranks).astype(np.float64, copy=False)
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(
            f"a and b must be stacks of maps of one shape, got {a.shape} and {b.shape}"
        )
    ra = rankdata(a.reshape(len(a), -1), axis=1)
    rb = rankdata(b.reshape(len(b), -1), axis=1)
    ra -= ra.mean(1, keepdims=True)
    rb -= rb.mean(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ra * rb).sum(1) / np.sqrt((ra * ra).sum(1) * (rb * rb).sum(1))


@dataclass
class Cascade:
    """``layers[0]`` is ``"original"``; ``layers[l]`` the parameterised layer re-initialised at
    step ``l`` (top layer first, each step keeping the earlier ones random).
    ``correlations[method][l, n]`` is the rank correlation of image ``n``'s map after step
    ``l`` with its original map (of ``|map|``, or of the signed maps with ``absolute=False``);
    ``signed[method][l, n]`` always that of the signed maps."""

    layers: list[str]
    correlations: dict[str, np.ndarray]
    signed: dict[str, np.ndarray] = field(default_factory=dict)


def _resettable(module: nn.Module) -> bool:
    """A layer with its own parameters or running statistics and a ``reset_parameters``."""
    own = any(True for _ in module.parameters(recurse=False)) or any(
        b is not None for b in module.buffers(recurse=False)
    )
    return own and callable(getattr(module, "reset_parameters", None))


def cascading_randomization(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    target: int | Sequence[int],
    methods: Sequence[str] = ("saliency", "gradient_x_input", "integrated_gradients", "grad_cam"),
    seed: int = 0,
    absolute: bool = True,
    options: dict[str, dict] | None = None,
) -> Cascade:
    """The model-randomisation sanity check of Adebayo et al. (NeurIPS 2018): re-initialise
    every parameterised layer of a copy of ``model`` (``Conv2d``, ``Linear`` and batch norm:
    its ``gamma``, ``beta`` *and* running statistics; any module with its own parameters or
    buffers and a ``reset_parameters``) one at a time from the output down
    (``reset_parameters`` under ``seed``), recompute each method's map after every step, and
    measure Spearman's ``rho(|map_original|, |map_randomised|)`` per image
    (``absolute=False``: the signed maps; ``Cascade.signed`` has the signed ones either way).
    A map that depends on what the network learned decorrelates as the layers go; one that
    stays high is explaining the input, not the model. ``options``: per-method keyword
    arguments for ``attribution_map``. ``model`` is not changed.
    """
    model, x, single = _check_call(model, x, target)
    seed = check_int("seed", seed, 0)
    absolute = check_bool("absolute", absolute)
    methods = [check_choice("methods", m, METHODS) for m in methods]
    options = options or {}
    target_t = _check_target(target, len(x), _num_classes(model, x))
    clone = copy.deepcopy(model)
    names = {m: n for n, m in clone.named_modules()}
    called: list[str] = []

    def record(module, inputs, output):
        if names[module] not in called:
            called.append(names[module])

    weighted = [m for m in clone.modules() if _resettable(m)]
    handles = [m.register_forward_hook(record) for m in weighted]
    try:
        with _evaluating(clone), torch.no_grad():
            _forward(clone, x[:1])
    finally:
        for h in handles:
            h.remove()
    modules = dict(clone.named_modules())
    grad_cam_layer = _default_layer(model, x)

    def maps(net: nn.Module) -> dict[str, np.ndarray]:
        result = {}
        for method in methods:
            opts = dict(options.get(method, {}))
            if method == "grad_cam" and "layer" not in opts:
                opts["layer"] = grad_cam_layer
            result[method] = attribution_map(net, x, target_t, method, **opts)
        return result

    original = maps(clone)
    rho = {m: [np.ones(len(x))] for m in methods}
    rho_signed = {m: [np.ones(len(x))] for m in methods}
    for step, name in enumerate(reversed(called)):
        with torch.random.fork_rng():
            torch.manual_seed(seed + step)
            modules[name].reset_parameters()
        now = maps(clone)
        for m in methods:
            signed = rank_correlation(original[m], now[m])
            rho_signed[m].append(signed)
            rho[m].append(
                rank_correlation(np.abs(original[m]), np.abs(now[m])) if absolute else signed
            )
    return Cascade(
        ["original", *reversed(called)],
        {m: np.stack(v) for m, v in rho.items()},
        {m: np.stack(v) for m, v in rho_signed.items()},
    )


# --------------------------------------------------------------------------------------------
# Maps that know no model: the rows that would embarrass a method
# --------------------------------------------------------------------------------------------
#: the model-free maps of ``baseline_map``
BASELINES: tuple[str, ...] = ("blurred_image", "local_contrast", "edges", "centre", "random")


def baseline_map(x: torch.Tensor | np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    """A map computed from the image alone (or not even that), ``(H, W)`` or ``(N, H, W)``
    for ``x`` ``(C, H, W)`` or ``(N, C, H, W)`` (channels averaged to ``g``):

    - ``"blurred_image"``: ``G_1.5 * g``, a Gaussian blur of standard deviation 1.5 pixels
      (peaks on the brightest blob);
    - ``"local_contrast"``: ``|g - G_2 * g|``, the distance from the local mean (Gaussian,
      standard deviation 2 pixels);
    - ``"edges"``: the Sobel gradient magnitude ``sqrt((S_x * g)^2 + (S_y * g)^2)``;
    - ``"centre"``: ``d_max^2 - d^2``, ``d`` the distance to the image centre (the centre
      prior: a cone >= 0, highest at the centre, 0 in the corners);
    - ``"random"``: uniform noise from ``seed``.

    Filters extend the border by repeating the edge pixels (``mode="nearest"``). A method
    whose pointing game or deletion score is no better than these has not shown that it
    explains the model.
    """
    from scipy import ndimage

    kind = check_choice("kind", kind, BASELINES)
    seed = check_int("seed", seed, 0)
    a = check_array("x", x, (3, 4))
    single = a.ndim == 3
    if single:
        a = a[None]
    if 0 in a.shape:
        raise ValueError(f"x must hold at least one image of at least one pixel, got {a.shape}")
    g = a.mean(axis=1, dtype=np.float64)
    n, h, w = g.shape
    if kind == "blurred_image":
        m = ndimage.gaussian_filter(g, (0, 1.5, 1.5), mode="nearest")
    elif kind == "local_contrast":
        m = np.abs(g - ndimage.gaussian_filter(g, (0, 2.0, 2.0), mode="nearest"))
    elif kind == "edges":
        # Sobel per image: derivative [-1 0 1] along one axis, smoothing [1 2 1] along the
        # other (ndimage.sobel would also smooth across the batch axis)
        def sobel(axis: int, other: int) -> np.ndarray:
            d = ndimage.correlate1d(g, [-1.0, 0.0, 1.0], axis=axis, mode="nearest")
            return ndimage.correlate1d(d, [1.0, 2.0, 1.0], axis=other, mode="nearest")

        m = np.hypot(sobel(2, 1), sobel(1, 2))
    elif kind == "centre":
        yy, xx = np.mgrid[0:h, 0:w]
        d2 = (yy - (h - 1) / 2) ** 2 + (xx - (w - 1) / 2) ** 2
        m = np.broadcast_to(d2.max() - d2, g.shape)
    else:
        m = np.random.default_rng(seed).random(g.shape)
    m = np.ascontiguousarray(m, dtype=np.float32)
    return m[0] if single else m


def mass_in_mask(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The share of a map's absolute mass on the mask, per image:
    ``sum_p |map[p]| [p in mask] / sum_p |map[p]|`` (nan for an all-zero map). ``maps`` and
    boolean ``masks``: ``(H, W)`` or ``(N, H, W)`` of one size. A map spread evenly scores
    the mask's area; one entirely on the object scores 1."""
    m = np.abs(check_array("maps", maps, (2, 3)).astype(np.float64))
    k = check_bool_array("masks", masks, (2, 3))
    if m.shape != k.shape:
        raise ValueError(f"maps {m.shape} and masks {k.shape} must have the same shape")
    total = m.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k, m, 0).sum(axis=(-2, -1)) / total


def score_maps(
    maps: dict[str, np.ndarray],
    masks: np.ndarray,
    grids: dict[str, np.ndarray] | None = None,
    tolerance: float = 1,
) -> dict[str, dict[str, tuple[float, float, float] | None]]:
    """Notebook 09's scoreboard: for each map (name -> ``(N, H, W)``), against the object
    ``masks`` ``(N, H, W)``, the mean and 95 % ``bootstrap_interval`` of

    - ``"strict"``: ``pointing_game(map, masks)``, the peak pixel on the object;
    - ``"1 px"``: ``pointing_game(map, masks, tolerance)``, within ``tolerance`` pixels;
    - ``"grid"``: ``pointing_game(grid, masks, on_grid=True)`` for the names in ``grids``
      (name -> ``(N, h, w)``, the map on its own coarser grid), else None;
    - ``"mass"``: ``mass_in_mask(max(map, 0), masks)``, the share of the positive mass on
      the object.

    Returns name -> ``{"strict", "1 px", "grid", "mass"}`` -> ``(mean, low, high)`` or None."""
    if not isinstance(maps, dict) or not maps:
        raise TypeError("maps must be a non-empty dict of name -> (N, H, W) array")
    grids = {} if grids is None else grids
    if not isinstance(grids, dict) or not set(grids) <= set(maps):
        raise ValueError("grids must be a dict whose names are names of maps")
    score = {}
    for name, m in maps.items():
        grid = grids.get(name)
        score[name] = {
            "strict": bootstrap_interval(pointing_game(m, masks)),
            "1 px": bootstrap_interval(pointing_game(m, masks, tolerance=tolerance)),
            "grid": None
            if grid is None
            else bootstrap_interval(pointing_game(grid, masks, on_grid=True)),
            "mass": bootstrap_interval(mass_in_mask(np.maximum(m, 0), masks)),
        }
    return score


def format_interval(interval: Sequence[float] | None) -> str:
    """A share's ``(mean, low, high)`` in percent, ``"52.3 [49.1, 55.4]"``; None: ``"—"``."""
    if interval is None:
        return "—"
    values = check_array("interval", interval, (1,))
    if values.shape != (3,):
        raise ValueError(f"interval must be (mean, low, high), got {values.shape[0]} numbers")
    mean, low, high = (100 * float(v) for v in values)
    return f"{mean:5.1f} [{low:4.1f}, {high:4.1f}]"


def interval_table(rows: dict[str, object], columns: Sequence[str], name: str = "map") -> str:
    """A plain-text table: a header (``name``, then ``columns``), then one line per row: its
    name (underscores shown as spaces) and its intervals (``format_interval``, right-aligned
    under their column). A row is a sequence or a dict of intervals (taken in order); a
    shorter row leaves its last cells blank."""
    if not isinstance(rows, dict) or not rows:
        raise TypeError("rows must be a non-empty dict of name -> intervals")
    columns = [str(c) for c in columns]
    cells = {}
    for row, values in rows.items():
        values = list(values.values() if isinstance(values, dict) else values)
        if len(values) > len(columns):
            raise ValueError(f"row {row!r} has {len(values)} cells for {len(columns)} columns")
        cells[str(row).replace("_", " ")] = [format_interval(v) for v in values]
    first = max(len(name), *map(len, cells)) + 2
    widths = [max(len(c), 17) + 2 for c in columns]
    lines = [
        f"{name:<{first}}" + "".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True))
    ]
    for row, values in cells.items():
        text = "".join(f"{v:>{w}}" for v, w in zip(values, widths, strict=False))
        lines.append(f"{row:<{first}}{text}".rstrip())
    return "\n".join(lines)


def bootstrap_interval(
    values: np.ndarray, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """The mean of ``values`` (one number per image; NaN left out) and its percentile
    bootstrap interval: resample the images with replacement ``resamples`` times, and take
    the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the resampled
    means (Efron & Tibshirani 1993). Returns ``(mean, low, high)``."""
    v = check_array("values", values, (1,)).astype(np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        raise ValueError("values must hold at least one number that is not NaN")
    confidence = check_real("confidence", confidence)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    resamples = check_int("resamples", resamples, 1)
    check_memory(f"resamples {resamples}", 8.0 * resamples * v.size, "the resampled indices")
    rng = np.random.default_rng(check_int("seed", seed, 0))
    means = v[rng.integers(0, v.size, (resamples, v.size))].mean(1)
    low, high = np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(v.mean()), float(low), float(high)


# --------------------------------------------------------------------------------------------
# Figures of notebooks 08 and 09 (drawing only: every number comes from the functions above)
# --------------------------------------------------------------------------------------------
#: the methods whose maps are signed: drawn on a diverging colormap with limits symmetric about 0
SIGNED: frozenset[str] = frozenset({"gradient_x_input", "integrated_gradients", "occlusion", "cam"})


def show_maps(
    images: np.ndarray,
    maps: dict[str, np.ndarray],
    masks: np.ndarray | None = None,
    titles: Sequence[str] | None = None,
):
    """A pyplot figure with one row per image: the image (grey, 0 to 1; channels averaged),
    then one panel per entry of ``maps`` (name -> ``(N, H, W)``). A map named in ``SIGNED``
    is drawn on the course's diverging colormap with limits ``±max|map|`` (white is 0), any
    other on the sequential one from 0 to its maximum; ``masks`` ``(N, H, W)``, if given, is
    outlined on every map. ``titles``: one per image (e.g. its class). Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from cnnlib.plotting import DIVERGING, HIGHLIGHT, SEQUENTIAL
    from cnnlib.widgets.saliency import outline_segments

    x = check_array("images", images, (4,))
    n = len(x)
    if not isinstance(maps, dict) or not maps:
        raise TypeError("maps must be a non-empty dict of name -> (N, H, W) array")
    arrays = {name: check_array(f"maps[{name!r}]", m, (3,)) for name, m in maps.items()}
    for name, m in arrays.items():
        if m.shape != (n, *x.shape[-2:]):
            raise ValueError(f"maps[{name!r}] must be {(n, *x.shape[-2:])}, got {m.shape}")
    k = None if masks is None else check_bool_array("masks", masks, (3,))
    if k is not None and k.shape != (n, *x.shape[-2:]):
        raise ValueError(f"masks must be {(n, *x.shape[-2:])}, got {k.shape}")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must have one entry per image ({n}), got {len(titles)}")
    cols = 1 + len(arrays)
    fig, axes = plt.subplots(
        n, cols, figsize=(2 * cols, 2.1 * n), layout="constrained", squeeze=False
    )
    for row in range(n):
        axes[row, 0].imshow(x[row].mean(0), cmap="gray", vmin=0, vmax=1)
        if titles is not None:
            axes[row, 0].set_title(str(titles[row]))
        for col, (name, m) in enumerate(arrays.items(), start=1):
            lim = float(np.abs(m[row]).max()) or 1.0
            low, cmap = (-lim, DIVERGING) if name in SIGNED else (0.0, SEQUENTIAL)
            axes[row, col].imshow(m[row], cmap=cmap, vmin=low, vmax=lim)
            if k is not None:
                segments = LineCollection(
                    outline_segments(k[row]), colors=HIGHLIGHT, linewidths=1.5
                )
                axes[row, col].add_collection(segments)
            if row == 0:
                axes[row, col].set_title(name.replace("_", "\n", 1).replace("_", " "))
    for ax in axes.ravel():
        ax.set_axis_off()
    return fig


def plot_deletion(curves: dict[tuple[str, str], DeletionCurve]):
    """A pyplot figure of deletion and insertion curves (``deletion_curve``), ``curves``:
    ``(order, "deletion" | "insertion")`` -> curve. Left deletion, right insertion: per
    order, the mean over images of the true class's probability against the fraction of
    pixels changed; orders that know no network (named ``"no network: ..."``) dashed.
    Returns the figure."""
    import matplotlib.pyplot as plt

    if not isinstance(curves, dict) or not curves:
        raise TypeError("curves must be a non-empty dict of (order, kind) -> DeletionCurve")
    for key, c in curves.items():
        if not (isinstance(key, tuple) and len(key) == 2 and key[1] in ("deletion", "insertion")):
            raise ValueError(
                f"curves' keys must be (order, 'deletion' or 'insertion'), got {key!r}"
            )
        if not isinstance(c, DeletionCurve):
            raise TypeError(f"curves[{key!r}] must be a DeletionCurve, got {type(c).__name__}")
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained", sharey=True)
    for (order, kind), c in curves.items():
        ax = axes[int(kind == "insertion")]
        style = "--" if order.startswith("no network") else "-"
        ax.plot(c.fractions, np.atleast_2d(c.scores).mean(0), style, label=order.replace("_", " "))
    for ax, kind in zip(axes, ("deletion", "insertion"), strict=True):
        ax.set(title=kind, xlabel="fraction of pixels changed")
    axes[0].set_ylabel("probability of the true class")
    axes[1].legend()
    return fig


def plot_cascade(cascade: Cascade):
    """A pyplot figure of a ``Cascade``: per method, the mean over images of Spearman's rho
    with the original map after each randomisation step, of ``|map|`` (left) and of the
    signed map (right). Returns the figure."""
    import matplotlib.pyplot as plt

    if not isinstance(cascade, Cascade):
        raise TypeError(f"cascade must be a Cascade, got {type(cascade).__name__}")
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.0), layout="constrained", sharey=True)
    panels = (("|map|", cascade.correlations), ("signed map", cascade.signed))
    for ax, (title, rhos) in zip(axes, panels, strict=True):
        for m, rho in rhos.items():
            ax.plot(np.nanmean(rho, axis=1), "o-", label=m.replace("_", " "))
        names = [n.split(".")[-1] for n in cascade.layers]
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", rotation_mode="anchor")
        ax.set(title=title, xlabel="randomised down to", ylim=(-0.6, 1.05))
    axes[0].set_ylabel("rank correlation with the original map")
    axes[0].legend()
    return fig
