"""Checkpoint and resume of a :func:`gfo_native.minimize` run.

A checkpoint holds the optimizer's ``state_dict`` (its random streams are functions of (seed, generation),
so the state fully determines what comes next), the history, the failures so far and, when written in the
middle of a batch, which points of that batch are already evaluated. A resumed run therefore evaluates
each point once and ends bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from .._checks import positive_int
from .._version import __version__
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .evaluator import BatchProgress

RUN_VERSION = 1
PARTIAL_EVERY_S = 1.0  # within a long batch, save finished points at most this often


class RunCheckpoint:
    """Writes a run's checkpoints every ``every`` generations (and within batches); restores them."""

    def __init__(self, path: str | os.PathLike[str], every: int, opt: Any):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"checkpoint: expected a file path, got {type(path).__name__}")
        self.path, self.every, self.opt = os.fspath(path), positive_int(every, "checkpoint_every"), opt
        self.last_partial = time.monotonic()

    def _identity(self) -> dict[str, Any]:
        o = self.opt
        # the configured popsize: IPOP/BIPOP restarts change o.popsize during the run (the state carries that)
        return {"method": o.name, "dim": o.dim, "popsize": o.popsize0, "seed": o.seed,
                "lower": o.lower.copy(), "upper": o.upper.copy()}

    def save(self, history: dict[str, Any], failures: list[Any], progress: BatchProgress | None = None) -> None:
        save_checkpoint(self.path, {
            "kind": "gfo_native.minimize", "run_version": RUN_VERSION, "gfo_native": __version__,
            "identity": self._identity(), "optimizer": self.opt.state_dict(),
            "history": {k: np.asarray(v).tolist() for k, v in history.items()}, "failures": list(failures),
            "batch": None if progress is None else progress.to_dict(),
        })

    def after_generation(self, history: dict[str, Any], failures: list[Any]) -> bool:
        if self.opt.generation % self.every:
            return False
        self.save(history, failures)
        return True

    def partial(self, history: dict[str, Any], failures: list[Any], progress: BatchProgress) -> None:
        if time.monotonic() - self.last_partial >= PARTIAL_EVERY_S:
            self.save(history, failures, progress)
            self.last_partial = time.monotonic()

    def restore(self) -> tuple[dict[str, Any], list[Any], BatchProgress | None] | None:
        """Load the checkpoint into the optimizer: (history, failures, batch progress), or None if no file."""
        try:
            ck = load_checkpoint(self.path)
        except FileNotFoundError:
            return None
        where = f"checkpoint: {self.path!r}"
        if not isinstance(ck, dict) or ck.get("kind") != "gfo_native.minimize":
            raise CheckpointError(f"{where} is not a minimize() checkpoint")
        if ck.get("run_version") != RUN_VERSION:
            raise CheckpointError(f"{where} has run version {ck.get('run_version')!r}, this gfo_native "
                                  f"({__version__}) resumes version {RUN_VERSION}")
        saved, mine = ck["identity"], self._identity()
        for key, value in mine.items():
            same = np.array_equal(saved[key], value) if isinstance(value, np.ndarray) else saved[key] == value
            if not same:
                def shown(v: Any) -> Any:
                    return v.tolist() if isinstance(v, np.ndarray) else v

                raise CheckpointError(f"{where} was written by a run with {key}={shown(saved[key])!r}; this run "
                                      f"has {key}={shown(value)!r} (use the same call, or another checkpoint file)")
        try:
            self.opt.load_state_dict(ck["optimizer"])
        except (ValueError, TypeError, KeyError) as e:
            raise CheckpointError(f"{where} does not fit this optimizer: {e}") from None
        batch = None if ck["batch"] is None else BatchProgress.from_dict(ck["batch"])
        return {k: list(v) for k, v in ck["history"].items()}, list(ck["failures"]), batch
