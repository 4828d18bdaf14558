"""Evaluate a batch on workers, in parallel, with results in batch order and faults handled.

An :class:`Evaluator` says *where* evaluations run (this process, a ``concurrent.futures`` executor, a Ray
cluster). ``evaluator.bind(fun)`` ships the objective to the workers and returns an :class:`Evaluation`, the
callable that an ask/tell loop (or :func:`gfo_native.minimize`) calls with each batch::

    with gn.distributed.RayEvaluator(num_workers=8).bind(fun, max_retries=2) as evaluate:
        while not opt.stop():
            X = opt.ask()
            opt.tell(X, evaluate(X))

Every point's value lands at its own row, whichever worker finished first, so a parallel run gives exactly
the serial run's result for the same seed. Faults:

* ``fun`` raises: the unit is retried up to ``max_retries`` times, then recorded as failed (value +inf,
  the worst; the text kept in ``failures``). ``max_retries=None`` re-raises the first exception instead.
* a worker dies mid-evaluation: the backend replaces it and the unit is resubmitted (up to
  ``max_resubmits`` times per unit: a point that kills every worker it meets is not retried forever).

Each point gets exactly one value, so the optimizer's ``nfev`` counts it once.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Any, Callable, Hashable, NoReturn, Sequence

import numpy as np

from .._checks import non_negative_int
from ._work import CRASH, ERROR, OK, evaluate_batch, run_unit


class WorkerLostError(RuntimeError):
    """A unit's worker died more than ``max_resubmits`` times and failures are not being recorded."""


