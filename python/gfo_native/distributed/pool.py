"""Evaluation on a ``concurrent.futures`` executor (process or thread pool, or any other Executor)."""

from __future__ import annotations

import concurrent.futures as cf
import os
from typing import Any, Callable

from .._checks import positive_int
from ._work import CRASH, ERROR, run_unit
from .evaluator import Evaluator, Workers


class ExecutorEvaluator(Evaluator):
    """Run units on a ``concurrent.futures.Executor``.

    Args:
        executor: an Executor, or a zero-argument factory returning one (``lambda: ProcessPoolExecutor(4)``).
            A process that dies breaks a ``ProcessPoolExecutor`` for good (``BrokenProcessPool``): with a
            factory, a new pool is made and the lost units are resubmitted; with an Executor instance the
            run stops with an error saying so. A pool made by the factory is shut down when the
            Evaluation closes; an Executor passed in stays open (it is yours).
        max_in_flight: units submitted at once (default: twice the executor's worker count, so that a worker
            finds its next unit waiting; a broken pool loses at most these).
        max_resubmits: see :class:`Evaluator`.

    The objective is pickled with each unit (an Executor has no per-worker state to hold it); use
    :class:`RayEvaluator` for objectives that are large to ship.
    """

    def __init__(self, executor: Any, *, max_in_flight: int | None = None, max_resubmits: int = 3):
        super().__init__(max_resubmits=max_resubmits)
        if not (isinstance(executor, cf.Executor) or callable(executor)):
            raise TypeError(f"executor: expected a concurrent.futures.Executor or a function returning one, "
                            f"got {type(executor).__name__}")
        self.executor = executor
        self.max_in_flight = None if max_in_flight is None else positive_int(max_in_flight, "max_in_flight")

    def _workers(self, fun: Callable[..., Any], vectorized: bool) -> Workers:
        return _PoolWorkers(self.executor, fun, vectorized, self.max_in_flight)


class _PoolWorkers(Workers):
    def __init__(self, source: Any, fun: Callable[..., Any], vectorized: bool, max_in_flight: int | None):
        self.factory: Any = None if isinstance(source, cf.Executor) else source
        self.pool = source if self.factory is None else self._make()
        self.fun, self.vectorized = fun, vectorized
        self.n_workers = getattr(self.pool, "_max_workers", None) or os.cpu_count() or 1
        self.capacity = max_in_flight or 2 * self.n_workers
        self.submitted_to: dict[cf.Future[Any], cf.Executor] = {}

    def _make(self) -> cf.Executor:
        pool = self.factory()
        if not isinstance(pool, cf.Executor):
            raise TypeError(f"executor: the factory returned {type(pool).__name__}, not a concurrent.futures.Executor")
        return pool

    def submit(self, rows: Any) -> cf.Future[Any]:
        try:
            fut = self.pool.submit(run_unit, self.fun, rows, self.vectorized)
        except cf.BrokenExecutor:  # broke between two waits: same recovery as a lost result
            fut = cf.Future()
            fut.set_exception(cf.BrokenExecutor("the pool was broken when the unit was submitted"))
        self.submitted_to[fut] = self.pool
        return fut

    def wait(self, tokens: list[Any]) -> list[tuple[cf.Future[Any], tuple[Any, ...]]]:
        done, _ = cf.wait(tokens, return_when=cf.FIRST_COMPLETED)
        out = []
        for fut in done:
            pool = self.submitted_to.pop(fut)
            try:
                out.append((fut, fut.result()))
            except cf.BrokenExecutor as e:
                if self.factory is None:
                    raise RuntimeError(
                        "executor: a worker process died and broke the pool; a broken pool cannot be repaired. "
                        "Pass a factory instead (executor=lambda: ProcessPoolExecutor(n)) so that a new pool "
                        "replaces it and the lost evaluations are resubmitted") from e
                if pool is self.pool:  # the first loss reported from this pool: replace it once
                    self.pool.shutdown(wait=False, cancel_futures=True)
                    self.pool = self._make()
                out.append((fut, (CRASH, f"{type(e).__name__}: {e}")))
            except Exception as e:  # noqa: BLE001 - e.g. the objective or a row did not pickle
                out.append((fut, (ERROR, e, f"{type(e).__name__}: {e}")))
        return out

    def close(self) -> None:
        if self.factory is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
