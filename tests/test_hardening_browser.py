"""Browser tests of hardening: signing in with a token link, and the notice of a data file replaced under the app
(dash.testing's headless Chromium, against a server started here: dash_duo's own waits for a page that answers 200,
which a protected app does not before sign-in)."""

from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path
from typing import Any

import pandas as pd
from helpers import toy_frame, wait_count
from werkzeug.serving import make_server

from symphony_dash import create_app
from symphony_dash.auth import COOKIE, AuthConfig

TOKEN = "browser-token-for-tests-0123"
FOLDER = Path(tempfile.mkdtemp(prefix="symphony-hardening-browser-"))
FRAME = toy_frame(300)
FRAME.to_csv(FOLDER / "toy.csv", index=False)
(FOLDER / "toy.json").write_text(
    json.dumps(
        {
            "title": "Toy",
            "data": {"source": "toy.csv"},
            "pages": [
                {
                    "title": "Main",
                    "components": [
                        {"id": "hist", "type": "histogram", "props": {"column": "label"}},
                        {"id": "conf", "type": "histogram", "props": {"column": "confidence"}},
                    ],
                }
            ],
        }
    )
)
APP = create_app(FOLDER / "toy.json", auth=AuthConfig(token=TOKEN), background_jobs=False)
SERVER = make_server("127.0.0.1", 0, APP.server, threaded=True)
threading.Thread(target=SERVER.serve_forever, daemon=True).start()
URL = f"http://127.0.0.1:{SERVER.server_port}"


def test_hardb001_a_token_link_signs_in_and_the_token_leaves_the_address(dash_duo: Any) -> None:
    driver = dash_duo.driver
    driver.get(f"{URL}/toy")
    # Refused: the browser asks for the password (basic auth) instead of drawing the app.
    assert not driver.find_elements("css selector", "#symphony-count")
    driver.get(f"{URL}/toy?token={TOKEN}")
    wait_count(dash_duo, len(FRAME), len(FRAME))
    assert TOKEN not in driver.current_url and driver.current_url.endswith("/toy")
    cookie = driver.get_cookie(COOKIE)
    assert cookie is not None and cookie["httpOnly"] and TOKEN not in cookie["value"]
    driver.get(f"{URL}/toy")  # the cookie carries the session: no token needed any more
    wait_count(dash_duo, len(FRAME), len(FRAME))


def test_hardb002_a_replaced_data_file_is_said_above_the_page(dash_duo: Any) -> None:
    driver = dash_duo.driver
    driver.get(f"{URL}/toy?token={TOKEN}")
    wait_count(dash_duo, len(FRAME), len(FRAME))
    assert not dash_duo.find_element("#symphony-data-notice").text
    pd.concat([FRAME, FRAME.assign(id=FRAME.id + len(FRAME))]).to_csv(FOLDER / "toy.csv", index=False)
    driver.get(f"{URL}/toy")
    dash_duo.wait_for_contains_text("#symphony-data-notice", "The data changed on disk")
    assert "toy.csv" in dash_duo.find_element("#symphony-data-notice").text
    wait_count(dash_duo, len(FRAME), len(FRAME))  # still the data it loaded, consistently
    driver.save_screenshot("/work/main/shots/data_changed_notice.png")
