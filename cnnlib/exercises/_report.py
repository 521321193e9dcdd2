"""What the exercise checkers share: running the learner's code, comparing, printing the verdict.

Every checker prints one line that starts with :data:`PASS` or :data:`FAIL` (or
:data:`NO_ANSWER` while the learner's answer is still ``None``); a failure names the call, the
input, the expected and the received value. The texts here are part of the notebooks' saved
outputs: change them only together with the notebooks.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

PASS = "✅"
FAIL = "❌"
NO_ANSWER = "✏️ No answer yet:"

#: what a checker says when the learner's function returns None
FORGOT_RETURN = "returned None (did you forget `return`?)"

#: tolerances of the array comparisons: float64 references, answers computed by plain loops
RTOL = 1e-6
ATOL = 1e-8


def require_callable(fn: Any) -> None:
    """Raise TypeError unless ``fn`` can be called (a checker was given the function's result)."""
    if not callable(fn):
        raise TypeError(f"fn must be a function, got {type(fn).__name__}")


class NotWhole(ValueError):
    """A learner's value that must be a whole number has a fraction (15.5), or is nan or inf.

    ``shown`` is the value as the message names it (the float's shortest repr).
    """

    def __init__(self, value: float) -> None:
        self.shown = repr(float(value))
        super().__init__(f"{self.shown} is not a whole number")


def whole_number(v: Any) -> int:
    """``v`` as an int, never rounded: an int (NumPy, torch or Python) or an integer-valued
    float such as ``15.0``.

    Raises :class:`NotWhole` for a number with a fraction (``15.5``), nan or inf, and the
    ``TypeError``/``ValueError`` of ``float(v)`` for what is no number at all.
    """
    try:
        return operator.index(v)
    except TypeError:
        pass
    f = float(v)
    if not f.is_integer():
        raise NotWhole(f)
    return int(f)


def fmt(a: Any) -> str:
    """An array as readable text (4 significant digits, tiny values as 0); a scalar as ``.4g``."""
    arr = np.asarray(a)
    if arr.ndim == 0:
        return f"{float(arr):.4g}"
    return np.array2string(arr, precision=4, suppress_small=True, max_line_width=90)


def as_result(got: Any) -> np.ndarray | str:
    """The learner's output as a float array, or a sentence saying why it is not one.

    A torch tensor is accepted (detached, moved to the CPU); ``None`` means a missing ``return``.
    """
    if got is None:
        return f"it {FORGOT_RETURN}"
    if hasattr(got, "detach") and hasattr(got, "numpy"):  # a torch tensor is fine
        got = got.detach().cpu().numpy()
    try:
        return np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        return f"its result {type(got).__name__} is not an array of numbers ({exc})"


def same(a: Any, b: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """True if ``a`` has the shape of ``b`` and ``|a - b| <= atol + rtol |b|`` everywhere."""
    a = np.asarray(a)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def first_mismatch(
    expected: np.ndarray, got: np.ndarray, rtol: float = RTOL, atol: float = ATOL
) -> tuple[int, ...]:
    """The index of the first element (row-major) where ``got`` is not close to ``expected``."""
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    return tuple(int(i) for i in np.argwhere(bad)[0])


def call_learner(
    fn: Callable[..., Any], call: str, *args: Any, **kwargs: Any
) -> tuple[Any, str | None]:
    """Run ``fn(*args, **kwargs)``: ``(result, None)``, or ``(None, problem)`` if it raised or
    returned None; ``call`` is how the problem text shows the call."""
    try:
        got = fn(*args, **kwargs)
    except Exception as exc:  # the learner's code: report, never crash the notebook
        return None, f"{call} raised {type(exc).__name__}: {exc}"
    if got is None:
        return None, f"{call} {FORGOT_RETURN}"
    return got, None


def compare_arrays(
    call: str,
    where: str,
    run: Callable[[], Any],
    expected: np.ndarray,
    hint: Callable[[np.ndarray], str],
    at: str = "",
) -> str | None:
    """Run one array-valued case; return what is wrong as text, or None if the answer is right.

    ``where`` shows the inputs (it ends with a newline), ``hint(got)`` names a common mistake
    (or is empty) and ``at`` prefixes the index of the first wrong element (e.g. ``"output"``).
    """
    try:
        got = run()
    except Exception as exc:
        return f"{call} raised {type(exc).__name__}: {exc}\n{where}"
    got = as_result(got)
    if isinstance(got, str):
        return f"{call}: {got}\n{where}"
    shown = f"{where}expected =\n{fmt(expected)}\ngot =\n{fmt(got)}\n"
    if got.shape != expected.shape:
        return f"{call} returned shape {got.shape}, expected {expected.shape}.\n{shown}{hint(got)}"
    if not same(got, expected):
        pos = first_mismatch(expected, got)
        return (
            f"{call}: wrong values.\n{shown}first difference at {at}{list(pos)}: "
            f"expected {expected[pos]:.4g}, got {got[pos]:.4g}.\n{hint(got)}"
        )
    return None


def report(
    title: str, problem: str | None, n_cases: int, reference: str = "", cases: str = "cases"
) -> bool:
    """Print ``PASS title: all n cases match reference.`` or ``FAIL title: problem``.

    Returns True on success, so that a checker can hand the verdict on.
    """
    if problem is None:
        against = f" {reference}" if reference else ""
        print(f"{PASS} {title}: all {n_cases} {cases} match{against}.")
        return True
    print(f"{FAIL} {title}: {problem}")
    return False
