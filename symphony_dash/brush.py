"""Brushing at any size: counts under a moving selection, from counts prepared when the selection starts to move.

A brush dragged across a histogram changes one ``range`` clause many times while the rest of the filter stays put;
clicking bar after bar of a categorical histogram does the same to an ``in`` clause, and drawing lasso after lasso on
a scatter to a ``polygon``. As in Falcon and Mosaic, the engine then stops filtering the table again for every
position. It bins the moving clause's column(s) once: a numeric column into about a thousand bins of equal row
counts (:class:`BrushIndex`), a categorical one by its values (:class:`LevelIndex`), two numeric ones by the cells
of a grid (:class:`CellIndex`). Once per brush and view it counts the view's codes per bin among the rows the rest of
the filter keeps (:class:`BrushCube`). Then counts for a range are two rows of running sums plus an exact test of
the rows in the two bins its ends fall in; for a set of values, the sum of their rows; for a lasso, the runs of grid
cells wholly inside it, row by row of the grid, plus the rows of the cells its outline crosses, tested one by one.
The answers are exact, not pixel-rounded, and cost a small part of a pass over the table.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Binned", "BrushCube", "BrushIndex", "CellIndex", "LevelIndex", "RestOfFilter"]

BINS = 1024
FINE = 1 << 16  # the uniform grid a numeric column's bins are made of
# A view with more codes than this (a scatter's 2-D grid) is counted from the mask as usual: its table would be big.
MAX_CELLS = 1 << 23
COUNT = np.int32  # the running sums: a table of fewer than 2**31 rows (a cube is half the bytes of int64)


class Binned:
    """Rows in bins (``codes``, one per row, fewer than 2**15 bins), sorted by bin: a bin's rows are one slice."""

    def __init__(self, codes: np.ndarray, bins: int) -> None:
        self.codes, self.bins = codes, bins
        self.order = np.argsort(codes.astype(np.int16, copy=False), kind="stable")  # a radix sort of small integers
        self.starts = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=bins))])

    def rows_in(self, *bins: int) -> np.ndarray:
        """The table positions of the rows in the bins: their slices of ``order``, end to end."""
        first, lengths = self.starts[list(bins)], np.diff(self.starts)[list(bins)]
        shift = np.repeat(first - (np.cumsum(lengths) - lengths), lengths)
        return self.order[shift + np.arange(shift.size)]


