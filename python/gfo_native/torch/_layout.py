"""Pointer tables for torch tensors, cached between steps.

Building a table costs a few Python attribute reads per tensor; for 2,000 small tensors that would cost more
than the step itself, so a group's table is kept and revalidated cheaply each step: the gradients must be the
very same tensor objects (the layout holds them, so their ids cannot be reused), the parameters must still
point at the same memory, and the options that decide the state slots must be unchanged. Otherwise the
table is rebuilt (gradient column only, when just the gradient tensors changed). Changes to the optimizer's
state (new, removed or replaced state tensors) are noticed by the state containers themselves (_state) and
drop every table; a table also holds each state tensor it points at, so no address in it can be freed.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from .. import _core
from .._torch_ptr import DTYPE_CODES, tensor_pointer
from ..optim import _table as T
from ._dense import require_same_layout, shaped_like
from ._state import adopt_entry

# unbound getters: map() over them is faster than attribute access in a Python loop
_GRAD: Callable[[torch.Tensor], Optional[torch.Tensor]] = torch.Tensor.grad.__get__  # type: ignore[union-attr]
_DATA_PTR = torch.Tensor.data_ptr
_IS_CONTIGUOUS = torch.Tensor.is_contiguous
_NUMEL = torch.Tensor.numel
# the guard's layout check for a new gradient of a non-contiguous parameter: its strides (a C method, cheaper
# per step than _dense.layout_key; torch checks a gradient's sizes on assignment, and autograd gives a dense
# parameter's gradient exactly its strides; anything else goes to the rebuild, which checks with layout_key)
_STRIDE = torch.Tensor.stride
# the kernels' dtype codes (_torch_ptr.DTYPE_CODES), on the CPU and CUDA alike: bf16/fp16 tensors are loaded to
# float32, the float32 math runs, and each stored value is rounded once (gfo/optim.hpp, cuda/optim.cu)
_CODES = {getattr(torch, name.split(".")[1]): code for name, code in DTYPE_CODES.items()}
_DTYPES = tuple(DTYPE_CODES)
CPU = -1  # device of a part: -1 for the CPU, else the CUDA device index


def scalar_dtype() -> torch.dtype:
    """torch's dtype for state["step"] (float32 unless the default dtype is float64)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def device_of(t: torch.Tensor) -> int:
    return CPU if t.device.type == "cpu" else (t.device.index if t.device.index is not None else 0)


def pointer(t: torch.Tensor, name: str) -> int:
    """tensor_pointer on the tensor's own device (CUDA tensors need the CUDA kernels: checked at launch)."""
    return tensor_pointer(t, name, dtypes=_DTYPES, device="cuda" if t.device.type == "cuda" else "cpu")


def grad_pointer(g: torch.Tensor, name: str) -> int:
    if g.is_sparse or g.layout != torch.strided:
        raise TypeError(f"{name}: sparse gradients are not supported by the fused optimizers")
    return pointer(g, name)


class GroupLayout:
    """Rows (one per parameter with a gradient) split by dtype and device: [(dtype code, table, row params)],
    with ``devices[k]`` the device of part k (CPU or a CUDA index).

    ``guard`` (native, cpp/bindings/register_optim_torch.cpp) revalidates the tables at each step in one pass
    over the parameters: same parameter objects and addresses, same .grad objects and addresses, and new
    .grad tensors (zero_grad(set_to_none=True)) checked (dtype, memory layout, the row's element count) and
    written into the tables in place. With one CPU
    table (``gated``) that pass runs during the step, as the kernel's gate: the kernel's other threads update
    the rows already passed while it goes on, and rows after a change it meets are left to the caller.
    """

    init_cleared: bool  # set once SGD's "new momentum buffer" flags are cleared (clear_init_flags)

    def __init__(self, params: List[torch.Tensor], grads: List[Any], key: Tuple[Any, ...],
                 parts: List[Tuple[int, np.ndarray, List[int]]], devices: Optional[List[int]] = None,
                 held: Optional[List[torch.Tensor]] = None) -> None:
        # aliases of the state tensors the tables point at: their memory stays alive whatever happens to the
        # state containers or to the tensors (a change _state does not see leaves a step on outdated state)
        self.held = held if held is not None else []
        self.devices = devices if devices is not None else [CPU] * len(parts)
        self.key = key
        self.parts = parts
        cells: List[Any] = [None] * len(params)
        for _, table, idx in parts:
            for r, i in enumerate(idx):
                cells[i] = (table, r)
        self.guard = _core.TorchRowGuard(params, grads, cells, _DATA_PTR, _IS_CONTIGUOUS, _NUMEL, _STRIDE)
        self.params = params
        # one CPU table: the guard walks it during the step (the kernel's gate) instead of before it
        self.gated = len(parts) == 1 and self.devices[0] == CPU

    def still_valid(self, params: List[torch.Tensor], key: Tuple[Any, ...]) -> bool:
        return key == self.key and self.guard.check(params)


