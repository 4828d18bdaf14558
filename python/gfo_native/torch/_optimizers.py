"""torch.optim drop-ins (same arguments, defaults, param groups, closures and state_dict keys) whose step is
one fused native call per parameter group and dtype over all of its tensors.

The numerics are torch's for-loop (``foreach=False``) implementations: a torch.optim state_dict loads into
these optimizers and back, and trajectories agree to float rounding. Supported: dense float32 / float64 /
bfloat16 / float16 CPU tensors (contiguous, or dense in another memory order such as channels_last or a
transposed matrix, whose gradient and state then have the parameter's strides: the kernels run over memory
order, see _dense), and the same on CUDA in GFO_CUDA=ON builds, where the step is one launch of
gfo_native.cuda.optim per group, dtype and device on the current stream, with the same state_dict (step
counters stay CPU tensors, as in torch's for-loop) and results bit-identical to the CPU kernels. Anything
else (sparse gradients, tensors with gaps or overlaps such as ``x[:, ::2]`` or an expanded view, a gradient or
state tensor whose strides differ from its parameter's, CUDA without a CUDA build) raises a clear error rather
than being copied.
bf16/fp16 parameters keep state of their dtype, as torch.optim does; each value is loaded to float32, the
float32 math runs and each stored value is rounded once to nearest even (torch.optim's ``fused=True`` rule; its
for-loop rounds after every operation), the rule of the CUDA kernels (gfo/optim.hpp).
``load_state_dict`` gives each loaded state tensor its parameter's memory layout (torch.optim keeps the saved
layout, e.g. contiguous moments for a channels_last weight, which its elementwise ops accept; here that one
copy at load replaces a copy at every step). ``foreach``/``fused`` are accepted for compatibility and ignored;
``capturable``/``differentiable`` are not supported. A parameter listed twice in one group (torch.optim warns
that this will become an error, and updates it twice in turn) is a ValueError: one fused pass cannot update a
tensor twice.

A group's cached pointer table is revalidated during the step (see _layout.GroupLayout): when something
changed since the last step, the parameters before the first changed one are updated as the check passes
them, so a step that then raises (say, a gradient became sparse) has already updated those parameters.
A step that raises leaves no state it created unusable: SGD's new momentum buffers that no kernel has set yet
are dropped again (the next step starts them from the gradient, as torch.optim does).

The optimizer state may be changed between steps the ways torch.optim allows, and the next step uses it as
torch.optim would: ``opt.state.clear()``, ``del opt.state[p]``, ``opt.state[p] = {}`` or a reassigned
``opt.state = collections.defaultdict(dict)`` (fresh state is created, the step counter restarts),
``opt.state[p]["exp_avg"] = t`` or ``opt.state[p]["step"] = torch.tensor(0.)`` (the new tensor is used),
SGD's ``opt.state[p]["momentum_buffer"] = None`` (the buffer restarts from the gradient),
``load_state_dict``. State torch.optim could not use either (a non-empty state dict without a key the step
needs, a None where a tensor is needed) raises a KeyError/TypeError naming the parameter. ``opt.state``
and its per-parameter dicts are write-counting dicts (_state: plain ones put there are replaced by such
copies at the next step), which is how a step notices changes without re-reading every tensor.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, Union

import torch

from .. import _core
from ..optim import _table as T
from . import _layout as L
from . import _state as S
from ._dense import same_layout
from ._scalar import tensor_value

if TYPE_CHECKING:
    from torch.optim.optimizer import ParamsT

__all__ = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]

# what _slots returns for one parameter: its three state tensors, its step tensor (or None), its flags
_Slots = Tuple[Optional[torch.Tensor], Optional[torch.Tensor], Optional[torch.Tensor], Optional[torch.Tensor], int]


def _lr(group: Dict[str, Any]) -> float:
    lr = group["lr"]
    if isinstance(lr, torch.Tensor):
        if lr.requires_grad:
            raise ValueError("lr: a tensor lr that requires grad (differentiable) is not supported")
        lr = lr.item()
    return float(lr)


def _check(ok: bool, msg: str) -> None:
    if not ok:
        raise ValueError(msg)


def _number(v: Any, what: str) -> float:
    """``float(v)`` for a real number or a one-element tensor, else TypeError in torch's words for ``what``
    (torch.optim itself fails on a comparison with ``None`` or a string, without naming the argument)."""
    if isinstance(v, torch.Tensor):
        return tensor_value(v, f"Invalid {what}")
    if isinstance(v, numbers.Real):
        return float(v)
    raise TypeError(f"Invalid {what}: expected a number, got {type(v).__name__}")


def _betas(betas: Any) -> Tuple[float, float]:
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise ValueError(f"Invalid betas: expected a pair (beta1, beta2), got {betas!r}")
    return _number(betas[0], "beta parameter at index 0"), _number(betas[1], "beta parameter at index 1")


class _CudaKernels:
    """``core.optim_<kind>(table, code, ...)`` for tables of CUDA tensors on device ``dev``: the CPU kernels'
    signature, launched by gfo_native.cuda.optim.run (which raises a clear error without CUDA)."""

    def __init__(self, dev: int) -> None:
        self.dev = dev

    def __getattr__(self, name: str) -> Callable[..., None]:
        from ..cuda import optim as cuda_optim

        kind = name[len("optim_"):]
        return lambda table, code, *hyper: cuda_optim.run(kind, table, code, *hyper, device=self.dev)


class _Fused(torch.optim.Optimizer):
    """Shared step(): validate/cached layout per group, then one kernel call per dtype."""

    def __init__(self, params: ParamsT, defaults: Dict[str, Any]) -> None:
        if defaults.get("differentiable"):
            raise ValueError("differentiable: not supported by the gfo_native fused optimizers")
        if defaults.get("capturable"):
            raise ValueError("capturable: not supported (CUDA graphs need a CUDA build)")
        self._forget()
        super().__init__(params, defaults)
        self.state = S.adopt_map(self.state)

    def _forget(self) -> None:
        self._layouts: Dict[int, Any] = {}
        # the state mapping and the state write count (_state.writes) the cached tables were built against
        self._seen_state: Any = None
        self._seen_writes = -1

    # Anything that may replace params, groups or state invalidates the cached tables.
    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        super().add_param_group(param_group)
        self._layouts = {}
        try:
            L.refuse_duplicates(self.param_groups[-1]["params"])
        except ValueError:
            self.param_groups.pop()
            raise

    def __setstate__(self, state: Dict[str, Any]) -> None:
        # unpickling, and torch's load_state_dict, which ends here (a post-hook that replaces opt.state after
        # this is caught by step's check of the state object)
        super().__setstate__(state)
        self.state = S.adopt_map(self.state)
        self._forget()

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """torch's (state cast to each parameter's dtype and device), then each parameter-shaped state tensor
        in another memory layout than its parameter's (a checkpoint of a contiguous model loaded into a
        channels_last one, or the reverse) is copied into the parameter's layout, once, here: the fused step
        needs the parameter's strides and never copies."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if not st:
                    continue
                for key, v in list(st.items()):
                    if isinstance(v, torch.Tensor) and key != "step" and v.shape == p.shape \
                            and not same_layout(v, p):
                        st[key] = torch.empty_like(p, dtype=v.dtype).copy_(v)

    def state_dict(self) -> Dict[str, Any]:
        sd = super().state_dict()
        if isinstance(sd, dict) and isinstance(sd.get("state"), dict):
            sd["state"] = S.plain(sd["state"])  # no gfo_native types in a checkpoint
        return sd

    def invalidate_cache(self) -> None:
        """Forget the cached pointer tables.

        Not needed for changes made through the optimizer's state (``opt.state.clear()``, ``del
        opt.state[p]``, ``opt.state[p][key] = t``, ``opt.state = defaultdict(dict)``, ``load_state_dict``):
        the next step notices them by itself. It is needed only after a state tensor's memory is swapped
        behind the same tensor object (``opt.state[p]["exp_avg"].data = t``, ``.set_(t)``), which the step
        does not look for; until then the step keeps updating the old memory (kept alive, never freed).
        """
        self._forget()

    def _layout_key(self, group: Dict[str, Any]) -> Tuple[Any, ...]:
        return ()

    def _keeps_state(self, group: Dict[str, Any]) -> bool:
        """Whether the group's update has state (torch.optim.SGD without momentum creates no state entries)."""
        return True

    def _slots(self, group: Dict[str, Any], p: torch.Tensor, state: Dict[str, Any],
               arena: Optional[L.StateArena]) -> _Slots:
        """The parameter's state tensors, created where missing (cut from ``arena`` where it serves ``p``)."""
        raise NotImplementedError

    def _run(self, group: Dict[str, Any], code: int, table: Any, core: Any, **gate: Any) -> Any:
        """One kernel call over ``table``; the CPU kernels return the rows updated (``gate``: their row guard)."""
        raise NotImplementedError

    def _build(self, gi: int, group: Dict[str, Any], key: Tuple[Any, ...]) -> Any:
        params = group["params"]
        grads = list(map(L._GRAD, params))
        slots = (lambda p, s, arena: self._slots(group, p, s, arena)) if self._keeps_state(group) else None
        lay = L.build(params, grads, key, self.state, slots)
        self._layouts[gi] = lay
        return lay

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """Performs a single optimization step (``closure`` re-evaluates the model and returns the loss)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        state = self.state
        if state is not self._seen_state or S.writes() != self._seen_writes:
            # opt.state replaced, or a write to some optimizer's state: rebuild every table from the state now
            if type(state) is not S.StateMap:
                self.state = state = S.adopt_map(state)
            self._layouts = {}
        for gi, group in enumerate(self.param_groups):
            key = self._layout_key(group)
            lay = self._layouts.get(gi)
            done: Any = ()
            if lay is not None and lay.key == key and lay.params is group["params"] and lay.gated:
                # the guard walks the cached table while the kernel updates the rows it has passed
                code, table, idx = lay.parts[0]
                rows = self._run(group, code, table, _core, gate=lay.guard)
                if lay.guard.ok:
                    self._after(lay)
                    continue
                # it met a change: rows [0, rows) are updated; the rebuilt layout runs the others
                done = set(idx[:rows])
                lay = self._build(gi, group, key)
            elif lay is None or not lay.still_valid(group["params"], key):
                lay = self._build(gi, group, key)
            for (code, table, idx), dev in zip(lay.parts, lay.devices):
                if done:
                    table = table[[r for r, i in enumerate(idx) if i not in done]]
                    if len(table) == 0:
                        continue
                self._run(group, code, table, _core if dev == L.CPU else _CudaKernels(dev))
            self._after(lay)
        # only now: a step that raised leaves the old marks, and the next step rebuilds
        self._seen_state, self._seen_writes = state, S.writes()
        return loss

    def _after(self, lay: Any) -> None:
        pass


class SGD(_Fused):
    __doc__ = "Fused drop-in for torch.optim.SGD (momentum, dampening, nesterov, weight_decay, maximize)."

    def __init__(self, params: ParamsT, lr: Union[float, torch.Tensor] = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: Optional[bool] = None, differentiable: bool = False, fused: Optional[bool] = None) -> None:
        _check(_number(lr, "learning rate") >= 0.0, f"Invalid learning rate: {lr}")
        _check(_number(momentum, "momentum value") >= 0.0, f"Invalid momentum value: {momentum}")
        _check(_number(weight_decay, "weight_decay value") >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(not nesterov or (momentum > 0 and dampening == 0), "Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def __setstate__(self, state: Dict[str, Any]) -> None:
        super().__setstate__(state)
        for g in self.param_groups:
            g.setdefault("nesterov", False)
            g.setdefault("maximize", False)

    def _forget(self) -> None:
        super()._forget()
        # new momentum buffers (uninitialised) that no kernel has set to their gradient yet
        self._unset: List[Tuple[Dict[str, Any], torch.Tensor]] = []

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        try:
            return super().step(closure)
        finally:
            # A step that raised after building a table but before its kernel ran (a later parameter refused,
            # a bad lr) leaves new buffers unset: they are dropped, so the next step creates them from the
            # gradient again, as torch.optim would, instead of reading an uninitialised buffer as momentum.
            for state, buf in self._unset:
                if state.get("momentum_buffer") is buf:
                    del state["momentum_buffer"]
            self._unset.clear()

    def _layout_key(self, group: Dict[str, Any]) -> Tuple[Any, ...]:
        return (group["momentum"] != 0,)

    def _keeps_state(self, group: Dict[str, Any]) -> bool:
        return bool(group["momentum"] != 0)

    def _slots(self, group: Dict[str, Any], p: torch.Tensor, state: Dict[str, Any],
               arena: Optional[L.StateArena]) -> _Slots:
        if state.get("momentum_buffer") is None:  # as torch: a new buffer starts as the gradient
            buf = state["momentum_buffer"] = L.new_state(p, arena=arena)
            self._unset.append((state, buf))
            return buf, None, None, None, T.INIT_BUFFER
        return L.need(state, "momentum_buffer"), None, None, None, 0

    def _run(self, group: Dict[str, Any], code: int, table: Any, core: Any, **gate: Any) -> Any:
        return core.optim_sgd(table, code, _lr(group), float(group["momentum"]), float(group["dampening"]),
                              float(group["weight_decay"]), bool(group["nesterov"]), bool(group["maximize"]), **gate)

    def _after(self, lay: Any) -> None:
        L.clear_init_flags(lay)
        self._unset.clear()  # the group's kernel has run: its new buffers hold their gradients


class Adagrad(_Fused):
    __doc__ = "Fused drop-in for torch.optim.Adagrad (lr_decay, weight_decay, initial_accumulator_value, eps, maximize)."

    def __init__(self, params: ParamsT, lr: Union[float, torch.Tensor] = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: Optional[bool] = None, *, maximize: bool = False, differentiable: bool = False,
                 fused: Optional[bool] = None) -> None:
        _check(_number(lr, "learning rate") >= 0.0, f"Invalid learning rate: {lr}")
        _check(_number(lr_decay, "lr_decay value") >= 0.0, f"Invalid lr_decay value: {lr_decay}")
        _check(_number(weight_decay, "weight_decay value") >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(_number(initial_accumulator_value, "initial_accumulator_value value") >= 0.0,
               f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check(_number(eps, "epsilon value") >= 0.0, f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:  # torch creates Adagrad's state up front
            arena = L.StateArena(group["params"], self.state)
            for p in group["params"]:
                self._slots(group, p, self.state[p], arena)

    def _slots(self, group: Dict[str, Any], p: torch.Tensor, state: Dict[str, Any],
               arena: Optional[L.StateArena]) -> _Slots:
        if len(state) == 0:  # torch's lazy initialisation (after a reset) fills from the defaults
            state["step"] = L.new_step(p, arena)
            state["sum"] = L.new_state(p, self.defaults["initial_accumulator_value"], arena=arena)
        acc, step = L.need(state, "sum"), L.step_tensor(state)
        if (acc.dtype != p.dtype or not same_layout(acc, p)) and acc.shape == p.shape and \
                acc.device == p.device and float(step) == 0:
            # the state made up front, before the first step, for a parameter converted since (Adagrad(params)
            # then model.to(memory_format=...) or model.double(), which torch.optim takes): made like it, once
            acc = state["sum"] = torch.empty_like(p).copy_(acc)
        return acc, None, None, step, 0

    def _run(self, group: Dict[str, Any], code: int, table: Any, core: Any, **gate: Any) -> Any:
        return core.optim_adagrad(table, code, _lr(group), float(group["lr_decay"]), float(group["weight_decay"]),
                                  float(group["eps"]), bool(group["maximize"]), **gate)


class RMSprop(_Fused):
    __doc__ = "Fused drop-in for torch.optim.RMSprop (alpha, eps, weight_decay, momentum, centered, maximize)."

    def __init__(self, params: ParamsT, lr: Union[float, torch.Tensor] = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: Optional[bool] = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check(_number(lr, "learning rate") >= 0.0, f"Invalid learning rate: {lr}")
        _check(_number(eps, "epsilon value") >= 0.0, f"Invalid epsilon value: {eps}")
        _check(_number(momentum, "momentum value") >= 0.0, f"Invalid momentum value: {momentum}")
        _check(_number(weight_decay, "weight_decay value") >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(_number(alpha, "alpha value") >= 0.0, f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _layout_key(self, group: Dict[str, Any]) -> Tuple[Any, ...]:
        return (group["momentum"] > 0, bool(group["centered"]))

    def _slots(self, group: Dict[str, Any], p: torch.Tensor, state: Dict[str, Any],
               arena: Optional[L.StateArena]) -> _Slots:
        if len(state) == 0:  # torch's condition: a state dict with anything in it is used as it is
            state["step"] = L.new_step(p, arena)
            state["square_avg"] = L.new_state(p, 0.0, 0, arena)
            if group["momentum"] > 0:
                state["momentum_buffer"] = L.new_state(p, 0.0, 2, arena)
            if group["centered"]:
                state["grad_avg"] = L.new_state(p, 0.0, 1, arena)
        return (L.need(state, "square_avg"), L.need(state, "grad_avg") if group["centered"] else None,
                L.need(state, "momentum_buffer") if group["momentum"] > 0 else None, L.step_tensor(state), 0)

    def _run(self, group: Dict[str, Any], code: int, table: Any, core: Any, **gate: Any) -> Any:
        return core.optim_rmsprop(table, code, _lr(group), float(group["alpha"]), float(group["eps"]),
                                  float(group["weight_decay"]), float(group["momentum"]), bool(group["centered"]),
                                  bool(group["maximize"]), **gate)


class Adam(_Fused):
    __doc__ = "Fused drop-in for torch.optim.Adam (betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)."

    def __init__(self, params: ParamsT, lr: Union[float, torch.Tensor] = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *,
                 foreach: Optional[bool] = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: Optional[bool] = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check(_number(lr, "learning rate") >= 0.0, f"Invalid learning rate: {lr}")
        _check(_number(eps, "epsilon value") >= 0.0, f"Invalid epsilon value: {eps}")
        float_betas = _betas(betas)
        _check(0.0 <= float_betas[0] < 1.0, f"Invalid beta parameter at index 0: {float_betas[0]}")
        _check(0.0 <= float_betas[1] < 1.0, f"Invalid beta parameter at index 1: {float_betas[1]}")
        _check(_number(weight_decay, "weight_decay value") >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=float_betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def __setstate__(self, state: Dict[str, Any]) -> None:
        super().__setstate__(state)
        for g in self.param_groups:
            g.setdefault("amsgrad", False)
            g.setdefault("maximize", False)
            g.setdefault("decoupled_weight_decay", False)

    def _layout_key(self, group: Dict[str, Any]) -> Tuple[Any, ...]:
        return (bool(group["amsgrad"]),)

    def _slots(self, group: Dict[str, Any], p: torch.Tensor, state: Dict[str, Any],
               arena: Optional[L.StateArena]) -> _Slots:
        if len(state) == 0:  # torch's condition: a state dict with anything in it is used as it is
            state["step"] = L.new_step(p, arena)
            state["exp_avg"] = L.new_state(p, 0.0, 0, arena)
            state["exp_avg_sq"] = L.new_state(p, 0.0, 1, arena)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = L.new_state(p, 0.0, 2, arena)
        return (L.need(state, "exp_avg"), L.need(state, "exp_avg_sq"),
                L.need(state, "max_exp_avg_sq") if group["amsgrad"] else None, L.step_tensor(state), 0)

    def _run(self, group: Dict[str, Any], code: int, table: Any, core: Any, **gate: Any) -> Any:
        beta1, beta2 = group["betas"]
        return core.optim_adam(table, code, _lr(group), float(beta1), float(beta2), float(group["eps"]),
                               float(group["weight_decay"]), bool(group["decoupled_weight_decay"]),
                               bool(group["amsgrad"]), bool(group["maximize"]), **gate)


class AdamW(Adam):
    __doc__ = "Fused drop-in for torch.optim.AdamW (Adam with decoupled weight decay, default 1e-2)."

    def __init__(self, params: ParamsT, lr: Union[float, torch.Tensor] = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *,
                 maximize: bool = False, foreach: Optional[bool] = None, capturable: bool = False,
                 differentiable: bool = False, fused: Optional[bool] = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state: Dict[str, Any]) -> None:
        super().__setstate__(state)
        for g in self.param_groups:
            g["decoupled_weight_decay"] = True
