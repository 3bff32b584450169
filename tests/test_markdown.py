"""Tests of the markdown note: it renders, its {count} follows a histogram's bar click, raw HTML is never run, and an
edit made with Edit and Save shows at once and stays while the person moves between pages (dash.testing, headless
Chromium), plus the count placeholders and the saved text rendered without a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import click_bar, css, settle, toy_frame, wait_count
from selenium.webdriver.common.keys import Keys

from symphony_dash import create_app
from symphony_dash.component import View
from symphony_dash.components.markdown import Markdown, MarkdownProps
from symphony_dash.dataset import Dataset
from symphony_dash.engine import Engine
from symphony_dash.state import State, isin

FRAME = toy_frame()
TOTAL = len(FRAME)
DATASET = Dataset(FRAME)
SHOTS = Path(__file__).parent.parent / "shots"
NOTE = """## Triage notes

Showing **{count}** of {total} instances.

- start with the low-confidence ones
- then the wrong predictions

<script>window.symphonyNoteRan = true</script><img src=x onerror="window.symphonyNoteRan = true">
"""
LAYOUT = {
    "title": "Note test",
    "data": {"source": "toy.parquet"},
    "pages": [
        {
            "title": "Main",
            "components": [
                {"type": "histogram", "id": "label", "width": 3, "props": {"column": "label"}},
                {"type": "markdown", "id": "notes", "width": 3, "props": {"text": NOTE}},
            ],
        },
        {"title": "Other", "components": [{"type": "histogram", "id": "split", "props": {"column": "split"}}]},
    ],
}
APP = create_app([LAYOUT], data=DATASET)

ROOT = css("markdown", "root", "notes")
SHOWN = css("markdown", "note", "notes")
DRAFT = css("markdown", "draft", "notes")


def start(dash_duo: Any) -> None:
    dash_duo.driver.set_window_size(1280, 800)
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.wait_for_text_to_equal(f"{SHOWN} h2", "Triage notes")


def texts(dash_duo: Any, selector: str) -> list[str]:
    return [e.text for e in dash_duo.find_elements(selector)]


def click(dash_duo: Any, sub: str) -> None:
    dash_duo.find_element(css("markdown", sub, "notes")).click()


def test_markdown001_note_renders_with_counts_and_no_raw_html(dash_duo) -> None:
    start(dash_duo)
    assert texts(dash_duo, f"{SHOWN} li") == ["start with the low-confidence ones", "then the wrong predictions"]
    dash_duo.wait_for_text_to_equal(f"{SHOWN} p strong", f"{TOTAL:,}")
    assert f"Showing {TOTAL:,} of {TOTAL:,} instances." in dash_duo.find_element(SHOWN).text
    # The HTML is shown as text: no element was made from it and nothing of it ran.
    assert (
        dash_duo.driver.execute_script(
            "return document.querySelector(arguments[0]).querySelectorAll('script, img').length", SHOWN
        )
        == 0
    )
    assert dash_duo.driver.execute_script("return window.symphonyNoteRan === undefined")
    assert "<script>" in dash_duo.find_element(SHOWN).text
    assert not dash_duo.find_element(DRAFT).is_displayed()
    SHOTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(SHOTS / "markdown.png"))


def test_markdown002_count_follows_a_bar_click(dash_duo) -> None:
    start(dash_duo)
    label = sorted(FRAME.label.unique())[1]
    shown = int((FRAME.label == label).sum())
    click_bar(dash_duo, "label", 1)
    wait_count(dash_duo, shown, TOTAL)
    dash_duo.wait_for_text_to_equal(f"{SHOWN} p strong", f"{shown:,}")


def test_markdown003_edit_save_shows_the_new_note_and_it_stays_across_pages(dash_duo) -> None:
    start(dash_duo)
    click(dash_duo, "edit")
    draft = dash_duo.find_element(DRAFT)
    dash_duo.wait_for_text_to_equal(DRAFT, NOTE)
    assert not dash_duo.find_element(SHOWN).is_displayed()
    draft.send_keys(Keys.CONTROL, "a")
    draft.send_keys(Keys.DELETE)
    draft.send_keys("# Edited\n\n- first {count}\n- second\n\n<script>window.symphonyNoteRan = 1</script>")
    dash_duo.driver.save_screenshot(str(SHOTS / "markdown-editing.png"))
    click(dash_duo, "save")
    dash_duo.wait_for_text_to_equal(f"{SHOWN} h1", "Edited")
    assert texts(dash_duo, f"{SHOWN} li") == [f"first {TOTAL:,}", "second"]
    assert not dash_duo.find_element(DRAFT).is_displayed()
    assert dash_duo.driver.execute_script("return window.symphonyNoteRan === undefined")

    # To the other page and back: the saved note is still there.
    dash_duo.find_element("a.symphony-tab:not(.active)").click()
    dash_duo.wait_for_element(css("histogram", "graph", "split"))
    settle(dash_duo)
    dash_duo.find_element("a.symphony-tab:not(.active)").click()
    dash_duo.wait_for_text_to_equal(f"{SHOWN} h1", "Edited")

    # Cancel leaves the saved note as it was.
    click(dash_duo, "edit")
    dash_duo.wait_for_text_to_equal(
        DRAFT, "# Edited\n\n- first {count}\n- second\n\n<script>window.symphonyNoteRan = 1</script>"
    )
    dash_duo.find_element(DRAFT).send_keys(" and more")
    click(dash_duo, "cancel")
    dash_duo.wait_for_text_to_equal(f"{SHOWN} h1", "Edited")
    assert texts(dash_duo, f"{SHOWN} li") == [f"first {TOTAL:,}", "second"]
    assert dash_duo.get_logs() == []


# -- without a browser ------------------------------------------------------------------------------------------------


def _render(text: str, saved: Any = None, state: State | None = None) -> str:
    note = Markdown("notes", MarkdownProps(text=text), DATASET)
    state = state or State(layout="note-test")
    view = View("notes", DATASET, Engine(DATASET), state, {"saved.data": saved}, "saved.data")
    return note.render(view)[0]


def test_markdown004_placeholders_are_replaced_as_text_only() -> None:
    state = State(layout="note-test", filter=[isin("label", [0], source="label")])
    zeros = int((FRAME.label == 0).sum())
    text = "{count} of {total}; {0} {count!r} {__class__} {{count}} %(count)s"
    assert _render(text, state=state) == f"{zeros} of {TOTAL}; {{0}} {{count!r}} {{__class__}} {{{zeros}}} %(count)s"
    assert _render("  ") == "*An empty note: click Edit to write one.*"


def test_markdown005_a_saved_note_is_used_only_for_its_layout_and_text() -> None:
    saved = {"note-test": {"from": "old", "text": "new", "at": 1}, "other": {"from": "old", "text": "elsewhere"}}
    assert _render("old", saved) == "new"
    assert _render("the file changed", saved) == "the file changed"  # the layout file wins once it changes
    assert _render("old", {"other": saved["other"]}) == "old"
    for malformed in ([1], {"note-test": "new"}, {"note-test": {"from": "old", "text": 5}}, "x"):
        assert _render("old", malformed) == "old"
