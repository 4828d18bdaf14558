"""Search spaces: named parameters of mixed type, mapped to and from the unit cube.

Every optimizer works in a box of reals. A :class:`Space` hands it the unit cube ``[0, 1]^D`` and
decodes each asked row into a dict ``{name: value}`` for the objective::

    space = Space({"lr": LogUniform(1e-4, 1e-1), "depth": Int(2, 8),
                   "kernel": Categorical(["rbf", "linear", "poly"])})
    opt = gn.OPTIMIZERS["bo"](space, seed=0)      # any registered optimizer accepts a Space
    for params in opt.ask_dicts(): ...             # [{"lr": 0.003, "depth": 5, "kernel": "rbf"}, ...]
    gn.minimize(lambda p: loss(**p), space, method="bo", budget=40)

The coordinates each parameter takes and how a unit value ``u`` decodes:

* ``Uniform(low, high)``: one coordinate, ``low + u (high - low)``.
* ``LogUniform(low, high)``: one coordinate, uniform in ``log``: ``exp(log low + u (log high - log low))``.
* ``Int(low, high)``: one coordinate cut into ``high - low + 1`` equal bins, one per integer, so every
  integer is equally likely under uniform ``u``; ``log=True`` cuts ``[log low, log(high + 1)]`` instead,
  so that small integers get wider bins (integer ``v`` owns ``[log v, log(v + 1))``).
* ``Categorical(choices)``: ``encoding="onehot"`` (default) takes one coordinate per choice and decodes
  to the choice with the largest coordinate (the first on ties): no false order between choices, which
  suits a GP with one length scale per coordinate. ``encoding="ordinal"`` takes one coordinate cut into
  ``len(choices)`` equal bins (fewer dimensions; good when the choices are ordered).

Encoding a value gives the centre of its bin (for one-hot: 1 at the choice, 0 elsewhere), so
``decode(encode(p)) == p`` for every valid ``p``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, List, Mapping, Sequence

import numpy as np

__all__ = ["Categorical", "Int", "LogUniform", "Space", "Uniform"]


def _real(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
        raise TypeError(f"{name}: expected a finite real number, got {v!r}")
    return float(v)


class Dimension:
    """One named parameter: ``size`` unit coordinates <-> one value."""

    size = 1

    def decode(self, u: np.ndarray) -> List[Any]:
        """Values of the rows of ``u`` (shape (n, size)) as Python scalars."""
        raise NotImplementedError

    def encode(self, value: Any) -> np.ndarray:
        """The unit coordinates (shape (size,)) of one value."""
        raise NotImplementedError

    def snap(self, u: np.ndarray) -> np.ndarray:
        """Rows of ``u`` (n, size) moved to the centre of the bin they decode to (reals stay as they are)."""
        return u

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Uniform(Dimension):
    """A real in ``[low, high]``, uniform."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = _real(low, "low"), _real(high, "high")
        if not self.low < self.high:
            raise ValueError(f"high: expected low < high, got low={self.low}, high={self.high}")

    def decode(self, u: np.ndarray) -> List[Any]:
        return [float(v) for v in self.low + np.clip(u[:, 0], 0.0, 1.0) * (self.high - self.low)]

    def encode(self, value: Any) -> np.ndarray:
        v = _real(value, "value")
        if not self.low <= v <= self.high:
            raise ValueError(f"value: {v} lies outside [{self.low}, {self.high}]")
        return np.array([(v - self.low) / (self.high - self.low)])


