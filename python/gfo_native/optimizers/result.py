"""`OptimizeResult`: scipy's field names, attribute access, plus a best-so-far history."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np


class OptimizeResult(Dict[str, Any]):
    """Result of :func:`gfo_native.minimize`.

    Attributes:
        x: best point found, shape (d,); None when no evaluation gave a finite value.
        fun: its objective value (inf when x is None).
        nfev: objective evaluations used.
        nit: generations (ask/tell rounds).
        success: whether the run stopped for a reason other than an error and found a finite value.
        message: why it stopped.
        history: dict with arrays ``nfev`` and ``fun`` (best-so-far after each generation).
        n_nonfinite: evaluations that returned NaN or +-inf (ranked worst).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __dir__(self) -> List[str]:
        return list(self.keys())

    def plot(self, ax: Any = None, label: str | None = None, log: bool = True) -> Any:
        """Convergence curve (best value against evaluations); needs matplotlib. Returns the Axes."""
        from ..plot import plot_convergence

        return plot_convergence(self, ax=ax, label=label, log=log)

    def __repr__(self) -> str:
        keys = [k for k in ("message", "success", "fun", "x", "nit", "nfev", "n_nonfinite") if k in self]
        lines = []
        for k in keys:
            v = self[k]
            if isinstance(v, np.ndarray):
                v = np.array2string(v, precision=6, threshold=8)
            lines.append(f"{k:>12}: {v}")
        return "\n".join(lines)
