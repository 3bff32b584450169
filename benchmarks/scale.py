"""Issue 7's interaction: eight linked views over 1,000,000 (and 10,000,000) rows, against the floor and the table.

The layout has the views the issue names: a table page, two histograms, a scatter, a confusion matrix, metrics by
group, the summary of the columns and a gallery page. One interaction is a crossfilter state of three clauses made by
three of the views (a bar click on the label histogram, a brush on the confidence histogram, a lasso of 60 vertices
on the scatter): each view renders under every clause but its own, as the render callbacks do, the table answers its
first block of sorted rows, and every answer is serialised with Plotly's JSON encoder. Before each run the engine's
masks are dropped, so nothing of the previous interaction is reused.

Baselines measured in the same run: the *floor*, the same answers computed directly with polars and numpy (one mask
per distinct clause set, the lasso by the exact even-odd rule), the same in *pandas*, and the *whole table as Arrow*
(what shipping the data to the browser costs, as the original Symphony does). Run:

    .venv/bin/python benchmarks/scale.py --rows 1000000 > benchmarks/results/scale-1000000.json
    .venv/bin/python benchmarks/scale.py --rows 10000000 --repeat 3 > benchmarks/results/scale-10000000.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from interaction import answer_view, arrow_bytes, synthetic

from symphony_dash.dataset import Dataset
from symphony_dash.engine import points_in_polygon
from symphony_dash.layout import load_layout
from symphony_dash.state import State, between, isin, polygon

VIEWS = [
    {"type": "table", "id": "rows", "props": {"columns": ["id", "label", "prediction", "confidence", "split"]}},
    {"type": "histogram", "id": "label", "props": {"column": "label"}},
    {"type": "histogram", "id": "confidence", "props": {"column": "confidence", "bins": 25}},
    {"type": "scatter", "id": "projection", "props": {"color": "label"}},
    {"type": "confusion_matrix", "id": "confusion"},
    {"type": "group_metrics", "id": "metrics", "props": {"group_by": "split"}},
    {"type": "summary", "id": "summary", "props": {"columns": ["label", "confidence", "split", "ink"]}},
    {"type": "gallery", "id": "gallery", "props": {"page_size": 48, "sort_by": "confidence"}},
]
LAYOUT = {"title": "Scale", "data": {"source": "unused"}, "pages": [{"title": "All", "components": VIEWS}]}


def lasso(vertices: int = 60, size: float = 1.0) -> list[list[float]]:
    """A smooth hand-drawn loop around most of the projection, as a person lassos a large region."""
    t = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    return (np.c_[np.cos(t) * 32 + np.sin(3 * t) * 4, np.sin(t) * 26 - 4] * size).tolist()


def state(slug: str) -> State:
    return State(
        layout=slug,
        filter=[
            isin("label", [1, 3, 5, 7, 8], source="label"),
            between("confidence", 0.3, 0.97, source="confidence"),
            polygon("x", "y", lasso(), source="projection"),
        ],
    )


def interaction(loaded: Any, st: State) -> tuple[float, int, dict[str, float]]:
    """Every view rendered for the state: seconds, bytes to the browser, and each view's milliseconds."""
    loaded.engine._masks.clear()
    loaded.engine._rows.clear()
    size, per_view = 0, {}
    start = time.perf_counter()
    for spec in loaded.layout.pages[0].components:
        begin = time.perf_counter()
        size += answer_view(loaded, spec.id, st)
        per_view[spec.id] = (time.perf_counter() - begin) * 1000
    return time.perf_counter() - start, size, per_view


# The views that count rows; the others (table, scatter, gallery) show rows themselves.
COUNTING = ("label", "confidence", "confusion", "metrics", "summary")  # the scatter draws points: not counting


def moving(loaded: Any, states: list[State]) -> dict[str, Any]:
    """One clause moving through ``states`` while the others stay (a brush dragged, bar after bar clicked): each
    state is one update of every view. The counting views are timed apart, as a tool that updates them while the
    brush moves (Falcon, Mosaic) does: from the second state on they come from counts prepared for the moving clause."""
    for cache in (loaded.engine._masks, loaded.engine._rows, loaded.engine._cubes, loaded.engine._brushes):
        cache.clear()
    loaded.engine._brush_indexes.clear()
    counting, every, sent = [], [], []
    specs = sorted(loaded.layout.pages[0].components, key=lambda spec: spec.id not in COUNTING)
    for st in states:
        start, size = time.perf_counter(), 0
        for spec in specs:
            if spec.id not in COUNTING and len(counting) == len(every):
                counting.append(time.perf_counter() - start)
            size += answer_view(loaded, spec.id, st)
        every.append(time.perf_counter() - start)
        sent.append(size)
    return {
        "updates": len(states),
        "median_ms_counting_views": round(statistics.median(counting[2:]) * 1000, 1),
        "median_ms_all_views": round(statistics.median(every[2:]) * 1000, 1),
        # The first update filters as usual, the second prepares the counts, the third uses them.
        "ms_counting_views_first_three": [round(t * 1000, 1) for t in counting[:3]],
        "ms_all_views_first_three": [round(t * 1000, 1) for t in every[:3]],
        "most_bytes_to_the_browser": max(sent),
    }


def dragged(st: State, positions: int) -> list[State]:
    """The brush on confidence dragged wider, position by position."""
    bar, _, lasso_clause = st.filter
    return [
        st.model_copy(
            update={"filter": [bar, between("confidence", 0.3, float(high), source="confidence"), lasso_clause]}
        )
        for high in np.linspace(0.6, 0.97, positions)
    ]


