"""Benchmark objectives and the Philox generator: native vs the NumPy reference vs plain NumPy, one run.

Usage: ``PYTHONPATH=python python bench/python/bench_functions.py [--quick]``; writes
``bench/results/functions.md``. All figures are medians of repeats measured side by side in this
process, so the ratios hold even when the machine is shared (absolute times move with the load).

Columns: ``native 2t`` / ``native 1t`` run ``gfo_native.functions`` with 2 and 1 OpenMP threads;
``reference`` is ``gfo_native.reference.functions`` (the NumPy specification, float64, single
threaded); ``plain NumPy`` is the one-liner a user would write (in the input's own dtype, no copy).
The roofline column is the time to stream the input once at the memory roofline measured in the run
(``gfo_native.roofline``, every thread);
``ref/native 1t CPU`` compares thread CPU times (one thread), which a busy machine does not distort.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parse_args, roofline, roofline_note, skip, table, timeit, write_results  # noqa: E402

import gfo_native as gn  # noqa: E402
from gfo_native import functions as F  # noqa: E402
from gfo_native.reference import functions as R  # noqa: E402
from gfo_native.reference import rng as ref_rng  # noqa: E402


def _ellipsoid(X):
    d = X.shape[1]
    return (X**2 * 10 ** (6 * np.arange(d) / (d - 1))).sum(axis=1)


def _levy(X):
    w = 1 + (X - 1) / 4
    return (np.sin(np.pi * w[:, 0]) ** 2
            + ((w[:, :-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:, :-1] + 1) ** 2)).sum(axis=1)
            + (w[:, -1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[:, -1]) ** 2))


# What a user writes without this package: vectorised NumPy in the input's dtype.
PLAIN = {
    "sphere": lambda X: (X**2).sum(axis=1),
    "ellipsoid": _ellipsoid,
    "rastrigin": lambda X: 10 * X.shape[1] + (X**2 - 10 * np.cos(2 * np.pi * X)).sum(axis=1),
    "rosenbrock": lambda X: (100 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1 - X[:, :-1]) ** 2).sum(axis=1),
    "ackley": lambda X: (-20 * np.exp(-0.2 * np.sqrt((X**2).mean(axis=1)))
                         - np.exp(np.cos(2 * np.pi * X).mean(axis=1)) + 20 + np.e),
    "griewank": lambda X: 1 + (X**2).sum(axis=1) / 4000 - np.prod(np.cos(X / np.sqrt(np.arange(1, X.shape[1] + 1))), axis=1),
    "schwefel": lambda X: 418.9828872724338 * X.shape[1] - (X * np.sin(np.sqrt(np.abs(X)))).sum(axis=1),
    "levy": _levy,
    "styblinski_tang": lambda X: 0.5 * (X**4 - 16 * X**2 + 5 * X).sum(axis=1),
}

FLOAT32 = ("sphere", "rastrigin", "rosenbrock", "ackley")


def cpu_time(fn, repeat):
    """Median CPU time of the calling thread: with one OpenMP thread the kernel runs on it, so this
    ratio holds even when other processes share the cores (wall-clock ratios then move with the load)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
    return statistics.median(times)


def with_threads(n, fn):
    def run():
        gn.set_num_threads(n)
        return fn()
    return run


