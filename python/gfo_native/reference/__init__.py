"""Pure-NumPy twins of the native kernels: readable, slow, and the specification the tests hold to."""

from . import functions, rng, sampling

__all__ = ["functions", "rng", "sampling"]
