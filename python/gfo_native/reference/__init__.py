"""Pure-NumPy twins of the native kernels: readable, slow, and the specification the tests hold to."""

# One import per line: several areas add twins here.
from . import de
from . import functions
from . import ga
from . import optim
from . import pso
from . import rng
from . import sa
from . import sampling
from . import stream
from . import zo

__all__ = ["de", "functions", "ga", "optim", "pso", "rng", "sa", "sampling", "stream", "zo"]
