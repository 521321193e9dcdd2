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

from cnnlib.exercises._report import FAIL, FORGOT_RETURN, NotWhole, report, whole_number
from cnnlib.receptive import receptive_field

__all__ = ["check_receptive_field", "check_window"]


def _random_layers(rng: np.random.Generator, n: int, width: int) -> list[tuple[int, ...]]:
    layers = []
    for _ in range(n):
        k, s = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        extra = [int(rng.integers(1, 4))] if width == 3 else []
        layers.append((k, s, *extra))
    return layers


def _call(fn: Callable, *args) -> tuple[object, str | None]:
    try:
        return fn(*args), None
    except NotImplementedError:
        return (
            None,
            "it raised NotImplementedError: replace `raise NotImplementedError` by your code",
        )
    except Exception as exc:  # the learner's code: report it, never crash the notebook
        return None, f"it raised {type(exc).__name__}: {exc}"


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


def check_receptive_field(fn: Callable, dilation: bool = False) -> None:
    """Check ``fn(layers) -> r`` (see the module docstring) on worked and random stacks.

    Prints one line: a success line, or the first case that fails and a hint.
    """
    worked = [[(3, 1)] * 3, [(3, 1), (2, 2), (3, 1)], [(11, 4), (3, 2), (5, 1), (3, 2)]]
    if dilation:
        worked = [[(3, 1, 1), (3, 1, 2), (3, 1, 4)], [(3, 2, 1), (3, 1, 2)]]
    rng = np.random.default_rng(4)
    cases = worked + [
        _random_layers(rng, int(rng.integers(1, 6)), 3 if dilation else 2) for _ in range(20)
    ]
    title = "my_receptive_field" + (" with dilation" if dilation else "")
    for layers in cases:
        tuples = [(k, s, 0, rest[0] if rest else 1) for k, s, *rest in layers]
        expected = receptive_field(tuples)[-1].size
        got, error = _call(fn, [tuple(layer) for layer in layers])
        if error is None and got is None:
            error = f"it {FORGOT_RETURN}"
        if error is None and _as_int(got) is None:
            error = f"it returned {got!r}, not an integer"
        if error is not None:
            print(f"{FAIL} {title}: for layers={layers} {error}")
            return
        if _as_int(got) != expected:
            hint = _hint_size(layers, _as_int(got), dilation)
            print(f"{FAIL} {title}: for layers={layers} expected {expected}, got {got}.{hint}")
            return
    report(title, None, len(cases), cases="stacks")


def check_window(fn: Callable) -> None:
    """Check ``fn(layers, unit) -> (start, end)`` (see the module docstring).

    The reference is ``start = unit S - P``, ``end = start + r - 1`` from
    :func:`cnnlib.receptive.receptive_field`. Prints a success line or the first failing case.
    """
    rng = np.random.default_rng(5)
    cases = [([(3, 1, 1)] * 3, 0), ([(3, 1, 1)] * 3, 5), ([(3, 1, 1), (2, 2, 0), (3, 1, 1)], 2)]
    for _ in range(20):
        layers = [
            (k, int(rng.integers(1, 4)), int(rng.integers(0, k)))
            for k in rng.integers(1, 6, size=int(rng.integers(1, 5)))
        ]
        cases.append(([tuple(int(v) for v in layer) for layer in layers], int(rng.integers(0, 6))))
    title = "my_window"
    for layers, unit in cases:
        field = receptive_field(layers)[-1]
        w = field.window(unit)
        expected = (w.start, w.end)
        got, error = _call(fn, list(layers), unit)
        if error is None:
            try:
                got = tuple(whole_number(v) for v in got)
                if len(got) != 2:
                    raise ValueError
            except NotWhole as exc:
                error = f"it returned {got!r}: {exc.shown} is not an input index (a whole number)"
            except (TypeError, ValueError):
                error = f"it returned {got!r}, not a pair (start, end)"
        if error is not None:
            print(f"{FAIL} {title}: for layers={layers}, unit={unit} {error}")
            return
        if got != expected:
            hint = ""
            if got == (w.start + field.padding, w.end + field.padding):
                hint = " Hint: subtract the effective padding P = sum p_l prod_{i<l} s_i."
            elif got[1] - got[0] == field.size:
                hint = " Hint: the end is inclusive: end = start + r - 1."
            elif got[1] - got[0] + 1 != field.size:
                hint = f" Hint: the window should hold r = {field.size} pixels."
            print(
                f"{FAIL} {title}: for layers={layers}, unit={unit} expected {expected}, "
                f"got {got}.{hint}"
            )
            return
    report(title, None, len(cases))
