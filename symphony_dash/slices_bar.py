"""The toolbar's Slices menu: the layout's saved slices (named filters), one click applies one, and the current
filter saved as a new slice.

A slice is saved into the layout file (:mod:`symphony_dash.layout_store`: atomically, the old file kept as
``.bak``, never over a change made on disk since the app loaded it). When it cannot be saved there (a read-only app,
a layout not loaded from a file, a file changed on disk, a folder that cannot be written, such as an installed
package's), the slice is kept in the browser tab's session storage and the message says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html
from pydantic import ValidationError

from .component import STATE_ID
from .layout import SLICE_NAME_LENGTH, LoadedLayout, SavedSlice
from .layout_store import SAVE_LOCK, LayoutConflict, free_name, save_layout_as, save_layout_file
from .state import Clause, ClauseError, describe, parse_state
from .state import State as SymphonyState

__all__ = ["control", "register_slices", "session_store"]

IDS = {
    "details": "symphony-saved-slices-details",
    "list": "symphony-saved-slices-list",
    "name": "symphony-saved-slice-name",
    "save": "symphony-saved-slice-save",
    "message": "symphony-saved-slice-message",
    "saved": "symphony-saved-slices-saved",
    "session": "symphony-saved-slices-session",
}
ITEM = "symphony-saved-slice"  # the id type of a slice's button in the menu; its index is the slice's name
SAVE_AS = (
    "symphony-saved-slice-save-as"  # the id type of the button offered after a conflict (pattern: absent at first)
)
MAX_SLICES = 100  # per layout: a hosted app must not let a browser grow the file without bound


def session_store() -> dcc.Store:
    """The slices kept for the session only, by layout: outside the pages, so they survive navigation."""
    return dcc.Store(id=IDS["session"], data={}, storage_type="session")


def control(lay: LoadedLayout) -> html.Details:
    """The toolbar's "Slices" menu for ``lay``; its list is filled by the callbacks of :func:`register_slices`."""
    form = html.Div(
        [
            dcc.Input(
                id=IDS["name"],
                type="text",
                placeholder="Save current filter as…",
                maxLength=SLICE_NAME_LENGTH,
                debounce=False,
                className="symphony-saved-slice-name",
            ),
            html.Button("Save", id=IDS["save"], className="symphony-saved-slice-save"),
        ],
        className="symphony-saved-slice-form",
    )
    panel = html.Div(
        [
            html.Div("Saved slices", className="symphony-saved-slices-heading"),
            html.Div(id=IDS["list"], className="symphony-saved-slices-list"),
            form,
            html.Div(id=IDS["message"], className="symphony-saved-slice-message", role="status"),
            dcc.Store(id=IDS["saved"], data=0),
        ],
        className="symphony-saved-slices-panel",
    )
    return html.Details([html.Summary("Slices"), panel], id=IDS["details"], className="symphony-saved-slices-details")


