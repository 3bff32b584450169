"""The engine's view requests over a table in another engine (Spark, DuckDB, a warehouse), through Ibis.

``IbisEngine(IbisDataset(table)).where(clauses)`` gives an :class:`IbisQuery` with the methods and return types of
:class:`symphony_dash.engine.Query`: components that only ask a query for views work unchanged. Each request is one
aggregate query that returns what the view shows (counts per bin or level, a page of rows), never the table.

Clauses become Ibis expressions: a value from a browser is an Ibis literal of the column's type (Ibis renders and
escapes it; this module never writes SQL text), and every clause is checked against the schema first, with the same
rules and messages as the polars engine. A lasso is the even-odd rule written as an Ibis expression (see
:func:`_polygon`), so it combines with the other clauses inside the backend.

What needs the rows in this process (a row mask, cached codes, a whole filtered table) raises :class:`InMemoryOnly`,
a :class:`DatasetError`: a component that needs it shows that message in its own box.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .dataset import ColumnInfo, Dataset, DatasetError, Kind, infer_kind, roles_and_kinds, with_media_roles
from .engine import MAX_LEVELS, _check_against_schema, _literal
from .state import Clause, ClauseError

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["MAX_FRAME_ROWS", "IbisDataset", "IbisEngine", "IbisQuery", "IbisSource", "InMemoryOnly", "open_table"]

# The most rows ``frame`` fetches from the backend: a custom view over more asks for aggregates instead.
MAX_FRAME_ROWS = 100_000
_INT64 = (-(2**63), 2**63 - 1)
# The most horizontal bands a lasso is cut into (see _polygon): a row is tested against the edges of its band only.
LASSO_BANDS = 64
_COMPARE = {"lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__"}


class IbisSource(BaseModel):
    """A layout's table in another engine: ``{"url": "duckdb:///w.duckdb", "table": "predictions"}``.

    The connection is a URL that ``ibis.connect`` reads (``url``), the name of an environment variable holding one
    (``url_env``: credentials stay out of the layout file), or ``"backend": "pyspark"``: the Spark session of this
    process (``SparkSession.builder.getOrCreate()``, configured as Spark is, by ``spark-defaults.conf`` or
    ``PYSPARK_SUBMIT_ARGS``). ``table`` is ``name`` or ``database.name``.
    """

    model_config = ConfigDict(extra="forbid")

    table: str = Field(min_length=1, max_length=500)
    url: str | None = Field(default=None, min_length=1)
    url_env: str | None = Field(default=None, min_length=1)
    backend: str | None = None

    @model_validator(mode="after")
    def _one_connection(self) -> IbisSource:
        given = [name for name in ("url", "url_env", "backend") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give 'url', 'url_env' or 'backend' (one of them) to say where the table is")
        if self.backend is not None and self.backend not in BACKENDS:
            raise ValueError(f"{self.backend!r} is not a backend; use {', '.join(BACKENDS)}, or a 'url'")
        return self


# The backends whose connection runs queries from several threads at once.
CONCURRENT = ("pyspark",)
# The backends named without a URL: a Spark session is configured by Spark itself, not by a URL.
BACKENDS = ("pyspark",)


def open_table(source: IbisSource) -> ir.Table:
    """Connect and find the table, or a :class:`DatasetError` saying what is missing."""
    import ibis

    url = source.url
    if source.url_env is not None:
        url = os.environ.get(source.url_env)
        if not url:
            raise DatasetError(f"ibis.url_env: the environment variable {source.url_env!r} is not set")
    try:
        if url is None:
            from pyspark.sql import SparkSession

            connection = ibis.pyspark.connect(SparkSession.builder.getOrCreate())
        else:
            connection = ibis.connect(url)
    except ImportError as exc:
        raise DatasetError(f"ibis: a backend is not installed ({exc}); pip install 'symphony_dash[spark]'") from None
    except Exception as exc:  # a backend's own error: a refused connection, a bad URL
        reason = str(exc).replace(url, "<url>") if url else str(exc)  # the URL may hold a password
        raise DatasetError(f"ibis: cannot connect: {type(exc).__name__}: {reason[:300]}") from None
    database, _, name = source.table.rpartition(".")
    try:
        return connection.table(name, database=database or None)
    except Exception as exc:
        raise DatasetError(f"ibis.table: no table {source.table!r} ({type(exc).__name__}: {exc})") from None


class InMemoryOnly(DatasetError):  # noqa: N818 - reads as what it says in a component's error card
    """A view that needs the rows in this process (the polars engine), asked of a table in another engine."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} needs the in-memory (polars) engine; this layout's data is a table in another engine (Ibis). "
            "Use a layout whose data is a file, or a view that asks for counts (histogram, table, summary ...)."
        )


