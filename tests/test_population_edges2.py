"""Population optimizers, second bug hunt: regressions for defects found acting as a demanding user (penalty values
near float64's maximum, batches changed in place, repaired bit strings, ...). Each test fails on the code before
its fix."""

import warnings

import numpy as np
import pytest

import gfo_native as gn
from gfo_native.optimizers import selection

BOX = [(-2.0, 3.0)] * 3


@pytest.mark.parametrize("scheme", ["roulette", "sus"])
@pytest.mark.parametrize("penalty", [1e308, np.finfo(np.float64).max])
def test_fitness_proportional_selection_with_penalties_near_float_max(scheme, penalty):
    # a common objective returns a huge finite penalty (1e308, sys.float_info.max) for infeasible points: the
    # windowed weights summed past float64's range, the cumulative wheel became inf / NaN and every parent drawn was
    # one member (with RuntimeWarnings)
    f = gn.rng.uniform(3, 1, 40)
    f[::2] = penalty
    u = gn.rng.uniform(3, 2, 41)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        idx = getattr(selection, scheme)(f, 40, u)
    feasible = f < 1.0
    assert feasible[idx].mean() > 0.9  # feasible members get ~100x the weight of penalized ones
    assert np.unique(idx).size >= 10
    # the proportions are those of the same values scaled down (a power of two: exactly the same wheel)
    np.testing.assert_array_equal(idx, getattr(selection, scheme)(f * 2.0 ** -20, 40, u))


