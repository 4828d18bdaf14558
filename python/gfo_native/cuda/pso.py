"""CUDA twin of :func:`gfo_native.reference.pso.update` (same signature; device arrays): the fused PSO
generation, bit-identical to the CPU kernel. ``improved`` is uint8 (or bool), ``nbest`` int64."""

from __future__ import annotations

from typing import Any

from .. import _core
from ._shapes import Spec, device_args

_SPEC: Spec = {"X": ("float64", ("n", "d")), "V": ("float64", ("n", "d")), "P": ("float64", ("n", "d")),
         "improved": ("uint8", ("n",)), "nbest": ("int64", ("n",)), "vmax": ("float64", ("d",)),
         "lo": ("float64", ("d",)), "hi": ("float64", ("d",)), "Xnew": ("float64", ("n", "d"))}


def update(seed: int, stream_r1: int, stream_r2: int, w: float, c1: float, c2: float, X: Any, V: Any, P: Any,
           improved: Any, nbest: Any, vmax: Any, lo: Any, hi: Any, bounds: int, Xnew: Any) -> None:
    """One fused PSO generation on X's GPU (see :func:`gfo_native.reference.pso.update`)."""
    a = device_args("PSO on the GPU", _SPEC, dict(X=X, V=V, P=P, improved=improved, nbest=nbest, vmax=vmax, lo=lo,
                                                   hi=hi, Xnew=Xnew), writeable=("V", "P", "Xnew"))
    n, d = a["X"].shape
    _core.cuda_pso_update(int(seed), int(stream_r1), int(stream_r2), float(w), float(c1), float(c2), n, d,
                          a["X"].ptr, a["V"].ptr, a["P"].ptr, a["improved"].ptr, a["nbest"].ptr, a["vmax"].ptr,
                          a["lo"].ptr, a["hi"].ptr, int(bounds),
                          a["Xnew"].ptr, a["X"].stream)
