"""Population optimizers (hill climbing, SA, PSO, GA, DE): every operator option native vs reference,
kernels at ragged sizes and 1 vs 2 threads, convergence, and argument errors. The shared suite
(test_optimizer_suite.py) covers the defaults of each method."""

import pickle

import numpy as np
import pytest

import gfo_native as gn
from gfo_native import _core
from gfo_native import reference as ref
from gfo_native.optimizers import selection
from gfo_native.optimizers.de import distinct_partners
from gfo_native.optimizers import _apso as apso
from gfo_native.optimizers.pso import neighbours

BOUNDS7 = [(-2.0, 3.0)] * 7


def objective(X):
    return gn.reference.functions.rastrigin(X - 0.3) + 1e-3 * np.arange(X.shape[0])


def trajectory(cls, impl, generations=6, bounds=BOUNDS7, **kw):
    opt = cls(bounds, seed=11, impl=impl, **kw)
    out = []
    for _ in range(generations):
        X = opt.ask()
        out.append(X)
        opt.tell(X, objective(X))
    return out, opt


def assert_same_trajectory(cls, **kw):
    a, oa = trajectory(cls, "native", **kw)
    b, ob = trajectory(cls, "reference", **kw)
    for g, (x, y) in enumerate(zip(a, b)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-300, err_msg=f"generation {g}")
    assert oa.best_f == pytest.approx(ob.best_f, rel=1e-12)
    return a


# ---------------------------------------------------------------- every operator option, native == reference
@pytest.mark.parametrize("topology,popsize", [("global", 13), ("ring", 13), ("von_neumann", 12)])
@pytest.mark.parametrize("bounds_strategy", ["clip", "reflect"])
def test_pso_options(topology, popsize, bounds_strategy):
    xs = assert_same_trajectory(gn.PSO, popsize=popsize, topology=topology, bounds_strategy=bounds_strategy)
    assert all(np.all((x >= -2.0) & (x <= 3.0)) for x in xs)


@pytest.mark.parametrize("n,rows", [(20, 4), (50, 5), (40, 5), (12, 3), (7, 1)])
def test_pso_von_neumann_neighbourhoods(n, rows):
    nb = neighbours(n, "von_neumann")
    assert nb.shape == (n, 5) and np.array_equal(nb[:, 0], np.arange(n))
    links = np.zeros((n, n), bool)
    links[np.repeat(np.arange(n), 5), nb.ravel()] = True
    assert np.array_equal(links, links.T)  # j neighbours i iff i neighbours j
    cols = n // rows
    if rows > 2 and cols > 2:  # four distinct neighbours on a torus of side >= 3
        assert all(len(set(r)) == 5 for r in nb.tolist())
    if rows == 1:  # a prime swarm degenerates to the ring
        assert all(set(a) == set(b) for a, b in zip(nb.tolist(), neighbours(n, "ring").tolist()))
    # each particle follows the best personal best among its neighbours (distinct values: no ties)
    f = np.random.default_rng(n).permutation(n).astype(float)
    opt = gn.PSO([(-1.0, 1.0)] * 2, popsize=n, topology="von_neumann")
    assert opt._neighbourhood_best(f).tolist() == [min(set(r), key=lambda j: f[j]) for r in nb.tolist()]


def test_pso_decreasing_inertia_and_no_clamp():
    assert_same_trajectory(gn.PSO, popsize=9, w=0.9, w_end=0.4, w_generations=5, velocity_clamp=None)
    opt = gn.PSO(BOUNDS7, w=0.9, w_end=0.4, max_generations=10)
    assert opt.inertia() == 0.9
    opt.generation = 10
    assert opt.inertia() == pytest.approx(0.4)


def test_pso_time_varying_coefficients():
    # Ratnaweera, Halgamuge & Watson (2004): c1 2.5 -> 0.5, c2 0.5 -> 2.5 with the inertia 0.9 -> 0.4
    tvac = dict(w=0.9, w_end=0.4, c1=2.5, c1_end=0.5, c2=0.5, c2_end=2.5)
    a = assert_same_trajectory(gn.PSO, popsize=9, w_generations=4, **tvac)
    b, _ = trajectory(gn.PSO, "native", popsize=9, w_generations=4, w=0.9, w_end=0.4, c1=2.5, c2=0.5)
    assert np.array_equal(a[1], b[1]) and not np.array_equal(a[2], b[2])  # the schedule acts from generation 1
    opt = gn.PSO(BOUNDS7, max_generations=8, **tvac)
    assert opt.coefficients() == (2.5, 0.5)
    opt.generation = 2
    assert opt.coefficients() == pytest.approx((2.0, 1.0))
    opt.generation = 20  # past the schedule: its end values
    assert opt.coefficients() == pytest.approx((0.5, 2.5)) and opt.inertia() == pytest.approx(0.4)


