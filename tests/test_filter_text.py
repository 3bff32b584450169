"""Tests of the filter language: every construct, precedence, quoting, dates, the round trip text -> clauses ->
text, errors that say where and what was expected, generated malformed text, and the rows a typed filter selects
(counted again by pandas)."""

from __future__ import annotations

import string
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import toy_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from symphony_dash import Symphony
from symphony_dash.dataset import Dataset
from symphony_dash.engine import Engine
from symphony_dash.filter_text import FilterSyntaxError, completions, parse_filter, to_text
from symphony_dash.state import (
    MAX_DEPTH,
    MAX_NODES,
    Clause,
    ClauseError,
    all_of,
    any_of,
    between,
    compare,
    contains,
    describe,
    eq,
    ids,
    is_null,
    isin,
    negate,
    not_in,
    pairs,
    polygon,
)


def _frame() -> pd.DataFrame:
    """The toy table, with a date, a time, a flag, missing values and awkward column names."""
    frame = toy_frame(300, seed=3)  # more rows than a category has values: 'text' is free text
    start = datetime(2024, 1, 1)
    frame["day"] = [(start + timedelta(days=i % 60)).date() for i in range(len(frame))]
    frame["seen"] = [start + timedelta(hours=7 * i) for i in range(len(frame))]
    frame["ok"] = frame.label == frame.prediction
    frame["true label"] = frame.label
    frame["and"] = frame.confidence * 2
    frame["it's"] = np.where(frame.index % 2 == 0, "even", "odd")
    frame["score"] = frame.confidence.where(frame.index % 7 != 0)  # missing every 7th row
    return frame


FRAME = _frame()
DS = Dataset(FRAME)
ENGINE = Engine(DS)
SOURCE = "filter-box"


def parse(text: str, **kwargs: Any) -> list[Clause]:
    return parse_filter(text, DS, **kwargs)


def keys(clauses: list[Clause]) -> list[str]:
    return [c.key() for c in clauses]


def error(text: str) -> str:
    with pytest.raises(FilterSyntaxError) as caught:
        parse(text)
    return caught.value.message


# -- every construct ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("label == 3", [eq("label", 3)]),
        ("split == 'test'", [eq("split", "test")]),
        ('split == "test"', [eq("split", "test")]),
        ("split != 'test'", [not_in("split", ["test"])]),
        ("confidence < 0.6", [compare("confidence", "<", 0.6)]),
        ("confidence <= 0.6", [compare("confidence", "<=", 0.6)]),
        ("confidence ≤ 0.6", [compare("confidence", "<=", 0.6)]),
        ("confidence > 0.6", [compare("confidence", ">", 0.6)]),
        ("confidence >= .6", [compare("confidence", ">=", 0.6)]),
        ("confidence ≥ 6e-1", [compare("confidence", ">=", 0.6)]),
        ("x > -1.5", [compare("x", ">", -1.5)]),
        ("label in [1, 3]", [isin("label", [1, 3])]),
        ("label in []", [isin("label", [])]),
        ("label not in [0]", [not_in("label", [0])]),
        ("confidence between 0.2 and 0.8", [between("confidence", 0.2, 0.8)]),
        ("score is null", [is_null("score")]),
        ("score is not null", [is_null("score", missing=False)]),
        ("text contains 'class 3'", [contains("text", "class 3")]),
        ("ok == true", [eq("ok", True)]),
        ("ok == False", [eq("ok", False)]),
        ("(label, prediction) in [(1, 2), (3, 3)]", [pairs(("label", "prediction"), [(1, 2), (3, 3)])]),
        ("0.5 < confidence", [compare("confidence", ">", 0.5)]),
        ("0.2 ≤ confidence ≤ 0.8", [between("confidence", 0.2, 0.8)]),
        ("0.2 < confidence <= 0.8", [compare("confidence", ">", 0.2), compare("confidence", "<=", 0.8)]),
        ("0.8 >= confidence > 0.2", [compare("confidence", "<=", 0.8), compare("confidence", ">", 0.2)]),
        ("label == 1 and split == 'test'", [eq("label", 1), eq("split", "test")]),
        ("label == 1 or split == 'test'", [any_of([eq("label", 1), eq("split", "test")])]),
        ("not label == 1", [negate(eq("label", 1))]),
        ("not (label == 1 and split == 'test')", [negate([eq("label", 1), eq("split", "test")])]),
        ("(label == 1 and 0.2 ≤ confidence ≤ 0.8)", [all_of([eq("label", 1), between("confidence", 0.2, 0.8)])]),
        ("(label == 1 and text contains 'a')", [any_of([[eq("label", 1), contains("text", "a")]])]),
        ("  label == 3  ", [eq("label", 3)]),
        ("LABEL in [1] AND Split == 'test'", None),  # names are exact: only the keywords ignore case
    ],
)
def test_ftext001_every_construct(text: str, expected: list[Clause] | None) -> None:
    if expected is None:
        assert error(text) == "unknown column 'LABEL' at 1: did you mean 'label'?"
        return
    assert keys(parse(text)) == keys(expected)


