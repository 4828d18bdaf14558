"""Array type aliases shared by the annotations (import only for typing)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating[Any]]
"""A float32 or float64 NumPy array."""

F64Array = npt.NDArray[np.float64]
U32Array = npt.NDArray[np.uint32]
