"""Tests of the detail panel: hovering or clicking an instance in the scatter, the gallery or the table shows its media
and metadata; audio plays in gallery tiles and in the panel, text shows as text, a missing file shows its name; and
the checks of what the browser sends (dash.testing, headless Chromium, over the digits demo and a toy audio table)."""

from __future__ import annotations

import math
import struct
import tempfile
import wave
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
from dash.testing.wait import until
from helpers import PLOT, css, retry_stale, settle, wait_count
from selenium.webdriver.common.action_chains import ActionChains

from symphony_dash import Dataset, Engine, State, View, create_app
from symphony_dash.component import known_id
from symphony_dash.components.gallery import Gallery, GalleryProps
from symphony_dash.components.scatter import Scatter, ScatterProps
from symphony_dash.components.table import Table, TableProps
from symphony_dash.demo import prepare_digits
from symphony_dash.media import MEDIA_ROUTE, media_url

DIGITS, _ = prepare_digits()
DIGITS_SLUG = "detail-test"
DIGITS_LAYOUT = {
    "title": "Detail test",
    "data": {"source": "demo:digits", "id_column": "id"},
    "pages": [
        {
            "title": "Main",
            "components": [
                {"type": "scatter", "id": "proj", "width": 3, "height": 3},
                {"type": "gallery", "id": "gallery", "width": 3, "height": 3, "props": {"page_size": 12}},
                {
                    "type": "table",
                    "id": "rows",
                    "width": 6,
                    "height": 2,
                    "props": {"columns": ["id", "label", "split"]},
                },
            ],
        }
    ],
}


