r"""Stateful fused optimizers over NumPy arrays: ``opt = Adam(params, lr=1e-3); opt.step(grads)``.

``params`` is a list of C-contiguous float32/float64 arrays updated in place. ``lr`` is a number or a
schedule (``step -> lr``, see ``gfo_native.optim.schedules``), evaluated at the number of completed steps.
A ``None`` gradient skips that parameter for the step (its state and step counter stay put), like torch.
Each step is one native call per dtype over all tensors (``impl="native"``) or the NumPy twin
(``impl="reference"``). ``state_dict()`` / ``load_state_dict()`` save and restore everything (copies) but ``lr``,
which stays the loading optimizer's (a schedule is code, not state): the step counters, the state arrays and the
other hyperparameters, which replace the loading optimizer's as torch.optim's ``param_groups`` do.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import functional as F
from ._validate import check_like, check_params, impl_name, real

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]


class Optimizer:
    """Shared machinery: lr/schedule, per-tensor step counters, grad filtering, state_dict."""

    state_names: Tuple[str, ...] = ()

    def __init__(self, params: Sequence[np.ndarray], lr: Union[float, Callable[[int], float]],
                 impl: str = "native") -> None:
        self.params = check_params(params)
        if not callable(lr):
            lr = real(lr, "lr")
        self.lr = lr
        self.impl = impl_name(impl)
        self.step_count = 0
        self.state_steps = np.zeros(len(self.params))
        self.state = {name: self._new_state(name) for name in self.state_names}

    def _new_state(self, name: str) -> List[Any]:
        return [np.zeros_like(p) for p in self.params]

    def current_lr(self) -> float:
        """The learning rate of the next step (a schedule evaluated at the completed steps)."""
        return float(self.lr(self.step_count)) if callable(self.lr) else self.lr

    def step(self, grads: Sequence[Optional[np.ndarray]]) -> None:
        """One update; ``grads`` has one array (or None to skip) per parameter."""
        grads = check_like(grads, self.params, "grads", writeable=False, allow_none=True)
        idx = [i for i, g in enumerate(grads) if g is not None]
        lr = real(self.current_lr(), "lr")
        if idx:
            def sub(xs: Optional[Sequence[Any]]) -> Optional[List[Any]]:
                return [xs[i] for i in idx] if xs is not None else None

            steps = self.state_steps if len(idx) == len(self.params) else self.state_steps[idx]
            self._update([self.params[i] for i in idx], sub(grads), {k: sub(v) for k, v in self.state.items()},
                         steps, lr)
            if steps is not self.state_steps:
                self.state_steps[idx] = steps
            for name, sublist in self._last_states.items():  # buffers created during the step (SGD)
                for i, a in zip(idx, sublist):
                    self.state[name][i] = a
        self.step_count += 1

    _last_states: Dict[str, List[Any]] = {}

    def _update(self, params: List[np.ndarray], grads: Any, states: Dict[str, Any], steps: np.ndarray, lr: float) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def state_dict(self) -> Dict[str, Any]:
        """Step counters, state arrays (copies) and hyperparameters."""
        return {
            "step_count": self.step_count,
            "state_steps": self.state_steps.copy(),
            "state": {k: [None if a is None else a.copy() for a in v] for k, v in self.state.items()},
            "hyperparameters": self.hyperparameters(),
        }

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (arrays copied; the saved hyperparameters replace this optimizer's, lr
        excepted). Nothing changes when it raises.

        Raises:
            ValueError, TypeError: the state does not match this optimizer's parameters, or a saved
                hyperparameter is invalid (the error names it).
        """
        state = state_dict["state"]
        if set(state) != set(self.state):
            raise ValueError(f"state_dict: expected state {sorted(self.state)}, got {sorted(state)}")
        for name, arrays in state.items():
            check_like(arrays, self.params, f"state_dict['state'][{name!r}]", writeable=False, allow_none=True)
        steps = np.asarray(state_dict["state_steps"], dtype=np.float64)
        if steps.shape != self.state_steps.shape:
            raise ValueError(f"state_dict['state_steps']: expected shape {self.state_steps.shape}, got {steps.shape}")
        saved = state_dict.get("hyperparameters")
        if saved and getattr(self, "_configure", None) is not None:  # a subclass may define none
            before = self.hyperparameters()
            try:
                self._configure(**saved)
            except BaseException:
                self._configure(**before)
                raise
        for name, arrays in state.items():
            self.state[name] = [None if a is None else a.copy() for a in arrays]
        self.state_steps[...] = steps
        self.step_count = int(state_dict["step_count"])

    def hyperparameters(self) -> Dict[str, Any]:
        """The constructor's hyperparameters (besides lr)."""
        return {}

    # Validates and sets the hyperparameters, given as keywords (the keys of hyperparameters()); each optimizer
    # defines it with its own keywords, used by its constructor and by load_state_dict.
    _configure: Callable[..., None]


