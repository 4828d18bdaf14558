# Stub of the compiled module (private API; see the gfo_native package for the public one).
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

def build_info() -> dict[str, Any]: ...
def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...

# rng
def rng_bits(seed: int, stream: int, offset: int, out: npt.NDArray[np.uint32]) -> None: ...
def rng_uniform(seed: int, stream: int, offset: int, out: npt.NDArray[np.floating[Any]]) -> None: ...
def rng_normal(seed: int, stream: int, offset: int, out: npt.NDArray[np.floating[Any]]) -> None: ...
def philox4x32_10(counter: list[int], key: list[int]) -> list[int]: ...

# functions
class Objective(Enum):
    sphere = 0
    ellipsoid = 1
    rastrigin = 2
    rosenbrock = 3
    ackley = 4
    griewank = 5
    schwefel = 6
    levy = 7
    styblinski_tang = 8

def evaluate_objective(objective: Objective, X: npt.NDArray[np.floating[Any]], out: npt.NDArray[np.floating[Any]]) -> None: ...

# sampling
def sampling_uniform_box(seed: int, stream: int, lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64],
                         out: npt.NDArray[np.float64]) -> None: ...
def sampling_gaussian_box(seed: int, stream: int, center: npt.NDArray[np.float64], scale: npt.NDArray[np.float64],
                          lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64],
                          out: npt.NDArray[np.float64]) -> None: ...
