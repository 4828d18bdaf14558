"""`minimize`: run any registered optimizer on a function, scipy-style."""

from __future__ import annotations

import inspect
import numbers
import time
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from ._checks import positive_int
from .distributed._work import evaluate_batch  # noqa: F401 - public here since 0.1
from .distributed.evaluator import as_evaluator
from .distributed.resume import RunCheckpoint
from .optimizers.registry import OPTIMIZERS
from .optimizers.result import OptimizeResult


def make_result(opt: Any, message: str, success: bool, history: Dict[str, Any],
                failures: Sequence[Dict[str, Any]] = ()) -> OptimizeResult:
    """The :class:`OptimizeResult` of an optimizer's current state (best point copied, history as arrays)."""
    return OptimizeResult(
        x=None if opt.best_x is None else opt.best_x.copy(), fun=float(opt.best_f), nfev=int(opt.nfev),
        nit=int(opt.generation), success=success, message=message, n_nonfinite=int(opt.n_nonfinite),
        history={k: np.asarray(v) for k, v in history.items()}, method=opt.name,
        n_failed=len(failures), failures=list(failures),
    )


class _History:
    """Evaluations and best-so-far value after each generation, in arrays that grow by doubling: an append costs
    O(1) amortized and :meth:`views` O(1), so a callback's intermediate result (and a checkpoint within a batch)
    does not copy the whole history every generation, which made long runs with a callback quadratic."""

    def __init__(self, history: Dict[str, List[Any]]) -> None:
        self.n = len(history["nfev"])
        cap = max(64, 2 * self.n)
        self._nfev, self._fun = np.zeros(cap, dtype=np.int64), np.zeros(cap)
        self._nfev[:self.n], self._fun[:self.n] = history["nfev"], history["fun"]

    def append(self, nfev: int, fun: float) -> None:
        if self.n == self._nfev.size:
            self._nfev = np.concatenate([self._nfev, np.zeros_like(self._nfev)])
            self._fun = np.concatenate([self._fun, np.zeros_like(self._fun)])
        self._nfev[self.n], self._fun[self.n] = nfev, fun
        self.n += 1

    def views(self) -> Dict[str, np.ndarray]:
        """Read-only views of the entries so far (later appends never change them)."""
        out = {"nfev": self._nfev[:self.n], "fun": self._fun[:self.n]}
        for v in out.values():
            v.flags.writeable = False
        return out

    def arrays(self) -> Dict[str, np.ndarray]:
        """Copies of the entries so far."""
        return {"nfev": self._nfev[:self.n].copy(), "fun": self._fun[:self.n].copy()}


