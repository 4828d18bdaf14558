"""Pure-NumPy twins of the fused optimizer steps (the executable specification).

Each function updates lists of arrays in place exactly as ``gfo_native.optim.functional`` does, one tensor
at a time, with the operation order of torch.optim's for-loop (``foreach=False``) implementations:
every element-wise operation runs in the parameter's dtype, per-step scalars are computed in float64
(Python floats) and rounded once to that dtype. The kernels' bf16/fp16 storage is these steps on float32 copies
followed by :func:`round_to_storage`.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np


def round_to_storage(arrays: Sequence[np.ndarray], storage: str) -> None:
    """Round float32 arrays in place to the nearest (ties to even) ``"bfloat16"`` or ``"float16"`` values.

    A step of this module on float32 copies of bf16/fp16 tensors, then this on every array it updated, is the
    kernels' step on that storage (float32 math, each stored value rounded once): the kernels keep a value they
    store in a register for the rest of the element's step, as these functions keep the float32 array.
    """
    from .zo import round_bf16

    for a in arrays:
        if storage == "bfloat16":
            a[...] = round_bf16(a)
        elif storage == "float16":
            a[...] = a.astype(np.float16).astype(np.float32)
        else:
            raise ValueError(f"storage: expected 'bfloat16' or 'float16', got {storage!r}")


def _steps(state_steps: Any, n: int) -> np.ndarray:
    if isinstance(state_steps, np.ndarray):
        return state_steps
    return np.full(n, float(state_steps) - 1.0)


def _lerp(start: np.ndarray, end: np.ndarray, w: float, dt: np.dtype[Any]) -> np.ndarray:
    # torch.lerp: start + w (end - start) when |w| < 0.5, else end - (end - start)(1 - w).
    wt = dt.type(w)
    if abs(float(wt)) < 0.5:
        return np.asarray(start + wt * (end - start))
    return np.asarray(end - (end - start) * (dt.type(1) - wt))


def _direction(g: np.ndarray, p: np.ndarray, weight_decay: float, maximize: bool, dt: np.dtype[Any]) -> np.ndarray:
    d = -g if maximize else g.copy()
    if weight_decay != 0:
        d = d + dt.type(weight_decay) * p
    return d


def sgd_(params: Sequence[np.ndarray], grads: Sequence[np.ndarray], momentum_buffers: Any, *, lr: float,
         momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
         maximize: bool = False) -> None:
    for i, (p, g) in enumerate(zip(params, grads)):
        dt = p.dtype
        d = _direction(g, p, weight_decay, maximize, dt)
        if momentum != 0:
            buf = momentum_buffers[i]
            if buf is None:
                buf = d.copy()
                momentum_buffers[i] = buf
            else:
                buf[...] = buf * dt.type(momentum) + dt.type(1.0 - dampening) * d
            d = d + dt.type(momentum) * buf if nesterov else buf
        p[...] = p + dt.type(-lr) * d


def adagrad_(params: Sequence[np.ndarray], grads: Sequence[np.ndarray], state_sums: Sequence[np.ndarray],
             state_steps: Any, *, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
             eps: float = 1e-10, maximize: bool = False) -> None:
    steps = _steps(state_steps, len(params))
    for i, (p, g, s) in enumerate(zip(params, grads, state_sums)):
        dt = p.dtype
        steps[i] += 1.0
        clr = lr / (1 + (float(steps[i]) - 1) * lr_decay)
        d = _direction(g, p, weight_decay, maximize, dt)
        s[...] = s + d * d
        std = np.sqrt(s) + dt.type(eps)
        p[...] = p + (dt.type(-clr) * d) / std


def rmsprop_(params: Sequence[np.ndarray], grads: Sequence[np.ndarray], square_avgs: Sequence[np.ndarray],
             grad_avgs: Any, momentum_buffers: Any, state_steps: Any, *, lr: float = 1e-2,
             alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
             centered: bool = False, maximize: bool = False) -> None:
    steps = _steps(state_steps, len(params))
    for i, (p, g, sq) in enumerate(zip(params, grads, square_avgs)):
        dt = p.dtype
        steps[i] += 1.0
        d = _direction(g, p, weight_decay, maximize, dt)
        sq[...] = sq * dt.type(alpha) + (dt.type(1.0 - alpha) * d) * d
        if centered:
            ga = grad_avgs[i]
            ga[...] = _lerp(ga, d, 1.0 - alpha, dt)
            avg = np.sqrt(sq + (-ga) * ga)
        else:
            avg = np.sqrt(sq)
        avg = avg + dt.type(eps)
        if momentum > 0:
            buf = momentum_buffers[i]
            buf[...] = buf * dt.type(momentum) + d / avg
            p[...] = p + dt.type(-lr) * buf
        else:
            p[...] = p + (dt.type(-lr) * d) / avg


def adam_(params: Sequence[np.ndarray], grads: Sequence[np.ndarray], exp_avgs: Sequence[np.ndarray],
          exp_avg_sqs: Sequence[np.ndarray], max_exp_avg_sqs: Any, state_steps: Any, *,
          lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
          decoupled_weight_decay: bool = False, amsgrad: bool = False, maximize: bool = False) -> None:
    steps = _steps(state_steps, len(params))
    for i, (p, g, m, v) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs)):
        dt = p.dtype
        steps[i] += 1.0
        step = float(steps[i])
        d = -g if maximize else g
        if weight_decay != 0:
            if decoupled_weight_decay:
                p[...] = p * dt.type(1 - lr * weight_decay)
            else:
                d = d + dt.type(weight_decay) * p
        m[...] = _lerp(m, d, 1 - beta1, dt)
        v[...] = v * dt.type(beta2) + (dt.type(1 - beta2) * d) * d
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        if amsgrad:
            vmax = max_exp_avg_sqs[i]
            np.maximum(vmax, v, out=vmax)
            denom = np.sqrt(vmax) / dt.type(bias_correction2_sqrt) + dt.type(eps)
        else:
            denom = np.sqrt(v) / dt.type(bias_correction2_sqrt) + dt.type(eps)
        p[...] = p + (dt.type(-step_size) * m) / denom


def clip_grad_norm_(grads: Sequence[np.ndarray], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Scales all gradients by max_norm / (total_norm + 1e-6) when that is below 1; returns the total L2 norm."""
    total = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients is non-finite ({total})")
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # torch clamps the coefficient at 1; a NaN norm makes every gradient NaN
        for g in grads:
            g *= g.dtype.type(coef)
    return total


def clip_grad_value_(grads: Sequence[np.ndarray], clip_value: float) -> None:
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)
