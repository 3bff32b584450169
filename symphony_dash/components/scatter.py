"""scatter: a 2-D projection of the instances; lasso or box-select a region to filter the other views.

Up to ``max_points`` filtered points are drawn as WebGL markers sent as float32 typed arrays. Above that bound the
filtered rows become a density image computed on the server, with a random sample of points on top, so what reaches
the browser stays small at any size: 10,000 points by default, ~150 KB, which keeps a whole interaction within issue
7's 250 KB. A lasso or a box becomes a ``polygon`` clause over ``(x, y)``: a few vertices,
never a list of ids.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
from dash import dcc, html
from pydantic import Field

from ..component import Clientside, Column, Component, Event, Props, Slot, View
from ..dataset import DatasetError
from ..engine import Query, points_in_polygon
from ..registry import register
from ..state import Clause
from . import style

__all__ = ["Scatter"]

NO_COLOR = "(none)"
# The density image is DENSITY_BINS squared cells, sent as one byte each (a log scale of the count).
DENSITY_BINS = 128
# Above max_points: how many sampled points are drawn over the density image, and at most how many selected ones.
SAMPLE_POINTS = 3_000
MAX_HIGHLIGHT = 5_000
# A lasso is thinned to at most this many vertices: the clause stays small and cheap to test points against.
MAX_VERTICES = 400
OTHER = "other"
OTHER_COLOR = "#8d96a0"
SEQUENTIAL = "Viridis"
# A neutral slate for the density, so the coloured sample on top stays readable whatever the colour column.
DENSITY = "#4a5563"
# Float32 holds every integer below 2**24 exactly; larger ids in the hover data need float64.
FLOAT32_EXACT = 2**24


class ScatterProps(Props):
    x: str | None = Column(None, description="The horizontal column; default the dataset's x column.")
    y: str | None = Column(None, description="The vertical column; default the dataset's y column.")
    color: str | None = Column(
        None, description="Colour by this column (categories get a legend, numbers a scale); default the label column."
    )
    max_points: int = Field(
        10_000, ge=100, le=500_000, description="Draw every point up to this many; above it, a density image."
    )
    point_size: float = Field(5, gt=0, le=30, description="Marker size in pixels.")


# The outline of a box or lasso (or that it was cleared), without the points; nothing at mount, so a lasso made
# before a page change survives coming back, and nothing for Plotly's re-announcement of a selection after a redraw.
OUTLINE_ONLY = """
function (selected) {
    const ctx = window.dash_clientside.callback_context;
    if (!ctx.triggered.length || ctx.triggered[0].prop_id === ".") return window.dash_clientside.no_update;
    if (!selected) return {cleared: Date.now()};
    if (!selected.range && !selected.lassoPoints) return window.dash_clientside.no_update;
    return {range: selected.range || null, lassoPoints: selected.lassoPoints || null, at: Date.now()};
}
"""

# The id of the point hovered or clicked: WebGL points carry no customdata in their events, so it is read from the
# trace Plotly drew (its first hover value is the id, see _hover_columns).
POINTED = """
function (hover, click) {
    const ctx = window.dash_clientside.callback_context;
    const fired = ctx.triggered.length ? ctx.triggered[0] : null;
    const point = fired && fired.value && fired.value.points && fired.value.points[0];
    if (!point) return window.dash_clientside.no_update;
    const id = ctx.inputs_list[0].id;
    const key = JSON.stringify(Object.fromEntries(Object.keys(id).sort().map(k => [k, id[k]])));
    const graph = document.getElementById(key);
    const plot = graph && graph.querySelector(".js-plotly-plot");
    const trace = plot && plot._fullData && plot._fullData[point.curveNumber];
    const row = trace && trace.customdata && trace.customdata[point.pointNumber];
    if (row === undefined || row === null || row[0] === undefined) return window.dash_clientside.no_update;
    return {id: row[0], at: Date.now()};
}
"""


@register
class Scatter(Component):
    type = "scatter"
    name = "Scatter"
    description = (
        "A 2-D projection of the instances. Lasso or box-select a region to filter the other views; "
        "double-click to clear. Hover or click a point to see it in the detail panel. Above the point limit it "
        "shows a density image with a sample of points."
    )
    Props = ScatterProps
    outputs = (Slot("graph", "figure"),)
    inputs = (Slot("color", "value"),)
    # Plotly's selectedData lists every point inside the lasso (megabytes for 50,000 points): only its outline goes
    # to the server, copied into a small store in the browser.
    events = {"select": Event(Slot("outline", "data"))}
    clientside = (
        Clientside(OUTLINE_ONLY, inputs=(Slot("graph", "selectedData"),), output=Slot("outline", "data")),
        Clientside(
            POINTED, inputs=(Slot("graph", "hoverData"), Slot("graph", "clickData")), output=Slot("pointed", "data")
        ),
    )
    inspect = (Slot("pointed", "data"),)

    def layout(self) -> html.Div:
        options = [{"label": "no colour", "value": NO_COLOR}] + [{"label": c, "value": c} for c in self._colorable()]
        # The colour picker floats in the figure's top margin, beside the mode bar, so the plot keeps the height.
        picker = html.Div(
            [
                html.Span("colour by", style={"color": "#66717f", "fontSize": "12px"}),
                dcc.Dropdown(
                    id=self.id("color"),
                    options=options,
                    value=self._default_color() or NO_COLOR,
                    clearable=False,
                    style={"width": "150px", "fontSize": "12px"},
                ),
            ],
            style={
                "position": "absolute",
                "top": "4px",
                "left": "10px",
                "zIndex": 2,
                "display": "flex",
                "alignItems": "center",
                "gap": "6px",
            },
        )
        graph = dcc.Graph(id=self.id("graph"), config=style.GRAPH_CONFIG, style={"height": "100%"})
        stores = [dcc.Store(id=self.id("outline")), dcc.Store(id=self.id("pointed"))]
        return html.Div([picker, graph, *stores], style={"position": "relative"})

    # -- rendering ---------------------------------------------------------------------------------------------

    def render(self, view: View) -> dict[str, Any]:
        x, y = self._axes()
        color = self._chosen_color(view.inputs.get("color.value"))
        if color is not None and color not in self._colorable():
            kind = self.dataset.column(color).kind
            raise DatasetError(f"scatter colours by a numeric or categorical column; {color!r} is {kind}")
        own = view.own
        mine = own is not None and own.op == "polygon" and own.columns == (x, y)
        polygon = np.asarray(own.value, dtype=np.float64) if mine else None  # type: ignore[union-attr]
        shown, total = view.data.count(), len(self.dataset)
        dense = shown > self.props.max_points
        traces: list[Any] = []
        if shown < total:
            traces.append(self._background(view.all, x, y, total))
        if dense:
            traces.append(self._density(view.data, x, y, DENSITY, "filtered"))
            rows = view.data.sample(min(SAMPLE_POINTS, self.props.max_points), self._columns(x, y, color))
        else:
            rows = view.data.frame(self._columns(x, y, color))
        traces += self._points(rows, x, y, color, polygon, faint=dense)
        if view.selection is not None:
            traces.append(self._highlight(view, view.selection, x, y))
        layout = style.base_layout(
            uirevision=f"{x}|{y}",
            selectionrevision=own.key() if own else "none",
            dragmode="lasso",
            hovermode="closest",
            showlegend=color is not None and self.dataset.column(color).kind != "numeric",
            legend={"font": {"size": 11}, "itemsizing": "constant", "title": {"text": color}, "tracegroupgap": 0},
            margin={"l": 44, "r": 8, "t": 42, "b": 36},
            xaxis=_axis(x),
            yaxis=_axis(y),
            shapes=[_outline(polygon)] if polygon is not None else [],
            annotations=[_note(shown, len(rows))] if dense else [],
        )
        return {"data": traces, "layout": layout}

    def _axes(self) -> tuple[str, str]:
        x, y = self.resolve("x", "x"), self.resolve("y", "y")
        for col in (x, y):
            if self.dataset.column(col).kind != "numeric":
                raise DatasetError(f"scatter needs numeric columns; {col!r} is {self.dataset.column(col).kind}")
        return x, y

    def _colorable(self) -> list[str]:
        return self.dataset.columns_of("numeric", "categorical")

    def _default_color(self) -> str | None:
        return self.props.color or self.dataset.role("label")

    def _chosen_color(self, picked: Any) -> str | None:
        """The dropdown's column, or the default when the browser sent something that is not a choice."""
        if picked == NO_COLOR:
            return None
        return picked if isinstance(picked, str) and picked in self._colorable() else self._default_color()

    def _hover_columns(self) -> list[str]:
        roles = ("label", "prediction", "score")
        return list(dict.fromkeys([self.dataset.id_column, *(c for r in roles if (c := self.dataset.role(r)))]))

    def _columns(self, x: str, y: str, color: str | None) -> list[str]:
        return list(dict.fromkeys([x, y, *self._hover_columns(), *([color] if color else [])]))

    # Traces are plain dicts with typed arrays (style.typed): going through plotly.graph_objects costs more than the
    # data work of the whole view.

    def _background(self, everything: Query, x: str, y: str, total: int) -> dict[str, Any]:
        """Every row in light grey behind the filtered ones, so a filter reads as a part of the whole."""
        if total > self.props.max_points:
            return self._density(everything, x, y, style.UNFILTERED, "all")
        xy = everything.frame([x, y])
        return {
            "type": "scattergl",
            "x": style.typed(_floats(xy[x])),
            "y": style.typed(_floats(xy[y])),
            "mode": "markers",
            "marker": {"size": self.props.point_size, "color": style.UNFILTERED},
            "name": "all",
            "hoverinfo": "skip",
            "showlegend": False,
        }

    def _density(self, query: Query, x: str, y: str, color: str, name: str) -> dict[str, Any]:
        counts, y_edges, x_edges = query.bins2d(x, y, DENSITY_BINS)
        # One byte per cell on a log scale: empty cells stay 0, which the colour scale makes transparent.
        level = np.log1p(counts)
        level = np.ceil(level / max(level.max(), 1e-9) * 255).astype(np.uint8)
        return {
            "type": "heatmap",
            "z": style.typed(level),
            "x0": float(x_edges[0] + x_edges[1]) / 2,
            "dx": float(x_edges[1] - x_edges[0]),
            "y0": float(y_edges[0] + y_edges[1]) / 2,
            "dy": float(y_edges[1] - y_edges[0]),
            "zmin": 0,
            "zmax": 255,
            "colorscale": [[0, "rgba(255,255,255,0)"], [0.5 / 255, _tint(color, 0.1)], [1, _tint(color, 0.6)]],
            "showscale": False,
            "hoverinfo": "skip",
            "name": name,
        }

    def _points(
        self, rows: pl.DataFrame, x: str, y: str, color: str | None, polygon: np.ndarray | None, faint: bool
    ) -> list[dict[str, Any]]:
        """The filtered points: one trace per category, or one with a colour scale; outside the own lasso, faded."""
        customdata, hovertemplate = self._hover(rows)
        marker: dict[str, Any] = {"size": self.props.point_size, "opacity": 0.75 if faint else 0.85}
        common = {"mode": "markers", "hovertemplate": hovertemplate, "unselected": {"marker": {"opacity": 0.18}}}
        kind = self.dataset.column(color).kind if color else None
        if color is None or kind == "numeric":
            if color is not None:
                marker |= {
                    "color": _floats(rows[color]),
                    "colorscale": SEQUENTIAL,
                    "colorbar": {
                        "title": {"text": color, "side": "right", "font": {"size": 11}},
                        "tickfont": {"size": 10},
                        "thickness": 10,
                        "len": 0.8,
                    },
                }
            else:
                marker["color"] = style.ACCENT
            groups = [(None, np.arange(rows.height), marker)]
        else:
            groups = [(name, idx, marker | {"color": c}) for name, idx, c in self._categories(rows[color])]
        traces = []
        for name, idx, mk in groups:
            xs, ys = rows[x].to_numpy()[idx], rows[y].to_numpy()[idx]
            inside = None if polygon is None else np.flatnonzero(points_in_polygon(xs, ys, polygon)).tolist()
            custom = (
                style.typed(customdata[idx]) if isinstance(customdata, np.ndarray) else [customdata[i] for i in idx]
            )
            if isinstance(mk.get("color"), np.ndarray):
                mk = mk | {"color": style.typed(mk["color"][idx])}
            traces.append(
                {
                    "type": "scattergl",
                    "x": style.typed(xs.astype(np.float32)),
                    "y": style.typed(ys.astype(np.float32)),
                    "marker": mk,
                    "customdata": custom,
                    "name": name or "filtered",
                    "showlegend": name is not None,
                    "selectedpoints": inside,
                    **common,
                }
            )
        return traces

    def _categories(self, values: pl.Series) -> list[tuple[str, np.ndarray, str]]:
        """``(name, row positions, colour)`` per category; past the palette, the rarest share one grey 'other'."""
        text = values.cast(pl.String).fill_null("(missing)").to_numpy()
        names, counts = np.unique(text, return_counts=True)
        order = _category_order(self.dataset.categories(values.name), names, counts)
        named = order[: len(style.PALETTE)]
        out = [(n, np.flatnonzero(text == n), style.PALETTE[i]) for i, n in enumerate(named)]
        if rest := order[len(style.PALETTE) :]:
            out.append((OTHER, np.flatnonzero(np.isin(text, rest)), OTHER_COLOR))
        return out

    def _hover(self, rows: pl.DataFrame) -> tuple[np.ndarray | list[tuple[Any, ...]], str]:
        """Per-point hover values, as a typed array when they are all numbers (most of the payload otherwise)."""
        columns = self._hover_columns()
        numeric = all(rows[c].dtype.is_numeric() for c in columns)
        lines = []
        for i, c in enumerate(columns):
            fmt = ":.3f" if c == self.dataset.role("score") else ""
            lines.append(f"{c}: <b>%{{customdata[{i}]{fmt}}}</b>")
        template = "<br>".join(lines) + "<extra></extra>"
        if not numeric:
            return rows.select(pl.col(columns).cast(pl.String)).rows(), template
        data = rows.select(pl.col(columns).cast(pl.Float64)).to_numpy()
        exact = not data.size or np.nanmax(np.abs(data)) < FLOAT32_EXACT
        return data.astype(np.float32 if exact else np.float64), template

    def _highlight(self, view: View, selection: Clause, x: str, y: str) -> dict[str, Any]:
        """The shared selection, among the shown points, as larger orange rings on top."""
        rows = view.where(selection).sample(MAX_HIGHLIGHT, [x, y])
        return {
            "type": "scattergl",
            "x": style.typed(_floats(rows[x])),
            "y": style.typed(_floats(rows[y])),
            "mode": "markers",
            "marker": {
                "size": self.props.point_size + 5,
                "color": "rgba(0,0,0,0)",
                "line": {"color": style.SELECTED, "width": 2},
            },
            "name": "selected",
            "hoverinfo": "skip",
            "showlegend": False,
        }

    # -- events ------------------------------------------------------------------------------------------------

    def on_inspect(self, name: str, value: Any, view: View) -> Any:
        return value.get("id") if isinstance(value, dict) else None

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        if not isinstance(value, dict | None):
            raise ValueError("a selection must be an object")
        if value is None or value.get("cleared"):
            return None  # a double-click clears the lasso
        x, y = self._axes()
        if value.get("range"):
            (x0, x1), (y0, y1) = (sorted(_numbers(value["range"][axis], 2, 2)) for axis in ("x", "y"))
            corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
            return self.clause("polygon", columns=(x, y), value=corners)
        lasso = value.get("lassoPoints")
        if lasso:
            xs, ys = (_numbers(lasso[axis], 3, 100_000) for axis in ("x", "y"))
            if len(xs) != len(ys):
                raise ValueError("the lasso's x and y lists differ in length")
            step = math.ceil(len(xs) / MAX_VERTICES)
            return self.clause(
                "polygon", columns=(x, y), value=[[a, b] for a, b in zip(xs[::step], ys[::step], strict=True)]
            )
        raise ValueError("a selection must have a box 'range' or 'lassoPoints'")


