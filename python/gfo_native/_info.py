"""Build introspection and thread control."""

from __future__ import annotations

from typing import Any

from . import _core
from ._checks import positive_int
from ._version import __version__


def build_info() -> dict[str, Any]:
    """How this copy was built: version, openmp, max_threads, cuda, simd, compiler, build_type."""
    info = dict(_core.build_info())
    info["version"] = __version__
    return info


def set_num_threads(n: int) -> None:
    """Threads used by the native kernels from now on (results never depend on it)."""
    _core.set_num_threads(positive_int(n, "n"))


def get_num_threads() -> int:
    """Threads the native kernels use now."""
    return int(_core.get_num_threads())
