"""CUDA twin of :func:`gfo_native.reference.ga.offspring` (same signature; device arrays): crossover and
mutation of selected parent pairs, one thread per (pair, gene). Bit-identical to the CPU kernel for uniform,
one/two-point, BLX and arithmetic crossover and bit-flip mutation; SBX, polynomial and Gaussian mutation
agree to a few ulp (CUDA's pow/log/sin/cos)."""

from __future__ import annotations

from typing import Any

from .. import _core
from ._shapes import Spec, device_args

_SPEC: Spec = {"G": ("float64", ("m", "L")), "parents": ("int64", ("p",)), "lo": ("float64", ("L",)),
         "hi": ("float64", ("L",)), "span": ("float64", ("L",)), "C": ("float64", ("n", "L"))}


def offspring(seed: int, stream_pair: int, stream_gene: int, stream_mutate: int, stream_mutation: int, crossover: int,
              crossover_prob: float, alpha: float, eta_c: float, mutation: int, mutation_prob: float, sigma: float,
              eta_m: float, G: Any, parents: Any, lo: Any, hi: Any, span: Any, C: Any) -> None:
    """GA offspring into ``C`` on G's GPU (see :func:`gfo_native.reference.ga.offspring`)."""
    a = device_args("GA on the GPU", _SPEC, dict(G=G, parents=parents, lo=lo, hi=hi, span=span, C=C),
                    writeable=("C",))
    n, L = a["C"].shape
    if a["parents"].shape[0] != 2 * ((n + 1) // 2):
        raise ValueError(f"parents: expected shape ({2 * ((n + 1) // 2)},), got {a['parents'].shape}")
    _core.cuda_ga_offspring(int(seed), int(stream_pair), int(stream_gene), int(stream_mutate), int(stream_mutation),
                            int(crossover), float(crossover_prob), float(alpha), float(eta_c), int(mutation),
                            float(mutation_prob), float(sigma), float(eta_m), n, L,
                            a["G"].ptr, a["parents"].ptr, a["lo"].ptr, a["hi"].ptr, a["span"].ptr, a["C"].ptr,
                            a["C"].stream)