def test_ftext002_keywords_ignore_case_and_a_blank_filter_is_no_filter() -> None:
    assert keys(parse("label IN [1] AND NOT split == 'test' Or ok == TRUE")) == keys(
        [any_of([[isin("label", [1]), negate(eq("split", "test"))], eq("ok", True)])]
    )
    assert parse("") == [] and parse("   \n") == []


def test_ftext003_new_clauses_are_numbered_sources_of_their_own() -> None:
    clauses = parse("label == 1 and split == 'test'")
    assert [c.source for c in clauses] == ["filter-box:1", "filter-box:2"]
    assert [c.source for c in parse_filter("label == 1", DS, source="python")] == ["python:1"]


# -- precedence -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        # and binds tighter than or
        ("label == 1 or label == 2 and split == 'test'", "label == 1 or (label == 2 and split == 'test')"),
        ("label == 1 and label == 2 or split == 'test'", "(label == 1 and label == 2) or split == 'test'"),
        # not binds tighter than and and or
        ("not label == 1 and split == 'test'", "(not label == 1) and split == 'test'"),
        ("not label == 1 or split == 'test'", "(not label == 1) or split == 'test'"),
        ("not not label == 1", "not (not (label == 1))"),
        # or of ors and and of ands flatten
        ("(label == 1 or label == 2) or label == 3", "label == 1 or label == 2 or label == 3"),
        ("label == 1 and (not split == 'test') and ok == true", "label == 1 and not split == 'test' and ok == true"),
        # 'between' takes its own 'and'
        ("x between 0 and 1 and y > 0", "(x between 0 and 1) and y > 0"),
    ],
)
def test_ftext004_precedence(text: str, same_as: str) -> None:
    assert keys(parse(text)) == keys(parse(same_as))


def test_ftext005_precedence_decides_which_rows() -> None:
    text = "label == 1 or label == 2 and split == 'test'"
    expected = (FRAME.label == 1) | ((FRAME.label == 2) & (FRAME.split == "test"))
    assert ENGINE.where(parse(text)).count() == int(expected.sum())
    grouped = "(label == 1 or label == 2) and split == 'test'"
    expected = FRAME.label.isin([1, 2]) & (FRAME.split == "test")
    assert ENGINE.where(parse(grouped)).count() == int(expected.sum())


# -- the rows a filter selects, counted again by pandas -------------------------------------------------------------


