"""Tests of the slice search: every slice, size, error count and score against a brute force written apart, with
pandas masks per condition and scipy's Wilson interval."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from symphony_dash.analyses.slices import SLICE_COLUMNS, _quantiles, default_columns, find_slices, slices_of
from symphony_dash.dataset import Dataset, DatasetError
from symphony_dash.engine import Engine
from symphony_dash.state import Clause, between, describe, eq

BINS = 4
MIN_SIZE = 15


def frame(n: int = 700, seed: int = 5) -> pd.DataFrame:
    """Labels and predictions with planted weak spots (label 2 with much ink; the 'scan' source), missing values in
    the features, ties in the numbers, and a column of mostly zeros."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 4, n)
    ink = np.round(rng.normal(20, 4, n), 1)
    ink[rng.random(n) < 0.05] = np.nan
    source = pd.Series(rng.choice(["camera", "scan", "web"], n), dtype=object)
    source[rng.random(n) < 0.08] = None
    zeros = np.where(rng.random(n) < 0.7, 0.0, rng.random(n))
    age = rng.integers(0, 6, n)
    p_wrong = 0.08 + 0.35 * ((label == 2) & (ink > 22)) + 0.15 * (source == "scan").to_numpy()
    wrong = rng.random(n) < p_wrong
    prediction = np.where(wrong, (label + 1) % 4, label)
    out = pd.DataFrame(
        {
            "id": np.arange(n),
            "label": label,
            "prediction": prediction,
            "confidence": rng.random(n),
            "source": source,
            "ink": ink,
            "zeros": zeros,
            "age": age,
        }
    )
    out.loc[rng.random(n) < 0.03, "prediction"] = None  # an unknown outcome: in no slice
    return out


DATA = frame()
FEATURES = ["label", "source", "ink", "zeros", "age"]


# -- the brute force ------------------------------------------------------------------------------------------------


def bins_of(values: pd.Series, bins: int) -> pd.Series:
    """The bin of each value, by the definition: quantile cut points; a bin starts at the first value at or above a
    cut; a value held by at least 1/bins of the rows also closes a bin of its own."""
    present = values.dropna()
    counts = present.value_counts()
    starts = {present.min()}
    for cut in np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]):
        starts.add(present[present >= cut].min())
        if counts.get(cut, 0) >= len(present) / bins and (present > cut).any():
            starts.add(present[present > cut].min())
    ordered = sorted(starts)
    return values.map(lambda v: None if pd.isna(v) else max(i for i, s in enumerate(ordered) if s <= v))


def conditions(data: pd.DataFrame, column: str) -> list[tuple[tuple[Any, ...], pd.Series]]:
    """Each condition on a column as (a comparable key, its row mask)."""
    values = data[column]
    out = []
    if column in ("label", "source"):
        for v in sorted(values.dropna().unique()):
            out.append(((column, "eq", v), values == v))
    else:
        binned = bins_of(values, BINS)
        for b in sorted(binned.dropna().unique()):
            inside = values[binned == b]
            lo, hi = inside.min(), inside.max()
            key = (column, "eq", lo) if lo == hi else (column, "range", lo, hi)
            out.append((key, binned == b))
    if values.isna().any():
        out.append(((column, "is_null"), values.isna()))
    return out


def score(n: int, e: int, overall: float) -> float:
    return binomtest(e, n).proportion_ci(method="wilson").low - overall


def brute_force(data: pd.DataFrame, columns: list[str], min_size: int, max_order: int = 2) -> dict[Any, Any]:
    """Every slice worth showing, by its set of condition keys: (size, errors, score)."""
    known = data["prediction"].notna()
    wrong = (data["label"] != data["prediction"]) & known
    overall = wrong.sum() / known.sum()
    single = {c: conditions(data, c) for c in columns}
    scores: dict[Any, float] = {}
    found = {}
    for column in columns:
        for key, mask in single[column]:
            n, e = int((mask & known).sum()), int((mask & wrong).sum())
            scores[key] = score(n, e, overall) if n else -np.inf
            if min_size <= n < known.sum() and scores[key] > 0:
                found[frozenset([key])] = (n, e, scores[key])
    if max_order == 2:
        for a, b in combinations(columns, 2):
            for (ka, ma), (kb, mb) in ((x, y) for x in single[a] for y in single[b]):
                mask = ma & mb
                n, e = int((mask & known).sum()), int((mask & wrong).sum())
                if n >= min_size and score(n, e, overall) > max(scores[ka], scores[kb], 0):
                    found[frozenset([ka, kb])] = (n, e, score(n, e, overall))
    return found


