"""Tests of the engine: every clause op and every view request, each checked against an independent pandas answer."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from helpers import toy_frame

from symphony_dash import engine as engine_module
from symphony_dash.dataset import Dataset, DatasetError
from symphony_dash.engine import Engine, points_in_polygon
from symphony_dash.state import (
    Clause,
    ClauseError,
    all_of,
    between,
    contains,
    eq,
    ids,
    is_null,
    isin,
    not_in,
    polygon,
)

Predicate = Callable[[pd.DataFrame], Any]


def mixed_frame(n: int = 300, seed: int = 3) -> pd.DataFrame:
    """Every kind of column the engine filters, with missing values in each."""
    rng = np.random.default_rng(seed)

    def holes(share: float = 0.12) -> np.ndarray:
        return rng.random(n) < share

    score = rng.normal(0, 1, n)
    score[holes()] = np.nan
    flag = pd.array(rng.random(n) < 0.5, dtype="boolean")
    flag[holes()] = pd.NA
    day = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 120, n), unit="D"))
    day[holes()] = pd.NaT
    colour = pd.Series(rng.choice(["red", "green", "blue"], n), dtype=object)
    colour[holes()] = None
    animal = pd.Series(rng.choice(["cat", "dog", "bird"], n), dtype=object)
    animal[holes()] = None
    note = pd.Series(rng.choice(["Foo.*bar", "x(y)", "FOO bar", "a.b", "A+B?", "plain text", "[tag]"], n), dtype=object)
    note[holes()] = None
    px, py = rng.uniform(-3, 3, n), rng.uniform(-3, 3, n)
    px[holes(0.05)] = np.nan
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "score": score,
            "count": rng.integers(0, 10, n),
            "flag": flag,
            "day": day,
            "colour": colour,
            "animal": pd.Categorical(animal),
            "note": note,
            "px": px,
            "py": py,
            "embedding": [rng.normal(size=3).tolist() for _ in range(n)],
        }
    )


TOY = toy_frame()
MIXED = mixed_frame()
FRAMES = {"toy": TOY, "mixed": MIXED}
ENGINES = {"toy": Engine(Dataset(TOY)), "mixed": Engine(Dataset(MIXED))}


def selected(frame: pd.DataFrame, mask: Any) -> list[int]:
    """The ids where a pandas mask is true; a missing answer (NA) selects nothing, as in SQL."""
    mask = pd.Series(mask, index=frame.index).astype("boolean").fillna(False).to_numpy(dtype=bool)
    return frame.loc[mask, "id"].tolist()


def engine_ids(name: str, clauses: list[Clause]) -> list[int]:
    return ENGINES[name].where(clauses).ids()


# -- an independent point-in-polygon: the winding number, in plain Python ------------------------------------------


def winding_inside(x: float, y: float, poly: list[list[float]]) -> bool:
    if not (math.isfinite(x) and math.isfinite(y)):
        return False
    winding = 0
    for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1], strict=True):
        side = (x1 - x0) * (y - y0) - (x - x0) * (y1 - y0)
        if y0 <= y < y1 and side > 0:
            winding += 1
        elif y1 <= y < y0 and side < 0:
            winding -= 1
    return winding != 0


def inside(xs: pd.Series, ys: pd.Series, poly: list[list[float]]) -> list[bool]:
    return [winding_inside(float(x), float(y), poly) for x, y in zip(xs, ys, strict=True)]


TRIANGLE = [[-2.0, -2.0], [2.5, -1.0], [0.0, 2.5]]
# A "U": its notch (around (0, 1)) lies inside the bounding box but outside the polygon.
U_SHAPE = [[-2.0, -2.0], [2.0, -2.0], [2.0, 2.0], [1.0, 2.0], [1.0, -1.0], [-1.0, -1.0], [-1.0, 2.0], [-2.0, 2.0]]
STAR = [
    [
        math.cos(math.pi / 2 + k * math.pi / 5) * (2.5 if k % 2 == 0 else 1.0),
        math.sin(math.pi / 2 + k * math.pi / 5) * (2.5 if k % 2 == 0 else 1.0),
    ]
    for k in range(10)
]


def _score_value(i: int) -> float:
    return float(MIXED["score"].dropna().sort_values().iloc[i])


LOW, HIGH = _score_value(40), _score_value(200)
CONF_LOW, CONF_HIGH = float(TOY["confidence"].sort_values().iloc[50]), float(TOY["confidence"].sort_values().iloc[300])
DAY = pd.Timestamp("2024-02-01")

CASES: list[tuple[str, str, Clause, Predicate]] = [
    # eq
    ("toy", "eq-int-category", eq("label", 2), lambda d: d["label"] == 2),
    ("toy", "eq-enum", eq("split", "test"), lambda d: d["split"] == "test"),
    (
        "toy",
        "eq-float",
        eq("confidence", float(TOY["confidence"].iloc[7])),
        lambda d: d["confidence"] == d["confidence"].iloc[7],
    ),
    ("mixed", "eq-float-nulls", eq("score", LOW), lambda d: d["score"] == LOW),
    ("mixed", "eq-int-as-float", eq("count", 3.0), lambda d: d["count"] == 3),
    ("mixed", "eq-bool", eq("flag", True), lambda d: d["flag"].eq(True)),
    ("mixed", "eq-date", eq("day", "2024-02-01"), lambda d: d["day"] == DAY),
    ("mixed", "eq-enum-nulls", eq("colour", "red"), lambda d: d["colour"] == "red"),
    ("mixed", "eq-categorical", eq("animal", "dog"), lambda d: d["animal"] == "dog"),
    # in
    ("toy", "in-int-category", isin("label", [1, 3]), lambda d: d["label"].isin([1, 3])),
    ("toy", "in-enum", isin("split", ["train"]), lambda d: d["split"] == "train"),
    ("mixed", "in-enum-nulls", isin("colour", ["red", "blue"]), lambda d: d["colour"].isin(["red", "blue"])),
    ("mixed", "in-categorical", isin("animal", ["cat", "bird"]), lambda d: d["animal"].isin(["cat", "bird"])),
    ("mixed", "in-bool", isin("flag", [False]), lambda d: d["flag"].eq(False)),
    ("mixed", "in-int", isin("count", [0, 5, 9]), lambda d: d["count"].isin([0, 5, 9])),
    (
        "mixed",
        "in-date",
        isin("day", ["2024-02-01", "2024-03-01"]),
        lambda d: d["day"].isin([DAY, pd.Timestamp("2024-03-01")]),
    ),
    ("mixed", "in-float-nulls", isin("score", [LOW, HIGH]), lambda d: d["score"].isin([LOW, HIGH])),
    # not_in keeps the missing values
    ("toy", "not_in-int-category", not_in("label", [0]), lambda d: d["label"] != 0),
    (
        "mixed",
        "not_in-enum-nulls",
        not_in("colour", ["red"]),
        lambda d: ~d["colour"].isin(["red"]) | d["colour"].isna(),
    ),
    (
        "mixed",
        "not_in-categorical",
        not_in("animal", ["cat"]),
        lambda d: ~d["animal"].isin(["cat"]) | d["animal"].isna(),
    ),
    ("mixed", "not_in-bool", not_in("flag", [True]), lambda d: d["flag"].ne(True) | d["flag"].isna()),
    ("mixed", "not_in-float-nulls", not_in("score", [LOW]), lambda d: (d["score"] != LOW) | d["score"].isna()),
    ("mixed", "not_in-date", not_in("day", ["2024-02-01"]), lambda d: (d["day"] != DAY) | d["day"].isna()),
    # range is inclusive at both ends
    (
        "toy",
        "range-float",
        between("confidence", CONF_LOW, CONF_HIGH),
        lambda d: d["confidence"].between(CONF_LOW, CONF_HIGH),
    ),
    ("mixed", "range-float-nulls", between("score", LOW, HIGH), lambda d: (d["score"] >= LOW) & (d["score"] <= HIGH)),
    ("mixed", "range-int", between("count", 2, 5), lambda d: d["count"].between(2, 5)),
    ("mixed", "range-int-floats", between("count", 1.5, 4.5), lambda d: d["count"].between(2, 4)),
    (
        "mixed",
        "range-dates",
        between("day", "2024-01-15", "2024-02-15"),
        lambda d: (d["day"] >= pd.Timestamp("2024-01-15")) & (d["day"] <= pd.Timestamp("2024-02-15")),
    ),
    ("mixed", "range-one-day", between("day", "2024-02-01", "2024-02-01"), lambda d: d["day"] == DAY),
    # is_null both ways
    ("mixed", "is_null-float", is_null("score"), lambda d: d["score"].isna()),
    ("mixed", "is_not_null-float", is_null("score", missing=False), lambda d: d["score"].notna()),
    ("mixed", "is_null-bool", is_null("flag"), lambda d: d["flag"].isna()),
    ("mixed", "is_not_null-bool", is_null("flag", missing=False), lambda d: d["flag"].notna()),
    ("mixed", "is_null-date", is_null("day"), lambda d: d["day"].isna()),
    ("mixed", "is_null-enum", is_null("colour"), lambda d: d["colour"].isna()),
    ("mixed", "is_not_null-categorical", is_null("animal", missing=False), lambda d: d["animal"].notna()),
    ("toy", "is_null-none", is_null("x"), lambda d: d["x"].isna()),
    # contains: case-insensitive and literal
    ("toy", "contains-text", contains("text", "CLASS 3"), lambda d: d["text"].str.contains("class 3", regex=False)),
    ("mixed", "contains-dot-star", contains("note", ".*"), lambda d: d["note"].str.contains(".*", regex=False)),
    ("mixed", "contains-paren", contains("note", "("), lambda d: d["note"].str.contains("(", regex=False)),
    ("mixed", "contains-bracket", contains("note", "[tag"), lambda d: d["note"].str.contains("[tag", regex=False)),
    (
        "mixed",
        "contains-plus-question",
        contains("note", "a+b?"),
        lambda d: d["note"].str.lower().str.contains("a+b?", regex=False),
    ),
    ("mixed", "contains-dot", contains("note", "."), lambda d: d["note"].str.contains(".", regex=False)),
    (
        "mixed",
        "contains-case",
        contains("note", "foo"),
        lambda d: d["note"].str.lower().str.contains("foo", regex=False),
    ),
    ("mixed", "contains-enum", contains("colour", "RE"), lambda d: d["colour"].str.contains("re", regex=False)),
    (
        "mixed",
        "contains-categorical",
        contains("animal", "D"),
        lambda d: d["animal"].astype(object).str.contains("d", regex=False),
    ),
    ("toy", "contains-id", contains("id", "99"), lambda d: d["id"].astype(str).str.contains("99", regex=False)),
    # polygon
    ("toy", "polygon-triangle", polygon("x", "y", TRIANGLE), lambda d: inside(d["x"], d["y"], TRIANGLE)),
    ("toy", "polygon-concave-u", polygon("x", "y", U_SHAPE), lambda d: inside(d["x"], d["y"], U_SHAPE)),
    ("mixed", "polygon-concave-u-nulls", polygon("px", "py", U_SHAPE), lambda d: inside(d["px"], d["py"], U_SHAPE)),
    ("mixed", "polygon-star-nulls", polygon("px", "py", STAR), lambda d: inside(d["px"], d["py"], STAR)),
    ("mixed", "polygon-swapped-axes", polygon("py", "px", STAR), lambda d: inside(d["py"], d["px"], STAR)),
    # ids
    ("toy", "ids", ids([5, 1, 399, 10**6]), lambda d: d["id"].isin([1, 5, 399])),
    ("toy", "ids-none", ids([]), lambda d: d["id"] < 0),
    # all: its parts combined with and
    (
        "toy",
        "all-eq-range",
        all_of([eq("label", 2), between("confidence", CONF_LOW, CONF_HIGH)]),
        lambda d: (d["label"] == 2) & d["confidence"].between(CONF_LOW, CONF_HIGH),
    ),
    (
        "mixed",
        "all-in-is_null-nulls",
        all_of([isin("colour", ["red", "blue"]), is_null("score"), eq("flag", True)]),
        lambda d: d["colour"].isin(["red", "blue"]) & d["score"].isna() & d["flag"].eq(True),
    ),
    ("mixed", "all-one-part", all_of([between("count", 2, 5)]), lambda d: d["count"].between(2, 5)),
]


@pytest.mark.parametrize(
    ("frame", "clause", "predicate"), [c[:1] + c[2:] for c in CASES], ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_engine001_every_op_matches_pandas(frame: str, clause: Clause, predicate: Predicate) -> None:
    data = FRAMES[frame]
    expected = selected(data, predicate(data))
    assert engine_ids(frame, [clause]) == expected
    assert ENGINES[frame].where([clause]).count() == len(expected)


def test_engine002_cases_are_not_trivial() -> None:
    """Every case above selects some rows and leaves some out, so a wrong engine cannot pass by luck."""
    trivial = [
        name
        for frame, name, _, predicate in CASES
        if len(selected(FRAMES[frame], predicate(FRAMES[frame]))) in (0, len(FRAMES[frame]))
    ]
    assert trivial == ["is_null-none", "ids-none"]


def test_engine003_grid_cells_of_a_lasso_agree_with_the_exact_rule() -> None:
    """A cell the lasso's outline does not cross is inside or outside as its centre is, also for lassos reaching
    beyond the grid (whose crossings left or right of every cell count all the same)."""
    rng = np.random.default_rng(1)
    for _ in range(200):
        poly = rng.uniform(-3, 3, (int(rng.integers(3, 40)), 2)) * rng.uniform(0.2, 2)
        x_edges, y_edges = np.linspace(-1, 1, rng.integers(2, 50)), np.linspace(-1.5, 0.5, rng.integers(2, 50))
        states = engine_module._cell_states(poly, x_edges, y_edges)[:-1, :-1]
        cx, cy = np.meshgrid((x_edges[:-1] + x_edges[1:]) / 2, (y_edges[:-1] + y_edges[1:]) / 2)
        inside = points_in_polygon(cx.ravel(), cy.ravel(), poly).reshape(cx.shape)
        assert ((states == engine_module._EDGE) | (states == inside)).all()


def test_engine003_concave_polygon_by_hand() -> None:
    points = pl.DataFrame(
        {
            "px": [0.0, 1.5, 0.0, -1.5, 3.0, None, float("nan"), 0.0],
            "py": [1.0, 0.0, -1.5, 1.5, 0.0, 0.0, 0.0, None],
        }
    )
    engine = Engine(Dataset(points))
    # (0, 1) lies in the notch of the U: inside its bounding box, outside the polygon.
    assert engine.where([polygon("px", "py", U_SHAPE)]).ids() == [1, 2, 3]


def test_engine004_clauses_combine_with_and() -> None:
    clauses = [
        eq("split", "train"),
        between("confidence", CONF_LOW, CONF_HIGH),
        not_in("label", [2]),
        polygon("x", "y", U_SHAPE),
    ]
    d = TOY
    expected = (
        (d["split"] == "train")
        & d["confidence"].between(CONF_LOW, CONF_HIGH)
        & (d["label"] != 2)
        & pd.Series(inside(d["x"], d["y"], U_SHAPE), index=d.index)
    )
    assert engine_ids("toy", clauses) == selected(d, expected)
    assert 0 < len(selected(d, expected)) < len(d)


def test_engine005_combinations_with_nulls() -> None:
    clauses = [
        not_in("colour", ["green"]),
        is_null("score", missing=False),
        contains("note", "a"),
        isin("flag", [True]),
    ]
    d = MIXED
    expected = (
        (~d["colour"].isin(["green"]) | d["colour"].isna())
        & d["score"].notna()
        & d["note"].str.lower().str.contains("a", regex=False)
        & d["flag"].eq(True)
    )
    assert engine_ids("mixed", clauses) == selected(d, expected)
    assert ENGINES["mixed"].where([]).count() == len(d)


def test_engine006_an_unknown_category_selects_nothing() -> None:
    engine = ENGINES["mixed"]
    assert engine.where([eq("colour", "purple")]).count() == 0
    assert engine.where([eq("animal", "unicorn")]).count() == 0
    assert engine.where([isin("colour", ["purple", "red"])]).ids() == selected(MIXED, MIXED["colour"] == "red")
    assert engine.where([not_in("colour", ["purple"])]).count() == len(MIXED)
    assert ENGINES["toy"].where([isin("split", ["validation"])]).count() == 0


def test_engine007_plain_values_never_run() -> None:
    """Text that looks like SQL or Python is a value like any other: it matches nothing, and nothing runs."""
    engine = ENGINES["toy"]
    for text in ["'; DROP TABLE t; --", "__import__('os')", "1 OR 1=1", ".*", "pl.col('x')"]:
        assert engine.where([eq("text", text)]).count() == 0
        assert engine.where([isin("split", [text])]).count() == 0
        assert engine.where([contains("text", text)]).count() == 0
    assert engine.where([not_in("split", ["'; DROP TABLE t; --"])]).count() == len(TOY)
    assert engine.dataset.frame.height == len(TOY)


COLUMNS = "id, label, prediction, confidence, split, x, y, text"
NAIVE = "Datetime(time_unit='us', time_zone=None)"


@pytest.mark.parametrize("column", ["__import__('os')", "'; DROP TABLE t; --", "*", "^.*$", "^x|y$", "x)"])
def test_engine008_column_names_that_look_like_code_are_unknown_columns(column: str) -> None:
    with pytest.raises(ClauseError) as caught:
        ENGINES["toy"].where([is_null(column)])
    assert str(caught.value) == f"clause from 'python': unknown column {column!r}; the columns are: {COLUMNS}"


@pytest.mark.parametrize(
    ("frame", "clause", "message"),
    [
        ("toy", eq("nope", 1), f"unknown column 'nope'; the columns are: {COLUMNS}"),
        ("toy", polygon("x", "nope", TRIANGLE), f"unknown column 'nope'; the columns are: {COLUMNS}"),
        ("toy", eq("confidence", "0.5"), "column 'confidence' holds Float64; the value '0.5' is not a number"),
        ("toy", isin("label", ["3"]), "column 'label' holds Int64; the value '3' is not a number"),
        ("toy", eq("label", True), "column 'label' holds Int64; the value True is not a number"),
        ("toy", between("confidence", "a", "b"), "column 'confidence' holds Float64; the value 'a' is not a number"),
        ("toy", eq("split", 1), "column 'split' holds Enum(categories=['test', 'train']); the value 1 is not a string"),
        ("toy", isin("text", [3.5]), "column 'text' holds String; the value 3.5 is not a string"),
        ("toy", ids(["7"]), "column 'id' holds Int64; the value '7' is not a number"),
        ("mixed", eq("flag", 1), "column 'flag' holds Boolean; the value 1 is not true or false"),
        ("mixed", eq("flag", "true"), "column 'flag' holds Boolean; the value 'true' is not true or false"),
        (
            "mixed",
            between("day", "today", "tomorrow"),
            f"column 'day' holds {NAIVE}; the value 'today' is not an ISO date such as '2024-05-01'",
        ),
        (
            "mixed",
            eq("day", 20240101),
            f"column 'day' holds {NAIVE}; the value 20240101 is not an ISO date such as '2024-05-01'",
        ),
        ("toy", between("split", "a", "b"), "'range' needs a numeric or date column; 'split' is categorical"),
        ("toy", between("label", 0, 2), "'range' needs a numeric or date column; 'label' is categorical"),
        ("toy", between("text", "a", "b"), "'range' needs a numeric or date column; 'text' is text"),
        ("toy", polygon("split", "y", TRIANGLE), "a polygon needs numeric columns; 'split' is categorical"),
        ("toy", polygon("x", "label", TRIANGLE), "a polygon needs numeric columns; 'label' is categorical"),
        ("mixed", polygon("day", "px", TRIANGLE), "a polygon needs numeric columns; 'day' is datetime"),
        ("toy", contains("confidence", "0.5"), "'contains' needs a text column; 'confidence' is numeric"),
        ("mixed", contains("day", "2024"), "'contains' needs a text column; 'day' is datetime"),
        ("mixed", eq("embedding", 1), "'eq' cannot compare the embedding column 'embedding'"),
        ("mixed", isin("embedding", [1]), "'in' cannot compare the embedding column 'embedding'"),
        ("toy", all_of([eq("label", 1), eq("nope", 1)]), f"unknown column 'nope'; the columns are: {COLUMNS}"),
        ("toy", all_of([between("split", "a", "b")]), "'range' needs a numeric or date column; 'split' is categorical"),
        ("toy", all_of([eq("label", "3")]), "column 'label' holds Int64; the value '3' is not a number"),
    ],
)
def test_engine009_clauses_that_do_not_fit_the_schema(frame: str, clause: Clause, message: str) -> None:
    engine = ENGINES[frame]
    for call in (
        lambda: engine.check(clause),
        lambda: engine.where([clause]),
        lambda: engine.where([eq("id", 1), clause]),
    ):
        with pytest.raises(ClauseError) as caught:
            call()
        assert str(caught.value) == f"clause from 'python': {message}"


def test_engine010_the_error_names_the_component() -> None:
    with pytest.raises(ClauseError, match=r"^clause from 'hist-1': unknown column 'nope'"):
        ENGINES["toy"].where([eq("nope", 1, source="hist-1")])


# -- numbers and dates a browser may send ---------------------------------------------------------------------------


def test_engine011_whole_numbers_beyond_64_bits_match_nothing() -> None:
    """JavaScript sends 1e20 as 100000000000000000000: too big for any integer column, never an error."""
    engine = ENGINES["mixed"]
    assert engine.where([eq("count", 10**20)]).count() == 0
    assert engine.where([eq("count", 2**63)]).count() == 0
    assert engine.where([isin("count", [10**20, 3])]).ids() == selected(MIXED, MIXED["count"] == 3)
    assert engine.where([ids([2**64, -(2**63) - 1])]).count() == 0
    assert engine.where([not_in("count", [10**20])]).count() == len(MIXED)
    assert engine.where([between("count", -(10**20), 10**20)]).count() == len(MIXED)
    assert engine.where([between("score", -(10**300), 10**300)]).count() == MIXED["score"].notna().sum()


def test_engine012_unsigned_64_bit_ids() -> None:
    big = 2**63 + 5
    engine = Engine(Dataset(pl.DataFrame({"id": pl.Series([1, 2, big], dtype=pl.UInt64), "v": [1.0, 2.0, 3.0]})))
    assert engine.where([ids([big])]).ids() == [big]
    assert engine.where([ids([1, 2, -1])]).ids() == [1, 2]
    assert engine.where([eq("v", 3)]).ids() == [big]


def test_engine013_dates_with_and_without_time_zones() -> None:
    stamps = pd.to_datetime(["2024-01-01 00:00", "2024-01-15 12:00", "2024-02-01 00:00", "2024-03-01 00:00", None])
    frame = pd.DataFrame(
        {"naive": stamps, "utc": stamps.tz_localize("UTC"), "berlin": stamps.tz_localize("Europe/Berlin")}
    )
    engine = Engine(Dataset(frame))
    # A naive ISO date is read in the column's own time zone.
    for column in ("naive", "utc", "berlin"):
        assert engine.where([between(column, "2024-01-15", "2024-02-01")]).ids() == [1, 2]
        assert engine.where([eq(column, "2024-02-01")]).ids() == [2]
        assert engine.where([isin(column, ["2024-03-01", "2024-02-01"])]).ids() == [2, 3]
        assert engine.where([not_in(column, ["2024-03-01"])]).ids() == [0, 1, 2, 4]
    # A zoned ISO time is the same instant in any column; for a naive column it is read as UTC.
    assert engine.where([eq("utc", "2024-02-01T01:00:00+01:00")]).ids() == [2]
    assert engine.where([eq("berlin", "2024-01-31T23:00:00Z")]).ids() == [2]
    assert engine.where([eq("naive", "2024-02-01T01:00:00+01:00")]).ids() == [2]
    assert engine.where([between("utc", "2024-01-15T13:00:00+01:00", "2024-01-15T13:00:00+01:00")]).ids() == [1]


def test_engine014_a_date_column_takes_iso_dates_and_times() -> None:
    frame = pl.DataFrame({"d": pl.Series([None, "2024-01-01", "2024-02-01", "2024-03-01"]).str.to_date()})
    engine = Engine(Dataset(frame))
    assert engine.where([between("d", "2024-01-02", "2024-03-01T08:00:00")]).ids() == [2, 3]
    assert engine.where([eq("d", "2024-02-01")]).ids() == [2]
    assert engine.where([is_null("d")]).ids() == [0]


# -- the mask cache -------------------------------------------------------------------------------------------------


def test_engine015_the_same_filter_reuses_its_mask() -> None:
    engine = Engine(Dataset(TOY))
    first = engine.mask([eq("split", "test"), between("x", 0, 3)])
    assert engine.mask([eq("split", "test"), between("x", 0, 3)]) is first
    # The order of the clauses and their sources do not matter: only what they select.
    assert engine.mask([between("x", 0, 3, source="hist"), eq("split", "test", source="bar")]) is first
    assert engine.mask([eq("split", "train"), between("x", 0, 3)]) is not first
    assert engine.mask([]) is None
    assert engine.where([]).count() == len(TOY)


def test_engine016_the_cache_is_bounded() -> None:
    engine = Engine(Dataset(TOY), cache_size=2)
    first = engine.mask([eq("label", 0)])
    engine.mask([eq("label", 1)])
    assert engine.mask([eq("label", 0)]) is first  # used again: now the most recent
    engine.mask([eq("label", 2)])
    assert engine.mask([eq("label", 0)]) is first
    assert engine.mask([eq("label", 1)]) is not None
    assert len(engine._masks) == 2
    assert np.array_equal(engine.mask([eq("label", 1)]), (TOY["label"] == 1).to_numpy())


# -- view requests --------------------------------------------------------------------------------------------------


def test_engine017_count() -> None:
    engine = ENGINES["toy"]
    assert engine.all.count() == len(TOY)
    assert engine.where([eq("split", "test")]).count() == int((TOY["split"] == "test").sum())


def test_engine018_histogram_edges_are_fixed_by_the_whole_table() -> None:
    engine = ENGINES["toy"]
    lo, hi = TOY["confidence"].min(), TOY["confidence"].max()
    edges_all, counts_all = engine.all.histogram("confidence", 12)
    subset = TOY.loc[TOY["split"] == "test", "confidence"].to_numpy()
    edges, counts = engine.where([eq("split", "test")]).histogram("confidence", 12)
    assert np.allclose(edges, np.linspace(lo, hi, 13))
    assert np.array_equal(edges, edges_all)
    assert counts.tolist() == np.histogram(subset, bins=np.linspace(lo, hi, 13))[0].tolist()
    assert counts_all.sum() == len(TOY)
    assert counts.sum() == len(subset)


def test_engine019_histogram_leaves_missing_values_out() -> None:
    engine = ENGINES["mixed"]
    values = MIXED["score"].dropna()
    edges, counts = engine.where([eq("flag", True)]).histogram("score", 7)
    assert np.allclose(edges, np.linspace(values.min(), values.max(), 8))
    subset = MIXED.loc[MIXED["flag"].eq(True).fillna(False).astype(bool), "score"].dropna()
    assert counts.tolist() == np.histogram(subset, bins=edges)[0].tolist()


def test_engine020_histogram_of_a_constant_or_non_numeric_column() -> None:
    engine = Engine(Dataset(pd.DataFrame({"v": [2.0, 2.0, 2.0], "s": ["a", "b", "a"]})))
    edges, counts = engine.all.histogram("v", 2)
    assert edges.tolist() == [1.5, 2.0, 2.5]
    assert counts.sum() == 3
    with pytest.raises(DatasetError, match=r"^column 's' is not numeric$"):
        engine.all.histogram("s")
    with pytest.raises(DatasetError, match=r"^unknown column 'nope'"):
        engine.all.histogram("nope")


def _value_counts(series: pd.Series) -> list[tuple[Any, int]]:
    counts = Counter(None if pd.isna(v) else v for v in series)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, "" if kv[0] is None else kv[0]))


@pytest.mark.parametrize(
    ("frame", "column", "clause"),
    [
        ("toy", "label", eq("split", "test")),
        ("toy", "split", between("x", 0, 5)),
        ("mixed", "colour", eq("flag", True)),
        ("mixed", "animal", None),
        ("mixed", "note", not_in("colour", ["red"])),
        ("mixed", "count", None),
        ("mixed", "flag", between("px", -1, 2)),
        ("mixed", "day", is_null("score", missing=False)),
        ("mixed", "score", eq("colour", "red")),
    ],
)
@pytest.mark.parametrize("grouped", [False, True], ids=["code-table", "group-by"])
def test_engine021_value_counts(
    frame: str, column: str, clause: Clause | None, grouped: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if grouped:  # the path for columns with too many distinct values for a code table
        monkeypatch.setattr(engine_module, "MAX_LEVELS", 1)
    data = FRAMES[frame]
    engine = Engine(ENGINES[frame].dataset)
    clauses = [clause] if clause else []
    rows = data[data["id"].isin(engine.where(clauses).ids())]
    got = engine.where(clauses).value_counts(column, limit=None)
    assert got.columns == ["value", "count"]
    assert list(got.iter_rows()) == _value_counts(rows[column])
    assert engine.where(clauses).value_counts(column, limit=2).height == 2


def test_engine022_confusion() -> None:
    engine = ENGINES["toy"]
    got = engine.where([eq("split", "test")]).confusion("label", "prediction")
    test = TOY[TOY["split"] == "test"]
    expected = test.groupby(["label", "prediction"]).size().to_dict()
    assert {(lab, pred): n for lab, pred, n in got.iter_rows()} == expected
    assert got["count"].sum() == len(test)


@pytest.mark.parametrize("grouped", [False, True])
def test_engine022_group_counts_are_a_group_by(grouped: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts per combination of three columns with missing values (one named "count"), as polars' group-by."""
    if grouped:  # too many combinations for one count over codes: polars groups them
        monkeypatch.setattr(engine_module, "MAX_LEVELS", 8)
    engine = Engine(ENGINES["mixed"].dataset)
    columns = ["colour", "animal", "count"]
    for clauses in ([], [eq("flag", True)]):
        query = engine.where(clauses)
        got = query.group_counts(columns, name="n")
        expected = query.frame(columns).group_by(columns).len(name="n")
        assert got.columns == [*columns, "n"]
        assert sorted(got.rows(), key=str) == sorted(expected.rows(), key=str)


