"""torch-facing optimizers: drop-in replacements for torch.optim running one fused native call per parameter
group, and gradient-free training (MeZO, ES) from seeds.

``import gfo_native.torch`` needs torch; ``import gfo_native`` does not.
"""

from ._optimizers import SGD, Adagrad, Adam, AdamW, RMSprop
from ._clip import clip_grad_norm_, clip_grad_value_
from .es import ES
from .mezo import MeZO
from .replay import replay

__all__ = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "clip_grad_norm_", "clip_grad_value_",
           "ES", "MeZO", "replay"]
