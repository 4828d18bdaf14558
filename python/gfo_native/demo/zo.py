"""Demo section: an MLP on scikit-learn's digits trained by backprop (Adam), by MeZO and by ES."""

from __future__ import annotations

import time
from typing import Any, Callable, Tuple


def digits_split(n_train: int = 1400) -> Any:
    """Digits (8x8 images, 10 classes, shipped with scikit-learn) as float32 tensors, a fixed split."""
    import torch
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X / 16.0, dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.int64)
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    tr, te = perm[:n_train], perm[n_train:]
    return X[tr], y[tr], X[te], y[te]


def make_mlp(hidden: int = 32, seed: int = 0) -> Any:
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))


def _accuracy(model: Any, X: Any, y: Any) -> float:
    import torch

    with torch.no_grad():
        return float((model(X).argmax(1) == y).float().mean())


def _train(data: Any, steps: int, batch: int, make_opt: Callable[..., Any], zeroth_order: bool) -> Any:
    import torch
    import torch.nn.functional as F

    Xtr, ytr, Xte, yte = data
    model = make_mlp()
    opt = make_opt(model.parameters())
    g = torch.Generator().manual_seed(1)
    t0 = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(0, len(Xtr), (batch,), generator=g)
        xb, yb = Xtr[idx], ytr[idx]
        if zeroth_order:
            opt.step(lambda: F.cross_entropy(model(xb), yb))
        else:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
    return _accuracy(model, Xte, yte), time.perf_counter() - t0


def train_mezo(data: Any, steps: int = 1000, batch: int = 256, lr: float = 0.015, eps: float = 1e-3) -> Any:
    """MeZO (one Gaussian direction per step). Returns (held-out accuracy, seconds)."""
    from ..torch import MeZO

    return _train(data, steps, batch, lambda p: MeZO(p, lr=lr, eps=eps, seed=0), True)


def train_es(data: Any, steps: int = 300, batch: int = 256, population: int = 8, lr: float = 0.02,
             sigma: float = 0.02) -> Any:
    """OpenAI-ES with Adam on the estimate. Returns (held-out accuracy, seconds)."""
    from ..torch import ES

    return _train(data, steps, batch, lambda p: ES(p, lr=lr, sigma=sigma, population=population,
                                                   optimizer="adam", seed=0), True)


def adam_class() -> Tuple[Any, str]:
    """gfo_native.torch.Adam where it exists, else torch.optim.Adam."""
    try:
        from ..torch import Adam

        return Adam, "gfo_native.torch.Adam"
    except ImportError:
        import torch

        return torch.optim.Adam, "torch.optim.Adam"


def train_adam(data: Any, steps: int = 300, batch: int = 256, lr: float = 1e-2) -> Any:
    """Backprop with Adam. Returns (held-out accuracy, seconds)."""
    cls, _ = adam_class()
    return _train(data, steps, batch, lambda p: cls(p, lr=lr), False)


def compare(scale: float = 1.0) -> Any:
    """Rows (method, steps, forward passes per step, accuracy, seconds); ``scale`` multiplies the steps."""
    data = digits_split()
    def n(base: int) -> int:
        return max(1, int(base * scale))

    rows = []
    acc, t = train_adam(data, steps=n(100))
    rows.append((f"{adam_class()[1]} (backprop)", n(100), "1 + backward", acc, t))
    acc, t = train_mezo(data, steps=n(1000))
    rows.append(("gfo_native.torch.MeZO", n(1000), "2", acc, t))
    acc, t = train_es(data, steps=n(150), population=8)
    rows.append(("gfo_native.torch.ES (8 pairs, Adam)", n(150), "16", acc, t))
    return rows


def format_rows(rows: Any) -> str:
    lines = ["digits MLP 64-32-10, held-out accuracy (397 images)",
             f"{'method':<40} {'steps':>6} {'fwd/step':>13} {'accuracy':>9} {'time s':>7}"]
    for name, steps, fwd, acc, t in rows:
        lines.append(f"{name:<40} {steps:>6} {fwd:>13} {acc:>9.3f} {t:>7.2f}")
    return "\n".join(lines)


def run(quick: bool = True) -> str:
    """A short text table: digits MLP (64-32-10) trained three ways, held-out accuracy and time."""
    from ._runner import Skip

    try:
        import torch  # noqa: F401
    except ImportError:
        raise Skip("torch is not installed (pip install torch)") from None
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise Skip("scikit-learn, whose digits it trains on, is not installed (pip install \"gfo-native[demo]\")") from None
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # a 2.4k-parameter model: more threads only add overhead
    try:
        return format_rows(compare(1.0 if quick else 4.0))
    finally:
        torch.set_num_threads(before)