def test_engine023_bins2d() -> None:
    engine = ENGINES["toy"]
    query = engine.where([eq("split", "train")])
    counts, y_edges, x_edges = query.bins2d("x", "y", 16)
    train = TOY[TOY["split"] == "train"]
    assert counts.shape == (16, 16)
    assert counts.sum() == query.count() == len(train)
    assert np.allclose(x_edges, np.linspace(TOY["x"].min(), TOY["x"].max(), 17))
    assert np.allclose(y_edges, np.linspace(TOY["y"].min(), TOY["y"].max(), 17))
    expected, _, _ = np.histogram2d(train["y"], train["x"], bins=[y_edges, x_edges])
    assert np.array_equal(counts, expected)


def test_engine024_bins2d_leaves_missing_points_out() -> None:
    counts, _, _ = ENGINES["mixed"].all.bins2d("px", "score", 8)
    assert counts.sum() == (MIXED["px"].notna() & MIXED["score"].notna()).sum()
    with pytest.raises(DatasetError, match=r"^column 'colour' is not numeric$"):
        ENGINES["mixed"].all.bins2d("px", "colour")


@pytest.mark.parametrize("descending", [True, False])
def test_engine025_rows_sorted_with_nulls_last(descending: bool) -> None:
    engine = ENGINES["mixed"]
    query = engine.where([not_in("colour", ["blue"])])
    subset = MIXED[MIXED["id"].isin(query.ids())]
    order = subset.sort_values("score", ascending=not descending, na_position="last", kind="stable")
    page = query.rows(["id", "score"], sort=[("score", descending)], offset=10, limit=25)
    assert page.columns == ["id", "score"]
    assert page["id"].to_list() == order["id"].iloc[10:35].tolist()
    whole = query.rows(["id"], sort=[("score", descending)], limit=10_000)["id"].to_list()
    assert whole == order["id"].tolist()
    assert MIXED.set_index("id").loc[whole[-3:], "score"].isna().all()


