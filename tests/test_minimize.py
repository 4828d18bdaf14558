import re

import numpy as np
import pytest

import gfo_native as gn
from gfo_native.distributed import SerialEvaluator


def test_result_fields_and_history():
    res = gn.minimize(gn.functions.sphere, [(-5, 5)] * 3, method="random_search", budget=320, vectorized=True)
    for k in ("x", "fun", "nfev", "nit", "success", "message", "history"):
        assert k in res and getattr(res, k) is res[k]
    assert res.nfev == 320 and res.nit == 10 and res.success
    assert res.history["nfev"].tolist() == list(range(32, 321, 32))
    assert "fun" in repr(res)


def test_scalar_objective_matches_vectorized():
    f = lambda x: float(np.sum(x ** 2))  # noqa: E731
    a = gn.minimize(f, [(-5, 5)] * 3, method="random_search", budget=200, seed=4)
    b = gn.minimize(gn.functions.sphere, [(-5, 5)] * 3, method="random_search", budget=200, seed=4, vectorized=True)
    assert np.array_equal(a.x, b.x) and a.fun == pytest.approx(b.fun, rel=1e-12)


def test_target_callback_and_time():
    res = gn.minimize(gn.functions.sphere, [(-5, 5)] * 2, method="random_search", budget=10**6, vectorized=True,
                      target=0.5)
    assert res.fun <= 0.5 and "target" in res.message
    calls = []
    res = gn.minimize(gn.functions.sphere, [(-5, 5)] * 2, method="random_search", budget=10**6, vectorized=True,
                      callback=lambda r: calls.append(r.nfev) or len(calls) == 3)
    assert res.nit == 3 and "callback" in res.message
    res = gn.minimize(gn.functions.sphere, [(-5, 5)] * 2, method="random_search", budget=10**9, vectorized=True,
                      max_time=0.05)
    assert "max_time" in res.message


def test_progress_bar(capsys):
    gn.minimize(gn.functions.sphere, [(-5, 5)] * 2, method="random_search", budget=64, vectorized=True, progress=True)
    assert "eval" in capsys.readouterr().err


def test_nan_objective_counted():
    f = lambda X: np.where(X[:, 0] > 0, np.nan, np.sum(X ** 2, axis=1))  # noqa: E731
    res = gn.minimize(f, [(-5, 5)] * 2, method="random_search", budget=320, vectorized=True)
    assert res.n_nonfinite > 0 and np.isfinite(res.fun) and res.x[0] <= 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        gn.minimize(gn.functions.sphere, [(-1, 1)], method="nope")
    with pytest.raises(ValueError, match="budget"):
        gn.minimize(gn.functions.sphere, [(-1, 1)], method="random_search", budget=3)
    with pytest.raises(TypeError, match="fun"):
        gn.minimize(3, [(-1, 1)])
    with pytest.raises(ValueError, match="vectorized"):
        gn.minimize(lambda X: np.zeros(2), [(-1, 1)], method="random_search", budget=64, vectorized=True)
    with pytest.raises(TypeError, match="scalar"):
        gn.minimize(lambda x: "a", [(-1, 1)], method="random_search", budget=64)


def test_gaussian_random_search_center_best():
    opt = gn.RandomSearch(dim=3, distribution="gaussian", center="best", seed=2)
    for _ in range(30):
        X = opt.ask()
        opt.tell(X, gn.reference.functions.sphere(X - 2.0))
    assert opt.best_f < 1.0
    with pytest.raises(ValueError, match="bounds"):
        gn.RandomSearch(dim=3)
    with pytest.raises(ValueError, match="distribution"):
        gn.RandomSearch([(-1, 1)], distribution="cauchy")


def test_vectorized_serial_batch_raises_the_objectives_exception_or_records_it():
    """The serial vectorized batch takes a short path (no per-batch bookkeeping): the objective's exception still
    stops the run as it is, and with max_retries the batch is recorded as failed as on the general path."""
    calls = []

    def f(X):
        calls.append(1)
        if len(calls) == 3:
            raise KeyError("third batch")
        return gn.functions.sphere(X)

    with pytest.raises(KeyError, match="third batch"):
        gn.minimize(f, [(-5, 5)] * 2, method="random_search", budget=320, vectorized=True)
    calls.clear()
    res = gn.minimize(f, [(-5, 5)] * 2, method="random_search", budget=320, vectorized=True, max_retries=0)
    assert res.n_failed > 0 and res.nfev == 320 and np.isfinite(res.fun)


def test_vectorized_serial_batch_values_are_a_copy():
    buf = np.arange(4.0)
    ev = SerialEvaluator().bind(lambda X: buf, vectorized=True)
    y = ev.evaluate(np.zeros((4, 2)))
    y[:] = -1.0
    assert np.array_equal(buf, np.arange(4.0))


HUGE = np.finfo(np.float64).max


@pytest.mark.parametrize("method", sorted(gn.OPTIMIZERS))
def test_bounds_whose_width_overflows_are_refused(method):
    cls = gn.OPTIMIZERS[method]
    for bounds in ([(-HUGE, HUGE)] * 2, [(0.0, 1.0), (-1e308, 1e308)]):
        with pytest.raises(ValueError, match="bounds"):
            cls(bounds=bounds, seed=0)
    with pytest.raises(ValueError, match="bounds"):
        gn.minimize(gn.functions.sphere, [(-HUGE, HUGE)] * 2, method=method, budget=10_000, vectorized=True)
    with pytest.raises(ValueError, match="bounds"):  # a Python int beyond float64: not a bare OverflowError
        gn.minimize(gn.functions.sphere, [(0, 10**400)], method=method, budget=10_000, vectorized=True)


