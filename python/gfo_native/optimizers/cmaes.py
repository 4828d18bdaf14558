r"""CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772), its separable variant
(Ros & Hansen, PPSN 2008) and IPOP/BIPOP restarts (Auger & Hansen, CEC 2005; Hansen, GECCO 2009).

Sampling and the per-generation update run in ``_core.cmaes_*`` (C++/OpenMP) or their NumPy twins in
``reference/cmaes.py``; the lazy eigendecomposition, the stop criteria and the restarts are shared
Python code, so both implementations follow the same trajectory.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, List

import numpy as np
from scipy.linalg import lapack

from .._checks import finite_float, non_negative_int, positive_int
from ..reference import rng
from ..reference.rng import stream_id
from .base import Optimizer
from .registry import register

_SAMPLE = 1   # stream purpose: the population of a generation
_RESTART = 2  # stream purpose: a restart's initial mean and BIPOP's regime draw

SIGMA_MIN, SIGMA_MAX = 1e-32, 1e32
COND_SAFE = 1e17  # eigenvalue spread above which the diagonal is lifted (the stop test fires at 1e14)
EIGEN_GAP_FACTOR = 3.0  # eigendecomposition at most every 3 n / lambda generations (see CMAES)


@dataclasses.dataclass
class CMAESState:
    """One run's distribution plus the restart bookkeeping (arrays and scalars only)."""

    mean: np.ndarray
    sigma: float
    C: np.ndarray        # (n, n) covariance; (n,) diagonal for SepCMAES
    B: np.ndarray        # (n, n) eigenvectors in columns; (0,) for SepCMAES
    D: np.ndarray        # (n,) square roots of the eigenvalues (standard deviations along B)
    p_sigma: np.ndarray
    p_c: np.ndarray
    gen: int = 0         # generation within the run
    eigen_gen: int = 0   # run generation of the last eigendecomposition
    best_hist: List[float] = dataclasses.field(default_factory=list)
    median_hist: List[float] = dataclasses.field(default_factory=list)
    run: int = 0                 # restarts done
    popsize: int = 0             # this run's lambda
    large_runs: int = 0          # BIPOP: runs in the large-population regime after the first
    evals_large: int = 0         # BIPOP: evaluations spent per regime (the first run counts as large)
    evals_small: int = 0
    regime: str = "large"
    last_reason: str = ""        # why the previous run ended
    stop: str = ""               # final stop reason ("" while running)
    # True: mean, C, p_c are in the coordinates x / scale (see CMAES._coord_scale). Checkpoints written before that
    # change lack the field (False) and kept the per-coordinate scales in C instead.
    scaled_coords: bool = False


def strategy(n: int, lam: int, separable: bool) -> dict[str, Any]:
    """Default strategy parameters of Table 1 in the tutorial (active CMA weights for the full variant)."""
    mu = lam // 2
    wp = math.log((lam + 1) / 2) - np.log(np.arange(1, lam + 1))
    pos, neg = wp[:mu], wp[mu:]
    mueff = pos.sum() ** 2 / (pos ** 2).sum()
    c_sigma = (mueff + 2) / (n + mueff + 5)
    d_sigma = 1 + 2 * max(0.0, math.sqrt((mueff - 1) / (n + 1)) - 1) + c_sigma
    c_c = (4 + mueff / n) / (n + 4 + 2 * mueff / n)
    c1 = 2 / ((n + 1.3) ** 2 + mueff)
    cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2) ** 2 + mueff))
    weights = np.zeros(lam)
    weights[:mu] = pos / pos.sum()
    if separable:  # Ros & Hansen: learning rates scaled by (n + 2) / 3, positive recombination only
        c1 = min(1.0, c1 * (n + 2) / 3)
        cmu = min(1 - c1, cmu * (n + 2) / 3)
    elif lam > mu and cmu > 0 and neg.size:
        mueff_neg = neg.sum() ** 2 / (neg ** 2).sum()
        scale = min(1 + c1 / cmu, 1 + 2 * mueff_neg / (mueff + 2), (1 - c1 - cmu) / (n * cmu))
        weights[mu:] = scale * neg / np.abs(neg).sum()
    chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
    params = np.array([c_sigma, d_sigma, c_c, c1, cmu, 1.0, mueff, chi_n])
    return {"mu": mu, "weights": weights, "params": params, "mueff": mueff, "c1": c1, "cmu": cmu,
            "eigen_gap": max(1.0 / (10 * n * (c1 + cmu)), EIGEN_GAP_FACTOR * n / lam), "chi_n": chi_n}


