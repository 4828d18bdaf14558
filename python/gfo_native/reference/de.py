"""NumPy twin of cpp/src/de.cpp: DE trial vectors (mutation, binomial crossover, bounce-back)."""

from __future__ import annotations

import numpy as np

from . import rng


def trials(seed: int, stream_cr: int, strategy: int, CR: float, X: np.ndarray, best: int, R: np.ndarray,
           F: np.ndarray, jrand: np.ndarray, lo: np.ndarray, hi: np.ndarray, U: np.ndarray) -> None:
    n, d = X.shape
    f = F[:, None]
    x0, x1, x2 = X[R[:, 0]], X[R[:, 1]], X[R[:, 2]]
    xb = X[best][None, :]
    with np.errstate(over="ignore", invalid="ignore"):  # a mutant beyond float64 (F ~ 2 in a box ~1e308 wide)
        if strategy == 0:
            v = x0 + f * (x1 - x2)
        elif strategy == 1:
            v = xb + f * (x0 - x1)
        else:
            v = X + f * (xb - X) + f * (x0 - x1)
    v = np.where(np.isnan(v), X, v)  # inf - inf: no side to bounce back from, the parent's coordinate
    v = np.where(v < lo, 0.5 * (lo + X), v)
    v = np.where(v > hi, 0.5 * (hi + X), v)
    take = rng.uniform(seed, stream_cr, n * d, np.float32).astype(np.float64).reshape(n, d) < CR
    take[np.arange(n), jrand] = True
    U[...] = np.where(take, v, X)
