"""Argument validation shared by the public API: errors name the argument and what was expected."""

from __future__ import annotations

import numbers

from typing import Any, Optional

import numpy as np
import numpy.typing as npt

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def float_dtype(dtype: npt.DTypeLike, name: str = "dtype") -> np.dtype[Any]:
    """``np.dtype(dtype)`` if it is float32 or float64, else TypeError naming ``name``."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: expected float32 or float64, got {dtype!r}") from None
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected float32 or float64, got {dt}")
    return np.dtype(dt)


def float_matrix(X: object, name: str = "X") -> npt.NDArray[np.floating[Any]]:
    """A C-contiguous float32/float64 array of shape (n, d), d >= 1. Never copies."""
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray of shape (n, d), got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array of shape (n, d), got shape {X.shape}")
    if X.shape[1] < 1:
        raise ValueError(f"{name}: expected at least one column, got shape {X.shape}")
    if X.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected dtype float32 or float64, got {X.dtype}")
    if not X.flags.c_contiguous:
        raise ValueError(f"{name}: expected a C-contiguous array (use np.ascontiguousarray)")
    return X


def non_negative_int(v: object, name: str) -> int:
    """``int(v)`` for an integral ``v >= 0`` (bool refused), else TypeError/ValueError naming ``name``."""
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(v).__name__}")
    if v < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {v}")
    return int(v)


def positive_int(v: object, name: str) -> int:
    """``int(v)`` for an integral ``v >= 1``, else TypeError/ValueError naming ``name``."""
    n = non_negative_int(v, name)
    if n == 0:
        raise ValueError(f"{name}: expected a positive integer, got 0")
    return n


def seed_value(v: object, name: str = "seed") -> int:
    """An integer in ``[0, 2**64)``, else TypeError/ValueError naming ``name``."""
    n = non_negative_int(v, name)
    if n >= 1 << 64:
        raise ValueError(f"{name}: expected a value below 2**64, got {n}")
    return n


def finite_float(v: object, name: str, *, low: Optional[float] = None, high: Optional[float] = None,
                 low_open: bool = False) -> float:
    """``float(v)`` for a finite real in ``[low, high]`` (``(low, high]`` if ``low_open``), else TypeError/ValueError."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(v).__name__}")
    v = float(v)
    if not np.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {v}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name}: expected a value {'>' if low_open else '>='} {low}, got {v}")
    if high is not None and v > high:
        raise ValueError(f"{name}: expected a value <= {high}, got {v}")
    return v


def real_values(v: object, name: str) -> npt.NDArray[np.float64]:
    """``v`` (a number or an array-like of numbers) as a new float64 array, else TypeError/ValueError naming ``name``.

    Stricter than ``np.array(v, dtype=np.float64)``, which turns None into NaN, parses text ("1.5") and drops the
    imaginary part of complex values (with only a warning): an objective that forgot its ``return`` or returns the
    wrong kind of value would then be ranked silently. NaN and inf themselves are values (ranked worst by the
    optimizers). The masked entries of a numpy masked array (``np.ma.masked`` too) are NaN: missing values, not the
    data under the mask (numpy's own conversion keeps the data, often 0, which would rank a failure best)."""
    missing = None
    if isinstance(v, np.ma.MaskedArray):
        missing = np.ma.getmaskarray(v)
        v = np.ma.getdata(v)
    try:
        a = v if isinstance(v, np.ndarray) else np.asarray(v)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected numbers, got {type(v).__name__} that does not form an array") from None
    kind = a.dtype.kind
    if kind == "O":
        for x in a.flat:
            if x is None:
                raise TypeError(f"{name}: got None where a number was expected (an objective without a return?); "
                                "use NaN or inf for a point that cannot be evaluated")
            if isinstance(x, (str, bytes, complex, np.complexfloating)):
                raise TypeError(f"{name}: expected real numbers, got {type(x).__name__}")
    elif kind not in "biuf":
        raise TypeError(f"{name}: expected real numbers, got dtype {a.dtype}")
    try:
        out = np.array(a, dtype=np.float64)
    except OverflowError:  # a Python int beyond float64's range
        raise ValueError(f"{name}: a value lies beyond the float64 range (about +-1.8e308)") from None
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected real numbers, got {type(v).__name__}") from None
    if missing is not None and missing.any():
        out[missing] = np.nan
    return out
