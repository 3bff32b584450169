"""Tests of the whole-dataset analyses, each against a brute-force answer on small data, their disk cache, and the
``symphony-dash analyze`` command.

Every test gets an empty analysis cache of its own, so each result is computed, not read from an earlier run.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from helpers import toy_frame
from scipy.stats import rankdata
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from symphony_dash import Dataset, DatasetError, demo
from symphony_dash.analyses import cache as analysis_cache
from symphony_dash.analyses import exact_duplicates, familiarity, label_disagreement, near_duplicates, project
from symphony_dash.analyses.duplicates import number_groups
from symphony_dash.analyses.neighbours import APPROXIMATE_ABOVE, resolve_method
from symphony_dash.cli import main

# Read at import, before the fixture below points the cache elsewhere: the demo is prepared once for all test modules.
DEMO_CACHE = demo.cache_dir()


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SYMPHONY_DASH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "analyses"


# Brute-force references -------------------------------------------------------------------------------------------


def brute_groups(members: list[list[int]], n: int) -> list[int]:
    """Group ids as the analyses number them: groups of 2+ rows from the largest, ties by first row; else -1."""
    groups = sorted((sorted(rows) for rows in members if len(rows) > 1), key=lambda rows: (-len(rows), rows[0]))
    result = [-1] * n
    for number, rows in enumerate(groups):
        for row in rows:
            result[row] = number
    return result


def brute_cosine(vectors: np.ndarray) -> np.ndarray:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit.astype(np.float64) @ unit.T.astype(np.float64)


def brute_neighbours(vectors: np.ndarray, k: int) -> np.ndarray:
    """Each row's k most similar other rows, most similar first."""
    similarity = brute_cosine(vectors)
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


def union_find_groups(linked: np.ndarray) -> list[list[int]]:
    parent = list(range(len(linked)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(linked), strict=True):
        parent[root(int(i))] = root(int(j))
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(linked)):
        members[root(i)].append(i)
    return list(members.values())


