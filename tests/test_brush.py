"""A moving brush is counted from cubes prepared when it starts to move: the same answers as filtering the table."""

import numpy as np
import polars as pl
import pytest
from helpers import toy_frame

from symphony_dash import engine as engine_module
from symphony_dash.brush import BrushIndex
from symphony_dash.dataset import Dataset
from symphony_dash.engine import Engine, Query
from symphony_dash.state import Clause, between, isin


def frame_with_edges(n: int = 6000) -> pl.DataFrame:
    """The toy table, with ties, missing values and NaN in the brushed column, and a heavy value at 1.0."""
    frame = pl.from_pandas(toy_frame(n, seed=3))
    rng = np.random.default_rng(5)
    score = np.round(rng.beta(5, 1.5, n), 3)  # rounded: many ties, some exactly on a brush's ends
    score[rng.random(n) < 0.1] = 1.0
    score[rng.random(n) < 0.03] = np.nan
    missing = np.arange(n) % 97 == 0
    return frame.with_columns(score=pl.Series(score)).with_columns(
        pl.when(pl.Series(missing)).then(None).otherwise(pl.col("score")).alias("score")
    )


FRAME = frame_with_edges()
# Ends on values of the data, inside one bin, a single value, beyond the data.
RANGES = [(0.5, 0.9), (0.612, 0.613), (0.7, 0.7), (0.95, 1.0), (1.0, 1.0), (-5.0, 0.3), (0.2, 7.0), (0.3, 0.301)]


def answers(query: Query) -> dict:
    """Every view request that counts rows."""
    return {
        "count": query.count(),
        "confidence": query.histogram("confidence", 25)[1].tolist(),
        "score": query.histogram("score", 10)[1].tolist(),
        "labels": query.value_counts("label", limit=None).rows(),
        "crosstab": query.crosstab("label", "split")[2].tolist(),
        "pairs": query.group_counts(["label", "prediction"]).rows(),
        "page": query.rows(["id"], sort=[("confidence", True)], limit=20)["id"].to_list(),
    }


@pytest.mark.parametrize(
    "rest", [[], [isin("split", ["test"], source="split")], [between("confidence", 0.3, 0.8, source="conf")]]
)
def test_a_moving_brush_gives_the_answers_of_the_filtered_table(rest):
    engine = Engine(Dataset(FRAME))
    for low, high in RANGES:
        clauses = [*rest, between("score", low, high, source="brush")]
        filtered = Query(engine, engine.mask(clauses))  # the plain way: a mask over the table
        assert answers(engine.where(clauses)) == answers(filtered), (low, high)
    assert engine._cubes, "from the second position on, the views were counted from cubes"
    assert {key[0] for key in engine._cubes} == {tuple(sorted(c.key() for c in rest))}


def test_bar_after_bar_gives_the_answers_of_the_filtered_table():
    """Clicking through a categorical column's bars (and its missing values, and leaving some out) moves its clause."""
    engine = Engine(Dataset(FRAME.with_columns(pl.when(pl.col("id") % 13 == 0).then(None).otherwise("split"))))
    rest = [between("score", 0.5, 0.95, source="brush")]
    clicks = [
        isin("split", ["test"]),
        isin("split", ["train"]),
        isin("split", ["train", "test"]),
        Clause(op="is_null", column="split", value=True, source="split"),
        Clause(op="not_in", column="split", value=["test"], source="split"),
        Clause(op="in", column="split", value=["no such split"], source="split"),
    ]
    for click in clicks:
        clauses = [*rest, click.model_copy(update={"source": "split"})]
        assert answers(engine.where(clauses)) == answers(Query(engine, engine.mask(clauses))), click
    assert any(key[2:3] == ("levels",) for key in engine._cubes), "counted from cubes by the split's values"


def test_lasso_after_lasso_gives_the_answers_of_the_filtered_table(monkeypatch):
    """Lassos and boxes drawn one after another on a scatter, reaching beyond the data, with missing x or y."""
    monkeypatch.setattr(engine_module, "LASSO_CUBE_ROWS", 0)  # on tables of millions of rows only, by default
    frame = FRAME.with_columns(pl.when(pl.col("id") % 11 == 0).then(None).otherwise("x").alias("x"))
    engine = Engine(Dataset(frame))
    rest = [isin("split", ["test"], source="split")]
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    loops = [np.c_[np.cos(t) * r + dx, np.sin(2 * t) * r] for r, dx in ((1.0, 0), (2.0, 0.5), (0.3, -1), (9.0, 0))]
    boxes = [[[-1, -1], [1, -1], [1, 0.5], [-1, 0.5]], [[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01]]]
    for shape in [*loops, *boxes]:
        lasso = Clause(op="polygon", columns=("x", "y"), value=np.asarray(shape).tolist(), source="scatter")
        clauses = [*rest, lasso]
        assert answers(engine.where(clauses)) == answers(Query(engine, engine.mask(clauses)))
    assert any(key[2:3] == ("lasso",) for key in engine._cubes), "counted from cubes by the grid's cells"


def test_a_still_range_is_filtered_as_usual_while_its_index_is_made_in_the_background():
    engine = Engine(Dataset(FRAME))
    clauses = [between("score", 0.5, 0.9, source="brush")]
    for _ in range(3):
        engine.where(clauses).histogram("confidence")
    assert not engine._cubes
    engine._preparing["score"].join(timeout=30)  # started when the brush first appeared, as Falcon does
    assert "score" in engine._brush_indexes


def test_bins_keep_the_order_of_values():
    values = np.r_[np.random.default_rng(0).normal(size=50_000), [np.nan] * 10]
    index = BrushIndex(values, bins=64)
    codes = index.codes[:-10].astype(int)
    order = np.argsort(values[:-10], kind="stable")
    assert (np.diff(codes[order]) >= 0).all(), "a larger value is never in an earlier bin"
    assert (index.codes[-10:] == index.missing).all()
    sizes = np.diff(index.starts)[: index.missing]
    assert sizes.max() < 3 * sizes.mean(), "bins of about equal row counts"
    assert sorted(np.concatenate([index.rows_in(b) for b in range(index.missing + 1)])) == list(range(values.size))


def test_the_caches_keep_to_their_byte_budget():
    """Masks as long as the table are dropped, oldest first, once a cache holds a quarter of the table's size."""
    engine = Engine(Dataset(FRAME))
    engine._masks.max_bytes = 3 * len(FRAME)  # room for three masks of one byte per row
    for k in range(6):
        engine.where([between("confidence", 0.1 * k, 0.95, source="conf")]).ids()
    assert len(engine._masks) == 3
    kept = [key[0] for key in engine._masks]
    assert kept == [between("confidence", 0.1 * k, 0.95, source="conf").key() for k in (3, 4, 5)]
