"""Checkers for the exercises of notebook 04 (receptive fields).

Each checker runs the learner's function on a hand-worked case first, then on random stacks of
layers, against :func:`cnnlib.receptive.receptive_field` (itself tested against the support of
the gradient computed by torch autograd), and prints one success line or what is wrong: the
layers, the expected and the received answer, and a hint when the mistake is a common one.

- ``my_receptive_field(layers)``: ``layers`` is a list of ``(kernel_size, stride)`` tuples
  (with ``dilation=True``: ``(kernel_size, stride, dilation)``), input first; it returns the
  receptive-field size ``r_L`` of one unit of the last layer,
  ``r_l = r_{l-1} + (k'_l - 1) prod_{i<l} s_i`` with ``r_0 = 1`` and ``k' = d (k - 1) + 1``.
- ``my_window(layers, unit)``: ``layers`` is a list of ``(kernel_size, stride, padding)``
  tuples; it returns ``(start, end)``, the first and last input index (inclusive, unclipped:
  negative or past the border means padding) seen by unit ``unit`` of the last layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cnnlib.exercises._report import FAIL as FAIL  # re-exported for tests
from cnnlib.exercises._report import PASS as PASS
from cnnlib.exercises._report import (
    Judge,
    NotWhole,
    Result,
    name_of,
    read_items,
    require_callable,
    show,
    whole_number,
)
from cnnlib.receptive import receptive_field

__all__ = ["check_receptive_field", "check_window"]


def _random_layers(rng: np.random.Generator, n: int, width: int) -> list[tuple[int, ...]]:
    layers = []
    for _ in range(n):
        k, s = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        extra = [int(rng.integers(1, 4))] if width == 3 else []
        layers.append((k, s, *extra))
    return layers


def _as_int(got: object) -> int | None:
    if isinstance(got, (bool, np.bool_)):
        return None
    if isinstance(got, (int, np.integer)):
        return int(got)
    if isinstance(got, (float, np.floating)) and float(got).is_integer():
        return int(got)
    return None


def _hint_size(layers: Sequence[tuple[int, ...]], got: int, dilation: bool) -> str:
    ks = [(d * (k - 1) + 1) if dilation else k for k, _, *rest in layers for d in (rest or [1])]
    strides = [s for _, s, *_ in layers]
    plain = 1 + sum(k - 1 for k in ks)
    inclusive = 1 + sum((k - 1) * int(np.prod(strides[: i + 1])) for i, k in enumerate(ks))
    undilated = receptive_field([(k, s) for k, s, *_ in layers])[-1].size
    if got == plain and plain != inclusive:
        return (
            " Hint: the growth of layer l is multiplied by the product of the strides of the"
            " layers *below* it."
        )
    if got == inclusive:
        return (
            " Hint: the product runs over i < l: a layer's own stride does not widen its own field."
        )
    if dilation and got == undilated:
        return " Hint: a dilated kernel spans d (k - 1) + 1 pixels."
    if got == sum(ks):
        return " Hint: start from r_0 = 1 and add (k - 1) per layer, not k."
    return ""


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_RECEPTIVE_FIELD = (
    "r, jump = 1, 1; for each layer (k, s[, d]) from the input up: r += d*(k - 1)*jump, "
    "then jump *= s; return r."
)


def check_receptive_field(
    fn: Callable, dilation: bool = False, show_answer: bool = False
) -> Result:
    """Check ``fn(layers) -> r`` (see the module docstring) on worked and random stacks.

    Prints one verdict; returns a Result, true on success.
    """
    require_callable(fn)
    worked = [[(3, 1)] * 3, [(3, 1), (2, 2), (3, 1)], [(11, 4), (3, 2), (5, 1), (3, 2)]]
    if dilation:
        worked = [[(3, 1, 1), (3, 1, 2), (3, 1, 4)], [(3, 2, 1), (3, 1, 2)]]
    rng = np.random.default_rng(4)
    cases = worked + [
        _random_layers(rng, int(rng.integers(1, 6)), 3 if dilation else 2) for _ in range(20)
    ]
    hint = (
        "start from r_0 = 1; layer l adds (k'_l - 1) times the product of the strides of the "
        "layers below it"
        + (", with the dilated kernel size k' = d (k - 1) + 1." if dilation else ".")
    )
    what = name_of(fn, "your receptive field") + (" with dilation" if dilation else "")
    with Judge(what, hint, answer=_ANSWER_RECEPTIVE_FIELD, show_answer=show_answer) as j:
        for layers in cases:
            tuples = [(k, s, 0, rest[0] if rest else 1) for k, s, *rest in layers]
            expected = receptive_field(tuples)[-1].size
            call = f"fn(layers={layers})"
            got = j.call(call, fn, [tuple(layer) for layer in layers])
            value = _as_int(got)
            if value is None:
                j.fail(f"{call} returned {show(got)}, not an integer.", "return one int: r_L.")
            if value != expected:
                j.fail(
                    f"{call}: expected {expected}, got {value}.",
                    _hint_size(layers, value, dilation),
                )
        j.passed_cases(len(cases), cases="stacks")
    return j.result


#: the worked answer, shown from the second wrong answer on (or with ``show_answer=True``)
_ANSWER_WINDOW = (
    "a = b = unit; for k, s, p in reversed(layers): a, b = a*s - p, b*s - p + k - 1; return a, b."
)


def check_window(fn: Callable, show_answer: bool = False) -> Result:
    """Check ``fn(layers, unit) -> (start, end)`` (see the module docstring).

    The reference is ``start = unit S - P``, ``end = start + r - 1`` from
    :func:`cnnlib.receptive.receptive_field`. Prints one verdict; returns a Result, true on success.
    """
    require_callable(fn)
    rng = np.random.default_rng(5)
    cases = [([(3, 1, 1)] * 3, 0), ([(3, 1, 1)] * 3, 5), ([(3, 1, 1), (2, 2, 0), (3, 1, 1)], 2)]
    for _ in range(20):
        layers = [
            (k, int(rng.integers(1, 4)), int(rng.integers(0, k)))
            for k in rng.integers(1, 6, size=int(rng.integers(1, 5)))
        ]
        cases.append(([tuple(int(v) for v in layer) for layer in layers], int(rng.integers(0, 6))))
    hint = (
        "walk down from the top: a window [a, b] of layer l comes from [a s_l - p_l, "
        "b s_l - p_l + k_l - 1] of the layer below."
    )
    with Judge(
        name_of(fn, "your window"), hint, answer=_ANSWER_WINDOW, show_answer=show_answer
    ) as j:
        for layers, unit in cases:
            field = receptive_field(layers)[-1]
            w = field.window(unit)
            expected = (w.start, w.end)
            call = f"fn(layers={layers}, unit={unit})"
            got = j.call(call, fn, list(layers), unit)
            try:
                pair = tuple(
                    j.read(call, lambda got=got: [whole_number(v) for v in read_items(got)])
                )
                if len(pair) != 2:
                    raise ValueError(f"{len(pair)} values")
            except NotWhole as exc:
                j.fail(
                    f"{call} returned {show(got)}: {exc.shown} is not an input index.",
                    "input indices are whole numbers (negative ones lie in the padding).",
                )
            except (TypeError, ValueError) as exc:
                j.fail(
                    f"{call} returned {show(got)}, not a pair (start, end) ({exc}).",
                    "return two ints: the first and the last input index.",
                )
            if pair != expected:
                why = ""
                if pair == (w.start + field.padding, w.end + field.padding):
                    why = "subtract the effective padding P = sum p_l prod_{i<l} s_i."
                elif pair[1] - pair[0] == field.size:
                    why = "the end is inclusive: end = start + r - 1."
                elif pair[1] - pair[0] + 1 != field.size:
                    why = f"the window should hold r = {field.size} pixels."
                j.fail(f"{call}: expected {expected}, got {pair}.", why)
        j.passed_cases(len(cases))
    return j.result
