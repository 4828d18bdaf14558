"""MeZO: zeroth-order SGD (SPSA) at the memory of inference (Malladi et al., "Fine-Tuning Language Models
with Just Forward Passes", NeurIPS 2023; Spall, IEEE TAC 1992)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

from ._seed_engine import SeedOptimizer, finite_or_zero, group_value, perturbation_scale

if TYPE_CHECKING:
    import torch
    from torch.optim.optimizer import ParamsT


class MeZO(SeedOptimizer):
    r"""Zeroth-order SGD with seed-regenerated directions, a ``torch.optim.Optimizer``.

    Per step, for directions :math:`d = 1..n` (``n_directions``; n-SPSA when :math:`n > 1`) with
    :math:`z_d \sim \mathcal N(0, I)` (or Rademacher) regenerated from Philox by (seed, step, direction,
    tensor, element), where element is the position in the tensor's memory (the flattened index for a
    contiguous tensor; for a dense tensor in another memory order, e.g. a conv weight after
    ``model.to(memory_format=torch.channels_last)``, the position in that order):

    .. math::
        \hat g_d = \frac{L(\theta + \epsilon z_d) - L(\theta - \epsilon z_d)}{2\epsilon}
        \quad(\text{one-sided: } \frac{L(\theta + \epsilon z_d) - L(\theta)}{\epsilon}),\qquad
        \theta \leftarrow \theta - \eta\Big(\frac1n \sum_d \hat g_d z_d + \lambda\theta\Big)

    with learning rate :math:`\eta` (``lr``) and weight decay :math:`\lambda` per parameter group (e.g.
    ``weight_decay=0`` for biases and norm weights). Parameters are perturbed in place (``+eps z``,
    evaluate, ``-2 eps z``, evaluate), then restored and updated in one fused pass; no ``z`` is stored.
    ``momentum > 0`` adds heavy-ball momentum (``m <- beta m + g``, as ``torch.optim.SGD`` with dampening 0),
    which costs one float32 buffer per parameter: the only parameter-sized state this optimizer ever holds.

    Restoration bound: each in-place operation rounds once to the storage type, so after a perturb/restore
    round trip every element satisfies
    :math:`|\tilde\theta - \theta| \le u\,(|\theta + a| + |\theta - a| + |\theta|)` (two-sided; with
    :math:`a = \mathrm{fl}(\epsilon z)`, unit roundoff :math:`u = 2^{-24}` for float32 and :math:`2^{-8}` for
    bfloat16, the latter computed in float32 and rounded to nearest even). Round-to-nearest errors have no
    bias, so over many steps they add up like a random walk (:math:`\propto\sqrt{\text{steps}}`), not linearly.

    Args:
        params: parameters or parameter groups (float32 or bfloat16 CPU tensors, each listed once and none
            sharing memory with another: a tied weight is one parameter). Each must be dense: contiguous or
            contiguous memory in another order (channels_last, a transposed matrix); one with gaps or overlaps
            is refused, never copied. The memory format is part of the run, since z follows memory order: the
            log records the strides of non-contiguous tensors, and :func:`~gfo_native.torch.replay`, resuming
            with ``load_state_dict`` and a step after ``model.to(memory_format=...)`` mid-run refuse a model
            in another layout; so is each tensor's dtype (every operation rounds to it: the log records it, and
            the same three refuse a tensor converted, e.g. by ``model.to(torch.bfloat16)``, after its first step).
            A parameter frozen with ``requires_grad_(False)`` (an ``nn.Parameter`` that no longer requires grad)
            is left untouched at that step: not perturbed, not updated, no momentum buffer; the others keep their
            directions. Plain tensors count as trainable whatever their ``requires_grad``. A group sets ``lr``
            and ``weight_decay``; the other settings are the whole optimizer's (a group giving one is refused).
        lr: learning rate :math:`\eta` (MeZO's paper uses 1e-7..1e-6 for OPT fine-tuning; small models
            tolerate much larger). A number, or a one-element tensor as torch.optim takes: each step reads
            the group's value anew, so an LR scheduler may change it.
        eps: perturbation scale :math:`\epsilon` (paper default 1e-3).
        weight_decay: L2 coefficient :math:`\lambda`, per group.
        n_directions: directions per step.
        two_sided: central (True) or forward (False) differences.
        distribution: ``"gaussian"`` or ``"rademacher"``.
        momentum: heavy-ball coefficient in [0, 1).
        seed: the run's Philox key; with the initial weights and :attr:`log` it determines the run.
        distributed: split the directions over the ranks of ``torch.distributed`` (direction ``d`` on rank
            ``d % world_size``); ranks exchange only the scalar losses and stay bit-identical.
        process_group: the group to use with ``distributed=True`` (default: the world; refused without it).
        impl: ``"native"`` or ``"reference"`` (the NumPy twin, materialising z; for tests).

    A direction whose finite difference is NaN/inf gets a zero coefficient (counted in :attr:`nskipped`); a
    step in which every direction does makes no update (no weight decay or momentum either). If the closure
    raises, the step is abandoned and the parameters restored (see :meth:`step`).

    The closure is called under ``torch.no_grad()``; :attr:`current_direction` tells it which direction
    it evaluates (None for the unperturbed evaluation of one-sided steps).
    """

    _kind = "mezo"

    def __init__(self, params: ParamsT, lr: Union[float, torch.Tensor] = 1e-6, eps: float = 1e-3,
                 weight_decay: float = 0.0, *, n_directions: int = 1, two_sided: bool = True,
                 distribution: str = "gaussian", momentum: float = 0.0, seed: int = 0, distributed: bool = False,
                 process_group: Any = None, impl: str = "native") -> None:
        group_value(lr, "lr")
        self.eps = perturbation_scale(eps, "eps")
        group_value(weight_decay, "weight_decay")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay), seed=seed, distribution=distribution,
                         n_directions=n_directions, two_sided=two_sided, momentum=momentum,
                         distributed=distributed, process_group=process_group, impl=impl)

    _scale_name = "eps"

    def _scale(self) -> float:
        return self.eps

    def _coefficients(self, losses: np.ndarray) -> Optional[np.ndarray]:
        denom = 2.0 * self.eps if self.two_sided else self.eps
        with np.errstate(invalid="ignore", over="ignore"):
            g = (losses[:, 0] - losses[:, 1]) / denom
        c = finite_or_zero(g, self)
        return None if c is None else c / self.n_directions

    def _log_header(self) -> dict[str, Any]:
        d = super()._log_header()
        d["eps"] = self.eps
        return d
