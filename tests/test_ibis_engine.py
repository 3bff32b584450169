"""The engine's view requests over Ibis (Spark in local mode, DuckDB) give the polars engine's answers on the same data.

One small table is kept in polars and written to Parquet, which DuckDB and one Spark session (started once for the
module) read; every view request is asked under filters of every clause op, with missing values, dates and categories.
Then the demo layout's components draw the same over DuckDB, and a layout file and the app serve a DuckDB table.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import polars as pl
import pytest

from symphony_dash.dataset import Dataset
from symphony_dash.engine import Engine
from symphony_dash.ibis_engine import MAX_FRAME_ROWS, IbisDataset, IbisEngine, InMemoryOnly
from symphony_dash.layout import LayoutError, load_layout
from symphony_dash.state import (
    Clause,
    ClauseError,
    all_of,
    any_of,
    between,
    compare,
    contains,
    eq,
    ids,
    is_null,
    isin,
    negate,
    not_in,
    pairs,
    polygon,
)

# PySpark 4.0 and Ibis convert through pandas 3, which warns of options they still pass.
pytestmark = [
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
    pytest.mark.filterwarnings("ignore:fetch_arrow_table\\(\\) is deprecated"),
]

ROWS = 1_500
LAYOUTS = Path(__file__).resolve().parents[1] / "symphony_dash" / "layouts"
LASSO = [(0.1, 0.1), (0.8, 0.2), (0.9, 0.7), (0.5, 0.95), (0.45, 0.45), (0.15, 0.6)]


def table_frame(n: int = ROWS, seed: int = 7) -> pl.DataFrame:
    """Every kind of column the views read, with missing values in most, ids in table order."""
    rng = np.random.default_rng(seed)

    def holes(values: list[Any], share: float = 0.1) -> list[Any]:
        return [None if rng.random() < share else v for v in values]

    label = rng.integers(0, 10, n)
    start = datetime(2024, 1, 1)
    return pl.DataFrame(
        {
            "id": np.arange(n, dtype=np.int64),
            "label": label,
            "prediction": np.where(rng.random(n) < 0.7, label, rng.integers(0, 10, n)),
            "confidence": holes(rng.random(n).round(3).tolist()),
            "x": holes(rng.random(n).tolist(), 0.03),
            "y": rng.random(n),
            "count": rng.integers(-5, 50, n),  # a column named like the counts of value_counts
            "split": holes(rng.choice(["train", "test", "val", "RAIN"], n).tolist()),
            "flag": holes((rng.random(n) < 0.4).tolist()),
            "note": holes([f"note {i % 400} ab{i % 7}" for i in range(n)]),
            "day": holes([date(2024, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 90, n)]),
            "seen": holes([start + timedelta(seconds=int(s)) for s in rng.integers(0, 30 * 86400, n)]),
        },
        schema_overrides={"day": pl.Date, "seen": pl.Datetime("us")},
    )


FILTERS: dict[str, list[Clause]] = {
    "none": [],
    "eq": [eq("label", 3)],
    "eq-float-on-int": [eq("label", 3.0)],
    "in": [isin("split", ["train", "test", "unknown"])],
    "in-beyond-64-bits": [isin("count", [2**70, 4])],
    "not_in": [not_in("split", ["train"])],
    "range": [between("confidence", 0.2, 0.7)],
    "lt": [compare("x", "<", 0.5)],
    "le": [compare("count", "<=", 10)],
    "gt": [compare("confidence", ">", 0.35)],
    "ge": [compare("y", ">=", 0.25)],
    "is_null": [is_null("confidence")],
    "is_not_null": [is_null("split", missing=False)],
    "contains-text": [contains("note", "AB3")],
    "contains-category": [contains("split", "rai")],
    "polygon": [polygon("x", "y", LASSO)],
    "ids": [ids([1, 5, 9, 400, 1_499, 99_999])],
    "pairs": [pairs(("label", "prediction"), [(1, 1), (2, 3), (8, 8)])],
    "all": [all_of([eq("label", 2), between("confidence", 0.1, 0.9), is_null("split", False)])],
    "any": [any_of([eq("label", 8), [eq("split", "test"), compare("confidence", "<", 0.5)]])],
    "not": [negate(compare("confidence", "<", 0.6))],
    "not-nested": [negate([any_of([eq("flag", True), is_null("x")]), compare("y", ">", 0.2)])],
    "bool": [eq("flag", False)],
    "date-range": [between("day", "2024-01-10", "2024-02-01")],
    "date-gt": [compare("day", ">", "2024-02-15")],
    "datetime-lt": [compare("seen", "<", "2024-01-12T06:00:00")],
    "three": [compare("x", "<", 0.7), isin("split", ["val", "RAIN"]), polygon("x", "y", LASSO)],
}
# The filters every request is asked under on Spark (each request there is a Spark job: the module stays quick).
SPARK_FULL = ("none", "three", "not")


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return table_frame()


@pytest.fixture(scope="module")
def parquet(frame: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ibis") / "table.parquet"
    frame.write_parquet(path)
    return path


@pytest.fixture(scope="module")
def polars_engine(frame: pl.DataFrame) -> Engine:
    return Engine(Dataset(frame))


@pytest.fixture(scope="module")
def spark() -> Any:
    """One Spark session in local mode for the module (it takes seconds to start)."""
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (scripts/test installs default-jre-headless)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("symphony-dash-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.bindAddress", "127.0.0.1")  # loopback only, whatever the host's name resolves to
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_engine(spark: Any, parquet: Path) -> IbisEngine:
    spark.read.parquet(str(parquet)).createOrReplaceTempView("predictions")
    table = ibis.pyspark.connect(spark).table("predictions")
    return IbisEngine(IbisDataset(table))


@pytest.fixture(scope="module")
def duckdb_engine(parquet: Path) -> IbisEngine:
    return IbisEngine(IbisDataset(ibis.duckdb.connect().read_parquet(parquet)))


def answers(query: Any) -> dict[str, Any]:
    """Every view request's answer under one filter, as plain values to compare."""
    levels, by, counts = query.crosstab("label", "split")
    edges, by_bins, binned = query.crosstab("confidence", "label", bins=10)
    density, ye, xe = query.bins2d("x", "y", 16)
    return {
        "count": query.count(),
        "histogram": [a.tolist() for a in query.histogram("confidence", 20)],
        "histogram-int": [a.tolist() for a in query.histogram("count", 7)],
        "histogram-date": query.histogram("day", 9)[1].tolist(),
        "value_counts": query.value_counts("split", limit=None).to_dicts(),
        "value_counts-top": query.value_counts("label", limit=4).to_dicts(),
        "value_counts-bool": query.value_counts("flag").to_dicts(),
        "value_counts-count": query.value_counts("count", limit=8).to_dicts(),
        "value_counts-text": query.value_counts("note", limit=10).to_dicts(),
        "crosstab": (levels.to_list(), by.to_list(), counts.tolist()),
        "crosstab-bins": (edges.tolist(), by_bins.to_list(), binned.tolist()),
        "confusion": query.confusion("label", "prediction").to_dicts(),
        "group_counts": query.group_counts(["split", "flag"], name="n").to_dicts(),
        "bins2d": (density.tolist(), ye.tolist(), xe.tolist()),
        "rows-sorted": query.rows(
            ["id", "split", "confidence"], sort=[("confidence", True)], offset=3, limit=25
        ).to_dicts(),
        "rows-two-keys": query.rows(None, sort=[("split", False), ("x", True)], limit=30).to_dicts(),
        "rows-date": query.rows(["id", "day", "seen"], sort=[("seen", False)], limit=10).to_dicts(),
        "rows-page": query.rows(["id", "label"], offset=10, limit=15).to_dicts(),
        "ids": query.ids(limit=40),
        "contains_ids": sorted(query.contains_ids([0, 3, 5, 9, 77, 1_000, 123_456])),
        "frame": query.frame(["id", "x", "day"]).to_dicts(),
    }


