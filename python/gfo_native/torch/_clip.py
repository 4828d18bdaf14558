"""Gradient clipping over all of a model's gradients in one native call (torch.nn.utils semantics)."""

from __future__ import annotations

import math
import numbers
from typing import Dict, Iterable, List, Optional, Tuple, Union

import numpy as np
import torch

from .. import _core
from ..optim import _table as T
from . import _layout as L

_DTYPES = {code: dtype for dtype, code in L._CODES.items()}


def _tables(parameters: Union[torch.Tensor, Iterable[torch.Tensor]]) -> Tuple[List[Tuple[int, np.ndarray]],
            torch.dtype]:
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    # One native pass over the parameters for the usual case (contiguous gradients of one dtype); anything
    # else goes through the Python path below, which names the problem.
    fast = _core.torch_grad_rows(params, L._CODES, L._DATA_PTR, L._IS_CONTIGUOUS, L._NUMEL)
    if fast is not None:
        return [(fast[1], fast[0])], _DTYPES[fast[1]]
    # (position in parameters, gradient): errors name the parameter as the caller listed it
    grads = [(i, p.grad) for i, p in enumerate(params) if p.grad is not None]
    by_code: Dict[int, List[Tuple[int, torch.Tensor]]] = {}
    for i, g in grads:
        code = L._CODES.get(g.dtype)
        if code is None:
            raise TypeError(f"parameters[{i}].grad: expected dtype float32, float64, bfloat16 or float16, "
                            f"got {g.dtype}")
        by_code.setdefault(code, []).append((i, g))
    out: List[Tuple[int, np.ndarray]] = []
    for code, gs in sorted(by_code.items()):
        t = T.new_table(len(gs))
        t[:, T.GRAD] = [L.grad_pointer(g, f"parameters[{i}].grad") for i, g in gs]
        t[:, T.NUMEL] = [g.numel() for _, g in gs]
        out.append((code, t))
    # the total's dtype as torch's (a stack of the per-tensor norms): float64 when any gradient is float64
    return out, (torch.float64 if len(by_code) > 1 else grads[0][1].dtype if grads else torch.float32)


def _bound(v: object, name: str) -> float:
    if isinstance(v, bool) or not (isinstance(v, numbers.Real) or isinstance(v, torch.Tensor) and v.numel() == 1):
        raise TypeError(f"{name}: expected a number, got {type(v).__name__}")
    return float(v)  # a Real or a one-element tensor


def clip_grad_norm_(parameters: Union[torch.Tensor, Iterable[torch.Tensor]], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Optional[bool] = None) -> torch.Tensor:
    """torch.nn.utils.clip_grad_norm_ (L2 only), fused; returns the total norm as a tensor."""
    bound = _bound(max_norm, "max_norm")
    if float(norm_type) != 2.0:
        raise ValueError(f"norm_type: only the L2 norm (2.0) is supported, got {norm_type!r}")
    tables, dtype = _tables(parameters)
    total = math.sqrt(sum(_core.optim_grad_norm(t, code) ** 2 for code, t in tables))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients is non-finite ({total})")
    coef = bound / (total + 1e-6)
    if not coef >= 1.0:
        for code, t in tables:
            _core.optim_scale_grads(t, code, coef)
    return torch.tensor(total, dtype=dtype)


def clip_grad_value_(parameters: Union[torch.Tensor, Iterable[torch.Tensor]], clip_value: float,
                     foreach: Optional[bool] = None) -> None:
    """torch.nn.utils.clip_grad_value_, fused. ``clip_value`` must be >= 0 (torch clamps to [-c, c] even for
    c < 0, which sets every element to c; that and a NaN bound are refused here instead)."""
    c = _bound(clip_value, "clip_value")
    if not c >= 0.0:
        raise ValueError(f"clip_value: expected a value >= 0, got {c}")
    for code, t in _tables(parameters)[0]:
        _core.optim_clamp_grads(t, code, c)
