"""Parent selection for the GA: O(n) index computations shared by both implementations.

Each function maps fitness values to minimize (``+inf`` for NaN/inf, already sanitized) and uniforms
``u`` from the generation's selection stream to parent indices. Ties keep index order.
"""

from __future__ import annotations

import math

import numpy as np


def tournament(f: np.ndarray, m: int, u: np.ndarray, size: int) -> np.ndarray:
    """m winners of tournaments among ``size`` members drawn with replacement (Miller & Goldberg 1995).

    Uses ``m * size`` uniforms; the first best contestant wins a tie."""
    n = f.size
    cand = np.minimum((u[: m * size] * n).astype(np.int64), n - 1).reshape(m, size)
    return np.asarray(cand[np.arange(m), np.argmin(f[cand], axis=1)])


def _windowed_weights(f: np.ndarray) -> np.ndarray:
    """Fitness-proportional weights for minimization: the distance to the worst finite value
    (windowing, Grefenstette 1986), plus a floor so the worst member keeps a small chance.
    Non-finite members get weight 0; if nothing finite differs, all weights are equal."""
    finite = np.isfinite(f)
    if not finite.any():
        return np.ones(f.size)
    worst, best = float(f[finite].max()), float(f[finite].min())
    if not math.isfinite(max(abs(worst), abs(best)) * (4.0 * f.size)):
        # values across float64's range (a penalty of 1e308 for infeasible points): the spread or the wheel's total
        # (up to 2.02 n max|f|) would overflow, and the cumulative weights turned inf / NaN, so that every parent
        # was one member. Scaled by a power of two (exact: the same proportions), the total stays finite.
        scale = 2.0 ** -math.ceil(math.log2(4.0 * f.size))
        f, worst, best = f * scale, worst * scale, best * scale
    spread = worst - best
    if not spread > 0:
        return np.asarray(finite.astype(np.float64))
    w = np.where(finite, (worst - np.where(finite, f, worst)) + 0.01 * spread, 0.0)
    return w


def _linear_rank_weights(f: np.ndarray, pressure: float) -> np.ndarray:
    """Baker's (1985) linear ranking: best gets ``pressure``, worst ``2 - pressure`` (expected copies)."""
    n = f.size
    rank = np.empty(n)
    rank[np.argsort(f, kind="stable")] = np.arange(n - 1, -1, -1)  # best -> n-1
    if n == 1:
        return np.ones(1)
    return (2.0 - pressure) + 2.0 * (pressure - 1.0) * rank / (n - 1)


def _spin(weights: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Indices whose cumulative weight interval contains each point in [0, 1)."""
    c = np.cumsum(weights)
    c /= c[-1]
    return np.minimum(np.searchsorted(c, points, side="right"), weights.size - 1)


def roulette(f: np.ndarray, m: int, u: np.ndarray) -> np.ndarray:
    """Fitness-proportional (roulette-wheel) selection on windowed weights (Holland 1975). m uniforms."""
    return _spin(_windowed_weights(f), u[:m])


def sus(f: np.ndarray, m: int, u: np.ndarray) -> np.ndarray:
    """Stochastic universal sampling (Baker 1987): m equally spaced pointers, one uniform; zero bias and
    minimal spread. The chosen parents are then shuffled by the next m uniforms so pairs are random."""
    pts = (u[0] + np.arange(m)) / m
    chosen = _spin(_windowed_weights(f), pts)
    return chosen[np.argsort(u[1 : m + 1], kind="stable")]


def rank(f: np.ndarray, m: int, u: np.ndarray, pressure: float) -> np.ndarray:
    """Linear rank selection (Baker 1985) with selection pressure in [1, 2]. m uniforms."""
    return _spin(_linear_rank_weights(f, pressure), u[:m])


def uniforms_needed(method: str, m: int, size: int) -> int:
    return {"tournament": m * size, "roulette": m, "sus": m + 1, "rank": m}[method]