def check_same(expected: dict[str, Any], got: dict[str, Any], where: str) -> None:
    for name, want in expected.items():
        assert got[name] == want, f"{where}: {name} differs"


@pytest.mark.parametrize("name", list(FILTERS))
def test_duckdb_answers_as_polars(name: str, polars_engine: Engine, duckdb_engine: IbisEngine) -> None:
    clauses = FILTERS[name]
    check_same(answers(polars_engine.where(clauses)), answers(duckdb_engine.where(clauses)), f"duckdb, {name}")


def test_spark_answers_as_polars(polars_engine: Engine, spark_engine: IbisEngine) -> None:
    for name, clauses in FILTERS.items():
        expected, query = polars_engine.where(clauses), spark_engine.where(clauses)
        if name in SPARK_FULL:
            check_same(answers(expected), answers(query), f"spark, {name}")
        else:
            assert query.ids() == expected.ids(), f"spark, {name}: ids differ"


def test_spark_reads_the_schema_as_polars(polars_engine: Engine, spark_engine: IbisEngine) -> None:
    want, got = polars_engine.dataset, spark_engine.dataset
    assert {c: i.kind for c, i in got.columns.items()} == {c: i.kind for c, i in want.columns.items()}
    assert got.roles == want.roles
    assert len(got) == len(want) == ROWS
    assert got.categories("split") == want.categories("split")
    assert spark_engine.extent("confidence") == polars_engine.extent("confidence")


