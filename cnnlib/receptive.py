"""Receptive fields: size, effective stride (jump) and effective padding, per layer and per model.

Along one axis, a layer with kernel size ``k``, stride ``s``, padding ``p`` and dilation ``d``
(effective kernel ``k' = d(k - 1) + 1``) on top of layers ``1 .. l-1`` gives (Araujo, Norris &
Sim, "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019)

- receptive-field size   ``r_l = r_{l-1} + (k'_l - 1) * S_{l-1}``   (``r_0 = 1``)
- effective stride       ``S_l = S_{l-1} * s_l = prod_{i<=l} s_i``    (``S_0 = 1``), the *jump*
- effective padding      ``P_l = P_{l-1} + p_l * S_{l-1}``           (``P_0 = 0``)

so that ``r_L = sum_l (k'_l - 1) prod_{i<l} s_i + 1``: the familiar recursion (often
written ``RF_l = RF_{l-1} + (k_l - 1) prod_{i<l} s_i``) with the dilated kernel. The course uses
these symbols everywhere: ``r_l`` for the size, ``S_l`` for the effective stride (jump),
``P_l`` for the effective padding.
Unit ``u`` of layer ``l`` sees the input indices ``u * S_l - P_l .. u * S_l - P_l + r_l - 1``
(inclusive), which may reach past the border into the padding; ``Field.window`` reports that
interval and its clipped part. The clipped part is clipped layer by layer, not once at the
input: a window of units ``a .. b`` of layer ``l`` reads ``a s - p .. b s - p + d(k - 1)`` of
layer ``l - 1``, cut to that layer's ``0 .. n_{l-1} - 1``. Clipping once is not enough where a
strided layer drops the input's last pixels (``n_out = floor((n + 2p - k') / s) + 1``) and a
later layer's padding stands in their place: those pixels are inside the formula's window but
nothing reads them.

``receptive_field(layers)`` applies the recursion to a list of ``(kernel_size, stride, padding,
dilation)`` tuples. ``receptive_field_of(module, input_size)`` runs a torch module once on a
shape-only ("meta") tensor, follows every tensor from the input to the output and applies the
same recursion at each convolution and pooling; where branches meet (a residual sum, a
concatenation) it takes the union of their fields, i.e. the largest one. Global pooling and
flattening make the field the whole input.

``empirical_field`` is the independent check: the bounding box of the input pixels with a
non-zero gradient of one output unit, for a copy of the network with positive weights.
``effective_receptive_field`` is Luo et al.'s (NIPS 2016) measure: how strongly each input
pixel moves one output unit, ``|d y_u / d x|`` normalised to sum to 1.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from cnnlib._validate import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_memory,
    check_pair,
)
from cnnlib.shapes import _windows, conv_output_size

IntOrPair = int | tuple[int, int]

__all__ = [
    "ALEXNET_LAYERS",
    "RESNET18_LAYERS",
    "RESNET50_LAYERS",
    "RESNET50_SLIM_LAYERS",
    "SIMPLE_CNN_LAYERS",
    "VGG16_LAYERS",
    "Field",
    "UnitWindows",
    "Window",
    "conv_stack",
    "effective_receptive_field",
    "empirical_field",
    "erf_moments",
    "positive_copy",
    "receptive_field",
    "receptive_field_of",
    "unit_windows",
    "train_box_average",
]


# -- one axis -----------------------------------------------------------------------------------
class _Axis(NamedTuple):
    """One axis of a tensor's field: unit u sees u * jump - padding + [0, size)."""

    size: int
    jump: int
    padding: int


_INPUT_AXIS = _Axis(1, 1, 0)


def _through(a: _Axis, k: int, s: int, p: int, d: int) -> _Axis:
    """The field after a window of kernel k, stride s, padding p, dilation d (one axis)."""
    k_eff = d * (k - 1) + 1
    return _Axis(a.size + (k_eff - 1) * a.jump, a.jump * s, a.padding + p * a.jump)


def _union(axes: Sequence[_Axis], units: int) -> _Axis:
    """The smallest field that contains the fields of all ``axes`` for units 0 .. units-1.

    With equal jumps this is exact for every unit; otherwise it covers the first and the last.
    """
    jump = max(a.jump for a in axes)
    padding = max(a.padding - min(0, (units - 1) * (a.jump - jump)) for a in axes)
    last = max(max(0, (units - 1) * (a.jump - jump)) + a.size - a.padding for a in axes)
    return _Axis(last + padding, jump, padding)


class Window(NamedTuple):
    """The input indices one unit sees along one axis, ``start .. end`` inclusive.

    ``start`` may be negative and ``end`` may pass the last index: those positions are padding.
    ``clipped_start .. clipped_end`` bounds the part the unit can read (``None`` if there is none
    or if the input size is not known): the window clipped layer by layer on the way down (a
    layer's window of units ``a .. b`` reads ``a s - p .. b s - p + d(k - 1)`` below, cut to the
    units that exist there), so input pixels that a strided layer drops are not counted. It is
    the box of the pixels read when no layer leaves holes (``d = 1``, ``k >= s``); with holes a
    cut can end between two taps, and the box read (the gradient's) lies inside it.
    """

    start: int
    end: int
    clipped_start: int | None
    clipped_end: int | None

    @property
    def size(self) -> int:
        """``end - start + 1``: the receptive-field size."""
        return self.end - self.start + 1


