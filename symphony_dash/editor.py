"""The layout editor: an edit mode in the page to add, configure, move, resize and remove components, rename and add
pages, and save the layout file.

*Edit layout* starts a draft of the layout's pages, kept in the browser tab's session storage (a reload keeps it);
while there is a draft, the page is drawn from it, every box carries tools (move, resize, settings, remove) and a bar
above the toolbar holds the page's title, the page actions and *Save* / *Discard*. Each action is answered by the
server: the draft that comes back from the browser is validated whole (:func:`symphony_dash.layout.load_layout`, so
the rules and messages are a layout file's) before anything is drawn or saved, and only its pages are taken: the data
source, filter and saved slices are the app's own. *Save* writes the file through
:func:`symphony_dash.layout_store.save_layout_file` (atomic, the previous version kept as ``.bak``) expecting the
version the draft started from, so a file changed on disk since (by hand, or by another session) is not overwritten:
the bar says so and offers to save as a new file. A settings form is generated from the component's ``Props``
(:mod:`symphony_dash.props_form`). Read-only and notebook apps have no editor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html
from pydantic import ValidationError

from . import props_form, registry
from .layout import GRID_COLUMNS, ComponentSpec, Layout, LayoutError, LoadedLayout, Page, load_layout, messages_of
from .layout_store import SAVE_LOCK, LayoutConflict, backup_path, free_name, save_layout_as, save_layout_file
from .media import path_parts

__all__ = ["DRAFTS", "bar", "box_tools", "draft_view", "drafts_store", "is_draft", "register_editor"]

DRAFTS = "symphony-editor-drafts"  # the session store of drafts, by layout slug
ACTION = "symphony-edit"  # the id type of every button of the editor: {"type": ACTION, "op": ..., "index": ...}
PAGE_TITLE = "symphony-edit-page-title"
DROP = "symphony-edit-drop"  # a box dragged onto another one (assets/editor.js): {"moved": id, "before": id}
WHERE = "symphony-edit-where"  # the page being edited: {"slug": ..., "page": index}
PANEL = "symphony-edit-panel"  # where the settings form opens
FORM = "symphony-edit-form"  # the form's own buttons and stores
SPEC = "symphony-edit-spec"  # the form's title, size and page fields: {"type": SPEC, "name": ...}
DOWNLOAD = "symphony-edit-download"
MAX_COMPONENTS = 60  # per layout: a browser must not grow a draft without bound
MAX_PAGES = 20
HEIGHTS = range(1, 7)


def drafts_store() -> dcc.Store:
    """The drafts of this browser tab, outside the pages so they survive navigation and reloads."""
    return dcc.Store(id=DRAFTS, data={}, storage_type="session")


# -- the draft ---------------------------------------------------------------------------------------------------


def is_draft(entry: Any) -> bool:
    """Whether a layout's entry in the drafts store is a draft being edited (else nothing, or the last save's note)."""
    return isinstance(entry, dict) and "pages" in entry


def start(lay: LoadedLayout) -> dict[str, Any]:
    """A new draft of ``lay``: its pages, and the file version they came from."""
    return {"base": lay.version, "pages": [p.model_dump(mode="json") for p in lay.layout.pages]}


def draft_view(lay: LoadedLayout, entry: Any) -> tuple[LoadedLayout, list[str]]:
    """The layout the draft ``entry`` describes, ready to draw, or ``lay`` itself with the draft's problems.

    The entry comes from the browser: only its pages are used, validated as a layout file is, against the data.
    """
    pages = entry.get("pages") if isinstance(entry, dict) else None
    if not isinstance(pages, list):
        return lay, ["the draft has no pages"]
    raw = {**lay.layout.model_dump(mode="json"), "pages": pages}
    try:
        shown = load_layout(layout=raw, data=lay.dataset)
    except LayoutError as exc:
        return lay, exc.errors
    if sum(len(p.components) for p in shown.layout.pages) > MAX_COMPONENTS or len(pages) > MAX_PAGES:
        return lay, [f"a layout holds at most {MAX_PAGES} pages and {MAX_COMPONENTS} components"]
    shown.slug, shown.path, shown.version, shown.engine = lay.slug, lay.path, lay.version, lay.engine
    return shown, []


def apply(pages: list[Page], op: str, page: int, target: Any) -> list[Page]:
    """The pages after the box or page action ``op`` (on component ``target`` or on page number ``page``)."""
    pages = [p.model_copy(deep=True) for p in pages]
    page = min(max(page, 0), len(pages) - 1)
    if op in _PAGE_OPS:
        return _PAGE_OPS[op](pages, page)
    where = _find(pages, target)
    if where is None:
        return pages
    p, c = where
    components = pages[p].components
    spec = components[c]
    if op == "remove":
        del components[c]
    elif op in ("earlier", "later"):
        to = c - 1 if op == "earlier" else c + 1
        if 0 <= to < len(components):
            components[c], components[to] = components[to], spec
    elif op in _SIZES:
        field, step, top = _SIZES[op]
        setattr(spec, field, min(max(getattr(spec, field) + step, 1), top))
    return pages


_SIZES = {
    "narrower": ("width", -1, GRID_COLUMNS),
    "wider": ("width", 1, GRID_COLUMNS),
    "shorter": ("height", -1, HEIGHTS[-1]),
    "taller": ("height", 1, HEIGHTS[-1]),
}


def move_before(pages: list[Page], moved: Any, before: Any) -> list[Page]:
    """The pages with component ``moved`` put just before component ``before`` (on that one's page)."""
    source, target = _find(pages, moved), _find(pages, before)
    if source is None or target is None or moved == before:
        return pages
    pages = [p.model_copy(deep=True) for p in pages]
    spec = pages[source[0]].components.pop(source[1])
    target = _find(pages, before) or target  # where it is now that ``moved`` is out
    pages[target[0]].components.insert(target[1], spec)
    return pages


def _add_page(pages: list[Page], page: int) -> list[Page]:
    titles = {p.title for p in pages}
    n = len(pages) + 1
    while f"Page {n}" in titles:
        n += 1
    return [*pages, Page(title=f"Page {n}")]


def _remove_page(pages: list[Page], page: int) -> list[Page]:
    return pages if len(pages) == 1 else pages[:page] + pages[page + 1 :]


def _move_page(step: int) -> Callable[[list[Page], int], list[Page]]:
    def move(pages: list[Page], page: int) -> list[Page]:
        to = page + step
        if 0 <= to < len(pages):
            pages[page], pages[to] = pages[to], pages[page]
        return pages

    return move


_PAGE_OPS = {
    "page-add": _add_page,
    "page-remove": _remove_page,
    "page-earlier": _move_page(-1),
    "page-later": _move_page(1),
}


def _find(pages: list[Page], component_id: Any) -> tuple[int, int] | None:
    for p, page in enumerate(pages):
        for c, spec in enumerate(page.components):
            if spec.id == component_id:
                return p, c
    return None


def new_id(pages: list[Page], type_name: str) -> str:
    """A component id not used in ``pages``: ``histogram-2``."""
    taken = {c.id for p in pages for c in p.components}
    base = "".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in type_name)[:50] or "component"
    base = base if base[0].isalpha() else f"c-{base}"
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


