"""Learning-rate schedules: callables ``step -> lr`` (step counts completed updates, starting at 0).

Pass one as ``lr`` to any optimizer in ``gfo_native.optim``; it is evaluated once per ``step()``.
Cosine annealing follows Loshchilov & Hutter (SGDR, ICLR 2017) without restarts.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validate import real

__all__ = ["Schedule", "constant", "step", "exponential", "linear", "cosine", "warmup_cosine"]


def _count(v: object, name: str, minimum: int = 1) -> int:
    """``int(v)`` for an integer (Python's or NumPy's, not a bool) ``>= minimum``, else ValueError naming it."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or v < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {v!r}")
    return int(v)


class Schedule:
    """Base class: subclasses define ``value(t)``; calling checks the step."""

    def __call__(self, t: int) -> float:
        return float(self.value(_count(t, "step", 0)))

    def value(self, t: int) -> float:  # pragma: no cover - abstract
        """The learning rate after ``t`` completed steps (unchecked; call the schedule to check ``t``)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class constant(Schedule):
    """``lr`` at every step."""

    def __init__(self, lr: float) -> None:
        self.lr = real(lr, "lr")

    def value(self, t: int) -> float:
        return self.lr


class step(Schedule):
    """``lr * gamma ** (t // step_size)`` (torch's StepLR)."""

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1) -> None:
        self.lr, self.step_size, self.gamma = real(lr, "lr"), _count(step_size, "step_size"), real(gamma, "gamma")

    def value(self, t: int) -> float:
        return self.lr * self.gamma ** (t // self.step_size)


class exponential(Schedule):
    """``lr * gamma ** t`` (torch's ExponentialLR)."""

    def __init__(self, lr: float, gamma: float) -> None:
        self.lr, self.gamma = real(lr, "lr"), real(gamma, "gamma")

    def value(self, t: int) -> float:
        return self.lr * self.gamma**t


class linear(Schedule):
    """Factor moving linearly from ``start_factor`` to ``end_factor`` over ``total_steps``, then held."""

    def __init__(self, lr: float, total_steps: int, start_factor: float = 1.0, end_factor: float = 0.0) -> None:
        self.lr, self.total_steps = real(lr, "lr"), _count(total_steps, "total_steps")
        self.start_factor, self.end_factor = real(start_factor, "start_factor"), real(end_factor, "end_factor")

    def value(self, t: int) -> float:
        frac = min(t, self.total_steps) / self.total_steps
        return self.lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)


class cosine(Schedule):
    r"""``eta_min + (lr - eta_min) (1 + cos(pi min(t, T) / T)) / 2`` (cosine annealing, T = total_steps)."""

    def __init__(self, lr: float, total_steps: int, eta_min: float = 0.0) -> None:
        self.lr, self.total_steps, self.eta_min = real(lr, "lr"), _count(total_steps, "total_steps"), real(eta_min, "eta_min")

    def value(self, t: int) -> float:
        frac = min(t, self.total_steps) / self.total_steps
        return self.eta_min + (self.lr - self.eta_min) * (1.0 + math.cos(math.pi * frac)) / 2.0


class warmup_cosine(Schedule):
    """Linear warm-up to ``lr`` over ``warmup_steps`` (step t uses ``lr (t + 1) / warmup_steps``), then
    cosine annealing to ``eta_min`` at ``total_steps``."""

    def __init__(self, lr: float, warmup_steps: int, total_steps: int, eta_min: float = 0.0) -> None:
        self.lr, self.eta_min = real(lr, "lr"), real(eta_min, "eta_min")
        self.warmup_steps = _count(warmup_steps, "warmup_steps", 0)
        self.total_steps = _count(total_steps, "total_steps")
        if self.total_steps <= self.warmup_steps:
            raise ValueError(f"total_steps: expected more than warmup_steps ({warmup_steps}), got {total_steps}")
        self._cos = cosine(self.lr, self.total_steps - self.warmup_steps, self.eta_min)

    def value(self, t: int) -> float:
        if t < self.warmup_steps:
            return self.lr * (t + 1) / self.warmup_steps
        return self._cos.value(t - self.warmup_steps)

    def __repr__(self) -> str:
        return (f"warmup_cosine(lr={self.lr!r}, warmup_steps={self.warmup_steps}, total_steps={self.total_steps}, "
                f"eta_min={self.eta_min!r})")
