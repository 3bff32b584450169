"""The filter language: a filter typed as text, read into the same clauses the components make.

>>> parse_filter("split == 'test' and confidence < 0.6", dataset)  # doctest: +SKIP
[Clause(source='filter-box:1', op='eq', column='split', value='test'), Clause(..., op='lt', ...)]

The language: comparisons ``== != < <= > >=`` (``≤ ≥`` too, and chained ``0.2 ≤ confidence ≤ 0.6``),
``in [..]``, ``not in [..]``, ``between a and b``, ``is null``, ``is not null``, ``contains 'text'``, ``and``, ``or``,
``not`` and parentheses; ``(label, prediction) in [(8, 1)]`` for cells of a confusion matrix. Values are numbers,
strings in single or double quotes (backslash escapes as in Python), ``true``/``false`` and dates (``2024-05-01``,
bare or quoted). A column name that is not a plain word is quoted with backticks or quotes, as
:func:`~symphony_dash.state.describe` writes it: ``'true label' == 3``. ``and`` binds tighter than ``or``, ``not``
tighter than both.

The text is read by a small recursive-descent parser into clauses, never evaluated: names and values are checked
against the dataset, and an error says where and what was expected (:class:`FilterSyntaxError`). :func:`to_text`
writes clauses back: ``parse_filter(to_text(clauses), ds, current=clauses)`` gives the same clauses (without
``current``, numbers come back rounded to the 6 digits the text shows).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl
from pydantic import ValidationError

from .dataset import Dataset
from .state import (
    KEYWORDS,
    MAX_PARTS,
    MAX_TEXT,
    PART_OPS,
    Clause,
    ClauseError,
    State,
    all_of,
    any_of,
    describe,
    literal,
    negate,
    quote_column,
)

__all__ = ["MAX_FILTER_TEXT", "FilterSyntaxError", "completions", "parse_filter", "to_text"]

# A filter longer than this is refused before it is read: a browser sends it.
MAX_FILTER_TEXT = 200_000
# How deep parentheses and 'not's may nest: recursion is bounded whatever is typed.
MAX_NESTING = 32

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<backtick>`[^`]*`)
  | (?P<open>['"`])
  | (?P<date>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)(?![\w.])
  | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.])
  | (?P<ellipsis>\.\.\.|…)
  | (?P<op>==|!=|<=|>=|<|>|≤|≥|=)
  | (?P<punct>[()\[\],])
  | (?P<name>[^\W\d]\w*)
    """,
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[\\'\"nrt0])")
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "0": "\0"}
_COMPARE = {"<": "lt", "<=": "le", "≤": "le", ">": "gt", ">=": "ge", "≥": "ge"}
_LESS = ("<", "<=", "≤")
_NUMERIC_KINDS = ("numeric", "datetime")
_TEXT_KINDS = ("categorical", "text", "image", "audio", "id")
_VALUE = "a value (a number, 'text', true, false or a date such as 2024-05-01)"
_OPERATORS = "an operator (==, !=, <, <=, >, >=, in, not in, between, is null, contains)"


