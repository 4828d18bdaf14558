"""Convergence plots (matplotlib, the optional `plot` extra)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg") if not _has_display() else None
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'gfo-native[plot]'") from None
    return plt


def _has_display() -> bool:
    import os

    return bool(os.environ.get("DISPLAY") or os.environ.get("MPLBACKEND"))


def plot_convergence(result: Mapping[str, Any], ax: Any = None, label: str | None = None, log: bool = True) -> Any:
    """Best-so-far value against evaluations for one `OptimizeResult`; returns the Axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    h = result["history"]
    ax.step(h["nfev"], h["fun"], where="post", label=label or result.get("method", "run"))
    if log and len(h["fun"]) and min(h["fun"]) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best value so far")
    ax.grid(True, alpha=0.3)
    return ax


def compare(results: Mapping[str, Mapping[str, Any]] | Sequence[Mapping[str, Any]], ax: Any = None,
            title: str | None = None, path: str | None = None) -> Any:
    """Several results in one figure (a dict label -> result, or a list); saves to `path` if given."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    items = results.items() if isinstance(results, Mapping) else ((r.get("method", f"run {i}"), r) for i, r in enumerate(results))
    positive = True
    for label, r in items:
        plot_convergence(r, ax=ax, label=str(label), log=False)
        positive &= bool(len(r["history"]["fun"]) and min(r["history"]["fun"]) > 0)
    if positive:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    if path:
        ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    return ax
