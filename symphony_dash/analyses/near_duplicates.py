"""Near duplicates: groups of rows whose embeddings point the same way (cosine similarity at or above a threshold).

Two rows are linked when their cosine similarity is at least ``threshold``; the groups are the connected components
of that graph, so a chain of close pairs forms one group even when its two ends are further apart.

>>> near_duplicates(np.array([[1.0, 0.0], [0.99, 0.01], [0.0, 1.0]]), method="exact").tolist()
[0, 0, -1]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cache import cached
from .duplicates import number_groups
from .neighbours import Embeddings, Method, as_matrix, index_of, nearest, resolve_method, unit_rows

__all__ = ["near_duplicates"]

VERSION = 1
# The approximate search links each row to at most this many neighbours: a group larger than that still connects
# through its members' links, and more neighbours cost time on every row for the rare big group.
NEIGHBOURS = 15
# Cosine distances of float32 unit vectors carry rounding of this order: two identical vectors must stay linked
# at threshold 1.
_ROUNDING = 1e-6


def near_duplicates(
    embeddings: Embeddings, threshold: float = 0.98, method: Method = "auto", *, cache: bool = True
) -> pd.Series:
    """A near-duplicate group id per row by cosine similarity of the embeddings; ``-1`` for a row with none.

    ``embeddings`` is an ``(n, d)`` array or one vector per row (a list column); vectors are normalised to unit
    length first, so only their direction counts. Groups are the connected components of the graph linking pairs
    with similarity ``>= threshold``, numbered ``0, 1, ...`` from the largest (ties in the order of their first row).

    ``method``: ``"exact"`` finds every such pair (scikit-learn's brute-force radius search: n² comparisons);
    ``"approximate"`` links each row to those of its 15 approximate nearest neighbours (pynndescent) that are close
    enough, which can miss pairs but never links a pair below the threshold; ``"auto"`` is exact up to 20,000 rows.
    Results are cached on disk (see :mod:`symphony_dash.analyses.cache`) unless ``cache=False``.

    Returns an int64 Series named ``near_duplicate_group``, with the index of a pandas input.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold: a cosine similarity in (0, 1] is expected, got {threshold!r}")
    matrix = as_matrix(embeddings)
    resolved = resolve_method(method, len(matrix))
    inputs = {"embeddings": matrix, "threshold": float(threshold), "method": resolved}
    result = cached(
        "near_duplicates", VERSION, inputs, lambda: {"group": _groups(matrix, threshold, resolved)}, enabled=cache
    )
    return pd.Series(result["group"], index=index_of(embeddings), name="near_duplicate_group")


def _groups(matrix: np.ndarray, threshold: float, method: str) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(matrix)
    if n < 2:
        return np.full(n, -1, dtype=np.int64)
    unit = unit_rows(matrix)
    radius = 1 - threshold + _ROUNDING
    if method == "exact":
        from sklearn.neighbors import NearestNeighbors

        search = NearestNeighbors(radius=radius, metric="cosine", algorithm="brute").fit(unit)
        graph = search.radius_neighbors_graph(mode="connectivity")
    else:
        indices, distances = nearest(unit, min(NEIGHBOURS, n - 1), "approximate")
        rows, slots = np.nonzero(distances <= radius)
        graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, indices[rows, slots])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    return number_groups(component)
