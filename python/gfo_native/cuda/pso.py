"""CUDA twin of :func:`gfo_native.reference.pso.update` (same signature; device arrays): the fused PSO
generation, bit-identical to the CPU kernel. ``improved`` is uint8 (or bool), ``nbest`` int64."""

from __future__ import annotations

from .. import _core
from ._shapes import device_args

_SPEC = {"X": ("float64", ("n", "d")), "V": ("float64", ("n", "d")), "P": ("float64", ("n", "d")),
         "improved": ("uint8", ("n",)), "nbest": ("int64", ("n",)), "vmax": ("float64", ("d",)),
         "lo": ("float64", ("d",)), "hi": ("float64", ("d",)), "Xnew": ("float64", ("n", "d"))}


def update(seed, stream_r1, stream_r2, w, c1, c2, X, V, P, improved, nbest, vmax, lo, hi, bounds, Xnew) -> None:
    a = device_args("PSO on the GPU", _SPEC, dict(X=X, V=V, P=P, improved=improved, nbest=nbest, vmax=vmax, lo=lo,
                                                   hi=hi, Xnew=Xnew), writeable=("V", "P", "Xnew"))
    n, d = a["X"].shape
    _core.cuda_pso_update(int(seed), int(stream_r1), int(stream_r2), float(w), float(c1), float(c2), n, d,
                          *(a[k].ptr for k in ("X", "V", "P", "improved", "nbest", "vmax", "lo", "hi")), int(bounds),
                          a["Xnew"].ptr, a["X"].stream)
