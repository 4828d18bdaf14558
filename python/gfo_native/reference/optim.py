"""Pure-NumPy twins of the fused optimizer steps (the executable specification).

Each function updates lists of arrays in place exactly as ``gfo_native.optim.functional`` does, one tensor
at a time, with the operation order of torch.optim's for-loop (``foreach=False``) implementations:
every element-wise operation runs in the parameter's dtype, per-step scalars are computed in float64
(Python floats) and rounded once to that dtype.
"""

from __future__ import annotations

import math

import numpy as np


def _steps(state_steps, n):
    if isinstance(state_steps, np.ndarray):
        return state_steps
    return np.full(n, float(state_steps) - 1.0)


def _lerp(start, end, w, dt):
    # torch.lerp: start + w (end - start) when |w| < 0.5, else end - (end - start)(1 - w).
    w = dt.type(w)
    if abs(float(w)) < 0.5:
        return start + w * (end - start)
    return end - (end - start) * (dt.type(1) - w)


def _direction(g, p, weight_decay, maximize, dt):
    d = -g if maximize else g.copy()
    if weight_decay != 0:
        d = d + dt.type(weight_decay) * p
    return d


def sgd_(params, grads, momentum_buffers, *, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
         nesterov=False, maximize=False):
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


def adagrad_(params, grads, state_sums, state_steps, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10,
             maximize=False):
    steps = _steps(state_steps, len(params))
    for i, (p, g, s) in enumerate(zip(params, grads, state_sums)):
        dt = p.dtype
        steps[i] += 1.0
        clr = lr / (1 + (float(steps[i]) - 1) * lr_decay)
        d = _direction(g, p, weight_decay, maximize, dt)
        s[...] = s + d * d
        std = np.sqrt(s) + dt.type(eps)
        p[...] = p + (dt.type(-clr) * d) / std


def rmsprop_(params, grads, square_avgs, grad_avgs, momentum_buffers, state_steps, *, lr=1e-2, alpha=0.99,
             eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
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


def adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, *, lr=1e-3, beta1=0.9,
          beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False, amsgrad=False, maximize=False):
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


def clip_grad_norm_(grads, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scales all gradients by max_norm / (total_norm + 1e-6) when that is below 1; returns the total L2 norm."""
    total = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients is non-finite ({total})")
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # torch clamps the coefficient at 1; a NaN norm makes every gradient NaN
        for g in grads:
            g *= g.dtype.type(coef)
    return total


def clip_grad_value_(grads, clip_value):
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)
