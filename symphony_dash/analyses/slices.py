"""Slice finding: the groups of instances, named by one or two conditions, where a model is wrong most often.

The definitions, which the slice finder component shows and the tests check by brute force:

- **Error**: per row, ``label != prediction`` for a dataset with label and prediction columns, else the negation of
  a boolean ``correct`` column; or the column named by ``error`` (true = wrong) or ``correct`` (true = right). A row
  whose error is unknown (a missing label, prediction or flag) counts in no slice and not in the overall rate.
- **Features**: categorical columns, one condition per value (``label == 8``) plus ``is null`` for missing values;
  and numeric columns cut into ``bins`` quantile bins of the whole table, one condition per bin, written as the
  range of the values it holds (``20 ≤ ink ≤ 30.5``: both ends included, so the condition selects exactly the rows
  of the bin), or ``==`` for a bin of one value, plus ``is null``. Ties at a cut point go to the upper bin, so a
  column with few distinct values may have fewer bins; but a value held by ``1 / bins`` of the rows or more is a bin
  of its own (a column of mostly zeros gets ``== 0`` and the rest). By default the features are every categorical
  and numeric column but the id, prediction, score, embedding, x, y and error columns (and a ``correct`` column,
  which is the error itself); the label is a useful feature. Columns of more than :data:`MAX_LEVELS` values are
  left out.
- **Slice**: one condition, or two conditions on different columns (``max_order=2``), as one ``all`` clause.
- **Score**: the lower end of the 95% Wilson interval of the slice's error rate minus the overall error rate: how
  much worse than overall the slice surely is. Small slices have wide intervals, so one wrong instance in a slice of
  three does not outrank a hundred in a slice of five hundred. Only slices of at least ``min_size`` rows, of fewer
  rows than there are, and of a positive score are kept.
- **No redundant slices**: a two-condition slice is kept only if its score beats both of its one-condition parents
  (``label == 8 and split == 'test'`` is dropped when it says no more than ``label == 8``).

The counting is one ``bincount`` per feature and one per pair of features over small integer codes computed once
per column (:meth:`Engine.levels` for categories; quantile codes cached here), so a filter of a million rows is
searched in well under a second.

>>> find_slices(table, columns=["label", "split", "ink"]).loc[0, "slice"]  # doctest: +SKIP
'label == 8'
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import pandas as pd
import polars as pl

from ..dataset import Dataset, DatasetError
from ..engine import Engine
from ..state import Clause, all_of, describe

__all__ = ["MAX_LEVELS", "SLICE_COLUMNS", "default_columns", "find_slices", "slices_of"]

Z = 1.959963984540054  # the 97.5% quantile of the normal distribution: a two-sided 95% interval
MAX_LEVELS = 1_000
SLICE_COLUMNS = ["slice", "conditions", "size", "errors", "error_rate", "score"]
"""The columns of a table of slices, in order."""
_NOT_FEATURES = ("prediction", "score", "embedding", "x", "y")


@dataclass(frozen=True)
class _Feature:
    """One column as codes: each row's condition index, and the simple clause ``{op, column, value}`` of each."""

    column: str
    codes: np.ndarray
    parts: tuple[dict[str, Any], ...]


# Quantile codes and error flags per engine, computed once: the table of an engine never changes.
_cache: WeakKeyDictionary[Engine, dict[tuple[Any, ...], Any]] = WeakKeyDictionary()
_lock = threading.Lock()


def find_slices(
    data: pd.DataFrame | pl.DataFrame | Dataset,
    *,
    error: str | Sequence[bool] | np.ndarray | pd.Series | None = None,
    correct: str | None = None,
    columns: Sequence[str] | None = None,
    max_order: int = 2,
    bins: int = 4,
    min_size: int = 20,
    top: int | None = 20,
) -> pd.DataFrame:
    """The slices of ``data`` where the model is wrong most often, best score first (see the module's definitions).

    ``error`` is a boolean column name or one flag per row (true = wrong); ``correct`` a boolean column name (true =
    right); by default label != prediction. The result has the columns :data:`SLICE_COLUMNS` (``conditions`` is the
    list of ``{op, column, value}`` clauses of the slice) and ``attrs`` ``rows``, ``errors`` and
    ``overall_error_rate`` of the rows searched.

    >>> find_slices(digits, columns=["label", "split", "ink"], min_size=30).drop(columns="conditions")  # doctest: +SKIP
                     slice  size  errors  error_rate     score
    0           label == 8   174      22    0.126437  0.024343
    1  11.56 ≤ ink ≤ 17.75   439      38    0.086560  0.003056
    2           label == 3   183      18    0.098361  0.002470
    """
    dataset = data if isinstance(data, Dataset) else Dataset(data)
    engine = Engine(dataset)
    if error is not None and not isinstance(error, str):
        flags = error.reset_index(drop=True) if isinstance(error, pd.Series) else pd.Series(list(error), dtype=object)
        if len(flags) != len(dataset):
            raise DatasetError(f"error has {len(flags)} flags for {len(dataset)} rows")
        known = flags.notna().to_numpy()
        wrong = flags.where(known, False).astype(bool).to_numpy()
        return _search(engine, (wrong, known), None, columns, max_order, bins, min_size, top, exclude=())
    return slices_of(
        engine,
        None,
        error=error,
        correct=correct,
        columns=columns,
        max_order=max_order,
        bins=bins,
        min_size=min_size,
        top=top,
    )


