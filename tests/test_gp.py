"""GP kernels of Bayesian optimization: native == NumPy twin bit for bit, closed-form posterior, log-EI."""

import math

import numpy as np
import pytest
import scipy.optimize as so
from scipy.special import log_ndtr, ndtr

from gfo_native import _core
from gfo_native._backend import Backend
from gfo_native.optimizers import gaussian_process as G
from gfo_native.reference import gp as R

KINDS = sorted(R.KINDS.items())


def model(rng, n, d, noise=1e-4):
    X = rng.uniform(size=(n, d))
    inv_ls = 1.0 / rng.uniform(0.1, 1.0, d)
    s2, mean = 1.3, 0.2
    y = np.sin(3.0 * X @ np.arange(1, d + 1))
    K = np.empty((n, n))
    _core.gp_matern52(X, X, inv_ls, s2, K)
    K[np.diag_indices(n)] += noise
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(K, y - mean)
    return dict(X=X, inv_ls=inv_ls, s2=s2, mean=mean, L=np.ascontiguousarray(L), alpha=alpha), K, y


@pytest.mark.parametrize("m", [1, 7, 1023])
@pytest.mark.parametrize("n,d", [(1, 1), (7, 3), (33, 6)])
def test_native_equals_reference_bitwise(rng, m, n, d):
    gp, K, _ = model(rng, n, d)
    Xc = rng.uniform(size=(m, d))
    a, b = np.empty((m, n)), np.empty((m, n))
    _core.gp_matern52(Xc, gp["X"], gp["inv_ls"], gp["s2"], a)
    R.matern52(Xc, gp["X"], gp["inv_ls"], gp["s2"], b)
    np.testing.assert_array_equal(a, b)
    Kinv = np.ascontiguousarray(np.linalg.inv(K))
    g1, g2 = np.empty(d), np.empty(d)
    _core.gp_matern52_grad_log_ls(gp["X"], gp["inv_ls"], gp["s2"], gp["alpha"], Kinv, g1)
    R.matern52_grad_log_ls(gp["X"], gp["inv_ls"], gp["s2"], gp["alpha"], Kinv, g2)
    np.testing.assert_array_equal(g1, g2)
    args = [gp[k] for k in ("X", "inv_ls", "s2", "mean", "L", "alpha")] + [Xc]
    mu1, v1, mu2, v2 = (np.empty(m) for _ in range(4))
    _core.gp_posterior(*args, mu1, v1)
    R.posterior(*args, mu2, v2)
    np.testing.assert_array_equal(mu1, mu2)
    np.testing.assert_array_equal(v1, v2)
    for _, kind in KINDS:
        o1, o2 = np.empty(m), np.empty(m)
        _core.gp_acquisition(*args, kind, -0.5, 0.01, o1)
        R.acquisition(*args, kind, -0.5, 0.01, o2)
        np.testing.assert_array_equal(o1, o2)


def test_thread_count_invariance(rng, threads):
    gp, K, _ = model(rng, 200, 4)
    Xc = rng.uniform(size=(4099, 4))
    args = [gp[k] for k in ("X", "inv_ls", "s2", "mean", "L", "alpha")] + [Xc]
    Kinv = np.ascontiguousarray(np.linalg.inv(K))
    res = []
    for t in (1, 2):
        threads(t)
        out, kc, g = np.empty(len(Xc)), np.empty((len(Xc), 200)), np.empty(4)
        _core.gp_acquisition(*args, 0, -0.5, 0.0, out)
        _core.gp_matern52(Xc, gp["X"], gp["inv_ls"], gp["s2"], kc)
        _core.gp_matern52_grad_log_ls(gp["X"], gp["inv_ls"], gp["s2"], gp["alpha"], Kinv, g)
        res.append((out, kc, g))
    for a, b in zip(*res):
        assert np.array_equal(a, b)


