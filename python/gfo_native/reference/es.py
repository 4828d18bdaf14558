"""NumPy twins of cpp/src/es.cpp: evolution-strategy noise regenerated from Philox (same signatures).

Noise row ``p`` is ``eps[p, j] = float64(normal32(seed, stream, p * d + j))``: float32 Philox normals widened
exactly to float64, as the float32 noise table of Salimans et al. (2017) is; antithetic member ``i`` uses row
``i // 2`` with sign ``+`` (even ``i``) or ``-`` (odd ``i``), otherwise row ``i`` with sign ``+``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import rng


def _noise(seed: int, stream: int, table: Any, offsets: Any, p: int, d: int) -> np.ndarray:
    """Noise row p, float32 widened to float64: Philox normals, or the table from the row's offset on (see cpp
    es.hpp, EsNoise)."""
    if table is None:
        return rng.normal(seed, stream, d, dtype=np.float32, offset=p * d).astype(np.float64)
    o = int(offsets[p])
    return np.asarray(table[o:o + d], dtype=np.float64)


def perturb(seed: int, stream: int, table: Any, offsets: Any, mean: np.ndarray, sigma: np.ndarray, lo: Any,
            hi: Any, first: int, antithetic: bool, out: np.ndarray) -> None:
    m, d = out.shape
    for r in range(m):
        i = first + r
        p, sign = (i // 2, -1.0 if i & 1 else 1.0) if antithetic else (i, 1.0)
        x = mean + sigma * (sign * _noise(seed, stream, table, offsets, p, d))
        out[r] = x if lo is None else np.minimum(np.maximum(x, lo), hi)


def grad(seed: int, stream: int, table: Any, offsets: Any, a: np.ndarray, b: Any, mean: np.ndarray, sigma: np.ndarray, X: Any,
         antithetic: bool, scale: float, divide: bool, g1: np.ndarray, g2: Any) -> None:
    d = g1.shape[0]
    acc1, acc2 = np.zeros(d), np.zeros(d)
    for p in range(a.shape[0]):
        bp = b[p] if g2 is not None else 0.0
        if a[p] == 0.0 and bp == 0.0:
            continue
        if X is None:
            x = mean + sigma * _noise(seed, stream, table, offsets, p, d)
        else:
            x = X[2 * p if antithetic else p]
        if a[p] != 0.0:
            acc1 += a[p] * (x - mean)
        if bp != 0.0:
            z = (x - mean) * (1.0 / sigma)  # one division per coordinate, as the native kernel
            acc2 += bp * (z * z - 1.0)
    g1[...] = (acc1 * scale) / (sigma * sigma) if divide else acc1 * scale
    if g2 is not None:
        g2[...] = acc2