# -- what the page shows -------------------------------------------------------------------------------------------


def bar(shown: LoadedLayout, page: int, entry: Any, problems: list[str]) -> html.Div:
    """Above the toolbar: *Edit layout* (with the last save's message), or the edit bar while there is a draft."""
    if not is_draft(entry):
        notice = entry.get("notice") if isinstance(entry, dict) else None
        return html.Div(
            [
                html.Span(notice, className="symphony-edit-notice", role="status") if isinstance(notice, str) else None,
                _button("Edit layout", "edit", 0, "symphony-edit-start", "Add, move, resize and configure components"),
            ],
            className="symphony-edit-entry",
        )
    pages = shown.layout.pages
    title = pages[page].title
    message, tone = entry.get("message"), entry.get("tone", "ok")
    file = shown.path.name if shown.path is not None else None
    saving = f"Save writes {file} (the previous version kept as {backup_path(shown.path).name})" if file else ""
    return html.Div(
        [
            dcc.Store(id={"type": WHERE, "index": 0}, data={"slug": shown.slug, "page": page}),
            html.Div(
                [
                    html.Span("Editing", className="symphony-edit-badge"),
                    html.Label("Page title", htmlFor="symphony-edit-page-title-input", className="symphony-edit-label"),
                    dcc.Input(
                        id={"type": PAGE_TITLE, "index": 0},
                        value=title,
                        type="text",
                        maxLength=80,
                        debounce=True,
                        className="symphony-edit-page-title",
                    ),
                    _button("◀", "page-earlier", 0, "symphony-edit-icon", "Move this page one tab earlier"),
                    _button("▶", "page-later", 0, "symphony-edit-icon", "Move this page one tab later"),
                    _button("+ Page", "page-add", 0, "symphony-edit-plain", "Add an empty page at the end"),
                    _button(
                        "Delete page",
                        "page-remove",
                        0,
                        "symphony-edit-plain danger",
                        "Remove this page and its components from the draft",
                        disabled=len(pages) == 1,
                    ),
                    html.Span(className="symphony-edit-spacer"),
                    html.Button(
                        "+ Add component",
                        id={"type": FORM, "op": "add", "index": 0},
                        className="symphony-edit-primary",
                    ),
                    html.Button("Download JSON", id={"type": DOWNLOAD, "index": 0}, className="symphony-edit-plain"),
                    _button("Discard", "discard", 0, "symphony-edit-plain", "Drop the draft; the file is unchanged"),
                    _button("Save", "save", 0, "symphony-edit-save", saving or "Save the draft"),
                ],
                className="symphony-edit-row",
            ),
            html.Div(
                [
                    html.Span(message, className=f"symphony-edit-message {tone}") if isinstance(message, str) else None,
                    _button(f"Save as {free_name(shown.path).name}", "save-as", 0, "symphony-edit-plain")
                    if entry.get("conflict") and shown.path is not None
                    else None,
                    html.Ul([html.Li(p) for p in problems], className="symphony-edit-problems") if problems else None,
                ],
                className="symphony-edit-status",
                role="status",
            ),
            html.Div(id={"type": PANEL, "index": 0}, className="symphony-edit-panel"),
            dcc.Download(id={"type": DOWNLOAD, "index": 1}),
            dcc.Store(id={"type": DROP, "index": 0}),
        ],
        className="symphony-edit-bar",
    )


