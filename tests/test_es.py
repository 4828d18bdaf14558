"""OpenES and SNES: noise kernels against their NumPy twins, the seed API, convergence, arguments."""

import numpy as np
import pytest

import gfo_native as gn
from gfo_native import _core
from gfo_native.reference import es as ref

F = gn.functions


@pytest.mark.parametrize("d", [1, 7, 1023, 2**20 + 3])
@pytest.mark.parametrize("antithetic", [True, False])
def test_perturb_matches_reference(d, antithetic, rng):
    m = 3 if d < 2**20 else 1
    mean, sigma = rng.standard_normal(d), np.exp(rng.standard_normal(d))
    lo, hi = np.full(d, -1.5), np.full(d, 1.5)
    for box in ((None, None), (lo, hi)):
        a, b = np.empty((m, d)), np.empty((m, d))
        _core.es_perturb(3, 17, None, None, mean, sigma, *box, 5, antithetic, a)
        ref.perturb(3, 17, None, None, mean, sigma, *box, 5, antithetic, b)
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    assert np.all(a >= -1.5) and np.all(a <= 1.5)


@pytest.mark.parametrize("d", [1, 7, 1023, 2**20 + 3])
@pytest.mark.parametrize("antithetic", [True, False])
def test_grad_matches_reference_and_reads_the_batch_bit_for_bit(d, antithetic, rng):
    rows = 3 if d < 2**20 else 2
    m = 2 * rows if antithetic else rows
    mean, sigma = rng.standard_normal(d), np.exp(rng.standard_normal(d))
    a, b = rng.standard_normal(rows), rng.standard_normal(rows)
    a[1] = 0.0  # a zero coefficient is skipped for g1 but not for g2
    X, Xr = np.empty((m, d)), np.empty((m, d))
    _core.es_perturb(9, 4, None, None, mean, sigma, None, None, 0, antithetic, X)
    ref.perturb(9, 4, None, None, mean, sigma, None, None, 0, antithetic, Xr)
    for divide in (True, False):
        g = [np.empty(d) for _ in range(8)]
        _core.es_grad(9, 4, None, None, a, b, mean, sigma, None, antithetic, 0.25, divide, g[0], g[1])  # regenerated
        _core.es_grad(9, 4, None, None, a, b, mean, sigma, X, antithetic, 0.25, divide, g[2], g[3])  # read back
        ref.grad(9, 4, None, None, a, b, mean, sigma, None, antithetic, 0.25, divide, g[4], g[5])
        ref.grad(9, 4, None, None, a, b, mean, sigma, Xr, antithetic, 0.25, divide, g[6], g[7])
        for k in (0, 1, 4, 5):
            assert np.array_equal(g[k], g[k + 2])
        np.testing.assert_allclose(g[0], g[4], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(g[1], g[5], rtol=1e-12, atol=1e-13)
        # against the noise itself: g1 = 0.25 sum_p a_p sigma eps_p (/ sigma^2), g2 = sum_p b_p (eps_p^2 - 1)
        eps = np.array([gn.rng.normal(9, 4, d, dtype=np.float32, offset=p * d) for p in range(rows)], dtype=np.float64)
        want = 0.25 * sigma * (a @ eps)
        np.testing.assert_allclose(g[0], want / sigma**2 if divide else want, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(g[1], b @ (eps * eps - 1.0), rtol=1e-9, atol=1e-9)
    g1 = np.empty(d)  # without b and g2: the same g1 (the last loop above had divide=False)
    _core.es_grad(9, 4, None, None, a, None, mean, sigma, X, antithetic, 0.25, False, g1, None)
    assert np.array_equal(g1, g[2])


def test_perturb_draws_pairs_once_and_any_slice_agrees(rng):
    d, m = 1000, 7
    mean, sigma = rng.standard_normal(d), np.ones(d)
    whole = np.empty((m, d))
    _core.es_perturb(1, 2, None, None, mean, sigma, None, None, 0, True, whole)
    for first in range(m):
        for stop in range(first + 1, m + 1):
            part = np.empty((stop - first, d))
            _core.es_perturb(1, 2, None, None, mean, sigma, None, None, first, True, part)
            assert np.array_equal(part, whole[first:stop])
    np.testing.assert_allclose(whole[0] - mean, mean - whole[1], rtol=1e-12, atol=1e-14)  # a mirrored pair


def test_large_batches_streamed_to_memory_hold_the_same_values(rng):
    d = 2**20 + 3  # odd: rows start at alternating 16-byte alignment; 3 rows exceed the streaming threshold
    mean, sigma = rng.standard_normal(d), np.exp(rng.standard_normal(d))
    # without a box: computed and streamed in one pass (AVX2); with one: clipped in a buffer, then streamed
    for box in ((None, None), (np.full(d, -1.0), np.full(d, 1.0))):
        whole = np.empty((3, d))
        _core.es_perturb(1, 2, None, None, mean, sigma, *box, 1, True, whole)  # members 1, 2, 3
        for r in range(3):
            row = np.empty((1, d))  # one row: below the threshold, ordinary stores
            _core.es_perturb(1, 2, None, None, mean, sigma, *box, 1 + r, True, row)
            assert np.array_equal(row[0], whole[r])


@pytest.mark.parametrize("d, first, m, shift", [(2**20 + 4, 0, 2, 0), (2**20 + 4, 1, 3, 1), (2**20 + 2, 1, 2, 0),
                                                 (2**20 + 3, 2, 2, 1)])
def test_streamed_philox_batches_equal_the_reference_and_any_thread_count(d, first, m, shift, threads, rng):
    # m * d doubles exceed the streaming threshold: drawn and streamed tile by tile (AVX2), both members of a pair
    # in one pass when their rows are aligned alike (d % 4 == 0), row by row otherwise; `shift` moves the batch
    # off 32-byte alignment, `first` odd starts with a lone member of sign -, and noise rows p > 0 start inside a
    # Philox block when d % 4 != 0. The same with rows of a noise table (read, not drawn; offsets of any parity).
    mean, sigma = rng.standard_normal(d), np.exp(rng.standard_normal(d))
    table = rng.standard_normal(d + 5).astype(np.float32)
    offsets = np.array([0, 5, 3], dtype=np.int64)
    for noise in ((None, None), (table, offsets)):
        want = np.empty((m, d))
        ref.perturb(6, 11, *noise, mean, sigma, None, None, first, True, want)
        for t in (1, 2):
            threads(t)
            flat = np.empty(m * d + 1)
            X = flat[shift:shift + m * d].reshape(m, d)
            _core.es_perturb(6, 11, *noise, mean, sigma, None, None, first, True, X)
            np.testing.assert_array_equal(X, want)


def test_ask_out_fills_the_given_buffer():
    opt = gn.OpenES(dim=30, x0=np.ones(30), sigma0=0.2, popsize=8, seed=4)
    ref_opt = gn.OpenES(dim=30, x0=np.ones(30), sigma0=0.2, popsize=8, seed=4)
    buf = np.empty((8, 30))
    for _ in range(5):
        X = opt.ask(out=buf)
        assert X is buf and opt.ask() is buf
        Y = ref_opt.ask()
        assert np.array_equal(X, Y)
        opt.tell(X, F.sphere(X))
        ref_opt.tell(Y, F.sphere(Y))
    assert np.array_equal(opt.state.mean, ref_opt.state.mean)
    with pytest.raises(ValueError, match="out"):
        opt.ask(out=np.empty((8, 29)))
    with pytest.raises(ValueError, match="out"):
        opt.ask(out=np.empty((8, 30), dtype=np.float32))


@pytest.mark.parametrize("antithetic", [True, False])
def test_noise_table_kernels_match_reference(antithetic, rng):
    d, rows = 1023, 3
    table = rng.standard_normal(5000).astype(np.float32)
    offsets = np.array([0, 5000 - d, 1234], dtype=np.int64)
    mean, sigma = rng.standard_normal(d), np.exp(rng.standard_normal(d))
    m = 2 * rows if antithetic else rows
    a, b = np.empty((m, d)), np.empty((m, d))
    _core.es_perturb(1, 2, table, offsets, mean, sigma, None, None, 0, antithetic, a)
    ref.perturb(1, 2, table, offsets, mean, sigma, None, None, 0, antithetic, b)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a[0], mean + sigma * table[:d].astype(np.float64), rtol=1e-15)
    w = rng.standard_normal(rows)
    g = [np.empty(d) for _ in range(6)]
    _core.es_grad(1, 2, table, offsets, w, w, mean, sigma, None, antithetic, 0.5, True, g[0], g[1])
    _core.es_grad(1, 2, table, offsets, w, w, mean, sigma, a, antithetic, 0.5, True, g[2], g[3])
    ref.grad(1, 2, table, offsets, w, w, mean, sigma, None, antithetic, 0.5, True, g[4], g[5])
    assert np.array_equal(g[0], g[2]) and np.array_equal(g[1], g[3])
    np.testing.assert_allclose(g[0], g[4], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(g[1], g[5], rtol=1e-12, atol=1e-13)
    with pytest.raises(ValueError, match="offsets"):
        _core.es_perturb(1, 2, table, np.array([4000], dtype=np.int64), mean, sigma, None, None, 0, False, a[:1])
    with pytest.raises(ValueError, match="table, offsets"):
        _core.es_perturb(1, 2, table, None, mean, sigma, None, None, 0, False, a[:1])


@pytest.mark.parametrize("method", ["openes", "snes"])
def test_noise_table_mode_seed_api_matches_ask_tell_and_descends(method):
    kw = dict(dim=40, x0=np.full(40, 2.0), sigma0=0.3, seed=5, popsize=20, noise_table=4096)
    a, b = gn.OPTIMIZERS[method](**kw), gn.OPTIMIZERS[method](**kw)
    f0 = float(F.sphere(a.x0[None, :])[0])
    for _ in range(60):
        X = a.ask()
        a.tell(X, F.sphere(X))
        b.ask_seeds()
        f = np.concatenate([F.sphere(b.expand(s, s + 5)) for s in range(0, 20, 5)])
        b.tell_seeds(f)
    assert np.array_equal(a.state.mean, b.state.mean)
    assert float(F.sphere(a.state.mean[None, :])[0]) < 0.5 * f0
    r = gn.OPTIMIZERS[method](impl="reference", **kw)
    for _ in range(3):
        X = r.ask()
        r.tell(X, F.sphere(X))
    c = gn.OPTIMIZERS[method](**kw)
    for _ in range(3):
        X = c.ask()
        c.tell(X, F.sphere(X))
    np.testing.assert_allclose(c.state.mean, r.state.mean, rtol=1e-6, atol=1e-6)  # float32 tables agree to rounding
    with pytest.raises(ValueError, match="noise_table"):
        gn.OPTIMIZERS[method](**{**kw, "noise_table": 39})


def test_kernels_thread_count_invariant(threads, rng):
    d = 100_003
    mean, sigma, a = rng.standard_normal(d), np.ones(d), rng.standard_normal(8)
    out = []
    for t in (1, 2):
        threads(t)
        X, g1, g2 = np.empty((4, d)), np.empty(d), np.empty(d)
        _core.es_perturb(1, 2, None, None, mean, sigma, None, None, 0, True, X)
        _core.es_grad(1, 2, None, None, a, a, mean, sigma, None, False, 0.5, True, g1, g2)
        g3, g4 = np.empty(d), np.empty(d)
        _core.es_grad(1, 2, None, None, a[:2], None, mean, sigma, X, True, 0.5, False, g3, None)
        out.append((X, g1, g2, g3))
    assert all(np.array_equal(x, y) for x, y in zip(*out))


@pytest.mark.parametrize("method", ["openes", "snes"])
def test_seed_api_matches_ask_tell_bit_for_bit(method):
    kw = dict(dim=40, x0=np.full(40, 2.0), sigma0=0.5, seed=3, popsize=12)
    a, b = gn.OPTIMIZERS[method](**kw), gn.OPTIMIZERS[method](**kw)
    buf = np.empty((5, 40))
    for _ in range(15):
        X = a.ask()
        a.tell(X, F.sphere(X))
        batch = b.ask_seeds()
        assert batch.popsize == 12 and batch.generation == b.generation
        f = np.empty(batch.popsize)
        for start in range(0, batch.popsize, 5):
            stop = min(start + 5, batch.popsize)
            rows = b.expand(start, stop, out=buf[:stop - start])
            np.testing.assert_array_equal(rows, X[start:stop])
            f[start:stop] = F.sphere(rows)
        np.testing.assert_array_equal(b.expand(7), X[7])
        b.tell_seeds(f)
    assert np.array_equal(a.state.mean, b.state.mean) and a.best_f == b.best_f
    assert np.array_equal(a.best_x, b.best_x) and a.nfev == b.nfev


def test_openes_low_memory_at_high_dimension_improves():
    d = 50_000
    # 200 samples in 5e4 dimensions: the search gradient is mostly noise, so plain SGD and a small step.
    opt = gn.OpenES(dim=d, x0=np.full(d, 0.5), sigma0=0.05, lr=1e-3, optimizer="sgd", momentum=0.0, popsize=20,
                    seed=0)
    f0 = float(F.sphere(opt.x0[None, :])[0])
    buf = np.empty((4, d))
    for _ in range(10):
        opt.ask_seeds()
        f = np.concatenate([F.sphere(opt.expand(s, s + 4, out=buf)) for s in range(0, 20, 4)])
        opt.tell_seeds(f)
    assert float(F.sphere(opt.state.mean[None, :])[0]) < 0.9999 * f0


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_openes_descends_sphere(optimizer):
    opt = gn.OpenES(dim=10, x0=np.full(10, 3.0), sigma0=0.3, optimizer=optimizer, lr=0.05 if optimizer == "adam"
                    else 0.01, popsize=40, seed=1)
    for _ in range(300):
        X = opt.ask()
        opt.tell(X, F.sphere(X))
    assert float(F.sphere(opt.state.mean[None, :])[0]) < 0.05


def test_openes_native_and_reference_agree_with_sgd():
    def run(impl):
        opt = gn.OpenES(dim=6, optimizer="sgd", seed=2, impl=impl)
        for _ in range(20):
            X = opt.ask()
            opt.tell(X, F.rastrigin(X))
        return opt.state.mean

    np.testing.assert_allclose(run("native"), run("reference"), rtol=1e-12)


def test_snes_converges_on_sphere():
    opt = gn.SNES(dim=10, x0=np.full(10, 3.0), sigma0=2.0, seed=0, target=1e-8)
    while not opt.stop() and opt.nfev < 30_000:
        X = opt.ask()
        opt.tell(X, F.sphere(X))
    assert opt.best_f <= 1e-8, (opt.nfev, opt.best_f)


def test_snes_antithetic_descends():
    opt = gn.SNES(dim=10, x0=np.full(10, 3.0), sigma0=1.0, antithetic=True, seed=0)
    for _ in range(300):
        X = opt.ask()
        opt.tell(X, F.sphere(X))
    assert opt.best_f < 1e-3


def test_bad_es_arguments():
    with pytest.raises(ValueError, match="optimizer"):
        gn.OpenES(dim=3, optimizer="rmsprop")
    with pytest.raises(ValueError, match="popsize"):
        gn.OpenES(dim=3, popsize=5)
    with pytest.raises(ValueError, match="lr"):
        gn.OpenES(dim=3, lr=-1.0)
    with pytest.raises(TypeError, match="antithetic"):
        gn.SNES(dim=3, antithetic=1)
    opt = gn.OpenES(dim=3, popsize=4)
    with pytest.raises(ValueError, match="start"):
        opt.expand(4)
    with pytest.raises(ValueError, match="out"):
        opt.expand(0, 2, out=np.empty((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="fitness"):
        opt.tell_seeds([1.0, 2.0])
    opt.tell_seeds([np.nan, 1.0, 2.0, np.inf])
    assert opt.n_nonfinite == 2 and opt.best_f == 1.0 and opt.nfev == 4 and opt.generation == 1


def test_demo_section_runs_quick():
    from gfo_native.demo import es as demo

    text = demo.run(quick=True)
    assert "target 1e-08 reached" in text and "OpenES" in text and "SNES" in text


def test_philox_noise_is_float32_normals_widened_exactly():
    d = 4099
    zero, one = np.zeros(d), np.ones(d)
    X = np.empty((4, d))
    _core.es_perturb(6, 11, None, None, zero, one, None, None, 0, True, X)
    for p in range(2):
        eps = gn.rng.normal(6, 11, d, dtype=np.float32, offset=p * d)
        assert np.array_equal(X[2 * p], eps.astype(np.float64)) and np.array_equal(X[2 * p + 1], -X[2 * p])
    Xr = np.empty((4, d))
    ref.perturb(6, 11, None, None, zero, one, None, None, 0, True, Xr)
    assert np.array_equal(X, Xr)
