"""Symphony in a notebook: the same layouts and components in cells, linked across cells, the state readable and
writable from Python.

>>> sym = Symphony(df)                          # doctest: +SKIP
>>> sym.show("scatter", color="label")          # doctest: +SKIP  (adds a scatter, shows it in this cell)
>>> sym.show("gallery")                         # doctest: +SKIP  (another cell; linked to the scatter)
>>> sym.filtered                                # doctest: +SKIP  (a DataFrame of the rows that pass the filter)
>>> sym.filter = {"label": [3, 8]}              # doctest: +SKIP  (every cell follows within half a second)
>>> sym.filter = "split == 'test' and confidence < 0.6"   # doctest: +SKIP  (as typed in the toolbar's filter box)

How it works, with no code path of its own: one app of :func:`symphony_dash.create_app` per ``Symphony`` (usually one
per kernel), served from a daemon thread on a free port; every cell is an iframe of one path of it (``/<layout>`` or
``/<layout>/cell/<component id>``). The central state lives in the browser's local storage, which every iframe of one
origin shares, so a lasso in one cell filters the others. The pages report their state to the server (Python reads
it), and ask every half second whether Python set a new one.
"""

from __future__ import annotations

import html as html_text
import json
import os
import re
import secrets
import socket
import threading
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import dash
import pandas as pd
from dash import Input, Output, State, dcc
from dash.exceptions import PreventUpdate
from pydantic import ValidationError
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import registry
from .app import create_app
from .component import STATE_ID
from .dataset import Dataset
from .export import write_report
from .files import atomic_write
from .filter_text import parse_filter
from .layout import GRID_COLUMNS, Layout, LayoutError, LoadedLayout, load_layout
from .state import Clause, ClauseError, between, eq, ids, is_null, isin, parse_state
from .state import State as SymphonyState

__all__ = ["Mode", "Symphony"]

Mode = Literal["inline", "external", "tab", "jupyterlab"]
"""How ``show`` displays a page: an iframe in the cell, a link to open, a new browser tab, or a JupyterLab tab."""

POLL_MS = 500
"""How often a page asks whether Python set a new state."""
_ROW_PX, _GAP_PX, _CHROME_PX = 150, 12, 110  # grid row, grid gap, and the toolbar with the page's padding (app CSS)


