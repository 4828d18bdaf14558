"""Evaluation on a Ray cluster (or a local Ray started on demand): a pool of actors holding the objective."""

from __future__ import annotations

from typing import Any, Callable

from .._checks import positive_int
from ._work import CRASH, ERROR, RemoteWorker
from .evaluator import Evaluator, Workers


def import_ray() -> Any:
    """Ray, imported only when asked for; a clear message when it is missing."""
    try:
        import ray
    except ImportError:
        raise ImportError("RayEvaluator needs Ray, an optional dependency: pip install gfo-native[ray]") from None
    return ray


class RayEvaluator(Evaluator):
    """Run evaluations on Ray actors: each actor receives the objective once and evaluates rows in turn.

    Args:
        num_workers: actors (default: the cluster's CPUs / ``cpus_per_worker``).
        address: the cluster to join (``"auto"``, ``"ray://head:10001"``, ...); None starts a local Ray
            with ``ray.init()`` unless one is already running in this process. The same code runs locally
            and on a cluster; on a cluster every node needs ``gfo-native`` installed.
        cpus_per_worker: CPUs Ray reserves per actor (so actors spread over the cluster's cores).
        init_kwargs: more keyword arguments for ``ray.init`` (``runtime_env``, ``num_cpus``, ...).
        max_resubmits: see :class:`Evaluator`.

    A dead actor (its process killed, its node lost) is replaced by a new one and its unit resubmitted.
    Actors and Ray outlive a run, so the next ``minimize(..., executor=same_evaluator)`` starts at once (the
    new objective is shipped to the running actors); :meth:`close` ends the actors, and Ray too if this
    evaluator started it.
    """

    def __init__(self, num_workers: int | None = None, *, address: str | None = None, cpus_per_worker: float = 1,
                 init_kwargs: dict[str, Any] | None = None, max_resubmits: int = 3):
        super().__init__(max_resubmits=max_resubmits)
        self.num_workers = None if num_workers is None else positive_int(num_workers, "num_workers")
        if not cpus_per_worker > 0:
            raise ValueError(f"cpus_per_worker: expected a positive number, got {cpus_per_worker}")
        self.address, self.cpus_per_worker = address, float(cpus_per_worker)
        self.init_kwargs = dict(init_kwargs or {})
        self._started_ray = False
        self._actors: list[Any] = []  # idle between runs
        self._actor_cls: Any = None  # the Ray actor class, made on first use

    def _ray(self) -> Any:
        ray = import_ray()
        if not ray.is_initialized():
            kwargs = {"include_dashboard": False, **self.init_kwargs}
            ray.init(address=self.address, **kwargs)
            self._started_ray = True
            self._actors, self._actor_cls = [], None  # those of an earlier Ray session are gone
        return ray

    def _workers(self, fun: Callable[..., Any], vectorized: bool) -> Workers:
        ray = self._ray()
        n = self.num_workers
        if n is None:
            n = max(1, int(ray.cluster_resources().get("CPU", 1) // self.cpus_per_worker))
        if self._actor_cls is None:
            # max_restarts=0: a dead actor is replaced here, so that its unit is resubmitted exactly once.
            self._actor_cls = ray.remote(RemoteWorker).options(num_cpus=self.cpus_per_worker, max_restarts=0,
                                                               max_task_retries=0)
        fun_ref = ray.put(fun)  # into the object store once; each actor fetches it once
        actors, self._actors = self._actors, []
        for a in actors[n:]:
            ray.kill(a, no_restart=True)
        for a in actors[:n]:
            a.load.remote(fun_ref, vectorized)  # queued before any unit: actors run their calls in order
        actors = actors[:n] + [self._actor_cls.remote(fun_ref, vectorized) for _ in range(n - len(actors))]
        return _ActorPool(self, ray, fun_ref, vectorized, actors)

    def close(self) -> None:
        """End the actors, and the local Ray if this evaluator started it (no-op for a joined cluster)."""
        if self._actors and import_ray().is_initialized():
            for a in self._actors:
                import_ray().kill(a, no_restart=True)
        self._actors = []
        if self._started_ray:
            import_ray().shutdown()
            self._started_ray = False

    shutdown = close


class _ActorPool(Workers):
    """Units go to the least loaded actor, two at most per actor (an actor runs its calls in order)."""

    def __init__(self, owner: RayEvaluator, ray: Any, fun_ref: Any, vectorized: bool, actors: list[Any]):
        self.owner, self.ray, self.fun_ref, self.vectorized = owner, ray, fun_ref, vectorized
        self.actors = list(actors)
        self.load = [0] * len(actors)
        self.where: dict[Any, Any] = {}  # ObjectRef -> the actor running it
        self.n_workers = len(actors)
        self.capacity = 2 * len(actors)
        self.errors = (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
                       ray.exceptions.ObjectLostError, ray.exceptions.NodeDiedError)

    def submit(self, rows: Any) -> Any:
        i = min(range(len(self.actors)), key=self.load.__getitem__)
        ref = self.actors[i].run.remote(rows)
        self.load[i] += 1
        self.where[ref] = self.actors[i]
        return ref

    def wait(self, tokens: list[Any]) -> list[tuple[Any, tuple[Any, ...]]]:
        ray = self.ray
        ray.wait(tokens, num_returns=1)
        ready, _ = ray.wait(tokens, num_returns=len(tokens), timeout=0)
        out = []
        for ref in ready:
            actor = self.where.pop(ref)
            i = next((j for j, a in enumerate(self.actors) if a is actor), None)
            if i is not None:
                self.load[i] -= 1
            try:
                out.append((ref, ray.get(ref)))
            except self.errors as e:
                if i is not None:  # the first lost unit of this actor replaces it; its others follow as crashes
                    ray.kill(actor, no_restart=True)
                    self.actors[i] = self.owner._actor_cls.remote(self.fun_ref, self.vectorized)
                    self.load[i] = 0
                    self.where = {r: (None if a is actor else a) for r, a in self.where.items()}
                out.append((ref, (CRASH, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")))
            except ray.exceptions.RayTaskError as e:  # the unit's result did not come back (e.g. not picklable)
                out.append((ref, (ERROR, None, str(e))))
        return out

    def close(self) -> None:
        # Hand the actors back for the next run (one still busy with an abandoned unit finishes it first).
        self.owner._actors = self.actors
        self.actors, self.load, self.where = [], [], {}
