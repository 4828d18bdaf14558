"""Demo: the native benchmark functions against their NumPy twins on one large batch."""

from __future__ import annotations

import time
from typing import Any, Callable, Tuple

import numpy as np

from .. import functions as F
from .. import rng
from ..reference import functions as R


def _best_of(fn: Callable[[], Any], repeat: int = 3) -> Tuple[float, Any]:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(quick: bool) -> str:
    n, d = (10_000, 100) if quick else (50_000, 100)
    lines = [f"Benchmark functions on a {n:,} x {d} float64 batch (native vs NumPy reference)",
             f"{'function':<16}{'native ms':>10}{'numpy ms':>10}{'speedup':>9}{'max rel diff':>14}"]
    speedups = []
    for name, f in F.FUNCTIONS.items():
        lo, hi = F.DOMAINS[name]
        X = lo + (hi - lo) * rng.uniform(0, 1, n * d).reshape(n, d)
        tn, a = _best_of(lambda: f(X))
        tr, b = _best_of(lambda: getattr(R, name)(X), repeat=1 if not quick else 2)
        diff = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0)))
        speedups.append(tr / tn)
        lines.append(f"{name:<16}{tn * 1e3:>10.1f}{tr * 1e3:>10.1f}{tr / tn:>8.1f}x{diff:>14.1e}")
    lines.append(f"geometric mean speedup: {np.exp(np.mean(np.log(speedups))):.1f}x")
    return "\n".join(lines) + "\n"
