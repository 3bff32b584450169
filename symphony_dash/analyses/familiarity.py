"""Familiarity: how typical each instance is of its dataset, from the density of its embedding's neighbourhood.

Low familiarity marks an outlier: an unusual input, a corrupted file, a rare subgroup worth a look.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cache import cached
from .neighbours import Embeddings, Method, as_matrix, index_of, nearest, resolve_method, unit_rows

__all__ = ["familiarity"]

VERSION = 1


def familiarity(embeddings: Embeddings, k: int = 15, method: Method = "auto", *, cache: bool = True) -> pd.Series:
    """How typical each row is: 1 for the row in the densest neighbourhood, 0 for the most isolated one.

    Definition: with the vectors normalised, ``d_i`` is the mean cosine distance from row ``i`` to its ``k`` nearest
    other rows, and ``-log d_i`` a k-nearest-neighbour estimate of the log density there. Familiarity is that
    density's rank rescaled to ``[0, 1]``: ``(n - rank(d_i)) / (n - 1)`` with ranks ``1..n`` from the smallest
    distance (ties share their mean rank). A rank, not a min-max rescaling, because kNN distances are heavy-tailed:
    one far outlier would squeeze every other row towards 1, and exact copies (``d_i = 0``) have infinite density.
    So ``familiarity < 0.05`` selects the 5% least typical rows whatever the data.

    ``method`` chooses the neighbour search as in :func:`near_duplicates` (``"auto"``: exact up to 20,000 rows).
    Needs more than ``k`` rows. Results are cached on disk unless ``cache=False``.

    Returns a float64 Series named ``familiarity``, with the index of a pandas input.
    """
    matrix = as_matrix(embeddings)
    resolved = resolve_method(method, len(matrix))

    def compute() -> dict[str, np.ndarray]:
        from scipy.stats import rankdata

        _, distances = nearest(unit_rows(matrix), k, resolved)
        mean = distances.astype(np.float64).mean(axis=1)
        n = len(mean)
        return {"familiarity": (n - rankdata(mean)) / max(n - 1, 1)}

    inputs = {"embeddings": matrix, "k": k, "method": resolved}
    result = cached("familiarity", VERSION, inputs, compute, enabled=cache)
    return pd.Series(result["familiarity"], index=index_of(embeddings), name="familiarity")
