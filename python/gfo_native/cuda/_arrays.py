"""Device arrays as the CUDA kernels see them: an address, a shape, a dtype, a device and a stream.

Accepted: torch CUDA tensors (address from ``data_ptr()``, stream ``torch.cuda.current_stream().cuda_stream``)
and any object with ``__cuda_array_interface__`` (CuPy, Numba, JAX...; its ``stream`` entry, else the legacy
default stream). Nothing is ever copied or converted: a wrong dtype, a non-contiguous layout or a host array
raises an error naming the argument.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Sequence, Tuple

# Codes shared with cpp/bindings/register_cuda.cpp and python/gfo_native/_torch_ptr.py.
DTYPE_CODES = {"float32": 0, "float64": 1, "bfloat16": 2, "float16": 3}
_TORCH_DTYPES = {"torch.float32": "float32", "torch.float64": "float64", "torch.bfloat16": "bfloat16",
                 "torch.float16": "float16", "torch.uint32": "uint32", "torch.uint8": "uint8", "torch.bool": "uint8",
                 "torch.int64": "int64"}
_CAI_DTYPES = {"<f4": "float32", "<f8": "float64", "<f2": "float16", "<u4": "uint32", "|u1": "uint8", "|b1": "uint8",
               "<i8": "int64"}
_ITEMSIZE = {"float32": 4, "float64": 8, "bfloat16": 2, "float16": 2, "uint32": 4, "uint8": 1, "int64": 8}


class DeviceArray(NamedTuple):
    """A checked device array: address, shape, dtype name, device (None: current), stream, the object itself."""

    ptr: int
    shape: Tuple[int, ...]
    dtype: str
    device: Optional[int]  # None: the interface does not say (the current device is used)
    stream: int
    obj: Any

    @property
    def size(self) -> int:
        """Number of elements."""
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def code(self) -> int:
        """The dtype code the CUDA entry points take (DTYPE_CODES)."""
        return DTYPE_CODES[self.dtype]


def is_torch_tensor(obj: object) -> bool:
    """Whether ``obj`` is a torch tensor (checked without importing torch)."""
    return type(obj).__module__.startswith("torch") and hasattr(obj, "data_ptr") and hasattr(obj, "is_cuda")


def is_device_array(obj: object) -> bool:
    """A torch CUDA tensor or an object exporting ``__cuda_array_interface__``."""
    if is_torch_tensor(obj):
        return bool(obj.device.type == "cuda")  # type: ignore[attr-defined]
    return hasattr(obj, "__cuda_array_interface__")


def _c_strides(shape: Sequence[int], itemsize: int) -> Tuple[int, ...]:
    strides: list[int] = []
    step = itemsize
    for s in reversed(shape):
        strides.append(step)
        step *= max(int(s), 1)
    return tuple(reversed(strides))


def as_device_array(obj: Any, name: str, *, dtypes: Sequence[str] = ("float32", "float64"), ndim: Optional[int] = None,
                    writeable: bool = False) -> DeviceArray:
    """Check ``obj`` and describe it; raises TypeError/ValueError naming ``name``."""
    if is_torch_tensor(obj):
        import torch

        if obj.device.type != "cuda":
            raise ValueError(f"{name}: expected a CUDA tensor, got device {obj.device} (move it with .cuda())")
        if obj.layout != torch.strided:
            raise TypeError(f"{name}: sparse or non-strided tensors are not supported (layout {obj.layout})")
        dtype = _TORCH_DTYPES.get(str(obj.dtype))
        if dtype is None or dtype not in dtypes:
            raise TypeError(f"{name}: expected dtype in {tuple(dtypes)}, got {obj.dtype}")
        if not obj.is_contiguous():
            raise ValueError(f"{name}: expected a contiguous tensor (non-contiguous memory is never copied silently)")
        if writeable and obj.requires_grad and obj.is_leaf and torch.is_grad_enabled():
            raise ValueError(f"{name}: a leaf tensor that requires grad cannot be written in place "
                             "(use torch.no_grad())")
        shape = tuple(obj.shape)
        dev = obj.device.index if obj.device.index is not None else torch.cuda.current_device()
        array = DeviceArray(int(obj.data_ptr()), shape, dtype, dev, int(torch.cuda.current_stream(dev).cuda_stream),
                            obj)
    elif hasattr(obj, "__cuda_array_interface__"):
        iface = obj.__cuda_array_interface__
        shape = tuple(int(s) for s in iface["shape"])
        dtype = _CAI_DTYPES.get(iface["typestr"])
        if dtype is None or dtype not in dtypes:
            raise TypeError(f"{name}: expected dtype in {tuple(dtypes)}, got typestr {iface['typestr']!r}")
        strides = iface.get("strides")
        if strides is not None and tuple(strides) != _c_strides(shape, _ITEMSIZE[dtype]) and 0 not in shape:
            raise ValueError(f"{name}: expected a C-contiguous array (non-contiguous memory is never copied silently)")
        if iface.get("mask") is not None:
            raise ValueError(f"{name}: masked arrays are not supported")
        ptr, readonly = iface["data"]
        if writeable and readonly:
            raise ValueError(f"{name}: array is read-only")
        device = getattr(getattr(obj, "device", None), "id", None)
        stream = iface.get("stream")
        array = DeviceArray(int(ptr or 0), shape, dtype, device, int(stream or 0), obj)
    else:
        raise TypeError(f"{name}: expected a torch CUDA tensor or an array with __cuda_array_interface__ "
                        f"(e.g. CuPy), got {type(obj).__name__}")
    if ndim is not None and len(array.shape) != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {array.shape}")
    return array


def same_device(arrays: Sequence[DeviceArray], names: Sequence[str]) -> None:
    """ValueError naming ``names`` unless all arrays that state a device state the same one."""
    devices = {a.device for a in arrays if a.device is not None}
    if len(devices) > 1:
        raise ValueError(f"{', '.join(names)}: expected arrays on one device, got devices {sorted(devices)}")


def empty_like(ref: DeviceArray, shape: Tuple[int, ...], dtype: str) -> Any:
    """A new array of the same library and device as ``ref`` (torch or CuPy)."""
    if is_torch_tensor(ref.obj):
        import torch

        return torch.empty(shape, dtype=getattr(torch, dtype), device=ref.obj.device)
    module = type(ref.obj).__module__.split(".")[0]
    if module == "cupy":
        import cupy

        with cupy.cuda.Device(ref.device if ref.device is not None else cupy.cuda.runtime.getDevice()):
            return cupy.empty(shape, dtype=dtype)
    raise TypeError(f"out: cannot allocate an output like a {type(ref.obj).__name__}; pass out=")


def activate(array: DeviceArray) -> None:
    """Make the array's device current for the launch (multi-GPU machines)."""
    from .. import _core

    if array.device is not None:
        _core.cuda_set_device(int(array.device))
