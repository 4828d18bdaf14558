"""Demo: fused gradient optimizers — NumPy linear regression, and a torch MLP with the drop-in AdamW."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List

import numpy as np

from .. import optim, rng


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def _numpy_part(quick: bool) -> list[str]:
    n, d, steps = (2_000, 20, 200) if quick else (20_000, 50, 400)
    X = rng.normal(1, 0, n * d).reshape(n, d)
    w_true = rng.uniform(1, 1, d) * 4 - 2
    y = X @ w_true
    lines = [f"NumPy: linear regression ({n} x {d}), SGD momentum 0.9 + cosine schedule, {steps} steps"]
    for impl in ("native", "reference"):
        w = np.zeros(d)
        opt = optim.SGD([w], lr=optim.schedules.cosine(0.05, total_steps=steps, eta_min=1e-4), momentum=0.9,
                        impl=impl)
        for _ in range(steps):
            opt.step([2.0 * X.T @ (X @ w - y) / n])
        lines.append(f"  {impl:<9} final mse {float(np.mean((X @ w - y) ** 2)):.3e}   |w - w*| {np.abs(w - w_true).max():.1e}")
    return lines


def _torch_part(quick: bool) -> list[str]:
    try:
        import torch
    except ImportError:
        return ["torch: not installed, torch drop-in part skipped (pip install torch)"]
    from .. import torch as gt

    torch.manual_seed(0)
    width, depth = (128, 8) if quick else (512, 12)
    train_steps = 10 if quick else 20
    layers = []
    for _ in range(depth):
        layers += [torch.nn.Linear(width, width), torch.nn.Tanh()]
    x = torch.randn(64, width)
    y = torch.randn(64, width)
    lines = [f"torch: MLP {depth} x Linear({width}, {width}) ({depth * 2} tensors, "
             f"{depth * (width * width + width):,} parameters), AdamW lr 1e-3, {train_steps} training steps; step time median of a few steps"]
    results = {}
    makers: Dict[str, Callable[[List[Any]], Any]] = {"gfo_native.torch.AdamW": lambda ps: gt.AdamW(ps, lr=1e-3),
              "torch AdamW fused": lambda ps: torch.optim.AdamW(ps, lr=1e-3, fused=True),
              "torch AdamW foreach": lambda ps: torch.optim.AdamW(ps, lr=1e-3, foreach=True),
              "torch AdamW for-loop": lambda ps: torch.optim.AdamW(ps, lr=1e-3, foreach=False)}
    base = torch.nn.Sequential(*layers)
    for label, make in makers.items():
        model = torch.nn.Sequential(*[type(m)(width, width) if isinstance(m, torch.nn.Linear) else m for m in layers])
        model.load_state_dict(base.state_dict())
        opt = make(list(model.parameters()))
        for _ in range(train_steps):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
        trained = [p.detach().clone() for p in model.parameters()]
        # The for-loop run is the numerical reference only (not timed: it is the slowest by far).
        step_ms = _median_ms(opt.step, 5 if quick else 15) if "for-loop" not in label else float("nan")
        results[label] = (loss.item(), step_ms, trained)
    ref = results["torch AdamW for-loop"][2]
    ours_ms = results["gfo_native.torch.AdamW"][1]
    lines.append(f"  {'optimizer':<24}{'final loss':>12}{'step ms':>10}{'ours faster':>13}{'max |dp| vs for-loop':>22}")
    for label, (final_loss, ms, params) in results.items():
        diff = max(float((a - b).abs().max()) for a, b in zip(params, ref))
        speed = f"{ms / ours_ms:>12.2f}x" if ms == ms else f"{'-':>13}"
        lines.append(f"  {label:<24}{final_loss:>12.5f}{ms:>10.3f}{speed}{diff:>22.1e}")
    return lines


def run(quick: bool) -> str:
    t0 = time.perf_counter()
    lines = ["Fused gradient optimizers (gfo_native.optim, gfo_native.torch)"]
    lines += _numpy_part(quick)
    lines += _torch_part(quick)
    lines.append(f"({time.perf_counter() - t0:.1f} s)")
    return "\n".join(lines) + "\n"
