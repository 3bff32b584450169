"""gallery: a page of thumbnails (audio players, text cards) of the filtered instances; click to select and inspect.

The server sends a page's tiles as data (``tiles``: each one's content as Dash components, its tooltip and whether
it is selected), and ``assets/gallery.js`` draws them as plain elements. A page of 48 tiles as Dash components was
the longest task after a brush, and every mounted Dash component costs the browser again on each later update.

A click on a tile is turned, in the browser, into what the person wants for every position they touched since the
page was last drawn (``{"page", "gen", "want": {position: selected}, "last"}``), and that is the event. Dash drops
the answer of an event that is still running when the next one starts, so every event carries all the clicks before
it; and applying it twice changes nothing. The selection is drawn by ``render`` on the tiles themselves.

The event also names the position clicked last (``last``), which shows that instance in the detail panel.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import dash
from dash import dcc, html
from pydantic import Field

from ..component import Clientside, Column, Component, Event, Props, Slot, View
from ..dataset import DatasetError
from ..detail import image_side, media_view
from ..media import resolve_media
from ..registry import register
from ..state import Clause

__all__ = ["Gallery"]

MAX_PAGE_SIZE = 96
THUMB_PX = 68  # the thumbnail's side in CSS pixels (symphony.css)
SNIPPET_CHARS = 240
TOOLTIP_CHARS = 500


# The familiarity component's pick, from the clicks on its checklist of tiles: the clicks since the strip was last
# drawn, as the wanted state of each position touched. ``pager`` is what render drew: the page, a token of that drawing
# (``gen``), its size and the selected positions. (The gallery's own tiles are drawn by assets/gallery.js.)
PICK = """
function (value, selectClicks, last, pager) {
    const noUpdate = window.dash_clientside.no_update;
    if (!pager || !pager.gen) { return noUpdate; }
    last = last || {};
    const want = last.gen === pager.gen ? Object.assign({}, last.want) : {};
    const isOn = p => (String(p) in want ? want[p] : pager.ticked.includes(p));
    let touched = false;
    const fired = (window.dash_clientside.callback_context.triggered || []).map(t => t.prop_id);
    if (fired.some(id => id.endsWith(".n_clicks"))) {
        const all = Array.from({length: pager.size}, (_, p) => p);
        const on = !all.every(isOn);
        all.forEach(p => { want[p] = on; });
        touched = all.length > 0;
    }
    const now = value || [], before = last.value || [];
    const flipped = now.filter(v => !before.includes(v)).concat(before.filter(v => !now.includes(v)));
    flipped.forEach(p => { want[p] = !isOn(p); });
    if (!touched && !flipped.length) { return noUpdate; }
    const clicked = flipped.length ? flipped[flipped.length - 1] : null;
    return {value: now, gen: pager.gen, page: pager.page, want: want, last: clicked};
}
"""
# The tiles drawn, and "Select page", in assets/gallery.js; a tile's click sets the pick store from there.
DRAW = "function (tiles, pager) { window.symphonyGallery.draw(tiles, pager); }"
SELECT_PAGE = "function (clicks, pager) { return window.symphonyGallery.selectPage(clicks, pager); }"


class GalleryProps(Props):
    """The settings of a gallery: what each item shows, under it, in which order and how many per page."""

    image: str | None = Column(None, description="The column of image paths; defaults to the dataset's image column.")
    audio: str | None = Column(
        None, description="The column of audio file paths, played in each tile when there is no image column."
    )
    text: str | None = Column(None, description="A text column shown as cards when there is no image column.")
    caption: str | None = Column(
        None, description="The column shown under each item; defaults to the label (as 'label → prediction')."
    )
    page_size: int = Field(48, ge=1, le=MAX_PAGE_SIZE, description="How many instances one page shows.")
    sort_by: str | None = Column(None, description="Order the instances by this column (table order by default).")
    descending: bool = Field(False, description="Sort from the largest value down.")


@register
class Gallery(Component):
    """Thumbnails (audio players, text cards) of the filtered instances, a page at a time; clicks select them."""

    type = "gallery"
    name = "Gallery"
    description = (
        "The filtered instances, one page at a time. Click a thumbnail to select it (click again to unselect) and "
        "show it in the detail panel. Red captions are wrong predictions."
    )
    Props = GalleryProps
    outputs = (
        Slot("tiles", "data"),
        Slot("grid", "className"),
        Slot("pager", "data"),
        Slot("status", "children"),
        Slot("prev", "disabled"),
        Slot("next", "disabled"),
        Slot("select", "children"),
    )
    inputs = (Slot("prev", "n_clicks"), Slot("next", "n_clicks"))
    reads = (Slot("pager", "data"),)  # what render drew last, written only by render
    events = {"pick": Event(Slot("pick", "data"), "selection")}
    inspect = (Slot("pick", "data"),)
    clientside = (
        Clientside(function=DRAW, inputs=(Slot("tiles", "data"),), state=(Slot("pager", "data"),)),
        Clientside(
            function=SELECT_PAGE,
            inputs=(Slot("select", "n_clicks"),),
            output=Slot("pick", "data"),
            state=(Slot("pager", "data"),),
        ),
    )

    def layout(self) -> html.Div:
        bar = html.Div(
            [
                html.Button("\u2039", id=self.id("prev"), className="symphony-gallery-nav", title="Previous page"),
                html.Span(id=self.id("status"), className="symphony-gallery-status"),
                html.Button("\u203a", id=self.id("next"), className="symphony-gallery-nav", title="Next page"),
                html.Span(self._legend(), className="symphony-gallery-legend"),
                html.Button("Select page", id=self.id("select"), className="symphony-gallery-select"),
            ],
            className="symphony-gallery-bar",
        )
        # Filled by assets/gallery.js, not by React: the tiles are plain elements.
        grid = html.Div(id=self.id("grid"), className="symphony-gallery-grid", role="group")
        stores = [dcc.Store(id=self.id(sub), data={}) for sub in ("pager", "pick")] + [dcc.Store(id=self.id("tiles"))]
        return html.Div([bar, grid, *stores], className="symphony-gallery-wrap")

    # -- columns ------------------------------------------------------------------------------------------------

    @property
    def media(self) -> tuple[str, str]:
        """``("image" | "audio" | "text", column)``: what each item shows; a column set in the props wins."""
        p, role = self.props, self.dataset.role
        chosen = p.image or p.audio or p.text
        if column := p.image or (None if chosen else role("image")):
            return "image", column
        if column := p.audio or (None if chosen else role("audio")):
            return "audio", column
        if column := p.text or role("text") or next(iter(self.dataset.columns_of("text")), None):
            return "text", column
        raise DatasetError("gallery needs an image, audio or text column to show; set its 'image', 'audio' or 'text'")

    @property
    def caption(self) -> str | None:
        return self.props.caption or self.dataset.role("label")

    @property
    def versus(self) -> str | None:
        """The prediction column when captions read 'label → prediction'."""
        label, prediction = self.dataset.role("label"), self.dataset.role("prediction")
        return prediction if prediction and self.caption == label else None

    def tooltip_columns(self) -> list[str]:
        """The columns a tile's tooltip lists: the id, label, prediction, score, caption and sort columns."""
        roles = [self.dataset.role(r) for r in ("label", "prediction", "score")]
        wanted = [self.dataset.id_column, *roles, self.caption, self.props.sort_by]
        return [c for c in dict.fromkeys(wanted) if c is not None]

    def _legend(self) -> str:
        parts = []
        if self.props.sort_by:
            parts.append(f"sorted by {self.props.sort_by} {'↓' if self.props.descending else '↑'}")
        if self.caption:
            parts.append(f"caption: {self.caption} → {self.versus}" if self.versus else f"caption: {self.caption}")
        return " · ".join(parts)

    # -- render -------------------------------------------------------------------------------------------------

    def render(self, view: View) -> tuple[Any, ...]:
        kind, column = self.media
        size = self.props.page_size
        total = view.data.count()
        pages = max(1, math.ceil(total / size))
        key = _filter_key(view)
        page = min(max(requested_page(view, key), 1), pages)
        rows = self._page(view, page, [column, *self.tooltip_columns()])
        selected = set(view.selected_ids())
        id_col = self.dataset.id_column
        ticked = [i for i, row in enumerate(rows) if row[id_col] in selected]
        # Each tile's content as Dash components (sent as their JSON); the browser draws them as plain elements.
        tiles = [
            {
                "label": self.tile(row, kind, column, view, i in ticked),
                "value": i,
                "title": self.tooltip(row, kind, column),
                "selected": i in ticked,
            }
            for i, row in enumerate(rows)
        ]
        if total:
            first = (page - 1) * size + 1
            status = f"Page {page} of {pages} · {first:,}\N{EN DASH}{first + len(rows) - 1:,} of {total:,}"
        else:
            status = "No instances match the filter"
        drawn = [page, key, [row[id_col] for row in rows], ticked]
        pager = {
            "page": page,
            "key": key,
            "gen": hashlib.sha1(json.dumps(drawn, default=str).encode()).hexdigest()[:12],
            "size": len(rows),
            "ticked": ticked,
        }
        pixelated = kind == "image" and self.is_tiny(rows, column)
        return (
            tiles,
            f"symphony-gallery-grid {kind}" + (" pixelated" if pixelated else ""),
            pager,
            status,
            page <= 1,
            page >= pages,
            "Unselect page" if rows and len(ticked) == len(rows) else "Select page",
        )

    def static(self, elements: dict[str, Any]) -> None:
        """The tiles as elements of the grid, for a static report (in the app, assets/gallery.js draws them)."""
        tiles = getattr(elements.get("tiles"), "data", None) or []
        elements["grid"].children = [
            html.Div(t["label"], title=t["title"], className="symphony-gallery-tile", role="checkbox") for t in tiles
        ]

    def _page(self, view: View, page: int, columns: list[str]) -> list[dict[str, Any]]:
        p = self.props
        columns = list(dict.fromkeys([self.dataset.id_column, *columns]))
        sort = [(p.sort_by, p.descending)] if p.sort_by else []
        return view.data.rows(columns, sort=sort, offset=(page - 1) * p.page_size, limit=p.page_size).to_dicts()

    def is_tiny(self, rows: list[dict[str, Any]], column: str) -> bool:
        """Whether the images are smaller than a thumbnail: enlarged, they look sharp drawn as square pixels."""
        path = next((row[column] for row in rows if row[column]), None)
        target = resolve_media(self.dataset.media_root, str(path)) if path else None
        return target is not None and image_side(target) <= THUMB_PX

    def tile(self, row: dict[str, Any], kind: str, column: str, view: View, selected: bool) -> html.Div:
        """One instance as the gallery draws it: its media (or text snippet) over its caption."""
        media = row[column]
        if kind == "text":
            text = "" if media is None else str(media)
            body = html.Div(text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else ""), className="snippet")
        else:
            body = media_view(kind, view.state.layout, self.dataset.media_root, media, compact=True)
        return html.Div(
            [body, self._caption(row)], className="symphony-gallery-item" + (" selected" if selected else "")
        )

    def _caption(self, row: dict[str, Any]) -> html.Div | None:
        if self.caption is None:
            return None
        value = row[self.caption]
        if self.versus is None:
            return html.Div(short_value(value), className="caption")
        predicted = row[self.versus]
        wrong = value is not None and predicted is not None and value != predicted
        # One element of text: a page draws dozens of tiles, and each element costs the browser when it redraws.
        text = f"{short_value(value)} → {short_value(predicted)}"
        return html.Div(text, className="caption wrong" if wrong else "caption")

    def tooltip(self, row: dict[str, Any], kind: str, column: str) -> str:
        """A tile's tooltip: the values of :meth:`tooltip_columns`, then the start of a text."""
        lines = [f"{c}: {short_value(row[c])}" for c in self.tooltip_columns()]
        if kind == "text" and row[column] is not None:
            lines.append(str(row[column])[:TOOLTIP_CHARS])
        return "\n".join(lines)

    # -- events -------------------------------------------------------------------------------------------------

    def on_inspect(self, name: str, value: Any, view: View) -> Any:
        page, _ = parse_pick(value)
        last = value.get("last")
        if last is None:
            return None  # "Select page": no one instance to show
        if type(last) is not int or not 0 <= last < MAX_PAGE_SIZE:
            raise ValueError(f"a gallery pick's last position must be a position on the page, not {last!r}")
        on_page = self._page(view, page, [])
        return on_page[last][self.dataset.id_column] if last < len(on_page) else None

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        page, want = parse_pick(value)
        on_page = [row[self.dataset.id_column] for row in self._page(view, page, [])]
        # Positions past the end of the page were not drawn: they did not come from a click on a thumbnail.
        wanted = {on_page[p]: on for p, on in want.items() if p < len(on_page)}
        before = view.selected_ids()
        chosen = set(before)
        after = [i for i in before if wanted.get(i, True)] + [i for i, on in wanted.items() if on and i not in chosen]
        if set(after) == chosen:
            return dash.no_update
        return self.clause("ids", value=after) if after else None