@pytest.mark.parametrize("options", [
    {"elitist_learning": False},
    {"elitist_learning": True, "elitist_sigma": (1.0, 0.1), "w_generations": 4},
    {"adaptive": True, "elitist_learning": False},
    {"adaptive": True, "elitist_learning": True, "topology": "ring"},
])
def test_pso_adaptive_options_native_matches_reference(options):
    assert_same_trajectory(gn.PSO, popsize=9, generations=12, **options)


def test_pso_elitist_learning_moves_the_worst_particle_next_to_the_global_best():
    opt = gn.PSO(BOUNDS7, popsize=12, seed=3, elitist_learning=True)
    moved = 0
    for _ in range(30):
        X = opt.ask()
        opt.tell(X, objective(X))
        st = opt.state
        g, worst = int(np.argmin(st.pbest_f)), int(np.argmax(st.pbest_f))
        if st.es == apso.CONVERGENCE and worst != g:
            # the global best with one coordinate moved, at rest
            assert np.count_nonzero(st.X[worst] != st.P[g]) <= 1 and not st.V[worst].any()
            moved += 1
    assert moved > 0


def test_pso_elitist_sigma_follows_the_run(monkeypatch):
    opt = gn.PSO(BOUNDS7, elitist_learning=True)  # Zhan et al.: 1.0 -> 0.1 of the box width over the run
    assert opt.elitist_sigma_now() == 0.1  # no run length known: the end value
    opt.plan(10)
    assert opt.elitist_sigma_now() == 1.0
    opt.generation = 5
    assert opt.elitist_sigma_now() == pytest.approx(0.55)
    opt = gn.PSO(BOUNDS7, elitist_sigma=(0.5, 0.0), w_generations=4, max_generations=8)
    opt.plan(6)  # an explicit w_generations wins
    opt.generation = 2
    assert opt.elitist_sigma_now() == pytest.approx(0.25)
    assert gn.PSO(BOUNDS7, elitist_sigma=0.3, max_generations=5).elitist_sigma_now() == 0.3
    # a plan told to a resumed optimizer wins over the checkpoint's; unpickling keeps the checkpoint's
    first = gn.PSO(BOUNDS7, seed=1)
    first.plan(10)
    resumed = gn.PSO(BOUNDS7, seed=1)
    resumed.plan(20)
    resumed.load_state_dict(first.state_dict())
    assert resumed.state.horizon == 20 and pickle.loads(pickle.dumps(first)).state.horizon == 10
    # minimize tells the budget's generations
    told = []
    plan = gn.PSO.plan
    monkeypatch.setattr(gn.PSO, "plan", lambda self, g: (told.append(self), plan(self, g))[1])
    gn.minimize(gn.functions.sphere, BOUNDS7, method="pso", budget=400, vectorized=True,
                options=dict(popsize=20, elitist_learning=True))
    assert told[0].state.horizon == 20 and told[0].generation == 20
    assert told[0].elitist_sigma_now() == pytest.approx(0.1)


def test_pso_adaptive_coefficients_stay_in_their_bounds():
    opt = gn.PSO(BOUNDS7, popsize=12, seed=4, adaptive=True)
    assert opt.coefficients() == (2.0, 2.0)  # Zhan et al.'s start
    seen = set()
    for _ in range(40):
        X = opt.ask()
        opt.tell(X, objective(X))
        c1, c2 = opt.coefficients()
        assert 1.5 <= c1 <= 2.5 and 1.5 <= c2 <= 2.5 and c1 + c2 <= 4.0 + 1e-12
        seen.add(opt.state.es)
    assert opt.coefficients() != (2.0, 2.0) and len(seen) >= 2