@dataclass(frozen=True, eq=False)
class _Step:
    """How the units of one tensor come from the tensor(s) it was made of, per axis.

    ``kind``: ``"input"``; ``"window"`` (a convolution or pooling, ``params[j] = (k, s,
    p_before, p_after, d)``, ``ceil`` for pools in ceil mode); ``"pad"`` (``params[j] = (before,
    after)``); ``"adaptive"`` (adaptive pooling to ``params[j] = (n_out,)``); ``"union"`` (an
    operation position by position on ``sources`` of the same size: a sum, a concatenation).
    """

    kind: str
    sources: tuple[_Step, ...] = ()
    params: tuple[tuple[int, ...], ...] = ((), ())
    ceil: bool = False


_INPUT_STEP = _Step("input")


def _out_size(n: int, k: int, s: int, before: int, after: int, d: int, ceil: bool) -> int:
    """torch's output size of a window layer: ``floor((n + p_b + p_a - d(k-1) - 1) / s) + 1``
    (ceil in ceil mode, minus the last window if it would start past ``n + p_b``)."""
    return max(_windows(n, k, s, before, after, d, ceil), 0)


class _Clipper:
    """The clipped window of a step's units, followed down to the input along one axis."""

    def __init__(self, axis: int, input_size: int) -> None:
        self.axis = axis
        self.input_size = input_size
        self.sizes: dict[int, int] = {}
        self.seen: dict[tuple[int, int, int], tuple[int, int] | None] = {}

    def size(self, step: _Step) -> int:
        """The number of units of ``step`` along the axis."""
        if step.kind == "input":
            return self.input_size
        if id(step) not in self.sizes:
            n = self.size(step.sources[0])
            prm = step.params[self.axis]
            if step.kind == "window":
                n = _out_size(n, *prm, ceil=step.ceil)
            elif step.kind == "pad":
                n = n + prm[0] + prm[1]
            elif step.kind == "adaptive":
                n = prm[0]
            self.sizes[id(step)] = n
        return self.sizes[id(step)]

    def clip(self, step: _Step, a: int, b: int) -> tuple[int, int] | None:
        """Input indices (first, last) read by units ``a .. b`` of ``step``, or None."""
        if step.kind == "input":
            return (a, b)
        key = (id(step), a, b)
        if key not in self.seen:
            self.seen[key] = self._clip(step, a, b)
        return self.seen[key]

    def _clip(self, step: _Step, a: int, b: int) -> tuple[int, int] | None:
        if step.kind == "union":
            parts = [w for src in step.sources if (w := self.clip(src, a, b)) is not None]
            return (min(w[0] for w in parts), max(w[1] for w in parts)) if parts else None
        src = step.sources[0]
        prm = step.params[self.axis]
        if step.kind == "window":
            k, s, before, _, d = prm
            a, b = a * s - before, b * s - before + d * (k - 1)
        elif step.kind == "pad":
            a, b = a - prm[0], b - prm[0]
        elif step.kind == "adaptive":  # torch's window i: floor(i n / m) .. ceil((i+1) n / m) - 1
            n, m = self.size(src), prm[0]
            a, b = a * n // m, -(-(b + 1) * n // m) - 1
        a, b = max(a, 0), min(b, self.size(src) - 1)
        return self.clip(src, a, b) if a <= b else None


def _window(
    a: _Axis, unit: int, input_size: int | None, step: _Step | None = None, axis: int = 0
) -> Window:
    start = unit * a.jump - a.padding
    end = start + a.size - 1
    if input_size is None:
        return Window(start, end, None, None)
    if step is None:  # a global field: clipping once is exact
        clipped = (max(start, 0), min(end, input_size - 1))
        clipped = clipped if clipped[0] <= clipped[1] else None
    else:
        clipped = _Clipper(axis, input_size).clip(step, unit, unit)
    return Window(start, end, *(clipped or (None, None)))


