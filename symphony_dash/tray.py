"""The selection tray in the toolbar: how many instances are selected, thumbnails of the first few, and what to do
with them: copy their ids, download their rows as CSV, clear the selection.

Everything is computed on the server from the central state, validated like every other state: the browser never
sends ids of its own. Clear goes through the same clientside merge as the selection chip's remove button (it is a
``symphony-chip`` button too, whose index starts with ``selection``), so the filter stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate
from pydantic import ValidationError

from .component import STATE_ID
from .dataset import DatasetError
from .engine import Query
from .layout import LoadedLayout
from .media import media_url
from .state import ClauseError, parse_state

__all__ = [
    "MAX_COPY_IDS",
    "MAX_CSV_BYTES",
    "MAX_CSV_ROWS",
    "TooLargeError",
    "csv_columns",
    "register_tray",
    "selection_csv",
    "tray",
]

MAX_THUMBS = 6
MAX_COPY_IDS = 100_000
# A download travels inside one callback answer: past these the browser would wait long for a file few would open.
MAX_CSV_ROWS = 50_000
MAX_CSV_BYTES = 20_000_000

TRAY = "symphony-tray"
COUNT = "symphony-tray-count"
THUMBS = "symphony-tray-thumbs"
COPY = "symphony-tray-copy"
CSV = "symphony-tray-csv"
DOWNLOAD = "symphony-tray-download"
NOTE = "symphony-tray-note"
CLEAR = {"type": "symphony-chip", "index": "selection:tray"}


class TooLargeError(ValueError):
    """The selection is too large to download; the message says how large and what the bound is."""


def tray() -> html.Div:
    """The tray's skeleton, hidden until something is selected; :func:`register_tray` fills it."""
    return html.Div(
        [
            html.Span(id=COUNT, className="symphony-tray-count"),
            html.Div(id=THUMBS, className="symphony-tray-thumbs"),
            dcc.Clipboard(
                id=COPY,
                children="Copy ids",
                copied_children="Copied",
                title="Copy the selected ids, one per line",
                className="symphony-tray-button",
            ),
            html.Button("\u2193 CSV", id=CSV, className="symphony-tray-button"),
            html.Button(
                "Clear", id=CLEAR, className="symphony-tray-button", title="Clear the selection; the filter stays"
            ),
            html.Span(id=NOTE, className="symphony-tray-note", role="status"),
            dcc.Download(id=DOWNLOAD),
        ],
        id=TRAY,
        className="symphony-tray empty",
    )


def csv_columns(query: Query) -> tuple[list[str], list[str]]:
    """``(kept, left_out)``: every column but embeddings and other vectors, which have no CSV form."""
    kept, left_out = [], []
    for name, info in query.dataset.columns.items():
        vector = info.kind == "embedding" or query.dataset.frame.schema[name].is_nested()
        (left_out if vector else kept).append(name)
    return kept, left_out


def selection_csv(query: Query) -> str:
    """The rows of ``query`` as CSV text, or :class:`TooLargeError` past :data:`MAX_CSV_ROWS` rows or MAX_CSV_BYTES."""
    n = query.count()
    if n > MAX_CSV_ROWS:
        raise TooLargeError(
            f"{n:,} rows selected: a CSV download holds at most {MAX_CSV_ROWS:,}. Narrow the selection."
        )
    kept, _ = csv_columns(query)
    text = query.frame(kept).write_csv()
    if len(text) > MAX_CSV_BYTES:
        raise TooLargeError(
            f"the {n:,} selected rows make {len(text) / 1e6:,.1f} MB of CSV, more than {MAX_CSV_BYTES / 1e6:.0f} MB. "
            "Narrow the selection."
        )
    return text


def register_tray(app: dash.Dash, loaded: Mapping[str, Any]) -> None:
    """Register the tray's callbacks: drawing it from the state, Copy ids and Download CSV."""

    def selected(state_data: Any) -> tuple[LoadedLayout, Query] | None:
        """The layout and its selected rows, or ``None`` when nothing (valid) is selected."""
        try:
            state = parse_state(state_data)
            lay = loaded.get(state.layout)
            if not isinstance(lay, LoadedLayout) or state.selection is None:
                return None
            return lay, lay.engine.where([state.selection])
        except (ClauseError, DatasetError, ValidationError):
            return None  # the toolbar already says what is wrong with the state

    @app.callback(
        Output(TRAY, "className"),
        Output(COUNT, "children"),
        Output(THUMBS, "children"),
        Output(CSV, "title"),
        Output(NOTE, "children"),
        Input(STATE_ID, "data"),
        Input("symphony-page-mounted", "data"),  # the toolbar is drawn anew on every page
    )
    def draw(state_data: Any, _: Any) -> tuple[Any, ...]:
        found = selected(state_data)
        n = found[1].count() if found else 0
        if found is None or not n:
            return "symphony-tray empty", None, None, None, None
        lay, query = found
        _, left_out = csv_columns(query)
        title = f"Download the {n:,} selected rows as CSV"
        if left_out:
            title += f" (without {', '.join(left_out)}: vectors do not fit in a CSV cell)"
        return "symphony-tray", f"{n:,} selected", _thumbs(lay, query, n), title, None

    @app.callback(
        Output(COPY, "content"),
        Output(NOTE, "children", allow_duplicate=True),
        Input(COPY, "n_clicks"),
        State(STATE_ID, "data"),
        prevent_initial_call=True,
    )
    def copy(clicks: Any, state_data: Any) -> tuple[Any, Any]:
        found = selected(state_data)
        if not clicks or found is None:
            raise PreventUpdate
        query = found[1]
        values = query.ids(limit=MAX_COPY_IDS)
        n = query.count()
        note = f"Copied the first {len(values):,} of {n:,} ids" if n > len(values) else None
        return "\n".join(str(v) for v in values), note

    @app.callback(
        Output(DOWNLOAD, "data"),
        Output(NOTE, "children", allow_duplicate=True),
        Input(CSV, "n_clicks"),
        State(STATE_ID, "data"),
        prevent_initial_call=True,
    )
    def download(clicks: Any, state_data: Any) -> tuple[Any, Any]:
        found = selected(state_data)
        if not clicks or found is None:
            raise PreventUpdate
        lay, query = found
        try:
            text = selection_csv(query)
        except TooLargeError as exc:
            return dash.no_update, html.Span(str(exc), role="alert")
        return dcc.send_string(text, f"{lay.slug}-selection.csv", type="text/csv"), None


def _thumbs(lay: LoadedLayout, query: Query, n: int) -> list[Any]:
    """The first few selected instances as images (or id labels without an image column), then '+k' for the rest."""
    id_column, image = lay.dataset.id_column, lay.dataset.role("image")
    rows = query.rows([id_column] if image is None else [id_column, image], limit=MAX_THUMBS).to_dicts()
    items: list[Any] = []
    for row in rows:
        tip = f"{id_column}: {row[id_column]}"
        if image is not None and row[image]:
            items.append(html.Img(src=media_url(lay.slug, str(row[image])), alt=tip, title=tip, className="thumb"))
        else:
            items.append(html.Span(str(row[id_column]), title=tip, className="label"))
    if n > len(rows):
        items.append(html.Span(f"+{n - len(rows):,}", title=f"and {n - len(rows):,} more", className="more"))
    return items