class Symphony:
    """The components of symphony_dash in notebook cells, over one dataset, with the state shared with Python.

    ``data`` is a pandas/polars DataFrame, an Arrow table, a Parquet/CSV path, a :class:`Dataset` or a built-in demo
    (``"demo:digits"``). ``layout`` is a layout file, dict or :class:`Layout`; by default one is made from the data's
    roles. ``media_root`` is the folder that relative image/audio paths are relative to. ``mode`` is how ``show``
    displays (see :data:`Mode`). ``proxy`` is the address through which the browser reaches the server when it cannot
    reach ``host`` directly, such as a remote JupyterHub with jupyter-server-proxy: ``"/user/me/proxy/{port}/"``
    (``{port}`` is filled in).
    """

    def __init__(
        self,
        data: Any,
        *,
        id_column: str | None = None,
        roles: dict[str, str] | None = None,
        layout: str | Path | Layout | Mapping[str, Any] | None = None,
        media_root: str | Path | None = None,
        mode: Mode = "inline",
        host: str = "127.0.0.1",
        port: int | None = None,
        proxy: str | None = None,
    ) -> None:
        self.dataset, self._source = _dataset(data, id_column, roles, media_root)
        self.mode = mode
        self.host = host
        self.port = port or _free_port(host)
        if layout is None:
            raw: Any = default_layout(self.dataset, self._source)
        elif isinstance(layout, (str, Path)):
            raw = load_layout(layout, data=self.dataset).layout.model_dump(mode="json")
        else:
            raw = layout.model_dump(mode="json") if isinstance(layout, Layout) else dict(layout)
        loaded = load_layout(layout=raw, data=self.dataset)  # raises LayoutError with the messages of a layout file
        self.slug = loaded.slug
        self._server_url, prefix = _split_proxy(proxy, host, self.port)
        kwargs = {"requests_pathname_prefix": prefix, "routes_pathname_prefix": "/"} if prefix != "/" else {}
        self._app = create_app([loaded.layout], data=self.dataset, title=loaded.layout.title, notebook=True, **kwargs)
        self._prefix = prefix
        self._lock = threading.Lock()
        # The state as Python knows it: set from Python, or the latest a page reported.
        self._state = SymphonyState.model_validate(loaded.initial_state())
        # A new version tells the pages to take Python's state; unique across kernels, since a kernel restarted on
        # the same port finds the old version in the browser's local storage.
        self._token, self._count = uuid.uuid4().hex[:12], 0
        self._install_sync()
        self._server: BaseWSGIServer | None = None

    # -- the state, from Python ---------------------------------------------------------------------------------

    @property
    def state(self) -> SymphonyState:
        """The whole state: filter, selection and group-by."""
        with self._lock:
            return self._state

    @property
    def filter(self) -> list[Clause]:
        """The filter's clauses. Set it to clauses, ``None``, ``{"label": [3, 8], "ink": (20, 30)}`` (a list
        means one of these values, a ``(low, high)`` tuple a range, ``None`` missing, anything else equal), or text
        as typed in the toolbar's filter box: ``"split == 'test' and confidence < 0.6"`` (a mistake raises
        :class:`~symphony_dash.filter_text.FilterSyntaxError` saying where)."""
        return list(self.state.filter)

    @filter.setter
    def filter(self, value: str | Clause | Sequence[Clause] | Mapping[str, Any] | None) -> None:
        if value is None:
            clauses: list[Clause] = []
        elif isinstance(value, str):
            clauses = parse_filter(value, self._loaded.dataset, current=self.state.filter, source="python")
        elif isinstance(value, Clause):
            clauses = [value]
        elif isinstance(value, Mapping):
            clauses = [_short_clause(column, v) for column, v in value.items()]
        else:
            clauses = list(value)
        for clause in clauses:
            if not isinstance(clause, Clause):
                raise ClauseError(f"filter: {clause!r} is not a clause; use symphony_dash.isin(...) or a dict")
            self._engine.check(clause)
        self._set(filter=clauses)

    @property
    def selection(self) -> Clause | None:
        """The selection's clause (``None`` when nothing is selected). Set it to a clause, a list of ids, a one-column
        dict such as ``{"label": 3}``, or ``None``."""
        return self.state.selection

    @selection.setter
    def selection(self, value: Clause | Sequence[Any] | Mapping[str, Any] | None) -> None:
        if value is None or isinstance(value, Clause):
            clause = value
        elif isinstance(value, Mapping):
            if len(value) != 1:
                raise ClauseError("selection: a dict must name one column, such as {'label': 3}")
            clause = _short_clause(*next(iter(value.items())))
        elif isinstance(value, (str, bytes)):
            raise ClauseError("selection: give a list of ids, a clause or a dict, not a string")
        else:
            clause = _clause(ids, list(value), what="selection")
        if clause is not None:
            self._engine.check(clause)
        self._set(selection=clause)

    @property
    def group_by(self) -> list[str]:
        """The columns the views are grouped by. Set it to a categorical column or a list of them."""
        return list(self.state.group_by)

    @group_by.setter
    def group_by(self, value: str | Sequence[str] | None) -> None:
        columns = [value] if isinstance(value, str) else list(value or [])
        for column in columns:
            if self.dataset.column(column, what="group-by column").kind != "categorical":
                raise ClauseError(f"group_by: {column!r} is not a categorical column")
        self._set(group_by=columns)

    @property
    def filtered(self) -> pd.DataFrame:
        """The rows that pass the filter."""
        return self._engine.where(self.state.filter).frame().to_pandas()

    @property
    def selected(self) -> pd.DataFrame:
        """The selected rows (none when nothing is selected)."""
        selection = self.state.selection
        query = self._engine.where([selection]) if selection is not None else self._engine.where([ids([])])
        return query.frame().to_pandas()

    # -- the layout ---------------------------------------------------------------------------------------------

    @property
    def layout(self) -> Layout:
        """The current layout (a copy: change it with :meth:`add`)."""
        return self._loaded.layout.model_copy(deep=True)

    def save_layout(self, path: str | Path, *, source: str | None = None) -> Path:
        """Write the layout as a JSON layout file that ``symphony-dash run`` opens unchanged.

        ``source`` is the data source written into it (a data file's path, or ``demo:<name>``): needed when the data
        was given as a DataFrame, which a file cannot name. By default it is the layout's own source, or the data file
        ``Symphony`` read (as a path relative to the layout file).
        """
        raw = self.layout.model_dump(mode="json", exclude_defaults=True)
        path = Path(path)
        if source is not None:
            raw["data"]["source"] = source
        elif raw["data"].get("source") and Path(raw["data"]["source"]).is_file():  # named from the layout file
            raw["data"]["source"] = os.path.relpath(Path(raw["data"]["source"]).resolve(), path.parent.resolve())
        with atomic_write(path) as partial:
            partial.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
        return path

    def export(self, path: str | Path, *, pages: Sequence[int] | None = None) -> Path:
        """Write a self-contained HTML report of the layout in the current state (filter, selection, group-by) for
        someone with no Python: it opens offline, its figures hover and zoom, and nothing in it filters.

        ``path`` is a ``.html`` file or a folder (which gets ``<layout>.html``); ``pages`` the page indexes to include
        (default: all). See :mod:`symphony_dash.export`.
        """
        return write_report(self._loaded, path, self.state, pages=pages)

    def add(
        self,
        component: str,
        id: str | None = None,
        *,
        title: str | None = None,
        width: int = GRID_COLUMNS,
        height: int = 3,
        page: int = 0,
        **props: Any,
    ) -> str:
        """Add a component of type ``component`` with ``props`` to a page of the layout; return its id.

        The props are checked as a layout file's are, with the same messages (:class:`LayoutError`).
        """
        raw = self._loaded.layout.model_dump(mode="json")
        if not 0 <= page < len(raw["pages"]):
            raise LayoutError("<layout>", [f"page: there is no page {page}; the layout has {len(raw['pages'])}"])
        taken = {c["id"] for p in raw["pages"] for c in p["components"]}
        if id is None:
            stem = re.sub(r"[^A-Za-z0-9_-]", "-", component)[:40] or "component"
            id = next(f"{stem}-{n}" for n in range(1, len(taken) + 2) if f"{stem}-{n}" not in taken)
        spec = {"type": component, "id": id, "width": width, "height": height, "props": props}
        if title is not None:
            spec["title"] = title
        raw["pages"][page]["components"].append(spec)
        self._replace(raw)
        return id

    def remove(self, component_id: str) -> None:
        """Remove a component from the layout (its cells then say it is gone)."""
        raw = self._loaded.layout.model_dump(mode="json")
        for page in raw["pages"]:
            page["components"] = [c for c in page["components"] if c["id"] != component_id]
        self._replace(raw)

    # -- showing ------------------------------------------------------------------------------------------------

    def show(
        self, what: str | None = None, *, mode: Mode | None = None, height: int | None = None, **props: Any
    ) -> None:
        """Show the whole layout (no ``what``), the component with id ``what``, or a new component of type ``what``
        made with ``props``, in this cell (``height`` in pixels; by default the component's own)."""
        if what is None:
            path, rows = self.slug, None
        else:
            if props or what not in self._loaded.instances:
                if registry.get(what) is None:
                    known = ", ".join(self._loaded.instances) or "(none)"
                    types = ", ".join(registry.component_types())
                    raise LayoutError(
                        "<layout>", [f"{what!r} is neither a component of this layout ({known}) nor a type ({types})"]
                    )
                what = self.add(what, **props)
            path, rows = f"{self.slug}/cell/{what}", self._loaded.instances[what][1].height
        self.serve()
        url = self.url(path)
        px = height or (900 if rows is None else _CHROME_PX + rows * _ROW_PX + (rows - 1) * _GAP_PX)
        _display(url, mode or self.mode, px, self._alive_url())

    def url(self, path: str = "") -> str:
        """The address of a page of this app (``""`` for the whole layout's first page)."""
        return f"{self._server_url}{self._prefix}{path or self.slug}"

    def serve(self) -> None:
        """Start the server, if it is not running: in a daemon thread, so the kernel stays free."""
        if self._server is not None:
            return
        self._server = make_server(self.host, self.port, self._app.server, threaded=True, request_handler=_Quiet)
        threading.Thread(target=self._server.serve_forever, daemon=True, name=f"symphony-{self.port}").start()

    def close(self) -> None:
        """Stop the server (cells showing it stop answering)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def app(self) -> dash.Dash:
        """The Dash app the cells show."""
        return self._app

    def __repr__(self) -> str:
        shown = ", ".join(self._loaded.instances)
        return f"Symphony({self.dataset.name!r}, {len(self.dataset)} rows, layout {self.slug!r}, components: {shown})"

    # -- internals ----------------------------------------------------------------------------------------------

    @property
    def _loaded(self) -> LoadedLayout:
        return self._app.symphony_layouts[self.slug]  # type: ignore[attr-defined]

    @property
    def _engine(self) -> Any:
        return self._loaded.engine

    @property
    def _version(self) -> str:
        return f"{self._token}:{self._count}"

    def _alive_url(self) -> str:
        return self.url("_dash-layout")

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._state = self._state.model_copy(update=changes)
            self._count += 1

    def _replace(self, raw: dict[str, Any]) -> None:
        """Serve the layout ``raw`` (validated as a file is) instead of the current one, keeping the engine's caches."""
        loaded = load_layout(layout=raw, data=self.dataset)
        old = self._loaded
        loaded.slug, loaded.engine = self.slug, old.engine
        self._app.symphony_layouts[self.slug] = loaded  # type: ignore[attr-defined]

    def _install_sync(self) -> None:
        """The two-way link between the pages' central state and Python's."""
        app = self._app
        app.layout.children.extend(
            [
                dcc.Interval(id="symphony-nb-tick", interval=POLL_MS),
                # The version of Python's state the pages took last, shared by them all like the state itself.
                dcc.Store(id="symphony-nb-seen", storage_type="local"),
            ]
        )

        @app.callback(
            Output("symphony-init", "data", allow_duplicate=True),
            Output("symphony-nb-seen", "data"),
            Input("symphony-nb-tick", "n_intervals"),
            State("symphony-nb-seen", "data"),
            prevent_initial_call=True,
        )
        def pull(_: Any, seen: Any) -> tuple[Any, str]:
            with self._lock:
                if seen == self._version:
                    raise PreventUpdate
                return {**self._state.model_dump(mode="json"), "replace": True}, self._version

        @app.callback(Input(STATE_ID, "data"), State("symphony-nb-seen", "data"))
        def report(data: Any, seen: Any) -> None:
            try:
                state = parse_state(data)
                for clause in [*state.filter, *([state.selection] if state.selection else [])]:
                    self._engine.check(clause)
            except ClauseError:
                return  # a malformed state from a browser changes nothing
            with self._lock:
                # A page that has not taken Python's latest state yet reports an older one: Python's stands.
                if state.layout == self.slug and seen == self._version:
                    self._state = state