def test_apso_state_estimation_rules():
    # w(f) spans [0.4, 0.9]
    assert apso.inertia(0.0) == pytest.approx(0.4) and apso.inertia(1.0) == pytest.approx(0.9, abs=1e-3)
    # every f in [0, 1] belongs to one state, or two in the overlaps; memberships are continuous
    grid = np.linspace(0.0, 1.0, 1001)
    m = np.array([apso.memberships(float(f)) for f in grid])
    assert np.all((m >= 0) & (m <= 1)) and np.all(((m > 0).sum(axis=1) >= 1) & ((m > 0).sum(axis=1) <= 2))
    assert np.abs(np.diff(m, axis=0)).max() <= 10.0 * (grid[1] - grid[0]) + 1e-12
    # the overlaps: the previous state stays if it is one of the two, else the next one along S1 -> S4 -> S1
    S1, S2, S3, S4 = apso.EXPLORATION, apso.EXPLOITATION, apso.CONVERGENCE, apso.JUMPING_OUT
    for f, prev, state in [(0.05, S1, S3), (0.35, S4, S2), (0.65, S3, S1), (0.95, S2, S4),
                           (0.5, S1, S1), (0.5, S2, S2), (0.5, S3, S1), (0.5, S4, S1),
                           (0.25, S2, S2), (0.25, S3, S3), (0.25, S4, S2), (0.25, S1, S2),
                           (0.75, S1, S1), (0.75, S4, S4), (0.75, S2, S4), (0.75, S3, S4)]:
        assert apso.classify(f, prev) == state, (f, prev)
    assert apso.evolutionary_factor(np.array([1.0, 2.0, 3.0]), 1) == 0.5
    assert apso.evolutionary_factor(np.full(4, 2.0), 0) == 0.0
    # the coefficient steps: exploration raises c1 and lowers c2 by delta; the sum is scaled back to 4
    assert apso.coefficients(S1, 2.0, 2.0, 0.0, 1.0) == pytest.approx((2.05, 1.9))
    assert apso.coefficients(S3, 2.5, 2.5, 0.5, 0.5) == pytest.approx((2.0, 2.0))
    assert apso.coefficients(S4, 1.5, 2.5, 0.0, 0.0) == pytest.approx((1.5, 2.5))


@pytest.mark.parametrize("sel", ["tournament", "roulette", "sus", "rank"])
def test_ga_selections(sel):
    assert_same_trajectory(gn.GA, popsize=15, selection=sel)


@pytest.mark.parametrize("crossover", ["uniform", "one_point", "two_point", "blx", "arithmetic", "sbx"])
@pytest.mark.parametrize("mutation", ["gaussian", "polynomial", "none"])
def test_ga_real_operators(crossover, mutation):
    xs = assert_same_trajectory(gn.GA, popsize=11, crossover=crossover, mutation=mutation, mutation_prob=0.3,
                                elitism=2)
    assert all(np.all((x >= -2.0) & (x <= 3.0)) for x in xs)


@pytest.mark.parametrize("crossover", ["uniform", "one_point", "two_point"])
def test_ga_binary_operators(crossover):
    xs = assert_same_trajectory(gn.GA, popsize=10, genome="binary", bits=5, crossover=crossover)
    levels = -2.0 + 5.0 * np.arange(32) / 31.0
    assert all(np.all(np.isin(np.round(x, 12), np.round(levels, 12))) for x in xs)


@pytest.mark.parametrize("strategy", ["rand1bin", "best1bin", "currenttobest1bin"])
@pytest.mark.parametrize("F", [0.7, (0.4, 0.9)])
def test_de_strategies(strategy, F):
    assert_same_trajectory(gn.DifferentialEvolution, popsize=9, strategy=strategy, F=F, CR=0.5)


@pytest.mark.parametrize("cooling", ["geometric", "logarithmic", "linear"])
def test_sa_cooling(cooling):
    assert_same_trajectory(gn.SimulatedAnnealing, popsize=6, cooling=cooling, cooling_generations=4)
    opt = gn.SimulatedAnnealing(BOUNDS7, cooling=cooling, T0=2.0, cooling_generations=4)
    temps = [opt.temperature(k) for k in range(8)]
    assert temps[0] == pytest.approx(2.0) and all(a >= b for a, b in zip(temps, temps[1:])) and temps[-1] > 0


