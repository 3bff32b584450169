"""Load on loopback: many concurrent sessions against a served app for a fixed time, with zero errors expected.

The app (the packaged demo layouts by default) is served by Werkzeug's threaded server on a free local port. Each
session is a thread that, as fast as it is answered, changes its own filter (labels, a confidence range drawn at
random, so no two states are alike and no cache can hold them all) and posts one callback of the page's views for
it, as the browser does: the toolbar's count, a histogram, the scatter, the gallery, the table... An error is a
status other than 200/204, or an answer whose component shows an error card. The process's memory (RSS) is sampled
twice a second; after the warm-up it should stay flat. Run:

    .venv/bin/python benchmarks/load.py --threads 8 --seconds 90 --out benchmarks/results/load.json

With ``--workers N`` the app is served instead by ``symphony-dash run --workers N`` (gunicorn) in its own processes,
and ``--rows`` serves ``scale.py``'s eight views over that many synthetic rows (a Parquet file made once): issue 7's
twenty users against a multi-worker server at a million rows, their memory summed over the server's processes:

    .venv/bin/python benchmarks/load.py --rows 1000000 --workers 2 --threads 20 --seconds 60 \
        --out benchmarks/results/load-gunicorn-1000000.json

The test suite runs it for a few seconds (tests/test_hardening.py).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the request builder the fuzz test uses

from callback_requests import Page  # noqa: E402

from symphony_dash import create_app  # noqa: E402
from symphony_dash.component import STATE_ID  # noqa: E402


def rss_mb(pid: int | str = "self") -> float:
    """A process's resident memory, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_rss_mb(root: int) -> float:
    """The resident memory of a process and all its descendants (a gunicorn master and its workers)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue  # a process that ended while we looked
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        tree.update(children)
        frontier = children
    total = 0.0
    for pid in tree:
        with contextlib.suppress(OSError):
            total += rss_mb(pid)
    return total


@contextlib.contextmanager
def gunicorn(layouts: Path, workers: int) -> Iterator[tuple[int, int]]:
    """``symphony-dash run --workers N`` on a free port: yields (port, pid) once it answers its health check."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "symphony_dash",
        "run",
        str(layouts),
        "--workers",
        str(workers),
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/_symphony/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"symphony-dash run did not answer on port {port}")
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def scale_layout(rows: int, folder: Path) -> Path:
    """``scale.py``'s eight views over ``rows`` synthetic rows, as a layout file in ``folder``."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from startup import layout_file, table_file

    return layout_file(table_file(rows), folder)


def random_state(rng: random.Random, slug: str) -> dict[str, Any]:
    low = round(rng.uniform(0, 0.9), 4)
    clauses = [
        {"source": "load-label", "op": "in", "column": "label", "value": rng.sample(range(10), rng.randint(1, 9))},
        {
            "source": "load-conf",
            "op": "range",
            "column": "confidence",
            "value": [low, round(low + 0.1 + rng.random() / 2, 4)],
        },
    ]
    return {"layout": slug, "filter": rng.sample(clauses, rng.randint(1, 2))}


def with_state(body: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    body = json.loads(json.dumps(body))
    for item in body["inputs"]:
        if isinstance(item, dict) and item["id"] == STATE_ID:
            item["value"] = state
    return body


def problem(status: int, payload: bytes) -> str | None:
    """What is wrong with an answer, or None."""
    if status not in (200, 204):
        return f"HTTP {status}: {payload[:200]!r}"
    if status == 204:
        return None
    answer = json.loads(payload).get("response", {})
    for ident, props in answer.items():
        if ('"sub":"error"' in ident and props.get("children")) or "symphony-state-error" in json.dumps(props):
            return f"{ident}: {json.dumps(props)[:200]}"
    return None


def run(layouts: Path, slug: str, threads: int, seconds: float, seed: int, workers: int = 0) -> dict[str, Any]:
    app = create_app(layouts, background_jobs=False)
    page = Page(app, app.server.test_client(), f"/{slug}")
    # The callbacks that answer a state: the toolbar and every view on the page.
    bodies = [
        b for b in page.requests().values() if any(isinstance(i, dict) and i["id"] == STATE_ID for i in b["inputs"])
    ]
    with contextlib.ExitStack() as stack:
        if workers:
            del app, page  # the server's processes hold the data, not this one
            port, pid = stack.enter_context(gunicorn(layouts, workers))
            memory_of: Callable[[], float] = lambda: tree_rss_mb(pid)  # noqa: E731
        else:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
            server = make_server("127.0.0.1", 0, app.server, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            stack.callback(server.shutdown)
            port, memory_of = server.server_port, rss_mb
        results = _load(port, bodies, slug, threads, seconds, seed, memory_of)
    return {"layout": slug, "workers": workers or "threaded werkzeug", **results}


def _load(
    port: int,
    bodies: list[dict[str, Any]],
    slug: str,
    threads: int,
    seconds: float,
    seed: int,
    memory_of: Callable[[], float],
) -> dict[str, Any]:

    latencies: list[float] = []
    errors: list[str] = []
    memory: list[tuple[float, int, float]] = []
    lock = threading.Lock()
    start = time.monotonic()
    deadline = start + seconds

    def session(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        while time.monotonic() < deadline:
            body = json.dumps(with_state(rng.choice(bodies), random_state(rng, slug)))
            began = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                connection.request(
                    "POST", "/_dash-update-component", body=body, headers={"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                found = problem(response.status, response.read())
            except OSError as exc:
                found = f"{type(exc).__name__}: {exc}"
            finally:
                connection.close()
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                if found:
                    errors.append(found)

    def sample() -> None:
        while time.monotonic() < deadline:
            with lock:
                done = len(latencies)
            memory.append((round(time.monotonic() - start, 2), done, round(memory_of(), 1)))
            time.sleep(0.5)

    workers = [threading.Thread(target=session, args=(n,)) for n in range(threads)]
    sampler = threading.Thread(target=sample)
    for t in [*workers, sampler]:
        t.start()
    for t in [*workers, sampler]:
        t.join()
    memory.append((round(time.monotonic() - start, 2), len(latencies), round(memory_of(), 1)))

    ms = sorted(x * 1000 for x in latencies)
    cuts = statistics.quantiles(ms, n=100) if len(ms) > 1 else ms * 99
    # After the first quarter of the run: caches and lazily built structures are in place by then.
    warm = next((m for m in memory if m[0] >= seconds / 4), memory[0])
    return {
        "threads": threads,
        "seconds": seconds,
        "callbacks": len(bodies),
        "interactions": len(ms),
        "throughput_per_s": round(len(ms) / seconds, 1),
        "latency_ms": {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "p99": round(cuts[98], 1)},
        "errors": len(errors),
        "first_errors": errors[:5],
        "rss_mb": {"after_warm_up": warm[2], "end": memory[-1][2], "max": max(m[2] for m in memory)},
        "rss_growth_mb": round(memory[-1][2] - warm[2], 1),
        "memory_samples": memory,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layouts", type=Path, default=ROOT / "symphony_dash" / "layouts")
    parser.add_argument("--layout", default="digits", help="the layout whose first page is loaded (default: digits)")
    parser.add_argument("--threads", type=int, default=8, help="concurrent sessions (default: 8)")
    parser.add_argument("--seconds", type=float, default=60, help="how long (default: 60)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the results as JSON here (default: print them)")
    parser.add_argument("--workers", type=int, default=0, help="serve with gunicorn and this many workers")
    parser.add_argument("--rows", type=int, help="serve scale.py's eight views over this many synthetic rows")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        layouts, slug = (scale_layout(args.rows, Path(folder)), "startup") if args.rows else (args.layouts, args.layout)
        results = run(layouts, slug, args.threads, args.seconds, args.seed, args.workers)
    results["rows"] = args.rows
    text = json.dumps(results, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text if not args.out else {k: v for k, v in results.items() if k != "memory_samples"})
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
