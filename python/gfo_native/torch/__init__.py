"""Drop-in replacements for torch.optim optimizers that run one fused native call per parameter group.

``import gfo_native.torch`` needs torch; ``import gfo_native`` does not.
"""

from ._optimizers import SGD, Adagrad, Adam, AdamW, RMSprop
from ._clip import clip_grad_norm_, clip_grad_value_

__all__ = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "clip_grad_norm_", "clip_grad_value_"]
