"""OpenAI-style evolution strategies for torch modules (Salimans, Ho, Chen, Sidor, Sutskever, "Evolution
Strategies as a Scalable Alternative to Reinforcement Learning", 2017; Qiu et al., "Evolution Strategies at
Scale: LLM Fine-Tuning Beyond Reinforcement Learning", 2025)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch

from .._checks import finite_float, positive_int
from . import _zo_kernels as K
from ._dense import same_layout
from ._seed_engine import SeedOptimizer, group_value, perturbation_scale

if TYPE_CHECKING:
    from torch.optim.optimizer import ParamsT


def centered_ranks(losses: np.ndarray) -> np.ndarray:
    """Ranks scaled to [-0.5, 0.5] (Salimans et al. 2017, fitness shaping); NaN/inf losses rank worst.

    Higher loss, higher rank. Equal losses (and all non-finite ones, which tie as the worst) share the mean
    of their ranks, so a tie carries no signal and every rank of a distributed run computes the same values.
    """
    x = np.asarray(losses, dtype=np.float64).reshape(-1)
    x = np.where(np.isfinite(x), x, np.inf)
    n = x.size
    order = np.argsort(x, kind="stable")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], n]
    ranks = np.empty(n)
    ranks[order] = np.repeat((starts + ends - 1) / 2.0, ends - starts)
    return ranks / max(n - 1, 1) - 0.5


class ES(SeedOptimizer):
    r"""OpenAI-ES with antithetic pairs, centered-rank fitness shaping and seed-regenerated noise.

    A population of ``population`` antithetic pairs :math:`\theta \pm \sigma z_d` is evaluated in place
    (perturb, evaluate, flip, evaluate, restore); with :math:`F` the centered ranks of the :math:`2P` losses
    the estimated gradient of the loss is

    .. math:: \hat g = \frac{1}{2P\sigma}\sum_{d=1}^{P}\big(F(L(\theta+\sigma z_d)) - F(L(\theta-\sigma z_d))\big) z_d

    and the update is :math:`\theta \leftarrow \theta - \eta(\hat g + \lambda\theta)` (``optimizer="sgd"``),
    reconstructed by one fused pass from (seed, member, shaped fitness); or, with ``optimizer="adam"``,
    :math:`\hat g + \lambda\theta` is written into ``p.grad`` by that pass and Adam (betas, ``adam_eps``;
    ``gfo_native.torch.Adam``, torch's numerics in one fused pass without temporaries) takes the step, which
    costs three buffers of the parameter's dtype per parameter (grad and Adam's moments) and nothing more per
    step; for a bf16 parameter the pass writes the estimate into a float32 buffer made for the step, which is
    then rounded once into the bf16 ``.grad`` (torch keeps gradients in the parameter's dtype), and Adam runs
    float32 math rounded once per store (``gfo_native.torch.Adam`` on bf16). NaN/inf losses rank worst, tied
    with each other (see :attr:`nskipped`); a step in which every loss is NaN/inf makes no update.

    Distributed as :class:`MeZO`: pair ``d`` is evaluated on rank ``d % world_size``; ranks exchange the
    scalar losses only. :attr:`current_direction` names the pair being evaluated and :attr:`current_sign`
    its sign (+1 or -1).

    Args:
        params: parameters or groups (float32/bfloat16 CPU tensors, dense in any memory order; frozen ones
            skipped; as in :class:`MeZO`).
        lr: learning rate :math:`\eta`. sigma: noise scale :math:`\sigma`. population: pairs :math:`P`.
        weight_decay: :math:`\lambda` per group. distribution: ``"gaussian"`` or ``"rademacher"``.
        optimizer: ``"sgd"`` or ``"adam"``; betas, adam_eps: Adam's constants.
        seed, distributed, process_group, impl: as in :class:`MeZO`.
    """

    _kind = "es"

    def __init__(self, params: ParamsT, lr: Union[float, torch.Tensor] = 0.01, sigma: float = 0.01,
                 population: int = 16, weight_decay: float = 0.0, *, distribution: str = "gaussian",
                 optimizer: str = "sgd", betas: Sequence[float] = (0.9, 0.999), adam_eps: float = 1e-8, seed: int = 0,
                 distributed: bool = False, process_group: Any = None, impl: str = "native") -> None:
        group_value(lr, "lr")
        self.sigma = perturbation_scale(sigma, "sigma")
        group_value(weight_decay, "weight_decay")
        population = positive_int(population, "population")
        if optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer: expected 'sgd' or 'adam', got {optimizer!r}")
        self.inner = optimizer
        self.betas = adam_betas(betas)
        self.adam_eps = finite_float(adam_eps, "adam_eps", low=0.0)
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay), seed=seed, distribution=distribution,
                         n_directions=population, two_sided=True, momentum=0.0, distributed=distributed,
                         process_group=process_group, impl=impl)
        self.population = self.n_directions
        self._adam = None
        self._estimates: Optional[List[Optional[torch.Tensor]]] = None  # the update pass's output (Adam)
        if optimizer == "adam":
            self._adam = make_adam(self.param_groups, self.betas, self.adam_eps)

    @property
    def current_sign(self) -> Optional[int]:
        """+1 or -1: the side of the pair the closure is evaluating (None outside a step)."""
        return None if self.current_direction is None else (1 if self._current_col == 0 else -1)

    _scale_name = "sigma"

    def _scale(self) -> float:
        return self.sigma

    def _coefficients(self, losses: np.ndarray) -> Optional[np.ndarray]:
        bad = ~np.isfinite(losses)
        self._nskipped += int(bad.sum())
        if bad.all():  # nothing to rank: no update (as MeZO when every direction is non-finite)
            return None
        F = centered_ranks(losses).reshape(losses.shape)
        return np.asarray((F[:, 0] - F[:, 1]) / (losses.size * self.sigma))

    def _grad_buffers(self) -> Optional[List[Optional[torch.Tensor]]]:
        self._estimates = None if self._adam is None else grad_buffers(self._params(), self._frozen)
        return self._estimates

    def _after_update(self) -> None:
        if self._adam is not None:
            publish_grads(self._params(), self._estimates)
            self._estimates = None
            sync_adam(self._adam, [g["lr"] for g in self.param_groups])
            with torch.enable_grad():
                self._adam.step()

    def _log_header(self) -> dict[str, Any]:
        d = super()._log_header()
        d.update(sigma=self.sigma, optimizer=self.inner, betas=list(self.betas), adam_eps=self.adam_eps)
        return d

    def state_dict(self) -> Dict[str, Any]:
        sd = super().state_dict()
        if self._adam is not None:
            sd["adam"] = self._adam.state_dict()
        return sd

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        adam = state_dict.pop("adam", None)
        super().load_state_dict(state_dict)
        if adam is not None and self._adam is not None:
            self._adam.load_state_dict(adam)


def adam_betas(betas: Any) -> tuple[float, float]:
    """Adam's (beta1, beta2), each in [0, 1) as torch.optim.Adam requires (beta = 1 divides by zero in the bias
    correction)."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise ValueError(f"betas: expected two values (beta1, beta2), got {betas!r}")
    out = []
    for i, b in enumerate(betas):
        v = finite_float(b, f"betas[{i}]", low=0.0)
        if v >= 1.0:
            raise ValueError(f"betas[{i}]: expected a value in [0, 1), got {v}")
        out.append(v)
    return out[0], out[1]


