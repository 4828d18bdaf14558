"""Parallel and distributed evaluation (process pools, Ray), fault handling, checkpoints.

Ray is optional: :class:`RayEvaluator` imports it only when used (``pip install gfo-native[ray]``).
"""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .evaluator import Evaluation, Evaluator, SerialEvaluator, WorkerLostError, as_evaluator
from .pool import ExecutorEvaluator
from .ray_evaluator import RayEvaluator

__all__ = ["CheckpointError", "Evaluation", "Evaluator", "ExecutorEvaluator", "RayEvaluator", "SerialEvaluator",
           "WorkerLostError", "as_evaluator", "load_checkpoint", "save_checkpoint"]
