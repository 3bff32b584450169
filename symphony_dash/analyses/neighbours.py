"""Embedding matrices and their nearest neighbours by cosine distance, exact or approximate.

Shared by the analyses that look at an instance's neighbourhood: near duplicates, familiarity and label
disagreement. ``exact`` compares every pair (scikit-learn's brute-force search, blocked so memory stays bounded);
``approximate`` builds a nearest-neighbour descent graph with pynndescent, which scales to millions of rows but
compiles its search with numba on first use in a process (about 25 seconds on two cores).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import polars as pl

from ..dataset import DatasetError

__all__ = [
    "APPROXIMATE_ABOVE",
    "Embeddings",
    "Method",
    "as_matrix",
    "index_of",
    "nearest",
    "resolve_method",
    "unit_rows",
]

Method = Literal["auto", "exact", "approximate"]
Embeddings = np.ndarray | pd.Series | pd.DataFrame | pl.Series | Sequence[Sequence[float]]

# Brute force compares n² pairs: 20,000 rows take a few seconds on two cores, beyond that the approximate graph wins.
APPROXIMATE_ABOVE = 20_000
_NOT_NUMBERS = "embeddings: not numbers; give one vector of numbers per row"
# Fixed so an approximate answer is reproducible (and so a cached one is the answer a recomputation would give).
_SEED = 0


def as_matrix(embeddings: Embeddings) -> np.ndarray:
    """The embeddings as an ``(n, d)`` C-contiguous float32 matrix.

    Accepts a 2-D array, a DataFrame of numeric columns, or one vector per row: a pandas or polars list column or a
    list of lists. Missing rows, rows of different lengths and non-finite values raise :class:`DatasetError`.
    """
    if isinstance(embeddings, pl.Series):
        if embeddings.null_count():
            raise DatasetError(f"embeddings: {embeddings.null_count()} row(s) have no vector")
        if isinstance(embeddings.dtype, pl.List):
            lengths = embeddings.list.len().unique()
            if lengths.len() > 1:
                raise DatasetError(f"embeddings: the vectors have different lengths ({sorted(lengths.to_list())[:5]})")
            # Exploding a list column is one copy of its values buffer, far cheaper than stacking a million arrays.
            width = int(lengths[0]) if lengths.len() else 0
            matrix = embeddings.explode().to_numpy().reshape(len(embeddings), width)
        else:
            matrix = embeddings.to_numpy()
    elif isinstance(embeddings, pd.DataFrame):
        matrix = embeddings.to_numpy()
    elif isinstance(embeddings, np.ndarray) and embeddings.dtype != object:
        matrix = embeddings
    else:
        rows = list(embeddings)
        missing = sum(row is None or (np.ndim(row) == 0 and pd.isna(row)) for row in rows)
        if missing:
            raise DatasetError(f"embeddings: {missing} row(s) have no vector")
        try:
            vectors = [np.asarray(row, dtype=np.float32) for row in rows]
        except (TypeError, ValueError):
            raise DatasetError(_NOT_NUMBERS) from None
        if len({vector.shape for vector in vectors}) > 1:
            lengths = sorted({vector.size for vector in vectors})
            raise DatasetError(f"embeddings: the vectors have different lengths ({lengths[:5]})")
        matrix = np.stack(vectors) if vectors else np.empty((0, 0))
    try:
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    except (TypeError, ValueError):
        raise DatasetError(_NOT_NUMBERS) from None
    if matrix.ndim != 2:
        raise DatasetError(f"embeddings: expected one vector per row (a 2-D array), got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        bad = int((~np.isfinite(matrix)).any(axis=1).sum())
        raise DatasetError(f"embeddings: {bad} row(s) contain NaN or infinite values")
    return matrix


def index_of(embeddings: Any) -> pd.Index | None:
    """The pandas index the results should carry: the input's, when it is a pandas object."""
    return embeddings.index if isinstance(embeddings, (pd.Series, pd.DataFrame)) else None


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1, so a dot product is the cosine similarity; all-zero rows stay zero."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1).astype(matrix.dtype)


def resolve_method(method: str, rows: int) -> Literal["exact", "approximate"]:
    """``auto`` becomes ``approximate`` above :data:`APPROXIMATE_ABOVE` rows, else ``exact``."""
    if method == "auto":
        return "approximate" if rows > APPROXIMATE_ABOVE else "exact"
    if method not in ("exact", "approximate"):
        raise ValueError(f"method: {method!r} is not a method; the methods are: auto, exact, approximate")
    return method  # type: ignore[return-value]


def _check_k(k: int, rows: int) -> None:
    """Refuse a neighbourhood size the data cannot fill."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k: expected a positive whole number of neighbours, got {k!r}")
    if rows <= k:
        raise DatasetError(f"k={k} neighbours need more than {k} rows; the data has {rows}")


def nearest(unit: np.ndarray, k: int, method: Literal["exact", "approximate"]) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest other rows of every row of ``unit`` (unit-length rows), nearest first.

    Returns ``(indices, distances)``, both ``(n, k)``; distances are cosine distances ``1 - cos`` in ``[0, 2]``. A row
    is never its own neighbour, though its exact copies are (at distance 0).
    """
    _check_k(k, len(unit))
    if method == "exact":
        from sklearn.neighbors import NearestNeighbors

        search = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(unit)
        # Without a query, scikit-learn leaves each row out of its own answer by index, even among exact copies.
        distances, indices = search.kneighbors()
    else:
        from pynndescent import NNDescent

        graph = NNDescent(unit, metric="cosine", n_neighbors=k + 1, random_state=_SEED)
        indices, distances = graph.neighbor_graph
        indices, distances = _without_self(indices, distances, k)
    return indices.astype(np.int64, copy=False), np.clip(distances, 0.0, 2.0).astype(np.float32, copy=False)


def _without_self(indices: np.ndarray, distances: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop each row from its own ``k + 1`` neighbours, or the farthest one when the row is not among them."""
    rows = np.arange(len(indices))[:, None]
    keep = indices != rows
    # With several exact copies the search may list k + 1 copies and not the row itself: then drop the last.
    keep[keep.all(axis=1), -1] = False
    return indices[keep].reshape(-1, k), distances[keep].reshape(-1, k)
