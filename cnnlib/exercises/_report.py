"""What the exercise checkers share: one message style, and running the learner's code safely.

Every checker prints exactly one verdict, in one of three forms, and returns a :class:`Result`
that is true on success (and shows nothing in a notebook):

- ``✅ <which answer>: <what was checked>.``
- ``❌ <which answer>: <what is wrong>`` and then ``Hint: <a hint>``;
- ``✏️ No answer yet for <which answer>: <what to do>.`` while the answer is still the
  notebook's starter (``None``, a function that raises ``NotImplementedError`` or returns
  ``None``); nothing about the solution is shown before a first attempt.

**A hint first, the answer second.** A checker that has a worked answer (the sum worked
out for a predicted value, the formula filled in for a predicted shape, the key lines of a
function) keeps it back on the first wrong answer: the verdict ends with the hint and a line
saying how to see it (:data:`ASK`). From the second *different* wrong answer to the same
exercise in this kernel, or at once when the checker is called with ``show_answer=True``, the
verdict ends with ``Answer: <the worked answer>``. One mechanism for every checker:
:class:`Judge` counts the distinct wrong answers (:func:`misses`, keyed by ``<which answer>``;
a function is known by its code, a value by its text), so running the same cell again shows
the same verdict, and a pass starts the count again.

``<which answer>`` is the learner's function name (``my_conv2d``) or the value predicted
(``output[1, 2]``). A checker never crashes and never hangs on what the learner's code returns
or raises: the learner's calls and the reading of their results run inside a :class:`Judge`,
under a time budget of :data:`TIME_LIMIT_S` seconds per checker; an iterable answer is read
for at most :data:`MAX_ITEMS` items. Errors in the *checker's own* arguments (the notebook's
``x``, ``stride``, a ``fn`` that is no function) still raise ``ValueError``/``TypeError``.
The texts here are part of the notebooks' saved outputs: change them only together with them.
"""

from __future__ import annotations

import ctypes
import itertools
import operator
import reprlib
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import numpy as np

PASS = "✅"
FAIL = "❌"
NO_ANSWER = "✏️ No answer yet"
HINT = "Hint:"
ANSWER = "Answer:"
#: the last line of a first miss when a worked answer is kept back
ASK = (
    "(Not the answer yet: try again. A second miss, or show_answer=True, shows the worked answer.)"
)

#: the distinct wrong answers so far in this kernel, per exercise (``<which answer>``)
_MISSES: dict[str, set[str]] = {}


def misses(what: str) -> int:
    """How many different wrong answers the exercise ``what`` has had since its last pass."""
    return len(_MISSES.get(what, ()))


def _code_key(code: Any) -> str:
    """A text that is the same for the same code: its bytecode, names and constants (nested
    functions by their own code, not by the address of their code object)."""
    consts = tuple(_code_key(c) if hasattr(c, "co_code") else repr(c) for c in code.co_consts)
    return repr((code.co_code, code.co_names, code.co_varnames, consts))


def fingerprint(answer: Any) -> str:
    """What makes two answers the same answer: a function's (or a class's methods') code, or a
    value's text. Never raises."""
    try:
        code = getattr(answer, "__code__", None)
        if code is not None:
            return _code_key(code)
        if isinstance(answer, type):
            parts = [
                f"{k}:{_code_key(v.__code__)}"
                for k, v in sorted(vars(answer).items())
                if hasattr(v, "__code__")
            ]
            return f"class {answer.__name__}(" + ";".join(parts) + ")"
        return f"{type(answer).__name__}:{show(answer, 10_000)}"
    except Exception:
        return f"<{type(answer).__name__}>"


def forget_misses() -> None:
    """Start every exercise's count of wrong answers again (tests; a fresh attempt)."""
    _MISSES.clear()


#: the todo of a starter function that still raises NotImplementedError
NOT_WRITTEN = (
    "it still raises NotImplementedError. Replace `raise NotImplementedError` with your code "
    "and run this cell again."
)
#: the todo of a function that returns None on its first case
RETURNS_NONE = (
    "it returns None. Write its body, end it with `return` and your result, and run this cell "
    "again."
)
#: kept for callers of the former API: a function that returned None
FORGOT_RETURN = "returned None (did you forget `return`?)"