def slices_of(
    engine: Engine,
    mask: np.ndarray | None,
    *,
    error: str | None = None,
    correct: str | None = None,
    columns: Sequence[str] | None = None,
    max_order: int = 2,
    bins: int = 4,
    min_size: int = 20,
    top: int | None = 20,
) -> pd.DataFrame:
    """:func:`find_slices` over the rows of ``mask`` (all rows for ``None``), with the codes cached on the engine.

    The quantile bins are those of the whole table, so a slice keeps its name while the filter changes.
    """
    outcome = _outcome(engine, error, correct)
    exclude = tuple(c for c in (error, correct) if c is not None)
    return _search(engine, outcome, mask, columns, max_order, bins, min_size, top, exclude)


def default_columns(dataset: Dataset, exclude: Sequence[str] = ()) -> list[str]:
    """The columns searched by default: categorical and numeric ones, but not the id, prediction, score, embedding,
    x and y columns, nor ``exclude`` (the error column)."""
    skip = {dataset.id_column, "correct", *exclude, *(dataset.role(r) for r in _NOT_FEATURES)}
    return [c for c in dataset.columns_of("categorical", "numeric") if c not in skip]


def _search(
    engine: Engine,
    outcome: tuple[np.ndarray, np.ndarray],
    mask: np.ndarray | None,
    columns: Sequence[str] | None,
    max_order: int,
    bins: int,
    min_size: int,
    top: int | None,
    exclude: Sequence[str],
) -> pd.DataFrame:
    if max_order not in (1, 2):
        raise ValueError(f"max_order must be 1 or 2, not {max_order!r}")
    if bins < 1 or min_size < 1:
        raise ValueError("bins and min_size must be at least 1")
    dataset = engine.dataset
    if columns is None:
        names = default_columns(dataset, exclude)
        features = [f for f in (_feature(engine, c, bins, strict=False) for c in names) if f is not None]
    else:
        features = [_feature(engine, c, bins, strict=True) for c in dict.fromkeys(columns)]  # type: ignore[misc]
    wrong, known = outcome
    rows = known if mask is None else known & mask
    w = wrong[rows].astype(np.int64)
    total, errors = int(w.size), int(w.sum())
    overall = errors / total if total else 0.0
    codes = [f.codes[rows].astype(np.int64) for f in features]
    sizes = [len(f.parts) for f in features]

    # Each candidate: (feature indices, level indices, size, errors); ones from bincounts of code * 2 + wrong.
    found: list[tuple[tuple[int, ...], np.ndarray, np.ndarray, np.ndarray]] = []
    single: list[np.ndarray] = []  # each feature's score per level, to compare pairs against their parents
    for i, (c, k) in enumerate(zip(codes, sizes, strict=True)):
        counts = np.bincount(c * 2 + w, minlength=2 * k).reshape(k, 2)
        n, e = counts.sum(axis=1), counts[:, 1]
        single.append(_score(n, e, overall))
        found.append(((i,), np.arange(k)[:, None], n, e))
    if max_order == 2:
        for i, j in combinations(range(len(features)), 2):
            ki, kj = sizes[i], sizes[j]
            counts = np.bincount(codes[i] * (2 * kj) + codes[j] * 2 + w, minlength=2 * ki * kj).reshape(ki * kj, 2)
            n, e = counts.sum(axis=1), counts[:, 1]
            levels = np.stack(np.divmod(np.arange(ki * kj), kj), axis=1)
            parents = np.maximum(single[i][levels[:, 0]], single[j][levels[:, 1]])
            keep = (n >= min_size) & (_score(n, e, overall) > parents)
            found.append(((i, j), levels[keep], n[keep], e[keep]))

    table = _ranked(found, total, overall, min_size, top)
    result = pd.DataFrame(
        [_row(features, feats, levels, n, e, s) for feats, levels, n, e, s in table], columns=SLICE_COLUMNS
    )
    result.attrs.update(rows=total, errors=errors, overall_error_rate=overall)
    return result


def _ranked(
    found: list[tuple[tuple[int, ...], np.ndarray, np.ndarray, np.ndarray]],
    total: int,
    overall: float,
    min_size: int,
    top: int | None,
) -> list[tuple[tuple[int, ...], np.ndarray, int, int, float]]:
    """The candidates worth showing, best score first; ties go to the larger slice, then to fewer conditions."""
    out = []
    for feats, levels, n, e in found:
        score = _score(n, e, overall)
        for r in np.flatnonzero((n >= min_size) & (n < total) & (score > 0)):
            out.append((feats, levels[r], int(n[r]), int(e[r]), float(score[r])))
    out.sort(key=lambda t: (-t[4], -t[2], len(t[0])))
    return out[:top] if top else out


