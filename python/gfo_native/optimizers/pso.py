"""Particle swarm optimization (Kennedy & Eberhart 1995) with inertia weight (Shi & Eberhart 1998)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from . import _apso as apso
from . import _population as pop
from .base import Optimizer
from .registry import register

# stream purposes (per generation)
_INIT, _VINIT, _R1, _R2, _ADAPT, _ELS_DIM, _ELS_STEP = 1, 2, 3, 4, 5, 6, 7
_BOUNDS = {"clip": 0, "reflect": 1}


def neighbours(n: int, topology: str) -> np.ndarray:
    """(n, k) indices of each particle's neighbourhood, itself included; ties of the best go to the first column.

    ``"ring"``: its left ring neighbour, itself and its right one. ``"von_neumann"``: itself and its four
    neighbours on an r x c torus (r the largest divisor of n up to sqrt(n), particle i at row i // c, column
    i % c; Kennedy & Mendes 2002 lay 20 particles out 4 x 5); a prime n gives a 1 x n torus, which is the ring.
    """
    i = np.arange(n)
    if topology == "ring":
        return np.stack([(i - 1) % n, i, (i + 1) % n], axis=1)
    r = math.isqrt(n)
    while n % r:
        r -= 1
    c = n // r
    row, col = i // c, i % c
    return np.stack([i, ((row - 1) % r) * c + col, ((row + 1) % r) * c + col, row * c + (col - 1) % c,
                     row * c + (col + 1) % c], axis=1)


@dataclasses.dataclass
class PSOState:
    X: np.ndarray        # positions asked this generation, (n, d)
    V: np.ndarray        # velocities, (n, d)
    P: np.ndarray        # personal best positions, (n, d)
    pbest_f: np.ndarray  # personal best values, (n,)
    es: int = apso.EXPLORATION  # evolutionary state of the last generation (adaptive / elitist learning)
    c1: float = math.nan       # adaptive acceleration coefficients (with adaptive=True)
    c2: float = math.nan
    horizon: int = 0           # the run's generations told by plan() (elitist learning's sigma schedule); 0: unknown


@register("pso")
class PSO(Optimizer):
    r"""Particle swarm optimization.

    Each particle :math:`i` keeps a velocity :math:`v_i`, its best point :math:`p_i` and sees the best point
    :math:`g_i` of its neighbourhood. Per generation, with :math:`r_1, r_2 \sim U(0,1)^d`:

    .. math::
        v_i \leftarrow \mathrm{clip}\big(w\,v_i + c_1 r_1 \odot (p_i - x_i) + c_2 r_2 \odot (g_i - x_i),
        \; -v_{\max}, v_{\max}\big), \qquad x_i \leftarrow x_i + v_i

    Defaults are Trelea's first parameter set, w = 0.6, c1 = c2 = 1.7 (Trelea 2003, "The particle swarm
    optimization algorithm: convergence analysis and parameter selection", IPL 85), the global best, 40 particles
    (SPSO 2011, Clerc 2012), and the elitist learning strategy of adaptive PSO (Zhan, Zhang, Li & Chung 2009,
    "Adaptive particle swarm optimization", IEEE Trans. SMC-B 39(6)): while the swarm is converging, its worst
    particle moves to the global best with one random coordinate perturbed, by 1.0 -> 0.1 of the box width over
    the run. Out-of-sample studies (docs/PSO_DEFAULTS.md) chose both. Elitist learning, against the same swarm
    without it, had better medians in 29 and worse in 6 of 41 configurations of five functions at 10-D and 30-D
    (64% of seeds won; rastrigin on the bench's 10-D cell 5.97 -> 0.995). Trelea's coefficients then replaced
    Clerc & Kennedy's constriction coefficients (w = 0.7298, c1 = c2 = 1.49618, the former default): better in
    26 and worse in 9 of the 41 configurations on two blocks of 80 seeds (65% and 64% won), Rosenbrock on the
    bench's cell 4.87 -> 4.40, rastrigin even; they lose 30-D ackley and rastrigin at 30,000 evaluations.
    ``adaptive=True`` adds adaptive PSO's control of w, c1 and c2 by the estimated state (74% of seeds against
    the constriction swarm without elitist learning in the second study, but worse on 10-D Rosenbrock).
    A linearly decreasing inertia (Shi & Eberhart 1998, e.g. 0.9 -> 0.4) is available with
    ``w_end``, and time-varying acceleration coefficients (Ratnaweera, Halgamuge & Watson 2004: c1 2.5 -> 0.5 and
    c2 0.5 -> 2.5 with that inertia) with ``c1_end`` and ``c2_end``. These and other settings from the literature
    did not qualify in the same studies.
    ``topology="von_neumann"`` with the SPSO-2011 coefficients w = 1/(2 ln 2), c1 = c2 = 0.5 + ln 2 won most of
    the first study's suite, by orders of magnitude on 30-D ackley, griewank and sphere. It lost on 10-D Rosenbrock at
    10,000 evaluations.

    Args:
        w: inertia weight (at the first generation when ``w_end`` is set).
        w_end: final inertia weight of a linear change over ``w_generations`` (default: the run
            :func:`~gfo_native.minimize`'s budget allows, or ``max_generations``; a ValueError at the first ``ask``
            when none is known).
        w_generations: the generations of the linear schedules of ``w_end``, ``c1_end`` and ``c2_end``, and of
            ``elitist_sigma`` when given.
        c1: cognitive coefficient (pull towards the particle's own best; at the first generation when ``c1_end``
            is set). Default 1.7, or 2 with ``adaptive``.
        c1_end: final cognitive coefficient of a linear change over ``w_generations``.
        c2: social coefficient (pull towards the neighbourhood best; at the first generation when ``c2_end`` is
            set). Default 1.7, or 2 with ``adaptive``.
        c2_end: final social coefficient of a linear change over ``w_generations``.
        topology: ``"global"`` (gbest: every particle sees the swarm's best), ``"ring"`` (lbest: the best of
            itself and its two ring neighbours) or ``"von_neumann"`` (the best of itself and its four neighbours on
            a torus grid, see :func:`neighbours`). Kennedy & Mendes (2002) find the sparser neighbourhoods slower
            but more robust on multimodal functions, von Neumann the most consistent of their topologies.
        velocity_clamp: v_max as a fraction of the box width per coordinate (Eberhart & Shi 2000 use the
            dynamic range); None disables the clamp.
        bounds_strategy: ``"reflect"`` (default: mirrored at the face, velocity component reversed) or
            ``"clip"`` (absorbing walls: the position is clipped and that velocity component zeroed); see
            Helwig, Branke & Mostaghim (2013) for how much the choice matters. At 10,000 evaluations in 10-D
            (population 50, 10 seeds) reflecting beats absorbing on rastrigin (median 6.5 vs 7.0) and
            rosenbrock (4.4 vs 5.1).
        velocity_init: initial velocities uniform in +-``velocity_init`` v_max (default 0: particles start at
            rest; Engelbrecht 2012 finds zero or small initial velocities better than large random ones,
            which send particles out of the box). Without a clamp, v_max here is half the box width.
        elitist_learning: the elitist learning strategy of adaptive PSO (Zhan et al. 2009; default on). Each
            generation an evolutionary state estimation classifies the swarm as exploring, exploiting, converging
            or jumping out, from the evolutionary factor f = (d_g - d_min) / (d_max - d_min) of the particles'
            distances to the others (d_g: the particle holding the global best; here the squared distance to the
            centroid, which ranks the particles as the mean squared distance to the others does, in O(n d)).
            While converging, the particle with the worst personal best moves to the global best with one
            random coordinate perturbed by ``elitist_sigma`` times the box width times N(0, 1), so that a
            converged swarm keeps probing around its best point.
        elitist_sigma: that perturbation's scale as a fraction of the box width: a number (constant), or a
            (start, end) pair that changes linearly over the run (Zhan et al.: 1.0 -> 0.1, the default). The
            run is ``w_generations`` if given, else the generations :func:`~gfo_native.minimize`'s budget allows,
            else ``max_generations``; with none of them known, the end value holds throughout.
        adaptive: adaptive PSO (Zhan et al. 2009): each generation w = 1 / (1 + 1.5 exp(-2.6 f)) and c1, c2 move
            by delta ~ U(0.05, 0.1) according to the state (exploration: c1 up, c2 down; exploitation: both half
            as much; convergence: both up by half; jumping out: c1 down, c2 up), kept in [1.5, 2.5] with
            c1 + c2 <= 4 (scaled down to 4 when above). ``c1`` and ``c2`` give the start (default 2, as in the
            paper); ``w`` is not used. Cannot be combined with the ``w_end``, ``c1_end`` and ``c2_end`` schedules.
        **kwargs: see :class:`~gfo_native.Optimizer` (bounds, dim, x0, sigma0, popsize, seed, impl...).

    The whole generation (personal-best refresh, velocity, clamp, position, bounds) is one fused OpenMP
    pass; r1 and r2 are float32 uniforms of Philox streams ``(generation, 3)`` and ``(generation, 4)`` at
    index ``i * d + j``. The state estimation's spread is a second O(n d) pass (``pso_spread``); adaptive's two
    rates delta are uniforms of stream ``(generation, 5)``, elitist learning's coordinate a uniform of stream
    ``(generation, 6)`` and its step a normal of stream ``(generation, 7)``.
    """

    area = "pso"
    hands_out_batch = True  # _ask builds a new array; _tell copies what it keeps
    min_popsize = 2

    def __init__(self, bounds: Any = None, *, w: float = 0.6, w_end: float | None = None,
                 w_generations: int | None = None, c1: float | None = None, c2: float | None = None,
                 c1_end: float | None = None, c2_end: float | None = None, topology: str = "global",
                 velocity_clamp: float | None = 0.5, bounds_strategy: str = "reflect", velocity_init: float = 0.0,
                 elitist_learning: bool = True, elitist_sigma: float | tuple[float, float] = (1.0, 0.1),
                 adaptive: bool = False, **kwargs: Any):
        self.w = pop.real(w, "w")
        self.w_end = None if w_end is None else pop.real(w_end, "w_end")
        self.adaptive = pop.flag(adaptive, "adaptive")
        self.elitist_learning = pop.flag(elitist_learning, "elitist_learning")
        c0 = 2.0 if self.adaptive else 1.7  # Trelea's set 1; Zhan et al. start both at 2
        sig = tuple(elitist_sigma) if pop.is_pair(elitist_sigma) else (elitist_sigma, None)
        if len(sig) != 2:
            raise ValueError(f"elitist_sigma: expected a number or a (start, end) pair, got {elitist_sigma!r}")
        self.elitist_sigma = pop.real(sig[0], "elitist_sigma", low=0.0)
        self.elitist_sigma_end = None if sig[1] is None else pop.real(sig[1], "elitist_sigma", low=0.0)
        self.c1 = pop.real(c0 if c1 is None else c1, "c1", low=0.0)
        self.c2 = pop.real(c0 if c2 is None else c2, "c2", low=0.0)
        self.c1_end = None if c1_end is None else pop.real(c1_end, "c1_end", low=0.0)
        self.c2_end = None if c2_end is None else pop.real(c2_end, "c2_end", low=0.0)
        self.topology = pop.choice(topology, "topology", ("global", "ring", "von_neumann"))
        self.velocity_clamp = None if velocity_clamp is None else pop.real(velocity_clamp, "velocity_clamp", low=0.0,
                                                                          low_open=True)
        self.bounds_strategy = pop.choice(bounds_strategy, "bounds_strategy", tuple(_BOUNDS))
        self.velocity_init = pop.real(velocity_init, "velocity_init", low=0.0)
        super().__init__(bounds, **kwargs)
        self._w_generations_given = w_generations is not None
        self.w_generations = w_generations if w_generations is not None else self.max_generations
        for name in ("w_end", "c1_end", "c2_end"):
            if getattr(self, name) is not None and self.adaptive:
                raise ValueError(f"{name}: adaptive=True sets w, c1 and c2 itself; a schedule cannot be combined")
        if self.w_generations is not None and (not pop.is_int(self.w_generations) or self.w_generations < 1):
            raise ValueError(f"w_generations: expected a positive integer, got {self.w_generations!r}")

    @classmethod
    def default_popsize(cls, dim: int) -> int:
        return 40

    def _init_state(self) -> PSOState:
        self.span = pop.span(self)
        self.vmax = np.full(self.dim, np.inf) if self.velocity_clamp is None else self.velocity_clamp * self.span
        X = pop.initial_population(self, self.popsize, _INIT)
        # initial velocities uniform in [-vmax, vmax] (or in +-span / 2 without a clamp)
        vmax0 = self.velocity_init * (self.vmax if self.velocity_clamp is not None else 0.5 * pop.span(self))
        V = np.zeros_like(X)
        if self.velocity_init > 0:
            pop.Backend(self.impl, "sampling").uniform_box(self.seed, self.stream(_VINIT), -vmax0, vmax0, V)
        return PSOState(X=X, V=V, P=X.copy(), pbest_f=np.full(self.popsize, np.inf), c1=self.c1, c2=self.c2)

    def _plan(self, generations: int) -> None:
        """Fit the schedules (elitist learning's sigma, ``w_end``, ``c1_end``, ``c2_end``) to a run of
        ``generations`` (unless ``w_generations`` was given)."""
        self.state.horizon = int(generations)

    def _run_length(self) -> int | None:
        """The generations the schedules span: ``w_generations``, else the planned run (minimize's budget), else
        ``max_generations``; None when none is known."""
        return self.w_generations if self._w_generations_given else (self.state.horizon or self.max_generations)

    def elitist_sigma_now(self) -> float:
        """Elitist learning's sigma (a fraction of the box width) at the current generation."""
        if self.elitist_sigma_end is None:
            return self.elitist_sigma
        run = self._run_length()
        if not run:
            return self.elitist_sigma_end
        t = min(self.generation / run, 1.0)
        return self.elitist_sigma + (self.elitist_sigma_end - self.elitist_sigma) * t

    def _schedule_length(self) -> int:
        run = self._run_length()
        if not run and (self.w_end, self.c1_end, self.c2_end) != (None, None, None):
            raise ValueError("w_end / c1_end / c2_end: a schedule needs its length: w_generations, max_generations, "
                             "or a run planned by minimize's budget (opt.plan(generations))")
        return run or 0

    def _scheduled(self, start: float, end: float | None) -> float:
        if end is None:
            return start
        t = min(self.generation / self._schedule_length(), 1.0)
        return start + (end - start) * t

    def inertia(self) -> float:
        """The inertia weight of the current generation (with ``adaptive``, ``tell`` sets it from the state
        estimation instead)."""
        return self._scheduled(self.w, self.w_end)

    def coefficients(self) -> tuple[float, float]:
        """The cognitive and social coefficients (c1, c2) of the current generation (with ``adaptive``: as the last
        generation left them; ``tell`` moves them once more before the update)."""
        if self.adaptive:
            return self.state.c1, self.state.c2
        return self._scheduled(self.c1, self.c1_end), self._scheduled(self.c2, self.c2_end)

    def _neighbourhood_best(self, pbest_f: np.ndarray) -> np.ndarray:
        n = pbest_f.size
        if self.topology == "global":
            return np.full(n, int(np.argmin(pbest_f)), dtype=np.int64)
        cand = neighbours(n, self.topology)
        return np.asarray(cand[np.arange(n), np.argmin(pbest_f[cand], axis=1)].astype(np.int64))

    def _ask(self) -> np.ndarray:
        if self.generation == 0:  # a schedule without a length fails at the first ask, not mid-run
            self._schedule_length()
        return np.asarray(self.state.X)

    def _estimate_state(self, X: np.ndarray, g: int) -> float:
        """Zhan et al.'s evolutionary state estimation on the positions just evaluated: the evolutionary factor f
        (returned) and the state it classifies into (``state.es``)."""
        spread = np.empty(X.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):  # the reference's squares may overflow: handled below
            self.k.spread(X, spread)
        if not np.isfinite(spread).all():
            # squared distances beyond float64 (box widths above ~1e154): the factor would be 0 (converging) every
            # generation. It is a ratio of spreads, so the positions scaled by a constant give the same one.
            self.k.spread(np.ascontiguousarray(X / float(np.max(np.abs(X)))), spread)
        f = apso.evolutionary_factor(spread, g)
        self.state.es = apso.classify(f, self.state.es)
        return f

    def _elitist_learning(self, g: int) -> None:
        """In the convergence state, the particle with the worst personal best moves to the global best with one
        random coordinate j perturbed by width_j sigma N(0, 1) (Zhan et al.'s elitist learning strategy). The
        paper evaluates that point as an extra member and replaces the global best with it, or else the worst
        particle; moving the worst particle there keeps the batch size fixed: the point is evaluated with the next
        generation and, if it beats the global best, becomes that particle's personal best and so the global best."""
        st = self.state
        worst = int(np.argmax(st.pbest_f))
        if worst == g:  # every personal best equal (e.g. all non-finite): nothing better to learn from
            return
        rn = pop.random_numbers(self.impl)
        j = min(int(rn.uniform(self.seed, self.stream(_ELS_DIM), 1)[0] * self.dim), self.dim - 1)
        z = float(rn.normal(self.seed, self.stream(_ELS_STEP), 1)[0])
        # the whole point in the box: a personal best is a told point, which the caller may have put outside it
        x = np.clip(st.P[g], self.lower, self.upper)
        step = float(self.span[j]) * self.elitist_sigma_now() * z
        x[j] = min(max(x[j] + step, self.lower[j]), self.upper[j])
        st.X[worst] = x
        st.V[worst] = 0.0

    def _tell(self, X: np.ndarray, f: np.ndarray) -> None:
        st = self.state
        X = np.ascontiguousarray(X)
        improved = f < st.pbest_f
        st.pbest_f = np.where(improved, f, st.pbest_f)
        g = int(np.argmin(st.pbest_f))
        w = self.inertia()
        c1, c2 = self.coefficients()
        if self.adaptive or self.elitist_learning:
            factor = self._estimate_state(X, g)
            if self.adaptive:
                w = apso.inertia(factor)
                u = pop.random_numbers(self.impl).uniform(self.seed, self.stream(_ADAPT), 2)
                st.c1, st.c2 = c1, c2 = apso.coefficients(st.es, st.c1, st.c2, float(u[0]), float(u[1]))
        Xnew = np.empty_like(X)
        self.k.update(self.seed, self.stream(_R1), self.stream(_R2), w, c1, c2, X, st.V, st.P,
                      improved.astype(np.uint8), self._neighbourhood_best(st.pbest_f), self.vmax, self.lower,
                      self.upper, _BOUNDS[self.bounds_strategy], Xnew)
        st.X = Xnew
        if self.elitist_learning and st.es == apso.CONVERGENCE:
            self._elitist_learning(g)
