"""A disk cache for analysis results: a second run over the same data with the same parameters reads a file.

A result is stored as ``<cache_dir()>/analyses/<analysis>-v<version>-<key>.npz``, where the key is a BLAKE2b hash of
every input (arrays by dtype, shape and bytes; parameters by ``repr``). An analysis bumps its version when its recipe
changes, so an old result is never served as a current one. Files are renamed into place once complete, so a reader
never sees half a result; an unreadable file is recomputed rather than trusted.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..demo import cache_dir
from ..files import atomic_write

__all__ = ["analyses_dir", "cached", "input_key"]

log = logging.getLogger(__name__)

Arrays = dict[str, np.ndarray]


def analyses_dir() -> Path:
    """Where analysis results are cached: ``analyses/`` under :func:`symphony_dash.demo.cache_dir`."""
    return cache_dir() / "analyses"


def input_key(inputs: Mapping[str, Any]) -> str:
    """A hex digest that changes whenever any input changes: numeric arrays by content, other values by ``repr``."""
    digest = hashlib.blake2b(digest_size=16)
    for name in sorted(inputs):
        value = inputs[name]
        digest.update(f"{name}=".encode())
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biufc":
                # repr() abbreviates large arrays, so it cannot stand for their content.
                raise TypeError(f"cache input {name!r}: only numeric arrays can be hashed, got dtype {value.dtype}")
            digest.update(f"{value.dtype.str}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).data)
        else:
            digest.update(repr(value).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def cached(
    analysis: str, version: int, inputs: Mapping[str, Any], compute: Callable[[], Arrays], *, enabled: bool = True
) -> Arrays:
    """Return ``compute()``, from the cache when an earlier call had the same analysis, version and inputs.

    ``compute`` returns named numeric arrays. With ``enabled=False`` nothing is read or written.
    """
    if not enabled:
        return compute()
    path = analyses_dir() / f"{analysis}-v{version}-{input_key(inputs)}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            log.warning("Recomputing %s: its cached result %s is unreadable (%s)", analysis, path, exc)
    result = compute()
    try:
        _save(result, path)
    except OSError as exc:
        # A read-only or full disk costs the next run time, not this run its answer.
        log.warning("Could not cache the %s result in %s: %s", analysis, path.parent, exc)
    return result


def _save(arrays: Arrays, path: Path) -> None:
    with atomic_write(path) as partial, open(partial, "wb") as file:
        # A file object, because np.savez would append ".npz" to the temporary name.
        np.savez(file, **arrays)
