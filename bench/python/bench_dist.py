"""Parallel evaluation: wall time of 1 vs 2 workers (Ray actors, a process pool) on a slow objective.

Usage: ``PYTHONPATH=python python bench/python/bench_dist.py [--quick]``; writes ``bench/results/dist.md``.

The objective sleeps 50 ms per point (a stand-in for a simulation or a training run), so the ideal speedup
of 2 workers over 1 is 2x whatever the machine's load. ``minimize`` runs random search with popsize 20 for
200 evaluations (10 batches), serially and through each executor; times are medians of repeats, with the
workers started and warmed up beforehand (as in a long run, where their start-up is paid once).

Overhead per evaluation = (wall time - evaluations x 50 ms / workers) / evaluations: what each point costs
beyond its sleep (the loop, the optimizer, the executor's round trip, and the sleep's own overshoot on a
busy machine; the serial row shows the part that is not the executor's). A second table measures the
executor's round trip alone, with an objective that returns at once.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parse_args, skip, table, write_results  # noqa: E402

import gfo_native as gn  # noqa: E402

SLEEP_S = 0.05
BOUNDS = [(-5.0, 5.0)] * 4


def sleepy(x):
    time.sleep(SLEEP_S)
    return float(np.sum(x * x))


def instant(x):
    return float(np.sum(x * x))


def wall(fun, n, executor, repeat):
    """Median wall time of minimize over n evaluations, and the result (checked against serial)."""
    times, res = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = gn.minimize(fun, BOUNDS, method="random_search", budget=n, seed=1, options={"popsize": 20},
                          executor=executor)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), res


def main():
    args = parse_args(__doc__.splitlines()[0])
    n, repeat = (60, 1) if args.quick else (200, 3)
    t_serial, ref = wall(sleepy, n, None, repeat)
    t_fast_serial, _ = wall(instant, n, None, repeat)
    rows, trip, speedups = [], [], {}
    rows.append(["serial (no executor)", 1, t_serial, 1.0, "-", f"{1e3 * (t_serial / n - SLEEP_S):.2f}"])

    def record(name, workers, executor, base):
        wall(instant, 20, executor, 1)  # warm-up: workers started, objective shipped
        t, res = wall(sleepy, n, executor, repeat)
        assert np.array_equal(res.x, ref.x) and res.fun == ref.fun, f"{name}: result differs from serial"
        overhead = (t - n * SLEEP_S / workers) / n
        speed = "-" if base is None else f"{base / t:.2f}x"
        rows.append([name, workers, t, t_serial / t, speed, f"{1e3 * overhead:.2f}"])
        t_trip, _ = wall(instant, n, executor, repeat)
        trip.append([name, workers, 1e3 * (t_trip - t_fast_serial) / n])
        return t

    ctx = multiprocessing.get_context("forkserver")  # Ray's threads make fork unsafe later in this process
    base = None
    for workers in (1, 2):
        with cf.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            t = record("ProcessPoolExecutor", workers, pool, base)
        base = t if base is None else base
        if workers == 2:
            speedups["process pool, 2 vs 1 workers"] = base / t

    try:
        import ray
    except ImportError:
        skip("Ray", "not installed (pip install gfo-native[ray])")
    else:
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(Path(gn.__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")])
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        base = None
        for workers in (1, 2):
            with gn.distributed.RayEvaluator(num_workers=workers) as ev:
                t = record("RayEvaluator (actors)", workers, ev, base)
            base = t if base is None else base
            if workers == 2:
                speedups["Ray, 2 vs 1 workers"] = base / t
        ray.shutdown()

    body = (f"Objective: sleeps {1e3 * SLEEP_S:.0f} ms per point; random search, popsize 20, {n} evaluations; "
            f"median of {repeat} run(s); every parallel run returned exactly the serial result.\n\n"
            + table(["executor", "workers", "wall s", "speedup vs serial", "2 vs 1 workers",
                     "overhead ms/eval"], rows)
            + f"\n\n**2 workers vs 1: " + ", ".join(f"{k}: {v:.2f}x" for k, v in speedups.items())
            + "** (target: at least 1.8x; ideal 2x).\n\n"
            "Round trip per evaluation with an objective that returns at once (executor wall time minus the "
            "serial loop's, per point):\n\n"
            + table(["executor", "workers", "ms/eval"], trip)
            + "\n\nNon-vectorized objectives go one point per task, so this round trip is the floor of a parallel "
            "evaluation; for objectives much cheaper than it, pass vectorized=True (each worker gets one chunk "
            "of the batch).\n")
    title = "Distributed evaluation (bench_dist.py" + (" --quick)" if args.quick else ")")
    write_results("dist", title, body, speedups=speedups)


if __name__ == "__main__":
    main()
