"""Linear regression in NumPy with the fused optimizers: SGD, momentum, AdaGrad, RMSprop and Adam, each
under a cosine learning-rate schedule with gradient-norm clipping; the losses side by side.

    python examples/linear_regression.py [--steps 300] [--n 2000] [--d 50]
"""

from __future__ import annotations

import argparse

import numpy as np

import gfo_native as gn
from gfo_native.optim import SGD, Adagrad, Adam, RMSprop
from gfo_native.optim.functional import clip_grad_norm_
from gfo_native.optim.schedules import cosine


def make_data(n: int, d: int, seed: int = 0):
    A = gn.rng.normal(seed, 0, n * d).reshape(n, d)
    w_true = gn.rng.normal(seed, 1, d)
    y = A @ w_true + 0.1 * gn.rng.normal(seed, 2, n)
    return A, y


def train(make_opt, A, y, steps: int, batch: int = 64, max_norm: float = 10.0) -> list[float]:
    n, d = A.shape
    w, b = np.zeros(d), np.zeros(1)
    opt = make_opt([w, b])
    losses = []
    for t in range(steps):
        # mini-batch from a Philox stream per step: the run is reproducible
        idx = (gn.rng.uniform(1, t, batch) * n).astype(np.int64)
        r = A[idx] @ w + b - y[idx]
        gw, gb = A[idx].T @ r * (2 / batch), np.array([2 * r.mean()])
        clip_grad_norm_([gw, gb], max_norm)
        opt.step([gw, gb])
        losses.append(float(np.mean((A @ w + b - y) ** 2)))
    return losses


def main(steps: int = 300, n: int = 2000, d: int = 50) -> dict[str, list[float]]:
    A, y = make_data(n, d)
    runs = {
        "SGD": lambda p: SGD(p, lr=cosine(0.02, steps)),
        "SGD+momentum": lambda p: SGD(p, lr=cosine(0.02, steps), momentum=0.9),
        "SGD+Nesterov": lambda p: SGD(p, lr=cosine(0.02, steps), momentum=0.9, nesterov=True),
        "AdaGrad": lambda p: Adagrad(p, lr=cosine(0.5, steps)),
        "RMSprop": lambda p: RMSprop(p, lr=cosine(0.02, steps)),
        "Adam": lambda p: Adam(p, lr=cosine(0.1, steps)),
    }
    losses = {name: train(make, A, y, steps) for name, make in runs.items()}
    marks = sorted({0, steps // 10, steps // 2, steps - 1})
    print(f"{'step':>6}" + "".join(f"{name:>14}" for name in losses))
    for t in marks:
        print(f"{t:>6}" + "".join(f"{v[t]:>14.4g}" for v in losses.values()))
    return losses


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--d", type=int, default=50)
    a = p.parse_args()
    main(a.steps, a.n, a.d)
