"""duplicates: groups of exact and near-duplicate instances, largest first, and the groups that cross a split.

The groups come from the columns the analyses add (:func:`~symphony_dash.analyses.exact_duplicates` writes
``duplicate_group``, :func:`~symphony_dash.analyses.near_duplicates` writes ``near_duplicate_group``): rows sharing a
group id are duplicates of each other, ``-1`` (or a missing value) marks a row with none.

What the counts mean, always over the rows that pass the filter (a histogram click elsewhere narrows the groups):

- a **group** counts when at least two of its members pass the filter, and its **rows** are those members;
- a group **crosses** a group-by column of the toolbar (such as ``split``) when its members that pass the filter hold
  more than one value of it: the same instance in train and in test is leakage. Such groups come first.

Each group shows its members side by side (thumbnails when the dataset has an image column, else compact cards) and a
"Select group" button that makes the group the shared selection, as an ``eq`` clause on the group column.

The buttons are part of the skeleton, one per place on a page, so a click is an ordinary event with a static id; which
group a place shows is written by ``render`` into the pager store, and read back (and checked) when it is clicked.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any, Literal

import polars as pl
from dash import dcc, html
from pydantic import Field

from ..component import Column, Component, Event, Props, Slot, View
from ..dataset import DatasetError
from ..detail import media_view
from ..engine import Query
from ..registry import register
from ..state import Clause
from . import style
from .gallery import requested_page, short_value

__all__ = ["Duplicates"]

Kind = Literal["exact", "near"]
# The analyses' column names, used when the layout names none.
GROUP_COLUMNS: dict[str, str] = {"exact": "duplicate_group", "near": "near_duplicate_group"}
MAX_GROUPS = 12  # places for groups on one page: each has its own static "Select group" button
MISSING = "(missing)"
_SIZE, _CROSSES = "__symphony_size", "__symphony_crosses"


class DuplicatesProps(Props):
    """The settings of the duplicates view: its group columns, which kind it shows first and how much per page."""

    exact: str | None = Column(
        None, description="The exact-duplicate group column (-1 for none); defaults to 'duplicate_group' if present."
    )
    near: str | None = Column(
        None,
        description="The near-duplicate group column (-1 for none); defaults to 'near_duplicate_group' if present.",
    )
    show: Literal["auto", "exact", "near"] = Field(
        "auto", description="The kind shown first; 'auto' shows exact duplicates when there are any, else near ones."
    )
    groups_per_page: int = Field(6, ge=1, le=MAX_GROUPS, description="How many groups one page shows.")
    members_shown: int = Field(8, ge=2, le=50, description="At most this many members drawn per group.")
    image: str | None = Column(None, description="The column of image paths; defaults to the dataset's image column.")
    text: str | None = Column(None, description="A text column shown on the cards when there is no image column.")


@register
class Duplicates(Component):
    """Exact and near-duplicate groups of the filtered instances, those crossing a split first; select a group."""

    type = "duplicates"
    name = "Duplicates"
    description = (
        "Groups of duplicated instances under the filter, largest first. Pick a Group by column in the toolbar "
        "(e.g. split) to see the groups that cross it first. 'Select group' selects its instances everywhere."
    )
    Props = DuplicatesProps
    outputs = (
        Slot("summary", "children"),
        Slot("status", "children"),
        Slot("prev", "disabled"),
        Slot("next", "disabled"),
        Slot("pager", "data"),
        Slot("empty", "children"),
        *(
            Slot(f"{sub}-{i}", prop)
            for i in range(MAX_GROUPS)
            for sub, prop in (("frame", "className"), ("card", "children"), ("select", "children"))
        ),
    )
    inputs = (Slot("prev", "n_clicks"), Slot("next", "n_clicks"), Slot("kind", "value"))
    reads = (Slot("pager", "data"),)  # what render drew last, written only by render
    events = {f"select-{i}": Event(Slot(f"select-{i}", "n_clicks"), "selection") for i in range(MAX_GROUPS)}

    def layout(self) -> html.Div:
        kinds = self._available()
        toggle = dcc.RadioItems(
            id=self.id("kind"),
            options=[{"label": kind.capitalize(), "value": kind} for kind in kinds],
            value=self._first_kind(kinds) if kinds else None,
            inline=True,
            className="symphony-dup-kind" + ("" if len(kinds) > 1 else " hidden"),
        )
        bar = html.Div(
            [
                toggle,
                html.Span(id=self.id("summary"), className="symphony-dup-summary"),
                html.Div(
                    [
                        html.Button("\u2039", id=self.id("prev"), className="symphony-gallery-nav", title="Previous"),
                        html.Span(id=self.id("status"), className="symphony-gallery-status"),
                        html.Button("\u203a", id=self.id("next"), className="symphony-gallery-nav", title="Next"),
                    ],
                    className="symphony-dup-pages",
                ),
            ],
            className="symphony-gallery-bar symphony-dup-bar",
        )
        frames = [
            html.Div(
                [
                    html.Div(id=self.id(f"card-{i}")),
                    html.Button("Select group", id=self.id(f"select-{i}"), className="symphony-dup-select"),
                ],
                id=self.id(f"frame-{i}"),
                className="symphony-dup-group hidden",
            )
            for i in range(MAX_GROUPS)
        ]
        groups = html.Div(
            [html.Div(id=self.id("empty"), className="symphony-dup-empty"), *frames], className="symphony-dup-groups"
        )
        return html.Div([bar, groups, dcc.Store(id=self.id("pager"), data={})], className="symphony-dup-wrap")

    # -- columns ------------------------------------------------------------------------------------------------

    def _available(self) -> dict[str, str]:
        """The group column of each kind the dataset has: named in the props, or else the analyses' column."""
        found = {}
        for kind, default in GROUP_COLUMNS.items():
            column = getattr(self.props, kind) or (default if default in self.dataset.columns else None)
            if column is not None:
                found[kind] = column
        return found

    def _columns(self) -> dict[str, str]:
        """:meth:`_available`, or an error saying how to get a group column."""
        found = self._available()
        if not found:
            raise DatasetError(
                "duplicates needs a group column: the dataset has neither 'duplicate_group' nor "
                "'near_duplicate_group'. Add them with `symphony-dash analyze --duplicates --near-duplicates` "
                "(or symphony_dash.analyses), or name the columns in the props 'exact' and 'near'"
            )
        for column in found.values():
            dtype = self.dataset.frame[self.dataset.column(column).name].dtype
            if not dtype.is_integer():
                raise DatasetError(
                    f"duplicates: {column!r} must hold whole-number group ids (-1 for none), not {dtype}"
                )
        return found

    def _first_kind(self, kinds: dict[str, str]) -> str:
        if self.props.show in kinds:
            return self.props.show
        if "exact" in kinds and self.props.show == "auto":
            exact = self.dataset.frame[kinds["exact"]]
            if exact.filter(exact >= 0).is_duplicated().any():
                return "exact"
        return "near" if "near" in kinds else "exact"

    def _media(self) -> tuple[str, str] | None:
        """``("image" | "audio" | "text", column)``: what each member shows above its caption, if anything."""
        p, role = self.props, self.dataset.role
        if column := p.image or (None if p.text else role("image") or role("audio")):
            return ("audio" if column == role("audio") else "image"), column
        if column := p.text or role("text") or next(iter(self.dataset.columns_of("text")), None):
            return "text", column
        return None

    # -- render -------------------------------------------------------------------------------------------------

    def render(self, view: View) -> tuple[Any, ...]:
        columns = self._columns()
        chosen = view.inputs.get("kind.value")
        kind = chosen if chosen in columns else self._first_kind(columns)
        column = columns[kind]
        splits = [g for g in view.state.group_by if g not in columns.values()]
        groups = _group_table(view.data, column, splits)

        per = self.props.groups_per_page
        pages = max(1, math.ceil(groups.height / per))
        key = _key(view, kind, splits)
        page = min(max(requested_page(view, key), 1), pages)
        shown = groups.slice((page - 1) * per, per)
        ids = shown[column].to_list()
        members = self._members(view, column, ids, splits)
        totals = dict(view.all.frame([column]).filter(pl.col(column).is_in(ids)).group_by(column).len().iter_rows())

        selected = _selected_group(view, column)
        cells: list[Any] = []
        for i in range(MAX_GROUPS):
            if i >= shown.height:
                cells += ["symphony-dup-group hidden", None, "Select group"]
                continue
            group = shown.row(i, named=True)
            gid = group[column]
            this = selected == gid
            crossing = [(s, group[s]) for s in splits if len(group[s]) > 1]
            cells += [
                "symphony-dup-group" + (" crosses" if crossing else "") + (" selected" if this else ""),
                self._card(view, column, group, crossing, members.get(gid, []), totals.get(gid, 0), splits),
                "Unselect" if this else "Select group",
            ]

        if groups.height:
            first = (page - 1) * per + 1
            status = f"Groups {first:,}\N{EN DASH}{first + shown.height - 1:,} of {groups.height:,}"
        else:
            status = ""
        pager = {"page": page, "key": key, "kind": kind, "groups": ids}
        return (
            self._summary(view, kind, columns, groups, splits),
            status,
            page <= 1,
            page >= pages,
            pager,
            None if groups.height else f"No {kind}-duplicate groups among the rows that pass the filter.",
            *cells,
        )

    def _summary(
        self, view: View, kind: str, columns: dict[str, str], groups: pl.DataFrame, splits: list[str]
    ) -> list[Any]:
        rows = int(groups[_SIZE].sum()) if groups.height else 0
        parts: list[Any] = [
            html.B(f"{rows:,}"),
            f" row{_s(rows)} in ",
            html.B(f"{groups.height:,}"),
            f" {kind}-duplicate group{_s(groups.height)}",
        ]
        for other, column in columns.items():
            if other != kind:
                parts.append(f" · {_group_table(view.data, column, []).height:,} {other}")
        if splits:
            crossing = int(groups[_CROSSES].sum()) if groups.height else 0
            text = f"{crossing:,} group{_s(crossing)} cross{'es' if crossing == 1 else ''} {' or '.join(splits)}"
            parts += [" · ", html.Span(text, className="symphony-dup-crossing" + ("" if crossing else " none"))]
        return parts

    def _members(self, view: View, column: str, ids: list[int], splits: list[str]) -> dict[int, list[dict[str, Any]]]:
        """The members of the shown groups that pass the filter, by group, in id order."""
        if not ids:
            return {}
        id_col = self.dataset.id_column
        media = self._media()
        wanted = [id_col, column, *splits, *self._role_columns(), *([media[1]] if media else [])]
        frame = view.data.frame(list(dict.fromkeys(wanted))).filter(pl.col(column).is_in(ids)).sort(id_col)
        out: dict[int, list[dict[str, Any]]] = {}
        for row in frame.iter_rows(named=True):
            out.setdefault(row[column], []).append(row)
        return out

    def _role_columns(self) -> list[str]:
        roles = (self.dataset.role(r) for r in ("label", "prediction", "score"))
        return [c for c in roles if c is not None]

    def _card(
        self,
        view: View,
        column: str,
        group: dict[str, Any],
        crossing: list[tuple[str, list[str]]],
        members: list[dict[str, Any]],
        total: int,
        splits: list[str],
    ) -> list[Any]:
        size, shown = group[_SIZE], members[: self.props.members_shown]
        head: list[Any] = [
            html.Span(f"Group {group[column]}", className="symphony-dup-name", title=f"{column} = {group[column]}"),
            html.Span(f"{size:,} instances", className="symphony-dup-size"),
        ]
        head += [
            html.Span(f"crosses {split}: {', '.join(values)}", className="symphony-dup-badge")
            for split, values in crossing
        ]
        if total > size:
            head.append(html.Span(f"+{total - size:,} outside the filter", className="symphony-dup-outside"))
        media = self._media()
        tiles = [self._tile(view, row, media, column, splits) for row in shown]
        if size > len(shown):
            tiles.append(html.Div(f"+{size - len(shown):,} more", className="symphony-dup-more"))
        members_class = "symphony-dup-members" + (f" {media[0]}" if media else " cards")
        return [html.Div(head, className="symphony-dup-head"), html.Div(tiles, className=members_class)]

    def _tile(
        self, view: View, row: dict[str, Any], media: tuple[str, str] | None, column: str, splits: list[str]
    ) -> html.Div:
        parts: list[Any] = []
        if media is not None:
            kind, col = media
            parts.append(media_view(kind, view.state.layout, self.dataset.media_root, row[col], compact=True))
        parts.append(self._caption(row))
        if splits:
            parts.append(html.Div([self._tag(s, row[s]) for s in splits], className="symphony-dup-tags"))
        return html.Div(parts, className="symphony-gallery-item symphony-dup-member", title=self._tooltip(row, column))

    def _caption(self, row: dict[str, Any]) -> html.Div:
        label, prediction = self.dataset.role("label"), self.dataset.role("prediction")
        ident = html.Span(f"#{short_value(row[self.dataset.id_column])}", className="id")
        if label is None:
            return html.Div(ident, className="caption")
        value = row[label]
        predicted = row[prediction] if prediction else None
        wrong = value is not None and predicted is not None and value != predicted
        text = f"{short_value(value)} → {short_value(predicted)}" if wrong else short_value(value)
        return html.Div(
            [ident, " ", html.Span(text, className="label")], className="caption wrong" if wrong else "caption"
        )

    def _tag(self, split: str, value: Any) -> html.Span:
        """A member's value of a group-by column, in the colour the histograms give that value."""
        text = MISSING if value is None else str(value)
        levels = [str(v) for v in self.dataset.categories(split)]
        color = style.PALETTE[levels.index(text) % len(style.PALETTE)] if text in levels else style.INACTIVE
        return html.Span(text, className="symphony-dup-tag", style={"color": color, "borderColor": color})

    def _tooltip(self, row: dict[str, Any], column: str) -> str:
        return "\n".join(f"{c}: {short_value(v)}" for c, v in row.items() if c != column)

    # -- events -------------------------------------------------------------------------------------------------

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        if type(value) is not int or value < 1:
            raise ValueError(f"a 'Select group' click must count the clicks, not {value!r}")
        kind, group = _drawn_group(view.inputs.get("pager.data"), int(name.removeprefix("select-")))
        column = self._columns().get(kind)
        if column is None:
            raise ValueError(f"this dataset has no {kind}-duplicate group column")
        if not (self.dataset.frame[column] == group).any():
            raise ValueError(f"there is no group {group} in {column!r}")
        current = view.selection
        if current is not None and current.source == self.component_id and _selected_group(view, column) == group:
            return None  # a second click unselects the group
        return self.clause("eq", column=column, value=group)


