"""summary: the small charts' counts and shares missing against pandas under a filter; edits (add, remove, rename)
and what is kept of them in the browser; and in a browser over the digits demo: click a label bar of a histogram and
the summary follows, and charts added, removed and renamed in edit mode show at once and stay across pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
import numpy as np
import pandas as pd
import pytest
from dash.testing.wait import until
from helpers import PLOT, chip_texts, click_bar, css, plot_traces, settle, toy_frame, wait_count
from selenium.webdriver.common.keys import Keys

from symphony_dash import create_app
from symphony_dash.component import View
from symphony_dash.components.summary import Summary, SummaryProps
from symphony_dash.dataset import Dataset
from symphony_dash.demo import prepare_digits
from symphony_dash.engine import Engine
from symphony_dash.layout import LayoutError, load_layout
from symphony_dash.state import State, between, isin

# -- the figure, without a browser -----------------------------------------------------------------------------------


def toy_with_gaps() -> pd.DataFrame:
    """The toy table with some confidences and splits missing, so the shares missing are not all zero."""
    frame = toy_frame(seed=3)
    rng = np.random.default_rng(3)
    frame.loc[rng.random(len(frame)) < 0.1, "confidence"] = np.nan
    frame["split"] = frame.split.astype(object)
    frame.loc[rng.random(len(frame)) < 0.05, "split"] = None
    return frame


SHOTS = Path(__file__).parent.parent / "shots"
TOY = toy_with_gaps()
TOY_DATA = Dataset(TOY)


def render(state: State, **props: Any) -> tuple[Any, dict[str, Any]]:
    """The count and the figure."""
    return render_all(state, props)[:2]


def render_all(state: State, props: dict[str, Any], inputs: dict[str, Any] | None = None, trigger: str | None = None):
    component = Summary("sum", SummaryProps.model_validate(props), TOY_DATA)
    return component.render(View("sum", TOY_DATA, Engine(TOY_DATA), state, inputs or {}, trigger))


def panel(figure: dict[str, Any], column: str) -> tuple[dict[str, int], str]:
    """One subplot's filtered bars (x -> count) and its title."""
    i, trace = next((i, t) for i, t in enumerate(figure["data"]) if t["name"] == column)
    title = figure["layout"]["annotations"][i // 2]["text"]
    return dict(zip(trace["x"], trace["y"], strict=True)), title


def missing_title(name: str, rows: pd.Series) -> str:
    return f"<b>{name}</b> · {100 * rows.isna().mean():.0f}% missing"


def test_summ001_subplot_counts_and_missing_equal_pandas_under_a_filter() -> None:
    state = State(layout="toy", filter=[isin("label", [1, 2], source="h"), between("x", 0, 8, source="s")])
    count, figure = render(state, columns=["confidence", "split", "label"], titles={"split": "Split"}, bins=10)
    rows = TOY[TOY.label.isin([1, 2]) & TOY.x.between(0, 8)]
    assert count[0].children == f"{len(rows):,}" and count[1] == f" of {len(TOY):,} instances"

    bars, title = panel(figure, "split")
    assert bars == rows.split.value_counts().to_dict()
    assert title == missing_title("Split", rows.split)

    bars, title = panel(figure, "label")
    assert bars == {"0": 0, "1": (rows.label == 1).sum(), "2": (rows.label == 2).sum(), "3": 0}
    assert title == missing_title("label", rows.label)

    # Ten equal bins over the whole table's extent, the last one closed on the right.
    bars, title = panel(figure, "confidence")
    lo, hi = TOY.confidence.min(), TOY.confidence.max()
    expected = np.histogram(rows.confidence.dropna(), bins=10, range=(lo, hi))[0]
    assert list(bars.values()) == expected.tolist()
    assert title == missing_title("confidence", rows.confidence)
    assert "0%" not in title

    # The grid: four per row at most, every subplot with its own axes.
    assert [figure["layout"][f"xaxis{s}"]["type"] for s in ("", "2", "3")] == ["linear", "category", "category"]
    assert not figure["layout"]["showlegend"]


def test_summ002_default_columns_are_the_numeric_and_categorical_ones() -> None:
    _, figure = render(State(layout="toy"))
    charted = [t["name"] for t in figure["data"] if not t["name"].endswith("(all)")]
    assert charted == ["label", "prediction", "confidence", "split", "x", "y"]
    # Unfiltered, the blue bars cover the grey ones exactly.
    for grey, blue in zip(figure["data"][::2], figure["data"][1::2], strict=True):
        assert grey["y"] == blue["y"]


# -- edits, without a browser ----------------------------------------------------------------------------------------

FILE = {"columns": ["label", "split"], "titles": {"split": "Split"}}
STATE = State(layout="toy")


def shown(result: tuple[Any, ...]) -> tuple[list[str], list[str]]:
    """The columns charted and the titles the charts show, as rendered."""
    figure = result[1]
    columns = [t["name"] for t in figure["data"][1::2]]
    titles = [a["text"].split("</b>")[0].removeprefix("<b>") for a in figure["layout"]["annotations"]]
    return columns, titles


def edit(trigger: str, value: Any, saved: Any = None) -> tuple[Any, ...]:
    return render_all(STATE, FILE, {"saved.data": saved, trigger: value}, trigger)


def test_summ004_an_edit_changes_the_charts_and_is_saved_with_what_it_replaced() -> None:
    result = edit("remove-0.n_clicks", 1)
    assert shown(result) == (["split"], ["Split"])
    assert result[5] == {"toy": {"from": FILE, "columns": ["split"], "titles": {"split": "Split"}}}
    # Only the first chart's cell is shown, and the title boxes say what the charts are called.
    assert [c.get("display") for c in result[6:8]] == [None, "none"] and result[18:20] == ("Split", "")

    result = edit("add.value", "confidence", result[5])
    assert shown(result) == (["split", "confidence"], ["Split", "confidence"])
    assert "confidence" not in [o["value"] for o in result[3]] and result[4] is None

    result = edit("title-1.value", "  Model confidence ", result[5])
    assert shown(result)[1] == ["Split", "Model confidence"]
    # An empty box gives the chart its column's name back.
    result = edit("title-0.value", "", result[5])
    assert shown(result)[1] == ["split", "Model confidence"]
    assert result[5]["toy"]["titles"] == {"confidence": "Model confidence"}

    # What the file says shows when nothing is saved; other layouts' edits are kept, never used.
    other = {"other": {"from": FILE, "columns": ["x"], "titles": {}}}
    result = render_all(STATE, FILE, {"saved.data": other})
    assert shown(result) == (["label", "split"], ["label", "Split"])
    assert edit("remove-1.n_clicks", 1, other)[5] == other | {
        "toy": {"from": FILE, "columns": ["label"], "titles": {"split": "Split"}}
    }


def test_summ005_what_the_browser_sends_is_checked_and_the_file_wins_once_it_changes() -> None:
    saved = {
        "toy": {
            "from": FILE,
            "columns": ["split", "nope", 5, ["x"], "text", "split", "x"],
            "titles": {"x": "Position", "nope": "Gone", "split": 7, "label": ""},
        }
    }
    # Unknown and unchartable columns and malformed titles are left out, not an error.
    assert shown(render_all(STATE, FILE, {"saved.data": saved})) == (["split", "x"], ["split", "Position"])
    changed = {"columns": ["label", "split"], "titles": {}}
    assert shown(render_all(STATE, changed, {"saved.data": saved})) == (["label", "split"], ["label", "split"])
    for malformed in ("x", [1], {"toy": "x"}, {"toy": {"from": FILE, "columns": "split", "titles": {}}}):
        assert shown(render_all(STATE, FILE, {"saved.data": malformed})) == (["label", "split"], ["label", "Split"])
    # Events that are no edit change nothing: a column not offered, a place with no chart, a title that is no text.
    for trigger, value in [
        ("add.value", "nope"),
        ("add.value", "label"),
        ("remove-5.n_clicks", 1),
        ("title-0.value", 3),
    ]:
        assert edit(trigger, value)[5] is dash.no_update


def test_summ006_titles_are_checked_against_the_data_like_columns() -> None:
    spec = {"type": "summary", "id": "sum", "props": {"columns": ["label"], "titles": {"labl": "Label"}}}
    layout = {"title": "T", "data": {"source": "toy.parquet"}, "pages": [{"title": "P", "components": [spec]}]}
    with pytest.raises(LayoutError) as caught:
        load_layout(layout=layout, data=TOY_DATA)
    assert caught.value.errors == [
        f"pages[0].components[0].props.titles: unknown column 'labl'; the columns are: {', '.join(TOY.columns)}"
    ]


# -- in a browser ------------------------------------------------------------------------------------------------------

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)
APP = create_app(
    [
        {
            "title": "Summary test",
            "data": {"source": "demo:digits", "id_column": "id"},
            "pages": [
                {
                    "title": "Main",
                    "components": [
                        {"type": "histogram", "id": "label", "width": 2, "props": {"column": "label"}},
                        {
                            "type": "summary",
                            "id": "sum",
                            "width": 4,
                            "height": 3,
                            "props": {"columns": ["label", "confidence", "split", "ink"]},
                        },
                    ],
                },
                {"title": "Other", "components": [{"type": "histogram", "id": "split", "props": {"column": "split"}}]},
            ],
        }
    ]
)
GRAPH = css("summary", "graph", "sum")
OPTIONS = "//*[contains(@class, 'dash-dropdown-content')]"
_TITLES = PLOT + "return g && g._fullLayout.annotations ? g._fullLayout.annotations.map(a => a.text) : null;"


