"""Philox4x32-10 on the GPU: the numbers of :mod:`gfo_native.rng` for the same (seed, stream, index).

Bits and uniforms are bit-identical to the CPU kernels and to :mod:`gfo_native.reference.rng`; normals
are bit-identical to :func:`gfo_native.rng.normal` (the same Box-Muller code: float32 gfo/normal32.hpp, also
bit-identical to the NumPy reference; float64 gfo/vecmath.hpp, agreeing with the reference to float64 rounding). Each function fills ``out`` (a torch
CUDA tensor or a ``__cuda_array_interface__`` array) or, without ``out``, returns a new torch CUDA tensor.
Work is queued on the array's current stream and not waited for.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

import numpy as np

from .. import _core
from .._checks import non_negative_int, seed_value
from ._arrays import DeviceArray, activate, as_device_array
from ._runtime import require

__all__ = ["bits", "uniform", "normal"]


def _out(n: Optional[int], dtype: Any, out: Any, allowed: Sequence[str]) -> Tuple[Any, DeviceArray]:
    if out is None:
        if n is None:
            raise ValueError("n: required when no out= array is given")
        import torch

        name = str(dtype).replace("torch.", "") if "torch" in str(dtype) else np.dtype(dtype).name
        if name not in allowed:
            raise TypeError(f"dtype: expected one of {allowed}, got {dtype!r}")
        out = torch.empty(n, dtype=getattr(torch, name), device="cuda")
    a = as_device_array(out, "out", dtypes=allowed, writeable=True)
    if n is not None and a.size != n:
        raise ValueError(f"out: expected {n} elements, got shape {a.shape}")
    activate(a)
    return out, a


def _args(seed: object, stream: object, offset: object) -> Tuple[int, int, int]:
    require("gfo_native.cuda.rng")
    return seed_value(seed), seed_value(stream, "stream"), seed_value(offset, "offset")


def bits(seed: int, stream: int, n: Optional[int] = None, offset: int = 0, out: Any = None) -> Any:
    """Raw 32-bit words ``[offset, offset + n)`` (uint32); ``n`` defaults to ``out``'s size."""
    seed, stream, offset = _args(seed, stream, offset)
    n = None if n is None else non_negative_int(n, "n")
    out, a = _out(n, "uint32", out, ("uint32",))
    _core.cuda_rng_bits(seed, stream, offset, a.size, a.ptr, a.stream)
    return out


def uniform(seed: int, stream: int, n: Optional[int] = None, dtype: Any = "float64", offset: int = 0,
            out: Any = None) -> Any:
    """Uniforms in (0, 1), float32 or float64 (``dtype``: a name, a NumPy or a torch dtype)."""
    seed, stream, offset = _args(seed, stream, offset)
    n = None if n is None else non_negative_int(n, "n")
    out, a = _out(n, dtype, out, ("float32", "float64"))
    _core.cuda_rng_uniform(seed, stream, offset, a.size, a.ptr, a.code, a.stream)
    return out


def normal(seed: int, stream: int, n: Optional[int] = None, dtype: Any = "float64", offset: int = 0,
           out: Any = None) -> Any:
    """Standard normals (Box-Muller on consecutive uniform pairs), float32 or float64."""
    seed, stream, offset = _args(seed, stream, offset)
    n = None if n is None else non_negative_int(n, "n")
    out, a = _out(n, dtype, out, ("float32", "float64"))
    _core.cuda_rng_normal(seed, stream, offset, a.size, a.ptr, a.code, a.stream)
    return out