def default_layout(dataset: Dataset, source: str = "notebook") -> dict[str, Any]:
    """A layout from the data's roles: the projection and the images side by side, label and prediction counts, and
    the rows."""
    roles = dataset.roles
    components: list[dict[str, Any]] = []
    if "x" in roles and "y" in roles:
        color = {"color": roles["label"]} if "label" in roles else {}
        components.append({"type": "scatter", "id": "scatter", "title": "Projection", "height": 3, "props": color})
    texts = dataset.columns_of("text")
    if "image" in roles or "text" in roles or texts:
        # Without an image or text role, the gallery shows the first free-text column as cards.
        props = {} if "image" in roles or "text" in roles else {"text": texts[0]}
        components.append({"type": "gallery", "id": "gallery", "title": "Instances", "height": 3, "props": props})
    for role in ("label", "prediction"):
        if role in roles:
            title = role.capitalize()
            components.append({"type": "histogram", "id": role, "title": title, "props": {"column": roles[role]}})
    components.append({"type": "table", "id": "table", "title": "Rows", "width": GRID_COLUMNS, "height": 3})
    if len(components) % 2 == 0:  # an odd one out before the table: give it the whole row
        components[-2]["width"] = GRID_COLUMNS
    return {
        "title": dataset.name if dataset.name != "data" else "Notebook",
        "data": {"source": source, "id_column": dataset.id_column},
        "pages": [{"title": "Overview", "components": components}],
    }


