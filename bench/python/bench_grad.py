"""Fused optimizer steps: gfo_native.torch vs torch.optim (foreach, fused) and DeepSpeedCPUAdam, CPU.

One process, same inputs for every implementation, median of repeats. Per case: time of one step,
effective bandwidth (bytes the step must move / time), its fraction of the memory roofline measured in the
same run on every thread (``gfo_native.roofline``, timed in the same rounds), and our speedup over each
peer. Bytes per element (float32): Adam/AdamW 28 (read p, g, m, v; write p, m, v); SGD with momentum,
RMSprop and Adagrad 20 (read p, g, one state; write p, state). A second table repeats Adam and SGD with
momentum on bf16 and fp16 parameters (half the bytes), against torch's fused kernels, which also compute in
float32 and round once per store.
"""

from __future__ import annotations

import gc
import os
import statistics
import time

import _common as C
import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover - the whole benchmark needs torch
    torch = None

OPTIMIZERS = {
    # name: (bytes per element, torch kwargs, which torch variants exist)
    "Adam": (28, dict(lr=1e-3), ("foreach", "fused")),
    "AdamW": (28, dict(lr=1e-3), ("foreach", "fused")),
    "SGD-momentum": (20, dict(lr=1e-3, momentum=0.9), ("foreach", "fused")),
    "RMSprop": (20, dict(lr=1e-3), ("foreach",)),
    "Adagrad": (20, dict(lr=1e-3), ("foreach", "fused")),
}
TORCH_CLASS = {"Adam": "Adam", "AdamW": "AdamW", "SGD-momentum": "SGD", "RMSprop": "RMSprop", "Adagrad": "Adagrad"}


def deepspeed_adam():
    try:
        from deepspeed.ops.adam import DeepSpeedCPUAdam  # noqa: F401
    except Exception as e:  # noqa: BLE001 - any import/build failure means "not available"
        return None, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    return DeepSpeedCPUAdam, ""


