"""Parallel evaluation (process pool, threads, Ray): same result as serial, faults handled, driver killed."""

import concurrent.futures as cf
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from _dist_objectives import Objective, logged_points

import gfo_native as gn
from gfo_native.distributed import ExecutorEvaluator, RayEvaluator, SerialEvaluator, load_checkpoint

BOUNDS = [(-5.0, 5.0)] * 3
RUN = dict(method="random_search", budget=48, seed=11, options={"popsize": 8})
# Worker processes (forkserver children, Ray workers, the driver subprocess) import the package and the
# test objectives from these paths.
PATHS = [str(Path(gn.__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]


def process_pool():
    # forkserver: forking a process that runs Ray's threads is unsafe. The server imports the package and
    # the objectives once; each pool's workers fork from it ready to run.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["gfo_native", "_dist_objectives"])
    return cf.ProcessPoolExecutor(2, mp_context=ctx)


@pytest.fixture(scope="module")
def ray_evaluator():
    """One local Ray (2 CPUs) and one 2-actor evaluator shared by the module's Ray tests (startup is slow)."""
    try:
        import ray
    except ImportError:
        pytest.skip("Ray is not installed (pip install gfo-native[ray]); the Ray tests need it")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", os.pathsep.join(PATHS))  # inherited by the raylet and its workers
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ev = RayEvaluator(num_workers=2)
    yield ev
    ev.close()
    ray.shutdown()


@pytest.fixture(params=["pool", "ray"])
def executor(request):
    """What minimize(executor=...) gets: a pool factory (so dead workers can be replaced), or Ray actors."""
    if request.param == "ray":
        return request.getfixturevalue("ray_evaluator")
    return process_pool


def same_run(a, b):
    assert np.array_equal(a.x, b.x) and a.fun == b.fun
    assert (a.nfev, a.nit, a.n_nonfinite, a.n_failed, a.message) == (b.nfev, b.nit, b.n_nonfinite, b.n_failed,
                                                                      b.message)
    for k in ("nfev", "fun"):
        assert np.array_equal(a.history[k], b.history[k])
    assert [f["error"].splitlines()[0] for f in a.failures] == [f["error"].splitlines()[0] for f in b.failures]
    assert all(np.array_equal(f["x"], g["x"]) for f, g in zip(a.failures, b.failures))


def test_parallel_equals_serial(executor):
    serial = gn.minimize(Objective(), BOUNDS, **RUN)
    same_run(gn.minimize(Objective(), BOUNDS, **RUN, executor=executor), serial)
    # vectorized: each worker gets a chunk of the batch
    vec = gn.minimize(gn.functions.sphere, BOUNDS, **RUN, vectorized=True, executor=executor)
    assert np.array_equal(vec.history["fun"], serial.history["fun"]) and np.array_equal(vec.x, serial.x)


def test_raising_objective_is_retried_then_recorded(executor, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ref = gn.minimize(Objective(fail_above=3.0, flaky_dir=str(tmp_path / "a")), BOUNDS, **RUN, max_retries=1)
    res = gn.minimize(Objective(fail_above=3.0, flaky_dir=str(tmp_path / "b")), BOUNDS, **RUN, max_retries=1,
                      executor=executor)
    same_run(res, ref)
    assert res.nfev == RUN["budget"] and res.n_failed > 0 and res.n_nonfinite >= res.n_failed
    for f in res.failures:  # only the points that always raise: the transient ones succeeded on retry
        assert f["x"][0] > 3.0 and "ValueError: no value at" in f["error"] and f["attempts"] == 2
    assert len(os.listdir(tmp_path / "b")) > 0  # transient failures did happen
    with pytest.raises(ValueError, match="no value at"):  # max_retries=None: the first exception stops the run
        gn.minimize(Objective(fail_above=3.0), BOUNDS, **RUN, executor=executor)


def test_killed_worker_is_replaced_nothing_lost(executor, tmp_path):
    serial_log, log = str(tmp_path / "serial.log"), str(tmp_path / "parallel.log")
    serial = gn.minimize(Objective(log=serial_log), BOUNDS, **RUN)
    res = gn.minimize(Objective(log=log, kill_dir=str(tmp_path)), BOUNDS, **RUN, executor=executor)
    assert (tmp_path / "killed").exists()  # a worker did die mid-run
    same_run(res, serial)
    assert res.n_failed == 0 and res.nfev == RUN["budget"]
    done = logged_points(log)
    assert set(done) == set(logged_points(serial_log)) and len(set(done)) == res.nfev
    if executor is not process_pool:
        # Ray loses only the dead actor's unit; a broken process pool also loses finished-but-unreported ones.
        assert len(done) == res.nfev


def test_driver_killed_and_resumed(executor, tmp_path):
    ckpt = tmp_path / "run.ckpt"
    run = dict(RUN, budget=128)
    kind = "pool" if executor is process_pool else "ray"
    if kind == "ray":
        import ray

        executor.close()  # free the 2 CPUs for the subprocess's actors
        address = ray.get_runtime_context().gcs_address
    ex = "process_pool" if kind == "pool" else f"gn.distributed.RayEvaluator(2, address={address!r})"
    script = tmp_path / "driver.py"
    script.write_text(
        "import gfo_native as gn\nfrom _dist_objectives import Objective\n"
        "from test_distributed import BOUNDS, process_pool\n"
        "if __name__ == '__main__':\n"  # the pool's forkserver imports this module again
        f"    gn.minimize(Objective(sleep=0.02), BOUNDS, **{run!r}, executor={ex}, checkpoint={str(ckpt)!r}, "
        "resume=True)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(PATHS))
    with open(tmp_path / "driver.out", "w") as out:
        # Its own process group, so the cleanup below can also kill the forkserver and workers it started
        # (they outlive a SIGKILLed driver and would linger after the suite).
        proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    generations = run["budget"] // 8
    deadline = time.monotonic() + 120
    try:
        while True:
            assert proc.poll() is None, (tmp_path / "driver.out").read_text()[-3000:]
            assert time.monotonic() < deadline, "the driver wrote no checkpoint in time"
            if ckpt.exists() and load_checkpoint(ckpt)["optimizer"]["generation"] >= 3:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == -signal.SIGKILL
    assert load_checkpoint(ckpt)["optimizer"]["generation"] < generations  # killed mid-run
    resumed = gn.minimize(Objective(), BOUNDS, **run, executor=executor, checkpoint=ckpt, resume=True)
    same_run(resumed, gn.minimize(Objective(), BOUNDS, **run))
    assert resumed.nfev == run["budget"]


def test_broken_pool_instance_is_reported(tmp_path):
    pool = process_pool()
    try:
        with pytest.raises(RuntimeError, match="factory"):
            gn.minimize(Objective(kill_dir=str(tmp_path)), BOUNDS, **RUN, executor=pool)
    finally:
        pool.shutdown()


def test_ask_tell_with_an_evaluation():
    opt_a, opt_b = gn.RandomSearch(BOUNDS, popsize=6, seed=3), gn.RandomSearch(BOUNDS, popsize=6, seed=3)
    with cf.ThreadPoolExecutor(3) as pool, ExecutorEvaluator(pool).bind(Objective()) as evaluate, \
            SerialEvaluator().bind(Objective()) as serial:
        for _ in range(4):
            Xa, Xb = opt_a.ask(), opt_b.ask()
            opt_a.tell(Xa, evaluate(Xa))
            opt_b.tell(Xb, serial(Xb))
        assert evaluate.n_failed == 0 and evaluate.failures == []
    assert np.array_equal(opt_a.best_x, opt_b.best_x) and opt_a.nfev == opt_b.nfev == 24


def test_ray_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install gfo-native\[ray\]"):
        RayEvaluator(num_workers=2).bind(Objective())


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="executor"):
        gn.minimize(Objective(), BOUNDS, **RUN, executor=3)
    with pytest.raises(TypeError, match="executor"):
        gn.minimize(Objective(), BOUNDS, **RUN, executor=lambda: "not a pool")
    with pytest.raises(ValueError, match="max_retries"):
        gn.minimize(Objective(), BOUNDS, **RUN, max_retries=-1)
    with pytest.raises(ValueError, match="num_workers"):
        RayEvaluator(num_workers=0)
    with pytest.raises(ValueError, match="max_resubmits"):
        ExecutorEvaluator(process_pool, max_resubmits=-2)


def test_unpickled_arrays_reach_native_kernels():
    # Workers receive unpickled arrays, whose dtype is an equal but distinct instance.
    import pickle

    for dtype in (np.float32, np.float64):
        X = pickle.loads(pickle.dumps(np.arange(12.0, dtype=dtype).reshape(4, 3)))
        assert np.array_equal(gn.functions.sphere(X), gn.reference.functions.sphere(X))
