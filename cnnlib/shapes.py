"""Output-size arithmetic of convolution, pooling and transposed convolution, as torch does it.

Along one axis, with input size ``H_in``, kernel size ``k``, stride ``s``, padding ``p`` (per
side), dilation ``d`` and, for transposed convolution, output padding ``a``:

- convolution:            ``H_out = floor((H_in + 2p - d(k-1) - 1) / s + 1)``
- pooling:                the same, or with ``ceil`` when ``ceil_mode=True``; a last window that
                          would start in the right padding is then dropped
- transposed convolution: ``H_out = (H_in - 1)s - 2p + d(k-1) + a + 1``

Every function takes an int or a pair ``(h, w)`` per argument and returns an int when all the
spatial arguments are ints, a pair otherwise. A combination that torch refuses raises a
``ValueError`` naming the argument; the ``explain_*`` functions return the same computation
written out step by step, with the numbers substituted (``.text`` and ``.latex``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnlib._validate import check_bool, check_int, check_memory, check_pair

IntOrPair = int | tuple[int, int]

__all__ = [
    "ConvGrid",
    "Explanation",
    "conv_grid",
    "conv_output_size",
    "conv_transpose_output_size",
    "explain_conv_output_size",
    "explain_conv_transpose_output_size",
    "explain_pool_output_size",
    "pool_output_size",
    "same_padding",
]


# -- one axis -----------------------------------------------------------------------------------
def _windows(size: int, k: int, s: int, before: int, after: int, d: int, ceil: bool) -> int:
    """The number of windows along one axis (the formula of every function here, with the
    padding ``before`` and ``after`` the input given apart): ``floor((size + before + after -
    d(k-1) - 1) / s) + 1``, or ``ceil`` in ceil mode minus a last window that would start in the
    right padding (``(out - 1) s >= size + before``). May be < 1: the callers refuse that."""
    span = size + before + after - d * (k - 1) - 1
    out = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + before:
        out -= 1  # the last window would start in the right padding: torch drops it
    return out


def _conv_1d(size: int, k: int, s: int, p: int, d: int, axis: str) -> int:
    out = _windows(size, k, s, p, p, d, False)
    if out < 1:
        raise ValueError(_too_small(size, k, p, d, out, axis))
    return out


def _too_small(size: int, k: int, p: int, d: int, out: int, axis: str) -> str:
    dilated = f" (dilated to {d * (k - 1) + 1})" if d > 1 else ""
    return (
        f"kernel_size{axis} {k}{dilated} is larger than the padded input {size} + 2*{p} = "
        f"{size + 2 * p}: the output size would be {out}, and torch refuses an output smaller "
        "than 1"
    )


def _pool_1d(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool, axis: str) -> int:
    if p > k // 2:
        raise ValueError(
            f"padding{axis} {p} is more than half of kernel_size{axis} {k}: torch's pooling "
            f"requires padding <= kernel_size // 2 = {k // 2}"
        )
    out = _windows(size, k, s, p, p, d, ceil_mode)
    if out < 1:
        raise ValueError(_too_small(size, k, p, d, out, axis))
    return out


def _conv_transpose_1d(size: int, k: int, s: int, p: int, a: int, d: int, axis: str) -> int:
    if a >= s and a >= d:
        raise ValueError(
            f"output_padding{axis} {a} must be smaller than stride{axis} {s} or dilation{axis} "
            f"{d} (torch's rule)"
        )
    out = (size - 1) * s - 2 * p + d * (k - 1) + a + 1
    if out < 1:
        raise ValueError(
            f"padding{axis} {p} removes more than the transposed convolution produces: "
            f"({size}-1)*{s} - 2*{p} + {d}*({k}-1) + {a} + 1 = {out}, and torch refuses an "
            "output smaller than 1"
        )
    return out


# -- argument handling --------------------------------------------------------------------------
def _is_pair(*values: object) -> bool:
    return any(isinstance(v, (tuple, list)) for v in values)


def _pairs(**named: tuple[object, int]) -> dict[str, tuple[int, int]]:
    """Check each ``name=(value, minimum)`` and return it as a pair."""
    return {name: check_pair(name, value, minimum) for name, (value, minimum) in named.items()}


def _axes(pair: bool) -> tuple[str, str]:
    return ("[0]", "[1]") if pair else ("", "")


def _result(values: list[int], pair: bool) -> IntOrPair:
    return (values[0], values[1]) if pair else values[0]


# -- public functions ---------------------------------------------------------------------------
def conv_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> IntOrPair:
    """Output size of a convolution (``torch.nn.Conv2d``), per axis.

    ``H_out = floor((H_in + 2p - d(k - 1) - 1) / s + 1)``: the padded input has ``H_in + 2p``
    cells, the dilated kernel spans ``d(k - 1) + 1`` of them, which leaves
    ``H_in + 2p - d(k - 1) - 1`` cells to slide over in steps of ``s``.

    Raises ``ValueError`` when the dilated kernel is larger than the padded input (torch's
    "Kernel size can't be greater than actual input size").
    """
    pair = _is_pair(size, kernel_size, stride, padding, dilation)
    a = _pairs(
        size=(size, 1), kernel_size=(kernel_size, 1), stride=(stride, 1), padding=(padding, 0)
    )
    d = check_pair("dilation", dilation, 1)
    axes = _axes(pair)
    out = [
        _conv_1d(a["size"][i], a["kernel_size"][i], a["stride"][i], a["padding"][i], d[i], axes[i])
        for i in range(2)
    ]
    return _result(out, pair)


def pool_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> IntOrPair:
    """Output size of a pooling layer (``torch.nn.MaxPool2d``, ``AvgPool2d``), per axis.

    ``stride`` defaults to ``kernel_size``. With ``ceil_mode=False`` the formula is the
    convolution's, ``H_out = floor((H_in + 2p - d(k - 1) - 1) / s) + 1``. With
    ``ceil_mode=True`` it is ``ceil((H_in + 2p - d(k - 1) - 1) / s) + 1``, except that a last
    window that would start in the right padding, ``(H_out - 1) s >= H_in + p``, is dropped.

    Raises ``ValueError`` where torch refuses: ``padding > kernel_size // 2``, or an output
    smaller than 1.
    """
    if stride is None:
        stride = kernel_size
    pair = _is_pair(size, kernel_size, stride, padding, dilation)
    a = _pairs(
        size=(size, 1),
        kernel_size=(kernel_size, 1),
        stride=(stride, 1),
        padding=(padding, 0),
        dilation=(dilation, 1),
    )
    ceil_mode = check_bool("ceil_mode", ceil_mode)
    axes = _axes(pair)
    out = [
        _pool_1d(
            a["size"][i],
            a["kernel_size"][i],
            a["stride"][i],
            a["padding"][i],
            a["dilation"][i],
            ceil_mode,
            axes[i],
        )
        for i in range(2)
    ]
    return _result(out, pair)


def conv_transpose_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> IntOrPair:
    """Output size of a transposed convolution (``torch.nn.ConvTranspose2d``), per axis.

    ``H_out = (H_in - 1) s - 2p + d(k - 1) + a + 1`` with ``a = output_padding``: the inverse of
    the convolution formula; ``a`` picks one of the ``s`` input sizes that a stride-``s``
    convolution maps onto the same ``H_in``.

    Raises ``ValueError`` where torch refuses: ``output_padding`` not smaller than ``stride``
    nor than ``dilation``, or an output smaller than 1.
    """
    pair = _is_pair(size, kernel_size, stride, padding, output_padding, dilation)
    a = _pairs(
        size=(size, 1),
        kernel_size=(kernel_size, 1),
        stride=(stride, 1),
        padding=(padding, 0),
        output_padding=(output_padding, 0),
        dilation=(dilation, 1),
    )
    axes = _axes(pair)
    out = [
        _conv_transpose_1d(
            a["size"][i],
            a["kernel_size"][i],
            a["stride"][i],
            a["padding"][i],
            a["output_padding"][i],
            a["dilation"][i],
            axes[i],
        )
        for i in range(2)
    ]
    return _result(out, pair)


def same_padding(
    kernel_size: IntOrPair, dilation: IntOrPair = 1
) -> tuple[int, int] | tuple[tuple[int, int], tuple[int, int]]:
    """Padding ``(before, after)`` that keeps the size at stride 1, split as torch's ``"same"``.

    The dilated kernel needs ``total = d(k - 1)`` padding cells in all; torch puts
    ``total // 2`` before and the rest after, so when ``d(k - 1)`` is odd (an even kernel with an
    odd dilation) one more cell goes at the end (bottom / right). An int kernel gives
    ``(before, after)``; a pair gives one such pair per axis.
    """
    pair = _is_pair(kernel_size, dilation)
    k = check_pair("kernel_size", kernel_size, 1)
    d = check_pair("dilation", dilation, 1)
    sides = []
    for i in range(2):
        total = d[i] * (k[i] - 1)
        sides.append((total // 2, total - total // 2))
    return (sides[0], sides[1]) if pair else sides[0]


# -- step-by-step explanations ------------------------------------------------------------------
@dataclass(frozen=True)
class Explanation:
    """A computation written out step by step: ``text`` (plain) and ``latex`` (display math).

    Shown in a notebook, it renders as typeset math; ``str()`` gives the plain text.
    """

    text: str
    latex: str
    result: IntOrPair

    def __str__(self) -> str:
        return self.text

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex}\n$$"

    def _repr_markdown_(self) -> str:
        return f"$$\n{self.latex}\n$$"

    def _repr_pretty_(self, p, cycle: bool) -> None:  # IPython's text/plain
        p.text(self.text)


def _frac(num: str, den: str) -> str:
    return rf"\frac{{{num}}}{{{den}}}"


def _fmt_num(num: int, den: int) -> str:
    """``num / den`` as a short decimal (exact when it terminates within 3 places)."""
    value = num / den
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if round(value, 3) == value else text + r"\ldots"


def _explain_conv_axis(size, k, s, p, d, name, ceil_mode=None):
    """Steps for one axis of convolution (``ceil_mode`` None or False) or ceil-mode pooling."""
    padded, span = size + 2 * p, d * (k - 1) + 1
    rest = padded - span
    lo, hi = f"{name}_{{in}}", f"{name}_{{out}}"
    subst = f"{size} + 2 \\cdot {p} - {d} \\cdot ({k}-1) - 1"
    if not ceil_mode:  # PyTorch's documented form: floor(rest / s + 1)
        out = rest // s + 1
        steps_tex = [
            rf"{hi} &= \left\lfloor {_frac(f'{lo} + 2p - d(k-1) - 1', 's')} + 1 \right\rfloor",
            rf"&= \left\lfloor {_frac(subst, str(s))} + 1 \right\rfloor",
            rf"&= \left\lfloor {_frac(str(rest), str(s))} + 1 \right\rfloor"
            rf" = \left\lfloor {_fmt_num(rest + s, s)} \right\rfloor = {out}",
        ]
        steps_txt = [
            f"{name}_out = floor(({name}_in + 2p - d(k-1) - 1) / s + 1)",
            f"      = floor(({size} + 2*{p} - {d}*({k}-1) - 1) / {s} + 1)",
            f"      = floor({rest}/{s} + 1) = floor({(rest + s) / s:.4g}) = {out}",
        ]
    else:
        q = -(-rest // s)
        out = q + 1
        steps_tex = [
            rf"{hi} &= \left\lceil {_frac(f'{lo} + 2p - d(k-1) - 1', 's')} \right\rceil + 1",
            rf"&= \left\lceil {_frac(subst, str(s))} \right\rceil + 1",
            rf"&= \left\lceil {_frac(str(rest), str(s))} \right\rceil + 1"
            rf" = \left\lceil {_fmt_num(rest, s)} \right\rceil + 1 = {q} + 1 = {out}",
        ]
        steps_txt = [
            f"{name}_out = ceil(({name}_in + 2p - d(k-1) - 1) / s) + 1",
            f"      = ceil(({size} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1",
            f"      = ceil({rest}/{s}) + 1 = {q} + 1 = {out}",
        ]
        if (out - 1) * s >= size + p:
            steps_tex.append(
                rf"&\to {out} - 1 = {out - 1} \quad\text{{(the last window would start at "
                rf"{(out - 1) * s}}} \ge {lo} + p = {size + p}\text{{: dropped)}}"
            )
            steps_txt.append(
                f"      -> {out} - 1 = {out - 1}  (the last window would start at "
                f"{(out - 1) * s} >= {name}_in + p = {size + p}, in the right padding: dropped)"
            )
            out -= 1
    notes = [
        f"(padded input {size} + 2*{p} = {padded} cells; dilated kernel {d}*({k}-1) + 1 = "
        f"{span} cells; {rest} cells left to slide over in steps of {s})"
    ]
    return steps_txt, steps_tex, notes, out


def _explain_transpose_axis(size, k, s, p, a, d, name):
    lo, hi = f"{name}_{{in}}", f"{name}_{{out}}"
    out = (size - 1) * s - 2 * p + d * (k - 1) + a + 1
    steps_tex = [
        rf"{hi} &= ({lo} - 1)\,s - 2p + d(k-1) + a + 1",
        rf"&= ({size} - 1)\cdot {s} - 2\cdot {p} + {d}\cdot({k}-1) + {a} + 1",
        rf"&= {(size - 1) * s} - {2 * p} + {d * (k - 1)} + {a} + 1 = {out}",
    ]
    steps_txt = [
        f"{name}_out = ({name}_in - 1)*s - 2p + d(k-1) + output_padding + 1",
        f"      = ({size} - 1)*{s} - 2*{p} + {d}*({k}-1) + {a} + 1",
        f"      = {(size - 1) * s} - {2 * p} + {d * (k - 1)} + {a} + 1 = {out}",
    ]
    notes = [
        f"({size} inputs placed {s} apart span {(size - 1) * s + 1} cells; the dilated kernel "
        f"adds {d * (k - 1)}; padding trims {p} from each end; output_padding adds {a} at the end)"
    ]
    return steps_txt, steps_tex, notes, out


def _explanation(per_axis, pair: bool) -> Explanation:
    texts, latexes, results = [], [], []
    for steps_txt, steps_tex, notes, out in per_axis:
        texts.append("\n".join(steps_txt + notes))
        latexes.append(r"\begin{aligned}" + r" \\ ".join(steps_tex) + r"\end{aligned}")
        results.append(out)
    if not pair:
        return Explanation(texts[0], latexes[0], results[0])
    return Explanation("\n\n".join(texts), r" \qquad ".join(latexes), (results[0], results[1]))


def explain_conv_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> Explanation:
    """``conv_output_size`` written out: ``H_out = floor((H_in + 2p - d(k-1) - 1)/s) + 1``,
    with the numbers substituted step by step (``.text``, ``.latex``, ``.result``).

    Raises the same errors as ``conv_output_size``.
    """
    conv_output_size(size, kernel_size, stride, padding, dilation)
    pair = _is_pair(size, kernel_size, stride, padding, dilation)
    args = [
        check_pair(n, v)
        for n, v in zip("hkspd", (size, kernel_size, stride, padding, dilation), strict=True)
    ]
    names = ("H", "W") if pair else ("H",)
    per_axis = [_explain_conv_axis(*(v[i] for v in args), name) for i, name in enumerate(names)]
    return _explanation(per_axis, pair)


def explain_pool_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> Explanation:
    """``pool_output_size`` written out: ``floor`` (or ``ceil``) of
    ``(H_in + 2p - d(k-1) - 1)/s``, plus one, and torch's drop rule for ``ceil_mode``.

    Raises the same errors as ``pool_output_size``.
    """
    pool_output_size(size, kernel_size, stride, padding, dilation, ceil_mode)
    if stride is None:
        stride = kernel_size
    pair = _is_pair(size, kernel_size, stride, padding, dilation)
    args = [
        check_pair(n, v)
        for n, v in zip("hkspd", (size, kernel_size, stride, padding, dilation), strict=True)
    ]
    names = ("H", "W") if pair else ("H",)
    per_axis = [
        _explain_conv_axis(*(v[i] for v in args), name, ceil_mode=ceil_mode)
        for i, name in enumerate(names)
    ]
    return _explanation(per_axis, pair)


def explain_conv_transpose_output_size(
    size: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> Explanation:
    """``conv_transpose_output_size`` written out:
    ``H_out = (H_in - 1)s - 2p + d(k-1) + output_padding + 1`` with the numbers substituted.

    Raises the same errors as ``conv_transpose_output_size``.
    """
    conv_transpose_output_size(size, kernel_size, stride, padding, output_padding, dilation)
    values = (size, kernel_size, stride, padding, output_padding, dilation)
    pair = _is_pair(*values)
    args = [check_pair(n, v) for n, v in zip("hkspad", values, strict=True)]
    names = ("H", "W") if pair else ("H",)
    per_axis = [
        _explain_transpose_axis(*(v[i] for v in args), name) for i, name in enumerate(names)
    ]
    return _explanation(per_axis, pair)


# -- the grid a convolution slides over (for pictures) ------------------------------------------
@dataclass(frozen=True)
class ConvGrid:
    """One axis of a convolution as a picture: the grid the windows slide over.

    ``kind[t]`` says what cell ``t`` holds: 0 padding, 1 an input pixel, 2 a zero inserted
    between inputs (transposed convolution). ``input_cells[i]`` is the cell of input ``i``
    (outside ``0 .. cells - 1`` when a transposed convolution's padding crops it away).
    Window ``j`` reads the cells ``taps[j] = j * step + d * arange(k)``; there are
    ``output_size`` windows, one per output cell. ``unreached`` lists the inputs no window reads.
    """

    kind: tuple[int, ...]
    input_cells: tuple[int, ...]
    step: int
    dilation: int
    kernel_size: int
    output_size: int
    transposed: bool

    @property
    def cells(self) -> int:
        return len(self.kind)

    @property
    def taps(self) -> list[list[int]]:
        d, k = self.dilation, self.kernel_size
        return [[j * self.step + i * d for i in range(k)] for j in range(self.output_size)]

    @property
    def unreached(self) -> list[int]:
        read = {t for window in self.taps for t in window}
        return [i for i, t in enumerate(self.input_cells) if t not in read]


def conv_grid(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    transposed: bool = False,
    output_padding: int = 0,
) -> ConvGrid:
    """The grid a convolution's windows slide over, along one axis (see :class:`ConvGrid`).

    Direct convolution: the input with ``p`` padding cells on each side (``n + 2p`` cells),
    windows ``s`` apart. Transposed convolution, as Dumoulin & Visin draw it: the input with
    ``s - 1`` zeros inserted between neighbours, ``p' = d(k - 1) - p`` padding cells on each
    side (cropped when negative) and ``output_padding`` more at the end, windows 1 apart; a
    stride-1 convolution over it with the flipped kernel equals ``conv_transpose``.
    Raises the same errors as ``conv_output_size`` / ``conv_transpose_output_size``.
    """
    transposed = check_bool("transposed", transposed)
    n, k, s, p, d = (
        check_int(name, value, low)
        for name, value, low in (
            ("size", size, 1),
            ("kernel_size", kernel_size, 1),
            ("stride", stride, 1),
            ("padding", padding, 0),
            ("dilation", dilation, 1),
        )
    )
    output_padding = check_int("output_padding", output_padding, 0)
    if transposed:
        out = conv_transpose_output_size(n, k, s, p, output_padding, d)
        pad = d * (k - 1) - p
        cells = (n - 1) * s + 1 + 2 * pad + output_padding
        _check_grid_memory(cells, out * k, size, stride, padding, dilation)
        kind = []
        for t in range(cells):
            u = t - pad  # position along the zero-inserted input
            kind.append(0 if u < 0 or u > (n - 1) * s else (1 if u % s == 0 else 2))
        return ConvGrid(tuple(kind), tuple(pad + i * s for i in range(n)), 1, d, k, out, True)
    out = conv_output_size(n, k, s, p, d)
    _check_grid_memory(n + 2 * p, out * k, size, stride, padding, dilation)
    kind = (0,) * p + (1,) * n + (0,) * p
    return ConvGrid(kind, tuple(p + i for i in range(n)), s, d, k, out, False)


def _check_grid_memory(cells: int, taps: int, size, stride, padding, dilation) -> None:
    """A grid is a picture: tuples of ``cells`` Python ints (about 40 bytes each) and taps."""
    named = {"size": size, "padding": padding, "stride": stride, "dilation": dilation}
    culprit = max(named, key=lambda k: named[k])
    check_memory(f"{culprit} {named[culprit]}", 40.0 * (cells + taps), "the grid")
