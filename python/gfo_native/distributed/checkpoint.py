"""Checkpoint files: a safe, versioned container for trees of plain values and NumPy arrays.

Layout (one file)::

    GFO-NATIVE-CHECKPOINT\\n
    {"format": 1, "sha256": "...", "tree": <bytes>, "arrays": <bytes>}\\n     <- header, one JSON line
    <tree: JSON of the structure, arrays replaced by references>
    <arrays: an .npz archive, read back with allow_pickle=False>

Nothing is unpickled when loading, so a checkpoint from an untrusted place cannot run code. The SHA-256 of
the two payloads catches truncated or altered files. Writes are atomic: a temporary file in the same
directory, flushed and fsync'ed, then renamed over the target (and the directory fsync'ed), so a reader
(or a run killed at any instant) sees the old checkpoint or the new one, never half of one.

Every container is a one-key tagged JSON object, so no user key can be mistaken for a tag:
``{"d": [[k, v], ...]}`` dict, ``{"l": [...]}`` list, ``{"t": [...]}`` tuple, ``{"a": "a3"}`` array,
``{"s": "a4"}`` NumPy scalar (kept as its own dtype); None, bool, int, float and str stay JSON.
JSON writes floats as their shortest round-trip repr, so floats come back bit for bit.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"GFO-NATIVE-CHECKPOINT\n"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: not one of ours, corrupt, a newer format, or from another run."""


def _encode(v: Any, arrays: dict[str, np.ndarray]) -> Any:
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, float)) and type(v) in (int, float):
        return v
    if isinstance(v, np.ndarray) or isinstance(v, np.generic):
        a = np.asarray(v)
        if a.dtype.hasobject:
            raise CheckpointError(f"checkpoint: cannot store an object array (dtype {a.dtype})")
        key = f"a{len(arrays)}"
        arrays[key] = a
        return {"a" if isinstance(v, np.ndarray) else "s": key}
    if isinstance(v, dict):
        return {"d": [[_encode(k, arrays), _encode(x, arrays)] for k, x in v.items()]}
    if isinstance(v, list):
        return {"l": [_encode(x, arrays) for x in v]}
    if isinstance(v, tuple):
        return {"t": [_encode(x, arrays) for x in v]}
    raise CheckpointError(f"checkpoint: cannot store a value of type {type(v).__name__} "
                          f"(plain numbers, strings, lists, dicts and NumPy arrays only)")


def _decode(v: Any, arrays: Any) -> Any:
    if not isinstance(v, dict):
        return v
    (tag, x), = v.items()
    if tag == "d":
        return {_decode(k, arrays): _decode(y, arrays) for k, y in x}
    if tag == "l":
        return [_decode(y, arrays) for y in x]
    if tag == "t":
        return tuple(_decode(y, arrays) for y in x)
    if tag == "a":
        return arrays[x]
    if tag == "s":
        return arrays[x][()]
    raise KeyError(tag)


def dumps(tree: Any) -> bytes:
    """The checkpoint bytes of ``tree``."""
    arrays: dict[str, np.ndarray] = {}
    body = json.dumps(_encode(tree, arrays), separators=(",", ":")).encode()
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # numpy's stub: **kwds could name allow_pickle
    npz = buf.getvalue()
    header = {"format": FORMAT_VERSION, "sha256": hashlib.sha256(body + npz).hexdigest(),
              "tree": len(body), "arrays": len(npz)}
    return MAGIC + json.dumps(header).encode() + b"\n" + body + npz


def loads(data: bytes, name: str = "checkpoint") -> Any:
    """The tree stored in checkpoint bytes; CheckpointError if they are not a valid checkpoint."""
    if not data.startswith(MAGIC):
        raise CheckpointError(f"checkpoint: {name} is not a gfo_native checkpoint (no header)")
    end = data.find(b"\n", len(MAGIC))
    try:
        header = json.loads(data[len(MAGIC):end])
        fmt, digest, n_tree, n_arrays = header["format"], header["sha256"], header["tree"], header["arrays"]
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"checkpoint: {name} is corrupt (unreadable header)") from None
    if fmt != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint: {name} has format version {fmt}; this gfo_native reads version "
                              f"{FORMAT_VERSION}")
    payload = data[end + 1:]
    if end < 0 or len(payload) != n_tree + n_arrays or hashlib.sha256(payload).hexdigest() != digest:
        raise CheckpointError(f"checkpoint: {name} is corrupt (checksum mismatch: truncated or modified)")
    try:
        with np.load(io.BytesIO(payload[n_tree:]), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return _decode(json.loads(payload[:n_tree]), arrays)
    except Exception as e:  # noqa: BLE001 - a valid checksum over an invalid body: written by something else
        raise CheckpointError(f"checkpoint: {name} is corrupt ({type(e).__name__}: {e})") from None


def save_checkpoint(path: str | os.PathLike[str], tree: Any) -> None:
    """Write ``tree`` to ``path`` atomically (temporary file, fsync, rename, fsync of the directory)."""
    path = Path(path)
    data = dumps(tree)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory; the rename is still atomic
        return
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def load_checkpoint(path: str | os.PathLike[str]) -> Any:
    """The tree saved at ``path`` (FileNotFoundError if there is none, CheckpointError if it is unusable)."""
    return loads(Path(path).read_bytes(), name=repr(str(path)))
