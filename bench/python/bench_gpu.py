"""GPU benchmarks of the CUDA kernels (GFO_CUDA=ON builds), one run, ratios printed.

Usage: ``PYTHONPATH=python python bench/python/bench_gpu.py [--quick]``; writes ``bench/results/gpu.md``.
Without a CUDA build of gfo_native, a GPU, or torch with CUDA it prints why and exits 0 (nothing written).

* Roofline: device-to-device copy bandwidth (``b.copy_(a)``, read + write counted), measured in this run.
* Fused Adam (float32) at 1 x 64M and 2,000 x 32k elements: ``gfo_native`` (one launch over all tensors,
  table built once as the torch drop-in caches it) vs ``torch.optim.Adam(fused=True)`` and
  ``(foreach=True)``; an Adam step moves 7 float32 per element (read p, g, m, v; write p, m, v).
* PSO generation (the fused update) at 10,000 x 1,000 (float64): the gfo_native CUDA kernel vs the gfo_native CPU kernel vs the
  torch code a user would write on the GPU (``torch.rand`` + in-place updates).
* GA offspring (SBX + polynomial mutation) at the same size, the same three ways.
* MeZO on CUDA parameters (bench_zo.py's MLP at >= 100M parameters): the perturbation and update passes
  against the copy bandwidth, the step against the MeZO reference approach on the GPU, peak GPU memory.

Times are medians of CUDA-event timings after warm-up (kernel-only times of the MeZO passes: torch.profiler's
CUDA time, mean over the launches); ratios are ours / theirs (below 1: we are faster).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parse_args, skip, table, timeit, write_results  # noqa: E402

import gfo_native as gn  # noqa: E402


def gpu_unavailable() -> str | None:
    if not gn.build_info()["cuda"]:
        return "this gfo_native build has no CUDA kernels (rebuild with CMAKE_ARGS=-DGFO_CUDA=ON)"
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} sees no CUDA GPU"
    if not gn.cuda.is_available():
        return "gfo_native sees no usable GPU (cudaGetDeviceCount == 0)"
    return None


def gpu_time(fn, repeat: int = 21, warmup: int = 3) -> float:
    """Median seconds of fn() on the current stream, by CUDA events."""
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / 1e3)
    return statistics.median(times)


def kernel_time(fn, kernel: str, repeat: int = 21) -> float:
    """Mean seconds of the CUDA kernels whose name contains ``kernel`` per call of fn(), by torch.profiler."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(repeat):
            fn()
        torch.cuda.synchronize()
    total = sum(e.device_time_total for e in prof.key_averages() if kernel in e.key)  # microseconds
    if total == 0:
        raise RuntimeError(f"kernel_time: no CUDA kernel named like {kernel!r} ran")
    return total / repeat / 1e6