def key_of(part: dict[str, Any]) -> tuple[Any, ...]:
    if part["op"] == "range":
        return (part["column"], "range", *part["value"])
    if part["op"] == "is_null":
        return (part["column"], "is_null")
    return (part["column"], part["op"], part["value"])


def as_found(result: pd.DataFrame) -> dict[Any, Any]:
    return {frozenset(key_of(p) for p in r.conditions): (r.size, r.errors, r.score) for r in result.itertuples()}


def assert_same(result: pd.DataFrame, expected: dict[Any, Any]) -> None:
    got = as_found(result)
    assert set(got) == set(expected)
    for key, (n, e, s) in expected.items():
        assert got[key][:2] == (n, e), key
        assert got[key][2] == pytest.approx(s, abs=1e-9), key


# -- the tests ------------------------------------------------------------------------------------------------------


def test_slices001_every_slice_matches_the_brute_force() -> None:
    result = find_slices(DATA, columns=FEATURES, bins=BINS, min_size=MIN_SIZE, top=None)
    expected = brute_force(DATA, FEATURES, MIN_SIZE)
    assert len(expected) >= 5 and any(len(k) == 2 for k in expected) and any(len(k) == 1 for k in expected)
    assert_same(result, expected)
    assert list(result.columns) == SLICE_COLUMNS
    assert result["score"].is_monotonic_decreasing
    known = DATA["prediction"].notna()
    assert result.attrs["rows"] == known.sum()
    assert result.attrs["errors"] == ((DATA["label"] != DATA["prediction"]) & known).sum()


def test_slices002_the_planted_weak_spot_comes_first() -> None:
    top = find_slices(DATA, columns=FEATURES, bins=BINS, min_size=MIN_SIZE).iloc[0]
    columns = {p["column"] for p in top.conditions}
    assert columns == {"label", "ink"}
    assert {"op": "eq", "column": "label", "value": 2} in top.conditions


def test_slices003_a_slice_is_one_clause_selecting_exactly_its_rows() -> None:
    result = find_slices(DATA, columns=FEATURES, bins=BINS, min_size=MIN_SIZE, top=None)
    engine = Engine(Dataset(DATA))
    known = DATA["prediction"].notna()
    for r in result.itertuples():
        clause = Clause(op="all", value=r.conditions)
        mask = np.zeros(len(DATA), dtype=bool)
        mask[engine.where([clause]).ids()] = True
        assert (mask & known).sum() == r.size, r.slice
        # The text is the clause's own description: the list and the toolbar chip read the same.
        assert describe(clause) == r.slice


def test_slices004_the_bins_hold_equal_shares_and_a_frequent_value_is_a_bin_of_its_own() -> None:
    dataset = Dataset(DATA)
    for column in ("ink", "zeros", "age"):
        feature = _quantiles(dataset, column, BINS)
        expected = conditions(DATA, column)
        assert [key_of(p) for p in feature.parts[: len(expected)]] == [k for k, _ in expected]
        for code, (_, mask) in enumerate(expected):
            assert np.array_equal(feature.codes == code, mask.to_numpy()), (column, code)
    ink = _quantiles(dataset, "ink", BINS)
    shares = np.bincount(ink.codes)[:BINS] / DATA["ink"].notna().sum()
    assert np.allclose(shares, 1 / BINS, atol=0.02)
    assert [key_of(p)[1:3] for p in _quantiles(dataset, "zeros", BINS).parts][:2] == [
        ("eq", 0.0),
        ("range", DATA["zeros"][DATA["zeros"] > 0].min()),
    ]


def test_slices005_max_order_one_gives_single_conditions() -> None:
    result = find_slices(DATA, columns=FEATURES, bins=BINS, min_size=MIN_SIZE, max_order=1, top=None)
    assert_same(result, brute_force(DATA, FEATURES, MIN_SIZE, max_order=1))
    assert all(len(c) == 1 for c in result["conditions"])


