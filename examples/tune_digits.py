"""Tune a scikit-learn classifier on the digits data (shipped with scikit-learn) at equal budgets:
Bayesian optimization against random search and a population method (CMA-ES when registered, else GA).

The search space mixes a log-scaled regularization strength, a log-scaled initial learning rate and two
categorical choices; the objective is the cross-validated error of an ``SGDClassifier``::

    python examples/tune_digits.py [--budget 30] [--seeds 3] [--folds 3]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import gfo_native as gn
from gfo_native.space import Categorical, LogUniform, Space

SPACE = Space({
    "alpha": LogUniform(1e-7, 1e-1),       # L2 regularization strength
    "eta0": LogUniform(1e-4, 1.0),         # initial learning rate
    "learning_rate": Categorical(["constant", "invscaling", "adaptive"]),
    "loss": Categorical(["hinge", "log_loss", "modified_huber"]),
})


def make_objective(folds: int, n_samples: int | None = None):
    """Cross-validated error rate of SGDClassifier(**params) on digits (deterministic: fixed model seed)."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    if n_samples is not None:
        X, y = X[:n_samples], y[:n_samples]

    def error(p: dict) -> float:
        model = make_pipeline(StandardScaler(), SGDClassifier(
            alpha=p["alpha"], eta0=p["eta0"], learning_rate=p["learning_rate"], loss=p["loss"],
            max_iter=30, tol=None, random_state=0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings at max_iter are expected here
            return 1.0 - float(np.mean(cross_val_score(model, X, y, cv=folds)))

    return error


def methods(budget: int) -> dict[str, dict]:
    population = "cmaes" if "cmaes" in gn.OPTIMIZERS else "ga"
    pop = min(6, budget)
    return {"bo": {}, "random_search": {"popsize": pop}, population: {"popsize": pop}}


def main(budget: int = 30, seeds: int = 3, folds: int = 3, n_samples: int | None = None) -> dict[str, list[float]]:
    error = make_objective(folds, n_samples)
    results: dict[str, list[float]] = {}
    print(f"SGDClassifier on digits: {folds}-fold CV error, budget {budget} evaluations, {seeds} seeds")
    print(f"{'method':<15}{'median error':>13}{'best':>8}{'seconds':>9}  best parameters (first seed)")
    for method, options in methods(budget).items():
        t0 = time.perf_counter()
        runs = [gn.minimize(error, SPACE, method=method, budget=budget, seed=s, options=options) for s in range(seeds)]
        results[method] = [r.fun for r in runs]
        p = runs[0].x
        shown = f"alpha={p['alpha']:.2g} eta0={p['eta0']:.2g} {p['learning_rate']} {p['loss']}"
        print(f"{method:<15}{np.median(results[method]):>13.4f}{min(results[method]):>8.4f}"
              f"{time.perf_counter() - t0:>9.1f}  {shown}")
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=30)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--folds", type=int, default=3)
    a = ap.parse_args()
    main(a.budget, a.seeds, a.folds)