class _SchemaOnly:
    """Stands for an Ibis dataset's ``frame``: its schema is known here, its rows stay in the backend."""

    def __init__(self, schema: pl.Schema, height: int) -> None:
        self.schema = schema
        self.columns = list(schema)
        self.height = height

    def __getitem__(self, key: Any) -> Any:
        raise InMemoryOnly("reading a column of the table")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # what copy, pickle and hasattr ask: not the rows
        raise InMemoryOnly(f"the table's {name!r}")


class IbisDataset(Dataset):
    """A table in another engine as a :class:`Dataset`: the schema, kinds and roles are read from the backend once.

    The table is taken as it is when loaded (its row count and categories are cached): point it at a snapshot or a
    table that does not change while it is served. It needs an id column (a warehouse table has no row numbers).
    """

    def __init__(
        self,
        table: ir.Table,
        *,
        id_column: str | None = None,
        roles: dict[str, str] | None = None,
        kinds: dict[str, Kind] | None = None,
        name: str = "data",
        media_root: str | Path | None = None,
    ) -> None:
        self.table = table
        # One query at a time on a connection (a DuckDB or DB-API connection is not safe to share between threads);
        # a Spark session runs the jobs of several threads at once.
        self._one_at_a_time = None if table._find_backend(use_default=True).name in CONCURRENT else threading.Lock()
        self.name = name
        self.media_root = Path(media_root) if media_root is not None else None
        schema = pl.DataFrame(table.schema().to_pyarrow().empty_table()).schema
        # An empty frame of the same schema: the polars engine's schema checks and the role rules read it.
        self.empty = pl.DataFrame(schema=schema)
        self.id_column = id_column or "id"
        if self.id_column not in schema:
            raise DatasetError(
                f"id_column: the table has no column {self.id_column!r}; an Ibis table needs an id column "
                f"(set data.id_column); the columns are: {', '.join(schema)}"
            )
        self.roles, kinds = roles_and_kinds(self.empty, roles, kinds)
        texts = [c for c, dtype in schema.items() if dtype == pl.String and c not in kinds and c != self.id_column]
        facts = self._facts(texts)
        self._height = facts["rows"]
        self.columns = {
            c: ColumnInfo(c, kinds.get(c) or _kind(dtype, c == self.id_column, c, facts), str(dtype))  # type: ignore[arg-type]
            for c, dtype in schema.items()
        }
        with_media_roles(self.columns, self.roles)
        self._categories: dict[str, list[Any]] = {}

    def _facts(self, texts: list[str]) -> dict[str, Any]:
        """The row count, the id column's checks and each text column's distinct count, in one query; and a few
        values of each text column, to tell image and audio paths."""
        t, ids = self.table, self.table[self.id_column]
        counts = {"rows": t.count(), "ids": ids.nunique(), "id_nulls": ids.isnull().sum()}
        counts |= {f"n{i}": t[c].nunique() for i, c in enumerate(texts)}
        row = self.fetch(t.aggregate(**counts)).row(0, named=True)
        if row["id_nulls"]:
            raise DatasetError(f"id column {self.id_column!r} has {row['id_nulls']} missing value(s)")
        if row["ids"] != row["rows"]:
            raise DatasetError(f"id column {self.id_column!r} has duplicate ids; ids must be unique")
        facts: dict[str, Any] = {"rows": int(row["rows"])}
        sample = self.fetch(t.select(texts).limit(200)) if texts else pl.DataFrame()
        for i, c in enumerate(texts):
            facts[c] = (int(row[f"n{i}"] or 0), sample[c].drop_nulls().head(100))  # type: ignore[index]
        return facts

    def __len__(self) -> int:
        return self._height

    def fetch(self, query: ir.Expr) -> pl.DataFrame:
        """Run one query and bring back its (small) answer as a polars frame, through Arrow."""
        if self._one_at_a_time is None:
            return _frame(query.to_pyarrow())
        with self._one_at_a_time:
            return _frame(query.to_pyarrow())

    @property
    def frame(self) -> Any:  # type: ignore[override]
        return _SchemaOnly(self.empty.schema, self._height)

    def categories(self, column: str) -> list[Any]:
        """The distinct values of a column, sorted: one query, cached."""
        if column not in self._categories:
            self.column(column)
            col = self.table[column]
            query = self.table.select(value=col).filter(col.notnull()).distinct().order_by("value").limit(MAX_LEVELS)
            self._categories[column] = self.fetch(query)["value"].to_list()
        return self._categories[column]


