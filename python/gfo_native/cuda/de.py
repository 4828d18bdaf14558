"""CUDA twin of :func:`gfo_native.reference.de.trials` (same signature; device arrays): DE trial vectors,
bit-identical to the CPU kernel. ``R`` (n, 3) and ``jrand`` (n,) are int64, ``F`` (n,) float64."""

from __future__ import annotations

from typing import Any

from .. import _core
from ._shapes import Spec, device_args

_SPEC: Spec = {"X": ("float64", ("n", "d")), "R": ("int64", ("n", 3)), "F": ("float64", ("n",)),
         "jrand": ("int64", ("n",)), "lo": ("float64", ("d",)), "hi": ("float64", ("d",)),
         "U": ("float64", ("n", "d"))}


def trials(seed: int, stream_cr: int, strategy: int, CR: float, X: Any, best: int, R: Any, F: Any, jrand: Any, lo: Any,
           hi: Any, U: Any) -> None:
    """DE trial vectors into ``U`` on X's GPU (see :func:`gfo_native.reference.de.trials`)."""
    a = device_args("differential evolution on the GPU", _SPEC, dict(X=X, R=R, F=F, jrand=jrand, lo=lo, hi=hi, U=U),
                    writeable=("U",))
    n, d = a["X"].shape
    _core.cuda_de_trials(int(seed), int(stream_cr), int(strategy), float(CR), n, d, a["X"].ptr, int(best),
                         a["R"].ptr, a["F"].ptr, a["jrand"].ptr, a["lo"].ptr, a["hi"].ptr, a["U"].ptr,
                         a["X"].stream)
