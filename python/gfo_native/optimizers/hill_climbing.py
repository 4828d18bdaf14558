"""(1 + lambda) hill climbing with the 1/5th success rule and exploration."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from . import _population as pop
from .base import Optimizer
from .registry import register

# stream purposes (per generation)
_INIT, _SAMPLE, _EXPLORE, _RESTART = 1, 2, 3, 4
_UNBOUNDED_STEP = 1e300  # the step's ceiling in an unbounded coordinate


@dataclasses.dataclass
class HillClimbingState:
    x: np.ndarray      # the current point, (d,)
    fx: float          # its value (inf until generation 0 is told)
    sigma: np.ndarray  # per-coordinate step, (d,)
    stagnation: int    # generations without improving fx


@register("hill_climbing")
class HillClimbing(Optimizer):
    r"""(1 + lambda) hill climbing, an elitist evolution strategy.

    Generation 0 samples ``popsize`` points (uniform in the box, or around ``x0``) and starts from the best.
    Then each generation samples :math:`\lambda` = ``popsize`` neighbours :math:`y = \mathrm{clip}(x + \sigma \odot z)`,
    :math:`z \sim N(0, I)`, and moves to the best one if it is no worse. The step follows the 1/5th success
    rule (Rechenberg 1973) in the smooth form of Kern et al. (2004):
    :math:`\sigma \leftarrow \sigma \exp\big(\tfrac{1}{d_\sigma} \tfrac{p_s - 1/5}{1 - 1/5}\big)`, with
    :math:`p_s` the fraction of neighbours better than x and :math:`d_\sigma = 1 + d / (2 \lambda)`.

    Exploration: with probability ``exploration`` per generation the best neighbour is accepted even when
    worse (escaping a local optimum); after ``restart_patience`` generations without improvement the climb
    restarts from a uniform random point of the box (or a Gaussian one around x0) with the initial step.

    Args:
        exploration: probability of accepting a worse best neighbour (default 0.0: pure elitist climbing).
        restart_patience: generations without improvement before a random restart (None: never).
        sigma0 (base): initial step per coordinate, default a quarter of the box width.

    Bounds: neighbours are clipped to the box; the step never exceeds the box width (1e300 in an unbounded
    coordinate, where the initial step is ``sigma0``).
    """

    area = "sampling"
    hands_out_batch = True  # _ask builds a new array; _tell copies what it keeps

    def __init__(self, bounds: Any = None, *, exploration: float = 0.0, restart_patience: int | None = None,
                 **kwargs: Any):
        self.exploration = pop.probability(exploration, "exploration")
        if restart_patience is not None and (not pop.is_int(restart_patience) or restart_patience < 1):
            raise ValueError(f"restart_patience: expected a positive integer or None, got {restart_patience!r}")
        self.restart_patience = restart_patience
        super().__init__(bounds, **kwargs)

    @classmethod
    def default_popsize(cls, dim: int) -> int:
        return 8

    def _init_state(self) -> HillClimbingState:
        self.span = pop.span(self)
        # the most the 1/5th rule may grow a step: the box width, or far out where a coordinate is unbounded (the span
        # there, 4 sigma0, held the step to 4 sigma0 per generation, so that an optimum 1e5 sigma0 away was out of
        # reach; 1e300 keeps x + sigma z finite)
        width = self.upper - self.lower
        self.step_cap = np.asarray(np.where(np.isfinite(width), width, _UNBOUNDED_STEP))
        self.d_sigma = 1.0 + self.dim / (2.0 * self.popsize)
        return HillClimbingState(x=self.x0.copy(), fx=math.inf, sigma=self._sigma_start(), stagnation=0)

    def _sigma_start(self) -> np.ndarray:
        """The initial step: sigma0, at most the box width (as every later step)."""
        return np.asarray(np.minimum(self.sigma0, self.span))

    def _ask(self) -> np.ndarray:
        st = self.state
        if self.generation == 0:
            return pop.initial_population(self, self.popsize, _INIT)
        X = np.empty((self.popsize, self.dim))
        self.k.gaussian_box(self.seed, self.stream(_SAMPLE), st.x, st.sigma, self.lower, self.upper, X)
        return X

    def _tell(self, X: np.ndarray, f: np.ndarray) -> None:
        st = self.state
        i = int(pop.stable_order(f)[0])
        if self.generation == 0:
            st.x, st.fx = np.array(X[i]), float(f[i])
            return
        p_s = float(np.mean(f < st.fx))
        rnd = pop.random_numbers(self.impl)
        improved = f[i] < st.fx
        if f[i] <= st.fx or (np.isfinite(f[i]) and
                             rnd.uniform(self.seed, self.stream(_EXPLORE), 1)[0] < self.exploration):
            st.x, st.fx = np.array(X[i]), float(f[i])
        st.sigma = np.minimum(st.sigma * math.exp((p_s - 0.2) / (0.8 * self.d_sigma)), self.step_cap)
        st.stagnation = 0 if improved else st.stagnation + 1
        if self.restart_patience is not None and st.stagnation >= self.restart_patience:
            st.x = pop.initial_population(self, 1, _RESTART, with_x0=False)[0]  # a restart goes elsewhere
            st.fx, st.sigma, st.stagnation = math.inf, self._sigma_start(), 0
