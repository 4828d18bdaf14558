"""Benchmark objectives in NumPy: the specification of ``gfo_native.functions``.

Each takes ``X`` of shape (n, d) and returns shape (n,). float32 inputs are evaluated in float64 and
rounded once, as the native kernels do.
"""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np
import numpy.typing as npt

from .._typing import F64Array, FloatArray

_TWO_PI = 2.0 * np.pi


def _f64(X: npt.ArrayLike) -> Tuple[F64Array, np.dtype[Any]]:
    X = np.asarray(X)
    return X.astype(np.float64), X.dtype


def _out(v: F64Array, dtype: np.dtype[Any]) -> FloatArray:
    return v.astype(dtype if dtype == np.float32 else np.float64)


def sphere(X: npt.ArrayLike) -> FloatArray:
    x, t = _f64(X)
    return _out(np.sum(x * x, axis=1), t)


def ellipsoid(X: npt.ArrayLike) -> FloatArray:
    x, t = _f64(X)
    d = x.shape[1]
    coef = 10.0 ** (6.0 * np.arange(d) / (d - 1)) if d > 1 else np.ones(1)
    return _out(np.sum(coef * (x * x), axis=1), t)


def rastrigin(X: npt.ArrayLike) -> FloatArray:
    x, t = _f64(X)
    return _out(10.0 * x.shape[1] + np.sum(x * x - 10.0 * np.cos(_TWO_PI * x), axis=1), t)


def rosenbrock(X: npt.ArrayLike) -> FloatArray:
    x, t = _f64(X)
    a, b = x[:, :-1], x[:, 1:]
    return _out(np.sum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2, axis=1), t)


def ackley(X: npt.ArrayLike) -> FloatArray:
    x, t = _f64(X)
    d = x.shape[1]
    s = np.sum(x * x, axis=1)
    c = np.sum(np.cos(_TWO_PI * x), axis=1)
    return _out(-20.0 * np.exp(-0.2 * np.sqrt(s / d)) - np.exp(c / d) + 20.0 + np.e, t)


def griewank(X: npt.ArrayLike) -> FloatArray:
    x, t = _f64(X)
    coef = 1.0 / np.sqrt(np.arange(1, x.shape[1] + 1))
    return _out(1.0 + np.sum(x * x, axis=1) / 4000.0 - np.prod(np.cos(x * coef), axis=1), t)


def schwefel(X: npt.ArrayLike) -> FloatArray:
    x, t = _f64(X)
    return _out(418.9828872724338 * x.shape[1] - np.sum(x * np.sin(np.sqrt(np.abs(x))), axis=1), t)


def levy(X: npt.ArrayLike) -> FloatArray:
    x, t = _f64(X)
    w = 1.0 + (x - 1.0) / 4.0
    head = np.sin(np.pi * w[:, 0]) ** 2
    mid = np.sum((w[:, :-1] - 1.0) ** 2 * (1.0 + 10.0 * np.sin(np.pi * w[:, :-1] + 1.0) ** 2), axis=1)
    tail = (w[:, -1] - 1.0) ** 2 * (1.0 + np.sin(_TWO_PI * w[:, -1]) ** 2)
    return _out(head + mid + tail, t)


def styblinski_tang(X: npt.ArrayLike) -> FloatArray:
    x, t = _f64(X)
    x2 = x * x
    return _out(0.5 * np.sum(x2 * x2 - 16.0 * x2 + 5.0 * x, axis=1), t)
