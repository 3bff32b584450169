"""The toolbar's filter box: the whole filter as text (:mod:`symphony_dash.filter_text`), typed and read back.

The box shows every active clause, typed or made by a click, a brush or a lasso, joined by ``and``. Enter reads the
text and replaces the filter with it, through the same ``symphony-init`` "replace" path as the Slices menu:

- a clause whose text is left as it is stays what it was, with its source: the histogram that made it keeps drawing
  its brush, and a lasso (``lasso on (x, y)``) or picked instances (``3 instances``), which cannot be typed, stay;
- a clause deleted from the text is removed, wherever it came from;
- a clause typed anew, or the text of a brushed clause edited, becomes the box's own (source ``filter-box:<n>``):
  the view that made the old one lets go of it, and the new clause filters every view, that one included.

A text that cannot be read leaves the filter as it was and shows the error under the box, with the place marked.
The box offers completions (an html datalist): column names, operators, and a category's values.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html

from .component import STATE_ID
from .filter_text import MAX_FILTER_TEXT, FilterSyntaxError, completions, parse_filter, to_text
from .layout import LoadedLayout
from .state import ClauseError, literal, parse_state, quote_column

__all__ = ["IDS", "SOURCE", "control", "register_filter_box"]

IDS = {
    "box": "symphony-filter-box",
    "input": "symphony-filter-box-input",
    "options": "symphony-filter-box-options",
    "error": "symphony-filter-box-error",
}
SOURCE = "filter-box"  # typed clauses are "filter-box:1", "filter-box:2"...: one source each, so each chip removes one
MOUNTED = "symphony-page-mounted"  # the toolbar's store holding the page's layout slug
# How much of a long filter the error shows on each side of the mistake.
CONTEXT = 40


def control(lay: LoadedLayout) -> html.Div:
    """The filter box for ``lay``'s toolbar; :func:`register_filter_box` fills it and applies what is typed."""
    return html.Div(
        [
            html.Label("Filter", htmlFor=IDS["input"], className="symphony-filter-box-label"),
            dcc.Input(
                id=IDS["input"],
                type="text",
                value="",
                debounce=False,
                list=IDS["options"],
                placeholder=f"{_example(lay)}   (Enter applies)",
                spellCheck=False,
                autoComplete="off",
                maxLength=MAX_FILTER_TEXT,
                className="symphony-filter-box-input",
            ),
            html.Datalist(id=IDS["options"]),
            html.Div(id=IDS["error"], className="symphony-filter-box-error", role="alert"),
        ],
        id=IDS["box"],
        className="symphony-filter-box",
    )


def _example(lay: LoadedLayout) -> str:
    """A filter over this dataset's own columns, to show how one reads."""
    ds = lay.dataset
    parts = []
    category = next((c for c in ds.columns_of("categorical") if ds.categories(c)), None)
    if category is not None:
        parts.append(f"{quote_column(category)} == {literal(ds.categories(category)[0])}")
    number = next(iter(ds.columns_of("numeric")), None)
    if number is not None:
        low, high = lay.engine.extent(number)
        parts.append(f"{quote_column(number)} < {literal(float(f'{(low + high) / 2:.2g}'))}")
    return " and ".join(parts) or "column == 'value'"


def register_filter_box(app: dash.Dash, loaded: dict[str, Any]) -> None:
    """The filter box's callbacks in ``app``: show the filter as text, apply the typed text, offer completions."""

    @app.callback(
        Output(IDS["input"], "value"),
        Output(IDS["error"], "children"),
        Input(STATE_ID, "data"),
        Input(MOUNTED, "data"),
    )
    def show(state_data: Any, slug: Any) -> tuple[Any, Any]:
        try:
            state = parse_state(state_data)
        except ClauseError:  # the toolbar's count says what is wrong with the state
            raise dash.exceptions.PreventUpdate from None
        if state.layout != slug or not isinstance(loaded.get(slug), LoadedLayout):
            raise dash.exceptions.PreventUpdate
        return to_text(state.filter), None

    @app.callback(
        Output("symphony-init", "data", allow_duplicate=True),
        Output(IDS["error"], "children", allow_duplicate=True),
        Output(IDS["input"], "value", allow_duplicate=True),
        Input(IDS["input"], "n_submit"),
        State(IDS["input"], "value"),
        State(STATE_ID, "data"),
        State(MOUNTED, "data"),
        prevent_initial_call=True,
    )
    def apply(submits: Any, text: Any, state_data: Any, slug: Any) -> tuple[Any, Any, Any]:
        lay = loaded.get(slug) if isinstance(slug, str) else None  # the browser sends it: any JSON at all
        if not submits or not isinstance(lay, LoadedLayout):
            raise dash.exceptions.PreventUpdate
        text = text if isinstance(text, str) else ""
        try:
            state = parse_state(state_data)
            clauses = parse_filter(text, lay.dataset, current=state.filter, source=SOURCE)
            for clause in clauses:
                lay.engine.check(clause)
        except FilterSyntaxError as exc:
            return dash.no_update, _error(text, exc), dash.no_update
        except ClauseError as exc:
            return dash.no_update, _error(text, FilterSyntaxError(str(exc), 0, len(text))), dash.no_update
        if state.layout != lay.slug:
            raise dash.exceptions.PreventUpdate
        applied = state.model_copy(update={"filter": clauses}).model_dump(mode="json")
        # "replace": the merge in assets/symphony.js takes this state whole, although the layout is the same.
        return {**applied, "replace": True}, None, to_text(clauses)

    @app.callback(
        Output(IDS["options"], "children"),
        Input(IDS["input"], "value"),
        State(MOUNTED, "data"),
    )
    def complete(text: Any, slug: Any) -> list[html.Option]:
        lay = loaded.get(slug) if isinstance(slug, str) else None
        if not isinstance(lay, LoadedLayout) or not isinstance(text, str):
            return []
        return [html.Option(value=option) for option in completions(text, lay.dataset)]

    # Editing the text clears an error at once, in the browser: a stale error would point at text no longer there.
    app.clientside_callback(
        ClientsideFunction("symphonyFilterBox", "clearError"),
        Output(IDS["error"], "children", allow_duplicate=True),
        Input(IDS["input"], "value"),
        State(IDS["error"], "children"),
        prevent_initial_call=True,
    )


def _error(text: str, exc: FilterSyntaxError) -> html.Div:
    """The message, and the text around the mistake with the mistake marked."""
    start, end = min(exc.position, len(text)), min(exc.end, len(text))
    left = max(0, start - CONTEXT)
    before = ("…" if left else "") + text[left:start]
    bad = text[start:end] or " "  # the end of the text: a mark where something was expected
    after = text[end : end + CONTEXT] + ("…" if end + CONTEXT < len(text) else "")
    return html.Div(
        [
            html.Div(exc.message, className="symphony-filter-box-message"),
            html.Code([before, html.Mark(bad), after], className="symphony-filter-box-where"),
        ]
    )
