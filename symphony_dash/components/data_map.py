"""data_map: a choropleth of instance counts (or accuracy, error rate, a mean) per region; click a region to filter.

The map outlines are Plotly's own (Natural Earth, 1:110m), shipped in ``assets/topojson`` and served by the app, so a
map draws with no network: plotly.js would otherwise fetch them from its CDN.
"""

from __future__ import annotations

from typing import Any, Literal

import dash
import polars as pl
from dash import dcc
from pydantic import Field, model_validator

from ..component import Column, Component, Event, Props, Slot, View
from ..dataset import DatasetError
from ..engine import Query
from ..media import app_url
from ..registry import register
from ..state import Clause
from . import style

__all__ = ["DataMap"]

Metric = Literal["count", "accuracy", "error_rate", "mean"]
# Only the scopes whose outlines ship in assets/topojson. Plotly's continent scopes draw a clipped, mis-fitted map
# with these (Natural Earth) outlines in plotly.js 4, so they are left out: the world map pans and zooms there.
Scope = Literal["world", "usa"]

_COLORSCALES: dict[str, list[list[Any]]] = {
    "count": [[0, "#e6efff"], [1, style.ACCENT]],
    "mean": [[0, "#e6efff"], [1, style.ACCENT]],
    "accuracy": [[0, "#f4c7c3"], [0.5, "#f6e7b4"], [1, "#59a14f"]],
    "error_rate": [[0, "#fbe3df"], [1, "#c0392b"]],
}
_GREY = [[0, style.UNFILTERED], [1, style.UNFILTERED]]
_BORDER = "#ffffff"


class DataMapProps(Props):
    """The settings of a data map: the region column, how to read it, and what to colour the regions by."""

    location: str = Column(description="The column of regions: ISO-3 country codes, country names or US states.")
    locationmode: Literal["ISO-3", "country names", "USA-states"] = Field(
        "ISO-3", description="How the region column names regions: ISO-3 codes ('DEU'), country names, US states."
    )
    scope: Scope | None = Field(
        None, description="The part of the globe drawn; default the world (the USA for states)."
    )
    metric: Metric = Field(
        "count",
        description="Colour regions by their instance count, the accuracy or error rate of prediction against label, "
        "or the mean of the 'value' column.",
    )
    value: str | None = Column(None, description="The numeric column averaged when the metric is 'mean'.")
    label: str | None = Column(None, description="The true label column; default the dataset's label column.")
    prediction: str | None = Column(None, description="The predicted column; default the dataset's prediction column.")

    @model_validator(mode="after")
    def _value_for_mean(self) -> DataMapProps:
        if self.metric == "mean" and self.value is None:
            raise ValueError("the 'mean' metric needs a numeric 'value' column to average")
        return self


