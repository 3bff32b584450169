"""Whole-dataset analyses that add a column per instance: duplicates, near duplicates, familiarity, label
disagreement and 2-D projections; and the slice search (``find_slices``), which ranks where a model errs most.

Each takes the data (a table, or an embedding matrix and labels) and returns a pandas Series or DataFrame aligned
with it, ready to join as new columns; ``symphony-dash analyze`` does that for a file. The embedding analyses
compare vectors by cosine similarity, choose an exact or an approximate neighbour search by size, and cache their
results on disk keyed by the data and the parameters (:mod:`symphony_dash.analyses.cache`).

>>> table["near_duplicate_group"] = near_duplicates(table["embedding"])  # doctest: +SKIP
>>> table[["x", "y"]] = project(table["embedding"], method="tsne")  # doctest: +SKIP
"""

from .duplicates import exact_duplicates
from .familiarity import familiarity
from .label_disagreement import label_disagreement
from .near_duplicates import near_duplicates
from .projection import project
from .slices import find_slices

__all__ = ["exact_duplicates", "familiarity", "find_slices", "label_disagreement", "near_duplicates", "project"]
