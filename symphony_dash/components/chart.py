"""chart: any Plotly Express chart of the filtered rows, set up in the layout from an allow-list of functions and
arguments.

>>> {"type": "chart", "id": "conf", "props": {"function": "box", "args": {"x": "label", "y": "confidence"}}}

The function is looked up in :data:`FUNCTIONS`, never by name on a module, and every argument is a declared field of
:class:`ChartArgs`: a column of the dataset (checked when the layout loads and again on every render) or an option of
a fixed type. Nothing from a layout or a browser is evaluated.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, Literal

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
from dash import dcc
from plotly.colors import named_colorscales
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..component import Column, Component, Props, Slot, View
from ..layout import column_fields
from ..registry import register
from . import style

__all__ = ["FUNCTIONS", "Chart", "ChartArgs", "ChartProps"]

Function = Literal[
    "scatter",
    "line",
    "bar",
    "histogram",
    "box",
    "violin",
    "strip",
    "density_heatmap",
    "density_contour",
    "ecdf",
    "pie",
    "sunburst",
    "treemap",
]
FUNCTIONS: dict[str, Callable[..., go.Figure]] = {
    "scatter": px.scatter,
    "line": px.line,
    "bar": px.bar,
    "histogram": px.histogram,
    "box": px.box,
    "violin": px.violin,
    "strip": px.strip,
    "density_heatmap": px.density_heatmap,
    "density_contour": px.density_contour,
    "ecdf": px.ecdf,
    "pie": px.pie,
    "sunburst": px.sunburst,
    "treemap": px.treemap,
}
"""The Plotly Express functions a layout may name: the only way from a name in a layout to code."""

_ACCEPTS = {name: frozenset(inspect.signature(fn).parameters) for name, fn in FUNCTIONS.items()}
# Charts whose marks are coloured by category (slices, tiles) even without a ``color`` column.
_MULTICOLOURED = ("pie", "sunburst", "treemap")
_D3_FORMAT = r"[0-9a-z.,%$+\-~#]{1,16}"


class ChartArgs(BaseModel):
    """The keyword arguments of the chart's Plotly Express function: columns of the dataset and a few safe options.

    Only the arguments the function takes are accepted: ``nbins`` for a histogram, ``path`` for a sunburst.
    """

    model_config = ConfigDict(extra="forbid")

    x: str | None = Column(None, description="The column along x.")
    y: str | None = Column(None, description="The column along y.")
    color: str | None = Column(None, description="The column that colours the marks.")
    facet_row: str | None = Column(None, description="One row of small charts per value of this column.")
    facet_col: str | None = Column(None, description="One column of small charts per value of this column.")
    size: str | None = Column(None, description="The column that sizes the points of a scatter.")
    symbol: str | None = Column(None, description="The column that picks the marker symbol.")
    names: str | None = Column(None, description="The column naming the slices of a pie or the tiles of a treemap.")
    values: str | None = Column(None, description="The column giving the size of each slice or tile.")
    path: list[str] | None = Column(
        None,
        min_length=1,
        max_length=8,
        description="The columns of a sunburst's or treemap's levels, outermost first.",
    )
    hover_data: list[str] | None = Column(None, max_length=20, description="More columns to show on hover.")
    nbins: int | None = Field(None, ge=1, le=500, description="How many bins a histogram has.")
    histnorm: Literal["percent", "probability", "density", "probability density"] | None = None
    barmode: Literal["group", "overlay", "relative"] | None = None
    marginal: Literal["rug", "box", "violin", "histogram"] | None = None
    points: Literal["all", "outliers", "suspectedoutliers", False] | None = None
    orientation: Literal["v", "h"] | None = None
    log_x: bool | None = None
    log_y: bool | None = None
    title: str | None = Field(None, max_length=200)
    opacity: float | None = Field(None, ge=0, le=1)
    box: bool | None = Field(None, description="Draw a box inside each violin.")
    text_auto: bool | str | None = Field(
        None, description="Write the values on the bars: true, or a d3 number format such as '.2f'."
    )
    color_continuous_scale: str | None = Field(
        None, description="A named Plotly colour scale such as 'viridis'; add '_r' to reverse it."
    )

    @model_validator(mode="before")
    @classmethod
    def _known_arguments(cls, data: Any) -> Any:
        # Ahead of pydantic's own "extra" check, whose message the layout would attribute to the chart's props.
        if isinstance(data, dict):
            for key in data:
                if key not in cls.model_fields:
                    columns = column_fields(cls)
                    options = [name for name in cls.model_fields if name not in columns]
                    raise ValueError(
                        f"{key!r} is not an argument of chart; the column arguments are: {', '.join(columns)}; "
                        f"the options are: {', '.join(options)}"
                    )
        return data

    @field_validator("text_auto")
    @classmethod
    def _d3_format(cls, value: bool | str | None) -> bool | str | None:
        if isinstance(value, str) and not re.fullmatch(_D3_FORMAT, value):
            raise ValueError("must be true, false or a d3 number format such as '.2f'")
        return value

    @field_validator("color_continuous_scale")
    @classmethod
    def _named_scale(cls, name: str | None) -> str | None:
        if name is not None and name.lower().removesuffix("_r") not in named_colorscales():
            raise ValueError("not a named Plotly colour scale such as viridis, cividis, blues or rdbu")
        return name

    def given(self) -> dict[str, Any]:
        """The arguments set, as keyword arguments of the Plotly Express function."""
        return self.model_dump(exclude_none=True)

    def columns(self) -> list[str]:
        """Every column the arguments name, once each."""
        named: list[str] = []
        for name in column_fields(type(self)):
            value = getattr(self, name)
            named.extend(value if isinstance(value, list) else [value] if value is not None else [])
        return list(dict.fromkeys(named))


class ChartProps(Props):
    function: Function = Field(description="The Plotly Express function that draws the chart.")
    args: ChartArgs = Field(description="Its arguments: columns of the dataset and a few options.")
    max_rows: int = Field(
        50_000, ge=100, le=1_000_000, description="Draw at most this many rows: a random sample of them beyond it."
    )

    @field_validator("args")
    @classmethod
    def _fits_function(cls, args: ChartArgs, info: ValidationInfo) -> ChartArgs:
        function = info.data.get("function")
        if function is None:
            return args  # an unknown function is reported by itself
        accepted = _ACCEPTS[function]
        for key in args.given():
            if key not in accepted:
                allowed = ", ".join(name for name in ChartArgs.model_fields if name in accepted)
                raise ValueError(f"{key!r} is not an argument of a {function} chart; its arguments are: {allowed}")
        if not args.columns():
            raise ValueError(f"a {function} chart needs at least one column, such as x or names")
        return args


@register
class Chart(Component):
    """A Plotly Express chart of the filtered rows: it follows the filter and makes none."""

    type = "chart"
    name = "Chart"
    description = "A Plotly Express chart of the filtered instances; it follows the other views' filters."
    Props = ChartProps
    outputs = (Slot("graph", "figure"),)

    def layout(self) -> dcc.Graph:
        return dcc.Graph(id=self.id("graph"), config=style.GRAPH_CONFIG, style={"height": "100%"})

    def render(self, view: View) -> go.Figure:
        p = self.props
        columns = p.args.columns()
        for column in columns:
            view.dataset.column(column)  # again here: the settings come back from the browser with every render
        shown = view.data.count()
        if shown == 0:
            return _message("No instances pass the filter")
        frame = view.data.sample(p.max_rows, columns)
        kwargs = p.args.given()
        # Categories as text, so that Plotly colours and places them as categories (not as a scale of numbers),
        # in the order every other view shows them.
        categorical = [c for c in columns if view.dataset.column(c).kind == "categorical"]
        frame = frame.with_columns(pl.col(categorical).cast(pl.String))
        if "category_orders" in _ACCEPTS[p.function]:
            kwargs["category_orders"] = {c: [str(v) for v in view.dataset.categories(c)] for c in categorical}
        if "color_discrete_sequence" in _ACCEPTS[p.function]:
            single = p.args.color is None and p.function not in _MULTICOLOURED
            kwargs["color_discrete_sequence"] = [style.ACCENT] if single else style.PALETTE
        figure = FUNCTIONS[p.function](frame.to_pandas(), template="plotly_white", **kwargs)
        figure.update_layout(
            style.base_layout(
                uirevision="chart",  # a zoom stays while the filter changes
                # Room above the plot for a title or the column facets' titles.
                margin={"l": 48, "r": 12, "t": 40 if p.args.title else 24 if p.args.facet_col else 8, "b": 40},
            )
        )
        if p.args.facet_col is None:
            # Above the plot, as the histograms have it; beside it when column facets have their titles there.
            figure.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
        axis = style.base_layout()["xaxis"]
        figure.update_xaxes(axis).update_yaxes(axis)
        if shown > len(frame):
            figure.add_annotation(
                text=f"a random sample of {len(frame):,} of {shown:,} instances",
                xref="paper",
                yref="paper",
                x=1,
                y=1,
                xanchor="right",
                yanchor="bottom",
                showarrow=False,
                font={"size": 10, "color": "#66717f"},
            )
        return figure


def _message(text: str) -> go.Figure:
    """An empty chart that says why it is empty."""
    figure = go.Figure(layout=style.base_layout(xaxis={"visible": False}, yaxis={"visible": False}))
    figure.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return figure
