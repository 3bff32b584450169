"""The demo datasets: scikit-learn's bundled handwritten digits and breast-cancer tables, prepared the way a
practitioner's table would look.

The digits (1,797 grayscale 8x8 images) ship inside scikit-learn, so nothing is downloaded. Preparing them means
fitting a deliberately simple classifier with cross-validation (so every prediction was made by a model that never
saw that image, and its mistakes are real mistakes), a PCA embedding, a t-SNE projection for the scatterplot, the
whole-dataset analyses of :mod:`symphony_dash.analyses` (duplicates, familiarity, label disagreement) and a PNG
thumbnail per image. That takes about ten seconds, so the result is cached on disk and later calls only read it.

>>> table, media_root = prepare_digits()  # doctest: +SKIP
>>> (media_root / table.loc[7, "image"]).is_file()  # doctest: +SKIP
True

The breast-cancer table (569 tumours, 30 numeric features) is the tabular demo: see :func:`prepare_breast_cancer`.
:func:`load_demo` prepares a demo by the name a layout gives it (``demo:digits``, ``demo:breast_cancer``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from .files import atomic_write

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

__all__ = ["DEMOS", "cache_dir", "load_demo", "prepare_breast_cancer", "prepare_digits"]

log = logging.getLogger(__name__)

CACHE_ENV = "SYMPHONY_DASH_CACHE"
# Bump the version when the recipe changes, so an old cache is ignored rather than served as if it were current.
DIGITS_FILE = "digits-v2.parquet"
IMAGES_DIR = "images"
THUMBNAIL_SIZE = 64
EMBEDDING_DIMS = 16
SEED = 0
# Cosine similarity of the embeddings above which two digits count as near duplicates: at 0.99 the groups are pairs
# (and a few triples) of digits a person also sees as the same drawing.
NEAR_DUPLICATE_THRESHOLD = 0.99

_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("image", pa.string()),
        ("label", pa.int64()),
        ("prediction", pa.int64()),
        ("confidence", pa.float64()),
        ("correct", pa.bool_()),
        ("split", pa.string()),
        ("ink", pa.float64()),
        ("embedding", pa.list_(pa.float32())),
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("duplicate_group", pa.int64()),
        ("near_duplicate_group", pa.int64()),
        ("familiarity", pa.float64()),
        ("label_disagreement", pa.float64()),
        ("neighbour_label", pa.int64()),
    ]
)


def cache_dir() -> Path:
    """Where prepared demo data lives: ``$SYMPHONY_DASH_CACHE`` if set, else ``~/.cache/symphony_dash``."""
    # An empty variable is treated as unset: `SYMPHONY_DASH_CACHE= cmd` should not mean "the current directory".
    if configured := os.environ.get(CACHE_ENV):
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "symphony_dash"


def prepare_digits(cache: Path | None = None) -> tuple[pd.DataFrame, Path]:
    """Return the prepared digits table and the folder its ``image`` paths are relative to.

    The first call computes everything (about ten seconds on two cores) and writes
    ``<cache>/digits/digits-v2.parquet`` and the thumbnails under ``<cache>/digits/images/``; later calls read the
    parquet. ``cache`` defaults to :func:`cache_dir`.

    Columns, in order: ``id`` (int64), ``image`` (str, e.g. ``images/0007.png``), ``label`` and ``prediction``
    (int64), ``confidence`` (float64, probability of the predicted class), ``correct`` (bool), ``split``
    (``"train"``/``"test"``), ``ink`` (float64, summed pixel intensity / 16), ``embedding`` (16 float32 values per
    row), ``x`` and ``y`` (float64, t-SNE of the embedding), ``duplicate_group`` (int64, equal pixels; -1 for a
    unique digit), ``near_duplicate_group`` (int64, embedding cosine similarity >= 0.99; -1 for none),
    ``familiarity`` (float64, 0 = least typical .. 1), ``label_disagreement`` (float64, share of the 10 nearest
    digits labelled otherwise) and ``neighbour_label`` (int64, their majority label). See :mod:`symphony_dash.analyses`.
    """
    root = (cache if cache is not None else cache_dir()) / "digits"
    table_path = root / DIGITS_FILE
    if table_path.is_file():
        table = _read_table(table_path)
        missing = [rel for rel in table["image"] if not (root / rel).is_file()]
        if missing:
            log.info("Restoring %d missing digit thumbnails under %s", len(missing), root)
            _write_thumbnails(root, _load_pixels(), missing)
        return table, root

    log.info("Preparing the digits demo dataset in %s (first run only, takes a few seconds)", root)
    pixels = _load_pixels()
    table = _compute_table()
    # Thumbnails go first: the parquet appearing is the signal that preparation finished, images included.
    _write_thumbnails(root, pixels, table.column("image").to_pylist())
    with atomic_write(table_path) as partial:
        pq.write_table(table, partial)
    # Reading back rather than converting in memory guarantees the first call returns exactly what later calls do.
    return _read_table(table_path), root


def _load_pixels() -> np.ndarray:
    """The raw images as an ``(n, 8, 8)`` array of intensities 0..16, indexed by ``id``."""
    from sklearn.datasets import load_digits

    return load_digits().images


def _compute_table() -> pa.Table:
    """Fit the model, embed, project and assemble the table (the slow part of preparation)."""
    # sklearn is imported here, not at module level, because it costs about a second to import and the cached path
    # (every run after the first) never needs it.
    import pandas as pd
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.manifold import TSNE
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .analyses import exact_duplicates, familiarity, label_disagreement, near_duplicates

    digits = load_digits()
    features: np.ndarray = digits.data
    labels: np.ndarray = digits.target.astype(np.int64)
    ids = np.arange(len(labels), dtype=np.int64)

    # A linear model on a 16-component PCA is deliberately weak: about 6% of the digits are misclassified, which
    # gives the explorer real mistakes to find (logistic regression on all 64 pixels gets only ~3% wrong).
    model = make_pipeline(StandardScaler(), PCA(EMBEDDING_DIMS, random_state=SEED), LogisticRegression(max_iter=1000))
    # Out-of-fold probabilities: each row is predicted by a model that did not train on it, so the confidence of a
    # wrong prediction is as honest as on unseen data. Shuffled, because the file's row order is not random.
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    proba = cross_val_predict(model, features, labels, cv=folds, method="predict_proba")
    classes = np.unique(labels)  # cross_val_predict orders the probability columns by sorted class
    best = proba.argmax(axis=1)
    predictions = classes[best].astype(np.int64)
    confidence = proba[np.arange(len(best)), best].astype(np.float64)

    _, test_ids = train_test_split(ids, test_size=0.2, stratify=labels, random_state=SEED)
    split = np.where(np.isin(ids, test_ids), "test", "train")

    # The same recipe as inside the model (standardise, then PCA), so the embedding shows what the classifier sees.
    embedding = PCA(EMBEDDING_DIMS, random_state=SEED).fit_transform(StandardScaler().fit_transform(features))
    embedding = embedding.astype(np.float32)
    # init="pca" makes the layout reproducible and keeps the global arrangement of the clusters meaningful.
    projection = TSNE(n_components=2, init="pca", random_state=SEED).fit_transform(embedding).astype(np.float64)

    # The table itself is the cache, so the analyses do not keep copies of their results.
    duplicates = exact_duplicates(pd.DataFrame(features).add_prefix("pixel"))
    disagreement = label_disagreement(embedding, labels, cache=False)

    offsets = np.arange(0, (len(ids) + 1) * EMBEDDING_DIMS, EMBEDDING_DIMS, dtype=np.int32)
    columns = {
        "id": ids,
        "image": [_image_path(i) for i in ids],
        "label": labels,
        "prediction": predictions,
        "confidence": confidence,
        "correct": labels == predictions,
        "split": split.tolist(),
        "ink": features.sum(axis=1) / 16.0,
        "embedding": pa.ListArray.from_arrays(pa.array(offsets), pa.array(embedding.ravel())),
        "x": projection[:, 0],
        "y": projection[:, 1],
        "duplicate_group": duplicates.to_numpy(),
        "near_duplicate_group": near_duplicates(embedding, NEAR_DUPLICATE_THRESHOLD, cache=False).to_numpy(),
        "familiarity": familiarity(embedding, cache=False).to_numpy(),
        "label_disagreement": disagreement["label_disagreement"].to_numpy(),
        "neighbour_label": disagreement["neighbour_label"].to_numpy(),
    }
    return pa.Table.from_pydict(columns, schema=_SCHEMA)


def _image_path(image_id: int) -> str:
    """The thumbnail's path relative to the media root; zero-padded so a plain sort is the id order."""
    return f"{IMAGES_DIR}/{image_id:04d}.png"


