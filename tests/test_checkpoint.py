"""Checkpoint format (safe, versioned, checksummed, atomic) and resume of minimize runs, in this process."""

import os

import numpy as np
import pytest

import gfo_native as gn
from gfo_native.distributed import CheckpointError, checkpoint, load_checkpoint, resume, save_checkpoint

BOUNDS = [(-5.0, 5.0)] * 3
RUN = dict(method="random_search", budget=80, seed=5, options={"popsize": 8})


def sphere(x):
    return float(np.sum(x * x))


def same_run(a, b):
    assert np.array_equal(a.x, b.x) and a.fun == b.fun and (a.nfev, a.nit, a.message) == (b.nfev, b.nit, b.message)
    assert all(np.array_equal(a.history[k], b.history[k]) for k in ("nfev", "fun"))
    assert a.n_failed == b.n_failed and a.n_nonfinite == b.n_nonfinite


def test_round_trip_keeps_values_and_types(tmp_path):
    tree = {"f": [0.1, -0.0, float("inf"), float("nan")], "i": 2**64 - 1, "b": True, "n": None, "s": "é",
            "a": np.arange(6, dtype=np.float32).reshape(2, 3), "u": np.array([1, 2], dtype=np.uint64),
            "np": np.float64(1 / 3), "t": (1, "x"), 7: {"d": {"l": []}}, "mask": np.array([True, False])}
    save_checkpoint(tmp_path / "c", tree)
    back = load_checkpoint(tmp_path / "c")
    assert back.keys() == tree.keys() and back[7] == {"d": {"l": []}} and back["t"] == (1, "x")
    assert back["f"][:3] == [0.1, -0.0, float("inf")] and np.isnan(back["f"][3]) and str(back["f"][1]) == "-0.0"
    assert back["i"] == 2**64 - 1 and back["b"] is True and back["n"] is None and back["s"] == "é"
    for k in ("a", "u", "mask"):
        assert back[k].dtype == tree[k].dtype and np.array_equal(back[k], tree[k])
    assert type(back["np"]) is np.float64 and back["np"] == tree["np"]


def test_unstorable_values_and_failed_writes_leave_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "c"
    save_checkpoint(path, {"v": 1})
    with pytest.raises(CheckpointError, match="type object"):
        save_checkpoint(path, {"v": object()})
    with pytest.raises(CheckpointError, match="object array"):
        save_checkpoint(path, {"v": np.array([None])})

    def crash(*a):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"v": 2})
    assert load_checkpoint(path) == {"v": 1} and os.listdir(tmp_path) == ["c"]  # no temporary left behind


def test_corrupt_and_foreign_files_are_refused(tmp_path):
    path = tmp_path / "c"
    save_checkpoint(path, {"v": np.arange(100.0)})
    good = path.read_bytes()
    path.write_bytes(good[:-10])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)
    flipped = bytearray(good)
    flipped[-50] ^= 1
    path.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(path)
    path.write_bytes(good.replace(b'"format": 1', b'"format": 9', 1))
    with pytest.raises(CheckpointError, match="format version 9"):
        load_checkpoint(path)
    path.write_bytes(b"\x80\x04pickle")
    with pytest.raises(CheckpointError, match="not a gfo_native checkpoint"):
        load_checkpoint(path)


def test_resume_after_the_end_and_in_steps(tmp_path):
    full = gn.minimize(sphere, BOUNDS, **RUN)
    ck = tmp_path / "run.ckpt"
    a = gn.minimize(sphere, BOUNDS, **dict(RUN, budget=40), checkpoint=ck, checkpoint_every=2)
    assert load_checkpoint(ck)["optimizer"]["generation"] == a.nit == 5  # the last generation is saved too
    same_run(gn.minimize(sphere, BOUNDS, **RUN, checkpoint=ck, resume=True), full)
    same_run(gn.minimize(sphere, BOUNDS, **RUN, checkpoint=ck, resume=True), full)  # finished: nothing to do
    fresh = gn.minimize(sphere, BOUNDS, **RUN, checkpoint=tmp_path / "new.ckpt", resume=True)  # no file yet
    same_run(fresh, full)


class Abort(BaseException):
    """Stands for the driver dying (not an evaluation error: it is not caught or retried)."""


class CountingAbort:
    def __init__(self, abort_at):
        self.calls, self.abort_at = 0, abort_at

    def __call__(self, x):
        self.calls += 1
        if self.calls == self.abort_at:
            raise Abort
        return sphere(x)


def test_driver_dying_mid_batch_loses_no_evaluation(tmp_path, monkeypatch):
    monkeypatch.setattr(resume, "PARTIAL_EVERY_S", 0.0)  # save after every finished point
    ck = tmp_path / "run.ckpt"
    first = CountingAbort(abort_at=8 * 3 + 5)  # the 5th point of the 4th generation
    with pytest.raises(Abort):
        gn.minimize(first, BOUNDS, **RUN, checkpoint=ck)
    saved = load_checkpoint(ck)
    assert saved["optimizer"]["generation"] == 3 and saved["batch"]["done"].sum() == 4
    second = CountingAbort(abort_at=-1)
    res = gn.minimize(second, BOUNDS, **RUN, checkpoint=ck, resume=True)
    same_run(res, gn.minimize(sphere, BOUNDS, **RUN))
    assert (first.calls - 1) + second.calls == res.nfev  # every point evaluated exactly once over both runs


