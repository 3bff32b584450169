"""The app factory: one Dash app serving every layout, each as pages, around one central state store.

``create_app("layouts/")`` loads every ``*.json`` in the folder. A broken layout gets a page that shows its errors;
the other layouts work. Components register their callbacks once per type; the clauses they emit are merged into the
central store by one clientside callback (``assets/symphony.js``), so two components emitting at once never lose one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html
from pydantic import ValidationError

from . import detail, editor, filter_box, health, jobs, registry, shared_cache, slices_bar, url_state
from .auth import AuthConfig, protect
from .component import STATE_ID, Component, error_card, register_render_all
from .dataset import Dataset, DatasetError
from .engine import Engine
from .layout import Layout, LayoutError, LoadedLayout, load_layout, slug_of
from .media import APP_KEY, path_parts, register_media_route
from .state import ClauseError, describe, parse_state
from .tray import register_tray, tray

__all__ = ["create_app"]

ASSETS = Path(__file__).parent / "assets"
log = logging.getLogger(__name__)


class BrokenLayout:
    """A layout file that failed to load, kept to show its errors on its own page."""

    def __init__(self, slug: str, error: LayoutError) -> None:
        self.slug = slug
        self.error = error


def create_app(
    layouts: str | Path | Sequence[str | Path | Layout | dict[str, Any]] = "layouts",
    *,
    data: Dataset | str | Path | None = None,
    title: str = "symphony_dash",
    notebook: bool = False,
    read_only: bool = False,
    background_jobs: bool = True,
    auth: AuthConfig | None = None,
    redis_url: str | None = None,
    **dash_kwargs: Any,
) -> dash.Dash:
    """A Dash app serving ``layouts``: a folder of ``*.json`` files, one file, or a list of files and layouts.

    ``data`` overrides every layout's data source (a :class:`Dataset` or a file path). ``notebook`` makes the app
    that :mod:`symphony_dash.notebook` shows in cells: no navigation bar, and the central state kept in the browser's
    local storage, so the iframes of one server (one origin) share it. ``read_only`` (a hosted dashboard) never
    writes layout files: it has no layout editor, and slices saved from the toolbar are kept for the browser session
    only. Notebook apps have no layout editor either (a layout is changed from Python there: ``Symphony.add``).
    ``background_jobs=False`` leaves out the toolbar's Analyses menu: an app served by several worker processes
    (:mod:`symphony_dash.serve`) without Redis, where a job would enrich only the worker that ran it. ``auth``
    refuses every request without its credentials (:mod:`symphony_dash.auth`), except ``/_symphony/health``.
    ``redis_url`` (default ``$SYMPHONY_DASH_REDIS``, except in a notebook) shares the caches of several worker
    processes through Redis (:mod:`.shared_cache`) and runs the Analyses menu's jobs on Celery workers
    (:mod:`.celery_jobs`), so a multi-worker app has that menu too.
    """
    loaded = _load_all(layouts, data)
    app = dash.Dash(
        __name__,
        title=title,
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,
        update_title=None,
        **dash_kwargs,
    )
    app.symphony_layouts = loaded  # type: ignore[attr-defined]
    app.layout = html.Div(
        [
            dcc.Location(id="symphony-url", refresh=False),
            dcc.Store(id=STATE_ID, data={}, storage_type="local" if notebook else "memory"),
            dcc.Store(id="symphony-init", data={}),
            slices_bar.session_store(),
            editor.drafts_store(),
            None if notebook else _navbar(title, loaded),
            html.Main(id="symphony-page", className="symphony-main"),
            detail.panel(),
        ],
        className="symphony-app" + (" notebook" if notebook else ""),
    )
    app.server.extensions[APP_KEY] = app
    register_media_route(
        app.server, {slug: lay.dataset.media_root for slug, lay in loaded.items() if isinstance(lay, LoadedLayout)}
    )
    if auth is not None:
        protect(app.server, auth)
    health.register(app, loaded, data)
    # A notebook's data lives in its kernel, where no Celery worker can read it: the variable is for hosted apps.
    shared = _shared_cache(redis_url if notebook else shared_cache.configured_url(redis_url))
    runner = _runner(app, loaded, shared) if background_jobs else None
    app.symphony_runner = runner  # type: ignore[attr-defined]
    editable = not (read_only or notebook)
    _register_router(app, loaded, runner, editable)
    _register_toolbar(app, loaded)
    filter_box.register_filter_box(app, loaded)
    if not notebook:  # notebook cells share their state through local storage, not URLs
        url_state.register(app, loaded, shared=shared)
    slices_bar.register_slices(app, loaded, read_only=read_only)
    detail.register_callbacks(app, loaded)
    register_tray(app, loaded)
    if runner is not None:
        jobs.register_jobs(app, runner)
    if editable:
        editor.register_editor(app, loaded)
    app.clientside_callback(
        ClientsideFunction("symphony", "merge"),
        Output(STATE_ID, "data"),
        Input({"type": ALL, "sub": "clause", "index": ALL}, "data"),
        Input({"type": "symphony-chip", "index": ALL}, "n_clicks"),
        Input({"type": "symphony-clear", "index": ALL}, "n_clicks"),
        Input({"type": "symphony-groupby", "index": ALL}, "value"),
        Input("symphony-init", "data"),
        State(STATE_ID, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("symphony", "followGroupBy"),
        Output({"type": "symphony-groupby", "index": ALL}, "value"),
        Input(STATE_ID, "data"),
        State({"type": "symphony-groupby", "index": ALL}, "value"),
        # Not when a page mounts its control: the router gave it the state's group-by, and the state may not have
        # caught up yet (a link being restored).
        prevent_initial_call=True,
    )

    def resolve(cls: type[Component], props_data: Any) -> tuple[Component, Engine]:
        if not isinstance(props_data, dict) or not isinstance(props_data.get("id"), str):
            raise ClauseError("the component's settings are missing")
        target = loaded.get(props_data.get("layout"))  # type: ignore[arg-type]
        if not isinstance(target, LoadedLayout):
            raise ClauseError(f"unknown layout {props_data.get('layout')!r}")
        props = cls.Props.model_validate(props_data.get("props") or {})
        instance = cls(props_data["id"], props, target.dataset)
        instance.saved_slices = target.layout.slices  # as they are now: a slice saved a moment ago is there
        return instance, target.engine

    # Every registered type, not only those in today's layouts: a component added later (in the UI, from a
    # notebook) finds its callbacks there. Each type registers once per app: Dash refuses overlapping MATCH outputs.
    for cls in registry.component_types().values():
        cls.register_callbacks(app, resolve)
    register_render_all(app, list(registry.component_types().values()), resolve)
    return app


def _shared_cache(url: str | None) -> shared_cache.SharedCache | None:
    if not url:
        return None
    from .demo import cache_dir  # the demo module owns the cache folder

    return shared_cache.SharedCache(url, fallback=f"this process's own caches (memory and {cache_dir()})")


def _runner(
    app: dash.Dash, loaded: dict[str, LoadedLayout | BrokenLayout], shared: shared_cache.SharedCache | None
) -> jobs.Runner:
    """Jobs on a thread of this process, or, with Redis, on Celery workers whose results every process takes."""
    if shared is None:
        return jobs.JobRunner(loaded)
    from .celery_jobs import CeleryRunner  # imports Celery: only when it is used

    runner = CeleryRunner(loaded, shared)
    runner.follow(app.server)
    return runner


def _load_all(
    layouts: str | Path | Sequence[str | Path | Layout | dict[str, Any]], data: Dataset | str | Path | None
) -> dict[str, LoadedLayout | BrokenLayout]:
    if isinstance(layouts, (str, Path)):
        path = Path(layouts)
        items: list[Any] = sorted(path.glob("*.json")) if path.is_dir() else [path]
    else:
        items = list(layouts)
    shared: dict[str, Dataset] = {}
    out: dict[str, LoadedLayout | BrokenLayout] = {}
    for item in items:
        try:
            if isinstance(item, (str, Path)):
                lay = load_layout(item, data=data, datasets=shared)
            else:
                lay = load_layout(layout=item, data=data, datasets=shared)
        except LayoutError as exc:
            log.error("%s", exc)
            slug = slug_of(Path(exc.file)) if exc.file != "<layout>" else f"layout-{len(out) + 1}"
            out[slug] = BrokenLayout(slug, exc)
            continue
        while lay.slug in out:
            lay.slug += "-2"
        out[lay.slug] = lay
    return out


def _navbar(title: str, loaded: dict[str, LoadedLayout | BrokenLayout]) -> html.Header:
    links = []
    for slug, lay in loaded.items():
        broken = isinstance(lay, BrokenLayout)
        label = slug if broken else lay.layout.title
        links.append(
            dcc.Link(
                [label, html.Span("error", className="symphony-badge") if broken else None],
                href=f"/{slug}",
                className="symphony-navlink" + (" broken" if broken else ""),
                id=f"nav-{slug}",
            )
        )
    # Installed plugins that could not be loaded: said on every page, so a missing component is never a mystery.
    plugins = None
    if registry.broken:
        names = ", ".join(registry.broken)
        plugins = html.Details(
            [
                html.Summary(
                    f"{len(registry.broken)} plugin{'s' if len(registry.broken) > 1 else ''} not loaded: {names}",
                    className="symphony-badge",
                ),
                html.Div(
                    [
                        html.P("These installed component plugins were skipped; everything else works."),
                        html.Ul([html.Li([html.Code(n), f": {why}"]) for n, why in registry.broken.items()]),
                        html.P("Fix or uninstall them, then restart the app."),
                    ],
                    className="symphony-plugin-reasons",
                ),
            ],
            id="symphony-broken-plugins",
            className="symphony-broken-plugins",
            role="alert",
        )
    return html.Header(
        [html.A(title, href="/", className="symphony-brand"), html.Nav(links, className="symphony-nav"), plugins],
        className="symphony-header-bar",
    )


def _register_router(
    app: dash.Dash, loaded: dict[str, LoadedLayout | BrokenLayout], runner: jobs.Runner | None, editable: bool
) -> None:
    @app.callback(
        Output("symphony-page", "children"),
        Output("symphony-init", "data"),
        Input("symphony-url", "pathname"),
        Input(editor.DRAFTS, "data"),  # an edit draws the page again, from the draft
        State(STATE_ID, "data"),
        State("symphony-url", "search"),
    )
    def route(pathname: str | None, drafts: Any, state: Any, search: str | None) -> tuple[Any, Any]:
        parts = path_parts(app, pathname)  # behind a proxy (a notebook server's) the path starts with a prefix
        if not loaded:
            return _message_page("No layouts", "Put a layout JSON file in the layouts folder."), dash.no_update
        slug = parts[0] if parts else next(iter(loaded))
        lay = loaded.get(slug)
        if lay is None:
            return _message_page("Not found", f"There is no layout called {slug!r}."), dash.no_update
        if isinstance(lay, BrokenLayout):
            return _error_page(lay), dash.no_update
        for problem in lay.refresh():  # the file was saved by another worker, or edited by hand
            log.warning("%s changed on disk but has problems, so the version loaded is served: %s", lay.path, problem)
        current = state.get("layout") if isinstance(state, dict) else None
        # A shared link, or back/forward to another page; not when an edit draws the page again.
        linked = url_state.restore(app, search, lay) if dash.ctx.triggered_id != editor.DRAFTS else None
        init = linked or (lay.initial_state() if current != lay.slug else dash.no_update)
        group_by = linked["group_by"] if linked else state.get("group_by", []) if current == lay.slug else []
        if len(parts) > 2 and parts[1] == "cell":  # one component, as a notebook cell shows it
            if parts[2] not in lay.instances:
                return _message_page("Not found", f"There is no component {parts[2]!r} in {lay.slug!r}."), init
            return _cell(lay, parts[2], group_by, runner), init
        entry = drafts.get(lay.slug) if editable and isinstance(drafts, dict) else None
        editing = editor.is_draft(entry)
        shown, problems = editor.draft_view(lay, entry) if editing else (lay, [])
        page_index = shown.page_index(parts[1] if len(parts) > 1 else None)
        bar = editor.bar(shown, page_index, entry, problems) if editable else None
        return _page(shown, page_index, group_by, runner, bar, editing=editing), init


def _page(
    lay: LoadedLayout,
    index: int,
    group_by: list[str],
    runner: jobs.Runner | None,
    edit_bar: html.Div | None = None,
    *,
    editing: bool = False,
) -> html.Div:
    """Page ``index`` of ``lay``, with the editor's bar; ``editing`` (a draft) puts tools on every box."""
    page = lay.layout.pages[index]
    tabs = [
        dcc.Link(
            p.title,
            # In edit mode by number: a page renamed in the draft keeps its address.
            href=f"/{lay.slug}/{i if editing else slug_of(Path(p.title))}",
            className="symphony-tab" + (" active" if i == index else ""),
        )
        for i, p in enumerate(lay.layout.pages)
    ]
    boxes = []
    for spec in page.components:
        instance, _ = lay.instances[spec.id]
        try:
            box = instance.box(spec.title, lay.slug)
        except DatasetError as exc:  # a component that cannot draw over this data (one needing the rows in memory)
            box = html.Div([error_card(spec.type, spec.id, exc)], className="symphony-box", id=f"box-{spec.id}")
        box.style = {"gridColumn": f"span {spec.width}", "gridRow": f"span {spec.height}"}
        if editing:
            box.children.insert(0, editor.box_tools(spec))
            box.className += " editing"
        boxes.append(box)
    if editing and not boxes:
        boxes.append(html.P("An empty page: add a component with + Add component.", className="symphony-edit-empty"))
    return html.Div(
        [
            html.Div(
                [
                    html.H1(lay.layout.title),
                    html.Nav(tabs, className="symphony-tabs") if len(tabs) > 1 or editing else None,
                    None if editing else edit_bar,  # "Edit layout", at the right
                ],
                className="symphony-pagehead",
            ),
            html.P(lay.layout.description, className="symphony-description") if lay.layout.description else None,
            edit_bar if editing else None,
            _toolbar(lay, group_by, runner),
            html.Div(boxes, className="symphony-grid"),
        ]
    )


