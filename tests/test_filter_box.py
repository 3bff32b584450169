"""Browser tests of the toolbar's filter box: a typed filter filters every view, a mistake is shown in place, and
clauses made by clicking and brushing read back as text (dash.testing, headless Chromium)."""

from __future__ import annotations

from dash.testing.wait import until
from helpers import (
    central_filter,
    chip_texts,
    click_bar,
    css,
    filtered_bars,
    retry_stale,
    settle,
    toy_frame,
    wait_count,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from symphony_dash import create_app
from symphony_dash.dataset import Dataset

FRAME = toy_frame()
TOTAL = len(FRAME)
LAYOUT = {
    "title": "Filter box",
    "data": {"source": "toy.parquet"},  # replaced by the data given to create_app
    "pages": [
        {
            "title": "Main",
            "components": [
                {"type": "histogram", "id": "label", "props": {"column": "label"}},
                {"type": "histogram", "id": "split", "props": {"column": "split"}},
                {"type": "histogram", "id": "conf", "props": {"column": "confidence", "bins": 20}},
            ],
        }
    ],
}
APP = create_app([LAYOUT], data=Dataset(FRAME))
BOX = "#symphony-filter-box-input"
ERROR = "#symphony-filter-box-error"


def box_text(dash_duo) -> str:
    return dash_duo.find_element(BOX).get_attribute("value")


def type_filter(dash_duo, text: str) -> None:
    """Replace the box's text as a person does (select all, type) and press Enter."""
    box = dash_duo.find_element(BOX)
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def label_counts(mask) -> list[int]:
    """The label histogram's bars for the rows of ``mask``, by pandas: one bar per label, in order."""
    counts = FRAME[mask].label.value_counts()
    return [int(counts.get(v, 0)) for v in sorted(FRAME.label.unique())]


def test_fbox001_a_typed_filter_filters_every_view(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    type_filter(dash_duo, "split == 'test' and confidence < 0.7")
    expected = (FRAME.split == "test") & (FRAME.confidence < 0.7)
    wait_count(dash_duo, int(expected.sum()), TOTAL)
    assert chip_texts(dash_duo) == ["split == 'test'", "confidence < 0.7"]
    assert filtered_bars(dash_duo, "label") == label_counts(expected)
    dash_duo.driver.set_window_size(1280, 720)
    dash_duo.driver.save_screenshot("/work/main/shots/filter_box.png")

    # Emptying the box removes the filter.
    type_filter(dash_duo, "")
    wait_count(dash_duo, TOTAL, TOTAL)
    assert chip_texts(dash_duo) == []


def test_fbox002_an_unknown_column_shows_the_error_in_place(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    type_filter(dash_duo, "lable == 3")
    dash_duo.wait_for_text_to_equal(
        f"{ERROR} .symphony-filter-box-message", "unknown column 'lable' at 1: did you mean 'label'?"
    )
    assert dash_duo.find_element(f"{ERROR} mark").text == "lable"
    assert central_filter(dash_duo) == [] and box_text(dash_duo) == "lable == 3"
    dash_duo.driver.set_window_size(1280, 720)
    dash_duo.driver.save_screenshot("/work/main/shots/filter_box_error.png")

    # Fixing the text clears the error as soon as it is edited, and Enter applies it.
    box = dash_duo.find_element(BOX)
    box.send_keys(Keys.HOME, Keys.DELETE, Keys.DELETE, Keys.DELETE, Keys.DELETE, Keys.DELETE, "label")
    until(lambda: dash_duo.driver.execute_script(f"return document.querySelector('{ERROR}').textContent") == "", 5)
    assert box_text(dash_duo) == "label == 3"
    box.send_keys(Keys.ENTER)
    wait_count(dash_duo, int((FRAME.label == 3).sum()), TOTAL)
    assert chip_texts(dash_duo) == ["label == 3"]


def test_fbox003_a_clicked_and_a_brushed_clause_read_as_text(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    click_bar(dash_duo, "label", 2)
    wait_count(dash_duo, int((FRAME.label == 2).sum()), TOTAL)
    until(lambda: box_text(dash_duo) == "label in [2]", 5)

    def brush() -> None:
        drag = dash_duo.find_element(css("histogram", "graph", "conf")).find_element("css selector", ".nsewdrag")
        width, height = drag.size["width"], drag.size["height"]
        chain = ActionChains(dash_duo.driver).move_to_element_with_offset(drag, int(width * 0.5), height // 2)
        chain.click_and_hold().pause(0.1)
        for _ in range(6):
            chain.move_by_offset(int(width * 0.05), 0).pause(0.05)
        chain.release().perform()

    retry_stale(brush)
    until(lambda: " and confidence between " in box_text(dash_duo), 5)
    brushed = next(c for c in central_filter(dash_duo) if c["source"] == "conf")
    low, high = (float(f"{v:.6g}") for v in brushed["value"])  # the box writes numbers to 6 digits
    assert box_text(dash_duo) == f"label in [2] and confidence between {low!r} and {high!r}"
    settle(dash_duo)
    dash_duo.driver.save_screenshot("/work/main/shots/filter_box_brushed.png")

    # Enter on the unchanged text keeps both clauses as they are, still the histograms' own (their brush stays).
    dash_duo.find_element(BOX).send_keys(Keys.END, Keys.ENTER)
    settle(dash_duo)
    assert [c["source"] for c in central_filter(dash_duo)] == ["label", "conf"]

    # Editing the brushed clause's text makes it the box's; deleting the clicked one's text removes it.
    type_filter(dash_duo, "confidence between 0.5 and 0.9")
    expected = FRAME.confidence.between(0.5, 0.9)
    wait_count(dash_duo, int(expected.sum()), TOTAL)
    assert [(c["source"], c["op"]) for c in central_filter(dash_duo)] == [("filter-box:1", "range")]
    assert filtered_bars(dash_duo, "label") == label_counts(expected)


def test_fbox004_not_and_or_work(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    type_filter(dash_duo, "not (label in [0, 1]) or split == 'test'")
    expected = ~FRAME.label.isin([0, 1]) | (FRAME.split == "test")
    wait_count(dash_duo, int(expected.sum()), TOTAL)
    assert box_text(dash_duo) == "(not (label in [0, 1]) or split == 'test')"
    assert filtered_bars(dash_duo, "label") == label_counts(expected)
    # The datalist offers a category's values where one goes.
    box = dash_duo.find_element(BOX)
    box.send_keys(" and split == ")
    options = "return [...document.querySelectorAll('#symphony-filter-box-options option')].map(o => o.value);"
    text = box_text(dash_duo)
    until(lambda: dash_duo.driver.execute_script(options) == [f"{text}'test'", f"{text}'train'"], 5)
