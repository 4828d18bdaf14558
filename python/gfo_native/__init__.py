"""gfo_native: gradient-free and fused gradient optimization with a native C++/OpenMP core."""

from . import functions, reference, rng
from ._info import build_info, get_num_threads, set_num_threads
from ._version import __version__

__all__ = ["__version__", "build_info", "functions", "get_num_threads", "reference", "rng", "set_num_threads"]
