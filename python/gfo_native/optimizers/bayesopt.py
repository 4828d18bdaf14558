"""Bayesian optimization with a Gaussian-process surrogate (Jones, Schonlau & Welch 1998; Snoek et al. 2012)."""

from __future__ import annotations

import dataclasses
import math
import warnings
from types import ModuleType
from typing import Any

import numpy as np

from .. import rng as native_rng
from ..reference import rng as reference_rng
from ..reference.gp import KINDS
from .base import Optimizer
from .gaussian_process import GPFit, default_theta, fit_gp, hyper_bounds, prior, single_threaded_blas
from .registry import register

# Stream purposes: random restarts of the hyperparameter fit, uniform candidates, Gaussian perturbations.
_FIT, _UNIFORM, _NORMAL = 1, 2, 3
ACQUISITIONS = ("log_ei", "ucb", "pi")
# The output warp is applied below this many observations: it helps the model find the trend with few
# points (Branin / Hartmann-6 / Ackley-5 at 20-30 evaluations) but costs final precision once the points
# cluster at the optimum (Branin's median regret after 40 evaluations: 1.3e-5 warped below 30 against
# ~1.5e-4 warped throughout, 10 seeds).
WARP_BELOW = 30
_KIND = {"log_ei": KINDS["log_ei"], "ucb": KINDS["ucb"], "pi": KINDS["log_pi"]}


def _standardize(y: np.ndarray) -> np.ndarray:
    sd = float(np.std(y))
    return np.asarray((y - np.mean(y)) / (sd if sd > 0 else 1.0))


def yeo_johnson_warp(z: np.ndarray) -> np.ndarray:
    """Yeo-Johnson power transform of standardized values, its exponent by maximum likelihood (SciPy), the
    result standardized again (Yeo & Johnson 2000; as HEBO does, Cowen-Rivers et al. 2022).

    Why: skewed objectives (a plateau with a few much better points, as Ackley far from its optimum; or
    a few very bad points, as Branin's corners) make a stationary GP on raw values fit short length scales
    and explore; the warp makes the values closer to Gaussian, so the model sees the trend. The exponent is
    clipped to [-2, 2] so that few points cannot produce extreme values. Values left unchanged where the
    transform is not finite."""
    if z.size < 3 or float(np.ptp(z)) == 0.0:
        return z
    from scipy import stats  # imported on first use: slow to import

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lam = float(np.clip(stats.yeojohnson_normmax(z), -2.0, 2.0))
        t = stats.yeojohnson(z, lmbda=lam)
    t = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(t)) or float(np.ptp(t)) == 0.0:
        return z
    return _standardize(t)


@dataclasses.dataclass
class BayesianOptimizationState:
    X: np.ndarray      # observed points in the unit cube, (n, d)
    y: np.ndarray      # their values, +inf where the objective was NaN/inf, (n,)
    theta: np.ndarray  # hyperparameters of the last fit (warm start of the next), () before the first
    design: np.ndarray  # the quasi-random initial design in the unit cube


