"""Tests of the clauses and the shared state: constructors, their text, their shape rules, and browser payloads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from symphony_dash.state import (
    MAX_IDS,
    MAX_PARTS,
    MAX_TEXT,
    MAX_VALUES,
    MAX_VERTICES,
    Clause,
    ClauseError,
    State,
    all_of,
    between,
    contains,
    describe,
    eq,
    ids,
    is_null,
    isin,
    not_in,
    parse_state,
    polygon,
)

TRIANGLE = [[0.0, 0.0], [1.0, 2.0], [2.0, 0.0]]


def rule(**fields: Any) -> str:
    """The message a clause with these fields is refused with, without pydantic's 'Value error, ' prefix."""
    with pytest.raises(ValidationError) as caught:
        Clause(**fields)
    errors = caught.value.errors()
    assert len(errors) == 1, errors
    return errors[0]["msg"].removeprefix("Value error, ")


# -- named constructors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (eq("label", 3), {"op": "eq", "column": "label", "columns": None, "value": 3}),
        (isin("label", (3, 8)), {"op": "in", "column": "label", "columns": None, "value": [3, 8]}),
        (not_in("split", ["test"]), {"op": "not_in", "column": "split", "columns": None, "value": ["test"]}),
        (
            between("confidence", 0.2, 0.9),
            {"op": "range", "column": "confidence", "columns": None, "value": [0.2, 0.9]},
        ),
        (is_null("x"), {"op": "is_null", "column": "x", "columns": None, "value": True}),
        (is_null("x", missing=False), {"op": "is_null", "column": "x", "columns": None, "value": False}),
        (contains("text", "Cat"), {"op": "contains", "column": "text", "columns": None, "value": "Cat"}),
        (
            polygon("x", "y", [(0, 0), (1, 2), (2, 0)]),
            {"op": "polygon", "column": None, "columns": ("x", "y"), "value": TRIANGLE},
        ),
        (ids([4, 7]), {"op": "ids", "column": None, "columns": None, "value": [4, 7]}),
        (
            all_of([eq("label", 8, source="ignored"), between("ink", 20, 30.5)]),
            {
                "op": "all",
                "column": None,
                "columns": None,
                "value": [
                    {"op": "eq", "column": "label", "value": 8},
                    {"op": "range", "column": "ink", "value": [20, 30.5]},
                ],
            },
        ),
    ],
    ids=["eq", "in", "not_in", "range", "is_null", "is_not_null", "contains", "polygon", "ids", "all"],
)
def test_state001_constructors_make_plain_clauses(made: Clause, expected: dict[str, Any]) -> None:
    assert made.model_dump() == {"source": "python", **expected}


def test_state002_constructors_record_their_source_and_clauses_are_frozen() -> None:
    clause = isin("label", [3], source="hist-1")
    assert clause.source == "hist-1"
    with pytest.raises(ValidationError):
        clause.value = [4]  # type: ignore[misc]


def test_state003_polygon_points_become_floats() -> None:
    clause = polygon("x", "y", [(0, 0), (1, 2), (2, 0)])
    assert all(isinstance(v, float) for point in clause.value for v in point)


def test_state004_key_leaves_the_source_out() -> None:
    assert eq("label", 3, source="a").key() == eq("label", 3, source="b").key()
    assert eq("label", 3).key() != eq("label", 4).key()
    assert eq("label", 1).key() != eq("label", True).key() != eq("label", "1").key()


def test_state005_clauses_round_trip_through_json() -> None:
    for clause in [
        eq("a", 1),
        isin("a", ["x"]),
        polygon("x", "y", TRIANGLE),
        ids([1, 2]),
        between("d", "2024-01-01", "2024-02-01"),
        all_of([isin("a", ["x"]), is_null("b")]),
    ]:
        assert Clause.model_validate(json.loads(clause.model_dump_json())) == clause


