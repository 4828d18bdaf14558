"""Checks for the lists of NumPy arrays the functional API takes: errors name the argument and the index."""

from __future__ import annotations

import numbers
from typing import Any, List, Sequence

import numpy as np

from .._checks import FLOAT_DTYPES


def array_list(arrays: Any, name: str) -> List[Any]:
    """``list(arrays)`` for a list or tuple, else TypeError naming ``name``."""
    if isinstance(arrays, np.ndarray) or not isinstance(arrays, (list, tuple)):
        raise TypeError(f"{name}: expected a list of numpy arrays, got {type(arrays).__name__}")
    return list(arrays)


def check_params(params: Sequence[np.ndarray], name: str = "params") -> List[np.ndarray]:
    """The parameters as a list: float32/float64, C-contiguous, writeable arrays (errors name the index)."""
    checked = array_list(params, name)
    for i, p in enumerate(checked):
        if not isinstance(p, np.ndarray):
            raise TypeError(f"{name}[{i}]: expected a numpy.ndarray, got {type(p).__name__}")
        if p.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{name}[{i}]: expected dtype float32 or float64, got {p.dtype}")
        if not p.flags.c_contiguous:
            raise ValueError(f"{name}[{i}]: expected a C-contiguous array (arrays are updated in place, never copied)")
        if not p.flags.writeable:
            raise ValueError(f"{name}[{i}]: array is read-only")
    return checked


def check_like(arrays: Any, params: Sequence[np.ndarray], name: str, *, writeable: bool = True,
               allow_none: bool = False) -> List[Any]:
    """Each array matches its parameter's shape and dtype, C-contiguous (and writeable when updated)."""
    checked = array_list(arrays, name)
    if len(checked) != len(params):
        raise ValueError(f"{name}: expected {len(params)} arrays (one per parameter), got {len(checked)}")
    for i, (a, p) in enumerate(zip(checked, params)):
        if a is None and allow_none:
            continue
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name}[{i}]: expected a numpy.ndarray, got {type(a).__name__}")
        if a.dtype != p.dtype:
            raise TypeError(f"{name}[{i}]: expected dtype {p.dtype} (the parameter's), got {a.dtype}")
        if a.shape != p.shape:
            raise ValueError(f"{name}[{i}]: expected shape {p.shape} (the parameter's), got {a.shape}")
        if not a.flags.c_contiguous:
            raise ValueError(f"{name}[{i}]: expected a C-contiguous array (never copied silently)")
        if writeable and not a.flags.writeable:
            raise ValueError(f"{name}[{i}]: array is read-only")
    return checked


def state_steps(steps: Any, n: int, name: str = "state_steps") -> np.ndarray:
    """A float64 array of per-tensor step counts that the call increments in place.

    An integer ``k >= 1`` means "this is update number k for every tensor" (nothing is stored).
    """
    if isinstance(steps, numbers.Integral) and not isinstance(steps, bool):
        if steps < 1:
            raise ValueError(f"{name}: expected the 1-based number of this update, got {steps}")
        return np.full(n, float(steps) - 1.0)
    if not isinstance(steps, np.ndarray) or steps.dtype != np.float64 or steps.shape != (n,):
        raise TypeError(f"{name}: expected an int or a float64 array of shape ({n},)")
    if not steps.flags.c_contiguous or not steps.flags.writeable:
        raise ValueError(f"{name}: expected a writeable C-contiguous array")
    checked_steps: np.ndarray = steps
    return checked_steps


def real(v: object, name: str, *, low: float | None = 0.0, high: float | None = None, high_open: bool = False) -> float:
    """``float(v)`` for a real, non-NaN ``v`` in ``[low, high]`` (``[low, high)`` if ``high_open``)."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(v).__name__}")
    v = float(v)
    if v != v:
        raise ValueError(f"{name}: expected a number, got nan")
    if low is not None and v < low:
        raise ValueError(f"{name}: expected a value >= {low}, got {v}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name}: expected a value {'<' if high_open else '<='} {high}, got {v}")
    return v


def impl_name(impl: str) -> str:
    """``impl`` if it is "native" or "reference", else ValueError."""
    if impl not in ("native", "reference"):
        raise ValueError(f"impl: expected 'native' or 'reference', got {impl!r}")
    return impl
