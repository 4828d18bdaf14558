"""Name -> optimizer class, driving `minimize(method=...)`, the shared tests and the benchmarks."""

from __future__ import annotations

from typing import Any, Callable, Dict, Type, TypeVar

_T = TypeVar("_T", bound=Type[Any])

OPTIMIZERS: Dict[str, Type[Any]] = {}


def register(name: str) -> Callable[[_T], _T]:
    """Class decorator: add the optimizer class to :data:`OPTIMIZERS` under ``name`` (and set ``cls.name``)."""

    def deco(cls: _T) -> _T:
        if name in OPTIMIZERS:
            raise RuntimeError(f"optimizer {name!r} registered twice")
        cls.name = name
        OPTIMIZERS[name] = cls
        return cls

    return deco
