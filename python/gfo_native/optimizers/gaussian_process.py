"""The Gaussian-process surrogate of Bayesian optimization (Rasmussen & Williams 2006, ch. 2 and 5).

Model: ``y = c + f(x) + eps`` with ``f ~ GP(0, s2 * Matern52_ARD(x, x'; l))`` and ``eps ~ N(0, noise)``,
inputs in the unit cube, outputs standardized by the caller. The hyperparameters
``theta = (log l_1..l_d, log s2, log noise, c)`` maximize the log marginal likelihood plus weak
log-normal priors (a MAP estimate; the priors keep length scales finite with few points):

.. math::
    \\log p(y | \\theta) = -\\tfrac12 (y - c)^T K^{-1} (y - c) - \\sum_i \\log L_{ii} - \\tfrac n2 \\log 2\\pi,
    \\qquad K = K_f + \\mathrm{noise}\\, I = L L^T,

    \\frac{\\partial \\log p}{\\partial \\theta_k} = \\tfrac12 \\operatorname{tr}\\big((\\alpha \\alpha^T - K^{-1})
    \\tfrac{\\partial K}{\\partial \\theta_k}\\big), \\qquad \\alpha = K^{-1}(y - c)
    \\quad \\text{(R\\&W Eq. 5.9)},

by SciPy's L-BFGS-B from several starts, with SciPy's Cholesky routines; the kernel matrices and the
length-scale gradient come from the native kernels (or their NumPy twins), which agree bit for bit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import warnings
from typing import Any, ContextManager, Optional, Tuple

import numpy as np

from .._backend import Backend

LOG_2PI = math.log(2.0 * math.pi)
# Box of the hyperparameters (log scale except the mean) and the log-normal priors' (mean, sd).
LOG_LS_BOUNDS = (math.log(1e-2), math.log(1e2))
LOG_S2_BOUNDS = (math.log(1e-2), math.log(1e2))
LOG_NOISE_BOUNDS = (math.log(1e-8), math.log(1.0))
MEAN_BOUNDS = (-10.0, 10.0)
LOG_S2_PRIOR = (0.0, 1.5)
LOG_NOISE_PRIOR = (math.log(1e-4), 3.0)
MEAN_PRIOR = (0.0, 1.0)
LS_PRIOR_SD = 1.5


@functools.lru_cache(maxsize=1)
def _threadpools() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional: without it BLAS keeps its own thread count
        return None
    return ThreadpoolController()


def single_threaded_blas() -> ContextManager[Any]:
    """BLAS on one thread while fitting: the matrices are small (n <= a few thousand), where BLAS threads
    cost more in wake-ups than they save, and far more on a loaded machine."""
    ctl = _threadpools()
    return contextlib.nullcontext() if ctl is None else ctl.limit(limits=1, user_api="blas")


def log_ls_prior_mean(dim: int) -> float:
    """Longer length scales in more dimensions, as distances in the unit cube grow like sqrt(d)
    (Hvarfner, Hellsten & Nardi 2024 scale their prior the same way)."""
    return 0.5 * math.log(dim) - math.log(2.0)


@dataclasses.dataclass
class GPFit:
    """A fitted GP: what the posterior and the acquisition kernels need."""

    X: np.ndarray
    theta: np.ndarray
    L: np.ndarray
    alpha: np.ndarray
    inv_ls: np.ndarray
    s2: float
    noise: float
    mean: float
    neg_log_post: float

    def with_point(self, k: Backend, x: np.ndarray, y_all: np.ndarray) -> "GPFit":
        """The same hyperparameters conditioned on one more point (for batch proposals)."""
        return condition(k, np.ascontiguousarray(np.vstack([self.X, x[None, :]])), y_all, self.theta)


def hyper_bounds(dim: int) -> np.ndarray:
    return np.array([LOG_LS_BOUNDS] * dim + [LOG_S2_BOUNDS, LOG_NOISE_BOUNDS, MEAN_BOUNDS])


def default_theta(dim: int) -> np.ndarray:
    return prior(dim)[0]


def _unpack(theta: np.ndarray, dim: int) -> Tuple[np.ndarray, float, float, float]:
    return np.exp(-theta[:dim]), math.exp(theta[dim]), math.exp(theta[dim + 1]), float(theta[dim + 2])


def factorize(k: Backend, X: np.ndarray, y: np.ndarray, theta: np.ndarray) -> GPFit | None:
    """Cholesky factor and alpha at theta (LAPACK potrf/potrs), or None if K is not positive definite."""
    n, dim = X.shape
    inv_ls, s2, noise, mean = _unpack(theta, dim)
    K = np.empty((n, n))
    k.matern52(X, X, inv_ls, s2, K)
    K.flat[:: n + 1] += noise
    # K is symmetric: its C-order buffer read as Fortran order is K itself, so LAPACK works on it in place.
    from scipy.linalg import lapack  # imported here: SciPy costs ~0.5 s at `import gfo_native`

    L, info = lapack.dpotrf(K.T, lower=1, clean=1, overwrite_a=1)
    if info != 0:
        return None
    alpha, info = lapack.dpotrs(L, y - mean, lower=1)
    if info != 0 or not math.isfinite(float(np.dot(alpha, alpha))):
        return None
    return GPFit(X=X, theta=theta.copy(), L=np.ascontiguousarray(L), alpha=alpha, inv_ls=inv_ls, s2=s2,
                 noise=noise, mean=mean, neg_log_post=math.inf)


def prior(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Means and standard deviations of the (independent normal) priors on theta (copies)."""
    mu, sd = _prior(dim)
    return mu.copy(), sd.copy()