def _numbers(values: Any, least: int, most: int) -> list[float]:
    """A list of finite numbers from the browser, or a ``ValueError``."""
    if not isinstance(values, list) or not least <= len(values) <= most:
        raise ValueError(f"expected a list of {least} to {most} numbers")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        raise ValueError("expected finite numbers")
    return [float(v) for v in values]


def _floats(values: pl.Series) -> np.ndarray:
    return values.cast(pl.Float32).to_numpy()


def _category_order(declared: list[Any], names: np.ndarray, counts: np.ndarray) -> list[str]:
    """The present categories in the column's own order when they fit the palette, else the most frequent first."""
    present = set(names.tolist())
    if len(present) <= len(style.PALETTE):
        ordered = [str(c) for c in declared if str(c) in present]
        return ordered + sorted(present - set(ordered))
    return [str(n) for n in names[np.argsort(-counts, kind="stable")]]


def _axis(title: str) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 11, "color": "#66717f"}, "standoff": 4},
        "tickfont": {"size": 10, "color": "#8a94a1"},
        "gridcolor": "#f0f2f5",
        "zeroline": False,
        "showline": False,
        "ticks": "",
    }


def _outline(polygon: np.ndarray) -> dict[str, Any]:
    """The own lasso as a dashed outline, so it stays visible after the figure is redrawn."""
    path = "M" + "L".join(f"{a},{b}" for a, b in polygon) + "Z"
    return {
        "type": "path",
        "path": path,
        "xref": "x",
        "yref": "y",
        "line": {"color": style.ACCENT, "width": 1.5, "dash": "dot"},
        "fillcolor": "rgba(47,111,223,0.05)",
        "layer": "above",
    }


def _note(shown: int, sampled: int) -> dict[str, Any]:
    return {
        "text": f"density of {shown:,} points · {sampled:,} sampled",
        "xref": "paper",
        "yref": "paper",
        "x": 1,
        "y": 1,
        "xanchor": "right",
        "yanchor": "top",
        "showarrow": False,
        "font": {"size": 10, "color": "#66717f"},
        "bgcolor": "rgba(255,255,255,0.8)",
    }


def _tint(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