def test_sa_linear_cooling_spans_the_planned_run_and_its_checkpoint():
    # without cooling_generations, linear cooling spans the run minimize's budget allows (plan), carried by the
    # state (a checkpoint resumes the same schedule); an explicit length wins; with neither, max_generations or 1000
    opt = gn.SimulatedAnnealing(BOUNDS7, cooling="linear", T0=2.0, popsize=4, seed=3)
    assert opt.temperature(500) == pytest.approx(1.0)
    opt.plan(50)
    assert opt.temperature(25) == pytest.approx(1.0) and opt.temperature(50) == pytest.approx(2e-3)
    resumed = gn.SimulatedAnnealing(BOUNDS7, cooling="linear", T0=2.0, popsize=4, seed=3)
    resumed.load_state_dict(opt.state_dict())
    assert resumed.temperature(25) == pytest.approx(1.0)
    fixed = gn.SimulatedAnnealing(BOUNDS7, cooling="linear", T0=2.0, cooling_generations=10)
    fixed.plan(50)
    assert fixed.temperature(5) == pytest.approx(1.0)
    assert gn.SimulatedAnnealing(BOUNDS7, cooling="linear", T0=2.0, max_generations=20).temperature(10) == \
        pytest.approx(1.0)


def test_hill_climbing_exploration_and_restart():
    xs = assert_same_trajectory(gn.HillClimbing, generations=12, popsize=4, exploration=0.5, restart_patience=2)
    assert len(xs) == 12
    opt = gn.HillClimbing(BOUNDS7, popsize=4, restart_patience=1, seed=2)
    for _ in range(2):
        X = opt.ask()
        opt.tell(X, np.zeros(len(X)))  # the second generation does not improve: restart
    np.testing.assert_array_equal(opt.state.sigma, opt.sigma0)
    assert opt.state.fx == np.inf and opt.state.stagnation == 0


# ---------------------------------------------------------------- kernels: ragged sizes, threads
def _rand(rng, *shape):
    return rng.uniform(-1.0, 1.0, size=shape)


def pso_call(mod, rng, n, d):
    X = _rand(rng, n, d)
    V, P = _rand(rng, n, d), _rand(rng, n, d)
    improved = (rng.uniform(size=n) < 0.5).astype(np.uint8)
    nbest = rng.integers(0, n, size=n).astype(np.int64)
    lo, hi, vmax = np.full(d, -0.9), np.full(d, 0.9), np.full(d, 0.5)
    out = np.empty((n, d))
    fn = mod.pso_update if mod is _core else mod.pso.update
    fn(5, 3, 4, 0.7, 1.5, 1.5, X, V, P, improved, nbest, vmax, lo, hi, int(n % 2), out)
    return out, V, P


def ga_call(mod, rng, n, L, crossover=5, mutation=2):
    G = _rand(rng, n, L)
    parents = rng.integers(0, n, size=2 * ((n + 1) // 2)).astype(np.int64)
    lo, hi, span = np.full(L, -1.0), np.full(L, 1.0), np.full(L, 2.0)
    C = np.empty((n, L))
    fn = mod.ga_offspring if mod is _core else mod.ga.offspring
    fn(5, 1, 2, 3, 4, crossover, 0.9, 0.5, 15.0, mutation, 0.2, 0.1, 20.0, G, parents, lo, hi, span, C)
    return (C,)


def de_call(mod, rng, n, d):
    X = _rand(rng, n, d)
    R = distinct_partners(rng.uniform(size=3 * n), n) if n >= 4 else np.zeros((n, 3), dtype=np.int64)
    F = rng.uniform(0.5, 1.0, size=n)
    jrand = rng.integers(0, d, size=n).astype(np.int64)
    U = np.empty((n, d))
    fn = mod.de_trials if mod is _core else mod.de.trials
    fn(5, 2, int(n % 3), 0.6, X, 0, R, F, jrand, np.full(d, -0.8), np.full(d, 0.8), U)
    return (U,)


def sa_call(mod, rng, n, d):
    X = _rand(rng, n, d)
    Y = np.empty((n, d))
    fn = mod.sa_propose if mod is _core else mod.sa.propose
    fn(5, 2, 0.3, X, np.full(d, 2.0), np.full(d, -1.0), np.full(d, 1.0), Y)
    return (Y,)


def spread_call(mod, rng, n, d):
    X = _rand(rng, n, d) + 3.0  # off the origin, so that the centroid's rounding matters
    S = np.empty(n)
    (mod.pso_spread if mod is _core else mod.pso.spread)(X, S)
    return (S,)


KERNELS = {"pso": pso_call, "pso_spread": spread_call, "ga": ga_call, "de": de_call, "sa": sa_call}


def test_pso_spread_is_the_squared_distance_to_the_centroid():
    (S,) = spread_call(_core, np.random.default_rng(0), 37, 11)
    X = _rand(np.random.default_rng(0), 37, 11) + 3.0
    np.testing.assert_allclose(S, ((X - X.mean(axis=0)) ** 2).sum(axis=1), rtol=1e-12)
    # an increasing affine map of the mean squared distance to the other particles (Zhan et al.'s d_i, squared)
    pair = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2).sum(axis=1) / (len(X) - 1)
    np.testing.assert_allclose(pair, (len(X) * S + S.sum()) / (len(X) - 1), rtol=1e-10)
    with pytest.raises(ValueError, match="S"):
        _core.pso_spread(X, np.empty(3))


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("n,d", [(1, 1), (4, 7), (7, 1023), (5, 2**12 + 3)])
def test_kernel_matches_reference(kernel, n, d):
    if kernel == "de" and n < 4:
        n = 4
    a = KERNELS[kernel](_core, np.random.default_rng(n * d), n, d)
    b = KERNELS[kernel](ref, np.random.default_rng(n * d), n, d)
    # SA's normals come from the vectorised generator (an ulp from NumPy's log/cos): x + s z near 0 cancels,
    # so an absolute floor at the scale of the values (~1) there
    atol = 1e-14 if kernel == "sa" else 1e-300
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=atol)


