"""NumPy twin of cpp/src/pso.cpp: the fused PSO generation, same signature and operation order."""

from __future__ import annotations

import numpy as np

from . import rng


def update(seed: int, stream_r1: int, stream_r2: int, w: float, c1: float, c2: float, X: np.ndarray, V: np.ndarray,
           P: np.ndarray, improved: np.ndarray, nbest: np.ndarray, vmax: np.ndarray, lo: np.ndarray, hi: np.ndarray,
           bounds: int, Xnew: np.ndarray) -> None:
    n, d = X.shape
    imp = improved.astype(bool)
    P[imp] = X[imp]
    # the neighbourhood best after the refresh (the kernel reads X[k] for refreshed k: same values)
    G = P[nbest]
    R1 = rng.uniform(seed, stream_r1, n * d, dtype=np.float32).astype(np.float64).reshape(n, d)
    R2 = rng.uniform(seed, stream_r2, n * d, dtype=np.float32).astype(np.float64).reshape(n, d)
    # a box ~1e308 wide: the kernel does the same arithmetic silently (overflow to inf, then clipped)
    with np.errstate(over="ignore", invalid="ignore"):
        v = w * V + c1 * R1 * (P - X) + c2 * R2 * (G - X)  # Eq. (1) of Shi & Eberhart (1998)
        v = np.where(v == v, v, 0.0)  # inf - inf: no direction, the component is 0
        v = np.minimum(np.maximum(v, -vmax), vmax)
        x = X + v
        if bounds == 0:  # absorbing wall
            for m, face in ((x < lo, lo), (x > hi, hi)):
                x = np.where(m, face, x)
                v = np.where(m, 0.0, v)
        else:  # mirror, reverse the velocity, clip any overshoot past the far face
            m = x < lo
            x = np.where(m, lo + (lo - x), x)
            v = np.where(m, -v, v)
            m = x > hi
            x = np.where(m, hi - (x - hi), x)
            v = np.where(m, -v, v)
            x = np.minimum(np.maximum(x, lo), hi)
    V[...] = v
    Xnew[...] = x



def lane_sums(T: np.ndarray) -> np.ndarray:
    """Row sums of T in the order of cpp/include/gfo/lanes.hpp: element j into lane j % 8 (running sums down each
    lane; the zero padding adds nothing), then ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))."""
    n, d = T.shape
    padded = np.zeros((n, -(-d // 8) * 8))
    padded[:, :d] = T
    v = np.add.accumulate(padded.reshape(n, -1, 8), axis=1)[:, -1, :]
    return np.asarray(((v[:, 0] + v[:, 1]) + (v[:, 2] + v[:, 3])) + ((v[:, 4] + v[:, 5]) + (v[:, 6] + v[:, 7])))


def spread(X: np.ndarray, S: np.ndarray) -> None:
    """S[i] = sum_j (X[i, j] - c[j])^2 around the centroid c: twin of cpp/src/pso.cpp's pso_spread (np.add.accumulate
    is a running sum in index order, where np.sum would sum pairwise)."""
    c = np.add.accumulate(X, axis=0)[-1] / X.shape[0]
    D = X - c
    S[...] = lane_sums(D * D)
