"""Saved slices: name the filter, save it into the layout file, apply it from the toolbar's Slices menu; a change of
the file on disk behind the app's back is never overwritten; a restarted app lists the slices saved."""

from __future__ import annotations

import json

import pytest
from dash.testing.wait import until
from helpers import central_filter, chip_texts, click_bar, settle, toy_frame, toy_layout_file, wait_count
from selenium.webdriver.common.keys import Keys

from symphony_dash import create_app
from symphony_dash.layout import LayoutError, load_layout
from symphony_dash.layout_store import backup_path

FRAME = toy_frame()
TOTAL = len(FRAME)
RAW = {
    "title": "Toy slices",
    "data": {"source": "toy.csv", "id_column": "id", "kinds": {"label": "categorical"}},
    "pages": [
        {
            "title": "One",
            "components": [
                {"type": "histogram", "id": "label", "props": {"column": "label"}},
                {"type": "histogram", "id": "split", "props": {"column": "split"}},
            ],
        }
    ],
}
LAYOUT = toy_layout_file(RAW, FRAME, "symphony-saved-slices-")
TMP = LAYOUT.parent
APP = create_app(LAYOUT)
READ_ONLY = create_app([RAW | {"data": {**RAW["data"], "source": str(TMP / "toy.csv")}}], read_only=True)


def expected_count(clauses: list[dict]) -> int:
    """The rows passing ``in`` clauses, counted by pandas."""
    mask = FRAME.id >= 0
    for clause in clauses:
        assert clause["op"] == "in"
        mask &= FRAME[clause["column"]].isin(clause["value"])
    return int(mask.sum())


def open_menu(dash_duo) -> None:
    details = dash_duo.find_element("#symphony-saved-slices-details")
    if details.get_attribute("open") is None:
        dash_duo.find_element("#symphony-saved-slices-details > summary").click()
    dash_duo.wait_for_element("#symphony-saved-slices-panel, .symphony-saved-slices-panel")


def type_name(dash_duo, *keys: str) -> None:
    """Replace the text of the name field as a person does (selenium's clear() does not reach React)."""
    field = dash_duo.find_element("#symphony-saved-slice-name")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE, *keys)


def save_slice(dash_duo, name: str) -> None:
    open_menu(dash_duo)
    type_name(dash_duo, name)
    dash_duo.find_element("#symphony-saved-slice-save").click()


def slice_titles(dash_duo) -> list[str]:
    script = (
        "return [...document.querySelectorAll('.symphony-saved-slice .symphony-saved-slice-title')]"
        ".map(e => e.textContent);"
    )
    return dash_duo.driver.execute_script(script)


