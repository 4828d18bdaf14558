"""Turning torch tensors into raw pointers for the kernels, checked here (the extension never links libtorch)."""

from __future__ import annotations

from typing import Any, Iterable

# dtype name -> code the bindings understand
DTYPE_CODES = {"torch.float32": 0, "torch.float64": 1, "torch.bfloat16": 2, "torch.float16": 3}


def tensor_pointer(t: Any, name: str, *, dtypes: Iterable[str] = ("torch.float32", "torch.float64"),
                   device: str = "cpu") -> int:
    """The data address (lowest address) of a dense tensor of an allowed dtype on `device`: contiguous, or
    contiguous memory in another order such as channels_last (gfo_native.torch._dense; the caller makes sure
    that the tensors one kernel pass reads together index their memory alike).

    Raises TypeError/ValueError naming the argument; never copies or converts.
    """
    dt = str(t.dtype)
    if dt not in dtypes:
        raise TypeError(f"{name}: expected dtype in {tuple(dtypes)}, got {dt}")
    if t.layout != _strided():
        raise TypeError(f"{name}: sparse or non-strided tensors are not supported (layout {t.layout})")
    if t.device.type != device:
        hint = " (build with GFO_CUDA=ON for CUDA tensors)" if t.device.type == "cuda" else ""
        raise ValueError(f"{name}: expected a {device} tensor, got device {t.device}{hint}")
    if not t.is_contiguous():
        from .torch._dense import require_dense  # imported here: gfo_native.torch imports this module

        require_dense(t, name)
    return int(t.data_ptr())


def _strided() -> Any:
    import torch

    return torch.strided
