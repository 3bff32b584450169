"""The shared state: filter clauses, the selection and the group-by columns.

A clause is a plain JSON-able predicate ``{source, op, column | columns, value}`` made by the named constructors below
(``isin("label", [3, 8])``, ``polygon("x", "y", points)``, ``pairs(("label", "prediction"), [(8, 1)])``,
``all_of([eq("label", 8), between("ink", 20, 30)])``, ``compare("confidence", "<", 0.6)``,
``any_of([eq("label", 8), [eq("split", "test"), is_null("x")]])``, ``negate(eq("label", 8))``). The
state is small JSON: a lasso is a polygon, not ids. Every clause remembers the component that made it, so a view can
leave its own clause out (crossfiltering). :func:`describe` writes every clause in the filter language of
:mod:`symphony_dash.filter_text`, which reads it back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = [
    "Clause",
    "ClauseError",
    "State",
    "all_of",
    "any_of",
    "between",
    "compare",
    "contains",
    "describe",
    "eq",
    "ids",
    "is_null",
    "isin",
    "literal",
    "negate",
    "not_in",
    "pairs",
    "parse_state",
    "polygon",
    "quote_column",
]

Op = Literal[
    "eq",
    "in",
    "not_in",
    "range",
    "lt",
    "le",
    "gt",
    "ge",
    "is_null",
    "contains",
    "polygon",
    "ids",
    "pairs",
    "all",
    "any",
    "not",
]
Scalar = str | int | float | bool

# Bounds that keep a state small and a hostile request cheap to reject.
MAX_VALUES = 10_000
MAX_IDS = 100_000
MAX_VERTICES = 5_000
MAX_TEXT = 1_000
MAX_PARTS = 8
# The ops an 'all' clause may combine: one column each, so the parts need no nesting.
PART_OPS = ("eq", "in", "range", "is_null")
# What 'any' and 'not' may combine: every typed predicate (a lasso and picked ids are drawn, never typed).
COMBINED_OPS = tuple(op for op in get_args(Op) if op not in ("polygon", "ids"))
# Bounds of one 'any' or 'not' clause, which a browser may send: how deep it nests and how many clauses it holds.
MAX_DEPTH = 4
MAX_NODES = 64
COMPARISONS = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


class ClauseError(ValueError):
    """A clause that cannot be applied: the message names the clause's source, the field and the rule."""


