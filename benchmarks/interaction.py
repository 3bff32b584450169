"""Server time and bytes of one interaction of the demo layout's views on a large synthetic table.

One interaction = a filter change: every component of the page renders again from the new state, exactly as the
render callbacks do (same ``render(view)`` calls, figures serialised with Dash's JSON encoder). Compared with the
floor (the same views written directly in polars, no framework) and with shipping the whole table as Arrow, as the
original Symphony does. Run:

    .venv/bin/python benchmarks/interaction.py --rows 1000000 --repeat 5

and commit the printed JSON as ``benchmarks/results/interaction-<rows>.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly
import polars as pl
import pyarrow as pa
import pyarrow.ipc

from symphony_dash.component import View
from symphony_dash.dataset import Dataset
from symphony_dash.engine import points_in_polygon
from symphony_dash.layout import load_layout
from symphony_dash.state import State, between, isin, polygon

LAYOUT = Path(__file__).resolve().parents[1] / "symphony_dash" / "layouts" / "digits.json"


def synthetic(rows: int, seed: int = 0) -> pd.DataFrame:
    """A table with the demo's column kinds: label, prediction, confidence, split, ink, projection, image path."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 10, rows)
    wrong = rng.random(rows) < 0.06
    prediction = np.where(wrong, rng.integers(0, 10, rows), label)
    angle = label * (2 * np.pi / 10)
    # The analysis columns of the data-quality page: ~2% of rows in duplicate pairs, ~3% in near-duplicate pairs.
    duplicate = np.where(rng.random(rows) < 0.02, rng.integers(0, rows // 100, rows), -1)
    near = np.where(rng.random(rows) < 0.03, rng.integers(0, rows // 66, rows), -1)
    neighbour_label = np.where(rng.random(rows) < 0.05, rng.integers(0, 10, rows), label)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "image": [f"images/{i % 1797:04d}.png" for i in range(rows)],
            "label": label,
            "prediction": prediction,
            "confidence": np.clip(rng.beta(8, 1.5, rows), 0, 1),
            "correct": label == prediction,
            "split": np.where(rng.random(rows) < 0.8, "train", "test"),
            "ink": rng.normal(300, 60, rows),
            "x": np.cos(angle) * 30 + rng.normal(0, 5, rows),
            "y": np.sin(angle) * 30 + rng.normal(0, 5, rows),
            "duplicate_group": duplicate,
            "near_duplicate_group": near,
            "familiarity": (np.argsort(np.argsort(rng.random(rows))) / max(rows - 1, 1)),
            "label_disagreement": np.clip(rng.beta(1, 9, rows) + (neighbour_label != label) * 0.5, 0, 1),
            "neighbour_label": neighbour_label,
        }
    )


def interaction_state(slug: str) -> State:
    """A 3-clause filter like a person builds: a bar click, a brush and a lasso."""
    lasso = [(-40.0, -40.0), (40.0, -40.0), (40.0, 10.0), (0.0, 40.0), (-40.0, 10.0)]
    return State(
        layout=slug,
        filter=[
            isin("label", [1, 3, 5, 7, 8], source="bench-bar"),
            between("confidence", 0.3, 0.97, source="bench-brush"),
            polygon("x", "y", lasso, source="bench-lasso"),
        ],
    )


GRID_REQUEST = {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "confidence", "sort": "asc"}]}


def answer_view(loaded: Any, component_id: str, state: State) -> int:
    """One view answered for ``state`` as its callbacks answer: its render, and its requests (the table's first block
    of sorted rows), each serialised with Plotly's encoder as Dash sends it. Returns the bytes sent to the browser."""
    instance, _ = loaded.instances[component_id]
    view = View(component_id, loaded.dataset, loaded.engine, state, {s.name: None for s in instance.inputs}, None)
    answers = [instance.render(view)] + [instance.on_request(name, GRID_REQUEST, view) for name in instance.requests]
    return sum(len(json.dumps(a, cls=plotly.utils.PlotlyJSONEncoder)) for a in answers)


