"""Evolutionary state estimation (ESE) of adaptive PSO (Zhan, Zhang, Li & Chung 2009, IEEE TSMC-B 39(6)).

O(1) bookkeeping per generation that both implementations share; the O(n d) spread of the swarm is the kernel
``pso_spread``. The names follow the paper.
"""

from __future__ import annotations

import math

import numpy as np

# the four evolutionary states: S1 exploration, S2 exploitation, S3 convergence, S4 jumping out
EXPLORATION, EXPLOITATION, CONVERGENCE, JUMPING_OUT = 0, 1, 2, 3
STATES = ("exploration", "exploitation", "convergence", "jumping-out")

# the paper's strategies for the acceleration coefficients: (sign for c1, sign for c2) in units of delta, where
# "slight" changes are half of delta
_COEFFICIENT_STEPS = {EXPLORATION: (1.0, -1.0), EXPLOITATION: (0.5, -0.5), CONVERGENCE: (0.5, 0.5),
                      JUMPING_OUT: (-1.0, 1.0)}
C_MIN, C_MAX, C_SUM_MAX = 1.5, 2.5, 4.0  # the bounds of c1 and c2 and of their sum
DELTA_MIN, DELTA_MAX = 0.05, 0.1         # the acceleration rate delta ~ U(0.05, 0.1)


def evolutionary_factor(spread: np.ndarray, g: int) -> float:
    """f = (d_g - d_min) / (d_max - d_min), from any increasing affine map of the mean distances d_i.

    The paper's d_i is the mean Euclidean distance of particle i to the others; here ``spread`` is the
    squared distance to the centroid (``pso_spread``), an affine map of the mean *squared* distance, which costs
    O(n d) instead of O(n^2 d). A swarm whose particles all lie at one distance gives 0 (converged).
    """
    if spread.size <= 2:
        # two particles are each at the same mean distance from the other: d_g = d_min = d_max and f is 0/0, taken
        # as 0 (converged) like any swarm at one distance. Their squared distances to the centroid are equal only
        # in exact arithmetic: ranking the rounded values would pick f = 0 or 1 by rounding noise.
        return 0.0
    lo, hi = float(spread.min()), float(spread.max())
    if not hi > lo:
        return 0.0
    return (float(spread[g]) - lo) / (hi - lo)


def memberships(f: float) -> tuple[float, float, float, float]:
    """The fuzzy memberships of (S1, S2, S3, S4) at evolutionary factor f (the paper's piecewise-linear functions)."""
    s1 = 0.0 if f <= 0.4 or f > 0.8 else (5.0 * f - 2.0 if f <= 0.6 else (1.0 if f <= 0.7 else -10.0 * f + 8.0))
    s2 = 0.0 if f <= 0.2 or f > 0.6 else (10.0 * f - 2.0 if f <= 0.3 else (1.0 if f <= 0.4 else -5.0 * f + 3.0))
    s3 = 1.0 if f <= 0.1 else (-5.0 * f + 1.5 if f <= 0.3 else 0.0)
    s4 = 0.0 if f <= 0.7 else (5.0 * f - 3.5 if f <= 0.9 else 1.0)
    return s1, s2, s3, s4


def classify(f: float, previous: int) -> int:
    """The evolutionary state at factor f (singleton classification).

    Where two memberships overlap the previous state decides: it stays if it is one of the two, else the swarm
    moves on along the cycle S1 -> S2 -> S3 -> S4 -> S1 to the first of the two it reaches.
    """
    m = memberships(f)
    candidates = [s for s in range(4) if m[s] > 0.0]
    if len(candidates) == 1:
        return candidates[0]
    if previous in candidates:
        return previous
    s = previous
    for _ in range(4):
        s = (s + 1) % 4
        if s in candidates:
            return s
    return candidates[0]  # unreachable: every f in [0, 1] has one or two states


def inertia(f: float) -> float:
    """w(f) = 1 / (1 + 1.5 exp(-2.6 f)), in [0.4, 0.9]: the factor's sigmoid mapping."""
    return 1.0 / (1.0 + 1.5 * math.exp(-2.6 * f))


def coefficients(state: int, c1: float, c2: float, u1: float, u2: float) -> tuple[float, float]:
    """c1, c2 after one generation in ``state``: steps of delta, clamped to [1.5, 2.5], sum at most 4; u1, u2 in [0, 1) draw the rates delta."""
    s1, s2 = _COEFFICIENT_STEPS[state]
    c1 = min(max(c1 + s1 * (DELTA_MIN + (DELTA_MAX - DELTA_MIN) * u1), C_MIN), C_MAX)
    c2 = min(max(c2 + s2 * (DELTA_MIN + (DELTA_MAX - DELTA_MIN) * u2), C_MIN), C_MAX)
    total = c1 + c2
    if total > C_SUM_MAX:
        c1, c2 = C_SUM_MAX * c1 / total, C_SUM_MAX * c2 / total
    return c1, c2

