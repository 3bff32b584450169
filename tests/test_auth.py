"""Who may see a hosted dashboard: a token (basic auth, a bearer header, or a sign-in link that sets a cookie), an
identity header from a trusted proxy, the open health check, no secrets in logs, read-only mode, and debug off
unless asked (HTTP through Flask's test client, no browser)."""

from __future__ import annotations

import base64
import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from helpers import toy_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from symphony_dash import cli, create_app
from symphony_dash.auth import COOKIE, AuthConfig, from_environment
from symphony_dash.dataset import Dataset
from symphony_dash.health import HEALTH_PATH

TOKEN = "s3cret-token-for-tests-0123"
MEDIA = Path(tempfile.mkdtemp(prefix="symphony-auth-media-"))
Image.new("L", (4, 4), 200).save(MEDIA / "a.png")
FRAME = toy_frame(40).assign(image="a.png")
LAYOUT = {
    "title": "Toy",
    "data": {"source": "toy.parquet"},
    "pages": [{"title": "Main", "components": [{"id": "hist", "type": "histogram", "props": {"column": "label"}}]}],
}
DATA = Dataset(FRAME, media_root=MEDIA, kinds={"image": "image"})
PROTECTED = create_app([LAYOUT], data=DATA, auth=AuthConfig(token=TOKEN), background_jobs=False)
PROXIED = create_app([LAYOUT], data=DATA, auth=AuthConfig(header="X-Forwarded-User"), background_jobs=False)
OPEN = create_app([LAYOUT], data=DATA, background_jobs=False)
READ_ONLY = create_app([LAYOUT], data=DATA, read_only=True, background_jobs=False)
# One of the JavaScript bundles the page loads (React, Dash's renderer, the components).
BUNDLE = re.search(r'src="([^"]*_dash-component-suites[^"]*)"', OPEN.server.test_client().get("/").text)[1]
COUNT_REQUEST = {
    "output": "..symphony-count.children...symphony-chips.children..",
    "outputs": [{"id": "symphony-count", "property": "children"}, {"id": "symphony-chips", "property": "children"}],
    "inputs": [
        {"id": "symphony-state", "property": "data", "value": {"layout": "toy"}},
        {"id": "symphony-page-mounted", "property": "data", "value": "toy"},
    ],
    "state": [],
    "changedPropIds": ["symphony-state.data"],
}


def _every_kind_of_request(client: Any, **kwargs: Any) -> dict[str, int]:
    """The status of a page, the app's layout, a callback, an asset, a media file and a Dash bundle."""
    return {
        "page": client.get("/toy", **kwargs).status_code,
        "layout": client.get("/_dash-layout", **kwargs).status_code,
        "dependencies": client.get("/_dash-dependencies", **kwargs).status_code,
        "callback": client.post("/_dash-update-component", json=COUNT_REQUEST, **kwargs).status_code,
        "asset": client.get("/assets/symphony.css", **kwargs).status_code,
        "media": client.get("/symphony-media/toy/a.png", **kwargs).status_code,
        "bundle": client.get(BUNDLE, **kwargs).status_code,
    }


def _basic(password: str, user: str = "anyone") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_auth001_an_open_app_answers_everything() -> None:
    assert set(_every_kind_of_request(OPEN.server.test_client()).values()) == {200}


def test_auth002_without_the_token_every_request_is_refused() -> None:
    client = PROTECTED.server.test_client()
    assert set(_every_kind_of_request(client).values()) == {401}
    response = client.get("/toy")
    assert response.headers["WWW-Authenticate"].startswith("Basic ")  # a browser asks for the password
    assert b"token" in response.data and TOKEN.encode() not in response.data
    wrong = {"headers": _basic("not-the-token-at-all")}
    assert set(_every_kind_of_request(client, **wrong).values()) == {401}
    assert set(_every_kind_of_request(client, headers={"Authorization": "Bearer nope"}).values()) == {401}
    assert client.get("/toy", headers={"Cookie": f"{COOKIE}=forged"}).status_code == 401


def test_auth003_basic_auth_or_a_bearer_token_opens_everything() -> None:
    client = PROTECTED.server.test_client()
    assert set(_every_kind_of_request(client, headers=_basic(TOKEN)).values()) == {200}
    assert set(_every_kind_of_request(client, headers={"Authorization": f"Bearer {TOKEN}"}).values()) == {200}
    answer = client.post("/_dash-update-component", json=COUNT_REQUEST, headers=_basic(TOKEN)).get_json()
    assert answer["response"]["symphony-count"]["children"][0]["props"]["children"] == f"{len(FRAME):,}"