def _write_clips(folder: Path, n: int) -> pd.DataFrame:
    """``n`` short sine tones as WAV files in ``folder/clips``, and a table naming them (the last file is missing)."""
    (folder / "clips").mkdir(parents=True, exist_ok=True)
    rate = 8000
    for i in range(n - 1):
        tone = [int(8000 * math.sin(2 * math.pi * (220 + 110 * i) * t / rate)) for t in range(rate // 4)]
        with wave.open(str(folder / "clips" / f"clip{i}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(struct.pack(f"<{len(tone)}h", *tone))
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "clip": [f"clips/clip{i}.wav" for i in range(n)],
            "transcript": [f"utterance {i}: the quick brown fox says {'hello ' * (i + 1)}".strip() for i in range(n)],
            "label": ["yes", "no"] * (n // 2) + ["yes"] * (n % 2),
            "duration": [0.25] * n,
        }
    )
    frame.to_csv(folder / "speech.csv", index=False)
    return frame


AUDIO_DIR = Path(tempfile.gettempdir()) / "symphony-detail-test"  # rewritten by each run
SPEECH = _write_clips(AUDIO_DIR, 5)
AUDIO_SLUG = "speech-test"
AUDIO_LAYOUT = {
    "title": "Speech test",
    "data": {"source": str(AUDIO_DIR / "speech.csv"), "roles": {"audio": "clip", "text": "transcript"}},
    "pages": [
        {
            "title": "Main",
            "components": [
                {"type": "gallery", "id": "clips", "width": 3, "height": 3},
                {"type": "gallery", "id": "texts", "width": 3, "height": 3, "props": {"text": "transcript"}},
            ],
        }
    ],
}
APP = create_app([DIGITS_LAYOUT, AUDIO_LAYOUT])

PANEL = "#symphony-detail"
TITLE = "#symphony-detail-title .value"
SCATTER = css("scatter", "graph", "proj")


def start(dash_duo: Any, slug: str = DIGITS_SLUG, total: int = len(DIGITS)) -> None:
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.start_server(APP)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/{slug}")
    wait_count(dash_duo, total, total)


def fields(dash_duo: Any) -> dict[str, str]:
    """The panel's metadata as the browser shows it: name to text."""
    script = """
        const dl = document.querySelector('.symphony-detail-fields');
        const out = {};
        if (!dl) return out;
        dl.querySelectorAll('dt').forEach(dt => { out[dt.textContent] = dt.nextElementSibling.textContent; });
        return out;"""
    return dash_duo.driver.execute_script(script)


def wait_shown(dash_duo: Any, instance_id: Any) -> None:
    """Wait until the panel is open and shows the instance ``instance_id``."""
    dash_duo.wait_for_class_to_equal(PANEL, "symphony-detail open")
    dash_duo.wait_for_text_to_equal(TITLE, str(instance_id))


def panel_media(dash_duo: Any, tag: str) -> str | None:
    """The ``src`` of the panel's image or audio element, as the page names it (a path under the media route)."""
    script = (
        "const e = document.querySelector('.symphony-detail-media ' + arguments[0]); return e && e.getAttribute('src');"
    )
    return dash_duo.driver.execute_script(script, tag)


def assert_digit_shown(dash_duo: Any, row: pd.Series) -> None:
    wait_shown(dash_duo, row.id)
    assert panel_media(dash_duo, "img") == media_url(DIGITS_SLUG, row.image)
    shown = fields(dash_duo)
    assert shown["label"] == str(row.label) and shown["prediction"] == str(row.prediction)
    assert shown["confidence"] == f"{row.confidence:.4g}"
    assert shown["embedding"].startswith(f"{len(row.embedding)} values")


def wait_selection_chip(dash_duo: Any, text: str) -> None:
    dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip.selection .symphony-chip-text", text)


def central_selection(dash_duo: Any) -> dict[str, Any]:
    """The selection in the app's central store (source, op, value), read from Dash's own state in the browser."""
    script = (
        "const s = window.store.getState(); let node = s.layout;"
        "for (const k of s.paths.strs['symphony-state']) node = node[k];"
        "const c = (node.props.data || {}).selection; return c ? {source: c.source, op: c.op, value: c.value} : {};"
    )
    return dash_duo.driver.execute_script(script)


def isolated_point(frame: pd.DataFrame) -> pd.Series:
    """The row whose point lies farthest from every other (on axes scaled alike), so the mouse finds it alone."""
    xy = frame[["x", "y"]].to_numpy()
    xy = (xy - xy.min(axis=0)) / (xy.max(axis=0) - xy.min(axis=0))
    distance = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(distance, np.inf)
    return frame.iloc[int(distance.min(axis=1).argmax())]


def hover_point(dash_duo: Any, x: float, y: float) -> None:
    """Move the mouse over the data point (x, y) of the scatter, as a person would."""

    def hover() -> None:
        layer = dash_duo.find_element(SCATTER).find_element("css selector", ".nsewdrag")
        # Plotly's own axis maps give the pixel of a data point, measured from the plot area's top-left corner.
        script = PLOT + "return [g._fullLayout.xaxis.d2p(arguments[1]), g._fullLayout.yaxis.d2p(arguments[2])];"
        px, py = (round(p) for p in dash_duo.driver.execute_script(script, SCATTER, x, y))
        ActionChains(dash_duo.driver).move_to_element_with_offset(layer, px, py).perform()

    retry_stale(hover)


# -- browser tests ---------------------------------------------------------------------------------------------------


def test_detail001_hovering_a_scatter_point_shows_it(dash_duo: Any) -> None:
    start(dash_duo)
    dash_duo.wait_for_element(SCATTER + " .nsewdrag")
    assert "open" not in dash_duo.find_element(PANEL).get_attribute("class")
    row = isolated_point(DIGITS)
    hover_point(dash_duo, row.x, row.y)
    assert_digit_shown(dash_duo, row)
    settle(dash_duo)
    dash_duo.driver.save_screenshot("/work/main/shots/detail_scatter.png")

    # Close hides the panel; the page takes the whole width again.
    dash_duo.find_element("#symphony-detail-close").click()
    dash_duo.wait_for_class_to_equal(PANEL, "symphony-detail")


def test_detail002_clicking_a_gallery_tile_shows_it_and_selects_it(dash_duo: Any) -> None:
    start(dash_duo)
    items = css("gallery", "grid", "gallery") + " .symphony-gallery-tile img"
    dash_duo.wait_for_element(items)
    retry_stale(lambda: dash_duo.find_elements(items)[3].click())
    assert_digit_shown(dash_duo, DIGITS.iloc[3])
    wait_selection_chip(dash_duo, "selected: 1 instance")
    retry_stale(lambda: dash_duo.find_elements(items)[5].click())
    assert_digit_shown(dash_duo, DIGITS.iloc[5])
    wait_selection_chip(dash_duo, "selected: 2 instances")
    # Clicking a selected tile unselects it, and shows it all the same.
    retry_stale(lambda: dash_duo.find_elements(items)[3].click())
    assert_digit_shown(dash_duo, DIGITS.iloc[3])
    wait_selection_chip(dash_duo, "selected: 1 instance")


def test_detail003_clicking_a_table_row_shows_it_and_select_makes_it_the_selection(dash_duo: Any) -> None:
    start(dash_duo)
    row = DIGITS.iloc[7]
    cell = css("table", "grid", "rows") + " .ag-row[row-index='7'] .ag-cell[col-id='split']"
    dash_duo.wait_for_element(cell)
    retry_stale(lambda: dash_duo.find_element(cell).click())
    assert_digit_shown(dash_duo, row)
    until(lambda: central_selection(dash_duo).get("source") == "rows", timeout=5)
    # The panel's Select button makes the instance shown the selection, as its own.
    dash_duo.find_element("#symphony-detail-select").click()
    until(lambda: central_selection(dash_duo) == {"source": "detail", "op": "ids", "value": [int(row.id)]}, timeout=5)
    wait_selection_chip(dash_duo, "selected: 1 instance")


def test_detail004_audio_plays_in_tiles_and_in_the_panel_and_text_shows_as_text(dash_duo: Any) -> None:
    start(dash_duo, AUDIO_SLUG, len(SPEECH))
    tiles = css("gallery", "grid", "clips") + " .symphony-gallery-item"
    dash_duo.wait_for_element(tiles + " audio")
    sources = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(t => {"
        "  const a = t.querySelector('audio'), m = t.querySelector('.symphony-media.missing');"
        "  return a ? a.getAttribute('src') : 'missing: ' + m.textContent; });",
        tiles,
    )
    prefix = f"{MEDIA_ROUTE}/{AUDIO_SLUG}/"
    # The last clip has no file: its tile names the file instead of showing a broken player.
    assert sources[:-1] == [prefix + clip for clip in SPEECH["clip"][:-1]]
    assert sources[-1] == "missing: missing audio" + Path(SPEECH["clip"].iloc[-1]).name
    for src in sources[:-1]:
        response = APP.server.test_client().get(unquote(src))
        assert response.status_code == 200 and response.mimetype.startswith("audio/")
        assert response.data[:4] == b"RIFF"

    # The play button plays the clip in the tile; it neither selects the instance nor opens the panel.
    player = dash_duo.find_elements(tiles + " audio")[0]
    ActionChains(dash_duo.driver).move_to_element_with_offset(player, 12, 15).click().perform()
    until(lambda: dash_duo.driver.execute_script("return arguments[0].currentTime", player) > 0, timeout=5)
    assert "open" not in dash_duo.find_element(PANEL).get_attribute("class")
    assert dash_duo.driver.execute_script("return document.querySelector('.symphony-chip.selection')") is None

    # Clicking a tile's caption shows it in the panel with a player; its transcript is there in full.
    retry_stale(lambda: dash_duo.find_elements(tiles + " .caption")[1].click())
    wait_shown(dash_duo, 1)
    assert panel_media(dash_duo, "audio") == prefix + SPEECH["clip"][1]
    dash_duo.wait_for_text_to_equal(".symphony-detail-media .symphony-media.text", SPEECH.transcript[1])
    assert fields(dash_duo)["label"] == SPEECH.label[1]
    # The browser can load and decode the file: the player knows the clip's length.
    script = "const a = document.querySelector('.symphony-detail-media audio'); return a && a.duration;"
    until(lambda: abs((dash_duo.driver.execute_script(script) or 0) - 0.25) < 0.01, timeout=5)

    # The text gallery shows each transcript (clamped in the tile).
    texts = css("gallery", "grid", "texts") + " .snippet"
    dash_duo.wait_for_text_to_equal(texts, SPEECH.transcript[0])
    settle(dash_duo)
    dash_duo.driver.save_screenshot("/work/main/shots/detail_audio.png")

    # Another layout's page closes the panel: the instance shown is not one of its instances.
    dash_duo.find_element(f"#nav-{DIGITS_SLUG}").click()
    dash_duo.wait_for_class_to_equal(PANEL, "symphony-detail")


# -- what the browser sends ------------------------------------------------------------------------------------------

TOY = Dataset(DIGITS.drop(columns=["embedding"]))
ENGINE = Engine(TOY)


def _view() -> View:
    return View("c", TOY, ENGINE, State(layout="t"))


def test_detail101_ids_from_the_browser_are_matched_to_the_data_or_refused() -> None:
    first = int(DIGITS.id.iloc[0])
    assert known_id(ENGINE, first) == first
    assert known_id(ENGINE, float(first)) == first
    assert known_id(ENGINE, str(first)) == first
    for bad in [
        len(DIGITS) + 5,
        0.5,
        "abc",
        "1; drop table",
        None,
        True,
        [first],
        {"id": first},
        float("nan"),
        "9" * 500,
    ]:
        assert known_id(ENGINE, bad) is None, bad
    words = Engine(Dataset(pd.DataFrame({"id": ["a", "b"], "v": [1, 2]})))
    assert known_id(words, "b") == "b" and known_id(words, 1) is None


def test_detail102_components_turn_browser_events_into_ids() -> None:
    scatter = Scatter("s", ScatterProps(), TOY)
    assert scatter.on_inspect("pointed.data", {"id": 12.0, "at": 1}, _view()) == 12.0
    for bad in [None, {}, [12], "12"]:
        assert scatter.on_inspect("pointed.data", bad, _view()) is None
    table = Table("t", TableProps(), TOY)
    assert table.on_inspect("grid.cellClicked", {"rowId": "4", "colId": "label"}, _view()) == "4"
    assert table.on_inspect("grid.cellClicked", "4", _view()) is None
    gallery = Gallery("g", GalleryProps(page_size=10), TOY)
    pick = {"page": 2, "want": {"3": True}, "last": 3}
    assert gallery.on_inspect("pick.data", pick, _view()) == DIGITS.id.iloc[13]
    assert gallery.on_inspect("pick.data", {**pick, "last": None}, _view()) is None
    assert gallery.on_inspect("pick.data", {**pick, "page": 10_000}, _view()) is None
    for bad in [{**pick, "last": "3"}, {**pick, "last": 500}, {**pick, "page": 0}, "3"]:
        with pytest.raises((TypeError, ValueError)):
            gallery.on_inspect("pick.data", bad, _view())
