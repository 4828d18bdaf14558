"""The suite every registered optimizer goes through (add per-method constructor arguments to SUITE_KWARGS)."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gfo_native as gn

DIM = 5
BOUNDS = [(-3.0, 3.0)] * DIM
# Extra constructor arguments a method needs in the suite (kept small so each test is fast).
SUITE_KWARGS: dict[str, dict] = {
    # Bayesian optimization: two GP generations after a one-batch design, with a small acquisition search.
    "bo": {"popsize": 3, "n_initial": 3, "max_generations": 6, "n_candidates": 64, "local_iters": 3},
}
# Methods too slow for 20 reference generations in the suite use fewer.
SUITE_GENERATIONS: dict[str, int] = {"bo": 5}
METHODS = sorted(gn.OPTIMIZERS)
# Non-default options that change what a generation computes: the trajectory, thread and checkpoint tests run
# them too (the defaults of every method, plus these).
OPTION_CASES: list[tuple[str, str, dict]] = [
    ("pso", "von_neumann", {"topology": "von_neumann", "popsize": 12}),
    ("pso", "tvac", {"w": 0.9, "w_end": 0.4, "c1": 2.5, "c1_end": 0.5, "c2": 0.5, "c2_end": 2.5,
                     "max_generations": 30}),
    ("pso", "plain", {"elitist_learning": False, "popsize": 12}),
    ("pso", "adaptive", {"adaptive": True, "elitist_learning": True, "elitist_sigma": (1.0, 0.1),
                         "max_generations": 30}),
]
CASES = [pytest.param(m, {}, id=m) for m in METHODS] + [pytest.param(m, kw, id=f"{m}-{name}")
                                                         for m, name, kw in OPTION_CASES]


def make(method, **kw):
    args = dict(seed=7, **SUITE_KWARGS.get(method, {}))
    args.update(kw)
    return gn.OPTIMIZERS[method](BOUNDS, **args)


def objective(X):
    # shifted sphere with a rugged term: distinct values, no ties
    return gn.reference.functions.rastrigin(X - 0.5) + 1e-3 * np.arange(X.shape[0])


def run(opt, generations):
    trace = []
    for _ in range(generations):
        X = opt.ask()
        trace.append(X)
        opt.tell(X, objective(X))
    return trace


def gens(method):
    return SUITE_GENERATIONS.get(method, 20)


@pytest.mark.parametrize("method,options", CASES)
def test_native_matches_reference(method, options):
    a = run(make(method, **options), gens(method))
    b = run(make(method, impl="reference", **options), gens(method))
    for g, (x, y) in enumerate(zip(a, b)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-300, err_msg=f"generation {g}")


@pytest.mark.parametrize("method,options", CASES)
def test_thread_count_invariance(method, options, threads):
    threads(1)
    a = run(make(method, **options), gens(method))
    threads(2)
    b = run(make(method, **options), gens(method))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("method,options", CASES)
@pytest.mark.parametrize("via", ["state_dict", "pickle"])
def test_checkpoint_resume_bit_identical(method, options, via):
    n = gens(method)
    full = make(method, **options)
    whole = run(full, n)
    first = make(method, **options)
    run(first, n // 2)
    if via == "pickle":
        resumed = pickle.loads(pickle.dumps(first))
    else:
        resumed = make(method, **options)
        resumed.load_state_dict(first.state_dict())
    rest = run(resumed, n - n // 2)
    assert all(np.array_equal(x, y) for x, y in zip(whole[n // 2:], rest))
    assert resumed.best_f == full.best_f and resumed.nfev == full.nfev and resumed.generation == full.generation


@pytest.mark.parametrize("method", METHODS)
def test_nonfinite_fitness_ranked_worst_and_counted(method):
    opt = make(method)
    for g in range(6):
        X = opt.ask()
        f = objective(X)
        f[::3] = [np.nan, np.inf, -np.inf][g % 3]
        opt.tell(X, f)
    assert opt.n_nonfinite == 6 * len(range(0, opt.popsize, 3))
    assert np.isfinite(opt.best_f) and opt.best_x is not None
    X = opt.ask()
    assert X.shape == (opt.popsize, DIM) and np.all(np.isfinite(X))


@pytest.mark.parametrize("method", METHODS)
def test_all_nonfinite_generation(method):
    opt = make(method)
    X = opt.ask()
    opt.tell(X, np.full(len(X), np.nan))
    assert opt.best_f == np.inf and opt.n_nonfinite == len(X)
    X = opt.ask()
    assert np.all(np.isfinite(X))
    opt.tell(X, objective(X))
    assert np.isfinite(opt.best_f)


@pytest.mark.parametrize("method", METHODS)
def test_asked_points_respect_bounds(method):
    opt = make(method)
    for X in run(opt, 5):
        assert X.dtype == np.float64 and X.shape == (opt.popsize, DIM)
        assert np.all(X >= -3.0) and np.all(X <= 3.0)


@pytest.mark.parametrize("method", METHODS)
def test_bad_arguments(method):
    cls = gn.OPTIMIZERS[method]
    kw = SUITE_KWARGS.get(method, {})
    with pytest.raises(ValueError, match="bounds"):
        cls([(1.0, -1.0)] * 3, **kw)
    with pytest.raises(ValueError, match="bounds"):
        cls([(0.0, 1.0, 2.0)], **kw)
    with pytest.raises(ValueError, match="popsize"):
        cls(BOUNDS, **{**kw, "popsize": 0})
    with pytest.raises(ValueError, match="impl"):
        cls(BOUNDS, impl="gpu", **kw)
    with pytest.raises(ValueError, match="seed"):
        cls(BOUNDS, seed=-1, **kw)
    opt = make(method)
    with pytest.raises(RuntimeError, match="ask"):
        opt.tell(np.zeros((opt.popsize, DIM)), np.zeros(opt.popsize))
    X = opt.ask()
    with pytest.raises(ValueError, match="X"):
        opt.tell(X[:, :-1], np.zeros(len(X)))
    with pytest.raises(ValueError, match="fitness"):
        opt.tell(X, np.zeros(len(X) + 1))
    with pytest.raises(TypeError, match="fitness"):
        opt.tell(X, ["a"] * len(X))
    other = gn.RandomSearch(BOUNDS) if method != "random_search" else gn.RandomSearch([(-1, 1)] * (DIM + 1))
    with pytest.raises(ValueError, match="state_dict"):
        opt.load_state_dict(other.state_dict())


@pytest.mark.parametrize("method", METHODS)
def test_minimize_runs_every_method(method):
    res = gn.minimize(gn.functions.sphere, BOUNDS, method=method, budget=400, seed=3, vectorized=True,
                      options=SUITE_KWARGS.get(method))
    assert res.nfev <= 400 and res.nit == len(res.history["fun"]) >= 1
    assert np.all(np.diff(res.history["fun"]) <= 0)
    assert res.fun == pytest.approx(float(gn.functions.sphere(res.x[None, :])[0]))


FITNESS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-1e300, 1e300))


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_tell_fuzz(method, data):
    opt = make(method)
    for _ in range(3):
        X = opt.ask()
        f = data.draw(st.lists(FITNESS, min_size=len(X), max_size=len(X)))
        opt.tell(X, f)
        assert np.all(np.isfinite(opt.ask()))
    finite = [v for v in f if np.isfinite(v)]
    assert opt.best_f == np.inf or np.isfinite(opt.best_f)
    assert opt.nfev == 3 * opt.popsize and (not finite or opt.best_f <= min(finite))
