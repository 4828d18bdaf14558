"""Zeroth-order training (MeZO) on a >= 10M-parameter MLP: memory, step time against the reference approach,
and the perturbation/update passes against the memory roofline. One run.

Usage: ``PYTHONPATH=python python bench/python/bench_zo.py [--quick]``; writes ``bench/results/zo.md``.

* Peak memory: each operation (a no-grad forward with the loss, MeZO and ES steps, the reference-style MeZO
  step, an Adam backprop step) runs in fresh subprocesses, after the model and batch exist, twice per process.
  The figure that decides is the peak of CPU tensor bytes above those allocated before the call, counted from
  torch's allocator events (``gfo_native.torch._memory``: exact, the same in every run); tracemalloc's peak
  gives the Python/NumPy side. The resident-set high-water mark (``VmHWM`` reset through
  ``/proc/self/clear_refs``, minus the RSS just before the call; first and second call) is shown next to them
  with its spread over the runs: it also sees code pages faulted in, thread and library initialisation and
  glibc arena growth, and moves by up to a megabyte between identical runs.
* Step time: ``gfo_native.torch.MeZO`` against a re-implementation of the MeZO reference code's approach
  (Malladi et al. 2023): ``torch.manual_seed(step_seed)`` then ``z = torch.normal(...)`` tensor by tensor,
  ``param.data = param.data + scale * eps * z``, four noise passes per step (+eps, -2 eps, +eps, update).
  Both run the same model, batch and forward passes, interleaved, medians.
* Passes: one perturbation pass and one fused restore+update pass of our kernel over all parameters,
  bytes moved = read + write of every parameter, against the memory roofline: each pass is timed in rounds
  alternating with ``gfo_native.roofline``'s in-place stream over the same bytes on the same threads, and the
  fraction is the median of the per-round ratios (the parallel copy and in-place figures of the run are
  printed beside them).
* The generator alone: the same number of random values generated into a buffer that stays in the caches,
  timed in the same paired rounds: how fast a pass could go if memory cost nothing.
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
from _common import (paired_with_roofline, parse_args, roofline, roofline_note, skip, table,  # noqa: E402
                     write_results)

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
            z = torch.normal(mean=0, std=1, size=p.data.size(), dtype=p.data.dtype, device=p.data.device)
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
            z = torch.normal(mean=0, std=1, size=p.data.size(), dtype=p.data.dtype, device=p.data.device)
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


MEMORY_KINDS = ("inference", "mezo", "mezo-rademacher", "es", "mezo-reference", "adam")


def memory_op(kind, model, X, y):
    """The operation measured for ``kind``: one no-grad forward with the loss, or one training step."""
    import torch
    import torch.nn.functional as F

    import gfo_native.torch as gt

    f = lambda: F.cross_entropy(model(X), y)  # noqa: E731
    if kind == "inference":
        return lambda: torch.no_grad()(f)()
    if kind in ("mezo", "mezo-rademacher"):
        opt = gt.MeZO(model.parameters(), lr=1e-6, eps=1e-3,
                      distribution="rademacher" if kind == "mezo-rademacher" else "gaussian")
        return lambda: opt.step(f)
    if kind == "es":
        es = gt.ES(model.parameters(), lr=1e-6, sigma=1e-3, population=4)
        return lambda: es.step(f)
    if kind == "mezo-reference":
        step = reference_mezo(model, 1e-6, 1e-3, 0.0)
        return lambda: step(f)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)  # backprop

    def adam_step():
        opt.zero_grad(set_to_none=True)
        f().backward()
        opt.step()
    return adam_step


def memory_child(kind, method, hidden, layers, batch):
    """Runs in a fresh process; prints JSON. ``method`` "count": the allocation counters of
    ``gfo_native.torch._memory`` (tensor bytes, tracemalloc bytes) over two calls; "rss": each of two calls'
    resident-set high-water mark above the RSS just before it and, when the process runs with
    ``LD_PRELOAD=<_malloc_count.c built>``, its heap peak above the heap held just before it."""
    model, X, y = build(hidden, layers, batch)
    op = memory_op(kind, model, X, y)
    fixed = sum(p.numel() * p.element_size() for p in model.parameters()) + X.nbytes + y.nbytes
    out = {"fixed_bytes": fixed}
    if method == "count":
        from gfo_native.torch._memory import peak_bytes

        peaks = [peak_bytes(op) for _ in range(2)]  # the first call includes one-off state (Adam's moments)
        out.update(tensor=[p.tensor for p in peaks], python=[p.python for p in peaks])
    else:
        heap = None
        if os.environ.get("LD_PRELOAD", "").endswith("malloc_count.so"):
            import ctypes

            heap = ctypes.CDLL(os.environ["LD_PRELOAD"])
            heap.gfo_malloc_current.restype = heap.gfo_malloc_peak.restype = ctypes.c_longlong
        out["rss"], out["heap"] = [], []
        for _ in range(2):
            rss0 = _vm("VmRSS")
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")  # reset VmHWM to the current RSS
            if heap is not None:
                heap.gfo_malloc_reset_peak()
                h0 = heap.gfo_malloc_current()
            op()
            out["rss"].append(_vm("VmHWM") - rss0)
            out["heap"].append(heap.gfo_malloc_peak() - h0 if heap is not None else float("nan"))
    print(json.dumps(out))


def malloc_counter():
    """Builds bench/python/_malloc_count.c into a temporary directory; None (with a message) without a compiler."""
    import shutil
    import tempfile

    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        skip("malloc counter", "no C compiler (cc) to build bench/python/_malloc_count.c")
        return None
    out = Path(tempfile.mkdtemp(prefix="gfo_malloc_count_")) / "malloc_count.so"
    src = Path(__file__).with_name("_malloc_count.c")
    r = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(out), str(src)], capture_output=True, text=True)
    if r.returncode != 0:
        skip("malloc counter", f"build failed: {r.stderr.strip()[:200]}")
        return None
    return str(out)


def measure_memory(kind, method, hidden, layers, batch, preload=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    if preload:
        env["LD_PRELOAD"] = preload
    out = subprocess.run([sys.executable, __file__, "--memory-child", kind, method, str(hidden), str(layers),
                          str(batch)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_section(hidden, layers, runs):
    """The measures, each kind in fresh processes: the tensor/Python counters in ``max(1, runs - 1)`` processes
    (they do not move), the heap counter and the RSS (together) in ``runs``."""
    mib = 2**20
    cnt = {k: [measure_memory(k, "count", hidden, layers, BATCH) for _ in range(max(1, runs - 1))]
           for k in MEMORY_KINDS}
    lib = malloc_counter()
    res = {k: [measure_memory(k, "rss", hidden, layers, BATCH, lib) for _ in range(runs)] for k in MEMORY_KINDS}
    rss1, rss2, heap1, heap2 = ({k: [r[key][i] for r in v] for k, v in res.items()}
                                for key, i in (("rss", 0), ("rss", 1), ("heap", 0), ("heap", 1)))
    fixed = cnt["inference"][0]["fixed_bytes"]
    tensor = {k: [max(r["tensor"]) for r in v] for k, v in cnt.items()}
    py1 = {k: [r["python"][0] for r in v] for k, v in cnt.items()}  # includes first-call imports and caches
    py2 = {k: [r["python"][1] for r in v] for k, v in cnt.items()}
    base_t, base_h = max(tensor["inference"]), float(np.median(heap2["inference"]))
    base1 = float(np.median(rss1["inference"]))

    def spread(v, scale=1.0):  # "min to max" over the runs, one figure where they print alike
        lo, hi = f"{min(v) / scale:.3g}", f"{max(v) / scale:.3g}"
        return lo if lo == hi else f"{lo} to {hi}"

    rows = []
    for k in MEMORY_KINDS:
        t = max(tensor[k])
        rows.append((k, spread(tensor[k], mib), t / base_t, (fixed + t) / (fixed + base_t),
                     spread(heap1[k], mib), spread(heap2[k], mib), spread([h / base_h for h in heap2[k]]),
                     spread(py1[k], 1024), spread(py2[k], 1024), spread(rss1[k], mib),
                     spread([r / base1 for r in rss1[k]]), spread(rss2[k], mib)))
    text = (f"### Peak memory of one step (fresh processes: {max(1, runs - 1)} for tensor/Python, {runs} for heap "
            f"and RSS)\n\n"
            f"The weights and the batch ({fixed / mib:.1f} MiB) exist before the step; every figure is what the "
            f"step allocates on top of them at its peak, against one `torch.no_grad()` forward with the loss on "
            f"the same batch (`inference`). MeZO and ES: two-sided, Gaussian unless named; ES with 4 antithetic "
            f"pairs.\n\n"
            f"- **Tensor bytes** (the measure that decides): every CPU tensor allocation and free reported by "
            f"torch's allocator (torch.profiler with `profile_memory=True`, summed in time order: "
            f"`gfo_native.torch._memory`); exact, the same in every run. Two calls per process, the larger peak "
            f"counts (the first includes one-off state such as Adam's moments). `+ weights` adds the weights and "
            f"batch to both sides.\n"
            f"- **Heap**: every byte held through malloc/calloc/realloc/posix_memalign/free (tensors, NumPy "
            f"buffers, BLAS scratch, our kernels' C++ buffers; `bench/python/_malloc_count.c`, LD_PRELOADed into "
            f"the measuring process), peak above the bytes held just before the call. The first call includes "
            f"one-off state (the forward's first call alone holds ~3 MiB more: library initialisation; Adam's "
            f"moments); the second is the steady state, x inference against inference's median second call.\n"
            f"- **Python**: tracemalloc's peak (Python objects, NumPy buffers), first call (imports modules, fills "
            f"caches) and second.\n"
            f"- **RSS**: the resident-set high-water mark (`VmHWM` reset through `/proc/self/clear_refs`) above the "
            f"RSS just before the call. The first call carries one-off costs (code pages faulted in, thread and "
            f"library initialisation, glibc arena growth), most of the ~8 MiB; the second is a few pages. It moves "
            f"by up to a megabyte between identical runs; x inference is against the median first-call RSS of "
            f"inference.\n\n"
            + table(["operation", "tensor MiB", "x inference", "+ weights, x inference", "heap MiB 1st call",
                     "heap MiB 2nd call", "x inference",
                     "Python KiB 1st call",
                     "Python KiB 2nd call", "RSS MiB 1st call", "x inference", "RSS MiB 2nd call"], rows))
    return text


CHUNK = 1 << 18  # values per call of the generator-only loop: 1 MiB, in the caches (L2 + L3), few parallel regions


def generator_only(fill, n, dtype):
    """n values of one stream from fill (a gfo_native._core.rng_* kernel), CHUNK at a time into one buffer."""
    buf = np.empty(CHUNK, dtype)

    def run():
        for offset in range(0, n, CHUNK):
            fill(3, 5, offset, buf[:min(CHUNK, n - offset)])
    return run


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--memory-child":
        memory_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
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
    from gfo_native import _core
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
    mem_text = memory_section(hidden, layers, 1 if args.quick else 3)
    print(mem_text)
    sections.append(mem_text)

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
    roof = roofline()
    cores = gn.get_num_threads()  # the default: every core (a many-core host shows where the passes stop scaling)
    nbytes = 2 * 4 * n  # read + write of every float32 parameter
    streams = K.direction_streams([10**6, 10**6 + 1], len(params))
    coefs = np.array([1e-3, 0.0], np.float32)
    lrs = [1e-9] * len(params)
    rows = []
    with torch.no_grad():
        for dist_name, dist in (("gaussian", 0), ("rademacher", 1)):
            for label, kw in (("perturb (+eps z)", dict(ops=[(0, 1e-3)])),
                              ("restore + update (fused)", dict(ops=[(0, 1e-3)], coefs=coefs, lrs=lrs))):
                for th in sorted({1, 2, cores}):
                    gn.set_num_threads(th)  # the paired roofline runs on the same threads
                    pr = paired_with_roofline(
                        lambda: K.zo_apply(params, seed=3, distribution=dist, streams=streams, **kw), nbytes, repeat)
                    rows.append((f"{label}, {dist_name}", th, pr.seconds * 1e3, nbytes / pr.seconds / 1e9,
                                 pr.roofline / 1e9, pr.fraction))
        gn.set_num_threads(cores)
        g = torch.Generator().manual_seed(0)

        def torch_pass():
            for p in params:
                p.data = p.data + 1e-3 * torch.normal(0.0, 1.0, size=p.shape, generator=g)

        pr = paired_with_roofline(torch_pass, nbytes, repeat)
        rows.append(("reference pass (torch.normal + add)", torch.get_num_threads(), pr.seconds * 1e3,
                     nbytes / pr.seconds / 1e9, pr.roofline / 1e9, pr.fraction))
    # -- the generator alone: how fast a pass could go if memory cost nothing --------------------------------
    ceiling = []
    for label, fill in (("Philox4x32-10 words alone", _core.rng_bits), ("float32 normals alone (Philox + Box-Muller)",
                                                                       _core.rng_normal)):
        for th in sorted({1, 2, cores}):
            gn.set_num_threads(th)
            pr = paired_with_roofline(generator_only(fill, n, np.uint32 if fill is _core.rng_bits else np.float32),
                                      nbytes, repeat)
            ceiling.append((label, th, pr.seconds * 1e3, nbytes / pr.seconds / 1e9, pr.roofline / 1e9, pr.fraction))
    gn.set_num_threads(cores)
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
    sections.append(f"### Perturbation and update passes vs memory bandwidth\n\n{roofline_note(roof)} Bytes per "
                    f"pass: {nbytes / 2**20:.0f} MiB (read + write of each parameter). Each pass is timed in rounds "
                    "alternating with the roofline's in-place stream over the same bytes on the same threads "
                    "(the machine's bandwidth drifts); the fraction is the median of the per-round ratios.\n\n"
                    + "The last column divides each pass's GB/s by the copy bandwidth measured at the start of "
                    f"this section on {roof.threads} threads ({roof.copy / 1e9:.1f} GB/s), the measure MeZO's target "
                    "names; a copy also reads its destination before writing it, which an in-place pass never does, "
                    "so it is the lower bar.\n\n"
                    + table(["pass", "threads", "ms", "GB/s", "roofline GB/s (same rounds)", "fraction of roofline",
                             f"fraction of copy ({roof.threads} threads)"],
                            [r + (r[3] * 1e9 / roof.copy,) for r in rows])
                    + "\n\n" + spin_note)
    sections.append("### The generator alone\n\nThe random numbers of one pass (one per parameter), generated "
                    f"alone into a {CHUNK * 4 // 1024} KiB buffer that stays in the caches, so with no memory traffic, "
                    "timed in rounds paired with the in-place stream as above. GB/s and fraction are what a pass would "
                    "reach at that speed (its read + write bytes over the generator's time). A pass generates the "
                    "same numbers inside its memory loop and keeps them in registers, so it can come out a little "
                    "faster than this loop, which stores them; a pass that runs at about this speed is bound by its "
                    "generator, not by memory. Under the randomness contract (docs/DESIGN.md: one Philox4x32-10 word "
                    "per Gaussian element, the same bits on CPU, GPU and NumPy) the Philox rows bound a Gaussian "
                    "pass whatever transform turns the words into normals.\n\n"
                    + table(["generator", "threads", "ms", "GB/s (pass equivalent)", "roofline GB/s (same rounds)",
                             "fraction of roofline"], ceiling))
    speedups = {"MeZO step vs reference (Gaussian)": med["reference"] / med["ours"],
                "MeZO step vs reference (Rademacher)": med["reference"] / med["ours-rademacher"]}
    write_results("zo", "Zeroth-order training (MeZO) on a 10M-parameter MLP", "\n\n".join(sections),
                  speedups=speedups)


if __name__ == "__main__":
    main()