def refuse_duplicates(params: List[torch.Tensor]) -> None:
    """ValueError naming the first parameter listed twice (one fused pass cannot update a tensor twice)."""
    if len(set(map(id, params))) == len(params):
        return
    first: Dict[int, int] = {}
    for j, p in enumerate(params):
        i = first.setdefault(id(p), j)
        if i != j:
            raise ValueError(f"params[{j}]: the same tensor as params[{i}]; a parameter may appear once in a "
                             "group (torch.optim warns that duplicates will be an error; one fused pass would "
                             "update it twice at once)")


def build(params: List[torch.Tensor], grads: List[Any], key: Tuple[Any, ...], state: Any,
          slots: Optional[Callable[[torch.Tensor, Dict[str, Any], Optional[StateArena]], Tuple[Any, ...]]]
          ) -> GroupLayout:
    """``slots(p, state[p], arena) -> (s0, s1, s2, step, flags)`` creates missing state (from ``arena`` where
    it serves the parameter) and returns the tensors; ``state`` (a _state.StateMap) maps parameters to their
    state dicts (plain dicts in it are replaced by tracking ones). A KeyError or TypeError from ``slots``
    (state that torch.optim could not use either) is raised again naming the parameter. ``slots=None``: the
    update keeps no state (SGD without momentum), and ``state`` is left without entries, as in torch.optim.

    Each kernel runs over its tensors' memory as flat arrays, so a parameter may be dense in any memory order
    (channels_last, a transposed matrix: _dense) provided that its gradient and its state tensors have its
    sizes and strides; otherwise ValueError naming the parameter (nothing is copied to make them agree)."""
    refuse_duplicates(params)
    by_code: Dict[Tuple[int, int], List[int]] = {}
    for i, (p, g) in enumerate(zip(params, grads)):
        if g is None:
            continue
        dev = device_of(p)
        code = _CODES.get(p.dtype)
        if code is None:
            raise TypeError(f"params[{i}]: expected dtype float32, float64, bfloat16 or float16, got {p.dtype}")
        if device_of(g) != dev:
            raise ValueError(f"params[{i}].grad: on {g.device}, the parameter on {p.device}")
        by_code.setdefault((dev, code), []).append(i)
    parts: List[Tuple[int, np.ndarray, List[int]]] = []
    devices: List[int] = []
    held: List[torch.Tensor] = []
    arena = StateArena([params[i] for _, idx in sorted(by_code.items()) for i in idx], state) if slots else None
    stateless = (None, None, None, None, 0)
    for (dev, code), idx in sorted(by_code.items()):
        table = T.new_table(len(idx))
        for r, i in enumerate(idx):
            p, g = params[i], grads[i]
            row = table[r]
            row[T.PARAM] = pointer(p, f"params[{i}]")
            row[T.GRAD] = grad_pointer(g, f"params[{i}].grad")
            if g.dtype != p.dtype or g.numel() != p.numel():  # .grad.set_() / .grad.data = ... allow both
                raise ValueError(f"params[{i}].grad: {g.numel()} elements of {g.dtype}, the parameter has "
                                 f"{p.numel()} of {p.dtype}")
            require_same_layout(g, p, f"params[{i}].grad", f"params[{i}]", _GRAD_FIX)
            try:
                states = slots(p, adopt_entry(state, p), arena) if slots else stateless
            except KeyError as e:
                raise KeyError(f"params[{i}]: optimizer state has no {e.args[0]!r} (a parameter's state is "
                               "created when its dict is empty, as in torch.optim)") from None
            except TypeError as e:
                raise TypeError(f"params[{i}]: {e}") from None
            for col, t in zip((T.STATE0, T.STATE1, T.STATE2), states[:3]):
                if t is not None:
                    held.append(t.detach())  # an alias: holds the memory even if t.data or t.set_ moves t
                    if t.dtype != p.dtype or t.numel() != p.numel() or t.device != p.device:
                        raise ValueError(f"params[{i}]: optimizer state does not match the parameter "
                                         f"({t.dtype}, {t.numel()} elements on {t.device} vs {p.dtype}, "
                                         f"{p.numel()} on {p.device})")
                    row[col] = pointer(t, f"state of params[{i}]")
                    require_same_layout(t, p, f"optimizer state of params[{i}]", "the parameter", _STATE_FIX)
            step, flags = states[3], states[4]
            if step is not None:
                held.append(step.detach())
                row[T.STEP] = tensor_pointer(step, f"state['step'] of params[{i}]",
                                             dtypes=("torch.float32", "torch.float64"))
                if step.dtype == torch.float64:
                    flags |= T.STEP_IS_DOUBLE
            row[T.FLAGS] = flags
            row[T.NUMEL] = p.numel()
        parts.append((code, table, idx))
        devices.append(dev)
    return GroupLayout(params, grads, key, parts, devices, held)


