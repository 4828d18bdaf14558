"""Counter-based random numbers (Philox4x32-10), native and OpenMP-parallel.

The same ``(seed, stream, index)`` gives the same number here, in :mod:`gfo_native.reference.rng`
(which documents the exact bits-to-float and Box-Muller mapping) and in the CUDA kernels, whatever
the thread count or chunking. ``offset`` selects the sub-range ``[offset, offset + n)`` of a stream.
"""

from __future__ import annotations

import numpy as np

from . import _core
from ._checks import float_dtype, non_negative_int, seed_value
from .reference.rng import stream_id

__all__ = ["bits", "uniform", "normal", "philox4x32_10", "stream_id"]


def _args(seed, stream, n, offset):
    return seed_value(seed), seed_value(stream, "stream"), non_negative_int(n, "n"), seed_value(offset, "offset")


def bits(seed: int, stream: int, n: int, offset: int = 0) -> np.ndarray:
    """Raw 32-bit words ``[offset, offset + n)`` of a stream."""
    seed, stream, n, offset = _args(seed, stream, n, offset)
    out = np.empty(n, dtype=np.uint32)
    _core.rng_bits(seed, stream, offset, out)
    return out


def uniform(seed: int, stream: int, n: int, dtype=np.float64, offset: int = 0) -> np.ndarray:
    """Uniforms in the open interval (0, 1)."""
    seed, stream, n, offset = _args(seed, stream, n, offset)
    out = np.empty(n, dtype=float_dtype(dtype))
    _core.rng_uniform(seed, stream, offset, out)
    return out


def normal(seed: int, stream: int, n: int, dtype=np.float64, offset: int = 0) -> np.ndarray:
    """Standard normals (Box-Muller on consecutive uniform pairs)."""
    seed, stream, n, offset = _args(seed, stream, n, offset)
    out = np.empty(n, dtype=float_dtype(dtype))
    _core.rng_normal(seed, stream, offset, out)
    return out


def philox4x32_10(counter, key) -> np.ndarray:
    """The raw block function (four counter words, two key words) -> four output words."""
    return np.array(_core.philox4x32_10([int(c) for c in counter], [int(k) for k in key]), dtype=np.uint32)
