"""The shared look of the built-in components' figures, so every view reads as one dashboard."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

ACCENT = "#2f6fdf"
INACTIVE = "#a9bfe6"
UNFILTERED = "#dde1e6"
SELECTED = "#f28e2b"
# A qualitative palette (Tableau 10) for colouring by a category.
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

GRAPH_CONFIG = {
    "displayModeBar": "hover",
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["autoScale2d", "toImage"],
}


def base_layout(**overrides: Any) -> dict[str, Any]:
    """A compact Plotly layout: small margins, light grid, the page's font."""
    layout: dict[str, Any] = {
        "margin": {"l": 48, "r": 12, "t": 8, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12, "color": "#1f2933"},
        "xaxis": {"gridcolor": "#eef0f3", "zeroline": False},
        "yaxis": {"gridcolor": "#eef0f3", "zeroline": False},
        "hoverlabel": {"bgcolor": "#fff"},
        "modebar": {"bgcolor": "rgba(255,255,255,0.85)", "color": "#9aa5b1", "activecolor": "#2f6fdf"},
        "autosize": True,
    }
    layout.update(overrides)
    return layout


# plotly.js's typed-array codes; 64-bit integers have none, so they are sent as float64.
_TYPED = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4"}
_TYPED |= {"float32": "f4", "float64": "f8"}


def typed(values: np.ndarray) -> dict[str, str]:
    """A numpy array as plotly.js's typed array (``{"dtype", "bdata", "shape"}``, the bytes in base64).

    What plotly's figure objects send for arrays, for traces written as plain dicts: validating a trace through
    ``plotly.graph_objects`` costs milliseconds, more than the data work of a view.
    """
    array = np.asarray(values)
    code = _TYPED.get(array.dtype.name)
    if code is None:
        array, code = array.astype(np.float64), "f8"
    array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))  # a copy only if it must be one
    spec = {"dtype": code, "bdata": base64.b64encode(array.tobytes()).decode("ascii")}
    if array.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in array.shape)
    return spec