def parse_pick(value: Any) -> tuple[int, dict[int, bool]]:
    """The page and the wanted state per position of a pick event; a malformed one raises, saying what is wrong."""
    if not isinstance(value, dict):
        raise TypeError(f"a gallery pick must be an object, not {type(value).__name__}")
    page, want = value.get("page"), value.get("want")
    if type(page) is not int or page < 1:
        raise ValueError(f"a gallery pick needs a page number, not {page!r}")
    if not isinstance(want, dict) or len(want) > MAX_PAGE_SIZE:
        raise ValueError("a gallery pick needs 'want': selected or not, per position on the page")
    positions: dict[int, bool] = {}
    for key, on in want.items():
        if not (isinstance(key, str) and key.isdecimal() and len(key) <= 3 and isinstance(on, bool)):
            raise ValueError(f"a gallery pick wants true or false per position, not {key!r}: {on!r}")
        positions[int(key)] = on
    return page, positions


def _filter_key(view: View) -> str:
    """A short fingerprint of the filter, to tell a new filter from a new selection."""
    keys = sorted(c.key() for c in view.filter)
    return hashlib.sha1("\n".join(keys).encode()).hexdigest()[:16]


def requested_page(view: View, key: str) -> int:
    """The page a pager asks for: the next or previous one after a click on its arrows, else the one shown.

    ``key`` names what is paged (a filter, a kind of group): when it changes, other items are shown and paging
    starts again at page 1. The pager's store holds ``{"page", "key"}`` from the last render.
    """
    pager = view.inputs.get("pager.data")
    page = pager.get("page") if isinstance(pager, dict) else None
    if type(page) is not int:
        return 1
    if view.trigger == "prev.n_clicks":
        return page - 1
    if view.trigger == "next.n_clicks":
        return page + 1
    return page if pager.get("key") == key else 1


def short_value(value: Any) -> str:
    """A value as a caption or tooltip shows it: three significant digits for floats, "(missing)" for None."""
    if value is None:
        return "(missing)"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
