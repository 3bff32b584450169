"""summary: the instance count and a small chart per column (its distribution and share missing) under the filter."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dash import dcc, html
from pydantic import Field

from ..component import Column, Component, Props, Slot, View
from ..registry import register
from . import style

__all__ = ["Summary"]

MAX_COLUMNS = 12
_GAP_X, _GAP_Y = 0.08, 0.16  # between subplots, as fractions of the figure; the rows leave room for the titles


@dataclass
class _Panel:
    """One column's small chart: its bars, filtered over all, and how many filtered rows miss a value."""

    column: str
    categorical: bool
    x: list[Any]
    counts: list[int]
    totals: list[int]
    missing: int
    shown: int


class SummaryProps(Props):
    columns: list[str] | None = Column(
        None,
        max_length=MAX_COLUMNS,
        description="The columns to chart; by default the dataset's numeric and categorical columns (at most 12).",
    )
    titles: dict[str, str] = Field(default_factory=dict, description="Display names of columns, by column name.")
    bins: int = Field(20, ge=2, le=100, description="How many bins for a numeric column.")
    max_categories: int = Field(
        10, ge=2, le=30, description="Show the most frequent categories of a column, this many."
    )


@register
class Summary(Component):
    type = "summary"
    name = "Summary"
    description = (
        "How many instances pass the filter, and for each column its distribution (blue) over every row (grey) "
        "and the share of the filtered rows missing a value."
    )
    Props = SummaryProps
    outputs = (Slot("count", "children"), Slot("graph", "figure"))

    def layout(self) -> html.Div:
        return html.Div(
            [
                html.Div(id=self.id("count"), className="symphony-summary-count", style={"padding": "2px 8px"}),
                dcc.Graph(
                    id=self.id("graph"),
                    config=style.GRAPH_CONFIG | {"displayModeBar": False},
                    style={"flex": "1", "minHeight": 0},
                ),
            ],
            style={"display": "flex", "flexDirection": "column", "height": "100%"},
        )

    @property
    def columns(self) -> list[str]:
        if self.props.columns is not None:
            return self.props.columns
        return self.dataset.columns_of("numeric", "categorical")[:MAX_COLUMNS]

    def render(self, view: View) -> tuple[list[Any], dict[str, Any]]:
        shown, total = view.data.count(), view.all.count()
        count = [html.B(f"{shown:,}"), f" of {total:,} instances"]
        panels = [self._panel(view, col, shown) for col in self.columns]
        return count, self._figure(panels)

    def _panel(self, view: View, column: str, shown: int) -> _Panel:
        p = self.props
        if self.dataset.column(column).kind == "numeric":
            edges, counts = view.data.histogram(column, p.bins)
            _, totals = view.all.histogram(column, p.bins)
            return _Panel(
                column,
                False,
                x=((edges[:-1] + edges[1:]) / 2).tolist(),
                counts=counts.tolist(),
                totals=totals.tolist(),
                # The histogram leaves out the rows missing a value: what it does not count is missing.
                missing=shown - int(counts.sum()),
                shown=shown,
            )
        totals = dict(view.all.value_counts(column, limit=None).iter_rows())
        filtered = dict(view.data.value_counts(column, limit=None).iter_rows())
        keys = sorted((k for k in totals if k is not None), key=lambda k: -totals[k])[: p.max_categories]
        if self.dataset.column(column).kind == "categorical":
            order = {v: i for i, v in enumerate(self.dataset.categories(column))}
            keys.sort(key=lambda k: order.get(k, len(order)))
        return _Panel(
            column,
            True,
            x=[str(k) for k in keys],
            counts=[filtered.get(k, 0) for k in keys],
            totals=[totals[k] for k in keys],
            missing=filtered.get(None, 0),
            shown=shown,
        )

    def _figure(self, panels: list[_Panel]) -> dict[str, Any]:
        """One figure, a grid of small subplots with their own axes, titled "name · share missing"."""
        # Two by two for four charts, rows of three up to nine, then four: each chart stays wide enough to read.
        ncols = max(min(len(panels), 2 if len(panels) == 4 else 3 if len(panels) <= 9 else 4), 1)
        nrows = max(math.ceil(len(panels) / ncols), 1)
        width, height = (1 - _GAP_X * (ncols - 1)) / ncols, (1 - _GAP_Y * (nrows - 1)) / nrows
        data: list[dict[str, Any]] = []
        layout = style.base_layout(
            margin={"l": 36, "r": 16, "t": 22, "b": 24},
            showlegend=False,
            barmode="overlay",
            bargap=0.1,
            font=style.base_layout()["font"] | {"size": 10},
            annotations=[],
        )
        for i, panel in enumerate(panels):
            row, col = divmod(i, ncols)
            x0 = col * (width + _GAP_X)
            y1 = 1 - row * (height + _GAP_Y)
            suffix = str(i + 1) if i else ""
            axes = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
            name = self.props.titles.get(panel.column, panel.column)
            hover = f"{name} " + "%{x}: %{y:,}<extra>"
            data.append(
                {"type": "bar", "x": panel.x, "y": panel.totals, "name": f"{panel.column} (all)", **axes}
                | {"marker": {"color": style.UNFILTERED}, "hovertemplate": hover + "all</extra>"}
            )
            data.append(
                {"type": "bar", "x": panel.x, "y": panel.counts, "name": panel.column, **axes}
                | {"marker": {"color": style.ACCENT}, "hovertemplate": hover + "filtered</extra>"}
            )
            layout[f"xaxis{suffix}"] = {
                "domain": [x0, x0 + width],
                "anchor": axes["yaxis"],
                "type": "category" if panel.categorical else "linear",
                "showgrid": False,
                "zeroline": False,
                "linecolor": "#d5dae0",
                "tickfont": {"color": "#7b8794"},
                **({} if panel.categorical else {"nticks": 6}),  # every category keeps its label
                "automargin": False,
                "fixedrange": True,
            }
            layout[f"yaxis{suffix}"] = {
                "domain": [y1 - height, y1],
                "anchor": axes["xaxis"],
                "gridcolor": "#eef0f3",
                "zeroline": False,
                "tickfont": {"color": "#9aa5b1"},
                "nticks": 3,
                "tickformat": "~s",
                "fixedrange": True,
            }
            layout["annotations"].append(
                {
                    "text": f"<b>{name}</b> · {_share(panel.missing, panel.shown)} missing",
                    "xref": "paper",
                    "yref": "paper",
                    "x": x0,
                    "y": y1,
                    "xanchor": "left",
                    "yanchor": "bottom",
                    "showarrow": False,
                    "font": {"size": 11},
                }
            )
        # Plain dicts, not graph_objects: validating a figure costs more than computing it.
        return {"data": data, "layout": layout}


def _share(missing: int, shown: int) -> str:
    """The share missing as a whole percent, never rounded to 0% or 100% when it is neither."""
    if not shown or not missing:
        return "0%"
    pct = 100 * missing / shown
    if pct < 1:
        return "<1%"
    return ">99%" if pct > 99 and missing < shown else f"{pct:.0f}%"
