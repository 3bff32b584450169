"""The dataset: one table on the server, one row per instance, a stable id column and column roles.

Roles are inferred from dtypes and names (``label``, ``prediction``, ``confidence``, ``x``/``y``, an image path ...)
and can be set explicitly. The full table never goes to the browser; components ask the :mod:`engine` for views.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import polars as pl
import pyarrow as pa

__all__ = ["ROLES", "ColumnInfo", "Dataset", "DatasetError", "Kind"]

Kind = Literal["id", "numeric", "categorical", "text", "datetime", "embedding", "image", "audio"]
KINDS: tuple[str, ...] = Kind.__args__

# Single-column roles a component can look up instead of asking for a column name.
ROLES = ("label", "prediction", "score", "embedding", "x", "y", "image", "audio", "text")

_ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "label": ("label", "labels", "target", "y_true", "ground_truth", "gt", "class", "true_label"),
    "prediction": ("prediction", "pred", "predicted", "y_pred", "predicted_label", "model_prediction"),
    "score": ("confidence", "score", "probability", "prob", "proba"),
    "embedding": ("embedding", "embeddings", "features", "vector"),
}
_PROJECTION_PAIRS = (("x", "y"), ("proj_x", "proj_y"), ("umap_x", "umap_y"), ("tsne_x", "tsne_y"), ("pca_x", "pca_y"))
_IMAGE = r"(?i)\.(png|jpe?g|gif|bmp|webp|tiff?)$"
_AUDIO = r"(?i)\.(wav|mp3|flac|ogg|m4a)$"
# A string column with at most this many distinct values is a category; more, and it is free text.
MAX_CATEGORIES = 200


class DatasetError(ValueError):
    """The data cannot be used as given; the message names the column and the rule."""


@dataclass(frozen=True)
class ColumnInfo:
    """What the framework knows about one column."""

    name: str
    kind: Kind
    dtype: str

    @property
    def is_categorical(self) -> bool:
        return self.kind == "categorical"


class Dataset:
    """A table of instances kept on the server.

    >>> ds = Dataset(pd.DataFrame({"label": [1, 0], "prediction": [1, 1]}))
    >>> ds.roles["label"], ds.id_column
    ('label', 'id')
    """

    def __init__(
        self,
        data: pd.DataFrame | pa.Table | pl.DataFrame | str | Path,
        *,
        id_column: str | None = None,
        roles: dict[str, str] | None = None,
        kinds: dict[str, Kind] | None = None,
        name: str = "data",
        media_root: str | Path | None = None,
    ) -> None:
        frame = read_table(data)
        if isinstance(data, (str, Path)) and media_root is None:
            media_root = Path(data).parent
        self.name = name
        self.media_root = Path(media_root) if media_root is not None else None
        self.id_column, frame = _with_id(frame, id_column)
        self.roles, kinds = roles_and_kinds(frame, roles, kinds)
        self.columns: dict[str, ColumnInfo] = {
            name: ColumnInfo(name, kinds.get(name) or _kind(frame[name], name == self.id_column), str(dtype))
            for name, dtype in frame.schema.items()
        }
        with_media_roles(self.columns, self.roles)
        self.frame = _encode_categories(frame, self.columns)
        self._categories: dict[str, list[Any]] = {}

    def __len__(self) -> int:
        return self.frame.height

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, {len(self)} rows, id={self.id_column!r}, roles={self.roles})"

    def column(self, name: Any, *, what: str = "column") -> ColumnInfo:
        """The column called ``name``, or a :class:`DatasetError` naming the columns there are."""
        if not isinstance(name, str) or name not in self.columns:
            close = ", ".join(list(self.columns)[:30])
            raise DatasetError(f"unknown {what} {name!r}; the columns are: {close}")
        return self.columns[name]

    def role(self, role: str) -> str | None:
        """The column that plays ``role`` (``label``, ``x`` ...), if any."""
        return self.roles.get(role)

    def columns_of(self, *kinds: str) -> list[str]:
        """The names of the columns of the given kinds, in table order."""
        return [c.name for c in self.columns.values() if c.kind in kinds]

    def with_columns(self, columns: Mapping[str, pl.Series], kinds: Mapping[str, Kind] | None = None) -> Dataset:
        """A new dataset: this table with ``columns`` added (or replaced), the same ids, roles and media root.

        Kept columns keep their kinds; the new ones take ``kinds`` or an inferred kind. This dataset is left as it
        was, since views may be reading it.
        """
        frame = self.frame.with_columns(series.alias(name) for name, series in columns.items())
        kept = {name: info.kind for name, info in self.columns.items() if name not in columns}
        return Dataset(
            frame,
            id_column=self.id_column,
            roles=self.roles,
            kinds={**kept, **(kinds or {})},
            name=self.name,
            media_root=self.media_root,
        )

    def categories(self, column: str) -> list[Any]:
        """The categories of a categorical column, in their display order (computed once: the table never changes)."""
        if column not in self._categories:
            series = self.frame[column]
            if isinstance(series.dtype, pl.Enum):
                self._categories[column] = series.dtype.categories.to_list()
            else:
                self._categories[column] = series.drop_nulls().unique().sort().to_list()
        return self._categories[column]


def read_table(data: Any) -> pl.DataFrame:
    """A polars frame from a pandas or polars DataFrame, a pyarrow Table, or a Parquet, CSV or TSV path."""
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pd.DataFrame):
        # A named index (``df.set_index("id")``) holds data, usually the ids: keep it as columns.
        if any(name is not None for name in data.index.names):
            data = data.reset_index()
        return pl.from_arrow(pa.Table.from_pandas(data, preserve_index=False))  # type: ignore[return-value]
    if isinstance(data, pa.Table):
        return pl.from_arrow(data)  # type: ignore[return-value]
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.exists():
            raise DatasetError(f"{path}: no such data file")
        if path.suffix.lower() in (".parquet", ".pq"):
            return pl.read_parquet(path)
        if path.suffix.lower() in (".csv", ".tsv"):
            return pl.read_csv(path, separator="\t" if path.suffix.lower() == ".tsv" else ",", try_parse_dates=True)
        raise DatasetError(f"{path}: unsupported data file; use .parquet, .csv or .tsv")
    raise DatasetError(f"cannot make a dataset from {type(data).__name__}; give a DataFrame, Arrow table or file path")


def roles_and_kinds(
    frame: pl.DataFrame, roles: dict[str, str] | None, kinds: dict[str, Kind] | None
) -> tuple[dict[str, str], dict[str, Kind]]:
    """The roles of a table's columns (given, else by name) and the kinds given, checked against its columns
    (``frame``: the table, or an empty frame of its schema); a label or prediction column is categorical."""
    kinds = dict(kinds or {})
    for column, kind in kinds.items():
        _check_column(frame, column, "kinds")
        if kind not in KINDS:
            raise DatasetError(f"kinds[{column!r}]: {kind!r} is not a kind; the kinds are: {', '.join(KINDS)}")
    roles = _infer_roles(frame, dict(roles or {}))
    for role in ("label", "prediction"):
        if role in roles:
            kinds.setdefault(roles[role], "categorical")
    return roles, kinds


def with_media_roles(columns: dict[str, ColumnInfo], roles: dict[str, str]) -> None:
    """A text column given the image, audio or text role takes that kind; a media or embedding column found by its
    kind takes the role if none was given (both in place)."""
    for role in ("image", "audio", "text"):
        if role in roles:
            info = columns[roles[role]]
            if info.kind in ("text", "categorical"):
                columns[info.name] = ColumnInfo(info.name, role, info.dtype)  # type: ignore[arg-type]
    for info in columns.values():
        if role := {"image": "image", "audio": "audio", "embedding": "embedding"}.get(info.kind):
            roles.setdefault(role, info.name)


def _check_column(frame: pl.DataFrame, column: str, where: str) -> None:
    if column not in frame.columns:
        raise DatasetError(f"{where}: unknown column {column!r}; the columns are: {', '.join(frame.columns)}")


def _with_id(frame: pl.DataFrame, id_column: str | None) -> tuple[str, pl.DataFrame]:
    if id_column is None:
        if "id" not in frame.columns:
            return "id", frame.with_row_index("id").with_columns(pl.col("id").cast(pl.Int64))
        id_column = "id"
    _check_column(frame, id_column, "id_column")
    ids = frame[id_column]
    if (missing := ids.null_count()) > 0:
        raise DatasetError(f"id column {id_column!r} has {missing} missing value(s); every instance needs an id")
    # Increasing ids (a row number, a sorted key) are unique at a glance; others are counted, and only then listed.
    increasing = ids.dtype.is_numeric() and ids.len() > 1 and bool((ids.diff(null_behavior="drop") > 0).all())
    if not increasing and ids.n_unique() < ids.len():
        dupes = ids.is_duplicated()
        examples = ids.filter(dupes).unique(maintain_order=True).head(3).to_list()
        raise DatasetError(f"id column {id_column!r} has duplicate ids (for example {examples}); ids must be unique")
    return id_column, frame


def _infer_roles(frame: pl.DataFrame, roles: dict[str, str]) -> dict[str, str]:
    for role, column in roles.items():
        if role not in ROLES:
            raise DatasetError(f"roles: {role!r} is not a role; the roles are: {', '.join(ROLES)}")
        _check_column(frame, column, f"roles[{role!r}]")
    lower = {c.lower(): c for c in frame.columns}
    for role, names in _ROLE_NAMES.items():
        if role not in roles and (found := next((lower[n] for n in names if n in lower), None)):
            roles[role] = found
    if "x" not in roles and "y" not in roles:
        for x, y in _PROJECTION_PAIRS:
            if x in lower and y in lower and all(frame[lower[c]].dtype.is_numeric() for c in (x, y)):
                roles["x"], roles["y"] = lower[x], lower[y]
                break
    return roles


def _kind(series: pl.Series, is_id: bool) -> Kind:
    return infer_kind(series.dtype, is_id, lambda: series.drop_nulls().head(100), series.n_unique)


def infer_kind(dtype: pl.DataType, is_id: bool, sample: Callable[[], pl.Series], distinct: Callable[[], int]) -> Kind:
    """A column's kind from its type; for text, from ``sample`` (some of its values: media paths?) and ``distinct``
    (how many values: categories or free text?), asked only then, since counting them takes a pass."""
    if is_id:
        return "id"
    if dtype == pl.Boolean or isinstance(dtype, (pl.Enum, pl.Categorical)):
        return "categorical"
    if dtype.is_temporal():
        return "datetime"
    if isinstance(dtype, (pl.List, pl.Array)) and dtype.inner.is_numeric():
        return "embedding"
    if dtype.is_numeric():
        return "numeric"
    if dtype == pl.String:
        some = sample()
        if some.len() and some.str.contains(_IMAGE).all():
            return "image"
        if some.len() and some.str.contains(_AUDIO).all():
            return "audio"
        return "categorical" if distinct() <= MAX_CATEGORIES else "text"
    return "text"


def _encode_categories(frame: pl.DataFrame, columns: dict[str, ColumnInfo]) -> pl.DataFrame:
    """String categories become ``pl.Enum``: compact, fast to filter, and ordered for display."""
    casts = [
        pl.col(c.name).cast(pl.Enum(sorted(frame[c.name].drop_nulls().unique().to_list())))
        for c in columns.values()
        if c.kind == "categorical" and frame[c.name].dtype == pl.String
    ]
    return frame.with_columns(casts) if casts else frame