def minimize(fun: Callable[..., Any], bounds: Any, method: str = "pso", budget: int = 10_000, seed: int = 0, *,
             vectorized: bool = False, callback: Optional[Callable[[OptimizeResult], Any]] = None, progress: bool = False,
             target: float | None = None, max_time: float | None = None, options: Optional[Dict[str, Any]] = None,
             executor: Any = None, max_retries: int | None = None, checkpoint: Any = None,
             checkpoint_every: int = 1, resume: bool = False) -> OptimizeResult:
    """Minimize ``fun`` over a box with a registered gradient-free method.

    Args:
        fun: ``fun(x) -> float`` for x of shape (d,) (a copy: ``fun`` may change it), or with ``vectorized=True``
            ``fun(X) -> (n,)`` for X (n, d).
            With a Space, ``x`` is a dict ``{name: value}`` (``X`` a list of dicts).
            NaN/inf values rank worst and are counted in ``n_nonfinite``; None, complex or text values raise
            TypeError (numpy would make None a silent NaN).
        bounds: (d, 2) box, or a :class:`gfo_native.space.Space` (then ``res.x`` is the best dict and
            ``res.x_unit`` its point in the unit cube).
        method: a key of :data:`gfo_native.OPTIMIZERS`.
        budget: maximum number of evaluations. A generation that would exceed it is not started.
        seed: seed of the optimizer's random streams (same seed, same result).
        vectorized: pass whole batches to ``fun`` (the asked array itself, not a copy: ``fun`` must not modify it).
        callback: ``callback(intermediate: OptimizeResult) -> bool | None`` after each generation; True stops.
            The intermediate result's history arrays are read-only views of the run's (not copied per call).
        progress: show a tqdm progress bar with the best value and evaluations per second.
        target: stop once the best value is <= target.
        max_time: stop after this many seconds (checked between generations: the first one always runs).
        options: keyword arguments of the optimizer class (``popsize``, hyperparameters, ``impl``...).
        executor: where evaluations run: None (this process), a :class:`gfo_native.distributed.Evaluator`
            (e.g. ``RayEvaluator(num_workers=8)``), a ``concurrent.futures.Executor``, or a function returning
            one (then a pool broken by a dead worker is replaced). Each batch is evaluated in parallel and
            gathered in batch order, so the result equals the serial one for the same seed.
        max_retries: an evaluation that raises is retried this many times, then recorded as failed
            (value +inf; ``res.n_failed``, ``res.failures`` with the exception text). None (default): the
            first exception stops the run, as in scipy. Units whose worker died are resubmitted either way.
            An exception that stops the run (a ``KeyboardInterrupt`` too) carries the run so far, up to the last
            finished generation, as ``exc.result`` (an OptimizeResult with ``success=False``), so the best point
            found is not lost.
        checkpoint: file to save the run to (atomically) every ``checkpoint_every`` generations, after the
            last one, and within long batches (finished points, at most once a second).
        checkpoint_every: generations between checkpoints.
        resume: continue from ``checkpoint`` if the file exists (so one command line serves the first start
            and every restart); the resumed run ends bit-identical to an uninterrupted one. A checkpoint of
            another method, dimension, box, seed or format version raises ``CheckpointError``.

    Returns:
        OptimizeResult with x, fun, nfev, nit, success, message, history, n_nonfinite, n_failed, failures.
    """
    if not callable(fun):
        raise TypeError(f"fun: expected a callable, got {type(fun).__name__}")
    if not isinstance(method, str):
        raise TypeError(f"method: expected a name (str), one of {sorted(OPTIMIZERS)}, got {type(method).__name__}")
    if method not in OPTIMIZERS:
        raise ValueError(f"method: unknown {method!r}; expected one of {sorted(OPTIMIZERS)}")
    budget = positive_int(budget, "budget")
    if max_time is not None:
        if isinstance(max_time, bool) or not isinstance(max_time, numbers.Real):
            raise TypeError(f"max_time: expected a number of seconds, got {type(max_time).__name__}")
        if not max_time > 0:
            raise ValueError(f"max_time: expected a positive number of seconds, got {max_time}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback: expected a callable or None, got {type(callback).__name__}")
    for name, flag in (("vectorized", vectorized), ("progress", progress), ("resume", resume)):
        if not isinstance(flag, (bool, np.bool_)):  # a string such as "no" would count as true
            raise TypeError(f"{name}: expected True or False, got {flag!r}")
    if options is not None and not isinstance(options, Mapping):
        raise TypeError(f"options: expected a dict of the optimizer's keyword arguments, got {type(options).__name__}")
    options = dict(options or {})
    taken = sorted(k for k in ("bounds", "seed", "target") if k in options)
    if taken:
        raise TypeError(f"options: {taken} are arguments of minimize itself; pass them there, not in options")
    opt = _construct(OPTIMIZERS[method], method, bounds, seed, target, options)
    if budget < opt.popsize:
        raise ValueError(f"budget: {budget} is smaller than one generation (popsize {opt.popsize})")
    planned = budget // opt.popsize if opt.max_generations is None else min(opt.max_generations, budget // opt.popsize)
    opt.plan(planned)

    if resume and checkpoint is None:
        raise ValueError("resume: needs checkpoint=<file> to resume from")
    ckpt = None if checkpoint is None else RunCheckpoint(checkpoint, checkpoint_every, opt)
    history: Dict[str, Any] = {"nfev": [], "fun": []}
    failures: List[Dict[str, Any]] = []
    batch_progress = None
    restored = ckpt.restore() if resume and ckpt is not None else None
    if restored is not None:
        history, failures, batch_progress = restored
    hist = _History(history)
    evaluation = as_evaluator(executor).bind(fun, vectorized=vectorized, max_retries=max_retries)
    evaluation.failures = failures
    on_progress = None if ckpt is None else (lambda p: ckpt.partial(hist.views(), failures, p))
    saved = False
    bar = None
    t0 = time.perf_counter()
    message, success = "budget exhausted", True
    first = opt.generation
    try:  # from here on the evaluation's workers are released whatever raises
        if progress:
            bar = _progress_bar(budget, method)
            if opt.nfev:
                bar.update(opt.nfev)
        while True:
            reason = opt.stop_reason
            if reason is not None:
                message = reason
                break
            if opt.nfev + opt.popsize > budget:
                if bar is not None:  # the budget's remainder, short of a generation, is not spent: the run is done
                    bar.total = bar.n
                    bar.refresh()
                break
            # between generations: at least one runs (setup, a progress bar's import or a resumed checkpoint's
            # load may take longer than a short max_time, which left a result with no point at all)
            if max_time is not None and opt.generation > first and time.perf_counter() - t0 >= max_time:
                message = f"max_time {max_time:g} s reached"
                break
            X = opt.ask()
            y = evaluation.evaluate(X if opt.space is None else opt.space.decode(X), batch_progress, on_progress)
            batch_progress = None
            opt.tell(X, y)
            hist.append(opt.nfev, opt.best_f)
            saved = ckpt is not None and ckpt.after_generation(hist.views(), failures)
            if bar is not None:
                bar.update(X.shape[0])
                bar.set_postfix(best=f"{opt.best_f:.6g}", refresh=False)
            if callback is not None and callback(make_result(opt, "running", True, hist.views(), failures)):
                message = "stopped by callback"
                break
    except BaseException as exc:
        # the run so far (finished generations) travels with the exception: the caller keeps the best point
        try:
            setattr(exc, "result", make_result(opt, f"stopped by {type(exc).__name__}: {exc}", False,
                                               hist.arrays(), failures))
            note = getattr(exc, "add_note", None)  # Python 3.11+
            if note is not None:
                note(f"gfo_native.minimize: the run so far ({opt.nfev} evaluations, best {opt.best_f:.6g}) is in "
                     "this exception's .result")
        except Exception:  # an exception type that takes no attributes: it still propagates, unchanged
            pass
        raise
    finally:
        evaluation.close()
        if bar is not None:
            bar.close()
    if ckpt is not None and not saved:
        ckpt.save(hist.views(), failures)
    if opt.best_x is None:  # every value NaN/inf: nothing was found, whatever stopped the run
        message, success = f"{message}; no finite objective value in {opt.nfev} evaluations", False
    res = make_result(opt, message, success, hist.arrays(), failures)
    if opt.space is not None:
        res["x_unit"], res["x"] = res.x, opt.best_params
    return res


def _construct(cls: Any, method: str, bounds: Any, seed: int, target: float | None, options: Dict[str, Any]) -> Any:
    """``cls(bounds, seed=, target=, **options)``; an unknown option is a TypeError naming ``options``, the method
    and the keywords it takes (Python's own message names ``Optimizer.__init__`` only)."""
    try:
        return cls(bounds, seed=seed, target=target, **options)
    except TypeError as e:
        unknown = [k for k in options if f"unexpected keyword argument {k!r}" in str(e)]
        if not unknown:
            raise
        taken: set[str] = set()
        for klass in cls.__mro__:
            if "__init__" in vars(klass):
                taken.update(p.name for p in inspect.signature(vars(klass)["__init__"]).parameters.values()
                             if p.kind is p.KEYWORD_ONLY)
        taken -= {"seed", "target"}
        raise TypeError(f"options: {method!r} ({cls.__name__}) takes no option {unknown[0]!r}; "
                        f"it takes {sorted(taken)}") from None


def _progress_bar(total: int, method: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=method, unit="eval", unit_scale=True, dynamic_ncols=True)