def _dataset(
    data: Any, id_column: str | None, roles: dict[str, str] | None, media_root: str | Path | None
) -> tuple[Dataset, str]:
    """The dataset, and the source a saved layout names for it."""
    if isinstance(data, Dataset):
        return data, "notebook"
    if isinstance(data, str) and data.startswith("demo:"):
        from . import demo

        name = data.removeprefix("demo:")
        if name not in demo.DEMOS:
            raise ValueError(f"{data!r} is not a built-in demo; the demos are: {', '.join(demo.DEMOS)}")
        frame, media = demo.load_demo(name)
        return Dataset(frame, id_column=id_column, roles=roles, name=name, media_root=media_root or media), data
    if isinstance(data, (str, Path)):
        path = Path(data)
        return Dataset(path, id_column=id_column, roles=roles, name=path.stem, media_root=media_root), str(path)
    return Dataset(data, id_column=id_column, roles=roles, media_root=media_root), "notebook"


def _short_clause(column: str, value: Any) -> Clause:
    """A clause of the short form ``{column: value}``, made by Python (its own source per column, so its chip in
    the toolbar removes only it)."""
    source = f"python:{column}"
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ClauseError(f"filter[{column!r}]: a tuple is a range (low, high), not {len(value)} values")
        return _clause(between, column, *value, source=source, what=f"filter[{column!r}]")
    if isinstance(value, (list, set, frozenset)):
        return _clause(isin, column, sorted(value) if isinstance(value, (set, frozenset)) else value, source=source)
    if value is None:
        return _clause(is_null, column, source=source)
    return _clause(eq, column, value, source=source, what=f"filter[{column!r}]")


