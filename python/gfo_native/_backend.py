"""The `impl=` switch: one object whose attributes are an area's kernels, native or reference.

Native entry points are ``_core.<area>_<name>``; their NumPy twins are ``reference.<area>.<name>`` with
the same signatures, so optimizer code is written once against ``backend(impl, area).<name>``.
"""

from __future__ import annotations

import importlib
from typing import Any

IMPLS = ("native", "reference")


def check_impl(impl: str) -> str:
    """``impl`` if it is "native" or "reference", else ValueError."""
    if impl not in IMPLS:
        raise ValueError(f"impl: expected one of {IMPLS}, got {impl!r}")
    return impl


class Backend:
    """An area's kernels: ``_core.<area>_<name>`` (native) or ``reference.<area>.<name>``."""

    def __init__(self, impl: str, area: str) -> None:
        self.impl = check_impl(impl)
        self.area = area
        if impl == "native":
            self._mod: Any = importlib.import_module("gfo_native._core")
            self._prefix = area + "_"
        else:
            self._mod = importlib.import_module(f"gfo_native.reference.{area}")
            self._prefix = ""

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._mod, self._prefix + name)
        setattr(self, name, fn)  # cache: later lookups skip __getattr__
        return fn


def backend(impl: str, area: str) -> Backend:
    """The kernels of ``area`` for ``impl`` (see :class:`Backend`)."""
    return Backend(impl, area)
