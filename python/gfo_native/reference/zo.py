"""NumPy twin of the zeroth-order kernels (``cpp/src/zo.cpp``): the directions are materialised.

Per element, for each direction slot ``j`` in order: every op ``(j, scale)`` does
``theta <- rnd(theta + rnd(scale * z_j))`` and, with an update, ``s <- s + c_j z_j``; then
``g = s + wd theta`` (heavy ball: ``m <- beta m + g; g = m``) and ``theta <- rnd(theta - lr g)``, or in
gradient mode ``grad <- s + wd theta``. All arithmetic is float32; ``rnd`` rounds to the storage
(float32, or bfloat16 nearest-even, stored as the upper 16 bits in a uint16 array).

Directions come from :mod:`gfo_native.reference.rng`: Gaussian ``z_i = normal(seed, stream, i)`` in
float32, Rademacher ``z_i = +1`` if bit ``i mod 32`` of word ``i // 32`` is set, else ``-1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import rng

GAUSSIAN, RADEMACHER = 0, 1


def directions(seed: int, stream: int, distribution: int, n: int, offset: int = 0) -> np.ndarray:
    """z of elements ``[offset, offset + n)`` of one stream, float32."""
    if distribution == GAUSSIAN:
        return rng.normal(seed, stream, n, np.float32, offset)
    if distribution != RADEMACHER:
        raise ValueError(f"distribution: expected 0 (gaussian) or 1 (rademacher), got {distribution}")
    idx = np.arange(offset, offset + n, dtype=np.uint64)
    first = offset // 32
    words = rng.bits(seed, stream, (offset + n + 31) // 32 - first, first)
    bit = (words[(idx // np.uint64(32)).astype(np.int64) - first] >> (idx % np.uint64(32)).astype(np.uint32)) & 1
    return np.asarray(np.where(bit == 1, np.float32(1), np.float32(-1)))


def bf16_to_float(bits: np.ndarray) -> np.ndarray:
    return np.asarray((bits.astype(np.uint32) << np.uint32(16)).view(np.float32))


def round_bf16(x: np.ndarray) -> np.ndarray:
    """float32 -> nearest bfloat16 (ties to even), returned as float32 values; NaN stays NaN."""
    b = np.asarray(x, dtype=np.float32).view(np.uint32)
    r = ((b + np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000))
    r = np.where((b & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000), np.uint32(0x7FC00000), r)
    return np.asarray(r.astype(np.uint32).view(np.float32))


def zo_apply(params: Any, *, seed: int, distribution: int, streams: Any, op_slots: Any, op_scales: Any,
             coefs: Any = None, lrs: Any = None, weight_decays: Any = None, momentum: float = 0.0,
             momentum_buffers: Any = None, grad_buffers: Any = None) -> None:
    """In place on ``params`` (float32 arrays, or uint16 arrays of bfloat16 bits); see the module doc."""
    nt = len(params)
    streams = np.asarray(streams, dtype=np.uint64).reshape(-1, nt)
    lrs = [0.0] * nt if lrs is None else lrs
    weight_decays = [0.0] * nt if weight_decays is None else weight_decays
    momentum_buffers = [None] * nt if momentum_buffers is None else momentum_buffers
    grad_buffers = [None] * nt if grad_buffers is None else grad_buffers
    f32 = np.float32
    for t, p in enumerate(params):
        bf16 = p.dtype == np.uint16
        rnd = round_bf16 if bf16 else (lambda x: x)
        flat = p.reshape(-1)
        th = bf16_to_float(flat) if bf16 else flat.astype(np.float32)
        s = np.zeros(th.size, dtype=np.float32)
        for j in range(streams.shape[0]):
            scales = [sc for sl, sc in zip(op_slots, op_scales) if sl == j]
            c = f32(0) if coefs is None else f32(coefs[j])
            if not scales and c == 0:
                continue
            z = directions(seed, int(streams[j, t]), distribution, th.size)
            for sc in scales:
                th = rnd(th + f32(sc) * z)
            if c != 0:
                s = s + c * z
        if coefs is not None:
            wd, lr = f32(weight_decays[t]), f32(lrs[t])
            if grad_buffers[t] is not None:
                grad_buffers[t].reshape(-1)[:] = s + wd * th
            elif momentum_buffers[t] is not None:
                m = momentum_buffers[t].reshape(-1)
                m[:] = f32(momentum) * m + (s + wd * th)
                th = rnd(th - lr * m)
            else:
                th = rnd(th - lr * (s + wd * th))
        if bf16:
            flat[:] = (th.view(np.uint32) >> np.uint32(16)).astype(np.uint16)
        else:
            flat[:] = th
