"""Tests of the gallery: thumbnails that load, crossfiltering and paging, selecting by clicks, the media route and
text cards (dash.testing, headless Chromium, over the digits demo)."""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import unquote

import dash
import pytest
from dash.testing.wait import until
from helpers import click_bar, css, retry_stale, toy_frame, wait_count

from symphony_dash import create_app
from symphony_dash.component import View
from symphony_dash.components.gallery import Gallery, GalleryProps
from symphony_dash.dataset import Dataset
from symphony_dash.demo import prepare_digits
from symphony_dash.engine import Engine
from symphony_dash.media import MEDIA_ROUTE
from symphony_dash.state import State, ids

FRAME, MEDIA_ROOT = prepare_digits()
TOTAL = len(FRAME)
PAGE = GalleryProps().page_size
LAYOUT = {
    "title": "Gallery test",
    "data": {"source": "demo:digits"},
    "pages": [
        {
            "title": "Main",
            "components": [
                {"type": "histogram", "id": "label", "width": 2, "props": {"column": "label"}},
                {"type": "gallery", "id": "gallery", "width": 4, "height": 4},
            ],
        }
    ],
}
APP = create_app([LAYOUT])
SLUG = "gallery-test"

GRID = css("gallery", "grid", "gallery")
ITEMS = f"{GRID} .symphony-gallery-tile"
STATUS = css("gallery", "status", "gallery")