@register
class DataMap(Component):
    """A map of the filtered instances per region: the regions are coloured by a count or a metric."""

    type = "data_map"
    name = "Map"
    description = (
        "Instances per region (or a metric per region) on a map; grey regions have no instance under the filter. "
        "Click a region to filter the other views to it; click it again to clear."
    )
    Props = DataMapProps
    outputs = (Slot("graph", "figure"),)
    events = {"click": Event(Slot("graph", "clickData"))}

    def layout(self) -> dcc.Graph:
        # No scroll zoom: a wheel over the map scrolls the page, as everywhere else on it.
        config = style.GRAPH_CONFIG | {
            "topojsonURL": _topojson_url(),
            "scrollZoom": False,
            "modeBarButtonsToRemove": [*style.GRAPH_CONFIG["modeBarButtonsToRemove"], "select2d", "lasso2d"],
        }
        return dcc.Graph(id=self.id("graph"), config=config, style={"height": "100%"})

    def render(self, view: View) -> dict[str, Any]:
        p = self.props
        totals = self._totals(view)
        regions = sorted(totals)
        shown = self._by_region(view.data)
        own = view.own
        chosen = set(own.value) if own is not None and own.op == "in" else None
        coloured = [r for r in regions if r in shown and shown[r][1] is not None]

        grey = self._trace(regions, [0.0] * len(regions), chosen, totals, shown) | {
            "name": "all",
            "colorscale": _GREY,
            "showscale": False,
        }
        data = [grey]
        if coloured:
            z = [float(shown[r][1]) for r in coloured]  # type: ignore[arg-type]
            colour = self._trace(coloured, z, chosen, totals, shown) | {
                "name": "filtered",
                "colorscale": _COLORSCALES[p.metric],
                "colorbar": _colorbar(self._metric_title(), p.metric in ("accuracy", "error_rate")),
            }
            if p.metric == "count":
                colour |= {"zmin": 0, "zmax": max(z)}
            data.append(colour)
        scope = p.scope or ("usa" if p.locationmode == "USA-states" else "world")
        geo = {
            "scope": scope,
            "showframe": False,
            "showcoastlines": False,
            "showland": True,
            "landcolor": "#f4f5f7",
            "showcountries": True,
            "countrycolor": "#dfe3e8",
            "showlakes": False,
            "bgcolor": "rgba(0,0,0,0)",
        }
        if scope == "world":
            # Antarctica left out: it holds no instances and would take a sixth of the box.
            geo |= {"projection": {"type": "natural earth"}, "lataxis": {"range": [-58, 85]}}
        layout = style.base_layout(
            uirevision="data_map",  # keeps the person's pan and zoom through re-renders
            margin={"l": 0, "r": 0, "t": 0, "b": 0},
            geo=geo,
            showlegend=False,
        )
        return {"data": data, "layout": layout}

    def _totals(self, view: View) -> dict[str, int]:
        """Instances per region over the whole table: which regions the map draws, and the 'of N' of each."""
        info = self.dataset.column(self.props.location)
        if info.kind not in ("categorical", "text"):
            raise DatasetError(f"data_map needs a column of region codes or names; {info.name!r} is {info.kind}")
        counts = view.all.value_counts(info.name, limit=None)
        return {str(v): int(n) for v, n in counts.iter_rows() if v is not None}

    def _by_region(self, query: Query) -> dict[str, tuple[int, float | None]]:
        """``region: (instances, metric)`` of the rows of ``query``; the metric is ``None`` where it is undefined."""
        p, loc = self.props, self.props.location
        if p.metric == "count":
            return {
                str(v): (int(n), float(n)) for v, n in query.value_counts(loc, limit=None).iter_rows() if v is not None
            }
        if p.metric == "mean":
            if self.dataset.column(p.value).kind != "numeric":
                raise DatasetError(f"the 'mean' metric needs a numeric column; {p.value!r} is not numeric")
            measure = pl.col(p.value).cast(pl.Float64).fill_nan(None).mean()
            columns = [loc, p.value]
        else:
            label, prediction = self.resolve("label", "label"), self.resolve("prediction", "prediction")
            # As text, so label and prediction compare even when their categories differ (two enums do not).
            right = pl.col(label).cast(pl.String) == pl.col(prediction).cast(pl.String)
            measure = (right if p.metric == "accuracy" else ~right).mean()  # rows missing either are left out
            columns = [loc, label, prediction]
        frame = query.frame(list(dict.fromkeys(columns))).filter(pl.col(loc).is_not_null())
        table = frame.group_by(loc).agg(pl.len().alias("n"), measure.alias("m"))
        return {str(v): (int(n), m) for v, n, m in table.iter_rows()}

    def _trace(
        self,
        regions: list[str],
        z: list[float],
        chosen: set[Any] | None,
        totals: dict[str, int],
        shown: dict[str, tuple[int, float | None]],
    ) -> dict[str, Any]:
        # The regions this map filters to get an accent outline and the others fade, as chosen bars do elsewhere.
        picked = [chosen is None or r in chosen for r in regions]
        return {
            "type": "choropleth",
            "locations": regions,
            "locationmode": self.props.locationmode,
            "z": z,
            "text": [self._hover(r, totals, shown) for r in regions],
            "hovertemplate": "%{text}<extra></extra>",
            "marker": {
                "line": {
                    "color": [style.ACCENT if chosen and k else _BORDER for k in picked],
                    "width": [2.5 if chosen and k else 0.6 for k in picked],
                },
            },
            # Plotly has no opacity per region, but it fades the regions left out of a selection.
            "selectedpoints": [i for i, k in enumerate(picked) if k] if chosen else None,
            "unselected": {"marker": {"opacity": 0.3}},
        }

    def _hover(self, region: str, totals: dict[str, int], shown: dict[str, tuple[int, float | None]]) -> str:
        n, value = shown.get(region, (0, None))
        text = f"<b>{region}</b><br>{n:,} of {totals[region]:,} instances"
        if self.props.metric != "count" and value is not None:
            shown_value = f"{value:.1%}" if self.props.metric in ("accuracy", "error_rate") else f"{value:.4g}"
            text += f"<br>{self._metric_title()}: {shown_value}"
        return text

    def _metric_title(self) -> str:
        p = self.props
        return {"count": "instances", "accuracy": "accuracy", "error_rate": "error rate"}.get(
            p.metric, f"mean {p.value}"
        )

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        points = value.get("points") if isinstance(value, dict) else None
        if not isinstance(points, list) or not points or not isinstance(points[0], dict):
            return dash.no_update
        region = points[0].get("location")
        if not isinstance(region, str) or region not in self._totals(view):
            raise ValueError(f"{region!r} is not a region of {self.props.location!r}")
        own = view.own
        if own is not None and own.op == "in" and own.value == [region]:
            return None  # a second click on the chosen region clears the filter
        return self.clause("in", column=self.props.location, value=[region])


def _colorbar(title: str, percent: bool) -> dict[str, Any]:
    return {
        "title": {"text": title, "side": "right"},
        "thickness": 10,
        # Over the bottom-left of the map (the Pacific on a world map), so the map itself gets the whole width.
        "len": 0.45,
        "x": 0.01,
        "xanchor": "left",
        "y": 0.04,
        "yanchor": "bottom",
        "bgcolor": "rgba(255,255,255,0.7)",
        "outlinewidth": 0,
        "tickformat": ".0%" if percent else ",",
    }


def _topojson_url() -> str:
    """Where the app serves the map outlines (``assets/topojson``), so plotly.js does not ask its CDN for them.

    Dash's asset URL follows the app's path prefix (an app mounted under ``/tools/``, a notebook's proxy).
    """
    return app_url("/assets/topojson/")