@pytest.mark.parametrize("crossover", range(6))
def test_ga_kernel_every_crossover_odd_population(crossover):
    a = ga_call(_core, np.random.default_rng(1), 9, 33, crossover, 1)
    b = ga_call(ref, np.random.default_rng(1), 9, 33, crossover, 1)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_kernel_thread_count_invariance(kernel, threads):
    threads(1)
    a = KERNELS[kernel](_core, np.random.default_rng(3), 300, 257)
    threads(2)
    b = KERNELS[kernel](_core, np.random.default_rng(3), 300, 257)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_kernel_argument_checks():
    X = np.zeros((4, 3))
    with pytest.raises(TypeError, match="X"):
        _core.sa_propose(0, 0, 0.1, X.astype(np.float32), np.ones(3), -np.ones(3), np.ones(3), np.empty((4, 3)))
    with pytest.raises(ValueError, match="span"):
        _core.sa_propose(0, 0, 0.1, X, np.ones(2), -np.ones(3), np.ones(3), np.empty((4, 3)))
    with pytest.raises(ValueError, match="parents"):
        _core.ga_offspring(0, 1, 2, 3, 4, 0, 0.9, 0.5, 15.0, 1, 0.1, 0.1, 20.0, X, np.full(4, 9, dtype=np.int64),
                           -np.ones(3), np.ones(3), np.ones(3), np.empty((4, 3)))
    with pytest.raises(ValueError, match="R"):
        _core.de_trials(0, 1, 0, 0.9, X, 0, np.full((4, 3), 7, dtype=np.int64), np.ones(4), np.zeros(4, dtype=np.int64),
                        -np.ones(3), np.ones(3), np.empty((4, 3)))


# ---------------------------------------------------------------- selection and partners
def test_distinct_partners():
    n = 6
    R = distinct_partners(gn.rng.uniform(1, 2, 3 * 5000).reshape(-1, 3)[:n].reshape(-1), n)
    for i in range(n):
        assert len({i, *R[i]}) == 4
    big = distinct_partners(gn.rng.uniform(1, 3, 3 * 4000), 4000)
    assert all(len({i, *big[i]}) == 4 for i in range(4000))
    # every other member is equally likely as the first partner
    counts = np.bincount(distinct_partners(gn.rng.uniform(4, 5, 3 * 5), 5)[:, 0], minlength=5)
    assert counts.sum() == 5


def test_selection_schemes_prefer_better_and_skip_nonfinite():
    f = np.array([3.0, 1.0, np.inf, 2.0, np.nan * 0 + np.inf, 0.5])
    u = gn.rng.uniform(0, 9, 20001)
    for name, idx in [("roulette", selection.roulette(f, 20000, u)), ("sus", selection.sus(f, 20000, u)),
                      ("rank", selection.rank(f, 20000, u, 1.8)),
                      ("tournament", selection.tournament(f, 5000, u, 3))]:
        counts = np.bincount(idx, minlength=f.size)
        assert counts[5] > counts[1] > counts[3] > counts[0], name
        if name in ("roulette", "sus"):
            assert counts[2] == counts[4] == 0, name
    # SUS gives each member its expected count within one
    w = selection._windowed_weights(f)
    expected = w / w.sum() * 20000
    counts = np.bincount(selection.sus(f, 20000, u), minlength=f.size)
    assert np.all(np.abs(counts - expected) <= 1.0)


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_bounded_sbx_keeps_children_off_the_bounds(impl):
    # Deb's bound-aware SBX truncates the spread at the bounds: children of interior parents are interior
    # (the unbounded operator followed by clipping piles genes onto the faces under pressure towards them)
    opt = gn.GA([(0.0, 1.0)] * 50, popsize=200, seed=3, mutation="none", crossover_prob=1.0, impl=impl)
    for _ in range(6):
        X = opt.ask()
        assert np.all((X > 0.0) & (X < 1.0))
        opt.tell(X, -(X**2).sum(axis=1))  # selection pushes every gene towards the upper face


