"""CUDA twins of :mod:`gfo_native.reference.sampling` (same signatures; every array a float64 device array).

``uniform_box`` is bit-identical to the CPU kernel; ``gaussian_box`` agrees to the normals' few ulp.
"""

from __future__ import annotations

from typing import Any, List

from .. import _core
from ._arrays import DeviceArray, activate, as_device_array, same_device
from ._runtime import require


def _vectors(d: int, **arrays: Any) -> List[DeviceArray]:
    out: List[DeviceArray] = []
    for name, a in arrays.items():
        v = as_device_array(a, name, dtypes=("float64",), ndim=1)
        if v.shape[0] != d:
            raise ValueError(f"{name}: expected shape ({d},), got {v.shape}")
        out.append(v)
    return out


def uniform_box(seed: int, stream: int, lo: Any, hi: Any, out: Any) -> None:
    """Device twin of :func:`gfo_native.reference.sampling.uniform_box` (float64 device arrays)."""
    require("sampling on the GPU")
    o = as_device_array(out, "out", dtypes=("float64",), ndim=2, writeable=True)
    n, d = o.shape
    vs = _vectors(d, lo=lo, hi=hi)
    same_device([o, *vs], ["out", "lo", "hi"])
    activate(o)
    _core.cuda_sampling_uniform_box(int(seed), int(stream), vs[0].ptr, vs[1].ptr, n, d, o.ptr, o.stream)


def gaussian_box(seed: int, stream: int, center: Any, scale: Any, lo: Any, hi: Any, out: Any) -> None:
    """Device twin of :func:`gfo_native.reference.sampling.gaussian_box` (float64 device arrays)."""
    require("sampling on the GPU")
    o = as_device_array(out, "out", dtypes=("float64",), ndim=2, writeable=True)
    n, d = o.shape
    vs = _vectors(d, center=center, scale=scale, lo=lo, hi=hi)
    same_device([o, *vs], ["out", "center", "scale", "lo", "hi"])
    activate(o)
    c, s, l, h = (v.ptr for v in vs)
    _core.cuda_sampling_gaussian_box(int(seed), int(stream), c, s, l, h, n, d, o.ptr, o.stream)