def planted(n: int, dims: int, seed: int) -> np.ndarray:
    """Random directions plus planted near duplicates (cosine ~0.99 at 0.98): pairs, a triple, a chain whose ends are
    not close, and a group of 25."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dims))
    # (source, copy, relative size of the difference): cosine ~ 1 - size² / 2
    copies = [(0, 1, 0.1), (0, 2, 0.1), (10, 11, 0.1), (20, 21, 0.16), (21, 22, 0.16), (22, 23, 0.16)]
    copies += [(30, 30 + i, 0.1) for i in range(1, 25)]
    for source, target, size in copies:
        noise = rng.normal(size=dims) * size * np.linalg.norm(vectors[source]) / np.sqrt(dims)
        vectors[target] = vectors[source] + noise
    vectors[5] = vectors[4] * 3  # the same direction, three times as long
    return vectors.astype(np.float32)


# Exact duplicates -------------------------------------------------------------------------------------------------


def test_dup001_groups_match_a_dict_of_tuples() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    frame = pd.DataFrame(
        {
            "id": np.arange(n) * 7,
            "a": rng.integers(0, 4, n),
            "b": rng.choice(["cat", "dog", None], n),
            "c": rng.integers(0, 3, n) / 2,
            "prediction": rng.integers(0, 4, n),
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "embedding": list(rng.normal(size=(n, 3))),
        }
    )
    members: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for row, key in enumerate(zip(frame["a"], frame["b"], frame["c"], strict=True)):
        members[key].append(row)
    groups = exact_duplicates(frame)
    assert groups.name == "duplicate_group"
    assert groups.dtype == np.int64
    assert groups.tolist() == brute_groups(list(members.values()), n)

    # A named index labels the rows; it is not compared, and the result keeps it.
    keyed = frame.set_index(frame["id"].rename("key"))
    assert exact_duplicates(keyed).tolist() == groups.tolist()
    only_a = exact_duplicates(keyed, ["a", "prediction"])
    pairs: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for row, key in enumerate(zip(frame["a"], frame["prediction"], strict=True)):
        pairs[key].append(row)
    assert only_a.tolist() == brute_groups(list(pairs.values()), n)
    assert only_a.index.tolist() == frame["id"].tolist()


def test_dup002_media_compare_by_file_content(tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / "sub").mkdir(parents=True)
    (media / "a.png").write_bytes(b"\x89PNG one image")
    (media / "sub" / "copy-of-a.png").write_bytes(b"\x89PNG one image")
    (media / "b.png").write_bytes(b"\x89PNG another image")
    frame = pd.DataFrame(
        {
            "image": ["a.png", "b.png", "sub/copy-of-a.png", "gone.png", "gone.png", "lost.png", "a.png"],
            "label": [1, 1, 1, 1, 1, 1, 2],
        }
    )
    # a and its copy are one image; the two rows naming one missing file are duplicates; a with another label is not.
    expected = [0, -1, 0, 1, 1, -1, -1]
    assert exact_duplicates(frame, media_root=media).tolist() == expected
    assert exact_duplicates(Dataset(frame, media_root=media)).tolist() == expected
    assert exact_duplicates(frame, ["image", "label"], media_root=media).tolist() == expected
    # Only the image counts: a's copy and a itself are the same whatever their labels.
    assert exact_duplicates(frame, ["image"], media_root=media).tolist() == [0, -1, 0, 1, 1, -1, 0]


def test_dup003_unknown_column() -> None:
    with pytest.raises(DatasetError, match=r"^unknown column to compare 'nope'; the columns are: id, a$"):
        exact_duplicates(pd.DataFrame({"a": [1, 1]}), ["nope"])


def test_dup004_number_groups_largest_first_then_first_row() -> None:
    assert number_groups(np.array([7, 3, 3, 9, 7, 5, 5, 5, 1])).tolist() == [1, 2, 2, -1, 1, 0, 0, 0, -1]


# Near duplicates --------------------------------------------------------------------------------------------------


def test_near001_exact_method_matches_brute_force_components() -> None:
    vectors = planted(600, 64, seed=2)
    threshold = 0.98
    similarity = brute_cosine(vectors)
    np.fill_diagonal(similarity, 0)
    # No pair sits on the threshold, where float32 rounding could decide either way.
    assert np.abs(similarity - threshold).min() > 1e-4
    expected = brute_groups(union_find_groups(similarity >= threshold), len(vectors))
    assert max(expected) + 1 == 5  # the planted groups, found by brute force

    groups = near_duplicates(vectors, threshold, method="exact")
    assert groups.name == "near_duplicate_group"
    assert groups.tolist() == expected
    assert groups[20] == groups[23]  # a chain is one group although its ends are further apart
    assert similarity[20, 23] < threshold
    # One vector per row, as pandas or polars list columns, gives the same groups and keeps a pandas index.
    as_lists = pd.Series(list(vectors), index=np.arange(600) + 1000)
    from_pandas = near_duplicates(as_lists, threshold, method="exact")
    assert from_pandas.tolist() == expected
    assert from_pandas.index.tolist() == as_lists.index.tolist()
    assert near_duplicates(pl.Series(vectors.tolist()), threshold, method="exact").tolist() == expected


def test_near002_approximate_recall_against_exact() -> None:
    # Clustered data, so every row has close neighbours to tell apart, plus planted near duplicates.
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(40, 32))
    vectors = centres[rng.integers(0, 40, 5000)] + rng.normal(scale=0.6, size=(5000, 32))
    for start in range(0, 1000, 25):
        size = 2 + start // 50  # groups of 2 to 21 rows
        vectors[start + 1 : start + size] = vectors[start] + rng.normal(scale=0.02, size=(size - 1, 32))
    threshold = 0.98
    exact = near_duplicates(vectors, threshold, method="exact").to_numpy()
    approximate = near_duplicates(vectors, threshold, method="approximate").to_numpy()

    def together(groups: np.ndarray) -> set[tuple[int, int]]:
        rows = defaultdict(list)
        for row, group in enumerate(groups):
            if group >= 0:
                rows[group].append(row)
        return {(a, b) for members in rows.values() for a in members for b in members if a < b}

    exact_pairs, approximate_pairs = together(exact), together(approximate)
    assert len(exact_pairs) > 1000
    recall = len(exact_pairs & approximate_pairs) / len(exact_pairs)
    assert recall >= 0.95
    # Every approximate link is a true one, so an approximate group never spans two exact groups.
    assert approximate_pairs <= exact_pairs


def test_near003_auto_is_exact_up_to_the_limit_and_methods_are_checked() -> None:
    assert resolve_method("auto", APPROXIMATE_ABOVE) == "exact"
    assert resolve_method("auto", APPROXIMATE_ABOVE + 1) == "approximate"
    with pytest.raises(ValueError, match=r"^method: 'fast' is not a method; the methods are: auto, exact, approx"):
        near_duplicates(np.eye(3), method="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^threshold: a cosine similarity in \(0, 1\] is expected, got 1.5$"):
        near_duplicates(np.eye(3), 1.5)


def test_near004_identical_directions_stay_linked_at_threshold_one() -> None:
    vectors = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 2.0, 1.0], [0.1, 0.2, 0.3]])
    assert near_duplicates(vectors, 1.0, method="exact").tolist() == [0, 0, -1, 0]


def test_near005_bad_embeddings_are_named() -> None:
    with pytest.raises(DatasetError, match=r"^embeddings: 1 row\(s\) contain NaN or infinite values$"):
        near_duplicates(np.array([[1.0, 0.0], [np.nan, 1.0]]))
    with pytest.raises(DatasetError, match=r"^embeddings: the vectors have different lengths \(\[2, 3\]\)$"):
        near_duplicates(pd.Series([[1.0, 0.0], [1.0, 2.0, 3.0]]))
    with pytest.raises(DatasetError, match=r"^embeddings: the vectors have different lengths \(\[2, 3\]\)$"):
        near_duplicates(pl.Series([[1.0, 0.0], [1.0, 2.0, 3.0]]))
    with pytest.raises(DatasetError, match=r"^embeddings: 1 row\(s\) have no vector$"):
        near_duplicates(pd.Series([[1.0, 0.0], None]))


# Familiarity ------------------------------------------------------------------------------------------------------


def test_fam001_order_follows_brute_force_neighbour_distances() -> None:
    # Continuous random vectors: no two rows tie, so the order is unambiguous.
    vectors = np.random.default_rng(4).normal(size=(400, 8))
    k = 7
    similarity = brute_cosine(vectors)
    nearest = brute_neighbours(vectors, k)
    mean_distance = np.array([np.mean(1 - similarity[i, nearest[i]]) for i in range(len(vectors))])

    scores = familiarity(vectors, k=k, method="exact")
    assert scores.name == "familiarity"
    assert scores.dtype == np.float64
    assert scores.min() == 0 and scores.max() == 1
    # The order of the brute-force density -log(mean distance), up to float32 rounding between near ties ...
    order = np.argsort(-scores.to_numpy(), kind="stable")
    assert (np.diff(mean_distance[order]) > -1e-6).all()
    # ... and its rescaled ranks, off by at most one place where such a tie fell the other way.
    np.testing.assert_allclose(scores.to_numpy(), (400 - rankdata(mean_distance)) / 399, atol=1.01 / 399)
    assert scores.idxmin() == int(np.argmax(mean_distance))


def test_fam002_needs_more_rows_than_k() -> None:
    with pytest.raises(DatasetError, match=r"^k=15 neighbours need more than 15 rows; the data has 10$"):
        familiarity(np.random.default_rng(0).normal(size=(10, 4)))
    with pytest.raises(ValueError, match=r"^k: expected a positive whole number of neighbours, got 0$"):
        familiarity(np.eye(5), k=0)


# Label disagreement -----------------------------------------------------------------------------------------------


def test_dis001_shares_and_majorities_match_brute_force() -> None:
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(300, 6))
    labels = pd.Series(rng.choice(["cat", "dog", "owl"], 300), dtype=object)
    labels[rng.random(300) < 0.1] = None
    k = 4  # even, so two labels often tie and the nearest of them must win
    nearest = brute_neighbours(vectors, k)

    shares, majority = [], []
    for row, neighbours in enumerate(nearest):
        named = [labels[j] for j in neighbours if labels[j] is not None]
        differing = sum(label != labels[row] for label in named)
        shares.append(differing / len(named) if labels[row] is not None and named else np.nan)
        counts = Counter(named)
        top = max(counts.values(), default=0)
        majority.append(next((label for label in named if counts[label] == top), None))

    result = label_disagreement(vectors, labels, k=k, method="exact")
    assert list(result.columns) == ["label_disagreement", "neighbour_label"]
    np.testing.assert_allclose(result["label_disagreement"].to_numpy(), shares)
    assert result["neighbour_label"].tolist() == majority
    assert sum(1 for row in nearest if len({labels[j] for j in row}) == 2) > 10  # ties were exercised


def test_dis002_integer_labels_keep_their_type_and_the_index() -> None:
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"embedding": list(rng.normal(size=(50, 4))), "label": rng.integers(0, 3, 50)})
    frame.index = frame.index * 2
    result = label_disagreement(frame["embedding"], frame["label"], k=5)
    assert result.index.tolist() == frame.index.tolist()
    assert result["neighbour_label"].dtype == np.int64
    with pytest.raises(DatasetError, match=r"^labels: 49 labels for 50 embeddings; give one label per row$"):
        label_disagreement(frame["embedding"], frame["label"][:49])


# Projection -------------------------------------------------------------------------------------------------------


def test_proj001_pca_tsne_and_the_umap_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = np.random.default_rng(7).normal(size=(60, 5))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    pca = project(vectors)
    assert list(pca.columns) == ["x", "y"]
    np.testing.assert_allclose(
        pca.to_numpy(), PCA(2, random_state=0).fit_transform(unit.astype(np.float32)), rtol=1e-4, atol=1e-5
    )
    tsne = project(vectors, method="tsne", seed=3)
    assert tsne.shape == (60, 2) and np.isfinite(tsne.to_numpy()).all()
    pd.testing.assert_frame_equal(project(vectors, method="tsne", seed=3, cache=False), tsne)

    monkeypatch.setitem(sys.modules, "umap", None)  # as if umap-learn were not installed
    with pytest.raises(ImportError) as missing:
        project(vectors, method="umap")
    assert str(missing.value) == (
        "project(method='umap') needs the umap-learn package: pip install 'symphony_dash[umap]' (or pick pca or tsne)"
    )


# Cache ------------------------------------------------------------------------------------------------------------


class SearchSpy:
    """Counts brute-force neighbour searches: a cache hit makes none."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = NearestNeighbors.kneighbors

        def spy(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(NearestNeighbors, "kneighbors", spy)


def test_cache001_second_call_is_a_hit(monkeypatch: pytest.MonkeyPatch, fresh_cache: Path) -> None:
    searches = SearchSpy(monkeypatch)
    vectors = np.random.default_rng(8).normal(size=(100, 4)).astype(np.float32)
    first = familiarity(vectors, k=5)
    assert searches.calls == 1
    pd.testing.assert_series_equal(familiarity(vectors.copy(), k=5), first)
    assert searches.calls == 1
    familiarity(vectors, k=6)  # other parameters
    assert searches.calls == 2
    changed = vectors.copy()
    changed[0, 0] += 1e-3
    familiarity(changed, k=5)  # other data
    assert searches.calls == 3
    familiarity(vectors, k=5, cache=False)
    assert searches.calls == 4
    assert len(list(fresh_cache.glob("familiarity-v1-*.npz"))) == 3
    assert not list(fresh_cache.glob(".*"))  # no temporary files left behind


def test_cache002_unreadable_file_is_recomputed(monkeypatch: pytest.MonkeyPatch, fresh_cache: Path) -> None:
    searches = SearchSpy(monkeypatch)
    vectors = np.random.default_rng(9).normal(size=(80, 4))
    labels = np.arange(80) % 3
    first = label_disagreement(vectors, labels, k=5)
    (stored,) = fresh_cache.glob("label_disagreement-*.npz")
    stored.write_bytes(b"PK half a file")
    pd.testing.assert_frame_equal(label_disagreement(vectors, labels, k=5), first)
    assert searches.calls == 2
    pd.testing.assert_frame_equal(label_disagreement(vectors, labels, k=5), first)
    assert searches.calls == 2  # the recomputed result was stored again


def test_cache003_failed_write_leaves_nothing(monkeypatch: pytest.MonkeyPatch, fresh_cache: Path) -> None:
    def crash_midway(file: Any, **arrays: Any) -> None:
        file.write(b"PK half")
        raise OSError("disk full")

    monkeypatch.setattr(analysis_cache.np, "savez", crash_midway)
    groups = near_duplicates(planted(60, 4, seed=10), method="exact")  # the answer survives a failed write
    assert groups[0] == groups[1] == groups[2] >= 0
    assert list(fresh_cache.iterdir()) == []


def test_cache004_keys_follow_content_and_refuse_unhashable_arrays() -> None:
    a = np.arange(6, dtype=np.float32)
    assert analysis_cache.input_key({"x": a, "k": 3}) == analysis_cache.input_key({"k": 3, "x": a.copy()})
    assert analysis_cache.input_key({"x": a}) != analysis_cache.input_key({"x": a.reshape(2, 3)})
    assert analysis_cache.input_key({"x": a}) != analysis_cache.input_key({"x": a.astype(np.float64)})
    with pytest.raises(TypeError, match="only numeric arrays can be hashed"):
        analysis_cache.input_key({"labels": np.array(["a", "b"], dtype=object)})


# The digits demo --------------------------------------------------------------------------------------------------


def test_demo001_pixel_duplicates_match_image_file_contents() -> None:
    table, root = demo.prepare_digits(DEMO_CACHE)
    by_content = exact_duplicates(table, ["image"], media_root=root)
    assert table["duplicate_group"].tolist() == by_content.tolist()
    assert table["near_duplicate_group"].max() >= 3


# The analyze command ----------------------------------------------------------------------------------------------


def analysed_frame(n: int = 200) -> pd.DataFrame:
    frame = toy_frame(n)
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(4, 8))
    embedding = centres[frame["label"]] + rng.normal(scale=0.5, size=(n, 8))
    embedding[1] = embedding[0] * 2  # one near duplicate pair
    frame["embedding"] = list(embedding.astype(np.float32))
    frame.loc[5, ["label", "prediction", "confidence", "split", "text"]] = frame.loc[4]
    return frame