def register_slices(app: dash.Dash, loaded: dict[str, Any], *, read_only: bool = False) -> None:
    """The Slices menu's callbacks in ``app``: list, apply and save. ``read_only`` keeps new slices in the session."""

    @app.callback(
        Output(IDS["list"], "children"),
        Input(STATE_ID, "data"),
        Input(IDS["saved"], "data"),
        Input(IDS["session"], "data"),
    )
    def show(state_data: Any, _: Any, session: Any) -> Any:
        try:
            state, lay = _current(loaded, state_data)
        except ClauseError:  # the toolbar's count says what is wrong with the state
            raise dash.exceptions.PreventUpdate from None
        if lay is None:
            raise dash.exceptions.PreventUpdate
        where = _session_reason(lay, read_only)
        items = [_item(s, active=_same(s.filter, state.filter), session=False) for s in lay.layout.slices]
        items += [_item(s, active=_same(s.filter, state.filter), session=True) for s in _session_slices(session, lay)]
        empty = html.P(
            "None yet: filter the views, then name the filter below.", className="symphony-saved-slices-empty"
        )
        note = html.P(f"{where}: new slices are kept for this session only.", className="symphony-saved-slices-note")
        return [html.Div(items or empty, className="symphony-saved-slices-items"), note if where else None]

    @app.callback(
        Output("symphony-init", "data", allow_duplicate=True),
        Output(IDS["details"], "open"),
        Input({"type": ITEM, "index": ALL}, "n_clicks"),
        State(STATE_ID, "data"),
        State(IDS["session"], "data"),
        prevent_initial_call=True,
    )
    def apply(clicks: Any, state_data: Any, session: Any) -> tuple[Any, bool]:
        picked = dash.ctx.triggered_id
        # A menu drawn anew fires this with no click: only a real click on a known slice applies one.
        if not dash.ctx.triggered or not dash.ctx.triggered[0]["value"] or not isinstance(picked, dict):
            raise dash.exceptions.PreventUpdate
        try:
            state, lay = _current(loaded, state_data)
        except ClauseError:  # the toolbar's count says what is wrong with the state
            raise dash.exceptions.PreventUpdate from None
        if lay is None:
            raise dash.exceptions.PreventUpdate
        found = next(
            (s for s in lay.layout.slices + _session_slices(session, lay) if s.name == picked.get("index")), None
        )
        if found is None:
            raise dash.exceptions.PreventUpdate
        # "replace": the merge in assets/symphony.js takes this state whole, although the layout is the same.
        applied = state.model_copy(update={"filter": list(found.filter)}).model_dump(mode="json")
        return {**applied, "replace": True}, False

    @app.callback(
        Output(IDS["message"], "children"),
        Output(IDS["saved"], "data"),
        Output(IDS["session"], "data"),
        Output(IDS["name"], "value"),
        Input(IDS["save"], "n_clicks"),
        Input(IDS["name"], "n_submit"),
        Input({"type": SAVE_AS, "index": ALL}, "n_clicks"),
        State(IDS["name"], "value"),
        State(STATE_ID, "data"),
        State(IDS["session"], "data"),
        State(IDS["saved"], "data"),
        prevent_initial_call=True,
    )
    def save(
        clicks: Any, submits: Any, save_as: Any, name: Any, state_data: Any, session: Any, saved: Any
    ) -> tuple[Any, ...]:
        if not dash.ctx.triggered or not dash.ctx.triggered[0]["value"]:
            raise dash.exceptions.PreventUpdate
        keep = dash.no_update
        try:
            state, lay = _current(loaded, state_data)
        except ClauseError as exc:
            return _message(str(exc), "error"), keep, keep, keep
        if lay is None:
            raise dash.exceptions.PreventUpdate
        session = session if isinstance(session, dict) else {}
        kept = _session_slices(session, lay)
        counter = (saved if isinstance(saved, int) else 0) + 1
        reason = _session_reason(lay, read_only)
        if isinstance(dash.ctx.triggered_id, dict) and not reason and lay.path is not None:
            try:
                target = _save_as(lay, lay.path, kept)
            except OSError as exc:
                return _message(f"Could not save a new file: {exc.strerror or exc}.", "error"), keep, keep, keep
            text = f"Saved as {target.name}, with the slices of this session: this app now saves there."
            return _message(text, "ok"), counter, {**session, lay.slug: []}, keep
        problem, new = _new_slice(lay, name, state.filter, kept)
        if new is None:
            return _message(problem, "error"), keep, keep, keep
        offer = None
        if not reason and lay.path is not None:
            try:
                _save_to_file(lay, lay.path, new)
                return _message(f"Saved {new.name!r} in {lay.path.name}.", "ok"), counter, keep, ""
            except LayoutConflict:
                reason = (
                    f"{lay.path.name} changed on disk since this app loaded it, so it was not overwritten "
                    "(reload the page to load the new version)"
                )
                offer = html.Button(
                    f"Save as {free_name(lay.path).name}",
                    id={"type": SAVE_AS, "index": 0},
                    className="symphony-saved-slice-save-as",
                    title="This app's layout and the session's slices, as a new file beside it",
                )
            except OSError as exc:  # such as a layout inside an installed package, which is not writable
                reason = f"{lay.path.name} could not be written ({exc.strerror or exc})"
        session = {**session, lay.slug: [s.model_dump(mode="json") for s in [*kept, new]]}
        text = f"{reason}: {new.name!r} is kept for this session only."
        return [_message(text, "warning"), offer], counter, session, ""


