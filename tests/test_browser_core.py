"""Browser tests of the core wiring: linked views through the central store, chips, independent instances,
an error card in one box, and a broken layout on its own page (dash.testing, headless Chromium)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
from dash import html
from dash.testing.wait import until
from helpers import (
    central_filter,
    chip_texts,
    click_bar,
    css,
    filtered_bars,
    plot_traces,
    retry_stale,
    settle,
    wait_count,
)
from selenium.webdriver.common.action_chains import ActionChains

from symphony_dash import Component, Props, Slot, create_app, register
from symphony_dash.demo import prepare_digits

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)


@register
class Exploding(Component):
    """A component that always fails, to show that its error stays in its own box."""

    type = "test-exploding"
    Props = Props
    outputs = (Slot("text", "children"),)

    def layout(self) -> html.Div:
        return html.Div(id=self.id("text"))

    def render(self, view):
        raise RuntimeError("this component is broken on purpose")


def _layouts() -> list[Path]:
    folder = Path(tempfile.mkdtemp(prefix="symphony-layouts-"))
    good = {
        "title": "Core test",
        "data": {"source": "demo:digits"},
        "pages": [
            {
                "title": "Main",
                "components": [
                    {"type": "histogram", "id": "label", "props": {"column": "label"}},
                    {"type": "histogram", "id": "pred", "props": {"column": "prediction"}},
                    {"type": "histogram", "id": "conf", "props": {"column": "confidence", "bins": 20}},
                    {"type": "test-exploding", "id": "boom", "width": 2, "height": 1},
                ],
            },
            {"title": "Second", "components": [{"type": "histogram", "id": "ink", "props": {"column": "ink"}}]},
        ],
    }
    broken = {
        "title": "Broken",
        "data": {"source": "demo:digits"},
        "pages": [
            {"title": "P", "components": [{"type": "histogram", "id": "h", "props": {"column": "label", "binz": 3}}]}
        ],
    }
    (folder / "a_core.json").write_text(json.dumps(good))
    (folder / "b_broken.json").write_text(json.dumps(broken))
    return [folder / "a_core.json", folder / "b_broken.json"]


APP = create_app(_layouts())


def test_core001_bar_click_filters_other_views_and_chip_restores(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    before = filtered_bars(dash_duo, "pred")
    click_bar(dash_duo, "label", 3)
    threes = FRAME[FRAME.label == 3]
    wait_count(dash_duo, len(threes), TOTAL)
    assert chip_texts(dash_duo) == ["label in [3]"]
    dash_duo.wait_for_text_to_equal(
        css("test-exploding", "error", "boom") + " strong", "test-exploding 'boom' could not render"
    )
    # The prediction histogram now counts the predictions of the 3s only; the label histogram keeps all its bars.
    expected = threes.prediction.value_counts()
    pred = dict(zip(range(10), filtered_bars(dash_duo, "pred"), strict=True))
    assert pred == {d: int(expected.get(d, 0)) for d in range(10)}
    assert filtered_bars(dash_duo, "label") == [int((FRAME.label == d).sum()) for d in range(10)]
    assert sum(filtered_bars(dash_duo, "conf")) == len(threes)

    dash_duo.find_element("#symphony-chips .symphony-chip-remove").click()
    wait_count(dash_duo, TOTAL, TOTAL)
    assert chip_texts(dash_duo) == []
    assert filtered_bars(dash_duo, "pred") == before


def test_core002_two_histograms_emit_independent_clauses(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    click_bar(dash_duo, "label", 8)
    wait_count(dash_duo, int((FRAME.label == 8).sum()), TOTAL)
    click_bar(dash_duo, "pred", 1)
    both = FRAME[(FRAME.label == 8) & (FRAME.prediction == 1)]
    wait_count(dash_duo, len(both), TOTAL)
    assert chip_texts(dash_duo) == ["label in [8]", "prediction in [1]"]
    # A second click on a chosen category takes it out again; the other clause stays.
    click_bar(dash_duo, "label", 8)
    wait_count(dash_duo, int((FRAME.prediction == 1).sum()), TOTAL)
    assert chip_texts(dash_duo) == ["prediction in [1]"]
    dash_duo.find_element(".symphony-clear").click()
    wait_count(dash_duo, TOTAL, TOTAL)


def test_core003_brush_makes_a_range_and_survives_page_navigation(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)

    def brush() -> None:
        drag = dash_duo.find_element(css("histogram", "graph", "conf")).find_element("css selector", ".nsewdrag")
        width, height = drag.size["width"], drag.size["height"]
        # selenium 4.2 measures the offset from the element's top-left corner.
        chain = ActionChains(dash_duo.driver).move_to_element_with_offset(drag, int(width * 0.55), height // 2)
        chain.click_and_hold().pause(0.1)
        for _ in range(6):  # Plotly draws the brush from the mouse moves between press and release
            chain.move_by_offset(int(width * 0.05), 0).pause(0.05)
        chain.release().perform()

    retry_stale(brush)
    dash_duo.wait_for_contains_text("#symphony-chips", "confidence between")
    low, high = (float(v) for v in chip_texts(dash_duo)[0].removeprefix("confidence between ").split(" and "))
    inside = int(FRAME.confidence.between(low, high).sum())
    assert 0 < inside < TOTAL
    # The chip rounds to 4 digits; the count is exact, so allow the rows that sit on a rounded edge.
    shown = int(dash_duo.find_element("#symphony-count b").text.replace(",", ""))
    assert abs(shown - inside) <= int(FRAME.confidence.between(low - 1e-3, high + 1e-3).sum()) - inside

    dash_duo.find_element(".symphony-tab:not(.active)").click()
    dash_duo.wait_for_element(css("histogram", "graph", "ink") + " .bars")
    dash_duo.wait_for_contains_text("#symphony-chips", "confidence between")
    assert dash_duo.find_element("#symphony-count b").text.replace(",", "") == str(shown)


def test_core004_broken_layout_shows_its_errors_and_others_work(dash_duo) -> None:
    dash_duo.start_server(APP)
    dash_duo.wait_for_element("#nav-b-broken").click()
    dash_duo.wait_for_contains_text(".symphony-error-page", "could not be loaded")
    text = dash_duo.find_element(".symphony-errors").text
    assert "b_broken.json: pages[0].components[0].props: 'binz' is not a parameter of histogram" in text
    dash_duo.find_element("#nav-a-core").click()
    wait_count(dash_duo, TOTAL, TOTAL)
    assert dash_duo.get_logs() == [] or all("symphony" not in e["message"] for e in dash_duo.get_logs())


def trace_counts(dash_duo, component_id: str) -> dict[str, list[int]]:
    """Every trace of a histogram as ``{name: heights}``."""
    return {t["name"]: [int(v) for v in t["y"]] for t in plot_traces(dash_duo, css("histogram", "graph", component_id))}


def test_core005_group_by_splits_bars_per_group(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.find_element(".symphony-groupby").click()  # Dash 4's dropdown: a button opening a list of options
    dash_duo.driver.find_element("xpath", "//*[contains(@class, 'dash-dropdown-content')]//*[text()='split']").click()
    dash_duo.wait_for_contains_text(css("histogram", "graph", "label") + " .legend", "train")
    settle(dash_duo)
    expected = pd.crosstab(FRAME.label, FRAME.split)
    traces = retry_stale(lambda: trace_counts(dash_duo, "label"))
    assert traces == {split: expected[split].tolist() for split in ("test", "train")}
    # Group-by and filter combine: a bar click keeps the split colours, now counting only that label.
    click_bar(dash_duo, "pred", 2)
    wait_count(dash_duo, int((FRAME.prediction == 2).sum()), TOTAL)
    twos = pd.crosstab(FRAME[FRAME.prediction == 2].label, FRAME.split).reindex(range(10), fill_value=0)
    assert trace_counts(dash_duo, "label") == {split: twos[split].tolist() for split in ("test", "train")}


def test_core006_bar_after_bar_and_brush_after_brush_count_exactly(dash_duo) -> None:
    """Clicking bar after bar and brushing again and again: from the second change on, the other views are counted
    from counts the engine prepared for the moving clause (symphony_dash.brush). They must equal pandas' counts."""
    engine = next(iter(APP.symphony_layouts.values())).engine  # type: ignore[attr-defined]
    engine._cubes.clear()  # what earlier tests of this module prepared
    engine._brushes.clear()
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)

    def predictions_match(rows: pd.DataFrame) -> None:
        traces = plot_traces(dash_duo, css("histogram", "graph", "pred"))
        shown = dict(zip((str(x) for x in traces[-1]["x"]), (int(y) for y in traces[-1]["y"]), strict=True))
        expected = rows.prediction.astype(str).value_counts().to_dict()
        assert {k: v for k, v in shown.items() if v} == expected

    labels: list[int] = []
    for bar in (8, 3, 5):  # label in [8], then [8, 3], then [8, 3, 5]: one clause moving
        click_bar(dash_duo, "label", bar)
        labels.append(bar)
        chosen = FRAME[FRAME.label.isin(labels)]
        wait_count(dash_duo, len(chosen), TOTAL)
        predictions_match(chosen)

    for start, width in ((0.2, 0.3), (0.5, 0.4), (0.35, 0.2)):  # three brushes on confidence, the labels in place
        before = json.dumps(central_filter(dash_duo))

        def brush(start: float = start, width: float = width) -> None:
            drag = dash_duo.find_element(css("histogram", "graph", "conf")).find_element("css selector", ".nsewdrag")
            chain = ActionChains(dash_duo.driver).move_to_element_with_offset(
                drag, int(drag.size["width"] * start), drag.size["height"] // 2
            )
            chain.click_and_hold().pause(0.1)
            for _ in range(6):
                chain.move_by_offset(int(drag.size["width"] * width / 6), 0).pause(0.05)
            chain.release().perform()

        retry_stale(brush)
        until(lambda before=before: json.dumps(central_filter(dash_duo)) != before, timeout=10)
        ((low, high),) = [c["value"] for c in central_filter(dash_duo) if c["column"] == "confidence"]
        rows = FRAME[FRAME.label.isin(labels) & FRAME.confidence.between(low, high)]
        wait_count(dash_duo, len(rows), TOTAL)
        predictions_match(rows)
    kinds = {key[2] for key in engine._cubes if len(key) > 2}
    assert {"levels", "range"} <= kinds, "the clicks and the brushes were counted from prepared counts"
