"""CUDA twins of :mod:`gfo_native.reference.sampling` (same signatures; every array a float64 device array).

``uniform_box`` is bit-identical to the CPU kernel; ``gaussian_box`` agrees to the normals' few ulp.
"""

from __future__ import annotations

from .. import _core
from ._arrays import activate, as_device_array, same_device
from ._runtime import require


def _vectors(d, **arrays):
    out = []
    for name, a in arrays.items():
        v = as_device_array(a, name, dtypes=("float64",), ndim=1)
        if v.shape[0] != d:
            raise ValueError(f"{name}: expected shape ({d},), got {v.shape}")
        out.append(v)
    return out


def uniform_box(seed: int, stream: int, lo, hi, out) -> None:
    require("sampling on the GPU")
    o = as_device_array(out, "out", dtypes=("float64",), ndim=2, writeable=True)
    n, d = o.shape
    vs = _vectors(d, lo=lo, hi=hi)
    same_device([o, *vs], ["out", "lo", "hi"])
    activate(o)
    _core.cuda_sampling_uniform_box(int(seed), int(stream), vs[0].ptr, vs[1].ptr, n, d, o.ptr, o.stream)


def gaussian_box(seed: int, stream: int, center, scale, lo, hi, out) -> None:
    require("sampling on the GPU")
    o = as_device_array(out, "out", dtypes=("float64",), ndim=2, writeable=True)
    n, d = o.shape
    vs = _vectors(d, center=center, scale=scale, lo=lo, hi=hi)
    same_device([o, *vs], ["out", "center", "scale", "lo", "hi"])
    activate(o)
    _core.cuda_sampling_gaussian_box(int(seed), int(stream), *(v.ptr for v in vs), n, d, o.ptr, o.stream)