# -- rows ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """The receptive field after one layer.

    ``size``, ``stride`` (the jump: input pixels between neighbouring units) and ``padding``
    (the effective padding on the input) are ints for a field computed from int layers and
    ``(h, w)`` pairs otherwise. ``name`` is the layer (a module path for ``receptive_field_of``).
    ``is_global``: the layer mixes every position (global pooling, flattening), so each of its
    units sees the whole input. ``input_size`` (if known) is used to clip windows.
    """

    size: IntOrPair | None
    stride: IntOrPair | None
    padding: IntOrPair | None
    name: str = ""
    is_global: bool = False
    input_size: IntOrPair | None = None
    note: str = ""
    _axes: tuple[_Axis, ...] = field(default=(), repr=False, compare=False)
    _step: _Step | None = field(default=None, repr=False, compare=False)

    @property
    def jump(self) -> IntOrPair | None:
        """Another name for ``stride``: the distance on the input between neighbouring units."""
        return self.stride

    def window(self, unit: IntOrPair, input_size: IntOrPair | None = None):
        """The input interval seen by ``unit``: ``start = unit * S - P``, ``end = start + r - 1``.

        For an int field ``unit`` is an int and a ``Window`` is returned; for a pair field
        ``unit`` is ``(row, col)`` and a pair of ``Window`` s ``(rows, cols)`` is returned.
        ``input_size`` (default: the one the field was computed for) clips the interval layer by
        layer: from the unit down, units ``a .. b`` of a layer (kernel ``k``, stride ``s``,
        padding ``p``, dilation ``d``) read ``a s - p .. b s - p + d(k - 1)`` of the layer below,
        cut to ``0 .. n - 1`` with ``n`` that layer's size (torch's output-size formula, from
        ``input_size``); where branches meet, the clipped intervals of the branches are joined
        (smallest start, largest end). The result is the bounding box of the input pixels the
        unit depends on when no layer leaves holes (``d = 1``, ``k >= s``); otherwise it
        contains that box. ``start .. end`` stay the formula's, padding included.
        """
        if not self._axes:
            raise ValueError(f"the field of {self.name or 'this layer'} is unknown: {self.note}")
        paired = isinstance(self.size, tuple)
        if input_size is None:
            input_size = self.input_size
        if paired:
            units = check_pair("unit", unit, 0)
            sizes = (None, None) if input_size is None else check_pair("input_size", input_size, 1)
            return tuple(
                _window(a, u, n, self._step, j)
                for j, (a, u, n) in enumerate(zip(self._axes, units, sizes, strict=True))
            )
        unit = check_int("unit", unit, 0)
        n = None if input_size is None else check_int("input_size", input_size, 1)
        return _window(self._axes[0], unit, n, self._step)


def _field(axes: Sequence[_Axis], paired: bool, step: _Step, **kw: Any) -> Field:
    if paired:
        return Field(
            tuple(a.size for a in axes),
            tuple(a.jump for a in axes),
            tuple(a.padding for a in axes),
            _axes=tuple(axes),
            _step=step,
            **kw,
        )
    a = axes[0]
    return Field(a.size, a.jump, a.padding, _axes=(a,), _step=step, **kw)


# -- a list of layers ---------------------------------------------------------------------------
def _layer_params(i: int, layer: object) -> tuple[tuple[int, int], ...]:
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        layer = (layer,)
    if not isinstance(layer, (tuple, list)) or not 1 <= len(layer) <= 4:
        raise ValueError(
            f"layers[{i}] must be a tuple (kernel_size, stride, padding, dilation) with padding "
            f"and dilation optional, got {layer!r}"
        )
    names = ("kernel_size", "stride", "padding", "dilation")
    defaults = (None, 1, 0, 1)
    minimum = (1, 1, 0, 1)
    values = list(layer) + list(defaults[len(layer) :])
    return tuple(
        check_pair(f"layers[{i}] {n}", v, m) for n, v, m in zip(names, values, minimum, strict=True)
    )


def receptive_field(layers: Sequence[Sequence[IntOrPair]]) -> list[Field]:
    """Receptive field, effective stride and effective padding after each layer of a chain.

    ``layers`` holds one ``(kernel_size, stride, padding, dilation)`` tuple per convolution or
    pooling, input first (``padding`` and ``dilation`` may be left out: 0 and 1). With
    ``k' = d(k - 1) + 1``, layer ``l`` gives ``r_l = r_{l-1} + (k'_l - 1) prod_{i<l} s_i``,
    ``S_l = prod_{i<=l} s_i`` and ``P_l = P_{l-1} + p_l prod_{i<l} s_i`` (``r_0 = S_0 = 1``,
    ``P_0 = 0``). Returns one ``Field`` per layer (ints, or ``(h, w)`` pairs if any argument
    is a pair). ``Field.window(u)`` is the input interval ``u S - P .. u S - P + r - 1``;
    ``Field.window(u, input_size)`` also clips it layer by layer (layer sizes by torch's formula
    ``floor((n + 2p - d(k - 1) - 1) / s) + 1``, as for a convolution or a pool in floor mode).

    >>> [f.size for f in receptive_field([(3, 1, 1)] * 3)]
    [3, 5, 7]
    """
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise TypeError(f"layers must be a sequence of tuples, got {type(layers).__name__}")
    if len(layers) == 0:
        raise ValueError("layers must hold at least one layer, got an empty sequence")
    params = [_layer_params(i, layer) for i, layer in enumerate(layers)]
    paired = any(
        isinstance(v, (tuple, list))
        for layer in layers
        for v in (layer if isinstance(layer, (tuple, list)) else (layer,))
    )
    axes = [_INPUT_AXIS, _INPUT_AXIS]
    step = _INPUT_STEP
    rows = []
    for i, (k, s, p, d) in enumerate(params):
        axes = [_through(axes[j], k[j], s[j], p[j], d[j]) for j in range(2)]
        prm = tuple((k[j], s[j], p[j], p[j], d[j]) for j in range(2))
        step = _Step("window", (step,), prm)
        rows.append(_field(axes if paired else axes[:1], paired, step, name=f"layer {i + 1}"))
    return rows


class UnitWindows(NamedTuple):
    """Result of ``unit_windows``: per layer ``0 .. L`` (the input first), along one axis."""

    #: the number of units of each layer (``n_0`` is the input size)
    sizes: tuple[int, ...]
    #: the unclipped range ``(first, last)`` of the unit's field in each layer
    windows: tuple[tuple[int, int], ...]
    #: the sorted indices of the units the unit depends on (a dilated layer leaves gaps)
    reads: tuple[np.ndarray, ...]
    #: the same walk with the borders ignored: indices outside ``0 .. n - 1`` are padding
    taps: tuple[np.ndarray, ...]


def unit_windows(layers: Sequence[Sequence[int]], unit: int, n_in: int) -> UnitWindows:
    """Walk down from ``unit`` of the top layer: which units of each layer below does it see?

    ``layers`` holds one ``(kernel_size, stride, padding, dilation)`` tuple of ints per layer,
    input first (``padding`` and ``dilation`` may be left out), along one axis of an input of
    ``n_in`` units. Layer sizes follow ``cnnlib.shapes.conv_output_size``. Unit ``a`` of a layer
    (kernel ``k``, stride ``s``, padding ``p``, dilation ``d``) reads the units
    ``a s - p + m d`` (``m = 0 .. k - 1``) of the layer below, so a window of units ``a .. b``
    spans ``a s - p .. b s - p + d(k - 1)`` there; at the input this is the field
    ``u S - P .. u S - P + r - 1`` of ``receptive_field``. ``reads`` keeps, layer by layer, the
    taps that land inside ``0 .. n - 1`` (the units the gradient of ``unit`` reaches); ``taps``
    keeps them all.

    >>> unit_windows([(3, 1, 1), (2, 2)], 1, 8).windows
    ((1, 4), (2, 3), (1, 1))
    """
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise TypeError(f"layers must be a sequence of tuples, got {type(layers).__name__}")
    if len(layers) == 0:
        raise ValueError("layers must hold at least one layer, got an empty sequence")
    params = []
    for i, layer in enumerate(layers):
        prm = _layer_params(i, layer)
        if any(isinstance(v, (tuple, list)) for v in layer):
            raise TypeError(f"layers[{i}] must hold ints: unit_windows works along one axis")
        params.append(tuple(v[0] for v in prm))
    sizes = [check_int("n_in", n_in, 1)]
    for i, (k, s, p, d) in enumerate(params):
        try:
            sizes.append(conv_output_size(sizes[-1], k, s, p, d))
        except ValueError as exc:
            raise ValueError(f"layers[{i}]: {exc}") from None
    unit = check_int("unit", unit, 0)
    if unit >= sizes[-1]:
        raise ValueError(f"unit must be below the top layer's size {sizes[-1]}, got {unit}")
    windows = [(unit, unit)]
    reads, taps = [np.array([unit])], [np.array([unit])]
    for level in range(len(params) - 1, -1, -1):
        k, s, p, d = params[level]
        check_memory("layers", 16.0 * k * taps[-1].size, "the windows of unit_windows")
        a, b = windows[-1]
        windows.append((a * s - p, b * s - p + d * (k - 1)))
        offsets = np.arange(k) * d - p
        taps.append(np.unique(taps[-1][:, None] * s + offsets))
        seen = np.unique(reads[-1][:, None] * s + offsets)
        reads.append(seen[(seen >= 0) & (seen < sizes[level])])
    return UnitWindows(tuple(sizes), tuple(windows[::-1]), tuple(reads[::-1]), tuple(taps[::-1]))


# -- a torch module -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Global:
    """Marks a tensor whose every element depends on the whole input."""


@dataclass(frozen=True)
class _Unknown:
    """Marks a tensor made by an operation the walk cannot follow (named in ``op``)."""

    op: str


_GLOBAL = _Global()

_CONV = ("conv2d",)
_MAX_POOL = ("max_pool2d", "_max_pool2d", "max_pool2d_with_indices")
_AVG_POOL = ("avg_pool2d",)
_ADAPTIVE = (
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "_adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices",
)
_PAD = ("pad", "_pad")
#: reductions that, over both image axes, mix every position (``y.mean((2, 3), keepdim=True)``)
_REDUCE = ("mean", "sum", "amax", "amin", "max", "min", "std", "var", "logsumexp", "norm", "prod")


def _bind(args: tuple, kwargs: dict, names: Sequence[str], defaults: dict) -> dict:
    bound = dict(defaults)
    bound.update(zip(names, args, strict=False))
    bound.update(kwargs)
    return bound


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[-1])) if len(v) else None
    return (int(v), int(v))


def _tensors(obj: Any):
    import torch

    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            yield from _tensors(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors(o)


class _Walker:
    """Follows the field of every tensor during one forward pass (see ``receptive_field_of``)."""

    def __init__(self, to_meta: bool) -> None:
        self.to_meta = to_meta
        # id(tensor) -> (axes, spatial shape, _Step) | _Global | _Unknown
        self.fields: dict[int, Any] = {}
        self.keep: list[Any] = []  # keeps tensors alive so that their ids stay unique

    def set(self, t: Any, f: Any) -> None:
        self.fields[id(t)] = f
        self.keep.append(t)

    def get(self, t: Any) -> Any:
        return self.fields.get(id(t))

    def mode(self):
        import torch
        from torch.overrides import TorchFunctionMode

        walker = self

        def meta(a: Any) -> Any:
            if isinstance(a, torch.Tensor) and a.device.type != "meta":
                return a.detach().to("meta")
            if isinstance(a, (tuple, list)):
                return type(a)(meta(b) for b in a)
            return a

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                if walker.to_meta:
                    args = meta(args)
                    kwargs = {k: meta(v) for k, v in kwargs.items()}
                out = func(*args, **kwargs)
                walker.follow(func, args, kwargs, out)
                return out

        return Mode()

    def follow(self, func: Callable, args: tuple, kwargs: dict, out: Any) -> None:
        inputs = [(t, self.get(t)) for t in _tensors((args, kwargs))]
        inputs = [(t, f) for t, f in inputs if f is not None]
        if not inputs:
            return
        outs = list(_tensors(out))
        if not outs:
            return
        name = getattr(func, "__name__", str(func))
        unknown = [f for _, f in inputs if isinstance(f, _Unknown)]
        if unknown:
            for o in outs:
                self.set(o, unknown[0])
            return
        if any(isinstance(f, _Global) for _, f in inputs):
            for o in outs:
                self.set(o, _GLOBAL)
            return
        x, (axes, _, src) = inputs[0]
        result = step = None
        if name in _CONV and x is args[0]:
            b = _bind(args[1:], kwargs, ("weight", "bias", "stride", "padding", "dilation"), {})
            k = tuple(b["weight"].shape[-2:])
            s = _pair(b.get("stride", 1))
            d = _pair(b.get("dilation", 1))
            p = b.get("padding", 0)
            if isinstance(p, str):  # "valid" or "same" (torch puts the odd pixel on the right)
                total = (0, 0) if p == "valid" else tuple(d[j] * (k[j] - 1) for j in range(2))
                p, after = tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
            else:
                p = after = _pair(p)
            result = tuple(_through(axes[j], k[j], s[j], p[j], d[j]) for j in range(2))
            prm = tuple((k[j], s[j], p[j], after[j], d[j]) for j in range(2))
            step = _Step("window", (src,), prm)
        elif name in _MAX_POOL + _AVG_POOL and x is args[0]:
            names = ("kernel_size", "stride", "padding")
            names += ("dilation", "ceil_mode") if name in _MAX_POOL else ("ceil_mode",)
            b = _bind(args[1:], kwargs, names, {})
            k = _pair(b["kernel_size"])
            s = b.get("stride")
            s = k if s is None or (isinstance(s, (tuple, list)) and len(s) == 0) else _pair(s)
            p = _pair(b.get("padding", 0))
            d = _pair(b.get("dilation", 1)) if name in _MAX_POOL else (1, 1)
            result = tuple(_through(axes[j], k[j], s[j], p[j], d[j]) for j in range(2))
            prm = tuple((k[j], s[j], p[j], p[j], d[j]) for j in range(2))
            step = _Step("window", (src,), prm, ceil=bool(b.get("ceil_mode", False)))
        elif name in _ADAPTIVE and x is args[0]:
            result = self._adaptive(x, outs[0], axes)
            step = _Step("adaptive", (src,), tuple((int(n),) for n in outs[0].shape[-2:]))
        elif name in _PAD and x is args[0]:
            b = _bind(args[1:], kwargs, ("pad",), {})
            pad = list(b["pad"]) + [0, 0, 0, 0]
            left = (pad[2], pad[0])  # (top, left): pad lists the last axis first
            result = tuple(
                axes[j]._replace(padding=axes[j].padding + left[j] * axes[j].jump) for j in range(2)
            )
            step = _Step("pad", (src,), ((pad[2], pad[3]), (pad[0], pad[1])))
        if isinstance(result, (_Global, _Unknown)):
            for o in outs:
                self.set(o, result)
            return
        if result is not None:
            for o in outs:
                if o.ndim >= 2 and tuple(o.shape[-2:]) == tuple(outs[0].shape[-2:]):
                    self.set(o, (result, tuple(o.shape[-2:]), step))
            return
        # Any other operation is taken to act position by position (activations, batch norm,
        # sums, concatenation along channels): an output keeps the union of the fields of the
        # inputs of its spatial shape. Fewer spatial axes (flatten, mean) mix every position.
        for o in outs:
            shape = tuple(o.shape[-2:]) if o.ndim >= 2 else None
            same = [f for _, f in inputs if f[1] == shape]
            if same and o.ndim >= 3:
                merged = tuple(_union([f[0][j] for f in same], shape[j]) for j in range(2))
                steps = tuple({id(f[2]): f[2] for f in same}.values())
                step = steps[0] if len(steps) == 1 else _Step("union", steps)
                self.set(o, (merged, shape, step))
            elif name in _REDUCE and o.ndim >= 4 and shape == (1, 1):
                self.set(o, _GLOBAL)  # a reduction over the image, keeping its dimensions
            elif o.ndim >= 4:
                self.set(o, _Unknown(name))
            else:
                self.set(o, _GLOBAL)

    @staticmethod
    def _adaptive(x: Any, out: Any, axes: tuple[_Axis, ...]) -> Any:
        sizes_in, sizes_out = tuple(x.shape[-2:]), tuple(out.shape[-2:])
        if sizes_out == (1, 1) and sizes_in != (1, 1):
            return _GLOBAL
        result = []
        for j in range(2):  # an axis pooled to 1 (e.g. to 1 x 7) is a pooling with k = n_in
            n_in, n_out = int(sizes_in[j]), int(sizes_out[j])
            if n_in % n_out == 0:  # a plain pooling with kernel = stride = n_in / n_out
                k = n_in // n_out
                result.append(_through(axes[j], k, k, 0, 1))
            else:  # windows of unequal sizes: a bound with jump q = n_in // n_out
                # window i is floor(i n_in / n_out) .. ceil((i + 1) n_in / n_out) - 1, which
                # starts at or after i q and ends at most q + (n_in mod n_out) - 1 after i q
                q = n_in // n_out
                result.append(_through(axes[j], q + n_in % n_out, q, 0, 1))
        return tuple(result)


def _input_size_error(input_size: Any, exc: BaseException) -> ValueError:
    """torch's refusal of an input shape, as a ValueError that names ``input_size``."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ValueError(f"input_size {tuple(input_size)} does not fit the module: {first}")