F = FRAME
ROWS = [
    ("split == 'test' and confidence < 0.6", (F.split == "test") & (F.confidence < 0.6)),
    ("label in [0, 2] or x > 5", F.label.isin([0, 2]) | (F.x > 5)),
    ("not (label in [0, 1] or split == 'test')", ~(F.label.isin([0, 1]) | (F.split == "test"))),
    ("not score < 0.7", ~(F.score < 0.7)),  # 'not' keeps the rows whose score is missing
    ("score >= 0.7", F.score >= 0.7),
    ("score is null or label == 3", F.score.isna() | (F.label == 3)),
    ("label != 2", F.label != 2),
    ("text contains 'CLASS 1'", F.text.str.lower().str.contains("class 1", regex=False)),
    ("0.5 < confidence < 0.8", (F.confidence > 0.5) & (F.confidence < 0.8)),
    (
        "(label, prediction) in [(1, 2), (2, 2)]",
        (F.label == 1) & (F.prediction == 2) | (F.label == 2) & (F.prediction == 2),
    ),
    ("ok == false and (x < 0 or y < 0)", ~F.ok & ((F.x < 0) | (F.y < 0))),
    ("day >= 2024-02-01", F.day >= datetime(2024, 2, 1).date()),
    (
        "day between '2024-01-10' and 2024-01-20",
        F.day.between(date(2024, 1, 10), date(2024, 1, 20)),
    ),
    ("seen < 2024-01-03T12:00", F.seen < datetime(2024, 1, 3, 12)),
    ("'true label' == 3 and `and` > 1.5", (F["true label"] == 3) & (F["and"] > 1.5)),
    ("\"it's\" == 'odd'", F["it's"] == "odd"),
]


@pytest.mark.parametrize(("text", "mask"), ROWS, ids=[t for t, _ in ROWS])
def test_ftext006_a_typed_filter_selects_the_rows_pandas_does(text: str, mask: pd.Series) -> None:
    assert ENGINE.where(parse(text)).count() == int(mask.sum())


# -- quoting and the round trip -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "text"),
    [
        (eq("true label", 3), "'true label' == 3"),
        (compare("and", ">", 1.5), "'and' > 1.5"),
        (eq("it's", "odd"), "\"it's\" == 'odd'"),
        (eq("split", 'it\'s "x"\n'), "split == 'it\\'s \"x\"\\n'"),
        (polygon("x", "y", [(0, 0), (1, 1), (1, 0)]), "lasso on (x, y)"),
    ],
)
def test_ftext007_describe_quotes_what_is_not_a_plain_name(clause: Clause, text: str) -> None:
    assert describe(clause) == text


def test_ftext008_names_are_read_in_backticks_and_either_quotes() -> None:
    same = ["'true label' == 3", '"true label" == 3', "`true label` == 3"]
    assert {tuple(keys(parse(t))) for t in same} == {tuple(keys([eq("true label", 3)]))}


ROUND_TRIP = [
    eq("label", 3),
    eq("confidence", 0.123456),
    eq("text", 'it\'s "quoted"\t\\ é'),
    eq("ok", True),
    isin("label", [0, 1, 2, 3]),
    not_in("split", ["test", "train"]),
    between("confidence", 0.1, 0.3),
    between("day", "2024-01-01", "2024-02-01"),
    compare("x", "<", -2.5),
    compare("seen", ">=", "2024-01-03T12:00:00"),
    is_null("score"),
    is_null("score", missing=False),
    contains("text", "class 1"),
    pairs(("label", "prediction"), [(1, 2), (3, 0), (0, 0), (2, 1), (1, 1)]),
    all_of([eq("label", 1), between("confidence", 0.2, 0.8)]),
    all_of([isin("split", ["test"]), is_null("score")]),
    any_of([eq("label", 1), [eq("split", "test"), compare("x", "<", 0)]]),
    any_of([[eq("label", 1), contains("text", "class")]]),
    negate(eq("label", 1)),
    negate([eq("label", 1), any_of([eq("ok", True), contains("text", "a")])]),
    eq("true label", 2),
    compare("and", "<=", 1.0),
    eq("it's", "even"),
]


