"""Edge cases of the ask/tell optimizers and `minimize` found by the second bug hunt (one test per defect)."""

import copy
import pickle
import sys

import numpy as np
import pytest

import gfo_native as gn

METHODS = sorted(gn.OPTIMIZERS)
BOUNDS = [(-2.0, 2.0)] * 3
SMALL = {"bo": {"n_candidates": 32, "local_iters": 2}}


def make(method, **kw):
    return gn.OPTIMIZERS[method](BOUNDS, **{**SMALL.get(method, {}), **kw})


def sphere(X):
    return np.sum((np.asarray(X) - 0.25) ** 2, axis=-1)


def advance(opt, generations):
    for _ in range(generations):
        X = opt.ask()
        opt.tell(X, sphere(X))


def same_state(a, b):
    """Two state_dicts hold the same values (arrays compared exactly)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_state(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_state(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("method", METHODS)
def test_a_refused_checkpoint_leaves_the_optimizer_as_it_was(method):
    opt = make(method, seed=1)
    advance(opt, 2)
    before = opt.state_dict()
    other = make(method, seed=2)
    advance(other, 3)
    bogus = other.state_dict()
    bogus["state"] = dict(bogus["state"], not_a_field=1)
    with pytest.raises(ValueError, match="state_dict"):
        opt.load_state_dict(bogus)
    lacking = other.state_dict()
    del lacking["nfev"]
    with pytest.raises(ValueError, match="nfev"):
        opt.load_state_dict(lacking)
    other.ask()
    misshapen = other.state_dict()
    misshapen["pending"] = misshapen["pending"][:, :-1]
    with pytest.raises(ValueError, match="pending"):
        opt.load_state_dict(misshapen)
    assert same_state(opt.state_dict(), before)


def test_a_refused_cmaes_checkpoint_keeps_the_popsize_of_the_run():
    opt = gn.CMAES(BOUNDS, seed=1, restarts="ipop")
    advance(opt, 2)
    lam = opt.popsize
    other = copy.deepcopy(opt.state_dict())
    other["popsize"] = 2 * lam
    other["state"] = dict(other["state"], not_a_field=1)
    with pytest.raises(ValueError, match="state_dict"):
        opt.load_state_dict(other)
    assert opt.popsize == lam and opt.ask().shape == (lam, 3)


@pytest.mark.parametrize("method", ["cmaes", "sep_cmaes"])
def test_cmaes_asks_the_loaded_runs_samples_at_the_same_generation(method):
    """The samples are cached per generation: a checkpoint of another run at the same generation replaces them."""
    a, b = make(method, seed=0), make(method, seed=5)
    advance(a, 2)
    advance(b, 2)
    a.ask()  # caches a's samples of generation 2
    a.load_state_dict(b.state_dict())
    Xa, Xb = a.ask(), b.ask()
    assert np.array_equal(Xa, Xb)
    a.tell(Xa, sphere(Xa))
    b.tell(Xb, sphere(Xb))
    assert np.array_equal(a.ask(), b.ask())


@pytest.mark.parametrize("method", ["openes", "snes"])
def test_noise_table_follows_the_seed_of_a_loaded_checkpoint(method):
    a, b = make(method, seed=0, noise_table=500), make(method, seed=5, noise_table=500)
    advance(a, 1)  # draws a's table
    advance(b, 1)
    a.load_state_dict(b.state_dict())
    assert np.array_equal(a.ask(), b.ask())


BAD_VALUES = {
    "None": None,
    "complex": complex(1.0, 2.0),
    "numpy complex": np.complex128(1.0 + 2.0j),
    "text": "1.5",
}


@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
def test_objective_values_that_are_not_real_numbers_are_refused(kind):
    v = BAD_VALUES[kind]
    with pytest.raises(TypeError, match="fun"):
        gn.minimize(lambda x: v, BOUNDS, method="random_search", budget=64)
    with pytest.raises(TypeError, match="fun"):
        gn.minimize(lambda X: [v] * len(X), BOUNDS, method="random_search", budget=64, vectorized=True)
    opt = make("random_search")
    X = opt.ask()
    with pytest.raises(TypeError, match="fitness"):
        opt.tell(X, [v] * len(X))
    assert opt.nfev == 0 and opt.best_x is None


def test_objective_values_of_other_real_types_are_accepted():
    for v in (np.float32(0.5), np.array(0.5), 1, True, [0.5], np.array([[0.5]]), np.int8(3)):
        res = gn.minimize(lambda x, v=v: v, BOUNDS, method="random_search", budget=32)
        assert res.fun == float(np.asarray(v).reshape(())) and res.n_nonfinite == 0
    res = gn.minimize(lambda x: np.nan, BOUNDS, method="random_search", budget=32)
    assert res.n_nonfinite == 32 and res.x is None
    assert not res.success and res.message == "budget exhausted; no finite objective value in 32 evaluations"


def test_fitness_of_another_shape_with_the_same_size_is_refused():
    opt = make("random_search", popsize=8)
    X = opt.ask()
    with pytest.raises(ValueError, match="fitness"):
        opt.tell(X, np.zeros((2, 4)))
    opt.tell(X, sphere(X)[:, None])  # (n, 1), as a vectorized objective with keepdims returns
    X = opt.ask()
    opt.tell(X, sphere(X)[None, :])
    assert opt.nfev == 16


def test_target_nan_is_refused_and_target_inf_evaluates_a_generation():
    with pytest.raises(ValueError, match="target"):
        gn.minimize(sphere, BOUNDS, method="pso", budget=200, vectorized=True, target=float("nan"))
    res = gn.minimize(sphere, BOUNDS, method="pso", budget=200, vectorized=True, target=float("inf"))
    assert res.nit == 1 and res.x is not None and "target" in res.message


@pytest.mark.parametrize("name", ["x0", "sigma0"])
def test_non_numeric_x0_and_sigma0_name_the_argument(name):
    with pytest.raises(TypeError, match=name):
        gn.PSO(BOUNDS, **{name: "ab"})
    with pytest.raises(TypeError, match=name):
        gn.PSO(BOUNDS, **{name: [0.1, None, 0.1]})


def test_options_that_are_not_a_dict_or_repeat_minimize_arguments_are_named():
    for options in ({"seed": 3}, {"target": 0.1}, {"bounds": BOUNDS}, ["popsize", 4]):
        with pytest.raises(TypeError, match="options"):
            gn.minimize(sphere, BOUNDS, method="pso", budget=200, vectorized=True, options=options)


@pytest.mark.parametrize("width", [1e-200, 1e200])
def test_openes_refuses_a_sigma0_whose_square_leaves_float64(width):
    """sigma0^2 underflowed to 0 (the mean turned NaN after one generation) or overflowed (the mean never moved)."""
    with pytest.raises(ValueError, match="sigma0"):
        gn.OpenES([(-width, width)] * 2)
    with pytest.raises(ValueError, match="sigma0"):
        gn.OpenES(dim=2, sigma0=width)
    opt = gn.OpenES([(-width, width)] * 2, sigma0=1e-100 if width < 1 else 1e100)
    advance(opt, 3)
    assert np.all(np.isfinite(opt.ask())) and np.any(opt.state.mean != 0.0)


def test_sa_resumed_under_a_new_plan_cools_over_it_as_pso_follows_it():
    """minimize tells the budget's generations (plan) before loading a checkpoint on resume: SA kept the old budget's
    cooling factor (so a run extended from 400 to 1200 evaluations froze after the first 400), PSO took the new one."""
    first = gn.SimulatedAnnealing(BOUNDS, seed=1)
    first.plan(10)
    advance(first, 3)
    resumed = gn.SimulatedAnnealing(BOUNDS, seed=1)
    resumed.plan(30)
    resumed.load_state_dict(first.state_dict())
    assert resumed.state.alpha == gn.SimulatedAnnealing(BOUNDS, max_generations=30).state.alpha
    assert resumed.generation == 3 and resumed.state.alpha != first.state.alpha
    assert pickle.loads(pickle.dumps(first)).state.alpha == first.state.alpha  # no plan told: the checkpoint's


@pytest.mark.parametrize("method", ["cmaes", "sep_cmaes"])
def test_cmaes_box_penalty_stays_ordered_when_the_values_spread_beyond_float64(method):
    """The penalty's IQR overflowed to inf, inf * 0 made the unclipped samples NaN, and the native ranking
    (std::stable_sort) and the reference's (numpy, NaN last) then followed different trajectories."""
    def f(X):
        return np.where(X[:, 0] > 0, 1.7e308, -1.7e308)

    with np.errstate(all="ignore"):
        runs = [gn.minimize(f, [(-1, 1)] * 3, method=method, budget=400, seed=6, vectorized=True,
                            options={"impl": impl}) for impl in ("native", "reference")]
    assert runs[0].nfev == runs[1].nfev and runs[0].message == runs[1].message
    opt = gn.OPTIMIZERS[method]([(-1, 1)] * 3, seed=0, sigma0=1.0)  # about half the samples are clipped
    X = opt.ask()
    U = opt._sample()[0]
    fx = np.where(np.arange(len(X)) % 2 == 0, 1.7e308, -1.7e308)
    pen = np.einsum("ij,ij->i", U - X, U - X)
    assert pen.any() and not pen.all()
    with np.errstate(all="ignore"):
        out = opt._penalize(U, X, fx)
    assert not np.isnan(out).any() and np.array_equal(out[pen == 0], fx[pen == 0])