def test_engine026_rows_sorted_by_two_columns() -> None:
    page = ENGINES["mixed"].all.rows(["id"], sort=[("colour", False), ("count", True)], limit=10_000)
    expected = MIXED.sort_values(["colour", "count"], ascending=[True, False], na_position="last", kind="stable")
    assert page["id"].to_list() == expected["id"].tolist()


def test_engine027_rows_page_bounds() -> None:
    big = toy_frame(10_050)
    engine = Engine(Dataset(big))
    assert engine.all.rows(limit=50_000).height == 10_000
    assert engine.all.rows(limit=100).height == 100
    assert engine.all.rows(offset=10_040, limit=100)["id"].to_list() == list(range(10_040, 10_050))
    assert engine.all.rows(offset=-5, limit=3)["id"].to_list() == [0, 1, 2]
    assert engine.all.rows(limit=-1).height == 0
    assert engine.all.rows(offset=20_000).height == 0
    assert engine.all.rows().columns == list(Dataset(big).frame.columns)
    with pytest.raises(DatasetError, match=r"^unknown column 'nope'"):
        engine.all.rows(["id"], sort=[("nope", True)])
    with pytest.raises(DatasetError, match=r"^unknown column 'nope'"):
        engine.all.rows(["nope"])


def test_engine028_sample_is_deterministic_and_filtered() -> None:
    engine = ENGINES["toy"]
    query = engine.where([eq("split", "train")])
    first = query.sample(20, seed=4)["id"].to_list()
    assert first == query.sample(20, seed=4)["id"].to_list()
    assert first != query.sample(20, seed=5)["id"].to_list()
    assert len(set(first)) == 20
    assert set(first) <= set(query.ids())
    assert query.sample(20, columns=["id", "x"], seed=4).columns == ["id", "x"]
    small = engine.where([ids([3, 1, 2])])
    assert small.sample(10)["id"].to_list() == [1, 2, 3]