#: seconds of the learner's code (calls and reading their results) allowed per checker run
TIME_LIMIT_S = 5.0
#: at most this many items are read from an iterable answer (an endless iterator never hangs)
MAX_ITEMS = 10_000

#: tolerances of the array comparisons: float64 references, answers computed by plain loops
RTOL = 1e-6
ATOL = 1e-8


# -- checker arguments (the notebook's, not the learner's) ----------------------------------------
def require_callable(fn: Any, name: str = "fn") -> None:
    """Raise TypeError unless ``fn`` can be called (a checker was given the function's result)."""
    if not callable(fn):
        raise TypeError(
            f"{name} must be a function (pass the function itself, without calling it), "
            f"got {type(fn).__name__}"
        )


def name_of(fn: Any, default: str) -> str:
    """The learner's function (or class) name, as the verdict names the answer."""
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() else default


# -- reading the learner's values -----------------------------------------------------------------
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlong = 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 8
_PLAIN = (int, float, complex, str, bytes, bool, tuple, list, set, frozenset, dict, type(None))


def show(v: Any, limit: int = 120) -> str:
    """A short, safe text of a learner's value: never raises, never prints a huge value."""
    try:
        if isinstance(v, _PLAIN) or type(v).__module__ in ("numpy", "torch"):
            text = _REPR.repr(v) if isinstance(v, _PLAIN) else repr(v)
        else:
            text = f"<{type(v).__name__} object>"
    except Exception:
        digits = f" of about {int(v.bit_length() * 0.30103)} digits" if isinstance(v, int) else ""
        text = f"<{type(v).__name__}{digits}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_exception(exc: BaseException) -> str:
    """``TypeName: message``, or just the type name when the message is empty."""
    try:
        msg = str(exc).strip()
    except Exception:
        msg = ""
    name = type(exc).__name__
    return f"{name}: {msg[:300]}" if msg else name


class NotWhole(ValueError):
    """A learner's value that must be a whole number has a fraction (15.5), or is nan or inf.

    ``shown`` is the value as the message names it (the float's shortest repr).
    """

    def __init__(self, value: float) -> None:
        self.shown = repr(float(value))
        super().__init__(f"{self.shown} is not a whole number")


def _refuse_array(v: Any, subject: str) -> None:
    """A NumPy array with dimensions is not one number, even with one element (NumPy 2.1, the
    oldest supported, still converts ``float(np.array([19.0]))``, with a DeprecationWarning)."""
    if isinstance(v, np.ndarray) and v.ndim > 0:
        raise TypeError(f"{subject} an array of shape {v.shape}, not a number")