class BrushIndex(Binned):
    """One numeric column cut into bins of about equal row counts, with the rows sorted by bin.

    A value's bin is read from a table over a fine uniform grid of the column's extent, a table that never goes down
    from one cell to the next: so the bins keep the values' order, and every row of a bin strictly between the bins
    of a range's two ends is inside the range. (A lookup, not a search among cut points: ten times faster.) Missing
    values are in a bin of their own, after the others, which no range reaches.
    """

    def __init__(self, values: np.ndarray, bins: int = BINS, seed: int = 0) -> None:
        self.values = values  # float64, NaN for missing
        present = ~np.isnan(values)
        self.low, self.high = (float(np.nanmin(values)), float(np.nanmax(values))) if present.any() else (0.0, 1.0)
        self.scale = FINE / (self.high - self.low) if self.high > self.low else 0.0
        # Each fine cell's bin, from a sample's counts per cell: the bins need only be about equal.
        sample = values[present]
        if sample.size > 200_000:
            sample = np.random.default_rng(seed).choice(sample, 200_000, replace=False)
        counts = np.bincount(self._cell(sample), minlength=FINE)
        before = np.cumsum(counts) - counts  # the sampled values in cells before each
        self.table = np.minimum(before * bins // max(sample.size, 1), bins - 1).astype(np.int16)  # bins < 2**15
        self.missing = bins
        codes = self.table[self._cell(values)]
        codes[~present] = self.missing
        super().__init__(codes, bins + 1)

    def _cell(self, values: np.ndarray) -> np.ndarray:
        """Each value's cell of the fine grid (NaN lands anywhere: its bin is set apart after)."""
        with np.errstate(invalid="ignore"):
            cells = np.floor((values - self.low) * self.scale)
        return np.clip(np.nan_to_num(cells, nan=0.0), 0, FINE - 1).astype(np.int32)

    def bin_of(self, value: float) -> int:
        return int(self.table[self._cell(np.array([value]))[0]])


class CellIndex(Binned):
    """Two numeric columns binned by the cells of a ``size`` x ``size`` grid (the engine's cell codes, with a last
    row and column for missing values): a lasso or box's cells are wholly inside, outside, or on its outline."""

    def __init__(self, cells: np.ndarray, size: int, x_edges: np.ndarray, y_edges: np.ndarray) -> None:
        super().__init__(cells, (size + 1) ** 2)
        self.size, self.x_edges, self.y_edges = size, x_edges, y_edges


class LevelIndex:
    """A column of few distinct values, binned by value: the engine's level codes (the last one for missing)."""

    def __init__(self, codes: np.ndarray, levels: int) -> None:
        self.codes, self.bins = codes, levels + 1


class RestOfFilter:
    """The rows the rest of a brush's filter keeps, and their bins of the brushed column: shared by its cubes."""

    def __init__(self, index: Binned | LevelIndex, mask: np.ndarray | None, rows: np.ndarray | None) -> None:
        self.mask, self.rows = mask, rows
        # Wide enough for ``bin * width + code`` of any cube (MAX_CELLS), in half the bytes of int64.
        self.bins = (index.codes if rows is None else index.codes.take(rows)).astype(np.int32)
        self.nbytes = self.bins.nbytes  # the mask and rows are the engine's, in its own caches


class BrushCube:
    """Counts of one view's codes per bin of the moving clause's column(s), over the rows the rest of the filter keeps.

    For a range they are summed from the first bin on (``cum[b]``: the rows in bins before ``b``); for a lasso along
    each row of the grid (``cum[row, x]``: the rows in that row's cells left of ``x``), so the cells a lasso holds
    are counted by the runs of them in each row, a few hundred lookups rather than a pass over every cell.
    """

    def __init__(self, index: Binned | LevelIndex, rest: RestOfFilter, codes: np.ndarray, size: int) -> None:
        self.index, self.rest, self.codes, self.size = index, rest.mask, codes, size
        width = size + 1  # code ``size`` marks a missing value in the view's column: counted, then dropped
        viewed = codes if rest.rows is None else codes.take(rest.rows)
        cube = np.bincount(rest.bins * width + viewed, minlength=index.bins * width).reshape(index.bins, width)
        cube = cube[:, :size]
        if isinstance(index, BrushIndex):
            self.cum = np.zeros((index.bins, size), dtype=COUNT)
            np.cumsum(cube[:-1], axis=0, out=self.cum[1:])  # no range reaches the missing values' bin
        elif isinstance(index, CellIndex):
            side = index.size + 1
            self.cum = np.zeros((side, side + 1, size), dtype=COUNT)
            np.cumsum(cube.reshape(side, side, size), axis=1, out=self.cum[:, 1:])
        else:
            self.cube = cube
        self.nbytes = (self.cube if hasattr(self, "cube") else self.cum).nbytes  # the codes and mask are not its own

    def counts_of(self, kept: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """The view's counts over the rows whose bin ``kept`` marks (one flag per bin) and the rest keeps, plus those
        over ``rows``: rows of other bins found to pass one by one (those of a lasso's outline)."""
        if isinstance(self.index, CellIndex):
            side = self.index.size + 1
            edges = np.diff(np.pad(kept.reshape(side, side).astype(np.int8), ((0, 0), (1, 1))), axis=1)
            starts, ends = np.nonzero(edges == 1), np.nonzero(edges == -1)  # row by row, left to right: they pair up
            counts = self.cum[ends].sum(axis=0, dtype=np.int64) - self.cum[starts].sum(axis=0, dtype=np.int64)
        else:
            counts = self.cube[kept].sum(axis=0)
        if rows is not None:
            counts = counts + np.bincount(self.codes.take(rows), minlength=self.size + 1)[: self.size]
        return counts

    def counts(self, low: float, high: float) -> np.ndarray:
        """The view's counts over the rows with ``low <= value <= high`` that the rest of the filter keeps."""
        index = self.index
        assert isinstance(index, BrushIndex)
        if not low <= high:
            return np.zeros(self.size, dtype=np.int64)
        first, last = index.bin_of(low), index.bin_of(high)
        counts = (
            (self.cum[last] - self.cum[first + 1]).astype(np.int64)
            if last > first + 1
            else np.zeros(self.size, np.int64)
        )
        for b in {first, last}:  # the ends: row by row
            rows = index.rows_in(b)
            if self.rest is not None:
                rows = rows[self.rest[rows]]
            values = index.values[rows]
            rows = rows[(values >= low) & (values <= high)]
            counts = counts + np.bincount(self.codes.take(rows), minlength=self.size + 1)[: self.size]
        return counts
