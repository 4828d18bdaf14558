"""Benchmark objectives on device arrays (reached through :mod:`gfo_native.functions` for CUDA inputs)."""

from __future__ import annotations

from typing import Any

from .. import _core
from ._arrays import activate, as_device_array, empty_like, same_device
from ._runtime import require


def evaluate(objective: _core.Objective, X: Any, out: Any = None) -> Any:
    """``objective`` (a ``_core.Objective``) of every row of the (n, d) device array X, into ``out`` (n,)."""
    require("gfo_native.functions on a CUDA array")
    x = as_device_array(X, "X", ndim=2)
    if x.shape[1] < 1:
        raise ValueError(f"X: expected at least one column, got shape {x.shape}")
    if out is None:
        out = empty_like(x, (x.shape[0],), x.dtype)
    o = as_device_array(out, "out", dtypes=(x.dtype,), ndim=1, writeable=True)
    if o.shape[0] != x.shape[0]:
        raise ValueError(f"out: expected shape ({x.shape[0]},) matching X, got {o.shape}")
    same_device([x, o], ["X", "out"])
    activate(x)
    _core.cuda_evaluate_objective(objective, x.ptr, x.shape[0], x.shape[1], o.ptr, x.code, x.stream)
    return out
