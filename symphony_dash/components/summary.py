"""summary: the instance count and a small chart per column (its distribution and share missing) under the filter.

Edit puts the charts in edit mode: each chart's title becomes a box to rename it (Enter or leaving the box keeps the
new name; an empty box gives the column's name back), a remove button drops the chart, and "Add a chart" offers the
columns not shown yet; Done leaves edit mode. Like the markdown note, the edited charts live in the browser tab's
session storage, keyed by layout, so they stay while the person moves between pages; writing them into the layout file
is the layout editor's job. A saved edit remembers the charts it replaced: once the layout file says something else,
the file wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Annotated, Any

import dash
from dash import dcc, html
from pydantic import Field

from ..component import Column, Component, Props, Slot, View
from ..registry import register
from . import style

__all__ = ["Summary", "SummaryProps"]

MAX_COLUMNS = 12
MAX_TITLE = 80
_GAP_X, _GAP_Y = 0.08, 0.16  # between subplots, as fractions of the figure; the rows leave room for the titles
_MARGIN = {"l": 36, "r": 16, "t": 22, "b": 24}
# Every chart has its own remove button and title box, made once for the most charts there can be: a chart's place
# in the grid, not its column, names them, so the same callback serves every instance.
_SLOTS = range(MAX_COLUMNS)
_CHARTABLE = ("numeric", "categorical")
_REMOVE = {f"remove-{i}.n_clicks": i for i in _SLOTS}
_RENAME = {f"title-{i}.value": i for i in _SLOTS}
_ROOT = "symphony-summary-view"


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


@dataclass
class _Charts:
    """The charts shown, by column in order, and the display names given to some columns."""

    columns: list[str]
    titles: dict[str, str]

    def title(self, column: str) -> str:
        return self.titles.get(column, column)


class SummaryProps(Props):
    columns: list[str] | None = Column(
        None,
        max_length=MAX_COLUMNS,
        description="The columns to chart; by default the dataset's numeric and categorical columns (at most 12).",
    )
    titles: dict[str, Annotated[str, Field(min_length=1, max_length=MAX_TITLE)]] = Column(
        {}, description="Display names of the charts, by column name; a chart without one shows its column's name."
    )
    bins: int = Field(20, ge=2, le=100, description="How many bins for a numeric column.")
    max_categories: int = Field(
        10, ge=2, le=30, description="Show the most frequent categories of a column, this many."
    )


@register
class Summary(Component):
    """The instance count and one small chart per column, whose charts can be added, removed and renamed."""

    type = "summary"
    name = "Summary"
    description = (
        "How many instances pass the filter, and for each column its distribution (blue) over every row (grey) "
        "and the share of the filtered rows missing a value. Edit adds, removes and renames the charts."
    )
    Props = SummaryProps
    outputs = (
        Slot("count", "children"),
        Slot("graph", "figure"),
        Slot("root", "className"),
        Slot("add", "options"),
        Slot("add", "value"),
        Slot("saved", "data"),
        *(Slot(f"cell-{i}", "style") for i in _SLOTS),
        *(Slot(f"title-{i}", "value") for i in _SLOTS),
    )
    inputs = (
        Slot("edit", "n_clicks"),
        Slot("done", "n_clicks"),
        Slot("add", "value"),
        Slot("saved", "data"),
        *(Slot(f"remove-{i}", "n_clicks") for i in _SLOTS),
        *(Slot(f"title-{i}", "value") for i in _SLOTS),
    )

    def layout(self) -> html.Div:
        cells = [
            html.Div(
                [
                    dcc.Input(
                        id=self.id(f"title-{i}"),
                        type="text",
                        debounce=True,  # renamed on Enter or on leaving the box, not at every key
                        maxLength=MAX_TITLE,
                        className="symphony-summary-title",
                    ),
                    html.Button(
                        "×", id=self.id(f"remove-{i}"), className="symphony-summary-remove", title="Remove this chart"
                    ),
                ],
                id=self.id(f"cell-{i}"),
                className="symphony-summary-cell",
                title="Rename this chart: Enter keeps the name, an empty box gives the column's name back",
                style={"display": "none"},
            )
            for i in _SLOTS
        ]
        # The title boxes lie over the figure's plot area, so a chart's place in the figure is its box's place in it.
        plot_area = {"top": _MARGIN["t"], "right": _MARGIN["r"], "bottom": _MARGIN["b"], "left": _MARGIN["l"]}
        return html.Div(
            [
                html.Div(
                    [
                        html.Div(id=self.id("count"), className="symphony-summary-count"),
                        html.Div(
                            dcc.Dropdown(id=self.id("add"), options=[], placeholder="Add a chart", clearable=False),
                            className="symphony-summary-add",
                        ),
                        html.Button(
                            "Edit",
                            id=self.id("edit"),
                            className="symphony-summary-edit",
                            title="Add, remove and rename the charts",
                        ),
                        html.Button("Done", id=self.id("done"), className="symphony-summary-done"),
                    ],
                    className="symphony-summary-bar",
                ),
                html.Div(
                    [
                        dcc.Graph(
                            id=self.id("graph"),
                            config=style.GRAPH_CONFIG | {"displayModeBar": False},
                            style={"height": "100%"},
                        ),
                        html.Div(
                            cells,
                            className="symphony-summary-cells",
                            style={side: f"{px}px" for side, px in plot_area.items()},
                        ),
                    ],
                    className="symphony-summary-plot",
                ),
                dcc.Store(id=self.id("saved"), storage_type="session"),
            ],
            id=self.id("root"),
            className=_ROOT,
        )

    def render(self, view: View) -> tuple[Any, ...]:
        charts = self._charts(view)
        edited = self._edit(charts, view)
        if edited is not None:
            charts = edited
        shown, total = view.data.count(), view.all.count()
        count = [html.B(f"{shown:,}"), f" of {total:,} instances"]
        panels = [self._panel(view, col, shown) for col in charts.columns]
        mode = {"edit.n_clicks": f"{_ROOT} editing", "done.n_clicks": _ROOT}.get(view.trigger or "", dash.no_update)
        places = _grid(len(charts.columns))
        cells = [
            {"left": _pct(places[i][0]), "width": _pct(places[i][2]), "bottom": _pct(places[i][1])}
            if i < len(places)
            else {"display": "none"}
            for i in _SLOTS
        ]
        titles = [charts.title(charts.columns[i]) if i < len(charts.columns) else "" for i in _SLOTS]
        return (
            count,
            self._figure(panels, charts),
            mode,
            [{"label": c, "value": c} for c in self._addable(charts)],
            None,  # the dropdown only adds: it shows its placeholder again
            self._save(view, charts) if edited is not None else dash.no_update,
            *cells,
            *titles,
        )

    # -- which charts, and the person's edits ------------------------------------------------------------------

    def _charts(self, view: View) -> _Charts:
        """The charts saved in this session for this layout's summary, else the layout's own."""
        own = _Charts(self._layout_columns(), dict(self.props.titles))
        saved = view.inputs.get("saved.data")
        entry = saved.get(view.state.layout) if isinstance(saved, dict) else None
        if not isinstance(entry, dict) or entry.get("from") != self._original():
            return own
        columns, titles = entry.get("columns"), entry.get("titles")
        if not isinstance(columns, list) or not isinstance(titles, dict):
            return own
        # What the browser kept is checked as a layout would be, but what does not pass is left out, not an error.
        names = dict.fromkeys(c for c in columns if isinstance(c, str) and self._chartable(c))
        return _Charts(
            list(names)[:MAX_COLUMNS],
            {
                k: v
                for k, v in titles.items()
                if k in self.dataset.columns and isinstance(v, str) and 0 < len(v) <= MAX_TITLE
            },
        )

    def _edit(self, charts: _Charts, view: View) -> _Charts | None:
        """The charts after the edit that fired this render, or ``None`` when it was no edit."""
        trigger = view.trigger or ""
        value = view.inputs.get(trigger)
        if trigger == "add.value" and value in self._addable(charts):
            return _Charts([*charts.columns, value], charts.titles)
        i = _REMOVE.get(trigger, _RENAME.get(trigger, MAX_COLUMNS))
        if i >= len(charts.columns):
            return None
        column = charts.columns[i]
        if trigger in _REMOVE and value:
            return _Charts([c for c in charts.columns if c != column], charts.titles)
        if trigger in _RENAME and isinstance(value, str):
            titles = {k: v for k, v in charts.titles.items() if k != column}
            # An empty box gives the chart its column's name back.
            if (name := value.strip()[:MAX_TITLE]) and name != column:
                titles[column] = name
            return _Charts(charts.columns, titles)
        return None

    def _save(self, view: View, charts: _Charts) -> dict[str, Any]:
        saved = view.inputs.get("saved.data")
        entries = dict(saved) if isinstance(saved, dict) else {}
        entries[view.state.layout] = {"from": self._original(), "columns": charts.columns, "titles": charts.titles}
        return entries

    def _original(self) -> dict[str, Any]:
        """What an edit replaces, in the JSON form the browser keeps: the layout's columns and titles."""
        return {"columns": self.props.columns, "titles": self.props.titles}

    def _layout_columns(self) -> list[str]:
        """The columns the layout charts, by default the dataset's numeric and categorical ones."""
        if self.props.columns is not None:
            return list(self.props.columns)
        return self.dataset.columns_of(*_CHARTABLE)[:MAX_COLUMNS]

    def _chartable(self, column: str) -> bool:
        """A column can be charted if it is numeric or categorical, or if the layout itself charts it."""
        if column not in self.dataset.columns:
            return False
        return self.dataset.column(column).kind in _CHARTABLE or column in (self.props.columns or [])

    def _addable(self, charts: _Charts) -> list[str]:
        """The columns the "Add a chart" list offers: the chartable ones not shown, while there is room."""
        if len(charts.columns) >= MAX_COLUMNS:
            return []
        return [c for c in self.dataset.columns_of(*_CHARTABLE) if c not in charts.columns]

    # -- the figure --------------------------------------------------------------------------------------------

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

    def _figure(self, panels: list[_Panel], charts: _Charts) -> dict[str, Any]:
        """One figure, a grid of small subplots with their own axes, titled "name · share missing"."""
        data: list[dict[str, Any]] = []
        layout = style.base_layout(
            margin=_MARGIN,
            showlegend=False,
            barmode="overlay",
            bargap=0.1,
            font=style.base_layout()["font"] | {"size": 10},
            annotations=[],
        )
        if not panels:
            layout["xaxis"] = layout["yaxis"] = {"visible": False}
            layout["annotations"].append(
                {"text": "No charts: Edit, then Add a chart", "showarrow": False, "font": {"color": "#66717f"}}
            )
        for i, (panel, (x0, y1, width, height)) in enumerate(zip(panels, _grid(len(panels)), strict=True)):
            suffix = str(i + 1) if i else ""
            axes = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
            name = charts.title(panel.column)
            hover = f"{escape(name, quote=False)} " + "%{x}: %{y:,}<extra>"
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
                    "text": f"<b>{escape(name, quote=False)}</b> · {_share(panel.missing, panel.shown)} missing",
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


def _grid(n: int) -> list[tuple[float, float, float, float]]:
    """Where each of ``n`` charts sits, as fractions of the plot area: its left, its top, its width and height."""
    # Two by two for four charts, rows of three up to nine, then four: each chart stays wide enough to read.
    ncols = max(min(n, 2 if n == 4 else 3 if n <= 9 else 4), 1)
    nrows = max(math.ceil(n / ncols), 1)
    width, height = (1 - _GAP_X * (ncols - 1)) / ncols, (1 - _GAP_Y * (nrows - 1)) / nrows
    return [
        (col * (width + _GAP_X), 1 - row * (height + _GAP_Y), width, height)
        for row, col in (divmod(i, ncols) for i in range(n))
    ]


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.3f}%"


def _share(missing: int, shown: int) -> str:
    """The share missing as a whole percent, never rounded to 0% or 100% when it is neither."""
    if not shown or not missing:
        return "0%"
    pct = 100 * missing / shown
    if pct < 1:
        return "<1%"
    return ">99%" if pct > 99 and missing < shown else f"{pct:.0f}%"