# -- describe -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "text"),
    [
        (eq("label", 3), "label == 3"),
        (eq("split", "train"), "split == 'train'"),
        (eq("confidence", 0.123456), "confidence == 0.1235"),
        (eq("correct", True), "correct == True"),
        (eq("true label", 3), "'true label' == 3"),
        (isin("label", [3, 8]), "label in [3, 8]"),
        (isin("split", ["train", "test"]), "split in ['train', 'test']"),
        (isin("label", [1, 2, 3, 4, 5, 6]), "label in [1, 2, 3, 4, ... (6 values)]"),
        (not_in("split", ["test"]), "split not in ['test']"),
        (not_in("label", [0, 1, 2, 3, 4]), "label not in [0, 1, 2, 3, ... (5 values)]"),
        (between("confidence", 0.2, 0.75), "confidence between 0.2 and 0.75"),
        (between("x", -1, 2), "x between -1 and 2"),
        (between("day", "2024-01-01", "2024-02-01"), "day between '2024-01-01' and '2024-02-01'"),
        (is_null("x"), "x is null"),
        (Clause(op="is_null", column="x"), "x is null"),
        (is_null("x", missing=False), "x is not null"),
        (is_null("my col", missing=False), "'my col' is not null"),
        (contains("text", "cat"), "text contains 'cat'"),
        (polygon("x", "y", TRIANGLE), "lasso on (x, y)"),
        (ids([]), "0 instances"),
        (ids([7]), "1 instance"),
        (ids([7, 9]), "2 instances"),
        (all_of([eq("label", 8), between("ink", 20, 30.25)]), "label == 8 and 20 ≤ ink ≤ 30.25"),
        (all_of([between("my col", 0.123456, 1)]), "0.1235 ≤ 'my col' ≤ 1"),
        (
            all_of([isin("split", ["test"]), is_null("x"), eq("ok", False)]),
            "split in ['test'] and x is null and ok == False",
        ),
    ],
)
def test_state006_describe_every_op(clause: Clause, text: str) -> None:
    assert describe(clause) == text


