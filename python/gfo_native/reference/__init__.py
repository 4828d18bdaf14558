"""Pure-NumPy twins of the native kernels: readable, slow, and the specification the tests hold to."""

from . import functions, optim, rng, sampling

__all__ = ["functions", "optim", "rng", "sampling"]
