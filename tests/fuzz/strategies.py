"""Hypothesis strategies of bad (and merely unusual) values, one per kind of argument.

Every strategy draws a :class:`Case`, one of three verdicts on a value:

- ``Bad(value)``: the argument must refuse it with a ``ValueError``/``TypeError`` that names
  the argument (a float stride, ``None`` for an array, a complex array, ``-1`` for a size).
- ``Same(value, canonical)``: the same numbers as ``canonical`` in another representation
  (float16, longdouble, bfloat16 tensor, a broadcast or reversed view, a NumPy integer): the
  call must give the result of the call with ``canonical`` (or refuse by name).
- ``Edge(value)``: legal-looking but extreme (NaN, a huge size, an empty axis): the call may
  compute or refuse by name, but never raise anything else.

:func:`tests.fuzz.harness.outcome` applies the verdict. The pattern for a new function
(see ``tests/fuzz/catalogue.py``)::

    Spec(my_module.my_function,
         call=dict(x=np.ones((4, 4)), size=3),         # one valid call
         args=dict(x=arrays(ndims=(2,)), size=ints(1)),  # a strategy per argument
         skip=dict(callback="a learner's function: any value, see test_fuzz_checkers"))

and for a checker or anything with its own rules, draw from these strategies in a test of
your own and assert with ``harness.outcome`` (or ``harness.assert_named_error``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from hypothesis import strategies as st

HUGE = 2**62  # the largest stride torch takes; beyond int64 a size must be refused


@dataclass(frozen=True)
class Case:
    value: object
    why: str = field(default="", compare=False)

    def __repr__(self) -> str:  # hypothesis prints this for a failing example
        text = repr(self.value)
        text = text if len(text) < 120 else text[:117] + "..."
        return f"{type(self).__name__}({text}; {self.why})"


@dataclass(frozen=True, repr=False)
class Bad(Case):
    """Must be refused with a ValueError/TypeError naming the argument."""


@dataclass(frozen=True, repr=False)
class Edge(Case):
    """May be computed or refused by name; nothing else."""


@dataclass(frozen=True, repr=False)
class Same(Case):
    """Must give the result of ``canonical`` (or be refused by name)."""

    canonical: object = None


def _bad(*values: object, why: str) -> st.SearchStrategy[Case]:
    return st.sampled_from([Bad(v, why) for v in values])


# -- plain Python values that no numeric argument takes ----------------------------------------
def junk() -> st.SearchStrategy[Case]:
    """Values of the wrong type for any number, size, flag or array argument."""
    return _bad(
        None,
        "3",
        b"3",
        object(),
        {"a": 1},
        {1, 2},
        1 + 2j,
        np.complex128(1 + 1j),
        print,
        why="wrong type",
    )


def ints(minimum: int | None = None) -> st.SearchStrategy[Case]:
    """An integer argument (a count, a size, a seed) with an optional minimum."""
    bad_types = _bad(
        2.0,
        1.5,
        float("nan"),
        float("inf"),
        np.float32(2),
        True,
        False,
        np.True_,
        "2",
        [2],
        (2, 2, 2),
        np.array(2),
        torch.tensor(2),
        2**63,
        -(2**63) - 1,
        10**400,
        why="not an int, or beyond int64",
    )
    cases = [junk(), bad_types]
    if minimum is not None:
        cases.append(st.integers(-(2**40), minimum - 1).map(lambda v: Bad(v, f"below {minimum}")))
        lo = minimum
    else:
        lo = -(2**40)
    cases.append(
        st.sampled_from([np.int8, np.int64, np.uint16, np.intp]).flatmap(
            lambda t: st.integers(max(lo, 0), max(lo, 0) + 20).map(
                lambda v: Same(t(v), "NumPy int", int(v))
            )
        )
    )
    cases.append(st.sampled_from([10**6, 2**31, HUGE]).map(lambda v: Edge(v, "huge")))
    return st.one_of(cases)


def sizes(minimum: int = 1) -> st.SearchStrategy[Case]:
    """An int-or-pair argument (kernel_size, stride, padding, dilation)."""
    one = ints(minimum)
    pair_of_bad = st.tuples(one, st.integers(minimum, minimum + 2)).map(
        lambda t: (
            t[0]
            if isinstance(t[0], Edge)
            else type(t[0])(
                (t[0].value, t[1]),
                "pair: " + t[0].why,
                **({"canonical": (t[0].canonical, t[1])} if isinstance(t[0], Same) else {}),
            )
        )
    )
    wrong_len = _bad((), (1,), (1, 1, 1), [1, 2, 3, 4, 5], why="not a pair")
    return st.one_of(one, pair_of_bad, wrong_len)


def flags() -> st.SearchStrategy[Case]:
    """A boolean flag: True/False and np.bool_ are accepted (one rule, see _validate.py)."""
    return st.one_of(
        _bad(0, 1, 2, 0.0, "True", "", None, [True], np.array([True]), why="not a bool"),
        st.sampled_from([Same(np.True_, "np.bool_", True), Same(np.False_, "np.bool_", False)]),
    )


def reals(positive: bool = False) -> st.SearchStrategy[Case]:
    """A real-number argument (eps, a fill value)."""
    bad = [
        junk(),
        _bad(float("nan"), np.float32("nan"), True, np.True_, "1e-3", why="not a finite real"),
    ]
    if positive:
        bad.append(_bad(0, 0.0, -1e-3, -np.inf, float("inf"), why="not positive and finite"))
    same = st.sampled_from([np.float32, np.float64, np.float16]).map(
        lambda t: Same(t(0.25), f"NumPy {t.__name__}", 0.25)
    )
    return st.one_of(*bad, same)


def choices(options: tuple[str, ...]) -> st.SearchStrategy[Case]:
    """One of a few strings (padding_mode, mode)."""
    wrong = [o.upper() for o in options] + [o + " " for o in options] + ["", "a"]
    wrong = [w for w in wrong if w not in options]  # "0".upper() is still "0"
    return st.one_of(junk(), _bad(*wrong, 0, why="not one of the choices"))


def callables() -> st.SearchStrategy[Case]:
    """An argument that must be callable (f, classifier); the function's own results vary."""
    return _bad(None, 1, "f", [print], why="not callable")


