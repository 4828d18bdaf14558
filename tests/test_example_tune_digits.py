"""examples/tune_digits.py runs in a tiny configuration and tunes something sensible."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "tune_digits.py"


def test_tune_digits_tiny(capsys):
    spec = importlib.util.spec_from_file_location("tune_digits", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.main(budget=8, seeds=1, folds=2, n_samples=400)
    assert "bo" in res and "random_search" in res and len(res) == 3
    for method, errs in res.items():
        # ten classes: chance is an error of 0.9; any tuned linear model does far better
        assert all(np.isfinite(e) and 0.0 <= e < 0.5 for e in errs), method
    out = capsys.readouterr().out
    assert "median error" in out and "alpha=" in out