def box_tools(spec: Any) -> html.Div:
    """The tools on a box in edit mode: a grip to drag it elsewhere, order, width, height, settings, remove."""
    return html.Div(
        [
            html.Span("⠿", className="symphony-edit-grip", title="Drag onto another box to move this one there"),
            _button("◀", "earlier", spec.id, "symphony-edit-icon", "Move earlier on the page"),
            _button("▶", "later", spec.id, "symphony-edit-icon", "Move later on the page"),
            html.Span(
                [
                    _button("−", "narrower", spec.id, "symphony-edit-icon", "Narrower"),
                    html.Span(
                        f"↔ {spec.width}",
                        className="symphony-edit-size",
                        title=f"{spec.width} of {GRID_COLUMNS} columns wide",
                    ),
                    _button("+", "wider", spec.id, "symphony-edit-icon", "Wider"),
                ],
                className="symphony-edit-group",
            ),
            html.Span(
                [
                    _button("−", "shorter", spec.id, "symphony-edit-icon", "Shorter"),
                    html.Span(f"↕ {spec.height}", className="symphony-edit-size", title=f"{spec.height} rows high"),
                    _button("+", "taller", spec.id, "symphony-edit-icon", "Taller"),
                ],
                className="symphony-edit-group",
            ),
            html.Span(className="symphony-edit-spacer"),
            html.Button(
                "Settings",
                id={"type": FORM, "op": "settings", "index": spec.id},
                className="symphony-edit-plain",
                title=f"Settings of {spec.id}",
            ),
            _button("×", "remove", spec.id, "symphony-edit-icon danger", f"Remove {spec.id} from the page"),
        ],
        className="symphony-edit-tools",
        draggable="true",  # assets/editor.js: dropped on another box, it moves there
    )


def _button(text: str, op: str, index: Any, cls: str, title: str = "", disabled: bool = False) -> html.Button:
    return html.Button(
        text, id={"type": ACTION, "op": op, "index": index}, className=cls, title=title or None, disabled=disabled
    )


