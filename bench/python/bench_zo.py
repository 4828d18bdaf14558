"""Zeroth-order training (MeZO) on a >= 10M-parameter MLP: memory, step time against the reference approach,
and the perturbation/update passes against the memory roofline. One run.

Usage: ``PYTHONPATH=python python bench/python/bench_zo.py [--quick]``; writes ``bench/results/zo.md``.

* Peak memory: each operation runs in a fresh subprocess (so no allocator state carries over), after the
  model and batch exist. The peak resident set (``VmHWM``) is reset through ``/proc/self/clear_refs`` just
  before the operation and read after it; the figure is ``VmHWM - VmRSS before`` — what the operation needs
  on top of the weights and data, including memory the allocator takes from the OS and frees again, which
  tracemalloc cannot see (torch allocates outside Python's allocator). The operation runs twice (the first
  time includes one-off initialisation); the larger peak counts.
* Step time: ``gfo_native.torch.MeZO`` against a re-implementation of the MeZO reference code's approach
  (Malladi et al. 2023): ``torch.manual_seed(step_seed)`` then ``z = torch.normal(...)`` tensor by tensor,
  ``param.data = param.data + scale * eps * z``, four noise passes per step (+eps, -2 eps, +eps, update).
  Both run the same model, batch and forward passes, interleaved, medians.
* Passes: one perturbation pass and one fused restore+update pass of our kernel over all parameters,
  bytes moved = read + write of every parameter, against the copy bandwidth measured in this run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import copy_bandwidth, parse_args, skip, table, timeit, write_results  # noqa: E402

HIDDEN, LAYERS, D_IN, BATCH = 2048, 3, 1024, 32


def build(hidden=HIDDEN, layers=LAYERS, batch=BATCH):
    import torch

    torch.manual_seed(0)
    mods, d = [], D_IN
    for _ in range(layers):
        mods += [torch.nn.Linear(d, hidden), torch.nn.ReLU()]
        d = hidden
    mods.append(torch.nn.Linear(d, 10))
    model = torch.nn.Sequential(*mods)
    g = torch.Generator().manual_seed(1)
    X, y = torch.randn(batch, D_IN, generator=g), torch.randint(0, 10, (batch,), generator=g)
    return model, X, y


def reference_mezo(model, lr, eps, wd):
    """The MeZO reference code's way, re-implemented: z regenerated through torch's global generator."""
    import torch

    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    rng = np.random.default_rng(0)  # the reference draws each step's seed from NumPy

    def perturb(seed, scale):
        torch.manual_seed(seed)
        for _, p in named:
            z = torch.normal(mean=0, std=1, size=p.data.size(), dtype=p.data.dtype)
            p.data = p.data + scale * z * eps

    @torch.no_grad()
    def step(closure):
        seed = int(rng.integers(1_000_000_000))
        perturb(seed, 1)
        l1 = closure()
        perturb(seed, -2)
        l2 = closure()
        g = float((l1 - l2) / (2 * eps))
        perturb(seed, 1)
        torch.manual_seed(seed)
        for n, p in named:
            z = torch.normal(mean=0, std=1, size=p.data.size(), dtype=p.data.dtype)
            if "bias" not in n:
                p.data = p.data - lr * (g * z + wd * p.data)
            else:
                p.data = p.data - lr * (g * z)
        return l1

    return step


def idle_workers_cpu(region, sleep=0.05, repeat=9):
    """Process CPU time per second of wall time while the main thread sleeps right after ``region``: the
    OpenMP workers still spinning (0 when they went to sleep at once)."""
    out = []
    for _ in range(repeat):
        region()
        c0 = time.process_time()
        time.sleep(sleep)
        out.append((time.process_time() - c0) / sleep)
    return float(np.median(out))


def _vm(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def memory_child(kind, hidden, layers, batch):
    """Runs in a fresh process: prints JSON {peak, rss_before, params_bytes}."""
    import torch
    import torch.nn.functional as F

    import gfo_native.torch as gt

    model, X, y = build(hidden, layers, batch)
    f = lambda: F.cross_entropy(model(X), y)  # noqa: E731
    if kind == "inference":
        op = lambda: torch.no_grad()(f)()  # noqa: E731
    elif kind == "mezo":
        opt = gt.MeZO(model.parameters(), lr=1e-6, eps=1e-3)
        op = lambda: opt.step(f)  # noqa: E731
    elif kind == "mezo-reference":
        op = lambda: reference_mezo(model, 1e-6, 1e-3, 0.0)(f)  # noqa: E731
    else:  # backprop with Adam
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)

        def op():
            opt.zero_grad(set_to_none=True)
            f().backward()
            opt.step()
    rss0 = _vm("VmRSS")
    peak = 0
    for _ in range(2):
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset VmHWM to the current RSS
        op()
        peak = max(peak, _vm("VmHWM") - rss0)
    nbytes = sum(p.numel() * p.element_size() for p in model.parameters())
    print(json.dumps({"peak": peak, "rss_before": rss0, "params_bytes": nbytes}))


def measure_memory(kind, hidden, layers, batch):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, __file__, "--memory-child", kind, str(hidden), str(layers), str(batch)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--memory-child":
        memory_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        return
    args = parse_args(__doc__.splitlines()[0])
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        skip("torch", "not installed: nothing to benchmark")
        return
    import gfo_native as gn
    import gfo_native.torch as gt
    from gfo_native.torch import _zo_kernels as K

    hidden, layers = (512, 2) if args.quick else (HIDDEN, LAYERS)
    repeat = 3 if args.quick else 9
    model, X, y = build(hidden, layers)
    params = list(model.parameters())
    n = sum(p.numel() for p in params)
    sections = [f"Model: MLP {D_IN}-" + "-".join([str(hidden)] * layers) + f"-10, {n / 1e6:.2f}M float32 parameters "
                f"({n * 4 / 2**20:.1f} MiB), batch {BATCH}; torch {torch.__version__} with "
                f"{torch.get_num_threads()} threads, gfo_native with {gn.get_num_threads()} OpenMP threads."]

    # -- memory -------------------------------------------------------------------------------------------
    mem = {k: measure_memory(k, hidden, layers, BATCH) for k in ("inference", "mezo", "mezo-reference", "adam")}
    base = mem["inference"]["peak"]
    wb = mem["inference"]["params_bytes"]
    rows = [(k, mem[k]["peak"] / 2**20, mem[k]["peak"] / base if base > 0 else float("nan"),
             (wb + mem[k]["peak"]) / 2**20, (wb + mem[k]["peak"]) / (wb + base)) for k in mem]
    sections.append("### Peak memory of one step (fresh process each)\n\n"
                    "`step peak` is what the step needs on top of the weights and batch; `weights + step` adds the "
                    "parameters themselves (the model's footprint while it trains; the interpreter and libraries, "
                    "the same in every process, are left out).\n\n"
                    + table(["operation", "step peak MiB", "x inference", "weights + step MiB", "x inference"], rows))

    # -- step time ----------------------------------------------------------------------------------------
    f = lambda: F.cross_entropy(model(X), y)  # noqa: E731
    ours = gt.MeZO(params, lr=1e-7, eps=1e-3, seed=0)
    ours_r = gt.MeZO(params, lr=1e-7, eps=1e-3, seed=1, distribution="rademacher")
    ref_step = reference_mezo(model, 1e-7, 1e-3, 0.0)
    fwd = lambda: torch.no_grad()(f)()  # noqa: E731
    t = {"ours": [], "ours-rademacher": [], "reference": [], "forward": []}
    for fn in (lambda: ours.step(f), lambda: ours_r.step(f), lambda: ref_step(f), fwd):
        fn()  # warm-up
    for _ in range(repeat):  # interleaved, so load changes hit all alike
        for key, fn in (("ours", lambda: ours.step(f)), ("ours-rademacher", lambda: ours_r.step(f)),
                        ("reference", lambda: ref_step(f)), ("forward", fwd)):
            t0 = time.perf_counter()
            fn()
            t[key].append(time.perf_counter() - t0)
    med = {k: float(np.median(v)) for k, v in t.items()}
    rows = [("MeZO reference approach (torch.normal x4)", med["reference"] * 1e3, 1.0,
             (med["reference"] - 2 * med["forward"]) * 1e3),
            ("gfo_native MeZO, Gaussian", med["ours"] * 1e3, med["reference"] / med["ours"],
             (med["ours"] - 2 * med["forward"]) * 1e3),
            ("gfo_native MeZO, Rademacher", med["ours-rademacher"] * 1e3, med["reference"] / med["ours-rademacher"],
             (med["ours-rademacher"] - 2 * med["forward"]) * 1e3),
            ("one forward pass", med["forward"] * 1e3, float("nan"), float("nan"))]
    sections.append("### MeZO step time (2 forward passes + noise passes)\n\n"
                    + table(["implementation", "step ms", "speedup vs reference", "step - 2 forwards, ms"], rows))

    # -- passes vs roofline ---------------------------------------------------------------------------------
    bw = copy_bandwidth()
    nbytes = 2 * 4 * n  # read + write of every float32 parameter
    streams = K.direction_streams([10**6, 10**6 + 1], len(params))
    coefs = np.array([1e-3, 0.0], np.float32)
    lrs = [1e-9] * len(params)
    rows = []
    with torch.no_grad():
        for dist_name, dist in (("gaussian", 0), ("rademacher", 1)):
            for label, kw in (("perturb (+eps z)", dict(ops=[(0, 1e-3)])),
                              ("restore + update (fused)", dict(ops=[(0, 1e-3)], coefs=coefs, lrs=lrs))):
                for th in (1, 2):
                    gn.set_num_threads(th)
                    tp = timeit(lambda: K.zo_apply(params, seed=3, distribution=dist, streams=streams, **kw),
                                repeat=repeat)
                    rows.append((f"{label}, {dist_name}", th, tp * 1e3, nbytes / tp / 1e9, nbytes / tp / bw))
        gn.set_num_threads(max(2, gn.get_num_threads()))
        g = torch.Generator().manual_seed(0)

        def torch_pass():
            for p in params:
                p.data = p.data + 1e-3 * torch.normal(0.0, 1.0, size=p.shape, generator=g)

        tp = timeit(torch_pass, repeat=repeat)
        rows.append(("reference pass (torch.normal + add)", torch.get_num_threads(), tp * 1e3, nbytes / tp / 1e9,
                     nbytes / tp / bw))
    # -- idle OpenMP workers next to torch (docs/DESIGN.md, "Threads next to torch") --------------------------
    gomp = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libgomp" in line}) \
        if os.path.exists("/proc/self/maps") else []
    with torch.no_grad():
        spin_fwd = idle_workers_cpu(fwd)
        spin_zo = idle_workers_cpu(lambda: K.zo_apply(params, seed=3, distribution=1, streams=streams, ops=[(0, 1e-3)]))
    spin_note = (f"OpenMP runtimes loaded: {len(gomp)} ({', '.join(gomp) or 'unknown'}). CPU time burnt by idle "
                 f"workers in the 50 ms after a region (cores busy, median): after a torch forward {spin_fwd:.2f}, "
                 f"after a zo pass {spin_zo:.2f}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}.")
    print(spin_note)
    sections.append(f"### Perturbation and update passes vs memory bandwidth\n\nCopy bandwidth measured in this run: "
                    f"{bw / 1e9:.1f} GB/s (read + write). Bytes per pass: {nbytes / 2**20:.0f} MiB (read + write "
                    f"of each parameter).\n\n"
                    + table(["pass", "threads", "ms", "GB/s", "fraction of copy bandwidth"], rows)
                    + "\n\n" + spin_note)
    speedups = {"MeZO step vs reference (Gaussian)": med["reference"] / med["ours"],
                "MeZO step vs reference (Rademacher)": med["reference"] / med["ours-rademacher"]}
    write_results("zo", "Zeroth-order training (MeZO) on a 10M-parameter MLP", "\n\n".join(sections),
                  speedups=speedups)


if __name__ == "__main__":
    main()
