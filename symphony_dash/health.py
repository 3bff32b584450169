"""``/_symphony/health`` for load balancers and containers, and a notice when a layout's data file changed on disk.

The health check answers JSON without authentication: ``status`` (``ok``; ``degraded`` when a layout is broken or
its data file changed since it was loaded; ``down``, with HTTP 503, when no layout could be loaded), the layouts
loaded and broken, those whose data changed, and the uptime in seconds.

A data file replaced under a running app is not reloaded: selections, saved slices and links name rows by id, and a
table swapped mid-session would give them other rows silently. Instead, every page of a layout whose data file changed
(its modification time or size) says so above the page, and the health check lists it: restart the app, or with
several workers roll them, to serve the new data.
"""

from __future__ import annotations

import time
from importlib import metadata
from pathlib import Path
from typing import Any

import dash
import flask
from dash import Input, Output, html

from .dataset import Dataset
from .files import FileStamp
from .layout import LoadedLayout
from .media import path_parts

__all__ = ["HEALTH_PATH", "NOTICE_ID", "register"]

HEALTH_PATH = "/_symphony/health"
NOTICE_ID = "symphony-data-notice"


def register(app: dash.Dash, loaded: dict[str, Any], data: Dataset | str | Path | None = None) -> None:
    """Serve the health check of ``app`` and show the data-changed notice on its pages.

    ``data`` is the data override ``create_app`` was given: its file is the one every layout reads.
    """
    started = time.monotonic()
    stamps = {
        slug: stamp
        for slug, lay in loaded.items()
        if isinstance(lay, LoadedLayout) and (file := _data_file(lay, data)) and (stamp := FileStamp.of(file))
    }

    def changed() -> list[str]:
        return [slug for slug, stamp in stamps.items() if stamp.changed()]

    def health() -> flask.Response:
        good = [slug for slug, lay in loaded.items() if isinstance(lay, LoadedLayout)]
        broken = [slug for slug in loaded if slug not in good]
        stale = changed()
        status = "down" if not good else "degraded" if broken or stale else "ok"
        body = {
            "status": status,
            "layouts": {"loaded": good, "broken": broken, "data_changed": stale},
            "uptime_seconds": round(time.monotonic() - started, 1),
            "version": _version(),
        }
        response = flask.jsonify(body)
        response.status_code = 503 if status == "down" else 200
        response.headers["Cache-Control"] = "no-store"
        return response

    prefix = app.config.routes_pathname_prefix.rstrip("/")
    app.server.add_url_rule(prefix + HEALTH_PATH, "symphony_health", health)

    children = app.layout.children
    at = next((i for i, c in enumerate(children) if getattr(c, "id", None) == "symphony-page"), len(children))
    children.insert(at, html.Div(id=NOTICE_ID, className="symphony-data-notice", role="status"))

    @app.callback(Output(NOTICE_ID, "children"), Input("symphony-url", "pathname"))
    def notice(pathname: str | None) -> Any:
        parts = path_parts(app, pathname)
        slug = parts[0] if parts else next(iter(loaded), None)
        stamp = stamps.get(slug)  # type: ignore[arg-type]
        if stamp is None or not stamp.changed():
            return None
        return [
            html.B("The data changed on disk. "),
            f"{stamp.path.name} was replaced or edited after this app loaded it; these views still show the data "
            "as it was loaded. Restart the app to see the new data.",
        ]


def _data_file(lay: LoadedLayout, data: Dataset | str | Path | None) -> Path | None:
    """The file a layout's rows were read from, or ``None`` (a demo, a table given in memory)."""
    if isinstance(data, Dataset):
        return None
    if data is not None:
        return Path(data).resolve()
    source = lay.layout.data.source
    if source is None or source.startswith("demo:"):  # None: a table in another engine (Ibis)
        return None
    base = lay.path.parent if lay.path is not None else Path.cwd()
    return (base / source).resolve()


def _version() -> str:
    try:
        return metadata.version("symphony_dash")
    except metadata.PackageNotFoundError:
        return "(not installed)"