def bench_functions(n, d, repeat, bw):
    rows, speedups, cpu_speedups, cases_speedup = [], [], [], {}
    gen = np.random.default_rng(0)  # benchmark inputs only
    cases = [(name, np.float64) for name in F.FUNCTIONS] + [(name, np.float32) for name in FLOAT32]
    for name, dtype in cases:
        lo, hi = F.DOMAINS[name]
        X = gen.uniform(lo, hi, size=(n, d)).astype(dtype)
        native, ref, plain = F.FUNCTIONS[name], getattr(R, name), PLAIN[name]
        # agreement, so a fast wrong kernel cannot pass unnoticed
        a, b = native(X), ref(X)
        err = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0)))
        t2 = timeit(with_threads(2, lambda: native(X)), repeat=repeat)
        t1 = timeit(with_threads(1, lambda: native(X)), repeat=repeat)
        tr = timeit(lambda: ref(X), repeat=max(3, repeat // 2), warmup=1)
        tp = timeit(lambda: plain(X), repeat=max(3, repeat // 2), warmup=1)
        c1 = cpu_time(with_threads(1, lambda: native(X)), repeat)
        cr = cpu_time(lambda: ref(X), max(3, repeat // 2))
        roof = X.nbytes / bw
        if dtype == np.float64:
            speedups.append(tr / t2)
            cpu_speedups.append(cr / c1)
        cases_speedup[f"{name} {np.dtype(dtype).name} vs reference"] = tr / t2
        cases_speedup[f"{name} {np.dtype(dtype).name} vs plain NumPy"] = tp / t2
        rows.append([name, np.dtype(dtype).name, t2 * 1e3, t1 * 1e3, tr * 1e3, tp * 1e3, roof * 1e3,
                     tr / t2, tr / t1, cr / c1, tp / t2, t1 / t2, f"{err:.1e}"])
        print(f"{name:16s} {np.dtype(dtype).name}: native {t2 * 1e3:7.2f} ms (1t {t1 * 1e3:7.2f}) "
              f"reference {tr * 1e3:7.1f} ms plain {tp * 1e3:7.1f} ms -> x{tr / t2:.1f}", flush=True)
    gmean = math.exp(sum(math.log(s) for s in speedups) / len(speedups))
    gmean_cpu = math.exp(sum(math.log(s) for s in cpu_speedups) / len(cpu_speedups))
    headers = ["function", "dtype", "native 2t ms", "native 1t ms", "reference ms", "plain NumPy ms",
               "roofline ms", "ref/native 2t", "ref/native 1t", "ref/native 1t CPU", "plain/native 2t", "1t/2t", "max rel err"]
    return table(headers, rows), (gmean, gmean_cpu), cases_speedup


def bench_rng(n, repeat):
    seed, stream = 1234, 5
    peers = {}
    try:
        philox = np.random.Generator(np.random.Philox(seed))  # NumPy's own Philox, stateful, one thread
        peers["NumPy Generator(Philox)"] = {
            ("uniform", np.float64): lambda: philox.random(n),
            ("uniform", np.float32): lambda: philox.random(n, dtype=np.float32),
            ("normal", np.float64): lambda: philox.standard_normal(n),
            ("normal", np.float32): lambda: philox.standard_normal(n, dtype=np.float32),
        }
    except AttributeError:
        skip("NumPy Philox", "numpy.random.Philox not available")
    rows = []
    for kind in ("uniform", "normal"):
        for dtype in (np.float64, np.float32):
            nat = getattr(gn.rng, kind)
            ref = getattr(ref_rng, kind)
            t2 = timeit(with_threads(2, lambda: nat(seed, stream, n, dtype)), repeat=repeat)
            t1 = timeit(with_threads(1, lambda: nat(seed, stream, n, dtype)), repeat=repeat)
            tr = timeit(lambda: ref(seed, stream, n, dtype), repeat=max(3, repeat // 3), warmup=1)
            row = [kind, np.dtype(dtype).name, n / t2 / 1e6, n / t1 / 1e6, n / tr / 1e6, tr / t2]
            for peer in peers.values():
                tp = timeit(peer[(kind, dtype)], repeat=repeat)
                row += [n / tp / 1e6, tp / t2]
            rows.append(row)
            print(f"rng {kind} {np.dtype(dtype).name}: native {n / t2 / 1e6:.0f} M/s, reference {n / tr / 1e6:.1f} M/s",
                  flush=True)
    t2 = timeit(with_threads(2, lambda: gn.rng.bits(seed, stream, n)), repeat=repeat)
    t1 = timeit(with_threads(1, lambda: gn.rng.bits(seed, stream, n)), repeat=repeat)
    tr = timeit(lambda: ref_rng.bits(seed, stream, n), repeat=max(3, repeat // 3), warmup=1)
    rows.append(["bits", "uint32", n / t2 / 1e6, n / t1 / 1e6, n / tr / 1e6, tr / t2] + ["-", "-"] * len(peers))
    headers = ["draws", "dtype", "native 2t M/s", "native 1t M/s", "reference M/s", "ref time / native 2t"]
    for name in peers:
        headers += [f"{name} M/s", f"{name} time / native 2t"]
    return table(headers, rows)


def main():
    args = parse_args(__doc__.splitlines()[0])
    n, d, repeat, nrng = (10_000, 100, 3, 1 << 18) if args.quick else (100_000, 100, 11, 1 << 22)
    before = gn.get_num_threads()
    try:
        roof = roofline(64 << 20 if args.quick else 256 << 20)
        bw = roof.best
        ftable, (gmean, gmean_cpu), cases_speedup = bench_functions(n, d, repeat, bw)
        rtable = bench_rng(nrng, repeat)
    finally:
        gn.set_num_threads(before)
    body = (f"Objectives on a {n:,} x {d} matrix drawn uniformly from each function's usual domain; "
            f"times are medians (ms). {roofline_note(roof)}\n\n"
            f"**Geometric mean speedup, native (2 threads) over the NumPy reference, float64: "
            f"{gmean:.2f}x** (target: at least 5x). Single thread, CPU time: {gmean_cpu:.2f}x.\n\n{ftable}\n\n"
            f"float32 inputs: native and reference evaluate in float64 and round once; plain NumPy computes in float32.\n\n"
            f"### Philox4x32-10 throughput ({nrng:,} draws, million draws per second)\n\n{rtable}\n\n"
            "The native and reference streams are identical (same seed, stream, index); NumPy's own Philox is a "
            "stateful single-threaded generator with a different mapping to floats, shown for scale.\n")
    title = "Benchmark functions and Philox (bench_functions.py" + (" --quick)" if args.quick else ")")
    write_results("functions", title, body, speedups=cases_speedup)


if __name__ == "__main__":
    main()
