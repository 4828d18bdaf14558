"""Fused in-place optimizer steps over lists of NumPy arrays: one native call updates every tensor.

The update rules and their operation order are torch.optim's for-loop implementations (see
``gfo_native.reference.optim`` for the readable NumPy version, which ``impl="reference"`` runs). Arrays
must be C-contiguous float32/float64 arrays; each state array matches its parameter's shape and dtype.
Nothing is copied: params and states are updated in place, and ``state_steps`` (a float64 array with one
counter per tensor, torch's ``state["step"]``) is incremented in place; an int ``k`` instead means "update
number k" for all tensors.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional, Sequence

import numpy as np

from .. import _core
from ..reference import optim as _ref
from . import _table as T
from ._validate import check_like, check_params, impl_name, real, state_steps as _state_steps

__all__ = ["sgd_", "adagrad_", "rmsprop_", "adam_", "clip_grad_norm_", "clip_grad_value_"]


def _tables(params: Sequence[np.ndarray], grads: Sequence[np.ndarray],
            states: Sequence[Optional[Sequence[np.ndarray]]] = (), steps: Optional[np.ndarray] = None,
            flags: Optional[Sequence[int]] = None) -> Dict[int, np.ndarray]:
    """One table per dtype present: {dtype code: table}."""
    codes = [T.DTYPE_CODES[p.dtype] for p in params]
    out = {}
    for code in sorted(set(codes)):
        idx = [i for i, c in enumerate(codes) if c == code]
        t = T.new_table(len(idx))
        t[:, T.PARAM] = [T.address(params[i]) for i in idx]
        t[:, T.GRAD] = [T.address(grads[i]) for i in idx]
        for col, arrays in zip((T.STATE0, T.STATE1, T.STATE2), states):
            if arrays is not None:
                t[:, col] = [T.address(arrays[i]) for i in idx]
        if steps is not None:
            t[:, T.STEP] = T.address(steps) + 8 * np.asarray(idx, dtype=np.uint64)
            t[:, T.FLAGS] = T.STEP_IS_DOUBLE
        if flags is not None:
            t[:, T.FLAGS] |= np.asarray([flags[i] for i in idx], dtype=np.uint64)
        t[:, T.NUMEL] = [params[i].size for i in idx]
        out[code] = t
    return out


def sgd_(params: Sequence[np.ndarray], grads: Sequence[np.ndarray], momentum_buffers: Any, *, lr: float,
         momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
         maximize: bool = False, impl: str = "native") -> None:
    r"""SGD with momentum, dampening, Nesterov momentum, L2 weight decay (torch.optim.SGD's rule).

    ``momentum_buffers`` is a list with one entry per parameter; a ``None`` entry (first step) is replaced by
    a new buffer equal to the (decayed) gradient, as torch does. Ignored when ``momentum == 0``.
    """
    params = check_params(params)
    grads = check_like(grads, params, "grads", writeable=False)
    lr, momentum = real(lr, "lr"), real(momentum, "momentum")
    dampening, weight_decay = real(dampening, "dampening", low=None), real(weight_decay, "weight_decay")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov: requires momentum > 0 and dampening == 0")
    if momentum != 0:
        if not isinstance(momentum_buffers, list):
            raise TypeError("momentum_buffers: expected a list (None entries are filled in place)")
        check_like(momentum_buffers, params, "momentum_buffers", allow_none=True)
    if impl_name(impl) == "reference":
        return _ref.sgd_(params, grads, momentum_buffers, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
    flags = None
    bufs = None
    if momentum != 0:
        flags = [T.INIT_BUFFER if b is None else 0 for b in momentum_buffers]
        for i, b in enumerate(momentum_buffers):
            if b is None:
                momentum_buffers[i] = np.empty_like(params[i])
        bufs = momentum_buffers
    for code, t in _tables(params, grads, (bufs,), flags=flags).items():
        _core.optim_sgd(t, code, lr, momentum, dampening, weight_decay, bool(nesterov), bool(maximize))


def adagrad_(params: Sequence[np.ndarray], grads: Sequence[np.ndarray], state_sums: Sequence[np.ndarray],
             state_steps: Any, *, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
             eps: float = 1e-10, maximize: bool = False, impl: str = "native") -> None:
    r"""Adagrad (Duchi et al., JMLR 2011) with torch's lr decay :math:`lr / (1 + (t-1)\,lr\_decay)`."""
    params = check_params(params)
    grads = check_like(grads, params, "grads", writeable=False)
    sums = check_like(state_sums, params, "state_sums")
    steps = _state_steps(state_steps, len(params))
    lr, lr_decay = real(lr, "lr"), real(lr_decay, "lr_decay")
    weight_decay, eps = real(weight_decay, "weight_decay"), real(eps, "eps")
    if impl_name(impl) == "reference":
        return _ref.adagrad_(params, grads, sums, steps, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                             eps=eps, maximize=maximize)
    for code, t in _tables(params, grads, (sums,), steps).items():
        _core.optim_adagrad(t, code, lr, lr_decay, weight_decay, eps, bool(maximize))


def rmsprop_(params: Sequence[np.ndarray], grads: Sequence[np.ndarray], square_avgs: Sequence[np.ndarray],
             grad_avgs: Optional[Sequence[np.ndarray]], momentum_buffers: Any, state_steps: Any, *, lr: float = 1e-2,
             alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
             centered: bool = False, maximize: bool = False, impl: str = "native") -> None:
    r"""RMSprop (Hinton's lecture 6e; centered variant of Graves 2013), torch.optim.RMSprop's rule.

    ``grad_avgs`` is used only when ``centered`` and ``momentum_buffers`` only when ``momentum > 0``
    (pass None otherwise).
    """
    params = check_params(params)
    grads = check_like(grads, params, "grads", writeable=False)
    sq = check_like(square_avgs, params, "square_avgs")
    lr, alpha, eps = real(lr, "lr"), real(alpha, "alpha"), real(eps, "eps")
    weight_decay, momentum = real(weight_decay, "weight_decay"), real(momentum, "momentum")
    ga = check_like(grad_avgs, params, "grad_avgs") if centered else None
    bufs = check_like(momentum_buffers, params, "momentum_buffers") if momentum > 0 else None
    steps = _state_steps(state_steps, len(params))
    if impl_name(impl) == "reference":
        return _ref.rmsprop_(params, grads, sq, ga, bufs, steps, lr=lr, alpha=alpha, eps=eps,
                             weight_decay=weight_decay, momentum=momentum, centered=centered, maximize=maximize)
    for code, t in _tables(params, grads, (sq, ga, bufs), steps).items():
        _core.optim_rmsprop(t, code, lr, alpha, eps, weight_decay, momentum, bool(centered), bool(maximize))


def adam_(params: Sequence[np.ndarray], grads: Sequence[np.ndarray], exp_avgs: Sequence[np.ndarray],
          exp_avg_sqs: Sequence[np.ndarray], max_exp_avg_sqs: Optional[Sequence[np.ndarray]], state_steps: Any, *,
          lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
          decoupled_weight_decay: bool = False, amsgrad: bool = False, maximize: bool = False,
          impl: str = "native") -> None:
    r"""Adam (Kingma & Ba, ICLR 2015), AMSGrad (Reddi et al., ICLR 2018) and AdamW's decoupled decay
    (Loshchilov & Hutter, ICLR 2019), with torch.optim.Adam's bias corrections and eps placement.

    ``max_exp_avg_sqs`` is used only when ``amsgrad`` (pass None otherwise).
    """
    params = check_params(params)
    grads = check_like(grads, params, "grads", writeable=False)
    m = check_like(exp_avgs, params, "exp_avgs")
    v = check_like(exp_avg_sqs, params, "exp_avg_sqs")
    vmax = check_like(max_exp_avg_sqs, params, "max_exp_avg_sqs") if amsgrad else None
    steps = _state_steps(state_steps, len(params))
    lr, eps, weight_decay = real(lr, "lr"), real(eps, "eps"), real(weight_decay, "weight_decay")
    beta1 = real(beta1, "beta1", high=1.0, high_open=True)
    beta2 = real(beta2, "beta2", high=1.0, high_open=True)
    if impl_name(impl) == "reference":
        return _ref.adam_(params, grads, m, v, vmax, steps, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                          weight_decay=weight_decay, decoupled_weight_decay=decoupled_weight_decay,
                          amsgrad=amsgrad, maximize=maximize)
    for code, t in _tables(params, grads, (m, v, vmax), steps).items():
        _core.optim_adam(t, code, lr, beta1, beta2, eps, weight_decay, bool(decoupled_weight_decay), bool(amsgrad),
                         bool(maximize))


def clip_grad_norm_(grads: Sequence[np.ndarray], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, impl: str = "native") -> float:
    """Scales the gradients in place so that their global L2 norm is at most ``max_norm`` (torch's rule:
    coefficient ``max_norm / (norm + 1e-6)`` clamped at 1). Returns the norm before clipping.

    The norm is summed in float64 in a fixed order, so it does not depend on the thread count.
    """
    grads = check_params(grads, "grads")
    max_norm = real(max_norm, "max_norm")
    if norm_type not in (2, 2.0):
        raise ValueError(f"norm_type: only the L2 norm (2.0) is supported, got {norm_type!r}")
    if impl_name(impl) == "reference":
        return _ref.clip_grad_norm_(grads, max_norm, norm_type, error_if_nonfinite)
    tables = _tables(grads, grads)
    total = math.sqrt(sum(_core.optim_grad_norm(t, code) ** 2 for code, t in tables.items()))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients is non-finite ({total})")
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:
        for code, t in tables.items():
            _core.optim_scale_grads(t, code, coef)
    return total


def clip_grad_value_(grads: Sequence[np.ndarray], clip_value: float, impl: str = "native") -> None:
    """Clamps every gradient element to ``[-clip_value, clip_value]`` in place."""
    grads = check_params(grads, "grads")
    clip_value = real(clip_value, "clip_value")
    if impl_name(impl) == "reference":
        return _ref.clip_grad_value_(grads, clip_value)
    for code, t in _tables(grads, grads).items():
        _core.optim_clamp_grads(t, code, clip_value)
