"""Optimizer state containers that count their writes, so that a cached pointer table notices state changes.

The fused optimizers keep raw addresses of the state tensors between steps (see _layout). torch users
reset or replace state in several ways: ``opt.state.clear()``, ``del opt.state[p]``, ``opt.state[p] = {}``,
``opt.state[p]["exp_avg"] = t``, ``opt.state[p]["step"] = torch.tensor(0.)``, ``opt.state = defaultdict(dict)``,
``opt.load_state_dict(...)``. Re-reading every state tensor at every step would cost as much Python work per
tensor as building the table, so instead ``opt.state`` is a ``StateMap`` and each parameter's state a
``StateDict``: dict subclasses whose writing methods bump one process-wide counter (``writes()``). A step
whose counter and ``opt.state`` object are those it saw last reuses its tables; otherwise they are rebuilt
from the state as it is now. The counter is shared by all optimizers (a state dict may be moved from one
optimizer to another); a write elsewhere costs at most one spurious rebuild.

Plain containers (an ``opt.state`` reassigned by the user, a plain dict put into it) are adopted at the
next step's rebuild: replaced by tracking copies holding the same objects. Writes made later through a
reference to the replaced plain container are not seen (write through ``opt.state``); the tables keep
every state tensor they point at alive, so such a write can make a step use outdated state, never freed
memory.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, DefaultDict, Dict

_writes = 0


def writes() -> int:
    """The number of writes to any StateMap or StateDict so far (compare two readings for "changed")."""
    return _writes


def _touch() -> None:
    global _writes
    _writes += 1


class _CountsWrites(Dict[Any, Any]):
    """Every method that can change a dict's entries counts a write first, then does what dict does (through
    the next class in the MRO: dict, or defaultdict for StateMap)."""

    __slots__ = ()

    def __setitem__(self, key: Any, value: Any) -> None:
        _touch()
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        _touch()
        super().__delitem__(key)

    def __ior__(self, other: Any) -> Any:  # type: ignore[misc]  # dict's own return, untyped
        _touch()
        return super().__ior__(other)

    def clear(self) -> None:
        _touch()
        super().clear()

    def pop(self, *args: Any) -> Any:
        _touch()
        return super().pop(*args)

    def popitem(self) -> Any:
        _touch()
        return super().popitem()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        _touch()
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        _touch()
        super().update(*args, **kwargs)


class StateDict(_CountsWrites):
    """One parameter's state (a dict whose writes are counted)."""

    __slots__ = ()

    def copy(self) -> "StateDict":
        return StateDict(self)

    def __reduce__(self) -> Any:
        # pickles (torch.save of the optimizer, copy.deepcopy) as this type; state_dict() hands out plain dicts
        return (StateDict, (dict(self),))


class StateMap(_CountsWrites, DefaultDict[Any, Any]):
    """``opt.state``: a defaultdict whose writes are counted and whose missing entries are StateDicts.

    defaultdict's own ``__missing__`` inserts through ``__setitem__``, so ``opt.state[p]`` for a new
    parameter is counted too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # copy() and pickling call type(self)(default_factory, items); the factory is always StateDict
        if args and (args[0] is None or callable(args[0])):
            args = args[1:]
        defaultdict.__init__(self, StateDict, *args, **kwargs)


def adopt_map(state: Any) -> StateMap:
    """``state`` itself when it is a StateMap, else a StateMap holding the same entries (dicts as StateDicts)."""
    if type(state) is StateMap:
        return state
    if not hasattr(state, "items"):
        raise TypeError(f"optimizer.state: expected a mapping from parameters to dicts, got {type(state).__name__}")
    return StateMap((k, StateDict(v) if isinstance(v, dict) and type(v) is not StateDict else v)
                    for k, v in state.items())


def adopt_entry(state: StateMap, p: Any) -> Dict[Any, Any]:
    """``state[p]`` as a StateDict (created empty when missing; a plain dict replaced by a tracking copy)."""
    s = state[p]
    if type(s) is not StateDict:
        if not isinstance(s, dict):
            raise TypeError(f"optimizer.state[param]: expected a dict, got {type(s).__name__}")
        s = state[p] = StateDict(s)
    return s


def plain(state: Dict[Any, Any]) -> Dict[Any, Any]:
    """A state_dict()'s "state" with plain dicts (loadable by torch.load(weights_only=True) without gfo_native)."""
    return {k: dict(v) if type(v) is StateDict else v for k, v in state.items()}
