"""Time of the whole-dataset analyses at scale, and what the approximate neighbour search gives up.

- Exact duplicates over 1,000,000 rows of a table with the demo's column kinds, ~5% of them planted copies; and
  hashing media files by content (20,000 small PNGs written to a temporary folder).
- Near duplicates over 100,000 x 128 clustered embeddings with planted near-duplicate groups, approximate
  (pynndescent; its one-off numba compilation is timed separately), and on a 20,000-row subset both ways, where the
  exact search is affordable: the approximate groups' recall of the exact groups' pairs (with --full-exact, also
  on every row: about two minutes).

Run:

    .venv/bin/python benchmarks/analyses.py --full-exact > benchmarks/results/analyses.json
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pynndescent
import sklearn

from symphony_dash.analyses import exact_duplicates, near_duplicates

THRESHOLD = 0.98


def table(rows: int, seed: int = 0) -> pd.DataFrame:
    """Labels, predictions, a split, a numeric feature and a free-text column; the last 5% copy earlier rows."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 10, rows)
    frame = pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "label": label,
            "prediction": np.where(rng.random(rows) < 0.06, rng.integers(0, 10, rows), label),
            "confidence": rng.random(rows),
            "split": np.where(rng.random(rows) < 0.8, "train", "test"),
            "ink": rng.normal(300, 60, rows).round(3),
            "text": [f"note {i}" for i in rng.integers(0, rows, rows)],
        }
    )
    copies = rows // 20
    sources = rng.integers(0, rows - copies, copies)
    compared = ["label", "split", "ink", "text"]
    frame.loc[rows - copies :, compared] = frame.loc[sources, compared].to_numpy()
    return frame


def embeddings(rows: int, dims: int = 128, seed: int = 0) -> np.ndarray:
    """Points around 1,000 cluster centres (cosine ~0.9 within a cluster, so every row has many close rows to tell
    apart) and 3% near copies of other rows, at cosines from 0.97 to 0.999 (so many pairs sit near the threshold):
    most copy one of 500 popular rows, which makes groups of a few rows, and 400 copy one of 10 rows (groups of ~40,
    more than the approximate search's 15 neighbours)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(1000, dims)).astype(np.float32)
    vectors = centres[rng.integers(0, 1000, rows)] + rng.normal(scale=0.35, size=(rows, dims)).astype(np.float32)
    copies = rows * 3 // 100
    targets = rng.permutation(rows)[:copies]
    # The copied rows are never copies themselves.
    sources = rng.choice(np.setdiff1d(np.arange(rows), targets), 510, replace=False)
    picks = np.concatenate([rng.choice(sources[:500], copies - 400), np.repeat(sources[500:], 40)])
    # The difference as a share of the vector's length: cosine ~ 1 - share² / 2.
    share = rng.uniform(0.05, 0.25, (copies, 1)).astype(np.float32)
    scale = share * np.linalg.norm(vectors[picks], axis=1, keepdims=True) / np.sqrt(dims)
    vectors[targets] = vectors[picks] + rng.normal(size=(copies, dims)).astype(np.float32) * scale
    return vectors


def timed(run: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """The median seconds of ``repeat`` runs, and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def pair_recall(exact: np.ndarray, approximate: np.ndarray) -> float:
    """The share of row pairs in one exact group that the approximate groups also put together."""
    frame = pl.DataFrame({"exact": exact, "approximate": approximate}).filter(pl.col("exact") >= 0)

    def pairs(groups: pl.DataFrame) -> int:
        sizes = groups["len"].to_numpy().astype(np.int64)
        return int((sizes * (sizes - 1) // 2).sum())

    together = frame.filter(pl.col("approximate") >= 0).group_by("exact", "approximate").len()
    return pairs(together) / pairs(frame.group_by("exact").len())


def media_hashing(files: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rng = np.random.default_rng(0)
        content = b""
        for i in range(files):
            # Digit-thumbnail-sized PNG stand-ins; one in ten is a byte copy of the file before it.
            if i % 10 != 9:
                content = b"\x89PNG" + rng.bytes(300)
            (root / f"{i:06d}.png").write_bytes(content)
        frame = pd.DataFrame({"image": [f"{i:06d}.png" for i in range(files)]})
        seconds, groups = timed(lambda: exact_duplicates(frame, media_root=root))
    return {"files": files, "seconds": round(seconds, 2), "groups": int(groups.max() + 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the exact-duplicates table")
    parser.add_argument("--vectors", type=int, default=100_000, help="rows of the near-duplicates embeddings")
    parser.add_argument("--subset", type=int, default=20_000, help="rows where exact and approximate are compared")
    parser.add_argument(
        "--full-exact", action="store_true", help="also search every row exactly (minutes), for the recall at scale"
    )
    args = parser.parse_args(argv)

    frame = table(args.rows)
    seconds, groups = timed(lambda: exact_duplicates(frame), repeat=3)
    duplicates = {
        "rows": args.rows,
        "compared": "label, split, ink, text",
        "median_seconds": round(seconds, 2),
        "groups": int(groups.max() + 1),
        "rows_in_groups": int((groups >= 0).sum()),
    }

    vectors = embeddings(args.vectors)
    warm_up = np.random.default_rng(1).normal(size=(2000, vectors.shape[1]))
    compile_seconds, _ = timed(lambda: near_duplicates(warm_up, method="approximate", cache=False))
    seconds, approximate = timed(lambda: near_duplicates(vectors, THRESHOLD, method="approximate", cache=False))
    subset = vectors[: args.subset]
    exact_seconds, exact_groups = timed(lambda: near_duplicates(subset, THRESHOLD, method="exact", cache=False))
    subset_seconds, subset_groups = timed(lambda: near_duplicates(subset, THRESHOLD, method="approximate", cache=False))
    near = {
        "rows": args.vectors,
        "dims": vectors.shape[1],
        "threshold": THRESHOLD,
        "approximate_seconds": round(seconds, 1),
        "approximate_groups": int(approximate.max() + 1),
        "numba_compile_seconds_once_per_process": round(compile_seconds, 1),
        "subset": {
            "rows": args.subset,
            "exact_seconds": round(exact_seconds, 1),
            "approximate_seconds": round(subset_seconds, 1),
            "exact_groups": int(exact_groups.max() + 1),
            "approximate_groups": int(subset_groups.max() + 1),
            "pair_recall": round(pair_recall(exact_groups.to_numpy(), subset_groups.to_numpy()), 4),
        },
    }
    if args.full_exact:
        full_seconds, full_groups = timed(lambda: near_duplicates(vectors, THRESHOLD, method="exact", cache=False))
        near["all_rows_exact"] = {
            "exact_seconds": round(full_seconds, 1),
            "exact_groups": int(full_groups.max() + 1),
            "pair_recall": round(pair_recall(full_groups.to_numpy(), approximate.to_numpy()), 4),
        }
    result = {
        "exact_duplicates": duplicates,
        "media_hashing": media_hashing(20_000),
        "near_duplicates": near,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "versions": (
            f"Python {sys.version.split()[0]}, polars {pl.__version__}, scikit-learn {sklearn.__version__}, "
            f"pynndescent {pynndescent.__version__}"
        ),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
