"""Helpers shared by the population optimizers (hill climbing, SA, PSO, GA, DE).

Everything here is O(popsize) bookkeeping that both implementations share, so that selection, ranking
and tie-breaking are the same code on both sides; the O(popsize * dim) work lives in the kernels.
"""

from __future__ import annotations

import numbers
from types import ModuleType
from collections.abc import Sequence
from typing import Any, TypeGuard

import numpy as np

from .. import reference
from .._backend import Backend as Backend  # re-exported: optimizers use pop.Backend
from .._checks import finite_float


def random_numbers(impl: str) -> ModuleType:
    """The Philox module of an implementation: both give identical numbers, the native one faster."""
    if impl == "native":
        from .. import rng

        return rng
    return reference.rng


def span(opt: Any) -> np.ndarray:
    """Per-coordinate scale of moves: the box width where finite, else 4 * sigma0."""
    width = opt.upper - opt.lower
    return np.asarray(np.where(np.isfinite(width), width, 4.0 * opt.sigma0))


def initial_population(opt: Any, n: int, purpose: int, *, with_x0: bool = True) -> np.ndarray:
    """n points uniform in the box (bounded) or Gaussian around x0 with scale sigma0 (unbounded).

    In a box, an ``x0`` the caller gave replaces the first point (``with_x0``, as scipy's differential_evolution
    takes its initial guess), so that a known start is never dropped for uniform draws alone."""
    k = Backend(opt.impl, "sampling")
    X = np.empty((n, opt.dim))
    if opt.bounded:
        k.uniform_box(opt.seed, opt.stream(purpose), opt.lower, opt.upper, X)
        if with_x0 and opt.x0_given:
            X[0] = opt.x0
    else:
        k.gaussian_box(opt.seed, opt.stream(purpose), opt.x0, opt.sigma0, opt.lower, opt.upper, X)
    return X


def kept_points(opt: Any, X: np.ndarray) -> np.ndarray:
    """A copy of the told points ``X`` for an algorithm that keeps them as its population (GA, DE).

    The asked batch lies in the box; points of the caller's own (repaired, rounded) may not, and the operators
    assume members inside it (GA's bound-aware SBX and polynomial mutation make NaN of a parent outside, copied
    genes and DE's bounce-back towards an outside parent would be asked): those are clipped to the box. Their
    values stay as told (the point itself, with its value, is still the best so far where it is best).

    The asked batch itself is clipped too: ``ask`` hands it out without a copy (``hands_out_batch``), so a caller
    who rounds or repairs it in place (``np.round(X, out=X)``) tells changed points as the asked array."""
    return np.array(X) if in_box(opt, X) else np.asarray(np.clip(X, opt.lower, opt.upper))


def in_box(opt: Any, X: np.ndarray) -> bool:
    """Whether every point of X lies in the box: two read-only column reductions, a fraction of what clipping a copy
    costs (np.clip with per-coordinate bounds takes ~4 times a copy), paid on every told batch of GA and DE."""
    return bool(np.all(X.min(axis=0) >= opt.lower) and np.all(X.max(axis=0) <= opt.upper))


def is_pair(value: Any) -> TypeGuard[Sequence[Any]]:
    """Whether a hyperparameter is given as a sequence (a (low, high) or (start, end) pair, or a wrong length) rather
    than one number: a tuple, a list, or a 1-D array (a row of a numpy grid of settings)."""
    return isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim == 1)


def choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name}: expected one of {options}, got {value!r}")
    return value


def real(value: Any, name: str, **limits: Any) -> float:
    return finite_float(value, name, **limits)


def flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def probability(value: Any, name: str) -> float:
    return finite_float(value, name, low=0.0, high=1.0)


def stable_order(f: np.ndarray) -> np.ndarray:
    """Ranks best first; equal values keep their index order (the tie-breaking of every algorithm here)."""
    return np.argsort(f, kind="stable")


def is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)
