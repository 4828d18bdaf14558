"""What a worker runs: one unit of a batch (a row, or a chunk of rows for vectorized objectives).

This module is imported inside worker processes (a process pool's children, Ray actors), so it stays small
and imports nothing heavy. A unit never raises: it returns an outcome tuple, so that an exception in the
objective is told apart from a worker that died (which the driver sees as a lost result).
"""

from __future__ import annotations

import pickle
import traceback
from typing import Any, Callable

import numpy as np

from .._checks import real_values

OK, ERROR, CRASH = "ok", "error", "crash"


def evaluate_batch(fun: Callable[..., Any], X: Any, vectorized: bool) -> np.ndarray:
    """Objective values of the rows of X (an array, or a list of dicts) as a float64 (n,) array."""
    if vectorized:
        y = real_values(fun(X), "fun").reshape(-1)
        if y.size != len(X):
            raise ValueError(f"fun: vectorized objective returned {y.size} values for {len(X)} points")
        return y
    y = np.empty(len(X))
    if isinstance(X, np.ndarray):
        # fun(x) may change its x (x -= shift, rounding in place): give it rows of a copy, as scipy does, so the asked
        # batch (in this process a view of the optimizer's own) stays the points the values are told for
        X = X.copy()
    for i in range(len(X)):
        v = fun(X[i])
        if type(v) is float:  # the common case, without an array round trip
            y[i] = v
            continue
        try:
            a = real_values(v, "fun")
        except TypeError:
            if v is None:  # its own message (a missing return?)
                raise
            a = None
        if a is None or a.size != 1:
            raise TypeError(f"fun: expected a real scalar from fun(x), got {type(v).__name__}"
                            f"{'' if a is None else f' of {a.size} values'} (pass vectorized=True for batch objectives)")
        y[i] = a.reshape(())
    return y


def run_unit(fun: Callable[..., Any], rows: Any, vectorized: bool, portable: bool = True) -> tuple[Any, ...]:
    """``(OK, values)`` or ``(ERROR, exception_or_None, text)``.

    ``portable``: the outcome crosses a process boundary, so the exception is kept only if it pickles
    (its text and traceback always travel).
    """
    try:
        return OK, evaluate_batch(fun, rows, vectorized)
    except Exception as e:  # noqa: BLE001 - any failure of user code is an outcome, not a worker crash
        text = "".join(traceback.format_exception_only(type(e), e)).strip()
        tb = traceback.format_exc()
        sent: Exception | None = e
        if portable:
            try:
                pickle.dumps(e)
            except Exception:  # noqa: BLE001
                sent = None
        return ERROR, sent, f"{text}\n{tb}"


class RemoteWorker:
    """A worker that holds the objective (Ray actors): it is shipped once per actor and bind, not per unit."""

    def __init__(self, fun: Callable[..., Any], vectorized: bool):
        self.load(fun, vectorized)

    def load(self, fun: Callable[..., Any], vectorized: bool) -> None:
        self.fun, self.vectorized = fun, vectorized

    def run(self, rows: Any) -> tuple[Any, ...]:
        return run_unit(self.fun, rows, self.vectorized)
