"""The fused zeroth-order pass over torch tensors: validation, stream ids, native or reference dispatch.

Stream of direction ``counter`` (a run-wide direction number: ``step * n_directions + d``) on parameter
tensor ``t``: ``stream_id((counter << 20) | t, PURPOSE_ZO)``, so every (step, direction, tensor) has its
own Philox stream and the element index inside it is the element's position in the tensor's memory (its
offset from the tensor's first address): for a contiguous tensor its position in the flattened tensor, for a
dense tensor in another memory order (channels_last, a transposed matrix; see _dense) its position in that
order. The kernels run over memory as flat arrays and never copy; every buffer beside a parameter (momentum,
ES-Adam's gradient) must have the parameter's strides.
"""

from __future__ import annotations

from typing import Any, Collection, List, Sequence

import numpy as np
import torch

from .. import _core
from .._torch_ptr import DTYPE_CODES, tensor_pointer
from ..reference import zo as ref_zo
from ..reference.rng import stream_id
from ._dense import flat, is_dense, require_same_layout

PURPOSE_ZO = 0x2F
MAX_TENSORS = 1 << 20
MAX_COUNTER = 1 << 36
DISTRIBUTIONS = {"gaussian": 0, "rademacher": 1}
# A bound on |z|: the float32 Box-Muller radius sqrt(-2 ln u) with u >= 2^-24 (gfo/normal32.hpp) is at most
# 5.77 (times |cos| <= 1, within a few ulps); Rademacher signs are 1.
Z_BOUND = {"gaussian": 6.0, "rademacher": 1.0}
PARAM_DTYPES = ("torch.float32", "torch.bfloat16")


def direction_streams(counters: Sequence[int], ntensors: int) -> np.ndarray:
    """(len(counters), ntensors) uint64 stream ids."""
    if ntensors > MAX_TENSORS:
        raise ValueError(f"params: at most {MAX_TENSORS} tensors, got {ntensors}")
    out = np.empty((len(counters), ntensors), dtype=np.uint64)
    for j, c in enumerate(counters):
        if not 0 <= c < MAX_COUNTER:
            raise ValueError(f"direction counter {c} outside [0, 2**36)")
        for t in range(ntensors):
            out[j, t] = stream_id((int(c) << 20) | t, PURPOSE_ZO)
    return out


def params_device(params: Sequence[torch.Tensor], name: str = "params") -> torch.device:
    """The one device every parameter is on (CPU, or one CUDA device with the CUDA kernels built)."""
    if not params:
        return torch.device("cpu")
    dev = params[0].device
    for i, p in enumerate(params):
        if p.device != dev:
            raise ValueError(f"{name}[{i}]: on {p.device}, but {name}[0] is on {dev}; all parameters of one "
                             "optimizer must be on one device")
    if dev.type == "cuda":
        from ..cuda._runtime import require

        require(f"{name}: MeZO/ES on CUDA parameters")
    return dev


def check_params(params: Sequence[torch.Tensor], name: str = "params") -> list[int]:
    """Addresses of dense float32/bfloat16 tensors (contiguous, or dense in another memory order) on one device,
    no two sharing memory (errors name the tensor)."""
    addresses = _addresses(params, params_device(params, name), name)
    check_disjoint(params, addresses, name)
    return addresses


def check_disjoint(params: Sequence[torch.Tensor], addresses: Sequence[int], name: str = "params") -> None:
    """ValueError when two tensors share memory (the same tensor listed twice, or views of one storage).

    Each tensor gets its own direction, so shared memory would be perturbed and updated once per listing, and
    its elements written by two threads of one pass at once.
    """
    spans = sorted((a, a + p.numel() * p.element_size(), i) for i, (p, a) in enumerate(zip(params, addresses))
                   if p.numel() > 0)
    end, owner = -1, -1
    for start, stop, i in spans:
        if start < end:
            first, second = sorted((owner, i))
            same = params[first] is params[second]
            raise ValueError(f"{name}[{first}] and {name}[{second}]: " + (
                "the same tensor is listed twice" if same else "the tensors share memory") +
                "; list each parameter once (a tied weight once, for all the modules that use it)")
        if stop > end:
            end, owner = stop, i