def _sbx_spread_cdf(beta, eta):
    """CDF of SBX's spread factor (Deb & Agrawal 1995): density 0.5 (eta+1) b^eta below 1, 0.5 (eta+1) b^-(eta+2) above."""
    return np.where(beta <= 1.0, 0.5 * beta ** (eta + 1.0), 1.0 - 0.5 * beta ** -(eta + 1.0))


def _ga_children(y1, y2, lo, hi, crossover, mutation, n=20_000):
    """Children of n copies of the parent pair (y1, y2) in one coordinate from the native kernel."""
    G = np.array([[y1], [y2]])
    parents = np.tile([0, 1], n // 2).astype(np.int64)
    C = np.empty((n, 1))
    _core.ga_offspring(7, 1, 2, 3, 4, crossover, 1.0, 0.5, 15.0, mutation, 1.0, 0.1, 20.0, G, parents,
                       np.array([lo]), np.array([hi]), np.array([hi - lo]), C)
    return C[0::2, 0], C[1::2, 0]


@pytest.mark.parametrize("y1,y2", [(-0.2, 0.3), (-4.9, 4.0), (4.0, 5.1)])
def test_bounded_sbx_follows_deb_agrawal(y1, y2):
    # the published definition: each child's spread beta_q = |2 c - (y1 + y2)| / (y2 - y1) has SBX's spread
    # distribution truncated at the bound on its side, both children from the same uniform u (Deb's code):
    # F(beta_q) / F(beta_max) = u on both sides, u uniform on (0, 1)
    stats = pytest.importorskip("scipy.stats")
    eta, lo, hi = 15.0, -5.12, 5.12
    a, b = _ga_children(y1, y2, lo, hi, crossover=5, mutation=0)
    mixed = ~((a == y1) & (b == y2))
    assert abs(mixed.mean() - 0.5) < 0.02  # each gene recombined with probability 1/2
    a, b = a[mixed], b[mixed]
    assert abs(np.mean(a > b) - 0.5) < 0.02  # the children swap sides with probability 1/2
    c_lo, c_hi, dy = np.minimum(a, b), np.maximum(a, b), y2 - y1
    u_lo = _sbx_spread_cdf(((y1 + y2) - 2.0 * c_lo) / dy, eta) / _sbx_spread_cdf(1.0 + 2.0 * (y1 - lo) / dy, eta)
    u_hi = _sbx_spread_cdf((2.0 * c_hi - (y1 + y2)) / dy, eta) / _sbx_spread_cdf(1.0 + 2.0 * (hi - y2) / dy, eta)
    np.testing.assert_allclose(u_lo, u_hi, atol=1e-9)
    assert stats.kstest(u_lo, "uniform").pvalue > 1e-3


@pytest.mark.parametrize("x", [0.0, -4.9, 5.0])
def test_bounded_polynomial_mutation_follows_deb_goyal(x):
    # Deb's bounded polynomial mutation, solved for its uniform: with r = (1 - delta_1)^(eta+1) (lower side) and
    # s = (1 - delta_2)^(eta+1) (upper side), a child below x gives u = ((1 + dq)^(eta+1) - r) / (2 (1 - r)) in
    # [0, 1/2) and one above gives u = (2 - s - (1 - dq)^(eta+1)) / (2 (1 - s)) in [1/2, 1); u must be uniform
    stats = pytest.importorskip("scipy.stats")
    eta, lo, hi = 20.0, -5.12, 5.12
    a, b = _ga_children(x, x, lo, hi, crossover=5, mutation=2)  # equal parents: SBX leaves them as they are
    c = np.concatenate([a, b])
    dq = (c - x) / (hi - lo)
    r = (1.0 - (x - lo) / (hi - lo)) ** (eta + 1.0)
    s = (1.0 - (hi - x) / (hi - lo)) ** (eta + 1.0)
    u = np.where(dq < 0.0, ((1.0 + dq) ** (eta + 1.0) - r) / (2.0 * (1.0 - r)),
                 (2.0 - s - (1.0 - dq) ** (eta + 1.0)) / (2.0 * (1.0 - s)))
    assert np.all((u > -1e-9) & (u < 1.0 + 1e-9))
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_sa_cooling_spans_the_planned_run(monkeypatch):
    sa = gn.SimulatedAnnealing([(-1.0, 1.0)] * 3, max_generations=200, seed=0)
    assert sa.state.alpha ** 200 == pytest.approx(sa.T_end_ratio)
    assert gn.SimulatedAnnealing([(-1.0, 1.0)] * 3, seed=0).state.alpha == 0.95  # length unknown
    assert gn.SimulatedAnnealing([(-1.0, 1.0)] * 3, alpha=0.9, max_generations=200).state.alpha == 0.9
    planned = []
    plan = gn.SimulatedAnnealing.plan
    monkeypatch.setattr(gn.SimulatedAnnealing, "plan", lambda self, g: (planned.append(g), plan(self, g)))
    gn.minimize(gn.functions.sphere, [(-1.0, 1.0)] * 3, method="sa", budget=16 * 50 + 5, vectorized=True,
                options={"popsize": 16})
    assert planned == [50]  # minimize tells the optimizer how many generations the budget allows


def test_binary_ga_solves_onemax():
    L = 40
    opt = gn.GA([(0.0, 1.0)] * L, genome="binary", bits=1, popsize=40, seed=1)
    for _ in range(60):
        X = opt.ask()
        assert set(np.unique(X)) <= {0.0, 1.0}
        opt.tell(X, -X.sum(axis=1))
    assert opt.best_f == -L


# ---------------------------------------------------------------- convergence (budgets stated in the test)
SPHERE10 = [(-5.12, 5.12)] * 10


@pytest.mark.parametrize("method,options,budget", [
    ("hill_climbing", {}, 2_000),
    ("pso", {}, 10_000),
    ("de", {"strategy": "currenttobest1bin", "CR": 0.9}, 15_000),
    ("ga", {}, 25_000),
    ("sa", {}, 40_000),
])
def test_sphere_10d_to_1e6(method, options, budget):
    res = gn.minimize(gn.functions.sphere, SPHERE10, method=method, budget=budget, seed=0, vectorized=True,
                      target=1e-6, options=options)
    assert res.fun <= 1e-6, (method, res.fun, res.nfev)


@pytest.mark.parametrize("method,options,budget,threshold", [
    ("pso", {}, 40_000, 15.0),
    ("ga", {}, 40_000, 1e-3),
    ("de", {}, 30_000, 1e-3),
])
def test_rastrigin_10d(method, options, budget, threshold):
    res = gn.minimize(gn.functions.rastrigin, SPHERE10, method=method, budget=budget, seed=0, vectorized=True,
                      options=options)
    rs = gn.minimize(gn.functions.rastrigin, SPHERE10, method="random_search", budget=budget, seed=0,
                     vectorized=True)
    assert res.fun < threshold and res.fun < rs.fun


def test_pso_schedules_span_the_planned_run():
    # w_end / c1_end / c2_end need a length: w_generations, max_generations or minimize's budget (plan); a bare
    # ask/tell loop without any of them is told so at its first ask
    with pytest.raises(ValueError, match="w_end"):
        gn.PSO(BOUNDS7, w=0.9, w_end=0.4, c2_end=2.5).ask()
    opt = gn.PSO(BOUNDS7, w=0.9, w_end=0.4, c1=2.5, c1_end=0.5, popsize=8, seed=1)
    opt.plan(6)
    for _ in range(6):
        X = opt.ask()
        opt.tell(X, (X ** 2).sum(axis=1))
    assert opt.inertia() == pytest.approx(0.4) and opt.coefficients()[0] == pytest.approx(0.5)
    res = gn.minimize(lambda x: float((x ** 2).sum()), BOUNDS7, method="pso", budget=400, seed=2,
                      options={"w": 0.9, "w_end": 0.4})
    assert res.nfev == 400 and np.isfinite(res.fun)


# ---------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("cls,kw,exc,name", [
    (gn.PSO, {"topology": "star"}, ValueError, "topology"),
    (gn.PSO, {"bounds_strategy": "wrap"}, ValueError, "bounds_strategy"),
    (gn.PSO, {"c1": -1.0}, ValueError, "c1"),
    (gn.PSO, {"w": "big"}, TypeError, "w"),
    (gn.PSO, {"velocity_clamp": 0.0}, ValueError, "velocity_clamp"),
    (gn.PSO, {"c1_end": -1.0, "max_generations": 5}, ValueError, "c1_end"),
    (gn.PSO, {"adaptive": "yes"}, TypeError, "adaptive"),
    (gn.PSO, {"elitist_learning": 1}, TypeError, "elitist_learning"),
    (gn.PSO, {"elitist_sigma": -0.1}, ValueError, "elitist_sigma"),
    (gn.PSO, {"elitist_sigma": (1.0, 0.5, 0.1)}, ValueError, "elitist_sigma"),
    (gn.PSO, {"elitist_sigma": (1.0, "x")}, TypeError, "elitist_sigma"),
    (gn.PSO, {"adaptive": True, "w_end": 0.4, "max_generations": 5}, ValueError, "w_end"),
    (gn.GA, {"selection": "best"}, ValueError, "selection"),
    (gn.GA, {"crossover": "sbx", "genome": "binary"}, ValueError, "crossover"),
    (gn.GA, {"mutation": "bitflip"}, ValueError, "mutation"),
    (gn.GA, {"mutation_prob": 1.5}, ValueError, "mutation_prob"),
    (gn.GA, {"elitism": 100, "popsize": 10}, ValueError, "elitism"),
    (gn.GA, {"bits": 0, "genome": "binary"}, ValueError, "bits"),
    (gn.GA, {"tournament_size": 0}, ValueError, "tournament_size"),
    (gn.GA, {"rank_pressure": 3.0}, ValueError, "rank_pressure"),
    (gn.GA, {"genome": "tree"}, ValueError, "genome"),
    (gn.DifferentialEvolution, {"strategy": "rand2exp"}, ValueError, "strategy"),
    (gn.DifferentialEvolution, {"F": (0.9, 0.5)}, ValueError, "F"),
    (gn.DifferentialEvolution, {"CR": 2.0}, ValueError, "CR"),
    (gn.DifferentialEvolution, {"popsize": 3}, ValueError, "popsize"),
    (gn.SimulatedAnnealing, {"cooling": "fast"}, ValueError, "cooling"),
    (gn.SimulatedAnnealing, {"alpha": 1.5}, ValueError, "alpha"),
    (gn.SimulatedAnnealing, {"T0": -1.0}, ValueError, "T0"),
    (gn.SimulatedAnnealing, {"step": 0.0}, ValueError, "step"),
    (gn.HillClimbing, {"exploration": -0.1}, ValueError, "exploration"),
    (gn.HillClimbing, {"restart_patience": 0}, ValueError, "restart_patience"),
])
def test_bad_hyperparameters(cls, kw, exc, name):
    with pytest.raises(exc, match=name):
        cls(BOUNDS7, **kw)


