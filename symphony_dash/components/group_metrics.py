"""group_metrics: accuracy, precision, recall and F1 per group under the crossfilter; click a group to filter to it.

The groups are the shared group-by columns (with two, their combinations), else the ``group_by`` prop, else one
"all" group. The metrics follow scikit-learn's definitions for single-label classification: per class over the
classes found in the group's labels or predictions, a class never predicted has precision 0, and the macro average is
the plain mean over those classes (``precision_recall_fscore_support(..., zero_division=0)``). Micro precision, recall
and F1 all equal the accuracy here; they are offered for people who report them. Rows missing a label or a prediction
are left out of the metrics and of the counts. Grouped by the label itself, a group holds one true class, so only
its accuracy (that class's recall) says much; the macro averages then mostly count the classes it was mistaken for.

A click on a group makes an ``in`` clause on its group column. With two group-by columns a single clause cannot name
a combination, so the click filters to the first column's value: every row of that value is highlighted, which shows
what the filter holds.

*Saved slices* (the switch above the plot) compares the layout's saved slices instead: one row per slice, its rows
within the other views' filter, against the rows passing that filter. A click filters to the slice (its clauses as
one clause of this view), a second click clears it.
"""

from __future__ import annotations

import html as html_text
from collections.abc import Sequence
from typing import Any, Literal

import dash
import polars as pl
from dash import dcc, html
from pydantic import Field

from ..component import Column, Component, Event, Props, Slot, View
from ..registry import register
from ..state import Clause, ClauseError
from . import style

__all__ = ["METRICS", "GroupMetrics", "GroupMetricsProps", "metrics_by_group"]

Metric = Literal[
    "accuracy", "f1_macro", "precision_macro", "recall_macro", "f1_micro", "precision_micro", "recall_micro"
]
METRICS: dict[str, str] = {
    "accuracy": "accuracy",
    "f1_macro": "F1 (macro)",
    "precision_macro": "precision (macro)",
    "recall_macro": "recall (macro)",
    "f1_micro": "F1 (micro)",
    "precision_micro": "precision (micro)",
    "recall_micro": "recall (micro)",
}
"""The metrics a group can show, by name, with the words the legend uses."""

# One colour per metric, from the shared palette but without its red: red marks the groups below the overall value.
METRIC_COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#9c755f", "#edc948"]
WORSE = (225, 87, 89)  # the palette's red, as RGB for a band whose strength says how far below overall a group is
FULL_RED = 0.1  # a group this far below the overall value gets the deepest red
CHOSEN_BAND = "rgba(47, 111, 223, 0.14)"
MUTED = "#9aa5b1"
SPREAD = 0.4  # how much of a row's height its metrics' markers spread over
FADED = 0.3  # the opacity of the groups this view does not filter to
ALL = "all"
MISSING = "(missing)"
# The shared group-by may hold more columns; combinations of more than two are too many rows to read.
MAX_GROUP_COLUMNS = 2


class GroupMetricsProps(Props):
    """The settings of ``group_metrics``: which columns to compare, which metrics, and how to group."""

    label: str | None = Column(None, description="The true class column; default the dataset's label column.")
    prediction: str | None = Column(None, description="The predicted class column; default the dataset's prediction.")
    metrics: list[Metric] = Field(
        default_factory=lambda: ["accuracy", "f1_macro", "precision_macro", "recall_macro"],
        min_length=1,
        description="Which metrics to show; the first one sorts the groups and draws the overall line.",
    )
    group_by: str | None = Column(None, description="Group by this column when the toolbar's group-by is empty.")
    min_count: int = Field(30, ge=1, description="Groups with fewer rows are greyed out as unreliable.")
    max_groups: int = Field(20, ge=1, le=200, description="Show at most this many groups, the worst first.")
    rows: Literal["groups", "slices"] = Field(
        "groups",
        description="Start with one row per group, or one per saved slice of the layout (a switch in the view).",
    )


def metrics_by_group(frame: pl.DataFrame, label: str, prediction: str, groups: Sequence[str] = ()) -> pl.DataFrame:
    """The group columns, the row ``count`` and every metric of :data:`METRICS`, one row per group of ``groups``
    (a single row for no groups).

    Rows missing a label or a prediction are left out. The groups come in the order of their values.

    >>> frame = pl.DataFrame({"y": [0, 1, 1, 2], "p": [0, 1, 2, 2], "g": ["a", "a", "b", "b"]})
    >>> metrics_by_group(frame, "y", "p", ["g"])["accuracy"].to_list()
    [1.0, 0.5]
    """
    table = _metrics(frame, label, prediction, groups)
    return table.rename({f"_g{i}": g for i, g in enumerate(groups)}).drop("_all", strict=False)


