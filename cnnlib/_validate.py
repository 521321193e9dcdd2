"""Argument checks shared by every cnnlib function.

Each check names the argument and the rule it breaks, so that a learner reads
"stride must be a positive integer, got 0" instead of a NumPy traceback.
"""

from __future__ import annotations

import numbers

import numpy as np


def check_int(name: str, value: object, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int``; reject bools, floats, strings and values < ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        rule = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
        raise ValueError(f"{name} must be {rule}, got {value}")
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

    Integer and boolean arrays are converted to float64; complex, object and string
    arrays are rejected, and so is a rank not in ``ndims``.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got a string")
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got a complex array ({arr.dtype})")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.ndim not in ndims:
        ranks = " or ".join(str(n) for n in ndims)
        raise ValueError(f"{name} must have {ranks} dimensions, got shape {arr.shape}")
    return arr