def test_auth004_a_sign_in_link_sets_a_cookie_and_drops_the_token_from_the_address() -> None:
    client = PROTECTED.server.test_client()
    response = client.get(f"/toy?s=abc&token={TOKEN}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/toy?s=abc"  # the token leaves the address bar and the history
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert TOKEN not in cookie  # an HMAC of the token, not the token
    # The test client keeps the cookie, as a browser does: from now on everything opens.
    assert set(_every_kind_of_request(client).values()) == {200}
    other = PROTECTED.server.test_client()
    assert other.get("/toy?token=wrong-token-value-123").status_code == 401
    assert set(_every_kind_of_request(other).values()) == {401}


def test_auth005_the_health_check_stays_open() -> None:
    for app in (PROTECTED, PROXIED, OPEN):
        response = app.server.test_client().get(HEALTH_PATH)
        assert response.status_code == 200 and response.get_json()["status"] == "ok"
    # Only that exact endpoint: a page path that ends like it is still refused.
    assert PROTECTED.server.test_client().get("/toy" + HEALTH_PATH).status_code == 401


def test_auth006_a_trusted_proxys_identity_header_lets_its_user_in() -> None:
    client = PROXIED.server.test_client()
    user = {"X-Forwarded-User": "ada@example.org"}
    assert set(_every_kind_of_request(client, headers=user).values()) == {200}
    assert set(_every_kind_of_request(client).values()) == {401}
    assert client.get("/toy", headers={"X-Forwarded-User": "  "}).status_code == 401
    # The same header sent from an address that is not the proxy's is not believed.
    outside = {"headers": user, "environ_base": {"REMOTE_ADDR": "10.1.2.3"}}
    assert set(_every_kind_of_request(client, **outside).values()) == {401}


def test_auth007_the_token_comes_from_a_file_or_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    assert from_environment(secret, env={}) == AuthConfig(token=TOKEN)
    assert from_environment(env={"SYMPHONY_DASH_TOKEN_FILE": str(secret)}) == AuthConfig(token=TOKEN)
    assert from_environment(env={"SYMPHONY_DASH_TOKEN": TOKEN}) == AuthConfig(token=TOKEN)
    assert from_environment(env={}) is None
    proxied = from_environment(
        env={"SYMPHONY_DASH_AUTH_HEADER": "X-User", "SYMPHONY_DASH_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2"}
    )
    assert proxied == AuthConfig(header="X-User", trusted_proxies=("10.0.0.1", "10.0.0.2"))
    with pytest.raises(ValueError, match="at least 12"):
        from_environment(env={"SYMPHONY_DASH_TOKEN": "short"})
    with pytest.raises(OSError):
        from_environment(tmp_path / "missing", env={})
    assert TOKEN not in repr(AuthConfig(token=TOKEN)) and TOKEN not in str(AuthConfig(token=TOKEN))


def test_auth008_no_token_reaches_a_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = PROTECTED.server.test_client()
    client.get("/toy?token=a-wrong-guess-of-it")
    client.get(f"/toy?token={TOKEN}")
    client.get("/toy", headers=_basic(TOKEN))
    # Werkzeug's server logs each request line with its query string; the filter blanks the token there.
    logging.getLogger("werkzeug").info('%s - - "%s" %s -', "127.0.0.1", f"GET /toy?s=1&token={TOKEN} HTTP/1.1", 303)
    text = caplog.text
    assert TOKEN not in text and "a-wrong-guess-of-it" not in text
    assert "token=<hidden>" in text and "refused a sign-in link" in text


def test_auth009_read_only_mode_has_no_editor_and_no_saving() -> None:
    def outputs(app: Any) -> str:
        return json.dumps([d["output"] for d in app.server.test_client().get("/_dash-dependencies").get_json()])

    editable, read_only = outputs(OPEN), outputs(READ_ONLY)
    assert "symphony-editor-drafts.data" in editable and "symphony-edit-panel" in editable
    assert "symphony-editor-drafts.data" not in read_only and "symphony-edit" not in read_only
    page = READ_ONLY.server.test_client().post(
        "/_dash-update-component",
        json={
            "output": "..symphony-page.children...symphony-init.data..",
            "outputs": [{"id": "symphony-page", "property": "children"}, {"id": "symphony-init", "property": "data"}],
            "inputs": [
                {"id": "symphony-url", "property": "pathname", "value": "/toy"},
                {"id": "symphony-editor-drafts", "property": "data", "value": {"toy": {"pages": []}}},
            ],
            "state": [
                {"id": "symphony-state", "property": "data", "value": {}},
                {"id": "symphony-url", "property": "search", "value": ""},
            ],
            "changedPropIds": ["symphony-url.pathname"],
        },
    )
    assert page.status_code == 200 and "Edit layout" not in page.get_data(as_text=True)


def test_auth010_debug_is_off_unless_asked_and_run_reads_the_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = tmp_path / "toy.json"
    layout.write_text(json.dumps({**LAYOUT, "data": {"source": "demo:digits"}}))
    served: list[dict[str, Any]] = []
    monkeypatch.setattr(cli, "_serve", lambda *args, **kwargs: served.append(kwargs) or 0)
    monkeypatch.setenv("SYMPHONY_DASH_TOKEN", TOKEN)
    assert cli.main(["run", str(layout)]) == 0
    assert served[-1]["debug"] is False and served[-1]["auth"] == AuthConfig(token=TOKEN)
    assert cli.main(["run", str(layout), "--debug", "--host", "0.0.0.0"]) == 0
    assert served[-1]["debug"] is True and "--debug on 0.0.0.0" in capsys.readouterr().err
    monkeypatch.setenv("SYMPHONY_DASH_TOKEN", "short")
    assert cli.main(["run", str(layout)]) == 2 and "at least 12" in capsys.readouterr().err


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    # Header values are Latin-1 on the wire, one line each.
    authorization=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=80)
    | st.sampled_from(["Basic", "Basic ???", "Bearer", "Digest x", "Basic " + "A" * 5000]),
    cookie=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=";,"), max_size=80),
    token=st.text(max_size=80),
    path=st.sampled_from(["/toy", "//evil.example", "/_dash-layout", "/assets/../app.py", "/symphony-media/toy/a.png"]),
)
def test_auth011_no_forged_credential_gets_in(authorization: str, cookie: str, token: str, path: str) -> None:
    client = PROTECTED.server.test_client()
    client.set_cookie(COOKIE, cookie)
    response = client.get(path, query_string={"token": token}, headers={"Authorization": authorization})
    assert response.status_code == 401, (authorization, cookie, token, path)
    assert b"Traceback" not in response.data
