"""Population optimizers at unusual but legal settings: points told in another memory layout or outside the box,
tiny swarms, frozen annealing temperatures, checkpoints of another genome, huge boxes (bug-hunt regressions)."""

import warnings

import numpy as np
import pytest

import gfo_native as gn
from gfo_native.optimizers import _apso as apso

BOX = [(-2.0, 3.0)] * 3
LO, HI = -2.0, 3.0


def objective(X):
    return ((X - 0.5) ** 2).sum(axis=1) + 1e-3 * np.arange(X.shape[0])


POPULATION = [("ga", {}), ("ga", {"genome": "binary", "bits": 4}), ("de", {}), ("sa", {}), ("pso", {}),
              ("hill_climbing", {"restart_patience": 2}), ("random_search", {}), ("cmaes", {})]


def _id(v):
    return v if isinstance(v, str) else "-".join(map(str, v.values()))


@pytest.mark.parametrize("method,kw", POPULATION, ids=_id)
def test_tell_takes_fortran_ordered_points(method, kw):
    # the caller's own copy of the batch in another memory layout (np.asfortranarray, a transposed buffer) is the
    # same points: the run must go on as if the C-ordered batch had been told (GA, DE and SA kept the array and the
    # next ask failed in the kernel with "expected a C-contiguous array")
    a = gn.OPTIMIZERS[method](BOX, seed=2, popsize=10, **kw)
    b = gn.OPTIMIZERS[method](BOX, seed=2, popsize=10, **kw)
    for _ in range(4):
        X, Y = a.ask(), b.ask()
        np.testing.assert_array_equal(X, Y)
        a.tell(X.copy(), objective(X))
        b.tell(np.asfortranarray(Y), objective(Y))
    np.testing.assert_array_equal(a.ask(), b.ask())


@pytest.mark.parametrize("impl", ["native", "reference"])
@pytest.mark.parametrize("method,kw", [("ga", {}), ("ga", {"crossover": "blx", "mutation": "gaussian"}),
                                       ("ga", {"crossover": "uniform", "mutation": "none"}), ("de", {}),
                                       ("de", {"strategy": "rand1bin", "CR": 0.0})])
def test_points_told_outside_the_box_are_kept_inside(method, kw, impl):
    # "population methods keep what they are told": a repaired batch with points outside the box (the objective's
    # optimum lies outside) made the GA ask NaN (bound-aware SBX / polynomial mutation of out-of-box parents),
    # GA / DE ask points outside the box (copied genes, bounce-back from an outside parent), and PSO's elitist
    # learning put its worst particle on the outside global best with only the perturbed coordinate clipped
    opt = gn.OPTIMIZERS[method](BOX, seed=1, popsize=10, impl=impl, **kw)
    for _ in range(12):
        X = opt.ask()
        assert np.all(np.isfinite(X)) and np.all((X >= LO) & (X <= HI))
        Y = X.copy()
        Y[0] = 4.0  # outside, and better than anything inside: selection keeps it
        opt.tell(Y, ((Y - 5.0) ** 2).sum(axis=1))
    assert opt.best_f == pytest.approx(3.0) and np.all(opt.best_x == 4.0)  # the told point itself is the best seen


@pytest.mark.parametrize("impl", ["native", "reference"])
@pytest.mark.parametrize("kw", [{}, {"adaptive": True, "topology": "ring"}])
def test_pso_elitist_learning_from_a_best_told_outside_the_box(kw, impl):
    # PSO keeps told points as personal bests; elitist learning put its worst particle on the global best with only
    # the perturbed coordinate clipped, so with a best told outside the box the asked batch left the box
    opt = gn.PSO(BOX, seed=1, impl=impl, **kw)
    learned = 0
    for _ in range(8):
        X = opt.ask()
        assert np.all((X >= LO) & (X <= HI))
        Y = X + 10.0
        opt.tell(Y, ((Y - 0.5) ** 2).sum(axis=1))
        learned += opt.state.es == apso.CONVERGENCE
    assert learned > 0 and np.all(opt.ask() <= HI)


