"""Optional CUDA kernels (GFO_CUDA=ON builds): the same optimizers and random numbers on the GPU.

Device arrays are torch CUDA tensors or ``__cuda_array_interface__`` objects (CuPy); work is queued on their
current stream. Without a CUDA build or a GPU every entry point raises :class:`CudaUnavailableError`
naming the fix. See :mod:`.rng`, :mod:`.sampling`, :mod:`.pso`, :mod:`.de`, :mod:`.ga`, :mod:`.optim`; benchmark functions dispatch here from
:mod:`gfo_native.functions` when given a device array.
"""

from . import de, functions, ga, optim, pso, rng, sampling
from ._arrays import DeviceArray, as_device_array, is_device_array
from ._runtime import (CudaUnavailableError, REBUILD_HINT, built_with_cuda, check_device, device_count,
                       is_available, require, synchronize)

__all__ = ["CudaUnavailableError", "DeviceArray", "REBUILD_HINT", "as_device_array", "built_with_cuda",
           "check_device", "de", "device_count", "functions", "ga", "is_available", "is_device_array", "optim", "pso",
           "require", "rng", "sampling", "synchronize"]