class Clause(BaseModel):
    """One predicate of the filter, or the selection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(default="python", min_length=1, max_length=200)
    op: Op
    column: str | None = Field(default=None, max_length=500)
    columns: tuple[str, str] | None = None
    value: Any = None

    @field_validator("value")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not _is_finite(value):
            raise ValueError("numbers must be finite")
        return value

    @model_validator(mode="after")
    def _shape(self) -> Clause:
        _check_shape(self)
        return self

    def key(self) -> str:
        """A stable text key of what the clause selects (its source left out), for caching masks."""
        return self.model_dump_json(exclude={"source"})

    def parts(self) -> list[Clause]:
        """The clauses an ``all`` or ``not`` clause combines (the clause itself for any other op)."""
        if self.op not in ("all", "not"):
            return [self]
        return [Clause(source=self.source, **part) for part in self.value]

    def groups(self) -> list[list[Clause]]:
        """The groups of an ``any`` clause: a row passes when it passes every clause of one group."""
        if self.op != "any":
            return [self.parts()]
        return [[Clause(source=self.source, **part) for part in group] for group in self.value]


def _is_finite(v: int | float) -> bool:
    # A whole number too large for a double is as unusable as infinity, and math.isfinite raises on it.
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def _is_scalar(v: Any) -> bool:
    return isinstance(v, str) or (isinstance(v, (int, float)) and _is_finite(v))


def _scalars(value: Any, limit: int, what: str) -> None:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list of values")
    if len(value) > limit:
        raise ValueError(f"{what} may hold at most {limit} values, got {len(value)}")
    if not all(_is_scalar(v) for v in value):
        raise ValueError(f"{what} must hold only strings, numbers or booleans")


def _check_shape(c: Clause) -> None:
    """The rules of each op that need no schema; column types are checked by the engine."""
    if c.op == "polygon":
        if c.columns is None or c.column is not None:
            raise ValueError("a polygon clause names two columns in 'columns' and no 'column'")
        pts = c.value
        if not isinstance(pts, list) or not 3 <= len(pts) <= MAX_VERTICES:
            raise ValueError(f"a polygon needs between 3 and {MAX_VERTICES} [x, y] points")
        for p in pts:
            if not (isinstance(p, (list, tuple)) and len(p) == 2 and all(_is_number(v) for v in p)):
                raise ValueError("every polygon point must be [x, y] with two finite numbers")
        return
    if c.op == "pairs":
        if c.columns is None or c.column is not None:
            raise ValueError("a 'pairs' clause names two columns in 'columns' and no 'column'")
        if not isinstance(c.value, list) or len(c.value) > MAX_VALUES:
            raise ValueError(f"a 'pairs' value must be a list of at most {MAX_VALUES} [a, b] pairs")
        for p in c.value:
            if not (isinstance(p, (list, tuple)) and len(p) == 2 and all(_is_scalar(v) for v in p)):
                raise ValueError("every pair must be [a, b] with two strings, numbers or booleans")
        return
    if c.columns is not None:
        raise ValueError(f"'columns' is only for polygon and pairs clauses, not '{c.op}'")
    if c.op == "all":
        _check_parts(c)
        return
    if c.op in ("any", "not"):
        _check_combined(c)
        return
    if c.op != "ids" and not c.column:
        raise ValueError(f"{_an(c.op)} clause needs a 'column'")
    if c.op == "eq" and not _is_scalar(c.value):
        raise ValueError("an 'eq' value must be one string, number or boolean")
    if c.op in ("in", "not_in"):
        _scalars(c.value, MAX_VALUES, f"{_an(c.op)} value")
    if c.op == "ids":
        _scalars(c.value, MAX_IDS, "an 'ids' value")
    if c.op == "range":
        v = c.value
        if not (isinstance(v, list) and len(v) == 2 and all(_is_number(x) or isinstance(x, str) for x in v)):
            raise ValueError("a 'range' value must be [low, high] with numbers or ISO dates")
        if (all(_is_number(x) for x in v) or all(isinstance(x, str) for x in v)) and v[0] > v[1]:
            raise ValueError("a 'range' value must have low <= high")
    if c.op in ("lt", "le", "gt", "ge") and not (_is_number(c.value) or isinstance(c.value, str)):
        raise ValueError(f"{_an(c.op)} value must be one number or ISO date")
    if c.op == "is_null" and not (c.value is None or isinstance(c.value, bool)):
        raise ValueError("an 'is_null' value must be true (missing) or false (present)")
    if c.op == "contains" and not (isinstance(c.value, str) and 0 < len(c.value) <= MAX_TEXT):
        raise ValueError(f"a 'contains' value must be text of 1 to {MAX_TEXT} characters")


def _check_parts(c: Clause) -> None:
    """An ``all`` value is 1 to MAX_PARTS simple clauses ``{op, column, value}``, each valid on its own."""
    if c.column is not None:
        raise ValueError("an 'all' clause names its columns in its parts, not in 'column'")
    if not isinstance(c.value, list) or not 1 <= len(c.value) <= MAX_PARTS:
        raise ValueError(f"an 'all' value must be a list of 1 to {MAX_PARTS} clauses")
    for part in c.value:
        if not isinstance(part, dict) or not set(part) <= {"op", "column", "value"}:
            raise ValueError("every part of an 'all' clause must be {op, column, value}")
        if part.get("op") not in PART_OPS:
            raise ValueError("the parts of an 'all' clause may only be 'eq', 'in', 'range' or 'is_null' clauses")
        try:
            Clause(**part)
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise ValueError(f"a part of an 'all' clause: {reason}") from None


def _check_combined(c: Clause) -> None:
    """An ``any`` value is groups of parts (a row passes every part of one group), a ``not`` value one group (a row
    fails it); a part is ``{op, column | columns, value}``, nested ``any`` and ``not`` parts included, within bounds."""
    if c.column is not None:
        raise ValueError(f"{_an(c.op)} clause names its columns in its parts, not in 'column'")
    shape = f"1 to {MAX_PARTS} clauses"
    if c.op == "any":
        shape = f"1 to {MAX_PARTS} lists of {shape}"
    if not _shaped(c.op, c.value):
        raise ValueError(f"{_an(c.op)} value must be a list of {shape}")
    _count_nodes(c.op, c.value, 1, [0])
    for group in c.value if c.op == "any" else [c.value]:
        for part in group:
            if not isinstance(part, dict) or not set(part) <= {"op", "column", "columns", "value"}:
                raise ValueError(f"every part of {_an(c.op)} clause must be {{op, column | columns, value}}")
            if part.get("op") not in COMBINED_OPS:
                raise ValueError(f"{_an(c.op)} clause cannot combine {part.get('op')!r} clauses (a lasso or ids)")
            try:
                Clause(**part)
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
                raise ValueError(f"a part of {_an(c.op)} clause: {reason}") from None


def _shaped(op: str, value: Any) -> bool:
    """Whether an ``any`` value is short lists of dicts, a ``not`` value one such list."""
    return _group_shaped(value) if op == "not" else _listed(value) and all(map(_group_shaped, value))


def _listed(value: Any) -> bool:
    return isinstance(value, list) and 1 <= len(value) <= MAX_PARTS


def _group_shaped(value: Any) -> bool:
    return _listed(value) and all(isinstance(part, dict) for part in value)


def _count_nodes(op: str, value: Any, depth: int, seen: list[int]) -> None:
    """Refuse a combination nested too deep or holding too many clauses, before validating its parts one by one.

    Every list here is already known to be short, so the walk stops early however a hostile value is shaped.
    """
    if depth > MAX_DEPTH:
        raise ValueError(f"'any' and 'not' clauses may nest at most {MAX_DEPTH} deep")
    for group in value if op == "any" else [value]:
        for part in group:
            seen[0] += 1
            if seen[0] > MAX_NODES:
                raise ValueError(f"an 'any' or 'not' clause may hold at most {MAX_NODES} clauses")
            inner, nested = part.get("op"), part.get("value")
            if inner in ("any", "not") and _shaped(inner, nested):
                _count_nodes(inner, nested, depth + 1, seen)


def _an(op: str) -> str:
    """``an 'eq'``, ``a 'not_in'``: messages are read by people."""
    return f"{'an' if op[0] in 'aeiou' else 'a'} '{op}'"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and _is_finite(v)


def eq(column: str, value: Scalar, source: str = "python") -> Clause:
    """Rows whose ``column`` equals ``value``."""
    return Clause(source=source, op="eq", column=column, value=value)


def isin(column: str, values: list[Scalar], source: str = "python") -> Clause:
    """Rows whose ``column`` is one of ``values``."""
    return Clause(source=source, op="in", column=column, value=list(values))


def not_in(column: str, values: list[Scalar], source: str = "python") -> Clause:
    """Rows whose ``column`` is none of ``values`` (missing values are kept)."""
    return Clause(source=source, op="not_in", column=column, value=list(values))


def between(column: str, low: float | str, high: float | str, source: str = "python") -> Clause:
    """Rows with ``low <= column <= high``."""
    return Clause(source=source, op="range", column=column, value=[low, high])


def is_null(column: str, missing: bool = True, source: str = "python") -> Clause:
    """Rows where ``column`` is missing (or, with ``missing=False``, present)."""
    return Clause(source=source, op="is_null", column=column, value=missing)


def contains(column: str, text: str, source: str = "python") -> Clause:
    """Rows whose ``column`` contains ``text`` (case-insensitive, literal: never a pattern)."""
    return Clause(source=source, op="contains", column=column, value=text)


def polygon(x: str, y: str, points: list[tuple[float, float]], source: str = "python") -> Clause:
    """Rows whose point ``(x, y)`` lies inside the polygon (a lasso or a box)."""
    return Clause(source=source, op="polygon", columns=(x, y), value=[[float(a), float(b)] for a, b in points])


def pairs(columns: tuple[str, str], values: list[tuple[Scalar, Scalar]], source: str = "python") -> Clause:
    """Rows whose ``(columns[0], columns[1])`` is one of the pairs ``values``: cells of a confusion matrix.

    >>> describe(pairs(("label", "prediction"), [(8, 1), (3, 5)]))
    '(label, prediction) in [(8, 1), (3, 5)]'
    """
    return Clause(source=source, op="pairs", columns=tuple(columns), value=[[a, b] for a, b in values])


def all_of(clauses: list[Clause], source: str = "python") -> Clause:
    """Rows that pass every one of ``clauses`` (``eq``, ``in``, ``range`` or ``is_null`` clauses): one clause, so
    a component can filter by a combination, such as a slice of the data.

    >>> describe(all_of([eq("label", 8), between("ink", 20, 30)]))
    'label == 8 and 20 ≤ ink ≤ 30'
    """
    parts = [{"op": c.op, "column": c.column, "value": c.value} for c in clauses]
    return Clause(source=source, op="all", value=parts)


def compare(column: str, op: Literal["<", "<=", ">", ">="], value: float | str, source: str = "python") -> Clause:
    """Rows whose ``column`` compares so with ``value`` (a number, or an ISO date for a date column).

    >>> describe(compare("confidence", "<", 0.6))
    'confidence < 0.6'
    """
    if op not in COMPARISONS:
        raise ClauseError(f"compare: {op!r} is not a comparison; use one of {', '.join(COMPARISONS)}")
    return Clause(source=source, op=COMPARISONS[op], column=column, value=value)


def any_of(alternatives: Sequence[Clause | Sequence[Clause]], source: str = "python") -> Clause:
    """Rows that pass at least one of ``alternatives``; an alternative that is a list of clauses needs them all.

    >>> describe(any_of([eq("label", 8), [eq("split", "test"), compare("confidence", "<", 0.5)]]))
    "label == 8 or (split == 'test' and confidence < 0.5)"
    """
    groups = [[alt] if isinstance(alt, Clause) else list(alt) for alt in alternatives]
    return Clause(source=source, op="any", value=[[_part(c) for c in group] for group in groups])


def negate(clauses: Clause | Sequence[Clause], source: str = "python") -> Clause:
    """Rows that do not pass ``clauses`` (all of them, when several), missing values included.

    >>> describe(negate([eq("label", 8), eq("split", "test")]))
    "not (label == 8 and split == 'test')"
    """
    parts = [clauses] if isinstance(clauses, Clause) else list(clauses)
    return Clause(source=source, op="not", value=[_part(c) for c in parts])


def _part(c: Clause) -> dict[str, Any]:
    """A clause as a part of a combination: its predicate without its source."""
    part: dict[str, Any] = {"op": c.op, "value": c.value}
    if c.column is not None:
        part["column"] = c.column
    if c.columns is not None:
        part["columns"] = list(c.columns)
    return part


def ids(values: list[Scalar], source: str = "python") -> Clause:
    """Rows whose id is one of ``values``."""
    return Clause(source=source, op="ids", value=list(values))


# Words of the filter language: a column named so is quoted, or it would read as the word.
KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "between", "contains", "true", "false", "lasso"})
_SYMBOLS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
# Significant digits of a number in a clause's full text: enough to edit, few enough to read.
FULL_DIGITS = 6


def _fmt(v: Any, full: bool = False) -> str:
    if isinstance(v, float):
        # The shortest text of the number rounded to FULL_DIGITS: 0.6542250785389218, a brush's edge, is 0.654225.
        return repr(float(f"{v:.{FULL_DIGITS}g}")) if full else f"{v:.4g}"
    if isinstance(v, str):
        return repr(v)
    return str(v)


def literal(value: Any) -> str:
    """A value as the filter language writes it: ``3``, ``0.25``, ``'test'``, ``True``."""
    return _fmt(value, full=True)


def _fmt_list(values: list[Any], full: bool = False, most: int = 4) -> str:
    if full:
        return ", ".join(_fmt(v, full) for v in values)
    shown = ", ".join(_fmt(v) for v in values[:most])
    return shown + (f", ... ({len(values)} values)" if len(values) > most else "")


def quote_column(column: str) -> str:
    """A column name as the filter language reads it: bare when it is a plain name, else quoted (``'true label'``)."""
    return column if column.isidentifier() and column.lower() not in KEYWORDS else repr(column)


def describe(c: Clause, *, full: bool = False) -> str:
    """The clause in the filter language (:mod:`symphony_dash.filter_text` reads it back), for its chip in the toolbar.

    A chip shortens numbers to 4 digits and lists to 4 values; ``full`` writes every value, numbers to 6
    significant digits, for the filter box: the text reads back to the clause (the box keeps a clause whose text is
    left as it is, so no digit is lost). Two clauses cannot be typed, and read as what they are: a polygon as
    ``lasso on (x, y)`` and picked instances (``ids``) as ``3 instances``; the filter box keeps them when their text
    is left as it is.
    """
    col = quote_column(c.column) if c.column is not None else ""
    match c.op:
        case "eq":
            return f"{col} == {_fmt(c.value, full)}"
        case "in":
            return f"{col} in [{_fmt_list(c.value, full)}]"
        case "not_in":
            return f"{col} not in [{_fmt_list(c.value, full)}]"
        case "range":
            return f"{col} between {_fmt(c.value[0], full)} and {_fmt(c.value[1], full)}"
        case "lt" | "le" | "gt" | "ge":
            return f"{col} {_SYMBOLS[c.op]} {_fmt(c.value, full)}"
        case "is_null":
            return f"{col} is null" if c.value in (None, True) else f"{col} is not null"
        case "contains":
            return f"{col} contains {_fmt(c.value, full)}"
        case "polygon":
            return f"lasso on ({quote_column(c.columns[0])}, {quote_column(c.columns[1])})"
        case "ids":
            n = len(c.value)
            return f"{n} instance{'s' if n != 1 else ''}"
        case "pairs":
            most = len(c.value) if full else 4
            shown = ", ".join(f"({_fmt(a, full)}, {_fmt(b, full)})" for a, b in c.value[:most])
            more = f", ... ({len(c.value)} pairs)" if len(c.value) > most else ""
            return f"({quote_column(c.columns[0])}, {quote_column(c.columns[1])}) in [{shown}{more}]"
        case "all":
            # A range reads "20 ≤ ink ≤ 30" here: "between 20 and 30" would blur with the "and" joining the parts.
            return " and ".join(
                f"{_fmt(p.value[0], full)} ≤ {quote_column(p.column)} ≤ {_fmt(p.value[1], full)}"  # type: ignore[arg-type]
                if p.op == "range"
                else describe(p, full=full)
                for p in c.parts()
            )
        case "any":
            groups = c.groups()
            texts = [" and ".join(_nested(p, full) for p in group) for group in groups]
            if len(groups) == 1:
                return texts[0]
            return " or ".join(f"({t})" if len(g) > 1 else t for t, g in zip(texts, groups, strict=True))
        case "not":
            parts = c.parts()
            inner = describe(parts[0], full=full) if len(parts) == 1 else " and ".join(_nested(p, full) for p in parts)
            return f"not ({inner})"
    raise AssertionError(c.op)


def _nested(c: Clause, full: bool) -> str:
    """A clause inside a combination, in parentheses when its own text joins clauses with 'and' or 'or'."""
    text = describe(c, full=full)
    return f"({text})" if c.op == "any" or (c.op == "all" and len(c.value) > 1) else text


class State(BaseModel):
    """What every component renders from: the filter, the selection and the group-by columns of one layout."""

    model_config = ConfigDict(extra="ignore")

    layout: str = ""
    filter: list[Clause] = Field(default_factory=list, max_length=200)
    selection: Clause | None = None
    group_by: list[str] = Field(default_factory=list, max_length=10)

    def filter_for(self, component_id: str | None) -> list[Clause]:
        """The crossfilter rule: a component is filtered by every clause but its own."""
        return [c for c in self.filter if c.source != component_id]

    def own_clause(self, component_id: str) -> Clause | None:
        """The component's own filter clause, to draw its brush or highlighted bars."""
        return next((c for c in self.filter if c.source == component_id), None)


def json_path(loc: tuple[int | str, ...]) -> str:
    """``('pages', 0, 'components', 2)`` as ``pages[0].components[2]``: how people write a place in JSON."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_state(data: Any) -> State:
    """Validate a state sent by a browser; a malformed one raises :class:`ClauseError` with a readable message."""
    try:
        return State.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = json_path(("state", *first["loc"]))
        raise ClauseError(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None
