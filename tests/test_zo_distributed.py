"""Seed-distributed MeZO/ES over torch.distributed (gloo, 2 processes on localhost): ranks exchange only
scalar losses, yet end bit-identical to each other and to a single process evaluating the same directions."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("torch.distributed is not available", allow_module_level=True)

WORKER = Path(__file__).with_name("_zo_dist_worker.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_workers(tmp_path, kind, suffix, single=False):
    """Run the worker of ``kind`` as 2 ranks (and, with ``single``, as one process evaluating the same
    directions); every one must exit 0. Returns the paths of their results (rank 0, rank 1, single)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), OMP_NUM_THREADS="1")
    port = str(_free_port())
    outs = [tmp_path / f"rank{r}{suffix}" for r in range(2)] + ([tmp_path / f"single{suffix}"] if single else [])
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(r), "2", port, kind, str(outs[r])], env=env)
             for r in range(2)]
    if single:
        procs.append(subprocess.Popen([sys.executable, str(WORKER), "0", "1", "0", kind, str(outs[2])], env=env))
    try:
        for i, p in enumerate(procs):
            rc = p.wait(timeout=120)
            assert rc == 0, f"worker {i} ({'single process' if i == 2 else f'rank {i}'}) exited {rc}; " \
                            f"its results {'were' if outs[i].exists() else 'were not'} saved"
    finally:  # a rank left waiting in a collective would outlive the test
        for p in procs:
            if p.poll() is None:
                p.kill()
    return outs


@pytest.mark.parametrize("kind", ["mezo", "es", "mezo-channels-last"])
def test_two_ranks_bit_identical_and_equal_to_single_process(tmp_path, kind):
    r0, r1, single = (torch.load(o) for o in _run_workers(tmp_path, kind, ".pt", single=True))
    for a, b, c in zip(r0["params"], r1["params"], single["params"]):
        assert torch.equal(a, b) and a.stride() == b.stride()
        assert torch.equal(a, c) and a.stride() == c.stride()
    assert r0["losses"] == r1["losses"] == single["losses"]
    assert not any(torch.equal(a, b) for a, b in zip(r0["params"], r0["init"]))  # the run moved every tensor
    if kind == "mezo-channels-last":
        assert not r0["params"][0].is_contiguous()  # it trained in channels_last memory


def test_ranks_with_different_settings_refuse_at_construction(tmp_path):
    outs = _run_workers(tmp_path, "settings", ".json")
    expected = {"seed": "seed: ranks were given different seeds", "eps": "eps: ranks were given different values",
                "n_directions": "n_directions: ranks were given different values",
                "lr": "lr: ranks were given different values", "none": "accepted"}
    for o in outs:
        got = json.loads(o.read_text())
        assert set(got) == set(expected)
        assert all(got[k].startswith(v) for k, v in expected.items()), got


def test_a_closure_raising_on_one_rank_abandons_the_step_on_every_rank(tmp_path):
    # The other rank must not wait forever in the all-reduce: both abandon the step alike and go on.
    from gfo_native.torch import replay

    r0, r1 = (torch.load(o) for o in _run_workers(tmp_path, "failing", ".pt"))
    assert r1["caught"] == [None, "ValueError: boom", None, None]
    assert r0["caught"][0] is None and r0["caught"][2:] == [None, None]
    assert r0["caught"][1].startswith("RuntimeError: closure: raised on 1 other rank(s) of 2")
    assert r0["log"] == r1["log"]
    steps = r0["log"]["steps"]
    assert len(steps) == 4 and "coefs" not in steps[1] and steps[1]["trips"] == 4
    assert all("coefs" in s for i, s in enumerate(steps) if i != 1)
    torch.manual_seed(0)
    fresh = list(torch.nn.Linear(8, 3).parameters())
    with torch.no_grad():
        replay(fresh, r0["log"])
    for a, b, c in zip(r0["params"], r1["params"], fresh):
        assert torch.equal(a, b) and torch.equal(a, c)
