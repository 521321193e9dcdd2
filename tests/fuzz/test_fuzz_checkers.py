"""Fuzz every exercise checker with bad learner answers: it must print one verdict and a hint,
never raise, never hang (issue 14, item 11).

The checkers are found, not listed: every ``check_*`` in the ``__all__`` of every module of
``cnnlib.exercises``. A checker whose first parameter is ``fn``/``cls`` gets learner functions
that return bad values, raise, or never end; one whose first parameter is ``answer`` gets bad
values, with the notebook's other arguments from :data:`VALUE_ARGS`
(``test_every_checker_is_fuzzed`` fails until a new checker's are there).

Bad values: those of the shared strategies (``tests/fuzz/strategies.py``: wrong types,
NaN/inf, huge ints, exotic dtypes, bfloat16 and meta tensors, ragged, broadcast and reversed
arrays, nested lists), plus what only a learner's code returns: ``10**400``, arrays of
datetime, structured, object and extreme dtypes, complex and bool tensors, generators and
endless iterators, objects whose ``__array__``/``__float__``/``__iter__`` raise, modules whose
forward returns any of these. The learner's time budget is cut to :data:`LIMIT_S` so that
the endless functions cost little.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import itertools
import pkgutil
import time
from collections.abc import Callable

import numpy as np
import pytest
import scipy.signal  # noqa: F401 - loaded here, so that no timing guard counts its import
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

import cnnlib.exercises
from cnnlib.exercises import _report
from cnnlib.exercises._report import FAIL, HINT, NO_ANSWER, PASS, Result

from .strategies import arrays, flags, ints, junk, reals, shape_tuples, sizes

# FlopCounterMode's first use loads torch's tracing machinery (seconds on a loaded machine):
# done here, so that the hang guard below does not count it against check_conv2d_macs
with FlopCounterMode(display=False):
    torch.nn.Conv2d(1, 1, 1)(torch.zeros(1, 1, 1, 1))
# likewise torch's first optimiser (it loads the compiler machinery), for check_training_loop
torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)

#: the learner's time budget per checker run during the fuzz (the default is seconds)
LIMIT_S = 0.2
#: a hang guard: one checker run on one bad answer
GUARD_S = 5.0


def all_checkers() -> dict[str, Callable]:
    """``"module.check_x" -> checker`` for every public checker of cnnlib.exercises."""
    found = {}
    for info in pkgutil.iter_modules(cnnlib.exercises.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"cnnlib.exercises.{info.name}")
        for name in getattr(module, "__all__", []):
            if name.startswith("check_"):
                found[f"{info.name}.{name}"] = getattr(module, name)
    return found


CHECKERS = all_checkers()

#: the notebook's arguments of the checkers that judge a value (``answer``)
VALUE_ARGS: dict[str, dict] = {
    "conv.check_output_value": dict(
        x=np.arange(9.0).reshape(3, 3), kernel=np.array([[0.0, 1], [2, 3]]), row=0, col=0
    ),
    "conv.check_output_shape": dict(input_shape=(8, 3, 32, 32), weight_shape=(16, 3, 5, 5)),
    "params.check_layer_params": dict(in_channels=64, out_channels=128, kernel_size=5),
    "equivariance.check_equivariant_shifts": dict(stride=3),
}


def kind(checker: Callable) -> str:
    """ "function" (it judges a learner's function or class) or "value" (a learner's value)."""
    first = next(iter(inspect.signature(checker).parameters))
    return {"fn": "function", "cls": "function", "answer": "value"}.get(first, first)


def test_every_checker_is_fuzzed():
    assert len(CHECKERS) >= 19  # the seven modules of notebooks 01-07
    for name, checker in CHECKERS.items():
        assert kind(checker) in ("function", "value"), (
            f"{name}: its first parameter must be `fn`/`cls` (a learner's function) or "
            "`answer` (a learner's value)"
        )
        required = [
            p.name
            for p in list(inspect.signature(checker).parameters.values())[1:]
            if p.default is inspect.Parameter.empty
        ]
        if kind(checker) == "value" or required:
            assert name in VALUE_ARGS, f"{name}: add its notebook arguments to VALUE_ARGS"
            assert set(required) <= set(VALUE_ARGS[name]), name


# -- bad values ------------------------------------------------------------------------------------
class RaisingArray:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("__array__ fails")

    def __float__(self):
        raise RuntimeError("__float__ fails")

    def __iter__(self):
        raise RuntimeError("__iter__ fails")


class HugeLen:
    """A sequence that claims 2**62 items."""

    def __len__(self):
        return 2**62

    def __getitem__(self, i):
        return 1.0


class BadStr(Exception):
    def __str__(self):
        raise RuntimeError("no message")


#: what the learner's code may return beyond the shared strategies' values: hostile objects,
#: arrays of dtypes no argument takes, tensors and modules, single-use iterators
CHECKER_ONLY = [
    10**400,
    -(10**400),
    RaisingArray(),
    HugeLen(),
    "",
    [],
    [None, None],
    Ellipsis,
    np.array([10**400], dtype=object),
    np.array(["2021-01-01"], dtype="datetime64[D]"),
    np.zeros(2, dtype=[("a", "i4"), ("b", "f8")]),
    np.full((2, 2), np.finfo(np.longdouble).max, dtype=np.longdouble),
    np.ones((2, 2), dtype=np.uint64) * np.iinfo(np.uint64).max,
    torch.zeros((), device="meta"),
    torch.ones(3, dtype=torch.complex64) * 1j,
    torch.tensor([True, False]),
    torch.ones(2, 2, dtype=torch.float16),
    torch.nn.ReLU(),
]


def fresh_iterators() -> st.SearchStrategy:
    """Single-use values, made anew for each example: endless and short iterators."""
    return st.sampled_from(
        [
            lambda: itertools.count(),
            lambda: itertools.repeat(1.0),
            lambda: (i for i in range(3)),
            lambda: iter([1, 2, 3]),
            lambda: map(float, itertools.count()),
        ]
    ).map(lambda make: make())


def bad_values() -> st.SearchStrategy:
    """The shared fuzz strategies' values (tests/fuzz/strategies.py: wrong types, NaN/inf,
    huge ints, exotic dtypes, bfloat16 and meta tensors, ragged and broadcast arrays), plus
    :data:`CHECKER_ONLY` and iterators."""
    shared = st.one_of(
        junk(),
        ints(),
        reals(),
        sizes(),
        flags(),
        arrays(np.arange(9.0).reshape(3, 3), ndims=(2,)),
        arrays(np.arange(16.0).reshape(1, 1, 4, 4), ndims=(4,)),
        shape_tuples((8, 16, 15, 15)),
    ).map(lambda case: case.value)
    return st.one_of(shared, st.sampled_from(CHECKER_ONLY), fresh_iterators())


def returns(value: object) -> Callable:
    def learner(*args, **kwargs):
        return value

    return learner


def raises(exc: BaseException) -> Callable:
    def learner(*args, **kwargs):
        raise exc

    return learner


def module_returning(value: object) -> Callable:
    """A "class" whose instances are modules whose forward returns ``value``."""

    class Block(torch.nn.Module):
        def __init__(self, *args, **kwargs):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 1, 1)

        def forward(self, x):
            return value

    return Block


def endless(*args, **kwargs):
    while True:
        pass


def endless_sleep(*args, **kwargs):
    while True:
        try:
            time.sleep(0.01)
        except Exception:  # a learner's catch-all
            pass


def alternating(first: object, later: object) -> Callable:
    calls = itertools.count()

    def learner(*args, **kwargs):
        return first if next(calls) == 0 else later

    return learner


EXCEPTIONS = [
    ValueError(),
    TypeError("unsupported operand"),
    ZeroDivisionError("division by zero"),
    IndexError("index 3 is out of bounds"),
    NotImplementedError(),
    NotImplementedError("later"),
    RuntimeError("x" * 10_000),
    RecursionError("maximum recursion depth exceeded"),
    MemoryError(),
    StopIteration(),
    BadStr(),
]


def learner_functions() -> st.SearchStrategy:
    return st.one_of(
        bad_values().map(returns),
        st.sampled_from(EXCEPTIONS).map(raises),
        bad_values().map(module_returning),
        st.tuples(bad_values(), bad_values()).map(lambda t: alternating(*t)),
        st.sampled_from([endless, endless_sleep]),
    )


# -- the property ----------------------------------------------------------------------------------
def judge(checker: Callable, *args, **kwargs) -> str:
    """Run a checker with a short time budget; assert one verdict (and a hint on failure)."""
    old = _report.TIME_LIMIT_S
    _report.TIME_LIMIT_S = LIMIT_S
    out = io.StringIO()
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(out):
            result = checker(*args, **kwargs)
    finally:
        _report.TIME_LIMIT_S = old
    elapsed = time.monotonic() - start
    text = out.getvalue()
    assert elapsed < GUARD_S, f"took {elapsed:.1f} s:\n{text}"
    assert text.startswith((PASS, FAIL, NO_ANSWER)), text
    assert sum(text.count(mark) for mark in (PASS, FAIL, NO_ANSWER)) == 1, text
    assert isinstance(result, Result) and bool(result) == text.startswith(PASS), (result, text)
    if text.startswith(FAIL):
        parts = text.rsplit(HINT, 1)
        assert len(parts) == 2 and parts[1].strip(), f"no hint:\n{text}"
    assert "could not read your answer" not in text, text
    assert len(text) < 20_000, f"a {len(text)}-character verdict"
    return text


FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("name", [n for n, c in CHECKERS.items() if kind(c) == "function"], ids=str)
@FUZZ
@given(learner=learner_functions())
def test_function_checkers_judge_any_learner_function(name, learner):
    judge(CHECKERS[name], learner, **VALUE_ARGS.get(name, {}))


@pytest.mark.parametrize("name", [n for n, c in CHECKERS.items() if kind(c) == "value"], ids=str)
@FUZZ
@given(answer=st.one_of(bad_values(), learner_functions()))
def test_value_checkers_judge_any_answer(name, answer):
    judge(CHECKERS[name], answer, **VALUE_ARGS[name])