def _cell(lay: LoadedLayout, component_id: str, group_by: list[str], runner: jobs.Runner | None) -> html.Div:
    """One component under the toolbar: the toolbar stays, so a cell shows the count and the active clauses."""
    instance, spec = lay.instances[component_id]
    box = instance.box(spec.title, lay.slug)
    box.style = {"gridColumn": "1 / -1", "gridRow": f"span {spec.height}"}
    return html.Div(
        [_toolbar(lay, group_by, runner), html.Div(box, className="symphony-grid")], className="symphony-cell"
    )


def _toolbar(lay: LoadedLayout, group_by: list[str], runner: jobs.Runner | None) -> html.Div:
    groupable = [c.name for c in lay.dataset.columns.values() if c.kind == "categorical"]
    return html.Div(
        [
            dcc.Store(id="symphony-page-mounted", data=lay.slug),
            filter_box.control(lay),  # first: a row of its own above the count and the chips
            html.Span(id="symphony-count", className="symphony-count"),
            html.Div(id="symphony-chips", className="symphony-chips"),
            url_state.notice(),
            slices_bar.control(lay),
            jobs.control(lay, runner) if runner is not None else None,
            html.Button("Clear all", id={"type": "symphony-clear", "index": 0}, className="symphony-clear"),
            dcc.Dropdown(
                id={"type": "symphony-groupby", "index": 0},
                options=groupable,
                value=[g for g in group_by if g in groupable],
                multi=True,
                placeholder="Group by...",
                className="symphony-groupby",
            ),
            tray(),  # last: where the row has no room for it, it wraps alone and the controls stay put
        ],
        className="symphony-toolbar",
    )


