"""Random search (Rastrigin 1974; Bergstra & Bengio 2012): the baseline every method must beat."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .base import Optimizer
from .registry import register

_SAMPLE = 1  # stream purpose


@dataclasses.dataclass
class RandomSearchState:
    center: np.ndarray


@register("random_search")
class RandomSearch(Optimizer):
    """Pure random search.

    ``distribution="uniform"`` (default) samples uniformly in ``bounds``;
    ``distribution="gaussian"`` samples :math:`x = \\mathrm{clip}(c + \\sigma_0 \\odot z)`, :math:`z \\sim N(0, I)`,
    around ``c = x0`` (or around the best point so far with ``center="best"``).

    Bounds: uniform samples lie in the box by construction; Gaussian samples are clipped to it.
    """

    area = "sampling"
    hands_out_batch = True  # _ask builds a new array; _tell copies what it keeps

    def __init__(self, bounds: Any = None, *, distribution: str = "uniform", center: str = "x0", **kwargs: Any):
        if distribution not in ("uniform", "gaussian"):
            raise ValueError(f"distribution: expected 'uniform' or 'gaussian', got {distribution!r}")
        if center not in ("x0", "best"):
            raise ValueError(f"center: expected 'x0' or 'best', got {center!r}")
        self.distribution, self.center = distribution, center
        self.needs_bounds = distribution == "uniform"
        super().__init__(bounds, **kwargs)

    @classmethod
    def default_popsize(cls, dim: int) -> int:
        return 32

    def _init_state(self) -> RandomSearchState:
        return RandomSearchState(center=self.x0.copy())

    def _ask(self) -> np.ndarray:
        X = np.empty((self.popsize, self.dim))
        if self.distribution == "uniform":
            self.k.uniform_box(self.seed, self.stream(_SAMPLE), self.lower, self.upper, X)
        else:
            self.k.gaussian_box(self.seed, self.stream(_SAMPLE), self.state.center, self.sigma0, self.lower,
                                self.upper, X)
        return X

    def _tell(self, X: np.ndarray, f: np.ndarray) -> None:
        if self.center == "best" and self.best_x is not None:
            self.state.center = self.best_x.copy()
