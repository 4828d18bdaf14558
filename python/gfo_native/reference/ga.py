"""NumPy twin of cpp/src/ga.cpp: GA offspring (crossover of parent pairs, then mutation)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import rng

UNIFORM, ONE_POINT, TWO_POINT, BLX, ARITHMETIC, SBX = range(6)
NO_MUTATION, GAUSSIAN, POLYNOMIAL, BITFLIP = range(4)


def _clip(v: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    return np.asarray(np.minimum(np.maximum(v, lo), hi))


def _sbx_bounded(A: np.ndarray, B: np.ndarray, u: np.ndarray, w: np.ndarray, eta: float, lo: np.ndarray,
                 hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bound-aware SBX (Deb & Agrawal 1995; bounded form of Deb's NSGA-II code): twin of ga.cpp's sbx_gene.

    A gene is recombined when w < 1/2 and the parents differ by more than 1e-14; the two children then
    swap sides when w < 1/4 (probability 1/2 given recombination)."""
    y1, y2 = np.minimum(A, B), np.maximum(A, B)
    mix = (w < 0.5) & (y2 - y1 > 1e-14)
    dy = np.where(mix, y2 - y1, 1.0)
    inv = 1.0 / (eta + 1.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        def beta_q(dist: np.ndarray) -> np.ndarray:
            # the spread's density is truncated at the bound `dist` away from the nearer parent
            alpha = 2.0 - np.power(1.0 + 2.0 * dist / dy, -(eta + 1.0))
            ua = u * alpha
            return np.asarray(np.where(u <= 1.0 / alpha, np.power(ua, inv), np.power(1.0 / (2.0 - ua), inv)))

        c_lo = _clip(0.5 * ((y1 + y2) - beta_q(y1 - lo) * dy), lo, hi)
        c_hi = _clip(0.5 * ((y1 + y2) + beta_q(hi - y2) * dy), lo, hi)
    swap = w < 0.25
    c0 = np.where(mix, np.where(swap, c_hi, c_lo), A)
    c1 = np.where(mix, np.where(swap, c_lo, c_hi), B)
    return c0, c1


def _polynomial_bounded(x: np.ndarray, u: np.ndarray, eta: float, lo: np.ndarray, hi: np.ndarray,
                        span: np.ndarray) -> np.ndarray:
    """Bound-aware polynomial mutation (Deb & Goyal 1996; Deb & Deb 2014): twin of ga.cpp's poly_gene.

    The perturbation's density is truncated at the bounds, so a gene near a bound moves less towards it.
    With an infinite bound the truncation term vanishes (the unbounded operator, in units of ``span``)."""
    inv = 1.0 / (eta + 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        r_lo = np.maximum(1.0 - (x - lo) / span, 0.0)  # 1 - normalised distance to the lower bound
        r_hi = np.maximum(1.0 - (hi - x) / span, 0.0)
        down = 2.0 * u + (1.0 - 2.0 * u) * np.power(r_lo, eta + 1.0)
        up = 2.0 * (1.0 - u) + 2.0 * (u - 0.5) * np.power(r_hi, eta + 1.0)
        delta = np.where(u < 0.5, np.power(down, inv) - 1.0, 1.0 - np.power(up, inv))
    return _clip(x + delta * span, lo, hi)


def offspring(seed: int, stream_pair: int, stream_gene: int, stream_mutate: int, stream_mutation: int,
              crossover: int, crossover_prob: float, alpha: float, eta_c: float, mutation: int, mutation_prob: float,
              sigma: float, eta_m: float, G: np.ndarray, parents: np.ndarray, lo: np.ndarray, hi: np.ndarray,
              span: np.ndarray, C: np.ndarray) -> None:
    n, L = C.shape
    npairs = (n + 1) // 2
    A, B = G[parents[0::2]], G[parents[1::2]]
    up = rng.uniform(seed, stream_pair, 3 * npairs).reshape(npairs, 3)
    if crossover == UNIFORM:
        swap = rng.uniform(seed, stream_gene, 2 * npairs * L, np.float32).astype(np.float64).reshape(npairs, 2, L)[:, 0] < 0.5
        c0, c1 = np.where(swap, B, A), np.where(swap, A, B)
    elif crossover in (ONE_POINT, TWO_POINT):
        j = np.arange(L)[None, :]
        if L > 1:
            c = np.floor(up[:, 1] * float(L - 1)).astype(np.int64) + 1
            if crossover == ONE_POINT:
                first, last = c, np.full(npairs, L)
            else:
                c2 = np.floor(up[:, 2] * float(L - 1)).astype(np.int64) + 1
                first, last = np.minimum(c, c2), np.maximum(c, c2)
        else:
            first = last = np.full(npairs, L)
        swap = (j >= first[:, None]) & (j < last[:, None])
        c0, c1 = np.where(swap, B, A), np.where(swap, A, B)
    elif crossover == BLX:
        ug = rng.uniform(seed, stream_gene, 2 * npairs * L).reshape(npairs, 2, L)
        mn = np.minimum(A, B)
        I = np.maximum(A, B) - mn
        widen = 1.0 + 2.0 * alpha
        c0 = _clip((mn - alpha * I) + ug[:, 0] * (widen * I), lo, hi)
        c1 = _clip((mn - alpha * I) + ug[:, 1] * (widen * I), lo, hi)
    elif crossover == ARITHMETIC:
        lam = up[:, 1:2]
        c0 = lam * A + (1.0 - lam) * B
        c1 = (1.0 - lam) * A + lam * B
    elif crossover == SBX:
        ug = rng.uniform(seed, stream_gene, 2 * npairs * L).reshape(npairs, 2, L)
        c0, c1 = _sbx_bounded(A, B, ug[:, 0], ug[:, 1], eta_c, lo, hi)
    else:
        raise ValueError("crossover: unknown operator code")
    cross = (up[:, 0] < crossover_prob)[:, None]
    kids = np.empty((npairs, 2, L))
    kids[:, 0] = np.where(cross, c0, A)
    kids[:, 1] = np.where(cross, c1, B)
    kids = kids.reshape(2 * npairs, L)[:n]
    if mutation != NO_MUTATION:
        hit = rng.uniform(seed, stream_mutate, n * L, np.float32).astype(np.float64).reshape(n, L) < mutation_prob
        if mutation == GAUSSIAN:
            z = rng.normal(seed, stream_mutation, n * L).reshape(n, L)
            new = _clip(kids + sigma * span * z, lo, hi)
        elif mutation == POLYNOMIAL:
            u = rng.uniform(seed, stream_mutation, n * L).reshape(n, L)
            new = _polynomial_bounded(kids, u, eta_m, lo, hi, span)
        elif mutation == BITFLIP:
            new = 1.0 - kids
        else:
            raise ValueError("mutation: unknown operator code")
        kids = np.where(hit, new, kids)
    C[...] = kids
