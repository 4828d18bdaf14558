from __future__ import annotations

import importlib
import time

# Section modules in the order they are shown (python/gfo_native/demo/<name>.py).
SECTIONS = ["functions", "population", "grad", "bo", "distributed", "es", "zo"]


class Skip(Exception):
    """Raised by a section that cannot run here (the message says why)."""


def run_demo(quick: bool = False, only: list[str] | None = None) -> int:
    from .._info import build_info

    unknown = sorted(set(only or ()) - set(SECTIONS))
    if unknown:
        raise ValueError(f"only: unknown demo sections {unknown}; expected some of {SECTIONS}")
    info = build_info()
    print(f"gfo_native {info['version']}  simd={info['simd']}  openmp={info['openmp']}  "
          f"threads={info['max_threads']}  cuda={info['cuda']}\n")
    summary = []
    t_all = time.perf_counter()
    for name in SECTIONS:
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"{__package__}.{name}")
            print(module.run(quick))
            status = "ok"
        except (Skip, ImportError) as e:
            status = f"skipped: {e}"
            print(f"[{name}] {status}\n")
        summary.append((name, status, time.perf_counter() - t0))
    print("Summary")
    for name, status, dt in summary:
        print(f"  {name:<12} {status:<50} {dt:6.1f} s")
    print(f"  total {time.perf_counter() - t_all:.1f} s")
    return 0
