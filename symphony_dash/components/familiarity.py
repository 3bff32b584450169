"""familiarity: the instances from least to most typical, under a histogram of the score; optionally per class.

The score (from :func:`symphony_dash.analyses.familiarity`) is a rank rescaled to ``[0, 1]``, so over every row its
histogram is flat by construction; over a filtered subset (one class, a split) it is not, and the filtered bars over
the grey bars of every row show where the subset is unusual. The histogram is the histogram component's (brushing
it filters the other views); the instances are the gallery's thumbnails or text cards, and clicking them selects
them in the same way (the gallery's browser function turns clicks into one event).

Per class, each row of the strip holds the least typical few of one class, with the share of that class's filtered
instances below ``low``; the classes with the largest share come first, so the classes with odd members stand out.
A group-by in the toolbar takes the place of the class: one row per group.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import dash
import polars as pl
from dash import dcc, html
from pydantic import Field

from ..component import Clientside, Column, Component, Event, Props, Slot, View
from ..dataset import Dataset, DatasetError
from ..engine import Query
from ..registry import register
from ..state import Clause
from . import style
from .gallery import MAX_PAGE_SIZE, PICK, Gallery, GalleryProps, parse_pick, short_value
from .histogram import Histogram, HistogramProps

__all__ = ["Familiarity"]

PER_CLASS = "per-class"  # the value of the per-class toggle when it is on
# The pager's "page", which the gallery's browser function copies into every pick, names the arrangement drawn, so a
# pick maps its positions to the instances the person saw, whatever the toggle shows by the time it arrives.
STRIP, ROWS = 1, 2
GRAPH_STYLE = {"height": "104px", "flex": "none"}  # compact: the instances are what the view is for
MAX_PER_CLASS = 12


@dataclass
class _Row:
    """One row of the strip: the least typical instances of one class (``key``), or of every instance."""

    key: Any
    items: list[dict[str, Any]]
    total: int = 0
    low: int = 0

    @property
    def share(self) -> float:
        return self.low / self.total if self.total else 0.0


class FamiliarityProps(Props):
    """The settings of a familiarity view: the score, how many instances and whether to split them per class."""

    score: str = Column(
        "familiarity",
        description="The familiarity column, 0 (least typical) to 1 (`symphony-dash analyze --familiarity` adds it).",
    )
    count: int = Field(24, ge=1, le=MAX_PAGE_SIZE, description="How many instances the strip shows.")
    per_class: bool = Field(False, description="Start with one row per class (a toggle in the view switches it).")
    per_class_count: int = Field(8, ge=1, le=MAX_PER_CLASS, description="How many instances each class's row shows.")
    class_column: str | None = Column(None, description="The class of each instance; defaults to the label column.")
    ascending: bool = Field(True, description="Least typical first; false shows the most typical first.")
    low: float = Field(
        0.05, gt=0, lt=1, description="Below this score an instance counts as unusual (per-class share)."
    )
    bins: int = Field(20, ge=5, le=100, description="How many bins the histogram of the score has.")


@register
class Familiarity(Component):
    """A brushable histogram of the familiarity score over the instances ranked least typical first."""

    type = "familiarity"
    name = "Familiarity"
    description = (
        "How typical each instance is of the data (0 = least). The score is a rank, so over every row its histogram "
        "is flat; under a filter it shows where a subset is unusual. Brush it to filter the other views. The "
        "instances below are ranked least typical first: click one to select it. 'Per class' shows the odd ones of "
        "each class, the classes with most of them first; a group-by shows one row per group instead."
    )
    Props = FamiliarityProps
    outputs = (
        Slot("graph", "figure"),
        Slot("strip", "options"),
        Slot("strip", "className"),
        Slot("strip", "style"),
        Slot("pager", "data"),
        Slot("status", "children"),
        Slot("select", "children"),
    )
    inputs = (Slot("toggle", "value"),)
    inspect = (Slot("pick", "data"),)
    events = {
        "click": Event(Slot("graph", "clickData")),
        "brush": Event(Slot("graph", "selectedData")),
        "pick": Event(Slot("pick", "data"), "selection"),
    }
    clientside = (
        Clientside(
            function=PICK,
            inputs=(Slot("strip", "value"), Slot("select", "n_clicks")),
            output=Slot("pick", "data"),
            state=(Slot("pick", "data"), Slot("pager", "data")),
        ),
    )

    def __init__(self, component_id: str, props: FamiliarityProps, dataset: Dataset) -> None:
        super().__init__(component_id, props, dataset)
        # The histogram and the gallery draw their parts: under this component's id, so their clauses are its own.
        self.histogram = Histogram(component_id, HistogramProps(column=props.score, bins=props.bins), dataset)
        self.tiles = Gallery(component_id, GalleryProps(), dataset)

    def layout(self) -> html.Div:
        toggle = dcc.Checklist(
            id=self.id("toggle"),
            options=[{"label": "Per class", "value": PER_CLASS}],
            value=[PER_CLASS] if self.props.per_class else [],
            className="symphony-familiarity-toggle",
        )
        bar = html.Div(
            [
                html.Span(id=self.id("status"), className="symphony-gallery-status symphony-familiarity-status"),
                toggle,
                html.Button("Select these", id=self.id("select"), className="symphony-gallery-select"),
            ],
            className="symphony-gallery-bar",
        )
        graph = dcc.Graph(
            id=self.id("graph"), config=style.GRAPH_CONFIG, className="symphony-familiarity-graph", style=GRAPH_STYLE
        )
        strip = dcc.Checklist(id=self.id("strip"), options=[], value=[], className="symphony-gallery-grid")
        stores = [dcc.Store(id=self.id("pager"), data={}), dcc.Store(id=self.id("pick"), data={})]
        return html.Div([graph, bar, strip, *stores], className="symphony-familiarity-wrap")

    # -- columns ------------------------------------------------------------------------------------------------

    @property
    def score(self) -> str:
        column = self.props.score
        if self.dataset.column(column, what="score column").kind != "numeric":
            raise DatasetError(f"familiarity: the score column {column!r} is not numeric")
        return column

    @property
    def media(self) -> tuple[str, str]:
        """What each tile shows, as in the gallery; with no image, audio or text column, a card with the id."""
        try:
            return self.tiles.media
        except DatasetError:
            return "text", self.dataset.id_column

    def _row_key(self, view: View, per_class: bool) -> str | None:
        """The column the strip is split by: the group-by (first), else the class when per class is on."""
        group = next((g for g in view.state.group_by if g != self.props.score), None)
        if group is not None:
            return group
        return self.resolve("class_column", "label") if per_class else None

    # -- render -------------------------------------------------------------------------------------------------

    def render(self, view: View) -> tuple[Any, ...]:
        score = self.score
        kind, media = self.media
        toggle = view.inputs.get("toggle.value")
        per_class = isinstance(toggle, list) and PER_CLASS in toggle
        key = self._row_key(view, per_class)
        rows = self._rows(view, key, [media, *self.tiles.tooltip_columns()])
        selected = set(view.selected_ids())
        slots = _slots(rows, key is not None)
        drawn = self._drawn(slots)
        # A header counts as ticked: "Select these" then turns on the tiles, or off once they all are.
        ticked = [p for p, i in enumerate(drawn) if i is None or i in selected]
        options: list[dict[str, Any]] = []
        for position, (row, item) in enumerate(slots):
            if item is None:
                options.append({"label": self._head(row, key), "value": position, "disabled": True})
                continue
            tooltip = self.tiles.tooltip(item, kind, media) + f"\n{score}: {short_value(item[score])}"
            tile = self._tile(item, kind, media, view, position in ticked)
            options.append({"label": tile, "value": position, "title": tooltip})
        items = [item for row in rows for item in row.items]
        pixelated = kind == "image" and self.tiles.is_tiny(items, media)
        class_name = f"symphony-gallery-grid {kind} symphony-familiarity-strip" + (" pixelated" if pixelated else "")
        # Per class, a header column and then one column per tile: a thumbnail's width, or a card's.
        tile_width = "minmax(160px, 1fr)" if kind == "text" else "78px"
        grid_style = {"gridTemplateColumns": f"140px repeat({self.props.per_class_count}, {tile_width})"} if key else {}
        token = json.dumps([key, drawn, ticked], default=str).encode()
        pager = {
            "page": ROWS if per_class else STRIP,
            "gen": hashlib.sha1(token).hexdigest()[:12],
            "size": len(drawn),
            "ticked": ticked,
        }
        tiles = [i for i in drawn if i is not None]
        return (
            self._figure(view),
            options,
            class_name,
            grid_style,
            pager,
            self._status(view, key, rows),
            "Unselect these" if tiles and all(i in selected for i in tiles) else "Select these",
        )

    def _strip_query(self, view: View) -> Query:
        """The strip shows the instances inside this view's own brush too: brushing a band ranks that band."""
        return view.where(view.own) if view.own is not None else view.data

    def _rows(self, view: View, key: str | None, columns: list[str]) -> list[_Row]:
        p, score, id_col = self.props, self.score, self.dataset.id_column
        columns = list(dict.fromkeys([id_col, score, *columns, *([key] if key else [])]))
        strip = self._strip_query(view)
        if key is None:
            items = strip.rows(columns, sort=[(score, not p.ascending)], limit=p.count).to_dicts()
            return [_Row(None, items)]
        # The share of unusual instances per class is over the filter without the brush: the brush only picks which.
        counts = (
            view.data.frame([key, score])
            .group_by(key)
            .agg(pl.len().alias("total"), (pl.col(score) < p.low).sum().alias("low"))
        )
        ranked = (
            strip.frame(columns)
            .lazy()
            .sort(score, descending=not p.ascending, nulls_last=True, maintain_order=True)
            .group_by(key, maintain_order=True)
            .head(p.per_class_count)
            .collect()
        )
        items: dict[Any, list[dict[str, Any]]] = {}
        for item in ranked.to_dicts():
            items.setdefault(item[key], []).append(item)
        rows = [_Row(k, items.get(k, []), total, low) for k, total, low in counts.iter_rows()]
        order = self._order(key)
        rows.sort(key=lambda r: (-r.share, order.get(r.key, len(order)), str(r.key)))
        # The strip is one checklist, which Dash virtualises from 100 options on: show the classes that fit.
        return rows[: MAX_PAGE_SIZE // (p.per_class_count + 1)]

    def _order(self, column: str) -> dict[Any, int]:
        """The position of each value of a column: its category order, else its sorted order."""
        if self.dataset.column(column).kind == "categorical":
            values = self.dataset.categories(column)
        else:
            values = self.dataset.frame[column].drop_nulls().unique().sort().to_list()
        return {v: i for i, v in enumerate(values)}

    def _tile(self, item: dict[str, Any], kind: str, media: str, view: View, selected: bool) -> html.Div:
        tile = self.tiles.tile(item, kind, media, view, selected)
        tile.children.append(html.Div(short_value(item[self.props.score]), className="symphony-familiarity-score"))
        return tile

    def _head(self, row: _Row, key: str) -> html.Div:
        """A row's header: the class, how many of its instances are unusual, and that share as a bar."""
        value = "(missing)" if row.key is None else str(row.key)
        return html.Div(
            [
                html.Div([html.Span(key, className="name"), " ", html.B(value)], className="class"),
                html.Div(f"{row.low:,} of {row.total:,} below {self.props.low:g}", className="share"),
                html.Div(
                    html.Div(style={"width": f"{min(100.0, 100 * row.share):.1f}%"}),
                    className="meter",
                    title=f"{100 * row.share:.1f}% of the filtered instances of {key} {value}",
                ),
            ],
            className="symphony-familiarity-head",
        )

    def _status(self, view: View, key: str | None, rows: list[_Row]) -> str:
        order = "least" if self.props.ascending else "most"
        total = self._strip_query(view).count()
        if not total:
            return "No instances match the filter"
        if key is None:
            return f"The {len(rows[0].items)} {order} typical of {total:,}"
        how = "group" if key in view.state.group_by else "class"
        return f"The {order} typical of each {how} ({key}), most below {self.props.low:g} first"

    def _figure(self, view: View) -> dict[str, Any]:
        figure = self.histogram.render(view)
        layout = figure["layout"]
        # Room at the top for the legend of a group-by only: the instances are what the view is for.
        layout["margin"] = {"l": 40, "r": 14, "t": 22 if layout["showlegend"] else 4, "b": 24}
        layout["legend"] |= {"font": {"size": 11}}
        layout["xaxis"] |= {"title": {"text": ""}}
        layout["yaxis"] |= {"title": {"text": ""}, "nticks": 3}
        # The threshold of the per-class share, so the two read together.
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "x",
                "yref": "y domain",
                "x0": self.props.low,
                "x1": self.props.low,
                "y0": 0,
                "y1": 1,
                "line": {"color": style.SELECTED, "width": 1, "dash": "dot"},
            }
        ]
        return figure

    # -- events -------------------------------------------------------------------------------------------------

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        if name != "pick":
            return self.histogram.on_event(name, value, view)
        drawn, want = self._picked(value, view)
        # Positions past the end of the strip were not drawn, and headers are not instances: neither was a tile.
        wanted = {drawn[p]: on for p, on in want.items() if p < len(drawn) and drawn[p] is not None}
        before = view.selected_ids()
        chosen = set(before)
        after = [i for i in before if wanted.get(i, True)] + [i for i, on in wanted.items() if on and i not in chosen]
        if set(after) == chosen:
            return dash.no_update
        return self.clause("ids", value=after) if after else None

    def on_inspect(self, name: str, value: Any, view: View) -> Any:
        drawn, _ = self._picked(value, view)
        last = value.get("last")
        if type(last) is not int:
            return None  # "Select these": no one instance to show
        return drawn[last] if 0 <= last < len(drawn) else None

    def _picked(self, value: Any, view: View) -> tuple[list[Any], dict[int, bool]]:
        """The id at each position of the strip a pick was made on (``None`` at a header), and what the pick wants."""
        page, want = parse_pick(value)
        if page not in (STRIP, ROWS):
            raise ValueError(f"a familiarity pick names the strip ({STRIP}) or the rows per class ({ROWS}), not {page}")
        key = self._row_key(view, page == ROWS)
        return self._drawn(_slots(self._rows(view, key, []), key is not None)), want

    def _drawn(self, slots: list[tuple[_Row, dict[str, Any] | None]]) -> list[Any]:
        return [None if item is None else item[self.dataset.id_column] for _, item in slots]


def _slots(rows: list[_Row], headed: bool) -> list[tuple[_Row, dict[str, Any] | None]]:
    """The strip's options in order: each row's header (no item) when split per class, then the row's items.

    An option's value is its position, as in the gallery: Dash mounts an option's label at a path named by its value,
    so a value that moved to another position between two renders would leave its new label unmounted.
    """
    return [(row, item) for row in rows for item in [*([None] if headed else []), *row.items]]