@pytest.mark.parametrize("mutation", ["gaussian", "none"])
@pytest.mark.parametrize("impl", ["native", "reference"])
def test_ga_arithmetic_crossover_stays_in_the_box(mutation, impl):
    # lam a + (1 - lam) b of two genes on the upper face rounds above it about one time in ten: the children of
    # clipped (mutated) parents left the box by an ulp
    box = [(-2.0, 123.456)] * 20
    opt = gn.GA(box, popsize=50, crossover="arithmetic", mutation=mutation, mutation_prob=0.5, sigma=1.0, seed=1,
                impl=impl)
    for g in range(40):
        X = opt.ask()
        assert np.all((X >= -2.0) & (X <= 123.456)), g
        opt.tell(X, -X.sum(axis=1))  # pushes every gene onto the upper face


def test_ga_arithmetic_crossover_native_matches_reference_on_the_faces():
    box = [(-2.0, 123.456)] * 9
    runs = []
    for impl in ("native", "reference"):
        opt = gn.GA(box, popsize=21, crossover="arithmetic", mutation="gaussian", mutation_prob=0.5, sigma=1.0,
                    seed=4, impl=impl)
        trace = []
        for _ in range(25):
            X = opt.ask()
            trace.append(X)
            opt.tell(X, -X.sum(axis=1))
        runs.append(trace)
    for g, (x, y) in enumerate(zip(*runs)):
        np.testing.assert_array_equal(x, y, err_msg=f"generation {g}")