def _input_shape(input_size: Any) -> tuple[int, ...]:
    if not isinstance(input_size, (tuple, list)) or len(input_size) not in (3, 4):
        raise ValueError(
            "input_size must be (channels, height, width) or (batch, channels, height, width), "
            f"got {input_size!r}"
        )
    shape = tuple(check_int(f"input_size[{i}]", v, 1) for i, v in enumerate(input_size))
    return shape if len(shape) == 4 else (1, *shape)


def _make_field(f: Any, name: str, hw: tuple[int, int]) -> Field:
    if isinstance(f, _Unknown):
        return Field(None, None, None, name=name, input_size=hw, note=f"cannot follow {f.op}")
    if isinstance(f, _Global):
        return Field(
            hw, hw, (0, 0), name=name, is_global=True, input_size=hw,
            note="global: every unit sees the whole input",
            _axes=(_Axis(hw[0], hw[0], 0), _Axis(hw[1], hw[1], 0)),
        )  # fmt: skip
    axes, _, step = f
    return _field(axes, True, step, name=name, input_size=hw)


def receptive_field_of(
    module: Any, input_size: Sequence[int], per_layer: bool = False
) -> Field | list[Field]:
    """The receptive field of one output unit of a torch module (branches included).

    ``input_size`` is ``(C, H, W)`` or ``(N, C, H, W)``. The module runs once on a shape-only
    ("meta") tensor; every ``conv2d``, ``max_pool2d``, ``avg_pool2d`` and ``pad`` applies the
    recursion of ``receptive_field`` per axis (``r += (k' - 1) S``, ``S *= s``,
    ``P += p S``); where tensors meet (a residual sum, a concatenation) the field is the union
    of theirs, so the largest branch wins. Adaptive pooling to 1 x 1, flattening and means over
    the image make the field global (``is_global``: the whole input, ``size = (H, W)``).
    Other operations are taken to act position by position (activations, batch norm).
    Padding of every mode counts as zeros. For ``"reflect"`` and ``"replicate"`` that changes no
    clipped window while ``p <= d (k - 1) / 2`` (the copied pixels lie inside it); with
    ``"circular"`` a unit by the border also reads the opposite border, which no window shows.

    Returns the ``Field`` of the output (sizes as ``(h, w)`` pairs), or with ``per_layer=True``
    one ``Field`` per module call, in the order the calls finish, named by module path
    (``{f.name: f for f in rows}`` looks them up). Raises ``ValueError`` if the output is made
    by an operation that changes the image size in another way (upsampling, transposed
    convolution); per-layer rows then carry ``size=None`` and a ``note``.
    """
    import torch

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    shape = _input_shape(input_size)
    per_layer = check_bool("per_layer", per_layer)
    hw = (shape[-2], shape[-1])
    rows: list[Field] = []

    def run(to_meta: bool) -> Any:
        rows.clear()
        walker = _Walker(to_meta)
        device = "meta" if to_meta else "cpu"
        x = torch.zeros(shape, device=device)
        walker.set(x, ((_INPUT_AXIS, _INPUT_AXIS), hw, _INPUT_STEP))
        handles = []
        if per_layer:

            def hook(name: str):
                def record(mod: Any, args: Any, out: Any) -> None:
                    t = next(_tensors(out), None)
                    f = None if t is None else walker.get(t)
                    if f is not None:
                        rows.append(_make_field(f, name, hw))

                return record

            for name, sub in module.named_modules():
                if sub is not module:
                    handles.append(sub.register_forward_hook(hook(name)))
        try:
            with torch.no_grad(), walker.mode():
                out = module(x)
        finally:
            for h in handles:
                h.remove()
        t = next(_tensors(out), None)
        return None if t is None else walker.get(t)

    try:
        final = run(to_meta=True)
    except (NotImplementedError, RuntimeError) as meta_error:
        if "meta" not in str(meta_error).lower():  # torch refuses the shape itself
            raise _input_size_error(input_size, meta_error) from None
        # an operation without a meta kernel: run on real zeros (their memory counts)
        check_memory(f"input_size {tuple(shape)}", 8.0 * math.prod(shape) * 4, "a real run")
        try:
            final = run(to_meta=False)
        except RuntimeError as exc:
            raise _input_size_error(input_size, exc) from None
    if per_layer:
        return list(rows)
    if final is None:
        raise ValueError("the module's output does not depend on its input")
    result = _make_field(final, type(module).__name__, hw)
    if result.size is None:
        raise ValueError(
            f"receptive_field_of cannot follow {final.op}: it changes the image size in a way "
            "that is neither a convolution nor a pooling"
        )
    return result


