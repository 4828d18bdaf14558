"""gfo_native: gradient-free and fused gradient optimization with a native C++/OpenMP core."""

# One import per line: several areas add names here.
from . import functions
from . import plot
from . import reference
from . import rng
from . import space
from ._info import build_info, get_num_threads, set_num_threads
from ._version import __version__
from .minimize import minimize
from .optimizers import OPTIMIZERS, OptimizeResult, Optimizer, RandomSearch
from .space import Categorical, Int, LogUniform, Space, Uniform

__all__ = [
    "Categorical",
    "Int",
    "LogUniform",
    "OPTIMIZERS",
    "OptimizeResult",
    "Optimizer",
    "RandomSearch",
    "Space",
    "Uniform",
    "__version__",
    "build_info",
    "functions",
    "get_num_threads",
    "minimize",
    "plot",
    "reference",
    "rng",
    "set_num_threads",
    "space",
]