_GRAD_FIX = ("autograd gives a gradient its parameter's strides; set one by hand like the parameter, e.g. "
             "p.grad = torch.empty_like(p).copy_(g)")
_STATE_FIX = ("load_state_dict converts loaded state to its parameter's layout: after model.to(memory_format=...) "
              "mid-run, opt.load_state_dict(opt.state_dict()) converts the state once; a state tensor set by hand "
              "must be made like the parameter, e.g. torch.empty_like(p).copy_(t)")

# Large state tensors start at a chosen offset within a 4 KiB page from their parameter (see new_state).
STAGGER_MIN_BYTES = 1 << 16
_PAGE = 4096
_ALIGN = 64  # bytes: each tensor cut from an arena starts on its own cache line (no sharing between threads)


class StateArena:
    """Flat buffers from which the new state tensors (and step counters) of a group's small parameters are cut.

    A step over thousands of small tensors streams each of them from its own heap block; every block starts
    a new stream the CPU's prefetchers have to pick up again. The parameters and gradients belong to the
    user, but the state is ours: cutting each state slot of all small parameters from one buffer (in row
    order) turns two or three of Adam's five streams into one long stream each. On this project's AMD EPYC a
    2,000 x 1,000 float32 Adam step took ~1.5 ms of kernel time (one thread, CPU time) instead of ~2.2 ms
    with separate state tensors, the step counters in one buffer included.

    Only parameters without any state yet are served (sized up front, so each buffer is exactly as large as
    the tensors cut from it, plus one page). The pieces are ordinary views with their parameter's sizes and
    strides (a channels_last parameter's state is channels_last, as torch's preserve_format): state_dict, torch.save
    of the whole state (which saves a shared storage once) and torch.optim see nothing else. As with any view,
    saving or deep-copying one state tensor on its own takes its whole buffer along (``.clone()`` it first).
    Slot ``s`` starts ``(s + 1)`` KiB into
    a page, like new_state's staggered large tensors, so that the streams do not alias each other.
    """

    def __init__(self, params: List[torch.Tensor], state: Any) -> None:
        self._members: Dict[int, int] = {}  # id(param) -> its element offset within its dtype's buffers
        self._total: Dict[torch.dtype, int] = {}
        self._buffers: Dict[Tuple[torch.dtype, int], torch.Tensor] = {}
        self._steps: Optional[torch.Tensor] = None
        self._step_index: Dict[int, int] = {}
        for p in params:
            if state.get(p) or p.device.type != "cpu" or p.numel() * p.element_size() >= STAGGER_MIN_BYTES \
                    or id(p) in self._members:
                continue
            per_line = _ALIGN // p.element_size()
            off = self._total.get(p.dtype, 0)
            self._members[id(p)] = off
            self._step_index[id(p)] = len(self._step_index)
            self._total[p.dtype] = off + -(-p.numel() // per_line) * per_line

    def state(self, p: torch.Tensor, slot: int) -> Optional[torch.Tensor]:
        """A view shaped like ``p`` from slot ``slot``'s buffer, or None when ``p`` is not served here."""
        off = self._members.get(id(p))
        if off is None:
            return None
        buf = self._buffers.get((p.dtype, slot))
        if buf is None:
            es = p.element_size()
            raw = torch.empty(self._total[p.dtype] + _PAGE // es, dtype=p.dtype)
            k = ((1024 * (slot + 1) - raw.data_ptr()) % _PAGE) // es
            buf = self._buffers[(p.dtype, slot)] = raw[k:k + self._total[p.dtype]]
        return shaped_like(buf[off:off + p.numel()], p)

    def step(self, p: torch.Tensor) -> Optional[torch.Tensor]:
        """A zero one-element step counter (torch's state["step"]) from one shared buffer, or None."""
        i = self._step_index.get(id(p))
        if i is None:
            return None
        if self._steps is None:
            self._steps = torch.zeros(len(self._step_index), dtype=scalar_dtype())
        return self._steps[i]


def new_state(p: torch.Tensor, fill: Optional[float] = None, slot: int = 0,
              arena: Optional[StateArena] = None) -> torch.Tensor:
    """A state tensor like ``p`` (torch's preserve_format), filled with ``fill`` (left uninitialised when None);
    cut from ``arena`` when it serves ``p``.

    A step streams through the parameter, its gradient and its state at once. Large tensors of torch all start at
    the same offset within a page (64 bytes into an mmap), and streams at equal page offsets collide in the CPU's
    address-aliasing checks: on this project's AMD EPYC an Adam step at 1x16M ran ~30% slower than with the state
    shifted by 1-2 KiB (CPU time, one thread, one process). So a large CPU state tensor is a view (with the
    parameter's sizes and strides) into a buffer one page longer, placed ``(slot + 1)`` KiB past its parameter's
    page offset (slots 0, 1, 2 for the first, second, third state tensor). The view is an ordinary tensor:
    state_dict, torch.save and torch.optim see nothing else.
    """
    t = arena.state(p, slot) if arena is not None else None
    if t is None:
        if p.device.type != "cpu" or p.numel() * p.element_size() < STAGGER_MIN_BYTES:
            t = torch.empty_like(p, memory_format=torch.preserve_format)
        else:
            es = p.element_size()
            buf = torch.empty(p.numel() + _PAGE // es, dtype=p.dtype)
            target = (p.data_ptr() + 1024 * (slot + 1)) % _PAGE
            k = ((target - buf.data_ptr()) % _PAGE) // es
            t = shaped_like(buf[k:k + p.numel()], p)
    if fill is not None:
        t.fill_(fill)
    return t


def new_step(p: torch.Tensor, arena: Optional[StateArena] = None) -> torch.Tensor:
    """A zero step counter for ``p``'s state (torch's scalar dtype), from ``arena`` when it serves ``p``."""
    t = arena.step(p) if arena is not None else None
    return t if t is not None else torch.zeros((), dtype=scalar_dtype())


def need(state: Dict[str, Any], key: str) -> torch.Tensor:
    """``state[key]``, which must be a tensor (KeyError when missing, as torch.optim raises)."""
    t = state[key]
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"optimizer state[{key!r}]: expected a tensor, got {type(t).__name__}")
    return t


def step_tensor(state: Dict[str, Any]) -> torch.Tensor:
    """state["step"] as a one-element float32/float64 tensor (KeyError when missing). The kernels count in
    float32 or float64; torch.optim steps with any scalar a checkpoint holds, so a Python number (old
    checkpoints) or a counter of another dtype (an int64 tensor, a float16 one) is converted and stored back:
    integers to float64 (exact), other floats to torch's scalar dtype."""
    step = state["step"]
    if not isinstance(step, torch.Tensor):
        if isinstance(step, bool) or not isinstance(step, (int, float)):
            raise TypeError(f"optimizer state['step']: expected a tensor or a number, got {type(step).__name__}")
        step = state["step"] = torch.tensor(float(step), dtype=scalar_dtype())
    if step.numel() != 1:
        raise ValueError("state['step']: expected a one-element tensor")
    if step.dtype not in (torch.float32, torch.float64) and step.device.type == "cpu" and not step.is_complex():
        wide = torch.float64 if not step.is_floating_point() else scalar_dtype()
        step = state["step"] = step.detach().to(wide).reshape(step.shape)
    return step


def clear_init_flags(layout: GroupLayout) -> None:
    if getattr(layout, "init_cleared", False):
        return
    for _, table, _ in layout.parts:
        table[:, T.FLAGS] &= ~np.uint64(T.INIT_BUFFER)
    layout.init_cleared = True