def _write_thumbnails(root: Path, pixels: np.ndarray, relative_paths: Iterable[str]) -> None:
    """Render the given thumbnails as 64x64 grayscale PNGs: dark ink on white, hard pixel edges."""
    (root / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
    # Intensities are 0..16 with 16 the darkest stroke; invert so the background is white as on paper.
    gray = (255 - np.rint(pixels * (255 / 16))).clip(0, 255).astype(np.uint8)
    for rel in relative_paths:
        image_id = int(Path(rel).stem)
        thumbnail = Image.fromarray(gray[image_id]).resize((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.NEAREST)
        # Renamed into place, so a reader (or a later existence check) never sees a truncated PNG.
        with atomic_write(root / rel) as partial:
            thumbnail.save(partial, format="PNG")


def _read_table(path: Path) -> pd.DataFrame:
    """Read the cached table as pandas: strings as ``str``, the embedding as one float32 array per row."""
    return pq.read_table(path, schema=_SCHEMA).to_pandas()


# -- the tabular demo: breast cancer ---------------------------------------------------------------------------------

BREAST_CANCER_FILE = "breast-cancer-v1.parquet"
# The hospital countries of the synthetic ``site`` column (ISO-3 codes) and the share of rows each gets.
SITES = {
    "USA": 0.24,
    "DEU": 0.14,
    "GBR": 0.12,
    "FRA": 0.10,
    "CAN": 0.09,
    "BRA": 0.08,
    "IND": 0.08,
    "JPN": 0.08,
    "AUS": 0.07,
}
BREAST_CANCER_EMBEDDING_DIMS = 30


def prepare_breast_cancer(cache: Path | None = None) -> pd.DataFrame:
    """Return the prepared breast-cancer table: one row per tumour, with a cross-validated model's predictions.

    scikit-learn's bundled Wisconsin diagnostic data (569 tumours, 30 features measured on a cell image) with a
    logistic regression on the standardised features, predicted out of fold (5 folds) so every prediction comes from
    a model that did not see the row. The first call takes a few seconds and writes
    ``<cache>/breast_cancer/breast-cancer-v1.parquet``; later calls read it. ``cache`` defaults to :func:`cache_dir`.

    Columns, in order: ``id`` (int64), ``label`` and ``prediction`` (``"malignant"``/``"benign"``), ``score``
    (float64, the model's probability of malignant), ``correct`` (bool), ``split`` (``"train"``/``"test"``, a
    stratified 80/20 split, a tag only: every prediction is out of fold), ``site`` (str, an ISO-3 country code), the
    30 features under scikit-learn's names (float64, e.g. ``mean radius``), ``embedding`` (the 30 standardised
    features, float32) and ``x``, ``y`` (float64, t-SNE of the embedding).

    ``site`` is SYNTHETIC: the data has no hospital. It is drawn at random (seeded) with the shares of
    :data:`SITES`, independent of the features, the labels and the predictions, so that the demo has a column to
    group by and to map; differences between sites are chance, not findings.
    """
    root = (cache if cache is not None else cache_dir()) / "breast_cancer"
    table_path = root / BREAST_CANCER_FILE
    if not table_path.is_file():
        log.info("Preparing the breast-cancer demo dataset in %s (first run only, takes a few seconds)", root)
        table = _compute_breast_cancer()
        with atomic_write(table_path) as partial:
            pq.write_table(table, partial)
    return pq.read_table(table_path).to_pandas()


def _compute_breast_cancer() -> pa.Table:
    """Fit the model out of fold, embed, project and assemble the table."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.manifold import TSNE
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    features: np.ndarray = data.data
    targets: np.ndarray = data.target  # 0 = malignant, 1 = benign, as data.target_names say
    names = np.asarray(data.target_names, dtype=str)
    ids = np.arange(len(targets), dtype=np.int64)

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    proba = cross_val_predict(model, features, targets, cv=folds, method="predict_proba")
    malignant = proba[:, 0]  # the probability columns follow the sorted classes: 0 (malignant) first
    predictions = np.where(malignant >= 0.5, 0, 1)

    _, test_ids = train_test_split(ids, test_size=0.2, stratify=targets, random_state=SEED)
    split = np.where(np.isin(ids, test_ids), "test", "train")
    # Its own generator, drawn from nothing but the seed: the site must carry no signal (see the docstring).
    site = np.random.default_rng(SEED).choice(list(SITES), size=len(ids), p=list(SITES.values()))

    embedding = StandardScaler().fit_transform(features).astype(np.float32)
    projection = TSNE(n_components=2, init="pca", random_state=SEED).fit_transform(embedding).astype(np.float64)

    columns: dict[str, Any] = {
        "id": ids,
        "label": names[targets].tolist(),
        "prediction": names[predictions].tolist(),
        "score": malignant.astype(np.float64),
        "correct": targets == predictions,
        "split": split.tolist(),
        "site": site.tolist(),
    }
    columns |= {str(name): features[:, i].astype(np.float64) for i, name in enumerate(data.feature_names)}
    dims = BREAST_CANCER_EMBEDDING_DIMS
    offsets = np.arange(0, (len(ids) + 1) * dims, dims, dtype=np.int32)
    columns |= {
        "embedding": pa.ListArray.from_arrays(pa.array(offsets), pa.array(embedding.ravel())),
        "x": projection[:, 0],
        "y": projection[:, 1],
    }
    return pa.table(columns)


DEMOS = ("digits", "breast_cancer")
"""The built-in demos, by the name a layout's ``demo:<name>`` source gives."""


def load_demo(name: str) -> tuple[pd.DataFrame, Path | None]:
    """The prepared table of the demo ``name`` (one of :data:`DEMOS`) and the folder its media paths are relative to
    (``None`` for a demo without media)."""
    if name == "digits":
        return prepare_digits()
    if name == "breast_cancer":
        return prepare_breast_cancer(), None
    raise ValueError(f"{name!r} is not a built-in demo; the demos are: {', '.join(DEMOS)}")