def _form(shown: LoadedLayout, page: int, component_id: str | None) -> html.Div:
    """The settings form of a component of the draft, or of a new one (with a type picker)."""
    pages = shown.layout.pages
    where = _find(pages, component_id) if component_id else None
    spec = pages[where[0]].components[where[1]] if where else None
    types = registry.component_types()
    if spec is not None:
        heading: Any = f"Settings of {spec.id} ({types[spec.type].name or spec.type})"
        picker = dcc.Store(id={"type": FORM, "op": "type", "index": 0}, data=spec.type)
        fields = _fields(shown, spec.type, spec.props)
    else:
        heading = "Add a component"
        picker = dcc.Dropdown(
            id={"type": FORM, "op": "type", "index": 0},
            options=[
                {"label": cls.name or name, "value": name, "title": cls.description}
                for name, cls in sorted(types.items(), key=lambda kv: (kv[1].name or kv[0]).lower())
            ],
            value=None,
            clearable=False,
            placeholder="Choose a component type",
            className="symphony-edit-type",
        )
        fields = html.P("Choose a type to see its settings.", className="symphony-form-help")
    page_options = [{"label": p.title, "value": i} for i, p in enumerate(pages)]
    size = [
        _spec_field(
            "Title",
            dcc.Input(
                id={"type": SPEC, "name": "title"},
                value=spec.title if spec else "",
                type="text",
                maxLength=120,
                placeholder="(the type's name)",
                className="symphony-form-input",
            ),
        ),
        _spec_choice("Width", "width", list(range(1, GRID_COLUMNS + 1)), spec.width if spec else 3),
        _spec_choice("Height", "height", list(HEIGHTS), spec.height if spec else 2),
        _spec_choice("Page", "page", page_options, where[0] if where else page),
    ]
    return html.Div(
        [
            html.Div([html.H3(heading), picker], className="symphony-edit-form-head"),
            html.Div(size, className="symphony-edit-form-spec"),
            html.Div(fields, id={"type": FORM, "op": "fields", "index": 0}, className="symphony-edit-form-fields"),
            html.Div(
                id={"type": FORM, "op": "errors", "index": 0}, className="symphony-edit-form-errors", role="alert"
            ),
            html.Div(
                [
                    html.Button(
                        "Apply" if spec else "Add to page",
                        id={"type": FORM, "op": "apply", "index": 0},
                        className="symphony-edit-primary",
                    ),
                    html.Button(
                        "Cancel", id={"type": FORM, "op": "cancel", "index": 0}, className="symphony-edit-plain"
                    ),
                    dcc.Store(id={"type": FORM, "op": "target", "index": 0}, data=component_id),
                ],
                className="symphony-edit-form-actions",
            ),
        ],
        className="symphony-edit-form",
    )


def _spec_field(label: str, control: Any) -> html.Div:
    return html.Div([html.Label(label), control], className="symphony-form-field")


def _spec_choice(label: str, name: str, options: list[Any], value: Any) -> html.Div:
    choice = dcc.Dropdown(id={"type": SPEC, "name": name}, options=options, value=value, clearable=False)
    return _spec_field(label, choice)


def _fields(shown: LoadedLayout, type_name: str, values: dict[str, Any]) -> list[Any]:
    cls = registry.get(type_name)
    if cls is None:
        return [html.P(f"{type_name!r} is not a component type.", className="symphony-edit-message error")]
    intro = html.P(cls.description, className="symphony-edit-form-about") if cls.description else None
    return [intro, *props_form.settings_fields(cls.Props, list(shown.dataset.columns), values)]


# -- callbacks -----------------------------------------------------------------------------------------------------