def _current(loaded: dict[str, Any], state_data: Any) -> tuple[SymphonyState, LoadedLayout | None]:
    state = parse_state(state_data)
    lay = loaded.get(state.layout)
    return state, lay if isinstance(lay, LoadedLayout) else None


def _session_reason(lay: LoadedLayout, read_only: bool) -> str:
    """Why new slices of ``lay`` cannot go into its file ("" if they can)."""
    if read_only:
        return "This app is read-only"
    if lay.path is None:
        return "This layout was not loaded from a file"
    return ""


def _session_slices(session: Any, lay: LoadedLayout) -> list[SavedSlice]:
    """The session's slices of a layout; the store comes from the browser, so a malformed entry is left out."""
    raw = session.get(lay.slug) if isinstance(session, dict) else None
    out = []
    for item in raw if isinstance(raw, list) else []:
        try:
            saved = SavedSlice.model_validate(item)
            for clause in saved.filter:
                lay.engine.check(clause)
        except (ValidationError, ClauseError):
            continue
        out.append(saved)
    return out


def _new_slice(
    lay: LoadedLayout, name: Any, clauses: list[Clause], kept: list[SavedSlice]
) -> tuple[str, SavedSlice | None]:
    """The slice to save, or the reason it cannot be: a message for the person typing."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        return "Name the slice first.", None
    if len(name) > SLICE_NAME_LENGTH:
        return f"A slice's name has at most {SLICE_NAME_LENGTH} characters.", None
    if not clauses:
        return "Filter something first: a slice is a named filter.", None
    existing = lay.layout.slices + kept
    if any(s.name == name for s in existing):
        return f"There is a slice called {name!r} already: choose another name.", None
    if len(existing) >= MAX_SLICES:
        return f"This layout has {MAX_SLICES} slices, the most it may hold.", None
    try:
        for clause in clauses:
            lay.engine.check(clause)
    except ClauseError as exc:
        return str(exc), None
    return "", SavedSlice(name=name, filter=clauses)


def _save_to_file(lay: LoadedLayout, path: Path, new: SavedSlice) -> None:
    with SAVE_LOCK:
        layout = lay.layout.model_copy(update={"slices": [*lay.layout.slices, new]})
        lay.version = save_layout_file(path, layout, lay.version)
        lay.layout = layout


def _save_as(lay: LoadedLayout, path: Path, kept: list[SavedSlice]) -> Path:
    """Write the app's layout with the session's slices to a new file beside ``path``; the app then saves there."""
    with SAVE_LOCK:
        target = free_name(path)
        layout = lay.layout.model_copy(update={"slices": [*lay.layout.slices, *kept][:MAX_SLICES]})
        lay.version = save_layout_as(target, layout, loaded_from=path)
        lay.path, lay.layout = target, layout
    return target


def _same(a: list[Clause], b: list[Clause]) -> bool:
    """Whether two filters select the same rows by the same clauses, whichever component made each."""
    return sorted(c.key() for c in a) == sorted(c.key() for c in b)


def _item(saved: SavedSlice, *, active: bool, session: bool) -> html.Button:
    text = "; ".join(describe(c) for c in saved.filter)
    return html.Button(
        [
            html.Span(saved.name, className="symphony-saved-slice-title"),
            html.Span(text, className="symphony-saved-slice-filter", title=text),
            html.Span("this session", className="symphony-saved-slice-badge") if session else None,
        ],
        id={"type": ITEM, "index": saved.name},
        className="symphony-saved-slice" + (" active" if active else ""),
        title="Apply: replace the filter with this slice's",
    )


def _message(text: str, kind: str) -> html.Span:
    return html.Span(text, className=f"symphony-saved-slice-{kind}")