# -- the empirical field ------------------------------------------------------------------------
def _window_sum(pool: Any) -> Any:
    """A module that sums each pooling window (same geometry as ``pool``), so every input of
    the window gets a gradient (a max pool's gradient reaches only the maximum)."""
    import torch
    import torch.nn.functional as F

    class WindowSum(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pool = pool

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            k = _pair(self.pool.kernel_size)
            s = _pair(self.pool.stride if self.pool.stride is not None else k)
            p = _pair(self.pool.padding)
            d = _pair(getattr(self.pool, "dilation", 1))
            n_out = self.pool(x.detach()).shape[-2:]  # torch's own output size (ceil_mode)
            extra = [
                max(0, (n_out[j] - 1) * s[j] + d[j] * (k[j] - 1) + 1 - (x.shape[-2 + j] + 2 * p[j]))
                for j in range(2)
            ]
            x = F.pad(x, (p[1], p[1] + extra[1], p[0], p[0] + extra[0]))
            c = x.shape[1]
            w = torch.ones(c, 1, *k, dtype=x.dtype)
            y = F.conv2d(x, w, stride=s, dilation=d, groups=c)
            return y[..., : n_out[0], : n_out[1]]

    return WindowSum()


def positive_copy(module: Any, seed: int = 0) -> Any:
    """A float64 copy of ``module`` in which every input pixel of a unit's field has an effect.

    Convolution and linear weights become uniform in [0.5, 1.5] (biases 0), batch norms the
    identity, max and average pools sums over their windows; activations are kept (with
    positive weights and a positive input, ReLU passes everything). The copy is in eval mode.
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    twin = copy.deepcopy(module).double().eval()
    for sub in list(twin.modules()):
        if isinstance(sub, (torch.nn.Conv2d, torch.nn.Linear)):
            with torch.no_grad():
                sub.weight.copy_(0.5 + torch.rand(sub.weight.shape, generator=gen))
                if sub.bias is not None:
                    sub.bias.zero_()
        elif isinstance(sub, torch.nn.BatchNorm2d):
            sub.reset_parameters()
        for child_name, child in list(sub.named_children()):
            if isinstance(child, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)):
                setattr(sub, child_name, _window_sum(child))
    return twin


def empirical_field(
    module: Any, input_size: Sequence[int], unit: tuple[int, int] | None = None
) -> tuple[tuple[int, int] | None, tuple[int, int] | None, np.ndarray]:
    """Where one output unit's gradient is non-zero on the input: the field, measured.

    On ``positive_copy(module)`` and a random positive float64 input of ``input_size``, this
    back-propagates ``d y[0, :, row, col].sum() / d x`` with torch autograd (``unit`` defaults to
    the centre unit) and returns ``((row_start, row_end), (col_start, col_end), support)``: the
    bounding box (inclusive) of the input pixels with a non-zero gradient (``None, None`` if
    there are none) and the boolean ``(H, W)`` support itself. The box lies in the field clipped
    to the input (dilation and stride can leave holes inside it).
    """
    import torch

    shape = _input_shape(input_size)
    twin = positive_copy(module)
    gen = torch.Generator().manual_seed(1)
    x = (0.5 + torch.rand(shape, generator=gen, dtype=torch.float64))[:1].requires_grad_(True)
    y = twin(x)
    if y.ndim != 4:
        raise ValueError(f"the module's output must be (N, C, H, W), got shape {tuple(y.shape)}")
    if unit is None:
        unit = (y.shape[-2] // 2, y.shape[-1] // 2)
    r, c = check_pair("unit", unit, 0)
    if r >= y.shape[-2] or c >= y.shape[-1]:
        raise ValueError(f"unit {(r, c)} is outside the output of size {tuple(y.shape[-2:])}")
    y[0, :, r, c].sum().backward()
    support = (x.grad[0].abs().sum(0) > 0).numpy()
    rows = np.flatnonzero(support.any(1))
    cols = np.flatnonzero(support.any(0))
    if rows.size == 0:  # the unit sees only padding
        return None, None, support
    return (int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1])), support


# -- networks as lists of layers ----------------------------------------------------------------
def conv_stack(
    layers: Sequence[Sequence[IntOrPair]],
    channels: int = 1,
    init: str = "uniform",
    activation: str | None = None,
    seed: int = 0,
) -> Any:
    """A ``torch.nn.Sequential`` of ``Conv2d(channels, channels, k, s, p, d, bias=False)``, one
    per ``(kernel_size, stride, padding, dilation)`` tuple of ``layers``.

    ``init="uniform"``: every weight ``1 / (channels k_h k_w)``, so each layer averages its
    window (Luo et al.'s uniform case); ``"normal"``: He initialisation ``N(0, 2 / fan_in)``.
    ``activation``: ``None`` or ``"relu"`` after every layer but the last.
    """
    import torch

    receptive_field(layers)  # checks the tuples
    channels = check_int("channels", channels, 1)
    check_choice("init", init, ("uniform", "normal"))
    if activation is not None:
        check_choice("activation", activation, ("relu",))
    gen = torch.Generator().manual_seed(check_int("seed", seed))
    mods: list[torch.nn.Module] = []
    for i, layer in enumerate(layers):
        k, s, p, d = _layer_params(i, layer)
        conv = torch.nn.Conv2d(channels, channels, k, s, p, d, bias=False)
        fan_in = channels * k[0] * k[1]
        with torch.no_grad():
            if init == "uniform":
                conv.weight.fill_(1.0 / fan_in)
            else:
                conv.weight.copy_(
                    torch.randn(conv.weight.shape, generator=gen) * (2 / fan_in) ** 0.5
                )
        mods.append(conv)
        if activation == "relu" and i < len(layers) - 1:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def _vgg_block(n: int) -> list[tuple[int, int, int]]:
    return [(3, 1, 1)] * n + [(2, 2, 0)]


#: AlexNet (Krizhevsky et al. 2012, torchvision layout): conv1 11/4 pad 2, pool 3/2, conv2 5 pad 2,
#: pool 3/2, conv3-5 3 pad 1, pool5 3/2. Araujo et al. (2019) list r = 195, S = 32 at pool5.
ALEXNET_LAYERS = [
    *[(11, 4, 2), (3, 2, 0)],
    *[(5, 1, 2), (3, 2, 0)],
    *[(3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)],
]
#: VGG-16 (Simonyan & Zisserman 2015) conv1_1 .. pool5: 3x3 convs (pad 1) in blocks of 2, 2, 3,
#: 3, 3, each closed by a 2x2 max pool of stride 2. Araujo et al. list r = 212, S = 32, P = 90.
VGG16_LAYERS = _vgg_block(2) + _vgg_block(2) + _vgg_block(3) + _vgg_block(3) + _vgg_block(3)


def _resnet(blocks: Sequence[int], convs: Sequence[tuple[int, int]], stride_last: bool) -> list:
    """The longest path (through the 3x3 convolutions) of a ResNet trunk as a list of layers.

    ``convs``: the (kernel, padding) of the convolutions of one residual unit; the stride-2 conv
    of a stage is its first unit's 3x3 (torchvision) or, if ``stride_last``, its last unit's
    (TF-slim's resnet_v1). The 1x1 shortcuts are shorter paths and do not widen the field.
    """
    layers: list[tuple[int, int, int]] = [(7, 2, 3), (3, 2, 1)]  # stem: conv 7/2, max pool 3/2
    for stage, n in enumerate(blocks):
        for b in range(n):
            strided = (b == n - 1 and stage < len(blocks) - 1) if stride_last else (b == 0 < stage)
            first3 = True
            for k, p in convs:
                layers.append((k, 2 if strided and k == 3 and first3 else 1, p))
                first3 = first3 and k != 3
    return layers


#: ResNet-18 trunk (He et al. 2016, torchvision layout) up to layer4: basic blocks [2, 2, 2, 2].
RESNET18_LAYERS = _resnet([2, 2, 2, 2], [(3, 1), (3, 1)], stride_last=False)
#: ResNet-50 trunk (torchvision's "v1.5": stride in the first unit's 3x3) up to layer4:
#: bottleneck blocks [3, 4, 6, 3] of 1x1, 3x3, 1x1 convolutions.
RESNET50_LAYERS = _resnet([3, 4, 6, 3], [(1, 0), (3, 1), (1, 0)], stride_last=False)
#: ResNet-50 as TF-slim's resnet_v1_50 (the model in Araujo et al.'s table, r = 483): the stride
#: sits in the *last* unit of stages 1-3, so more 3x3 convolutions work at the coarser jump.
RESNET50_SLIM_LAYERS = _resnet([3, 4, 6, 3], [(1, 0), (3, 1), (1, 0)], stride_last=True)
#: The course's SimpleCNN.features: 4 ConvBlocks (3x3, pad 1), max pool 2 after the
#: first three; its AdaptiveAvgPool2d(1) then makes the field global.
SIMPLE_CNN_LAYERS = [(3, 1, 1), (2, 2, 0), (3, 1, 1), (2, 2, 0), (3, 1, 1), (2, 2, 0), (3, 1, 1)]


# -- the effective receptive field --------------------------------------------------------------
def effective_receptive_field(
    module: Any, x: Any, unit: tuple[int, int] | None = None
) -> np.ndarray:
    """Luo et al.'s effective receptive field: ``|d y_u / d x|`` normalised to sum to 1.

    ``x`` is an input batch ``(N, C, H, W)`` (tensor or array). The gradient of the sum over
    the output channels of unit ``u = (row, col)`` (default: the centre) is taken for every
    image, its absolute value summed over the input channels and averaged over the batch:
    ``ERF(i, j) = mean_n sum_c |d (sum_o y[n, o, u]) / d x[n, c, i, j]|``, divided by its sum.
    The module is put in eval mode for the measurement (so batch norm mixes no images).
    """
    import torch

    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if x.ndim != 4:
        raise ValueError(f"x must be a batch (N, C, H, W), got shape {tuple(x.shape)}")
    param = next(module.parameters(), None)
    x = x.detach().to(param.dtype if param is not None else torch.float32).requires_grad_(True)
    was_training = module.training
    module.eval()
    try:
        y = module(x)
    finally:
        module.train(was_training)
    if y.ndim != 4:
        raise ValueError(f"the module's output must be (N, C, H, W), got shape {tuple(y.shape)}")
    if unit is None:
        unit = (y.shape[-2] // 2, y.shape[-1] // 2)
    r, c = check_pair("unit", unit, 0)
    if r >= y.shape[-2] or c >= y.shape[-1]:
        raise ValueError(f"unit {(r, c)} is outside the output of size {tuple(y.shape[-2:])}")
    y[:, :, r, c].sum().backward()
    g = x.grad.abs().sum(1).mean(0).double().numpy()
    total = g.sum()
    return g / total if total > 0 else g


class Moments(NamedTuple):
    """Spread and shape of a 2-D distribution along rows and columns."""

    mean: tuple[float, float]
    std: tuple[float, float]
    kurtosis: tuple[float, float]


def erf_moments(erf: np.ndarray) -> Moments:
    """Mean, standard deviation and excess kurtosis of ``erf`` along each axis.

    ``erf`` is read as a probability distribution over pixels (``p = erf / sum``); each axis uses
    its marginal ``p_i``: ``mean = sum i p_i``, ``std^2 = sum (i - mean)^2 p_i``, excess kurtosis
    ``sum (i - mean)^4 p_i / std^4 - 3``: 0 for a Gaussian, -1.2 for a flat (box) profile.
    """
    erf = check_array("erf", erf, (2,)).astype(np.float64)
    if not np.all(np.isfinite(erf)):
        raise ValueError("erf must hold finite numbers only (no NaN or infinity)")
    if erf.sum() <= 0 or (erf < 0).any():
        raise ValueError("erf must be a 2-D array of non-negative weights with a positive sum")
    p = erf / erf.sum()
    out = []
    for marginal in (p.sum(1), p.sum(0)):
        i = np.arange(marginal.size)
        mean = float((i * marginal).sum())
        var = float(((i - mean) ** 2 * marginal).sum())
        kurt = float(((i - mean) ** 4 * marginal).sum() / var**2 - 3) if var > 0 else float("nan")
        out.append((mean, math.sqrt(var), kurt))
    return Moments(*(tuple(v) for v in zip(*out, strict=True)))


def train_box_average(
    module: Any, box: int, steps: int = 400, lr: float = 1e-2, size: int = 21, seed: int = 0
) -> list[float]:
    """Train a one-channel ``module`` to output the ``box x box`` average of white noise.

    Each step draws a batch of 8 images ``x ~ N(0, 1)`` of ``size x size`` and takes one Adam step
    on ``mean (module(x) - avg_pool(x, box, stride 1, padding box // 2))^2``: a task that needs
    every pixel of a ``box x box`` field with equal weight. Returns the loss per step.
    ``box`` must be odd (the target keeps the size only then) and ``module`` must keep the
    ``size x size`` size.
    """
    import torch
    import torch.nn.functional as F

    box = check_int("box", box, 1)
    if box % 2 == 0:
        raise ValueError(f"box must be odd (a centred box keeps the image size), got {box}")
    steps = check_int("steps", steps, 1)
    size = check_int("size", size, 1)
    gen = torch.Generator().manual_seed(check_int("seed", seed, 0))
    opt = torch.optim.Adam(module.parameters(), lr=lr)
    losses = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny one-channel images: threads cost more than they give
    try:
        for _ in range(steps):
            x = torch.randn(8, 1, size, size, generator=gen)
            target = F.avg_pool2d(x, box, 1, box // 2, count_include_pad=True)
            out = module(x)
            if out.shape != target.shape:
                raise ValueError(
                    f"module must keep the input's size {tuple(x.shape)}, returns "
                    f"{tuple(out.shape)} (pad its convolutions)"
                )
            loss = F.mse_loss(out, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    finally:
        torch.set_num_threads(threads)
    return losses
