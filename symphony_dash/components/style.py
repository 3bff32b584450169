"""The shared look of the built-in components' figures, so every view reads as one dashboard."""

from __future__ import annotations

from typing import Any

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
