"""Where the parameters and the arithmetic of a network live.

Formulas (a convolution with ``C_in`` input channels, ``C_out`` filters of ``k_h x k_w``,
``g`` groups, an ``H_out x W_out`` output):

- parameters: ``C_out * (C_in / g * k_h * k_w) + C_out`` (the last term only with a bias);
  the familiar ``C_out (C_in k_h k_w + 1)`` is the case ``g = 1``;
- multiply-accumulates (MACs): ``H_out * W_out * C_out * (C_in / g) * k_h * k_w`` per image:
  every output value is a dot product of ``C_in / g * k_h * k_w`` pairs;
- a linear layer: ``out * (in + 1)`` parameters, ``out * in`` MACs per input row;
- a matrix product ``(..., n, k) @ (..., k, m)``: ``n * k * m`` MACs per batch element.

Additions of biases, normalisation, activations and pooling are not counted: this is the
convention behind torchvision's published "GFLOPS" (which are MACs, e.g. 1.81 for ResNet-18)
and equals half of what ``torch.utils.flop_counter.FlopCounterMode`` reports.

``count_macs`` and ``summary`` run one forward pass on zeros of ``input_size`` under
``torch.no_grad()`` with the model in eval mode (its modes are restored afterwards), so no
running statistics change. They count in two independent ways that never overlap:

- forward hooks on ``nn.Conv*d``, ``nn.ConvTranspose*d``, ``nn.Linear`` and
  ``nn.MultiheadAttention`` apply the closed-form formulas above to the layer's shapes;
- a ``TorchFunctionMode`` counts the products a model calls itself, outside those layers:
  ``torch.matmul`` / ``@``, ``mm``, ``bmm``, ``addmm``, ``baddbmm``, ``addbmm``,
  ``F.linear``, ``F.conv*d``, ``F.conv_transpose*d``, ``F.scaled_dot_product_attention``,
  ``F.multi_head_attention_forward``, ``tensordot`` and two-operand ``einsum`` (as torch
  computes it: letters summed in one operand only are free, an elementwise product is free).

Not counted (with a warning): the products inside recurrent layers (``nn.LSTM``, ``nn.GRU``,
``nn.RNN``) and ``einsum`` with three or more operands.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from cnnlib._validate import check_bool, check_int, check_memory, check_pair

__all__ = [
    "conv2d_params",
    "conv2d_macs",
    "linear_params",
    "count_params",
    "count_macs",
    "summary",
    "Summary",
    "SummaryRow",
]


# --------------------------------------------------------------------------------------------
# Closed-form counts of one layer
# --------------------------------------------------------------------------------------------
def _check_groups(in_channels: int, out_channels: int, groups: object) -> int:
    groups = check_int("groups", groups, 1)
    if in_channels % groups:
        raise ValueError(f"groups {groups} must divide in_channels {in_channels}")
    if out_channels % groups:
        raise ValueError(f"groups {groups} must divide out_channels {out_channels}")
    return groups


def conv2d_params(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    bias: bool = True,
    groups: int = 1,
) -> int:
    """Parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size, bias, groups)``.

    ``C_out * (C_in / groups * k_h * k_w) + C_out * [bias]``: ``C_out`` filters, each with
    ``C_in / groups`` slices of ``k_h x k_w`` weights, and one bias per filter.
    E.g. ``conv2d_params(3, 64, 3) == 64 * (3 * 3 * 3 + 1) == 1792``.
    """
    c_in = check_int("in_channels", in_channels, 1)
    c_out = check_int("out_channels", out_channels, 1)
    kh, kw = check_pair("kernel_size", kernel_size, 1)
    bias = check_bool("bias", bias)
    g = _check_groups(c_in, c_out, groups)
    return c_out * (c_in // g * kh * kw) + (c_out if bias else 0)


def conv2d_macs(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    output_size: int | tuple[int, int],
    groups: int = 1,
) -> int:
    """Multiply-accumulates of one image through a 2-D convolution with an ``output_size`` output.

    ``H_out * W_out * C_out * (C_in / groups) * k_h * k_w``: each of the ``H_out W_out C_out``
    outputs is a dot product of ``C_in / groups * k_h * k_w`` pairs (the bias is not counted).
    """
    c_in = check_int("in_channels", in_channels, 1)
    c_out = check_int("out_channels", out_channels, 1)
    kh, kw = check_pair("kernel_size", kernel_size, 1)
    h, w = check_pair("output_size", output_size, 1)
    g = _check_groups(c_in, c_out, groups)
    return h * w * c_out * (c_in // g) * kh * kw


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Parameters of ``nn.Linear(in_features, out_features, bias=bias)``.

    ``out * in + out * [bias]``: a weight matrix ``(out, in)`` and one bias per output.
    """
    n_in = check_int("in_features", in_features, 1)
    n_out = check_int("out_features", out_features, 1)
    bias = check_bool("bias", bias)
    return n_out * n_in + (n_out if bias else 0)


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def count_params(model: nn.Module) -> int:
    """Trainable parameters of ``model``: ``sum(p.numel() for p in model.parameters()
    if p.requires_grad)`` (a tensor shared by two layers counts once, frozen ones not at all)."""
    model = _check_model(model)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# --------------------------------------------------------------------------------------------
