"""NumPy twin of cpp/src/ga.cpp: GA offspring (crossover of parent pairs, then mutation)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import rng

UNIFORM, ONE_POINT, TWO_POINT, BLX, ARITHMETIC, SBX = range(6)
NO_MUTATION, GAUSSIAN, POLYNOMIAL, BITFLIP = range(4)


def _clip(v: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    return np.asarray(np.minimum(np.maximum(v, lo), hi))


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
        inv = 1.0 / (eta_c + 1.0)
        u = ug[:, 0]
        with np.errstate(divide="ignore"):
            beta = np.where(u <= 0.5, np.power(2.0 * u, inv), np.power(1.0 / (2.0 * (1.0 - u)), inv))
        mix = ug[:, 1] < 0.5  # each gene recombined with probability 1/2 (Deb's implementation)
        c0 = np.where(mix, _clip(0.5 * ((1.0 + beta) * A + (1.0 - beta) * B), lo, hi), A)
        c1 = np.where(mix, _clip(0.5 * ((1.0 - beta) * A + (1.0 + beta) * B), lo, hi), B)
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
            inv = 1.0 / (eta_m + 1.0)
            delta = np.where(u < 0.5, np.power(2.0 * u, inv) - 1.0, 1.0 - np.power(2.0 * (1.0 - u), inv))
            new = _clip(kids + delta * span, lo, hi)
        elif mutation == BITFLIP:
            new = 1.0 - kids
        else:
            raise ValueError("mutation: unknown operator code")
        kids = np.where(hit, new, kids)
    C[...] = kids
