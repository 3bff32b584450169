"""The engine: every view is a small query answered on the server.

``Engine(dataset).where(clauses)`` gives a :class:`Query` over the rows that pass the clauses; its methods are the
view requests (count, histogram, value counts, label-by-prediction counts, 2-D bins, a sorted page of rows, a sample,
the ids). The row mask of a filter is computed once and reused by every view of the same state. Clauses are turned
into polars expressions with their values as literals: a value from a browser never becomes code or SQL text, and every
column name is checked against the schema first.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from . import brush as brushing
from .brush import BrushCube, BrushIndex, CellIndex, LevelIndex, RestOfFilter
from .dataset import Dataset, DatasetError
from .lru import LRU
from .state import Clause, ClauseError

__all__ = ["Engine", "Query"]

_TEXTUAL = ("categorical", "text", "image", "audio", "id")
# Columns with more distinct values than this are counted by polars' group-by instead of a cached code table.
MAX_LEVELS = 100_000
_INT64 = (-(2**63), 2**63 - 1)
_UINT64 = (0, 2**64 - 1)
_COMPARE = {"lt": pl.Expr.lt, "le": pl.Expr.le, "gt": pl.Expr.gt, "ge": pl.Expr.ge}
_ORDERED = ("range", *_COMPARE)  # the ops that need an ordered (numeric or date) column
# The cells a lasso is tested by (see Engine._inside): finer for more rows, so fewer rows need the exact test.
LASSO_GRIDS = ((2_000_000, 256), (20_000_000, 1024))
_INSIDE, _EDGE = 1, 2
# The cells a moving lasso's views are counted by: (128 + 1)**2 cells, below 2**15, each a block of the lasso test's.
LASSO_CUBE_GRID = 128
LASSO_CUBE_ROWS = 2_000_000  # below, testing a new lasso by its grid is as quick as counting from cubes (measured)


@dataclass(frozen=True)
class Brush:
    """A clause being moved (a brushed range, bar after bar clicked) and the rest of its filter."""

    column: str | tuple[str, str]  # a column, or the two of a lasso
    rest: list[Clause]
    rest_key: tuple[str, ...]
    span: tuple[float, float] | None = None  # a range of a float column
    kept: np.ndarray | None = None  # or which levels of a column of few values the clause keeps (missing last)
    lasso: Clause | None = None  # or a lasso (a box is one too)

    @property
    def kind(self) -> str:
        return "range" if self.span else "lasso" if self.lasso is not None else "levels"


class Engine:
    """Answers view requests over one :class:`Dataset` with polars, in process."""

    def __init__(self, dataset: Dataset, cache_size: int = 64) -> None:
        self.dataset = dataset
        # Masks, their rows and brush cubes are as long as the table: each cache holds at most a quarter of its size.
        budget = max(64 << 20, dataset.frame.estimated_size() // 4)
        self._masks = LRU(cache_size, budget)
        self._rows = LRU(cache_size, budget)
        self._totals: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._extents: dict[str, tuple[float, float]] = {}
        self._codes: dict[tuple[str, int | None], Any] = {}
        self._owned: dict[int, np.ndarray] = {}  # the arrays in _codes by id
        self._brushes = LRU(cache_size, budget)  # per clause position: its last value, and whether it has moved
        self._brush_indexes: dict[str | tuple[str, str], BrushIndex | CellIndex] = {}
        self._cubes = LRU(cache_size, max(256 << 20, budget))
        self._preparing: dict[str | tuple[str, str], threading.Thread] = {}  # a lasso's cubes have ~16,000 rows each
        self._lock = threading.Lock()

    def where(self, clauses: Sequence[Clause] = ()) -> Query:
        """The rows that pass every clause."""
        brush = self._moving_brush(clauses)
        if brush is not None:
            return Query(self, None, brush=brush, clauses=clauses)
        return Query(self, self.mask(clauses))

    def _moving_brush(self, clauses: Sequence[Clause]) -> Brush | None:
        """The clause among ``clauses`` that is moving: one whose value changed while the rest of the filter stayed
        the same (a brush dragged, bar after bar clicked). Its views are then counted from cubes (:mod:`.brush`)."""
        for c in clauses:
            kind = self._brushable(c)
            if kind is None:
                continue
            rest = [o for o in clauses if o is not c]
            rest_key = tuple(sorted(o.key() for o in rest))
            position = c.column or tuple(c.columns)  # type: ignore[arg-type]
            key = (rest_key, position)
            last, moving = self._brushes.get(key) or (None, False)
            moving = moving or (last is not None and last != c.key())
            self._brushes.put(key, (c.key(), moving))
            if last is None and kind in ("range", "lasso"):
                self._prepare(position, kind)
            if not moving:
                continue
            if kind == "range":
                span = (float(c.value[0]), float(c.value[1]))  # type: ignore[index]  # checked: two numbers
                if np.isfinite(span).all():
                    return Brush(position, rest, rest_key, span=span)
            elif kind == "lasso":
                return Brush(position, rest, rest_key, lasso=c)
            else:
                return Brush(position, rest, rest_key, kept=self._levels_kept(c))
        return None

    def _prepare(self, position: str | tuple[str, str], kind: str) -> None:
        """When a brush or lasso first appears on a column, sort its rows by bin in the background (a second or so at
        ten million rows), as Falcon does when a brush starts: by the time it moves, the index is there."""
        with self._lock:
            if position in self._brush_indexes or position in self._preparing:
                return
            thread = threading.Thread(target=self._prepare_quietly, args=(position,), daemon=True)
            self._preparing[position] = thread
        thread.start()

    def _prepare_quietly(self, position: str | tuple[str, str]) -> None:
        with contextlib.suppress(Exception):  # left to the request that needs the index: it makes it, and says why not
            self._sorted_index(position)

    def _brushable(self, c: Clause) -> str | None:
        """``"range"`` for a range of a float column, ``"lasso"`` for a lasso or box, ``"levels"`` for a clause on one
        column of few values (``in``, ``eq``, a comparison...: it is answered exactly by its values), else None."""
        if c.op == "polygon":
            self.check(c)
            return "lasso" if len(self.dataset) > LASSO_CUBE_ROWS else None
        if not isinstance(c.column, str) or c.op in ("pairs", "ids") or c.column not in self.dataset.frame:
            return None
        self.check(c)
        if c.op == "range" and self.dataset.frame[c.column].dtype == pl.Float64:
            return "range"  # other types compare by other rules (a float32 column in float32, dates in their zone)
        if self.dataset.column(c.column).kind == "categorical":
            levels = self.levels(c.column)
            if levels is not None and len(levels[1]) < brushing.BINS:
                return "levels"
        return None

    def brushed_counts(self, brush: Brush, codes: np.ndarray, size: int) -> np.ndarray | None:
        """Counts per code of the rows the brush and the rest of its filter keep, from the brush's cube for these
        codes (made on first use); ``None`` when a cube does not fit (too many codes, or not the engine's codes)."""
        index = self._brush_index(brush)
        if size * index.bins > brushing.MAX_CELLS or not self._owns(codes):
            return None
        key = (brush.rest_key, brush.column, brush.kind, id(codes), size)
        cube = self._cubes.get(key)
        if not isinstance(cube, BrushCube) or cube.codes is not codes:
            cube = BrushCube(index, self._rest_of(brush), codes, size)
            self._cubes.put(key, cube)  # holds the codes, so their id is not reused while it lives
        if brush.span:
            return cube.counts(*brush.span)
        if brush.lasso is not None:
            return cube.counts_of(*self._lasso_parts(brush, index))  # type: ignore[arg-type]
        return cube.counts_of(brush.kept)  # type: ignore[arg-type]

    def _lasso_parts(self, brush: Brush, index: CellIndex) -> tuple[np.ndarray, np.ndarray]:
        """A moving lasso's cells of the cube's grid wholly inside it, and the rows inside it of the other cells it
        reaches that the rest of the filter keeps.

        The cube's grid is the lasso test's finer grid in blocks (8 x 8 cells at ten million rows): a block is wholly
        inside or outside when all its cells are, which leaves a band of blocks one or two wide along the outline.
        Their rows are tested once for every view (by the finer grid, then one by one near the outline).
        """
        lasso: Clause = brush.lasso  # type: ignore[assignment]
        key = (brush.column, lasso.key())
        found = self._cubes.get(key)
        if found is None:
            grid, _, _, fine = self._outline(lasso)
            block = grid // index.size
            fine = fine[:grid, :grid].reshape(index.size, block, index.size, block)
            states = np.full((index.size + 1, index.size + 1), _EDGE, dtype=np.uint8)
            states[-1, :] = states[:, -1] = 0  # missing x or y: outside
            states[:-1, :-1][(fine == _INSIDE).all(axis=(1, 3))] = _INSIDE
            states[:-1, :-1][(fine == 0).all(axis=(1, 3))] = 0
            states = states.ravel()
            rows = index.rows_in(*np.flatnonzero(states == _EDGE))
            found = (states == _INSIDE, rows[self._inside(lasso, rows)])
            self._cubes.put(key, found)
        whole, rows = found
        rest = self._rest_of(brush).mask
        return whole, rows if rest is None else rows[rest[rows]]

    def _outline(self, c: Clause) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """The grid a lasso is tested by (finer for more rows, so fewer rows need the exact test), its edges, and the
        state of each of its cells (see :func:`_cell_states`), made once per lasso."""
        x, y = c.columns  # type: ignore[misc]
        grid = next((size for rows, size in LASSO_GRIDS if len(self.dataset) <= rows), LASSO_GRIDS[-1][1])
        key = ("outline", c.key(), grid)
        found = self._cubes.get(key)
        if found is None:
            (_, x_edges), (_, y_edges) = self.codes(x, grid), self.codes(y, grid)
            found = (grid, x_edges, y_edges, _cell_states(np.asarray(c.value, dtype=np.float64), x_edges, y_edges))
            self._cubes.put(key, found, found[3].nbytes)
        return found

    def _rest_of(self, brush: Brush) -> RestOfFilter:
        key = (brush.rest_key, brush.column, brush.kind, "rest")
        rest = self._cubes.get(key)
        if not isinstance(rest, RestOfFilter):
            mask = self.mask(brush.rest)
            rest = RestOfFilter(self._brush_index(brush), mask, None if mask is None else self.rows(mask))
            self._cubes.put(key, rest)
        return rest

    def _brush_index(self, brush: Brush) -> BrushIndex | CellIndex | LevelIndex:
        if brush.kept is not None:
            codes, values = self.levels(brush.column)  # type: ignore[misc,arg-type]
            return LevelIndex(codes, len(values))
        return self._sorted_index(brush.column)

    def _sorted_index(self, position: str | tuple[str, str]) -> BrushIndex | CellIndex:
        """A numeric column's rows sorted by bin, or two columns' by grid cell, made once (perhaps by the thread that
        :meth:`_prepare` started, which is then waited for)."""
        with self._lock:
            index, preparing = self._brush_indexes.get(position), self._preparing.get(position)
        if index is not None:
            return index
        if preparing is not None and preparing is not threading.current_thread():
            preparing.join()
            return self._brush_indexes.get(position) or self._sorted_index_now(position)
        return self._sorted_index_now(position)

    def _sorted_index_now(self, position: str | tuple[str, str]) -> BrushIndex | CellIndex:
        if isinstance(position, tuple):
            x, y = position
            (_, x_edges), (_, y_edges) = self.codes(x, LASSO_CUBE_GRID), self.codes(y, LASSO_CUBE_GRID)
            index: BrushIndex | CellIndex = CellIndex(
                self.cells(x, y, LASSO_CUBE_GRID), LASSO_CUBE_GRID, x_edges, y_edges
            )
        else:
            index = BrushIndex(self.numbers(position))
        with self._lock:
            return self._brush_indexes.setdefault(position, index)

    def zero_codes(self) -> np.ndarray:
        """Code 0 for every row: counting them counts rows, so a brushed count comes from a cube like a view's."""
        return self._once(("\x00zero", None), lambda: np.zeros(len(self.dataset), dtype=np.int8))

    def _once(self, key: tuple[str, int | None], make: Callable[[], Any]) -> Any:
        """The entry of the engine's lasting caches (codes, levels, columns as arrays) under ``key``, made once."""
        with self._lock:
            if key in self._codes:
                return self._codes[key]
        made = make()
        with self._lock:
            entry = self._codes.setdefault(key, made)
            for part in entry if isinstance(entry, tuple) else (entry,):
                if isinstance(part, np.ndarray):
                    self._owned[id(part)] = part  # kept here too, so the id stays this array's
            return entry

    def _owns(self, codes: np.ndarray) -> bool:
        """Whether ``codes`` is one of the engine's cached arrays: counts over it may be kept, keyed by its id."""
        return self._owned.get(id(codes)) is codes

    @property
    def all(self) -> Query:
        """Every row, unfiltered."""
        return Query(self, None)

    def check(self, clause: Clause) -> None:
        """Raise :class:`ClauseError` when the clause does not fit the schema (column, kind or value type)."""
        try:
            _check_against_schema(self.dataset, clause)
        except DatasetError as exc:
            raise ClauseError(f"clause from {clause.source!r}: {exc}") from None

    def mask(self, clauses: Sequence[Clause]) -> np.ndarray | None:
        """The boolean row mask of a filter (``None`` for no filter), cached per distinct filter.

        Each clause's own mask is cached too: under a crossfilter every view leaves out its own clause, so one
        interaction asks for several sets of the same clauses, and a lasso is tested once, not once per set.
        """
        if not clauses:
            return None
        key = tuple(sorted(c.key() for c in clauses))
        cached = self._masks.get(key)
        if cached is not None:
            return cached
        mask: np.ndarray | None = None
        for c in clauses:
            one = self._masks.get((c.key(),))
            if one is None:
                self.check(c)
                one = self._inside(c) if c.op == "polygon" else self._where(c)
                self._keep((c.key(),), one)
            mask = one if mask is None else mask & one
        self._keep(key, mask)  # type: ignore[arg-type]  # clauses is not empty
        return mask

    def _where(self, c: Clause) -> np.ndarray:
        if self._brushable(c) == "levels":  # decided once per value, then looked up per row
            return self._levels_kept(c)[self.levels(c.column)[0]]  # type: ignore[arg-type,index]
        expression = _expression(self.dataset, c).fill_null(False)
        return self.dataset.frame.select(expression).to_series().to_numpy()

    def _levels_kept(self, c: Clause) -> np.ndarray:
        """Which values of a column of few values (and, last, its missing value) a clause on it keeps: the clause's
        own expression run over the values, so the answer is the one filtering the table would give."""
        _, values = self.levels(c.column)  # type: ignore[arg-type,misc]
        everything = pl.DataFrame({c.column: pl.concat([values, pl.Series([None], dtype=values.dtype)])})
        return everything.select(_expression(self.dataset, c).fill_null(False)).to_series().to_numpy()

    def rows(self, mask: np.ndarray) -> np.ndarray:
        """The positions of the rows ``mask`` keeps, found once per mask: every view of a state then gathers its
        column by them, a fraction of a pass over the whole mask when a filter keeps a part of the table."""
        hit = self._rows.get(id(mask))
        if hit is not None and hit[0] is mask:
            return hit[1]
        rows = np.flatnonzero(mask)
        # The mask is held, so its id is not reused while this entry lives; it is counted in the masks' cache.
        self._rows.put(id(mask), (mask, rows), rows.nbytes)
        return rows

    def counts(self, codes: np.ndarray, size: int) -> np.ndarray:
        """Counts per code over every row, once per code array: the grey "all rows" behind a filtered view does not
        change with the filter. (Read only: the same array is handed to every view.)"""
        key = (id(codes), size)
        with self._lock:
            hit = self._totals.get(key)
            if hit is not None and hit[0] is codes:
                return hit[1]
        counts = np.bincount(codes, minlength=size + 1)[:size]
        # Only the engine's own code arrays: a view's one-off combination would pile up.
        if self._owns(codes):
            counts.flags.writeable = False
            with self._lock:
                self._totals[key] = (codes, counts)  # the codes are held, so their id is not reused
        return counts

    def _keep(self, key: tuple[str, ...], mask: np.ndarray) -> None:
        self._masks.put(key, mask)

    def numbers(self, column: str) -> np.ndarray:
        """A numeric column as one numpy array (NaN for missing in a float column), made once: a table read in row
        groups is in chunks, which numpy would copy again for every sorted page."""

        def make() -> np.ndarray:
            values = self.dataset.frame[column]
            array = (values.fill_null(float("nan")) if values.dtype.is_float() else values).to_numpy()
            array.flags.writeable = False
            return array

        return self._once((f"\x00numbers\x00{column}", None), make)  # type: ignore[no-any-return]

    def extent(self, column: str) -> tuple[float, float]:
        """The min and max of a numeric column over the whole table: bins stay put while the filter changes."""
        with self._lock:
            if column in self._extents:
                return self._extents[column]
        s = self.dataset.frame[column].cast(pl.Float64).drop_nulls().drop_nans()
        lo, hi = (float(s.min()), float(s.max())) if s.len() else (0.0, 1.0)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        with self._lock:
            self._extents[column] = (lo, hi)
        return lo, hi

    def codes(self, column: str, bins: int) -> tuple[np.ndarray, np.ndarray]:
        """Each row's bin of a numeric column (``bins`` for missing) and the bin edges, computed once per column.

        Counting a filter's rows per bin is then a ``bincount`` over the mask: no sort, no pass over floats.
        """

        def make() -> tuple[np.ndarray, np.ndarray]:
            lo, hi = self.extent(column)
            value = pl.col(column).cast(pl.Float64).fill_nan(None)
            scaled = ((value - lo) * (bins / (hi - lo))).floor().clip(0, bins - 1)
            codes = self.dataset.frame.select(scaled.fill_null(bins).cast(pl.Int32)).to_series().to_numpy()
            return codes, np.linspace(lo, hi, bins + 1)

        return self._once((column, bins), make)  # type: ignore[no-any-return]

    def levels(self, column: str) -> tuple[np.ndarray, pl.Series] | None:
        """Each row's index into the sorted distinct values of a column (their count for missing), computed once.

        ``None`` for a column with too many distinct values to count this way (free text, ids).
        """

        def make() -> tuple[np.ndarray, pl.Series] | None:
            series = self.dataset.frame[column]
            values = series.drop_nulls().unique().sort()
            if values.len() > MAX_LEVELS:
                return None
            # A binary search among the few distinct values: several times faster than ranking the column.
            found = values.search_sorted(series).to_numpy().astype(np.int32)
            if series.null_count():
                found[series.is_null().to_numpy()] = values.len()
            return found, values

        return self._once((column, None), make)  # type: ignore[no-any-return]

    def cells(self, x: str, y: str, size: int) -> np.ndarray:
        """Each row's cell of a ``size`` x ``size`` grid over two numeric columns (the last cells for missing values):
        computed once per pair, for 2-D counts and lasso tests."""
        (xc, _), (yc, _) = self.codes(x, size), self.codes(y, size)
        return self.pair(f"cells\x00{x}\x00{y}\x00{size}", yc, xc, size + 1)

    def pair(self, key: str, first: np.ndarray, second: np.ndarray, width: int) -> np.ndarray:
        """Two cached code arrays as one (``first * width + second``), made once under ``key`` and kept with them:
        counting a filter's rows per pair is then one ``bincount``."""

        def make() -> np.ndarray:
            fits = int(first.max(initial=0)) * width + width < 2**31
            return first.astype(np.int32 if fits else np.int64) * width + second

        return self._once((key, None), make)  # type: ignore[no-any-return]

    def _inside(self, c: Clause, rows: np.ndarray | None = None) -> np.ndarray:
        """Whether each row (of the table, or at the positions ``rows``) is inside a lasso: by grid cell, and the exact
        test only for the rows in cells its outline crosses.

        A cell that no edge of the polygon crosses is wholly inside or outside, as its centre is; the outline's cells
        are found by walking each edge in half-cell steps (and growing the result by one cell, so a corner clipped
        between two steps is not missed). A lasso of hundreds of vertices then costs a gather over the rows and an
        exact test over a few percent of them, not one pass over every row per vertex.
        """
        x, y = c.columns  # type: ignore[misc]
        poly = np.asarray(c.value, dtype=np.float64)
        grid, _, y_edges, states = self._outline(c)
        cells = self.cells(x, y, grid)
        cells = cells if rows is None else cells.take(rows)
        state = states.ravel()[cells]
        inside = state == _INSIDE
        edge = np.flatnonzero(state == _EDGE)
        if edge.size:
            at = edge if rows is None else rows[edge]
            xs, ys = (self.dataset.frame[col].gather(at).cast(pl.Float64).to_numpy() for col in (x, y))
            inside[edge] = _inside_by_band(xs, ys, cells[edge] // (grid + 1), poly, y_edges)
        return inside


class Query:
    """The view requests over the rows of one filter. Made by :meth:`Engine.where`."""

    def __init__(
        self, engine: Engine, mask: np.ndarray | None, brush: Brush | None = None, clauses: Sequence[Clause] = ()
    ) -> None:
        self.engine = engine
        self.dataset = engine.dataset
        self._brush = brush
        self._clauses = clauses
        self._known_mask = mask

    @property
    def _mask(self) -> np.ndarray | None:
        """The row mask; under a moving brush made only when a view needs rows, not counts."""
        if self._brush is not None and self._known_mask is None:
            self._known_mask = self.engine.mask(self._clauses)
        return self._known_mask

    def frame(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """The filtered rows as a polars frame (only the named columns): for small data and custom views."""
        for col in columns or ():
            self.dataset.column(col)
        frame = self.dataset.frame.select(columns) if columns is not None else self.dataset.frame
        return frame if self._mask is None else frame.filter(pl.Series(self._mask))

    def count(self) -> int:
        """How many rows pass the filter."""
        if self._brush is not None:
            return int(self._bincount(self.engine.zero_codes(), 1)[0])
        return len(self.dataset) if self._mask is None else int(np.count_nonzero(self._mask))

    def histogram(self, column: str, bins: int = 30) -> tuple[np.ndarray, np.ndarray]:
        """``(edges, counts)`` of a numeric column, with bin edges fixed by the whole table's extent."""
        self._numeric(column)
        codes, edges = self.engine.codes(column, int(bins))
        return edges, self._bincount(codes, len(edges) - 1)

    def value_counts(self, column: str, limit: int | None = 50) -> pl.DataFrame:
        """Counts per value (``value``, ``count``), most frequent first, at most ``limit`` rows."""
        self.dataset.column(column)
        levels = self.engine.levels(column)
        if levels is None:  # too many distinct values for a code table: let polars group them
            # Renamed first, so that a column called "count" does not collide with the counts.
            counts = self.frame([column]).rename({column: "value"}).group_by("value").len(name="count")
        else:
            codes, values = levels
            n = self._bincount(codes, len(values) + 1)
            # A new series: ``extend`` would grow the cached levels in place, by one missing value per call.
            missing = pl.Series([None], dtype=values.dtype)
            counts = pl.DataFrame({"value": pl.concat([values, missing]), "count": n})
            counts = counts.filter(pl.col("count") > 0).with_columns(pl.col("count").cast(pl.UInt32))
        counts = counts.sort(["count", "value"], descending=[True, False], nulls_last=True)
        return counts.head(limit) if limit else counts

    def crosstab(self, column: str, by: str, bins: int | None = None) -> tuple[Any, pl.Series, np.ndarray]:
        """Counts per (value or bin of ``column``, value of ``by``): ``(levels, by_values, counts[len, len])``.

        ``levels`` are the bin edges when ``bins`` is given (a numeric column), else the distinct values; a last
        row and column count the missing values. ``by`` must have few distinct values (a group-by column).
        """
        self.dataset.column(column)
        self.dataset.column(by)
        by_levels = self.engine.levels(by)
        if by_levels is None:
            raise DatasetError(f"column {by!r} has too many distinct values to group by")
        if bins is not None:
            self._numeric(column)
            codes, levels = self.engine.codes(column, int(bins))
            rows = len(levels) - 1
        else:
            found = self.engine.levels(column)
            if found is None:
                raise DatasetError(f"column {column!r} has too many distinct values to count")
            codes, levels = found
            rows = len(levels)
        by_codes, by_values = by_levels
        width = len(by_values) + 1
        pairs = self.engine.pair(f"crosstab\x00{column}\x00{by}\x00{bins}", codes, by_codes, width)
        counts = self._bincount(pairs, (rows + 1) * width)
        return levels, by_values, counts.reshape(rows + 1, width)

    def group_counts(self, columns: Sequence[str], name: str = "count") -> pl.DataFrame:
        """Counts per combination of values of a few columns (``columns``..., ``name``), only those that occur; a
        missing value is ``None``. One count over the columns' combined codes, or a polars group-by when there are
        too many combinations to count that way."""
        for column in columns:
            self.dataset.column(column)
        found = [self.engine.levels(column) for column in columns]
        cells = int(np.prod([len(f[1]) + 1 for f in found if f is not None], dtype=np.float64))
        if not columns or any(f is None for f in found) or cells > MAX_LEVELS:
            return (
                self.frame(list(columns))
                .group_by(list(columns))
                .len(name=name)
                .with_columns(pl.col(name).cast(pl.Int64))
            )
        codes, values = found[0]  # type: ignore[misc]
        key, width = f"groups\x00{columns[0]}", len(values) + 1
        for column, (more, more_values) in zip(columns[1:], found[1:], strict=True):  # type: ignore[misc]
            key += f"\x00{column}"
            codes = self.engine.pair(key, codes, more, len(more_values) + 1)
            width *= len(more_values) + 1
        counts = self._bincount(codes, width)
        present = np.flatnonzero(counts)
        out, rest = {}, present
        for column, (_, values) in zip(reversed(columns), reversed(found), strict=True):  # type: ignore[misc]
            out[column] = pl.concat([values, pl.Series([None], dtype=values.dtype)])[rest % (len(values) + 1)]
            rest = rest // (len(values) + 1)
        return pl.DataFrame({c: out[c] for c in columns}).with_columns(pl.Series(name, counts[present], dtype=pl.Int64))

    def _bincount(self, codes: np.ndarray, size: int) -> np.ndarray:
        """Counts per code of the rows that pass the filter: one pass over a small integer array."""
        if self._brush is not None:
            counts = self.engine.brushed_counts(self._brush, codes, size)
            if counts is not None:
                return counts
        if self._mask is None:
            return self.engine.counts(codes, size)
        return np.bincount(codes.take(self.engine.rows(self._mask)), minlength=size + 1)[:size]

    def confusion(self, label: str, prediction: str) -> pl.DataFrame:
        """Counts per (``label``, ``prediction``) pair."""
        return self.group_counts([label, prediction])

    def bins2d(self, x: str, y: str, size: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Counts of ``(x, y)`` on a ``size`` x ``size`` grid as ``(counts, y_edges, x_edges)``: rows are y.

        The edges span the whole table, so the grid stays put while the filter changes.
        """
        for col in (x, y):
            self._numeric(col)
        size = int(size)
        (_, xe), (_, ye) = self.engine.codes(x, size), self.engine.codes(y, size)
        # A missing x or y lands in the dropped last cells.
        cells = self.engine.cells(x, y, size)
        counts = self._bincount(cells, (size + 1) * (size + 1)).reshape(size + 1, size + 1)[:size, :size]
        return counts.astype(np.float64), ye, xe

    def rows(
        self,
        columns: Sequence[str] | None = None,
        sort: Sequence[tuple[str, bool]] = (),
        offset: int = 0,
        limit: int = 100,
    ) -> pl.DataFrame:
        """One page of rows, sorted by ``(column, descending)`` pairs; polars picks top-k for a sorted head."""
        names = [name for name, _ in sort]
        for name in [*names, *(columns or ())]:
            self.dataset.column(name)
        offset, limit = max(0, int(offset)), max(0, min(int(limit), 10_000))
        picked = self._page_by_numbers(sort, offset, limit)
        if picked is not None:
            page = self.dataset.frame[picked]
            return page if columns is None else page.select(columns)
        frame = self.frame(None if columns is None else list(dict.fromkeys([*columns, *names]))).lazy()
        if sort:
            frame = frame.sort(names, descending=[d for _, d in sort], nulls_last=True, maintain_order=True)
        page = frame.slice(offset, limit).collect()
        return page if columns is None else page.select(columns)

    def _page_by_numbers(self, sort: Sequence[tuple[str, bool]], offset: int, limit: int) -> np.ndarray | None:
        """The table positions of a page sorted by one numeric column with no missing values among the rows, found
        with a partial sort of that column alone (the page's other columns are gathered for its rows only); ties in
        table order, as polars' stable sort. ``None`` when another sort applies."""
        rows = self.engine.rows(self._mask) if self._mask is not None else None
        if not sort:
            return (rows if rows is not None else np.arange(len(self.dataset)))[offset : offset + limit]
        if len(sort) > 1 or self.dataset.column(sort[0][0]).kind != "numeric":
            return None
        (name, descending), need = sort[0], offset + limit
        values = self.dataset.frame[name]
        if values.null_count() or not values.dtype.is_numeric():
            return None
        key = self.engine.numbers(name)
        key = key if rows is None else key.take(rows)
        if key.dtype.kind == "f" and np.isnan(key).any():
            return None
        if descending:
            key = ~key if key.dtype.kind in "iu" else -key  # ~ reverses integers without overflow
        positions = np.arange(key.size)
        if need < key.size:
            kth = np.partition(key, need - 1)[need - 1] if need else key.min() - 1
            below = np.flatnonzero(key < kth)
            positions = np.concatenate([below, np.flatnonzero(key == kth)[: need - below.size]])
        ordered = positions[np.lexsort((positions, key[positions]))][offset:need]
        return ordered if rows is None else rows[ordered]

    def sample(self, n: int, columns: Sequence[str] | None = None, seed: int = 0) -> pl.DataFrame:
        """At most ``n`` rows drawn at random, in table order (the same rows for the same seed and filter).

        The positions are drawn first and only those rows gathered: the filter's rows are never copied whole.
        """
        rows = self.engine.rows(self._mask) if self._mask is not None else None
        total = len(self.dataset) if rows is None else rows.size
        if total <= n:
            return self.frame(columns)
        for col in columns or ():
            self.dataset.column(col)
        picked = np.sort(np.random.default_rng(seed).choice(total, size=int(n), replace=False))
        frame = self.dataset.frame if columns is None else self.dataset.frame.select(columns)
        return frame[picked if rows is None else rows[picked]]

    def ids(self, limit: int | None = None) -> list[Any]:
        """The ids of the rows, in table order."""
        ids = self.frame([self.dataset.id_column])[self.dataset.id_column]
        return (ids.head(limit) if limit else ids).to_list()

    def contains_ids(self, values: Sequence[Any]) -> list[Any]:
        """Which of ``values`` are ids of rows that pass the filter."""
        frame = self.frame([self.dataset.id_column])
        return frame.filter(pl.col(self.dataset.id_column).is_in(list(values)))[self.dataset.id_column].to_list()

    def _numeric(self, column: str) -> None:
        if self.dataset.column(column).kind not in ("numeric", "datetime"):
            raise DatasetError(f"column {column!r} is not numeric")


def points_in_polygon(x: np.ndarray, y: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd rule over the vertices, vectorised over the points inside the polygon's bounding box."""
    px, py = poly[:, 0], poly[:, 1]
    with np.errstate(invalid="ignore"):
        candidates = np.flatnonzero((x >= px.min()) & (x <= px.max()) & (y >= py.min()) & (y <= py.max()))
    cx, cy = x[candidates], y[candidates]
    inside = np.zeros(candidates.size, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for (xi, yi), (xj, yj) in zip(poly, np.roll(poly, 1, axis=0), strict=True):
            crosses = (yi > cy) != (yj > cy)
            inside ^= crosses & (cx < (xj - xi) * (cy - yi) / (yj - yi) + xi)
    out = np.zeros(x.size, dtype=bool)
    out[candidates] = inside
    return out


def _cell_states(poly: np.ndarray, x_edges: np.ndarray, y_edges: np.ndarray) -> np.ndarray:
    """For the cells of a grid (plus a last row and column for missing values, always outside): inside, outside, or
    on the polygon's outline, where a row's own position decides."""
    size_x, size_y = len(x_edges) - 1, len(y_edges) - 1
    cx, cy = (x_edges[:-1] + x_edges[1:]) / 2, (y_edges[:-1] + y_edges[1:]) / 2
    # The centres by scan line: where each row of centres crosses the edges, and the even-odd count left of each.
    (xi, yi), (xj, yj) = poly.T, np.roll(poly, 1, axis=0).T
    with np.errstate(divide="ignore", invalid="ignore"):
        crosses = (yi[None, :] > cy[:, None]) != (yj[None, :] > cy[:, None])
        at = np.where(crosses, xi + (cy[:, None] - yi) * (xj - xi) / (yj - yi), np.inf)
    at.sort(axis=1)
    # Crossings left of each centre, every row at once: the rows laid end to end, each shifted past the one before.
    # (Crossings beyond the first or last centre are moved to just beyond it: they count the same, and the rows'
    # spans then never overlap.)
    shift = (np.arange(size_y) * (cx[-1] - cx[0] + 3.0))[:, None]
    ends = (np.clip(at, cx[0] - 1.0, cx[-1] + 1.0) - cx[0] + shift).ravel()  # sorted: each row is, and rows follow
    left = np.searchsorted(ends, (cx[None, :] - cx[0] + shift).ravel(), side="right").reshape(size_y, size_x)
    states = np.zeros((size_y + 1, size_x + 1), dtype=np.uint8)
    states[:size_y, :size_x] = (left - np.arange(size_y)[:, None] * at.shape[1]) % 2
    # The outline: each edge walked in steps of half the smaller cell side, then grown by one cell all round.
    dx, dy = x_edges[1] - x_edges[0], y_edges[1] - y_edges[0]
    length = np.hypot((xj - xi) / dx, (yj - yi) / dy)
    steps = np.ceil(length * 2).astype(np.int64) + 1
    t = np.concatenate([np.linspace(0, 1, n) for n in steps])
    start = np.repeat(np.arange(len(poly)), steps)
    px, py = xi[start] + t * (xj - xi)[start], yi[start] + t * (yj - yi)[start]
    col = np.clip(np.floor((px - x_edges[0]) / dx), 0, size_x - 1).astype(np.int64)
    row = np.clip(np.floor((py - y_edges[0]) / dy), 0, size_y - 1).astype(np.int64)
    outline = np.zeros((size_y + 2, size_x + 2), dtype=bool)
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            outline[row + dr, col + dc] = True
    states[:size_y, :size_x][outline[1:-1, 1:-1]] = _EDGE
    return states


def _inside_by_band(
    xs: np.ndarray, ys: np.ndarray, band: np.ndarray, poly: np.ndarray, y_edges: np.ndarray
) -> np.ndarray:
    """The even-odd test of points, edge by edge against only the points in the bands (grid rows) of y it reaches.

    The points are sorted by band once (a radix sort of small integers), so each edge tests one contiguous run of
    them and flips their parity there: the work is the points times the edges that reach them, not times every edge.
    """
    (xi, yi), (xj, yj) = poly.T, np.roll(poly, 1, axis=0).T
    dy, bands = y_edges[1] - y_edges[0], len(y_edges) - 1
    first = np.clip(np.floor((np.minimum(yi, yj) - y_edges[0]) / dy), 0, bands - 1).astype(np.int64)
    last = np.clip(np.floor((np.maximum(yi, yj) - y_edges[0]) / dy), 0, bands - 1).astype(np.int64)
    order = np.argsort(band.astype(np.int16 if bands < 2**15 else np.int32), kind="stable")
    starts = np.searchsorted(band[order], np.arange(bands + 2))  # a missing y is in band ``bands``: never reached
    px, py = xs[order], ys[order]
    parity = np.zeros(xs.size, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for e in np.flatnonzero(yi != yj):  # a level edge is never crossed by a level ray
            run = slice(starts[first[e]], starts[last[e] + 1])
            y = py[run]
            crosses = (yi[e] > y) != (yj[e] > y)
            parity[run] ^= crosses & (px[run] < (xj[e] - xi[e]) * (y - yi[e]) / (yj[e] - yi[e]) + xi[e])
    out = np.empty(xs.size, dtype=bool)
    out[order] = parity
    return out


def _check_against_schema(ds: Dataset, c: Clause) -> None:
    if c.op == "polygon":
        for col in c.columns:  # type: ignore[union-attr]
            if ds.column(col).kind != "numeric":
                raise DatasetError(f"a polygon needs numeric columns; {col!r} is {ds.columns[col].kind}")
        return
    if c.op in ("all", "any", "not"):
        for group in c.groups():
            for part in group:
                _check_against_schema(ds, part)
        return
    if c.op == "pairs":
        # Each side is checked as the 'in' clause of its column's values.
        for i, col in enumerate(c.columns):  # type: ignore[arg-type]
            _check_against_schema(ds, Clause(op="in", column=col, value=[p[i] for p in c.value]))
        return
    info = ds.column(ds.id_column if c.op == "ids" else c.column)
    dtype = ds.frame[info.name].dtype
    if c.op in _ORDERED:
        if info.kind not in ("numeric", "datetime"):
            raise DatasetError(f"'{c.op}' needs a numeric or date column; {info.name!r} is {info.kind}")
        for v in c.value if c.op == "range" else [c.value]:
            _literal(info.name, dtype, v)
    elif c.op == "contains":
        if info.kind not in _TEXTUAL:
            raise DatasetError(f"'contains' needs a text column; {info.name!r} is {info.kind}")
    elif c.op in ("eq", "in", "not_in", "ids"):
        if info.kind == "embedding":
            raise DatasetError(f"'{c.op}' cannot compare the embedding column {info.name!r}")
        for v in c.value if isinstance(c.value, list) else [c.value]:
            _literal(info.name, dtype, v)


def _literal(column: str, dtype: pl.DataType, v: Any) -> Any:
    """The value as a literal of the column's type, or a :class:`DatasetError` saying which type was expected."""
    if dtype == pl.Boolean:
        if isinstance(v, bool):
            return v
        expected = "true or false"
    elif dtype.is_numeric():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            # A browser sends 1e20 as a whole number: beyond 64 bits polars has no integer type for it.
            return v if isinstance(v, float) or _INT64[0] <= v <= _UINT64[1] else float(v)
        expected = "a number"
    elif dtype.is_temporal():
        if isinstance(v, str):
            try:
                if dtype == pl.Date:
                    return date.fromisoformat(v[:10])
                return _in_zone(datetime.fromisoformat(v), getattr(dtype, "time_zone", None))
            except ValueError:
                pass
        expected = "an ISO date such as '2024-05-01'"
    else:
        if isinstance(v, str):
            return v
        expected = "a string"
    raise DatasetError(f"column {column!r} holds {dtype}; the value {v!r} is not {expected}")


def _in_zone(moment: datetime, zone: str | None) -> datetime:
    """The moment as the column holds it: polars refuses to compare naive with zoned times.

    A naive moment is read in the column's time zone; a zoned one is converted to it (to UTC for a naive column).
    """
    if zone is None:
        return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(tzinfo=ZoneInfo(zone)) if moment.tzinfo is None else moment.astimezone(ZoneInfo(zone))


def _expression(ds: Dataset, c: Clause) -> pl.Expr:
    if c.op == "pairs":
        return _pairs(ds, c)
    if c.op == "all":
        return pl.all_horizontal([_expression(ds, part) for part in c.parts()])
    if c.op == "any":
        return pl.any_horizontal([_every(ds, group) for group in c.groups()])
    if c.op == "not":
        # The rows the parts leave out, those with a missing value among them: ``not x < 0.6`` keeps missing x.
        return ~_every(ds, c.parts())
    column = ds.id_column if c.op == "ids" else c.column
    col = pl.col(column)  # type: ignore[arg-type]
    dtype = ds.frame[column].dtype
    if c.op == "is_null":
        return col.is_null() if c.value in (None, True) else col.is_not_null()
    if c.op == "contains":
        return col.cast(pl.String).str.to_lowercase().str.contains(c.value.lower(), literal=True)
    if c.op == "range":
        low, high = (_literal(column, dtype, v) for v in c.value)  # type: ignore[arg-type]
        return col.is_between(pl.lit(low), pl.lit(high), closed="both")
    if c.op in _COMPARE:
        return _COMPARE[c.op](col, pl.lit(_literal(column, dtype, c.value)))  # type: ignore[arg-type]
    values = [_literal(column, dtype, v) for v in (c.value if isinstance(c.value, list) else [c.value])]  # type: ignore[arg-type]
    col, series = _comparable(col, dtype, values)
    matched = col.is_in(series.implode())  # one list of values: ``is_in`` with a bare series is deprecated
    return ~matched | col.is_null() if c.op == "not_in" else matched


def _every(ds: Dataset, parts: list[Clause]) -> pl.Expr:
    """Whether a row passes every part, false (never missing) where a part meets a missing value."""
    return pl.all_horizontal([_expression(ds, part) for part in parts]).fill_null(False)


def _pairs(ds: Dataset, c: Clause) -> pl.Expr:
    """``(a, b)`` in the pairs, as one ``is_in`` per distinct first value: a row of matrix cells is one comparison."""
    first, second = c.columns  # type: ignore[misc]
    by_first: dict[Any, list[Any]] = {}
    for a, b in c.value:
        by_first.setdefault(a, []).append(b)
    if not by_first:
        return pl.lit(False)
    return pl.any_horizontal(
        [
            _expression(ds, Clause(op="in", column=first, value=[a]))
            & _expression(ds, Clause(op="in", column=second, value=bs))
            for a, bs in by_first.items()
        ]
    )


def _comparable(col: pl.Expr, dtype: pl.DataType, values: list[Any]) -> tuple[pl.Expr, pl.Series]:
    """The column and the values as one type, so ``is_in`` compares like with like."""
    if isinstance(dtype, pl.Enum):
        # An unknown category selects nothing rather than failing the cast.
        known = set(dtype.categories.to_list())
        return col.cast(pl.String), pl.Series([v for v in values if v in known], dtype=pl.String)
    if dtype.is_integer() and all(isinstance(v, int) for v in values):
        # A whole number outside the 64-bit range of the column cannot equal any of its values.
        target, (low, high) = (pl.UInt64, _UINT64) if dtype == pl.UInt64 else (pl.Int64, _INT64)
        return col.cast(target), pl.Series([v for v in values if low <= v <= high], dtype=target)
    if dtype.is_numeric():
        return col.cast(pl.Float64), pl.Series(values, dtype=pl.Float64)
    return col, pl.Series(values, dtype=dtype)
