"""The detail panel: one instance's media and metadata, shown when a hover or a click in any view points at it.

A component that shows instances declares ``inspect`` slots (see :mod:`component`), and writes the instance they point
at into its own ``inspect`` store. One callback here reads every such store, takes the one that fired last, checks the
instance exists, and draws the panel: a drawer on the right that pushes the page aside rather than covering it. Its
"Select" button makes the instance the selection through a clause store of its own, merged like a component's.

The media of an instance (an image, an audio player, a text) are drawn by :func:`media_view`, for the panel and for
the gallery's tiles alike; a file that is missing shows its name in a placeholder instead of a broken element.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate
from PIL import Image, UnidentifiedImageError

from .component import STATE_ID, known_id
from .dataset import Dataset
from .layout import LoadedLayout
from .media import media_url, path_parts, resolve_media
from .state import ClauseError, ids, parse_state

__all__ = ["MEDIA_ROLES", "image_side", "media_view", "panel", "register_callbacks"]

PANEL = "symphony-detail"
TITLE = "symphony-detail-title"
BODY = "symphony-detail-body"
CLOSE = "symphony-detail-close"
SELECT = "symphony-detail-select"
SHOWN = "symphony-detail-shown"  # {"layout", "id"} of the instance shown, for the Select button
# The same keys as a component's clause store, so the app's merge gathers it with theirs.
SOURCE = "detail"
CLAUSE = {"type": "symphony-detail", "sub": "clause", "index": SOURCE}

MEDIA_ROLES = ("image", "audio", "text")
PIXELATED_PX = 128  # images at most this large are enlarged with square pixels, so they stay sharp
MAX_TEXT = 20_000  # characters of a text shown in the panel
MAX_VALUE = 500  # characters of any other value
EMBEDDING_HEAD = 4  # leading values of an embedding shown in its summary


def panel() -> html.Aside:
    """The (closed) panel, to mount once on the app's page, outside the layouts' pages."""
    head = html.Div(
        [
            html.Div(id=TITLE, className="symphony-detail-title"),
            html.Button("Select", id=SELECT, className="symphony-detail-select", title="Make it the selection"),
            html.Button("\u00d7", id=CLOSE, className="symphony-detail-close", title="Close"),
        ],
        className="symphony-detail-head",
    )
    return html.Aside(
        [
            head,
            html.Div(id=BODY, className="symphony-detail-body"),
            dcc.Store(id=SHOWN, data={}),
            dcc.Store(id=CLAUSE, data={}),
        ],
        id=PANEL,
        className="symphony-detail",
        **{"aria-label": "Instance details"},
    )


def register_callbacks(app: dash.Dash, loaded: Mapping[str, Any]) -> None:
    """Register the panel's callbacks on ``app``; ``loaded`` maps layout slugs to loaded layouts."""

    def find(value: Any) -> tuple[LoadedLayout, Any] | None:
        """The layout and the id that a value from the browser names, if both exist."""
        if not isinstance(value, dict):
            return None
        lay = loaded.get(value.get("layout")) if isinstance(value.get("layout"), str) else None
        if not isinstance(lay, LoadedLayout):
            return None
        found = known_id(lay.engine, value.get("id"))
        return None if found is None else (lay, found)

    @app.callback(
        Output(PANEL, "className"),
        Output(TITLE, "children"),
        Output(BODY, "children"),
        Output(SHOWN, "data"),
        Input({"type": ALL, "sub": "inspect", "index": ALL}, "data"),
        Input(CLOSE, "n_clicks"),
        Input("symphony-url", "pathname"),
        State(SHOWN, "data"),
        prevent_initial_call=True,
    )
    def show(_: Any, __: Any, pathname: Any, shown: Any) -> tuple[Any, ...]:
        closed = (PANEL, [], [], {})
        if dash.ctx.triggered_id == CLOSE:
            return closed
        # The layout of the page shown: a page mounting may fire this together with the address change.
        slug = next(iter(path_parts(app, pathname)), next(iter(loaded), None))
        # Several stores fire at once when a page mounts (all empty): the latest event wins.
        events = [t["value"] for t in dash.ctx.triggered if isinstance(t.get("value"), dict) and "at" in t["value"]]
        latest = max(events, key=lambda e: e["at"] if isinstance(e["at"], (int, float)) else 0, default=None)
        target = find(latest)
        if target is not None and target[0].slug == slug:
            lay, found = target
            return f"{PANEL} open", _title(lay.dataset, found), _body(lay, found), {"layout": lay.slug, "id": found}
        if isinstance(shown, dict) and shown.get("layout") not in (None, slug):
            return closed  # another layout's page: its instances are not this one's
        raise PreventUpdate  # nothing to show, or an id that is not in the data

    @app.callback(
        Output(CLAUSE, "data"),
        Input(SELECT, "n_clicks"),
        State(SHOWN, "data"),
        State(STATE_ID, "data"),
        prevent_initial_call=True,
    )
    def select(_: Any, shown: Any, state_data: Any) -> dict[str, Any]:
        target = find(shown)
        try:
            layout = parse_state(state_data).layout
        except (ClauseError, ValueError):
            raise PreventUpdate from None
        if target is None or target[0].slug != layout:
            raise PreventUpdate  # the state of another layout's page
        clause = ids([target[1]], source=SOURCE)
        return {"kind": "selection", "source": SOURCE, "clause": clause.model_dump(), "at": time.time()}