def modules() -> st.SearchStrategy[Case]:
    """A ``torch.nn.Module`` argument."""
    return st.one_of(junk(), _bad(1, "vgg16", torch.zeros(2), [torch.nn.ReLU()], why="no module"))


# -- arrays ----------------------------------------------------------------------------------------
def _bfloat16(a: np.ndarray) -> tuple[object, np.ndarray]:
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(torch.bfloat16)
    return t, t.float().numpy().astype(np.float64)


def _representations(a: np.ndarray) -> list[tuple[object, np.ndarray, str]]:
    """``(value, canonical float64, why)``: the numbers of ``a`` in other forms."""
    out = []
    for dtype in (np.float16, np.float32, np.longdouble):
        v = a.astype(dtype)
        out.append((v, v.astype(np.float64), np.dtype(dtype).name))
    r = np.round(a * 4)
    out.append((r.astype(np.int16), r, "int16"))
    out.append((r > 0, (r > 0).astype(np.float64), "bool"))
    out.append((torch.from_numpy(a.copy()), a, "torch float64"))
    out.append((torch.from_numpy(a.astype(np.float32)), a.astype(np.float32).astype(float), "f32"))
    out.append((torch.from_numpy(a.copy()).requires_grad_(), a, "tensor requiring grad"))
    out.append((*_bfloat16(a), "bfloat16 tensor"))
    if a.ndim:
        rev = a[..., ::-1].copy()[..., ::-1]  # a view with a negative stride
        out.append((rev, a, "negative strides"))
    out.append((np.asfortranarray(a), a, "Fortran order"))
    if a.ndim:
        b = np.broadcast_to(a[..., :1, :1] if a.ndim >= 2 else a[:1], a.shape)
        out.append((b, np.array(b), "broadcast view"))
    out.append((a.tolist(), a, "nested list"))
    return out


def arrays(valid: np.ndarray, ndims: tuple[int, ...]) -> st.SearchStrategy[Case]:
    """An array argument, given a valid value ``valid`` and the ranks it may have."""
    valid = np.asarray(valid, dtype=np.float64)
    same = st.sampled_from([Same(v, why, c) for v, c, why in _representations(valid)])
    wrong_rank = [np.zeros((2,) * n) for n in range(0, 7) if n not in ndims]
    if valid.ndim + 1 not in ndims:
        wrong_rank.append(valid[..., None])
    bad = _bad(
        *wrong_rank,
        valid.astype(np.complex128),
        torch.from_numpy(valid.astype(np.complex64)),
        valid.astype(object),
        valid.astype(str),
        np.array([[1.0, 2.0], [3.0]], dtype=object),
        torch.empty(valid.shape, device="meta"),
        why="wrong rank, dtype or container",
    )
    edge = st.sampled_from(
        [
            Edge(np.full(valid.shape, np.nan), "NaN"),
            Edge(np.full(valid.shape, np.inf), "inf"),
            Edge(np.full(valid.shape, -1e308), "huge values"),
            Edge(np.zeros(valid.shape[:-1] + (0,)), "empty axis"),
        ]
    )
    return st.one_of(junk(), bad, same, edge)


