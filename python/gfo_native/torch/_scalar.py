"""Hyperparameters given as tensors: torch.optim takes a one-element tensor wherever it takes a number."""

from __future__ import annotations

import torch


def tensor_value(v: torch.Tensor, label: str) -> float:
    """``float`` of a one-element real tensor of any dtype, else TypeError under ``label`` (the argument's name,
    as the caller's messages word it)."""
    if v.numel() == 1 and not v.is_complex():
        return float(v.detach())
    raise TypeError(f"{label}: expected a number or a one-element real tensor, got a tensor of shape "
                    f"{tuple(v.shape)} and dtype {v.dtype}")
