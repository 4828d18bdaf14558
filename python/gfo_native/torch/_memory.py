"""Peak memory of a call, counted in bytes allocated rather than in resident pages (for tests and benchmarks).

Resident-set figures (``VmHWM``) depend on glibc's arenas, its mmap threshold (which moves after the first
large free), page reuse and code pages faulted in on a first call, so two runs of the same step differ by
megabytes. The two counters here are exact and the same from run to run:

* ``tensor``: torch's CPU allocator reports every tensor allocation and free to the profiler when it runs
  with ``profile_memory=True`` (also those made in intra-op worker threads); the running sum of those
  events, in time order, peaks at this many bytes above what was allocated on entry.
* ``python``: ``tracemalloc``'s peak over the call: Python objects and NumPy buffers (NumPy registers its
  allocations with tracemalloc).

Neither sees memory that a C++ kernel or a BLAS library takes with ``malloc`` directly (the zo kernels keep
per-thread scratch of a few KiB: ``cpp/src/zo.cpp``).
"""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Peak:
    tensor: int  # peak CPU tensor bytes above those allocated on entry
    python: int  # peak bytes traced by tracemalloc (Python objects, NumPy buffers) during the call
    result: Any = None


def tensor_events(prof: Any) -> list[tuple[int, int]]:
    """(time ns, signed bytes) of the CPU allocator's events recorded by ``prof``, in time order (see
    :func:`in_time_order`)."""
    from torch._C._autograd import DeviceType

    evs = prof.profiler.kineto_results.events()
    return in_time_order([(e.start_ns(), e.nbytes()) for e in evs
                          if e.name() == "[memory]" and e.device_type() == DeviceType.CPU])


def in_time_order(events: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Events sorted by time, allocations before frees at the same nanosecond (two threads can share a time
    stamp): the running sum then never undercounts a peak."""
    return sorted(events, key=lambda e: (e[0], -e[1]))


def running_peak(events: list[tuple[int, int]]) -> int:
    cur = peak = 0
    for _, nb in events:
        cur += nb
        peak = max(peak, cur)
    return peak


def peak_bytes(fn: Callable[[], Any]) -> Peak:
    """Calls ``fn()`` once under the profiler and tracemalloc; returns its peaks and its result."""
    from torch.profiler import ProfilerActivity, profile

    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            # read inside the profiler: its own start and its parsing of the events on exit stay outside
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            result = fn()
            py_peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return Peak(tensor=running_peak(tensor_events(prof)), python=max(py_peak, 0), result=result)