# PARAM_DTYPES as torch dtypes, with their codes: a dict lookup instead of str(dtype) per tensor and pass
_PARAM_CODES = {getattr(torch, name.split(".")[1]): DTYPE_CODES[name] for name in PARAM_DTYPES}


def _addresses(params: Sequence[torch.Tensor], dev: torch.device, name: str = "params") -> list[int]:
    # Every pass checks every tensor, so the common case is tested inline (a third of tensor_pointer's cost);
    # a tensor that fails goes through tensor_pointer for the error that names it. The device is params_device's.
    out = []
    for i, p in enumerate(params):
        if p.dtype not in _PARAM_CODES or p.layout is not torch.strided or \
                not p.is_contiguous() and not is_dense(p.shape, p.stride()):
            tensor_pointer(p, f"{name}[{i}]", dtypes=PARAM_DTYPES, device=dev.type)
        out.append(p.data_ptr())
    return out


def _buffer_addresses(buffers: Any, params: Sequence[torch.Tensor], name: str, device: str) -> List[int]:
    """Addresses of the float32 buffers beside ``params`` (0 where None); each must have its parameter's size,
    since the kernel reads and writes as many elements as the parameter has, and, where either is not
    contiguous, its parameter's sizes and strides, so that the element at one offset is the same in both."""
    if buffers is None:
        return [0] * len(params)
    if len(buffers) != len(params):
        raise ValueError(f"{name}: expected {len(params)} buffers (one per parameter), got {len(buffers)}")
    out = []
    for i, (b, p) in enumerate(zip(buffers, params)):
        if b is None:
            out.append(0)
            continue
        # the common case inline (as _addresses); a buffer that fails goes through tensor_pointer for its error
        if b.dtype is not torch.float32 or b.layout is not torch.strided or b.device.type != device \
                or not b.is_contiguous():
            tensor_pointer(b, f"{name}[{i}]", dtypes=("torch.float32",), device=device)
        if b.numel() != p.numel():
            raise ValueError(f"{name}[{i}]: {b.numel()} elements, but its parameter has {p.numel()}")
        require_same_layout(b, p, f"{name}[{i}]", f"params[{i}]",
                            "create it with torch.zeros_like(p, dtype=torch.float32), which keeps p's strides")
        out.append(b.data_ptr())
    return out


def dtype_names(params: Sequence[torch.Tensor]) -> List[str]:
    """Each tensor's dtype as a run records it ("float32", "bfloat16")."""
    return [str(p.dtype).rpartition(".")[2] for p in params]


def check_logged_dtypes(params: Sequence[torch.Tensor], logged: Any, what: str) -> None:
    """ValueError naming the first tensor whose dtype is not the one ``logged`` (dtype_names of the run's
    tensors; None: not recorded, nothing to check) records: every perturbation and update rounds to the
    parameter's dtype, so the same weights in another dtype would end elsewhere. ``what`` names the run."""
    if logged is None:
        return
    for t, (now, had) in enumerate(zip(dtype_names(params), logged)):
        if now != had:
            raise ValueError(f"params[{t}]: {now}, but {what} had tensor {t} in {had}; every perturbation and "
                             "update rounds to the parameter's dtype, so the dtype is part of the run (convert the "
                             f"model as the run had it, e.g. model.to(torch.{had}))")


def frozen_indices(params: Sequence[torch.Tensor]) -> List[int]:
    """Positions of the parameters frozen with ``requires_grad_(False)``: ``nn.Parameter`` objects (created
    trainable) that no longer require grad. Plain tensors, which never require grad unless asked to, count as
    trainable, as a torch optimizer given them would update them once they had a gradient."""
    return [t for t, p in enumerate(params) if not p.requires_grad and isinstance(p, torch.nn.Parameter)]


