"""slice_finder: the slices of the filtered data where the model is wrong most often; click one to filter to it.

The slices and their score are defined in :mod:`symphony_dash.analyses.slices`: one or two conditions on categorical
values or quantile bins, ranked by how surely their error rate exceeds the overall one. The list follows the filter of
the other views (not its own clause, so it stays put while one of its slices is chosen).

A click on a slice makes one ``all`` clause of its conditions; a click on the chosen slice removes it. The rows are
the options of one ``dcc.Checklist``, as in the gallery, so a click is an ordinary Dash event: a small browser
function turns the changed option into ``{"pos", "gen"}``, the position clicked and a token of the list drawn. The
server finds the slices again for the same state and acts only if the token still matches, so a click on a list that
a new filter has since replaced does nothing rather than filter to another slice.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import dash
import pandas as pd
from dash import dcc, html
from pydantic import Field

from ..analyses.slices import slices_of
from ..component import Clientside, Column, Component, Event, Props, Slot, View
from ..registry import register
from ..state import Clause, all_of, describe

__all__ = ["SliceFinder", "SliceFinderProps"]

MAX_TOP = 50  # below Dash's 100 options, past which a checklist becomes a virtualised list

# The position whose option changed (a click toggles it in or out of the checklist's value) and the list's token.
PICK = """
function (value, last, drawn) {
    const noUpdate = window.dash_clientside.no_update;
    const now = value || [], before = (last && last.value) || [];
    const flipped = now.filter(v => !before.includes(v)).concat(before.filter(v => !now.includes(v)));
    if (!drawn || !drawn.gen || !flipped.length) { return noUpdate; }
    return {value: now, pos: flipped[0], gen: drawn.gen};
}
"""


class SliceFinderProps(Props):
    """The settings of ``slice_finder``: what to slice by, what counts as an error, and how many slices to show."""

    columns: list[str] | None = Column(
        None,
        description=(
            "The columns to slice by; by default every categorical and numeric column but the id, prediction, score, "
            "embedding, x, y and error columns."
        ),
    )
    error_column: str | None = Column(None, description="A true/false column, true where the model is wrong.")
    correct_column: str | None = Column(
        None, description="A true/false column, true where the model is right (default: label != prediction)."
    )
    max_order: int = Field(2, ge=1, le=2, description="Slices of up to this many conditions.")
    bins: int = Field(4, ge=2, le=10, description="How many quantile bins cut a numeric column.")
    min_size: int = Field(20, ge=1, description="Slices of fewer instances are not shown.")
    top: int = Field(15, ge=1, le=MAX_TOP, description="Show at most this many slices, the worst first.")


@register
class SliceFinder(Component):
    """The worst slices of the filtered data, ranked; a click filters the other views to one."""

    type = "slice_finder"
    name = "Slice finder"
    description = (
        "Groups of instances, named by one or two conditions, where the model is wrong more often than overall; "
        "the score is how many points worse at least (the low end of a 95% interval). Numbers are cut into "
        "quartiles. Click a slice to filter to it, click it again to clear."
    )
    Props = SliceFinderProps
    outputs = (Slot("list", "options"), Slot("status", "children"), Slot("drawn", "data"))
    events = {"pick": Event(Slot("pick", "data"))}
    clientside = (
        Clientside(
            function=PICK,
            inputs=(Slot("list", "value"),),
            output=Slot("pick", "data"),
            state=(Slot("pick", "data"), Slot("drawn", "data")),
        ),
    )

    def layout(self) -> html.Div:
        head = html.Div(
            [
                html.Span("slice"),
                html.Span(
                    ["error rate ", html.Span(className="tick"), " overall"],
                    title="The slice's share of wrong predictions; the tick on each bar is the overall rate",
                ),
                html.Span("n", title="Instances in the slice"),
                html.Span("score", title="At least this many points worse than overall (95% Wilson interval)"),
            ],
            className="symphony-slices-head",
        )
        return html.Div(
            [
                html.Div(id=self.id("status"), className="symphony-slices-status"),
                head,
                dcc.Checklist(id=self.id("list"), options=[], value=[], className="symphony-slices-list"),
                dcc.Store(id=self.id("drawn"), data={}),
                dcc.Store(id=self.id("pick"), data={}),
            ],
            className="symphony-slices",
        )

    def slices(self, view: View) -> pd.DataFrame:
        """The slices of this view's rows, best first."""
        p = self.props
        return slices_of(
            view.engine,
            view.engine.mask(view.filter),
            error=p.error_column,
            correct=p.correct_column,
            columns=p.columns,
            max_order=p.max_order,
            bins=p.bins,
            min_size=p.min_size,
            top=p.top,
        )

    def render(self, view: View) -> tuple[list[dict[str, Any]], Any, dict[str, Any]]:
        table = self.slices(view)
        overall, rows, errors = (table.attrs[k] for k in ("overall_error_rate", "rows", "errors"))
        clauses = [self._clause(c) for c in table["conditions"]]
        # The bars share one scale, the worst slice's rate, so the gap to the overall tick reads at a glance.
        scale = max([overall, *table["error_rate"]]) or 1.0
        options = [
            {"label": _row(i, r, overall, scale, _same(view.own, clause)), "value": i}
            for i, (r, clause) in enumerate(zip(table.itertuples(), clauses, strict=True))
        ]
        if not rows:
            status: Any = "No instances with a known error pass the filter."
        else:
            found = (
                f"{len(table)} slice{'s' if len(table) != 1 else ''} worse than that, worst first"
                if len(table)
                else f"no slice of {self.props.min_size}+ instances is clearly worse"
            )
            status = [html.B(f"{overall:.1%}"), f" wrong overall ({errors:,} of {rows:,}) · {found}"]
        return options, status, {"gen": _token(clauses)}

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        if not isinstance(value, dict) or type(value.get("pos")) is not int or not isinstance(value.get("gen"), str):
            raise ValueError("a slice pick must be {pos: a position, gen: the list's token}")
        clauses = [self._clause(c) for c in self.slices(view)["conditions"]]
        pos = value["pos"]
        if value["gen"] != _token(clauses) or not 0 <= pos < len(clauses):
            return dash.no_update  # a click on a list drawn for another state
        picked = clauses[pos]
        return None if _same(view.own, picked) else picked

    def _clause(self, conditions: list[dict[str, Any]]) -> Clause:
        return self.clause("all", value=conditions)