def test_slices006_top_and_min_size() -> None:
    full = find_slices(DATA, columns=FEATURES, bins=BINS, min_size=MIN_SIZE, top=None)
    assert find_slices(DATA, columns=FEATURES, bins=BINS, min_size=MIN_SIZE, top=3)["slice"].tolist() == list(
        full["slice"][:3]
    )
    big = find_slices(DATA, columns=FEATURES, bins=BINS, min_size=80, top=None)
    assert (big["size"] >= 80).all()
    assert_same(big, brute_force(DATA, FEATURES, 80))


def test_slices007_a_filter_searches_its_rows_with_the_whole_tables_bins() -> None:
    engine = Engine(Dataset(DATA))
    clause = between("confidence", 0.0, 0.6)
    result = slices_of(engine, engine.mask([clause]), columns=FEATURES, bins=BINS, min_size=MIN_SIZE, top=None)
    inside = DATA["confidence"] <= 0.6
    expected = brute_force(DATA.assign(prediction=DATA["prediction"].where(inside)), FEATURES, MIN_SIZE)
    assert_same(result, expected)
    assert result.attrs["rows"] == (inside & DATA["prediction"].notna()).sum()


def test_slices008_the_error_signal_can_be_named() -> None:
    wrong = (DATA["label"] != DATA["prediction"]).where(DATA["prediction"].notna())
    named = DATA.assign(wrong=wrong.astype("boolean"), right=(~wrong.astype("boolean")))
    default = find_slices(DATA, columns=FEATURES, min_size=MIN_SIZE, top=None)
    for found in (
        find_slices(named, columns=FEATURES, min_size=MIN_SIZE, top=None, error="wrong"),
        find_slices(named, columns=FEATURES, min_size=MIN_SIZE, top=None, correct="right"),
        find_slices(DATA, columns=FEATURES, min_size=MIN_SIZE, top=None, error=wrong.astype("boolean")),
    ):
        pd.testing.assert_frame_equal(found, default)


def test_slices009_default_columns_leave_the_model_and_layout_out() -> None:
    data = DATA.assign(correct=DATA["label"] == DATA["prediction"], x=0.0, y=1.0, embedding=[[0.0, 1.0]] * len(DATA))
    assert default_columns(Dataset(data)) == ["label", "source", "ink", "zeros", "age"]


def test_slices010_no_error_signal_or_a_bad_column_says_so() -> None:
    with pytest.raises(DatasetError, match="slices need an error signal"):
        find_slices(DATA.drop(columns=["prediction"]))
    with pytest.raises(DatasetError, match="the error column 'ink' must hold true or false"):
        find_slices(DATA, error="ink")
    with pytest.raises(DatasetError, match="unknown column 'nope'"):
        find_slices(DATA, columns=["nope"])
    with pytest.raises(DatasetError, match="column 'embedding' cannot be a slice feature"):
        find_slices(DATA.assign(embedding=[[0.0, 1.0]] * len(DATA)), columns=["embedding"])
    with pytest.raises(ValueError, match="max_order must be 1 or 2"):
        find_slices(DATA, max_order=3)


def test_slices011_nothing_to_search() -> None:
    engine = Engine(Dataset(DATA))
    empty = slices_of(engine, engine.mask([eq("label", 99)]), columns=FEATURES)
    assert empty.empty and empty.attrs["rows"] == 0 and list(empty.columns) == SLICE_COLUMNS
    assert find_slices(DATA, columns=FEATURES, min_size=10_000).empty


def test_slices012_two_conditions_are_kept_only_when_worse_than_both_parents() -> None:
    result = find_slices(DATA, columns=FEATURES, bins=BINS, min_size=MIN_SIZE, top=None)
    engine = Engine(Dataset(DATA))
    known = DATA["prediction"].notna().to_numpy()
    wrong = (DATA["label"] != DATA["prediction"]).to_numpy() & known
    overall = wrong.sum() / known.sum()

    def parent_score(part: dict[str, Any]) -> float:
        mask = np.zeros(len(DATA), dtype=bool)
        mask[engine.where([Clause(**part)]).ids()] = True
        return score(int((mask & known).sum()), int((mask & wrong).sum()), overall)

    pairs = [r for r in result.itertuples() if len(r.conditions) == 2]
    assert pairs
    for r in pairs:
        assert all(r.score > parent_score(p) for p in r.conditions), r.slice
