"""Tests of the selection tray in the toolbar: it shows what the gallery's clicks selected, Clear removes only the
selection, Download CSV saves the selected rows and Copy ids copies their ids (dash.testing in headless Chromium over
the digits demo, plus checks of the CSV bounds without a browser)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
from dash.testing.wait import until
from helpers import chip_texts, css, drag_through, inside, retry_stale, settle, stored_polygon, toy_frame, wait_count

from symphony_dash import create_app, tray
from symphony_dash.dataset import Dataset
from symphony_dash.demo import prepare_digits
from symphony_dash.engine import Engine
from symphony_dash.media import MEDIA_ROUTE
from symphony_dash.state import ids

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)
LAYOUT = {
    "title": "Tray test",
    "data": {"source": "demo:digits", "id_column": "id"},
    "pages": [
        {
            "title": "Main",
            "components": [
                {"type": "scatter", "id": "proj", "width": 3, "height": 3},
                {"type": "gallery", "id": "gallery", "width": 3, "height": 3},
            ],
        }
    ],
}
TOY = toy_frame()


def _toy_layout() -> dict:
    """A table without images (text cards in the gallery), from a parquet file."""
    path = Path(tempfile.mkdtemp(prefix="symphony-tray-")) / "toy.parquet"
    TOY.to_parquet(path)
    gallery = {"type": "gallery", "id": "gallery", "width": 6, "height": 3}
    return {"title": "Toy", "data": {"source": str(path)}, "pages": [{"title": "Main", "components": [gallery]}]}


APP = create_app([LAYOUT, _toy_layout()])
SLUG = "tray-test"

GRAPH = css("scatter", "graph", "proj")
ITEMS = f"{css('gallery', 'grid', 'gallery')} .symphony-gallery-tile"
SELECT_PAGE = css("gallery", "select", "gallery")
CLEAR = '[id=\'{"index":"selection:tray","type":"symphony-chip"}\']'
SHOTS = Path("/work/main/shots")


def start(dash_duo) -> None:
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.start_server(APP)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/{SLUG}")
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.wait_for_element(GRAPH + " .nsewdrag")
    dash_duo.wait_for_contains_text(css("gallery", "status", "gallery"), "Page 1 of")


# -- what a person does ----------------------------------------------------------------------------------------------


def click_thumbnail(dash_duo, index: int) -> None:
    retry_stale(lambda: dash_duo.find_elements(f"{ITEMS} img")[index].click())


def lasso_around(dash_duo, frame: pd.DataFrame) -> None:
    """Draw a loop on the scatter around the middle of ``frame``'s points."""
    cx, cy = frame.x.median(), frame.y.median()
    r = float(np.hypot(frame.x - cx, frame.y - cy).median())
    drag_through(
        dash_duo, GRAPH, [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 13)]
    )


# -- what the tray then shows ----------------------------------------------------------------------------------------


def tray_state(dash_duo) -> dict:
    """What the tray shows: whether it is visible, its count, the ids and image paths of its thumbnails, the rest."""
    script = """
        const tray = document.getElementById("symphony-tray"), thumbs = tray.querySelector(".symphony-tray-thumbs");
        return {visible: tray.offsetParent !== null,
                count: tray.querySelector(".symphony-tray-count").textContent,
                titles: [...thumbs.querySelectorAll(".thumb")].map(e => e.title),
                srcs: [...thumbs.querySelectorAll(".thumb")].map(e => e.getAttribute("src")),
                more: [...thumbs.querySelectorAll(".more")].map(e => e.textContent).join("")};"""
    return dash_duo.driver.execute_script(script)


def wait_tray(dash_duo, count: str) -> dict:
    until(lambda: tray_state(dash_duo)["count"] == count, timeout=10)
    settle(dash_duo)
    return tray_state(dash_duo)


def image_ids(srcs: list[str]) -> list[int]:
    """The ids of the instances whose images the thumbnails show, read from the demo table by image path."""
    by_path = dict(zip(FRAME.image, FRAME.id, strict=True))
    return [int(by_path[unquote(s.removeprefix(f"{MEDIA_ROUTE}/{SLUG}/"))]) for s in srcs]


