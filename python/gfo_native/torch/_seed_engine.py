"""What MeZO and ES share: perturb in place from a seed, evaluate, restore, and apply the update that
every rank reconstructs from scalars alone.

One step with ``K`` directions (direction ``d`` has the run-wide number ``counter = step * K + d``):

* two-sided: ``theta += h z_d``, evaluate, ``theta -= 2 h z_d``, evaluate, ``theta += h z_d``;
* one-sided: one evaluation at ``theta`` first, then ``theta += h z_d``, evaluate, ``theta -= h z_d``.

Each of these in-place operations rounds, so ``theta`` after a round trip is ``theta`` up to a rounding
(see ``MeZO``'s docstring for the bound). Every rank performs the *same* sequence of rounded operations on
every element: a rank evaluates only the directions ``d`` with ``d % world_size == rank`` and fuses the
round trips of the others (and the restore of its last direction) into its next pass, which gives the same
bits as performing them one by one. The scalar losses are then summed over ranks (each entry has exactly one
non-zero contributor, so the sum is exact), every rank computes the same per-direction coefficients, and the
last pass applies ``theta <- theta - lr (sum_d c_d z_d + wd theta)``. Parameters are never sent.

The log of a run (``optimizer.log``) holds the seed and, per step, the direction counter, ``h``, the
coefficients and the group hyperparameters: with the initial weights it is a complete checkpoint, and
:func:`gfo_native.torch.replay` re-applies it (one fused pass per step) to the same bits.
"""

from __future__ import annotations

import copy
import hashlib
import math
import numbers
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .._checks import finite_float, positive_int, seed_value
from . import _zo_kernels as K
from ._dense import check_logged_layout, memory_layouts, same_layout
from ._scalar import tensor_value

if TYPE_CHECKING:
    from torch.optim.optimizer import ParamsT


def _world(distributed: bool, process_group: Any) -> Tuple[int, int]:
    if not distributed:
        if process_group is not None:  # ignored, every rank would evaluate every direction on its own data
            raise ValueError("process_group: given without distributed=True (pass distributed=True to split the "
                             "directions over the group's ranks)")
        return 1, 0
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        raise ValueError("distributed: torch.distributed is not initialised (call init_process_group first)")
    return dist.get_world_size(process_group), dist.get_rank(process_group)


def group_value(v: Any, name: str) -> float:
    """A group's lr or weight_decay: a finite number >= 0, or a one-element tensor holding one (as torch.optim
    takes lr). The group keeps what it was given and every step reads it anew, so a scheduler may change it."""
    if isinstance(v, torch.Tensor):
        value = tensor_value(v, name)
        if v.requires_grad:
            raise ValueError(f"{name}: a tensor that requires grad (differentiable) is not supported")
        v = value
    return finite_float(v, name, low=0.0)


def perturbation_scale(v: Any, name: str) -> float:
    """eps (MeZO) or sigma (ES): the kernel perturbs by ``float32(h) * z`` and ``-2 float32(h) * z``, so h must be a
    normal float32 (a subnormal one rounds, or to 0, while the coefficients divide by h itself) no larger than
    FLT_MAX / (2 * 6), |z| <= 6 (beyond, the perturbation overflows and writes inf into the weights)."""
    h = finite_float(v, name, low=0.0, low_open=True)
    f32 = np.finfo(np.float32)
    lo, hi = float(f32.tiny), float(f32.max) / (2.0 * max(K.Z_BOUND.values()))
    if not lo <= h <= hi:
        raise ValueError(f"{name}: expected a value in [{lo:.6g}, {hi:.6g}] (the perturbation {name} * z is applied "
                         f"in float32), got {h}")
    return h


