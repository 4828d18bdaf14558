"""NumPy twins of the STREAM kernels (cpp/include/gfo/stream.hpp): the definition the tests hold them to."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["copy", "scale"]


def copy(src: npt.NDArray[Any], dst: npt.NDArray[Any]) -> None:
    """dst[i] = src[i] in memory order (C-contiguous arrays of one size; shapes may differ)."""
    np.copyto(dst.reshape(-1), src.reshape(-1))


def scale(a: npt.NDArray[Any], s: float) -> None:
    """a[i] = s * a[i] in place, one rounding in a's dtype."""
    np.multiply(a, a.dtype.type(s), out=a)
