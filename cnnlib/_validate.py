"""Argument checks shared by every cnnlib function.

Each check names the argument and the rule it breaks, so that a learner reads
"stride must be a positive integer, got 0" instead of a NumPy traceback.

Rules that hold in every cnnlib function and view:

- **Integers** (sizes, counts, seeds): a Python ``int`` or a NumPy integer; ``bool`` and
  ``np.bool_`` are refused (``True`` is not a stride), and so are floats, even ``2.0``.
  Values beyond int64 (``>= 2**63``) are refused: torch cannot take them either.
- **Boolean flags** (``ceil_mode``, ``bias``, ``photo``, ...): ``True``/``False`` or a NumPy
  ``np.bool_`` (what ``a > b`` returns) are accepted, everything else is refused, including
  ``0`` and ``1``: see ``check_bool``.
- **Real numbers** (``eps``, a fill value): a Python or NumPy real number, finite unless the
  function says otherwise; bools and complex numbers are refused (``check_real``).
- **Arrays**: anything NumPy or torch can give as a real floating array (``check_array``).
- **Memory budget**: a function whose working memory, estimated from its arguments before it
  allocates, exceeds the budget refuses with a ``ValueError`` that names the argument making
  the job large (``check_memory``). The budget is 1 GiB, so that a Binder kernel (about 2 GB)
  survives; change it with ``cnnlib.set_memory_budget(nbytes)`` (``None`` for no limit).
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Iterator

import numpy as np

INT64_MAX = 2**63 - 1
DEFAULT_MEMORY_BUDGET = 2**30
_memory_budget: int | None = DEFAULT_MEMORY_BUDGET


def get_memory_budget() -> int | None:
    """The working-memory budget in bytes (``None``: no limit)."""
    return _memory_budget


def set_memory_budget(nbytes: int | None) -> int | None:
    """Set the working-memory budget of every cnnlib function, in bytes; returns the old one.

    A call whose estimated working memory exceeds it raises a ``ValueError`` naming the
    argument that makes it large, before anything is allocated. ``None`` removes the limit.
    """
    global _memory_budget
    if nbytes is not None:
        nbytes = check_int("nbytes", nbytes, 1)
    old, _memory_budget = _memory_budget, nbytes
    return old


@contextlib.contextmanager
def memory_budget(nbytes: int | None) -> Iterator[None]:
    """``with memory_budget(n): ...`` runs the block with budget ``n`` and restores the old one."""
    old = set_memory_budget(nbytes)
    try:
        yield
    finally:
        set_memory_budget(old)


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.3g} GiB" if nbytes >= 2**27 else f"{nbytes / 2**20:.3g} MiB"


def check_memory(culprit: str, nbytes: float, what: str = "the result") -> None:
    """Refuse a job whose working memory ``nbytes`` exceeds the budget, naming ``culprit``.

    ``culprit`` is the argument (with its value) that makes the job large, e.g.
    ``"padding 20000"``; ``what`` says what would be allocated.
    """
    budget = _memory_budget
    if budget is not None and nbytes > budget:
        raise ValueError(
            f"{culprit} makes {what} need about {_gib(nbytes)}, more than cnnlib's memory "
            f"budget of {_gib(budget)} (a Binder kernel has about 2 GB; "
            "cnnlib.set_memory_budget changes the budget)"
        )


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` as a ``bool``: ``True``, ``False`` or a NumPy ``np.bool_``.

    Integers (``0``, ``1``), strings and ``None`` are refused: a flag is a flag.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_real(
    name: str,
    value: object,
    positive: bool = False,
    finite: bool = True,
) -> float:
    """Return ``value`` as a ``float``: a Python or NumPy real number (not a bool).

    ``positive`` requires ``value > 0``; ``finite`` refuses NaN and infinities.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    try:
        v = float(value)
    except (OverflowError, ValueError):
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return v


def check_int(name: str, value: object, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int``; reject bools, floats, strings and values < ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        rule = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
        raise ValueError(f"{name} must be {rule}, got {value}")
    if abs(value) > INT64_MAX:
        raise ValueError(f"{name} must fit in 64 bits (at most 2**63 - 1), got {value}")
    return value


def check_pair(name: str, value: object, minimum: int | None = None) -> tuple[int, int]:
    """Return ``value`` as a pair ``(h, w)``: an int ``v`` means ``(v, v)``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {len(value)} values")
        return (
            check_int(f"{name}[0]", value[0], minimum),
            check_int(f"{name}[1]", value[1], minimum),
        )
    v = check_int(name, value, minimum)
    return (v, v)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of the strings in ``choices``."""
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_array(name: str, value: object, ndims: tuple[int, ...]) -> np.ndarray:
    """Return ``value`` as a real floating NumPy array whose rank is one of ``ndims``.

    Integer and boolean arrays are converted to float64 (within the memory budget), torch
    tensors to NumPy (``bfloat16`` to float32, exactly); complex, object and string arrays are
    rejected, and so is a rank not in ``ndims``.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got a string")
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = _tensor_to_numpy(name, value)
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - whatever a learner's object raises, name it
        raise TypeError(
            f"{name} must be an array of real numbers: {type(exc).__name__}: {exc}"
        ) from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got a complex array ({arr.dtype})")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if arr.ndim not in ndims:
        ranks = " or ".join(str(n) for n in ndims)
        raise ValueError(f"{name} must have {ranks} dimensions, got shape {arr.shape}")
    if arr.dtype.kind != "f":
        check_memory(f"{name} of shape {arr.shape}", arr.size * 8.0, "its float64 copy")
        arr = arr.astype(np.float64)
    return arr


def check_bool_array(name: str, value: object, ndims: tuple[int, ...]) -> np.ndarray:
    """Return ``value`` as a boolean NumPy array (a mask) whose rank is one of ``ndims``.

    A NumPy or torch boolean array, or nested lists of bools; numbers are refused, even
    exactly 0 and 1 (a mask is not a weighting: write ``m > 0``), as ``check_bool`` refuses
    ``0`` and ``1`` for a flag.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a boolean array, got a string")
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = _tensor_to_numpy(name, value)
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - whatever a learner's object raises, name it
        raise TypeError(f"{name} must be a boolean array: {type(exc).__name__}: {exc}") from None
    if arr.dtype != bool:
        hint = " (write m > 0 for a 0/1 array)" if arr.dtype.kind in "fiu" else ""
        raise TypeError(f"{name} must be boolean, got dtype {arr.dtype}{hint}")
    if arr.ndim not in ndims:
        ranks = " or ".join(str(n) for n in ndims)
        raise ValueError(f"{name} must have {ranks} dimensions, got shape {arr.shape}")
    return arr


def _tensor_to_numpy(name: str, value) -> np.ndarray:
    """A torch tensor as a NumPy array; ``bfloat16`` (which NumPy lacks) as float32."""
    try:
        t = value.detach()
        if t.is_complex():
            raise TypeError(f"{name} must be real, got a complex tensor ({t.dtype})")
        if str(t.dtype) == "torch.bfloat16":
            t = t.float()
        return t.cpu().numpy()
    except TypeError as exc:
        if str(exc).startswith(name):
            raise
        raise TypeError(f"{name}: this tensor cannot become a NumPy array ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - meta, sparse, quantized tensors ...
        raise TypeError(
            f"{name}: this tensor cannot become a NumPy array ({type(exc).__name__}: {exc})"
        ) from None
