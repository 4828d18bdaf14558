"""CMA-ES and evolution strategies against pycma, cmaes, plain NumPy and EvoTorch, side by side in one run.

1. Per-generation overhead (ask + tell, objective excluded) at 10, 100 and 1,000 dimensions with default
   population sizes, against pycma (`pip install cma`) and cmaes (`pip install cmaes`).
2. Evaluations to reach f <= 1e-8 on sphere, ellipsoid (condition 1e6) and rosenbrock in 10-D and 40-D,
   median over 11 seeds, against pycma.
3. OpenES and SNES throughput (samples x dimensions per second, objective excluded) at 10^6 dimensions
   against a plain NumPy implementation and, when installed, EvoTorch: single-thread CPU time, and wall clock
   with every core on both sides (NumPy at its defaults; needs threadpoolctl, else NumPy's BLAS stays at one
   thread).

Writes bench/results/es.md. Peers that are missing are skipped with a message.

Flags: --quick (small sizes); --reuse-evals (section 2 from bench/results/es_evals.json, the cached result of
the last full run: evaluation counts do not depend on the machine or its load); --skip-cmaes-1000 (the cmaes
package needs seconds per generation at 1,000-D).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

# One thread for every library, timed in process CPU time: on a shared, loaded machine multi-threaded BLAS and
# OpenMP waits distort wall times beyond use, while single-thread CPU time compares the work itself. With
# threadpoolctl the BLAS keeps its default thread count at start-up and is limited to one thread at run time, so
# that the all-cores column of section 3 can time NumPy at its defaults in the same process (OpenBLAS reads
# OMP_NUM_THREADS too, so neither variable is set then); without it, every library is pinned by the variables.
try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None
for _v in ("MKL_NUM_THREADS",) if threadpoolctl else ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

import gfo_native as gn  # noqa: E402
from gfo_native.optimizers.cmaes import strategy  # noqa: E402

TARGET = 1e-8
EVALS_CACHE = C.RESULTS_DIR / "es_evals.json"

# NumPy's BLAS threads at its defaults (before any limit), then one thread for the CPU-time measurements.
BLAS_DEFAULT = max([i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"] or [1]) \
    if threadpoolctl else 1
if threadpoolctl:
    threadpoolctl.threadpool_limits(1)  # BLAS and OpenMP libraries; gfo_native's threads are set explicitly
gn.set_num_threads(1)


def blas_threads(n):
    """A context running NumPy's BLAS with n threads (a no-op without threadpoolctl: one thread)."""
    return threadpoolctl.threadpool_limits(n, user_api="blas") if threadpoolctl else contextlib.nullcontext()


def sphere(X):
    return np.einsum("ij,ij->i", X, X)


def ellipsoid(X):
    n = X.shape[1]
    w = 1e6 ** (np.arange(n) / (n - 1))
    return (X * X) @ w


def rosenbrock(X):
    return (100.0 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1.0 - X[:, :-1]) ** 2).sum(1)


# ---------------------------------------------------------------------------------------- 1. overhead
def overhead_ours(n, gens):
    opt = gn.CMAES(dim=n, x0=np.ones(n), sigma0=0.5, seed=1)
    t = 0.0
    for _ in range(gens):
        t0 = time.process_time()
        X = opt.ask()
        t += time.process_time() - t0
        f = sphere(X)
        t0 = time.process_time()
        opt.tell(X, f)
        t += time.process_time() - t0
    return t / gens, opt.popsize


def overhead_pycma(n, gens):
    import cma

    es = cma.CMAEvolutionStrategy(np.ones(n), 0.5, {"verbose": -9, "seed": 1})
    t = 0.0
    for _ in range(gens):
        t0 = time.process_time()
        X = es.ask()
        t += time.process_time() - t0
        f = sphere(np.asarray(X)).tolist()
        t0 = time.process_time()
        es.tell(X, f)
        t += time.process_time() - t0
    return t / gens, es.popsize


