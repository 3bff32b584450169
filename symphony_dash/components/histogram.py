"""histogram: the distribution of one column; click a bar or brush a range to filter the other views."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from dash import dcc
from pydantic import Field

from ..component import Column, Component, Event, Props, Slot, View
from ..registry import register
from ..state import Clause
from . import style

__all__ = ["Histogram"]


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
    events = {"click": Event(Slot("graph", "clickData")), "brush": Event(Slot("graph", "selectedData"))}

    def layout(self) -> dcc.Graph:
        return dcc.Graph(id=self.id("graph"), config=style.GRAPH_CONFIG, style={"height": "100%"})

    @property
    def categorical(self) -> bool:
        return self.dataset.column(self.props.column).kind != "numeric"

    def render(self, view: View) -> dict[str, Any]:
        p = self.props
        own = view.own
        lo = hi = None
        if self.categorical:
            x, counts, totals, keys = self._categories(view)
            chosen = set(own.value) if own is not None and own.op == "in" else None
            active = [chosen is None or k in chosen for k in keys]
            custom = [[k] for k in keys]
        else:
            edges, counts = view.data.histogram(p.column, p.bins)
            _, totals = view.all.histogram(p.column, p.bins)
            counts, totals = counts.tolist(), totals.tolist()
            x = ((edges[:-1] + edges[1:]) / 2).tolist()
            lo, hi = own.value if own is not None and own.op == "range" else (None, None)
            active = [lo is None or (b >= lo and a <= hi) for a, b in pairwise(edges)]
            custom = [[float(a), float(b)] for a, b in pairwise(edges)]
        bars = {
            "type": "bar",
            "x": x,
            "y": counts,
            "customdata": custom,
            "name": "filtered",
            "marker": {"color": [style.ACCENT if a else style.INACTIVE for a in active]},
            "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            "unselected": {"marker": {"opacity": 1}},  # the colours already say what is chosen
        }
        grey = {
            "type": "bar",
            "x": x,
            "y": totals,
            "name": "all",
            "hoverinfo": "skip",
            "marker": {"color": style.UNFILTERED},
        }
        layout = style.base_layout(
            # A constant uirevision keeps the person's brush through re-renders; the brush itself is drawn from the
            # state, so removing the chip clears it (a new uirevision would clear it too, and fire a deselect).
            uirevision="histogram",
            selections=[_brush(lo, hi)] if lo is not None else [],
            barmode="overlay",
            bargap=0.08,
            dragmode="select" if not self.categorical else False,
            selectdirection="h",
            showlegend=False,
        )
        layout["xaxis"] |= {"title": {"text": p.column}, "type": "category" if self.categorical else "linear"}
        layout["yaxis"] |= {"type": "log" if p.log_y else "linear", "title": {"text": "count"}}
        # Plain dicts, not graph_objects: validating a figure costs more than computing it.
        return {"data": [grey, bars] if p.show_unfiltered else [bars], "layout": layout}

    def _categories(self, view: View) -> tuple[list[str], list[int], list[int], list[Any]]:
        col = self.props.column
        totals = dict(view.all.value_counts(col, limit=None).iter_rows())
        keys = [k for k, _ in sorted(totals.items(), key=lambda kv: -kv[1])][: self.props.max_categories]
        if self.dataset.column(col).kind == "categorical":
            order = {v: i for i, v in enumerate(self.dataset.categories(col))}
            keys.sort(key=lambda k: (k is None, order.get(k, len(order))))
        filtered = dict(view.data.value_counts(col, limit=None).iter_rows())
        labels = ["(missing)" if k is None else str(k) for k in keys]
        return labels, [filtered.get(k, 0) for k in keys], [totals[k] for k in keys], keys

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        if not value or (not value.get("points") and "range" not in value):
            return None
        col = self.props.column
        if name == "brush" and not self.categorical and value.get("range"):
            lo, hi = sorted(float(v) for v in value["range"]["x"])
            return self.clause("range", column=col, value=[lo, hi])
        picked = [pt["customdata"] for pt in value.get("points", []) if pt.get("curveNumber") == self._data_trace]
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

    @property
    def _data_trace(self) -> int:
        return 1 if self.props.show_unfiltered else 0


def _brush(lo: float, hi: float) -> dict[str, Any]:
    return {"type": "rect", "xref": "x", "yref": "y domain", "x0": lo, "x1": hi, "y0": 0, "y1": 1}
