"""Dense tensors in any memory order (contiguous, channels_last, a transposed matrix): the one layout rule of
every kernel that takes torch tensors as pointers.

A strided tensor is *dense* (torch's "non-overlapping and dense") when its ``numel`` elements fill one block
of memory without gaps or overlaps, in some permuted order of its dimensions: sorted by stride (dimensions of
size 1 left out, their stride never matters), each stride equals the product of the sizes of the dimensions
with smaller strides. Its block starts at ``data_ptr()`` (torch has no negative strides) and holds ``numel``
elements. Every kernel here is elementwise, so it can run over that block as a flat array in memory order
without a copy, provided that every tensor it reads or writes beside the parameter (gradient, state,
buffers) maps its elements to memory the same way: the same sizes and the same strides (``layout_key``).
A tensor that is not dense (a slice with gaps such as ``x[:, ::2]``, an expanded or otherwise overlapping
view) is refused, never copied.
"""

from __future__ import annotations

import functools
from typing import Any, List, Optional, Sequence, Tuple

import torch


def is_dense(sizes: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether a tensor of these sizes and strides covers exactly ``prod(sizes)`` consecutive elements."""
    # MeZO/ES check every tensor at every pass: a model's few distinct layouts are decided once
    return _dense(tuple(sizes), tuple(strides))


@functools.lru_cache(maxsize=4096)
def _dense(sizes: Tuple[int, ...], strides: Tuple[int, ...]) -> bool:
    if len(sizes) != len(strides):
        return False
    if any(n == 0 for n in sizes):
        return True  # no element: nothing to overlap
    expected = 1
    for stride, n in sorted((s, n) for n, s in zip(sizes, strides) if n != 1):
        if stride != expected:
            return False
        expected *= n
    return True


def layout_key(t: torch.Tensor) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """(sizes, strides) with the stride of each size-1 dimension taken as 0: two tensors with equal keys put
    every element at the same offset from their first address (so one flat pass treats them alike)."""
    sizes = tuple(t.shape)
    return sizes, tuple(0 if n == 1 else s for n, s in zip(sizes, t.stride()))


def same_layout(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether ``a`` and ``b`` index their memory alike (both contiguous, or the same layout_key)."""
    return (a.is_contiguous() and b.is_contiguous()) or layout_key(a) == layout_key(b)


def require_dense(t: torch.Tensor, name: str) -> None:
    """ValueError naming ``t`` unless it is contiguous or dense in another memory order."""
    if not t.is_contiguous() and not is_dense(t.shape, t.stride()):
        raise ValueError(f"{name}: expected a dense tensor (contiguous, or contiguous memory in another order "
                         f"such as channels_last), got sizes {tuple(t.shape)} with strides {t.stride()}, which "
                         "leave gaps or overlap (such memory is never copied silently; pass .contiguous())")


def require_same_layout(t: torch.Tensor, p: torch.Tensor, name: str, owner: str, fix: str) -> None:
    """ValueError naming ``name`` unless ``t`` indexes its memory as the parameter ``p`` (named ``owner``)
    does; ``fix`` says what to do."""
    if not same_layout(t, p):
        raise ValueError(f"{name}: sizes {tuple(t.shape)} with strides {t.stride()}, but {owner} has sizes "
                         f"{tuple(p.shape)} with strides {p.stride()}; the fused pass runs over memory order and "
                         f"never copies, so both must have the same memory layout ({fix})")


def flat(t: torch.Tensor) -> torch.Tensor:
    """A 1-D view of a dense tensor's memory block in memory order (element ``i`` is the ``i``-th in memory)."""
    return t.view(-1) if t.is_contiguous() else t.as_strided((t.numel(),), (1,))


def shaped_like(block: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """A view of the 1-D ``block`` (``p.numel()`` elements) with ``p``'s sizes and strides, so that it indexes
    its memory as ``p`` does (the state of a channels_last parameter is channels_last too); contiguous for a
    ``p`` that is not dense."""
    if p.is_contiguous() or not is_dense(p.shape, p.stride()):  # a non-dense p is refused where it is used
        return block.view(p.shape)
    return block.as_strided(p.shape, p.stride())


def memory_layouts(params: Sequence[torch.Tensor]) -> List[Optional[List[int]]]:
    """The strides of each non-contiguous tensor (None for a contiguous one): what a seed-optimizer run records
    of its tensors' memory layouts (check_logged_layout compares tensors with it)."""
    return [None if p.is_contiguous() else list(p.stride()) for p in params]


def check_logged_layout(params: Sequence[torch.Tensor], logged: Any, what: str) -> None:
    """ValueError naming the first tensor whose memory layout is not the one ``logged`` (memory_layouts of the
    run's tensors; None: all contiguous) records: directions are keyed by memory position, so the same weights
    in another memory format would be perturbed and updated differently. ``what`` names the run's record."""
    rows = list(logged) if logged is not None else [None] * len(params)
    for t, p in enumerate(params):
        saved = rows[t] if t < len(rows) else None
        if saved is None:
            ok = p.is_contiguous()
        else:
            sizes, strides = tuple(p.shape), p.stride()
            ok = len(saved) == len(sizes) and all(n == 1 or s == r for n, s, r in zip(sizes, strides, saved))
        if not ok:
            had = "contiguous" if saved is None else f"strides {tuple(int(r) for r in saved)}"
            now = "contiguous" if p.is_contiguous() else f"strides {p.stride()}"
            raise ValueError(f"params[{t}]: memory layout {now}, but {what} had tensor {t} {had}; z is keyed by "
                             "memory position, so the model's memory format is part of the run (convert the model "
                             "as the run had it, e.g. model.to(memory_format=torch.channels_last) or "
                             "torch.contiguous_format)")