def whole_number(v: Any) -> int:
    """``v`` as an int, never rounded: an int (NumPy, torch or Python) or an integer-valued
    float such as ``15.0``.

    Raises :class:`NotWhole` for a number with a fraction (``15.5``), nan or inf, and
    ``TypeError``/``ValueError`` for what is no number at all (a bool, a string, an array).
    """
    if isinstance(v, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{show(v)} is not a number")
    _refuse_array(v, f"{show(v)} is")
    try:
        return operator.index(v)
    except TypeError:
        pass
    try:
        f = float(v)
    except OverflowError:
        raise ValueError(f"{show(v)} is too large") from None
    except Exception as exc:  # the learner's object: any failure means "not a number"
        raise TypeError(f"{show(v)} is not a number ({describe_exception(exc)})") from None
    if not f.is_integer():
        raise NotWhole(f)
    return int(f)


def read_items(answer: Any, what: str = "numbers") -> list[Any]:
    """The items of an iterable answer, at most :data:`MAX_ITEMS` of them.

    Raises TypeError for text, a dict, a non-iterable, and ValueError for an iterable that goes
    on past :data:`MAX_ITEMS` (an endless iterator).
    """
    if isinstance(answer, (str, bytes)):
        raise TypeError(f"{show(answer)} is text, not {what}")
    if isinstance(answer, dict):
        raise TypeError(f"a dict is not {what}")
    try:
        items = list(itertools.islice(iter(answer), MAX_ITEMS + 1))
    except Exception as exc:
        raise TypeError(f"it cannot be read as {what}: {describe_exception(exc)}") from None
    if len(items) > MAX_ITEMS:
        raise ValueError(f"it goes on for more than {MAX_ITEMS} items")
    return items


def whole_numbers(answer: Any, what: str = "whole numbers") -> list[int]:
    """``read_items`` then ``whole_number`` on each (raises as they do)."""
    return [whole_number(v) for v in read_items(answer, what)]


def number(v: Any) -> float:
    """A learner's single number as a float: TypeError for a non-number (a bool, text, an
    array), ValueError for one too large for a float (``10**400``)."""
    if isinstance(v, (bool, np.bool_, str, bytes)):
        raise TypeError("it is not a number")
    _refuse_array(v, "it is")
    is_complex = getattr(v, "is_complex", None)  # a torch tensor
    if (
        isinstance(v, complex)
        or (isinstance(v, (np.ndarray, np.generic)) and np.iscomplexobj(v))
        or (callable(is_complex) and type(v).__module__.startswith("torch") and is_complex())
    ):
        raise TypeError("it is a complex number")
    try:
        return float(v)
    except OverflowError:
        raise ValueError("it is too large for a float") from None
    except Exception as exc:
        raise TypeError(f"it is not a number: {describe_exception(exc)}") from None


def as_array(got: Any) -> np.ndarray | str:
    """The learner's result as a float64 array, or a sentence saying why it is not one.

    Accepted: NumPy arrays and scalars, nested lists of numbers, torch tensors (any dtype, incl.
    bfloat16, detached and moved to the CPU). Refused with a reason: text, True/False values,
    complex numbers with an imaginary part, a tensor on the ``meta`` device, an iterator,
    numbers too large for a float, objects that cannot be read as an array.
    """
    if isinstance(got, (str, bytes)):
        return f"it is text ({show(got)}), not an array of numbers"
    if isinstance(got, dict):
        return "it is a dict, not an array of numbers"
    if isinstance(got, Iterator):
        return f"it is an iterator ({type(got).__name__}): return an array, e.g. np.array(...)"
    try:
        import torch

        if isinstance(got, torch.Tensor):
            if got.device.type == "meta":
                return "it is a tensor on the meta device, which holds no numbers"
            t = got.detach().cpu()
            if t.is_complex():
                got = t.resolve_conj().numpy()
            elif t.dtype == torch.bool:
                return "it holds True/False values, not numbers"
            else:
                got = t.to(torch.float64).numpy()
    except Exception as exc:
        return f"its tensor cannot be read as numbers ({describe_exception(exc)})"
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            arr = np.asarray(got)
        except Exception as exc:
            return f"it cannot be read as an array ({describe_exception(exc)})"
        kind = arr.dtype.kind
        if kind == "b":
            return "it holds True/False values, not numbers"
        if kind in "USa":
            return "it holds text, not numbers"
        if kind in "MmV":
            return f"it holds {arr.dtype} values, not numbers"
        if kind == "c":
            if np.any(arr.imag != 0):
                return "it holds complex numbers"
            arr = arr.real
        try:
            out = arr.astype(np.float64)
        except OverflowError:
            return "it holds a number too large for a float"
        except Exception as exc:
            why = describe_exception(exc)
            return f"it is {type(got).__name__}, not an array of numbers ({why})"
    if kind == "O" and out.ndim == 0 and not isinstance(arr.item(), (int, float, np.number)):
        return f"it is {type(got).__name__}, not an array of numbers"
    return out


# kept for callers of the former API
def as_result(got: Any) -> np.ndarray | str:
    """:func:`as_array`, with ``None`` as a missing ``return``."""
    if got is None:
        return f"it {FORGOT_RETURN}"
    return as_array(got)


def fmt(a: Any) -> str:
    """An array as readable text (4 significant digits, tiny values as 0); a scalar as ``.4g``."""
    arr = np.asarray(a)
    if arr.ndim == 0:
        return f"{float(arr):.4g}"
    return np.array2string(arr, precision=4, suppress_small=True, max_line_width=90, threshold=200)


def count(v: int) -> str:
    """An int with thousands separators; a huge one shortened (``10**400`` has 401 digits)."""
    if abs(v) < 10**15:
        return f"{v:,}"
    return show(v)


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


# -- time limit -----------------------------------------------------------------------------------
class _Timeout(BaseException):
    """Raised inside the learner's code when its time is up (a BaseException, so that an
    ``except Exception`` in the learner's loop does not swallow it)."""


def _raise_timeout(signum: int, frame: Any) -> None:
    raise _Timeout


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_Timeout` in this thread after ``seconds`` (and every 50 ms after that).

    In the main thread with no interval timer running: SIGALRM (it interrupts ``time.sleep``);
    elsewhere a watchdog thread injects the exception (effective between bytecodes).
    """
    seconds = max(seconds, 1e-3)
    main = threading.current_thread() is threading.main_thread()
    if main and hasattr(signal, "setitimer") and signal.getitimer(signal.ITIMER_REAL)[0] == 0:
        old = signal.signal(signal.SIGALRM, _raise_timeout)
        signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old if old is not None else signal.SIG_DFL)
        return
    tid = threading.get_ident()
    lock, stop = threading.Lock(), threading.Event()
    state = {"done": False}

    def watch() -> None:
        if stop.wait(seconds):
            return
        while True:
            with lock:
                if state["done"]:
                    return
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(tid), ctypes.py_object(_Timeout)
                )
            if stop.wait(0.05):
                return

    watchdog = threading.Thread(target=watch, daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), None)
        stop.set()


# -- the verdict ----------------------------------------------------------------------------------
class Result:
    """What a checker returns: true after a pass. It shows nothing when it ends a notebook
    cell (the verdict is already printed), so ``check_x(my_x)`` prints no ``True``/``False``."""

    __slots__ = ("ok",)

    def __init__(self, ok: bool) -> None:
        self.ok = bool(ok)

    def __bool__(self) -> bool:
        return self.ok

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (bool, Result)):
            return self.ok == bool(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.ok)

    def __repr__(self) -> str:
        return f"Result(ok={self.ok})"

    def _ipython_display_(self) -> None:
        """Display nothing (IPython calls this instead of showing ``Out[n]: ...``)."""


class Verdict(Exception):
    """Ends a check inside a :class:`Judge` with this (already formatted) verdict."""

    def __init__(self, text: str, passed: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.passed = passed


def _where_in(fn: Any, exc: BaseException) -> str:
    """`` (line N: `source`)`` of the deepest frame of ``exc`` in ``fn``'s own file, or ""."""
    code = getattr(fn, "__code__", None) or getattr(getattr(fn, "__init__", None), "__code__", None)
    if code is None:
        return ""
    try:
        frames = [
            f for f in traceback.extract_tb(exc.__traceback__) if f.filename == code.co_filename
        ]
    except Exception:
        return ""
    if not frames:
        return ""
    f = frames[-1]
    line = (f.line or "").strip()
    return f" (line {f.lineno}: `{line}`)" if line else f" (line {f.lineno})"


class Judge:
    """The frame of one checker run: it calls the learner's code safely and prints the verdict.

    Use it as ``with Judge(what, hint) as j: ...``; inside, :meth:`call` runs the learner's
    function (a raise, a ``None``, a timeout end the check with the right verdict), :meth:`read`
    reads a result under the same time budget, :meth:`fail` / :meth:`no_answer` end the check
    and :meth:`passed` prints the success line. Whatever else goes wrong while judging ends in a
    ``FAIL`` verdict with the hint, never in a traceback; ``KeyboardInterrupt`` still stops.
    ``j.ok`` is True after a pass.
    """

    def __init__(
        self,
        what: str,
        hint: str,
        reference: str = "",
        result_hint: str = "",
        answer: str | Callable[[], str] = "",
        show_answer: bool = False,
        given: Any = None,
    ) -> None:
        if not isinstance(show_answer, (bool, np.bool_)):
            raise TypeError(f"show_answer must be True or False, got {show(show_answer)}")
        self.what = what
        self.answer = answer
        self.show_answer = bool(show_answer)
        self.given = given  # the learner's value (a value checker), for telling answers apart
        self.result_hint = result_hint or (
            "return a NumPy array (or a torch tensor) of numbers, e.g. `return out` where "
            "out = np.zeros((rows, cols)) is filled in your loops."
        )
        self.hint = hint
        self.reference = reference
        self.ok = False
        self.calls = 0  # learner calls that returned
        self.used = 0.0  # seconds spent in the learner's code
        self.fn: Any = None

    @property
    def result(self) -> Result:
        """The checker's return value: true after a pass."""
        return Result(self.ok)

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> bool:
        if et is None:
            return False
        if issubclass(et, Verdict):
            print(ev.text)
            self.ok = ev.passed
            if ev.passed:
                _MISSES.pop(self.what, None)
            return True
        if issubclass(et, Exception):  # a case no branch foresaw: still a verdict
            print(
                f"{FAIL} {self.what}: the checker could not read your answer "
                f"({describe_exception(ev)}).\n{HINT} {self.hint}"
            )
            return True
        return False

    # -- ending the check
    def fail(self, detail: str, hint: str = "", withheld: str = "") -> NoReturn:
        """End the check with ``detail`` and a hint. ``withheld`` is what this case's answer
        would give away (the expected value of a case the exercise asked to predict): it is
        shown only with the worked answer."""
        hint = hint.strip()
        if hint.startswith(HINT):
            hint = hint[len(HINT) :].strip()
        detail = detail.rstrip()
        text = f"{FAIL} {self.what}: {detail}\n{HINT} {hint or self.hint}"
        raise Verdict(text + self._answer_lines(withheld))

    def _answer_lines(self, withheld: str = "") -> str:
        """Count this miss; then the worked answer (second miss, or on request) or :data:`ASK`."""
        answer = self.fn if self.fn is not None else self.given
        _MISSES.setdefault(self.what, set()).add(fingerprint(answer))
        worked = self.answer
        if callable(worked):
            try:
                worked = worked()
            except Exception:  # a worked answer that cannot be built: the hint still stands
                worked = ""
        worked = f"{withheld.strip()} {worked or ''}".strip()
        if not worked:
            return ""
        if self.show_answer or misses(self.what) >= 2:
            return f"\n{ANSWER} {worked.strip()}"
        return f"\n{ASK}"

    def no_answer(self, todo: str) -> NoReturn:
        raise Verdict(f"{NO_ANSWER} for {self.what}: {todo}")

    def passed(self, detail: str) -> NoReturn:
        raise Verdict(f"{PASS} {self.what}: {detail}", passed=True)

    def passed_cases(self, n: int, cases: str = "cases") -> NoReturn:
        against = f" {self.reference}" if self.reference else ""
        self.passed(f"all {n} {cases} match{against}.")

    # -- running the learner's code
    def run(self, call: str, thunk: Callable[[], Any], where: str = "") -> Any:
        """``thunk()`` within what is left of the time budget; a timeout ends the check."""
        left = TIME_LIMIT_S - self.used
        if left <= 0:
            self._timeout(call, where)
        start = time.monotonic()
        try:
            with _time_limit(left):
                return thunk()
        except _Timeout:
            self._timeout(call, where)
        finally:
            self.used += time.monotonic() - start

    def _timeout(self, call: str, where: str) -> NoReturn:
        self.fail(
            f"{call} did not finish: your code used up the {TIME_LIMIT_S:g} s this checker "
            f"allows.\n{where}",
            "look for a loop that never ends (a `while` whose condition never changes) or for "
            "work that grows far beyond the small inputs shown.",
        )

    def call(
        self, call: str, fn: Callable[..., Any], *args: Any, where: str = "", **kw: Any
    ) -> Any:
        """The result of ``fn(*args, **kw)``; ends the check if it raises or returns None.

        On the first call, ``NotImplementedError`` and ``None`` mean the starter is unchanged:
        "no answer yet". Later they are failures of that one case.
        """
        self.fn = fn
        try:
            got = self.run(call, lambda: fn(*args, **kw), where)
        except Verdict:
            raise
        except NotImplementedError as exc:
            if self.calls == 0:
                self.no_answer(NOT_WRITTEN)
            self.fail(
                f"{call} raised {describe_exception(exc)}{_where_in(fn, exc)}.\n{where}",
                "this case is not written yet: the earlier cases ran, this one reaches a "
                "`raise NotImplementedError`.",
            )
        except Exception as exc:  # the learner's code: report, never crash the notebook
            self.fail(
                f"{call} raised {describe_exception(exc)}{_where_in(fn, exc)}.\n{where}",
                "the error comes from your code: run your function on the input shown and "
                "read the line the error names.",
            )
        if got is None:
            if self.calls == 0:
                self.no_answer(RETURNS_NONE)
            self.fail(
                f"{call} returned None.\n{where}",
                "some path through your function ends without `return` (an `if` whose branch "
                "does not return?).",
            )
        self.calls += 1
        return got

    def read(self, call: str, reader: Callable[[], Any], where: str = "") -> Any:
        """Run a reader of the learner's value (it may call the learner's methods) in budget."""
        return self.run(call, reader, where)

    def array(self, call: str, got: Any, where: str = "") -> np.ndarray:
        """The learner's result as a float64 array, or the check ends saying why it is not."""
        arr = self.read(call, lambda: as_array(got), where)
        if isinstance(arr, str):
            self.fail(f"{call} returned {show(got)}: {arr}.\n{where}", self.result_hint)
        return arr

    def hint_from(self, compute: Callable[[], str]) -> str:
        """A hint computed by calling the learner's code again: "" if that fails or is slow."""
        try:
            return self.run("", compute) or ""
        except Verdict:
            return ""
        except Exception:
            return ""


# -- the former one-line API, kept for checkers that judge a prepared problem ---------------------
def report(
    title: str, problem: str | None, n_cases: int, reference: str = "", cases: str = "cases"
) -> bool:
    """Print ``PASS title: all n cases match reference.`` or ``FAIL title: problem``."""
    if problem is None:
        against = f" {reference}" if reference else ""
        print(f"{PASS} {title}: all {n_cases} {cases} match{against}.")
        return True
    print(f"{FAIL} {title}: {problem}")
    return False


def compare(
    j: Judge,
    call: str,
    where: str,
    got: Any,
    expected: np.ndarray,
    hint: Callable[[np.ndarray], str],
    at: str = "",
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """Judge one array-valued case: end the check with what is wrong, or return if right.

    ``where`` shows the inputs (it ends with a newline), ``hint(got)`` names a common mistake
    (or is empty: then the checker's own hint is shown) and ``at`` prefixes the index of the
    first wrong element (e.g. ``"output"``).
    """
    arr = j.array(call, got, where)
    shown = f"{where}expected =\n{fmt(expected)}\ngot =\n{fmt(arr)}\n"
    if arr.shape != expected.shape:
        j.fail(
            f"{call} returned shape {arr.shape}, expected {expected.shape}.\n{shown}",
            _safe(hint, arr),
        )
    if not same(arr, expected, rtol, atol):
        pos = first_mismatch(expected, arr, rtol, atol)
        j.fail(
            f"{call}: wrong values.\n{shown}first difference at {at}{list(pos)}: "
            f"expected {expected[pos]:.4g}, got {arr[pos]:.4g}.",
            _safe(hint, arr),
        )


def _safe(hint: Callable[[np.ndarray], str], got: np.ndarray) -> str:
    """A hint function's text; "" if it fails (the checker's own hint is shown instead)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return hint(got) or ""
    except Exception:
        return ""