def _clause(make: Any, *args: Any, what: str = "filter", **kwargs: Any) -> Clause:
    """A clause from a maker of :mod:`symphony_dash.state`, its validation errors as one readable ClauseError."""
    try:
        return make(*args, **kwargs)
    except ValidationError as exc:
        raise ClauseError(f"{what}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None


class _Quiet(WSGIRequestHandler):
    """No line per request: the server's log would land in the notebook's cells."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _split_proxy(proxy: str | None, host: str, port: int) -> tuple[str, str]:
    """``(server address, path prefix)`` of the pages: the server itself, or the proxy's address of it (no server
    address for a path alone: the notebook's own)."""
    if proxy is None:
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}", "/"
    parts = urlsplit(proxy.format(port=port))
    server = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return server, "/" + parts.path.strip("/") + "/" if parts.path.strip("/") else "/"


def _display(url: str, mode: str, height: int, alive: str) -> None:
    """Show ``url`` in the current cell as ``mode`` says."""
    try:
        from IPython.display import HTML, Javascript, display
    except ImportError:  # not in Jupyter (a script): the address is all there is to show
        print(f"Symphony is running on {url}")
        return

    link = html_text.escape(url, quote=True)
    if mode == "inline":
        # If the browser cannot reach the server (a remote kernel, no proxy), say so instead of a blank frame.
        box = f"symphony-unreachable-{secrets.token_hex(4)}"
        display(
            HTML(
                f'<iframe src="{link}" width="100%" height="{height}" frameborder="0" '
                f'style="border: 1px solid #dfe3e8; border-radius: 6px"></iframe>'
                f'<div id="{box}" style="display: none; color: #c0392b">This browser cannot reach '
                f'<a href="{link}" target="_blank">{link}</a>. On a remote Jupyter server, pass '
                '<code>proxy="/user/&lt;name&gt;/proxy/{port}/"</code> (jupyter-server-proxy) to Symphony, '
                'or forward the port; see "In a notebook" in the README.</div>'
                f"<script>fetch({json.dumps(alive)}, {{mode: 'no-cors'}}).catch(() => "
                f"{{document.getElementById({json.dumps(box)}).style.display = 'block';}});</script>"
            )
        )
    elif mode in ("external", "tab"):
        display(HTML(f'Symphony is running on <a href="{link}" target="_blank">{link}</a>'))
        if mode == "tab":
            display(Javascript(f"window.open({json.dumps(url)})"))
    elif mode == "jupyterlab":
        from dash._jupyter import _dash_comm  # Dash's own JupyterLab extension opens the page in a tab

        if _dash_comm is None:
            raise RuntimeError("the 'jupyterlab' mode needs Dash's JupyterLab extension; use 'inline' or 'external'")
        _dash_comm.send({"type": "show", "port": urlsplit(url).port, "url": url})
    else:
        raise ValueError(f"mode: {mode!r} is not a mode; the modes are: inline, external, tab, jupyterlab")