def test_ftext009_round_trip_clauses_text_clauses() -> None:
    text = to_text(ROUND_TRIP)
    assert keys(parse(text)) == keys(ROUND_TRIP)
    for clause in ROUND_TRIP:  # one at a time too: each clause's text reads back as it
        assert keys(parse(to_text([clause]))) == keys([clause]), to_text([clause])


def test_ftext009b_long_numbers_read_to_6_digits_and_the_current_clause_keeps_them_all() -> None:
    brushed = between("confidence", 0.6542250785389218, 0.8504757096384525, source="conf")
    assert to_text([brushed]) == "confidence between 0.654225 and 0.850476"
    assert parse(to_text([brushed]), current=[brushed]) == [brushed]
    assert parse(to_text([brushed]))[0].value == [0.654225, 0.850476]


@pytest.mark.parametrize("text", [t for t, _ in ROWS] + ["label == 1 or label == 2 and not split == 'test'"])
def test_ftext010_round_trip_text_clauses_text(text: str) -> None:
    once = to_text(parse(text))
    assert to_text(parse(once)) == once
    assert [describe(c) for c in parse(once)] == [describe(c) for c in parse(text)]


def test_ftext011_the_text_of_the_current_filter_keeps_its_clauses_and_their_sources() -> None:
    lasso = polygon("x", "y", [(0, 0), (3, 6), (6, 0)], source="scatter")
    picked = ids([1, 2, 3], source="gallery")
    brushed = between("confidence", 0.21234567, 0.6, source="conf")
    sliced = all_of([eq("label", 1), between("confidence", 0.2, 0.8)], source="slice-finder")
    current = [lasso, picked, brushed, sliced, eq("split", "test", source="filter-box:2")]
    text = to_text(current)
    assert text == (
        "lasso on (x, y) and 3 instances and confidence between 0.212346 and 0.6 and "
        "(label == 1 and 0.2 ≤ confidence ≤ 0.8) and split == 'test'"
    )
    assert parse(text, current=current) == current
    # An edited clause becomes the box's, numbered past the numbers kept; a deleted one is gone.
    edited = text.replace("0.6 and", "0.7 and").replace("3 instances and ", "")
    out = parse(edited, current=current)
    assert [c.source for c in out] == ["scatter", "filter-box:1", "slice-finder", "filter-box:2"]
    assert out[1].value == [0.212346, 0.7]  # as the text showed it


def test_ftext012_a_lasso_or_picked_ids_cannot_be_typed() -> None:
    assert error("lasso on (x, y)") == "a lasso cannot be typed at 1: draw it on a scatter of (x, y)"
    assert error("label == 1 and 3 instances") == "picked instances cannot be typed at 16: pick them in a view"
    current = [polygon("x", "y", [(0, 0), (3, 6), (6, 0)], source="scatter")]
    with pytest.raises(FilterSyntaxError, match="a lasso at 1 can only be a clause of its own"):
        parse("lasso on (x, y) or label == 1", current=current)


# -- dates ----------------------------------------------------------------------------------------------------------

A_DATE = "a date such as 2024-05-01"


def test_ftext013_dates_bare_or_quoted() -> None:
    assert keys(parse("day >= 2024-02-01")) == keys([compare("day", ">=", "2024-02-01")])
    assert keys(parse("day == '2024-02-01'")) == keys([eq("day", "2024-02-01")])
    assert keys(parse("seen between 2024-01-01T06:00 and 2024-01-02")) == keys(
        [between("seen", "2024-01-01T06:00", "2024-01-02")]
    )
    # describe writes an 'all' clause's date range as a chain of quoted dates, which reads back.
    sliced = all_of([between("day", "2024-01-01", "2024-01-15"), eq("label", 2)])
    assert describe(sliced) == "'2024-01-01' ≤ day ≤ '2024-01-15' and label == 2"
    assert keys(parse(f"({describe(sliced)})")) == keys([sliced])
    assert error("day > 2024-13-01") == f"2024-13-01 does not fit day (datetime) at 7: expected {A_DATE}"
    assert error("day > 3") == f"3 does not fit day (datetime) at 7: expected {A_DATE}"
    assert error("split == 2024-01-01") == (
        "2024-01-01 does not fit split (categorical) at 10: expected 'text' in quotes: '2024-01-01'"
    )