@pytest.mark.parametrize("scheme", ["roulette", "sus"])
def test_ga_fitness_proportional_selection_improves_under_float_max_penalties(scheme):
    def penalized(X):
        y = ((X - 0.5) ** 2).sum(axis=1)
        return np.where(X[:, 0] > 2.0, np.finfo(np.float64).max, y)

    opt = gn.GA(BOX, selection=scheme, popsize=40, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(30):
            X = opt.ask()
            opt.tell(X, penalized(X))
    assert opt.best_f < 0.05


@pytest.mark.parametrize("impl", ["native", "reference"])
@pytest.mark.parametrize("method,kw", [("ga", {}), ("ga", {"crossover": "uniform", "mutation": "none"}), ("de", {}),
                                       ("de", {"strategy": "rand1bin"})])
def test_asked_batch_changed_in_place_stays_in_the_box(method, kw, impl):
    # ask() hands out the pending batch itself (no copy); a caller rounding an integer coordinate in place told
    # points outside the box (2.7 -> 3) as "the asked batch", which GA and DE kept unclipped: every later ask had
    # points outside the box (and NaN from the GA's bound-aware operators)
    opt = gn.OPTIMIZERS[method]([(0.0, 2.7)] * 3, seed=1, popsize=10, impl=impl, **kw)
    for g in range(15):
        X = opt.ask()
        assert np.all(np.isfinite(X)) and np.all((X >= 0.0) & (X <= 2.7)), g
        np.round(X, 0, out=X)
        opt.tell(X, ((X - 3.0) ** 2).sum(axis=1))
    # the best is a told (rounded) point itself, with its value, outside the box where it was told there
    assert np.all(opt.best_x == np.round(opt.best_x)) and opt.best_f == ((opt.best_x - 3.0) ** 2).sum()


@pytest.mark.parametrize("impl", ["native", "reference"])
@pytest.mark.parametrize("in_place", [False, True])
def test_binary_ga_keeps_repaired_bit_strings(in_place, impl):
    # repairing infeasible bit strings before evaluation (Lamarckian repair, e.g. a knapsack's overweight picks
    # dropped) and telling the repaired strings: the binary GA kept the unrepaired genomes with the repaired
    # strings' values, so the repair never entered the population
    opt = gn.GA([(0.0, 1.0)] * 8, genome="binary", bits=1, popsize=10, seed=0, impl=impl)
    for _ in range(4):
        X = opt.ask()
        Y = X if in_place else X.copy()
        Y[:, :4] = 0.0  # the repair: the first four bits must be 0
        opt.tell(Y, -Y.sum(axis=1))
        assert not opt.state.genomes[:, :4].any()


@pytest.mark.parametrize("bits", [1, 3, 17, 40])
def test_binary_ga_encode_inverts_decode(bits):
    box = [(-1e16, 1.5), (0.0, 1.0), (-3.0, 7.25)]
    opt = gn.GA(box, genome="binary", bits=bits, popsize=12, seed=bits)
    for _ in range(3):
        X = opt.ask()
        G = opt.state.genomes if opt.state.offspring is None else opt.state.offspring
        np.testing.assert_array_equal(opt.encode(X), G)
        opt.tell(X, X.sum(axis=1))
    # a point between grid points takes the nearest code; one outside the box the code of its face
    lo = np.array([b[0] for b in box])
    hi = np.array([b[1] for b in box])
    np.testing.assert_array_equal(opt.decode(opt.encode(np.stack([lo - 1.0, hi + 1.0]))), np.stack([lo, hi]))


def _sa_trace(scale, popsize, impl, first=None):
    opt = gn.SimulatedAnnealing(BOX, popsize=popsize, seed=4, impl=impl)
    trace = []
    for g in range(40):
        X = opt.ask()
        trace.append(X.copy())
        y = scale * (((X - 0.5) ** 2).sum(axis=1) + np.cos(5.0 * X).sum(axis=1))
        if g == 0 and first is not None:
            y[:] = first
        opt.tell(X, y)
    return np.array(trace), opt


@pytest.mark.parametrize("impl", ["native", "reference"])
@pytest.mark.parametrize("popsize,first", [(1, None), (6, 7.0), (6, np.nan)])
def test_sa_initial_temperature_without_a_first_generation_spread(popsize, first, impl):
    # T0 is the standard deviation of the first generation's values; a single chain (popsize=1, the classic
    # annealer) or a first generation without a spread (equal values on a plateau, all NaN) fell back to T0 = 1
    # whatever the objective's scale: the same problem in other units annealed differently (greedy at large scales)
    base, opt = _sa_trace(1.0, popsize, impl, first)
    assert np.isfinite(opt.state.T0) and opt.state.T0 != 1.0
    for scale in (2.0 ** -10, 2.0 ** 10):
        other, _ = _sa_trace(scale, popsize, impl, None if first is None else scale * first)
        np.testing.assert_array_equal(other, base)  # powers of two: the same acceptance tests, exactly rescaled


def _masked_failures(X):
    y = ((X - 0.5) ** 2).sum(axis=1)
    failed = X[:, 0] > 2.0
    return np.ma.array(np.where(failed, 0.0, y), mask=failed)  # failed evaluations masked, 0.0 under the mask


def test_masked_fitness_entries_are_missing_values():
    # a masked entry is a missing value; numpy's conversion keeps the data under the mask (0.0 here), so a failed
    # evaluation was ranked best and reported as the optimum
    opt = gn.DifferentialEvolution(BOX, seed=0, popsize=10)
    X = opt.ask()
    y = _masked_failures(X)
    assert y.mask.any()
    opt.tell(X, y)
    assert opt.n_nonfinite == int(y.mask.sum()) and opt.best_f == y.min() and opt.best_x[0] <= 2.0
    with pytest.raises(ValueError, match="X: contains NaN"):  # a masked point is no point
        opt.tell(np.ma.array(opt.ask(), mask=True), np.zeros(10))


@pytest.mark.parametrize("vectorized", [False, True])
def test_minimize_objective_returning_masked_failures(vectorized):
    if vectorized:
        fun = _masked_failures
    else:
        def fun(x):
            return np.ma.masked if x[0] > 2.0 else float(((x - 0.5) ** 2).sum())
    res = gn.minimize(fun, BOX, method="pso", budget=400, vectorized=vectorized)
    assert res.n_nonfinite > 0 and res.x[0] <= 2.0 and res.fun == ((res.x - 0.5) ** 2).sum()


@pytest.mark.parametrize("method", ["pso", "de", "ga", "sa", "hill_climbing", "random_search"])
def test_scalar_objective_that_changes_its_argument(method):
    # fun(x) received a view of the asked batch: an objective shifting x in place (x -= 0.5, as code ported from
    # scipy, which passes copies, may do) changed the points told with its values, so res.x was the shifted point
    # and res.fun not its value
    def fun(x):
        x -= 0.5
        return float((x ** 2).sum())

    res = gn.minimize(fun, BOX, method=method, budget=200, seed=3)
    assert res.fun == ((res.x - 0.5) ** 2).sum()


@pytest.mark.parametrize("F", [0.0, (0.0, 0.0), [0, 0]])
def test_de_refuses_a_zero_differential_weight(F):
    # F = 0 was refused but the pair (0, 0) accepted: every trial then copied its base vector (no search at all)
    with pytest.raises(ValueError, match="F"):
        gn.DifferentialEvolution(BOX, F=F)
    gn.DifferentialEvolution(BOX, F=(0.0, 0.5))  # a dither from 0 still searches


@pytest.mark.parametrize("k,exc", [(-1, ValueError), (-2, ValueError), (2.5, TypeError), (True, TypeError)])
def test_sa_temperature_names_a_bad_generation(k, exc):
    # temperature(k) is public: k = -1 raised ZeroDivisionError (log(1) = 0), -2 "math domain error", 2.5 and True
    # gave a temperature of no generation
    opt = gn.SimulatedAnnealing(BOX, cooling="logarithmic", T0=1.0)
    with pytest.raises(exc, match="k: "):
        opt.temperature(k)
    assert opt.temperature(0) == 1.0


@pytest.mark.parametrize("method", ["pso", "de", "ga", "sa", "hill_climbing", "random_search"])
def test_bounds_as_a_generator_is_named(method):
    # a generator of (low, high) pairs raised "cannot pickle 'generator' object" (the constructor copies its
    # arguments for pickling), naming neither bounds nor what to pass
    with pytest.raises(TypeError, match="bounds: .*list"):
        gn.OPTIMIZERS[method](((0.0, 1.0) for _ in range(3)))
    with pytest.raises(TypeError, match="bounds: "):
        gn.minimize(lambda x: float(x.sum()), ((0.0, 1.0) for _ in range(3)), method=method, budget=100)


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_hill_climbing_step_grows_past_four_sigma0_when_unbounded(impl):
    # the 1/5th rule's step was capped at the span, which in an unbounded coordinate is 4 sigma0: an optimum 1e5
    # away could not be reached in 1,000 generations (best ~5e10); the cap is the box width, so unbounded it grows
    opt = gn.HillClimbing(dim=5, seed=0, impl=impl)
    for _ in range(1000):
        X = opt.ask()
        opt.tell(X, ((X - 1e5) ** 2).sum(axis=1))
    assert opt.best_f < 1e-6
    # on a function without a minimum the step grows to its ceiling and every asked point stays finite
    opt = gn.HillClimbing(dim=2, seed=0, impl=impl)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2500):
            X = opt.ask()
            assert np.isfinite(X).all()
            opt.tell(X, X.sum(axis=1))
    assert np.all(opt.state.sigma == 1e300)