@pytest.mark.parametrize("low,high,log", [(0, 2**53, False), (-(2**52) + 1, 2**52 - 1, False),
                                          (2**52, 2**52 + 100, False), (1, 10**14, True)])
def test_int_ranges_whose_bins_float64_cannot_resolve_are_refused(low, high, log):
    """decode(encode(v)) returned a neighbour of v for some values of these ranges."""
    with pytest.raises(ValueError, match="high"):
        gn.space.Int(low, high, log=log)


@pytest.mark.parametrize("low,high,log", [(0, 2**52 - 1, False), (-(2**51), 2**51 - 1, False),
                                          (-(2**52) + 1, -1, False), (1, 2**45 - 1, True)])
def test_int_ranges_at_the_limit_round_trip(low, high, log):
    d = gn.space.Int(low, high, log=log)
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.integers(low, high, 3000, endpoint=True),
                             rng.integers(max(low, high - 10**6), high, 3000, endpoint=True), [low, low + 1, high]])
    assert all(d.decode(d.encode(int(v))[None, :])[0] == int(v) for v in values)


@pytest.mark.parametrize("method", METHODS)
def test_tell_refuses_points_with_nan_or_inf(method):
    """A told batch with NaN became DE's/SA's population (NaN asked forever after), PSO's positions, BO's design
    (OverflowError). Refused with the optimizer unchanged; the asked array itself is told without a check."""
    opt = make(method, seed=0)
    X = opt.ask().copy()
    X[0, 0] = np.nan
    X[-1, -1] = np.inf
    with pytest.raises(ValueError, match="X"):
        opt.tell(X, np.zeros(len(X)))
    assert opt.nfev == 0 and opt.generation == 0
    X = opt.ask()
    assert np.all(np.isfinite(X))
    opt.tell(X, sphere(X))
    assert opt.nfev == opt.popsize


