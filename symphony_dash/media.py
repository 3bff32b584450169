"""Serving instances' media files (images, audio) from a dataset's media folder, and nothing outside it."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import quote

import flask
from dash.exceptions import UnsupportedRelativePath

__all__ = ["MEDIA_ROUTE", "media_url", "register_media_route"]

MEDIA_ROUTE = "/symphony-media"
# Shown in place of a missing file: a grey square that says so, rather than a broken-image icon or an error page.
PLACEHOLDER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
    '<rect width="64" height="64" fill="#eef0f3"/><text x="32" y="36" font-size="9" text-anchor="middle" '
    'fill="#66717f" font-family="sans-serif">missing</text></svg>'
)


APP_KEY = "symphony_dash.app"
"""Where ``create_app`` records its Dash app on its Flask server, so a request finds the app serving it."""


def app_url(path: str) -> str:
    """``path`` (``/assets/...``) as the browser must ask for it: under the prefix of the app serving this request.

    The prefix is ``/`` unless the app sits behind a path proxy (a notebook server's, ``/user/me/proxy/8050/``). Not
    ``dash.get_relative_path``: in a callback that reads the last app created in the process, maybe another one.
    """
    app = flask.current_app.extensions.get(APP_KEY) if flask.has_request_context() else None
    return app.get_relative_path(path) if app is not None else path


def path_parts(app: Any, pathname: str | None) -> list[str]:
    """The parts of a page's path after the app's prefix (``/user/me/proxy/8050/digits/model`` -> digits, model)."""
    if not isinstance(pathname, str):  # a browser can send anything
        return []
    try:
        stripped = app.strip_relative_path(pathname or "/")
    except UnsupportedRelativePath:  # not under the app's prefix: no page of this app
        return []
    return [p for p in (stripped or "").split("/") if p]


def media_url(layout_slug: str, relative_path: str) -> str:
    """The URL of one media file of a layout's dataset."""
    return app_url(f"{MEDIA_ROUTE}/{quote(layout_slug)}/{quote(str(relative_path))}")


def resolve_media(root: Path | None, relative_path: str) -> Path | None:
    """The file under ``root`` named by ``relative_path``, or ``None`` when it is missing or points outside."""
    if root is None or not relative_path or "\x00" in relative_path:
        return None
    base = root.resolve()
    target = (base / relative_path).resolve()  # resolves '..' and links, so escapes are seen below
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


def register_media_route(server: flask.Flask, media_roots: dict[str, Path | None]) -> None:
    """Serve ``/symphony-media/<layout>/<path>`` from each layout's media root."""

    def serve(layout: str, path: str) -> Any:
        target = resolve_media(media_roots.get(layout), path)
        if target is None:
            response = flask.Response(PLACEHOLDER, status=404, mimetype="image/svg+xml")
        else:
            mimetype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            response = flask.send_file(target, mimetype=mimetype, max_age=3600)
        # A dataset's files are data, never pages: an SVG or HTML file opened from here runs no script in the app's
        # origin, and no browser guesses another type than the one named.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    server.add_url_rule(f"{MEDIA_ROUTE}/<layout>/<path:path>", "symphony_media", serve)