def test_cli001_analyze_writes_every_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    frame = analysed_frame()
    data, out = tmp_path / "runs.parquet", tmp_path / "enriched.parquet"
    frame.to_parquet(data)
    args = ["analyze", str(data), "--out", str(out), "--duplicates", "--near-duplicates", "--threshold", "0.99"]
    code = main([*args, "--familiarity", "--label-disagreement", "--projection", "pca"])
    printed = capsys.readouterr()
    assert (code, printed.err) == (0, "")

    enriched = pd.read_parquet(out)
    new = ["duplicate_group", "near_duplicate_group", "familiarity", "label_disagreement", "neighbour_label"]
    assert list(enriched.columns) == [*frame.columns, *new, "proj_x", "proj_y"]
    pd.testing.assert_frame_equal(enriched[frame.columns].drop(columns="embedding"), frame.drop(columns="embedding"))
    vectors = np.stack(frame["embedding"])
    duplicates = exact_duplicates(frame, ["label", "split", "text"])
    assert enriched["duplicate_group"].tolist() == duplicates.tolist()
    near = near_duplicates(vectors, 0.99).tolist()
    assert enriched["near_duplicate_group"].tolist() == near
    typical = familiarity(vectors)
    assert enriched["familiarity"].tolist() == typical.tolist()
    disagreement = label_disagreement(vectors, frame["label"])
    assert enriched["neighbour_label"].tolist() == disagreement["neighbour_label"].tolist()
    np.testing.assert_allclose(enriched[["proj_x", "proj_y"]].to_numpy(), project(vectors).to_numpy())

    suspects = frame["id"][disagreement["label_disagreement"] > 0.5].tolist()
    least = frame["id"].to_numpy()[np.argsort(typical.to_numpy(), kind="stable")].tolist()

    def listing(ids: list[int]) -> str:
        return ", ".join(map(str, ids[:5])) + (" ..." if len(ids) > 5 else "")

    assert printed.out.splitlines() == [
        "added duplicate_group: 1 group of exact duplicates (2 rows), comparing label, split, text",
        "added near_duplicate_group: 1 group of near duplicates (2 rows) at cosine similarity >= 0.99 of 'embedding'",
        f"added familiarity: 0 (least typical) to 1 (most); the least typical ids: {listing(least)}",
        f"added label_disagreement, neighbour_label: {len(suspects)} rows whose 10 nearest rows mostly carry another "
        f"label, candidate label errors (ids {listing(suspects)})",
        "added proj_x, proj_y: PCA of 'embedding'",
        f"wrote {out}: 200 rows, 16 columns",
    ]
    assert duplicates[4] == duplicates[5] == 0
    assert near[0] == near[1] == 0