# -- errors say where and what was expected -------------------------------------------------------------------------

A_VALUE = f"a value (a number, 'text', true, false or {A_DATE})"
A_COLUMN = "a column, such as id, label, prediction, confidence, split, x, ..."
AN_OPERATOR = "an operator (==, !=, <, <=, >, >=, in, not in, between, is null, contains)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lable == 3", "unknown column 'lable' at 1: did you mean 'label'?"),
        ("label == 3 and spilt == 'test'", "unknown column 'spilt' at 16: did you mean 'split'?"),
        ("'true lable' == 3", "unknown column 'true lable' at 1: did you mean 'true label'?"),
        ("zzz == 3", f"unknown column 'zzz' at 1: expected {A_COLUMN}"),
        ("label ==", f"unexpected end at 9: expected {A_VALUE}"),
        ("label", f"unexpected end at 6: expected {AN_OPERATOR}"),
        ("label = 3", "'=' compares nothing; write '==' at 7"),
        ("label == null", "missing values are found with 'is null', not compared at 10"),
        ("split == test", f"unexpected 'test' (text goes in quotes: 'test') at 10: expected {A_VALUE}"),
        ("split == 'tset'", "split has no value 'tset' at 10: did you mean 'test'?"),
        ("label in [1, 9]", "label has no value 9 at 14: its values are 0, 1, 2, 3"),
        ("label == 'one'", "'one' does not fit label (categorical) at 10: expected a number"),
        ("ok == 1", "1 does not fit ok (categorical) at 7: expected true or false"),
        ("split < 'b'", "'<' needs a numeric or date column; split is categorical at 7"),
        ("split between 1 and 2", "'between' needs a numeric or date column; split is categorical at 7"),
        ("x contains 'a'", "'contains' needs a text column; x is numeric at 3"),
        ("text contains 3", "unexpected '3' at 15: expected 'text' in quotes"),
        ("x between 2 and 1", "the range is empty (2 > 1) at 17"),
        ("1 < x < 0", "the range is empty (1 > 0) at 9"),
        ("1 < x > 0", "a chain goes one way (low < x < high, or high > x > low) at 7"),
        ("label in [1, 2", "unexpected end at 15: expected ',' or ']'"),
        ("label in 1", "unexpected '1' at 10: expected '[' (a list of values)"),
        ("(label == 1", "unexpected end at 12: expected ')' or 'and', 'or'"),
        ("label == 1)", "unexpected ')' at 11: expected 'and', 'or' or the end of the filter"),
        ("label == 1 and", "unexpected end at 15: expected a column, 'not' or '('"),
        ("or label == 1", f"unexpected 'or' at 1: expected {A_COLUMN}"),
        ("split == 'test", "unterminated string at 10: expected a closing '"),
        ("`true label == 3", "unterminated name at 1: expected a closing `"),
        ("label @ 3", "unexpected character '@' at 7"),
        ("label in [1, 2, ... (6 values)]", "a shortened list ('...') at 17 cannot be typed: write every value"),
        ("score is nul", "unexpected 'nul' at 10: expected 'null' (is null, is not null)"),
        ("x > 1e999", "the number 1e999 at 5 is too large"),
        ("3 == 3", f"unexpected '3' at 6: expected {A_COLUMN}"),
        ("(label, x) in [(1, 'a')]", "'a' does not fit x (numeric) at 20: expected a number"),
        ("text contains ''", "the text must have 1 to 1000 characters at 15"),
    ],
)
def test_ftext014_errors_say_where_and_what_was_expected(text: str, message: str) -> None:
    assert error(text) == message


