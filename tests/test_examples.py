"""Every example runs, in a tiny configuration, and does what it claims."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_linear_regression(capsys):
    losses = load("linear_regression").main(steps=60, n=300, d=8)
    assert set(losses) >= {"SGD", "SGD+momentum", "AdaGrad", "RMSprop", "Adam"}
    for name, curve in losses.items():
        assert np.all(np.isfinite(curve)) and curve[-1] < 0.5 * curve[0], name
    assert "Adam" in capsys.readouterr().out


def test_population_methods(capsys):
    best = load("population_methods").main(dim=4, budget=2000, seeds=2)
    assert set(best) == {"pso", "ga", "sa", "random_search"}
    # every method beats a random point's typical value (~ 4 * 20) and PSO/GA beat random search
    assert all(np.median(v) < 40 for v in best.values())
    assert np.median(best["pso"]) <= np.median(best["random_search"])
    assert "median best" in capsys.readouterr().out