@functools.lru_cache(maxsize=64)
def _prior(dim: int) -> tuple[np.ndarray, np.ndarray]:
    mu = np.concatenate([np.full(dim, log_ls_prior_mean(dim)), [LOG_S2_PRIOR[0], LOG_NOISE_PRIOR[0], MEAN_PRIOR[0]]])
    sd = np.concatenate([np.full(dim, LS_PRIOR_SD), [LOG_S2_PRIOR[1], LOG_NOISE_PRIOR[1], MEAN_PRIOR[1]]])
    return mu, sd


def _log_prior_and_grad(theta: np.ndarray, dim: int) -> tuple[float, np.ndarray]:
    mu, sd = _prior(dim)
    u = (theta - mu) / sd
    return float(-0.5 * np.dot(u, u)), -u / sd


def neg_log_posterior(k: Backend, X: np.ndarray, y: np.ndarray, theta: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative (log marginal likelihood + log prior) and its gradient in theta.

    With W = alpha alpha^T - K^-1 and K = K_f + noise I, the traces need only O(n) work besides K^-1:
    tr(W K_f) = alpha^T (y - c) - noise alpha^T alpha - n + noise tr(K^-1), tr(W) = alpha^T alpha - tr(K^-1).
    """
    n, dim = X.shape
    fit = factorize(k, X, y, theta)
    if fit is None:
        return 1e25, np.zeros_like(theta)
    from scipy.linalg import lapack

    Kinv, info = lapack.dpotri(fit.L.T, lower=0)  # fit.L.T is L^T in Fortran order: the upper factor
    if info != 0:
        return 1e25, np.zeros_like(theta)
    Kinv = Kinv.T  # C-order array whose lower triangle holds K^-1
    r = y - fit.mean
    a_r, a_a, tr_kinv = float(np.dot(fit.alpha, r)), float(np.dot(fit.alpha, fit.alpha)), float(np.trace(Kinv))
    lml = -0.5 * a_r - float(np.sum(np.log(np.diag(fit.L)))) - 0.5 * n * LOG_2PI
    g = np.empty(dim + 3)
    gl = np.empty(dim)
    k.matern52_grad_log_ls(X, fit.inv_ls, fit.s2, fit.alpha, np.ascontiguousarray(Kinv), gl)
    g[:dim] = 0.5 * gl
    g[dim] = 0.5 * (a_r - fit.noise * a_a - n + fit.noise * tr_kinv)  # dK/dlog s2 = K_f
    g[dim + 1] = 0.5 * fit.noise * (a_a - tr_kinv)                    # dK/dlog noise = noise I
    g[dim + 2] = float(np.sum(fit.alpha))                             # d/dc of -(y-c)^T K^-1 (y-c) / 2
    lp, glp = _log_prior_and_grad(theta, dim)
    return -(lml + lp), -(g + glp)


def fit_gp(k: Backend, X: np.ndarray, y: np.ndarray, starts: list[np.ndarray], maxiter: int = 200) -> GPFit:
    """MAP hyperparameters by L-BFGS-B from each start; the best fit, factorized."""
    dim = X.shape[1]
    bounds = hyper_bounds(dim)
    best_theta, best_val = None, math.inf
    with single_threaded_blas():
        for theta0 in starts:
            best_theta, best_val = _fit_one(k, X, y, theta0, bounds, maxiter, best_theta, best_val)
        if best_theta is None:
            best_theta = default_theta(dim)
        fit = condition(k, X, y, best_theta)
    fit.neg_log_post = best_val
    return fit


def _fit_one(k: Backend, X: np.ndarray, y: np.ndarray, theta0: np.ndarray, bounds: np.ndarray, maxiter: int,
             best_theta: Optional[np.ndarray], best_val: float) -> Tuple[Optional[np.ndarray], float]:
    """One L-BFGS-B run; returns the better of its end point and (best_theta, best_val)."""
    from scipy.optimize import minimize as scipy_minimize  # imported on first use: slow to import

    theta0 = np.clip(theta0, bounds[:, 0], bounds[:, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scipy_minimize(lambda t: neg_log_posterior(k, X, y, t), theta0, jac=True, method="L-BFGS-B",
                             bounds=bounds, options={"maxiter": maxiter, "ftol": 1e-9, "gtol": 1e-5})
    if np.all(np.isfinite(res.x)) and res.fun < best_val:
        return res.x, float(res.fun)
    return best_theta, best_val


def condition(k: Backend, X: np.ndarray, y: np.ndarray, theta: np.ndarray) -> GPFit:
    """The GP at theta conditioned on (X, y); where K is numerically singular (duplicate points with a tiny
    noise), the noise is raised tenfold until the Cholesky factorization succeeds."""
    theta = theta.copy()
    dim = X.shape[1]
    while True:
        fit = factorize(k, X, y, theta)
        if fit is not None:
            return fit
        theta[dim + 1] += math.log(10.0)
