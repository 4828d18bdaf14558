"""NumPy twins of cpp/src/sampling.cpp (same signatures: results written into ``out``)."""

from __future__ import annotations

import numpy as np

from . import rng


def uniform_box(seed: int, stream: int, lo: np.ndarray, hi: np.ndarray, out: np.ndarray) -> None:
    n, d = out.shape
    u = rng.uniform(seed, stream, n * d).reshape(n, d)
    out[...] = lo + (hi - lo) * u


def gaussian_box(seed: int, stream: int, center: np.ndarray, scale: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 out: np.ndarray) -> None:
    n, d = out.shape
    z = rng.normal(seed, stream, n * d).reshape(n, d)
    out[...] = np.minimum(np.maximum(center + scale * z, lo), hi)