def test_hill_climbing_step_in_a_box_is_capped_at_its_width():
    opt = gn.HillClimbing([(0.0, 1.0), (-np.inf, np.inf)], seed=0)
    for _ in range(300):
        X = opt.ask()
        opt.tell(X, -X[:, 1])  # always better further up the unbounded coordinate: every neighbour succeeds
    assert opt.state.sigma[0] <= 1.0 and opt.state.sigma[1] > 1e10


def test_pair_hyperparameters_as_rows_of_a_numpy_grid():
    # iterating a numpy grid of settings gives 1-D arrays: F=array([0.5, 1.0]) raised "F: expected a real number,
    # got ndarray" and elitist_sigma=array([1.0, 0.1]) the same, where the tuple or list was taken
    for F in np.array([[0.5, 1.0], [0.3, 0.8]]):
        assert gn.DifferentialEvolution(BOX, F=F).F == tuple(F)
    assert gn.PSO(BOX, elitist_sigma=np.array([1.0, 0.1])).elitist_sigma_end == 0.1
    with pytest.raises(ValueError, match="F: "):
        gn.DifferentialEvolution(BOX, F=np.array([0.5, 0.7, 0.9]))
    with pytest.raises(TypeError, match="F: "):
        gn.DifferentialEvolution(BOX, F=np.ones((2, 2)))
