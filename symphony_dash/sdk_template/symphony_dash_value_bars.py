"""value_bars: the most frequent values of one column, as bars; click a bar to filter the other views by it."""

from __future__ import annotations

from typing import Any, Literal

from dash import dcc
from pydantic import Field

from symphony_dash import Clause, Column, Component, Event, Props, Slot, View
from symphony_dash.components import style

__all__ = ["ValueBars"]


class ValueBarsProps(Props):
    """The settings of a value_bars component: a layout's ``props``, and the form of the layout editor."""

    column: str = Column("label", description="The column whose values are counted.")
    top: int = Field(10, ge=1, le=50, description="How many of the most frequent values to show.")
    order: Literal["count", "value"] = Field("count", description="Sort the bars by count or by value.")


class ValueBars(Component):
    """The most frequent values of one column among the filtered rows; a click filters the other views."""

    type = "value_bars"
    name = "Value bars"
    description = "The most frequent values of a column. Click a bar to filter the other views by it, again to clear."
    api_version = 1
    Props = ValueBarsProps
    outputs = (Slot("graph", "figure"),)
    events = {"click": Event(Slot("graph", "clickData"))}

    def layout(self) -> dcc.Graph:
        return dcc.Graph(id=self.id("graph"), config=style.GRAPH_CONFIG, style={"height": "100%"})

    def render(self, view: View) -> dict[str, Any]:
        p, own = self.props, view.own
        # Which bars: the most frequent values of all rows, so the bars stay put while the filter changes.
        top = view.all.value_counts(p.column, limit=None).drop_nulls("value").head(p.top)
        if p.order == "value":
            top = top.sort("value")
        keys = top["value"].to_list()
        # view.data holds the rows under every other view's filter: this view's own click does not empty its bars.
        shown = dict(view.data.value_counts(p.column, limit=None).iter_rows())
        chosen = None if own is None else set(own.value if own.op == "in" else [own.value])
        labels = [str(k) for k in keys]
        all_rows = {"type": "bar", "orientation": "h", "y": labels, "x": top["count"].to_list(), "hoverinfo": "skip"}
        filtered = {
            "type": "bar",
            "orientation": "h",
            "y": labels,
            "x": [shown.get(k, 0) for k in keys],
            "customdata": keys,  # the values themselves (3, not "3"): what a click filters by
            "marker": {"color": [style.ACCENT if chosen is None or k in chosen else style.INACTIVE for k in keys]},
            "hovertemplate": "%{y}: %{x:,} rows<extra></extra>",
        }
        layout = style.base_layout(barmode="overlay", showlegend=False, bargap=0.15)
        layout["margin"] |= {"l": 64}
        layout["xaxis"] |= {"title": {"text": "rows"}}
        layout["yaxis"] |= {"type": "category", "autorange": "reversed", "title": {"text": p.column}}
        return {"data": [all_rows | {"marker": {"color": style.UNFILTERED}}, filtered], "layout": layout}

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        clause = self.points_clause(value, self.props.column)
        return None if clause == view.own else clause  # a click on the chosen bar clears it
