"""Ask/tell optimizers; ``OPTIMIZERS`` maps method names to classes."""

from .base import Optimizer
from .random_search import RandomSearch
from .registry import OPTIMIZERS, register
from .result import OptimizeResult

__all__ = ["OPTIMIZERS", "Optimizer", "OptimizeResult", "RandomSearch", "register"]
