"""gfo_native: gradient-free and fused gradient optimization with a native C++/OpenMP core."""

# One import per line: several areas add names here.
from . import cuda
from . import distributed
from . import functions
from . import optim
from . import plot
from . import reference
from . import rng
from . import roofline
from . import space
from ._info import build_info, get_num_threads, set_num_threads
from ._version import __version__
from .minimize import minimize
from .optimizers import BayesianOptimization
from .optimizers import CMAES
from .optimizers import DifferentialEvolution
from .optimizers import GA
from .optimizers import HillClimbing
from .optimizers import OpenES
from .optimizers import OPTIMIZERS, OptimizeResult, Optimizer, RandomSearch
from .optimizers import PSO
from .optimizers import SNES
from .optimizers import SepCMAES
from .optimizers import SimulatedAnnealing
from .space import Categorical, Int, LogUniform, Space, Uniform

__all__ = [
    "BayesianOptimization",
    "CMAES",
    "Categorical",
    "DifferentialEvolution",
    "GA",
    "HillClimbing",
    "Int",
    "LogUniform",
    "OPTIMIZERS",
    "OpenES",
    "OptimizeResult",
    "Optimizer",
    "PSO",
    "RandomSearch",
    "SNES",
    "SepCMAES",
    "SimulatedAnnealing",
    "Space",
    "Uniform",
    "__version__",
    "build_info",
    "cuda",
    "distributed",
    "functions",
    "get_num_threads",
    "minimize",
    "optim",
    "plot",
    "reference",
    "rng",
    "roofline",
    "set_num_threads",
    "space",
]


from typing import Any  # noqa: E402


def __getattr__(name: str) -> Any:
    # gfo_native.torch needs torch: imported on first use only, so `import gfo_native` works without it.
    if name == "torch":
        import importlib

        return importlib.import_module(".torch", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