class LogUniform(Dimension):
    """A positive real in ``[low, high]``, uniform in its logarithm (learning rates, regularization)."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = _real(low, "low"), _real(high, "high")
        if not 0 < self.low < self.high:
            raise ValueError(f"low: expected 0 < low < high, got low={self.low}, high={self.high}")

    def decode(self, u: np.ndarray) -> List[Any]:
        a, b = math.log(self.low), math.log(self.high)
        x = np.exp(a + np.clip(u[:, 0], 0.0, 1.0) * (b - a))
        return [float(v) for v in np.clip(x, self.low, self.high)]

    def encode(self, value: Any) -> np.ndarray:
        v = _real(value, "value")
        if not self.low <= v <= self.high:
            raise ValueError(f"value: {v} lies outside [{self.low}, {self.high}]")
        a, b = math.log(self.low), math.log(self.high)
        return np.array([(math.log(v) - a) / (b - a)])


class Int(Dimension):
    """An integer in ``[low, high]`` (both included); ``log=True`` spaces the bins logarithmically (low >= 1)."""

    def __init__(self, low: int, high: int, log: bool = False) -> None:
        for name, v in (("low", low), ("high", high)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{name}: expected an integer, got {v!r}")
        self.low, self.high, self.log = int(low), int(high), bool(log)
        if self.low > self.high:
            raise ValueError(f"high: expected low <= high, got low={self.low}, high={self.high}")
        if self.log and self.low < 1:
            raise ValueError(f"low: log=True needs low >= 1, got {self.low}")
        # Each integer owns a bin of the unit coordinate; float64 must tell the bins (and their centres) apart, or
        # values decode to a neighbour (Int(0, 2**53) decoded ~4% of encoded values wrongly, Int(1, 10**14,
        # log=True) ~0.5%: its top bins are ~1e-16 wide).
        if max(abs(self.low), abs(self.high)) >= 2**52 or self.high - self.low >= 2**52:
            raise ValueError(f"high: Int needs |low|, |high| and high - low below 2**52 (float64 resolves its bins), "
                             f"got low={self.low}, high={self.high}")
        if self.log and self.high >= 2**45:
            raise ValueError(f"high: Int(log=True) needs high below 2**45 (~3.5e13; float64 resolves its logarithmic "
                             f"bins), got {self.high}")

    def _edges(self) -> tuple[float, float]:
        if self.log:
            return math.log(self.low), math.log(self.high + 1)
        return float(self.low), float(self.high + 1)

    def _values(self, u: np.ndarray) -> np.ndarray:
        a, b = self._edges()
        t = a + np.clip(u[:, 0], 0.0, 1.0) * (b - a)
        return np.asarray(np.clip(np.floor(np.exp(t) if self.log else t), self.low, self.high))

    def decode(self, u: np.ndarray) -> List[Any]:
        return [int(x) for x in self._values(u)]

    def snap(self, u: np.ndarray) -> np.ndarray:
        v = self._values(u)
        a, b = self._edges()
        lo, hi = (np.log(v), np.log(v + 1)) if self.log else (v, v + 1)
        return np.asarray(((0.5 * (lo + hi) - a) / (b - a))[:, None])

    def encode(self, value: Any) -> np.ndarray:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"value: expected an integer, got {value!r}")
        v = int(value)
        if not self.low <= v <= self.high:
            raise ValueError(f"value: {v} lies outside [{self.low}, {self.high}]")
        a, b = self._edges()
        lo, hi = (math.log(v), math.log(v + 1)) if self.log else (v, v + 1)
        return np.array([(0.5 * (lo + hi) - a) / (b - a)])


class Categorical(Dimension):
    """One of ``choices`` (any values); ``encoding`` is ``"onehot"`` (default) or ``"ordinal"``."""

    def __init__(self, choices: Sequence[Any], encoding: str = "onehot") -> None:
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise TypeError(f"choices: expected a sequence of values, got {type(choices).__name__}")
        if len(choices) < 1:
            raise ValueError("choices: expected at least one choice")
        if encoding not in ("onehot", "ordinal"):
            raise ValueError(f"encoding: expected 'onehot' or 'ordinal', got {encoding!r}")
        self.choices, self.encoding = list(choices), encoding

    @property
    def size(self) -> int:  # type: ignore[override]
        return len(self.choices) if self.encoding == "onehot" else 1

    def index(self, u: np.ndarray) -> np.ndarray:
        """Index of the choice each row of ``u`` (n, size) decodes to."""
        if self.encoding == "onehot":
            return np.asarray(np.argmax(u, axis=1))
        k = len(self.choices)
        return np.asarray(np.minimum(np.floor(np.clip(u[:, 0], 0.0, 1.0) * k), k - 1).astype(np.int64))

    def decode(self, u: np.ndarray) -> List[Any]:
        return [self.choices[int(i)] for i in self.index(u)]

    def snap(self, u: np.ndarray) -> np.ndarray:
        i = self.index(u)
        if self.encoding == "onehot":
            return np.asarray(np.eye(len(self.choices))[i])
        return ((i + 0.5) / len(self.choices))[:, None]

    def encode(self, value: Any) -> np.ndarray:
        try:
            i = self.choices.index(value)
        except ValueError:
            raise ValueError(f"value: {value!r} is not one of {self.choices}") from None
        if self.encoding == "onehot":
            e = np.zeros(len(self.choices))
            e[i] = 1.0
            return e
        return np.array([(i + 0.5) / len(self.choices)])


class Space:
    """Named parameters (insertion order kept) <-> points of the unit cube ``[0, 1]^dim``.

    Args:
        params: ``{name: Uniform | LogUniform | Int | Categorical}``.
    """

    def __init__(self, params: Mapping[str, Dimension]) -> None:
        if not isinstance(params, Mapping) or not params:
            raise TypeError("params: expected a non-empty dict {name: Uniform | LogUniform | Int | Categorical}")
        for k, v in params.items():
            if not isinstance(k, str):
                raise TypeError(f"params: names must be strings, got {k!r}")
            if not isinstance(v, Dimension):
                raise TypeError(f"params[{k!r}]: expected Uniform, LogUniform, Int or Categorical, got {v!r}")
        self.params = dict(params)
        self.names = list(self.params)
        self.slices: dict[str, slice] = {}
        start = 0
        for k, v in self.params.items():
            self.slices[k] = slice(start, start + v.size)
            start += v.size
        self.dim = start

    @property
    def bounds(self) -> np.ndarray:
        """The unit cube as a (dim, 2) box."""
        return np.tile([0.0, 1.0], (self.dim, 1))

    def decode(self, U: Any) -> list[dict[str, Any]]:
        """Rows of the unit cube, shape (n, dim) or (dim,), -> one dict per row."""
        U = np.asarray(U, dtype=np.float64)
        if U.ndim == 1:
            U = U[None, :]
        if U.ndim != 2 or U.shape[1] != self.dim:
            raise ValueError(f"U: expected shape (n, {self.dim}), got {U.shape}")
        cols = {k: self.params[k].decode(U[:, s]) for k, s in self.slices.items()}
        return [{k: cols[k][i] for k in self.names} for i in range(U.shape[0])]

    @property
    def discrete(self) -> bool:
        """Whether some parameter is an Int or a Categorical (then ``snap`` moves points)."""
        return any(isinstance(v, (Int, Categorical)) for v in self.params.values())

    def snap(self, U: np.ndarray) -> np.ndarray:
        """Points of the cube (n, dim) moved to the bin centres of their ints and categories, so that points
        decoding to the same dict coincide (a surrogate model then sees one point, not a cloud)."""
        out = np.array(U, dtype=np.float64, copy=True)
        for k, s in self.slices.items():
            if isinstance(self.params[k], (Int, Categorical)):
                out[:, s] = self.params[k].snap(out[:, s])
        return out

    def encode(self, points: Any) -> np.ndarray:
        """One dict or a list of dicts -> (n, dim) unit coordinates (bin centres for ints and categories)."""
        if isinstance(points, Mapping):
            points = [points]
        out = np.empty((len(points), self.dim))
        for i, p in enumerate(points):
            if not isinstance(p, Mapping) or set(p) != set(self.names):
                raise ValueError(f"points[{i}]: expected a dict with keys {self.names}")
            for k, s in self.slices.items():
                out[i, s] = self.params[k].encode(p[k])
        return out

    def __len__(self) -> int:
        return len(self.params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and self.params == other.params

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v!r}" for k, v in self.params.items())
        return f"Space({{{inner}}})"