def _register_toolbar(app: dash.Dash, loaded: dict[str, LoadedLayout | BrokenLayout]) -> None:
    @app.callback(
        Output("symphony-count", "children"),
        Output("symphony-chips", "children"),
        Input(STATE_ID, "data"),
        Input("symphony-page-mounted", "data"),  # fires when a page is shown, even if the state did not change
    )
    def toolbar(state_data: Any, _: Any) -> tuple[Any, Any]:
        try:
            state = parse_state(state_data)
            lay = loaded.get(state.layout)
            if not isinstance(lay, LoadedLayout):
                raise dash.exceptions.PreventUpdate
            shown = lay.engine.where(state.filter).count()
        except (ClauseError, DatasetError, ValidationError) as exc:
            return html.Span(str(exc), className="symphony-state-error", role="alert"), []
        chips = [_chip(describe(c), f"filter:{c.source}", c.source) for c in state.filter]
        if state.selection is not None:
            chips.append(
                _chip(f"selected: {describe(state.selection)}", "selection", state.selection.source, "selection")
            )
        count = [html.B(f"{shown:,}"), f" of {len(lay.dataset):,} instances"]
        return count, chips


def _chip(text: str, key: str, source: str, kind: str = "filter") -> html.Span:
    return html.Span(
        [
            html.Span(text, className="symphony-chip-text", title=f"made by {source}"),
            html.Button(
                "×", id={"type": "symphony-chip", "index": key}, className="symphony-chip-remove", title="Remove"
            ),
        ],
        className=f"symphony-chip {kind}",
    )


def _error_page(lay: BrokenLayout) -> html.Div:
    return html.Div(
        [
            html.H1(f"Layout '{lay.slug}' could not be loaded"),
            html.P("Fix these problems in the file and restart the app; the other layouts work meanwhile."),
            html.Ul(
                [html.Li(html.Code(f"{lay.error.file}: {e}")) for e in lay.error.errors], className="symphony-errors"
            ),
        ],
        className="symphony-error-page",
        role="alert",
    )


def _message_page(title: str, text: str) -> html.Div:
    return html.Div([html.H1(title), html.P(text)], className="symphony-error-page")
