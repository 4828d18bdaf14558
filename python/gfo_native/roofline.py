"""The memory roofline: how many bytes per second this machine's memory moves, measured with every thread.

A fused step or a zeroth-order pass streams its arrays once, so its ideal time is bytes / bandwidth. The
bandwidth that bounds it is that of a kernel with the same access pattern on the same threads: a one-thread
``np.copyto`` understates it (on a two-core machine here by about half, so fused steps seemed to run at
1.8x "the copy bandwidth"). :func:`memory_bandwidth` measures two STREAM-style kernels (McCalpin 1995),
split over the OpenMP threads as the package's own kernels are:

* ``copy``: ``dst[i] = src[i]`` (read one array, write another);
* ``inplace``: ``a[i] = s * a[i]`` (read and write one array: the pattern of the optimizer steps and the
  zeroth-order passes, which never write-allocate a second array).

Both count the bytes read plus the bytes written. ``best`` (the larger) is the roofline the benchmarks
report fractions of.
"""

from __future__ import annotations

import time
from typing import Any, Callable, NamedTuple, Optional

import numpy as np
import numpy.typing as npt

from . import _info
from ._backend import Backend
from ._checks import finite_float, positive_int

__all__ = ["Bandwidth", "memory_bandwidth", "stream_copy", "stream_scale"]


def _array(a: object, name: str, writeable: bool = False) -> npt.NDArray[Any]:
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected a float32 or float64 NumPy array, got "
                        f"{getattr(a, 'dtype', type(a).__name__)}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name}: expected a C-contiguous array (use np.ascontiguousarray)")
    if writeable and not a.flags.writeable:
        raise ValueError(f"{name}: array is read-only")
    return a


def stream_copy(src: npt.NDArray[Any], dst: npt.NDArray[Any], impl: str = "native") -> None:
    """``dst[i] = src[i]`` over all elements in memory order (shapes may differ, sizes not), on every thread
    (``impl="reference"``: the NumPy twin).

    Raises:
        TypeError: an array is not float32/float64, or the dtypes differ.
        ValueError: not C-contiguous, ``dst`` read-only, or the sizes differ.
    """
    _array(src, "src")
    _array(dst, "dst", writeable=True)
    if dst.dtype != src.dtype:
        raise TypeError(f"dst: expected the dtype of src ({src.dtype}), got {dst.dtype}")
    if dst.size != src.size:
        raise ValueError(f"dst: expected the size of src ({src.size}), got {dst.size}")
    Backend(impl, "stream").copy(src, dst)


def stream_scale(a: npt.NDArray[Any], s: float, impl: str = "native") -> None:
    """``a[i] = s * a[i]`` in place, one rounding in ``a``'s dtype, on every thread.

    Raises:
        TypeError: ``a`` is not a float32/float64 array, or ``s`` not a real number.
        ValueError: ``a`` is not C-contiguous or is read-only, or ``s`` is not finite.
    """
    Backend(impl, "stream").scale(_array(a, "a", writeable=True), finite_float(s, "s"))


class Bandwidth(NamedTuple):
    """Bytes per second, read plus written, of the two kernels on ``threads`` threads."""

    copy: float
    inplace: float
    threads: int

    @property
    def best(self) -> float:
        """The larger of the two: the roofline benchmarks report fractions of."""
        return max(self.copy, self.inplace)


def _seconds(fn: Callable[[], None], repeat: int, statistic: str) -> float:
    fn()  # first touch and warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) if statistic == "median" else min(times)


def memory_bandwidth(nbytes: int = 256 << 20, repeat: int = 11, threads: Optional[int] = None,
                     statistic: str = "median") -> Bandwidth:
    """Measure the copy and in-place bandwidths on arrays of ``nbytes`` each (far above the caches).

    Args:
        nbytes: bytes of each array (float64 elements); default 256 MiB.
        repeat: timed calls per kernel after one warm-up call.
        threads: OpenMP threads (default: the package's current setting, restored afterwards).
        statistic: "median" (default) or "min" (the best repeat: the figure when the machine is quiet).

    Returns:
        :class:`Bandwidth` in bytes per second.

    Raises:
        TypeError, ValueError: a bad argument (the message names it).
    """
    n = positive_int(nbytes, "nbytes") // 8
    if n == 0:
        raise ValueError("nbytes: expected at least 8")
    repeat = positive_int(repeat, "repeat")
    if statistic not in ("median", "min"):
        raise ValueError(f"statistic: expected 'median' or 'min', got {statistic!r}")
    before = _info.get_num_threads()
    nthreads = before if threads is None else positive_int(threads, "threads")
    a, b = np.ones(n), np.empty(n)
    _info.set_num_threads(nthreads)
    try:
        copy = 2 * a.nbytes / _seconds(lambda: stream_copy(a, b), repeat, statistic)
        inplace = 2 * a.nbytes / _seconds(lambda: stream_scale(a, 1.0), repeat, statistic)
    finally:
        _info.set_num_threads(before)
    return Bandwidth(copy, inplace, nthreads)
