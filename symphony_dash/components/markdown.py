"""markdown: a note beside the views, written in Markdown and edited in place.

``{count}`` and ``{total}`` in the text show the number of instances that pass the filter and the number of all
instances, and follow the filter. They are replaced as plain text (the note is never a format string); there is no
escape for a literal ``{count}``. Raw HTML in the note is shown as text, never run.

Edit opens the text in a box; Save shows the new note at once. The saved text lives in the browser tab's session
storage, so it stays while the person moves between pages and layouts; writing it into the layout file is the layout
editor's job. A saved note remembers the text it replaced: once the layout file says something else, the file wins.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html
from pydantic import Field

from ..component import Clientside, Component, Props, Slot, View
from ..registry import register

__all__ = ["Markdown", "MarkdownProps"]

MAX_TEXT = 20_000
_EMPTY = "*An empty note: click Edit to write one.*"

# The props store of a component is made again from the layout whenever its page is shown, so the saved text goes
# into a store of its own, in session storage, keyed by layout (ids are only unique within a layout).
_SAVE = """
function (clicks, draft, saved, props) {
    if (!clicks || !props || typeof draft !== "string") {
        return window.dash_clientside.no_update;
    }
    const notes = Object.assign({}, saved);
    // "at" makes saving the same text again a change, so the editor still closes.
    notes[props.layout] = {from: props.props.text, text: draft, at: Date.now()};
    return notes;
}
"""


class MarkdownProps(Props):
    text: str = Field(
        "",
        max_length=MAX_TEXT,
        description="The note, in Markdown. {count} and {total} show the filtered and the total instance counts.",
    )


@register
class Markdown(Component):
    """A Markdown note with live instance counts, edited in place (Edit, Save, Cancel)."""

    type = "markdown"
    name = "Note"
    description = "A note in Markdown. {count} and {total} show the instance counts. Edit it in place with Edit."
    Props = MarkdownProps
    outputs = (Slot("note", "children"), Slot("root", "className"), Slot("draft", "value"))
    inputs = (Slot("edit", "n_clicks"), Slot("cancel", "n_clicks"), Slot("saved", "data"))
    clientside = (
        Clientside(
            _SAVE,
            inputs=(Slot("save", "n_clicks"),),
            output=Slot("saved", "data"),
            state=(Slot("draft", "value"), Slot("saved", "data"), Slot("props", "data")),
        ),
    )

    def layout(self) -> html.Div:
        return html.Div(
            [
                html.Div(
                    [
                        html.Button("Edit", id=self.id("edit"), className="symphony-note-edit", title="Edit the note"),
                        dcc.Markdown(id=self.id("note"), dangerously_allow_html=False, link_target="_blank"),
                    ],
                    className="symphony-note-view",
                ),
                html.Div(
                    [
                        dcc.Textarea(id=self.id("draft"), className="symphony-note-draft", maxLength=MAX_TEXT),
                        html.Div(
                            [
                                html.Button("Save", id=self.id("save"), className="symphony-note-save"),
                                html.Button("Cancel", id=self.id("cancel"), className="symphony-note-cancel"),
                                html.Span("Markdown; {count} and {total} show the instance counts."),
                            ],
                            className="symphony-note-actions",
                        ),
                    ],
                    className="symphony-note-editor",
                ),
                dcc.Store(id=self.id("saved"), storage_type="session"),
            ],
            id=self.id("root"),
            className="symphony-note",
        )

    def render(self, view: View) -> tuple[Any, Any, Any]:
        text = self._text(view)
        note = _fill(text, view) if text.strip() else _EMPTY
        if view.trigger == "edit.n_clicks":
            return note, "symphony-note editing", text
        if view.trigger in ("cancel.n_clicks", "saved.data"):
            return note, "symphony-note", dash.no_update
        # A new filter updates the counts and leaves an open editor and its draft alone.
        return note, dash.no_update, dash.no_update

    def _text(self, view: View) -> str:
        """The text saved in this session for this layout's note, else the layout's own."""
        saved = view.inputs.get("saved.data")
        entry = saved.get(view.state.layout) if isinstance(saved, dict) else None
        if not isinstance(entry, dict) or entry.get("from") != self.props.text:
            return self.props.text
        text = entry.get("text")
        return text if isinstance(text, str) and len(text) <= MAX_TEXT else self.props.text


def _fill(text: str, view: View) -> str:
    """The text with its count placeholders replaced; counted only when the text asks for them."""
    if "{count}" in text:
        text = text.replace("{count}", f"{view.data.count():,}")
    if "{total}" in text:
        text = text.replace("{total}", f"{len(view.dataset):,}")
    return text
