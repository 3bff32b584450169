"""Exact duplicates: rows that are equal in every compared column, media files compared by their bytes.

>>> frame = pd.DataFrame({"text": ["a", "b", "a", "c", "b", "a"]})
>>> exact_duplicates(frame).tolist()
[0, 1, 0, -1, 1, 0]

Not cached on disk, unlike the embedding analyses: the group-by costs about what hashing the table for a cache key
would, and with media columns the answer depends on file contents that a key over the table cannot see.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from ..dataset import Dataset, DatasetError

__all__ = ["ANALYSIS_COLUMNS", "duplicate_columns", "exact_duplicates", "number_groups"]

log = logging.getLogger(__name__)

# The columns the analyses add (see symphony_dash.cli): a table enriched once must group the same way when run again.
ANALYSIS_COLUMNS = frozenset(
    {
        "duplicate_group",
        "near_duplicate_group",
        "familiarity",
        "label_disagreement",
        "neighbour_label",
        "proj_x",
        "proj_y",
    }
)
# What a model or a projection computed from an instance describes it but is not part of it: two copies of one image
# are duplicates whatever a cross-validated model predicted for each, and wherever a projection put them.
_DERIVED_ROLES = ("prediction", "score", "x", "y")
_MEDIA_KINDS = ("image", "audio")
_READERS = min(8, 2 * (os.cpu_count() or 1))  # file reads wait on the disk, not the CPU


def exact_duplicates(
    data: pd.DataFrame | pl.DataFrame | Dataset,
    columns: Sequence[str] | None = None,
    *,
    media_root: str | Path | None = None,
) -> pd.Series:
    """A duplicate-group id per row: rows equal in every compared column share one, ``-1`` marks a unique row.

    Groups are numbered ``0, 1, ...`` from the largest; groups of equal size in the order of their first row.
    Missing values compare equal to each other.

    ``columns`` defaults to every column except what is derived per row: the id column, embeddings, the ``x``/``y``
    projection, a model's prediction and score columns (the roles :class:`Dataset` infers or was given), and the
    columns the analyses themselves add. Pass ``columns`` to decide exactly what makes two instances the same.

    Image and audio columns compare by file content (a BLAKE2b hash of the bytes), so two copies of one image under
    different names are duplicates. Their paths are relative to ``media_root`` (default: a Dataset's own media root,
    else the current directory); a missing file compares equal only to other rows naming the same missing path.

    Returns an int64 Series named ``duplicate_group``, with the index of a pandas input.
    """
    if isinstance(data, pd.DataFrame):
        # The index labels the rows, it is not compared: Dataset would turn a named index into a column.
        dataset = Dataset(data.reset_index(drop=True), media_root=media_root)
    else:
        dataset = data if isinstance(data, Dataset) else Dataset(data, media_root=media_root)
    root = Path(media_root) if media_root is not None else dataset.media_root
    compared = list(columns) if columns is not None else duplicate_columns(dataset)
    for name in compared:
        dataset.column(name, what="column to compare")
    if not compared:
        raise DatasetError("exact_duplicates: no columns to compare; name them with columns=[...]")

    frame = dataset.frame
    keys = [
        _content_keys(frame[name], root).alias(f"k{i}")
        if dataset.columns[name].kind in _MEDIA_KINDS
        else frame[name].alias(f"k{i}")
        for i, name in enumerate(compared)
    ]
    key_names = [key.name for key in keys]
    # Polars hashes and groups the key columns; each row gets the number of its group of equal keys.
    rows = (
        pl.DataFrame(keys)
        .lazy()
        .with_row_index("row")
        .group_by(key_names)
        .agg(pl.col("row"))
        .with_row_index("key")
        .explode("row")
        .select("row", "key")
        .collect()
    )
    key_of_row = np.empty(len(frame), dtype=np.int64)
    key_of_row[rows["row"].to_numpy()] = rows["key"].to_numpy()
    index = data.index if isinstance(data, pd.DataFrame) else None
    return pd.Series(number_groups(key_of_row), index=index, name="duplicate_group")


def number_groups(key: np.ndarray) -> np.ndarray:
    """Renumber a group key per row: groups of two or more rows ``0, 1, ...`` largest first, single rows ``-1``.

    Groups of equal size are numbered in the order of their first row, so the answer does not depend on how the key
    was numbered.
    """
    n = len(key)
    _, inverse, sizes = np.unique(key, return_inverse=True, return_counts=True)
    first = np.full(len(sizes), n, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(n))
    order = np.lexsort((first, -sizes))
    rank = np.empty(len(sizes), dtype=np.int64)
    rank[order] = np.arange(len(sizes))
    return np.where(sizes[inverse] > 1, rank[inverse], -1).astype(np.int64)


def duplicate_columns(dataset: Dataset) -> list[str]:
    """The columns :func:`exact_duplicates` compares by default: all but the id, embeddings and derived columns."""
    derived = {dataset.id_column, *ANALYSIS_COLUMNS}
    derived.update(dataset.roles[role] for role in _DERIVED_ROLES if role in dataset.roles)
    derived.update(dataset.columns_of("embedding"))
    return [name for name in dataset.columns if name not in derived]


def _content_keys(paths: pl.Series, root: Path | None) -> pl.Series:
    """Each path replaced by a hash of its file's bytes; every distinct file is read once."""
    distinct = paths.drop_nulls().unique()
    names = distinct.cast(pl.String).to_list()
    with ThreadPoolExecutor(_READERS) as pool:
        digests = list(pool.map(lambda name: _file_digest(root, name), names))
    missing = sum(digest is None for digest in digests)
    if missing:
        log.warning("%d of %d %s files are missing or unreadable; compared by path", missing, len(names), paths.name)
    # A missing file keeps a key of its own that no 16-byte digest can equal.
    keys = [
        digest if digest is not None else f"missing:{name}".encode()
        for name, digest in zip(names, digests, strict=True)
    ]
    return paths.replace_strict(distinct, pl.Series(keys, dtype=pl.Binary), default=None, return_dtype=pl.Binary)


def _file_digest(root: Path | None, name: str) -> bytes | None:
    path = root / name if root is not None else Path(name)
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, lambda: hashlib.blake2b(digest_size=16)).digest()
    except OSError:
        return None
