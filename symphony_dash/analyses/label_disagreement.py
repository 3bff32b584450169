"""Label disagreement: how many of an instance's nearest neighbours carry another label.

A row whose neighbours mostly agree with each other but not with it is a candidate label error (or a genuinely
ambiguous instance); sorting by ``label_disagreement`` puts those first, and ``neighbour_label`` suggests the label
its neighbourhood would give.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from ..dataset import DatasetError
from .cache import cached
from .neighbours import Embeddings, Method, as_matrix, index_of, nearest, resolve_method, unit_rows

__all__ = ["label_disagreement"]

VERSION = 1
# Rows per block of the vote count, which compares every pair of a row's neighbours: bounds memory to ~k² x this.
_BLOCK = 65_536


def label_disagreement(
    embeddings: Embeddings,
    labels: pd.Series | pl.Series | np.ndarray | Sequence[Any],
    k: int = 10,
    method: Method = "auto",
    *,
    cache: bool = True,
) -> pd.DataFrame:
    """Per row, the share of its ``k`` nearest neighbours (by cosine, itself excluded) whose label differs.

    Returns a DataFrame with the index of the embeddings (or of the labels) if pandas, and two columns:

    - ``label_disagreement`` (float64 in ``[0, 1]``): the share of the labelled neighbours with another label; NaN
      for a row without a label or without labelled neighbours. Rows with a high share (say above 0.5) are the
      candidate label errors.
    - ``neighbour_label``: the majority label of the labelled neighbours (a tie goes to the label of the nearest
      one among the tied), in the type of ``labels``; missing where no neighbour has a label.

    Missing labels (None, NaN) are neither counted nor voted. ``method`` chooses the neighbour search as in
    :func:`near_duplicates`. Results are cached on disk unless ``cache=False``.
    """
    matrix = as_matrix(embeddings)
    series = labels.to_pandas() if isinstance(labels, pl.Series) else pd.Series(labels, copy=False)
    if len(series) != len(matrix):
        raise DatasetError(f"labels: {len(series)} labels for {len(matrix)} embeddings; give one label per row")
    codes, classes = pd.factorize(series, sort=True)
    if not len(classes):
        raise DatasetError("labels: every label is missing")
    codes = codes.astype(np.int64)
    resolved = resolve_method(method, len(matrix))

    def compute() -> dict[str, np.ndarray]:
        indices, _ = nearest(unit_rows(matrix), k, resolved)
        return _disagreement(codes, indices)

    inputs = {"embeddings": matrix, "labels": codes, "k": k, "method": resolved}
    result = cached("label_disagreement", VERSION, inputs, compute, enabled=cache)
    winner = result["neighbour_label"]
    neighbour_label = pd.Series(classes.take(np.maximum(winner, 0)))
    if (winner < 0).any():
        neighbour_label = neighbour_label.where(winner >= 0)
    frame = pd.DataFrame({"label_disagreement": result["label_disagreement"], "neighbour_label": neighbour_label})
    index = index_of(embeddings)
    if index is None:
        index = index_of(labels)
    return frame if index is None else frame.set_axis(index)


def _disagreement(codes: np.ndarray, indices: np.ndarray) -> dict[str, np.ndarray]:
    """The share of differing labelled neighbours and the neighbours' majority label code (-1: none) per row."""
    neighbour = codes[indices]
    labelled = neighbour >= 0
    counted = labelled.sum(axis=1)
    differing = (labelled & (neighbour != codes[:, None])).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where((codes >= 0) & (counted > 0), differing / counted, np.nan)
    winner = np.empty(len(codes), dtype=np.int64)
    for start in range(0, len(codes), _BLOCK):
        block = neighbour[start : start + _BLOCK]
        # Each neighbour's vote count is how many of the row's neighbours share its label; argmax takes the first
        # (nearest) of the most voted, and unlabelled neighbours never win.
        votes = (block[:, :, None] == block[:, None, :]).sum(axis=2)
        votes[block < 0] = -1
        best = votes.argmax(axis=1)
        winner[start : start + _BLOCK] = block[np.arange(len(block)), best]
    return {"label_disagreement": share, "neighbour_label": winner}