def test_failures_survive_resume(tmp_path):
    def bad(x):
        if x[0] > 3:
            raise ValueError("no value")
        return sphere(x)

    full = gn.minimize(bad, BOUNDS, **RUN, max_retries=0)
    ck = tmp_path / "run.ckpt"
    gn.minimize(bad, BOUNDS, **dict(RUN, budget=40), max_retries=0, checkpoint=ck)
    res = gn.minimize(bad, BOUNDS, **RUN, max_retries=0, checkpoint=ck, resume=True)
    same_run(res, full)
    assert res.n_failed == full.n_failed > 0
    assert all(np.array_equal(f["x"], g["x"]) and f["error"] == g["error"] for f, g in zip(res.failures, full.failures))


def test_mismatched_checkpoints_are_refused(tmp_path):
    ck = tmp_path / "run.ckpt"
    gn.minimize(sphere, BOUNDS, **dict(RUN, budget=16), checkpoint=ck)
    with pytest.raises(CheckpointError, match="dim=3"):
        gn.minimize(sphere, BOUNDS[:2], **RUN, checkpoint=ck, resume=True)
    with pytest.raises(CheckpointError, match="seed=5"):
        gn.minimize(sphere, BOUNDS, **dict(RUN, seed=6), checkpoint=ck, resume=True)
    with pytest.raises(CheckpointError, match="upper"):
        gn.minimize(sphere, [(-5.0, 4.0)] * 3, **RUN, checkpoint=ck, resume=True)
    tree = load_checkpoint(ck)
    save_checkpoint(ck, dict(tree, identity=dict(tree["identity"], method="cmaes")))
    with pytest.raises(CheckpointError, match="method='cmaes'"):
        gn.minimize(sphere, BOUNDS, **RUN, checkpoint=ck, resume=True)
    save_checkpoint(ck, dict(tree, run_version=99))
    with pytest.raises(CheckpointError, match="run version 99"):
        gn.minimize(sphere, BOUNDS, **RUN, checkpoint=ck, resume=True)
    save_checkpoint(ck, dict(tree, optimizer=dict(tree["optimizer"], version=99)))
    with pytest.raises(CheckpointError, match="version"):
        gn.minimize(sphere, BOUNDS, **RUN, checkpoint=ck, resume=True)
    save_checkpoint(ck, [1, 2])
    with pytest.raises(CheckpointError, match="not a minimize"):
        gn.minimize(sphere, BOUNDS, **RUN, checkpoint=ck, resume=True)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="resume"):
        gn.minimize(sphere, BOUNDS, **RUN, resume=True)
    with pytest.raises(ValueError, match="checkpoint_every"):
        gn.minimize(sphere, BOUNDS, **RUN, checkpoint=tmp_path / "c", checkpoint_every=0)
    with pytest.raises(TypeError, match="checkpoint"):
        gn.minimize(sphere, BOUNDS, **RUN, checkpoint=3)


@pytest.mark.parametrize("method", sorted(gn.OPTIMIZERS))
def test_every_optimizer_resumes_bit_identically(method, tmp_path):
    popsize = gn.OPTIMIZERS[method](BOUNDS, seed=0).popsize
    run = dict(method=method, seed=3, vectorized=True, budget=6 * popsize)
    full = gn.minimize(gn.functions.rastrigin, BOUNDS, **run)
    ck = tmp_path / "run.ckpt"
    # interrupted after 3 generations of the same run (a shorter budget would be another run where a schedule is
    # fitted to the budget: SA's cooling, PSO's elitist learning)
    gn.minimize(gn.functions.rastrigin, BOUNDS, **run, checkpoint=ck, callback=lambda r: r.nit >= 3)
    same_run(gn.minimize(gn.functions.rastrigin, BOUNDS, **run, checkpoint=ck, resume=True), full)


def test_ipop_run_resumes_after_a_restart_grew_the_population(tmp_path):
    # the checkpoint's identity is the configured popsize, not the doubled one of the run in progress
    run = dict(method="cmaes", seed=2, vectorized=True, budget=3000,
               options={"restarts": "ipop", "tolfun": 1e-1, "popsize": 6})
    full = gn.minimize(gn.functions.rastrigin, BOUNDS, **run)
    steps = np.diff(np.concatenate([[0], full.history["nfev"]]))
    grown = np.flatnonzero(steps > 6)
    assert grown.size and grown[0] + 3 < full.nit  # a restart doubled lambda well before the end
    stop_at = int(grown[0]) + 2
    ck = tmp_path / "ipop.ckpt"
    part = gn.minimize(gn.functions.rastrigin, BOUNDS, **run, checkpoint=ck, callback=lambda r: r.nit >= stop_at)
    assert part.nit == stop_at and load_checkpoint(ck)["optimizer"]["popsize"] > 6
    same_run(gn.minimize(gn.functions.rastrigin, BOUNDS, **run, checkpoint=ck, resume=True), full)
    with pytest.raises(CheckpointError, match="popsize"):  # another configured popsize is still refused
        gn.minimize(gn.functions.rastrigin, BOUNDS, **dict(run, options=dict(run["options"], popsize=7)),
                    checkpoint=ck, resume=True)
