"""Demo: CMA-ES on hard continuous problems, IPOP restarts on Rastrigin, OpenES/SNES at high dimension."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from .. import functions as F
from ..optimizers.cmaes import CMAES
from ..optimizers.es import SNES, OpenES


def _solve(opt: Any, f: Callable[[np.ndarray], Any], budget: int) -> Any:
    while not opt.stop() and opt.nfev < budget:
        X = opt.ask()
        opt.tell(X, f(X))
    return opt


def run(quick: bool) -> str:
    n = 10
    lines = [f"CMA-ES, {n}-D, target 1e-8 (x0 = 3, sigma0 = 2; rosenbrock x0 = 0, sigma0 = 0.5)",
             f"  {'problem':<22} {'evals':>7} {'best f':>10} {'ms/gen':>7}  stop"]
    cases: List[Tuple[str, F.ObjectiveFunction, float, float, Optional[str]]] = [("sphere", F.sphere, 3.0, 2.0, None), ("ellipsoid (cond 1e6)", F.ellipsoid, 3.0, 2.0, None),
             ("rosenbrock", F.rosenbrock, 0.0, 0.5, None)]
    if not quick:
        cases.append(("rastrigin, IPOP", F.rastrigin, 0.0, 2.0, "ipop"))
    for name, f, x0, s0, restarts in cases:
        bounds = [(-5.12, 5.12)] * n if restarts else None
        kw: Dict[str, Any] = dict(bounds=bounds) if bounds else dict(dim=n, x0=np.full(n, x0), sigma0=s0)
        t0 = time.perf_counter()
        opt = _solve(CMAES(**kw, seed=1, target=1e-8, restarts=restarts), f, 200_000)
        ms = 1e3 * (time.perf_counter() - t0) / max(opt.generation, 1)
        lines.append(f"  {name:<22} {opt.nfev:>7} {opt.best_f:>10.2e} {ms:>7.3f}  {opt.stop_reason}")
    d = 20_000 if quick else 1_000_000
    lines.append(f"\nOpenES / SNES at {d:,} dimensions (sphere from x = 1), low-memory seed API, 5 generations:")
    for cls, kw in ((OpenES, dict(popsize=16, lr=1e-3, optimizer="sgd", momentum=0.0)), (SNES, dict(popsize=16))):
        opt = cls(dim=d, x0=np.ones(d), sigma0=0.01, seed=0, **kw)
        buf = np.empty((4, d))
        f0 = float(F.sphere(opt.x0[None, :])[0])
        t0 = time.perf_counter()
        for _ in range(5):
            b = opt.ask_seeds()
            fx = np.concatenate([F.sphere(opt.expand(s, s + 4, out=buf)) for s in range(0, b.popsize, 4)])
            opt.tell_seeds(fx)
        dt = time.perf_counter() - t0
        rate = 5 * opt.popsize * d / dt / 1e6
        lines.append(f"  {cls.__name__:<7} f(mean) {f0:.4e} -> {float(F.sphere(opt.state.mean[None, :])[0]):.6e}   "
                     f"{rate:6.1f} M samples*dims/s (objective included)")
    return "\n".join(lines) + "\n"
