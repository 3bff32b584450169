"""The view in the URL: a hosted dashboard mirrors its state (filter, selection, group-by) into one query parameter,
so a link opens the same view and the browser's back and forward buttons step through states.

The state's clauses are written as they are (a lasso is its polygon, never the ids inside it): compact JSON,
compressed (raw deflate) and base64url-encoded into ``?s=``. A state whose parameter would be longer than
:data:`MAX_URL_PARAM` characters is kept on the server under a short hash of its content, ``?k=``, in a
:class:`StateStore` (memory, and files under the cache folder so a link outlives a restart; with Redis configured,
also Redis, so a link made on one worker process or machine opens on every other). The page is the URL's path.
Component settings edited in place (a markdown text, a summary's charts) are not part of the state and stay out.

In the browser (``assets/url_state.js``), each new state pushes a history entry that holds the state itself; going
back feeds that state into the central store. Restoring a state never pushes an entry of its own. Notebook apps share
their state through local storage instead and do not use this module.

>>> from symphony_dash.state import State, isin
>>> token = encode(State(layout="digits", filter=[isin("label", [3], source="hist")]))
>>> decode(token).filter[0].value
[3]
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import threading
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html

from .component import STATE_ID
from .dataset import DatasetError
from .files import atomic_write
from .layout import LoadedLayout
from .media import path_parts
from .shared_cache import SharedCache
from .state import ClauseError, parse_state
from .state import State as SymphonyState

__all__ = ["MAX_URL_PARAM", "StateStore", "decode", "encode", "notice", "register", "restore", "search_for"]

# Longer parameters go to the store: some proxies and chat tools cut URLs beyond about 2,000 characters.
MAX_URL_PARAM = 2_000
# A stored state may be this long (encoded); parse_state's own bounds keep real states well below it.
MAX_STORED = 2_000_000
# Decompressing stops here: a small forged parameter must not inflate into gigabytes.
MAX_JSON = 8_000_000
MAX_SEARCH = MAX_STORED + 100
KEY_LENGTH = 16
_KEY = re.compile(rf"[A-Za-z0-9_-]{{{KEY_LENGTH}}}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_URL_KEY = "symphony-url-state"
TOKEN_ID = "symphony-url-token"
NOTICE_ID = "symphony-url-notice"
# Whole floats as ints, below 2**53 where a double holds every integer: the browser writes 3.0 as 3, and a state
# that went through it must encode to the same parameter, or restoring it would push a new history entry.
_EXACT = 2**53
# A link in a ticket or a chat is opened months later; Redis's own memory policy bounds the store meanwhile.
SHARED_SECONDS = 400 * 24 * 3600


class StateStore:
    """Encoded states too long for a URL, under a short hash of their content: the newest ``memory`` in memory,
    (with a ``folder``) up to ``files`` files there, so links keep working after a restart, and (with ``shared``)
    Redis, where every worker process finds them. While Redis is unreachable, memory and files serve alone."""

    def __init__(
        self,
        folder: Path | None = None,
        *,
        memory: int = 256,
        files: int = 10_000,
        shared: SharedCache | None = None,
    ) -> None:
        self.folder = folder
        self.memory = memory
        self.files = files
        self.shared = shared
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, token: str) -> str:
        """Keep ``token`` and return its key (the same key for the same token)."""
        if len(token) > MAX_STORED:
            raise ClauseError(f"the state is too large to link to ({len(token):,} characters encoded)")
        digest = hashlib.sha256(token.encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()[:KEY_LENGTH]
        self._remember(key, token)
        if self.shared is not None:
            self.shared.set(f"url-state:{key}", token, timeout=SHARED_SECONDS)
        if self.folder is not None:  # also with Redis: a link outlives a Redis without persistence
            path = self.folder / f"{key}.txt"
            if not path.is_file():
                with atomic_write(path) as partial:
                    partial.write_text(token, encoding="ascii")
                self._prune()
        return key

    def get(self, key: str) -> str | None:
        """The token kept under ``key``, or ``None``; ``key`` is checked before it names a file."""
        if not _KEY.fullmatch(key):
            raise ClauseError(f"a 'k' parameter is {KEY_LENGTH} letters, digits, '-' or '_'")
        with self._lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]
        if self.shared is not None:
            token = self.shared.get(f"url-state:{key}")
            if isinstance(token, str):
                self._remember(key, token)
                return token
        if self.folder is None:
            return None
        try:
            token = (self.folder / f"{key}.txt").read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            return None
        self._remember(key, token)
        return token

    def _remember(self, key: str, token: str) -> None:
        with self._lock:
            self._recent[key] = token
            self._recent.move_to_end(key)
            while len(self._recent) > self.memory:
                self._recent.popitem(last=False)

    def _prune(self) -> None:
        """Drop the oldest files beyond the bound (a tenth more, so this runs rarely)."""
        assert self.folder is not None
        paths = list(self.folder.glob("*.txt"))
        if len(paths) <= self.files:
            return
        paths.sort(key=lambda p: p.stat().st_mtime)
        for path in paths[: len(paths) - self.files + self.files // 10]:
            try:
                os.unlink(path)
            except OSError:
                continue


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < _EXACT:
        return int(value)
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


def encode(state: SymphonyState) -> str:
    """The state as a base64url token: its clauses as JSON (defaults left out), raw-deflated."""
    data = _canonical(state.model_dump(mode="json", exclude_defaults=True))
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.urlsafe_b64encode(packer.compress(text) + packer.flush()).decode().rstrip("=")


def decode(token: str) -> SymphonyState:
    """The state in a token made by :func:`encode`; anything else raises :class:`ClauseError` saying what is wrong."""
    if not _TOKEN.fullmatch(token):
        raise ClauseError("an 's' parameter is made of letters, digits, '-' and '_' only")
    try:
        packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise ClauseError("the 's' parameter is cut short or altered (it is not base64url)") from None
    unpacker = zlib.decompressobj(-15)
    try:
        text = unpacker.decompress(packed, MAX_JSON)
    except zlib.error:
        raise ClauseError("the 's' parameter is cut short or altered (it does not decompress)") from None
    if unpacker.unconsumed_tail:
        raise ClauseError(f"the 's' parameter unpacks to more than {MAX_JSON:,} bytes")
    if not unpacker.eof:
        raise ClauseError("the 's' parameter is cut short (its compressed data ends early)")
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        raise ClauseError("the 's' parameter is altered (it does not hold JSON)") from None
    if not isinstance(data, dict):
        raise ClauseError("the 's' parameter must hold a state object")
    return parse_state(data)


def search_for(state: SymphonyState, store: StateStore) -> str:
    """The query string of ``state``: ``?s=<token>``, or ``?k=<key>`` when the token is too long for a URL."""
    token = encode(state)
    if len(token) <= MAX_URL_PARAM:
        return f"?s={token}"
    return f"?k={store.put(token)}"


def from_search(search: str | None, store: StateStore) -> SymphonyState | None:
    """The state a query string links to, ``None`` when it names none; a bad ``s`` or ``k`` raises ClauseError."""
    if search is not None and not isinstance(search, str):  # a browser can send anything
        raise ClauseError("the page's address is not text")
    if not search or len(search) <= 1:
        return None
    if len(search) > MAX_SEARCH:
        raise ClauseError("the link is too long to hold a view")
    params = parse_qs(search.removeprefix("?"))
    if "s" in params:
        return decode(params["s"][0])
    if "k" in params:
        token = store.get(params["k"][0])
        if token is None:
            raise ClauseError("its view was stored on a server that no longer has it (restarted elsewhere or removed)")
        return decode(token)
    return None


def _checked(search: str | None, store: StateStore, lay: LoadedLayout) -> SymphonyState | None:
    """The linked state, checked against the layout's data: columns that exist, values of the right type."""
    state = from_search(search, store)
    if state is None:
        return None
    if state.layout != lay.slug:
        raise ClauseError(f"its view belongs to the layout {state.layout!r}, not {lay.slug!r}")
    for clause in [*state.filter, *([state.selection] if state.selection else [])]:
        lay.engine.check(clause)
    unknown = [g for g in state.group_by if g not in lay.dataset.columns]
    if unknown:
        raise ClauseError(f"state.group_by: there is no column {unknown[0]!r}")
    return state