@dataclasses.dataclass
class BatchProgress:
    """How far one batch got: the rows done, their values, and the failures among them (by row)."""

    done: np.ndarray
    values: np.ndarray
    failed: dict[int, dict[str, Any]]

    @classmethod
    def empty(cls, n: int) -> "BatchProgress":
        return cls(np.zeros(n, dtype=bool), np.full(n, np.nan), {})

    def to_dict(self) -> dict[str, Any]:
        return {"done": self.done.copy(), "values": self.values.copy(),
                "failed": [[i, dict(f)] for i, f in sorted(self.failed.items())]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "BatchProgress":
        return cls(np.array(d["done"], dtype=bool), np.array(d["values"], dtype=np.float64),
                   {int(i): f for i, f in d["failed"]})


class Workers:
    """Backend interface: where units run. ``submit`` returns a token; ``wait`` returns finished ones."""

    n_workers: int = 1  # processes evaluating at once (a vectorized batch is cut into this many chunks)
    capacity: int = 1  # units in flight at once: 2 per worker hides the round trip behind the next unit

    def submit(self, rows: Any) -> Hashable:
        raise NotImplementedError

    def wait(self, tokens: list[Any]) -> Sequence[tuple[Hashable, tuple[Any, ...]]]:
        """Block until at least one of ``tokens`` finished; ``[(token, outcome), ...]``.

        The outcome is ``run_unit``'s, or ``(CRASH, text)`` when the worker died (the backend has replaced
        it by the time this returns).
        """
        raise NotImplementedError

    def close(self) -> None:
        pass


class Evaluation:
    """An objective bound to workers. Call it with a batch (array (n, d) or list of dicts); get (n,) float64.

    Attributes:
        failures: one dict per failed point, in run order: ``x``, ``error`` (exception text and traceback),
            ``attempts``.
        n_retries: re-submissions after an exception; ``n_resubmits``: after a worker died.
    """

    def __init__(self, workers: Workers, vectorized: bool, max_retries: int | None, max_resubmits: int):
        self.workers, self.vectorized = workers, bool(vectorized)
        self.max_retries = None if max_retries is None else non_negative_int(max_retries, "max_retries")
        self.max_resubmits = non_negative_int(max_resubmits, "max_resubmits")
        self.failures: list[dict[str, Any]] = []
        self.n_retries = 0
        self.n_resubmits = 0

    def __call__(self, X: Any) -> np.ndarray:
        return self.evaluate(X)

    def evaluate(self, X: Any, progress: BatchProgress | None = None,
                 on_progress: Callable[[BatchProgress], None] | None = None) -> np.ndarray:
        """Values of the rows of X in row order.

        ``progress`` resumes a batch that was partly evaluated (its done rows are not evaluated again);
        ``on_progress(progress)`` is called after every finished unit (to checkpoint within a batch).
        """
        n = len(X)
        if (progress is None and on_progress is None and self.max_retries is None and self.vectorized and n
                and isinstance(self.workers, _InlineWorkers) and isinstance(X, np.ndarray)):
            # one unit in this process, nothing to resume, retry or report: the loop below would call the objective
            # once with the whole batch and return a copy of its values (or re-raise its exception), so do just that
            # without the per-batch bookkeeping, which costs as much as a fast objective on a 1,000-row batch
            return evaluate_batch(self.workers.fun, X, True)  # a new array, never the objective's own
        p = BatchProgress.empty(n) if progress is None else progress
        if p.done.shape != (n,):
            raise ValueError(f"progress: recorded for {p.done.size} rows, the batch has {n}")
        todo = np.flatnonzero(~p.done)
        if self.vectorized:
            units = [u for u in np.array_split(todo, min(todo.size, self.workers.n_workers) or 1) if u.size]
        else:
            units = [todo[i:i + 1] for i in range(todo.size)]
        errors = [0] * len(units)
        crashes = [0] * len(units)
        queue = collections.deque(range(len(units)))
        inflight: dict[Hashable, int] = {}
        while queue or inflight:
            while queue and len(inflight) < self.workers.capacity:
                k = queue.popleft()
                inflight[self.workers.submit(_take(X, units[k]))] = k
            for token, out in self.workers.wait(list(inflight)):
                k = inflight.pop(token)
                rows = units[k]
                if out[0] == OK:
                    p.values[rows] = out[1]
                elif out[0] == ERROR:
                    errors[k] += 1
                    if self.max_retries is None:
                        _reraise(out)
                    if errors[k] <= self.max_retries:
                        self.n_retries += 1
                        queue.append(k)
                        continue
                    self._fail(p, X, rows, out[2], errors[k] + crashes[k])
                else:
                    crashes[k] += 1
                    if crashes[k] <= self.max_resubmits:
                        self.n_resubmits += 1
                        queue.appendleft(k)
                        continue
                    text = f"worker died {crashes[k]} times evaluating this unit: {out[1]}"
                    if self.max_retries is None:
                        raise WorkerLostError(text)
                    self._fail(p, X, rows, text, errors[k] + crashes[k])
                p.done[rows] = True
                if on_progress is not None:
                    on_progress(p)
        self.failures.extend(p.failed[i] for i in sorted(p.failed))
        return np.asarray(p.values.copy())

    @staticmethod
    def _fail(p: BatchProgress, X: Any, rows: np.ndarray, text: str, attempts: int) -> None:
        p.values[rows] = np.inf  # worst: ranked last, counted as non-finite by tell()
        for i in rows.tolist():
            x = X[i]
            p.failed[i] = {"x": x.copy() if isinstance(x, np.ndarray) else x, "error": text, "attempts": attempts}

    @property
    def n_failed(self) -> int:
        """Evaluations recorded as failed so far (see ``max_retries``)."""
        return len(self.failures)

    def close(self) -> None:
        """Release the workers of this run (the evaluator may keep its pool for the next)."""
        self.workers.close()

    def __enter__(self) -> "Evaluation":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _take(X: Any, rows: np.ndarray) -> Any:
    if isinstance(X, np.ndarray):
        if rows.size and int(rows[-1]) - int(rows[0]) + 1 == rows.size:  # sorted and contiguous: a view, no copy
            return X[int(rows[0]):int(rows[-1]) + 1]
        return X[rows]
    return [X[i] for i in rows.tolist()]


def _reraise(out: tuple[Any, ...]) -> NoReturn:
    _, exc, text = out
    if exc is None:
        raise RuntimeError(f"fun raised in a worker:\n{text}")
    if exc.__traceback__ is None and hasattr(exc, "add_note"):  # it came from another process
        exc.add_note(f"raised in a worker:\n{text}")
    raise exc


class Evaluator:
    """Where evaluations run. ``bind(fun)`` starts (or reuses) the workers and returns an :class:`Evaluation`.

    Args:
        max_resubmits: how often a unit is resubmitted after its worker died before it counts as failed.
    """

    def __init__(self, *, max_resubmits: int = 3):
        self.max_resubmits = non_negative_int(max_resubmits, "max_resubmits")

    def bind(self, fun: Callable[..., Any], *, vectorized: bool = False, max_retries: int | None = None) -> Evaluation:
        """Ship ``fun`` to the workers once; the returned Evaluation evaluates batches (close it when done).

        Args:
            fun: objective, ``fun(x) -> float`` (or ``fun(X) -> (n,)`` with ``vectorized``).
            vectorized: hand a worker a chunk of rows at once (one chunk per worker and batch).
            max_retries: retries of a unit whose evaluation raised, before it is recorded as failed;
                None re-raises the first exception.
        """
        if not callable(fun):
            raise TypeError(f"fun: expected a callable, got {type(fun).__name__}")
        return Evaluation(self._workers(fun, bool(vectorized)), vectorized, max_retries, self.max_resubmits)

    def _workers(self, fun: Callable[..., Any], vectorized: bool) -> Workers:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the evaluator keeps between runs (nothing, unless a subclass says otherwise)."""

    def __enter__(self) -> "Evaluator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _InlineWorkers(Workers):
    """Runs each unit at submit time, in this process."""

    def __init__(self, fun: Callable[..., Any], vectorized: bool):
        self.fun, self.vectorized = fun, vectorized
        self.done: dict[int, tuple[Any, ...]] = {}
        self.count = 0

    def submit(self, rows: Any) -> int:
        self.count += 1
        self.done[self.count] = run_unit(self.fun, rows, self.vectorized, portable=False)
        return self.count

    def wait(self, tokens: list[Any]) -> list[tuple[int, tuple[Any, ...]]]:
        return [(t, self.done.pop(t)) for t in tokens]


class SerialEvaluator(Evaluator):
    """Evaluate in this process, one unit after the other (the reference the parallel evaluators match)."""

    def _workers(self, fun: Callable[..., Any], vectorized: bool) -> Workers:
        return _InlineWorkers(fun, vectorized)


def as_evaluator(executor: Any) -> Evaluator:
    """An Evaluator from what ``minimize(executor=...)`` accepts.

    None: this process; an :class:`Evaluator` (e.g. :class:`RayEvaluator`); a ``concurrent.futures.Executor``;
    or a zero-argument factory returning one (then a pool broken by a dead worker is replaced).
    """
    import concurrent.futures

    from .pool import ExecutorEvaluator

    if executor is None:
        return SerialEvaluator()
    if isinstance(executor, Evaluator):
        return executor
    if isinstance(executor, concurrent.futures.Executor) or callable(executor):
        return ExecutorEvaluator(executor)
    raise TypeError(f"executor: expected None, a gfo_native.distributed.Evaluator, a concurrent.futures.Executor "
                    f"or a function returning one, got {type(executor).__name__}")