def test_engine029_ids_frame_and_contains_ids() -> None:
    engine = ENGINES["toy"]
    query = engine.where([eq("label", 1)])
    expected = TOY.loc[TOY["label"] == 1, "id"].tolist()
    assert query.ids() == expected
    assert query.ids(limit=5) == expected[:5]
    assert engine.all.ids() == TOY["id"].tolist()
    assert query.frame(["id", "label"]).columns == ["id", "label"]
    assert query.frame()["id"].to_list() == expected
    assert query.contains_ids([expected[0], expected[1], -1, 10**6]) == expected[:2]
    with pytest.raises(DatasetError, match=r"^unknown column 'nope'"):
        query.frame(["nope"])


@pytest.mark.parametrize("seed", range(6))
def test_engine_lasso_by_grid_equals_the_exact_test(seed: int) -> None:
    """The grid shortcut of a lasso (cells wholly inside or outside, the exact test only along the outline) gives
    the exact answer: jagged and smooth lassos, lassos reaching past the data, missing coordinates."""
    rng = np.random.default_rng(seed)
    n = 20_000
    x, y = rng.normal(0, 10, n), rng.normal(0, 10, n)
    x[:50], y[50:100] = np.nan, np.nan
    engine = Engine(Dataset(pl.DataFrame({"id": np.arange(n), "x": x, "y": y})))
    vertices = int(rng.integers(3, 400))
    angle = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    radius = rng.uniform(2, 45, vertices) if seed % 2 else np.full(vertices, rng.uniform(5, 40))
    lasso = np.c_[np.cos(angle) * radius + rng.normal(0, 3), np.sin(angle) * radius]
    mask = engine.where([polygon("x", "y", lasso.tolist())]).count()
    assert mask == int(points_in_polygon(x, y, lasso).sum())
    assert np.array_equal(engine.mask([polygon("x", "y", lasso.tolist())]), points_in_polygon(x, y, lasso))


