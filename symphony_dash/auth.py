"""Optional authentication for a hosted dashboard: one shared token (a password), or the identity a trusted reverse
proxy has already checked.

With a token, every request (pages, callbacks, assets, media) must carry it in one of three ways:

- a link with ``?token=<token>`` once: the app answers with a redirect to the same address without the token and sets
  a cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) that carries the session from then on;
- HTTP basic auth: any user name, the token as the password (a browser asks for it on the first page);
- ``Authorization: Bearer <token>``, for scripts.

The cookie holds an HMAC of the token, not the token, and is the same in every worker process, so a gunicorn app
needs no shared session store; changing the token signs everybody out. Comparisons are constant-time, and the token
never appears in a log (the request lines of Werkzeug's server are redacted).

With ``header`` (say ``X-Forwarded-User``), a request whose header is set and that comes from one of
``trusted_proxies`` is let in as that user: the proxy (oauth2-proxy, an SSO gateway) signs people in. The proxy must
set or strip that header on every request, so that nobody can send it themselves.

``/_symphony/health`` stays open for load balancers (:mod:`symphony_dash.health`).

    export SYMPHONY_DASH_TOKEN="$(python -c 'import secrets; print(secrets.token_urlsafe(24))')"
    symphony-dash run layouts/ --host 0.0.0.0 --read-only
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import flask

__all__ = ["COOKIE", "AuthConfig", "from_environment", "protect"]

COOKIE = "symphony_dash_auth"
QUERY = "token"
MIN_TOKEN = 12
# Endpoints that answer without credentials: the health check, for load balancers and containers.
OPEN_ENDPOINTS = frozenset({"symphony_health"})
_COOKIE_DAYS = 30
_SECRET_IN_URL = re.compile(rf"([?&]{QUERY}=)[^&\s\"]*")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthConfig:
    """Who may see a hosted dashboard: the holders of ``token``, or the users a trusted proxy names in ``header``.

    >>> AuthConfig(token="correct-horse-battery")  # doctest: +ELLIPSIS
    AuthConfig(token=<hidden>, header=None, ...)
    """

    token: str | None = None
    header: str | None = None
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")

    def __post_init__(self) -> None:
        if self.token is None and self.header is None:
            raise ValueError("authentication needs a token or an identity header")
        if self.token is not None and len(self.token) < MIN_TOKEN:
            raise ValueError(
                f"the token is {len(self.token)} characters; use at least {MIN_TOKEN} "
                "(python -c 'import secrets; print(secrets.token_urlsafe(24))')"
            )

    def __repr__(self) -> str:  # never the token: a config may be printed or logged
        token = "<hidden>" if self.token is not None else None
        return f"AuthConfig(token={token}, header={self.header!r}, trusted_proxies={self.trusted_proxies!r})"


def from_environment(
    token_file: str | Path | None = None, header: str | None = None, env: Mapping[str, str] | None = None
) -> AuthConfig | None:
    """The authentication the environment asks for, or ``None`` for an open app.

    The token is read from ``token_file`` (else the file named by ``$SYMPHONY_DASH_TOKEN_FILE``, a Docker or
    Kubernetes secret), else from ``$SYMPHONY_DASH_TOKEN``; the identity header from ``header`` or
    ``$SYMPHONY_DASH_AUTH_HEADER``, trusted from the addresses in ``$SYMPHONY_DASH_TRUSTED_PROXIES`` (comma-separated;
    default: this machine). A token file that cannot be read raises ``OSError``.
    """
    env = os.environ if env is None else env
    token_file = token_file or env.get("SYMPHONY_DASH_TOKEN_FILE") or None
    if token_file:
        token: str | None = Path(token_file).read_text(encoding="utf-8").strip()
    else:
        token = env.get("SYMPHONY_DASH_TOKEN", "").strip() or None
    header = header or env.get("SYMPHONY_DASH_AUTH_HEADER") or None
    if token is None and header is None:
        return None
    proxies = tuple(p.strip() for p in env.get("SYMPHONY_DASH_TRUSTED_PROXIES", "").split(",") if p.strip())
    return AuthConfig(token=token, header=header, **({"trusted_proxies": proxies} if proxies else {}))


def protect(server: flask.Flask, config: AuthConfig) -> None:
    """Refuse every request to ``server`` that does not carry ``config``'s credentials (except the health check)."""
    token = config.token
    cookie = hmac.new(token.encode(), b"symphony_dash session", hashlib.sha256).hexdigest() if token else ""

    def check() -> flask.Response | None:
        request = flask.request
        if request.endpoint in OPEN_ENDPOINTS:
            return None
        proxied = config.header is not None and request.remote_addr in config.trusted_proxies
        if proxied and request.headers.get(config.header or "", "").strip():
            return None
        if token is None:
            return _refused(basic=False)
        if _same(request.cookies.get(COOKIE, ""), cookie):
            return None
        given = _credential(request)
        if given is not None and _same(given, token):
            return None
        if QUERY in request.args:
            if _same(request.args[QUERY], token):
                return _signed_in(request, cookie)
            log.warning("refused a sign-in link with a wrong token from %s", request.remote_addr)
        return _refused(basic=True)

    server.before_request(check)
    _redact_logs()


def _same(given: str, expected: str) -> bool:
    # Hashes first, so the comparison takes the same time whatever the lengths.
    digest = [hashlib.sha256(s.encode("utf-8", "surrogatepass")).digest() for s in (given, expected)]
    return hmac.compare_digest(*digest)


def _credential(request: flask.Request) -> str | None:
    """The token of an ``Authorization`` header: the password of basic auth, or a bearer token."""
    if request.authorization is None:
        return None
    if request.authorization.type == "basic":
        return request.authorization.password
    return request.authorization.token


def _signed_in(request: flask.Request, cookie: str) -> flask.Response:
    """A redirect to the address without its token (out of the history and the logs), setting the session cookie."""
    rest = urlencode([(k, v) for k, v in parse_qsl(request.query_string.decode()) if k != QUERY])
    # One leading slash: "//host" would send the browser to another site.
    response = flask.redirect("/" + request.path.lstrip("/") + (f"?{rest}" if rest else ""), code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=_COOKIE_DAYS * 86_400,
        path=request.script_root or "/",
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    return response


def _refused(*, basic: bool) -> flask.Response:
    text = (
        "This dashboard needs a sign-in: open the link with its token that you were given, or enter any user name "
        "and the token as the password."
        if basic
        else "This dashboard is signed into through its proxy."
    )
    response = flask.Response(f"<!doctype html><title>Sign in</title><p>{text}</p>\n", status=401, mimetype="text/html")
    if basic:
        response.headers["WWW-Authenticate"] = 'Basic realm="symphony_dash", charset="UTF-8"'
    return response


class _Redact(logging.Filter):
    """Blanks ``token=...`` in log records: Werkzeug's server logs each request line with its query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if f"{QUERY}=" in message:
            record.msg, record.args = _SECRET_IN_URL.sub(r"\1<hidden>", message), None
        return True


def _redact_logs() -> None:
    """Keep sign-in tokens out of Werkzeug's request log (once per process)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _Redact) for f in logger.filters):
        logger.addFilter(_Redact())