def downloaded(dash_duo) -> list[Path]:
    return [p for p in Path(dash_duo.download_path).glob("*.csv")]


# -- browser tests ---------------------------------------------------------------------------------------------------


def test_tray001_clicks_fill_the_tray_and_clear_keeps_the_filter(dash_duo) -> None:
    start(dash_duo)
    assert not tray_state(dash_duo)["visible"], "nothing is selected: no tray"

    lasso_around(dash_duo, FRAME[FRAME.label == 0])
    dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip-text", "lasso on (x, y)")
    chosen = FRAME[inside(FRAME, stored_polygon(dash_duo, "proj"))]
    assert len(chosen) > 10
    wait_count(dash_duo, len(chosen), TOTAL)

    # The gallery shows the lassoed digits in table order: its first tiles are the first rows of the lasso.
    for index in (0, 2, 4):
        click_thumbnail(dash_duo, index)
    shown = wait_tray(dash_duo, "3 selected")
    picked = chosen.id.iloc[[0, 2, 4]].tolist()
    assert shown["visible"] and shown["more"] == ""
    assert shown["titles"] == [f"id: {i}" for i in picked]
    assert image_ids(shown["srcs"]) == picked

    for index in (1, 3, 5, 6, 7, 8, 9):
        click_thumbnail(dash_duo, index)
    shown = wait_tray(dash_duo, "10 selected")
    first = chosen.id.iloc[: tray.MAX_THUMBS].tolist()
    assert image_ids(shown["srcs"]) == first and shown["more"] == f"+{10 - tray.MAX_THUMBS}"
    # Images load (not the 'missing' placeholder), and the tray did not make the toolbar taller.
    script = "return [...document.querySelectorAll('.symphony-tray-thumbs img')].map(i => i.naturalWidth);"
    until(lambda: dash_duo.driver.execute_script(script) == [64] * tray.MAX_THUMBS, timeout=10)
    dash_duo.driver.save_screenshot(str(SHOTS / "tray-page.png"))
    dash_duo.find_element(".symphony-toolbar").screenshot(str(SHOTS / "tray-toolbar.png"))
    # The tray is no taller than the toolbar's other controls: on a row it fits, it adds no height.
    assert (
        dash_duo.find_element("#symphony-tray").size["height"]
        <= dash_duo.find_element(".symphony-groupby").size["height"]
    )

    dash_duo.find_element(CLEAR).click()
    until(lambda: chip_texts(dash_duo) == ["lasso on (x, y)"], timeout=10)
    wait_count(dash_duo, len(chosen), TOTAL)
    until(lambda: not tray_state(dash_duo)["visible"], timeout=10)
    script = "return document.querySelectorAll('.symphony-gallery-item.selected').length;"
    until(lambda: dash_duo.driver.execute_script(script) == 0, timeout=10)


def test_tray002_download_csv_holds_the_selected_rows(dash_duo) -> None:
    start(dash_duo)
    dash_duo.find_element(SELECT_PAGE).click()
    page = FRAME.head(48)
    wait_tray(dash_duo, f"{len(page)} selected")
    dash_duo.find_element(".symphony-toolbar").screenshot(str(SHOTS / "tray-toolbar-wide.png"))
    button = dash_duo.find_element("#symphony-tray-csv")
    assert "without embedding" in button.get_attribute("title")
    button.click()
    until(lambda: len(downloaded(dash_duo)) == 1, timeout=10)
    rows = pd.read_csv(downloaded(dash_duo)[0])
    assert downloaded(dash_duo)[0].name == f"{SLUG}-selection.csv"
    assert sorted(rows.id) == sorted(page.id)
    assert list(rows.columns) == [c for c in FRAME.columns if c != "embedding"]
    expected = page.set_index("id").loc[rows.id]
    assert rows.label.tolist() == expected.label.tolist() and rows.image.tolist() == expected.image.tolist()
    assert np.allclose(rows.confidence, expected.confidence)