def _row(
    features: list[_Feature], feats: tuple[int, ...], levels: np.ndarray, n: int, e: int, score: float
) -> list[Any]:
    parts = [features[f].parts[int(level)] for f, level in zip(feats, levels, strict=True)]
    text = describe(all_of([Clause(**p) for p in parts]))
    return [text, parts, n, e, e / n, score]


def _score(n: np.ndarray, e: np.ndarray, overall: float) -> np.ndarray:
    """The lower end of the Wilson interval of ``e / n`` minus the overall rate; ``-inf`` for empty slices."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = e / n
        z2 = Z * Z
        low = (p + z2 / (2 * n) - Z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / (1 + z2 / n)
    return np.where(n > 0, low - overall, -np.inf)


# -- features and the error signal ------------------------------------------------------------------------------


def _feature(engine: Engine, column: str, bins: int, *, strict: bool) -> _Feature | None:
    """The codes of a column, or ``None`` (``strict``: an error) for one that cannot be a slice feature."""
    info = engine.dataset.column(column)
    if info.kind == "numeric":
        return _cached(engine, ("quantiles", column, bins), lambda: _quantiles(engine.dataset, column, bins))
    if info.kind == "categorical":
        levels = engine.levels(column)
        if levels is not None and len(levels[1]) <= MAX_LEVELS:
            codes, values = levels
            parts = [{"op": "eq", "column": column, "value": v} for v in values.to_list()]
            return _Feature(column, codes, (*parts, {"op": "is_null", "column": column, "value": True}))
    if strict:
        raise DatasetError(
            f"column {column!r} cannot be a slice feature: it must be categorical with at most {MAX_LEVELS} values, "
            f"or numeric; it is {info.kind}"
        )
    return None


def _quantiles(dataset: Dataset, column: str, bins: int) -> _Feature:
    """Quantile bins of the whole column; a bin's condition is the range of the values it holds (see the module)."""
    series = dataset.frame[column]
    values = series.cast(pl.Float64).fill_nan(None).fill_null(np.nan).to_numpy()
    present = ~np.isnan(values)
    ordered = np.sort(values[present])
    cuts = np.quantile(ordered, np.linspace(0, 1, bins + 1)[1:-1]) if ordered.size else np.array([])
    # Bins are runs [start, end) of the sorted values. Ties at a cut go up, but a value held by 1/bins of the rows
    # or more is a bin of its own: a column of mostly zeros must not become one bin.
    below, above = np.searchsorted(ordered, cuts, side="left"), np.searchsorted(ordered, cuts, side="right")
    heavy = above - below >= ordered.size / bins
    bounds = np.unique(np.concatenate([[0], below, above[heavy], [ordered.size]]))
    starts, ends = bounds[:-1], bounds[1:]
    codes = np.full(values.size, len(starts), dtype=np.int32)
    codes[present] = np.searchsorted(ordered[ends[:-1]], values[present], side="right")
    whole = series.dtype.is_integer()
    parts = []
    for start, end in zip(starts, ends, strict=True):
        lo, hi = (int(v) if whole else float(v) for v in (ordered[start], ordered[end - 1]))
        parts.append(
            {"op": "eq", "column": column, "value": lo}
            if lo == hi
            else {"op": "range", "column": column, "value": [lo, hi]}
        )
    parts.append({"op": "is_null", "column": column, "value": True})
    return _Feature(column, codes, tuple(parts))


def _outcome(engine: Engine, error: str | None, correct: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Each row's error flag and whether it is known (see the module's definitions)."""
    return _cached(engine, ("outcome", error, correct), lambda: _compute_outcome(engine.dataset, error, correct))


def _compute_outcome(dataset: Dataset, error: str | None, correct: str | None) -> tuple[np.ndarray, np.ndarray]:
    frame = dataset.frame
    if error is not None or correct is not None:
        column = dataset.column(error if error is not None else correct).name
        if frame[column].dtype != pl.Boolean:
            raise DatasetError(f"the {'error' if error else 'correct'} column {column!r} must hold true or false")
        flag = frame[column] if error is not None else ~frame[column]
    elif "label" in dataset.roles and "prediction" in dataset.roles:
        label, prediction = frame[dataset.roles["label"]], frame[dataset.roles["prediction"]]
        if label.dtype != prediction.dtype:
            # Classes 3 and 3.0 are one class; a number and a string compare as text.
            common = pl.Float64 if label.dtype.is_numeric() and prediction.dtype.is_numeric() else pl.String
            label, prediction = label.cast(common), prediction.cast(common)
        flag = label != prediction
    elif "correct" in frame.columns and frame["correct"].dtype == pl.Boolean:
        flag = ~frame["correct"]
    else:
        raise DatasetError(
            "slices need an error signal: label and prediction columns, a boolean 'correct' column, or name one "
            "with error_column / correct_column"
        )
    known = flag.is_not_null().to_numpy()
    return flag.fill_null(False).to_numpy().astype(bool), known


def _cached(engine: Engine, key: tuple[Any, ...], compute: Any) -> Any:
    with _lock:
        found = _cache.setdefault(engine, {}).get(key)
    if found is None:
        found = compute()
        with _lock:
            _cache[engine][key] = found
    return found