@register("cmaes")
class CMAES(Optimizer):
    r"""Covariance matrix adaptation evolution strategy, tutorial defaults, with optional restarts.

    Each generation samples :math:`x_k = m + \sigma B D z_k`, :math:`z_k \sim N(0, I)`, ranks by fitness and
    updates (Eqs. 39-47 of the tutorial):

    .. math::
        m &\leftarrow m + c_m \sigma \langle y\rangle_w, \quad \langle y\rangle_w = \sum_{i\le\mu} w_i y_{i:\lambda}\\
        p_\sigma &\leftarrow (1-c_\sigma) p_\sigma + \sqrt{c_\sigma(2-c_\sigma)\mu_{eff}}\, C^{-1/2}\langle y\rangle_w\\
        p_c &\leftarrow (1-c_c) p_c + h_\sigma \sqrt{c_c(2-c_c)\mu_{eff}}\,\langle y\rangle_w\\
        C &\leftarrow (1 + c_1\delta(h_\sigma) - c_1 - c_\mu \textstyle\sum_j w_j) C + c_1 p_c p_c^T
             + c_\mu \textstyle\sum_{i=1}^{\lambda} w_i^\circ y_{i:\lambda} y_{i:\lambda}^T\\
        \sigma &\leftarrow \sigma \exp\big(\min(1, \tfrac{c_\sigma}{d_\sigma}(\|p_\sigma\| / E\|N(0,I)\| - 1))\big)

    with active (negative) weights for the worst :math:`\lambda - \mu` steps, :math:`w_i^\circ = w_i n /
    \|C^{-1/2} y_{i:\lambda}\|^2` for them. :math:`C = B D^2 B^T` is re-decomposed lazily, every
    :math:`\max(1 / (10 n (c_1 + c_\mu)), 3 n / \lambda)` generations: the tutorial's (and pycma's) gap, widened
    so that the O(n^3) decomposition costs about a third of the O(\lambda n^2) sampling of the generations in
    between (O(n^2) amortized per sample). The gap stays below 2% of the time scale :math:`1/(c_1 + c_\mu)` on
    which C adapts; measured against the tutorial's gap, evaluations to 1e-8 on sphere, ellipsoid and
    rosenbrock in 10-D and 40-D moved by less than 3% (bench/python/bench_es.py compares them with pycma).
    The samples' normals are kept until ``tell``: with :math:`y_k = B D z_k`, :math:`C^{-1/2} y_k = B z_k`, so
    the evolution path and the active weights need no solve with B and D.

    Bounds: ``ask`` returns the samples clipped to the box; ``tell`` ranks them by
    :math:`f(\mathrm{clip}(u)) + \gamma \|u - \mathrm{clip}(u)\|^2` and updates with the unclipped samples
    :math:`u` (repair with penalty, after Hansen et al. 2009), :math:`\gamma` = interquartile range of the
    generation's values / :math:`(\sigma^2\, \mathrm{tr}(C) / n)`. Clipping alone would bias the steps
    toward the boundary and make the step size grow without bound when the optimum lies on it.

    Safeguards: the exponent of the step-size change is capped at 1; sigma stays in [1e-32, 1e32];
    an eigenvalue spread above 1e17 lifts the diagonal of C; NaN/inf fitness ranks worst.

    Stop criteria of one run (tutorial, App. B.3): ``tolfun`` (range of recent best and current values),
    ``tolx`` (sigma times the largest of |p_c| and the standard deviations), ``conditioncov`` (condition of C
    above ``tolconditioncov``), ``noeffectaxis``, ``noeffectcoord`` and ``stagnation`` (medians of best and
    median values stop improving over the last 20% of the run, at least 120 + 30 n / lambda generations).

    Restarts (``restarts=``): ``"ipop"`` multiplies lambda by ``incpopsize`` at each restart;
    ``"bipop"`` alternates that large-population regime with small populations
    :math:`\lambda_s = \lfloor\lambda_0 (\lambda_l / (2\lambda_0))^{U^2}\rfloor` and step sizes
    :math:`\sigma_0 10^{-2U}`, choosing the regime that has used fewer evaluations. A restart begins at a
    uniform random point of the box (or at ``x0`` when unbounded). ``stop()`` becomes true when a run ends
    and no restart is left.

    Args:
        restarts: None, ``"ipop"`` or ``"bipop"``.
        max_restarts: large-population restarts allowed after the first run (IPOP: all restarts; BIPOP's
            small-population runs come on top, each started only while the small regime has used fewer
            evaluations than the large one).
        incpopsize: population growth factor of a large-regime restart.
        tolx, tolfun, tolconditioncov: stop thresholds (pycma's defaults).
        **kwargs: see :class:`~gfo_native.optimizers.base.Optimizer` (``sigma0`` may be per coordinate, as
            the default 0.25 of each box width is: see below).

    Per-coordinate scales: when the entries of ``sigma0`` differ, the algorithm runs in the coordinates
    :math:`x' = x / s`, :math:`s = \sigma_0 / \max(\sigma_0)` (a fixed diagonal transformation, as pycma's
    ``scaling_of_variables``), where sigma starts at :math:`\max(\sigma_0)` and C at the identity. CMA-ES is
    invariant under this change of coordinates, so the search is the same as with C starting at
    :math:`\mathrm{diag}(s^2)`; but the stop criteria (``conditioncov``, ``tolx``, the noeffect tests) and the
    eigenvalue safeguard judge C relative to the initial scaling. Otherwise a box whose widths differ by
    1e7 would start at cond(C) = 1e14 and stop on ``conditioncov`` after one generation. ``mean`` and the
    asked points are in the caller's coordinates.
    """

    area = "cmaes"
    min_popsize = 2
    separable = False

    def __init__(self, bounds: Any = None, *, restarts: str | None = None, max_restarts: int = 9,
                 incpopsize: float = 2.0, tolx: float = 1e-11, tolfun: float = 1e-11,
                 tolconditioncov: float = 1e14, **kwargs: Any):
        if restarts not in (None, "ipop", "bipop"):
            raise ValueError(f"restarts: expected None, 'ipop' or 'bipop', got {restarts!r}")
        self.restarts = restarts
        self.max_restarts = non_negative_int(max_restarts, "max_restarts")
        self.incpopsize = finite_float(incpopsize, "incpopsize", low=1.0, low_open=True)
        self.tolx = finite_float(tolx, "tolx", low=0.0)
        self.tolfun = finite_float(tolfun, "tolfun", low=0.0)
        self.tolconditioncov = finite_float(tolconditioncov, "tolconditioncov", low=1.0, low_open=True)
        self._strat: dict[str, Any] = {}
        self._samples: tuple[int, np.ndarray, np.ndarray] | None = None
        self._dcache: tuple[np.ndarray, float, float] | None = None
        self._lifted = False
        self._coord_scale: np.ndarray | None = None
        super().__init__(bounds, **kwargs)
        self._boxed = bool(np.isfinite(self.lower).any() or np.isfinite(self.upper).any())

    # ------------------------------------------------------------------ runs and restarts
    def _init_state(self) -> CMAESState:
        n = self.dim
        scale = self.sigma0 / float(np.max(self.sigma0))
        # equal scales: none (x / 1.0 is x, and the hot path skips the products)
        self._coord_scale = None if np.all(scale == 1.0) else scale
        s = CMAESState(mean=self.x0.copy(), sigma=1.0, C=np.zeros(0), B=np.zeros(0), D=np.zeros(0),
                       p_sigma=np.zeros(n), p_c=np.zeros(n), popsize=self.popsize, scaled_coords=True)
        self._start_run(s, self.x0.copy(), 1.0)
        return s

    def _to_internal(self, x: np.ndarray) -> np.ndarray:
        """Caller's coordinates -> the algorithm's (x / scale); the array itself when the scales are equal."""
        return x if self._coord_scale is None else x / self._coord_scale

    def _start_run(self, s: CMAESState, mean: np.ndarray, sigma_factor: float) -> None:
        """Start a run at ``mean`` (caller's coordinates): sigma = max(sigma0) * sigma_factor, C = I."""
        n = self.dim
        sigma = float(np.max(self.sigma0))
        s.mean, s.sigma = self._to_internal(mean), sigma * sigma_factor
        self._samples = None
        s.D = np.ones(n)
        s.C = np.ones(n) if self.separable else np.eye(n)
        s.B = np.zeros(0) if self.separable else np.eye(n)
        s.p_sigma, s.p_c = np.zeros(n), np.zeros(n)
        s.gen = s.eigen_gen = 0
        s.best_hist, s.median_hist = [], []
        self.popsize = s.popsize
        self._strat = strategy(n, s.popsize, self.separable)

    def _restart(self, s: CMAESState, reason: str) -> None:
        """A run ended for `reason`: start the next one (IPOP/BIPOP), or record the final stop."""
        if s.regime == "large":
            s.evals_large += s.gen * s.popsize
        else:
            s.evals_small += s.gen * s.popsize
        small = self.restarts == "bipop" and s.run >= 1 and s.evals_small < s.evals_large
        if self.restarts is None or (not small and s.large_runs >= self.max_restarts):
            s.stop = reason if s.run == 0 else f"{reason} (after {s.run} restarts)"
            return
        u = rng.uniform(self.seed, self.stream(_RESTART), self.dim + 1)
        mean = self.lower + (self.upper - self.lower) * u[:self.dim] if self.bounded else self.x0.copy()
        sigma_factor = 1.0
        if small:
            s.regime = "small"
            large = self.popsize0 * self.incpopsize ** s.large_runs
            s.popsize = max(2, int(self.popsize0 * (0.5 * large / self.popsize0) ** (u[-1] ** 2)))
            sigma_factor = 10.0 ** (-2.0 * u[-1])
        else:
            s.regime = "large"
            s.large_runs += 1
            s.popsize = int(self.popsize0 * self.incpopsize ** s.large_runs)
        s.run += 1
        s.last_reason = reason
        self._start_run(s, mean, sigma_factor)

    @property
    def sigma(self) -> float:
        """The current global step size."""
        return float(self.state.sigma)

    @property
    def mean(self) -> np.ndarray:
        """The current distribution mean (a copy, in the caller's coordinates), shape (dim,)."""
        m = self.state.mean
        return np.asarray(m.copy() if self._coord_scale is None else m * self._coord_scale)

    # ------------------------------------------------------------------ ask / tell
    def _sample(self) -> tuple[np.ndarray, np.ndarray]:
        """This generation's Gaussian samples U (before the bounds) and their normals Z (full CMA-ES only), a pure
        function of (seed, generation, state)."""
        cached = self._samples
        if cached is not None and cached[0] == self.generation:
            return cached[1], cached[2]
        s = self.state
        U = np.empty((self.popsize, self.dim))
        if self.separable:
            Z = U
            self.k.sep_sample(self.seed, stream_id(self.generation, _SAMPLE), s.mean, s.sigma, s.D, U)
        else:
            Z = np.empty((self.popsize, self.dim))
            self.k.sample(self.seed, stream_id(self.generation, _SAMPLE), s.mean, s.sigma, s.B, s.D, U, Z)
        self._samples = (self.generation, U, Z)
        return U, Z

    def _ask(self) -> np.ndarray:
        U = self._sample()[0]
        if self._coord_scale is not None:
            U = U * self._coord_scale
        # unboxed: the cached samples themselves (the base class hands out a copy and never writes to them)
        return np.minimum(np.maximum(U, self.lower), self.upper) if self._boxed else U

    def _tell(self, X: np.ndarray, f: np.ndarray) -> None:
        s, st = self.state, self._strat
        U, Z = self._sample()
        if self._boxed:
            f = self._penalize(U, self._to_internal(X), f)
        if self.separable:
            sigma, _, _ = self.k.sep_tell(U, f, st["weights"], st["mu"], st["params"], s.gen, s.mean, s.sigma, s.C,
                                          s.D, s.p_sigma, s.p_c)
            stats = None
        else:
            stats = self.k.tell(U, Z, f, st["weights"], st["mu"], st["params"], s.gen, s.mean, s.sigma, s.C,
                                s.B, s.D, s.p_sigma, s.p_c)
            sigma = stats[0]
        self._samples = None
        s.sigma = min(max(float(sigma), SIGMA_MIN), SIGMA_MAX)
        s.gen += 1
        self._lifted = False
        if self.separable:
            self._guard_diagonal(s)
        elif s.gen - s.eigen_gen >= st["eigen_gap"]:
            self._decompose(s)
        reason = self._run_stop(s, f, stats)
        if reason is not None:
            self._restart(s, reason)

    def _penalize(self, U: np.ndarray, X: np.ndarray, f: np.ndarray) -> np.ndarray:
        """Ranking values of clipped samples: f(x) + gamma ||u - x||^2 (Hansen et al. 2009, simplified).

        The update then uses the unclipped samples u, so the step-size and covariance adaptation see true
        Gaussian steps; gamma makes one standard deviation of violation cost one interquartile range of f.
        U and X in the algorithm's coordinates.
        """
        # the violation in units of the distribution's scale sigma * rms(D) before squaring: sigma^2 itself overflows
        # in a box wider than about 1e154 (sigma0 is a quarter of the widest side)
        with np.errstate(over="ignore"):
            unit = float(self.state.sigma * np.sqrt(np.mean(self.state.D ** 2)))
        R = (U - X) / unit
        pen = np.einsum("ij,ij->i", R, R)
        if not pen.any():
            return f
        fin = f[np.isfinite(f)]
        with np.errstate(over="ignore", invalid="ignore"):
            # values spread beyond float64 (e.g. -1e308 and 1e308): the IQR overflows, and any violation ranks worst
            iqr = float(np.subtract(*np.percentile(fin, [75, 25]))) if fin.size >= 2 else 0.0
            coef = (iqr if iqr > 0 else 1.0) if math.isfinite(iqr) else math.inf
            # only where a sample was clipped: an infinite coef times a zero penalty would be NaN, which the ranking
            # kernels order differently (std::stable_sort vs numpy's NaN-last argsort)
            out = np.where(pen > 0, f + coef * pen, f)
        out[np.isnan(out)] = np.inf
        return np.asarray(out)

    def _decompose(self, s: CMAESState) -> None:
        """Lazy eigendecomposition C = B diag(D^2) B^T by LAPACK dsyevd (the lower triangle of C)."""
        s.eigen_gen = s.gen
        if not np.all(np.isfinite(s.C)):  # cannot happen from finite steps; recover the last valid model
            s.C = (s.B * (s.D * s.D)) @ s.B.T
        w, B, info = lapack.dsyevd(s.C, compute_v=1, lower=1)
        if info != 0:
            return  # keep the previous B, D
        wmax = float(w[-1])
        lift = wmax / COND_SAFE - float(w[0])
        if wmax <= 0:
            s.C = np.eye(self.dim) * float(np.max(s.D) ** 2)
            w, B = np.full(self.dim, float(np.max(s.D) ** 2)), np.eye(self.dim)
        elif lift > 0:
            s.C[np.diag_indices(self.dim)] += lift
            w = w + lift
        self._lifted = wmax <= 0 or lift > 0  # C changed after the update: its diagonal statistics are stale
        s.D = np.sqrt(w)
        s.B = np.ascontiguousarray(B)

    def _guard_diagonal(self, s: CMAESState) -> None:
        cmax = float(np.max(s.C))
        lift = cmax / COND_SAFE - float(np.min(s.C))
        if lift > 0:
            s.C += lift
            np.sqrt(s.C, out=s.D)

    # ------------------------------------------------------------------ stop criteria
    def _d_extremes(self, s: CMAESState) -> tuple[float, float]:
        """max(D), min(D); cached while D is the same array (the full variant replaces D when it changes)."""
        cached = self._dcache
        if not self.separable and cached is not None and cached[0] is s.D:
            return cached[1], cached[2]
        dmax, dmin = float(np.max(s.D)), float(np.min(s.D))
        self._dcache = (s.D, dmax, dmin)
        return dmax, dmin

    def _run_stop(self, s: CMAESState, f: np.ndarray, stats: tuple[float, ...] | None) -> str | None:
        n, lam = self.dim, s.popsize
        dmax, dmin = self._d_extremes(s)
        if stats is None or self._lifted:  # separable, or C lifted by the decomposition: from the arrays
            fs = np.partition(f, (0, lam // 2, lam - 1))
            fmin, fmed, fmax = float(fs[0]), float(fs[lam // 2]), float(fs[-1])
            pcmax = float(np.max(np.abs(s.p_c)))
            diag = s.C if self.separable else np.diagonal(s.C)
            cmin, cmax = float(np.min(diag)), float(np.max(diag))
            mmax = float(np.max(np.abs(s.mean)))
        else:  # gathered by the native update
            fmin, fmed, fmax, pcmax, cmin, cmax, mmax = stats[3:10]
        s.best_hist.append(fmin)
        s.median_hist.append(fmed)
        if len(s.best_hist) > 20000:
            del s.best_hist[0], s.median_hist[0]
        std_max = dmax if self.separable else math.sqrt(cmax)
        if s.sigma * max(pcmax, std_max) < self.tolx:
            return "tolx"
        lh = 10 + math.ceil(30 * n / lam)
        # The range over the window includes this generation's fmax - fmin: no need to scan it otherwise.
        if s.gen >= lh and fmax - fmin < self.tolfun:
            recent = s.best_hist[-lh:]
            if max(max(recent), fmax) - min(min(recent), fmin) < self.tolfun:
                return "tolfun"
        if (dmax / dmin) ** 2 > self.tolconditioncov:
            return "conditioncov"
        # x + d == x needs |d| <= 2^-53 |x|: a step larger than 2^-52 max|mean| (times sqrt(n) for a unit axis,
        # whose largest entry is at least 1/sqrt(n)) always has an effect, and the exact test is skipped.
        limit = 2.0 ** -52 * mmax + 1e-290  # (+ a tiny term: a step that underflows to 0 is no effect)
        if self.separable:
            if 0.2 * s.sigma * dmin <= limit and np.all(s.mean == s.mean + 0.2 * s.sigma * s.D):
                return "noeffectcoord"
        else:
            i = s.gen % n
            if 0.1 * s.sigma * float(s.D[i]) <= limit * math.sqrt(n) \
                    and np.all(s.mean == s.mean + (0.1 * s.sigma * s.D[i]) * s.B[:, i]):
                return "noeffectaxis"
            if 0.2 * s.sigma * math.sqrt(cmin) <= limit \
                    and np.any(s.mean == s.mean + 0.2 * s.sigma * np.sqrt(np.diagonal(s.C))):
                return "noeffectcoord"
        if s.gen % 10 == 0:
            window = min(max(math.ceil(0.2 * s.gen), 120 + math.ceil(30 * n / lam)), 20000)
            if s.gen >= window:
                k = math.ceil(0.3 * window)
                b, m = s.best_hist[-window:], s.median_hist[-window:]
                if np.median(b[-k:]) >= np.median(b[:k]) and np.median(m[-k:]) >= np.median(m[:k]):
                    return "stagnation"
        return None

    def _stop_reason(self) -> str | None:
        return self.state.stop or None

    # ------------------------------------------------------------------ checkpoints
    def load_state_dict(self, sd: dict[str, Any]) -> None:
        # A restart may have changed lambda: the checkpoint's is accepted (with restarts), and adopted with it.
        popsize = sd.get("popsize") if isinstance(sd, dict) and self.restarts is not None else None
        checked = self._checked_state(sd, popsize)
        s = checked["state"]
        if s is None:
            raise ValueError("state_dict: state is None, CMA-ES expects a dict")
        if self._coord_scale is not None and not s.scaled_coords:
            raise ValueError("state_dict: written before CMA-ES kept unequal sigma0 scales outside C "
                             "(it stored them in C); this version cannot continue it (start the run again)")
        for f in dataclasses.fields(s):
            v = getattr(s, f.name)
            if isinstance(v, np.ndarray):  # unpickled dtypes are not numpy's canonical instances: re-make them
                setattr(s, f.name, np.ascontiguousarray(v).astype(np.float64))
        self._adopt(checked)
        self.popsize = s.popsize
        self._strat = strategy(self.dim, self.popsize, self.separable)
        # the cached samples belong to the replaced state (they are keyed by the generation only), and so do the
        # cached extremes of D and the flag of a lifted C
        self._samples, self._dcache, self._lifted = None, None, False


@register("sep_cmaes")
class SepCMAES(CMAES):
    r"""Separable CMA-ES (Ros & Hansen, PPSN 2008): C restricted to its diagonal.

    Same equations as :class:`CMAES` with :math:`C = \mathrm{diag}(c)`, positive recombination weights only
    and the learning rates :math:`c_1, c_\mu` multiplied by :math:`(n + 2) / 3`. Every step is O(n) per
    sample, with no eigendecomposition: the method for high dimension (10^4 to 10^6 and beyond) and for
    nearly separable problems. Bounds, stop criteria and restarts as in :class:`CMAES`.
    """

    separable = True
