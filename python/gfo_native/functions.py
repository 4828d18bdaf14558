"""Benchmark objectives, native and OpenMP-parallel over rows: ``f(X) -> y`` with X (n, d), y (n,).

Inputs must be C-contiguous float32 or float64 matrices (no silent copies); float32 is evaluated in
float64 and rounded once. A CUDA array (torch CUDA tensor, CuPy) is evaluated on its GPU (GFO_CUDA=ON
builds) and the result is an array of the same kind. A NaN in a row gives NaN for that row, and +-inf propagates as IEEE
arithmetic says; other rows are unaffected. Definitions and optima follow the usual literature
(e.g. Surjanovic & Bingham's virtual library); ``OPTIMA`` gives each minimizer and minimum.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol, TypeVar

import numpy as np

from . import _core
from ._checks import float_matrix
from .cuda import functions as cuda_functions
from .cuda._arrays import is_device_array

__all__ = ["sphere", "ellipsoid", "rastrigin", "rosenbrock", "ackley", "griewank", "schwefel", "levy",
           "styblinski_tang", "FUNCTIONS", "OPTIMA", "DOMAINS"]


_ArrayT = TypeVar("_ArrayT")


class ObjectiveFunction(Protocol):
    """A benchmark objective: ``f(X, out=None) -> y``, y of X's dtype and kind (NumPy or CUDA array)."""

    __name__: str

    def __call__(self, X: _ArrayT, out: Optional[_ArrayT] = None) -> _ArrayT: ...


def _evaluate(objective: _core.Objective, X: Any, out: Any = None) -> Any:
    if not isinstance(X, np.ndarray) and is_device_array(X):
        return cuda_functions.evaluate(objective, X, out)
    X = float_matrix(X)
    if out is None:
        out = np.empty(X.shape[0], dtype=X.dtype)
    _core.evaluate_objective(objective, X, out)
    return out


def _make(name: str, doc: str) -> ObjectiveFunction:
    objective = getattr(_core.Objective, name)

    def f(X: _ArrayT, out: Optional[_ArrayT] = None) -> _ArrayT:
        result: _ArrayT = _evaluate(objective, X, out)
        return result

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc + ("\n\nArgs:\n    X: (n, d) C-contiguous float32/float64 (NumPy, or a CUDA array).\n"
                       "    out: optional (n,) output of X's dtype and kind.\n\n"
                       "Returns:\n    (n,) values of X's dtype and kind (``out`` when given).\n\n"
                       "Raises:\n    TypeError, ValueError: X or out has a wrong type, dtype, shape or layout.\n")
    return f


sphere = _make("sphere", r"Sphere: :math:`\sum_i x_i^2`; minimum 0 at 0.")
ellipsoid = _make("ellipsoid", r"Ellipsoid: :math:`\sum_i 10^{6 i/(d-1)} x_i^2` (condition 1e6); minimum 0 at 0.")
rastrigin = _make("rastrigin", r"Rastrigin: :math:`10d + \sum_i (x_i^2 - 10\cos 2\pi x_i)`; minimum 0 at 0.")
rosenbrock = _make("rosenbrock", r"Rosenbrock: :math:`\sum_i 100(x_{i+1}-x_i^2)^2 + (1-x_i)^2`; minimum 0 at 1.")
ackley = _make("ackley", "Ackley (a=20, b=0.2, c=2 pi); minimum 0 at 0.")
griewank = _make("griewank", r"Griewank: :math:`1 + \sum x_i^2/4000 - \prod \cos(x_i/\sqrt{i})`; minimum 0 at 0.")
schwefel = _make("schwefel", r"Schwefel 2.26: :math:`418.9829 d - \sum x_i \sin\sqrt{|x_i|}`; minimum ~0 at 420.9687.")
levy = _make("levy", "Levy; minimum 0 at 1.")
styblinski_tang = _make("styblinski_tang", r"Styblinski-Tang: :math:`\frac12\sum(x^4-16x^2+5x)`; minimum -39.16617 d at -2.903534.")

FUNCTIONS = {f.__name__: f for f in (sphere, ellipsoid, rastrigin, rosenbrock, ackley, griewank, schwefel, levy,
                                     styblinski_tang)}

# name -> (minimizer coordinate, minimum per dimension): f(full(d, x*)) = d * per_dim (+ constant 0).
OPTIMA = {
    "sphere": (0.0, 0.0), "ellipsoid": (0.0, 0.0), "rastrigin": (0.0, 0.0), "rosenbrock": (1.0, 0.0),
    "ackley": (0.0, 0.0), "griewank": (0.0, 0.0), "schwefel": (420.9687463244736, 0.0), "levy": (1.0, 0.0),
    "styblinski_tang": (-2.903534027771177, -39.16616570377142),
}

# Usual search domains (per coordinate).
DOMAINS = {
    "sphere": (-5.12, 5.12), "ellipsoid": (-5.12, 5.12), "rastrigin": (-5.12, 5.12), "rosenbrock": (-5.0, 10.0),
    "ackley": (-32.768, 32.768), "griewank": (-600.0, 600.0), "schwefel": (-500.0, 500.0), "levy": (-10.0, 10.0),
    "styblinski_tang": (-5.0, 5.0),
}
