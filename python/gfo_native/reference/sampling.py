"""NumPy twins of cpp/src/sampling.cpp (same signatures: results written into ``out``)."""

from __future__ import annotations

import numpy as np

from . import rng
from .._typing import FloatArray


def uniform_box(seed: int, stream: int, lo: FloatArray, hi: FloatArray, out: FloatArray) -> None:
    """Fill ``out`` (n, d) with uniforms in the box ``[lo, hi]`` (stream index ``row * d + coord``)."""
    n, d = out.shape
    u = rng.uniform(seed, stream, n * d).reshape(n, d)
    out[...] = lo + (hi - lo) * u


def gaussian_box(seed: int, stream: int, center: FloatArray, scale: FloatArray, lo: FloatArray, hi: FloatArray,
                 out: FloatArray) -> None:
    """Fill ``out`` (n, d) with ``center + scale * N(0, 1)`` clipped to ``[lo, hi]``."""
    n, d = out.shape
    z = rng.normal(seed, stream, n * d).reshape(n, d)
    with np.errstate(over="ignore"):  # a box ~1e308 wide: beyond float64 is inf, clipped (as the kernel does)
        out[...] = np.minimum(np.maximum(center + scale * z, lo), hi)
