"""NumPy twin of cpp/src/sa.cpp: Gaussian proposals of a batch of annealing chains, clipped to the box."""

from __future__ import annotations

import numpy as np

from . import rng


def propose(seed: int, stream: int, step: float, X: np.ndarray, span: np.ndarray, lo: np.ndarray, hi: np.ndarray,
            Y: np.ndarray) -> None:
    n, d = X.shape
    Z = rng.normal(seed, stream, n * d).reshape(n, d)
    with np.errstate(over="ignore"):  # a box ~1e308 wide: beyond float64 is inf, clipped (as the kernel does)
        Y[...] = np.minimum(np.maximum(X + step * span * Z, lo), hi)