def _same(own: Clause | None, clause: Clause) -> bool:
    """Whether the own clause is this slice; compared as values, since the browser sends a range's 1.0 back as 1."""
    return own is not None and own.op == "all" and own.value == clause.value


def _token(clauses: list[Clause]) -> str:
    return hashlib.sha1(json.dumps([c.key() for c in clauses]).encode()).hexdigest()[:12]


def _row(i: int, r: Any, overall: float, scale: float, active: bool) -> html.Div:
    """One slice: its conditions, its error rate as a bar against the overall tick, its size and score."""
    words: list[Any] = []
    for part in r.conditions:
        words += [html.Span(" and ", className="and")] if words else []
        words.append(html.Span(describe(all_of([Clause(**part)]))))
    title = (
        f"{r.slice}\n{r.errors:,} of {r.size:,} wrong ({r.error_rate:.1%}; overall {overall:.1%})\n"
        f"score: at least {r.score * 100:.1f} points worse than overall (95% interval)"
    )
    return html.Div(
        [
            html.Span(f"{i + 1}", className="rank"),
            html.Span(words, className="text"),
            html.Span(
                [
                    html.Span(className="fill", style={"width": f"{100 * r.error_rate / scale:.1f}%"}),
                    html.Span(className="overall", style={"left": f"{100 * overall / scale:.1f}%"}),
                ],
                className="bar",
            ),
            html.Span(f"{r.error_rate:.1%}", className="rate"),
            html.Span(f"{r.size:,}", className="size"),
            html.Span(f"+{r.score * 100:.1f}" if r.score >= 0.0005 else "+<0.1", className="score"),
        ],
        className="symphony-slice" + (" active" if active else ""),
        title=title,
    )
