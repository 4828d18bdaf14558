"""NumPy twins of cpp/src/cmaes.cpp (same signatures; arrays updated in place, same operation order).

The kernels' sums run in a fixed order (dot products in eight interleaved lanes, the other sums in
index order); the helpers below reproduce that order, so both implementations agree to the last bits
up to the libm differences of the normal draws.

``params`` is ``(c_sigma, d_sigma, c_c, c1, cmu, c_m, mueff, chi_n)``; see
:class:`gfo_native.optimizers.cmaes.CMAES` for the equations (Hansen, arXiv:1604.00772).
"""

from __future__ import annotations

import math
from typing import Tuple

import numpy as np

from . import rng


def lane_dot(V: np.ndarray, B: np.ndarray) -> np.ndarray:
    """out[k, i] = sum_j B[i, j] V[k, j], summed as the kernel's eight-lane dot product."""
    n = V.shape[1]
    nb = n - n % 8
    s = np.zeros((V.shape[0], B.shape[0], 8))
    for j in range(0, nb, 8):
        s += V[:, None, j:j + 8] * B[None, :, j:j + 8]
    r = ((s[..., 0] + s[..., 1]) + (s[..., 2] + s[..., 3])) + ((s[..., 4] + s[..., 5]) + (s[..., 6] + s[..., 7]))
    for j in range(nb, n):
        r += V[:, None, j] * B[None, :, j]
    return r


def lane_norm(v: np.ndarray) -> float:
    return float(np.sqrt(lane_dot(v[None, :], v[None, :])[0, 0]))


def sample(seed: int, stream: int, mean: np.ndarray, sigma: float, B: np.ndarray, D: np.ndarray, X: np.ndarray,
           Z: np.ndarray) -> None:
    lam, n = X.shape
    Z[...] = rng.normal(seed, stream, lam * n).reshape(lam, n)
    X[...] = mean + sigma * lane_dot(D * Z, B)


def _h_sigma(ps_norm: float, cs: float, generation: int, n: int, chi_n: float) -> float:
    corr = np.sqrt(1.0 - (1.0 - cs) ** (2.0 * (generation + 1)))
    return 1.0 if ps_norm / corr < (1.4 + 2.0 / (n + 1)) * chi_n else 0.0


def _ordered_sum(v: np.ndarray) -> float:
    s = 0.0
    for x in v:
        s += float(x)
    return s


def _chunked_norm(v: np.ndarray, chunk: int = 4096) -> float:
    """sqrt of sum v^2: sequential within chunks of 4096, the chunk sums added in order (as the kernel)."""
    s = 0.0
    for b in range(0, v.size, chunk):
        s += float(np.cumsum(v[b:b + chunk] * v[b:b + chunk])[-1])
    return math.sqrt(s)


def _weighted_sum(w: np.ndarray, Y: np.ndarray) -> np.ndarray:
    out = np.zeros(Y.shape[1])
    for r in range(len(w)):
        out += w[r] * Y[r]
    return out


def tell(X: np.ndarray, Z: np.ndarray, f: np.ndarray, weights: np.ndarray, mu: int, params: np.ndarray,
         generation: int, mean: np.ndarray, sigma: float, C: np.ndarray, B: np.ndarray, D: np.ndarray,
         p_sigma: np.ndarray, p_c: np.ndarray) -> Tuple[float, ...]:
    cs, ds, cc, c1, cmu, cm, mueff, chi_n = (float(v) for v in params)
    lam, n = X.shape
    order = np.argsort(f, kind="stable")
    Y = (X[order] - mean) / sigma
    Zs = Z[order]
    yw = _weighted_sum(weights[:mu], Y[:mu])
    zsum = _weighted_sum(weights[:mu], Zs[:mu])
    mean[...] = mean + (cm * sigma) * yw
    zw = lane_dot(zsum[None, :], B)[0]                           # C^{-1/2} <y>_w = B <z>_w
    p_sigma[...] = (1.0 - cs) * p_sigma + np.sqrt(cs * (2.0 - cs) * mueff) * zw
    ps_norm = lane_norm(p_sigma)
    h = _h_sigma(ps_norm, cs, generation, n, chi_n)
    p_c[...] = (1.0 - cc) * p_c + (h * np.sqrt(cc * (2.0 - cc) * mueff)) * yw
    wo = np.array(weights, dtype=np.float64)
    for r in range(lam - mu):                                    # ||C^{-1/2} y||^2 = ||z||^2
        q = lane_dot(Zs[mu + r:mu + r + 1], Zs[mu + r:mu + r + 1])[0, 0]
        wo[mu + r] = weights[mu + r] * n / q if q > 0 else 0.0
    a = 1.0 + c1 * ((1.0 - h) * cc * (2.0 - cc)) - c1 - cmu * _ordered_sum(weights)
    M = np.zeros((n, n))
    for r in range(lam):
        M += np.outer(wo[r] * Y[r], Y[r])
    upper = np.triu(a * C + np.outer(c1 * p_c, p_c) + cmu * M)
    C[...] = upper + np.triu(upper, 1).T
    ex = min(1.0, (cs / ds) * (ps_norm / chi_n - 1.0))
    diag = np.diagonal(C)
    fs = f[order]
    return (sigma * math.exp(ex), h, ps_norm, float(fs[0]), float(fs[lam // 2]), float(fs[-1]),
            float(np.max(np.abs(p_c))), float(np.min(diag)), float(np.max(diag)), float(np.max(np.abs(mean))))


def sep_sample(seed: int, stream: int, mean: np.ndarray, sigma: float, D: np.ndarray, X: np.ndarray) -> None:
    lam, n = X.shape
    X[...] = mean + sigma * (D * rng.normal(seed, stream, lam * n).reshape(lam, n))


def sep_tell(X: np.ndarray, f: np.ndarray, weights: np.ndarray, mu: int, params: np.ndarray, generation: int,
             mean: np.ndarray, sigma: float, c: np.ndarray, D: np.ndarray, p_sigma: np.ndarray,
             p_c: np.ndarray) -> Tuple[float, float, float]:
    cs, ds, cc, c1, cmu, cm, mueff, chi_n = (float(v) for v in params)
    lam, n = X.shape
    order = np.argsort(f, kind="stable")
    Y = (X[order[:mu]] - mean) / sigma
    w = weights[:mu]
    yw = _weighted_sum(w, Y)
    sq = _weighted_sum(w, Y * Y)
    mean[...] = mean + (cm * sigma) * yw
    p_sigma[...] = (1.0 - cs) * p_sigma + np.sqrt(cs * (2.0 - cs) * mueff) * (yw / D)
    ps_norm = _chunked_norm(p_sigma)
    h = _h_sigma(ps_norm, cs, generation, n, chi_n)
    p_c[...] = (1.0 - cc) * p_c + (h * np.sqrt(cc * (2.0 - cc) * mueff)) * yw
    a = 1.0 + c1 * ((1.0 - h) * cc * (2.0 - cc)) - c1 - cmu * _ordered_sum(w)
    c[...] = a * c + c1 * (p_c * p_c) + cmu * sq
    D[...] = np.sqrt(c)
    ex = min(1.0, (cs / ds) * (ps_norm / chi_n - 1.0))
    return sigma * math.exp(ex), h, ps_norm
