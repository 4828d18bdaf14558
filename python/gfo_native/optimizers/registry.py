"""Name -> optimizer class, driving `minimize(method=...)`, the shared tests and the benchmarks."""

from __future__ import annotations

OPTIMIZERS: dict[str, type] = {}


def register(name: str):
    def deco(cls):
        if name in OPTIMIZERS:
            raise RuntimeError(f"optimizer {name!r} registered twice")
        cls.name = name
        OPTIMIZERS[name] = cls
        return cls

    return deco