class SeedOptimizer(torch.optim.Optimizer):
    """Base of :class:`MeZO` and :class:`ES` (not used directly)."""

    _kind = "zo"

    def __init__(self, params: ParamsT, defaults: dict[str, Any], *, seed: int, distribution: str, n_directions: int,
                 two_sided: bool, momentum: float, distributed: bool, process_group: Any, impl: str) -> None:
        # the memory layout of each tensor (memory_layouts; set by _settle_layout, fixed from its first step)
        self._layout: List[Optional[List[int]]] = []
        self._dtypes: List[str] = []  # the dtype of each tensor (dtype_names), fixed alike
        self._constructing = True  # torch's __init__ adds the groups one by one: they are checked once, below
        super().__init__(params, defaults)
        self._constructing = False
        self._check_groups(self.param_groups)
        if distribution not in K.DISTRIBUTIONS:
            raise ValueError(f"distribution: expected one of {sorted(K.DISTRIBUTIONS)}, got {distribution!r}")
        if impl not in ("native", "reference"):
            raise ValueError(f"impl: expected 'native' or 'reference', got {impl!r}")
        self.seed = seed_value(seed)
        self.distribution = distribution
        self.n_directions = positive_int(n_directions, "n_directions")
        if not isinstance(two_sided, (bool, np.bool_)):  # bool("False") would be True
            raise TypeError(f"two_sided: expected True or False, got {type(two_sided).__name__}")
        self.two_sided = bool(two_sided)
        self.momentum = finite_float(momentum, "momentum", low=0.0)
        if self.momentum >= 1.0:
            raise ValueError(f"momentum: expected a value in [0, 1), got {momentum}")
        self.impl = impl
        self.process_group = process_group
        self.world_size, self.rank = _world(distributed, process_group)
        self.current_direction: Optional[int] = None
        self._frozen: set[int] = set()  # positions of the parameters frozen during the current step
        self._current_col = 0
        self._step_count = 0
        self._nskipped = 0
        self._steps_log: list[dict[str, Any]] = []
        if distributed:
            self._check_same_settings()

    def __getstate__(self) -> Dict[str, Any]:
        # torch.optim.Optimizer pickles (copy.deepcopy, torch.save of the optimizer object, multiprocessing) only
        # defaults, state and param_groups, where torch's optimizers keep everything; the run here (seed, eps or
        # sigma, step counter, log, layouts, ES's inner Adam) lives in attributes, so they travel too (torch's
        # hook registries stay behind, as torch leaves them)
        state = super().__getstate__()
        state.update((k, v) for k, v in self.__dict__.items() if not k.startswith("_optimizer_"))
        return state

    # -- parameters ------------------------------------------------------------------------------
    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        """torch's, then the checks of this optimizer: dtype, device and density of the tensors, none sharing
        memory with another (torch only warns about a tensor listed twice in one group), lr and weight_decay."""
        if getattr(self, "_constructing", False):
            super().add_param_group(param_group)
            return
        n_before = len(self._params())
        layout, dtypes = self._layout, self._dtypes
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        try:
            self._check_groups([group])
        except Exception:
            # a refused group is not kept (every later step would fail on it, or use its bad lr)
            self.param_groups.pop()
            self._layout, self._dtypes = layout, dtypes
            raise
        # a group added mid-run: the steps so far covered only the tensors before it (replay reads "ntensors")
        for st in getattr(self, "_steps_log", ()):
            st.setdefault("ntensors", n_before)
        adam = getattr(self, "_adam", None)  # ES with Adam: the inner Adam steps the new tensors too
        if adam is not None:
            adam.add_param_group({"params": list(group["params"]), "lr": group["lr"]})

    # The constructor's settings of the whole optimizer: a group giving one (as torch.optim.SGD takes momentum
    # per group) is refused, since it would be ignored; torch's other free-form group keys stay allowed.
    _WHOLE = ("eps", "sigma", "n_directions", "population", "two_sided", "distribution", "momentum", "optimizer",
              "betas", "adam_eps", "seed", "distributed", "process_group", "impl")

    def _check_groups(self, groups: List[Dict[str, Any]]) -> None:
        # every tensor (one pass over all, so that a group added later is checked against the others too)
        params = self._params()
        K.check_params(params)
        self._settle_layout(params)
        for gi, g in enumerate(self.param_groups):
            if not any(g is x for x in groups):
                continue
            for key in self._WHOLE:
                if key in g:
                    raise ValueError(f"param_groups[{gi}]: '{key}' is a setting of the whole optimizer (give it to "
                                     f"{type(self).__name__}(...)), not of a group")
            for name in ("lr", "weight_decay"):
                group_value(g[name], name)

    def _settle_layout(self, params: Sequence[torch.Tensor]) -> None:
        """Records the memory layout of each tensor, fixed from the first logged step that covers it on: z is
        keyed by memory position (see MeZO), so a tensor some step has perturbed must keep its layout
        (ValueError naming it otherwise), while one no step has touched yet may still change it, as torch.optim
        allows (``MeZO(model.parameters())`` then ``model.to(memory_format=...)`` is a channels_last run)."""
        n = _stepped(getattr(self, "_steps_log", ()), len(params))
        known, known_dtypes = self._layout[:n], self._dtypes[:n]
        check_logged_layout(params[:len(known)], known, "this optimizer's run")
        # the dtype alike: every perturbation rounds to it (model.to(torch.bfloat16) mid-run is refused)
        K.check_logged_dtypes(params[:len(known_dtypes)], known_dtypes, "this optimizer's run")
        self._layout = known + memory_layouts(params[len(known):])
        self._dtypes = known_dtypes + K.dtype_names(params[len(known_dtypes):])

    def _params(self) -> list[torch.Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def _group_of_tensor(self) -> list[int]:
        return [gi for gi, g in enumerate(self.param_groups) for _ in g["params"]]

    def _per_tensor(self, key: str) -> list[float]:
        return [float(g[key]) for g in self.param_groups for _ in g["params"]]

    def _momentum_buffers(self) -> Optional[List[Optional[torch.Tensor]]]:
        if self.momentum == 0.0:
            return None
        bufs: List[Optional[torch.Tensor]] = []
        frozen = self._frozen
        for t, p in enumerate(self._params()):
            if frozen and t in frozen:  # no buffer is created for a frozen parameter
                bufs.append(None)
                continue
            st = self.state[p]
            if st.get("momentum_buffer") is None:  # None as torch.optim.SGD keeps before its first step
                # the parameter's strides (zeros_like preserves a dense layout), so both index memory alike
                st["momentum_buffer"] = torch.zeros_like(p, dtype=torch.float32)
            bufs.append(st["momentum_buffer"])
        return bufs

    # -- distributed -----------------------------------------------------------------------------
    # What every rank must agree on (a fixed list, so that optimizers of different kinds exchange equal sizes).
    _SETTINGS = ("kind", "seed", "distribution", "n_directions", "two_sided", "momentum", "groups", "sizes",
                 "strides", "eps", "sigma", "optimizer", "betas", "adam_eps", "lr", "weight_decay", "dtypes")

    def _check_same_settings(self) -> None:
        """ValueError on every rank when the ranks were given different settings: a rank with another eps, lr,
        population, ... would update its parameters differently from the others, silently (only the seed was
        compared before). Each setting travels as a 64-bit fingerprint of its repr; min and max over the ranks
        must agree."""
        import torch.distributed as dist

        values = self._log_header()
        values["lr"] = [float(g["lr"]) for g in self.param_groups]
        values["weight_decay"] = [float(g["weight_decay"]) for g in self.param_groups]
        prints = [int.from_bytes(hashlib.sha256(repr(values.get(k)).encode()).digest()[:8], "little", signed=True)
                  for k in self._SETTINGS]
        lo = torch.tensor(prints, dtype=torch.int64, device=self._comm_device())
        hi = lo.clone()
        dist.all_reduce(lo, op=dist.ReduceOp.MIN, group=self.process_group)
        dist.all_reduce(hi, op=dist.ReduceOp.MAX, group=self.process_group)
        for key, a, b in zip(self._SETTINGS, lo.tolist(), hi.tolist()):
            if a == b:
                continue
            if key == "seed":
                raise ValueError("seed: ranks were given different seeds; every rank must use the same seed")
            raise ValueError(f"{key}: ranks were given different values; every rank must use the same "
                             f"(this rank has {values.get(key)!r})")

    def _sum_over_ranks(self, a: np.ndarray) -> np.ndarray:
        if self.world_size == 1:
            return a
        import torch.distributed as dist

        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)).to(self._comm_device())
        dist.all_reduce(t, op=dist.ReduceOp.SUM, group=self.process_group)
        return t.cpu().numpy()

    def _comm_device(self) -> torch.device:
        """Where the scalars travel: the parameters' GPU under NCCL (it moves CUDA tensors only), else the CPU."""
        import torch.distributed as dist

        if dist.get_backend(self.process_group) == "nccl":
            return K.params_device(self._params())
        return torch.device("cpu")

    # -- one step --------------------------------------------------------------------------------
    _scale_name = "h"  # its name: "eps" or "sigma"

    def _scale(self) -> float:  # h: eps for MeZO, sigma for ES
        raise NotImplementedError

    def _coefficients(self, losses: np.ndarray) -> Optional[np.ndarray]:
        # (K, 2) -> (K,) float64, or None when no loss is usable (the step then makes no update)
        raise NotImplementedError

    def _grad_buffers(self) -> Optional[List[Optional[torch.Tensor]]]:  # ES with Adam: the estimate into p.grad
        return None

    def _after_update(self) -> None:
        pass

    def _segments(self, h: float) -> List[Tuple[float, Optional[int]]]:
        # (scale, column of the loss evaluated after it or None)
        return [(h, 0), (-2.0 * h, 1), (h, None)] if self.two_sided else [(h, 0), (-h, None)]

    def _pass(self, params: Any, streams: Any, ops: Any, coefs: Any = None) -> None:
        K.zo_apply(params, seed=self.seed, distribution=K.DISTRIBUTIONS[self.distribution], streams=streams,
                   ops=ops, coefs=coefs, lrs=self._per_tensor("lr"), weight_decays=self._per_tensor("weight_decay"),
                   momentum=self.momentum, momentum_buffers=self._momentum_buffers() if coefs is not None else None,
                   grad_buffers=self._grad_buffers() if coefs is not None else None, skip=self._frozen,
                   impl=self.impl)

    @torch.no_grad()
    def step(self, closure: Callable[[], object]) -> float:  # type: ignore[override]
        """One step; ``closure()`` evaluates the loss at the current (perturbed) parameters and returns it.

        Returns the mean over all directions (of all ranks) of their two losses, at ``+h z`` and ``-h z``, or for
        one-sided steps at ``+h z`` and unperturbed (the evaluating rank's, counted once per direction): the same
        value on every rank; NaN when any of them is NaN/inf.

        If the closure raises (or returns a loss that is not a scalar) the step is abandoned: the open
        perturbation round trip is completed, so the parameters are back at their values before the step up
        to the round-trip rounding bound (see :class:`MeZO`; exactly when the round trips are exact), and
        the exception propagates. The step counter, :attr:`nskipped`, momentum and Adam state do not move,
        so a retry evaluates the same directions; :attr:`log` records the abandoned round trips (a record
        without ``coefs``) so that :func:`~gfo_native.torch.replay` still reproduces the weights bit for bit.
        Distributed, a rank whose closure raises completes every round trip of the step without evaluating
        and says so through the losses' all-reduce, so no rank waits: all ranks abandon the step alike (the
        same parameters and log on each), the failing rank re-raises its exception and the others raise
        RuntimeError.
        """
        if closure is None:
            raise ValueError("closure: MeZO/ES need a closure that returns the loss")
        if not callable(closure):
            raise TypeError(f"closure: expected a callable that returns the loss, got {type(closure).__name__}")
        # read anew at each step (a scheduler may change them), so checked anew: a NaN lr would write NaN into
        # every weight of its group, and a negative one would climb the loss
        for gi, g in enumerate(self.param_groups):
            for name in ("lr", "weight_decay"):
                group_value(g[name], f"param_groups[{gi}]['{name}']")
        params = self._params()
        self._settle_layout(params)  # model.to(memory_format=...) mid-run is refused
        self._frozen = set(K.frozen_indices(params))
        nd, h = self.n_directions, perturbation_scale(self._scale(), self._scale_name)  # a public attribute
        counter0 = self._step_count * nd
        streams = K.direction_streams(range(counter0, counter0 + nd), len(params))
        segments = self._segments(h)
        losses = np.zeros((nd, 2))
        nskipped0 = self._nskipped
        # (direction, number of its segments applied): what is perturbed in place and would need restoring
        opened: Optional[Tuple[int, int]] = None
        # With several ranks a failed closure must not leave the others waiting in the all-reduce: the rank goes
        # on through every round trip without evaluating, and the failure travels with the losses.
        failure: Optional[Exception] = None

        def evaluate() -> float:
            nonlocal failure
            try:
                return _as_float(closure())
            except Exception as e:
                if self.world_size == 1:
                    raise
                failure = e
                return 0.0

        try:
            f0 = None
            if not self.two_sided:
                self.current_direction = None
                f0 = evaluate()
            pending: list[tuple[int, float]] = []
            for d in range(nd):
                owned = d % self.world_size == self.rank
                for k, (scale, col) in enumerate(segments):
                    pending.append((d, scale))
                    if owned and col is not None and failure is None:
                        self._pass(params, streams, pending)
                        pending = []
                        opened = (d, k + 1)
                        self.current_direction, self._current_col = d, col
                        losses[d, col] = evaluate()
                if owned and f0 is not None:
                    losses[d, 1] = f0
            self.current_direction = None
            reduced = self._sum_over_ranks(np.append(losses.ravel(), 0.0 if failure is None else 1.0))
            losses, failed = reduced[:-1].reshape(nd, 2), int(round(reduced[-1]))
            if failed:
                # every rank completes all nd round trips and makes no update: parameters stay identical
                self._pass(params, streams, pending)
                opened = None
                self._steps_log.append(self._record(counter0, h, trips=nd))
                if failure is not None:
                    raise failure
                raise RuntimeError(f"closure: raised on {failed} other rank(s) of {self.world_size}; the step was "
                                   "abandoned on every rank (parameters back from their round trips, no update)")
            shaped = self._coefficients(losses)
            coefs = None
            if shaped is not None:
                # the kernel takes float32: a finite float64 coefficient beyond its range is as unusable as inf, and
                # so is one whose update c * z could overflow float32 (writing inf into the weights): with |z| at
                # most Z_BOUND and each |c| at most FLT_MAX / (Z_BOUND nd), the pass's sum over nd terms stays finite
                limit = np.float32(np.finfo(np.float32).max / (K.Z_BOUND[self.distribution] * nd))
                with np.errstate(over="ignore", invalid="ignore"):
                    c32 = shaped.astype(np.float32)
                    coefs = finite_or_zero(np.where(np.abs(c32) <= limit, c32, np.float32(np.nan)), self)
                coefs = None if coefs is None else coefs.astype(np.float32)
            # no usable loss at all: complete the round trips and make no update (momentum and Adam untouched)
            self._pass(params, streams, pending, coefs)
            opened = None
        except BaseException:
            self.current_direction = None
            self._nskipped = nskipped0
            if opened is not None:
                d, k = opened
                self._pass(params, streams, [(d, scale) for scale, _ in segments[k:]])
                self._steps_log.append(self._record(counter0, h, trips=d + 1))
            raise
        if coefs is None:
            self._steps_log.append(self._record(counter0, h, trips=nd))
        else:
            self._after_update()
            self._steps_log.append(self._record(counter0, h, coefs=[float(c) for c in coefs],
                                                lr=[float(g["lr"]) for g in self.param_groups],
                                                weight_decay=[float(g["weight_decay"]) for g in self.param_groups]))
        self._step_count += 1
        return float(np.mean(losses)) if np.all(np.isfinite(losses)) else float("nan")

    def _record(self, counter: int, h: float, **entries: Any) -> Dict[str, Any]:
        # a step's log entry; "frozen" (positions left untouched) only when some parameter was frozen
        rec: Dict[str, Any] = {"counter": counter, "h": h, **entries}
        if self._frozen:
            rec["frozen"] = sorted(self._frozen)
        return rec

    # -- checkpoints -----------------------------------------------------------------------------
    def _restore_float32_buffers(self, state_dict: Dict[str, Any]) -> None:
        # torch.optim.Optimizer.load_state_dict casts every floating state tensor to its parameter's dtype; the
        # momentum buffer is float32 whatever the parameter (bfloat16 too), so it is taken from the saved state
        # again, uncast (moved to the parameter's device; the saved tensor itself when it is already there).
        saved = state_dict.get("state", {})
        ids = [i for g in state_dict.get("param_groups", []) for i in g["params"]]
        for pid, p in zip(ids, self._params()):
            buf = saved.get(pid, {}).get("momentum_buffer") if isinstance(saved.get(pid), dict) else None
            if isinstance(buf, torch.Tensor):
                buf = buf.to(device=p.device, dtype=torch.float32)
                if buf.shape == p.shape and not same_layout(buf, p):
                    # saved in another layout (a tool that saves tensors contiguous): the pass needs p's, as the
                    # fused drop-ins' load_state_dict gives it (the same element, logically, so the same run)
                    buf = torch.empty_like(p, dtype=torch.float32).copy_(buf)
                self.state[p]["momentum_buffer"] = buf

    def _log_header(self) -> dict[str, Any]:
        d = {"kind": self._kind, "seed": self.seed, "distribution": self.distribution,
             "n_directions": self.n_directions, "two_sided": self.two_sided, "momentum": self.momentum,
             "groups": self._group_of_tensor(), "sizes": [p.numel() for p in self._params()],
             "dtypes": list(self._dtypes)}  # logs before 2026-11-23 lack dtypes (replay then cannot check them)
        if any(s is not None for s in self._layout):
            # the strides of the non-contiguous tensors (None: contiguous); a log without them: all contiguous
            d["strides"] = [None if s is None else list(s) for s in self._layout]
        return d

    @property
    def log(self) -> dict[str, Any]:
        """The replayable record of the run so far (plain Python data: JSON- and pickle-friendly).

        A deep copy, made at each access: its cost grows with the run (read it to checkpoint, not every step).
        """
        d = self._log_header()
        d["steps"] = copy.deepcopy(self._steps_log)
        return d

    @property
    def nskipped(self) -> int:
        """Non-finite losses seen so far (NaN/inf never raise).

        MeZO: directions whose finite difference was NaN/inf (or a coefficient so large that its float32 update,
        coefficient times z, could overflow); they get a zero coefficient. ES: population
        members whose loss was NaN/inf; they rank worst (tied with each other, so a pair whose two members
        are both non-finite gets a zero coefficient). A step in which every direction (MeZO) or every member
        (ES) is non-finite makes no update: the round trips are completed and nothing else changes (no weight
        decay, momentum or Adam step), and the step counter advances.
        """
        return self._nskipped

    def state_dict(self) -> Dict[str, Any]:
        sd = super().state_dict()
        sd["seed_optimizer"] = {"step": self._step_count, "nskipped": self._nskipped, "log": self.log}
        return sd

    # What replay() reads from a log's header: a resumed run must agree on all of it, or its log (the saved
    # steps under this optimizer's header) would replay to other weights. eps/sigma may change: each step
    # records its own h.
    _REPLAYED = ("kind", "seed", "distribution", "n_directions", "two_sided", "momentum", "groups", "optimizer",
                 "betas", "adam_eps")

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        extra = state_dict.pop("seed_optimizer", None)
        if extra is not None:
            saved, mine = extra["log"], self._log_header()
            # "sizes" (element counts; logs before 2026-11-23 lack them) where the saved log has them
            for key in self._REPLAYED + (("sizes",) if "sizes" in saved else ()):
                if saved.get(key) != mine.get(key):
                    raise ValueError(f"state_dict: written by a run with {key}={saved.get(key)!r}; this optimizer "
                                     f"has {key}={mine.get(key)!r} (resume with the same settings: the log of a "
                                     "resumed run must replay)")
            params = self._params()
            stepped = _stepped(saved.get("steps", ()), len(params))  # the others may have changed format since
            check_logged_layout(params[:stepped], saved.get("strides"), "the state_dict's run")
            saved_dtypes = saved.get("dtypes")
            K.check_logged_dtypes(params[:stepped], None if saved_dtypes is None else saved_dtypes[:stepped],
                                  "the state_dict's run")
            self._layout = memory_layouts(self._params())  # the saved run's (a format changed before loading)
            self._dtypes = K.dtype_names(self._params())
        super().load_state_dict(state_dict)
        self._restore_float32_buffers(state_dict)
        if extra is not None:
            self._step_count = int(extra["step"])
            self._nskipped = int(extra["nskipped"])
            self._steps_log = copy.deepcopy(extra["log"]["steps"])


