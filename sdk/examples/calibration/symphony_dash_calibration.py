"""calibration: a reliability diagram. Is the model as sure as it is right? Click a bin to filter by its confidence."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl
from dash import dcc
from pydantic import Field

from symphony_dash import Clause, Column, Component, Event, Props, Slot, View
from symphony_dash.components import style

__all__ = ["Calibration"]

# The shares of right predictions sit in the upper part of the figure, the rows per bin in the lower.
CURVE_DOMAIN = [0.3, 1.0]
COUNT_DOMAIN = [0.0, 0.2]


class CalibrationProps(Props):
    """The settings of a calibration component."""

    confidence: str = Column("confidence", description="The model's confidence in its prediction, from 0 to 1.")
    correct: str = Column("correct", description="Whether the prediction is right: true or false (or 1 or 0).")
    per_class: str | None = Column(
        None, description="Draw one curve per value of this column (such as label), for its 10 most frequent values."
    )
    bins: int = Field(10, ge=2, le=50, description="How many bins of equal width between 0 and 1.")
    min_rows: int = Field(3, ge=1, description="Leave out of the curves the bins of fewer rows than this.")


class Calibration(Component):
    """A reliability diagram: per confidence bin, the share of right predictions against the mean confidence."""

    type = "calibration"
    name = "Calibration"
    description = (
        "Per bin of the model's confidence, the share of right predictions: a calibrated model follows the diagonal. "
        "Click a point or a bar to filter the other views by that bin; click it again to clear."
    )
    api_version = 1
    Props = CalibrationProps
    outputs = (Slot("graph", "figure"),)
    events = {"click": Event(Slot("graph", "clickData"))}

    def layout(self) -> dcc.Graph:
        return dcc.Graph(id=self.id("graph"), config=style.GRAPH_CONFIG, style={"height": "100%"})

    def render(self, view: View) -> dict[str, Any]:
        p = self.props
        edges = np.round(np.linspace(0.0, 1.0, p.bins + 1), 10)  # 0.3, not 0.30000000000000004, in the chip
        by = [p.per_class] if p.per_class else []
        rows = self._binned(view.frame([p.confidence, p.correct, *by]))
        overall = self._stats(rows, [])
        everything = self._stats(self._binned(view.all.frame([p.confidence, p.correct])), [])
        chosen = view.own.value if view.own is not None and view.own.op == "range" else None
        data = [_diagonal()]
        if p.per_class:
            # The most frequent classes of all rows, so a class keeps its colour while the filter changes.
            top = view.all.value_counts(p.per_class, limit=len(style.PALETTE)).drop_nulls("value")["value"]
            per_class = self._stats(rows.filter(pl.col(p.per_class).is_in(top.implode())), [p.per_class])
            for i, value in enumerate(sorted(top.to_list())):
                group = per_class.filter(pl.col(p.per_class) == value)
                data.append(self._curve(group, edges, f"{p.per_class} {value}", style.PALETTE[i], width=1.5))
        data.append(self._curve(overall, edges, "all classes" if p.per_class else "rows shown", "#1f2933", width=3))
        data += self._counts(overall, everything, edges, chosen)
        return {"data": data, "layout": self._layout(overall, int(everything["rows"].max() or 1), chosen)}

    def _binned(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows with their bin (a confidence of 1 goes in the last) and whether they are right, as 1.0 or 0.0."""
        p = self.props
        return frame.drop_nulls([p.confidence, p.correct]).with_columns(
            bin=(pl.col(p.confidence) * p.bins).floor().clip(0, p.bins - 1).cast(pl.Int32),
            right=pl.col(p.correct).cast(pl.Float64),
        )

    def _stats(self, rows: pl.DataFrame, by: list[str]) -> pl.DataFrame:
        """Per bin (and group): the mean confidence, the share of right predictions and the number of rows."""
        mean_confidence = pl.col(self.props.confidence).mean()
        return rows.group_by(["bin", *by]).agg(confidence=mean_confidence, right=pl.col("right").mean(), rows=pl.len())

    def _curve(self, stats: pl.DataFrame, edges: np.ndarray, name: str, color: str, width: float) -> dict[str, Any]:
        stats = stats.filter(pl.col("rows") >= self.props.min_rows).sort("bin")
        bins = stats["bin"].to_numpy()
        return {
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "x": stats["confidence"].to_numpy(),
            "y": stats["right"].to_numpy(),
            "customdata": [[edges[b], edges[b + 1]] for b in bins],  # the bin's range: what a click filters by
            "text": stats["rows"].to_list(),
            "line": {"color": color, "width": width},
            "marker": {"color": color, "size": 4 + width * 2},
            "hovertemplate": f"{name}<br>confidence %{{x:.2f}}: %{{y:.0%}} right of %{{text:,}} rows<extra></extra>",
        }

    def _counts(
        self, overall: pl.DataFrame, everything: pl.DataFrame, edges: np.ndarray, chosen: list[float] | None
    ) -> list[dict[str, Any]]:
        """The rows per bin, filtered over all in grey, on the lower axis; a bar is a wide target for a click."""
        p = self.props
        centres = (edges[:-1] + edges[1:]) / 2
        shown = np.zeros(p.bins, dtype=np.int64)
        shown[overall["bin"].to_numpy()] = overall["rows"].to_numpy()
        total = np.zeros(p.bins, dtype=np.int64)
        total[everything["bin"].to_numpy()] = everything["rows"].to_numpy()
        colors = [style.ACCENT if chosen is None or chosen[0] <= c <= chosen[1] else style.INACTIVE for c in centres]
        # Bars from 1 up on the log axis: from 0, the default, they would reach far below the axis, out of sight.
        bars = {"type": "bar", "x": centres, "width": 1 / p.bins * 0.9, "yaxis": "y2", "base": 1, "showlegend": False}
        return [
            bars | {"y": np.maximum(total, 1) - 1, "marker": {"color": style.UNFILTERED}, "hoverinfo": "skip"},
            bars
            | {
                "y": np.maximum(shown, 1) - 1,
                "name": "rows",
                "text": shown,
                "textposition": "none",
                "customdata": [list(pair) for pair in pairwise(edges)],
                "marker": {"color": colors},
                "hovertemplate": "confidence %{customdata[0]}–%{customdata[1]}: %{text:,} rows<extra></extra>",
            },
        ]

    def _layout(self, overall: pl.DataFrame, most: int, chosen: list[float] | None) -> dict[str, Any]:
        n = int(overall["rows"].sum())
        # The expected calibration error: the gap between confidence and accuracy, averaged over the rows.
        ece = float((overall["rows"] * (overall["right"] - overall["confidence"]).abs()).sum() / n) if n else 0.0
        layout = style.base_layout(
            barmode="overlay",
            showlegend=bool(self.props.per_class),
            legend={"y": CURVE_DOMAIN[1], "yanchor": "top", "font": {"size": 10}, "tracegroupgap": 0},
            annotations=[
                {
                    "text": f"ECE {ece:.3f} over {n:,} rows",
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.99,
                    "y": CURVE_DOMAIN[0] + 0.02,
                    "xanchor": "right",
                    "yanchor": "bottom",
                    "showarrow": False,
                    "font": {"size": 11, "color": "#52606d"},
                }
            ],
            shapes=[_band(*chosen)] if chosen else [],
        )
        layout["xaxis"] |= {"range": [0, 1], "anchor": "y2", "title": {"text": self.props.confidence}}
        layout["yaxis"] |= {"range": [0, 1.04], "domain": CURVE_DOMAIN, "tickformat": ".0%", "title": {"text": "right"}}
        # Counts on a log axis with ticks at powers of ten: a bin of 20 rows stays visible beside one of 1,500.
        top = math.log10(max(most, 10)) + 0.1
        layout["yaxis2"] = layout["yaxis"] | {"domain": COUNT_DOMAIN, "type": "log", "range": [0, top], "dtick": 1}
        layout["yaxis2"] |= {"anchor": "x", "title": {"text": "rows"}, "tickformat": "~s"}
        return layout

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        clause = self.points_clause(value, self.props.confidence)
        return None if clause == view.own else clause  # a click on the chosen bin clears it


def _diagonal() -> dict[str, Any]:
    """Where a calibrated model's points lie: as often right as it is sure."""
    line = {"color": "#9aa5b1", "width": 1, "dash": "dot"}
    return {"type": "scatter", "mode": "lines", "x": [0, 1], "y": [0, 1], "line": line, "showlegend": False} | {
        "hoverinfo": "skip"
    }


def _band(low: float, high: float) -> dict[str, Any]:
    """The chosen bin, shaded across both axes."""
    return {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": low,
        "x1": high,
        "y0": 0,
        "y1": 1,
        "fillcolor": "rgba(47, 111, 223, 0.08)",
        "line": {"width": 0},
        "layer": "below",
    }
