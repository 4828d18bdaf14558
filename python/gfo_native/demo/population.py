"""Demo: the population optimizers on standard functions, native against the NumPy reference."""

from __future__ import annotations

import time
from typing import Tuple

from .. import functions as F
from ..minimize import minimize
from ..optimizers.result import OptimizeResult

METHODS = ["random_search", "hill_climbing", "sa", "pso", "ga", "de"]


def _run(method: str, fname: str, d: int, budget: int, impl: str) -> Tuple[OptimizeResult, float]:
    lo, hi = F.DOMAINS[fname]
    t0 = time.perf_counter()
    res = minimize(F.FUNCTIONS[fname], [(lo, hi)] * d, method=method, budget=budget, seed=0, vectorized=True,
                   options={"impl": impl})
    return res, time.perf_counter() - t0


def run(quick: bool) -> str:
    d, budget = 10, (2_000 if quick else 6_000)
    lines = [f"Population optimizers, {d}-D, budget {budget:,} evaluations, seed 0 (same trajectory native/reference)",
             f"{'method':<14}{'function':<12}{'best':>11}{'evals':>8}{'native ms':>11}{'ref ms':>9}{'same':>6}"]
    for fname in ("sphere", "rastrigin", "rosenbrock"):
        for method in METHODS:
            a, ta = _run(method, fname, d, budget, "native")
            b, tb = _run(method, fname, d, budget, "reference")
            same = abs(a.fun - b.fun) <= 1e-9 * max(1.0, abs(b.fun))
            lines.append(f"{method:<14}{fname:<12}{a.fun:>11.3g}{a.nfev:>8}{ta * 1e3:>11.1f}{tb * 1e3:>9.1f}"
                         f"{'yes' if same else 'NO':>6}")
    lines.append("At this size the objective and Python dominate; the native kernels pay off at large populations "
                 "(bench/python/bench_population.py).")
    return "\n".join(lines) + "\n"
