"""Bayesian optimization against the libraries users pick for expensive objectives.

Two comparisons:

1. **Best value after 20 / 40 / 80 evaluations** on Branin (2-D), Hartmann-6 and Ackley-5 (on
   [-32.768, 32.768]^5), median (and quartiles) over seeds, for gfo_native's ``bo`` against Optuna's TPE
   and GP samplers, scikit-optimize's ``gp_minimize`` and bayesian-optimization, each with its defaults.
   Each run goes to 80 evaluations once and is read at 20 and 40 (every method's first k points do not
   depend on the budget).
2. **Time per suggestion** with 50 and 300 observations already made (Hartmann-6, observations at
   Philox-uniform points): median of 3 consecutive suggestions, each including the surrogate's refit,
   measured side by side in one process.

Peers that are not installed are skipped with a message. Runs are cached in ``bench/results/bo_runs.json``
(keyed by method, problem, seed), so a long comparison can be completed in several invocations; the report
is rebuilt from the cache each time.

    python bench/python/bench_bo.py [--quick] [--seeds 10] [--methods gfo_native,optuna_tpe,...] [--no-timing]
        [--no-runs] [--timing-methods gfo_native,optuna_gp,...]

The regret runs do not depend on machine load, and all 10 seeds of every method are cached; a timing-only
rerun (a few minutes on a quiet machine; scikit-optimize's timing, minutes by itself, keeps its cached
figure, marked as such):

    python bench/python/bench_bo.py --no-runs --timing-methods gfo_native,optuna_gp,optuna_tpe,bayes_opt

Each run's values are written to the cache as soon as it ends (re-reading the file first), so peers can be
run in separate processes one after another; ``BO_RUNS_CACHE`` points the script at another cache file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import gfo_native as gn  # noqa: E402
from gfo_native.problems import PROBLEMS  # noqa: E402

BUDGETS = (20, 40, 80)
CACHE = Path(os.environ.get("BO_RUNS_CACHE", _common.RESULTS_DIR / "bo_runs.json"))
METHODS = ["gfo_native", "optuna_tpe", "optuna_gp", "skopt_gp", "bayes_opt"]


# ---------------------------------------------------------------- one run per method: values in evaluation order
def run_ours(f, bounds, budget, seed):
    opt = gn.BayesianOptimization(bounds, seed=seed)
    ys = []
    while opt.nfev < budget:
        X = opt.ask()
        y = f(X)
        opt.tell(X, y)
        ys.extend(y.tolist())
    return ys


def _optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def run_optuna(sampler_name):
    def run(f, bounds, budget, seed):
        optuna = _optuna()
        sampler = getattr(optuna.samplers, sampler_name)(seed=seed)
        study = optuna.create_study(sampler=sampler)
        study.optimize(lambda t: float(f(np.array([[t.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in
                                                     enumerate(bounds)]]))[0]), n_trials=budget)
        return [t.value for t in study.trials]
    return run


def run_skopt(f, bounds, budget, seed):
    from skopt import gp_minimize

    res = gp_minimize(lambda x: float(f(np.array([x]))[0]), [tuple(b) for b in bounds], n_calls=budget,
                      random_state=seed)
    return list(map(float, res.func_vals))


def run_bayes_opt(f, bounds, budget, seed):
    from bayes_opt import BayesianOptimization

    names = [f"x{i}" for i in range(len(bounds))]
    opt = BayesianOptimization(f=lambda **kw: -float(f(np.array([[kw[n] for n in names]]))[0]),
                               pbounds={n: tuple(b) for n, b in zip(names, bounds)}, random_state=seed, verbose=0)
    opt.maximize(init_points=5, n_iter=budget - 5)
    return [-r["target"] for r in opt.res]


RUNNERS = {"gfo_native": run_ours, "optuna_tpe": run_optuna("TPESampler"), "optuna_gp": run_optuna("GPSampler"),
           "skopt_gp": run_skopt, "bayes_opt": run_bayes_opt}
MODULES = {"optuna_tpe": "optuna", "optuna_gp": "optuna", "skopt_gp": "skopt", "bayes_opt": "bayes_opt"}


def available(method: str) -> bool:
    mod = MODULES.get(method)
    if mod is None:
        return True
    try:
        __import__(mod)
        if method == "optuna_gp":
            import torch  # noqa: F401  (Optuna's GP sampler runs on torch)
    except ImportError as e:
        _common.skip(method, f"not installed ({e})")
        return False
    return True


# ---------------------------------------------------------------- time per suggestion
def observations(n: int, dim: int, seed: int = 11):
    U = gn.rng.uniform(seed, 0, n * dim).reshape(n, dim)
    return U, PROBLEMS["hartmann6"][0](U)


def time_ours(U, y):
    opt = gn.BayesianOptimization([(0.0, 1.0)] * U.shape[1], seed=0, n_initial=1)
    opt.state.X, opt.state.y = np.ascontiguousarray(U), y.copy()
    opt.generation, opt.nfev = len(y), len(y)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        X = opt.ask()
        times.append(time.perf_counter() - t0)
        opt.tell(X, PROBLEMS["hartmann6"][0](X))
    return times


def time_optuna(sampler_name):
    def timer(U, y):
        optuna = _optuna()
        dists = {f"x{i}": optuna.distributions.FloatDistribution(0.0, 1.0) for i in range(U.shape[1])}
        study = optuna.create_study(sampler=getattr(optuna.samplers, sampler_name)(seed=0))
        for u, v in zip(U, y):
            study.add_trial(optuna.trial.create_trial(params={f"x{i}": float(x) for i, x in enumerate(u)},
                                                      distributions=dists, value=float(v)))
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            trial = study.ask(dists)
            times.append(time.perf_counter() - t0)
            x = np.array([[trial.params[f"x{i}"] for i in range(U.shape[1])]])
            study.tell(trial, float(PROBLEMS["hartmann6"][0](x)[0]))
        return times
    return timer


def time_skopt(U, y):
    from skopt import Optimizer

    opt = Optimizer([(0.0, 1.0)] * U.shape[1], base_estimator="GP", n_initial_points=1, random_state=0)
    opt.tell(U.tolist()[:-1], y.tolist()[:-1])
    last = (U[-1].tolist(), float(y[-1]))
    times = []
    for _ in range(3):  # skopt refits in tell: a suggestion is tell(previous point) + ask()
        t0 = time.perf_counter()
        opt.tell(*last)
        x = opt.ask()
        times.append(time.perf_counter() - t0)
        last = (x, float(PROBLEMS["hartmann6"][0](np.array([x]))[0]))
    return times


def time_bayes_opt(U, y):
    from bayes_opt import BayesianOptimization, UtilityFunction

    names = [f"x{i}" for i in range(U.shape[1])]
    opt = BayesianOptimization(f=None, pbounds={n: (0.0, 1.0) for n in names}, random_state=0, verbose=0)
    for u, v in zip(U, y):
        opt.register(params=dict(zip(names, u.tolist())), target=-float(v))
    util = UtilityFunction(kind="ei", xi=0.0)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        p = opt.suggest(util)
        times.append(time.perf_counter() - t0)
        x = np.array([[p[n] for n in names]])
        opt.register(params=p, target=-float(PROBLEMS["hartmann6"][0](x)[0]))
    return times


TIMERS = {"gfo_native": time_ours, "optuna_tpe": time_optuna("TPESampler"), "optuna_gp": time_optuna("GPSampler"),
          "skopt_gp": time_skopt, "bayes_opt": time_bayes_opt}


# ---------------------------------------------------------------- driver
def load_cache() -> dict:
    return json.loads(CACHE.read_text()) if CACHE.exists() else {"runs": {}, "timing": {}}


def _write(cache: dict) -> None:
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    tmp = CACHE.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(cache, indent=0))
    os.replace(tmp, CACHE)


def save_run(key: str, values: list[float]) -> None:
    """Add one run to the cache on disk (re-read first: peers can run in their own process meanwhile)."""
    cache = load_cache()
    cache["runs"][key] = values
    _write(cache)


def save_timing(timing: dict, note: str) -> None:
    cache = load_cache()
    cache["timing"], cache["timing_note"] = timing, note
    _write(cache)


def best_so_far(values, fmin):
    v = np.array(values, dtype=np.float64)
    v[~np.isfinite(v)] = np.inf
    return np.minimum.accumulate(v) - fmin


def report(cache: dict, methods: list[str]) -> None:
    rows, curves = [], {}
    verdicts = []
    for pname, (_, _, fmin) in PROBLEMS.items():
        curves[pname] = {}
        med = {}
        for m in methods:
            runs = [v for k, v in cache["runs"].items() if k.startswith(f"{m}|{pname}|")]
            if not runs:
                continue
            regrets = np.array([best_so_far(r, fmin)[:BUDGETS[-1]] for r in runs if len(r) >= BUDGETS[-1]])
            if regrets.size == 0:
                continue
            q1, q2, q3 = np.percentile(regrets, [25, 50, 75], axis=0)
            med[m] = {b: float(q2[b - 1]) for b in BUDGETS}
            curves[pname][m] = {"evals": list(range(1, BUDGETS[-1] + 1)), "median": q2.tolist(), "q1": q1.tolist(),
                                "q3": q3.tolist()}
            rows.append([pname, m, len(regrets)] + [f"{q2[b - 1]:.3g} [{q1[b - 1]:.2g}, {q3[b - 1]:.2g}]"
                                                     for b in BUDGETS])
        if "gfo_native" in med:
            for b in BUDGETS:
                peers = {m: v[b] for m, v in med.items() if m != "gfo_native"}
                if peers:
                    best_peer = min(peers, key=peers.get)
                    ok = med["gfo_native"][b] <= peers[best_peer]
                    verdicts.append([pname, b, f"{med['gfo_native'][b]:.3g}", f"{best_peer} {peers[best_peer]:.3g}",
                                     "yes" if ok else "no"])
    body = ["Median regret (best value found minus the known minimum) after 20 / 40 / 80 evaluations, "
            "[25th, 75th percentile] over seeds; each method with its defaults. The runs are read from "
            "bench/results/bo_runs.json (load does not change them; each peer run one process at a time).\n",
            _common.table(["problem", "method", "seeds", "after 20", "after 40", "after 80"], rows), "",
            "gfo_native's median against the best peer's at each budget:\n",
            _common.table(["problem", "budget", "gfo_native", "best peer", "no worse"], verdicts), ""]
    speed = {}
    if cache.get("timing"):
        trows = []
        ours = cache["timing"].get("gfo_native", {})
        for m, t in cache["timing"].items():
            row = [m + (f" (cached: {t['cached']})" if t.get("cached") else "")]
            for n in ("50", "300"):
                if n in t:
                    row.append(f"{t[n] * 1e3:.0f} ms")
                    if m != "gfo_native" and n in ours:
                        row.append(f"{t[n] / ours[n]:.1f}x")
                        speed[f"suggestion n={n} vs {m}"] = t[n] / ours[n]
                    else:
                        row.append("")
                else:
                    row += ["-", ""]
            trows.append(row)
        body += ["Time per suggestion (surrogate refit + acquisition search) on Hartmann-6 with n observations, "
                 f"median of 3 consecutive suggestions, side by side in one run ({cache.get('timing_note', '')}):\n",
                 _common.table(["method", "n=50", "theirs/ours", "n=300", "theirs/ours"], trows), ""]
    _common.write_results("bo", "Bayesian optimization (bench_bo.py)", "\n".join(body), speedups=speed, curves=curves)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="2 seeds, Branin only, no timing at 300")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--problems", default=",".join(PROBLEMS))
    p.add_argument("--no-timing", action="store_true")
    p.add_argument("--timing-methods", default=None,
                   help="methods to time (default: all of --methods); the others keep their cached timing, marked")
    p.add_argument("--no-runs", action="store_true")
    a = p.parse_args()
    warnings.filterwarnings("ignore")
    methods = [m for m in a.methods.split(",") if m in RUNNERS and available(m)]
    problems = ["branin"] if a.quick else a.problems.split(",")
    seeds = 2 if a.quick else a.seeds
    cache = load_cache()
    if not a.no_timing:
        sizes = (50,) if a.quick else (50, 300)
        timed = methods if a.timing_methods is None else [m for m in a.timing_methods.split(",") if m in methods]
        for m in cache["timing"]:
            if m not in timed:
                cache["timing"][m]["cached"] = cache["timing"][m].get("cached") or cache.get("timing_note", "earlier")
        for n in sizes:
            U, y = observations(n, 6)
            for m in timed:
                cache["timing"][m] = {} if n == sizes[0] else cache["timing"].get(m, {})
                cache["timing"][m][str(n)] = statistics.median(TIMERS[m](U, y))
                print(f"timing n={n} {m}: {cache['timing'][m][str(n)] * 1e3:.0f} ms", flush=True)
        cache["timing_note"] = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end"
        save_timing(cache["timing"], cache["timing_note"])
    if not a.no_runs:
        for pname in problems:
            f, bounds, fmin = PROBLEMS[pname]
            for m in methods:
                t0 = time.perf_counter()
                for s in range(seeds):
                    key = f"{m}|{pname}|{s}"
                    if key in cache["runs"]:
                        continue
                    t1 = time.perf_counter()
                    cache["runs"][key] = [float(v) for v in RUNNERS[m](f, bounds, BUDGETS[-1], s)]
                    save_run(key, cache["runs"][key])
                    print(f"  {key} in {time.perf_counter() - t1:.0f} s", flush=True)
                print(f"{pname:<10} {m:<11} {seeds} seeds in {time.perf_counter() - t0:.0f} s", flush=True)
    report(load_cache(), [m for m in METHODS if m in RUNNERS])


if __name__ == "__main__":
    main()
