"""Tests of the familiarity view: the ranked strip, brushing the score, crossfiltering by class, the per-class rows
and selecting by clicks (dash.testing, headless Chromium, over the digits demo), and its renders without a browser."""

from __future__ import annotations

import numpy as np
import pytest
from dash.testing.wait import until
from helpers import central_filter, click_bar, css, drag_through, plot_traces, retry_stale, toy_frame, wait_count

from symphony_dash import create_app
from symphony_dash.component import View
from symphony_dash.components.familiarity import Familiarity, FamiliarityProps
from symphony_dash.dataset import Dataset
from symphony_dash.demo import prepare_digits
from symphony_dash.engine import Engine
from symphony_dash.layout import LayoutError, load_layout
from symphony_dash.state import State

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)
PROPS = FamiliarityProps()
LAYOUT = {
    "title": "Familiarity test",
    "data": {"source": "demo:digits", "id_column": "id"},
    "pages": [
        {
            "title": "Main",
            "components": [
                {"type": "histogram", "id": "label", "width": 2, "height": 2, "props": {"column": "label"}},
                {"type": "familiarity", "id": "fam", "width": 4, "height": 4},
            ],
        }
    ],
}
APP = create_app([LAYOUT])

GRAPH = css("familiarity", "graph", "fam")
STRIP = css("familiarity", "strip", "fam")
STATUS = css("familiarity", "status", "fam")

# The strip as the browser shows it: per option, either a class header's text or a tile's id, score and selection.
_STRIP = """
return Array.from(document.querySelectorAll(arguments[0] + " .dash-options-list-option")).map(o => {
    const head = o.querySelector(".symphony-familiarity-head");
    if (head) {
        return {head: head.querySelector(".class b").textContent, share: head.querySelector(".share").textContent};
    }
    const text = o.querySelector(".dash-options-list-option-text");
    const item = o.querySelector(".symphony-gallery-item");
    return {id: Number((text.getAttribute("title") || "").split("\\n")[0].replace("id: ", "")),
            score: o.querySelector(".symphony-familiarity-score").textContent,
            selected: item.classList.contains("selected")};
});"""


def strip(dash_duo) -> list[dict]:
    return dash_duo.driver.execute_script(_STRIP, STRIP)


def strip_rows(dash_duo) -> list[tuple[str | None, list[int]]]:
    """The strip as ``(class header or None, ids)`` rows, in the order shown."""
    rows: list[tuple[str | None, list[int]]] = []
    for option in strip(dash_duo):
        if "head" in option:
            rows.append((option["head"], []))
        else:
            if not rows:
                rows.append((None, []))
            rows[-1][1].append(option["id"])
    return rows


def wait_strip(dash_duo, expected: list[tuple[str | None, list[int]]]) -> None:
    until(lambda: strip_rows(dash_duo) == expected, timeout=10)


def least_familiar(frame, n: int) -> list[int]:
    """The ids of the ``n`` least familiar rows; ties keep table order, as the view's stable sort does."""
    return frame.sort_values("familiarity", kind="stable").id.head(n).tolist()


def per_class(frame, n: int) -> list[tuple[str, list[int]]]:
    """Per label, its ``n`` least familiar ids; the labels with the largest share below 0.05 first."""
    share = (frame.familiarity < PROPS.low).groupby(frame.label).mean()
    order = sorted(share.index, key=lambda label: (-share[label], label))
    return [(str(label), least_familiar(frame[frame.label == label], n)) for label in order]


def start(dash_duo) -> None:
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.wait_for_contains_text(STATUS, "typical")


def click_tile(dash_duo, index: int) -> None:
    retry_stale(lambda: dash_duo.find_elements(f"{STRIP} .symphony-gallery-item img")[index].click())


def wait_chip(dash_duo, text: str) -> None:
    dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip.selection .symphony-chip-text", text)


def test_fam001_strip_ranks_the_least_familiar_first_under_a_flat_histogram(dash_duo) -> None:
    start(dash_duo)
    expected = least_familiar(FRAME, PROPS.count)
    wait_strip(dash_duo, [(None, expected)])
    scores = [option["score"] for option in strip(dash_duo)]
    assert scores == [f"{v:.3g}" for v in FRAME.set_index("id").familiarity[expected]]
    dash_duo.wait_for_text_to_equal(STATUS, f"The {PROPS.count} least typical of {TOTAL:,}")
    # Over every row a rank score is flat: the filtered bars equal the grey ones, and hold every row.
    traces = {t["name"]: t["y"] for t in plot_traces(dash_duo, GRAPH)}
    assert traces["filtered"] == traces["all"] and sum(traces["all"]) == TOTAL
    assert np.ptp(traces["all"]) <= 2
    dash_duo.driver.save_screenshot("/work/main/shots/familiarity.png")


def test_fam002_brushing_the_low_end_filters_the_other_views(dash_duo) -> None:
    start(dash_duo)
    drag_through(dash_duo, GRAPH, [(0.002, 20.0), (0.04, 20.0), (0.1, 20.0)])
    until(lambda: [c["source"] for c in central_filter(dash_duo)] == ["fam"], timeout=10)
    clause = central_filter(dash_duo)[0]
    assert clause["op"] == "range" and clause["column"] == "familiarity"
    low, high = clause["value"]
    inside = FRAME[FRAME.familiarity.between(low, high)]
    assert 0 < len(inside) < TOTAL / 5
    wait_count(dash_duo, len(inside), TOTAL)
    # The label histogram counts only the brushed rows; the strip ranks inside the brush.
    bars = [int(v) for v in plot_traces(dash_duo, css("histogram", "graph", "label"))[-1]["y"]]
    assert bars == inside.label.value_counts().reindex(range(10), fill_value=0).tolist()
    wait_strip(dash_duo, [(None, least_familiar(inside, PROPS.count))])