def grad_buffers(params: Sequence[torch.Tensor], frozen: Any) -> List[Optional[torch.Tensor]]:
    """The float32 buffers the update pass writes the estimate into: a float32 parameter's ``.grad`` (created
    where missing or unusable), for a bf16 parameter a new float32 buffer that :func:`publish_grads` rounds into
    its bf16 ``.grad``; a frozen parameter's ``.grad`` is set to None, so that the inner Adam leaves it alone too.
    Every buffer has the parameter's strides: the pass indexes their memory alike."""
    grads: List[Optional[torch.Tensor]] = []
    for t, p in enumerate(params):
        if t in frozen:
            p.grad = None
            grads.append(None)
            continue
        if p.grad is None or p.grad.dtype != p.dtype or not same_layout(p.grad, p):
            p.grad = torch.zeros_like(p)
        grads.append(p.grad if p.dtype == torch.float32 else torch.empty_like(p, dtype=torch.float32))
    return grads


def publish_grads(params: Sequence[torch.Tensor], buffers: Any) -> None:
    """Round the float32 estimates of non-float32 parameters into their ``.grad`` (to nearest even)."""
    for p, b in zip(params, buffers or ()):
        g = p.grad
        if b is not None and g is not None and b is not g:
            g.copy_(b)


def make_adam(groups: Any, betas: Sequence[float], eps: float) -> torch.optim.Optimizer:
    """The inner Adam over ``groups``' tensors; its weight decay is 0 (the L2 term is in the gradient).

    The fused drop-in (``gfo_native.torch.Adam``, torch's for-loop numerics) updates the moments and the
    parameters in one pass without temporaries: ``torch.optim.Adam`` would allocate two parameter-sized
    temporaries of each tensor in turn, far more than a forward's activations on a large model.
    """
    from ._optimizers import Adam

    return Adam([{"params": list(g["params"]), "lr": g["lr"]} for g in groups],
                betas=(float(betas[0]), float(betas[1])), eps=eps, weight_decay=0.0)


def sync_adam(adam: torch.optim.Optimizer, lrs: Any) -> None:
    for g, lr in zip(adam.param_groups, lrs):
        g["lr"] = lr