def register_editor(app: dash.Dash, loaded: dict[str, Any]) -> None:
    """The editor's callbacks in ``app``: box and page actions, the settings form, save and download."""

    def current(drafts: Any, where: Any) -> tuple[LoadedLayout, dict[str, Any], int]:
        """The layout, its draft and the page being edited, from stores the browser sends: any JSON at all."""
        where = where[0] if isinstance(where, list) and where and isinstance(where[0], dict) else {}
        slug, page = where.get("slug"), where.get("page")
        lay = loaded.get(slug) if isinstance(slug, str) else None
        if not isinstance(lay, LoadedLayout) or type(page) is not int:
            raise dash.exceptions.PreventUpdate
        entry = drafts.get(lay.slug) if isinstance(drafts, dict) else None
        return lay, entry if isinstance(entry, dict) else {}, page

    def valid(drafts: Any, where: Any) -> tuple[LoadedLayout, dict[str, Any], int, LoadedLayout]:
        """:func:`current`, and the draft drawn; an invalid draft changes nothing (the bar lists its problems, and
        Discard is the way out)."""
        lay, entry, page = current(drafts, where)
        shown, problems = draft_view(lay, entry)
        if problems:
            raise dash.exceptions.PreventUpdate
        return lay, entry, page, shown

    @app.callback(
        Output(DRAFTS, "data", allow_duplicate=True),
        Output("symphony-url", "pathname", allow_duplicate=True),
        Input({"type": ACTION, "op": ALL, "index": ALL}, "n_clicks"),
        Input({"type": PAGE_TITLE, "index": ALL}, "value"),
        Input({"type": DROP, "index": ALL}, "data"),
        State(DRAFTS, "data"),
        State({"type": WHERE, "index": ALL}, "data"),
        State("symphony-url", "pathname"),
        prevent_initial_call=True,
    )
    def act(clicks: Any, titles: Any, drops: Any, drafts: Any, where: Any, pathname: Any) -> tuple[Any, Any]:
        trigger = _clicked()
        drafts = dict(drafts) if isinstance(drafts, dict) else {}
        op = trigger.get("op")
        if op == "edit":  # the only action with no draft yet: the page says which layout
            lay = _layout_of(app, loaded, pathname)
            drafts[lay.slug] = start(lay)
            return drafts, _page_path(app, lay, _page_of(app, lay, pathname))
        lay, entry, page = current(drafts, where)
        if op == "discard":
            drafts.pop(lay.slug, None)
            return drafts, dash.no_update
        if op in ("save", "save-as"):
            drafts[lay.slug] = _save(lay, entry, as_new=op == "save-as")
            return drafts, dash.no_update
        _, _, _, shown = valid(drafts, where)
        pages = shown.layout.pages
        page = min(max(page, 0), len(pages) - 1)  # the browser says which page: any number at all
        if trigger.get("type") == PAGE_TITLE:
            title = titles[0].strip() if titles and isinstance(titles[0], str) else ""
            if not title or title == pages[page].title:
                raise dash.exceptions.PreventUpdate
            pages = [p.model_copy() for p in pages]
            pages[page] = pages[page].model_copy(update={"title": title[:80]})
            go = page
        elif trigger.get("type") == DROP:
            drop = drops[0] if drops and isinstance(drops[0], dict) else {}
            pages, go = move_before(pages, drop.get("moved"), drop.get("before")), page
        else:
            pages = apply(pages, str(op), page, trigger.get("index"))
            go = {"page-add": len(pages) - 1, "page-earlier": page - 1, "page-later": page + 1}.get(str(op), page)
            go = min(max(go, 0), len(pages) - 1)
        drafts[lay.slug] = {**_entry(entry, pages), "message": None}
        path = _page_path(app, lay, go)
        return drafts, path if path != pathname else dash.no_update

    @app.callback(
        Output({"type": PANEL, "index": ALL}, "children"),
        Input({"type": FORM, "op": "add", "index": ALL}, "n_clicks"),
        Input({"type": FORM, "op": "settings", "index": ALL}, "n_clicks"),
        Input({"type": FORM, "op": "cancel", "index": ALL}, "n_clicks"),
        State(DRAFTS, "data"),
        State({"type": WHERE, "index": ALL}, "data"),
        prevent_initial_call=True,
    )
    def open_form(added: Any, settings: Any, cancelled: Any, drafts: Any, where: Any) -> list[Any]:
        trigger = _clicked()
        if trigger.get("op") == "cancel":
            return [None]
        _, _, page, shown = valid(drafts, where)
        target = trigger.get("index") if trigger.get("op") == "settings" else None
        if target is not None and _find(shown.layout.pages, target) is None:
            raise dash.exceptions.PreventUpdate
        return [_form(shown, page, target)]

    @app.callback(
        Output({"type": FORM, "op": "fields", "index": ALL}, "children"),
        Input({"type": FORM, "op": "type", "index": ALL}, "value"),
        State(DRAFTS, "data"),
        State({"type": WHERE, "index": ALL}, "data"),
        prevent_initial_call=True,
    )
    def fields_of_type(chosen: Any, drafts: Any, where: Any) -> list[Any]:
        type_name = chosen[0] if isinstance(chosen, list) and chosen else None
        if not isinstance(type_name, str) or registry.get(type_name) is None:
            raise dash.exceptions.PreventUpdate
        return [_fields(valid(drafts, where)[3], type_name, {})]

    @app.callback(
        Output(DRAFTS, "data", allow_duplicate=True),
        Output({"type": FORM, "op": "errors", "index": ALL}, "children"),
        Output("symphony-url", "pathname", allow_duplicate=True),
        Input({"type": FORM, "op": "apply", "index": ALL}, "n_clicks"),
        State({"type": props_form.FIELD, "name": ALL, "kind": ALL}, "value"),
        State({"type": SPEC, "name": ALL}, "value"),
        State({"type": FORM, "op": "type", "index": ALL}, "value"),
        State({"type": FORM, "op": "type", "index": ALL}, "data"),
        State({"type": FORM, "op": "target", "index": ALL}, "data"),
        State(DRAFTS, "data"),
        State({"type": WHERE, "index": ALL}, "data"),
        State("symphony-url", "pathname"),
        prevent_initial_call=True,
    )
    def apply_form(
        clicks: Any,
        values: Any,
        spec_values: Any,
        picked: Any,
        fixed: Any,
        target: Any,
        drafts: Any,
        where: Any,
        pathname: Any,
    ) -> tuple[Any, Any, Any]:
        _clicked()
        lay, entry, _, shown = valid(drafts, where)
        field_ids = [s["id"] for s in dash.ctx.states_list[0]]
        spec_fields = {s["id"]["name"]: s.get("value") for s in dash.ctx.states_list[1]}
        component_id = target[0] if target else None
        type_name = (fixed[0] if fixed and fixed[0] else None) or (picked[0] if picked else None)
        result = _apply_settings(
            shown, type_name, component_id, list(zip(field_ids, values, strict=False)), spec_fields
        )
        if isinstance(result, list):  # the problems, shown in the form; the draft is unchanged
            return dash.no_update, [html.Ul([html.Li(e) for e in result])], dash.no_update
        pages, moved_to = result
        drafts = dict(drafts) if isinstance(drafts, dict) else {}
        drafts[lay.slug] = {**_entry(entry, pages), "message": None}
        path = _page_path(app, lay, moved_to)
        return drafts, [None], path if path != pathname else dash.no_update

    @app.callback(
        Output({"type": DOWNLOAD, "index": ALL}, "data"),
        Input({"type": DOWNLOAD, "index": ALL}, "n_clicks"),
        State(DRAFTS, "data"),
        State({"type": WHERE, "index": ALL}, "data"),
        prevent_initial_call=True,
    )
    def download(clicks: Any, drafts: Any, where: Any) -> list[Any]:
        _clicked()
        lay, _, _, shown = valid(drafts, where)
        text = json.dumps(shown.layout.model_dump(mode="json", exclude_defaults=True), indent=2, ensure_ascii=False)
        name = lay.path.name if lay.path is not None else f"{lay.slug}.json"
        return [dash.no_update, {"content": text + "\n", "filename": name, "type": "application/json"}]


