"""Fused gradient optimizers for NumPy arrays: functional steps, stateful optimizers, learning-rate schedules."""

from . import functional, schedules
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

__all__ = ["functional", "schedules", "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]
