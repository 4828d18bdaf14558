"""Demo: a slow objective over a process pool (same result as serial), and a run resumed from its checkpoint."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import tempfile
import time
from typing import Any, Tuple

import numpy as np

from .. import minimize
from ..optimizers.result import OptimizeResult

SLEEP_S = 0.02
BOUNDS = [(-5.0, 5.0)] * 4


def slow_sphere(x: np.ndarray) -> float:
    """Stands for an expensive simulation: the time is spent waiting, as in a remote call or a solver."""
    time.sleep(SLEEP_S)
    return float(np.sum(x * x))


def _timed(**kw: Any) -> Tuple[float, OptimizeResult]:
    t0 = time.perf_counter()
    res = minimize(slow_sphere, BOUNDS, method="random_search", seed=0, options={"popsize": 10}, **kw)
    return time.perf_counter() - t0, res


def run(quick: bool) -> str:
    n = 40 if quick else 100
    lines = [f"Parallel evaluation: {n} points of an objective that takes {1e3 * SLEEP_S:.0f} ms each",
             f"{'executor':<28}{'wall s':>8}{'speedup':>9}  same result as serial"]
    t1, ref = _timed(budget=n)
    lines.append(f"{'serial':<28}{t1:>8.2f}{1.0:>8.2f}x  -")
    ctx = multiprocessing.get_context("forkserver")  # not fork: this process may hold OpenMP/torch threads
    ctx.set_forkserver_preload([__name__])  # the server imports the package once; workers fork from it

    def factory() -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(2, mp_context=ctx)

    with factory() as pool:
        minimize(slow_sphere, BOUNDS, method="random_search", budget=10, options={"popsize": 10}, executor=pool)
        t2, res = _timed(budget=n, executor=pool)
    same = np.array_equal(res.x, ref.x) and res.fun == ref.fun
    lines.append(f"{'ProcessPoolExecutor(2)':<28}{t2:>8.2f}{t1 / t2:>8.2f}x  {same}")

    with tempfile.TemporaryDirectory() as tmp:
        ck = os.path.join(tmp, "run.ckpt")
        # A run stopped halfway (standing for a killed driver), then the same call with resume=True.
        minimize(slow_sphere, BOUNDS, method="random_search", seed=0, options={"popsize": 10}, budget=n // 2,
                 checkpoint=ck)
        _, resumed = _timed(budget=n, executor=factory, checkpoint=ck, resume=True)
    same = np.array_equal(resumed.x, ref.x) and np.array_equal(resumed.history["fun"], ref.history["fun"])
    lines.append(f"Checkpoint after {n // 2} evaluations, resumed to {resumed.nfev}: bit-identical to the "
                 f"uninterrupted run: {same}")
    lines.append("Same call on a Ray cluster: executor=gfo_native.distributed.RayEvaluator(address='auto')")
    return "\n".join(lines) + "\n"