def test_tell_accepts_finite_points_whose_sum_overflows():
    opt = gn.PSO(dim=3, popsize=4)
    X = np.full_like(opt.ask(), 1e308)
    opt.tell(X, np.arange(4.0))
    assert opt.nfev == 4 and np.array_equal(opt.best_x, X[0])


def test_callback_history_is_not_copied_each_generation():
    """make_result copied the whole history for every callback: O(generations^2) over a run (40,000 generations of
    hill climbing took 50 s with a callback against 1.5 s without). The intermediate results now share the run's
    buffers (read-only views, never changed by later generations); the final result owns its arrays."""
    seen = []
    res = gn.minimize(sphere, BOUNDS, method="hill_climbing", budget=300, vectorized=True, options={"popsize": 1},
                      callback=lambda r: seen.append(r.history))
    assert len(seen) == res.nit == 300
    assert np.shares_memory(seen[100]["fun"], seen[101]["fun"])
    assert not seen[5]["fun"].flags.writeable
    for k, h in enumerate(seen):
        assert h["nfev"].size == h["fun"].size == k + 1
    assert np.array_equal(seen[-1]["fun"], res.history["fun"]) and np.array_equal(seen[-1]["nfev"], res.history["nfev"])
    assert np.array_equal(seen[10]["fun"], res.history["fun"][:11])
    assert res.history["fun"].flags.writeable and not np.shares_memory(res.history["fun"], seen[-1]["fun"])