def summary_bars(dash_duo: Any, column: str) -> dict[str, int]:
    trace = next(t for t in plot_traces(dash_duo, GRAPH) if t["name"] == column)
    return {str(x): int(y) for x, y in zip(trace["x"], trace["y"], strict=True)}


def charted(dash_duo: Any) -> tuple[list[str], list[str]]:
    """The columns the summary charts and the chart titles it shows, as the browser drew them."""
    columns = [t["name"] for t in plot_traces(dash_duo, GRAPH)[1::2]]
    titles = dash_duo.driver.execute_script(_TITLES, GRAPH) or []
    return columns, [t.split("</b>")[0].removeprefix("<b>") for t in titles]


def wait_charted(dash_duo: Any, columns: list[str], titles: list[str]) -> None:
    until(lambda: charted(dash_duo) == (columns, titles), timeout=10, poll=0.05)


def counts(rows: pd.DataFrame, column: str) -> dict[str, int]:
    """Every category's count among the rows, the ones with none included, as pandas has them."""
    return {str(k): int((rows[column] == k).sum()) for k in sorted(FRAME[column].unique())}


def test_summ003_a_bar_click_elsewhere_narrows_the_summary(dash_duo: Any) -> None:
    dash_duo.start_server(APP)
    dash_duo.driver.set_window_size(1400, 900)
    count = css("summary", "count", "sum")
    dash_duo.wait_for_text_to_equal(count, f"{TOTAL:,} of {TOTAL:,} instances")
    assert summary_bars(dash_duo, "label") == {str(k): int(v) for k, v in FRAME.label.value_counts().items()}

    click_bar(dash_duo, "label", 3)
    threes = FRAME[FRAME.label == 3]
    wait_count(dash_duo, len(threes), TOTAL)
    assert chip_texts(dash_duo) and "3" in chip_texts(dash_duo)[0]
    dash_duo.wait_for_text_to_equal(count, f"{len(threes):,} of {TOTAL:,} instances")
    label = summary_bars(dash_duo, "label")
    assert label["3"] == len(threes) and sum(label.values()) == len(threes)
    assert summary_bars(dash_duo, "split") == {str(k): int(v) for k, v in threes.split.value_counts().items()}
    dash_duo.driver.save_screenshot(str(SHOTS / "summary.png"))