def make_params(n, size, dtype=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    ps = [torch.nn.Parameter(torch.randn(size, generator=gen).to(dtype or torch.float32)) for _ in range(n)]
    for p in ps:
        p.grad = (torch.randn(size, generator=gen) * 1e-3).to(p.dtype)
    return ps


def build(impl, name, params, ds_cls):
    import gfo_native.torch as gt

    kw = dict(OPTIMIZERS[name][1])
    cls = TORCH_CLASS[name]
    if impl == "ours":
        return getattr(gt, cls)(params, **kw)
    if impl == "foreach":
        return getattr(torch.optim, cls)(params, foreach=True, **kw)
    if impl == "fused":
        return getattr(torch.optim, cls)(params, fused=True, **kw)
    if impl == "deepspeed":
        return ds_cls(params, adamw_mode=(name == "AdamW"), **kw)
    raise ValueError(impl)


def main():
    args = C.parse_args(__doc__.splitlines()[0])
    if torch is None:
        C.skip("torch", "not installed; the gradient benchmark compares torch optimizers")
        return
    import gfo_native as gn

    load0 = f"{os.getloadavg()[0]:.1f}"
    ds_cls, why = deepspeed_adam()
    if ds_cls is None:
        C.skip("DeepSpeedCPUAdam", f"deepspeed not importable ({why})")
    cases = [(1, 1 << 24), (256, 1 << 16), (2000, 1000)]
    repeat = 21
    if args.quick:
        cases = [(1, 1 << 20), (64, 1 << 12), (500, 200)]
        repeat = 5
    roof = C.roofline()
    print(f"roofline {roof.best / 1e9:.1f} GB/s; torch {torch.__version__} threads={torch.get_num_threads()}; "
          f"gfo_native threads={gn.get_num_threads()}")
    rows, speedups, notes = [], {}, []
    reduced_rows = []

    def measure(name, n, size, peers, dtype=None):
        """One case: every implementation steps in interleaved rounds with the roofline stream; returns the row."""
        bpe = OPTIMIZERS[name][0] // (2 if dtype is not None else 1)
        # All implementations of a case step in interleaved rounds, so that load from elsewhere on a shared
        # machine hits them alike; median per implementation.
        opts = {}
        for impl in ["ours"] + peers:
            try:
                opts[impl] = build(impl, name, make_params(n, size, dtype), ds_cls)
                for _ in range(2):  # warm-up: state allocation, caches
                    opts[impl].step()
            except Exception as e:  # noqa: BLE001 - a peer that cannot run this case is reported, not fatal
                notes.append(f"{name} {impl} {n}x{size} {dtype or ''}: {type(e).__name__}: {e}")
                opts.pop(impl, None)
        nbytes = bpe * n * size
        opts["roofline"] = C.InPlaceStream(nbytes)  # paired with every round: the bandwidth drifts
        moved = opts["roofline"].moved
        samples = {impl: [] for impl in opts}
        for _ in range(repeat):
            for impl, opt in opts.items():
                t0 = time.perf_counter()
                opt.step()
                samples[impl].append(time.perf_counter() - t0)
        times = {impl: statistics.median(v) for impl, v in samples.items()}
        best = {impl: min(v) for impl, v in samples.items()}
        opts = None
        gc.collect()
        t, tb = times["ours"], best["ours"]
        # per round: our bytes/s over the roofline's in the same round; best-of: best over best
        frac = statistics.median((nbytes / to) / (moved / tr) for to, tr in zip(samples["ours"], samples["roofline"]))
        frac_best = (nbytes / tb) / (moved / best["roofline"])
        dname = "" if dtype is None else " " + str(dtype).replace("torch.", "")
        case = f"{name}{dname} {n}x{size}"
        row = [name + dname, f"{n}x{size}", f"{t * 1e3:.3g} ({tb * 1e3:.3g})",
               f"{nbytes / t / 1e9:.3g} ({nbytes / tb / 1e9:.3g})", f"{moved / times['roofline'] / 1e9:.3g}",
               f"{frac:.2f} ({frac_best:.2f})"]
        for impl in ("foreach", "fused", "deepspeed"):
            if impl in times:
                row.append(f"{times[impl] * 1e3:.3g} ms: {times[impl] / t:.2f}x ({best[impl] / tb:.2f}x)")
                key = f"{case} vs torch {impl}" if impl != "deepspeed" else f"{case} vs DeepSpeedCPUAdam"
                speedups[key] = times[impl] / t
            else:
                row.append("-")
        print(" | ".join(str(x) for x in row), flush=True)
        return row

    for name, (bpe, _, variants) in OPTIMIZERS.items():
        peers = list(variants) + (["deepspeed"] if ds_cls is not None and name in ("Adam", "AdamW") else [])
        for n, size in cases:
            rows.append(measure(name, n, size, peers))
    for dtype in (torch.bfloat16, torch.float16):
        for name in ("Adam", "SGD-momentum"):
            reduced_rows.append(measure(name, *cases[0], ["foreach", "fused"], dtype))
    headers = ["optimizer", "case", "ours ms", "ours GB/s", "roofline GB/s (same rounds)", "fraction of roofline", "torch foreach: ms, our speedup",
               "torch fused: ms, our speedup", "DeepSpeedCPUAdam: ms, our speedup"]
    body = (f"float32 CPU (the second table: bf16 and fp16), one optimizer step; all implementations of a case "
            f"step in {repeat} interleaved rounds. "
            f"Figures are medians, best-of-{repeat} in parentheses (on a shared, loaded machine the best-of figures "
            f"show what each implementation does when it gets the cores). {C.roofline_note(roof)} Each case also "
            "times that in-place stream over the step's bytes in every round, on the same threads: the fraction is "
            "the median over rounds of our bandwidth over the stream's in the same round (best over best in "
            "parentheses); the 2,000 x 1,000 cases (56 or 40 MB) partly fit the 32 MiB L3, which raises that "
            "stream more than our many-tensor step. Bytes per element: "
            f"Adam/AdamW 28, others 20. Speedup = peer time / our time. torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads; load average at start {load0}, at end {os.getloadavg()[0]:.1f}.\n\n"
            + C.table(headers, rows)
            + "\n\nbf16 and fp16 parameters, gradients and state (bytes per element halved: Adam 14, SGD 10); ours "
            "and torch's fused kernels compute in float32 and round once per store, its foreach rounds every "
            "operation:\n\n" + C.table(headers, reduced_rows))
    if ds_cls is None:
        body += f"\n\nDeepSpeedCPUAdam: not installed here ({why})."
    if notes:
        body += "\n\nNotes:\n" + "\n".join(f"- {x}" for x in notes)
    C.write_results("grad", "Fused gradient optimizers (gfo_native.torch vs torch.optim)", body, speedups=speedups)


if __name__ == "__main__":
    main()