@pytest.mark.parametrize("method", ["openes", "snes"])
def test_unboxed_es_told_modified_points_draws_the_noise_again(method):
    """Without a box the update read the noise back from the told X: a rounded copy became the noise. Only the asked
    array itself is read; any other batch updates as tell_seeds (and the boxed case) do."""
    a, b, c = (gn.OPTIMIZERS[method](dim=4, seed=0) for _ in range(3))
    X = a.ask()
    b.ask()
    fit = sphere(X)
    a.tell(np.round(X, 1), fit)
    b.tell_seeds(fit)
    Xc = c.ask()
    c.tell(Xc, fit)  # the asked array: read back, the same bits
    assert np.array_equal(a.state.mean, b.state.mean) and np.array_equal(c.state.mean, b.state.mean)


def test_tell_refuses_points_that_are_not_real_numbers():
    opt = make("pso", popsize=4)
    X = opt.ask()
    for bad in (X.astype(np.complex128), X.astype(str), [[None] * 3] * 4):
        with pytest.raises(TypeError, match="X"):
            opt.tell(bad, sphere(X))
    opt.tell(X.astype(np.float32), sphere(X))  # other real dtypes and lists are converted
    X = opt.ask()
    opt.tell(X.tolist(), sphere(X))
    assert opt.nfev == 8


@pytest.mark.parametrize("dim", [3, 100])
def test_antithetic_snes_rounds_an_odd_default_popsize_up(dim):
    """SNES(dim=3, antithetic=True) raised 'popsize: ... even popsize, got 7' for a popsize the caller never gave."""
    opt = gn.SNES(dim=dim, antithetic=True)
    assert opt.popsize == gn.SNES.default_popsize(dim) + 1 and opt.popsize % 2 == 0
    advance(opt, 2)
    assert opt.nfev == 2 * opt.popsize
    with pytest.raises(ValueError, match="popsize"):
        gn.SNES(dim=dim, antithetic=True, popsize=7)


@pytest.mark.parametrize("adaptive", [False, True])
def test_pso_state_estimation_is_scale_free_beyond_float64_squares(adaptive):
    """The evolutionary factor compares squared distances: for box widths above ~1e154 they overflowed to inf, the
    factor was 0 and the swarm counted as converging every generation (elitist learning fired from the start)."""
    def run(width, impl="native"):
        opt = gn.PSO([(-width, width)] * 4, seed=0, adaptive=adaptive, impl=impl)
        states = []
        for _ in range(25):
            X = opt.ask() / width
            opt.tell(X * width, (X ** 2 - np.cos(9 * X)).sum(1) + 0.1 * np.abs(X - 0.7).sum(1))
            states.append(opt.state.es)
        return states, opt.best_f

    small, huge = run(1.0), run(1e200)
    assert huge[0] == small[0] and len(set(small[0])) > 1
    assert huge[1] == pytest.approx(small[1], rel=1e-9)
    assert run(1e200, "reference")[0] == huge[0]


def test_hill_climbing_steps_never_exceed_the_box_width():
    """The docstring's promise held only from the first update on: a sigma0 wider than the box was used as it was in
    generation 1 and after each restart (the samples then piled up on the bounds)."""
    opt = gn.HillClimbing([(0.0, 1.0), (0.0, 10.0)], sigma0=50.0, restart_patience=1, seed=0)
    assert np.array_equal(opt.state.sigma, [1.0, 10.0])
    for _ in range(6):
        X = opt.ask()
        opt.tell(X, np.ones(len(X)))  # no improvement: a restart after every generation
        assert np.all(opt.state.sigma <= [1.0, 10.0])


def test_bounds_as_rows_of_lows_and_highs_get_a_transpose_hint():
    with pytest.raises(ValueError, match=r"bounds.*transpose"):
        gn.PSO(np.array([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]]))
    assert gn.PSO(np.array([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]]).T).dim == 3


def test_the_evaluations_workers_are_released_when_the_progress_bar_fails(monkeypatch):
    closed = []

    class Pool(gn.distributed.SerialEvaluator):
        def bind(self, fun, **kw):
            ev = super().bind(fun, **kw)
            close = ev.close
            ev.close = lambda: (closed.append(True), close())
            return ev

    def no_tqdm(total, method):
        raise ImportError("No module named 'tqdm'")

    monkeypatch.setattr(sys.modules["gfo_native.minimize"], "_progress_bar", no_tqdm)
    with pytest.raises(ImportError, match="tqdm"):
        gn.minimize(sphere, BOUNDS, method="pso", budget=200, vectorized=True, progress=True, executor=Pool())
    assert closed == [True]