def _needs_box(method):
    try:
        gn.OPTIMIZERS[method](dim=2, seed=0)
    except ValueError as e:
        assert "bounds" in str(e)
        return True
    return False


@pytest.mark.parametrize("method", sorted(gn.OPTIMIZERS))
def test_methods_that_need_a_finite_box_refuse_infinite_bounds(method):
    cls = gn.OPTIMIZERS[method]
    for bounds in ([(-np.inf, np.inf)] * 2, [(0.0, np.inf)] * 2, [(0.0, 1.0), (-np.inf, 1.0)]):
        if _needs_box(method):  # the same clear error as dim=
            with pytest.raises(ValueError, match="bounds: .*needs a finite box"):
                cls(bounds=bounds, seed=0)
        else:  # an unbounded method samples finite points
            opt = cls(bounds=bounds, seed=0)
            X = opt.ask()
            assert np.isfinite(X).all(), method
    if _needs_box(method):
        with pytest.raises(ValueError, match="needs a finite box"):
            gn.minimize(gn.functions.sphere, [(0, np.inf)] * 2, method=method, budget=10_000, vectorized=True)


def test_random_search_uniform_needs_a_box_and_gaussian_does_not():
    with pytest.raises(ValueError, match="bounds: RandomSearch needs a finite box"):
        gn.RandomSearch(bounds=[(-np.inf, np.inf)] * 2)
    X = gn.RandomSearch(bounds=[(-np.inf, np.inf)] * 2, distribution="gaussian", seed=0).ask()
    assert np.isfinite(X).all()


def test_unclear_arguments_are_named():
    f = gn.functions.sphere
    with pytest.raises(TypeError, match="max_time"):
        gn.minimize(f, [(-1, 1)] * 2, max_time="1", vectorized=True)
    calls = []

    def counted(X):
        calls.append(len(X))
        return f(X)

    with pytest.raises(TypeError, match="callback"):
        gn.minimize(counted, [(-1, 1)] * 2, callback=3, vectorized=True)
    assert not calls  # refused before any evaluation
    for bad in (["pso"], ("pso",), None, 3):
        with pytest.raises((TypeError, ValueError), match="method"):
            gn.minimize(f, [(-1, 1)] * 2, method=bad, vectorized=True)


def test_snes_on_a_box_narrower_than_tolx_evaluates_something():
    res = gn.minimize(gn.functions.sphere, [(0.0, 1e-13)] * 2, method="snes", budget=100, vectorized=True)
    assert res.nfev > 0 and res.x is not None and np.isfinite(res.fun)
    assert res.message == "tolx"


def test_flags_and_unknown_options_are_named():
    # vectorized="no" was taken as true (the objective then got whole batches) and progress="off" drew a bar;
    # an unknown option said only "Optimizer.__init__() got an unexpected keyword argument", naming neither
    # options nor the method
    f = gn.functions.sphere
    calls = []

    def counted(X):
        calls.append(len(X))
        return f(X)

    for name in ("vectorized", "progress", "resume"):
        with pytest.raises(TypeError, match=name):
            gn.minimize(counted, [(-1, 1)] * 2, method="random_search", budget=64, **{name: "no"})
    assert not calls
    res = gn.minimize(f, [(-1, 1)] * 2, method="random_search", budget=64, vectorized=np.True_, progress=np.False_)
    assert res.nfev == 64
    with pytest.raises(TypeError, match=r"options: 'pso' \(PSO\) takes no option 'popsise'"):
        gn.minimize(f, [(-1, 1)] * 2, method="pso", budget=64, vectorized=True, options={"popsise": 8})


@pytest.mark.parametrize("progress", [False, True])
def test_short_max_time_still_evaluates_one_generation(progress):
    # max_time is checked between generations; the setup before the first one (here a progress bar) could already
    # exceed a short limit, and the run returned x=None, "no finite objective value in 0 evaluations"
    res = gn.minimize(gn.functions.sphere, [(-1, 1)] * 2, method="pso", budget=10**6, vectorized=True,
                      max_time=1e-12, progress=progress, options={"popsize": 10})
    assert res.nfev == 10 and res.nit == 1 and res.x is not None and res.success
    assert res.message == "max_time 1e-12 s reached"


def test_progress_bar_reaches_the_budget_it_can_spend(capsys):
    # budget 70 at popsize 16: four generations (64 evaluations) fit; the bar ended at 64/70, short of 100%
    gn.minimize(gn.functions.sphere, [(-5, 5)] * 2, method="random_search", budget=70, vectorized=True, progress=True,
                options={"popsize": 16})
    err = capsys.readouterr().err
    assert "100%" in err and re.search(r"64(\.0)?/64(\.0)?", err) and "/70" not in err.split("\r")[-1]


@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
def test_exception_carries_the_run_so_far(exc_type):
    # with max_retries=None the first exception stops the run; the best point found before it was lost
    calls = []

    def f(X):
        calls.append(1)
        if len(calls) == 4:
            raise exc_type("objective broke")
        return np.sum((X - 0.5) ** 2, axis=1)

    with pytest.raises(exc_type) as info:
        gn.minimize(f, [(-5, 5)] * 3, method="pso", budget=10_000, vectorized=True, options={"popsize": 20})
    res = info.value.result
    assert res.nfev == 60 and res.nit == 3 and not res.success and exc_type.__name__ in res.message
    assert res.x.shape == (3,) and res.fun == np.sum((res.x - 0.5) ** 2) and res.fun == res.history["fun"][-1]
    assert any(".result" in note for note in info.value.__notes__)