def _stepped(steps: Sequence[Dict[str, Any]], ntensors: int) -> int:
    """How many leading tensors (of ``ntensors``) the logged ``steps`` perturbed: their memory layout is part of
    the run from then on (a step logged before a group was added records the count it covered, "ntensors").

    Groups are only ever added, so the counts never decrease along a log and the last step's is the largest:
    every step asks, and a scan of the whole log made each step cost more than the one before (a MeZO run
    takes 10^4..10^5 steps)."""
    return int(steps[-1].get("ntensors", ntensors)) if steps else 0


def _as_float(v: Any) -> float:
    """The closure's loss: a real number, or a one-element real tensor or array of any dtype."""
    if isinstance(v, (torch.Tensor, np.ndarray)):
        shape = tuple(v.shape)
        if int(np.prod(shape)) != 1:
            raise ValueError(f"closure: expected a scalar loss, got a {type(v).__name__} of shape {shape}")
        if v.dtype in (torch.complex32, torch.complex64, torch.complex128) or \
                (isinstance(v, np.ndarray) and v.dtype.kind not in "biuf"):
            raise TypeError(f"closure: expected a real loss, got dtype {v.dtype}")
        return float(v.reshape(()).item())
    if isinstance(v, numbers.Real):
        return float(v)
    raise TypeError(f"closure: expected the loss as a number or a one-element tensor, got {type(v).__name__}")


def finite_or_zero(c: np.ndarray, opt: SeedOptimizer) -> Optional[np.ndarray]:
    """Non-finite coefficients become 0 and are counted; None when every one is non-finite."""
    bad = ~np.isfinite(c)
    opt._nskipped += int(bad.sum())
    return None if bad.all() else np.where(bad, 0.0, c)


def _isfinite(x: float) -> bool:
    return math.isfinite(x)