@pytest.mark.parametrize("descending", [False, True])
def test_engine_a_page_by_numbers_equals_polars_stable_sort(descending: bool) -> None:
    """The partial sort of one numeric column (ties kept in table order) gives the page polars' stable sort gives."""
    rng = np.random.default_rng(3)
    n = 5_000
    frame = pl.DataFrame(
        {
            "id": np.arange(n),
            "score": rng.integers(0, 40, n).astype(np.float64),  # many ties
            "count": rng.integers(-(2**62), 2**62, n),
            "gap": pl.Series(np.where(rng.random(n) < 0.1, None, rng.random(n)).tolist(), dtype=pl.Float64),
        }
    )
    engine = Engine(Dataset(frame))
    keep = [isin("id", list(range(0, n, 3)))]
    for column in ("score", "count", "gap"):
        for offset, limit in ((0, 100), (250, 40), (1600, 100), (0, 0)):
            got = engine.where(keep).rows(["id"], [(column, descending)], offset, limit)["id"].to_list()
            want = (
                frame.filter(pl.col("id") % 3 == 0)
                .sort(column, descending=descending, nulls_last=True, maintain_order=True)
                .slice(offset, limit)["id"]
                .to_list()
            )
            assert got == want, (column, offset, limit)
    assert engine.all.rows(["id"], [("score", descending)], 10, 5)["id"].to_list() == (
        frame.sort("score", descending=descending, maintain_order=True).slice(10, 5)["id"].to_list()
    )