def _group_table(rows: Query, column: str, splits: Sequence[str] = ()) -> pl.DataFrame:
    """The duplicate groups among ``rows``: one row per group with at least two members there.

    Columns: the group id, its size among ``rows``, per group-by column the sorted distinct values of its members
    (as text), and whether any of them holds more than one; sorted crossing groups first, then largest first.
    """
    frame = rows.frame([column, *splits]).filter(pl.col(column) >= 0)
    values = [pl.col(s).cast(pl.String).fill_null(MISSING).unique().sort().alias(s) for s in splits]
    table = frame.group_by(column).agg(pl.len().alias(_SIZE), *values).filter(pl.col(_SIZE) >= 2)
    crosses = pl.any_horizontal([pl.col(s).list.len() > 1 for s in splits]) if splits else pl.lit(False)
    return table.with_columns(crosses.alias(_CROSSES)).sort([_CROSSES, _SIZE, column], descending=[True, True, False])


def _drawn_group(pager: Any, position: int) -> tuple[str, int]:
    """The kind and the group id render drew at ``position``, read back from the browser's pager store and checked."""
    if not isinstance(pager, dict):
        raise TypeError("the duplicates pager must be an object")
    kind, groups = pager.get("kind"), pager.get("groups")
    if kind not in GROUP_COLUMNS:
        raise ValueError(f"the duplicates pager names no kind of duplicates: {kind!r}")
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS or not 0 <= position < len(groups):
        raise ValueError(f"the duplicates pager shows no group at place {position}")
    group = groups[position]
    if type(group) is not int or group < 0:
        raise ValueError(f"a duplicate group id is a whole number >= 0, not {group!r}")
    return kind, group


def _selected_group(view: View, column: str) -> int | None:
    """The group id when the selection is exactly one group of ``column``."""
    sel = view.selection
    return sel.value if sel is not None and sel.op == "eq" and sel.column == column else None


def _key(view: View, kind: str, splits: list[str]) -> str:
    """A short fingerprint of what decides the groups (kind, filter, group-by), to tell when to go back to page 1."""
    text = "\n".join([kind, *sorted(c.key() for c in view.filter), *splits])
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _s(n: int) -> str:
    return "" if n == 1 else "s"
