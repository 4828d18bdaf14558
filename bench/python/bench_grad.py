"""Fused optimizer steps: gfo_native.torch vs torch.optim (foreach, fused) and DeepSpeedCPUAdam, float32 CPU.

One process, same inputs for every implementation, median of repeats. Per case: time of one step,
effective bandwidth (bytes the step must move / time), its fraction of the copy bandwidth measured in the
same run, and our speedup over each peer. Bytes per element (float32): Adam/AdamW 28 (read p, g, m, v;
write p, m, v); SGD with momentum, RMSprop and Adagrad 20 (read p, g, one state; write p, state).
"""

from __future__ import annotations

import gc

import _common as C

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


def make_params(n, size, seed=0):
    gen = torch.Generator().manual_seed(seed)
    ps = [torch.nn.Parameter(torch.randn(size, generator=gen)) for _ in range(n)]
    for p in ps:
        p.grad = torch.randn(size, generator=gen) * 1e-3
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

    ds_cls, why = deepspeed_adam()
    if ds_cls is None:
        C.skip("DeepSpeedCPUAdam", f"deepspeed not importable ({why})")
    cases = [(1, 1 << 24), (256, 1 << 16), (2000, 1000)]
    repeat = 15
    if args.quick:
        cases = [(1, 1 << 20), (64, 1 << 12), (500, 200)]
        repeat = 5
    bw = C.copy_bandwidth()
    print(f"copy bandwidth {bw / 1e9:.1f} GB/s; torch {torch.__version__} threads={torch.get_num_threads()}; "
          f"gfo_native threads={gn.get_num_threads()}")
    rows, speedups, notes = [], {}, []
    for name, (bpe, _, variants) in OPTIMIZERS.items():
        peers = list(variants) + (["deepspeed"] if ds_cls is not None and name in ("Adam", "AdamW") else [])
        for n, size in cases:
            times = {}
            for impl in ["ours"] + peers:
                params = make_params(n, size)
                try:
                    opt = build(impl, name, params, ds_cls)
                    times[impl] = C.timeit(opt.step, repeat=repeat, warmup=2)
                except Exception as e:  # noqa: BLE001 - a peer that cannot run this case is reported, not fatal
                    notes.append(f"{name} {impl} {n}x{size}: {type(e).__name__}: {e}")
                del params
                opt = None
                gc.collect()
            t = times["ours"]
            gbs = bpe * n * size / t
            case = f"{name} {n}x{size}"
            row = [name, f"{n}x{size}", t * 1e3, gbs / 1e9, gbs / bw]
            for impl in ("foreach", "fused", "deepspeed"):
                if impl in times:
                    row.append(f"{times[impl] * 1e3:.3g} ms / {times[impl] / t:.2f}x")
                    speedups[f"{case} vs torch {impl}" if impl != "deepspeed" else f"{case} vs DeepSpeedCPUAdam"] = \
                        times[impl] / t
                else:
                    row.append("-")
            rows.append(row)
            print(C.table(["optimizer", "case", "ours ms", "GB/s", "of copy bw", "foreach (ms / speedup)",
                           "fused", "DeepSpeedCPUAdam"], [row]).splitlines()[-1], flush=True)
    headers = ["optimizer", "case", "ours ms", "ours GB/s", "fraction of copy bw", "torch foreach: ms / our speedup",
               "torch fused: ms / our speedup", "DeepSpeedCPUAdam: ms / our speedup"]
    body = (f"float32 CPU, one step, median of {repeat}. Copy bandwidth measured in this run: {bw / 1e9:.1f} GB/s "
            f"(np.copyto, read + write). Bytes per element: Adam/AdamW 28, others 20. Speedup = peer time / our time. "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads.\n\n" + C.table(headers, rows))
    if ds_cls is None:
        body += f"\n\nDeepSpeedCPUAdam: not installed here ({why})."
    if notes:
        body += "\n\nNotes:\n" + "\n".join(f"- {x}" for x in notes)
    C.write_results("grad", "Fused gradient optimizers (gfo_native.torch vs torch.optim)", body, speedups=speedups)


if __name__ == "__main__":
    main()
