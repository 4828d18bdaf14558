"""Shape checks for the population twins: every argument a device array of a fixed dtype and shape."""

from __future__ import annotations

from typing import Any, Collection, Dict, Mapping, Tuple, Union

from ._arrays import DeviceArray, activate, as_device_array, same_device
from ._runtime import require


Spec = Mapping[str, Tuple[str, Tuple[Union[str, int], ...]]]


def device_args(what: str, spec: Spec, values: Mapping[str, Any],
                writeable: Collection[str] = ()) -> Dict[str, DeviceArray]:
    """``spec``: name -> (dtype, shape with "n"/"d" symbols); n and d come from the first 2-D entry."""
    require(what)
    arrays: Dict[str, DeviceArray] = {}
    dims: Dict[Union[str, int], int] = {}
    for name, (dtype, shape) in spec.items():
        a = as_device_array(values[name], name, dtypes=(dtype,), ndim=len(shape), writeable=name in writeable)
        for sym, extent in zip(shape, a.shape):
            if isinstance(sym, str):
                dims.setdefault(sym, extent)
                if dims[sym] != extent:
                    raise ValueError(f"{name}: expected shape {tuple(dims.get(s, s) for s in shape)}, got {a.shape}")
            elif sym != extent:
                raise ValueError(f"{name}: expected extent {sym} on an axis, got shape {a.shape}")
        arrays[name] = a
    same_device(list(arrays.values()), list(arrays))
    activate(next(iter(arrays.values())))
    return arrays
