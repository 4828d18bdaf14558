"""Fused multi-tensor optimizer steps on the GPU: one launch updates every tensor of a list.

Two ways in:

* :func:`run` is the device-dispatch hook of the torch drop-ins (``gfo_native.torch``): it takes the very
  table and arguments of the CPU kernel ``_core.optim_<kind>(table, code, ...)`` (layout:
  cpp/include/gfo/cuda.hpp), with device addresses in it, and launches on the current torch stream.
* :func:`sgd_`, :func:`adagrad_`, :func:`rmsprop_`, :func:`adam_` take lists of torch CUDA tensors, like
  ``gfo_native.optim.functional`` takes NumPy arrays.

The rules are torch.optim's for-loop (``foreach=False``) implementations, operation by operation, so
float32/float64 results equal the CPU kernels'. bf16 and fp16 parameters (with states of the same dtype)
are computed in float32 and rounded once per stored value. ``state_steps`` are torch's ``state["step"]``
scalars: CPU tensors (float32 or float64), incremented on the host when the step is queued.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from .. import _core
from ._arrays import DTYPE_CODES, activate, as_device_array
from ._runtime import require

__all__ = ["run", "sgd_", "adagrad_", "rmsprop_", "adam_"]

PARAM, GRAD, STATE0, STATE1, STATE2, STEP, FLAGS, NUMEL = range(8)
STEP_IS_DOUBLE, INIT_BUFFER = 1, 2
DTYPES = tuple(DTYPE_CODES)


def run(kind: str, table: npt.NDArray[np.uint64], code: int, *hyper: Any, stream: Optional[int] = None,
        device: Optional[int] = None) -> None:
    """Launch ``_core.cuda_optim_<kind>`` on a CPU-kernel-style table (``kind``: sgd, adagrad, rmsprop, adam)."""
    require(f"gfo_native.torch optimizer on CUDA parameters ({kind})")
    if stream is None or device is None:
        import torch

        device = torch.cuda.current_device() if device is None else device
        stream = torch.cuda.current_stream(device).cuda_stream if stream is None else stream
    _core.cuda_set_device(int(device))
    getattr(_core, f"cuda_optim_{kind}")(table, int(code), *hyper, int(stream))


def _step_address(step: Any, name: str) -> Tuple[int, int]:
    import torch

    if not isinstance(step, torch.Tensor) or step.device.type != "cpu" or step.numel() != 1:
        raise TypeError(f"{name}: expected a one-element CPU tensor (torch's state['step'])")
    if step.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"{name}: expected dtype float32 or float64, got {step.dtype}")
    return int(step.data_ptr()), STEP_IS_DOUBLE if step.dtype == torch.float64 else 0


_Tensors = Sequence[Any]  # torch CUDA tensors (or __cuda_array_interface__ arrays)
_Key = Tuple[int, Optional[int], int]


def _tables(params: _Tensors, grads: _Tensors, states: Sequence[Optional[_Tensors]] = (),
            steps: Optional[_Tensors] = None, flags: Optional[Sequence[int]] = None
            ) -> Dict[_Key, npt.NDArray[np.uint64]]:
    """{(dtype code, device): table} for lists of device tensors; states are lists (or None) like params."""
    if not isinstance(params, (list, tuple)) or not params:
        raise TypeError("params: expected a non-empty list of CUDA tensors")
    groups: Dict[_Key, List[npt.NDArray[np.uint64]]] = {}
    for i, p in enumerate(params):
        a = as_device_array(p, f"params[{i}]", dtypes=DTYPES, writeable=True)
        row = np.zeros(8, dtype=np.uint64)
        row[PARAM] = a.ptr
        for col, arrays, what in ((GRAD, grads, "grads"),) + tuple(
                (c, s, f"states[{k}]") for k, (c, s) in enumerate(zip((STATE0, STATE1, STATE2), states))):
            if arrays is None:
                continue
            b = as_device_array(arrays[i], f"{what}[{i}]", dtypes=(a.dtype,), writeable=col != GRAD)
            if b.size != a.size or b.device != a.device:
                raise ValueError(f"{what}[{i}]: expected {a.size} elements on device {a.device} like params[{i}]")
            row[col] = b.ptr
        if steps is not None:
            row[STEP], row[FLAGS] = _step_address(steps[i], f"state_steps[{i}]")
        if flags is not None:
            row[FLAGS] |= np.uint64(flags[i])
        row[NUMEL] = a.size
        groups.setdefault((a.code, a.device, a.stream), []).append(row)
    return {key: np.stack(rows) for key, rows in groups.items()}


def _launch(kind: str, tables: Dict[_Key, npt.NDArray[np.uint64]], *hyper: Any) -> None:
    require(f"gfo_native.cuda.optim.{kind}_")
    for (code, device, stream), table in tables.items():
        if device is not None:
            _core.cuda_set_device(int(device))
        getattr(_core, f"cuda_optim_{kind}")(table, code, *hyper, stream)


def sgd_(params: _Tensors, grads: _Tensors, momentum_buffers: List[Any], *, lr: float, momentum: float = 0.0,
         dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False) -> None:
    """torch.optim.SGD's rule. ``momentum_buffers``: a list; None entries are created (set to the gradient)."""
    require("gfo_native.cuda.optim.sgd_")
    bufs: Optional[List[Any]] = None
    flags: Optional[List[int]] = None
    if momentum != 0:
        import torch

        flags = [INIT_BUFFER if b is None else 0 for b in momentum_buffers]
        for i, b in enumerate(momentum_buffers):
            if b is None:
                momentum_buffers[i] = torch.empty_like(params[i])
        bufs = momentum_buffers
    _launch("sgd", _tables(params, grads, (bufs,), flags=flags), float(lr), float(momentum), float(dampening),
            float(weight_decay), bool(nesterov), bool(maximize))


