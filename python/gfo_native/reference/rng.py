"""Philox4x32-10 in pure NumPy: the executable specification of the randomness contract.

Every random number is a pure function of ``(seed, stream, index)``. The key is the 64-bit seed
(``k0`` low word, ``k1`` high word); the counter is ``(block low, block high, stream low, stream high)``.
Word ``j`` of a stream is word ``j % 4`` of block ``j // 4``.

Bits to floats (exact, in the open interval (0, 1)):

* float32 uniform ``i``: ``x = word[i] >> 9`` (23 bits), ``u = (2x + 1) * 2**-24``;
* float64 uniform ``i``: ``x = (word[2i+1] << 32 | word[2i]) >> 12`` (52 bits), ``u = (2x + 1) * 2**-53``.

Normals use Box-Muller on uniform pairs ``(u1, u2) = (u[2k], u[2k+1])``:
``r = sqrt(-2 log u1)``, ``z[2k] = r cos(2 pi u2)``, ``z[2k+1] = r sin(2 pi u2)``.

* float64 normals: the float64 uniforms, computed in float64 (libm's log, cos, sin);
* float32 normals: the float32 uniforms, computed in float32 by fixed polynomials (:func:`box_muller32`,
  the twin of ``cpp/include/gfo/normal32.hpp``): only +, -, *, sqrt and exact bit operations, so C++, CUDA
  and NumPy give the same bits; within about 3 float32 ulps of the exact value.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

from .._typing import FloatArray, U32Array

M0 = np.uint64(0xD2511F53)
M1 = np.uint64(0xCD9E8D57)
W0 = 0x9E3779B9
W1 = 0xBB67AE85
_MASK32 = np.uint64(0xFFFFFFFF)
_TWO_PI = 6.283185307179586


def stream_id(generation: int, purpose: int) -> int:
    """The stream of a (generation, purpose) pair, as optimizers derive it."""
    return ((int(generation) << 8) | (int(purpose) & 0xFF)) & 0xFFFFFFFFFFFFFFFF


def philox4x32_10(counter: npt.ArrayLike, key: Sequence[int]) -> U32Array:
    """The raw block function: counter (..., 4) uint32 words and key (k0, k1) -> (..., 4) uint32."""
    c = np.asarray(counter, dtype=np.uint64).reshape(-1, 4) & _MASK32
    c0, c1, c2, c3 = (c[:, j].copy() for j in range(4))
    k0, k1 = int(key[0]) & 0xFFFFFFFF, int(key[1]) & 0xFFFFFFFF
    for _ in range(10):
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = (p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0), p1 & _MASK32, (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1), p0 & _MASK32
        k0 = (k0 + W0) & 0xFFFFFFFF
        k1 = (k1 + W1) & 0xFFFFFFFF
    out = np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)
    return out.reshape(np.shape(counter)) if np.ndim(counter) > 1 else out.reshape(4)


def _blocks(seed: int, stream: int, first_block: int, nblocks: int) -> U32Array:
    b = np.arange(first_block, first_block + nblocks, dtype=np.uint64)
    s = int(stream) & 0xFFFFFFFFFFFFFFFF
    ctr = np.empty((nblocks, 4), dtype=np.uint64)
    ctr[:, 0] = b & _MASK32
    ctr[:, 1] = b >> np.uint64(32)
    ctr[:, 2] = s & 0xFFFFFFFF
    ctr[:, 3] = s >> 32
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    return philox4x32_10(ctr, (seed & 0xFFFFFFFF, seed >> 32)).reshape(-1, 4)


def bits(seed: int, stream: int, n: int, offset: int = 0) -> U32Array:
    """Words ``[offset, offset + n)`` of a stream as uint32."""
    if n == 0:
        return np.empty(0, dtype=np.uint32)
    first = offset // 4
    last = (offset + n - 1) // 4
    w = _blocks(seed, stream, first, last - first + 1).reshape(-1)
    start = offset - 4 * first
    words: U32Array = w[start : start + n].copy()
    return words


def uniform(seed: int, stream: int, n: int, dtype: npt.DTypeLike = np.float64, offset: int = 0) -> FloatArray:
    """Uniforms ``[offset, offset + n)`` of a stream in the open interval (0, 1)."""
    dt = np.dtype(dtype)
    if dt == np.float32:
        x = bits(seed, stream, n, offset) >> np.uint32(9)
        u32: FloatArray = (2 * x.astype(np.uint32) + 1).astype(np.float32) * np.float32(2.0**-24)
        return u32
    if dt != np.float64:
        raise TypeError(f"dtype: expected float32 or float64, got {dt}")
    w = bits(seed, stream, 2 * n, 2 * offset).astype(np.uint64).reshape(-1, 2)
    x = ((w[:, 1] << np.uint64(32)) | w[:, 0]) >> np.uint64(12)
    u64: FloatArray = (2 * x + 1).astype(np.float64) * 2.0**-53
    return u64


# Coefficients of normal32.hpp, written as the same float32 hex literals (lowest degree first): log1p(f) =
# f + f^2 (-1/2 + f R(f)), sin(2 pi t) = t S(t^2), cos(2 pi t) = 1 + t^2 C(t^2).
_F32 = np.float32
_LOG_R = [_F32(float.fromhex(h)) for h in ("0x1.555564p-2", "-0x1.00023cp-2", "0x1.99986p-3", "-0x1.54679p-3",
                                            "0x1.236438p-3", "-0x1.0e6826p-3", "0x1.025beap-3", "-0x1.2d3636p-4")]
_LN2_HI, _LN2_LO = _F32(float.fromhex("0x1.62e4p-1")), _F32(float.fromhex("0x1.7f7d1cp-20"))
_SIN = [_F32(float.fromhex(h)) for h in ("0x1.921fb6p+2", "-0x1.4abbecp+5", "0x1.466b22p+6", "-0x1.2f5a1ep+6")]
_COS = [_F32(float.fromhex(h)) for h in ("-0x1.3bd3ccp+4", "0x1.03c1b8p+6", "-0x1.55b7cep+6", "0x1.d684a8p+5")]
_U32 = np.uint32


def _numerator(w: U32Array) -> npt.NDArray[np.int32]:
    """N of the float32 uniform ``N 2**-24`` of each word (odd, below 2**24)."""
    n: npt.NDArray[np.int32] = (((w >> _U32(9)) << _U32(1)) | _U32(1)).astype(np.int32)
    return n


def log_uniform32(u: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """log u in float32 for positive normal float32 u, bit for bit as ``normal32::log_uniform``."""
    b = u.view(np.uint32) + _U32(0x3F800000 - 0x3F3504F3)
    k = ((b >> _U32(23)).astype(np.int32) - np.int32(127)).astype(np.float32)
    f = ((b & _U32(0x007FFFFF)) + _U32(0x3F3504F3)).view(np.float32) - _F32(1)
    a = _LOG_R
    f2 = f * f
    f4 = f2 * f2
    r = ((a[0] + a[1] * f) + f2 * (a[2] + a[3] * f)) + f4 * ((a[4] + a[5] * f) + f2 * (a[6] + a[7] * f))
    p = f + f2 * (_F32(-0.5) + f * r)
    out: npt.NDArray[np.float32] = k * _LN2_HI + (k * _LN2_LO + p)
    return out


def sincos_turn32(n: npt.NDArray[np.int32]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """(sin, cos) of ``2 pi n 2**-24`` in float32 for n in [0, 2**24], bit for bit as ``normal32::sincos_turn``."""
    q = (n + np.int32(1 << 21)) >> np.int32(22)
    t = (n - (q << np.int32(22))).astype(np.float32) * _F32(2.0**-24)
    z = t * t
    z2 = z * z
    sp = t * (_SIN[0] + z * ((_SIN[1] + z * _SIN[2]) + z2 * _SIN[3]))
    cp = _F32(1) + z * ((_COS[0] + z * _COS[1]) + z2 * (_COS[2] + z * _COS[3]))
    odd = (q & 1) == 1
    s, c = np.where(odd, cp, sp), np.where(odd, sp, cp)
    return np.where((q & 2) != 0, -s, s), np.where(((q + 1) & 2) != 0, -c, c)


def box_muller32(w1: U32Array, w2: U32Array) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The float32 normal pairs ``(r cos 2 pi u2, r sin 2 pi u2)`` of word pairs, as ``normal32::box_muller``."""
    u1 = _numerator(w1).astype(np.float32) * _F32(2.0**-24)
    r = np.sqrt(_F32(-2) * log_uniform32(u1))
    s, c = sincos_turn32(_numerator(w2))
    return r * c, r * s


def normal(seed: int, stream: int, n: int, dtype: npt.DTypeLike = np.float64, offset: int = 0) -> FloatArray:
    """Standard normals ``[offset, offset + n)`` of a stream (Box-Muller on uniform pairs)."""
    dt = np.dtype(dtype)
    first_pair = offset // 2
    npairs = (offset + n + 1) // 2 - first_pair
    start = offset - 2 * first_pair
    if dt == np.float32:
        w = bits(seed, stream, 2 * npairs, 2 * first_pair).reshape(-1, 2)
        z32 = np.empty((npairs, 2), dtype=np.float32)
        z32[:, 0], z32[:, 1] = box_muller32(w[:, 0], w[:, 1])
        out32: FloatArray = z32.reshape(-1)[start : start + n].copy()
        return out32
    u = uniform(seed, stream, 2 * npairs, dt, 2 * first_pair).astype(np.float64).reshape(-1, 2)
    r = np.sqrt(-2.0 * np.log(u[:, 0]))
    a = _TWO_PI * u[:, 1]
    z = np.empty((npairs, 2))
    z[:, 0] = r * np.cos(a)
    z[:, 1] = r * np.sin(a)
    return z.reshape(-1)[start : start + n].astype(dt)