def media_view(kind: str, layout_slug: str, root: Path | None, value: Any, compact: bool = False) -> Any:
    """One instance's ``image``, ``audio`` or ``text``: as a thumbnail and small player if ``compact``, else large.

    A path that names no file under ``root`` shows a placeholder with the file's name.
    """
    # A compact image or placeholder takes the gallery's thumbnail look ("thumb").
    thumb = " thumb" if compact and kind == "image" else ""
    size = " compact" if compact else ""
    if value is None or value == "":
        return html.Div(f"no {kind}", className=f"symphony-media missing{size}{thumb}")
    if kind == "text":
        return html.Div(str(value)[:MAX_TEXT], className=f"symphony-media text{size}")
    path = str(value)
    target = resolve_media(root, path)
    if target is None:
        return html.Div(
            [html.Span(f"missing {kind}"), html.Span(Path(path).name, className="file")],
            className=f"symphony-media missing{size}{thumb}",
            title=path,
        )
    url = media_url(layout_slug, path)
    if kind == "audio":
        # No preload in a tile: a page of them would fetch every file before anyone presses play.
        preload = "none" if compact else "metadata"
        return html.Audio(src=url, controls=True, preload=preload, className=f"symphony-media audio{size}")
    pixelated = " pixelated" if image_side(target) <= PIXELATED_PX else ""
    return html.Img(src=url, alt=Path(path).name, className=f"symphony-media image{size}{thumb}{pixelated}")


@lru_cache(maxsize=256)
def image_side(path: Path) -> int:
    """The larger side of an image in pixels, read from its header (0 when it is not an image)."""
    try:
        with Image.open(path) as image:
            return max(image.size)
    except (OSError, UnidentifiedImageError):
        return 0


def _title(dataset: Dataset, instance_id: Any) -> list[Any]:
    return [html.Span(dataset.id_column, className="key"), html.Span(str(instance_id), className="value")]


def _body(lay: LoadedLayout, instance_id: Any) -> list[Any]:
    dataset = lay.dataset
    row = lay.engine.where([ids([instance_id])]).rows(limit=1).row(0, named=True)  # an engine's: in memory or Ibis
    shown = {dataset.role(r): r for r in MEDIA_ROLES if dataset.role(r)}
    media = [media_view(kind, lay.slug, dataset.media_root, row[column]) for column, kind in shown.items()]
    label, prediction = dataset.role("label"), dataset.role("prediction")
    wrong = label and prediction and None not in (row[label], row[prediction]) and row[label] != row[prediction]
    items = []
    for name, info in dataset.columns.items():
        if name == dataset.id_column or shown.get(name) == "text":
            continue  # the id is the title, and a text is shown in full above
        value = _value(row[name], info.kind)
        mark = " wrong" if wrong and name == prediction else ""
        items += [html.Dt(name, title=f"{name} ({info.kind})"), html.Dd(value, className=f"kind-{info.kind}{mark}")]
    return [
        html.Div(media, className="symphony-detail-media") if media else None,
        html.Dl(items, className="symphony-detail-fields"),
    ]


def _value(value: Any, kind: str) -> Any:
    """A cell as text a person reads: numbers to a few digits, an embedding summarised, a path by its file name."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return html.Span("missing", className="none")
    if kind == "embedding":
        numbers = [float(v) for v in value]
        head = ", ".join(f"{v:.3g}" for v in numbers[:EMBEDDING_HEAD])
        norm = math.sqrt(sum(v * v for v in numbers))
        more = ", \u2026" if len(numbers) > EMBEDDING_HEAD else ""
        return f"{len(numbers)} values, norm {norm:.3g}: [{head}{more}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}" if kind == "numeric" else str(value)
    if kind in ("image", "audio"):
        return html.Span(Path(str(value)).name, title=str(value))
    text = str(value)
    return text[:MAX_VALUE] + ("\u2026" if len(text) > MAX_VALUE else "")
