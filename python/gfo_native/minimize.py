"""`minimize`: run any registered optimizer on a function, scipy-style."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from ._checks import positive_int
from .optimizers.registry import OPTIMIZERS
from .optimizers.result import OptimizeResult


def evaluate_batch(fun: Callable, X: Any, vectorized: bool) -> np.ndarray:
    """Objective values of the rows of X (an array, or a list of dicts) as a float64 (n,) array."""
    if vectorized:
        y = np.asarray(fun(X), dtype=np.float64).reshape(-1)
        if y.size != len(X):
            raise ValueError(f"fun: vectorized objective returned {y.size} values for {len(X)} points")
        return y
    y = np.empty(len(X))
    for i in range(len(X)):
        v = fun(X[i])
        try:
            y[i] = float(np.asarray(v, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            raise TypeError(f"fun: expected a scalar from fun(x), got {type(v).__name__} "
                            f"(pass vectorized=True for batch objectives)") from None
    return y


def make_result(opt: Any, message: str, success: bool, history: dict[str, list]) -> OptimizeResult:
    return OptimizeResult(
        x=None if opt.best_x is None else opt.best_x.copy(), fun=float(opt.best_f), nfev=int(opt.nfev),
        nit=int(opt.generation), success=success, message=message, n_nonfinite=int(opt.n_nonfinite),
        history={k: np.asarray(v) for k, v in history.items()}, method=opt.name,
    )


def minimize(fun: Callable, bounds: Any, method: str = "pso", budget: int = 10_000, seed: int = 0, *,
             vectorized: bool = False, callback: Callable | None = None, progress: bool = False,
             target: float | None = None, max_time: float | None = None, options: dict | None = None,
             ) -> OptimizeResult:
    """Minimize ``fun`` over a box with a registered gradient-free method.

    Args:
        fun: ``fun(x) -> float`` for x of shape (d,), or with ``vectorized=True`` ``fun(X) -> (n,)`` for X (n, d).
            With a Space, ``x`` is a dict ``{name: value}`` (``X`` a list of dicts).
            NaN/inf values rank worst and are counted in ``n_nonfinite``.
        bounds: (d, 2) box, or a :class:`gfo_native.space.Space` (then ``res.x`` is the best dict and
            ``res.x_unit`` its point in the unit cube).
        method: a key of :data:`gfo_native.OPTIMIZERS`.
        budget: maximum number of evaluations. A generation that would exceed it is not started.
        seed: seed of the optimizer's random streams (same seed, same result).
        vectorized: pass whole batches to ``fun``.
        callback: ``callback(intermediate: OptimizeResult) -> bool | None`` after each generation; True stops.
        progress: show a tqdm progress bar with the best value and evaluations per second.
        target: stop once the best value is <= target.
        max_time: stop after this many seconds (checked between generations).
        options: keyword arguments of the optimizer class (``popsize``, hyperparameters, ``impl``...).

    Returns:
        OptimizeResult with x, fun, nfev, nit, success, message, history, n_nonfinite.
    """
    if not callable(fun):
        raise TypeError(f"fun: expected a callable, got {type(fun).__name__}")
    if method not in OPTIMIZERS:
        raise ValueError(f"method: unknown {method!r}; expected one of {sorted(OPTIMIZERS)}")
    budget = positive_int(budget, "budget")
    if max_time is not None and not max_time > 0:
        raise ValueError(f"max_time: expected a positive number of seconds, got {max_time}")
    options = dict(options or {})
    opt = OPTIMIZERS[method](bounds, seed=seed, target=target, **options)
    if budget < opt.popsize:
        raise ValueError(f"budget: {budget} is smaller than one generation (popsize {opt.popsize})")

    history: dict[str, list] = {"nfev": [], "fun": []}
    bar = _progress_bar(budget, method) if progress else None
    t0 = time.perf_counter()
    message, success = "budget exhausted", True
    try:
        while True:
            reason = opt.stop_reason
            if reason is not None:
                message = reason
                break
            if opt.nfev + opt.popsize > budget:
                break
            if max_time is not None and time.perf_counter() - t0 >= max_time:
                message = f"max_time {max_time:g} s reached"
                break
            X = opt.ask()
            opt.tell(X, evaluate_batch(fun, X if opt.space is None else opt.space.decode(X), vectorized))
            history["nfev"].append(opt.nfev)
            history["fun"].append(opt.best_f)
            if bar is not None:
                bar.update(X.shape[0])
                bar.set_postfix(best=f"{opt.best_f:.6g}", refresh=False)
            if callback is not None and callback(make_result(opt, "running", True, history)):
                message = "stopped by callback"
                break
    finally:
        if bar is not None:
            bar.close()
    res = make_result(opt, message, success, history)
    if opt.space is not None:
        res["x_unit"], res["x"] = res.x, opt.best_params
    return res


def _progress_bar(total: int, method: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=method, unit="eval", unit_scale=True, dynamic_ncols=True)