def _clicked() -> dict[str, Any]:
    """The id of the button that fired the callback. A page drawn anew fires the editor's callbacks with no click
    (an ``n_clicks`` of None): only a real click, or a typed title, acts."""
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or not dash.ctx.triggered or not dash.ctx.triggered[0]["value"]:
        raise dash.exceptions.PreventUpdate
    return trigger


def _apply_settings(
    shown: LoadedLayout,
    type_name: Any,
    component_id: Any,
    fields: list[tuple[dict[str, Any], Any]],
    spec_fields: dict[str, Any],
) -> tuple[list[Page], int] | list[str]:
    """The pages with the form's component added or changed, and its page; or the problems, for the form."""
    cls = registry.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        return ["Choose a component type."]
    try:
        props = props_form.read_form(cls.Props, fields)
        cls.Props.model_validate(props)
    except props_form.FormError as exc:
        return [str(exc)]
    except ValidationError as exc:
        return messages_of(exc, owner=cls.type)
    pages = [p.model_copy(deep=True) for p in shown.layout.pages]
    if len(pages) and sum(len(p.components) for p in pages) >= MAX_COMPONENTS and component_id is None:
        return [f"A layout holds at most {MAX_COMPONENTS} components."]
    title = spec_fields.get("title")
    settings = {
        "type": cls.type,
        "title": title.strip() if isinstance(title, str) and title.strip() else None,
        "width": spec_fields.get("width"),
        "height": spec_fields.get("height"),
        "props": props,
    }
    settings = {k: v for k, v in settings.items() if v is not None}  # what is left out takes the default
    where = _find(pages, component_id) if component_id is not None else None
    if component_id is not None and where is None:
        return ["This component is no longer in the draft."]
    to = spec_fields.get("page")
    to = to if isinstance(to, int) and 0 <= to < len(pages) else (where[0] if where else 0)
    try:
        spec = ComponentSpec.model_validate({**settings, "id": component_id or new_id(pages, cls.type)})
    except ValidationError as exc:
        return messages_of(exc)
    if where is not None:
        p, c = where
        if p == to:
            pages[p].components[c] = spec
        else:
            del pages[p].components[c]
            pages[to].components.append(spec)
    else:
        pages[to].components.append(spec)
    # Column names are checked against the data here, so the form (not the bar) says what is wrong.
    raw = {**shown.layout.model_dump(mode="json"), "pages": [p.model_dump(mode="json") for p in pages]}
    try:
        load_layout(layout=raw, data=shown.dataset)
    except LayoutError as exc:
        return [e.split(".props.", 1)[-1] if ".props." in e else e for e in exc.errors]
    return pages, to