@pytest.mark.parametrize("cooling,kw", [("geometric", {"alpha": 0.01}), ("geometric", {"alpha": 0.5, "T0": 1e-300})])
def test_sa_frozen_temperature_is_silent(cooling, kw):
    # the geometric temperature underflows to 0 (a small alpha, a long run): -delta / 0 warned "divide by zero" at
    # every generation (an error under -W error); a frozen chain only accepts moves that are no worse
    opt = gn.SimulatedAnnealing(BOX, cooling=cooling, popsize=4, seed=0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(200):
            X = opt.ask()
            before = opt.state.fitness.copy()
            opt.tell(X, objective(X))
        assert opt.temperature() == 0.0
        assert np.all(opt.state.fitness <= before)


@pytest.mark.parametrize("options", [{"velocity_init": 0.5}, {"adaptive": True}, {}])
def test_pso_two_particles_native_matches_reference(options):
    # with two particles each one's mean distance to the other is the same (Zhan et al.'s d_1 = d_2): the
    # evolutionary factor is 0/0, taken as 0. The squared distances to the centroid, equal in exact arithmetic,
    # differ in their last bits, so rounding picked f = 0 or f = 1 (jumping out): the state followed noise, and an
    # ulp between the native and NumPy normals (elitist learning's step) made the two runs part after 18 generations
    runs = []
    for impl in ("native", "reference"):
        opt = gn.PSO([(-2.0, 3.0)], popsize=2, seed=5, impl=impl, **options)
        trace, states = [], []
        for _ in range(40):
            X = opt.ask()
            trace.append(X)
            opt.tell(X, gn.reference.functions.rastrigin(X - 0.3) + 1e-3 * np.arange(2))
            states.append(opt.state.es)
        runs.append(trace)
        assert set(states) == {apso.CONVERGENCE}
    for g, (x, y) in enumerate(zip(*runs)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-300, err_msg=f"generation {g}")
    assert apso.evolutionary_factor(np.array([0.2, 0.2 + 1e-17]), 1) == 0.0


@pytest.mark.parametrize("saved,mine", [({"genome": "binary", "bits": 4}, {"genome": "binary", "bits": 8}),
                                        ({}, {"genome": "binary", "bits": 8}),
                                        ({"genome": "binary", "bits": 8}, {}),
                                        ({}, {"genome": "binary", "bits": 1})])
def test_ga_refuses_a_checkpoint_of_another_genome(saved, mine):
    # same method, dim and popsize, but another genome: the load was accepted and the next ask failed in the
    # kernel ("lo: axis 0 has extent 24, expected 12"), or decoded real genes as bits (points outside the box)
    src = gn.GA(BOX, popsize=10, seed=1, **saved)
    for _ in range(3):
        X = src.ask()
        src.tell(X, objective(X))
    opt = gn.GA(BOX, popsize=10, seed=1, **mine)
    before = opt.state_dict()
    with pytest.raises(ValueError, match="state_dict: .*genome"):
        opt.load_state_dict(src.state_dict())
    after = opt.state_dict()
    np.testing.assert_array_equal(after["state"]["genomes"], before["state"]["genomes"])  # all or nothing
    X = opt.ask()
    assert np.all((X >= LO) & (X <= HI))


@pytest.mark.parametrize("method", ["cmaes", "sep_cmaes"])
@pytest.mark.parametrize("box", [[(-1e300, 1e300)] * 3, [(-1e-10, 1e-10), (1e5, 1e5 + 1.0), (-1e200, 1e200)]],
                         ids=["huge", "mixed"])
def test_cmaes_box_penalty_in_a_huge_box(method, box):
    # sigma0 is a quarter of the widest side (5e299): the box penalty's scale sigma^2 overflowed a Python float and
    # tell raised OverflowError (34, 'Numerical result out of range') at the first clipped sample
    lo, hi = np.array(box).T
    opt = gn.OPTIMIZERS[method](box, seed=2, popsize=8)
    clipped = 0
    for _ in range(15):
        X = opt.ask()
        assert np.all(np.isfinite(X)) and np.all((X >= lo) & (X <= hi))
        clipped += int(np.any((X == lo) | (X == hi)))
        opt.tell(X, ((X / np.maximum(1.0, hi)) ** 2).sum(axis=1))
    assert clipped > 0 and np.isfinite(opt.best_f)


HUGE_BOX = [(-8e307, 8e307)] * 3  # 1.6e308 wide: differences of points overflow float64


def _huge_box_traces(make, gens, fitness, check=lambda opt: None):
    """The batches asked by make(impl) for impl native and reference over `gens` generations in HUGE_BOX, each
    checked finite and inside the box with every warning an error (the NumPy twins must stay as silent as the
    kernels)."""
    runs = []
    for impl in ("native", "reference"):
        opt, trace = make(impl), []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(gens):
                X = opt.ask()
                assert np.all(np.isfinite(X)) and np.all(np.abs(X) <= 8e307)
                check(opt)
                trace.append(X)
                opt.tell(X, fitness(X))
        runs.append(trace)
    return runs


@pytest.mark.parametrize("strategy", ["currenttobest1bin", "rand1bin"])
def test_de_mutant_beyond_float64_in_a_huge_box(strategy):
    # F up to 2 (Storn & Price's range) in a box 1.6e308 wide: F (x_b - x_i) and F (x_r0 - x_r1) overflow to
    # opposite infinities and current-to-best/1 gave inf - inf = NaN, which neither bounce-back test caught: the
    # asked batch held NaN. A NaN mutant coordinate keeps the parent's.
    runs = _huge_box_traces(lambda impl: gn.DifferentialEvolution(HUGE_BOX, strategy=strategy, F=(1.9, 2.0), CR=1.0,
                                                                  popsize=40, seed=1, impl=impl),
                            25, lambda X: -(np.abs(X) / 1e307).sum(axis=1))  # keeps the population spread out
    for g, (x, y) in enumerate(zip(*runs)):
        np.testing.assert_array_equal(x, y, err_msg=f"generation {g}")


def test_binary_ga_decodes_into_the_box():
    # l + (u - l) k / (2^B - 1) at the top code k = 2^B - 1 is l + (u - l), which rounds above u when |l| >> |u|
    # (-1e16 + (1.5 + 1e16) = 2.0): the all-ones genome, which selection favours here, was asked outside the box
    opt = gn.GA([(-1e16, 1.5)] * 2, genome="binary", bits=3, popsize=20, seed=0)
    top = 0
    for _ in range(10):
        X = opt.ask()
        assert np.all((X >= -1e16) & (X <= 1.5))
        top += int((X == 1.5).sum())
        opt.tell(X, -X.sum(axis=1))
    assert top > 0


def _spread_and_wave(X):
    return -(np.abs(X) / 1e307).sum(axis=1) + np.sin(X[:, 0] / 1e306)


@pytest.mark.parametrize("kw", [{"velocity_clamp": None}, {"velocity_clamp": None, "c1": 2.5, "c2": 2.5,
                                                           "elitist_learning": False}])
def test_pso_velocity_beyond_float64_in_a_huge_box(kw):
    # without a clamp, in a box 1.6e308 wide, c1 r1 (p - x) and c2 r2 (g - x) overflow to opposite infinities:
    # inf - inf = NaN passed the clamp and the bounds and the asked batch held NaN from the third generation.
    # A NaN velocity component is 0 (the particle stays where it is in that coordinate).
    def no_nan_velocity(opt):
        assert not np.isnan(opt.state.V).any()

    runs = _huge_box_traces(lambda impl: gn.PSO(HUGE_BOX, popsize=40, seed=1, impl=impl, **kw), 25, _spread_and_wave,
                            no_nan_velocity)
    for g, (x, y) in enumerate(zip(*runs)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-300, err_msg=f"generation {g}")


HUGE_BOX_CASES = [("ga", {"crossover": "blx", "mutation": "gaussian", "alpha": 1.0, "sigma": 1.0,
                          "mutation_prob": 1.0}),
                  ("sa", {"step": 1.0}), ("hill_climbing", {"exploration": 1.0}),
                  ("random_search", {"distribution": "gaussian", "sigma0": 1e308})]


@pytest.mark.parametrize("method,kw", HUGE_BOX_CASES, ids=[m for m, _ in HUGE_BOX_CASES])
def test_huge_box_operators_stay_finite_and_silent(method, kw):
    # a box 1.6e308 wide: BLX's (min - alpha I) + u (1 + 2 alpha) I overflowed to -inf + inf = NaN in the kernel
    # (alpha = 1) and the NumPy twins of BLX, SA's proposals and the Gaussian sampling warned on overflows that the
    # kernels take silently (inf, then clipped to the box)
    runs = _huge_box_traces(lambda impl: gn.OPTIMIZERS[method](HUGE_BOX, seed=2, popsize=30, impl=impl, **kw), 20,
                            _spread_and_wave)
    for g, (x, y) in enumerate(zip(*runs)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-300, err_msg=f"generation {g}")


def _as_lists(o):
    """A state_dict as JSON or YAML returns it: arrays as (nested) lists."""
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, dict):
        return {k: _as_lists(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_as_lists(v) for v in o]
    return o


JSON_CASES = [("ga", {}), ("ga", {"genome": "binary", "bits": 3}), ("de", {}), ("sa", {}), ("pso", {"adaptive": True}),
              ("hill_climbing", {}), ("random_search", {}), ("cmaes", {}), ("sep_cmaes", {}), ("openes", {}),
              ("snes", {})]


@pytest.mark.parametrize("method,kw", JSON_CASES, ids=_id)
@pytest.mark.parametrize("pending", [False, True])
def test_state_dict_through_json_resumes_bit_identically(method, kw, pending):
    # load_state_dict converted best_x and pending to arrays but kept the algorithm's arrays as the lists JSON gives:
    # the load was accepted (the optimizer's own state gone) and the next ask failed in a kernel ("incompatible
    # function arguments", "'list' object has no attribute 'shape'")
    import json

    def run(opt, n, first=None):
        out = []
        for g in range(n):
            X = first if (g == 0 and first is not None) else opt.ask()
            out.append(X.copy())
            opt.tell(X, objective(X))
        return out

    cls = gn.OPTIMIZERS[method]
    whole = run(cls(BOX, seed=3, **kw), 8)
    part = cls(BOX, seed=3, **kw)
    run(part, 4)
    if pending:
        part.ask()
    sd = json.loads(json.dumps(_as_lists(part.state_dict())))
    resumed = cls(BOX, seed=3, **kw)
    resumed.load_state_dict(sd)
    rest = run(resumed, 4)
    for g, (x, y) in enumerate(zip(whole[4:], rest)):
        np.testing.assert_array_equal(x, y, err_msg=f"generation {4 + g}")


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-5, ValueError), (2.5, TypeError), ("10", TypeError),
                                     (True, TypeError)])
def test_plan_refuses_a_run_that_is_not_a_positive_count(bad, exc):
    # plan(-5) made PSO's elitist sigma run backwards past its start (t = generation / -5), plan("10") was taken as 10
    for method in ("pso", "sa"):
        opt = gn.OPTIMIZERS[method](BOX, seed=0)
        with pytest.raises(exc, match="generations"):
            opt.plan(bad)
        assert opt._planned_run is None  # nothing changed