def test_summ007_charts_added_removed_and_renamed_show_at_once_and_stay_across_pages(dash_duo: Any) -> None:
    dash_duo.start_server(APP)
    dash_duo.driver.set_window_size(1400, 900)
    wait_count(dash_duo, TOTAL, TOTAL)
    wait_charted(dash_duo, ["label", "confidence", "split", "ink"], ["label", "confidence", "split", "ink"])
    assert not dash_duo.find_element(css("summary", "title-0", "sum")).is_displayed()

    dash_duo.find_element(css("summary", "edit", "sum")).click()
    dash_duo.find_element(css("summary", "remove-2", "sum")).click()  # the third chart: split
    wait_charted(dash_duo, ["label", "confidence", "ink"], ["label", "confidence", "ink"])

    dash_duo.find_element(css("summary", "add", "sum")).click()  # Dash 4's dropdown: a button opening its options
    dash_duo.driver.find_element(
        "xpath", "//*[contains(@class, 'dash-dropdown-content')]//*[text()='prediction']"
    ).click()
    wait_charted(dash_duo, ["label", "confidence", "ink", "prediction"], ["label", "confidence", "ink", "prediction"])
    assert summary_bars(dash_duo, "prediction") == counts(FRAME, "prediction")

    title = dash_duo.find_element(css("summary", "title-0", "sum"))
    title.send_keys(Keys.CONTROL, "a")
    title.send_keys("True label", Keys.ENTER)
    renamed = ["True label", "confidence", "ink", "prediction"]
    wait_charted(dash_duo, ["label", "confidence", "ink", "prediction"], renamed)
    settle(dash_duo)
    dash_duo.driver.save_screenshot(str(SHOTS / "summary-editing.png"))
    dash_duo.find_element(css("summary", "done", "sum")).click()
    until(lambda: not dash_duo.find_element(css("summary", "title-0", "sum")).is_displayed(), timeout=5)
    dash_duo.driver.save_screenshot(str(SHOTS / "summary-edited.png"))

    # To the other page and back: the edited charts are still there.
    dash_duo.find_element("a.symphony-tab:not(.active)").click()
    dash_duo.wait_for_element(css("histogram", "graph", "split"))
    settle(dash_duo)
    dash_duo.find_element("a.symphony-tab:not(.active)").click()
    wait_charted(dash_duo, ["label", "confidence", "ink", "prediction"], renamed)

    # The filter still narrows the edited charts.
    wait_count(dash_duo, TOTAL, TOTAL)
    click_bar(dash_duo, "label", 3)
    threes = FRAME[FRAME.label == 3]
    wait_count(dash_duo, len(threes), TOTAL)
    assert summary_bars(dash_duo, "prediction") == counts(threes, "prediction")
    # No callback failed (a script error elsewhere on the page is not the summary's to judge).
    assert not [e for e in dash_duo.get_logs() if "_dash-update-component" in e["message"]]
