"""Counter-based random numbers (Philox4x32-10), native and OpenMP-parallel.

The same ``(seed, stream, index)`` gives the same number here, in :mod:`gfo_native.reference.rng`
(which documents the exact bits-to-float and Box-Muller mapping) and in the CUDA kernels, whatever
the thread count or chunking. ``offset`` selects the sub-range ``[offset, offset + n)`` of a stream.
"""

from __future__ import annotations

from typing import Any, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from . import _core
from ._checks import float_dtype, non_negative_int, seed_value
from ._typing import FloatArray, U32Array
from .reference.rng import stream_id

__all__ = ["bits", "uniform", "normal", "philox4x32_10", "stream_id"]


_STREAM_WORDS = 2**64  # a stream is 2**64 words: word indices are uint64 in the kernels


def _args(seed: object, stream: object, n: object, offset: object, words: int = 1) -> Tuple[int, int, int, int]:
    """Checked arguments; with ``words`` per element the range's words must lie inside the stream (past its end
    the kernels' uint64 indices would wrap to its start). Box-Muller pairs start at even indices, so a range
    inside the stream never needs a word past it."""
    seed, stream = seed_value(seed), seed_value(stream, "stream")
    n, offset = non_negative_int(n, "n"), seed_value(offset, "offset")
    if words * (offset + n) > _STREAM_WORDS:
        raise ValueError(f"offset: [offset, offset + n) = [{offset}, {offset + n}) reads past the end of the stream "
                         f"({_STREAM_WORDS // words} elements of {words} word(s))")
    return seed, stream, n, offset


def bits(seed: int, stream: int, n: int, offset: int = 0) -> U32Array:
    """Raw 32-bit words ``[offset, offset + n)`` of a stream.

    Args:
        seed: key, an integer in ``[0, 2**64)``.
        stream: stream id in ``[0, 2**64)`` (see :func:`stream_id`).
        n: number of words.
        offset: index of the first word; ``offset + n`` must not exceed ``2**64``, the stream's length
            (``2**63`` elements for float64, which take two words each).

    Returns:
        A new (n,) uint32 array.

    Raises:
        TypeError, ValueError: an argument is not an integer in range (the message names it).
    """
    seed, stream, n, offset = _args(seed, stream, n, offset)
    out = np.empty(n, dtype=np.uint32)
    _core.rng_bits(seed, stream, offset, out)
    return out


def uniform(seed: int, stream: int, n: int, dtype: npt.DTypeLike = np.float64, offset: int = 0) -> FloatArray:
    """Uniforms ``[offset, offset + n)`` of a stream, in the open interval (0, 1).

    Args:
        seed, stream, n, offset: as for :func:`bits`.
        dtype: float32 or float64.

    Returns:
        A new (n,) array of ``dtype``.

    Raises:
        TypeError, ValueError: a bad argument (the message names it).
    """
    dt = float_dtype(dtype)
    seed, stream, n, offset = _args(seed, stream, n, offset, words=dt.itemsize // 4)
    out = np.empty(n, dtype=dt)
    _core.rng_uniform(seed, stream, offset, out)
    return out


def normal(seed: int, stream: int, n: int, dtype: npt.DTypeLike = np.float64, offset: int = 0) -> FloatArray:
    """Standard normals ``[offset, offset + n)`` of a stream (Box-Muller on consecutive uniform pairs).

    Args:
        seed, stream, n, offset: as for :func:`bits`.
        dtype: float32 or float64.

    Returns:
        A new (n,) array of ``dtype``.

    Raises:
        TypeError, ValueError: a bad argument (the message names it).
    """
    dt = float_dtype(dtype)
    seed, stream, n, offset = _args(seed, stream, n, offset, words=dt.itemsize // 4)
    out = np.empty(n, dtype=dt)
    _core.rng_normal(seed, stream, offset, out)
    return out


def philox4x32_10(counter: Sequence[int], key: Sequence[int]) -> U32Array:
    """The raw block function (four counter words, two key words) -> four output words."""
    return np.array(_core.philox4x32_10([int(c) for c in counter], [int(k) for k in key]), dtype=np.uint32)