def _kind(dtype: pl.DataType, is_id: bool, name: str, facts: dict[str, Any]) -> Kind:
    """The kind of a column, as a dataset in memory tells it, with a text column's sample and distinct count
    (``facts[name]``) from the backend."""
    return infer_kind(dtype, is_id, lambda: facts[name][1], lambda: facts[name][0])


class IbisEngine:
    """Answers view requests over one :class:`IbisDataset` in its backend.

    Answers are cached per (filter, request): the grey "all rows" behind every view and a state seen again cost
    nothing; the table is taken not to change while it is served.
    """

    def __init__(self, dataset: IbisDataset, cache_size: int = 256) -> None:
        self.dataset = dataset
        self.table = dataset.table
        self._answers: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._extents: dict[str, tuple[float, float]] = {}
        self._levels: dict[str, pl.Series | None] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._compiler = _Compiler(self.table, dataset.empty.schema, dataset.id_column)
        # What the polars engine's schema checks read: the columns and an empty frame of the table's types.
        self._schema = SimpleNamespace(
            frame=dataset.empty, column=dataset.column, columns=dataset.columns, id_column=dataset.id_column
        )

    def where(self, clauses: Sequence[Clause] = ()) -> IbisQuery:
        """The rows that pass every clause."""
        for c in clauses:
            self.check(c)
        key = tuple(sorted(c.key() for c in clauses))
        predicate = self.predicate(clauses) if clauses else None
        return IbisQuery(self, predicate, key)

    @property
    def all(self) -> IbisQuery:
        """Every row, unfiltered."""
        return IbisQuery(self, None, ())

    def check(self, clause: Clause) -> None:
        """Raise :class:`ClauseError` when the clause does not fit the schema (the polars engine's rules)."""
        try:
            _check_against_schema(self._schema, clause)  # type: ignore[arg-type]
        except DatasetError as exc:
            raise ClauseError(f"clause from {clause.source!r}: {exc}") from None

    def predicate(self, clauses: Sequence[Clause]) -> ir.BooleanValue:
        """The clauses as one Ibis boolean expression, false where a clause meets a missing value."""
        return _and([self.expression(c).fill_null(False) for c in clauses])

    def expression(self, c: Clause) -> ir.BooleanValue:
        """One checked clause as an Ibis expression (missing where SQL's three-valued logic leaves it so)."""
        return self._compiler.expression(c)

    def answer(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """The cached answer of one request, computed (one backend query) on a miss."""
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        value = compute()
        with self._lock:
            self._answers[key] = value
            while len(self._answers) > self._cache_size:
                self._answers.popitem(last=False)
        return value

    def fetch(self, query: ir.Expr) -> pl.DataFrame:
        """Run one query and bring back its (small) answer as a polars frame."""
        return self.dataset.fetch(query)

    def numbers(self, column: str) -> ir.FloatingValue:
        """A numeric or date column as float64, as the polars engine bins it: days for a date, microseconds for a
        time (to the second: an Ibis timestamp has no portable finer epoch); NaN reads as missing."""
        col = self.table[column]
        dtype = col.type()
        if dtype.is_date():
            return col.epoch_days().cast("float64")
        if dtype.is_timestamp():
            return (col.epoch_seconds() * 1_000_000).cast("float64")
        col = col.cast("float64")
        return col.isnan().ifelse(None, col) if dtype.is_floating() else col

    def extent(self, column: str) -> tuple[float, float]:
        """The min and max of a numeric column over the whole table (one query, cached): bins stay put."""
        with self._lock:
            if column in self._extents:
                return self._extents[column]
        values = self.numbers(column)
        row = self.fetch(self.table.aggregate(lo=values.min(), hi=values.max())).row(0, named=True)
        lo, hi = (float(row["lo"]), float(row["hi"])) if row["lo"] is not None else (0.0, 1.0)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        with self._lock:
            self._extents[column] = (lo, hi)
        return lo, hi

    def bin_of(self, column: str, bins: int) -> tuple[ir.IntegerValue, np.ndarray]:
        """Each row's bin of a numeric column (missing where the value is) and the edges: the polars engine's
        arithmetic, so a value on an edge falls in the same bin."""
        lo, hi = self.extent(column)
        edges = np.linspace(lo, hi, bins + 1)
        code = ((self.numbers(column) - lo) * (bins / (hi - lo))).floor().clip(lower=0, upper=bins - 1)
        return code, edges

    def values(self, column: str) -> pl.Series | None:
        """The sorted distinct values of a column over the whole table (one query, cached); ``None`` past
        MAX_LEVELS."""
        with self._lock:
            if column in self._levels:
                return self._levels[column]
        col = self.table[column]
        query = self.table.select(value=col).filter(col.notnull()).distinct().order_by("value").limit(MAX_LEVELS + 1)
        values = self.fetch(query)["value"]
        found = None if values.len() > MAX_LEVELS else values
        with self._lock:
            self._levels[column] = found
        return found

    # What the polars engine keeps in memory: not available over a table in another engine.
    def mask(self, clauses: Sequence[Clause]) -> Any:
        raise InMemoryOnly("a row mask")

    def levels(self, column: str) -> Any:
        raise InMemoryOnly("a code table of a column")

    def codes(self, column: str, bins: int) -> Any:
        raise InMemoryOnly("a code table of a column")

    def cells(self, x: str, y: str, size: int) -> Any:
        raise InMemoryOnly("a code table of two columns")


class IbisQuery:
    """The view requests over the rows of one filter, each one query in the backend. Made by
    :meth:`IbisEngine.where`; the methods and return types are :class:`symphony_dash.engine.Query`'s."""

    def __init__(self, engine: IbisEngine, predicate: ir.BooleanValue | None, key: tuple[str, ...]) -> None:
        self.engine = engine
        self.dataset = engine.dataset
        self._predicate = predicate
        self._key = key

    @property
    def _rows(self) -> ir.Table:
        t = self.engine.table
        return t if self._predicate is None else t.filter(self._predicate)

    def _answer(self, request: str, args: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        return self.engine.answer((self._key, request, args), compute)

    def frame(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """The filtered rows as a polars frame (only the named columns), in id order: at most MAX_FRAME_ROWS rows,
        for small filters and custom views; over more, a :class:`InMemoryOnly` error."""
        names = list(columns) if columns is not None else list(self.dataset.columns)
        for col in names:
            self.dataset.column(col)
        ids = self.dataset.id_column
        query = self._rows.order_by(ids).select(names).limit(MAX_FRAME_ROWS + 1)
        frame = self.engine.fetch(query)
        if frame.height > MAX_FRAME_ROWS:
            raise InMemoryOnly(f"a view of more than {MAX_FRAME_ROWS:,} whole rows")
        return frame

    def count(self) -> int:
        """How many rows pass the filter."""
        if self._predicate is None:
            return len(self.dataset)
        return self._answer("count", (), lambda: int(self.engine.fetch(self._rows.count()).item()))

    def histogram(self, column: str, bins: int = 30) -> tuple[np.ndarray, np.ndarray]:
        """``(edges, counts)`` of a numeric column, with bin edges fixed by the whole table's extent."""
        self._numeric(column)
        bins = int(bins)

        def compute() -> tuple[np.ndarray, np.ndarray]:
            code, edges = self.engine.bin_of(column, bins)
            counted = self.engine.fetch(
                self._rows.select(code=code).filter(ibis_._.code.notnull()).group_by("code").agg(n=_count())
            )
            counts = np.zeros(bins, dtype=np.int64)
            counts[counted["code"].to_numpy()] = counted["n"].to_numpy()
            return edges, _read_only(counts)

        return self._answer("histogram", (column, bins), compute)

    def value_counts(self, column: str, limit: int | None = 50) -> pl.DataFrame:
        """Counts per value (``value``, ``count``), most frequent first, at most ``limit`` rows."""
        self.dataset.column(column)

        def compute() -> pl.DataFrame:
            query = self._rows.select(value=self.engine.table[column]).group_by("value").agg(count=_count())
            query = query.order_by([ibis_.desc("count"), ibis_.asc("value", nulls_first=False)])
            counts = self.engine.fetch(query.limit(limit) if limit else query)
            return counts.with_columns(pl.col("count").cast(pl.UInt32))

        return self._answer("value_counts", (column, limit), compute)

    def crosstab(self, column: str, by: str, bins: int | None = None) -> tuple[Any, pl.Series, np.ndarray]:
        """Counts per (value or bin of ``column``, value of ``by``): ``(levels, by_values, counts[len, len])``,
        a last row and column counting the missing values; the levels span the whole table."""
        self.dataset.column(column)
        self.dataset.column(by)
        by_values = self.engine.values(by)
        if by_values is None:
            raise DatasetError(f"column {by!r} has too many distinct values to group by")
        if bins is not None:
            self._numeric(column)
            code, levels = self.engine.bin_of(column, int(bins))
            rows, index = len(levels) - 1, None
        else:
            found = self.engine.values(column)
            if found is None:
                raise DatasetError(f"column {column!r} has too many distinct values to count")
            code, levels, rows = self.engine.table[column], found, found.len()
            index = {v: i for i, v in enumerate(found.to_list())}

        def compute() -> np.ndarray:
            query = self._rows.select(a=code, b=self.engine.table[by]).group_by(["a", "b"]).agg(n=_count())
            width = by_values.len() + 1
            by_index = {v: i for i, v in enumerate(by_values.to_list())}
            counts = np.zeros((rows + 1, width), dtype=np.int64)
            for a, b, n in self.engine.fetch(query).iter_rows():
                row = rows if a is None else (int(a) if index is None else index[a])
                counts[row, width - 1 if b is None else by_index[b]] += n
            return _read_only(counts)

        return levels, by_values, self._answer("crosstab", (column, by, bins), compute)

    def group_counts(self, columns: Sequence[str], name: str = "count") -> pl.DataFrame:
        """Counts per combination of values of a few columns (``columns``..., ``name``), only those that occur, in
        order of the values (missing last); a missing value is ``None``."""
        columns = list(columns)
        for column in columns:
            self.dataset.column(column)

        def compute() -> pl.DataFrame:
            counted = self._rows.group_by(columns).agg(**{name: _count()})
            counted = counted.order_by([ibis_.asc(c, nulls_first=False) for c in columns])
            return self.engine.fetch(counted).with_columns(pl.col(name).cast(pl.Int64))

        return self._answer("group_counts", (tuple(columns), name), compute)

    def confusion(self, label: str, prediction: str) -> pl.DataFrame:
        """Counts per (``label``, ``prediction``) pair."""
        return self.group_counts([label, prediction])

    def bins2d(self, x: str, y: str, size: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Counts of ``(x, y)`` on a ``size`` x ``size`` grid as ``(counts, y_edges, x_edges)``: rows are y, edges
        spanning the whole table; a row missing x or y is left out."""
        for col in (x, y):
            self._numeric(col)
        size = int(size)

        def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            (cx, xe), (cy, ye) = self.engine.bin_of(x, size), self.engine.bin_of(y, size)
            query = self._rows.select(cx=cx, cy=cy).filter(ibis_._.cx.notnull() & ibis_._.cy.notnull())
            counted = self.engine.fetch(query.group_by(["cx", "cy"]).agg(n=_count()))
            counts = np.zeros((size, size), dtype=np.float64)
            counts[counted["cy"].to_numpy(), counted["cx"].to_numpy()] = counted["n"].to_numpy()
            return _read_only(counts), ye, xe

        return self._answer("bins2d", (x, y, size), compute)

    def rows(
        self,
        columns: Sequence[str] | None = None,
        sort: Sequence[tuple[str, bool]] = (),
        offset: int = 0,
        limit: int = 100,
    ) -> pl.DataFrame:
        """One page of rows, sorted by ``(column, descending)`` pairs, missing values last; ties in id order (a
        table in another engine has no row order of its own)."""
        names = [name for name, _ in sort]
        for name in [*names, *(columns or ())]:
            self.dataset.column(name)
        offset, limit = max(0, int(offset)), max(0, min(int(limit), 10_000))
        shown = list(columns) if columns is not None else list(self.dataset.columns)
        keys = [ibis_.desc(n, nulls_first=False) if d else ibis_.asc(n, nulls_first=False) for n, d in sort]
        keys.append(ibis_.asc(self.dataset.id_column))
        if offset:
            # By row number, not ``limit(offset=)``: Ibis 12 on PySpark returns its helper column with the rows.
            numbered = self._rows.mutate(_page_row=ibis_.row_number().over(order_by=keys))
            page = numbered.filter(numbered._page_row.between(offset, offset + limit - 1)).order_by("_page_row")
        else:
            page = self._rows.order_by(keys).limit(limit)
        args = (tuple(shown), tuple((n, bool(d)) for n, d in sort), offset, limit)
        return self._answer("rows", args, lambda: self.engine.fetch(page.select(shown)))

    def sample(self, n: int, columns: Sequence[str] | None = None, seed: int = 0) -> pl.DataFrame:
        """At most ``n`` rows, in id order: those whose hash of (id, seed) is smallest, so the same rows for the same
        seed and filter (not the polars engine's rows: the draw differs, its properties do not)."""
        shown = list(columns) if columns is not None else list(self.dataset.columns)
        for col in shown:
            self.dataset.column(col)
        n = max(0, int(n))
        ids = self.dataset.id_column
        draw = (self.engine.table[ids].cast("string") + f"|{int(seed)}").hash()
        picked = self._rows.order_by([draw, ids]).limit(n).order_by(ids).select(shown)
        return self._answer("sample", (tuple(shown), n, int(seed)), lambda: self.engine.fetch(picked))

    def ids(self, limit: int | None = None) -> list[Any]:
        """The ids of the rows, in id order."""
        ids = self.dataset.id_column
        query = self._rows.select(ids).order_by(ids)
        return self.engine.fetch(query.limit(limit) if limit else query)[ids].to_list()

    def contains_ids(self, values: Sequence[Any]) -> list[Any]:
        """Which of ``values`` are ids of rows that pass the filter."""
        ids = self.dataset.id_column
        dtype = self.dataset.empty.schema[ids]
        known = []
        for v in values:
            try:
                value = _literal(ids, dtype, v)
            except DatasetError:
                continue  # a value of another type than the ids is no id
            if not (isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]):
                known.append(value)  # a whole number beyond 64 bits is no id either
        if not known:
            return []
        found = self._rows.filter(self.engine.table[ids].isin(known)).select(ids)
        return self.engine.fetch(found)[ids].to_list()

    def _numeric(self, column: str) -> None:
        if self.dataset.column(column).kind not in ("numeric", "datetime"):
            raise DatasetError(f"column {column!r} is not numeric")


def _frame(answer: Any) -> pl.DataFrame:
    """An Arrow answer as polars: a table as it is, a scalar as a frame of one cell."""
    return pl.from_arrow(answer) if hasattr(answer, "schema") else pl.DataFrame({"value": [answer.as_py()]})  # type: ignore[return-value]


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False  # a cached answer is handed to every view that asks
    return a


class _IbisModule:
    """``ibis`` imported on first use: the polars engine, the default, never loads it."""

    def __getattr__(self, name: str) -> Any:
        import ibis

        return getattr(ibis, name)


ibis_ = _IbisModule()


def _count() -> ir.IntegerScalar:
    return ibis_._.count()


def _and(parts: list[ir.BooleanValue]) -> ir.BooleanValue:
    return _balanced(parts, lambda a, b: a & b)


def _or(parts: list[ir.BooleanValue]) -> ir.BooleanValue:
    return _balanced(parts, lambda a, b: a | b)


def _balanced(parts: list[Any], join: Callable[[Any, Any], Any]) -> Any:
    """``parts`` joined as a balanced tree: a lasso of hundreds of edges nests a few levels, not hundreds, so the
    compiler and the backend's parser do not recurse that deep."""
    while len(parts) > 1:
        parts = [join(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


class _Compiler:
    """The polars engine's ``_expression``, in Ibis: the same rows kept for every op, missing values included."""

    def __init__(self, table: ir.Table, schema: pl.Schema, id_column: str) -> None:
        self.t, self.schema, self.id_column = table, schema, id_column

    def expression(self, c: Clause) -> ir.BooleanValue:
        if c.op == "polygon":
            return _polygon(self.t, c)
        if c.op == "pairs":
            return self._pairs(c)
        if c.op == "all":
            return _and([self.expression(part) for part in c.parts()])
        if c.op == "any":
            return _or([self.every(group) for group in c.groups()])
        if c.op == "not":
            # The rows the parts leave out, those with a missing value among them: ``not x < 0.6`` keeps missing x.
            return ~self.every(c.parts())
        column: str = self.id_column if c.op == "ids" else c.column  # type: ignore[assignment]
        col, dtype = self.t[column], self.schema[column]
        if c.op == "is_null":
            return col.isnull() if c.value in (None, True) else col.notnull()
        if c.op == "contains":
            return col.cast("string").lower().contains(ibis_.literal(c.value.lower()))
        if c.op == "range":
            low, high = (_value(column, dtype, col, v) for v in c.value)
            return col.between(low, high)
        if c.op in _COMPARE:
            return getattr(col, _COMPARE[c.op])(_value(column, dtype, col, c.value))
        values = [_literal(column, dtype, v) for v in (c.value if isinstance(c.value, list) else [c.value])]
        matched = _isin(col, dtype, values)
        return ~matched | col.isnull() if c.op == "not_in" else matched

    def every(self, parts: list[Clause]) -> ir.BooleanValue:
        """Whether a row passes every part, false (never missing) where a part meets a missing value."""
        return _and([self.expression(part) for part in parts]).fill_null(False)

    def _pairs(self, c: Clause) -> ir.BooleanValue:
        """``(a, b)`` in the pairs, as one ``in`` per distinct first value."""
        first, second = c.columns  # type: ignore[misc]
        by_first: dict[Any, list[Any]] = {}
        for a, b in c.value:
            by_first.setdefault(a, []).append(b)
        if not by_first:
            return ibis_.literal(False)
        return _or(
            [
                self.expression(Clause(op="in", column=first, value=[a]))
                & self.expression(Clause(op="in", column=second, value=bs))
                for a, bs in by_first.items()
            ]
        )


def _value(column: str, dtype: pl.DataType, col: ir.Value, v: Any) -> ir.Value:
    """A value as a literal of the column's type (a number outside 64 bits as a float)."""
    value = _literal(column, dtype, v)
    if isinstance(value, int) and not isinstance(value, bool) and not _INT64[0] <= value <= _INT64[1]:
        value = float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ibis_.literal(value, type="float64" if isinstance(value, float) else "int64")
    return ibis_.literal(value, type=col.type())


def _isin(col: ir.Value, dtype: pl.DataType, values: list[Any]) -> ir.BooleanValue:
    """The column is one of the values, compared as one type (the polars engine's ``_comparable``)."""
    if dtype.is_integer() and all(isinstance(v, int) for v in values):
        # A whole number outside 64 bits cannot equal any of the column's values.
        col, values = col.cast("int64"), [v for v in values if _INT64[0] <= v <= _INT64[1]]
        literals = [ibis_.literal(v, type="int64") for v in values]
    elif dtype.is_numeric():
        col, literals = col.cast("float64"), [ibis_.literal(float(v), type="float64") for v in values]
    else:
        literals = [ibis_.literal(v, type=col.type()) for v in values]
    return col.isin(literals) if literals else ibis_.literal(False)


def _polygon(t: ir.Table, c: Clause) -> ir.BooleanValue:
    """The rows inside a lasso, by the even-odd rule written as one Ibis expression.

    A bounding-box test first; then the box is cut into horizontal bands, and a row is tested only against the
    edges that reach its band (widened by a hair, so a rounding of the band never leaves out an edge that crosses):
    for each such edge that is not horizontal, whether it crosses the row's horizontal line left of the
    point, the crossings joined by exclusive or (``!=``). The band is chosen by a balanced tree of comparisons, so a
    row meets a few comparisons and a few edges, not every edge of a lasso of hundreds (the same idea as the polars
    engine's grid). The arithmetic of a crossing is the polars engine's exact test, operation for operation, so a
    point on the outline falls on the same side; a horizontal edge never crosses, and is left out (no division by
    zero).
    """
    xcol, ycol = c.columns  # type: ignore[misc]
    x, y = (t[col] if t[col].type().is_float64() else t[col].cast("float64") for col in (xcol, ycol))
    poly = np.asarray(c.value, dtype=np.float64)
    lit = ibis_.literal
    (x0, y0), (x1, y1) = poly.min(axis=0).tolist(), poly.max(axis=0).tolist()
    box = x.between(lit(x0), lit(x1)) & y.between(lit(y0), lit(y1))
    edges = [
        (xi, yi, xj, yj)
        for (xi, yi), (xj, yj) in zip(poly.tolist(), np.roll(poly, 1, axis=0).tolist(), strict=True)
        if yi != yj
    ]
    if not edges:
        return lit(False)
    crossings = [
        ((lit(yi) > y) != (lit(yj) > y)) & (x < lit(xj - xi) * (y - lit(yi)) / lit(yj - yi) + lit(xi))
        for xi, yi, xj, yj in edges
    ]
    bands = max(1, min(LASSO_BANDS, len(edges) // 4))
    # A hair far above the rounding of a double at these magnitudes, far below any lasso's detail.
    height, hair = (y1 - y0) / bands, max(abs(y0), abs(y1), y1 - y0) * 1e-9
    per_band = []
    for b in range(bands):
        low, high = y0 + b * height - hair, y0 + (b + 1) * height + hair
        near = [crossings[i] for i, (_, yi, _, yj) in enumerate(edges) if min(yi, yj) <= high and max(yi, yj) >= low]
        per_band.append(_balanced(near, lambda a, b: a != b) if near else lit(False))
    band = ((y - y0) * (bands / (y1 - y0))).floor().clip(lower=0, upper=bands - 1) if bands > 1 else None
    return box & _by_band(band, per_band, 0, bands)


def _by_band(band: ir.IntegerValue | None, tests: list[ir.BooleanValue], low: int, high: int) -> ir.BooleanValue:
    """The test of a row's band among ``tests[low:high]``, chosen by halving the range."""
    if high - low == 1:
        return tests[low]
    middle = (low + high) // 2
    return ibis_.ifelse(band < middle, _by_band(band, tests, low, middle), _by_band(band, tests, middle, high))