def _entry(entry: dict[str, Any], pages: list[Page]) -> dict[str, Any]:
    return {"base": entry.get("base"), "pages": [p.model_dump(mode="json") for p in pages]}


def _save(lay: LoadedLayout, entry: dict[str, Any], *, as_new: bool) -> dict[str, Any]:
    """Write the draft into the layout's file (or a new file beside it); the draft's next entry says how it went."""
    shown, problems = draft_view(lay, entry)
    if problems:
        return {**entry, "message": "The draft has problems; fix them or discard it.", "tone": "error"}
    if lay.path is None:
        text = "This layout was not loaded from a file: download its JSON and save it where the app can load it."
        return {**entry, "message": text, "tone": "warning"}
    with SAVE_LOCK:
        # The draft's pages over the app's layout as it is now: slices saved meanwhile are kept.
        layout: Layout = lay.layout.model_copy(update={"pages": shown.layout.pages})
        try:
            if as_new:
                target = free_name(lay.path)
                version = save_layout_as(target, layout, loaded_from=lay.path)
                lay.path = target
            else:
                version = save_layout_file(lay.path, layout, entry.get("base"))
        except LayoutConflict:
            text = (
                f"{lay.path.name} changed on disk since this draft began, so it was not overwritten. "
                "Save as a new file (the draft's pages over the file's version), or discard the draft."
            )
            return {**entry, "message": text, "tone": "error", "conflict": True}
        except OSError as exc:
            text = f"{lay.path.name} could not be written ({exc.strerror or exc}); the draft is kept."
            return {**entry, "message": text, "tone": "error"}
        lay.layout, lay.instances, lay.version = layout, shown.instances, version
    backup = f"; the previous version is {backup_path(lay.path).name}" if not as_new else ""
    return {"notice": f"Saved in {lay.path.name}{backup}."}


def _layout_of(app: dash.Dash, loaded: dict[str, Any], pathname: Any) -> LoadedLayout:
    parts = path_parts(app, pathname if isinstance(pathname, str) else "/")
    lay = loaded.get(parts[0]) if parts else next(iter(loaded.values()), None)
    if not isinstance(lay, LoadedLayout):
        raise dash.exceptions.PreventUpdate
    return lay


def _page_of(app: dash.Dash, lay: LoadedLayout, pathname: Any) -> int:
    parts = path_parts(app, pathname if isinstance(pathname, str) else "/")
    return lay.page_index(parts[1] if len(parts) > 1 else None)


def _page_path(app: dash.Dash, lay: LoadedLayout, page: int) -> str:
    """The path of page number ``page`` in edit mode: by number, so renaming a page does not lose it."""
    return app.get_relative_path(f"/{lay.slug}/{page}")
