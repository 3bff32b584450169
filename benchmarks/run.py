"""Issue 7's benchmarks with one command: each writes its JSON into ``results/``, then the table of targets is made.

    .venv/bin/python benchmarks/run.py                # 1,000,000 rows: about ten minutes
    .venv/bin/python benchmarks/run.py --large        # also 10,000,000 rows (scale, start): about half an hour more
    .venv/bin/python benchmarks/run.py --table-only   # only the table, from the results already there

Each benchmark makes its own data (a synthetic table with the demo's column kinds; Parquet files under
``benchmarks/data/``, not committed) and runs in its own process; the table, ``results/targets.md``, puts each
measured figure beside its target and the baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

MOVES = ("brush_dragged", "bars_clicked", "lassos_drawn")  # scale.py's interactions with one clause moving
# (results file, arguments): the order is from quick to slow.
RUNS = [
    ("scale-1000000.json", ["scale.py", "--rows", "1000000"]),
    ("startup-1000000.json", ["startup.py", "--rows", "1000000"]),
    ("load-gunicorn-1000000.json", ["load.py", "--rows", "1000000", "--workers", "2", "--threads", "20"]),
    ("browser-1000000.json", ["browser.py", "--rows", "1000000"]),
]
LARGE = [
    ("scale-10000000.json", ["scale.py", "--rows", "10000000", "--repeat", "3"]),
    ("startup-10000000.json", ["startup.py", "--rows", "10000000"]),
]


def run(name: str, arguments: list[str]) -> None:
    print(f"benchmarks: {' '.join(arguments)}", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, *arguments], cwd=HERE, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"benchmarks: {arguments[0]} failed:\n{done.stderr[-3000:]}")
    # load.py prints a summary and writes its JSON itself only with --out: every script here prints JSON.
    (RESULTS / name).write_text(done.stdout)


def read(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def table() -> str:
    """The targets of issue 7 beside what the results in ``results/`` measured."""
    lines = ["| target (issue 7) | measured | baselines in the same run | results file |", "|---|---|---|---|"]

    def row(target: str, measured: str, baseline: str, name: str) -> None:
        lines.append(f"| {target} | {measured} | {baseline} | {name} |")

    for rows, ms in ((1_000_000, 50), (10_000_000, 200)):
        name, n = f"scale-{rows}.json", f"{rows:,} rows"
        scale = read(name)
        if not scale:
            continue
        brush, click, lasso, spread = (scale[m] for m in (*MOVES, "spread_ms"))
        floor = f"polars floor {scale['median_ms_polars_floor']} ms, pandas {scale['median_ms_pandas']} ms"
        row(f"8 views, a brush moved, {n}: <= {ms} ms", f"{brush['median_ms_all_views']} ms", "", name)
        row(f"8 views, a bar clicked, {n}: <= {ms} ms", f"{click['median_ms_all_views']} ms", "", name)
        row(f"8 views, a lasso drawn, {n}: <= {ms} ms", f"{lasso['median_ms_all_views']} ms", "", name)
        row(
            f"8 views, three new clauses at once (the worst case), {n}",
            f"{scale['median_ms_all_views']} ms ({spread[0]}-{spread[1]})",
            floor,
            name,
        )
        for what, moved in (("a histogram", brush), ("the scatter (lasso)", lasso)):
            prepared = moved["ms_counting_views_first_three"][1]
            measured = (
                f"{moved['median_ms_counting_views']} ms (counting views; the update that prepares: {prepared} ms)"
            )
            row(f"brushing {what}, {n}: <= 30 ms per update", measured, "", name)
        arrow = f"the table as Arrow: {scale['bytes_whole_table_as_arrow'] / 1e6:,.0f} MB"
        most = max(scale["bytes_to_browser"], *(scale[m]["most_bytes_to_the_browser"] for m in MOVES))
        row(f"bytes to the browser per interaction, {n}: <= 250 KB", f"{most / 1000:.0f} KB at most", arrow, name)
    for rows in (1_000_000, 10_000_000):
        name = f"startup-{rows}.json"
        if start := read(name):
            measured = (
                f"{start['median_seconds']['views_s']} s; {start['peak_rss_mb']:,} MB, {start['peak_over_table']}x"
            )
            target = f"first page's views from a {rows:,}-row Parquet file <= 5 s; peak memory <= 2x the table"
            row(target, measured, f"the table: {start['table_arrow_mb']:,} MB as Arrow", name)
    if load := read("load-gunicorn-1000000.json"):
        latency = load["latency_ms"]
        row(
            f"{load['threads']} users, gunicorn ({load['workers']} workers), 1,000,000 rows: p95 <= 500 ms, no errors",
            f"p95 {latency['p95']} ms, {load['errors']} errors in {load['interactions']:,} requests",
            f"p50 {latency['p50']} ms, p99 {latency['p99']} ms",
            "load-gunicorn-1000000.json",
        )
    if browser := read("browser-1000000.json"):
        measured = f"{browser['median_ms_brush_to_all_redrawn']} ms"
        row(
            "a brush to every view redrawn, headless Chromium, 1,000,000 rows: <= 150 ms",
            measured,
            "",
            "browser-1000000.json",
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also run 10,000,000 rows")
    parser.add_argument("--table-only", action="store_true", help="only write the table from the results there")
    args = parser.parse_args(argv)
    if not args.table_only:
        for name, arguments in RUNS + (LARGE if args.large else []):
            run(name, arguments)
    (RESULTS / "targets.md").write_text(table())
    print((RESULTS / "targets.md").read_text())


if __name__ == "__main__":
    main()