@pytest.mark.parametrize("seed", [0, 4])
def test_a_sample_is_repeatable_rows_of_the_filter(duckdb_engine: IbisEngine, polars_engine: Engine, seed: int) -> None:
    clauses = FILTERS["any"]
    allowed = set(polars_engine.where(clauses).ids())
    drawn = duckdb_engine.where(clauses).sample(50, ["id", "label"], seed=seed)
    assert drawn.height == 50 and set(drawn["id"]) <= allowed
    assert drawn["id"].to_list() == sorted(drawn["id"])  # in table (id) order
    assert drawn.equals(duckdb_engine.where(clauses).sample(50, ["id", "label"], seed=seed))
    small = duckdb_engine.where(FILTERS["ids"]).sample(50, ["id"], seed=seed)["id"].to_list()
    assert small == polars_engine.where(FILTERS["ids"]).ids()  # fewer rows than asked: all of them


def test_spark_sample_is_rows_of_the_filter(spark_engine: IbisEngine, polars_engine: Engine) -> None:
    drawn = spark_engine.where(FILTERS["three"]).sample(20, ["id"], seed=1)["id"].to_list()
    assert len(drawn) == 20 and set(drawn) <= set(polars_engine.where(FILTERS["three"]).ids())


def test_a_lasso_of_many_vertices(duckdb_engine: IbisEngine, polars_engine: Engine) -> None:
    angles = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    radius = 0.3 + 0.15 * np.sin(angles * 7)  # a star: many edges cross each row's line
    star = polygon("x", "y", list(zip(0.5 + radius * np.cos(angles), 0.5 + radius * np.sin(angles), strict=True)))
    assert duckdb_engine.where([star]).ids() == polars_engine.where([star]).ids()


def test_clauses_are_checked_against_the_schema_first(duckdb_engine: IbisEngine, polars_engine: Engine) -> None:
    bad = [
        eq("nope", 1),
        between("split", 1, 2),
        contains("confidence", "1"),
        eq("label", "three"),
        compare("day", "<", "not a date"),
        polygon("x", "split", LASSO),
    ]
    for clause in bad:
        with pytest.raises(ClauseError) as ours:
            duckdb_engine.where([clause])
        with pytest.raises(ClauseError) as theirs:
            polars_engine.where([clause]).count()
        assert str(ours.value) == str(theirs.value)


def test_a_value_never_becomes_sql_text(duckdb_engine: IbisEngine) -> None:
    hostile = "x'); DROP TABLE predictions; --"
    assert duckdb_engine.where([isin("split", [hostile]), contains("note", hostile)]).count() == 0
    assert duckdb_engine.where([contains("note", "%")]).count() == 0  # a literal, not a LIKE pattern
    assert duckdb_engine.all.count() == ROWS


