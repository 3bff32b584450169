"""Tests for the digits demo dataset: its shape, its honesty as ML output, its thumbnails and its cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE

from symphony_dash import demo

if TYPE_CHECKING:
    from collections.abc import Iterator

N_DIGITS = 1797
# None marks the string columns, whose dtype name is "str" on pandas 3 but "object" on pandas 2.
COLUMNS = {
    "id": "int64",
    "image": None,
    "label": "int64",
    "prediction": "int64",
    "confidence": "float64",
    "correct": "bool",
    "split": None,
    "ink": "float64",
    "embedding": "object",
    "x": "float64",
    "y": "float64",
    "duplicate_group": "int64",
    "near_duplicate_group": "int64",
    "familiarity": "float64",
    "label_disagreement": "float64",
    "neighbour_label": "int64",
}


@dataclass
class Prepared:
    """One first-time preparation, shared by the tests because it takes several seconds."""

    cache: Path
    table: pd.DataFrame
    root: Path
    fits: int


class FitCounter:
    """Counts calls of the patched methods and, once frozen, fails any further call: the 'no refit' spy."""

    def __init__(self) -> None:
        self.calls = 0
        self.frozen = False

    def wrap(self, method: Any) -> Any:
        def spy(*args: Any, **kwargs: Any) -> Any:
            if self.frozen:
                raise AssertionError(f"{method.__qualname__} was called although the cache should be used")
            self.calls += 1
            return method(*args, **kwargs)

        return spy


@pytest.fixture(scope="module")
def counter() -> Iterator[FitCounter]:
    # Spy on the model classes themselves, so the spy works however demo.py imports them.
    fits = FitCounter()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LogisticRegression, "fit", fits.wrap(LogisticRegression.fit))
        patch.setattr(TSNE, "fit_transform", fits.wrap(TSNE.fit_transform))
        yield fits


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, counter: FitCounter) -> Prepared:
    cache = tmp_path_factory.mktemp("cache")
    table, root = demo.prepare_digits(cache)
    return Prepared(cache=cache, table=table, root=root, fits=counter.calls)


@pytest.fixture
def no_refit(counter: FitCounter) -> Iterator[None]:
    counter.frozen = True
    yield
    counter.frozen = False


def test_columns_and_dtypes(prepared: Prepared) -> None:
    table = prepared.table
    assert list(table.columns) == list(COLUMNS)
    for name, dtype in COLUMNS.items():
        if dtype is None:
            assert pd.api.types.is_string_dtype(table[name]), name
            assert all(isinstance(value, str) for value in table[name]), name
        else:
            assert str(table[name].dtype) == dtype, name
    assert len(table) == N_DIGITS


def test_ids_are_unique_and_dense(prepared: Prepared) -> None:
    ids = prepared.table["id"]
    assert ids.is_unique
    assert ids.tolist() == list(range(N_DIGITS))


def test_predictions_look_like_real_model_output(prepared: Prepared) -> None:
    table = prepared.table
    assert set(table["label"]) == set(range(10))
    assert set(table["prediction"]) <= set(range(10))
    assert (table["correct"] == (table["label"] == table["prediction"])).all()
    error_rate = 1 - table["correct"].mean()
    assert 0.01 < error_rate < 0.15
    assert table["confidence"].between(0, 1).all()
    # With ten classes the top probability is never below one tenth.
    assert (table["confidence"] >= 0.1).all()
    # A calibrated-ish model is less sure when it is wrong.
    assert table.loc[~table["correct"], "confidence"].mean() < table.loc[table["correct"], "confidence"].mean()


def test_split_is_eighty_twenty(prepared: Prepared) -> None:
    counts = prepared.table["split"].value_counts()
    assert set(counts.index) == {"train", "test"}
    assert counts["test"] / N_DIGITS == pytest.approx(0.2, abs=0.01)


def test_numeric_columns(prepared: Prepared) -> None:
    table = prepared.table
    assert (table["ink"] > 0).all()
    assert np.isfinite(table[["x", "y", "ink"]].to_numpy()).all()
    embedding = np.stack(table["embedding"].to_list())
    assert embedding.dtype == np.float32
    assert embedding.shape == (N_DIGITS, demo.EMBEDDING_DIMS)


def test_thumbnails_are_64px_grayscale_pngs(prepared: Prepared) -> None:
    assert prepared.root == prepared.cache / "digits"
    for rel in prepared.table["image"]:
        assert not Path(rel).is_absolute()
        with Image.open(prepared.root / rel) as image:
            assert image.format == "PNG"
            assert image.size == (64, 64)
            assert image.mode == "L"
    with Image.open(prepared.root / "images/0000.png") as image:
        pixels = np.asarray(image)
    # Dark ink on white: the corner is background, and some strokes are close to black.
    assert pixels[0, 0] == 255
    assert pixels.min() < 64


def test_cache_is_written_atomically(prepared: Prepared) -> None:
    folder = prepared.root
    assert (folder / "digits-v2.parquet").is_file()
    assert not list(folder.rglob("*.tmp"))


@pytest.mark.usefixtures("no_refit")
def test_second_call_reads_the_cache(prepared: Prepared) -> None:
    # The first call fitted the classifier once per fold and ran t-SNE once; the spy would have seen a refit.
    assert prepared.fits == 5 + 1
    table, root = demo.prepare_digits(prepared.cache)
    assert root == prepared.root
    pd.testing.assert_frame_equal(table, prepared.table)


@pytest.mark.usefixtures("no_refit")
def test_missing_thumbnail_is_restored_without_refitting(prepared: Prepared) -> None:
    thumbnail = prepared.root / "images/0007.png"
    original = thumbnail.read_bytes()
    thumbnail.unlink()
    demo.prepare_digits(prepared.cache)
    assert thumbnail.read_bytes() == original


def test_cache_dir_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SYMPHONY_DASH_CACHE", str(tmp_path / "elsewhere"))
    assert demo.cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("SYMPHONY_DASH_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert demo.cache_dir() == tmp_path / ".cache" / "symphony_dash"