class FilterSyntaxError(ClauseError):
    """A filter that cannot be read: the message says where (counting characters from 1) and what was expected.

    ``position`` is the offset of the offending text in the filter (``text[position:end]``), for marking it.
    """

    def __init__(self, message: str, position: int, end: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.end = max(end if end is not None else position + 1, position + 1)


@dataclass
class _Token:
    kind: str
    text: str
    start: int
    end: int
    value: Any = None

    def word(self) -> str | None:
        """The keyword this token is, lower-cased (``None`` for any other token)."""
        return self.text.lower() if self.kind == "name" and self.text.lower() in _WORDS else None


_WORDS = KEYWORDS | {"on", "instance", "instances"}


def _lex(text: str, lenient: bool = False) -> list[_Token]:
    """The tokens of ``text``; ``lenient`` ends them at the first unreadable text, with a "bad" token, not raising."""
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup in ("open", "ellipsis"):
            if lenient:
                kind = "open" if m is not None and m.lastgroup == "open" else "bad"
                tokens.append(_Token(kind, text[pos:], pos, len(text)))
                break
            if m is not None and m.lastgroup == "open":
                what = "name" if text[pos] == "`" else "string"
                raise FilterSyntaxError(
                    f"unterminated {what} at {pos + 1}: expected a closing {text[pos]}", pos, len(text)
                )
            if m is not None:
                raise FilterSyntaxError(
                    f"a shortened list ('...') at {pos + 1} cannot be typed: write every value", pos, m.end()
                )
            raise FilterSyntaxError(f"unexpected character {text[pos]!r} at {pos + 1}", pos)
        kind, end = m.lastgroup or "", m.end()
        if kind != "space":
            token = _Token(kind, m.group(), pos, end)
            if kind == "string":
                token.value = _unescape(token.text[1:-1])
            elif kind == "backtick":
                token.value = token.text[1:-1]
            tokens.append(token)
        pos = end
    return tokens


def _unescape(body: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group()[1:]
        return _SIMPLE_ESCAPES[code] if code in _SIMPLE_ESCAPES else chr(int(code[1:], 16))

    return _ESCAPE.sub(one, body)


# -- the syntax tree ------------------------------------------------------------------------------------------------


@dataclass
class _Node:
    kind: str  # "pred", "and", "or", "not", "lasso", "picked"
    start: int
    end: int
    items: list[_Node] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    grouped: bool = False  # written in parentheses


class _Parser:
    """Recursive descent over the tokens: or_expr := and_expr ('or' and_expr)*; and_expr := not_expr ('and'
    not_expr)*; not_expr := 'not' not_expr | atom; atom := '(' or_expr ')' | a predicate."""

    def __init__(self, text: str, dataset: Dataset) -> None:
        self.text = text
        self.ds = dataset
        self.tokens = _lex(text)
        self.i = 0
        self.depth = 0

    # -- tokens

    def peek(self, ahead: int = 0) -> _Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise self.fail("more of the filter")
        self.i += 1
        return token

    def fail(self, expected: str, problem: str = "", token: _Token | None = None) -> FilterSyntaxError:
        token = token if token is not None else self.peek()
        if token is None:
            pos = len(self.text)
            return FilterSyntaxError(f"unexpected end at {pos + 1}: expected {expected}", pos)
        what = problem or f"unexpected {token.text!r}"
        tail = f": expected {expected}" if expected else ""
        return FilterSyntaxError(f"{what} at {token.start + 1}{tail}", token.start, token.end)

    def at_word(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token is not None and token.word() in words

    def at_text(self, *texts: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token is not None and token.kind in ("op", "punct") and token.text in texts

    def expect_text(self, text: str, expected: str) -> _Token:
        if not self.at_text(text):
            raise self.fail(expected)
        return self.take()

    def expect_word(self, word: str, expected: str) -> _Token:
        if not self.at_word(word):
            raise self.fail(expected)
        return self.take()

    # -- grammar

    def parse(self) -> _Node:
        node = self.or_expr()
        if self.peek() is not None:
            raise self.fail("'and', 'or' or the end of the filter")
        return node

    def or_expr(self) -> _Node:
        items = [self.and_expr()]
        while self.at_word("or"):
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else _Node("or", items[0].start, items[-1].end, items)

    def and_expr(self) -> _Node:
        items = [self.not_expr()]
        while self.at_word("and"):
            self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else _Node("and", items[0].start, items[-1].end, items)

    def not_expr(self) -> _Node:
        if self.at_word("not"):
            start = self.take().start
            with self.nested():
                inner = self.not_expr()
            return _Node("not", start, inner.end, [inner])
        return self.atom()

    @contextmanager
    def nested(self) -> Iterator[None]:
        """Count the depth of parentheses and 'not's: a deeply nested text is refused rather than recursed into."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            opening = self.tokens[self.i - 1]
            raise self.fail("", f"more than {MAX_NESTING} nested parentheses or 'not's", opening)
        try:
            yield
        finally:
            self.depth -= 1

    def atom(self) -> _Node:
        token = self.peek()
        if token is None:
            raise self.fail("a column, 'not' or '('")
        if self.at_text("("):
            if self.peek(1) is not None and self.at_text(",", ahead=2):
                return self.pairs()
            start = self.take().start
            with self.nested():
                node = self.or_expr()
            end = self.expect_text(")", "')' or 'and', 'or'").end
            node.start, node.end, node.grouped = start, end, True
            return node
        if token.word() == "lasso" and self.at_word("on", ahead=1):
            return self.lasso()
        if token.kind == "number" and self.at_word("instance", "instances", ahead=1):
            self.take()
            unit = self.take()
            return _Node("picked", token.start, unit.end, fields={"count": token.text})
        if self._value_first(token):
            return self.value_first()
        return self.predicate()

    def _value_first(self, token: _Token) -> bool:
        if token.kind in ("number", "date") or token.word() in ("true", "false"):
            return True
        # A quoted text that is no column, compared with a column: a date bound of a chain, '2024-01-01' ≤ day.
        after = self.peek(2)
        return (
            token.kind == "string"
            and token.value not in self.ds.columns
            and self.at_text(*_COMPARE, "==", "!=", ahead=1)
            and after is not None
            and (after.text if after.kind == "name" else after.value) in self.ds.columns
        )

    def column(self) -> tuple[str, _Token]:
        token = self.peek()
        if token is None or token.kind not in ("name", "string", "backtick") or token.word() in KEYWORDS:
            raise self.fail("a column, such as " + self._some())
        self.take()
        name = token.text if token.kind == "name" else token.value
        if name not in self.ds.columns:
            raise FilterSyntaxError(
                f"unknown column {name!r} at {token.start + 1}: {self._near(name)}", token.start, token.end
            )
        return name, token

    def _near(self, name: str) -> str:
        columns = list(self.ds.columns)
        lower = {c.lower(): c for c in columns}
        close = [lower[name.lower()]] if name.lower() in lower else difflib.get_close_matches(name, columns, n=1)
        return f"did you mean {close[0]!r}?" if close else f"expected a column, such as {self._some()}"

    def _some(self) -> str:
        columns = [quote_column(c) for c in self.ds.columns]
        return ", ".join(columns[:6]) + (", ..." if len(columns) > 6 else "")

    def predicate(self) -> _Node:
        name, token = self.column()
        kind = self.ds.columns[name].kind
        start = token.start
        op = self.peek()
        if op is None:
            raise self.fail(_OPERATORS)
        if op.kind == "op":
            self.take()
            if op.text == "=":
                raise self.fail("", "'=' compares nothing; write '=='", op)
            value = self.value(name, "==" if op.text in ("==", "!=") else op.text, op)
            if op.text == "==":
                return self.pred(start, op="eq", column=name, value=value)
            if op.text == "!=":
                return self.pred(start, op="not_in", column=name, value=[value])
            return self.pred(start, op=_COMPARE[op.text], column=name, value=value)
        word = op.word()
        if word == "in":
            self.take()
            return self.pred(start, op="in", column=name, value=self.values(name))
        if word == "not" and self.at_word("in", ahead=1):
            self.take()
            self.take()
            return self.pred(start, op="not_in", column=name, value=self.values(name))
        if word == "between":
            self.take()
            self.ordered(name, op)
            low = self.value(name, "between", op)
            self.expect_word("and", "'and' (between low and high)")
            high_token = self.peek()
            high = self.value(name, "between", op)
            if _comparable(low, high) and low > high:
                raise self.fail("", f"the range is empty ({low!r} > {high!r})", high_token)
            return self.pred(start, op="range", column=name, value=[low, high])
        if word == "is":
            self.take()
            present = self.at_word("not")
            if present:
                self.take()
            self.expect_word("null", "'null' (is null, is not null)")
            return self.pred(start, op="is_null", column=name, value=not present)
        if word == "contains":
            self.take()
            if kind not in _TEXT_KINDS:
                raise self.fail("", f"'contains' needs a text column; {name} is {kind}", op)
            text = self.peek()
            if text is None or text.kind != "string":
                raise self.fail("'text' in quotes")
            self.take()
            if not 0 < len(text.value) <= MAX_TEXT:
                raise self.fail("", f"the text must have 1 to {MAX_TEXT} characters", text)
            return self.pred(start, op="contains", column=name, value=text.value)
        raise self.fail(_OPERATORS)

    def pred(self, start: int, **fields: Any) -> _Node:
        previous = self.tokens[self.i - 1]
        return _Node("pred", start, previous.end, fields=fields)

    def ordered(self, name: str, op: _Token) -> None:
        kind = self.ds.columns[name].kind
        if kind not in _NUMERIC_KINDS:
            raise self.fail("", f"{op.text!r} needs a numeric or date column; {name} is {kind}", op)

    def values(self, name: str) -> list[Any]:
        self.expect_text("[", "'[' (a list of values)")
        out: list[Any] = []
        while not self.at_text("]"):
            if out:
                self.expect_text(",", "',' or ']'")
            out.append(self.value(name, "in", None))
        self.take()
        return out

    def value(self, name: str, how: str, op: _Token | None) -> Any:
        """The next token as a value of column ``name``, checked against its type; ``how`` is the operator."""
        if how in _COMPARE and op is not None:
            self.ordered(name, op)
        token = self.peek()
        if token is None or token.kind not in ("number", "string", "date", "name"):
            raise self.fail(_VALUE)
        if token.kind == "name" and token.word() not in ("true", "false"):
            if token.word() == "null":
                raise self.fail("", "missing values are found with 'is null', not compared", token)
            raise self.fail(_VALUE, f"unexpected {token.text!r} (text goes in quotes: '{token.text}')", token)
        self.take()
        return _checked(self.ds, name, token, how == "==" or how == "in")

    def value_first(self) -> _Node:
        """``0.2 < confidence``, and the chain ``0.2 ≤ confidence ≤ 0.6`` (``all`` clauses write ranges so)."""
        first, first_op = self.take(), self.peek()
        if first_op is None or first_op.kind != "op" or first_op.text not in (*_COMPARE, "==", "!="):
            raise self.fail("a comparison (a value before a column: 0.2 ≤ confidence)")
        # The column decides how the value reads, so it is read first and the value after it.
        self.i += 1
        name, _ = self.column()
        after = self.i
        self.i -= 3
        value = self.value(name, first_op.text if first_op.text in _COMPARE else "==", first_op)
        self.i = after
        if first_op.text in ("==", "!="):
            op = "eq" if first_op.text == "==" else "not_in"
            return self.pred(first.start, op=op, column=name, value=value if op == "eq" else [value])
        # Mirrored: 'a < x' is 'x > a'.
        mirror = {"<": ">", "<=": ">=", "≤": ">=", ">": "<", ">=": "<=", "≥": "<="}[first_op.text]
        bound = self.pred(first.start, op=_COMPARE[mirror], column=name, value=value)
        second_op = self.peek()
        if second_op is None or second_op.kind != "op" or second_op.text not in _COMPARE:
            return bound
        if (second_op.text in _LESS) != (first_op.text in _LESS):
            raise self.fail("", "a chain goes one way (low < x < high, or high > x > low)", second_op)
        self.take()
        other_token = self.peek()
        other = self.value(name, second_op.text, second_op)
        other_bound = self.pred(first.start, op=_COMPARE[second_op.text], column=name, value=other)
        low_v, high_v = (value, other) if first_op.text in _LESS else (other, value)
        if _comparable(low_v, high_v) and low_v > high_v:
            raise self.fail("", f"the range is empty ({low_v!r} > {high_v!r})", other_token)
        if first_op.text in ("<=", "≤", ">=", "≥") and second_op.text in ("<=", "≤", ">=", "≥"):
            return self.pred(first.start, op="range", column=name, value=[low_v, high_v])
        return _Node("and", first.start, other_bound.end, [bound, other_bound])

    def pairs(self) -> _Node:
        start = self.take().start
        first, _ = self.column()
        self.expect_text(",", "','")
        second, _ = self.column()
        self.expect_text(")", "')'")
        self.expect_word("in", "'in' (a list of (a, b) pairs)")
        self.expect_text("[", "'['")
        out: list[list[Any]] = []
        while not self.at_text("]"):
            if out:
                self.expect_text(",", "',' or ']'")
            self.expect_text("(", "'(' (a pair: (a, b))")
            a = self.value(first, "in", None)
            self.expect_text(",", "','")
            b = self.value(second, "in", None)
            self.expect_text(")", "')'")
            out.append([a, b])
        end = self.take().end
        return _Node("pred", start, end, fields={"op": "pairs", "columns": (first, second), "value": out})

    def lasso(self) -> _Node:
        start = self.take().start
        self.take()
        self.expect_text("(", "'(' (lasso on (x, y))")
        x, _ = self.column()
        self.expect_text(",", "','")
        y, _ = self.column()
        end = self.expect_text(")", "')'").end
        return _Node("lasso", start, end, fields={"columns": (x, y)})


def _comparable(a: Any, b: Any) -> bool:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    return numbers or all(isinstance(v, str) for v in (a, b))


def _checked(ds: Dataset, name: str, token: _Token, equality: bool) -> Any:
    """The token's value, if it fits the column's type (and, for a category tested for equality, is one of them)."""
    info = ds.columns[name]
    dtype = ds.frame[name].dtype
    if token.kind == "number":
        value: Any = float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
        if abs(value) > 1.7e308:
            raise FilterSyntaxError(
                f"the number {token.text} at {token.start + 1} is too large", token.start, token.end
            )
    elif token.kind == "name":
        value = token.word() == "true"
    else:
        value = token.value if token.kind == "string" else token.text
    where = f"at {token.start + 1}"
    if info.kind == "embedding":
        raise FilterSyntaxError(f"{name} is an embedding {where}: it cannot be compared", token.start, token.end)
    if dtype == pl.Boolean:
        expected = "true or false" if not isinstance(value, bool) else ""
    elif dtype.is_numeric():
        expected = "a number" if isinstance(value, (bool, str)) else ""
    elif dtype.is_temporal():
        expected = "" if isinstance(value, str) and _is_date(value) else "a date such as 2024-05-01"
    else:
        expected = "" if token.kind == "string" else f"'text' in quotes: '{token.text}'"
    if expected:
        raise FilterSyntaxError(
            f"{token.text} does not fit {name} ({info.kind}) {where}: expected {expected}", token.start, token.end
        )
    if equality and info.kind == "categorical" and value not in (known := ds.categories(name)):
        raise FilterSyntaxError(
            f"{name} has no value {value!r} {where}: {_near_value(value, known)}", token.start, token.end
        )
    return value


def _near_value(value: Any, known: list[Any]) -> str:
    texts = {str(v): v for v in known}
    close = difflib.get_close_matches(str(value), list(texts), n=1)
    if close:
        return f"did you mean {texts[close[0]]!r}?"
    shown = ", ".join(repr(v) for v in known[:8])
    return f"its values are {shown}" + (", ..." if len(known) > 8 else "")


def _is_date(text: str) -> bool:
    try:
        (date if len(text) == 10 else datetime).fromisoformat(text)
    except ValueError:
        return False
    return True


# -- from the tree to clauses ---------------------------------------------------------------------------------------


def _flat(node: _Node, kind: str) -> list[_Node]:
    """The items of nested 'and's (or 'or's) in one list: a and (b and c) is a and b and c."""
    if node.kind != kind:
        return [node]
    return [leaf for item in node.items for leaf in _flat(item, kind)]


def _clause(node: _Node, source: str) -> Clause:
    """One clause of a node: a predicate, an 'any' of an 'or', a 'not', an 'all' of a parenthesized 'and'."""
    try:
        if node.kind == "pred":
            return Clause(source=source, **node.fields)
        if node.kind in ("lasso", "picked"):
            what = "a lasso" if node.kind == "lasso" else "picked instances"
            raise FilterSyntaxError(
                f"{what} at {node.start + 1} can only be a clause of its own, joined with 'and'", node.start, node.end
            )
        if node.kind == "or":
            groups = [[_clause(leaf, source) for leaf in _flat(item, "and")] for item in _flat(node, "or")]
            return any_of(groups, source=source)
        if node.kind == "not":
            return negate([_clause(leaf, source) for leaf in _flat(node.items[0], "and")], source=source)
        parts = [_clause(leaf, source) for leaf in _flat(node, "and")]
        if len(parts) <= MAX_PARTS and all(p.op in PART_OPS for p in parts):
            return all_of(parts, source=source)
        return any_of([parts], source=source)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise FilterSyntaxError(f"{reason} at {node.start + 1}", node.start, node.end) from None


def parse_filter(
    text: str, dataset: Dataset, *, current: Sequence[Clause] = (), source: str = "filter-box"
) -> list[Clause]:
    """The clauses of a filter typed as text, one per part joined by a top-level ``and``.

    A clause of ``current`` (the filter as it is) that the text repeats unchanged (the same predicate, or the same
    text as :func:`to_text` writes it) is returned as it is, with its source and every digit: the view that made it
    keeps it. That is also how ``lasso on (x, y)`` and ``3 instances`` are read, which
    name a drawn polygon and picked ids and cannot be typed. Every other clause gets the source ``f"{source}:{n}"``.
    Raises :class:`FilterSyntaxError` for text that cannot be read or does not fit the dataset.
    """
    if not isinstance(text, str):
        raise FilterSyntaxError("a filter is text", 0)
    if len(text) > MAX_FILTER_TEXT:
        raise FilterSyntaxError(f"the filter is longer than {MAX_FILTER_TEXT} characters at 1", 0)
    if not text.strip():
        return []  # no filter: every row
    conjuncts = _conjuncts(_Parser(text, dataset).parse())
    unused = list(current)
    out: list[Clause | None] = []
    for node in conjuncts:
        found = _current_match(node, unused)
        if found is None and node.kind in ("lasso", "picked"):
            out.append(_untyped(node))  # raises
        if found is None:
            made = _clause(node, "?")
            text = to_text([made])
            found = next((c for c in unused if c.key() == made.key() or to_text([c]) == text), None)
            if found is None:
                out.append(made)
                continue
        unused.remove(found)
        out.append(found)
    clauses = _sourced(out, source)
    try:
        State(filter=clauses)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise FilterSyntaxError(f"too many clauses joined by 'and' at 1: {reason}", 0) from None
    return clauses


def _conjuncts(node: _Node) -> list[_Node]:
    """The parts of the top-level 'and': each is one clause (a parenthesized 'and' stays one, as a slice)."""
    if node.kind != "and" or node.grouped:
        return [node]
    return [leaf for item in node.items for leaf in _conjuncts(item)]


def _current_match(node: _Node, unused: list[Clause]) -> Clause | None:
    if node.kind == "lasso":
        columns = node.fields["columns"]
        return next((c for c in unused if c.op == "polygon" and c.columns == columns), None)
    if node.kind == "picked":
        count = node.fields["count"]
        return next((c for c in unused if c.op == "ids" and str(len(c.value)) == count), None)
    return None


def _untyped(node: _Node) -> Clause:
    if node.kind == "lasso":
        x, y = node.fields["columns"]
        hint = f"draw it on a scatter of ({x}, {y})"
        raise FilterSyntaxError(f"a lasso cannot be typed at {node.start + 1}: {hint}", node.start, node.end)
    raise FilterSyntaxError(
        f"picked instances cannot be typed at {node.start + 1}: pick them in a view", node.start, node.end
    )


def _sourced(clauses: list[Clause | None], source: str) -> list[Clause]:
    """The new clauses (source '?') numbered ``source:1``, ``source:2``..., skipping the numbers kept ones hold."""
    taken = {c.source for c in clauses if c is not None and c.source != "?"}
    numbers = (f"{source}:{n}" for n in range(1, 10_000) if f"{source}:{n}" not in taken)
    return [c.model_copy(update={"source": next(numbers)}) if c.source == "?" else c for c in clauses if c is not None]


def to_text(clauses: Sequence[Clause]) -> str:
    """The filter as one text, every value written out: what the filter box shows, and reads back to the same clauses.

    >>> to_text([isin("label", [3, 8]), any_of([eq("split", "test"), compare("x", "<", 0.5)])])  # doctest: +SKIP
    "label in [3, 8] and (split == 'test' or x < 0.5)"
    """
    return " and ".join(f"({t})" if _joins(c) else t for c in clauses for t in [describe(c, full=True)])


def _joins(c: Clause) -> bool:
    """Whether the clause's text joins clauses with 'and' or 'or' at its top: then it goes in parentheses."""
    if c.op == "all":
        return len(c.value) > 1
    return c.op == "any" and (len(c.value) > 1 or len(c.value[0]) > 1)


# -- autocomplete ---------------------------------------------------------------------------------------------------


def completions(text: str, dataset: Dataset, limit: int = 12) -> list[str]:
    """Whole texts that complete the last word of ``text``: a column name where a column goes, an operator after a
    column, a category's values after ``==``, ``in [`` or ``,``, and ``and``/``or`` after a predicate.

    Each is ``text`` with its last, unfinished word completed: what an html datalist offers under the box.
    """
    if not isinstance(text, str) or len(text) > MAX_FILTER_TEXT:
        return []
    tokens = _lex(text, lenient=True)
    if tokens and tokens[-1].kind == "bad":
        return []
    partial = ""
    # A word being typed (or an open quote) is completed; a finished string or a closing bracket is not.
    if tokens and tokens[-1].end == len(text) and tokens[-1].kind in ("name", "open", "number"):
        partial = tokens.pop().text
    prefix = text[: len(text) - len(partial)]
    if prefix and not prefix[-1].isspace() and prefix[-1] not in "([":
        prefix += " "
    options = _options(tokens, dataset)
    # A quoted name completes from its first letters too: "tr" offers 'true label'.
    low = partial.lower().lstrip("'\"`")
    return [prefix + o for o in options if o.lower().lstrip("'\"`").startswith(low) and o.lower() != partial.lower()][
        :limit
    ]


def _options(tokens: list[_Token], ds: Dataset) -> list[str]:
    last = tokens[-1] if tokens else None
    columns = [quote_column(c) + " " for c in ds.columns]
    if last is None or last.word() in ("and", "or", "not") or (last.kind == "punct" and last.text == "("):
        return columns
    name = last.text if last.kind == "name" else last.value
    if last.kind in ("name", "string", "backtick") and last.word() is None and name in ds.columns:
        kind = ds.columns[name].kind
        before = tokens[-2] if len(tokens) > 1 else None
        if before is None or before.word() in ("and", "or", "not") or (before.kind == "punct" and before.text == "("):
            ops = ["== ", "!= ", "in [", "not in [", "is null", "is not null"]
            if kind in _NUMERIC_KINDS:
                ops += ["< ", "<= ", "> ", ">= ", "between "]
            if kind in _TEXT_KINDS:
                ops.append("contains '")
            return ops
    column = _column_before(tokens, ds)
    if column is not None and ds.columns[column].kind == "categorical" and last.text in ("==", "!=", "[", ","):
        return [literal(v) for v in ds.categories(column)[:200]]
    if last.kind in ("number", "string", "date") or last.text in ("]", ")") or last.word() in ("null", "true", "false"):
        return ["and ", "or "]
    return []


def _column_before(tokens: list[_Token], ds: Dataset) -> str | None:
    """The column of the predicate being typed: the name just before its operator, scanning back to 'and'/'or'."""
    for j in range(len(tokens) - 2, -1, -1):
        token, after = tokens[j], tokens[j + 1]
        if token.word() in ("and", "or"):
            return None
        name = token.text if token.kind == "name" and token.word() is None else token.value
        operator = after.kind == "op" or after.word() in ("in", "not", "between", "is", "contains")
        if token.kind in ("name", "string", "backtick") and isinstance(name, str) and operator:
            return name if name in ds.columns else None
    return None
