"""Projection: two coordinates per instance from its embedding, for a scatterplot of the whole dataset."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ..dataset import DatasetError
from .cache import cached
from .neighbours import Embeddings, as_matrix, index_of, unit_rows

__all__ = ["PROJECTIONS", "project"]

VERSION = 1
PROJECTIONS = ("pca", "tsne", "umap")
UMAP_MISSING = (
    "project(method='umap') needs the umap-learn package: pip install 'symphony_dash[umap]' (or pick pca or tsne)"
)


def project(
    embeddings: Embeddings, method: Literal["pca", "tsne", "umap"] = "pca", seed: int = 0, *, cache: bool = True
) -> pd.DataFrame:
    """Project the embeddings to 2-D: a DataFrame with float64 columns ``x`` and ``y`` and the input's index.

    The vectors are normalised to unit length first, so distances in the picture follow the cosine neighbourhoods
    the other analyses use. ``"pca"`` (default) is fast and linear; ``"tsne"`` (scikit-learn, PCA-initialised)
    separates clusters, at minutes for 100,000 rows; ``"umap"`` needs the optional extra ``umap``
    (``pip install 'symphony_dash[umap]'``). ``seed`` fixes the randomised methods. Results are cached on disk
    unless ``cache=False``.
    """
    if method not in PROJECTIONS:
        raise ValueError(f"method: {method!r} is not a projection; the projections are: {', '.join(PROJECTIONS)}")
    if method == "umap":
        # Checked before the cache, so whether umap is usable does not depend on what an earlier run left behind.
        try:
            import umap  # noqa: F401
        except ImportError:
            raise ImportError(UMAP_MISSING) from None
    matrix = as_matrix(embeddings)
    if len(matrix) < 3 or matrix.shape[1] < 2:
        raise DatasetError(f"a 2-D projection needs at least 3 rows of 2 or more values; got shape {matrix.shape}")
    inputs = {"embeddings": matrix, "method": method, "seed": seed}
    result = cached("projection", VERSION, inputs, lambda: {"xy": _project(matrix, method, seed)}, enabled=cache)
    xy = result["xy"]
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]}, index=index_of(embeddings))


def _project(matrix: np.ndarray, method: str, seed: int) -> np.ndarray:
    unit = unit_rows(matrix)
    if method == "pca":
        from sklearn.decomposition import PCA

        xy = PCA(n_components=2, random_state=seed).fit_transform(unit)
    elif method == "tsne":
        from sklearn.manifold import TSNE

        # t-SNE needs a perplexity below the number of rows; a third of them is the usual cap for small data.
        perplexity = min(30.0, (len(unit) - 1) / 3)
        xy = TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(unit)
    else:
        import umap

        xy = umap.UMAP(n_components=2, n_neighbors=min(15, len(unit) - 1), random_state=seed).fit_transform(unit)
    return np.asarray(xy, dtype=np.float64)
