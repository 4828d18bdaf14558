"""The uint64 row table the fused kernels take (layout: cpp/include/gfo/optim.hpp, ``Column``).

One row per tensor: addresses of the parameter, gradient and up to three state tensors, the address of its
step counter, flags and the element count. Building it is the only per-call cost on the Python side, so
both the NumPy and the torch front ends fill it with vectorised NumPy assignments, and the torch front end
caches it between steps.
"""

from __future__ import annotations

import numpy as np

PARAM, GRAD, STATE0, STATE1, STATE2, STEP, FLAGS, NUMEL = range(8)
COLUMNS = 8
STEP_IS_DOUBLE = 1  # the step counter is float64 (else float32, torch's default scalar dtype)
INIT_BUFFER = 2     # SGD: the momentum buffer is new; the kernel sets it to the gradient

DTYPE_CODES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1}


def new_table(n: int) -> np.ndarray:
    return np.zeros((n, COLUMNS), dtype=np.uint64)


def address(a: np.ndarray) -> int:
    return int(a.__array_interface__["data"][0])