def _metrics(
    frame: pl.DataFrame, label: str, prediction: str, groups: Sequence[str], weight: str | None = None
) -> pl.DataFrame:
    """:func:`metrics_by_group` with the group columns named ``_g0``, ``_g1``: no name can collide with a metric's."""
    return _summarise(_per_class(frame, label, prediction, groups, weight), _keys(groups))


def _metrics_and_overall(
    frame: pl.DataFrame, label: str, prediction: str, groups: Sequence[str], weight: str | None = None
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The metrics per group and over all rows, from one pass: the overall counts per class are the groups' sums."""
    keys = _keys(groups)
    per_class = _per_class(frame, label, prediction, groups, weight)
    everything = per_class.group_by("_class").agg(pl.col("hits", "support", "predicted").sum())
    overall = _summarise(everything.with_columns(_all=pl.lit(ALL)), ["_all"])
    if overall.is_empty():
        overall = pl.DataFrame({"count": [0], **{m: [0.0] for m in METRICS}})
    return _summarise(per_class, keys), overall.row(0, named=True)


def _keys(groups: Sequence[str]) -> list[str]:
    return [f"_g{i}" for i in range(len(groups))] or ["_all"]


def _per_class(
    frame: pl.DataFrame, label: str, prediction: str, groups: Sequence[str], weight: str | None = None
) -> pl.DataFrame:
    """Per (group, class): ``hits`` (right), ``support`` (rows of the class) and ``predicted`` (rows predicted so).

    ``weight`` names a column of how many rows each row stands for (counts per combination, from the engine)."""
    keys = _keys(groups)
    rows = frame.select(
        *([pl.col(c).alias(k) for c, k in zip(groups, keys, strict=True)] if groups else [pl.lit(ALL).alias("_all")]),
        *_as_one_type(frame, label, prediction),
        (pl.col(weight) if weight else pl.lit(1)).cast(pl.Int64).alias("_n"),
    ).drop_nulls(["_y", "_p"])
    # Each class counted once as a label (support, hits) and once as a prediction; summed per (group, class).
    n = pl.col("_n")
    as_label = rows.group_by([*keys, "_y"]).agg(hits=n.filter(pl.col("_y") == pl.col("_p")).sum(), support=n.sum())
    as_prediction = rows.group_by([*keys, "_p"]).agg(predicted=n.sum())
    zero = pl.lit(0, dtype=pl.Int64)
    return (
        pl.concat(
            [
                as_label.rename({"_y": "_class"}).with_columns(predicted=zero),
                as_prediction.rename({"_p": "_class"}).with_columns(hits=zero, support=zero),
            ],
            how="diagonal",
        )
        .group_by([*keys, "_class"])
        .agg(pl.col("hits", "support", "predicted").sum())
    )


def _summarise(per_class: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The metrics per group from its per-class counts."""
    hits, support, predicted = pl.col("hits"), pl.col("support"), pl.col("predicted")
    per_group = (
        per_class.with_columns(
            precision=_ratio(hits, predicted), recall=_ratio(hits, support), f1=_ratio(2 * hits, support + predicted)
        )
        .group_by(keys)
        .agg(
            pl.col("precision").mean().alias("precision_macro"),
            pl.col("recall").mean().alias("recall_macro"),
            pl.col("f1").mean().alias("f1_macro"),
            hits.sum(),
            support.sum().alias("count"),
            predicted.sum(),
        )
        .with_columns(
            accuracy=_ratio(hits, pl.col("count")),
            precision_micro=_ratio(hits, predicted),
            recall_micro=_ratio(hits, pl.col("count")),
            f1_micro=_ratio(2 * hits, pl.col("count") + predicted),
        )
        .sort(keys, nulls_last=True)
    )
    return per_group.select(*keys, "count", *METRICS)


def _weight(columns: Sequence[str]) -> str:
    """A name for the counts beside ``columns`` that is none of them."""
    name = "_rows"
    while name in columns:
        name = "_" + name
    return name


def _as_one_type(frame: pl.DataFrame, label: str, prediction: str) -> list[pl.Expr]:
    """Label and prediction as ``_y`` and ``_p`` of one type, so a class is the same class on either side."""
    y, p = pl.col(label), pl.col(prediction)
    if frame.schema[label] != frame.schema[prediction]:
        y, p = y.cast(pl.String), p.cast(pl.String)
    return [y.alias("_y"), p.alias("_p")]


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """``numerator / denominator``, and 0 where nothing was counted (scikit-learn's ``zero_division=0``)."""
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(0.0)


@register
class GroupMetrics(Component):
    """Classification metrics per group as a dot plot, worst group first; a click filters to a group."""

    type = "group_metrics"
    name = "Metrics by group"
    description = (
        "Accuracy, precision, recall and F1 per group of the toolbar's group-by, worst first; red rows are below the "
        "overall value (dotted line), grey rows have too few instances to trust. Click a group to filter to it; "
        "click it again to clear."
    )
    Props = GroupMetricsProps
    outputs = (Slot("graph", "figure"),)
    inputs = (Slot("rows", "value"),)
    events = {"click": Event(Slot("graph", "clickData"))}

    def layout(self) -> html.Div:
        switch = dcc.RadioItems(
            id=self.id("rows"),
            options=[{"label": "Groups", "value": "groups"}, {"label": "Saved slices", "value": "slices"}],
            value=self.props.rows,
            inline=True,
            className="symphony-group-metrics-rows",
        )
        graph = dcc.Graph(id=self.id("graph"), config=style.GRAPH_CONFIG, className="symphony-group-metrics-graph")
        return html.Div([switch, graph], className="symphony-group-metrics-wrap")

    def comparing_slices(self, view: View) -> bool:
        return (view.inputs.get("rows.value") or self.props.rows) == "slices"

    def groups(self, view: View) -> list[str]:
        """The columns the rows are grouped by: the shared group-by, else the prop, else none (one "all" row)."""
        if view.state.group_by:
            return list(view.state.group_by[:MAX_GROUP_COLUMNS])
        return [self.props.group_by] if self.props.group_by else []

    def render(self, view: View) -> dict[str, Any]:
        p = self.props
        label, prediction = self.resolve("label", "label"), self.resolve("prediction", "prediction")
        groups = self.groups(view)
        columns = list(dict.fromkeys([label, prediction, *groups]))
        counted = view.data.group_counts(columns, name=_weight(columns))
        slices = self.comparing_slices(view)
        table, overall = _metrics_and_overall(counted, label, prediction, [] if slices else groups, _weight(columns))
        if slices:
            table, groups = self._slice_table(view, label, prediction), ["saved slice"]
            if table is None:
                return _message("No saved slices yet: filter the views, then name the filter in the Slices menu.")
        if table.is_empty():
            return _message("No rows with both a label and a prediction pass the filter.")
        first, keys = p.metrics[0], [f"_g{i}" for i in range(len(groups))]
        table = table.with_columns(_reliable=pl.col("count") >= p.min_count)
        # Unreliable groups go last: a handful of rows at 0% would otherwise hide the worst groups that matter.
        table = table.sort(["_reliable", first, *keys], descending=[True] + [False] * (1 + len(keys)), nulls_last=True)
        rows = table.head(p.max_groups).to_dicts()
        row_keys = [[r[k] for k in keys] for r in rows]
        active = self._active(view, groups, row_keys)
        return self._figure(rows, row_keys, active, overall, groups, table.height)

    def _slice_table(self, view: View, label: str, prediction: str) -> pl.DataFrame | None:
        """One row per saved slice (``_g0`` its name): its rows within the other views' filter; None if none saved."""
        if not self.saved_slices:
            return None
        tables = []
        for saved in self.saved_slices:
            counted = view.where(*saved.filter).group_counts([label, prediction], name=_weight([label, prediction]))
            tables.append(_metrics(counted, label, prediction, [], _weight([label, prediction])))
            tables[-1] = tables[-1].with_columns(_g0=pl.lit(saved.name))
        return pl.concat(tables).select("_g0", "count", *METRICS).filter(pl.col("count") > 0)

    def _slice_clause(self, name: Any) -> Clause | None:
        """The saved slice ``name`` as one clause of this view, or None if it cannot be one (a lasso among others)."""
        found = next((s for s in self.saved_slices if s.name == name), None)
        if found is None:
            raise ValueError(f"there is no saved slice {name!r}")
        if len(found.filter) == 1:
            return found.filter[0].model_copy(update={"source": self.component_id})
        try:
            return self.clause("all", value=[{"op": c.op, "column": c.column, "value": c.value} for c in found.filter])
        except (ClauseError, ValueError):  # pydantic's ValidationError is a ValueError
            return None

    def _active(self, view: View, groups: list[str], keys: list[list[Any]]) -> list[bool]:
        """Which groups this component's own clause keeps (all of them when it has none on the first column)."""
        own = view.own
        if own is not None and self.comparing_slices(view):
            return [self._slice_clause(k[0]) == own for k in keys]
        if own is None or not groups or own.column != groups[0]:
            return [True] * len(keys)
        if own.op == "is_null":
            return [k[0] is None for k in keys]
        chosen = own.value if isinstance(own.value, list) else [own.value]
        return [k[0] is not None and k[0] in chosen for k in keys]

    def _figure(
        self,
        rows: list[dict[str, Any]],
        keys: list[list[Any]],
        active: list[bool],
        overall: dict[str, Any],
        groups: list[str],
        total_groups: int,
    ) -> dict[str, Any]:
        metrics, first = self.props.metrics, self.props.metrics[0]
        positions = list(range(len(rows)))
        values = [r[m] for r in rows for m in metrics] + [overall[first]]
        # Zoom in on where the values are, in steps of 0.05: metrics near 1 would crowd together on a 0-1 axis.
        lo = max(0.0, int((min(values) - 0.02) * 20) / 20)
        hi = 1.0 + (1.0 - lo) * 0.03
        labels = [_group_label(k) for k in keys]
        hover = [self._hover(name, r, overall) for name, r in zip(labels, rows, strict=True)]
        points = {"y": positions, "customdata": [k or None for k in keys], "hovertext": hover}
        points["hovertemplate"] = "%{hovertext}<extra></extra>"
        data: list[dict[str, Any]] = [
            # A full-width bar behind each row: it colours the row and makes all of it clickable, not only the dots.
            points
            | {
                "type": "bar",
                "orientation": "h",
                "x": [hi - lo] * len(rows),
                "base": lo,
                "width": 0.86,
                "marker": {"color": self._bands(rows, active, overall), "line": {"width": 0}},
                "showlegend": False,
                "name": "groups",
            },
            # A thin line from each group's lowest to its highest metric, so the eye reads a row as one thing.
            {
                "type": "scatter",
                "mode": "lines",
                "x": [v for r in rows for v in (min(r[m] for m in metrics), max(r[m] for m in metrics), None)],
                "y": [v for i in positions for v in (i, i, None)],
                "line": {"color": "#c3cad3", "width": 2},
                "hoverinfo": "skip",
                "showlegend": False,
            },
        ]
        for k, metric in enumerate(metrics):
            color = METRIC_COLORS[list(METRICS).index(metric) % len(METRIC_COLORS)]
            # Each metric a little above or below the row's middle: metrics that nearly agree stay apart.
            offset = (k - (len(metrics) - 1) / 2) * SPREAD / max(1, len(metrics) - 1)
            marker = {"size": 11 if k == 0 else 8, "symbol": "circle" if k == 0 else "diamond"}
            marker["line"] = {"color": "#fff", "width": 1}
            data.append(
                points
                | {
                    "type": "scatter",
                    "mode": "markers",
                    "x": [r[metric] for r in rows],
                    "y": [i + offset for i in positions],
                    "name": METRICS[metric],
                    "legendgroup": metric,
                    "showlegend": False,
                    "cliponaxis": False,
                    "marker": marker
                    | {
                        "color": [color if r["_reliable"] else MUTED for r in rows],
                        "opacity": [1.0 if a else FADED for a in active],
                    },
                }
            )
            # The legend's entry, drawn apart: a legend takes its colour from the first point, which may be greyed.
            legend = {"type": "scatter", "mode": "markers", "x": [None], "y": [None], "name": METRICS[metric]}
            data.append(legend | {"legendgroup": metric, "marker": marker | {"color": color}, "hoverinfo": "skip"})
        return {"data": data, "layout": self._layout(rows, labels, overall, lo, hi, groups, total_groups)}

    def _bands(self, rows: list[dict[str, Any]], active: list[bool], overall: dict[str, Any]) -> list[str]:
        """Each row's background: blue for the groups this view filters to, else red as deep as the group is below
        the overall value of the first metric (only for groups with enough rows to trust)."""
        first = self.props.metrics[0]
        filtering = not all(active)
        bands = []
        for r, chosen in zip(rows, active, strict=True):
            gap = overall[first] - r[first]
            if filtering and chosen:
                bands.append(CHOSEN_BAND)
            elif not filtering and r["_reliable"] and gap > 1e-9:
                bands.append(f"rgba{(*WORSE, round(0.05 + 0.25 * min(1.0, gap / FULL_RED), 3))}")
            else:
                bands.append("rgba(0, 0, 0, 0)")
        return bands

    def _layout(
        self,
        rows: list[dict[str, Any]],
        labels: list[str],
        overall: dict[str, Any],
        lo: float,
        hi: float,
        groups: list[str],
        total_groups: int,
    ) -> dict[str, Any]:
        first = self.props.metrics[0]
        counts = [
            {
                "xref": "paper",
                "yref": "y",
                "x": 1,
                "y": i,
                "xanchor": "left",
                "xshift": 6,
                "showarrow": False,
                "text": f"n={r['count']:,}",
                "font": {"size": 11, "color": "#52606d" if r["_reliable"] else MUTED},
            }
            for i, r in enumerate(rows)
        ]
        reference = {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": overall[first],
            "x1": overall[first],
            "y0": 0,
            "y1": 1,
            "line": {"color": "#52606d", "width": 1.5, "dash": "dot"},
        }
        layout = style.base_layout(
            uirevision="group_metrics",
            margin={"l": 8, "r": 64, "t": 28, "b": 36},
            hovermode="closest",
            hoverlabel={"bgcolor": "#fff", "align": "left"},
            dragmode=False,
            showlegend=True,
            legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom", "font": {"size": 11}},
            shapes=[reference],
            annotations=counts,
        )
        layout["xaxis"] |= {
            "range": [lo, hi],
            "tickformat": ".2f",
            "fixedrange": True,
            "title": {
                "text": f"dotted line: {METRICS[first]} of every row the filter passes = {overall[first]:.3f}",
                "font": {"size": 11, "color": "#52606d"},
                "standoff": 4,
            },
        }
        title = " × ".join(groups)
        if total_groups > len(rows):
            title += f" (worst {len(rows)} of {total_groups})"
        layout["yaxis"] |= {
            "tickvals": list(range(len(rows))),
            "ticktext": [
                name if r["_reliable"] else f"<span style='color:{MUTED}'>{name}</span>"
                for name, r in zip(labels, rows, strict=True)
            ],
            "range": [len(rows) - 0.5, -0.5],
            "showgrid": False,
            "automargin": True,
            "fixedrange": True,
            "title": {"text": title, "standoff": 6},
        }
        return layout

    def _hover(self, name: str, row: dict[str, Any], overall: dict[str, Any]) -> str:
        lines = [f"<b>{name}</b>", f"{row['count']:,} instances"]
        if not row["_reliable"]:
            lines.append(f"<i>fewer than {self.props.min_count} instances: unreliable</i>")
        lines += [f"{METRICS[m]}: {row[m]:.3f} (overall {overall[m]:.3f})" for m in self.props.metrics]
        return "<br>".join(lines)

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        if value is None:
            return dash.no_update  # the graph was mounted again: keep the clause
        points = value.get("points") if isinstance(value, dict) else None
        if not isinstance(points, list) or not points or not isinstance(points[0], dict):
            raise ValueError("a click must hold a point")
        key = points[0].get("customdata")
        if self.comparing_slices(view):
            if not isinstance(key, list) or len(key) != 1:
                raise ValueError("the clicked point does not name a saved slice")
            picked = self._slice_clause(key[0])
            if picked is None:
                return dash.no_update  # a slice no single clause can hold: the Slices menu applies it
            return None if view.own == picked else picked
        groups = self.groups(view)
        if not groups:
            return dash.no_update  # the single "all" row has nothing to filter by
        if not isinstance(key, list) or len(key) != len(groups):
            raise ValueError("the clicked point does not name a group of the current group-by")
        column, picked = groups[0], key[0]
        own = view.own if view.own is not None and view.own.column == column else None
        if picked is None:
            if own is not None and own.op == "is_null":
                return None
            return self.clause("is_null", column=column, value=True)
        chosen = list(own.value) if own is not None and own.op == "in" else []
        # A click toggles its group in or out of the chosen ones.
        chosen = [v for v in chosen if v != picked] if picked in chosen else [*chosen, picked]
        return self.clause("in", column=column, value=chosen) if chosen else None


def _group_label(key: list[Any]) -> str:
    if not key:
        return ALL
    return " · ".join(MISSING if v is None else html_text.escape(str(v)) for v in key)


def _message(text: str) -> dict[str, Any]:
    """An empty figure that says why it is empty."""
    layout = style.base_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[{"text": text, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}],
    )
    return {"data": [], "layout": layout}
