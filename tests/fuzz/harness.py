"""How a fuzzed call is judged (see ``strategies.py`` for the verdicts ``Bad``/``Same``/``Edge``).

``outcome(fn, kwargs, arg, case)`` calls ``fn(**kwargs)`` with ``kwargs[arg]`` replaced by the
drawn value and asserts:

- an exception is a ``ValueError`` or ``TypeError`` whose message names ``arg`` (or one of
  ``aliases``); anything else (``OverflowError``, ``RuntimeError``, ``MemoryError``, NumPy's
  own messages, ...) fails the test;
- a ``Bad`` value is refused;
- a ``Same`` value gives the result of the call with its canonical value (``results_equal``),
  and, if ``reference`` is given, the reference's result too;
- an ``Edge`` value gives a result or a named error;
- a result passes the spec's ``check`` (if any).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import torch

from .strategies import Bad, Case, Edge, Same

OK_ERRORS = (ValueError, TypeError)


def call(fn: Callable, kwargs: dict) -> tuple[object, BaseException | None]:
    """``(result, None)`` or ``(None, exception)``; only a test's own failure escapes."""
    try:
        return fn(**kwargs), None
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001 - judged by the caller
        return None, exc


def assert_named_error(exc: BaseException, names: Iterable[str], context: str = "") -> None:
    """``exc`` is a ValueError/TypeError whose message names one of ``names``."""
    names = tuple(names)
    assert isinstance(exc, OK_ERRORS), (
        f"{context}: raised {type(exc).__name__} (not ValueError/TypeError): {exc}"
    )
    message = str(exc)
    assert any(n in message for n in names), (
        f"{context}: the {type(exc).__name__} does not name {' or '.join(names)}: {message!r}"
    )


def _as_numpy(value: object) -> object:
    if isinstance(value, torch.Tensor):
        return value.detach().double().numpy()
    return value


def results_equal(a: object, b: object, rtol: float = 1e-3, atol: float = 1e-6) -> bool:
    """Equal results: arrays close (NaN equal NaN; float16 inputs differ by rounding only),
    tuples and lists elementwise, everything else by ``==``."""
    a, b = _as_numpy(a), _as_numpy(b)
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        return all(results_equal(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if len(a) != len(b):
            return False
        return all(results_equal(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind not in "fiub" or b.dtype.kind not in "fiub":
            return bool(np.all(a == b))
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        scale = max(1.0, float(np.nanmax(np.abs(b64[np.isfinite(b64)]), initial=0.0)))
        return bool(np.allclose(a64, b64, rtol=rtol, atol=atol * scale, equal_nan=True))
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def outcome(
    fn: Callable,
    kwargs: dict,
    arg: str,
    case: Case,
    aliases: tuple[str, ...] = (),
    reference: Callable | None = None,
    project: Callable = lambda result: result,
    check: Callable[[object, str], None] | None = None,
) -> None:
    """Call ``fn(**kwargs)`` with ``arg`` set to ``case.value`` and judge it (module docstring);
    ``check(result, context)`` asserts what every result must satisfy (e.g. a model within the
    memory budget, for builders fuzzed on the meta device where nothing is allocated)."""
    name = getattr(fn, "__qualname__", repr(fn))
    context = f"{name}({arg}={case!r})"
    got, exc = call(fn, {**kwargs, arg: case.value})
    if isinstance(case, Same):
        canonical = {**kwargs, arg: case.canonical}
        want, want_exc = call(fn, canonical)
        if want_exc is not None:  # the numbers themselves are refused: refuse them alike
            assert exc is not None, f"{context}: accepted, but {case.canonical!r:.80} is refused"
            assert isinstance(exc, OK_ERRORS), f"{context}: raised {exc!r}"
            assert type(exc) is type(want_exc), f"{context}: {exc!r} vs {want_exc!r}"
            return
    if exc is not None:
        if isinstance(case, Edge):  # may be refused for what it does to another argument
            assert isinstance(exc, OK_ERRORS), (
                f"{context}: raised {type(exc).__name__} (not ValueError/TypeError): {exc}"
            )
            return
        assert_named_error(exc, (arg, *aliases), context)
        return
    assert not isinstance(case, Bad), f"{context}: accepted a bad value, returned {got!r:.200}"
    if check is not None:
        check(got, context)
    if isinstance(case, Same):
        got, want = project(got), project(want)
        assert results_equal(got, want, rtol=_rtol(case)), (
            f"{context}: result differs from the same call with {case.canonical!r:.80}:\n"
            f"{got!r:.300}\nvs\n{want!r:.300}"
        )
        if reference is not None:
            ref = reference(**canonical)
            assert results_equal(got, ref, rtol=_rtol(case)), (
                f"{context}: result differs from the reference:\n{got!r:.300}\nvs\n{ref!r:.300}"
            )


def _rtol(case: Case) -> float:
    """float16 and bfloat16 results are computed in float32 from the same inputs."""
    return 1e-2 if "16" in case.why else 1e-5