def overhead_cmaes(n, gens):
    import cmaes

    opt = cmaes.CMA(mean=np.ones(n), sigma=0.5, seed=1)
    t = 0.0
    for _ in range(gens):
        t0 = time.process_time()
        X = np.array([opt.ask() for _ in range(opt.population_size)])
        t += time.process_time() - t0
        f = sphere(X)
        t0 = time.process_time()
        opt.tell(list(zip(X, f)))
        t += time.process_time() - t0
    return t / gens, opt.population_size


def have(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def bench_overhead(quick, skip_cmaes_1000=False):
    # Generations per measurement: whole multiples of our eigendecomposition interval, so that its O(n^3) step
    # is amortized exactly as in a long run; pycma decomposes every few generations, so its average is fair over
    # any long window; cmaes decomposes every generation, a few suffice.
    def gens(n, k):
        return k * math.ceil(strategy(n, 4 + int(3 * math.log(n)), False)["eigen_gap"])

    plan = [(10, gens(10, 100), 300), (100, gens(100, 6), 60), (1000, gens(1000, 1), 4)] if not quick \
        else [(10, gens(10, 30), 90), (100, gens(100, 1), 12)]
    rounds = 3 if not quick else 1
    rows, speed = [], {}
    for n, gens, gens_cmaes in plan:
        ours, theirs, theirs2, lam = [], [], [], None
        for _ in range(rounds):  # interleaved rounds: load changes hit all three alike
            t, lam = overhead_ours(n, gens)
            ours.append(t)
            if have("cma"):
                theirs.append(overhead_pycma(n, min(gens, 120) if n < 1000 else 60)[0])
            if have("cmaes") and not (n == 1000 and skip_cmaes_1000):
                theirs2.append(overhead_cmaes(n, gens_cmaes)[0])
        o = statistics.median(ours)
        p = statistics.median(theirs) if theirs else float("nan")
        c = statistics.median(theirs2) if theirs2 else float("nan")
        rows.append([n, lam, 1e3 * o, 1e3 * p, 1e3 * c, p / o, c / o])
        speed[f"cmaes overhead {n}-D vs pycma"] = p / o
        print(f"overhead n={n}: ours {1e3 * o:.3f} ms, pycma {1e3 * p:.3f} ms, cmaes {1e3 * c:.3f} ms", flush=True)
    if not have("cma"):
        C.skip("pycma", "not installed (pip install cma)")
    if not have("cmaes"):
        C.skip("cmaes", "not installed (pip install cmaes)")
    table = C.table(["dim", "popsize", "gfo_native ms/gen", "pycma ms/gen", "cmaes ms/gen", "pycma / ours",
                     "cmaes / ours"], rows)
    return table, rows, speed


# ---------------------------------------------------------------------------------------- 2. evaluations
PROBLEMS = {"sphere": (sphere, 3.0, 2.0), "ellipsoid": (ellipsoid, 3.0, 2.0), "rosenbrock": (rosenbrock, 0.0, 0.5)}


def evals_ours(f, n, x0, s0, seed, budget):
    opt = gn.CMAES(dim=n, x0=np.full(n, x0), sigma0=s0, seed=seed, target=TARGET)
    while not opt.stop() and opt.nfev < budget:
        X = opt.ask()
        opt.tell(X, f(X))
    return opt.nfev if opt.best_f <= TARGET else np.inf


def evals_pycma(f, n, x0, s0, seed, budget):
    import cma

    es = cma.CMAEvolutionStrategy(np.full(n, x0), s0, {"verbose": -9, "seed": seed + 1, "ftarget": TARGET,
                                                      "maxfevals": budget})
    while not es.stop():
        X = es.ask()
        es.tell(X, f(np.asarray(X)).tolist())
    return es.result.evaluations if es.result.fbest <= TARGET else np.inf


def bench_evaluations(quick, reuse=False):
    seeds = 11 if not quick else 3
    dims = (10, 40) if not quick else (10,)
    if reuse and not quick and EVALS_CACHE.exists():
        cached = json.loads(EVALS_CACHE.read_text())
        rows = cached["rows"]
        print(f"evals: reused {EVALS_CACHE.name} ({cached['run']})", flush=True)
    else:
        rows = []
        for n in dims:
            for name, (f, x0, s0) in PROBLEMS.items():
                budget = 2000 * n * n if name != "sphere" else 200 * n * n
                ours = [evals_ours(f, n, x0, s0, s, budget) for s in range(seeds)]
                theirs = [evals_pycma(f, n, x0, s0, s, budget) for s in range(seeds)] if have("cma") else [np.nan]
                mo, mt = float(np.median(ours)), float(np.median(theirs))
                solved = f"{int(np.sum(np.isfinite(ours)))}/{seeds} vs {int(np.sum(np.isfinite(theirs)))}/{len(theirs)}"
                rows.append([name, n, mo, mt, mo / mt, solved])
                print(f"evals {name} {n}-D: ours {mo:.0f}, pycma {mt:.0f} ({solved} solved)", flush=True)
        if not quick and have("cma"):
            EVALS_CACHE.write_text(json.dumps({"run": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                               "gfo_native": gn.__version__, "rows": rows}, indent=1))
    table = C.table(["function", "dim", "gfo_native evals (median)", "pycma evals (median)", "ours / pycma",
                     "runs solved (ours vs pycma)"], rows)
    return table, rows, seeds


# ---------------------------------------------------------------------------------------- 3. ES throughput
class NumpyOpenES:
    """Textbook OpenAI-ES in NumPy (Salimans et al. 2017), as a competent NumPy user writes it.

    Antithetic float64 Gaussian noise from numpy.random.default_rng, the (n, d) batch materialized, centered
    ranks, the gradient estimate as one BLAS matrix-vector product, Adam on the mean. Every array is allocated
    once and refilled with out= (a fresh 256 MB array per generation would time page faults, not compute).
    """

    def __init__(self, d, n, sigma, lr, seed=0):
        self.d, self.n, self.h, self.sigma, self.lr = d, n, n // 2, sigma, lr
        self.rng = np.random.default_rng(seed)
        self.eps = np.empty((self.h, d))
        self.X = np.empty((n, d))
        self.theta, self.m, self.v = np.zeros(d), np.zeros(d), np.zeros(d)
        self.g, self.tmp = np.empty(d), np.empty(d)
        self.t = 0

    def generation(self, objective=None):
        h, eps, X, theta = self.h, self.eps, self.X, self.theta
        self.rng.standard_normal(out=eps)
        np.multiply(eps, self.sigma, out=X[:h])        # sigma eps
        np.subtract(theta, X[:h], out=X[h:])           # theta - sigma eps
        X[:h] += theta                                 # theta + sigma eps
        f = np.zeros(self.n) if objective is None else objective(X)  # objective excluded from the timing
        ranks = np.empty(self.n)
        ranks[np.argsort(f, kind="stable")] = np.arange(self.n)
        u = ranks / (self.n - 1) - 0.5
        np.dot(u[:h] - u[h:], eps, out=self.g)         # sum_p (u_p+ - u_p-) eps_p
        self.g *= 1.0 / (self.n * self.sigma)
        # Adam (minimization), torch.optim's rule with bias corrections
        self.t += 1
        b1, b2, g, tmp = 0.9, 0.999, self.g, self.tmp
        self.m *= b1
        self.m += (1 - b1) * g
        np.multiply(g, g, out=tmp)
        self.v *= b2
        self.v += (1 - b2) * tmp
        np.divide(self.v, 1 - b2 ** self.t, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += 1e-8
        np.divide(self.m, tmp, out=tmp)
        theta -= (self.lr / (1 - b1 ** self.t)) * tmp


class NumpySNES:
    """Textbook SNES in NumPy (Schaul et al. 2011): float64 noise from default_rng, the (n, d) batch materialized,
    rank utilities, both natural-gradient sums as BLAS products; buffers allocated once (the batch doubles as the
    s^2 buffer once the objective has read it)."""

    def __init__(self, d, n, sigma, seed=0):
        self.n = n
        self.rng = np.random.default_rng(seed)
        w = np.maximum(0.0, np.log(n / 2 + 1) - np.log(np.arange(1, n + 1)))
        self.util, self.eta = w / w.sum() - 1.0 / n, (3 + np.log(d)) / (5 * np.sqrt(d))
        self.S, self.X = np.empty((n, d)), np.empty((n, d))
        self.mu, self.sig = np.zeros(d), np.full(d, sigma)
        self.g1, self.g2 = np.empty(d), np.empty(d)

    def generation(self, objective=None):
        S, X = self.S, self.X
        self.rng.standard_normal(out=S)
        np.multiply(S, self.sig, out=X)
        X += self.mu
        f = np.zeros(self.n) if objective is None else objective(X)  # objective excluded from the timing
        u = np.empty(self.n)
        u[np.argsort(f, kind="stable")] = self.util
        np.dot(u, S, out=self.g1)                      # sum_k u_k s_k
        np.square(S, out=X)                            # the batch is no longer needed
        np.dot(u, X, out=self.g2)
        self.g2 -= u.sum()                             # sum_k u_k (s_k^2 - 1)
        self.g1 *= self.sig
        self.mu += self.g1
        self.g2 *= 0.5 * self.eta
        self.sig *= np.exp(self.g2, out=self.g2)


def ours_generation(opt, low_memory, buf, full=None):
    if low_memory:
        b = opt.ask_seeds()
        f = np.zeros(b.popsize)
        for start in range(0, b.popsize, buf.shape[0]):
            stop = min(start + buf.shape[0], b.popsize)
            opt.expand(start, stop, out=buf[: stop - start])
        opt.tell_seeds(f)
    else:
        X = opt.ask(out=full)  # one buffer reused across generations
        opt.tell(X, np.zeros(len(X)))


def median_times(fns, reps, clock=time.process_time):
    """Median time of each function by `clock` (CPU time by default; time.perf_counter for wall time), the
    repeats interleaved so that load changes hit all of them alike."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(reps):
        for fn, t in zip(fns, times):
            t0 = clock()
            fn()
            t.append(clock() - t0)
    return [statistics.median(t) for t in times]


TABLE = 2**25  # entries of the shared noise table (128 MB of float32)


def bench_throughput(quick):
    d = 10**6 if not quick else 10**5
    reps = 7 if not quick else 1
    threads = os.cpu_count() or 1
    src = np.ones((256 << 20) // 8 if not quick else (16 << 20) // 8)
    dst = np.empty_like(src)
    (t_copy,) = median_times([lambda: np.copyto(dst, src)], 5)
    bw = 2 * src.nbytes / t_copy  # copy bandwidth (read + write bytes) in CPU time, as the columns it bounds
    del src, dst
    rows, speed, notes = [], {}, []
    cases = [("openes", None), ("openes", TABLE), ("snes", None), ("snes", TABLE)]
    for algo, table in cases:
        n = 32 if algo == "openes" else gn.SNES.default_popsize(d)
        buf = np.empty((4, d))
        if algo == "openes":
            opt = gn.OpenES(dim=d, sigma0=0.05, lr=0.01, popsize=n, seed=0, noise_table=table)
            base = NumpyOpenES(d, n, 0.05, 0.01).generation
            rows_read = n // 2  # noise rows: the members of sign + (antithetic)
        else:
            opt = gn.SNES(dim=d, sigma0=0.05, popsize=n, seed=0, noise_table=table)
            base = NumpySNES(d, n, 0.05).generation
            rows_read = n
        # memory bound of ask/tell: the float64 batch written once, plus tell reading back the rows of sign + (Philox)
        # or ask and tell each reading the float32 table rows
        nbytes = (n * 8 + (rows_read * 8 if table is None else 2 * rows_read * 4)) * d
        if table is not None:
            t0 = time.process_time()
            opt._noise()  # the table is drawn once, on first use: timed apart from the generations
            notes.append(f"{algo}: drawing the {table}-entry noise table took {1e3 * (time.process_time() - t0):.0f} ms "
                         "once")
        full = np.empty((n, d))
        t_np, t_full, t_low = median_times([base, lambda: ours_generation(opt, False, buf, full),
                                         lambda: ours_generation(opt, True, buf)], reps)
        # Every core on both sides, wall clock: NumPy at its defaults (BLAS with all its threads; its generator is
        # single-threaded by design) and ours with all threads. Each side is its own block of repeats, not
        # interleaved: idle BLAS worker threads spin for a while after a call and would take a core from our
        # repeats; the pause lets them sleep before the next single-thread CPU timing (which counts every thread).
        gn.set_num_threads(threads)
        try:
            (t_wall,) = median_times([lambda: ours_generation(opt, False, buf, full)], reps, time.perf_counter)
        finally:
            gn.set_num_threads(1)
        with blas_threads(BLAS_DEFAULT):
            (t_np_wall,) = median_times([base], reps, time.perf_counter)
        time.sleep(0.5)
        work = n * d
        roof = work / (nbytes / bw)
        noise = "Philox" if table is None else f"table 2^{int(math.log2(table))}"
        rows.append([algo, noise, d, n, work / t_np / 1e6, work / t_full / 1e6, work / t_low / 1e6, t_np / t_full,
                     t_np / t_low, work / t_np_wall / 1e6, work / t_wall / 1e6, t_np_wall / t_wall, roof / 1e6])
        key = "" if table is None else ", noise table"
        speed[f"{algo} throughput 1e6-D vs NumPy (ask/tell{key})"] = t_np / t_full
        speed[f"{algo} throughput 1e6-D vs NumPy (low_memory{key})"] = t_np / t_low
        speed[f"{algo} throughput 1e6-D vs NumPy (ask/tell{key}, all cores, wall)"] = t_np_wall / t_wall
        print(f"{algo} ({noise}): one thread (CPU time): numpy {work / t_np / 1e6:.1f} M/s, ours ask/tell "
              f"{work / t_full / 1e6:.1f} M/s ({t_np / t_full:.1f}x), ours low-memory {work / t_low / 1e6:.1f} M/s; "
              f"all {threads} cores (wall): numpy {work / t_np_wall / 1e6:.1f} M/s, ours ask/tell "
              f"{work / t_wall / 1e6:.1f} M/s ({t_np_wall / t_wall:.1f}x); memory bound {roof / 1e6:.0f} M/s",
              flush=True)
    try:
        import evotorch  # noqa: F401
        evo = "EvoTorch is installed but not benchmarked here yet."
    except Exception as e:  # noqa: BLE001 - any import failure means: skip
        evo = f"EvoTorch: skipped ({type(e).__name__}: not installed; it requires ray and gymnasium and may pull " \
              "a newer torch, so it is not installed by this benchmark)."
        C.skip("evotorch", evo)
    table = C.table(["algorithm", "noise", "dim", "popsize", "NumPy M samples*dims/s", "gfo_native ask/tell M/s",
                     "gfo_native low-memory M/s", "ask/tell / NumPy", "low-memory / NumPy",
                     f"NumPy {threads} cores, wall M/s", f"gfo_native ask/tell {threads} threads, wall M/s",
                     "ask/tell / NumPy, all cores (wall)", "ask/tell memory bound M/s"], rows)
    notes.append(f"memory copy bandwidth {bw / 1e9:.1f} GB/s (read + write bytes, one thread, CPU time)")
    notes.append(f"NumPy's BLAS ran with {BLAS_DEFAULT if threadpoolctl else 1} thread(s) in the all-cores columns "
                 + ("(its default)" if threadpoolctl else "(threadpoolctl is not installed: pinned to one)"))
    return table, rows, speed, evo + "\n\n" + "; ".join(notes) + "."


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    p.add_argument("--reuse-evals", action="store_true", help="section 2 from the cached es_evals.json")
    p.add_argument("--skip-cmaes-1000", action="store_true", help="no cmaes package at 1,000-D")
    return p.parse_args()


def main():
    args = parse_args()
    t_over, r_over, s1 = bench_overhead(args.quick, args.skip_cmaes_1000)
    t_eval, r_eval, seeds = bench_evaluations(args.quick, args.reuse_evals)
    t_thr, r_thr, s2, evo = bench_throughput(args.quick)
    lines = []
    for r in r_over:
        need = 5.0 if r[0] < 1000 else 2.0
        lines.append(f"- overhead {r[0]}-D: {r[5]:.1f}x lower than pycma (target >= {need:g}x): "
                     f"{'met' if r[5] >= need else 'SHORT'}")
    for r in r_eval:
        lines.append(f"- evaluations {r[0]} {r[1]}-D: ours/pycma = {r[4]:.2f} (target <= 1.10): "
                     f"{'met' if r[4] <= 1.10 else 'SHORT'}")
    for r in r_thr:
        if r[0] == "openes":
            cpu, wall = max(r[7], r[8]), r[11]
            lines.append(f"- OpenES 1e6-D throughput ({r[1]} noise), target >= 10x NumPy: single-thread CPU time "
                         f"{r[7]:.1f}x with ask/tell, {r[8]:.1f}x low-memory: {'met' if cpu >= 10 else 'SHORT'}; "
                         f"wall clock with every core on both sides ({os.cpu_count()} cores, NumPy at its defaults) "
                         f"{wall:.1f}x with ask/tell: {'met' if wall >= 10 else 'SHORT'}")
    body = (
        "All timings single-threaded (BLAS and OpenMP threads = 1) in process CPU time, the machine being shared "
        "and loaded, except the all-cores columns of the ES throughput table.\n\nPer-generation overhead: CPU time "
        "of ask + tell on the sphere (objective excluded), default population, x0 = 1, sigma0 = 0.5, median of 3 interleaved rounds; each round averages over a whole number of our "
        "eigendecomposition intervals.\n\n"
        + t_over + "\n\n"
        f"Evaluations to f <= 1e-8, median over {seeds} seeds (x0 = 3, sigma0 = 2; rosenbrock x0 = 0, sigma0 = 0.5; "
        "same start for both; an unsolved run counts as infinite in the median).\n\n" + t_eval + "\n\n"
        "ES throughput at 10^6 dimensions: (popsize x dim) / CPU time of one generation, objective excluded "
        "(zero fitness), one thread, both sides in this process, median of 7 interleaved generations after a warm-up. "
        "NumPy: the textbook implementations (OpenES: Salimans et al. 2017, antithetic float64 noise from "
        "numpy.random.default_rng, the (n, d) batch materialized, centered ranks, the gradient as one BLAS product, "
        "Adam; SNES: Schaul et al. 2011), every array allocated once and refilled with out=, so that they time "
        "compute and not page faults. Ask/tell: ask(out=buf) with one (popsize, d) buffer reused across "
        "generations, tell reads the noise back from the batch. Low-memory: ask_seeds + expand in chunks of 4 rows + "
        "tell_seeds (the noise drawn once in expand and once in tell_seeds). Noise 'Philox': the default, float32 "
        "Philox normals widened to float64; 'table 2^25': the shared noise table of Salimans et al. (2017), "
        "noise_table=2**25 (float32, a row = a slice at a random offset), an opt-in mapping. The memory bound is "
        "the batch written once plus the noise rows read (tell reading the batch's rows of sign + back, or ask and tell reading the table), at the copy "
        "bandwidth of one thread (CPU time). The all-cores columns are wall clock with every core on both sides, "
        "median of 7 generations each (each side its own block, ours first): NumPy at its defaults (its BLAS with all its threads; numpy.random's generator is "
        "single-threaded by design) and our ask/tell with every thread; they are the only wall-clock figures here, "
        "so a loaded machine shows most in them.\n\n"
        + t_thr + "\n\n" + evo + "\n\nTargets of the issue:\n\n" + "\n".join(lines)
    )
    C.write_results("es", "CMA-ES and evolution strategies (bench_es.py)", body, speedups={**s1, **s2})


if __name__ == "__main__":
    main()
