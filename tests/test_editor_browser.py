"""The layout editor in the browser: add a component from its settings form, configure, move, resize and remove
boxes, rename a page, save; a restarted app shows the saved layout; a change on disk is never overwritten."""

from __future__ import annotations

import json

from dash.testing.wait import until
from helpers import click_bar, css, filtered_bars, plot_traces, settle, toy_frame, toy_layout_file, wait_count
from selenium.webdriver.common.keys import Keys

from symphony_dash import create_app
from symphony_dash.layout_store import backup_path

FRAME = toy_frame()
TOTAL = len(FRAME)
RAW = {
    "title": "Toy editor",
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
LAYOUT = toy_layout_file(RAW, FRAME, "symphony-editor-")
TMP = LAYOUT.parent
APP = create_app(LAYOUT)
READ_ONLY = create_app(LAYOUT, read_only=True)


def act(dash_duo, op: str, index: object = 0) -> None:
    """Click an editor button: ``op`` of the box ``index`` (or of the page, index 0)."""
    ident = json.dumps({"index": index, "op": op, "type": "symphony-edit"}, separators=(",", ":"), sort_keys=True)
    button = dash_duo.find_element(f"[id='{ident}']")
    # Into the middle of the window, as a person scrolls: at the top, the sticky toolbar would cover it.
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    settle(dash_duo)


def form_button(dash_duo, op: str, index: object = 0) -> str:
    ident = json.dumps({"index": index, "op": op, "type": "symphony-edit-form"}, separators=(",", ":"), sort_keys=True)
    return f"[id='{ident}']"


def choose(dash_duo, dropdown: str, option: str) -> None:
    """Pick an option of a dcc.Dropdown as a person does: open it, click the option's text."""
    dash_duo.find_element(dropdown).click()
    until(lambda: any(e.text == option for e in dash_duo.find_elements(".dash-dropdown-option")), timeout=5)
    next(e for e in dash_duo.find_elements(".dash-dropdown-option") if e.text == option).click()


def setting(name: str) -> str:
    return f"[data-setting='{name}']"


def box_order(dash_duo) -> list[str]:
    # One script, not one call per element: the page is drawn again after every edit.
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.symphony-grid > .symphony-box')].map(e => e.id);"
    )