@register("bo")
class BayesianOptimization(Optimizer):
    """Bayesian optimization: a GP surrogate and an acquisition function choose each point.

    Works in the unit cube (the box is rescaled; a :class:`~gfo_native.space.Space` already is one, and its
    ints and categories are snapped to bin centres so the GP sees the points the objective saw).

    1. **Initial design**: ``n_initial`` points of a scrambled Sobol sequence (``scipy.stats.qmc.Sobol``,
       seeded from ``seed``), asked ``popsize`` at a time.
    2. **Surrogate**: GP with constant mean, Matérn-5/2 ARD kernel and a noise term on standardized values
       (non-finite values count as the worst finite one; Yeo-Johnson warped, ``warp_outputs``), MAP
       hyperparameters by L-BFGS-B from the previous fit, the prior's centre and ``fit_restarts`` random
       starts (see ``gaussian_process``).
    3. **Acquisition** (``acquisition=``), with :math:`z = (y^* - \\mu(x) - \\xi) / \\sigma(x)`:
       ``"log_ei"`` (default) :math:`\\log \\mathrm{EI}(x) = \\log \\sigma + \\log(\\varphi(z) + z\\Phi(z))`, evaluated
       stably where EI underflows (Ament et al. 2023); ``"ucb"`` :math:`-(\\mu - \\kappa \\sigma)`; ``"pi"``
       :math:`\\log \\Phi(z)` (Kushner 1964).
    4. **Acquisition search**: ``n_candidates`` Philox-uniform points plus a quarter as many Gaussian
       perturbations of the best observed points; the ``n_starts`` best are refined by a batched
       (1+8) local search with step-size adaptation for ``local_iters`` rounds. With few observations
       (n < 150) the search grows up to 4x (see ``_search_growth``). Every evaluation is one batched
       native call (posterior by forward substitution over candidate blocks, OpenMP).
    5. **Batches** (``popsize > 1``): after each proposal the GP is conditioned on a fantasy value at it,
       its posterior mean (``batch="kb"``, kriging believer) or the best value so far (``batch="cl"``,
       constant liar; Ginsbourger, Le Riche & Carraro 2010), and the next point is searched.

    Args:
        acquisition: ``"log_ei"``, ``"ucb"`` or ``"pi"``.
        xi: improvement margin of log-EI and PI, in standardized units.
        kappa: exploration weight of UCB.
        n_initial: size of the initial design (default ``max(3, dim + 1)``, a simplex's worth, rounded up to
            whole batches): small initial designs leave more evaluations to the model, which pays at small
            budgets (Bossek, Doerr & Kerschke 2020; median after 20 evaluations over seeds 0-9 with
            ``dim + 3`` -> ``dim + 1``: Hartmann-6 1.17 -> 0.93, Ackley-5 15.3 -> 12.9).
        batch: ``"kb"`` or ``"cl"``.
        n_candidates, n_starts, local_iters: size of the acquisition search.
        fit_restarts: random starts of the hyperparameter fit in addition to the warm and default ones.
        warp_outputs: Yeo-Johnson warp of the standardized values before the fit while fewer than
            ``WARP_BELOW`` (30) observations are made (see :func:`yeo_johnson_warp`).
        **kwargs: see :class:`~gfo_native.optimizers.base.Optimizer` (bounds are required).
    """

    area = "gp"
    needs_bounds = True

    def __init__(self, bounds: Any = None, *, acquisition: str = "log_ei", xi: float = 0.0, kappa: float = 2.0,
                 n_initial: int | None = None, batch: str = "kb", n_candidates: int = 512, n_starts: int = 5,
                 local_iters: int = 25, fit_restarts: int = 1, warp_outputs: bool = True, **kwargs: Any):
        from .._checks import finite_float, non_negative_int, positive_int

        if acquisition not in ACQUISITIONS:
            raise ValueError(f"acquisition: expected one of {ACQUISITIONS}, got {acquisition!r}")
        if batch not in ("kb", "cl"):
            raise ValueError(f"batch: expected 'kb' (kriging believer) or 'cl' (constant liar), got {batch!r}")
        self.acquisition, self.batch = acquisition, batch
        self.xi = finite_float(xi, "xi", low=0.0)
        self.kappa = finite_float(kappa, "kappa", low=0.0)
        self.n_candidates = positive_int(n_candidates, "n_candidates")
        self.n_starts = positive_int(n_starts, "n_starts")
        self.local_iters = non_negative_int(local_iters, "local_iters")
        self.fit_restarts = non_negative_int(fit_restarts, "fit_restarts")
        if not isinstance(warp_outputs, (bool, np.bool_)):
            raise TypeError(f"warp_outputs: expected a bool, got {type(warp_outputs).__name__}")
        self.warp_outputs = bool(warp_outputs)
        self._n_initial = None if n_initial is None else positive_int(n_initial, "n_initial")
        self._rng: ModuleType
        if kwargs.get("impl", "native") == "reference":
            self._rng = reference_rng
        else:
            self._rng = native_rng
        super().__init__(bounds, **kwargs)  # needs_bounds: the base class refuses an unbounded box

    @classmethod
    def default_popsize(cls, dim: int) -> int:
        return 1

    @property
    def n_initial(self) -> int:
        """Evaluations of the initial design before the GP is used (rounded up to whole batches)."""
        n = max(3, self.dim + 1) if self._n_initial is None else self._n_initial
        return -(-n // self.popsize) * self.popsize

    # ------------------------------------------------------------------ state
    def _init_state(self) -> BayesianOptimizationState:
        from scipy.stats import qmc

        n = self.n_initial
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # balance warnings for sizes that are not powers of two
            design = qmc.Sobol(self.dim, scramble=True, rng=self.seed).random_base2(max(0, math.ceil(math.log2(n))))[:n]
        return BayesianOptimizationState(X=np.empty((0, self.dim)), y=np.empty(0), theta=np.empty(0),
                                         design=self._snap(design))

    def _snap(self, U: np.ndarray) -> np.ndarray:
        if self.space is not None and self.space.discrete:
            return self.space.snap(U)
        return U

    def _to_box(self, U: np.ndarray) -> np.ndarray:
        return np.asarray(self.lower + U * (self.upper - self.lower))

    def _to_unit(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(np.clip((X - self.lower) / (self.upper - self.lower), 0.0, 1.0))

    # ------------------------------------------------------------------ random numbers (running offsets per ask)
    def _uniform(self, shape: tuple[int, ...]) -> np.ndarray:
        n = int(np.prod(shape))
        u = self._rng.uniform(self.seed, self.stream(_UNIFORM), n, offset=self._offsets[0])
        self._offsets[0] += n
        return np.asarray(u.reshape(shape))

    def _normal(self, shape: tuple[int, ...], purpose: int = _NORMAL) -> np.ndarray:
        n = int(np.prod(shape))
        i = 1 if purpose == _NORMAL else 2
        z = self._rng.normal(self.seed, self.stream(purpose), n, offset=self._offsets[i])
        self._offsets[i] += n
        return np.asarray(z.reshape(shape))

    # ------------------------------------------------------------------ ask / tell
    def _ask(self) -> np.ndarray:
        self._offsets = [0, 0, 0]
        st, q = self.state, self.popsize
        start = self.generation * q
        if start < st.design.shape[0]:
            return self._to_box(st.design[start:start + q])
        finite = np.isfinite(st.y)
        if finite.sum() < 2:  # nothing to model yet: keep exploring at random
            return self._to_box(self._snap(self._uniform((q, self.dim))))
        gp, z = self.fit()
        best = float(np.min(z))
        out = np.empty((q, self.dim))
        y_aug = z
        with single_threaded_blas():
            for i in range(q):
                out[i] = self._maximize(gp, best)
                if i + 1 < q:
                    fantasy = self._posterior_mean(gp, out[i]) if self.batch == "kb" else float(np.min(z))
                    y_aug = np.append(y_aug, fantasy)
                    gp = gp.with_point(self.k, out[i], y_aug)
                    best = min(best, fantasy)
        return self._to_box(out)

    def _tell(self, X: np.ndarray, f: np.ndarray) -> None:
        st = self.state
        st.X = np.ascontiguousarray(np.vstack([st.X, self._snap(self._to_unit(X))]))
        st.y = np.concatenate([st.y, f])

    # ------------------------------------------------------------------ surrogate
    def standardized_values(self) -> np.ndarray:
        """Observed values, non-finite ones set to the worst finite one, scaled to mean 0 and sd 1, then
        Yeo-Johnson warped (``warp_outputs``) and standardized again."""
        y = self.state.y.copy()
        finite = np.isfinite(y)
        y[~finite] = np.max(y[finite])
        scale = float(np.max(np.abs(y)))  # divide first: values near 1e308 would overflow the variance
        y = y / scale if scale > 0 else y
        z = _standardize(y)
        return yeo_johnson_warp(z) if self.warp_outputs and y.size < WARP_BELOW else z

    def fit(self) -> tuple[GPFit, np.ndarray]:
        """Fit the GP to the observations (warm-started); returns it and the standardized values."""
        st = self.state
        z = self.standardized_values()
        d0 = default_theta(self.dim)
        starts = [st.theta] if st.theta.size else []
        if not starts or self._restart_now():
            starts.append(d0)
        if self.fit_restarts and self._restart_now():
            mu, sd = prior(self.dim)
            b = hyper_bounds(self.dim)
            Z = self._normal((self.fit_restarts, self.dim + 3), _FIT)
            starts += list(np.clip(mu + sd * Z, b[:, 0], b[:, 1]))
        gp = fit_gp(self.k, st.X, z, starts)
        st.theta = gp.theta.copy()
        return gp, z

    def _restart_now(self) -> bool:
        """Restart the fit away from the warm start while the data are few, then every 8th generation:
        the warm start tracks the optimum as points arrive one by one, and restarts cost most at large n."""
        return self.state.X.shape[0] < 2 * self.n_initial or self.generation % 8 == 0

    def _acq(self, gp: GPFit, C: np.ndarray, best: float) -> np.ndarray:
        out = np.empty(C.shape[0])
        param = self.kappa if self.acquisition == "ucb" else self.xi
        self.k.acquisition(gp.X, gp.inv_ls, gp.s2, gp.mean, gp.L, gp.alpha, np.ascontiguousarray(C),
                           _KIND[self.acquisition], best, param, out)
        out[np.isnan(out)] = -np.inf
        return out

    def _posterior_mean(self, gp: GPFit, x: np.ndarray) -> float:
        mu, var = np.empty(1), np.empty(1)
        self.k.posterior(gp.X, gp.inv_ls, gp.s2, gp.mean, gp.L, gp.alpha, np.ascontiguousarray(x[None, :]), mu, var)
        return float(mu[0])

    def _search_growth(self) -> float:
        """Factor (1 to 4) on ``n_candidates`` (its square root on ``n_starts``) while observations are few.

        An acquisition value costs O(n^2) (forward substitution), so with n <= 75 observations four times
        the candidates cost less than the default search at n = 150; a better-maximized acquisition matters
        most at small budgets, where each point is a large share of the evaluations (Wilson, Hutter &
        Deisenroth 2018 show maximizer quality changing BO's results). At n >= 150 the search is unchanged."""
        n = max(1, self.state.X.shape[0])
        return float(min(4.0, max(1.0, (150.0 / n) ** 2)))

    def _maximize(self, gp: GPFit, best: float) -> np.ndarray:
        """Multi-start search of the acquisition's maximum in the unit cube."""
        D = self.dim
        grow = self._search_growth()
        m, n_starts = int(self.n_candidates * grow), int(round(self.n_starts * math.sqrt(grow)))
        X = gp.X[: self.state.X.shape[0]]
        top = np.argsort(self.state.y, kind="stable")[: min(5, X.shape[0])]
        m_near = max(1, m // 4)
        near = X[top[np.arange(m_near) % top.size]] + 0.05 * self._normal((m_near, D))
        C = self._snap(np.clip(np.vstack([self._uniform((m, D)), near]), 0.0, 1.0))
        a = self._acq(gp, C, best)
        order = np.argsort(-a, kind="stable")[:n_starts]
        x, fx = C[order].copy(), a[order].copy()
        S, lam = x.shape[0], 8
        sigma = np.full(S, 0.05)
        rows = np.arange(S)
        for _ in range(self.local_iters):
            Y = self._snap(np.clip(x[:, None, :] + sigma[:, None, None] * self._normal((S, lam, D)), 0.0, 1.0)
                           .reshape(S * lam, D)).reshape(S, lam, D)
            fy = self._acq(gp, Y.reshape(S * lam, D), best).reshape(S, lam)
            j = np.argmax(fy, axis=1)
            better = fy[rows, j] > fx
            x[better] = Y[rows[better], j[better]]
            fx[better] = fy[rows[better], j[better]]
            sigma = np.where(better, np.minimum(2.0 * sigma, 0.25), np.maximum(0.5 * sigma, 1e-6))
        return np.asarray(x[int(np.argmax(fx))])
