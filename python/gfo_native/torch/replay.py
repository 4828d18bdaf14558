"""Replaying a seed-optimizer run: initial weights + ``optimizer.log`` -> the final weights, bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._checks import positive_int, seed_value
from . import _zo_kernels as K
from ._dense import check_logged_layout
from .es import grad_buffers, make_adam, publish_grads, sync_adam


@torch.no_grad()
def replay(params: Any, log: dict[str, Any], *, impl: str = "native") -> None:
    """Apply a logged MeZO/ES run to ``params`` in place (the same tensors, in the same order, as the run's
    optimizer had, holding the initial weights: ``[p for g in opt.param_groups for p in g["params"]]``, which
    is not ``model.parameters()``'s order when the groups regroup them; tensors whose sizes, dtype or memory
    layout differ from the log's are refused: z is keyed by memory position, so a model the run had in channels_last
    must be replayed in channels_last).

    Each step is one fused pass: every direction's perturb/restore round trip (the same rounded operations
    the run performed, so the restoration errors are reproduced too) followed by the update. No loss is
    evaluated; the result equals the run's final weights bit for bit.
    """
    if not isinstance(log, dict):
        raise TypeError(f"log: expected the optimizer's log (a dict, optimizer.log), got {type(log).__name__}")
    missing = [k for k in ("groups", "seed", "distribution", "n_directions", "two_sided", "steps") if k not in log]
    if missing:
        raise ValueError(f"log: missing {missing}; expected a MeZO/ES optimizer.log")
    params = list(params)
    groups = log["groups"]
    if len(groups) != len(params):
        raise ValueError(f"params: the log describes {len(groups)} tensors, got {len(params)}")
    K.check_params(params)
    for t, (p, n) in enumerate(zip(params, log.get("sizes", ()))):  # logs before 2026-11-23 have no sizes
        if p.numel() != int(n):
            raise ValueError(f"params[{t}]: {p.numel()} elements, the run's tensor {t} had {n} (pass the tensors "
                             "in the optimizer's order: its param_groups' params, group after group)")
    check_logged_layout(params, log.get("strides"), "the log's run")  # logs without strides: all contiguous
    K.check_logged_dtypes(params, log.get("dtypes"), "the log's run")  # logs before 2026-11-23 may lack dtypes
    dist, nd, two_sided = _check_log(log)
    momentum = float(log.get("momentum", 0.0))
    bufs = [torch.zeros_like(p, dtype=torch.float32) for p in params] if momentum > 0 else None
    adam = None
    if log.get("optimizer") == "adam":
        ngroups = max(groups) + 1
        grouped = [{"params": [p for p, g in zip(params, groups) if g == gi], "lr": 0.0} for gi in range(ngroups)]
        adam = make_adam(grouped, log["betas"], log["adam_eps"])
        for p in params:
            p.grad = None
    for st in log["steps"]:
        # the tensors of the groups the run had at this step (a group added later has not joined yet)
        n = int(st.get("ntensors", len(params)))
        ps, gs = params[:n], groups[:n]
        frozen = [int(t) for t in st.get("frozen", ())]  # parameters the run had frozen at this step
        h = float(st["h"])
        trip = [h, -2.0 * h, h] if two_sided else [h, -h]
        # an abandoned step, or one with no finite loss, has no coefs: its round trips only
        ops = [(d, s) for d in range(nd if "coefs" in st else int(st["trips"])) for s in trip]
        streams = K.direction_streams(range(st["counter"], st["counter"] + nd), n)
        if "coefs" not in st:
            K.zo_apply(ps, seed=log["seed"], distribution=dist, streams=streams, ops=ops, skip=frozen, impl=impl)
            continue
        grads = None
        if adam is not None:
            grads = grad_buffers(ps, set(frozen))
            for p in params[n:]:
                p.grad = None
        K.zo_apply(ps, seed=log["seed"], distribution=dist, streams=streams, ops=ops,
                   coefs=np.asarray(st["coefs"], dtype=np.float32), lrs=[st["lr"][g] for g in gs],
                   weight_decays=[st["weight_decay"][g] for g in gs], momentum=momentum,
                   momentum_buffers=None if bufs is None else bufs[:n], grad_buffers=grads, skip=frozen, impl=impl)
        if adam is not None:
            publish_grads(ps, grads)
            sync_adam(adam, st["lr"])
            with torch.enable_grad():
                adam.step()


def _check_log(log: dict[str, Any]) -> tuple[int, int, bool]:
    """(distribution code, n_directions, two_sided) of a log whose header and steps are well formed, else a
    ValueError/TypeError naming the entry, before any step moves the weights (a log edited or cut by hand)."""
    seed_value(log["seed"], "log['seed']")
    if log["distribution"] not in K.DISTRIBUTIONS:
        raise ValueError(f"log['distribution']: expected one of {sorted(K.DISTRIBUTIONS)}, got {log['distribution']!r}")
    nd = positive_int(log["n_directions"], "log['n_directions']")
    if not isinstance(log["two_sided"], bool):
        raise TypeError(f"log['two_sided']: expected True or False, got {type(log['two_sided']).__name__}")
    steps = log["steps"]
    if not isinstance(steps, list):
        raise TypeError(f"log['steps']: expected a list of step records, got {type(steps).__name__}")
    for i, st in enumerate(steps):
        need = ("counter", "h") + (("coefs", "lr", "weight_decay") if "coefs" in st else ("trips",))
        missing = [k for k in need if k not in st]
        if missing:
            raise ValueError(f"log['steps'][{i}]: missing {', '.join(repr(k) for k in missing)}")
        if "coefs" in st and len(st["coefs"]) != nd:
            raise ValueError(f"log['steps'][{i}]: {len(st['coefs'])} coefficients, but the run has n_directions={nd}")
    return K.DISTRIBUTIONS[log["distribution"]], nd, log["two_sided"]