def adagrad_(params: _Tensors, grads: _Tensors, state_sums: _Tensors, state_steps: _Tensors, *, lr: float = 1e-2,
             lr_decay: float = 0.0, weight_decay: float = 0.0, eps: float = 1e-10, maximize: bool = False) -> None:
    """torch.optim.Adagrad's rule."""
    require("gfo_native.cuda.optim.adagrad_")
    _launch("adagrad", _tables(params, grads, (state_sums,), state_steps), float(lr), float(lr_decay),
            float(weight_decay), float(eps), bool(maximize))


def rmsprop_(params: _Tensors, grads: _Tensors, square_avgs: _Tensors, grad_avgs: Optional[_Tensors],
             momentum_buffers: Optional[_Tensors], state_steps: _Tensors, *, lr: float = 1e-2, alpha: float = 0.99,
             eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
             maximize: bool = False) -> None:
    """torch.optim.RMSprop's rule (``grad_avgs`` only when centered, ``momentum_buffers`` only when momentum > 0)."""
    require("gfo_native.cuda.optim.rmsprop_")
    states = (square_avgs, grad_avgs if centered else None, momentum_buffers if momentum > 0 else None)
    _launch("rmsprop", _tables(params, grads, states, state_steps), float(lr), float(alpha), float(eps),
            float(weight_decay), float(momentum), bool(centered), bool(maximize))


def adam_(params: _Tensors, grads: _Tensors, exp_avgs: _Tensors, exp_avg_sqs: _Tensors,
          max_exp_avg_sqs: Optional[_Tensors], state_steps: _Tensors, *, lr: float = 1e-3, beta1: float = 0.9,
          beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0, decoupled_weight_decay: bool = False,
          amsgrad: bool = False, maximize: bool = False) -> None:
    """torch.optim.Adam's rule (AdamW with ``decoupled_weight_decay=True``; ``max_exp_avg_sqs`` only with amsgrad)."""
    require("gfo_native.cuda.optim.adam_")
    states = (exp_avgs, exp_avg_sqs, max_exp_avg_sqs if amsgrad else None)
    _launch("adam", _tables(params, grads, states, state_steps), float(lr), float(beta1), float(beta2), float(eps),
            float(weight_decay), bool(decoupled_weight_decay), bool(amsgrad), bool(maximize))