# -- shape rules ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"op": "like", "column": "x", "value": 1},
            "Input should be 'eq', 'in', 'not_in', 'range', 'lt', 'le', 'gt', 'ge', 'is_null', 'contains', 'polygon', "
            "'ids', 'pairs', 'all', 'any' or 'not'",
        ),
        (
            {"op": "polygon", "columns": ["x", "y"], "value": TRIANGLE[:2]},
            "a polygon needs between 3 and 5000 [x, y] points",
        ),
        ({"op": "polygon", "columns": ["x", "y"], "value": []}, "a polygon needs between 3 and 5000 [x, y] points"),
        (
            {"op": "polygon", "columns": ["x", "y"], "value": [[0, 0]] * (MAX_VERTICES + 1)},
            "a polygon needs between 3 and 5000 [x, y] points",
        ),
        (
            {"op": "polygon", "columns": ["x", "y"], "value": [[0, 0], [1, float("nan")], [2, 0]]},
            "every polygon point must be [x, y] with two finite numbers",
        ),
        (
            {"op": "polygon", "columns": ["x", "y"], "value": [[0, 0], [float("inf"), 1], [2, 0]]},
            "every polygon point must be [x, y] with two finite numbers",
        ),
        (
            {"op": "polygon", "columns": ["x", "y"], "value": [[0, 0], [1, "2"], [2, 0]]},
            "every polygon point must be [x, y] with two finite numbers",
        ),
        (
            {"op": "polygon", "columns": ["x", "y"], "value": [[0, 0], [1, 2, 3], [2, 0]]},
            "every polygon point must be [x, y] with two finite numbers",
        ),
        (
            {"op": "polygon", "columns": ["x", "y"], "value": [[0, 0], [True, 1], [2, 0]]},
            "every polygon point must be [x, y] with two finite numbers",
        ),
        (
            {"op": "polygon", "column": "x", "value": TRIANGLE},
            "a polygon clause names two columns in 'columns' and no 'column'",
        ),
        ({"op": "in", "column": "x", "value": [[1, 2]]}, "an 'in' value must hold only strings, numbers or booleans"),
        ({"op": "in", "column": "x", "value": [{"a": 1}]}, "an 'in' value must hold only strings, numbers or booleans"),
        (
            {"op": "not_in", "column": "x", "value": [None]},
            "a 'not_in' value must hold only strings, numbers or booleans",
        ),
        ({"op": "in", "column": "x", "value": 3}, "an 'in' value must be a list of values"),
        (
            {"op": "in", "column": "x", "value": list(range(MAX_VALUES + 1))},
            "an 'in' value may hold at most 10000 values, got 10001",
        ),
        ({"op": "ids", "value": list(range(MAX_IDS + 1))}, "an 'ids' value may hold at most 100000 values, got 100001"),
        ({"op": "ids", "value": [1, [2]]}, "an 'ids' value must hold only strings, numbers or booleans"),
        ({"op": "range", "column": "x", "value": [3, 1]}, "a 'range' value must have low <= high"),
        ({"op": "range", "column": "x", "value": [3, 1.5]}, "a 'range' value must have low <= high"),
        (
            {"op": "range", "column": "d", "value": ["2024-02-01", "2024-01-01"]},
            "a 'range' value must have low <= high",
        ),
        ({"op": "range", "column": "x", "value": [1]}, "a 'range' value must be [low, high] with numbers or ISO dates"),
        (
            {"op": "range", "column": "x", "value": [1, 2, 3]},
            "a 'range' value must be [low, high] with numbers or ISO dates",
        ),
        (
            {"op": "range", "column": "x", "value": [0, float("inf")]},
            "a 'range' value must be [low, high] with numbers or ISO dates",
        ),
        (
            {"op": "range", "column": "x", "value": [0, None]},
            "a 'range' value must be [low, high] with numbers or ISO dates",
        ),
        (
            {"op": "range", "column": "x", "value": [False, True]},
            "a 'range' value must be [low, high] with numbers or ISO dates",
        ),
        (
            {"op": "range", "column": "x", "value": [0, 10**400]},
            "a 'range' value must be [low, high] with numbers or ISO dates",
        ),
        ({"op": "eq", "column": "x", "value": float("nan")}, "numbers must be finite"),
        ({"op": "eq", "column": "x", "value": float("-inf")}, "numbers must be finite"),
        ({"op": "eq", "column": "x", "value": 10**400}, "numbers must be finite"),
        (
            {"op": "in", "column": "x", "value": [1.0, float("nan")]},
            "an 'in' value must hold only strings, numbers or booleans",
        ),
        ({"op": "eq", "column": "x", "value": [1]}, "an 'eq' value must be one string, number or boolean"),
        ({"op": "eq", "column": "x", "value": None}, "an 'eq' value must be one string, number or boolean"),
        ({"op": "eq", "value": 1}, "an 'eq' clause needs a 'column'"),
        ({"op": "contains", "column": "", "value": "a"}, "a 'contains' clause needs a 'column'"),
        (
            {"op": "eq", "column": "x", "columns": ["x", "y"], "value": 1},
            "'columns' is only for polygon and pairs clauses, not 'eq'",
        ),
        (
            {"op": "ids", "columns": ["x", "y"], "value": [1]},
            "'columns' is only for polygon and pairs clauses, not 'ids'",
        ),
        ({"op": "is_null", "column": "x", "value": 1}, "an 'is_null' value must be true (missing) or false (present)"),
        (
            {"op": "is_null", "column": "x", "value": "yes"},
            "an 'is_null' value must be true (missing) or false (present)",
        ),
        ({"op": "contains", "column": "x", "value": ""}, "a 'contains' value must be text of 1 to 1000 characters"),
        (
            {"op": "contains", "column": "x", "value": "a" * (MAX_TEXT + 1)},
            "a 'contains' value must be text of 1 to 1000 characters",
        ),
        ({"op": "contains", "column": "x", "value": 3}, "a 'contains' value must be text of 1 to 1000 characters"),
        ({"op": "eq", "column": "x", "value": 1, "extra": 2}, "Extra inputs are not permitted"),
        ({"op": "all", "value": []}, f"an 'all' value must be a list of 1 to {MAX_PARTS} clauses"),
        ({"op": "all", "value": {"op": "eq"}}, f"an 'all' value must be a list of 1 to {MAX_PARTS} clauses"),
        (
            {"op": "all", "value": [{"op": "eq", "column": "x", "value": 1}] * (MAX_PARTS + 1)},
            f"an 'all' value must be a list of 1 to {MAX_PARTS} clauses",
        ),
        (
            {"op": "all", "column": "x", "value": [{"op": "eq", "column": "x", "value": 1}]},
            "an 'all' clause names its columns in its parts, not in 'column'",
        ),
        (
            {"op": "all", "value": [{"op": "eq", "column": "x", "value": 1, "source": "a"}]},
            "every part of an 'all' clause must be {op, column, value}",
        ),
        ({"op": "all", "value": ["x == 1"]}, "every part of an 'all' clause must be {op, column, value}"),
        (
            {"op": "all", "value": [{"op": "all", "value": [{"op": "eq", "column": "x", "value": 1}]}]},
            "the parts of an 'all' clause may only be 'eq', 'in', 'range' or 'is_null' clauses",
        ),
        (
            {"op": "all", "value": [{"op": "contains", "column": "x", "value": "a"}]},
            "the parts of an 'all' clause may only be 'eq', 'in', 'range' or 'is_null' clauses",
        ),
        (
            {"op": "all", "value": [{"op": "range", "column": "x", "value": [3, 1]}]},
            "a part of an 'all' clause: a 'range' value must have low <= high",
        ),
        (
            {"op": "all", "value": [{"op": "eq", "column": "x", "value": float("nan")}]},
            "a part of an 'all' clause: numbers must be finite",
        ),
        (
            {"op": "all", "value": [{"op": "eq", "value": 1}]},
            "a part of an 'all' clause: an 'eq' clause needs a 'column'",
        ),
        ({"source": "", "op": "eq", "column": "x", "value": 1}, "String should have at least 1 character"),
    ],
)
def test_state007_shape_rules_are_refused_with_a_clear_message(fields: dict[str, Any], message: str) -> None:
    assert rule(**fields) == message