def shape_tuples(valid: tuple[int, ...]) -> st.SearchStrategy[Case]:
    """A shape argument such as ``input_size=(1, 3, 32, 32)``."""
    n = len(valid)
    bad = _bad(
        valid[:-1],
        valid + (1,),
        tuple(float(v) for v in valid),
        tuple(-v for v in valid),
        (0,) * n,
        (True,) * n,
        "1, 3, 8, 8",
        why="not a shape of positive ints",
    )
    same = st.just(Same(tuple(np.int64(v) for v in valid), "NumPy ints", tuple(valid)))
    edge = st.sampled_from(
        [Edge(valid[:-2] + (40000, 40000), "huge image"), Edge(valid[:-2] + (HUGE, 2), "2**62")]
    )
    return st.one_of(junk(), bad, same, edge)


def bool_arrays(valid: np.ndarray, ndims: tuple[int, ...]) -> st.SearchStrategy[Case]:
    """A boolean array argument (a mask): the same truth values in another container are
    ``Same``; numbers, even exactly 0 and 1, are ``Bad`` (a mask is not a weighting, the rule
    of ``check_bool`` for arrays), and so are the wrong ranks and containers of ``arrays``."""
    valid = np.asarray(valid)
    assert valid.dtype == bool, "bool_arrays needs a valid boolean array"
    same = [
        Same(torch.from_numpy(valid.copy()), "torch bool tensor", valid),
        Same(valid.tolist(), "nested list of bools", valid),
        Same(np.asfortranarray(valid), "Fortran order", valid),
    ]
    if valid.ndim:
        same.append(Same(valid[..., ::-1].copy()[..., ::-1], "negative strides", valid))
        b = np.broadcast_to(valid[..., :1, :1] if valid.ndim >= 2 else valid[:1], valid.shape)
        same.append(Same(b, "broadcast view", np.array(b)))
    numbers = [valid.astype(t) for t in (np.float64, np.float32, np.int64, np.uint8)]
    wrong_rank = [np.zeros((2,) * n, bool) for n in range(0, 7) if n not in ndims]
    bad = _bad(
        *numbers,
        torch.from_numpy(valid.astype(np.float32)),
        valid.astype(np.float64) * 0.5,
        *wrong_rank,
        valid.astype(np.complex128),
        valid.astype(object),
        valid.astype(str),
        torch.empty(valid.shape, dtype=torch.bool, device="meta"),
        why="numbers, or the wrong rank, dtype or container",
    )
    edge = st.sampled_from(
        [
            Edge(np.zeros(valid.shape, bool), "no object"),
            Edge(np.ones(valid.shape, bool), "all object"),
            Edge(np.zeros(valid.shape[:-1] + (0,), bool), "empty axis"),
        ]
    )
    return st.one_of(junk(), bad, st.sampled_from(same), edge)


def int_tuples(valid: tuple[int, ...]) -> st.SearchStrategy[Case]:
    """A non-empty sequence of positive integers (layer widths): a list or NumPy ints are the
    same widths; an empty, zero, negative, float or bool entry is refused; a NumPy array (not a
    sequence) may be taken or refused by name; huge widths must meet the memory budget."""
    valid = tuple(valid)
    bad = _bad(
        (),
        [],
        (0,),
        valid + (-1,),
        (1.5,) + valid,
        (True,) + valid,
        "".join(map(str, valid)),
        5,
        {2, 3},
        (2**63,),
        why="not a non-empty sequence of positive ints",
    )
    same = st.sampled_from(
        [
            Same(list(valid), "a list", valid),
            Same(tuple(np.int64(v) for v in valid), "NumPy ints", valid),
        ]
    )
    edge = st.sampled_from(
        [
            Edge(np.array(valid), "a NumPy array"),
            Edge((10**6,), "huge"),
            Edge(valid + (2**31,), "huge"),
            Edge((HUGE,) * 2, "2**62"),
        ]
    )
    return st.one_of(junk(), bad, same, edge)