def test_fam003_a_class_chosen_elsewhere_shows_that_class_least_familiar(dash_duo) -> None:
    start(dash_duo)
    click_bar(dash_duo, "label", 3)
    threes = FRAME[FRAME.label == 3]
    wait_count(dash_duo, len(threes), TOTAL)
    wait_strip(dash_duo, [(None, least_familiar(threes, PROPS.count))])
    dash_duo.wait_for_text_to_equal(STATUS, f"The {PROPS.count} least typical of {len(threes):,}")
    # Over one class the score is not flat: the filtered bars are that class's own histogram.
    edges = np.linspace(FRAME.familiarity.min(), FRAME.familiarity.max(), PROPS.bins + 1)
    expected = np.histogram(threes.familiarity, edges)[0].tolist()
    until(lambda: {t["name"]: t["y"] for t in plot_traces(dash_duo, GRAPH)}["filtered"] == expected, timeout=10)
    dash_duo.driver.save_screenshot("/work/main/shots/familiarity-class.png")


def test_fam004_per_class_rows_and_selecting_from_them(dash_duo) -> None:
    start(dash_duo)
    retry_stale(lambda: dash_duo.find_element(css("familiarity", "toggle", "fam") + " input").click())
    expected = per_class(FRAME, PROPS.per_class_count)
    wait_strip(dash_duo, expected)
    first = expected[0][0]
    low = int(((FRAME.label == int(first)) & (FRAME.familiarity < PROPS.low)).sum())
    assert strip(dash_duo)[0]["share"] == f"{low} of {int((FRAME.label == int(first)).sum())} below {PROPS.low:g}"
    dash_duo.driver.save_screenshot("/work/main/shots/familiarity-per-class.png")

    click_tile(dash_duo, 2)
    wait_chip(dash_duo, "selected: 1 instance")
    until(lambda: [o["selected"] for o in strip(dash_duo) if "id" in o].index(True) == 2, timeout=10)
    wait_count(dash_duo, TOTAL, TOTAL)  # a selection marks instances; it does not filter
    dash_duo.find_element(css("familiarity", "select", "fam")).click()
    shown = sum(len(ids) for _, ids in expected)
    wait_chip(dash_duo, f"selected: {shown} instances")
    until(lambda: all(o["selected"] for o in strip(dash_duo) if "id" in o), timeout=10)

    # Off again: one ranked strip, the selection kept.
    dash_duo.find_element(css("familiarity", "toggle", "fam") + " input").click()
    wait_strip(dash_duo, [(None, least_familiar(FRAME, PROPS.count))])
    wait_chip(dash_duo, f"selected: {shown} instances")


def view(state: State, toggle: list[str] | None = None) -> tuple[Familiarity, View]:
    dataset = APP.symphony_layouts["familiarity-test"].dataset
    fam = Familiarity("fam", PROPS, dataset)
    return fam, View("fam", dataset, Engine(dataset), state, {"toggle.value": toggle or []})


def test_fam005_a_group_by_gives_one_row_per_group() -> None:
    fam, v = view(State(layout="familiarity-test", group_by=["split"]))
    _, options, *_, status, _ = fam.render(v)
    heads = [o["value"] for o in options if o.get("disabled")]
    assert heads == [0, PROPS.per_class_count + 1]
    assert status == "The least typical of each group (split), most below 0.05 first"
    # Options are numbered in the order drawn, so a pick maps back to the same instances.
    assert [o["value"] for o in options] == list(range(2 * (PROPS.per_class_count + 1)))


@pytest.mark.parametrize(
    "value",
    [None, "x", {"page": 1}, {"page": 0, "want": {}}, {"page": 1, "want": {"a": True}}, {"page": 1, "want": {"1": 2}}],
)
def test_fam006_a_malformed_pick_is_refused(value) -> None:
    fam, v = view(State(layout="familiarity-test"))
    with pytest.raises((TypeError, ValueError)):
        fam.on_event("pick", value, v)


def test_fam007_a_pick_past_the_strip_is_ignored_and_one_on_it_selects() -> None:
    fam, v = view(State(layout="familiarity-test"))
    clause = fam.on_event("pick", {"page": 1, "want": {"0": True, "500": True}}, v)
    assert clause.op == "ids" and clause.value == least_familiar(FRAME, 1)


def test_fam008_a_dataset_without_the_score_says_what_is_missing() -> None:
    with pytest.raises(LayoutError) as info:
        load_layout(layout=LAYOUT, data=Dataset(toy_frame()))
    assert "pages[0].components[1].props.score: unknown column 'familiarity'" in str(info.value)


def test_fam009_without_media_the_tiles_are_cards_of_the_id() -> None:
    frame = toy_frame(50).drop(columns="text")
    frame["familiarity"] = frame.x.rank(method="first").sub(1).div(len(frame) - 1)
    dataset = Dataset(frame)
    fam = Familiarity("fam", FamiliarityProps(count=5), dataset)
    _, options, class_name, *_ = fam.render(View("fam", dataset, Engine(dataset), State(), {"toggle.value": []}))
    assert "text" in class_name.split()
    shown = [o["title"].split("\n")[0] for o in options]
    assert shown == [f"id: {i}" for i in frame.sort_values("familiarity").id.head(5)]
