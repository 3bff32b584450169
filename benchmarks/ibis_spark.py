"""What a layout over a table in Spark (or DuckDB) through Ibis costs: one view request and one eight-view interaction.

The table, the eight views and the three-clause crossfilter state of ``scale.py`` (a bar click, a brush, a 60-vertex
lasso), with the data in a Parquet file that Spark in local mode (``local[N]``, one process, this machine's cores)
reads as a temporary view; the same through DuckDB, and the polars engine in the same run for reference. Every
request is a query in the backend: before each run the engine's cached answers for filtered rows are dropped (those
over every row, and the table's extents and distinct values, are read once and kept, as in a served app), so each
run pays every filtered view's query. The eight views are timed one after another and all at once (each in a thread,
as Dash's threaded server answers the callbacks of one state change). Run:

    .venv/bin/python benchmarks/ibis_spark.py --rows 1000000 > benchmarks/results/ibis-1000000.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import ibis
import plotly
import polars as pl
import pyspark
from interaction import GRID_REQUEST, synthetic
from scale import LAYOUT, state
from scale import interaction as polars_interaction

from symphony_dash.component import View
from symphony_dash.dataset import Dataset
from symphony_dash.ibis_engine import IbisDataset
from symphony_dash.layout import load_layout
from symphony_dash.state import State


def forget_filtered(loaded: Any) -> None:
    """Drop the cached answers of filtered rows; those over every row (the grey "all" behind a view) stay, as they
    do in a served app, where the table does not change."""
    answers = loaded.engine._answers
    for key in [k for k in answers if k[0] != ()]:
        del answers[key]


def render(loaded: Any, spec: Any, st: State) -> tuple[int, float | str]:
    """One view rendered as its callbacks do: bytes sent and milliseconds (or the error it shows)."""
    begin = time.perf_counter()
    instance, _ = loaded.instances[spec.id]
    view = View(spec.id, loaded.dataset, loaded.engine, st, {s.name: None for s in instance.inputs}, None)
    try:
        answers = [instance.render(view)]
        answers += [instance.on_request(name, GRID_REQUEST, view) for name in instance.requests]
    except Exception as exc:  # a view that needs the in-memory engine: recorded, not fatal
        return 0, f"{type(exc).__name__}: {exc}"[:200]
    size = sum(len(json.dumps(a, cls=plotly.utils.PlotlyJSONEncoder)) for a in answers)
    return size, (time.perf_counter() - begin) * 1000


def interaction(loaded: Any, st: State) -> tuple[float, int, dict[str, Any]]:
    """Every view rendered for the state, one after another: seconds, bytes, each view's ms (or error)."""
    forget_filtered(loaded)
    size, per_view = 0, {}
    start = time.perf_counter()
    for spec in loaded.layout.pages[0].components:
        sent, per_view[spec.id] = render(loaded, spec, st)
        size += sent
    return time.perf_counter() - start, size, per_view


def concurrent_interaction(loaded: Any, st: State) -> float:
    """Every view rendered at once, each in a thread of its own, as Dash's threaded server answers the callbacks a
    state change fires: seconds until the last view is ready."""
    forget_filtered(loaded)
    specs = loaded.layout.pages[0].components
    start = time.perf_counter()
    with ThreadPoolExecutor(len(specs)) as pool:
        list(pool.map(lambda spec: render(loaded, spec, st), specs))
    return time.perf_counter() - start


def one_request(loaded: Any, st: State) -> float:
    """One view's request under the state: the confidence histogram (a filtered count per bin), seconds."""
    forget_filtered(loaded)
    start = time.perf_counter()
    loaded.engine.where(st.filter_for("confidence")).histogram("confidence", 25)
    return time.perf_counter() - start


def measure(name: str, table: Any, repeat: int) -> dict[str, Any]:
    """Load the layout over an Ibis table and time its requests."""
    start = time.perf_counter()
    dataset = IbisDataset(table, name="synthetic")
    loaded = load_layout(layout=LAYOUT, data=dataset)
    opened = time.perf_counter() - start
    st = state(loaded.slug)
    first = interaction(loaded, st)  # also reads each column's extent and distinct values once
    requests = [one_request(loaded, st) for _ in range(repeat)]
    runs = [interaction(loaded, st) for _ in range(repeat)]
    together = [concurrent_interaction(loaded, st) for _ in range(repeat)]
    # The same without the lasso: each query tests the lasso's edges on every row of its bounding box.
    boxless = st.model_copy(update={"filter": [c for c in st.filter if c.op != "polygon"]})
    without_lasso = [interaction(loaded, boxless)[0] for _ in range(repeat)]
    seconds = [r[0] for r in runs]
    return {
        "backend": name,
        "seconds_to_open_table": round(opened, 2),
        "ms_first_interaction": round(first[0] * 1000),
        "median_ms_one_request": round(statistics.median(requests) * 1000, 1),
        "median_ms_all_views": round(statistics.median(seconds) * 1000, 1),
        "spread_ms": [round(min(seconds) * 1000, 1), round(max(seconds) * 1000, 1)],
        "median_ms_all_views_concurrent": round(statistics.median(together) * 1000, 1),
        "median_ms_all_views_without_lasso": round(statistics.median(without_lasso) * 1000, 1),
        "median_ms_per_view": {
            k: round(statistics.median(r[2][k] for r in runs), 1) if isinstance(v, float) else v
            for k, v in runs[0][2].items()
        },
        "bytes_to_browser": runs[-1][1],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)

    frame = pl.from_pandas(synthetic(args.rows))
    folder = Path(tempfile.mkdtemp(prefix="symphony-ibis-"))
    parquet = folder / "synthetic.parquet"
    frame.write_parquet(parquet)

    from pyspark.sql import SparkSession

    start = time.perf_counter()
    spark = (
        SparkSession.builder.master(f"local[{args.cores}]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(args.cores))
        .config("spark.driver.memory", "3g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.read.parquet(str(parquet)).createOrReplaceTempView("synthetic")
    spark_start = time.perf_counter() - start
    results = [measure("pyspark", ibis.pyspark.connect(spark).table("synthetic"), args.repeat)]
    results[0]["seconds_to_start_spark"] = round(spark_start, 1)
    results.append(measure("duckdb", ibis.duckdb.connect().read_parquet(parquet), args.repeat))

    loaded = load_layout(layout=LAYOUT, data=Dataset(frame, name="synthetic"))
    st = state(loaded.slug)
    polars_interaction(loaded, st)  # warm up, as scale.py does
    polars_runs = [polars_interaction(loaded, st)[0] for _ in range(args.repeat)]
    print(
        json.dumps(
            {
                "rows": args.rows,
                "views": [f"{v['type']} {v['id']}" for v in LAYOUT["pages"][0]["components"]],
                "one_request": "the confidence histogram under the bar click and the lasso",
                "ibis": results,
                "median_ms_polars_engine": round(statistics.median(polars_runs) * 1000, 1),
                "spark_master": f"local[{args.cores}]",
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "versions": (
                    f"Python {sys.version.split()[0]}, ibis {ibis.__version__}, pyspark {pyspark.__version__}, "
                    f"polars {pl.__version__}"
                ),
            },
            indent=2,
        )
    )
    spark.stop()


if __name__ == "__main__":
    main()