def test_posterior_matches_closed_form(rng):
    n, d, m = 40, 3, 257
    gp, K, y = model(rng, n, d, noise=1e-3)
    Xc = rng.uniform(size=(m, d))
    kc = np.empty((m, n))
    _core.gp_matern52(Xc, gp["X"], gp["inv_ls"], gp["s2"], kc)
    mu_ref = gp["mean"] + kc @ np.linalg.solve(K, y - gp["mean"])
    var_ref = gp["s2"] - np.einsum("ij,ji->i", kc, np.linalg.solve(K, kc.T))
    mu, var = np.empty(m), np.empty(m)
    _core.gp_posterior(*[gp[k] for k in ("X", "inv_ls", "s2", "mean", "L", "alpha")], Xc, mu, var)
    np.testing.assert_allclose(mu, mu_ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(var, np.maximum(var_ref, R.VAR_FLOOR), rtol=1e-7, atol=1e-10)
    # at a training point the posterior is pinned to the data, up to the noise
    mu0, var0 = np.empty(1), np.empty(1)
    _core.gp_posterior(*[gp[k] for k in ("X", "inv_ls", "s2", "mean", "L", "alpha")], gp["X"][:1].copy(), mu0, var0)
    assert abs(mu0[0] - y[0]) < 1e-2 and var0[0] < 2e-3


def test_matern_closed_form(rng):
    X = rng.uniform(size=(5, 2))
    ls = np.array([0.3, 0.7])
    K = np.empty((5, 5))
    _core.gp_matern52(X, X, 1.0 / ls, 2.0, K)
    r = np.sqrt((((X[:, None, :] - X[None, :, :]) / ls) ** 2).sum(-1))
    ref = 2.0 * (1 + math.sqrt(5) * r + 5.0 / 3.0 * r**2) * np.exp(-math.sqrt(5) * r)
    np.testing.assert_allclose(K, ref, rtol=1e-13)
    assert np.array_equal(K, K.T) and np.all(np.diag(K) == 2.0)


def test_log_ei_is_stable_where_ei_underflows():
    z = np.concatenate([-np.logspace(-3, 12, 400), np.linspace(-40, 40, 801)])
    out = np.empty_like(z)
    _core.gp_log_h(z, out)
    assert np.all(np.isfinite(out))
    srt = np.argsort(z)
    assert np.all(np.diff(out[srt]) >= -1e-12 * np.abs(out[srt][1:]))  # h is increasing
    h = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi) + z * ndtr(z)
    ok = (h > 1e-250) & (z > -25)  # where the direct formula still has digits left
    np.testing.assert_allclose(out[ok], np.log(h[ok]), rtol=1e-9, atol=1e-12)
    far = z < -1e4  # h(z) ~ phi(z) / z^2
    np.testing.assert_allclose(out[far], -0.5 * z[far] ** 2 - 0.5 * math.log(2 * math.pi) - 2 * np.log(-z[far]),
                               rtol=1e-12)
    assert np.all(h[z < -40] == 0.0)  # the plain formula underflows there, log-EI does not


def test_acquisition_kinds_agree_with_formulas(rng):
    gp, _, _ = model(rng, 20, 2)
    Xc = rng.uniform(size=(64, 2))
    args = [gp[k] for k in ("X", "inv_ls", "s2", "mean", "L", "alpha")] + [Xc]
    mu, var = np.empty(64), np.empty(64)
    _core.gp_posterior(*args, mu, var)
    sig = np.sqrt(var)
    best, xi = float(np.min(mu)) + 0.1, 0.02
    z = (best - mu - xi) / sig
    out = {k: np.empty(64) for k in R.KINDS}
    for name, kind in R.KINDS.items():
        _core.gp_acquisition(*args, kind, best, xi if name != "ucb" else 2.0, out[name])
    ei = sig * (np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi) + z * ndtr(z))
    np.testing.assert_allclose(out["ei"], ei, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(np.exp(out["log_ei"]), ei, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(out["log_pi"], log_ndtr(z), rtol=1e-9)
    np.testing.assert_allclose(out["ucb"], -(mu - 2.0 * sig), rtol=1e-12)


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_log_marginal_likelihood_and_gradient(rng, impl):
    from scipy.stats import multivariate_normal

    k = Backend(impl, "gp")
    n, d = 15, 3
    X = rng.uniform(size=(n, d))
    y = np.sin(X @ np.arange(1, d + 1))
    theta = G.default_theta(d) + 0.3 * rng.normal(size=d + 3)
    f, g = G.neg_log_posterior(k, X, y, theta)
    inv_ls, s2, noise, c = G._unpack(theta, d)
    K = np.empty((n, n))
    _core.gp_matern52(X, X, inv_ls, s2, K)
    lml = multivariate_normal(np.full(n, c), K + noise * np.eye(n)).logpdf(y)
    assert f == pytest.approx(-(lml + G._log_prior_and_grad(theta, d)[0]), rel=1e-10)
    num = so.approx_fprime(theta, lambda t: G.neg_log_posterior(k, X, y, t)[0], 1e-7)
    np.testing.assert_allclose(g, num, rtol=1e-4, atol=1e-4)


def test_bad_kernel_arguments():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="inv_ls"):
        _core.gp_matern52(X, X, np.ones(3), 1.0, np.empty((3, 3)))
    with pytest.raises(TypeError, match="X2"):
        _core.gp_matern52(X, X.astype(np.float32), np.ones(2), 1.0, np.empty((3, 3)))
    with pytest.raises(ValueError, match="kind"):
        _core.gp_acquisition(X, np.ones(2), 1.0, 0.0, np.eye(3), np.zeros(3), X, 9, 0.0, 0.0, np.empty(3))
