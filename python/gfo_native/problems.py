"""Classic low-dimensional test problems of Bayesian optimization, vectorized over rows, with their minima.

Definitions follow Dixon & Szegő (1978) as catalogued by Surjanovic & Bingham's Virtual Library of
Simulation Experiments. Each problem is ``(function, bounds, f_min)``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["PROBLEMS", "ackley5", "branin", "hartmann6"]


def branin(X: np.ndarray) -> np.ndarray:
    """Branin-Hoo on [-5, 10] x [0, 15]; three global minima of 0.397887..."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    x1, x2 = X[:, 0], X[:, 1]
    b, c, t = 5.1 / (4.0 * math.pi**2), 5.0 / math.pi, 1.0 / (8.0 * math.pi)
    return np.asarray((x2 - b * x1**2 + c * x1 - 6.0) ** 2 + 10.0 * (1.0 - t) * np.cos(x1) + 10.0)


_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
                  [17, 8, 0.05, 10, 0.1, 14]], dtype=np.float64)
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]], dtype=np.float64)


def hartmann6(X: np.ndarray) -> np.ndarray:
    """Hartmann-6 on [0, 1]^6; global minimum -3.32237 (six local minima)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    inner = np.sum(_H6_A[None, :, :] * (X[:, None, :] - _H6_P[None, :, :]) ** 2, axis=2)
    return np.asarray(-np.sum(_H6_ALPHA * np.exp(-inner), axis=1))


def ackley5(X: np.ndarray) -> np.ndarray:
    """Ackley in 5-D on [-32.768, 32.768]^5; minimum 0 at the origin."""
    from .functions import ackley

    return ackley(np.ascontiguousarray(np.atleast_2d(np.asarray(X, dtype=np.float64))))


PROBLEMS = {
    "branin": (branin, [(-5.0, 10.0), (0.0, 15.0)], 0.39788735772973816),
    "hartmann6": (hartmann6, [(0.0, 1.0)] * 6, -3.322368011415515),
    "ackley5": (ackley5, [(-32.768, 32.768)] * 5, 0.0),
}
