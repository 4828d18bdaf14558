"""PSO, a genetic algorithm and simulated annealing (with random search as the baseline) on Rastrigin:
the same budget, several seeds, best values side by side.

    python examples/population_methods.py [--dim 10] [--budget 20000] [--seeds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gfo_native as gn

METHODS = {
    "pso": {},
    "ga": {"selection": "tournament", "crossover": "sbx", "mutation": "polynomial"},
    "sa": {"cooling": "geometric"},
    "random_search": {},
}


def main(dim: int = 10, budget: int = 20_000, seeds: int = 3) -> dict[str, list[float]]:
    bounds = [(-5.12, 5.12)] * dim
    best: dict[str, list[float]] = {}
    print(f"Rastrigin {dim}-D, budget {budget:,} evaluations, {seeds} seeds")
    print(f"{'method':<15}{'median best':>14}{'min':>10}{'max':>10}{'seconds':>10}")
    for method, options in METHODS.items():
        t0 = time.perf_counter()
        vals = [gn.minimize(gn.functions.rastrigin, bounds, method=method, budget=budget, seed=s,
                            vectorized=True, options=options).fun for s in range(seeds)]
        best[method] = vals
        print(f"{method:<15}{np.median(vals):>14.4g}{min(vals):>10.4g}{max(vals):>10.4g}"
              f"{time.perf_counter() - t0:>10.2f}")
    return best


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dim", type=int, default=10)
    p.add_argument("--budget", type=int, default=20_000)
    p.add_argument("--seeds", type=int, default=3)
    a = p.parse_args()
    main(a.dim, a.budget, a.seeds)