def test_slc001_save_apply_and_a_change_on_disk_detected(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    click_bar(dash_duo, "label", 1)
    wait_count(dash_duo, int((FRAME.label == 1).sum()), TOTAL)
    click_bar(dash_duo, "split", 0)
    until(lambda: len(central_filter(dash_duo)) == 2, timeout=5)
    clauses = central_filter(dash_duo)
    shown = expected_count(clauses)
    wait_count(dash_duo, shown, TOTAL)
    chips = chip_texts(dash_duo)
    original = LAYOUT.read_bytes()

    open_menu(dash_duo)
    dash_duo.wait_for_text_to_equal(
        ".symphony-saved-slices-empty", "None yet: filter the views, then name the filter below."
    )
    save_slice(dash_duo, "ones of one split")
    dash_duo.wait_for_text_to_equal("#symphony-saved-slice-message", "Saved 'ones of one split' in toy.json.")
    on_disk = json.loads(LAYOUT.read_text(encoding="utf-8"))
    assert on_disk["slices"] == [
        {"name": "ones of one split", "filter": [{k: v for k, v in c.items() if v is not None} for c in clauses]}
    ]
    assert backup_path(LAYOUT).read_bytes() == original
    # The filter is the slice's: the slice is marked as the active one.
    dash_duo.wait_for_element(".symphony-saved-slice.active")
    dash_duo.driver.save_screenshot("/work/main/shots/saved_slices.png")

    dash_duo.find_element(".symphony-clear").click()
    wait_count(dash_duo, TOTAL, TOTAL)
    until(lambda: not dash_duo.driver.find_elements("css selector", ".symphony-saved-slice.active"), timeout=5)
    open_menu(dash_duo)
    dash_duo.find_element(".symphony-saved-slice").click()
    wait_count(dash_duo, shown, TOTAL)
    assert chip_texts(dash_duo) == chips
    assert dash_duo.find_element("#symphony-saved-slices-details").get_attribute("open") is None  # the menu closed

    # Someone edits the file behind the app's back: the next save must not overwrite it.
    edited = LAYOUT.read_text(encoding="utf-8").replace('"Toy slices"', '"Toy slices, edited"')
    LAYOUT.write_text(edited, encoding="utf-8")
    click_bar(dash_duo, "label", 2)
    settle(dash_duo)
    save_slice(dash_duo, "twos")
    dash_duo.wait_for_text_to_equal(
        "#symphony-saved-slice-message .symphony-saved-slice-warning",
        "toy.json changed on disk since this app loaded it, so it was not overwritten (reload the page to load the "
        "new version): 'twos' is kept for this session only.",
    )
    assert LAYOUT.read_text(encoding="utf-8") == edited
    until(lambda: slice_titles(dash_duo) == ["ones of one split", "twos"], timeout=5)
    assert dash_duo.find_element(".symphony-saved-slice-badge").text == "this session"
    dash_duo.driver.save_screenshot("/work/main/shots/saved_slices_conflict.png")
    # Offered instead: the app's layout and the session's slices as a new file beside it.
    dash_duo.find_element(".symphony-saved-slice-save-as").click()
    dash_duo.wait_for_text_to_equal(
        "#symphony-saved-slice-message",
        "Saved as toy-2.json, with the slices of this session: this app now saves there.",
    )
    copy = json.loads((TMP / "toy-2.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in copy["slices"]] == ["ones of one split", "twos"]
    assert copy["title"] == "Toy slices" and copy["data"]["source"] == "toy.csv"
    assert LAYOUT.read_text(encoding="utf-8") == edited
    until(lambda: not dash_duo.driver.find_elements("css selector", ".symphony-saved-slice-badge"), timeout=5)

    # A restarted app reads the slice from the file.
    dash_duo.server.stop()
    dash_duo.start_server(create_app(LAYOUT))
    wait_count(dash_duo, TOTAL, TOTAL)
    open_menu(dash_duo)
    until(lambda: slice_titles(dash_duo)[:1] == ["ones of one split"], timeout=5)
    dash_duo.find_element(".symphony-saved-slice").click()
    wait_count(dash_duo, shown, TOTAL)


def test_slc002_a_read_only_app_keeps_new_slices_for_the_session(dash_duo) -> None:
    dash_duo.start_server(READ_ONLY)
    wait_count(dash_duo, TOTAL, TOTAL)
    open_menu(dash_duo)
    dash_duo.wait_for_text_to_equal(
        ".symphony-saved-slices-note", "This app is read-only: new slices are kept for this session only."
    )
    save_slice(dash_duo, "nothing yet")
    dash_duo.wait_for_text_to_equal(
        "#symphony-saved-slice-message", "Filter something first: a slice is a named filter."
    )
    click_bar(dash_duo, "label", 3)
    wait_count(dash_duo, int((FRAME.label == 3).sum()), TOTAL)
    open_menu(dash_duo)
    # The name is kept after a refusal, to be corrected rather than typed again.
    assert dash_duo.find_element("#symphony-saved-slice-name").get_attribute("value") == "nothing yet"
    type_name(dash_duo, "threes", Keys.ENTER)  # Enter saves too
    dash_duo.wait_for_text_to_equal(
        "#symphony-saved-slice-message", "This app is read-only: 'threes' is kept for this session only."
    )
    until(lambda: slice_titles(dash_duo) == ["threes"], timeout=5)
    dash_duo.find_element(".symphony-clear").click()
    wait_count(dash_duo, TOTAL, TOTAL)
    open_menu(dash_duo)
    dash_duo.find_element(".symphony-saved-slice").click()
    wait_count(dash_duo, int((FRAME.label == 3).sum()), TOTAL)


def test_slc003_slices_are_validated_like_the_filter() -> None:
    clause = {"source": "label", "op": "in", "column": "lable", "value": [1]}
    raw = RAW | {"slices": [{"name": "a", "filter": [clause]}, {"name": "a", "filter": [clause | {"column": "label"}]}]}
    with pytest.raises(LayoutError) as info:
        load_layout(LAYOUT, layout=raw, data=TMP / "toy.csv")
    assert info.value.errors == ["slices[1].name: 'a' is already the name of slices[0]; names must be unique"]
    with pytest.raises(LayoutError) as info:
        load_layout(layout=RAW | {"slices": [{"name": "a", "filter": [clause]}]}, data=TMP / "toy.csv")
    assert info.value.errors[0].startswith("slices[0].filter[0]: clause from 'label': ")
    assert "'lable'" in info.value.errors[0]
    with pytest.raises(LayoutError) as info:
        load_layout(layout=RAW | {"slices": [{"name": "", "filter": [], "colour": 1}]}, data=TMP / "toy.csv")
    assert info.value.errors == [
        "slices[0].name: String should have at least 1 character (got '')",
        "slices[0].filter: List should have at least 1 item after validation, not 0",
        "slices[0]: 'colour' is not a parameter of a saved slice; its parameters are: name, filter",
    ]