def test_cli002_analyze_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data, out = tmp_path / "toy.csv", tmp_path / "out.parquet"
    toy_frame(50).to_csv(data, index=False)
    columns = ", ".join(toy_frame(1).columns)

    def run(*args: str) -> tuple[int, str]:
        code = main(["analyze", str(data), "--out", str(out), *args])
        captured = capsys.readouterr()
        assert captured.out == ""
        return code, captured.err

    assert run("--familiarity") == (
        1,
        "symphony-dash: toy.csv: no embedding column found for --familiarity; name one with --embedding COL\n",
    )
    assert run("--near-duplicates", "--projection", "tsne", "--embedding", "nope") == (
        1,
        f"symphony-dash: unknown embedding column 'nope'; the columns are: {columns}\n",
    )
    assert run("--familiarity", "--embedding", "label") == (
        1,
        "symphony-dash: embedding column 'label' is not an embedding: it needs one list of numbers per row\n",
    )
    assert run("--duplicates", "--id-column", "nope") == (
        1,
        f"symphony-dash: id_column: unknown column 'nope'; the columns are: {columns}\n",
    )
    assert run() == (
        2,
        "symphony-dash: analyze: nothing to do; choose at least one of --duplicates, --near-duplicates, "
        "--familiarity, --label-disagreement, --projection\n",
    )
    assert run("--threshold", "0.9", "--duplicates") == (
        2,
        "symphony-dash: --threshold is the similarity of --near-duplicates, which was not asked for\n",
    )
    assert not out.exists()
    assert main(["analyze", str(tmp_path / "gone.csv"), "--out", str(out), "--duplicates"]) == 2
    assert capsys.readouterr().err == f"symphony-dash: {tmp_path / 'gone.csv'}: no such data file\n"
    with pytest.raises(SystemExit) as usage:
        main(["analyze", str(data), "--out", str(out), "--near-duplicates", "--threshold", "1.5"])
    assert usage.value.code == 2
    assert "argument --threshold: '1.5' is not a cosine similarity in (0, 1]" in capsys.readouterr().err
