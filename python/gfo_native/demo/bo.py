"""Demo: Bayesian optimization against random search on Branin, and a mixed search space."""

from __future__ import annotations

import time
from typing import Any, Dict

import numpy as np

from ..minimize import minimize
from ..problems import PROBLEMS
from ..space import Categorical, Int, LogUniform, Space


def run(quick: bool) -> str:
    f, bounds, fmin = PROBLEMS["branin"]
    budget, seeds = (20, 2) if quick else (30, 3)
    lines = [f"Branin, {budget} evaluations, median regret over {seeds} seeds (best found - minimum)",
             f"{'method':<15}{'median regret':>14}{'seconds':>9}"]
    for method, options in (("bo", {}), ("random_search", {"popsize": 10})):
        t0 = time.perf_counter()
        regret = [minimize(f, bounds, method=method, budget=budget, seed=s, vectorized=True, options=options).fun - fmin
                  for s in range(seeds)]
        lines.append(f"{method:<15}{np.median(regret):>14.3g}{time.perf_counter() - t0:>9.2f}")
    space = Space({"lr": LogUniform(1e-4, 1.0), "layers": Int(1, 6), "act": Categorical(["relu", "tanh", "gelu"])})

    def loss(p: Dict[str, Any]) -> float:  # a stand-in for a validation loss
        return float((np.log10(p["lr"]) + 2.0) ** 2 + 0.2 * abs(p["layers"] - 3) + (p["act"] != "gelu"))

    res = minimize(loss, space, method="bo", budget=15 if quick else 25, seed=0)
    lines.append(f"mixed space {list(space.names)}: best {res.x} loss {res.fun:.3g} in {res.nfev} evaluations")
    return "\n".join(lines) + "\n"