def test_what_needs_the_rows_in_memory_says_so(duckdb_engine: IbisEngine, frame: pl.DataFrame) -> None:
    with pytest.raises(InMemoryOnly, match="needs the in-memory"):
        duckdb_engine.mask([eq("label", 3)])
    with pytest.raises(InMemoryOnly, match="needs the in-memory"):
        duckdb_engine.dataset.frame["label"]
    assert duckdb_engine.dataset.frame.schema["label"] == pl.Int64  # the schema is known
    big = IbisEngine(IbisDataset(ibis.memtable(pl.DataFrame({"id": np.arange(MAX_FRAME_ROWS + 1)}).to_arrow())))
    with pytest.raises(InMemoryOnly, match="whole rows"):
        big.all.frame()


def test_an_ibis_table_needs_unique_ids() -> None:
    with pytest.raises(ValueError, match="needs an id column"):
        IbisDataset(ibis.memtable({"a": [1, 2]}))
    with pytest.raises(ValueError, match="duplicate ids"):
        IbisDataset(ibis.memtable({"id": [1, 1]}))


def test_a_layout_points_at_a_duckdb_table(tmp_path: Path, parquet: Path, polars_engine: Engine) -> None:
    database = tmp_path / "warehouse.duckdb"
    con = ibis.duckdb.connect(str(database))
    con.create_table("predictions", con.read_parquet(parquet))
    con.disconnect()
    layout = {
        "title": "Warehouse",
        "data": {"ibis": {"url": f"duckdb://{database}", "table": "predictions"}, "id_column": "id"},
        "pages": [{"title": "Overview", "components": [{"type": "histogram", "id": "h", "props": {"column": "x"}}]}],
    }
    path = tmp_path / "warehouse.json"
    path.write_text(json.dumps(layout))
    loaded = load_layout(path)
    assert isinstance(loaded.engine, IbisEngine)
    assert loaded.engine.where([eq("label", 3)]).count() == polars_engine.where([eq("label", 3)]).count()


