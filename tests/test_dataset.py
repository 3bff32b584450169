"""Tests of the dataset: every input format, the id column, role and kind inference and their overrides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from helpers import toy_frame

from symphony_dash.dataset import ColumnInfo, Dataset, DatasetError
from symphony_dash.layout import load_layout

TOY = toy_frame()
TOY_KINDS = {
    "id": "id",
    "label": "categorical",
    "prediction": "categorical",
    "confidence": "numeric",
    "split": "categorical",
    "x": "numeric",
    "y": "numeric",
    "text": "text",
}
COLUMNS = "id, label, prediction, confidence, split, x, y, text"
ROLES = "label, prediction, score, embedding, x, y, image, audio, text"
TOY_ROLES = {"label": "label", "prediction": "prediction", "score": "confidence", "x": "x", "y": "y"}


def kinds(ds: Dataset) -> dict[str, str]:
    return {name: info.kind for name, info in ds.columns.items()}


def message(call: Any) -> str:
    with pytest.raises(DatasetError) as caught:
        call()
    return str(caught.value)


# -- sources --------------------------------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    if name.endswith(".parquet"):
        TOY.to_parquet(path, index=False)
    else:
        TOY.to_csv(path, index=False, sep="\t" if name.endswith(".tsv") else ",")
    return path


@pytest.mark.parametrize("source", ["pandas", "arrow", "polars", "parquet", "csv", "tsv", "parquet-str"])
def test_dataset001_every_source_gives_the_same_dataset(source: str, tmp_path: Path) -> None:
    data: Any = {
        "pandas": lambda: TOY,
        "arrow": lambda: pa.Table.from_pandas(TOY, preserve_index=False),
        "polars": lambda: pl.from_pandas(TOY),
        "parquet": lambda: _write(tmp_path, "toy.parquet"),
        "csv": lambda: _write(tmp_path, "toy.csv"),
        "tsv": lambda: _write(tmp_path, "toy.tsv"),
        "parquet-str": lambda: str(_write(tmp_path, "toy.parquet")),
    }[source]()
    ds = Dataset(data)
    assert len(ds) == len(TOY)
    assert ds.id_column == "id"
    assert kinds(ds) == TOY_KINDS
    assert ds.roles == TOY_ROLES
    assert ds.frame["id"].to_list() == TOY["id"].tolist()
    assert np.allclose(ds.frame["confidence"].to_numpy(), TOY["confidence"].to_numpy())
    assert ds.frame["split"].cast(pl.String).to_list() == TOY["split"].tolist()
    assert ds.media_root == (tmp_path if source in ("parquet", "csv", "tsv", "parquet-str") else None)


def test_dataset002_media_root_can_be_given(tmp_path: Path) -> None:
    assert Dataset(TOY, media_root=tmp_path).media_root == tmp_path
    assert Dataset(str(_write(tmp_path, "toy.csv")), media_root="/media").media_root == Path("/media")


def test_dataset003_csv_dates_are_parsed(tmp_path: Path) -> None:
    path = tmp_path / "dates.csv"
    path.write_text("day,v\n2024-01-01,1\n2024-02-01,2\n")
    ds = Dataset(path)
    assert ds.frame["day"].dtype == pl.Date
    assert ds.columns["day"].kind == "datetime"


def test_dataset004_sources_that_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "nope.parquet"
    assert message(lambda: Dataset(missing)) == f"{missing}: no such data file"
    other = tmp_path / "toy.json"
    other.write_text(json.dumps({"a": [1]}))
    assert message(lambda: Dataset(other)) == f"{other}: unsupported data file; use .parquet, .csv or .tsv"
    assert message(lambda: Dataset([1, 2])) == (  # type: ignore[arg-type]
        "cannot make a dataset from list; give a DataFrame, Arrow table or file path"
    )


# -- the id column --------------------------------------------------------------------------------------------------


def test_dataset005_an_id_is_generated_when_there_is_none() -> None:
    ds = Dataset(pd.DataFrame({"a": [5.0, 6.0, 7.0]}))
    assert ds.id_column == "id"
    assert ds.frame.columns == ["id", "a"]
    assert ds.frame["id"].dtype == pl.Int64
    assert ds.frame["id"].to_list() == [0, 1, 2]
    assert ds.columns["id"] == ColumnInfo("id", "id", "Int64")


def test_dataset006_an_explicit_id_column() -> None:
    ds = Dataset(pd.DataFrame({"key": ["b", "a", "c"], "v": [1, 2, 3]}), id_column="key")
    assert ds.id_column == "key"
    assert ds.frame.columns == ["key", "v"]
    assert ds.columns["key"].kind == "id"
    assert ds.frame["key"].dtype == pl.String  # ids are never turned into categories


def test_dataset007_a_named_pandas_index_is_kept() -> None:
    ds = Dataset(TOY.set_index("id").iloc[::-1])
    assert ds.id_column == "id"
    assert ds.frame["id"].to_list() == TOY["id"].tolist()[::-1]
    plain = Dataset(TOY.iloc[::-1])  # an unnamed index is only row numbers: dropped
    assert plain.frame.columns == list(TOY.columns)


@pytest.mark.parametrize(
    ("frame", "id_column", "text"),
    [
        (
            pd.DataFrame({"id": [1, 2, 2, 3]}),
            None,
            "id column 'id' has duplicate ids (for example [2]); ids must be unique",
        ),
        (
            pd.DataFrame({"key": ["a", "b", "a", "c", "c"]}),
            "key",
            "id column 'key' has duplicate ids (for example ['a', 'c']); ids must be unique",
        ),
        (
            pd.DataFrame({"id": [1.0, np.nan, 3.0, None]}),
            None,
            "id column 'id' has 2 missing value(s); every instance needs an id",
        ),
        (
            pd.DataFrame({"key": ["a", None, "b"]}),
            "key",
            "id column 'key' has 1 missing value(s); every instance needs an id",
        ),
        (
            pd.DataFrame({"a": [1], "b": [2]}),
            "nope",
            "id_column: unknown column 'nope'; the columns are: a, b",
        ),
    ],
    ids=["duplicate", "duplicates-strings", "missing", "missing-string", "unknown"],
)
def test_dataset008_bad_ids_are_refused(frame: pd.DataFrame, id_column: str | None, text: str) -> None:
    assert message(lambda: Dataset(frame, id_column=id_column)) == text


# -- roles and kinds ------------------------------------------------------------------------------------------------


def test_dataset009_roles_are_inferred_from_names_and_dtypes(tmp_path: Path) -> None:
    n = 250
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "Y_True": rng.integers(0, 3, n),
            "y_pred": rng.integers(0, 3, n),
            "proba": rng.random(n),
            "umap_x": rng.normal(size=n),
            "umap_y": rng.normal(size=n),
            "thumb": [f"img/{i}.PNG" for i in range(n)],
            "clip": [f"audio/{i}.wav" for i in range(n)],
            "vector": [rng.normal(size=4).tolist() for _ in range(n)],
            "caption": [f"caption number {i}" for i in range(n)],
            "group": rng.choice(["a", "b"], n),
            "when": pd.date_range("2024-01-01", periods=n, freq="h"),
            "ok": rng.random(n) < 0.5,
        }
    )
    ds = Dataset(frame)
    assert ds.roles == {
        "label": "Y_True",
        "prediction": "y_pred",
        "score": "proba",
        "embedding": "vector",
        "x": "umap_x",
        "y": "umap_y",
        "image": "thumb",
        "audio": "clip",
    }
    assert kinds(ds) == {
        "id": "id",
        "Y_True": "categorical",
        "y_pred": "categorical",
        "proba": "numeric",
        "umap_x": "numeric",
        "umap_y": "numeric",
        "thumb": "image",
        "clip": "audio",
        "vector": "embedding",
        "caption": "text",
        "group": "categorical",
        "when": "datetime",
        "ok": "categorical",
    }
    assert ds.role("label") == "Y_True"
    assert ds.role("text") is None
    assert ds.columns_of("numeric") == ["proba", "umap_x", "umap_y"]
    assert ds.columns_of("image", "audio") == ["thumb", "clip"]
    assert ds.columns["group"].is_categorical
    assert not ds.columns["caption"].is_categorical


def test_dataset010_the_first_matching_name_wins_and_projections_need_numbers() -> None:
    frame = pd.DataFrame(
        {"target": [0, 1], "label": [1, 0], "x": ["a", "b"], "y": ["c", "d"], "pca_x": [0.1, 0.2], "pca_y": [1.0, 2.0]}
    )
    ds = Dataset(frame)
    assert ds.roles["label"] == "label"
    assert (ds.roles["x"], ds.roles["y"]) == ("pca_x", "pca_y")


def test_dataset011_a_column_of_image_paths_becomes_an_image_column() -> None:
    ds = Dataset(pd.DataFrame({"image": ["a/1.png", None, "a/2.jpeg"], "photo": ["p.JPG", "q.webp", "r.tif"]}))
    assert ds.columns["image"].kind == "image"
    assert ds.columns["photo"].kind == "image"
    assert ds.roles["image"] == "image"
    assert ds.frame["image"].dtype == pl.String


def test_dataset012_roles_and_kinds_can_be_set() -> None:
    ds = Dataset(
        TOY,
        roles={"label": "prediction", "prediction": "label", "text": "text", "x": "confidence"},
        kinds={"split": "text", "label": "numeric", "y": "categorical"},
    )
    assert ds.roles == {
        "label": "prediction",
        "prediction": "label",
        "text": "text",
        "x": "confidence",
        "score": "confidence",
    }
    assert kinds(ds) == {**TOY_KINDS, "split": "text", "label": "numeric", "y": "categorical"}
    assert ds.frame["split"].dtype == pl.String  # free text stays a string
    assert ds.frame["y"].dtype == pl.Float64


def test_dataset013_an_image_role_makes_a_text_column_an_image_column() -> None:
    ds = Dataset(pd.DataFrame({"path": ["a", "b", "c"], "v": [1, 2, 3]}), roles={"image": "path"})
    assert ds.columns["path"].kind == "image"
    assert ds.frame["path"].dtype == pl.String


@pytest.mark.parametrize(
    ("options", "text"),
    [
        (
            {"roles": {"truth": "label"}},
            f"roles: 'truth' is not a role; the roles are: {ROLES}",
        ),
        (
            {"roles": {"label": "nope"}},
            f"roles['label']: unknown column 'nope'; the columns are: {COLUMNS}",
        ),
        (
            {"kinds": {"x": "float"}},
            "kinds['x']: 'float' is not a kind; the kinds are: id, numeric, categorical, text, datetime, embedding, "
            "image, audio",
        ),
        (
            {"kinds": {"nope": "numeric"}},
            f"kinds: unknown column 'nope'; the columns are: {COLUMNS}",
        ),
    ],
)
def test_dataset014_bad_roles_and_kinds_are_refused(options: dict[str, Any], text: str) -> None:
    assert message(lambda: Dataset(TOY, **options)) == text


def test_dataset015_roles_and_kinds_through_a_layout(tmp_path: Path) -> None:
    TOY.to_parquet(tmp_path / "toy.parquet", index=False)
    layout = {
        "title": "Roles",
        "data": {
            "source": "toy.parquet",
            "roles": {"label": "prediction", "prediction": "label"},
            "kinds": {"split": "text"},
        },
        "pages": [{"title": "One", "components": [{"type": "histogram", "id": "h", "props": {"column": "x"}}]}],
    }
    (tmp_path / "roles.json").write_text(json.dumps(layout))
    ds = load_layout(tmp_path / "roles.json").dataset
    assert (ds.roles["label"], ds.roles["prediction"]) == ("prediction", "label")
    assert ds.columns["split"].kind == "text"
    assert ds.media_root == tmp_path


# -- categories -----------------------------------------------------------------------------------------------------


def test_dataset016_string_categories_become_enums() -> None:
    ds = Dataset(TOY)
    assert ds.frame["split"].dtype == pl.Enum(["test", "train"])
    assert ds.categories("split") == ["test", "train"]
    assert ds.frame["text"].dtype == pl.String
    assert ds.categories("label") == [0, 1, 2, 3]


def test_dataset017_enums_keep_missing_values_and_sort_their_categories() -> None:
    ds = Dataset(pd.DataFrame({"c": ["pear", None, "apple", "fig", "apple"]}))
    assert ds.frame["c"].dtype == pl.Enum(["apple", "fig", "pear"])
    assert ds.frame["c"].cast(pl.String).to_list() == ["pear", None, "apple", "fig", "apple"]
    assert ds.categories("c") == ["apple", "fig", "pear"]


def test_dataset018_many_distinct_strings_are_text() -> None:
    ds = Dataset(
        pd.DataFrame({"few": [f"v{i % 200}" for i in range(400)], "many": [f"v{i % 201}" for i in range(400)]})
    )
    assert ds.columns["few"].kind == "categorical"
    assert ds.columns["many"].kind == "text"


def test_dataset019_repr_and_len() -> None:
    ds = Dataset(pd.DataFrame({"label": [1, 0], "prediction": [1, 1]}), name="tiny")
    assert len(ds) == 2
    assert repr(ds) == "Dataset('tiny', 2 rows, id='id', roles={'label': 'label', 'prediction': 'prediction'})"


def test_dataset020_unknown_column_names_the_columns() -> None:
    ds = Dataset(TOY)
    assert message(lambda: ds.column("nope")) == f"unknown column 'nope'; the columns are: {COLUMNS}"
    assert message(lambda: ds.column(3)) == f"unknown column 3; the columns are: {COLUMNS}"