class SGD(Optimizer):
    r"""SGD with momentum (Polyak 1964; Nesterov variant of Sutskever et al., ICML 2013), torch's rule:

    .. math:: g \leftarrow \nabla + \lambda\theta,\quad b \leftarrow \mu b + (1-\tau) g,\quad
              \theta \leftarrow \theta - \eta\,(g + \mu b \text{ if nesterov else } b)
    """

    state_names = ("momentum_buffer",)

    def __init__(self, params: Sequence[np.ndarray], lr: Union[float, Callable[[int], float]] = 1e-3,
                 momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False, impl: str = "native") -> None:
        super().__init__(params, lr, impl)
        self._configure(momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)

    def _configure(self, *, momentum: float, dampening: float, weight_decay: float, nesterov: bool,
                   maximize: bool) -> None:
        momentum, dampening = real(momentum, "momentum"), real(dampening, "dampening", low=None)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov: requires momentum > 0 and dampening == 0")
        self.momentum, self.dampening = momentum, dampening
        self.weight_decay, self.nesterov, self.maximize = real(weight_decay, "weight_decay"), nesterov, maximize

    def _new_state(self, name: str) -> List[Any]:
        return [None] * len(self.params)  # created from the first gradient, as torch does

    def _update(self, params: List[np.ndarray], grads: Any, states: Dict[str, Any], steps: np.ndarray,
                lr: float) -> None:
        bufs = states["momentum_buffer"]
        F.sgd_(params, grads, bufs, lr=lr, momentum=self.momentum, dampening=self.dampening,
               weight_decay=self.weight_decay, nesterov=self.nesterov, maximize=self.maximize, impl=self.impl)
        steps += 1.0
        self._last_states = {"momentum_buffer": bufs} if self.momentum != 0 else {}

    def hyperparameters(self) -> Dict[str, Any]:
        return dict(momentum=self.momentum, dampening=self.dampening, weight_decay=self.weight_decay,
                    nesterov=self.nesterov, maximize=self.maximize)


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, JMLR 2011), torch's rule:

    .. math:: s \leftarrow s + g^2,\quad \theta \leftarrow \theta - \frac{\eta}{1+(t-1)\delta}\,\frac{g}{\sqrt{s}+\epsilon}
    """

    state_names = ("sum",)

    def __init__(self, params: Sequence[np.ndarray], lr: Union[float, Callable[[int], float]] = 1e-2,
                 lr_decay: float = 0.0, weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False, impl: str = "native") -> None:
        self.initial_accumulator_value = real(initial_accumulator_value, "initial_accumulator_value")
        super().__init__(params, lr, impl)
        self._configure(lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)

    def _configure(self, *, lr_decay: float, weight_decay: float, initial_accumulator_value: float, eps: float,
                   maximize: bool) -> None:
        checked = (real(lr_decay, "lr_decay"), real(weight_decay, "weight_decay"),
                   real(initial_accumulator_value, "initial_accumulator_value"), real(eps, "eps"))
        self.lr_decay, self.weight_decay, self.initial_accumulator_value, self.eps = checked
        self.maximize = maximize

    def _new_state(self, name: str) -> List[Any]:
        return [np.full_like(p, self.initial_accumulator_value) for p in self.params]

    def _update(self, params: List[np.ndarray], grads: Any, states: Dict[str, Any], steps: np.ndarray,
                lr: float) -> None:
        F.adagrad_(params, grads, states["sum"], steps, lr=lr, lr_decay=self.lr_decay,
                   weight_decay=self.weight_decay, eps=self.eps, maximize=self.maximize, impl=self.impl)

    def hyperparameters(self) -> Dict[str, Any]:
        return dict(lr_decay=self.lr_decay, weight_decay=self.weight_decay,
                    initial_accumulator_value=self.initial_accumulator_value, eps=self.eps, maximize=self.maximize)


class RMSprop(Optimizer):
    r"""RMSprop (Tieleman & Hinton 2012; centered form of Graves 2013), torch's rule:

    .. math:: v \leftarrow \alpha v + (1-\alpha) g^2,\quad \bar g \leftarrow \mathrm{lerp}(\bar g, g, 1-\alpha),\quad
              \theta \leftarrow \theta - \eta\,\frac{g}{\sqrt{v - \bar g^2} + \epsilon}
    (uncentered: :math:`\sqrt{v}`; with momentum :math:`b \leftarrow \mu b + g/(\cdot)`, :math:`\theta \leftarrow \theta - \eta b`).
    """

    state_names = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params: Sequence[np.ndarray], lr: Union[float, Callable[[int], float]] = 1e-2,
                 alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False, impl: str = "native") -> None:
        super().__init__(params, lr, impl)
        self._configure(alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
                        maximize=maximize)

    def _configure(self, *, alpha: float, eps: float, weight_decay: float, momentum: float, centered: bool,
                   maximize: bool) -> None:
        checked = (real(alpha, "alpha"), real(eps, "eps"), real(weight_decay, "weight_decay"),
                   real(momentum, "momentum"))
        self.alpha, self.eps, self.weight_decay, self.momentum = checked
        self.centered, self.maximize = centered, maximize

    def _update(self, params: List[np.ndarray], grads: Any, states: Dict[str, Any], steps: np.ndarray,
                lr: float) -> None:
        F.rmsprop_(params, grads, states["square_avg"], states["grad_avg"], states["momentum_buffer"], steps, lr=lr,
                   alpha=self.alpha, eps=self.eps, weight_decay=self.weight_decay, momentum=self.momentum,
                   centered=self.centered, maximize=self.maximize, impl=self.impl)

    def hyperparameters(self) -> Dict[str, Any]:
        return dict(alpha=self.alpha, eps=self.eps, weight_decay=self.weight_decay, momentum=self.momentum,
                    centered=self.centered, maximize=self.maximize)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, ICLR 2015) with optional AMSGrad (Reddi et al., ICLR 2018), torch's rule:

    .. math:: m \leftarrow \mathrm{lerp}(m, g, 1-\beta_1),\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
              \theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t}\,\frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}

    ``weight_decay`` adds :math:`\lambda\theta` to the gradient (L2); AdamW decays the weights instead.
    """

    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    decoupled = False

    def __init__(self, params: Sequence[np.ndarray], lr: Union[float, Callable[[int], float]] = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
                 amsgrad: bool = False, *, maximize: bool = False, impl: str = "native") -> None:
        super().__init__(params, lr, impl)
        self._configure(betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=type(self).decoupled)

    def _configure(self, *, betas: Tuple[float, float], eps: float, weight_decay: float, amsgrad: bool,
                   maximize: bool, decoupled_weight_decay: bool) -> None:
        if len(betas) != 2:
            raise ValueError(f"betas: expected two values, got {betas!r}")
        self.betas = (real(betas[0], "betas[0]", high=1.0, high_open=True),
                      real(betas[1], "betas[1]", high=1.0, high_open=True))
        self.eps, self.weight_decay = real(eps, "eps"), real(weight_decay, "weight_decay")
        self.amsgrad, self.maximize = amsgrad, maximize
        # AdamW decays decoupled whatever was saved (as torch.optim.AdamW); Adam follows the saved flag
        self.decoupled = bool(decoupled_weight_decay) or type(self).decoupled

    def _update(self, params: List[np.ndarray], grads: Any, states: Dict[str, Any], steps: np.ndarray,
                lr: float) -> None:
        F.adam_(params, grads, states["exp_avg"], states["exp_avg_sq"], states["max_exp_avg_sq"], steps, lr=lr,
                beta1=self.betas[0], beta2=self.betas[1], eps=self.eps, weight_decay=self.weight_decay,
                decoupled_weight_decay=self.decoupled, amsgrad=self.amsgrad, maximize=self.maximize, impl=self.impl)

    def hyperparameters(self) -> Dict[str, Any]:
        return dict(betas=self.betas, eps=self.eps, weight_decay=self.weight_decay, amsgrad=self.amsgrad,
                    maximize=self.maximize, decoupled_weight_decay=self.decoupled)


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, ICLR 2019): Adam with decoupled decay
    :math:`\theta \leftarrow \theta (1 - \eta\lambda)` before the Adam update; torch's default ``weight_decay=1e-2``."""

    decoupled = True

    def __init__(self, params: Sequence[np.ndarray], lr: Union[float, Callable[[int], float]] = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False, impl: str = "native") -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, impl=impl)
