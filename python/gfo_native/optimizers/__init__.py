"""Ask/tell optimizers; ``OPTIMIZERS`` maps method names to classes."""

# One import per line: several areas add optimizers here.
from .base import Optimizer
from .bayesopt import BayesianOptimization
from .cmaes import CMAES, SepCMAES
from .de import DifferentialEvolution
from .es import SNES, OpenES, SeedBatch
from .ga import GA
from .hill_climbing import HillClimbing
from .pso import PSO
from .random_search import RandomSearch
from .registry import OPTIMIZERS, register
from .result import OptimizeResult
from .sa import SimulatedAnnealing

__all__ = [
    "BayesianOptimization",
    "CMAES",
    "GA",
    "OPTIMIZERS",
    "OpenES",
    "PSO",
    "DifferentialEvolution",
    "HillClimbing",
    "Optimizer",
    "OptimizeResult",
    "RandomSearch",
    "SNES",
    "SeedBatch",
    "SepCMAES",
    "SimulatedAnnealing",
    "register",
]
