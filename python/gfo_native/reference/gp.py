"""NumPy twins of cpp/src/gp.cpp (same signatures: results written into ``out``).

These follow the native kernels operation for operation, in the same summation order (sums run
sequentially from 0, as ``np.cumsum`` does), and call the C library's ``exp``/``erfc``/``log`` through
``math``, so that native and reference agree bit for bit and a Bayesian-optimization run gives the same
trajectory with either implementation. Readable, not fast: the tests and the suite use small sizes.

Matérn-5/2 (Rasmussen & Williams 2006, Eq. 4.17), t_j = (x_j - y_j) / l_j, r2 = sum_j t_j^2:
``k = s2 * ((1 + sqrt5 r + 5/3 r2) * exp(-sqrt5 r))``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Tuple

import numpy as np

SQRT5 = 2.23606797749979
FIVE_THIRDS = 5.0 / 3.0
INV_SQRT2 = 0.7071067811865476
INV_SQRT_2PI = 0.3989422804014327
SQRT_PI = 1.7724538509055159
LOG_SQRT_2PI = 0.9189385332046727
LOG_SQRT_HALF_PI = 0.22579135264472744
LN2 = 0.6931471805599453
VAR_FLOOR = 1e-12
KINDS = {"log_ei": 0, "ei": 1, "ucb": 2, "log_pi": 3}


def _elementwise(fn: Callable[[float], float]) -> Callable[[Any], np.ndarray]:
    vf = np.frompyfunc(fn, 1, 1)
    return lambda x: np.asarray(vf(np.asarray(x, dtype=np.float64)), dtype=np.float64)


_exp, _erfc, _log, _log1p, _expm1 = (_elementwise(f) for f in (math.exp, math.erfc, math.log, math.log1p, math.expm1))


def _seq_sum(a: np.ndarray, axis: int) -> np.ndarray:
    """Sum from 0 in index order (what the native loops do), not NumPy's pairwise order."""
    if a.shape[axis] == 0:
        return np.zeros(np.delete(a.shape, axis))
    return np.asarray(np.take(np.cumsum(a, axis=axis), -1, axis=axis))


