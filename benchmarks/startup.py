"""Issue 7's start: from a 10,000,000-row Parquet file to the first page's views answered, and the memory it takes.

The table is the synthetic one of ``scale.py`` (the demo's column kinds), written once as Parquet under
``benchmarks/data/`` (not committed). Each run is a new Python process, as a server starting: it imports
symphony_dash, loads a layout of ``scale.py``'s eight views over the file (``create_app``, which reads the file and
builds the engine), serves the page's HTML through the Flask app, then answers every view of the page for the state of
a first visit (no filter), as their render callbacks do. Reported: seconds from the process's start to each step, its
peak resident memory, and the table's Arrow size; the target is 5 s to the views and a peak at most twice the table.

    .venv/bin/python benchmarks/startup.py --rows 10000000 > benchmarks/results/startup-10000000.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def table_file(rows: int) -> Path:
    """The synthetic table as Parquet, made once per row count."""
    path = HERE / "data" / f"synthetic-{rows}.parquet"
    if not path.exists():
        import polars as pl
        from interaction import synthetic

        path.parent.mkdir(exist_ok=True)
        pl.from_pandas(synthetic(rows)).write_parquet(path)
    return path


def layout_file(table: Path, folder: Path) -> Path:
    from scale import VIEWS

    layout = {"title": "Startup", "data": {"source": str(table)}, "pages": [{"title": "All", "components": VIEWS}]}
    path = folder / "startup.json"
    path.write_text(json.dumps(layout), encoding="utf-8")
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def first_visit(layout: str) -> None:
    """In the new process: start the app, serve the page, answer its views; print the seconds of each step."""
    started = time.perf_counter()
    from interaction import answer_view

    from symphony_dash.app import create_app
    from symphony_dash.state import State

    imported = time.perf_counter()
    app = create_app(layout, background_jobs=False)
    built, built_rss = time.perf_counter(), peak_rss_mb()
    loaded = next(iter(app.symphony_layouts.values()))  # type: ignore[attr-defined]
    page = app.server.test_client().get(f"/{loaded.slug}")
    assert page.status_code == 200, page.status_code
    served = time.perf_counter()
    state = State(layout=loaded.slug)
    for spec in loaded.layout.pages[0].components:
        answer_view(loaded, spec.id, state)
    answered = time.perf_counter()
    print(
        json.dumps(
            {
                "import_s": imported - started,
                "app_s": built - started,
                "page_s": served - started,
                "views_s": answered - started,
                "peak_rss_mb_app": built_rss,
                "peak_rss_mb": peak_rss_mb(),
                "table_arrow_mb": loaded.dataset.frame.estimated_size() / 2**20,
            }
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--first-visit", help=argparse.SUPPRESS)  # the measured process
    args = parser.parse_args(argv)
    if args.first_visit:
        first_visit(args.first_visit)
        return
    table = table_file(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        layout = layout_file(table, Path(folder))
        command = [sys.executable, str(Path(__file__).resolve()), "--first-visit", str(layout)]
        env = {**os.environ, "PYTHONPATH": str(HERE)}
        runs = [
            json.loads(subprocess.run(command, check=True, capture_output=True, env=env).stdout)
            for _ in range(args.repeat)
        ]
    median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    print(
        json.dumps(
            {
                "rows": args.rows,
                "parquet_mb": round(table.stat().st_size / 2**20),
                "median_seconds": {k: round(v, 2) for k, v in median.items() if k.endswith("_s")},
                "target_seconds_to_views": 5,
                "peak_rss_mb": round(median["peak_rss_mb"]),
                "table_arrow_mb": round(median["table_arrow_mb"]),
                "peak_over_table": round(median["peak_rss_mb"] / median["table_arrow_mb"], 2),
                "runs": runs,
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "versions": f"Python {sys.version.split()[0]}",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
