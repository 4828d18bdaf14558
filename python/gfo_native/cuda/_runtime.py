"""Is CUDA usable here? The checks every CUDA entry point runs first, and the errors that name the fix."""

from __future__ import annotations

from typing import Any

from .. import _core

REBUILD_HINT = (
    'rebuild with CUDA: CMAKE_ARGS="-DGFO_CUDA=ON" pip install --no-build-isolation --force-reinstall '
    "--no-binary gfo-native gfo-native (nvcc must be on PATH; add -DCMAKE_CUDA_ARCHITECTURES=<yours> to "
    "choose GPU architectures), or tools/dev-build.sh -DGFO_CUDA=ON in a checkout"
)


class CudaUnavailableError(RuntimeError):
    """CUDA was asked for, but this build has no CUDA kernels or this machine has no usable GPU."""


def built_with_cuda() -> bool:
    """Whether this copy of gfo_native was compiled with GFO_CUDA=ON (``build_info()["cuda"]``)."""
    return bool(_core.build_info()["cuda"])


def device_count() -> int:
    """Visible CUDA devices (0 without a CUDA build, a driver or a GPU)."""
    return int(_core.cuda_device_count()) if built_with_cuda() else 0


def is_available() -> bool:
    """True when the CUDA kernels are built and at least one GPU is visible."""
    return device_count() > 0


def require(what: str = "CUDA") -> None:
    """Raise :class:`CudaUnavailableError` naming the fix unless the CUDA kernels can run here."""
    if not built_with_cuda():
        raise CudaUnavailableError(
            f"{what}: this gfo_native build has no CUDA kernels (gfo_native.build_info()['cuda'] is False); "
            + REBUILD_HINT)
    if _core.cuda_device_count() == 0:
        why = _core.cuda_device_error() or "0 devices"
        raise CudaUnavailableError(
            f"{what}: gfo_native was built with CUDA but no GPU is usable here (cudaGetDeviceCount: {why}); "
            "check nvidia-smi, that the driver supports the CUDA version gfo_native was built with, and "
            "CUDA_VISIBLE_DEVICES, or use device='cpu'")


def check_device(device: Any) -> str:
    """Validate a ``device=`` argument: "cpu" or "cuda" (also "cuda:N" / torch.device); requires CUDA for GPUs."""
    name = str(device)
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        require(f"device={name!r}")
        return name
    raise ValueError(f"device: expected 'cpu' or 'cuda', got {device!r}")


def synchronize(stream: int = 0) -> None:
    """Wait for the work gfo_native queued on ``stream`` (an integer cudaStream_t; 0: legacy default)."""
    require()
    _core.cuda_synchronize(int(stream))
