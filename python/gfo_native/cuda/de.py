"""CUDA twin of :func:`gfo_native.reference.de.trials` (same signature; device arrays): DE trial vectors,
bit-identical to the CPU kernel. ``R`` (n, 3) and ``jrand`` (n,) are int64, ``F`` (n,) float64."""

from __future__ import annotations

from .. import _core
from ._shapes import device_args

_SPEC = {"X": ("float64", ("n", "d")), "R": ("int64", ("n", 3)), "F": ("float64", ("n",)),
         "jrand": ("int64", ("n",)), "lo": ("float64", ("d",)), "hi": ("float64", ("d",)),
         "U": ("float64", ("n", "d"))}


def trials(seed, stream_cr, strategy, CR, X, best, R, F, jrand, lo, hi, U) -> None:
    a = device_args("differential evolution on the GPU", _SPEC, dict(X=X, R=R, F=F, jrand=jrand, lo=lo, hi=hi, U=U),
                    writeable=("U",))
    n, d = a["X"].shape
    _core.cuda_de_trials(int(seed), int(stream_cr), int(strategy), float(CR), n, d, a["X"].ptr, int(best),
                         *(a[k].ptr for k in ("R", "F", "jrand", "lo", "hi", "U")), a["X"].stream)