def zo_apply(params: Sequence[torch.Tensor], *, seed: int, distribution: int, streams: np.ndarray,
             ops: Sequence[tuple[int, float]], coefs: Any = None, lrs: Any = None, weight_decays: Any = None,
             momentum: float = 0.0, momentum_buffers: Any = None, grad_buffers: Any = None,
             skip: Collection[int] = (), impl: str = "native") -> None:
    """One fused pass (see ``gfo/zo.hpp``): ops ``(slot, scale)`` sorted by slot, then the optional update.

    ``coefs`` (one per slot) enables the update; ``grad_buffers`` switches it to writing the estimated
    gradient instead of stepping. ``skip``: positions of tensors the pass leaves untouched (frozen ones; their
    buffers are neither read nor written, and the other tensors keep their streams). CUDA parameters run the
    CUDA kernel (the same bits) on the current stream.
    """
    nt = len(params)
    if skip:
        if any(not 0 <= t < nt for t in skip):
            raise ValueError(f"skip: positions must be in [0, {nt}), got {sorted(skip)}")
        momentum_buffers = _without(momentum_buffers, skip)
        grad_buffers = _without(grad_buffers, skip)
    lrs = [0.0] * nt if lrs is None else [float(v) for v in lrs]
    wds = [0.0] * nt if weight_decays is None else [float(v) for v in weight_decays]
    slots = [int(s) for s, _ in ops]
    scales = [float(sc) for _, sc in ops]
    c = None if coefs is None else np.ascontiguousarray(coefs, dtype=np.float32)
    if impl not in ("native", "reference"):
        raise ValueError(f"impl: expected 'native' or 'reference', got {impl!r}")
    dev = params_device(params)
    addresses = _addresses(params, dev)
    momentum_addresses = _buffer_addresses(momentum_buffers, params, "momentum_buffers", dev.type)
    grad_addresses = _buffer_addresses(grad_buffers, params, "grad_buffers", dev.type)
    sizes = [p.numel() for p in params]
    for t in skip:
        sizes[t] = 0
    if impl == "native":
        args = (int(seed), int(distribution), addresses, sizes,
                [_PARAM_CODES[p.dtype] for p in params], lrs, wds, momentum_addresses, grad_addresses, streams,
                slots, scales, c, float(momentum))
        if dev.type == "cuda":
            index = dev.index if dev.index is not None else torch.cuda.current_device()
            _core.cuda_set_device(index)
            _core.cuda_zo_apply(*args, int(torch.cuda.current_stream(index).cuda_stream))
        else:
            _core.zo_apply(*args)
    else:
        if dev.type != "cpu":
            raise ValueError("impl: 'reference' (the NumPy twin) runs on CPU parameters only")
        # flat views in memory order (the kernel's element order), so that the twin writes the tensors in place
        flats = [flat(p.detach()) for p in params]
        arrays = [f.view(torch.int16).numpy().view(np.uint16) if p.dtype == torch.bfloat16 else f.numpy()
                  for f, p in zip(flats, params)]
        arrays = [a[:n] for a, n in zip(arrays, sizes)]

        def as_np(bs: Any) -> Any:
            return None if bs is None else [None if b is None else flat(b.detach()).numpy() for b in bs]

        ref_zo.zo_apply(arrays, seed=seed, distribution=distribution, streams=streams, op_slots=slots,
                        op_scales=scales, coefs=c, lrs=lrs, weight_decays=wds, momentum=momentum,
                        momentum_buffers=as_np(momentum_buffers), grad_buffers=as_np(grad_buffers))


def _without(buffers: Any, skip: Collection[int]) -> Any:
    if buffers is None:
        return None
    out = list(buffers)
    for t in skip:
        if t < len(out):
            out[t] = None
    return out


def directions(seed: int, stream: int, distribution: int, n: int, offset: int = 0) -> np.ndarray:
    """The kernel's own z for elements [offset, offset + n) of a stream (float32), for tests and twins."""
    out = np.empty(n, dtype=np.float32)
    _core.zo_directions(int(seed), int(stream), int(distribution), int(offset), out)
    return out