def test_a_bad_ibis_source_is_reported(tmp_path: Path) -> None:
    base = {"title": "W", "pages": [{"title": "P", "components": []}]}
    cases = {
        "neither": ({}, "data: give 'source' (a file or demo) or 'ibis' (a table in another engine)"),
        "both": ({"source": "a.parquet", "ibis": {"url": "duckdb://", "table": "t"}}, "not both"),
        "no backend": ({"ibis": {"table": "t"}}, "give 'url', 'url_env' or 'backend'"),
        "unknown backend": ({"ibis": {"backend": "oracle9", "table": "t"}}, "'oracle9' is not a backend"),
        "no table": ({"ibis": {"url": f"duckdb://{tmp_path / 'empty.duckdb'}", "table": "missing"}}, "no table"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / f"{name.replace(' ', '-')}.json"
        path.write_text(json.dumps({**base, "data": data}))
        with pytest.raises(LayoutError) as caught:
            load_layout(path)
        assert message in str(caught.value), name


@pytest.fixture(scope="module")
def demo_layouts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """The digits demo layout over its data twice: in polars, and in DuckDB through Ibis."""
    from symphony_dash import demo

    frame, media = demo.load_demo("digits")
    in_memory = load_layout(LAYOUTS / "digits.json", data=Dataset(frame, media_root=media))
    path = tmp_path_factory.mktemp("demo") / "digits.parquet"
    in_memory.dataset.frame.write_parquet(path)
    table = ibis.duckdb.connect().read_parquet(path)
    return in_memory, load_layout(LAYOUTS / "digits.json", data=IbisDataset(table, media_root=media))


# The components that draw a random sample (the draw differs between engines) or need the rows in memory.
SAMPLED = ("scatter",)
NEEDS_MEMORY = ("duplicates", "slice_finder")


def test_the_demo_components_draw_the_same_on_ibis(demo_layouts: tuple[Any, Any]) -> None:
    from plotly.utils import PlotlyJSONEncoder

    from symphony_dash.component import View
    from symphony_dash.state import State

    in_memory, over_ibis = demo_layouts
    filters = [isin("label", [1, 3, 8], source="bar"), between("confidence", 0.3, 0.99, source="brush")]
    for lay in (in_memory, over_ibis):
        lay.state = State(layout=lay.slug, filter=filters)
    seen = set()
    for page in in_memory.layout.pages:
        for spec in page.components:
            drawn = []
            for lay in (in_memory, over_ibis):
                instance, _ = lay.instances[spec.id]
                view = View(spec.id, lay.dataset, lay.engine, lay.state, {s.name: None for s in instance.inputs})
                if spec.type in NEEDS_MEMORY and lay is over_ibis:
                    with pytest.raises(InMemoryOnly, match="needs the in-memory"):
                        instance.render(view)
                    continue
                drawn.append(json.dumps(instance.render(view), cls=PlotlyJSONEncoder, sort_keys=True))
            if spec.type not in (*SAMPLED, *NEEDS_MEMORY):
                assert drawn[0] == drawn[1], f"{spec.type} {spec.id} draws differently on Ibis"
            seen.add(spec.type)
    assert {"histogram", "summary", "confusion_matrix", "group_metrics", "table", "gallery"} <= seen


def test_the_app_serves_a_layout_over_a_warehouse_table(demo_layouts: tuple[Any, Any], tmp_path: Path) -> None:
    """Every callback of the demo's pages, called as the renderer calls it, over the demo's data in a DuckDB file."""
    from callback_requests import Page

    from symphony_dash import create_app

    in_memory, _ = demo_layouts
    database = tmp_path / "warehouse.duckdb"
    con = ibis.duckdb.connect(str(database))
    in_memory.dataset.frame.write_parquet(tmp_path / "digits.parquet")
    con.create_table("digits", con.read_parquet(tmp_path / "digits.parquet"))
    con.disconnect()
    layout = json.loads((LAYOUTS / "digits.json").read_text())
    layout["data"] = {"ibis": {"url": f"duckdb://{database}", "table": "digits"}, "id_column": "id"}
    (tmp_path / "warehouse.json").write_text(json.dumps(layout))
    app = create_app(tmp_path / "warehouse.json", background_jobs=False)
    assert isinstance(app.symphony_layouts["warehouse"].engine, IbisEngine)  # type: ignore[attr-defined]
    client = app.server.test_client()
    failed = needs_memory = 0
    for number in range(len(layout["pages"])):
        page = Page(app, client, f"/warehouse/{number}")
        for body in page.requests().values():
            answer = client.post("/_dash-update-component", json=body)
            assert answer.status_code in (200, 204), body["output"]
            failed += answer.get_data(as_text=True).count("could not render")
            needs_memory += answer.get_data(as_text=True).count("needs the in-memory (polars) engine")
    assert failed == needs_memory > 0  # only the components that need the rows in memory, each saying so


def test_a_notebook_saves_a_layout_over_a_warehouse_table(tmp_path: Path, parquet: Path) -> None:
    """``Symphony.save_layout`` writes the layout's Ibis source as it is (there is no data file to name)."""
    from symphony_dash.notebook import Symphony

    database = tmp_path / "warehouse.duckdb"
    con = ibis.duckdb.connect(str(database))
    con.create_table("predictions", con.read_parquet(parquet))
    con.disconnect()
    source = {"ibis": {"url": f"duckdb://{database}", "table": "predictions"}, "id_column": "id"}
    layout = {"title": "W", "data": source, "pages": [{"title": "P", "components": []}]}
    (tmp_path / "w.json").write_text(json.dumps(layout))
    table = ibis.duckdb.connect(str(database)).table("predictions")
    saved = Symphony(IbisDataset(table, id_column="id"), layout=tmp_path / "w.json").save_layout(tmp_path / "out.json")
    assert json.loads(saved.read_text())["data"] == source