def copy_bandwidth_gpu(nbytes: int) -> float:
    import torch

    a = torch.ones(nbytes // 4, dtype=torch.float32, device="cuda")
    b = torch.empty_like(a)
    return 2 * a.numel() * 4 / gpu_time(lambda: b.copy_(a))


def bench_adam(shapes, bw, repeat):
    import torch

    from gfo_native.cuda import optim as co

    n_total = sum(shapes)
    g = torch.Generator(device="cuda").manual_seed(0)
    make = lambda: [torch.randn(s, device="cuda", generator=g) for s in shapes]  # noqa: E731
    params, grads = make(), make()
    m, v = [torch.zeros_like(p) for p in params], [torch.zeros_like(p) for p in params]
    steps = [torch.zeros((), dtype=torch.float32) for _ in params]
    # The table as the drop-in caches it: built once, then each step is one launch.
    tables = co._tables(params, grads, (m, v, None), steps)
    (code, device, stream), t = next(iter(tables.items()))

    def ours():
        co.run("adam", t, code, 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, False, stream=stream, device=device)

    rows = []
    t_ours = gpu_time(ours, repeat)
    t_functional = gpu_time(lambda: co.adam_(params, grads, m, v, None, steps), max(3, repeat // 4))
    results = {"gfo_native (cached table)": t_ours, "gfo_native functional (table per call)": t_functional}
    for label, kw in (("torch Adam fused=True", dict(fused=True)), ("torch Adam foreach=True", dict(foreach=True))):
        tp = [p.clone().requires_grad_() for p in params]
        for p, gr in zip(tp, grads):
            p.grad = gr
        opt = torch.optim.Adam(tp, lr=1e-3, **kw)
        results[label] = gpu_time(opt.step, repeat)
        del opt, tp
    roof = 7 * 4 * n_total / bw
    for label, sec in results.items():
        rows.append((label, sec * 1e3, 7 * 4 * n_total / sec / 1e9, roof / sec, sec / results["torch Adam fused=True"]))
    return rows


def bench_pso(n, d, repeat):
    import torch

    rng = np.random.default_rng(0)
    X = rng.uniform(-5, 5, (n, d))
    V, P = rng.uniform(-1, 1, (n, d)), rng.uniform(-5, 5, (n, d))
    improved = (rng.uniform(size=n) < 0.3).astype(np.uint8)
    nbest = rng.integers(0, n, n).astype(np.int64)
    vmax, lo, hi = np.full(d, 2.0), np.full(d, -5.0), np.full(d, 5.0)
    Xnew = np.empty_like(X)
    host = (X, V, P, improved, nbest, vmax, lo, hi)
    dev = [torch.from_numpy(a).cuda() for a in host]
    Xnew_dev = torch.empty_like(dev[0])
    results = {}
    results["gfo_native CUDA"] = gpu_time(lambda: gn.cuda.pso.update(1, 2, 3, 0.7, 1.5, 1.5, *dev, 0, Xnew_dev), repeat)
    results["gfo_native CPU (all cores)"] = timeit(
        lambda: gn._core.pso_update(1, 2, 3, 0.7, 1.5, 1.5, *host, 0, Xnew), repeat=max(3, repeat // 4))
    Xd, Vd, Pd, imp, nb, vm, lod, hid = dev

    def torch_user():  # what a user writes: fresh uniforms, personal/neighbour bests, clamps
        Pd[imp.bool()] = Xd[imp.bool()]
        G = Pd[nb]
        r1, r2 = torch.rand_like(Xd), torch.rand_like(Xd)
        Vd.mul_(0.7).add_(1.5 * r1 * (Pd - Xd)).add_(1.5 * r2 * (G - Xd))
        torch.clamp(Vd, -vm, vm, out=Vd)
        torch.clamp(Xd + Vd, lod, hid, out=Xnew_dev)

    results["torch (user code, GPU)"] = gpu_time(torch_user, repeat)
    base = results["gfo_native CUDA"]
    return [(k, v * 1e3, base / v) for k, v in results.items()]


def bench_ga(n, L, repeat):
    """SBX crossover + polynomial mutation of n children (NSGA-II's real-coded operators)."""
    import torch

    rng = np.random.default_rng(1)
    G = rng.uniform(-5, 5, (n, L))
    parents = rng.integers(0, n, 2 * ((n + 1) // 2)).astype(np.int64)
    lo, hi = np.full(L, -5.0), np.full(L, 5.0)
    span, C = hi - lo, np.empty((n, L))
    args = (1, 2, 3, 4, 5, 5, 0.9, 0.5, 15.0, 2, 1.0 / L, 0.1, 20.0)
    host = (G, parents, lo, hi, span)
    dev = [torch.from_numpy(a).cuda() for a in host]
    C_dev = torch.empty((n, L), dtype=torch.float64, device="cuda")
    results = {"gfo_native CUDA": gpu_time(lambda: gn.cuda.ga.offspring(*args, *dev, C_dev), repeat),
               "gfo_native CPU (all cores)": timeit(lambda: gn._core.ga_offspring(*args, *host, C),
                                                    repeat=max(3, repeat // 4))}
    Gd, pd, lod, hid, spd = dev

    def torch_user():  # SBX + polynomial mutation as a user writes it with torch ops
        A, B = Gd[pd[0::2]], Gd[pd[1::2]]
        u = torch.rand_like(A)
        beta = torch.where(u <= 0.5, (2 * u) ** (1 / 16), (1 / (2 * (1 - u))) ** (1 / 16))
        cross = (torch.rand(A.shape[0], 1, device="cuda", dtype=A.dtype) < 0.9)
        c0 = torch.where(cross, 0.5 * ((1 + beta) * A + (1 - beta) * B), A)
        c1 = torch.where(cross, 0.5 * ((1 - beta) * A + (1 + beta) * B), B)
        Cn = torch.stack([c0, c1], 1).reshape(-1, L)[:n]
        um, uv = torch.rand_like(Cn), torch.rand_like(Cn)
        delta = torch.where(uv < 0.5, (2 * uv) ** (1 / 21) - 1, 1 - (2 * (1 - uv)) ** (1 / 21))
        torch.clamp(torch.where(um < 1.0 / L, Cn + delta * spd, Cn), lod, hid, out=C_dev)

    results["torch (user code, GPU)"] = gpu_time(torch_user, repeat)
    base = results["gfo_native CUDA"]
    return [(k, v * 1e3, base / v) for k, v in results.items()]


def bench_mezo(bw, repeat, quick):
    """MeZO on CUDA parameters (bench_zo.py's MLP, >= 100M parameters): the perturbation and update passes
    against the copy bandwidth, the step against the MeZO reference approach, and peak GPU memory."""
    import torch
    import torch.nn.functional as F

    import gfo_native.torch as gt
    from bench_zo import build, reference_mezo
    from gfo_native.torch import _zo_kernels as K

    hidden, layers = (1024, 2) if quick else (4096, 7)
    model, X, y = build(hidden, layers)
    model, X, y = model.cuda(), X.cuda(), y.cuda()
    params = list(model.parameters())
    n = sum(p.numel() for p in params)
    out = [f"### MeZO on the GPU: MLP {X.shape[1]}-" + "-".join([str(hidden)] * layers)
           + f"-10, {n / 1e6:.1f}M parameters, batch {X.shape[0]}\n"]

    # -- passes: read + write of every parameter, against the copy bandwidth. Two times per pass: the kernel
    # alone (CUDA time of zo_kernel from torch.profiler, mean over the launches) and one call as the optimizer
    # makes it (CUDA events around the Python call: argument checks and the launch included, GPU idle meanwhile).
    streams = K.direction_streams([10**6, 10**6 + 1], len(params))
    coefs = np.array([1e-3, 0.0], np.float32)
    rows = []
    with torch.no_grad():
        for dtype, tensors in (("float32", params), ("bfloat16", [p.detach().to(torch.bfloat16) for p in params])):
            nbytes = 2 * n * tensors[0].element_size()
            for dist_name, dist in (("gaussian", 0), ("rademacher", 1)):
                for label, kw in (("perturb (+eps z)", dict(ops=[(0, 1e-3)])),
                                  ("restore + update (fused)",
                                   dict(ops=[(0, 1e-3)], coefs=coefs, lrs=[1e-9] * len(params)))):
                    def zo_pass():
                        K.zo_apply(tensors, seed=3, distribution=dist, streams=streams, **kw)

                    tk = kernel_time(zo_pass, "zo_kernel", repeat)
                    tc = gpu_time(zo_pass, repeat=repeat)
                    rows.append([f"{label}, {dist_name}", dtype, tk * 1e3, nbytes / tk / bw, tc * 1e3, nbytes / tc / bw])
                    print(f"mezo {label} {dist_name} {dtype}: kernel {nbytes / tk / bw:.2f}, call {nbytes / tc / bw:.2f} "
                          "of copy bandwidth")
        g = torch.Generator(device="cuda").manual_seed(0)

        def torch_pass():  # the reference code's pass: a fresh z tensor per parameter, then an add
            for p in params:
                p.data = p.data + 1e-3 * torch.normal(0.0, 1.0, size=p.shape, generator=g, device="cuda")

        t = gpu_time(torch_pass, repeat=repeat)
        rows.append(["reference pass (torch.normal + add)", "float32", float("nan"), float("nan"), t * 1e3,
                     8 * n / t / bw])
    out.append(table(["pass", "dtype", "kernel ms", "kernel / copy bandwidth", "call ms", "call / copy bandwidth"],
                     rows) + "\n")

    # -- step time: ours against the reference approach, same model, batch and forward passes --------------
    f = lambda: F.cross_entropy(model(X), y)  # noqa: E731
    ours = gt.MeZO(params, lr=1e-7, eps=1e-3, seed=0)
    ours_r = gt.MeZO(params, lr=1e-7, eps=1e-3, seed=1, distribution="rademacher")
    ref_step = reference_mezo(model, 1e-7, 1e-3, 0.0)
    fwd = lambda: torch.no_grad()(f)()  # noqa: E731
    med = {key: gpu_time(fn, repeat=repeat) for key, fn in (
        ("reference", lambda: ref_step(f)), ("ours", lambda: ours.step(f)),
        ("ours-rademacher", lambda: ours_r.step(f)), ("forward", fwd))}
    rows = [["MeZO reference approach (torch.normal x4)", med["reference"] * 1e3, 1.0],
            ["gfo_native MeZO, Gaussian", med["ours"] * 1e3, med["reference"] / med["ours"]],
            ["gfo_native MeZO, Rademacher", med["ours-rademacher"] * 1e3, med["reference"] / med["ours-rademacher"]],
            ["one forward pass", med["forward"] * 1e3, float("nan")]]
    out.append("MeZO step (2 forward passes + noise passes):\n\n"
               + table(["implementation", "step ms", "speedup vs reference"], rows) + "\n")

    # -- peak GPU memory above what the model and batch hold ----------------------------------------------
    adam = torch.optim.Adam(params, lr=1e-7, fused=True)

    def adam_step():
        adam.zero_grad(set_to_none=True)
        f().backward()
        adam.step()

    def peak(fn):
        fn()  # first call: lazily created state (Adam's moments) counts as the operation's memory too
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base

    mem = {"inference forward (no grad)": peak(fwd), "gfo_native MeZO step": peak(lambda: ours.step(f)),
           "MeZO reference approach step": peak(lambda: ref_step(f))}
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    adam_step()
    torch.cuda.synchronize()
    mem["Adam backprop step (first, states created)"] = torch.cuda.max_memory_allocated() - base
    inf = mem["inference forward (no grad)"]
    rows = [[k, v / 2**20, v / inf] for k, v in mem.items()]
    out.append("Peak GPU memory above the model and batch (torch.cuda.max_memory_allocated):\n\n"
               + table(["operation", "MiB", "/ inference forward"], rows) + "\n")
    del adam
    print(f"mezo step peak memory / inference forward: {mem['gfo_native MeZO step'] / inf:.2f}")
    return "\n".join(out), {"mezo step vs reference (gaussian)": med["reference"] / med["ours"]}


def main():
    args = parse_args(__doc__.splitlines()[0])
    why = gpu_unavailable()
    if why:
        skip("bench_gpu", f"{why}; nothing measured, bench/results/gpu.md left unchanged")
        return 0
    import torch

    repeat = 5 if args.quick else 21
    bw = copy_bandwidth_gpu((64 << 20) if args.quick else (1 << 30))
    body = [f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}; device-to-device copy bandwidth "
            f"{bw / 1e9:.0f} GB/s (read + write)\n"]
    speedups = {}
    adam_cases = [("1 x 4M", [1 << 22]), ("200 x 32k", [32768] * 200)] if args.quick else \
        [("1 x 64M", [1 << 26]), ("2,000 x 32k", [32768] * 2000)]
    for name, shapes in adam_cases:
        rows = bench_adam(shapes, bw, repeat)
        body.append(f"### Fused Adam, float32, {name}\n")
        body.append(table(["implementation", "ms/step", "GB/s", "fraction of copy roofline", "time / torch fused"],
                          rows) + "\n")
        speedups[f"adam {name} vs torch fused"] = rows[-2][1] / rows[0][1]
    n, d = (1000, 100) if args.quick else (10_000, 1_000)
    rows = bench_pso(n, d, repeat)
    body.append(f"### PSO generation (update), float64, {n:,} x {d:,}\n")
    body.append(table(["implementation", "ms", "gfo_native CUDA time / this"], rows) + "\n")
    speedups[f"pso {n}x{d} vs torch user code"] = rows[2][1] / rows[0][1]
    speedups[f"pso {n}x{d} vs gfo_native CPU"] = rows[1][1] / rows[0][1]
    rows = bench_ga(n, d, repeat)
    body.append(f"### GA offspring (SBX + polynomial mutation), float64, {n:,} x {d:,}\n")
    body.append(table(["implementation", "ms", "gfo_native CUDA time / this"], rows) + "\n")
    speedups[f"ga {n}x{d} vs torch user code"] = rows[2][1] / rows[0][1]
    speedups[f"ga {n}x{d} vs gfo_native CPU"] = rows[1][1] / rows[0][1]
    text, mezo_speedups = bench_mezo(bw, repeat, args.quick)
    body.append(text)
    speedups.update(mezo_speedups)
    write_results("gpu", "GPU kernels (CUDA)", "\n".join(body), speedups=speedups)
    return 0


if __name__ == "__main__":
    sys.exit(main())
