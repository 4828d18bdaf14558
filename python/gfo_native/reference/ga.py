"""NumPy twin of cpp/src/ga.cpp: GA offspring (crossover of parent pairs, then mutation)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import rng

UNIFORM, ONE_POINT, TWO_POINT, BLX, ARITHMETIC, SBX = range(6)
NO_MUTATION, GAUSSIAN, POLYNOMIAL, BITFLIP = range(4)


def _clip(v: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    return np.asarray(np.minimum(np.maximum(v, lo), hi))


class _EtaPower:
    """x^k and y^(1/k) with k = eta + 1, as ga.hpp's EtaPower: repeated squaring for an integer k in [1, 64],
    repeated square roots for k = 2^m (m <= 6), np.power otherwise (same operation sequence as the kernel)."""

    def __init__(self, eta: float) -> None:
        self.k = eta + 1.0
        self.whole = int(self.k) if 1.0 <= self.k <= 64.0 and self.k == float(int(self.k)) else 0
        self.sqrts = self.whole.bit_length() - 1 if self.whole and self.whole & (self.whole - 1) == 0 else -1

    def raise_(self, x: np.ndarray) -> np.ndarray:
        if not self.whole:
            return np.asarray(np.power(x, self.k))
        r, b, e = None, x, self.whole
        while e:
            if e & 1:
                r = b if r is None else r * b
            if e >> 1:
                b = b * b
            e >>= 1
        return np.asarray(r)

    def root(self, y: np.ndarray) -> np.ndarray:
        if self.sqrts < 0:
            return np.asarray(np.power(y, 1.0 / self.k))
        for _ in range(self.sqrts):
            y = np.sqrt(y)
        return y


def _blx(mn: np.ndarray, I: np.ndarray, u: np.ndarray, alpha: float, widen: float) -> np.ndarray:
    """BLX-alpha genes, twin of ga.cpp's blx_gene: where both ends overflowed (-inf + inf), the other grouping."""
    c = (mn - alpha * I) + u * (widen * I)
    return np.asarray(np.where(c == c, c, mn + I * (u * widen - alpha)))


def _sbx_bounded(A: np.ndarray, B: np.ndarray, u: np.ndarray, w: np.ndarray, eta: float, lo: np.ndarray,
                 hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bound-aware SBX (Deb & Agrawal 1995; bounded form of Deb's NSGA-II code): twin of ga.cpp's sbx_gene.

    A gene is recombined when w < 1/2 and the parents differ by more than 1e-14; the two children then
    swap sides when w < 1/4 (probability 1/2 given recombination)."""
    y1, y2 = np.minimum(A, B), np.maximum(A, B)
    mix = (w < 0.5) & (y2 - y1 > 1e-14)
    dy = np.where(mix, y2 - y1, 1.0)
    r = 2.0 / dy
    e = _EtaPower(eta)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        def beta_q(dist: np.ndarray) -> np.ndarray:
            # the spread's density is truncated at the bound `dist` away from the nearer parent
            alpha = 2.0 - 1.0 / e.raise_(1.0 + dist * r)
            ua = u * alpha
            return e.root(np.where(ua <= 1.0, ua, 1.0 / (2.0 - ua)))

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
    e = _EtaPower(eta)
    with np.errstate(invalid="ignore", over="ignore"):
        r_lo = np.maximum(1.0 - (x - lo) / span, 0.0)  # 1 - normalised distance to the lower bound
        r_hi = np.maximum(1.0 - (hi - x) / span, 0.0)
        down = 2.0 * u + (1.0 - 2.0 * u) * e.raise_(r_lo)
        up = 2.0 * (1.0 - u) + 2.0 * (u - 0.5) * e.raise_(r_hi)
        delta = np.where(u < 0.5, e.root(down) - 1.0, 1.0 - e.root(up))
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
        with np.errstate(over="ignore", invalid="ignore"):  # ends beyond float64 in a box ~1e308 wide: ga.cpp blx_gene
            c0 = _clip(_blx(mn, I, ug[:, 0], alpha, widen), lo, hi)
            c1 = _clip(_blx(mn, I, ug[:, 1], alpha, widen), lo, hi)
    elif crossover == ARITHMETIC:
        lam = up[:, 1:2]
        c0 = _clip(lam * A + (1.0 - lam) * B, lo, hi)  # rounding can step an ulp past a face
        c1 = _clip((1.0 - lam) * A + lam * B, lo, hi)
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
            with np.errstate(over="ignore"):  # beyond float64 in a box ~1e308 wide: inf, clipped (as the kernel)
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
