"""histogram: the distribution of one column; click a bar or brush a range to filter the other views."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import dash
from dash import dcc
from pydantic import Field

from ..component import Column, Component, Event, Props, Slot, View
from ..registry import register
from ..state import Clause
from . import style

__all__ = ["Histogram"]


@dataclass
class _Bars:
    x: list[Any]
    keys: list[list[Any]]
    counts: list[int]
    totals: list[int]
    active: list[bool]
    brush: tuple[float, float] | None = None

    @property
    def colors(self) -> list[str]:
        return [style.ACCENT if a else style.INACTIVE for a in self.active]


class HistogramProps(Props):
    column: str = Column(description="The column to count: numeric columns get bins, categories get one bar each.")
    bins: int = Field(30, ge=1, le=200, description="How many bins for a numeric column.")
    log_y: bool = Field(False, description="Count on a logarithmic axis.")
    show_unfiltered: bool = Field(True, description="Draw every row in grey behind the filtered rows.")
    max_categories: int = Field(40, ge=2, le=500, description="Show at most this many of the most frequent categories.")


@register
class Histogram(Component):
    type = "histogram"
    name = "Histogram"
    description = (
        "Counts of one column. Click a bar or drag across bars to filter the other views; double-click to clear."
    )
    Props = HistogramProps
    outputs = (Slot("graph", "figure"),)
    # Plotly reports an empty selection (no points, no range) each time it draws the brushed graph again: it changes
    # nothing (on_event), so the browser keeps it. A cleared brush (null) and a person's brush (a range) go.
    events = {
        "click": Event(Slot("graph", "clickData")),
        "brush": Event(
            Slot("graph", "selectedData"), send_if="v => !v || !!v.range || !!(v.points && v.points.length)"
        ),
    }

    def layout(self) -> dcc.Graph:
        return dcc.Graph(id=self.id("graph"), config=style.GRAPH_CONFIG, style={"height": "100%"})

    @property
    def categorical(self) -> bool:
        return self.dataset.column(self.props.column).kind != "numeric"

    def render(self, view: View) -> dict[str, Any]:
        p = self.props
        bars = self._bars(view)
        group = next((g for g in view.state.group_by if g != p.column), None)
        if group is not None:
            data = self._grouped_traces(view, bars, group)
        else:
            data = [self._trace(bars, bars.counts, "filtered", bars.colors)]
            if view.selection is not None:
                data.append(self._selected_trace(view, bars))
            if p.show_unfiltered:
                grey = {"type": "bar", "x": bars.x, "y": bars.totals, "name": "all", "hoverinfo": "skip"}
                data.insert(0, grey | {"marker": {"color": style.UNFILTERED}})
        layout = style.base_layout(
            # A constant uirevision keeps the person's brush through re-renders; the brush itself is drawn from the
            # state, so removing the chip clears it (a new uirevision would clear it too, and fire a deselect).
            uirevision="histogram",
            selections=[_brush(*bars.brush)] if bars.brush else [],
            barmode="stack" if group else "overlay",
            bargap=0.08,
            dragmode=False if self.categorical else "select",
            selectdirection="h",
            showlegend=group is not None,
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "title": {"text": group or ""}},
        )
        layout["xaxis"] |= {"title": {"text": p.column}, "type": "category" if self.categorical else "linear"}
        layout["yaxis"] |= {"type": "log" if p.log_y else "linear", "title": {"text": "count"}}
        if p.log_y:
            # Bars grow from 1, not from wherever autorange starts (a bar of 109 under one of 1,688 must not look
            # empty), with ticks at powers of ten only.
            top = max([1, *bars.totals, *bars.counts])
            layout["yaxis"] |= {"range": [0, math.log10(top) + 0.15], "dtick": 1}
        # Plain dicts, not graph_objects: validating a figure costs more than computing it.
        return {"data": data, "layout": layout}

    def _bars(self, view: View) -> _Bars:
        """The bars to draw: their positions, the filtered and total counts, and which are chosen by this view."""
        p, own = self.props, view.own
        if not self.categorical:
            edges, counts = view.data.histogram(p.column, p.bins)
            _, totals = view.all.histogram(p.column, p.bins)
            lo, hi = own.value if own is not None and own.op == "range" else (None, None)
            active = [lo is None or (b >= lo and a <= hi) for a, b in pairwise(edges)]
            return _Bars(
                x=((edges[:-1] + edges[1:]) / 2).tolist(),
                keys=[[float(a), float(b)] for a, b in pairwise(edges)],
                counts=counts.tolist(),
                totals=totals.tolist(),
                active=active,
                brush=(lo, hi) if lo is not None else None,
            )
        totals = dict(view.all.value_counts(p.column, limit=None).iter_rows())
        keys = sorted(totals, key=lambda k: -totals[k])[: p.max_categories]
        if self.dataset.column(p.column).kind == "categorical":
            order = {v: i for i, v in enumerate(self.dataset.categories(p.column))}
            keys.sort(key=lambda k: (k is None, order.get(k, len(order))))
        filtered = dict(view.data.value_counts(p.column, limit=None).iter_rows())
        chosen = set(own.value) if own is not None and own.op == "in" else None
        return _Bars(
            x=["(missing)" if k is None else str(k) for k in keys],
            keys=[[k] for k in keys],
            counts=[filtered.get(k, 0) for k in keys],
            totals=[totals[k] for k in keys],
            active=[chosen is None or k in chosen for k in keys],
        )

    def _grouped_traces(self, view: View, bars: _Bars, group: str) -> list[dict[str, Any]]:
        """One stacked trace per value of the group-by column (the most frequent ten), in the palette's colours."""
        p = self.props
        levels, groups, counts = view.data.crosstab(p.column, group, None if self.categorical else p.bins)
        if self.categorical:
            row = {v: i for i, v in enumerate(levels.to_list())}
            rows = [row.get(k[0], len(levels)) for k in bars.keys]
        else:
            rows = list(range(len(bars.x)))
        by_size = sorted(range(len(groups)), key=lambda j: -int(counts[:, j].sum()))[: len(style.PALETTE)]
        return [
            self._trace(bars, counts[rows, j].tolist(), str(groups[j]), style.PALETTE[i])
            for i, j in enumerate(sorted(by_size))
        ]

    def _selected_trace(self, view: View, bars: _Bars) -> dict[str, Any]:
        """The selected instances among the filtered ones, in orange over the bars, so a selection shows everywhere."""
        p = self.props
        chosen = view.selected
        if self.categorical:
            counts = dict(chosen.value_counts(p.column, limit=None).iter_rows())
            y = [counts.get(k[0], 0) for k in bars.keys]
        else:
            y = chosen.histogram(p.column, p.bins)[1].tolist()
        trace = self._trace(bars, y, "selected", style.SELECTED)
        return trace | {"width": 0.45} if self.categorical else trace

    @staticmethod
    def _trace(bars: _Bars, y: list[int], name: str, color: Any) -> dict[str, Any]:
        return {
            "type": "bar",
            "x": bars.x,
            "y": y,
            "customdata": bars.keys,
            "name": name,
            "marker": {"color": color},
            "hovertemplate": f"{name}<br>" + "%{x}: %{y:,}<extra></extra>",
            "unselected": {"marker": {"opacity": 1}},  # the colours already say what is chosen
        }

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        if not value:
            return None  # a double-click cleared the brush
        if not value.get("points") and "range" not in value:
            # Plotly reports an empty selection when it draws a graph mounted again (page navigation); a person's
            # brush always has a range, and removing the clause here would drop a bar click made before.
            return dash.no_update
        col = self.props.column
        if name == "brush" and not self.categorical and value.get("range"):
            lo, hi = sorted(float(v) for v in value["range"]["x"])
            return self.clause("range", column=col, value=[lo, hi])
        # The grey "all" bars carry no customdata: only bars of the filtered data make a clause.
        picked = [pt["customdata"] for pt in value.get("points", []) if pt.get("customdata")]
        if not picked:
            return None
        if not self.categorical:
            lo, hi = min(c[0] for c in picked), max(c[1] for c in picked)
            return self.clause("range", column=col, value=[lo, hi])
        keys = [c[0] for c in picked if c[0] is not None]
        own = view.own
        if name == "click" and own is not None and own.op == "in":
            # A click toggles one category in or out of the chosen set.
            chosen = list(own.value)
            keys = [k for k in chosen if k not in keys] + [k for k in keys if k not in chosen]
        return self.clause("in", column=col, value=keys) if keys else None


def _brush(lo: float, hi: float) -> dict[str, Any]:
    return {"type": "rect", "xref": "x", "yref": "y domain", "x0": lo, "x1": hi, "y0": 0, "y1": 1}