def lassoed(st: State, lassos: int) -> list[State]:
    """Lasso after lasso drawn on the scatter, each a little larger."""
    bar, brush, _ = st.filter
    return [
        st.model_copy(update={"filter": [bar, brush, polygon("x", "y", lasso(60, size), source="projection")]})
        for size in np.linspace(0.5, 1.2, lassos)
    ]


def clicked(st: State, clicks: int) -> list[State]:
    """Bar after bar of the label histogram clicked."""
    _, brush, lasso_clause = st.filter
    return [
        st.model_copy(update={"filter": [isin("label", [k % 10], source="label"), brush, lasso_clause]})
        for k in range(clicks)
    ]


def floor(frame: pl.DataFrame, st: State) -> float:
    """The same answers in polars and numpy, no framework: a mask per distinct clause set, then each view's data."""
    start = time.perf_counter()
    bar, brush, lasso_clause = st.filter
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    m_bar = frame["label"].is_in(bar.value).to_numpy()
    m_brush = frame["confidence"].is_between(*brush.value).to_numpy()
    m_lasso = points_in_polygon(x, y, np.asarray(lasso_clause.value))
    everything = m_bar & m_brush & m_lasso
    f = frame.filter(pl.Series(everything))
    pl.collect_all(
        [
            f.lazy().sort("confidence").head(100),  # table
            frame.lazy().filter(pl.Series(m_brush & m_lasso)).group_by("label").len(),  # label histogram
            frame.lazy().filter(pl.Series(m_bar & m_lasso)).select(pl.col("confidence").hist(bin_count=25)),
            f.lazy().group_by(["label", "prediction"]).len(),  # confusion
            f.lazy().group_by("split").agg((pl.col("label") == pl.col("prediction")).mean()),  # metrics
            f.lazy().select(pl.col("confidence").hist(bin_count=20), pl.col("ink").hist(bin_count=20)),  # summary
            f.lazy().group_by("label").len(),
            f.lazy().group_by("split").len(),
            f.lazy().sort("confidence").head(48),  # gallery
        ]
    )
    scatter = frame.filter(pl.Series(m_bar & m_brush))
    np.histogram2d(scatter["x"].to_numpy(), scatter["y"].to_numpy(), bins=256)
    scatter.sample(min(3000, scatter.height), seed=0)
    return time.perf_counter() - start


def with_pandas(frame: pd.DataFrame, st: State) -> float:
    """The same answers in pandas."""
    start = time.perf_counter()
    bar, brush, lasso_clause = st.filter
    m_bar = frame["label"].isin(bar.value).to_numpy()
    m_brush = frame["confidence"].between(*brush.value).to_numpy()
    m_lasso = points_in_polygon(frame["x"].to_numpy(), frame["y"].to_numpy(), np.asarray(lasso_clause.value))
    f = frame[m_bar & m_brush & m_lasso]
    f.nsmallest(100, "confidence")
    frame[m_brush & m_lasso]["label"].value_counts()
    np.histogram(frame["confidence"].to_numpy()[m_bar & m_lasso], bins=25)
    f.groupby(["label", "prediction"]).size()
    (f["label"] == f["prediction"]).groupby(f["split"]).mean()
    np.histogram(f["confidence"], bins=20), np.histogram(f["ink"], bins=20)
    f["label"].value_counts(), f["split"].value_counts()
    f.nsmallest(48, "confidence")
    scatter = frame[m_bar & m_brush]
    np.histogram2d(scatter["x"], scatter["y"], bins=256)
    scatter.sample(min(3000, len(scatter)), random_state=0)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--moves", type=int, default=20, help="positions of a dragged brush, bars clicked")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    table = synthetic(args.rows)
    dataset = Dataset(table, name="synthetic")
    loaded = load_layout(layout=LAYOUT, data=dataset)
    st = state(loaded.slug)
    interaction(loaded, st)  # warm up: bins, codes and cell indices are computed once per column
    ready = time.perf_counter() - start
    runs = [interaction(loaded, st) for _ in range(args.repeat)]
    floors = [floor(dataset.frame, st) for _ in range(args.repeat)]
    pandas_runs = [with_pandas(table, st) for _ in range(max(1, args.repeat // 2))]
    moves = {
        "brush_dragged": moving(loaded, dragged(st, args.moves)),
        "bars_clicked": moving(loaded, clicked(st, args.moves)),
        "lassos_drawn": moving(loaded, lassoed(st, args.moves)),
    }
    seconds = [r[0] for r in runs]
    median = statistics.median(seconds)
    print(
        json.dumps(
            {
                "rows": args.rows,
                "views": [f"{v['type']} {v['id']}" for v in VIEWS],
                "median_ms_all_views": round(median * 1000, 1),
                "spread_ms": [round(min(seconds) * 1000, 1), round(max(seconds) * 1000, 1)],
                "median_ms_per_view": {k: round(statistics.median(r[2][k] for r in runs), 1) for k in runs[0][2]},
                "median_ms_polars_floor": round(statistics.median(floors) * 1000, 1),
                "ratio_to_floor": round(median / statistics.median(floors), 2),
                "median_ms_pandas": round(statistics.median(pandas_runs) * 1000, 1),
                "counting_views": list(COUNTING),
                **moves,
                "bytes_to_browser": runs[-1][1],
                "bytes_whole_table_as_arrow": arrow_bytes(dataset.frame),
                "seconds_to_first_answer": round(ready, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "table_arrow_mb": round(dataset.frame.estimated_size() / 2**20),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "versions": f"Python {sys.version.split()[0]}, polars {pl.__version__}",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