def test_ftext015_an_error_carries_the_offset_and_end_of_the_mistake() -> None:
    text = "label == 3 and spilt == 'test'"
    with pytest.raises(FilterSyntaxError) as caught:
        parse(text)
    assert text[caught.value.position : caught.value.end] == "spilt"
    assert isinstance(caught.value, ClauseError)  # a notebook catches it as any other bad filter


def test_ftext016_size_and_nesting_are_bounded() -> None:
    deep = "(" * 40 + "label == 1" + ")" * 40
    assert error(deep) == "more than 32 nested parentheses or 'not's at 33"
    nested = "label == 1"
    for _ in range(MAX_DEPTH):
        nested = f"not ({nested} or ok == true)"
    assert "may nest at most 4 deep" in error(nested)
    wide = " or ".join(f"label == {i % 4}" for i in range(9))
    assert "a list of 1 to 8 lists of 1 to 8 clauses" in error(wide)
    many = " and ".join("label == 1" for _ in range(201))
    assert error(many).startswith("too many clauses joined by 'and' at 1")
    assert MAX_NODES == 64


# -- the new clause ops: shape rules and the engine -----------------------------------------------------------------


EQ_X = {"op": "eq", "column": "x", "value": 1}
ANY_SHAPE = "an 'any' value must be a list of 1 to 8 lists of 1 to 8 clauses"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"op": "lt", "column": "x", "value": [1]}, "a 'lt' value must be one number or ISO date"),
        ({"op": "ge", "column": "x", "value": True}, "a 'ge' value must be one number or ISO date"),
        ({"op": "gt", "value": 1}, "a 'gt' clause needs a 'column'"),
        ({"op": "any", "value": []}, ANY_SHAPE),
        ({"op": "any", "value": [EQ_X]}, ANY_SHAPE),
        ({"op": "any", "value": [[EQ_X]] * 9}, ANY_SHAPE),
        ({"op": "not", "value": [[EQ_X]]}, "a 'not' value must be a list of 1 to 8 clauses"),
        (
            {"op": "not", "column": "x", "value": [EQ_X]},
            "a 'not' clause names its columns in its parts, not in 'column'",
        ),
        (
            {"op": "not", "value": [EQ_X | {"source": "a"}]},
            "every part of a 'not' clause must be {op, column | columns, value}",
        ),
        (
            {"op": "not", "value": [{"op": "ids", "value": [1]}]},
            "a 'not' clause cannot combine 'ids' clauses (a lasso or ids)",
        ),
        (
            {"op": "not", "value": [{"op": "range", "column": "x", "value": [2, 1]}]},
            "a part of a 'not' clause: a 'range' value must have low <= high",
        ),
    ],
)
def test_ftext017_the_new_ops_are_checked_as_the_others(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Clause(**fields)
    assert caught.value.errors()[0]["msg"].removeprefix("Value error, ") == message


def test_ftext018_a_hostile_combination_is_refused_cheaply() -> None:
    part: dict[str, Any] = {"op": "eq", "column": "x", "value": 1}
    for _ in range(6):
        part = {"op": "not", "value": [part] * 8}
    # Read through errors(): str() of the error would print the whole 8**7-part value, as pytest's match= does.
    with pytest.raises(ValidationError) as caught:
        Clause(op="not", value=[part] * 8)
    assert caught.value.errors()[0]["msg"] == "Value error, 'any' and 'not' clauses may nest at most 4 deep"
    wide = {"op": "any", "value": [[EQ_X] * 8] * 8}
    with pytest.raises(ValidationError) as caught:
        Clause(op="not", value=[wide])
    assert caught.value.errors()[0]["msg"] == "Value error, an 'any' or 'not' clause may hold at most 64 clauses"
    with pytest.raises(ClauseError, match="'lt' needs a numeric or date column; 'split' is categorical"):
        ENGINE.check(Clause(op="not", value=[{"op": "lt", "column": "split", "value": 1}]))


# -- generated malformed text ---------------------------------------------------------------------------------------

VALID = [t for t, _ in ROWS]
BREAKERS = ["@", ")", "(", "==", "and", "or", "[", "]", ",", "'", "`", "between", "in", "is", "=", "...", "#"]


@st.composite
def malformed(draw: st.DrawFn) -> str:
    """A valid filter broken for sure: cut short after an operator, a word, an opening bracket or quote; an unknown
    column in front; or garbage that no filter reads."""
    base = draw(st.sampled_from(VALID))
    how = draw(st.integers(0, 4))
    if how == 0:
        return base + " " + draw(st.sampled_from(["and", "or", "and not", "or (", "and label in [", "and x <"]))
    if how == 1:
        return draw(st.sampled_from(["(", "not (", "label in [1, "])) + base
    if how == 2:
        unknown = draw(st.text(string.ascii_lowercase, min_size=1, max_size=8).filter(lambda n: n not in DS.columns))
        if unknown.lower() in ("and", "or", "not", "in", "is", "null", "between", "contains", "true", "false", "lasso"):
            unknown += "_"
        return f"{unknown} == 1 and {base}"
    if how == 3:
        return base + " " + draw(st.sampled_from(["@", "#", "$", ";", "=", "... ", "'open", "`open"]))
    return draw(st.sampled_from(BREAKERS)) + " " + base


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(malformed())
def test_ftext019_malformed_text_gives_a_message_never_another_exception(text: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse(text)
    error = caught.value
    assert error.message and " at " in error.message
    assert 0 <= error.position <= len(text) and error.end > error.position


TOKENS = st.sampled_from(
    [
        "label",
        "split",
        "x",
        "'true label'",
        "`and`",
        "day",
        "text",
        "==",
        "!=",
        "<",
        "<=",
        "≥",
        "in",
        "not",
        "and",
        "or",
        "between",
        "is",
        "null",
        "contains",
        "(",
        ")",
        "[",
        "]",
        ",",
        "1",
        "-2.5",
        "'test'",
        '"a"',
        "true",
        "2024-01-05",
        "lasso",
        "on",
        "3",
        "instances",
        "'",
        "`",
        "...",
        "@",
        "1e999",
        "\\",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(TOKENS, max_size=14).map(" ".join), st.text(max_size=40)))
def test_ftext020_any_text_parses_or_gives_a_filter_syntax_error(text: str) -> None:
    try:
        clauses = parse(text)
    except FilterSyntaxError as exc:
        assert exc.message
        return
    ENGINE.where(clauses).count()  # what parses, the engine applies
    assert keys(parse(to_text(clauses))) == keys(clauses)


# -- completions and Python -----------------------------------------------------------------------------------------


def test_ftext021_completions_offer_columns_operators_values_and_joins() -> None:
    assert completions("", DS)[:3] == ["id ", "label ", "prediction "]
    assert completions("tr", DS) == ["'true label' "]
    assert completions("label == 1 and sp", DS) == ["label == 1 and split "]
    operators = completions("confidence ", DS)
    assert "confidence < " in operators and "confidence contains '" not in operators
    assert completions("split == ", DS) == ["split == 'test'", "split == 'train'"]
    assert completions("split in ['test', 'tr", DS) == ["split in ['test', 'train'"]
    assert completions("label == 3 ", DS) == ["label == 3 and ", "label == 3 or "]
    assert completions("label @", DS) == []


def test_ftext022_symphony_filter_takes_text() -> None:
    sym = Symphony(FRAME.drop(columns=["day", "seen"]))
    sym.filter = "split == 'test' and confidence < 0.6"
    assert [describe(c) for c in sym.filter] == ["split == 'test'", "confidence < 0.6"]
    assert len(sym.filtered) == int(((FRAME.split == "test") & (FRAME.confidence < 0.6)).sum())
    with pytest.raises(FilterSyntaxError, match="unknown column 'lable' at 1: did you mean 'label'"):
        sym.filter = "lable == 3"
    assert len(sym.filter) == 2  # a mistake leaves the filter as it was