def test_edt001_add_configure_move_remove_rename_save_and_restart(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    original = LAYOUT.read_bytes()
    dash_duo.find_element(".symphony-edit-start").click()
    dash_duo.wait_for_element(".symphony-edit-bar")
    until(lambda: len(dash_duo.find_elements(".symphony-box.editing .symphony-edit-tools")) == 2, timeout=5)

    # Add a histogram of the confidence: the form is the histogram's Props, and says what is missing.
    dash_duo.find_element(form_button(dash_duo, "add")).click()
    choose(dash_duo, ".symphony-edit-type", "Histogram")
    dash_duo.wait_for_element(setting("bins") + " input")
    dash_duo.find_element(form_button(dash_duo, "apply")).click()
    dash_duo.wait_for_text_to_equal(".symphony-edit-form-errors", "column: is required")
    choose(dash_duo, setting("column") + " .dash-dropdown", "confidence")
    bins = dash_duo.find_element(setting("bins") + " input")
    bins.send_keys(Keys.CONTROL, "a")
    bins.send_keys(Keys.BACKSPACE, "8")
    dash_duo.find_element('[id=\'{"name":"title","type":"symphony-edit-spec"}\']').send_keys("Confidence")
    dash_duo.driver.save_screenshot("/work/main/shots/editor-form.png")
    dash_duo.find_element(form_button(dash_duo, "apply")).click()
    dash_duo.wait_for_text_to_equal("#box-histogram-1 .symphony-title", "Confidence")
    until(lambda: len(filtered_bars(dash_duo, "histogram-1")) == 8, timeout=10)
    assert sum(filtered_bars(dash_duo, "histogram-1")) == TOTAL

    # The new box is live and linked: a click on another view filters it.
    click_bar(dash_duo, "label", 2)
    twos = FRAME[FRAME.label == 2]
    wait_count(dash_duo, len(twos), TOTAL)
    until(lambda: sum(filtered_bars(dash_duo, "histogram-1")) == len(twos), timeout=10)

    # Settings of an existing box: a logarithmic count axis.
    dash_duo.find_element(form_button(dash_duo, "settings", "label")).click()
    dash_duo.wait_for_text_to_equal(".symphony-edit-form-head h3", "Settings of label (Histogram)")
    dash_duo.find_element(setting("log_y") + " input").click()
    dash_duo.find_element(form_button(dash_duo, "apply")).click()
    until(
        lambda: (
            dash_duo.driver.execute_script(
                "const g = document.querySelector(arguments[0]); return g && g._fullLayout?.yaxis.type;",
                css("histogram", "graph", "label") + " .js-plotly-plot",
            )
            == "log"
        ),
        timeout=10,
    )

    # Move, resize, remove.
    assert box_order(dash_duo) == ["box-label", "box-split", "box-histogram-1"]
    act(dash_duo, "earlier", "histogram-1")
    until(lambda: box_order(dash_duo) == ["box-label", "box-histogram-1", "box-split"], timeout=5)
    # Dragged by its tools onto another box, a box moves there (HTML drag and drop, dispatched as the browser does).
    drag = """
        const tools = document.querySelector('#box-split .symphony-edit-tools');
        const onto = document.querySelector('#box-label .symphony-body');
        const data = new DataTransfer();
        for (const [element, type] of [[tools, 'dragstart'], [onto, 'dragover'], [onto, 'drop'], [tools, 'dragend']]) {
            element.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: data}));
        }
    """
    dash_duo.driver.execute_script(drag)
    until(lambda: box_order(dash_duo) == ["box-split", "box-label", "box-histogram-1"], timeout=5)
    act(dash_duo, "wider", "histogram-1")
    until(lambda: "span 4" in dash_duo.find_element("#box-histogram-1").get_attribute("style"), timeout=5)
    act(dash_duo, "remove", "split")
    until(lambda: box_order(dash_duo) == ["box-label", "box-histogram-1"], timeout=5)
    assert dash_duo.find_elements(".symphony-edit-tools[draggable='true'] .symphony-edit-grip")

    # Rename the page; add a second one. Typed once the page is drawn again: a redraw while typing makes a new field.
    settle(dash_duo)
    dash_duo.driver.execute_script("window.scrollTo(0, 0);")
    title = dash_duo.find_element(".symphony-edit-page-title input")
    title.send_keys(Keys.CONTROL, "a")
    title.send_keys(Keys.BACKSPACE, "Confidence check")
    until(lambda: title.get_attribute("value") == "Confidence check", timeout=5)
    title.send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal(".symphony-tab.active", "Confidence check")
    act(dash_duo, "page-add")
    dash_duo.wait_for_text_to_equal(".symphony-tab.active", "Page 2")
    dash_duo.wait_for_text_to_equal(".symphony-edit-empty", "An empty page: add a component with + Add component.")
    dash_duo.find_element(".symphony-tab").click()  # back to the first page
    dash_duo.wait_for_element("#box-histogram-1")
    assert LAYOUT.read_bytes() == original, "nothing is written before Save"
    dash_duo.driver.save_screenshot("/work/main/shots/editor-editing.png")

    act(dash_duo, "save")
    dash_duo.wait_for_text_to_equal(".symphony-edit-notice", "Saved in toy.json; the previous version is toy.json.bak.")
    assert not dash_duo.find_elements(".symphony-edit-bar"), "the page is out of edit mode"
    assert backup_path(LAYOUT).read_bytes() == original
    saved = json.loads(LAYOUT.read_text(encoding="utf-8"))
    assert [p["title"] for p in saved["pages"]] == ["Confidence check", "Page 2"]
    assert saved["pages"][0]["components"] == [
        {"type": "histogram", "id": "label", "props": {"column": "label", "log_y": True}},
        {
            "type": "histogram",
            "id": "histogram-1",
            "title": "Confidence",
            "width": 4,
            "props": {"column": "confidence", "bins": 8},
        },
    ]
    assert saved["data"] == RAW["data"]

    # A restarted app serves the saved layout: the new component is there and linked.
    dash_duo.server.stop()
    dash_duo.start_server(create_app(LAYOUT))
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.wait_for_text_to_equal("#box-histogram-1 .symphony-title", "Confidence")
    until(lambda: len(filtered_bars(dash_duo, "histogram-1")) == 8, timeout=10)
    click_bar(dash_duo, "label", 1)
    ones = FRAME[FRAME.label == 1]
    wait_count(dash_duo, len(ones), TOTAL)
    until(lambda: sum(filtered_bars(dash_duo, "histogram-1")) == len(ones), timeout=10)


def test_edt002_a_change_on_disk_is_not_overwritten_and_save_as_is_offered(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.find_element(".symphony-edit-start").click()
    dash_duo.wait_for_element(".symphony-edit-bar")
    act(dash_duo, "narrower", dash_duo.find_element(".symphony-box").get_attribute("id").removeprefix("box-"))
    edited = LAYOUT.read_text(encoding="utf-8").replace('"Toy editor"', '"Toy editor, edited by hand"')
    LAYOUT.write_text(edited, encoding="utf-8")
    act(dash_duo, "save")
    dash_duo.wait_for_contains_text(".symphony-edit-message.error", "toy.json changed on disk since this draft began")
    assert LAYOUT.read_text(encoding="utf-8") == edited
    dash_duo.driver.save_screenshot("/work/main/shots/editor-conflict.png")
    act(dash_duo, "save-as")
    dash_duo.wait_for_text_to_equal(".symphony-edit-notice", "Saved in toy-2.json.")
    copy = json.loads((TMP / "toy-2.json").read_text(encoding="utf-8"))
    # Nothing is lost: the page drawn since read the hand edit, and the new file has it and the draft's pages.
    assert copy["title"] == "Toy editor, edited by hand" and copy["pages"][0]["components"][0]["width"] == 2
    assert LAYOUT.read_text(encoding="utf-8") == edited


def test_edt003_a_read_only_app_has_no_editor(dash_duo) -> None:
    dash_duo.start_server(READ_ONLY)
    wait_count(dash_duo, TOTAL, TOTAL)
    assert not dash_duo.find_elements(".symphony-edit-start")
    assert plot_traces(dash_duo, css("histogram", "graph", "label"))
