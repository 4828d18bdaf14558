"""The one base every ask/tell optimizer shares (template method, as evosax does).

The base owns the search box, best-so-far tracking, the NaN/inf policy, counters, stopping rules,
``state_dict`` and pickling. An algorithm implements only its own math:

* ``_init_state()`` -> its ``<Algo>State`` dataclass (arrays and scalars only);
* ``_ask()`` -> the (popsize, dim) float64 batch for this generation;
* ``_tell(X, f)`` with ``f`` already sanitized (NaN/inf replaced by +inf);
* optionally ``_stop_reason()`` for algorithm-specific stop criteria.

Random numbers come from ``self.stream(purpose)`` = ``stream_id(generation, purpose)``, so a
generation's numbers depend only on (seed, generation, purpose) and a resumed run continues
bit-identically.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
from collections.abc import Mapping
from typing import Any, ClassVar, Dict, Tuple, Type, TypeVar

import numpy as np

from .._backend import Backend, check_impl
from .._checks import positive_int, real_values, seed_value
from .._version import __version__
from ..reference.rng import stream_id
from ..space import Space

STATE_VERSION = 1

_OptT = TypeVar("_OptT", bound="Optimizer")


def _as_bounds(bounds: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        b = np.array(bounds, dtype=np.float64)
    except OverflowError:  # a Python int beyond float64's range (10**400)
        raise ValueError("bounds: a value lies beyond the float64 range (about +-1.8e308)") from None
    except (TypeError, ValueError):
        raise TypeError("bounds: expected a sequence of (low, high) pairs or a (d, 2) array") from None
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] < 1:
        hint = " (a row of lows and a row of highs? pass its transpose, bounds.T)" if b.ndim == 2 and b.shape[0] == 2 else ""
        raise ValueError(f"bounds: expected shape (d, 2) with d >= 1, got {b.shape}{hint}")
    if np.isnan(b).any():
        raise ValueError("bounds: contains NaN")
    if np.any(b[:, 0] >= b[:, 1]):
        bad = int(np.argmax(b[:, 0] >= b[:, 1]))
        raise ValueError(f"bounds: low must be < high in every dimension (dimension {bad}: {b[bad].tolist()})")
    with np.errstate(over="ignore"):
        width = b[:, 1] - b[:, 0]
    # both ends finite but the width overflows: every algorithm scales by the width (sampling, sigma0, velocities)
    bad_width = np.isfinite(b).all(axis=1) & ~np.isfinite(width)
    if bad_width.any():
        bad = int(np.argmax(bad_width))
        raise ValueError(f"bounds: the width high - low overflows float64 in dimension {bad} ({b[bad].tolist()}); "
                         "use a narrower box, or an infinite bound where the algorithm allows one")
    return b[:, 0].copy(), b[:, 1].copy()


class Optimizer:
    """Ask/tell optimizer base. See the subclasses for the algorithms.

    Args:
        bounds: (d, 2) box ``[(low, high), ...]``, or a :class:`gfo_native.space.Space`: the optimizer then
            works in the unit cube ``[0, 1]^space.dim``, ``ask_dicts()`` decodes the asked batch, ``tell``
            also takes those dicts, and ``best_params`` is the best point as a dict. Either ``bounds`` or
            ``dim`` is required.
        dim: dimension when no box is given (then the box is unbounded).
        x0: centre of the initial distribution (default: the box centre, or zeros); a dict with a Space. The
            population methods start uniform in a finite box, with a given x0 as their first member.
        sigma0: initial scale, scalar or (d,) (default: 0.25 of the box width, or 1).
        popsize: points per ask (default: the algorithm's literature default for ``dim``).
        seed: 64-bit seed of the Philox streams.
        impl: ``"native"`` (C++/OpenMP) or ``"reference"`` (the NumPy twin).
        max_generations: stop after this many generations (None: no limit).
        target: stop when ``best_f <= target``.
    """

    name: ClassVar[str] = ""
    area: ClassVar[str] = ""  # kernel area of _core / reference
    min_popsize: ClassVar[int] = 1
    needs_bounds: bool = False  # class default; an algorithm may decide per instance
    # True for an algorithm whose _ask returns a new array every generation and whose _tell keeps no reference
    # to the asked array (it copies what it retains): ask() then hands that array out without copying it.
    hands_out_batch: ClassVar[bool] = False
    _init_args: Tuple[Tuple[Any, ...], Dict[str, Any]]

    def __new__(cls: Type[_OptT], *args: Any, **kwargs: Any) -> _OptT:
        self = super().__new__(cls)
        # Constructor arguments, kept for pickling (an instance is rebuilt, then its state loaded).
        try:
            self._init_args = (copy.deepcopy(args), copy.deepcopy(kwargs))
        except TypeError:  # an argument that cannot be copied: "cannot pickle 'generator' object" named none
            named = [("bounds", a) for a in args[:1]] + list(kwargs.items())
            for name, v in named:
                try:
                    copy.deepcopy(v)
                except TypeError:
                    raise TypeError(f"{name}: expected a value that can be copied (a list, tuple or array, not a "
                                    f"one-pass {type(v).__name__}: pass list(...))") from None
            raise
        return self

    def __init__(self, bounds: Any = None, *, dim: int | None = None, x0: Any = None, sigma0: Any = None,
                 popsize: int | None = None, seed: int = 0, impl: str = "native",
                 max_generations: int | None = None, target: float | None = None) -> None:
        self.space = bounds if isinstance(bounds, Space) else None
        if self.space is not None:
            bounds = self.space.bounds
            if isinstance(x0, Mapping):
                try:
                    x0 = self.space.encode(x0)[0]
                except (ValueError, TypeError) as e:
                    raise type(e)(f"x0: {e}") from None
        if bounds is not None:
            self.lower, self.upper = _as_bounds(bounds)
            if self.needs_bounds and not (np.isfinite(self.lower).all() and np.isfinite(self.upper).all()):
                raise ValueError(f"bounds: {type(self).__name__} needs a finite box; got an infinite bound in "
                                 f"dimension {int(np.argmax(~np.isfinite(self.lower) | ~np.isfinite(self.upper)))}")
            if dim is not None and positive_int(dim, "dim") != self.lower.size:
                raise ValueError(f"dim: {dim} does not match bounds of dimension {self.lower.size}")
        elif dim is not None:
            d = positive_int(dim, "dim")
            if self.needs_bounds:
                raise ValueError(f"bounds: {type(self).__name__} needs a finite box; pass bounds=[(low, high)] * {d}")
            self.lower, self.upper = np.full(d, -np.inf), np.full(d, np.inf)
        else:
            raise ValueError("bounds: pass bounds=[(low, high), ...] or dim=...")
        self.dim = int(self.lower.size)
        self.bounded = bool(np.all(np.isfinite(self.lower)) and np.all(np.isfinite(self.upper)))
        width = self.upper - self.lower
        finite = np.isfinite(width)
        self.x0_given = x0 is not None
        if x0 is None:
            self.x0 = np.zeros(self.dim)
            self.x0[finite] = 0.5 * (self.lower[finite] + self.upper[finite])
        else:
            self.x0 = self._vector(x0, "x0")
            if np.any(self.x0 < self.lower) or np.any(self.x0 > self.upper):
                raise ValueError("x0: lies outside bounds")
        if sigma0 is None:
            self.sigma0 = np.where(finite, 0.25 * np.where(finite, width, 0.0), 1.0)
        else:
            self.sigma0 = self._vector(sigma0, "sigma0")
            if np.any(self.sigma0 <= 0):
                raise ValueError("sigma0: expected positive values")
        self.popsize = self.default_popsize(self.dim) if popsize is None else positive_int(popsize, "popsize")
        self.popsize0 = self.popsize  # as configured (restarts may change popsize; checkpoints compare this one)
        if self.popsize < self.min_popsize:
            raise ValueError(f"popsize: {type(self).__name__} needs popsize >= {self.min_popsize}, got {self.popsize}")
        self.seed = seed_value(seed)
        self.impl = check_impl(impl)
        self.max_generations = None if max_generations is None else positive_int(max_generations, "max_generations")
        self._planned_run: int | None = None  # the run length told by plan(), if any
        if target is not None and (isinstance(target, bool) or not isinstance(target, numbers.Real)):
            raise TypeError(f"target: expected a number, got {type(target).__name__}")
        if target is not None and math.isnan(target):
            raise ValueError("target: expected a number, got NaN (which no value reaches)")
        self.target = None if target is None else float(target)
        # the area's kernels (native or reference); None for algorithms without kernels
        self.k: Any = Backend(self.impl, self.area) if self.area else None
        self.generation = 0
        self.nfev = 0
        self.n_nonfinite = 0
        self.best_x: np.ndarray | None = None
        self.best_f = np.inf
        self._pending: np.ndarray | None = None
        self.state = self._init_state()

    # ------------------------------------------------------------------ algorithm hooks
    @classmethod
    def default_popsize(cls, dim: int) -> int:
        """Points per generation when ``popsize`` is not given."""
        return 4 + int(3 * np.log(dim))  # Hansen's CMA-ES default; algorithms override with their own

    def _init_state(self) -> Any:
        return None

    def _ask(self) -> np.ndarray:
        raise NotImplementedError

    def _tell(self, X: np.ndarray, f: np.ndarray) -> None:
        raise NotImplementedError

    def _stop_reason(self) -> str | None:
        return None

    def plan(self, generations: int) -> None:
        """Told by :func:`gfo_native.minimize` before the run: the generations its budget allows. Algorithms
        with a schedule (simulated annealing's cooling, PSO's elitist learning) fit it to the run; the default
        ignores it. The run length told here wins over that of a checkpoint loaded afterwards: a run resumed
        with a larger budget follows the schedule of an uninterrupted run of that budget."""
        self._planned_run = positive_int(generations, "generations")
        self._plan(self._planned_run)

    def _plan(self, generations: int) -> None:
        """Fit the algorithm's schedule to a run of ``generations`` (none by default)."""

    # ------------------------------------------------------------------ helpers for algorithms
    def stream(self, purpose: int) -> int:
        """The Philox stream of this generation for one use (a small constant per algorithm)."""
        return stream_id(self.generation, purpose)

    def _vector(self, v: Any, name: str) -> np.ndarray:
        a = real_values(v, name)
        if a.ndim == 0:
            a = np.full(self.dim, float(a))
        if a.shape != (self.dim,):
            raise ValueError(f"{name}: expected a scalar or shape ({self.dim},), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}: expected finite values")
        return a

    # ------------------------------------------------------------------ public API
    def ask(self) -> np.ndarray:
        """The batch to evaluate, shape (popsize, dim), float64. Asking again before `tell` returns the same batch.

        The optimizer keeps no reference to the array after `tell`. Where the algorithm allows
        (``hands_out_batch``) it is the pending batch itself, not a copy: a second `ask` before `tell` returns
        the same array object."""
        if self._pending is None:
            X = self._ask()
            self._pending = X
        if self.hands_out_batch:
            return self._pending
        batch: np.ndarray = self._pending.copy()
        return batch

    def ask_dicts(self) -> list[dict[str, Any]]:
        """The asked batch decoded by the optimizer's Space, one dict per row (same batch as ``ask()``)."""
        if self.space is None:
            raise RuntimeError("ask_dicts: the optimizer was built from bounds; pass a Space to get dicts")
        return self.space.decode(self.ask())

    @property
    def best_params(self) -> dict[str, Any] | None:
        """The best point as a dict (optimizers built from a Space), else None."""
        if self.space is None or self.best_x is None:
            return None
        return self.space.decode(self.best_x)[0]

    def tell(self, X: Any, fitness: Any) -> None:
        """Report the fitness (to minimize) of the asked batch (an array, or the dicts of ``ask_dicts()``).

        NaN and +-inf rank worst and are counted. ``X`` may differ from the asked points (e.g. repaired or rounded:
        population methods keep what they are told; GA and DE keep points outside the box clipped into it, with their
        values as told, a binary GA the nearest point of its grid) but must be finite. Any memory layout and real
        dtype is taken (converted to a C-ordered float64 copy); the asked batch itself is used as it is.
        """
        if self._pending is None:
            raise RuntimeError("tell: call ask() first")
        if self.space is not None and isinstance(X, (list, tuple)) and X and isinstance(X[0], Mapping):
            if list(X) != self.space.decode(self._pending):
                raise ValueError("X: the dicts differ from the asked batch (tell the dicts ask_dicts() returned)")
            X = self._pending
        if not (isinstance(X, np.ndarray) and X.dtype == np.float64) or isinstance(X, np.ma.MaskedArray):
            X = real_values(X, "X")  # not numpy's cast: it would parse text, drop imaginary parts and masks
        if X.shape != self._pending.shape:
            raise ValueError(f"X: expected the asked batch of shape {self._pending.shape}, got {X.shape}")
        if X is not self._pending:  # points of the caller's own (repaired, rounded): they become the population
            with np.errstate(over="ignore", invalid="ignore"):
                finite = math.isfinite(float(np.sum(X))) or bool(np.isfinite(X).all())  # one pass unless overflow
            if not finite:
                raise ValueError("X: contains NaN or inf (tell the asked points, or finite points of your own)")
            # another memory layout (np.asfortranarray, a strided view): the kernels read rows, and algorithms keep
            # the told array as their population
            X = np.ascontiguousarray(X)
        f = self._record(fitness, X.shape[0], lambda i: X[i].copy())
        self._tell(X, f)
        self.nfev += X.shape[0]
        self.generation += 1
        self._pending = None

    def _record(self, fitness: Any, n: int, row: Any) -> np.ndarray:
        """Fitness as float64 (n,) with NaN/inf replaced by +inf (counted); updates the best so far.

        ``row(i)`` gives the point of member i, called only when it improves on the best.
        """
        f = real_values(fitness, "fitness")
        if f.size != n or sum(k > 1 for k in f.shape) > 1:  # (n,), or (n, 1) / (1, n) as vectorized code returns
            raise ValueError(f"fitness: expected {n} values in shape ({n},), got shape {f.shape}")
        f = f.reshape(-1)
        i = int(f.argmin())
        fi = float(f[i])
        # argmin stops at the first NaN and finds -inf; +inf is the max: finite min and max prove every value
        # finite without the mask (no temporary, no errstate), which every generation would otherwise pay for
        if not (math.isfinite(fi) and math.isfinite(float(f.max()))):
            bad = ~np.isfinite(f)
            self.n_nonfinite += int(bad.sum())
            f[bad] = np.inf
            i = int(f.argmin())
            fi = float(f[i])
        if fi < self.best_f:
            self.best_f = fi
            self.best_x = row(i)
        return f

    @property
    def stop_reason(self) -> str | None:
        """Why the optimizer wants to stop (target, max_generations, or the algorithm's own criterion), else None."""
        # best_x: a point was evaluated (best_f starts at inf, which target=inf would otherwise count as reached)
        if self.target is not None and self.best_x is not None and self.best_f <= self.target:
            return f"target {self.target:g} reached"
        if self.max_generations is not None and self.generation >= self.max_generations:
            return f"max_generations {self.max_generations} reached"
        return self._stop_reason()

    def stop(self) -> bool:
        """Whether :attr:`stop_reason` is set."""
        return self.stop_reason is not None

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-identically (arrays copied)."""
        state = None if self.state is None else copy.deepcopy(dataclasses.asdict(self.state))
        return {
            "method": self.name, "version": STATE_VERSION, "gfo_native": __version__, "dim": self.dim,
            "popsize": self.popsize, "seed": self.seed, "generation": self.generation, "nfev": self.nfev,
            "n_nonfinite": self.n_nonfinite, "best_f": self.best_f,
            "best_x": None if self.best_x is None else self.best_x.copy(),
            "pending": None if self._pending is None else self._pending.copy(), "state": state,
        }

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict` of an optimizer built with the same method, dim and popsize.

        All or nothing: a checkpoint that is refused leaves the optimizer as it was.

        Raises:
            TypeError: ``sd`` is not a dict.
            ValueError: it belongs to another method, format version, dimension or popsize, or lacks a field.
        """
        self._adopt(self._checked_state(sd))

    _STATE_KEYS = ("seed", "generation", "nfev", "n_nonfinite", "best_f", "best_x", "pending", "state")

    def _checked_state(self, sd: Any, popsize: int | None = None) -> dict[str, Any]:
        """The fields of checkpoint ``sd`` converted for :meth:`_adopt`; raises before anything is changed.
        ``popsize``: the one the checkpoint must have (default: this optimizer's)."""
        if not isinstance(sd, dict):
            raise TypeError(f"state_dict: expected a dict, got {type(sd).__name__}")
        popsize = self.popsize if popsize is None else popsize
        for key, mine in (("method", self.name), ("version", STATE_VERSION), ("dim", self.dim), ("popsize", popsize)):
            if sd.get(key) != mine:
                raise ValueError(f"state_dict: {key} is {sd.get(key)!r}, this optimizer has {mine!r}")
        missing = [k for k in self._STATE_KEYS if k not in sd]
        if missing:
            raise ValueError(f"state_dict: lacks the field(s) {missing}")
        out = {k: sd[k] for k in self._STATE_KEYS}
        out["best_x"] = None if sd["best_x"] is None else np.array(sd["best_x"], dtype=np.float64)
        out["pending"] = None if sd["pending"] is None else np.array(sd["pending"], dtype=np.float64)
        for key, shape in (("best_x", (self.dim,)), ("pending", (popsize, self.dim))):
            if out[key] is not None and out[key].shape != shape:
                raise ValueError(f"state_dict: {key} has shape {out[key].shape}, expected {shape}")
        if sd["state"] is not None:
            if self.state is None or not isinstance(sd["state"], dict):
                raise ValueError(f"state_dict: state is {type(sd['state']).__name__}, this optimizer expects "
                                 f"{'none' if self.state is None else 'a dict'}")
            try:
                out["state"] = type(self.state)(**copy.deepcopy(sd["state"]))
            except TypeError as e:
                raise ValueError(f"state_dict: its state does not fit {type(self.state).__name__} ({e})") from None
            self._state_arrays(out["state"])
        return out

    def _state_arrays(self, state: Any) -> None:
        """The array fields of a loaded state as this optimizer's kernels take them: C-contiguous float64 arrays.

        A state_dict stored as JSON or YAML comes back with lists (and ints for whole numbers), one from another
        numpy with other dtype objects: the kernels would refuse them at the next ask, after the load had replaced
        the optimizer's state."""
        for f in dataclasses.fields(state):
            mine = getattr(self.state, f.name)
            if not (isinstance(mine, np.ndarray) or "ndarray" in str(f.type)):
                continue
            v = getattr(state, f.name)
            if v is None or (isinstance(v, np.ndarray) and v.dtype == np.float64 and v.flags.c_contiguous):
                continue
            try:
                a = real_values(v, f"state_dict: state[{f.name!r}]")
            except (TypeError, ValueError) as e:
                raise ValueError(str(e)) from None
            setattr(state, f.name, np.ascontiguousarray(a))

    def _adopt(self, checked: dict[str, Any]) -> None:
        """Take over the fields :meth:`_checked_state` returned (nothing here can fail)."""
        self.seed = checked["seed"]
        self.generation, self.nfev, self.n_nonfinite = checked["generation"], checked["nfev"], checked["n_nonfinite"]
        self.best_f, self.best_x, self._pending = checked["best_f"], checked["best_x"], checked["pending"]
        if checked["state"] is not None:
            self.state = checked["state"]
        if self._planned_run is not None:  # plan() wins over the checkpoint's schedule
            self._plan(self._planned_run)

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        args, kwargs = self._init_args
        return (_restore, (type(self), args, kwargs, self.state_dict()))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(dim={self.dim}, popsize={self.popsize}, generation={self.generation}, "
                f"nfev={self.nfev}, best_f={self.best_f:.6g}, impl={self.impl!r})")


def _restore(cls: Type[_OptT], args: Tuple[Any, ...], kwargs: Dict[str, Any], sd: Dict[str, Any]) -> _OptT:
    opt = cls(*args, **kwargs)
    opt.load_state_dict(sd)
    return opt