def _sq_dist(X1: np.ndarray, X2: np.ndarray, inv_ls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = (X1[:, None, :] - X2[None, :, :]) * inv_ls
    t2 = t * t
    return _seq_sum(t2, 2), t2


def _matern_of_r2(r2: np.ndarray, s2: float) -> np.ndarray:
    s5r = SQRT5 * np.sqrt(r2)
    return np.asarray(s2 * ((1.0 + s5r + FIVE_THIRDS * r2) * _exp(-s5r)))


def matern52(X1: np.ndarray, X2: np.ndarray, inv_ls: np.ndarray, s2: float, out: np.ndarray) -> None:
    out[...] = _matern_of_r2(_sq_dist(X1, X2, inv_ls)[0], s2)


def matern52_grad_log_ls(X: np.ndarray, inv_ls: np.ndarray, s2: float, alpha: np.ndarray, Kinv: np.ndarray,
                         out: np.ndarray) -> None:
    """sum_ab W_ab dk_ab/dlog l_j, W = alpha alpha^T - Kinv (strict lower triangle of Kinv read)."""
    n, d = X.shape
    partial = np.zeros((n, d))
    for a in range(n - 1):
        r2, t2 = _sq_dist(X[a:a + 1], X[a + 1:], inv_ls)
        s5r = SQRT5 * np.sqrt(r2[0])
        w = (alpha[a] * alpha[a + 1:] - Kinv[a + 1:, a]) * (FIVE_THIRDS * s2 * ((1.0 + s5r) * _exp(-s5r)))
        partial[a] = _seq_sum(w[:, None] * t2[0], 0)
    out[...] = 2.0 * _seq_sum(partial, 0)


def _posterior(X: np.ndarray, inv_ls: np.ndarray, s2: float, mean: float, L: np.ndarray, alpha: np.ndarray,
               Xc: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    n = X.shape[0]
    k = _matern_of_r2(_sq_dist(Xc, X, inv_ls)[0], s2)  # (m, n): k[c, i] = k(X[i], Xc[c])
    mu = mean + _seq_sum(k * alpha, 1)
    v = np.empty_like(k)
    for i in range(n):  # forward substitution, j ascending from k_i
        s = k[:, i].copy()
        for j in range(i):
            s = s - L[i, j] * v[:, j]
        v[:, i] = s / L[i, i]
    var = np.maximum(s2 - _seq_sum(v * v, 1), VAR_FLOOR)
    return mu, var


def posterior(X: np.ndarray, inv_ls: np.ndarray, s2: float, mean: float, L: np.ndarray, alpha: np.ndarray,
              Xc: np.ndarray, mu: np.ndarray, var: np.ndarray) -> None:
    mu[...], var[...] = _posterior(X, inv_ls, s2, mean, L, alpha, Xc)


def _erfcx_nonneg(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    small = x < 25.0
    xs = x[small]
    out[small] = _exp(xs * xs) * _erfc(xs)
    xl = x[~small]
    q = 1.0 / (2.0 * xl * xl)
    term, total = np.ones_like(xl), np.ones_like(xl)
    for k in range(1, 9):  # asymptotic series, Abramowitz & Stegun 7.1.23
        term = term * (-(2.0 * k - 1.0) * q)
        total = total + term
    out[~small] = total / (xl * SQRT_PI)
    return out


def _log1mexp(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    near = x > -LN2
    out[near] = _log(-_expm1(x[near]))
    out[~near] = _log1p(-_exp(x[~near]))
    return out


def log_h_values(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z Phi(z)), stable for very negative z (Ament et al. 2023, Eq. 9)."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    a = z > -1.0
    za = z[a]
    phi = INV_SQRT_2PI * _exp(-0.5 * za * za)
    out[a] = _log(phi + za * (0.5 * _erfc(-za * INV_SQRT2)))
    b = (~a) & (-z < 1e3)
    zb = z[b]
    azb = -zb
    out[b] = -0.5 * zb * zb - LOG_SQRT_2PI + _log1mexp(_log(_erfcx_nonneg(azb * INV_SQRT2) * azb) + LOG_SQRT_HALF_PI)
    c = ~(a | b)
    zc = z[c]
    out[c] = -0.5 * zc * zc - LOG_SQRT_2PI - 2.0 * _log(-zc) + _log1p(-3.0 / (zc * zc))
    return out


def log_h(z: np.ndarray, out: np.ndarray) -> None:
    out[...] = log_h_values(z)


def log_ndtr_values(z: np.ndarray) -> np.ndarray:
    """log Phi(z), stable in both tails."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    p = z >= 0.0
    out[p] = _log1p(-0.5 * _erfc(z[p] * INV_SQRT2))
    m = (~p) & (z > -1.0)
    out[m] = _log(0.5 * _erfc(-z[m] * INV_SQRT2))
    t = ~(p | m)
    zt = z[t]
    out[t] = _log(0.5 * _erfcx_nonneg(-zt * INV_SQRT2)) - 0.5 * zt * zt
    return out


def acquisition(X: np.ndarray, inv_ls: np.ndarray, s2: float, mean: float, L: np.ndarray, alpha: np.ndarray,
                Xc: np.ndarray, kind: int, best: float, param: float, out: np.ndarray) -> None:
    mu, var = _posterior(X, inv_ls, s2, mean, L, alpha, Xc)
    sigma = np.sqrt(var)
    if kind == KINDS["ucb"]:
        out[...] = -(mu - param * sigma)
        return
    z = (best - mu - param) / sigma
    if kind == KINDS["log_ei"]:
        out[...] = log_h_values(z) + _log(sigma)
    elif kind == KINDS["ei"]:
        out[...] = sigma * (INV_SQRT_2PI * _exp(-0.5 * z * z) + z * (0.5 * _erfc(-z * INV_SQRT2)))
    elif kind == KINDS["log_pi"]:
        out[...] = log_ndtr_values(z)
    else:
        raise ValueError("kind: expected 0 (log_ei), 1 (ei), 2 (ucb) or 3 (log_pi)")