def test_state008_named_constructors_check_the_shape_too() -> None:
    with pytest.raises(ValidationError, match="a 'range' value must have low <= high"):
        between("x", 2, 1)
    with pytest.raises(ValidationError, match=r"a polygon needs between 3 and 5000 \[x, y\] points"):
        polygon("x", "y", [(0, 0), (1, 1)])
    with pytest.raises(ValidationError, match="every polygon point must be"):
        polygon("x", "y", [(0, 0), (1, float("nan")), (2, 0)])


def test_state009_edges_of_the_rules_are_accepted() -> None:
    assert between("x", 1, 1).value == [1, 1]
    assert between("x", 1, 1.5).value == [1, 1.5]
    assert len(isin("x", list(range(MAX_VALUES))).value) == MAX_VALUES
    assert len(polygon("x", "y", [(0, 0), (1, 1), (2, 0)] * (MAX_VERTICES // 3)).value) == MAX_VERTICES - 2
    assert contains("t", "a" * MAX_TEXT).value == "a" * MAX_TEXT
    assert eq("x", 10**20).value == 10**20
    assert Clause(op="is_null", column="x", value=None).value is None


# -- state and crossfilter ------------------------------------------------------------------------------------------


def test_state010_filter_for_leaves_the_components_own_clause_out() -> None:
    mine, other, python = isin("label", [3], source="hist"), between("x", 0, 1, source="scatter"), eq("split", "test")
    state = State(layout="t", filter=[mine, other, python])
    assert state.filter_for("hist") == [other, python]
    assert state.filter_for("scatter") == [mine, python]
    assert state.filter_for("table") == [mine, other, python]
    assert state.filter_for(None) == [mine, other, python]
    assert state.own_clause("hist") == mine
    assert state.own_clause("table") is None


def test_state011_selection_does_not_filter() -> None:
    state = State(filter=[eq("a", 1, source="h")], selection=ids([1, 2], source="g"))
    assert state.filter_for("g") == [eq("a", 1, source="h")]
    assert state.own_clause("g") is None


# -- parse_state: what a browser may send ---------------------------------------------------------------------------


def test_state012_parse_state_accepts_a_browser_state() -> None:
    payload = json.loads(
        '{"layout": "digits", "group_by": ["split"], "extra": 1,'
        ' "filter": [{"source": "h", "op": "in", "column": "label", "value": [3, 8]},'
        '            {"source": "s", "op": "polygon", "columns": ["x", "y"], "value": [[0, 0], [1, 2], [2, 0]]}],'
        ' "selection": {"source": "g", "op": "ids", "value": [1, 2]}}'
    )
    state = parse_state(payload)
    assert state.layout == "digits"
    assert state.group_by == ["split"]
    assert state.filter == [isin("label", [3, 8], source="h"), polygon("x", "y", TRIANGLE, source="s")]
    assert state.selection == ids([1, 2], source="g")
    assert parse_state(state.model_dump(mode="json")) == state


@pytest.mark.parametrize("empty", [None, {}, "", 0, []])
def test_state013_an_empty_payload_is_the_empty_state(empty: Any) -> None:
    assert parse_state(empty) == State()


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _clause(**fields: Any) -> dict[str, Any]:
    return {"filter": [{"source": "h", **fields}]}


MALFORMED: list[Any] = [
    "state",
    42,
    True,
    [1, 2],
    [{"op": "eq"}],
    {"layout": 5},
    {"layout": None},
    {"filter": "label == 3"},
    {"filter": None},
    {"filter": {"op": "eq", "column": "x", "value": 1}},
    {"filter": [None]},
    {"filter": [1]},
    {"filter": ["eq"]},
    {"filter": [[]]},
    {"filter": [{}]},
    {"filter": [{"column": "x", "value": 1}]},
    {"filter": [{"op": "eq", "column": "x", "value": 1}] * 201},
    {"group_by": "split"},
    {"group_by": [1]},
    {"group_by": ["a"] * 11},
    {"selection": [1, 2]},
    {"selection": "all"},
    {"selection": {"op": "ids"}},
    _clause(op="like", column="x", value=1),
    _clause(op=None, column="x", value=1),
    _clause(op=["eq"], column="x", value=1),
    _clause(op="eq", column=["x"], value=1),
    _clause(op="eq", column={"$ne": 1}, value=1),
    _clause(op="eq", column="x" * 501, value=1),
    _clause(op="eq", column="x", value={"$gt": 0}),
    _clause(op="eq", column="x", value=[1]),
    _clause(op="eq", column="x", value=_deep(500)),
    _clause(op="eq", column="x", value=10**400),
    _clause(op="in", column="x", value=_deep(500)),
    _clause(op="in", column="x", value="abc"),
    _clause(op="in", column="x", value=list(range(MAX_VALUES + 1))),
    _clause(op="not_in", column="x", value=[[1], [2]]),
    _clause(op="ids", value=list(range(MAX_IDS + 1))),
    _clause(op="ids", value={"1": 1}),
    _clause(op="range", column="x", value="0-1"),
    _clause(op="range", column="x", value=[1, 0]),
    _clause(op="range", column="x", value=[0, 10**400]),
    _clause(op="range", column="x", value={"low": 0, "high": 1}),
    _clause(op="is_null", column="x", value="no"),
    _clause(op="contains", column="x", value=None),
    _clause(op="contains", column="x", value="a" * (MAX_TEXT + 1)),
    _clause(op="polygon", columns=["x", "y"], value=[[0, 0], [1, 1]]),
    _clause(op="polygon", columns=["x", "y"], value=[[0, 0]] * (MAX_VERTICES + 1)),
    _clause(op="polygon", columns=["x", "y"], value=[[0, 0], [1, 10**400], [2, 0]]),
    _clause(op="polygon", columns=["x", "y"], value=[[0, 0], [1, None], [2, 0]]),
    _clause(op="polygon", columns=["x", "y"], value=[{"x": 0, "y": 0}] * 3),
    _clause(op="polygon", columns=["x", "y", "z"], value=TRIANGLE),
    _clause(op="polygon", columns="xy", value=TRIANGLE),
    _clause(op="polygon", column="x", value=TRIANGLE),
    _clause(op="eq", column="x", columns=["x", "y"], value=1),
    _clause(op="eq", column="x", value=1, code="__import__('os')"),
    _clause(op="eq", column="x", value=1, source=""),
    _clause(op="eq", column="x", value=1, source=7),
]


@pytest.mark.parametrize("payload", MALFORMED, ids=[f"payload{i:02d}" for i in range(len(MALFORMED))])
def test_state014_malformed_payloads_raise_a_readable_clause_error(payload: Any) -> None:
    with pytest.raises(ClauseError) as caught:
        parse_state(payload)
    text = str(caught.value)
    assert text.startswith("state")
    assert "\n" not in text
    assert "Value error" not in text
    assert "pydantic" not in text
    assert len(text) < 300


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("state", "state: Input should be a valid dictionary or instance of State"),
        ({"filter": "label == 3"}, "state.filter: Input should be a valid list"),
        ({"group_by": [1]}, "state.group_by[0]: Input should be a valid string"),
        (
            {"filter": [{"op": "eq", "column": "x", "value": 1}] * 201},
            "state.filter: List should have at most 200 items after validation, not 201",
        ),
        (_clause(op="range", column="x", value=[1, 0]), "state.filter[0]: a 'range' value must have low <= high"),
        (_clause(op="eq", column="x", value=10**400), "state.filter[0].value: numbers must be finite"),
        (
            _clause(op="polygon", columns=["x", "y"], value=[[0, 0], [1, 10**400], [2, 0]]),
            "state.filter[0]: every polygon point must be [x, y] with two finite numbers",
        ),
        (
            _clause(op="ids", value=list(range(MAX_IDS + 1))),
            "state.filter[0]: an 'ids' value may hold at most 100000 values, got 100001",
        ),
        (_clause(op="eq", column="x", value=1, code="x"), "state.filter[0].code: Extra inputs are not permitted"),
    ],
)
def test_state015_malformed_payload_messages(payload: Any, message: str) -> None:
    with pytest.raises(ClauseError) as caught:
        parse_state(payload)
    assert str(caught.value) == message