def render_page(loaded: Any, state: State, page: int = 0) -> tuple[float, int, dict[str, int]]:
    """Redraw every component of one page, as a filter change does, and answer the table's first block of rows.

    Returns the seconds, the total bytes sent to the browser and the bytes per component.
    """
    loaded.engine._masks.clear()  # a new filter: nothing is cached from the previous interaction
    loaded.engine._rows.clear()
    sizes: dict[str, int] = {}
    start = time.perf_counter()
    for spec in loaded.layout.pages[page].components:
        sizes[spec.id] = answer_view(loaded, spec.id, state)
    return time.perf_counter() - start, sum(sizes.values()), sizes


def every_page(loaded: Any, state: State, repeat: int) -> dict[str, Any]:
    """The same interaction on each page of the demo: the views, the median time and the bytes of each."""
    out = {}
    for page_index, page in enumerate(loaded.layout.pages):
        render_page(loaded, state, page_index)  # warm up this page's components
        runs = [render_page(loaded, state, page_index) for _ in range(repeat)]
        out[page.title] = {
            "views": [f"{c.type} {c.id}" for c in page.components],
            "median_ms": round(statistics.median(r[0] for r in runs) * 1000, 1),
            "bytes_to_browser": runs[-1][1],
            "slowest_views_ms": _slowest(loaded, state, page_index),
        }
    return out


def _slowest(loaded: Any, state: State, page: int) -> dict[str, float]:
    """Each view of a page timed alone (the filter's mask shared, as in a real interaction), slowest first."""
    times = {}
    for spec in loaded.layout.pages[page].components:
        start = time.perf_counter()
        answer_view(loaded, spec.id, state)
        times[spec.id] = round((time.perf_counter() - start) * 1000, 1)
    return dict(sorted(times.items(), key=lambda kv: -kv[1])[:3])


def floor(frame: pl.DataFrame) -> float:
    """The same kind of views written directly in polars with one shared mask: the cost of the data work alone."""
    start = time.perf_counter()
    mask = frame.select(pl.col("label").is_in([1, 3, 5, 7, 8]) & pl.col("confidence").is_between(0.3, 0.97))
    lasso = np.array(interaction_state("").filter[2].value)
    inside = points_in_polygon(frame["x"].to_numpy(), frame["y"].to_numpy(), lasso)
    f = frame.filter(pl.Series(mask.to_series().to_numpy() & inside))
    pl.collect_all(
        [
            f.lazy().select(pl.len()),
            f.lazy().group_by("label").len(),
            f.lazy().group_by("prediction").len(),
            f.lazy().group_by(["label", "prediction"]).len(),
            f.lazy().select(pl.col("confidence").hist(bin_count=25)),
            f.lazy().select(pl.col("ink").hist(bin_count=30)),
            f.lazy().sort("confidence").head(100),
            f.lazy().head(48),
        ]
    )
    np.histogram2d(f["x"].to_numpy(), f["y"].to_numpy(), bins=256)
    return time.perf_counter() - start


def arrow_bytes(frame: pl.DataFrame) -> int:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, frame.to_arrow().schema) as writer:
        writer.write_table(frame.to_arrow())
    return sink.tell()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    dataset = Dataset(synthetic(args.rows), name="synthetic")
    loaded = load_layout(LAYOUT, data=dataset)
    state = interaction_state(loaded.slug)
    render_page(loaded, state)  # warm up: imports, extents, first figure templates
    runs = [render_page(loaded, state) for _ in range(args.repeat)]
    floors = [floor(dataset.frame) for _ in range(args.repeat)]
    seconds = statistics.median(r[0] for r in runs)
    result = {
        "rows": args.rows,
        "views": [f"{c.type} {c.id}" for c in loaded.layout.pages[0].components],
        "median_ms_all_views": round(seconds * 1000, 1),
        "median_ms_polars_floor": round(statistics.median(floors) * 1000, 1),
        "ratio_to_floor": round(seconds / statistics.median(floors), 2),
        "bytes_to_browser": runs[-1][1],
        "bytes_per_view": runs[-1][2],
        "bytes_whole_table_as_arrow": arrow_bytes(dataset.frame),
        "every_page": every_page(loaded, state, args.repeat),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "versions": f"Python {sys.version.split()[0]}, polars {pl.__version__}",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