def restore(app: dash.Dash, search: str | None, lay: LoadedLayout) -> dict[str, Any] | None:
    """The state the page's URL links to, as the router's initial state (it replaces the current one), or ``None``:
    no link, a link that cannot be restored (:func:`notice` says why), or an app that does not mirror its URL."""
    store = app.server.extensions.get(_URL_KEY)
    if store is None:
        return None
    try:
        state = _checked(search, store, lay)
    except (ClauseError, DatasetError):
        return None
    return None if state is None else {**state.model_dump(mode="json"), "replace": True}


def notice() -> html.Span:
    """The toolbar's place for a link that could not be restored."""
    return html.Span(id=NOTICE_ID, className="symphony-url-notice", role="status")


def register(
    app: dash.Dash, loaded: dict[str, Any], store: StateStore | None = None, *, shared: SharedCache | None = None
) -> StateStore:
    """Mirror the state of a hosted app into its URL, restore it from there, and step through it with back/forward.

    ``store`` keeps the states too long for a URL; by default files under the cache folder (``$SYMPHONY_DASH_CACHE``)
    and, with ``shared``, Redis.
    """
    if store is None:
        from .demo import cache_dir  # the demo module owns the cache folder

        store = StateStore(cache_dir() / "url-states", shared=shared)
    app.server.extensions[_URL_KEY] = store
    # Each layout's starting view, encoded once: a state equal to it gets no parameter at all.
    starts = {
        slug: encode(parse_state(lay.initial_state())) for slug, lay in loaded.items() if isinstance(lay, LoadedLayout)
    }
    app.layout.children.append(dcc.Store(id=TOKEN_ID))

    @app.callback(Output(TOKEN_ID, "data"), Input(STATE_ID, "data"), Input("symphony-url", "pathname"))
    def mirror(data: Any, pathname: str | None) -> Any:
        try:
            state = parse_state(data)
        except ClauseError:
            raise dash.exceptions.PreventUpdate from None
        parts = path_parts(app, pathname)
        lay = loaded.get(parts[0]) if parts else next(iter(loaded.values()), None)
        # Until the router's state for this path has landed, the state is the previous page's.
        if not isinstance(lay, LoadedLayout) or state.layout != lay.slug:
            raise dash.exceptions.PreventUpdate
        try:
            search = "" if encode(state) == starts[lay.slug] else search_for(state, store)
        except ClauseError:
            raise dash.exceptions.PreventUpdate from None
        return {"search": search, "path": pathname, "state": state.model_dump(mode="json")}

    app.clientside_callback(ClientsideFunction("symphony_url", "sync"), Input(TOKEN_ID, "data"))

    @app.callback(
        Output(NOTICE_ID, "children"),
        Input("symphony-page-mounted", "data"),
        State("symphony-url", "search"),
    )
    def explain(slug: Any, search: str | None) -> str:
        lay = loaded.get(slug) if isinstance(slug, str) else None
        if not isinstance(lay, LoadedLayout):
            return ""
        try:
            _checked(search, store, lay)
        except (ClauseError, DatasetError) as exc:
            return f"This link's view could not be restored: {exc}. Showing the layout's start instead."
        return ""

    return store