def start(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.wait_for_contains_text(STATUS, "Page 1 of")


def status(page: int, frame) -> str:
    pages = math.ceil(len(frame) / PAGE)
    first, last = (page - 1) * PAGE + 1, min(page * PAGE, len(frame))
    return f"Page {page} of {pages} · {first:,}\u2013{last:,} of {len(frame):,}"


def page_state(dash_duo) -> list[dict]:
    """Every thumbnail on the page as the browser shows it: image path, caption, marks (one script, not 48 calls)."""
    script = """
        return Array.from(document.querySelectorAll(arguments[0])).map(o => {
            const img = o.querySelector("img"), caption = o.querySelector(".caption");
            return {src: img ? img.getAttribute("src") : null, caption: caption ? caption.textContent : "",
                    wrong: !!(caption && caption.classList.contains("wrong")),
                    selected: o.querySelector(".symphony-gallery-item").classList.contains("selected"),
                    width: img && img.complete ? img.naturalWidth : 0};
        });"""
    return dash_duo.driver.execute_script(script, ITEMS)


def shown_images(dash_duo) -> list[str]:
    """The image paths of the thumbnails on the page, in order."""
    prefix = f"{MEDIA_ROUTE}/{SLUG}/"
    return [unquote(item["src"].removeprefix(prefix)) for item in page_state(dash_duo)]


def image_widths(dash_duo) -> list[int]:
    """The natural width of every thumbnail's image (0 until it has loaded)."""
    return [item["width"] for item in page_state(dash_duo)]


def captions(dash_duo) -> list[tuple[str, str, bool]]:
    """(label, prediction, marked wrong) of every caption on the page."""
    return [(*item["caption"].split(" → "), item["wrong"]) for item in page_state(dash_duo)]


def click_thumbnail(dash_duo, index: int) -> None:
    retry_stale(lambda: dash_duo.find_elements(f"{ITEMS} img")[index].click())


def selected_items(dash_duo) -> list[int]:
    return [i for i, item in enumerate(page_state(dash_duo)) if item["selected"]]


def wait_selected(dash_duo, positions: list[int]) -> None:
    """Wait until exactly the thumbnails at ``positions`` are outlined (the redraw may follow the toolbar)."""
    until(lambda: selected_items(dash_duo) == positions, timeout=10)


def wait_chip(dash_duo, text: str) -> None:
    dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip.selection .symphony-chip-text", text)


def test_gal001_first_page_shows_images_that_load(dash_duo) -> None:
    start(dash_duo)
    dash_duo.wait_for_text_to_equal(STATUS, status(1, FRAME))
    first = FRAME.head(PAGE)
    assert shown_images(dash_duo) == first.image.tolist()
    # Each image is fetched after its thumbnail appears: wait until every one has arrived and decoded.
    until(lambda: image_widths(dash_duo) == [64] * PAGE, timeout=10)
    expected = [(str(r.label), str(r.prediction), r.label != r.prediction) for r in first.itertuples()]
    assert captions(dash_duo) == expected
    assert any(wrong for *_, wrong in expected), "the first page should hold a misclassified digit to show in red"
    # The hover details name the main fields of the row.
    title = dash_duo.find_elements(ITEMS)[0].get_attribute("title")
    row = first.iloc[0]
    assert f"id: {row.id}" in title and f"label: {row.label}" in title and f"confidence: {row.confidence:.3g}" in title
    dash_duo.driver.set_window_size(1400, 1000)
    click_thumbnail(dash_duo, 2)
    click_thumbnail(dash_duo, 13)
    wait_selected(dash_duo, [2, 13])
    dash_duo.driver.save_screenshot("/work/main/shots/gallery.png")


def test_gal002_filter_resets_the_page_and_pages_through_the_filtered_rows(dash_duo) -> None:
    start(dash_duo)
    dash_duo.find_element(css("gallery", "next", "gallery")).click()
    dash_duo.wait_for_text_to_equal(STATUS, status(2, FRAME))
    assert shown_images(dash_duo) == FRAME.image.iloc[PAGE : 2 * PAGE].tolist()

    click_bar(dash_duo, "label", 3)
    threes = FRAME[FRAME.label == 3]
    wait_count(dash_duo, len(threes), TOTAL)
    dash_duo.wait_for_text_to_equal(STATUS, status(1, threes))
    assert {label for label, _, _ in captions(dash_duo)} == {"3"}
    assert shown_images(dash_duo) == threes.image.iloc[:PAGE].tolist()

    dash_duo.find_element(css("gallery", "next", "gallery")).click()
    dash_duo.wait_for_text_to_equal(STATUS, status(2, threes))
    assert {label for label, _, _ in captions(dash_duo)} == {"3"}
    assert shown_images(dash_duo) == threes.image.iloc[PAGE : 2 * PAGE].tolist()
    dash_duo.find_element(css("gallery", "prev", "gallery")).click()
    dash_duo.wait_for_text_to_equal(STATUS, status(1, threes))
    assert dash_duo.find_element(css("gallery", "prev", "gallery")).get_attribute("disabled") == "true"


def test_gal003_clicking_a_thumbnail_toggles_it_in_the_selection(dash_duo) -> None:
    start(dash_duo)
    click_thumbnail(dash_duo, 5)
    wait_chip(dash_duo, "selected: 1 instance")
    wait_selected(dash_duo, [5])
    outline = dash_duo.driver.execute_script(
        "return getComputedStyle(document.querySelectorAll(arguments[0])[5]).borderTopColor;",
        f"{ITEMS} .symphony-gallery-item",
    )
    assert outline == "rgb(242, 142, 43)"
    # A selection marks instances; it does not filter.
    wait_count(dash_duo, TOTAL, TOTAL)

    # Quick clicks, each made before the previous one's redraw arrives, all land.
    for index in (7, 9, 11):
        click_thumbnail(dash_duo, index)
    wait_chip(dash_duo, "selected: 4 instances")
    wait_selected(dash_duo, [5, 7, 9, 11])
    click_thumbnail(dash_duo, 5)
    wait_chip(dash_duo, "selected: 3 instances")
    wait_selected(dash_duo, [7, 9, 11])

    dash_duo.find_element("#symphony-chips .symphony-chip-remove").click()
    dash_duo.wait_for_text_to_equal("#symphony-chips", "")
    wait_selected(dash_duo, [])


def test_gal004_select_page_selects_every_instance_on_it(dash_duo) -> None:
    start(dash_duo)
    select = css("gallery", "select", "gallery")
    dash_duo.find_element(select).click()
    wait_chip(dash_duo, f"selected: {PAGE} instances")
    dash_duo.wait_for_text_to_equal(select, "Unselect page")
    wait_selected(dash_duo, list(range(PAGE)))

    # The selection survives paging; the next page starts unselected and adds to it.
    dash_duo.find_element(css("gallery", "next", "gallery")).click()
    dash_duo.wait_for_text_to_equal(STATUS, status(2, FRAME))
    dash_duo.wait_for_text_to_equal(select, "Select page")
    wait_selected(dash_duo, [])
    click_thumbnail(dash_duo, 0)
    wait_chip(dash_duo, f"selected: {PAGE + 1} instances")
    dash_duo.find_element(css("gallery", "prev", "gallery")).click()
    dash_duo.wait_for_text_to_equal(STATUS, status(1, FRAME))
    dash_duo.wait_for_text_to_equal(select, "Unselect page")
    dash_duo.find_element(select).click()
    wait_chip(dash_duo, "selected: 1 instance")
    wait_selected(dash_duo, [])

    # A click right after "Select page", before its redraw, refines it rather than undoing it.
    dash_duo.find_element(select).click()
    click_thumbnail(dash_duo, 3)
    wait_chip(dash_duo, f"selected: {PAGE} instances")
    wait_selected(dash_duo, [i for i in range(PAGE) if i != 3])


def test_gal005_media_route_serves_a_placeholder_and_nothing_outside_the_media_folder() -> None:
    client = APP.server.test_client()
    ok = client.get(f"{MEDIA_ROUTE}/{SLUG}/{FRAME.image.iloc[0]}")
    assert ok.status_code == 200 and ok.mimetype == "image/png"

    missing = client.get(f"{MEDIA_ROUTE}/{SLUG}/images/99999.png")
    assert missing.status_code == 404 and missing.mimetype == "image/svg+xml"
    assert b"missing" in missing.data

    # This test file exists and lies outside the media folder: no spelling of a way up may reach it.
    up = "../" * len(MEDIA_ROOT.resolve().parts) + str(Path(__file__).resolve()).lstrip("/")
    for path in (up, up.replace("/", "%2F"), "images/" + up, up.replace("..", "%2e%2e")):
        response = client.get(f"{MEDIA_ROUTE}/{SLUG}/{path}")
        # The placeholder says the route itself refused the path (rather than the URL not matching it).
        assert response.status_code == 404 and response.mimetype == "image/svg+xml", path
        assert b"def test_gal005" not in response.data


def test_gal006_a_dataset_without_images_shows_text_cards() -> None:
    frame = toy_frame()
    dataset = Dataset(frame)
    gallery = Gallery("cards", GalleryProps(page_size=10, sort_by="confidence", descending=True), dataset)
    engine = Engine(dataset)
    view = View("cards", dataset, engine, State(layout="toy"), {"pager.data": {}}, None)
    options, class_name, pager, text, prev_disabled, next_disabled, _ = gallery.render(view)

    top = frame.sort_values("confidence", ascending=False, kind="stable").head(10)
    assert [o["value"] for o in options] == list(range(10))
    assert [o["title"].split("\n")[0] for o in options] == [f"id: {i}" for i in top.id]
    assert "text" in class_name.split() and pager["page"] == 1 and pager["ticked"] == []
    assert text == "Page 1 of 40 · 1\u201310 of 400" and prev_disabled and not next_disabled
    first = options[0]["label"]
    snippet, caption = first.children
    assert snippet.children == top.text.iloc[0]
    assert caption.children.split(" → ")[0] == str(top.label.iloc[0])
    assert top.text.iloc[0] in options[0]["title"]


def test_gal007_a_pick_sets_what_the_person_wants_for_the_positions_they_touched() -> None:
    dataset = Dataset(toy_frame(60))
    gallery = Gallery("cards", GalleryProps(page_size=10), dataset)

    def pick(want: dict[str, bool], selected: list[int], page: int = 2) -> object:
        state = State(layout="toy", selection=ids(selected, source="other") if selected else None)
        view = View("cards", dataset, Engine(dataset), state, {}, "pick.data")
        return gallery.on_event("pick", {"page": page, "gen": "x", "want": want}, view)

    # Page 2 shows ids 10..19 at positions 0..9; position 12 was never drawn.
    clause = pick({"3": True, "12": True}, [])
    assert clause.op == "ids" and clause.value == [13] and clause.source == "cards"
    # Unselecting position 1 removes id 11 and keeps what was selected elsewhere.
    assert pick({"1": False, "2": True}, [11, 40]).value == [40, 12]
    # A pick applied twice, or one that Dash sends again after a redraw, changes nothing.
    assert pick({"1": True}, [11]) is dash.no_update
    assert pick({"1": False}, []) is dash.no_update
    # Unselecting the last selected instance clears the selection.
    assert pick({"1": False}, [11]) is None
    for malformed in ("not an object", {"page": 0, "want": {}}, {"page": 1, "want": {"x": True}}, {"page": 1}):
        with pytest.raises((TypeError, ValueError)):
            gallery.on_event("pick", malformed, View("cards", dataset, Engine(dataset), State(), {}, None))
    with pytest.raises(ValueError):
        pick({"1": "yes"}, [])  # type: ignore[dict-item]