def test_binary_ga_needs_bounds_and_unbounded_real_methods_run():
    with pytest.raises(ValueError, match="bounds"):
        gn.GA(dim=3, genome="binary")
    for cls in (gn.PSO, gn.GA, gn.DifferentialEvolution, gn.SimulatedAnnealing, gn.HillClimbing):
        opt = cls(dim=3, x0=[1.0, 2.0, 3.0], sigma0=0.5, seed=1)
        for _ in range(3):
            X = opt.ask()
            opt.tell(X, (X**2).sum(axis=1))
        assert np.isfinite(opt.best_f)


@pytest.mark.parametrize("method", ["ga", "pso", "de", "sa", "hill_climbing"])
def test_x0_in_a_box_is_the_first_member_of_the_initial_population(method):
    # a finite box starts uniform in it; an x0 the caller gives joins as the first point (it was dropped)
    x0 = np.linspace(-1.0, 1.0, 7)
    firsts = []
    for impl in ("native", "reference"):
        X = gn.OPTIMIZERS[method](BOUNDS7, x0=x0, popsize=8, seed=4, impl=impl).ask()
        assert np.array_equal(X[0], x0) and not np.array_equal(X[1], x0)
        firsts.append(X)
    np.testing.assert_array_equal(*firsts)
    plain = gn.OPTIMIZERS[method](BOUNDS7, popsize=8, seed=4).ask()
    np.testing.assert_array_equal(plain[1:], firsts[0][1:])  # the other draws are those of a run without x0
    res = gn.minimize(lambda x: float(((x - x0) ** 2).sum()), BOUNDS7, method=method, budget=8, seed=4,
                      options={"x0": x0, "popsize": 8})
    assert res.fun == 0.0
