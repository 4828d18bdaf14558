r"""Evolution strategies with regenerated noise: OpenAI-ES (Salimans et al., "Evolution Strategies as a
Scalable Alternative to Reinforcement Learning", 2017) and SNES (Schaul, Glasmachers & Schmidhuber, "High
Dimensions and Heavy Tails for Natural Evolution Strategies", GECCO 2011).

Noise is a pure function of (seed, generation, member): ``eps[p, j] = normal32(seed, stream(generation, 1),
p * d + j)``, float32 Philox normals (``gfo_native.rng.normal(..., dtype=np.float32)``) widened exactly to float64.
Float32 normals cost half the Philox bits and a fraction of the arithmetic of float64 ones, which is most of
a generation's time at 10^6 dimensions; Salimans et al. (2017) draw their noise table in float32 too, and
24-bit noise is far finer than anything an ES resolves. Nothing of size popsize x d is ever stored by the optimizer; with ``ask_seeds()`` /
``expand()`` / ``tell_seeds()`` the caller never materializes it either (chunked evaluation)::

    batch = opt.ask_seeds()                      # a SeedBatch: seed, stream, popsize (no arrays)
    f = np.empty(batch.popsize)
    buf = np.empty((64, opt.dim))
    for start in range(0, batch.popsize, 64):
        stop = min(start + 64, batch.popsize)
        X = opt.expand(start, stop, out=buf[:stop - start])   # rows start..stop-1 of this generation
        f[start:stop] = objective(X)
    opt.tell_seeds(f)

The plain ``ask()``/``tell()`` work as for every optimizer (``ask`` returns the (popsize, d) batch).

``noise_table=T`` switches to the shared noise table of Salimans et al. (2017): T float32 normals drawn once
from Philox (seed, stream (0, 3)), and noise row p of a generation is ``table[o_p : o_p + d]`` with the random
offset ``o_p = bits(seed, stream(generation, 1), p) mod (T - d + 1)``. Rows then cost a memory read instead
of Philox and Box-Muller (a generation about twice as fast at 10^6 dimensions), for T * 4 bytes held; rows of
different members overlap at shifted positions (nearly uncorrelated) and coincide with probability
1 / (T - d + 1).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .. import rng as native_rng
from .._checks import finite_float, positive_int
from ..reference import rng as reference_rng
from ..reference.rng import stream_id
from ..optim import functional as F
from .base import Optimizer
from .registry import register

_NOISE = 1  # stream purpose: the perturbations of a generation (with a noise table: the rows' offsets)
_TABLE = 3  # stream purpose (generation 0): the shared noise table


@dataclasses.dataclass(frozen=True)
class SeedBatch:
    """One generation's perturbations as seeds: member ``i`` is ``expand(i)``.

    Noise row ``p`` is ``normal(seed, stream, p * dim + j, dtype=float32)`` widened to float64, j < dim; antithetic member ``i`` is
    ``mean + sigma * (+-1) * row(i // 2)`` (``+`` for even i), otherwise ``mean + sigma * row(i)``.
    """

    seed: int
    stream: int
    generation: int
    popsize: int
    dim: int
    antithetic: bool


def centered_ranks(f: np.ndarray) -> np.ndarray:
    """Ranks scaled to [-0.5, 0.5], the lowest value first (ties broken by position)."""
    n = f.size
    ranks = np.empty(n)
    ranks[np.argsort(f, kind="stable")] = np.arange(n)
    return ranks / (n - 1) - 0.5


class _NoiseES(Optimizer):
    """Shared machinery: perturbations regenerated from Philox, the seed API, bounds by clipping."""

    area = "es"
    min_popsize = 2

    def __init__(self, bounds: Any = None, *, antithetic: bool, noise_table: int | None = None, **kwargs: Any):
        if not isinstance(antithetic, bool):
            raise TypeError(f"antithetic: expected a bool, got {type(antithetic).__name__}")
        self.antithetic = antithetic
        self.noise_table = None if noise_table is None else positive_int(noise_table, "noise_table")
        self._table: np.ndarray | None = None
        super().__init__(bounds, **kwargs)
        if self.antithetic and self.popsize % 2:
            if kwargs.get("popsize") is not None:
                raise ValueError(f"popsize: antithetic sampling needs an even popsize, got {self.popsize}")
            # the default (4 + 3 ln d, odd for some d: SNES at d = 3) rounded up to whole pairs, as OpenES's is
            self.popsize = self.popsize0 = self.popsize + 1
        if self.noise_table is not None and not self.dim <= self.noise_table <= 2**32:
            raise ValueError(f"noise_table: expected dim ({self.dim}) <= entries <= 2^32, got {self.noise_table}")
        self._boxed = bool(np.isfinite(self.lower).any() or np.isfinite(self.upper).any())

    def _noise(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(table, offsets) of this generation's noise rows for the kernels; (None, None) for Philox noise."""
        if self.noise_table is None:
            return None, None
        if self._table is None:  # drawn once, on first use (a pure function of the seed)
            draw = native_rng.normal if self.impl == "native" else reference_rng.normal
            self._table = np.asarray(draw(self.seed, stream_id(0, _TABLE), self.noise_table, dtype=np.float32))
        bits = reference_rng.bits(self.seed, self.stream(_NOISE), self._rows())
        return self._table, bits.astype(np.int64) % (self.noise_table - self.dim + 1)

    def _adopt(self, checked: dict[str, Any]) -> None:
        if checked["seed"] != self.seed:  # the noise table is a function of the seed: draw the checkpoint's
            self._table = None
        super()._adopt(checked)

    def _scale(self) -> np.ndarray:
        raise NotImplementedError

    def _rows(self) -> int:
        return self.popsize // 2 if self.antithetic else self.popsize

    def _perturb(self, first: int, out: np.ndarray) -> np.ndarray:
        lo, hi = (self.lower, self.upper) if self._boxed else (None, None)
        self.k.perturb(self.seed, self.stream(_NOISE), *self._noise(), self.state.mean, self._scale(), lo, hi,
                       first, self.antithetic, out)
        return out

    def _ask(self) -> np.ndarray:
        return self._perturb(0, np.empty((self.popsize, self.dim)))

    def ask(self, out: np.ndarray | None = None) -> np.ndarray:
        """The batch to evaluate, shape (popsize, dim), float64: the optimizer's own array, not a copy (at 10^6
        dimensions a copy costs as much as drawing the batch); asking again before ``tell`` returns it again.

        ``out``: a C-contiguous float64 (popsize, dim) array to fill and return instead of a new one (reuse one
        buffer across generations: a fresh array of that size costs page faults on every generation).
        """
        shape = (self.popsize, self.dim)
        if out is not None and not (isinstance(out, np.ndarray) and out.dtype == np.float64
                                    and out.flags.c_contiguous and out.shape == shape):
            raise ValueError(f"out: expected a C-contiguous float64 array of shape {shape}")
        if self._pending is None:
            self._pending = self._perturb(0, np.empty(shape) if out is None else out)
        elif out is not None and out is not self._pending:
            np.copyto(out, self._pending)
            self._pending = out
        return self._pending

    def _tell(self, X: np.ndarray, f: np.ndarray) -> None:
        # Without a box the members are the unclipped perturbations: the update reads them instead of drawing
        # the noise again (the same bits either way). Clipped members do not carry the noise: regenerate it;
        # so does a noise table, whose float32 rows are half the bytes of the members; and so does a batch other
        # than the asked array (a caller's copy may hold rounded or repaired points, which are not the noise).
        read = not self._boxed and self.noise_table is None and X is self._pending
        self._update(f, np.ascontiguousarray(X) if read else None)

    def _update(self, f: np.ndarray, X: np.ndarray | None) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ low-memory API
    def ask_seeds(self) -> SeedBatch:
        """This generation's perturbations as seeds (no arrays); expand rows with :meth:`expand`."""
        return SeedBatch(self.seed, self.stream(_NOISE), self.generation, self.popsize, self.dim, self.antithetic)

    def expand(self, start: int, stop: int | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """Member ``start`` as a (d,) point, or members ``start..stop-1`` as rows of a (stop - start, d) array.

        ``out`` (C-contiguous float64 of that shape) is filled in place and returned; the points are the rows
        ``ask()`` would return, clipped to the bounds.
        """
        single = stop is None
        stop = start + 1 if single else stop
        if not (isinstance(start, (int, np.integer)) and isinstance(stop, (int, np.integer))
                and 0 <= start < stop <= self.popsize):
            raise ValueError(f"start, stop: expected 0 <= start < stop <= popsize ({self.popsize}), got {start}, {stop}")
        shape = (stop - start, self.dim)
        if out is None:
            out = np.empty(self.dim if single else shape)
        elif not (isinstance(out, np.ndarray) and out.dtype == np.float64 and out.flags.c_contiguous
                  and out.size == shape[0] * shape[1]):
            raise ValueError(f"out: expected a C-contiguous float64 array of {shape[0] * shape[1]} elements")
        self._perturb(int(start), out.reshape(shape))
        return out

    def tell_seeds(self, fitness: Any) -> None:
        """Report the fitness of members 0..popsize-1 of the generation of :meth:`ask_seeds` (no X needed)."""
        f = self._record(fitness, self.popsize, self.expand)
        self._update(f, None)
        self.nfev += self.popsize
        self.generation += 1
        self._pending = None


@dataclasses.dataclass
class OpenESState:
    mean: np.ndarray
    exp_avg: np.ndarray       # Adam's first moment, or SGD's momentum buffer
    exp_avg_sq: np.ndarray    # Adam's second moment (unused by SGD)
    step: np.ndarray          # (1,) float64 step counter, torch's state["step"]


SIGMA0_RANGE = (1e-150, 1e150)  # OpenES's sigma0 (see OpenES.__init__)


@register("openes")
class OpenES(_NoiseES):
    r"""OpenAI evolution strategy (Salimans et al. 2017) with antithetic sampling and centered ranks.

    Members are :math:`x_i = \theta \pm \sigma \odot \epsilon_p` (antithetic pairs). With the centered ranks
    :math:`u_i \in [-\frac12, \frac12]` of the fitness (lowest first), the search gradient is

    .. math:: g = \frac{1}{n \sigma} \sum_p (u_{2p} - u_{2p+1})\, \epsilon_p

    and :math:`\theta` takes one step of Adam (default) or SGD with momentum on :math:`g`, by the fused kernels
    of :mod:`gfo_native.optim.functional` (torch.optim's update rules). ``sigma0`` stays fixed.

    ``tell(X, f)`` with the array ``ask()`` returned reads the noise back from its members of sign +,
    :math:`\epsilon_p = (x_{2p} - \theta) / \sigma`, instead of drawing it again (``tell_seeds`` draws it once, and
    both give the same bits); so that array must not be modified. Any other array (a copy, rounded or repaired
    points) is taken as the points the fitness belongs to, and the noise is drawn again.

    Bounds: points are clipped to the box (the gradient uses the unclipped noise, then regenerated) and so is
    :math:`\theta`.

    Args:
        lr: learning rate (default ``0.1 * mean(sigma0)``).
        optimizer: ``"adam"`` or ``"sgd"``.
        beta1, beta2, eps: Adam's constants; ``momentum``: SGD's.
        weight_decay: L2 decay of :math:`\theta` (AdamW-style when ``optimizer="adam"``).
        antithetic: mirrored sampling (needs an even popsize).
        noise_table: entries of a shared float32 noise table (see the module docstring), None for noise
            regenerated from Philox.
        **kwargs: see :class:`~gfo_native.optimizers.base.Optimizer`.
    """

    def __init__(self, bounds: Any = None, *, lr: float | None = None, optimizer: str = "adam",
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, momentum: float = 0.9,
                 weight_decay: float = 0.0, antithetic: bool = True, noise_table: int | None = None, **kwargs: Any):
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer: expected 'adam' or 'sgd', got {optimizer!r}")
        self.optimizer = optimizer
        # a float once the base has set sigma0 (the default depends on it)
        self.lr: Any = None if lr is None else finite_float(lr, "lr", low=0.0, low_open=True)
        self.beta1 = finite_float(beta1, "beta1", low=0.0, high=1.0)
        self.beta2 = finite_float(beta2, "beta2", low=0.0, high=1.0)
        self.eps = finite_float(eps, "eps", low=0.0)
        self.momentum = finite_float(momentum, "momentum", low=0.0, high=1.0)
        self.weight_decay = finite_float(weight_decay, "weight_decay", low=0.0)
        super().__init__(bounds, antithetic=antithetic, noise_table=noise_table, **kwargs)
        # The search gradient divides by sigma^2 and Adam squares the gradient (about |noise| / sigma): outside this
        # range those underflow or overflow float64, and the mean turns NaN (tiny sigma) or never moves (huge sigma).
        if not (np.all(self.sigma0 >= SIGMA0_RANGE[0]) and np.all(self.sigma0 <= SIGMA0_RANGE[1])):
            raise ValueError(f"sigma0: OpenES needs values in [{SIGMA0_RANGE[0]:g}, {SIGMA0_RANGE[1]:g}] (its gradient "
                             f"is taken in units of sigma0^2), got {float(np.min(self.sigma0)):g} to "
                             f"{float(np.max(self.sigma0)):g}; rescale the problem, or pass sigma0 for a very wide box")
        if self.lr is None:
            self.lr = 0.1 * float(np.mean(self.sigma0))
        self._grad = np.empty(self.dim)

    @classmethod
    def default_popsize(cls, dim: int) -> int:
        n = 4 + int(3 * math.log(dim))
        return n + n % 2

    def _init_state(self) -> OpenESState:
        d = self.dim
        return OpenESState(mean=self.x0.copy(), exp_avg=np.zeros(d), exp_avg_sq=np.zeros(d), step=np.zeros(1))

    def _scale(self) -> np.ndarray:
        return self.sigma0

    def _update(self, f: np.ndarray, X: np.ndarray | None) -> None:
        s, n = self.state, self.popsize
        u = centered_ranks(f)
        a = u[0::2] - u[1::2] if self.antithetic else u
        g = self._grad
        # g = sum_p a_p eps_p / (n sigma) with eps_p = (x_p - theta) / sigma, x_p the member of sign +
        self.k.grad(self.seed, self.stream(_NOISE), *self._noise(), np.ascontiguousarray(a), None, s.mean,
                    self.sigma0, X, self.antithetic, 1.0 / n, True, g, None)
        if self.optimizer == "adam":
            F.adam_([s.mean], [g], [s.exp_avg], [s.exp_avg_sq], None, s.step, lr=self.lr, beta1=self.beta1,
                    beta2=self.beta2, eps=self.eps, weight_decay=self.weight_decay, decoupled_weight_decay=True,
                    impl=self.impl)
        else:
            # A zero buffer at the first step gives torch's buffer = gradient (dampening is 0).
            F.sgd_([s.mean], [g], [s.exp_avg], lr=self.lr, momentum=self.momentum,
                   weight_decay=self.weight_decay, impl=self.impl)
            s.step += 1
        if self._boxed:
            np.clip(s.mean, self.lower, self.upper, out=s.mean)


@dataclasses.dataclass
class SNESState:
    mean: np.ndarray
    sigma: np.ndarray


@register("snes")
class SNES(_NoiseES):
    r"""Separable natural evolution strategy (Schaul, Glasmachers & Schmidhuber 2011).

    Members are :math:`x_k = \mu + \sigma \odot s_k`, :math:`s_k \sim N(0, I)`. With the rank-based utilities
    :math:`u_k = \frac{\max(0, \ln(\lambda/2 + 1) - \ln k)}{\sum_j \max(0, \ln(\lambda/2 + 1) - \ln j)} - \frac1\lambda`
    of the k-th best member,

    .. math::
        \mu \leftarrow \mu + \eta_\mu\, \sigma \odot \sum_k u_k s_k, \qquad
        \sigma \leftarrow \sigma \odot \exp\Big(\frac{\eta_\sigma}{2} \sum_k u_k (s_k^2 - 1)\Big)

    with :math:`\eta_\mu = 1` and :math:`\eta_\sigma = (3 + \ln d) / (5 \sqrt d)`. O(d) memory and O(λd) work per
    generation: made for very high dimension. Bounds: points and :math:`\mu` are clipped to the box (the
    update uses the unclipped noise). Stops when every :math:`\sigma_j` is below ``tolx`` (checked from the
    second generation on).

    Args:
        eta_mu, eta_sigma: learning rates (defaults above).
        antithetic: mirrored sampling (off by default, as in the paper).
        tolx: stop threshold on sigma.
        noise_table: entries of a shared float32 noise table (see the module docstring), None for Philox noise.
    """

    def __init__(self, bounds: Any = None, *, eta_mu: float = 1.0, eta_sigma: float | None = None,
                 antithetic: bool = False, tolx: float = 1e-12, noise_table: int | None = None, **kwargs: Any):
        self.eta_mu = finite_float(eta_mu, "eta_mu", low=0.0, low_open=True)
        # a float once the dimension is known (the default depends on it)
        self.eta_sigma: Any = None if eta_sigma is None else finite_float(eta_sigma, "eta_sigma", low=0.0, low_open=True)
        self.tolx = finite_float(tolx, "tolx", low=0.0)
        super().__init__(bounds, antithetic=antithetic, noise_table=noise_table, **kwargs)
        if self.eta_sigma is None:
            self.eta_sigma = (3 + math.log(self.dim)) / (5 * math.sqrt(self.dim))
        lam = self.popsize
        w = np.maximum(0.0, math.log(lam / 2 + 1) - np.log(np.arange(1, lam + 1)))
        self._utilities = w / w.sum() - 1.0 / lam
        self._g1, self._g2 = np.empty(self.dim), np.empty(self.dim)

    def _init_state(self) -> SNESState:
        return SNESState(mean=self.x0.copy(), sigma=self.sigma0.copy())

    def _scale(self) -> np.ndarray:
        return np.asarray(self.state.sigma)

    def _update(self, f: np.ndarray, X: np.ndarray | None) -> None:
        s = self.state
        u = np.empty(self.popsize)
        u[np.argsort(f, kind="stable")] = self._utilities
        # Antithetic pairs share a noise row: +-s for the mean, the same s^2 for sigma.
        a, b = (u[0::2] - u[1::2], u[0::2] + u[1::2]) if self.antithetic else (u, u)
        # g1 = eta_mu sum_k u_k (x_k - mu) = eta_mu sigma * sum_k u_k s_k, g2 = sum_k u_k (s_k^2 - 1)
        self.k.grad(self.seed, self.stream(_NOISE), *self._noise(), np.ascontiguousarray(a), np.ascontiguousarray(b),
                    s.mean, s.sigma, X, self.antithetic, self.eta_mu, False, self._g1, self._g2)
        s.mean += self._g1
        s.sigma *= np.exp((0.5 * self.eta_sigma) * self._g2)
        if self._boxed:
            np.clip(s.mean, self.lower, self.upper, out=s.mean)

    def _stop_reason(self) -> str | None:
        # never before the first generation: a box narrower than tolx would otherwise end a run with nothing
        # evaluated (nfev 0, no best point)
        if self.generation == 0:
            return None
        return "tolx" if float(np.max(self.state.sigma)) < self.tolx else None