def test_tray003_copy_ids_copies_one_id_per_line(dash_duo) -> None:
    start(dash_duo)
    for index in (3, 1, 6):
        click_thumbnail(dash_duo, index)
    wait_tray(dash_duo, "3 selected")
    # A headless browser has no clipboard to read back: record what the page writes to it instead.
    dash_duo.driver.execute_script(
        "window.copied = null; navigator.clipboard.writeText = t => { window.copied = t; return Promise.resolve(); };"
    )
    dash_duo.find_element("#symphony-tray-copy").click()
    until(lambda: dash_duo.driver.execute_script("return window.copied;") is not None, timeout=10)
    text = dash_duo.driver.execute_script("return window.copied;")
    assert text.split("\n") == [str(i) for i in FRAME.id.iloc[[1, 3, 6]]]
    # The selection chip's own remove button still clears the selection, and the tray with it.
    dash_duo.find_element("#symphony-chips .symphony-chip.selection .symphony-chip-remove").click()
    until(lambda: not tray_state(dash_duo)["visible"], timeout=10)
    assert chip_texts(dash_duo) == []


def test_tray004_too_many_rows_for_a_csv_says_so(dash_duo, monkeypatch) -> None:
    monkeypatch.setattr(tray, "MAX_CSV_ROWS", 10)  # the server runs in this process: a small bound for the demo
    start(dash_duo)
    dash_duo.find_element(SELECT_PAGE).click()
    wait_tray(dash_duo, "48 selected")
    dash_duo.find_element("#symphony-tray-csv").click()
    dash_duo.wait_for_text_to_equal(
        "#symphony-tray-note", "48 rows selected: a CSV download holds at most 10. Narrow the selection."
    )
    assert downloaded(dash_duo) == []
    dash_duo.find_element(".symphony-toolbar").screenshot(str(SHOTS / "tray-too-large.png"))
    # A new selection takes the message away.
    click_thumbnail(dash_duo, 0)
    wait_tray(dash_duo, "47 selected")
    assert dash_duo.find_element("#symphony-tray-note").text == ""


def test_tray005_without_images_the_tray_shows_ids(dash_duo) -> None:
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.start_server(APP)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/toy")
    wait_count(dash_duo, len(TOY), len(TOY))
    for index in (4, 0):
        retry_stale(lambda i=index: dash_duo.find_elements(f"{ITEMS} .snippet")[i].click())
    wait_tray(dash_duo, "2 selected")
    script = "return [...document.querySelectorAll('.symphony-tray-thumbs .label')].map(e => e.textContent);"
    assert dash_duo.driver.execute_script(script) == [str(i) for i in TOY.id.iloc[[0, 4]]]
    assert "without" not in dash_duo.find_element("#symphony-tray-csv").get_attribute("title"), "nothing left out"


# -- without a browser -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(Dataset(FRAME, id_column="id"))


def test_tray006_csv_leaves_out_vectors_and_keeps_everything_else(engine) -> None:
    query = engine.where([ids([5, 2, 9])])
    kept, left_out = tray.csv_columns(query)
    assert left_out == ["embedding"] and kept == [c for c in FRAME.columns if c != "embedding"]
    rows = pd.read_csv(pd.io.common.StringIO(tray.selection_csv(query)))
    assert rows.id.tolist() == [2, 5, 9]  # table order


def test_tray007_csv_bounds_rows_and_bytes(engine, monkeypatch) -> None:
    everything = engine.where([ids(FRAME.id.tolist())])
    monkeypatch.setattr(tray, "MAX_CSV_ROWS", 100)
    with pytest.raises(tray.TooLargeError, match=f"^{TOTAL:,} rows selected: a CSV download holds at most 100"):
        tray.selection_csv(everything)
    monkeypatch.setattr(tray, "MAX_CSV_ROWS", TOTAL)
    monkeypatch.setattr(tray, "MAX_CSV_BYTES", 1_000)
    with pytest.raises(tray.TooLargeError, match="MB of CSV, more than"):
        tray.selection_csv(everything)
