"""Objectives for the distributed tests: importable by worker processes (a module, not a test file)."""

from __future__ import annotations

import os
import time

import numpy as np


def first_time(path: str) -> bool:
    """True for the one caller (of any process) that creates ``path``."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


class Objective:
    """Sphere, optionally slow, logging each finished evaluation, and with injected faults.

    kill_dir: the first evaluation (over all processes) of a point with x[0] > 0 kills its worker process.
    fail_above: points with x[0] > fail_above always raise.
    flaky_dir: the first evaluation of each point with x[1] > 0 raises; its retry succeeds.
    """

    def __init__(self, log=None, sleep=0.0, kill_dir=None, fail_above=None, flaky_dir=None):
        self.log, self.sleep, self.kill_dir = log, sleep, kill_dir
        self.fail_above, self.flaky_dir = fail_above, flaky_dir

    def __call__(self, x):
        if self.sleep:
            time.sleep(self.sleep)
        key = x.tobytes().hex()
        if self.kill_dir is not None and x[0] > 0 and first_time(os.path.join(self.kill_dir, "killed")):
            os._exit(3)
        if self.fail_above is not None and x[0] > self.fail_above:
            raise ValueError(f"no value at x0={x[0]:.3f}")
        if self.flaky_dir is not None and x[1] > 0 and first_time(os.path.join(self.flaky_dir, key)):
            raise RuntimeError("transient failure")
        value = float(np.sum(x * x))
        if self.log is not None:
            with open(self.log, "a") as f:
                f.write(key + "\n")
        return value


def logged_points(log) -> list[str]:
    with open(log) as f:
        return f.read().split()