# Tracing one forward pass
# --------------------------------------------------------------------------------------------
_FORMULA_MODULES = (nn.modules.conv._ConvNd, nn.Linear, nn.MultiheadAttention)


@dataclass
class _Call:
    module: nn.Module
    name: str
    depth: int
    children: int = 0
    macs: int = 0
    output: Any = None


def _numel(t: Any) -> int:
    return int(t.numel()) if isinstance(t, torch.Tensor) else 0


def _attention_macs(
    tgt_len: int, src_len: int, batch: int, embed_dim: int, kdim: int, vdim: int, extra_kv: int
) -> int:
    """MACs of multi-head attention: in-projections, ``Q K^T``, ``A V``, out-projection."""
    projections = tgt_len * embed_dim * embed_dim + src_len * (kdim + vdim) * embed_dim
    attention = 2 * tgt_len * (src_len + extra_kv) * embed_dim
    out = tgt_len * embed_dim * embed_dim
    return batch * (projections + attention + out)


def _module_macs(module: nn.Module, args: tuple, kwargs: dict, output: Any) -> int:
    """Closed-form MACs of a conv / linear / attention layer from its input and output shapes."""
    if isinstance(module, nn.modules.conv._ConvNd):
        k = math.prod(module.kernel_size)
        if module.transposed:  # every input value is scattered through C_out/g * k weights
            x = args[0] if args else kwargs["input"]
            return _numel(x) * (module.out_channels // module.groups) * k
        return _numel(output) * (module.in_channels // module.groups) * k
    if isinstance(module, nn.Linear):
        return _numel(output) * module.in_features
    if isinstance(module, nn.MultiheadAttention):
        names = ("query", "key", "value")
        q, k, _ = (args[i] if len(args) > i else kwargs[n] for i, n in enumerate(names))
        batched = q.dim() == 3
        if batched and module.batch_first:
            batch, tgt, src = q.shape[0], q.shape[1], k.shape[1]
        elif batched:
            batch, tgt, src = q.shape[1], q.shape[0], k.shape[0]
        else:
            batch, tgt, src = 1, q.shape[0], k.shape[0]
        extra = int(module.bias_k is not None) + int(module.add_zero_attn)
        return _attention_macs(tgt, src, batch, module.embed_dim, module.kdim, module.vdim, extra)
    return 0


_MATMUL_NAMES = {"matmul", "__matmul__", "mm", "bmm", "addmm", "addmm_", "baddbmm", "baddbmm_"}


def _function_macs(func: Any, args: tuple, kwargs: dict, out: Any) -> int:
    """MACs of one torch function call made outside the formula layers (0 if not a product)."""
    name = getattr(func, "__name__", "")
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if name in _MATMUL_NAMES:
        a = tensors[-2]  # (input, a, b) for addmm/baddbmm, (a, b) otherwise
        return _numel(out) * (a.shape[-1] if a.dim() else 1)
    if name == "__rmatmul__":  # other @ self
        b = args[0]
        return _numel(out) * (b.shape[-2] if b.dim() > 1 else b.shape[0])
    if name in ("addbmm", "addbmm_"):
        b1, b2 = tensors[-2], tensors[-1]
        return b1.shape[0] * b1.shape[1] * b1.shape[2] * b2.shape[2]
    if name == "linear":
        x, weight = args[0], args[1] if len(args) > 1 else kwargs["weight"]
        return _numel(x) * (weight.shape[0] if weight.dim() == 2 else 1)
    if name in ("conv1d", "conv2d", "conv3d"):
        weight = args[1] if len(args) > 1 else kwargs["weight"]
        return _numel(out) * math.prod(weight.shape[1:])
    if name in ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
        weight = args[1] if len(args) > 1 else kwargs["weight"]
        return _numel(args[0]) * math.prod(weight.shape[1:])
    if name == "scaled_dot_product_attention":
        q, k, v = tensors[:3]
        return math.prod(q.shape[:-1]) * k.shape[-2] * (q.shape[-1] + v.shape[-1])
    if name == "multi_head_attention_forward":
        q, k, v = tensors[:3]
        batch = q.shape[1] if q.dim() == 3 else 1
        extra = int(kwargs.get("bias_k", args[7] if len(args) > 7 else None) is not None)
        extra += int(bool(kwargs.get("add_zero_attn", args[9] if len(args) > 9 else False)))
        return _attention_macs(
            q.shape[0], k.shape[0], batch, q.shape[-1], k.shape[-1], v.shape[-1], extra
        )
    if name == "tensordot":
        a, b = tensors[:2]
        contracted = math.isqrt(_numel(a) * _numel(b) // max(_numel(out), 1))
        return _numel(out) * contracted
    if name == "einsum":
        # torch.einsum(eq, a, b) or torch.einsum(eq, [a, b])
        listed = len(args) == 2 and isinstance(args[1], list | tuple)
        operands = [t for t in args[1] if isinstance(t, torch.Tensor)] if listed else tensors
        equation = args[0] if isinstance(args[0], str) else ""
        if len(operands) == 2 and "..." not in equation:
            return _einsum_macs(equation, *operands)
        if len(operands) >= 2:
            warnings.warn(
                f"einsum {equation!r} with {len(operands)} operands is not counted",
                stacklevel=3,
            )
    return 0


def _einsum_macs(equation: str, a: torch.Tensor, b: torch.Tensor) -> int:
    """MACs of a two-operand einsum as torch computes it: a letter in one operand only and not
    in the output is summed out first (free); the product then costs the size of every letter
    left, ``prod(size[c] for c in (A & B) | out)``, or nothing when no letter is contracted
    (``(A & B) - out`` empty: an elementwise or outer product)."""
    inputs, _, output = equation.replace(" ", "").partition("->")
    letters = inputs.split(",")
    if not _:  # implicit output: the letters that occur once
        output = "".join(c for c in set(inputs) if inputs.count(c) == 1 and c != ",")
    sizes: dict[str, int] = {}
    for word, t in zip(letters, (a, b), strict=True):
        sizes.update(zip(word, t.shape, strict=True))
    both = set(letters[0]) & set(letters[1])
    if not both - set(output):
        return 0
    return math.prod(sizes[c] for c in both | set(output))


class _Tracer(TorchFunctionMode):
    """Counts products called outside the formula layers, charging them to the innermost
    module that is running."""

    def __init__(self, stack: list[_Call]) -> None:
        super().__init__()
        self.stack = stack

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.stack and not isinstance(self.stack[-1].module, _FORMULA_MODULES):
            self.stack[-1].macs += _function_macs(func, args, kwargs, out)
        return out


def _check_input_size(input_size: object) -> tuple[int, ...]:
    if isinstance(input_size, torch.Size):
        input_size = tuple(input_size)
    if isinstance(input_size, (str, bytes)) or not isinstance(input_size, Sequence):
        raise TypeError(
            "input_size must be a tuple of positive integers such as (1, 3, 32, 32), "
            f"got {input_size!r}"
        )
    if not input_size:
        raise ValueError("input_size must have at least one dimension, got ()")
    return tuple(check_int(f"input_size[{i}]", v, 1) for i, v in enumerate(input_size))


def _trace(model: nn.Module, input_size: object) -> list[_Call]:
    """Run ``model`` once on zeros of ``input_size``; return every module call in entry order."""
    model = _check_model(model)
    size = _check_input_size(input_size)
    ref = next((t for t in [*model.parameters(), *model.buffers()] if t.is_floating_point()), None)
    dtype = ref.dtype if ref is not None else torch.float32
    # the input, and the activations a forward pass keeps alive: taken as 8 inputs' worth
    nbytes = math.prod(size) * torch.finfo(dtype).bits // 8
    check_memory(f"input_size {size}", 8.0 * nbytes, "the forward pass")
    try:
        x = torch.zeros(size, dtype=dtype, device=ref.device if ref is not None else "cpu")
    except (RuntimeError, MemoryError) as exc:
        raise ValueError(f"input_size {size} cannot be allocated: {exc}") from None
    calls: list[_Call] = []
    stack: list[_Call] = []
    names = {m: n for n, m in model.named_modules()}

    def pre_hook(module, args):
        call = _Call(module, names.get(module, ""), len(stack))
        if stack:
            stack[-1].children += 1
        stack.append(call)
        calls.append(call)

    def post_hook(module, args, kwargs, output):
        call = stack.pop()
        call.output = output
        if isinstance(module, _FORMULA_MODULES):
            call.macs += _module_macs(module, args, kwargs, output)

    recurrent = sorted({type(m).__name__ for m in model.modules() if isinstance(m, nn.RNNBase)})
    if recurrent:
        warnings.warn(
            f"the products inside recurrent layers ({', '.join(recurrent)}) are not counted",
            stacklevel=3,
        )
    modes = {m: m.training for m in model.modules()}
    fastpath = torch.backends.mha.get_fastpath_enabled()
    handles = []
    try:
        for m in names:
            handles.append(m.register_forward_pre_hook(pre_hook))
            handles.append(m.register_forward_hook(post_hook, with_kwargs=True))
        model.eval()
        # the fused attention kernels would hide the projections and products inside one op
        torch.backends.mha.set_fastpath_enabled(False)
        with torch.no_grad(), _Tracer(stack):
            model(x)
    except (RuntimeError, ValueError, IndexError, TypeError, MemoryError) as exc:
        raise ValueError(f"input_size {size} does not fit the model: {exc}") from exc
    finally:
        for h in handles:
            h.remove()
        for m, training in modes.items():
            m.training = training
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return calls


def count_macs(model: nn.Module, input_size: Sequence[int]) -> int:
    """Multiply-accumulates of one forward pass of ``model`` on an input of ``input_size``.

    ``input_size`` includes the batch dimension, e.g. ``(1, 3, 224, 224)``. Counted: each
    convolution ``N * H_out * W_out * C_out * (C_in / g) * k_h * k_w``, each linear layer
    ``rows * in * out``, each matrix product ``batch * n * k * m`` and attention's
    ``Q K^T`` and ``A V`` products; biases, normalisation, activations and pooling are free.
    The result is half of ``FlopCounterMode``'s FLOPs (see the module docstring).
    """
    return sum(call.macs for call in _trace(model, input_size))


# --------------------------------------------------------------------------------------------
# The summary table
# --------------------------------------------------------------------------------------------
@dataclass
class SummaryRow:
    """One line of a ``summary``: a layer as it ran (a module called twice has two rows)."""

    name: str
    type: str
    output_shape: tuple
    params: int
    macs: int
    output_bytes: int
    depth: int = 0
    #: a ``cnnlib.receptive.Field`` (``.size``, ``.stride``, ``.is_global``), or None
    receptive_field: Any = None


def _shape_of(output: Any) -> tuple:
    if isinstance(output, torch.Tensor):
        return tuple(output.shape)
    if isinstance(output, (tuple, list)):
        return tuple(_shape_of(o) for o in output)
    if isinstance(output, dict):
        return tuple(_shape_of(o) for o in output.values())
    return ()


def _bytes_of(output: Any) -> int:
    if isinstance(output, torch.Tensor):
        return output.numel() * output.element_size()
    if isinstance(output, (tuple, list)):
        return sum(_bytes_of(o) for o in output)
    if isinstance(output, dict):
        return sum(_bytes_of(o) for o in output.values())
    return 0


def _format_shape(shape: tuple) -> str:
    if shape and all(isinstance(s, tuple) for s in shape):
        return ", ".join(_format_shape(s) for s in shape)
    if not shape:
        return "-"
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _short(n: int) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


@dataclass
class Summary:
    """A layer-by-layer table: ``print(s)`` for text, ``s`` in a notebook for HTML, ``s.rows``."""

    rows: list[SummaryRow]
    input_size: tuple[int, ...]
    total_params: int
    non_trainable_params: int
    total_macs: int
    columns: tuple[str, ...] = field(
        default=("Layer", "Type", "Output shape", "Params", "MACs", "Output bytes", "RF")
    )

    def _cells(self) -> list[list[str]]:
        out = []
        for r in self.rows:
            rf = _format_field(r.receptive_field)
            out.append(
                [
                    r.name or "(model)",
                    r.type,
                    _format_shape(r.output_shape),
                    f"{r.params:,}",
                    f"{r.macs:,}",
                    f"{r.output_bytes:,}",
                    rf,
                ]
            )
        return out

    def _footer(self) -> list[str]:
        lines = [
            f"Input size: {list(self.input_size)}",
            f"Trainable parameters: {self.total_params:,}",
            f"Multiply-accumulates: {self.total_macs:,} ({_short(self.total_macs)})",
        ]
        if self.non_trainable_params:
            lines.insert(2, f"Frozen parameters: {self.non_trainable_params:,}")
        return lines

    def __str__(self) -> str:
        cells = self._cells()
        total = ["Total", "", "", f"{self.total_params:,}", f"{self.total_macs:,}", "", ""]
        table = [list(self.columns), *cells, total]
        widths = [max(len(r[i]) for r in table) for i in range(len(self.columns))]
        left = {0, 1, 2}

        def line(row: list[str]) -> str:
            return "  ".join(
                c.ljust(w) if i in left else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()

        rule = "-" * len(line(table[0]))
        body = [line(r) for r in cells]
        return "\n".join([line(table[0]), rule, *body, rule, line(total), *self._footer()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        def row(cells: list[str], tag: str = "td", style: str = "") -> str:
            tds = []
            for i, c in enumerate(cells):
                align = "left" if i < 3 else "right"
                tds.append(f'<{tag} style="text-align:{align}">{html.escape(c)}</{tag}>')
            return f"<tr{style}>" + "".join(tds) + "</tr>"

        total = ["Total", "", "", f"{self.total_params:,}", f"{self.total_macs:,}", "", ""]
        parts = [
            '<table class="cnnlib-summary">',
            "<thead>" + row(list(self.columns), "th") + "</thead><tbody>",
            *(row(c) for c in self._cells()),
            row(total, style=' style="font-weight:bold"'),
            "</tbody></table>",
            "<p>" + "<br>".join(html.escape(s) for s in self._footer()) + "</p>",
        ]
        return "\n".join(parts)


def _receptive_fields(model: nn.Module, input_size: tuple[int, ...]) -> dict[str, Any]:
    """Receptive field (a ``cnnlib.receptive.Field``) per layer name, where it is defined."""
    try:
        from cnnlib.receptive import receptive_field_of
    except ImportError:  # pragma: no cover - the module ships with cnnlib
        return {}
    try:
        fields = receptive_field_of(model, input_size, per_layer=True)
    except (ValueError, TypeError, RuntimeError, NotImplementedError, IndexError):
        return {}  # not an image model (e.g. a sequence model): the column shows '-'
    out: dict[str, Any] = {}
    for f in fields:
        if f.size is not None:
            out.setdefault(f.name, f)
    return out


def _format_field(field: Any) -> str:
    if field is None:
        return "-"
    size = field.size if isinstance(field.size, tuple) else (field.size, field.size)
    text = f"{size[0]}x{size[1]}"
    return f"all ({text})" if field.is_global else text


def summary(model: nn.Module, input_size: Sequence[int]) -> Summary:
    """Layer-by-layer table of ``model`` on an input of ``input_size`` (batch included).

    One row per layer as it ran, in execution order, branches included: every module that
    called no other module, plus any module that owns parameters or does products itself.
    Columns: name, type, output shape, trainable parameters, MACs (as in ``count_macs``),
    bytes of the output, and the receptive field of one output unit on the input
    (``cnnlib.receptive.receptive_field_of``; "all" once global pooling mixes every position,
    "-" where it is not defined). A parameter is charged to the first row that uses
    it; parameters of modules that never ran go to their nearest ancestor that did, so the
    rows' parameters sum to ``count_params(model)`` and their MACs to ``count_macs``.
    """
    calls = _trace(model, input_size)
    size = _check_input_size(input_size)
    called = {id(c.module) for c in calls}
    seen: set[int] = set()

    def own_params(module: nn.Module) -> int:
        total = 0
        for p in module.parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                total += p.numel() if p.requires_grad else 0
        for child in module.children():
            if id(child) not in called:
                total += own_params(child)
        return total

    rf = _receptive_fields(model, size)
    rows = []
    for c in calls:
        params = own_params(c.module)
        if c.children == 0 or params or c.macs:
            rows.append(
                SummaryRow(
                    name=c.name,
                    type=type(c.module).__name__,
                    output_shape=_shape_of(c.output),
                    params=params,
                    macs=c.macs,
                    output_bytes=_bytes_of(c.output),
                    depth=c.depth,
                    receptive_field=rf.get(c.name),
                )
            )
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return Summary(
        rows=rows,
        input_size=size,
        total_params=count_params(model),
        non_trainable_params=frozen,
        total_macs=sum(c.macs for c in calls),
    )
