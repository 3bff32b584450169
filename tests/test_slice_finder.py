"""Browser tests of the slice finder on the digits demo: a click on a slice filters the other views to exactly its
rows (counted here with pandas), a second click clears it, and a filter from elsewhere changes the list; and the
server-side checks of a pick."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
import pytest
from dash.testing.wait import until
from helpers import central_filter, chip_texts, click_bar, css, filtered_bars, retry_stale, settle, wait_count

from symphony_dash import create_app
from symphony_dash.analyses.slices import find_slices
from symphony_dash.component import View
from symphony_dash.components.slice_finder import SliceFinder, SliceFinderProps
from symphony_dash.dataset import Dataset
from symphony_dash.demo import prepare_digits
from symphony_dash.engine import Engine
from symphony_dash.state import Clause, State, isin

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)
COLUMNS = ["label", "split", "ink", "familiarity", "label_disagreement"]
LAYOUT = {
    "title": "Slice finder test",
    "data": {"source": "demo:digits", "id_column": "id"},
    "pages": [
        {
            "title": "Main",
            "components": [
                {"type": "slice_finder", "id": "slices", "width": 4, "height": 3, "props": {"columns": COLUMNS}},
                {"type": "histogram", "id": "label", "width": 2, "height": 3, "props": {"column": "label"}},
            ],
        }
    ],
}
APP = create_app([LAYOUT])

LIST = css("slice_finder", "list", "slices")
ROWS = f"{LIST} .symphony-slice"
STATUS = css("slice_finder", "status", "slices")


def shown(dash_duo) -> list[dict[str, Any]]:
    """Every slice row as the browser shows it: its text, size and whether it is the chosen one."""
    script = """
        return Array.from(document.querySelectorAll(arguments[0])).map(r => ({
            text: r.querySelector(".text").textContent, size: r.querySelector(".size").textContent,
            active: r.classList.contains("active")}));"""
    return dash_duo.driver.execute_script(script, ROWS)


def wait_list(dash_duo, texts: list[str]) -> None:
    until(lambda: [r["text"] for r in shown(dash_duo)] == texts, timeout=10)


def click_slice(dash_duo, index: int) -> None:
    def click() -> None:
        row = dash_duo.find_elements(ROWS)[index]
        # Into the middle of the window, as a person scrolls: at the top, the sticky toolbar would cover it.
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", row)
        row.click()

    retry_stale(click)


def in_slice(frame: pd.DataFrame, conditions: list[dict[str, Any]]) -> pd.Series:
    """The rows of a slice, from its conditions as the browser sent them, evaluated with pandas."""
    mask = pd.Series(True, index=frame.index)
    for part in conditions:
        column, value = frame[part["column"]], part["value"]
        match part["op"]:
            case "eq":
                mask &= column == value
            case "in":
                mask &= column.isin(value)
            case "range":
                mask &= column.between(*value)
            case "is_null":
                mask &= column.isna()
    return mask


def status_text(frame: pd.DataFrame, count: int) -> str:
    wrong = (frame.label != frame.prediction).sum()
    return f"{wrong / len(frame):.1%} wrong overall ({wrong:,} of {len(frame):,}) · {count} slices worse than that"


def test_slf001_a_click_filters_to_the_slice_and_a_second_click_clears_it(dash_duo) -> None:
    expected = find_slices(FRAME, columns=COLUMNS, top=15)
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    wait_list(dash_duo, expected["slice"].tolist())
    assert dash_duo.find_element(STATUS).text.startswith(status_text(FRAME, len(expected)))
    assert [r["size"] for r in shown(dash_duo)] == [f"{n:,}" for n in expected["size"]]

    click_slice(dash_duo, 0)
    until(lambda: len(central_filter(dash_duo)) == 1, timeout=10)
    (clause,) = central_filter(dash_duo)
    assert clause["op"] == "all" and clause["source"] == "slices"
    rows = FRAME[in_slice(FRAME, clause["value"])]
    wait_count(dash_duo, len(rows), TOTAL)
    assert len(rows) == expected["size"].iloc[0]
    assert chip_texts(dash_duo) == [expected["slice"].iloc[0]]
    # The other view shows only the slice's rows; the list stays put, with the chosen slice marked.
    per_label = rows.label.value_counts().reindex(range(10), fill_value=0).tolist()
    until(lambda: filtered_bars(dash_duo, "label") == per_label, timeout=10)
    until(lambda: [r["active"] for r in shown(dash_duo)] == [True] + [False] * (len(expected) - 1), timeout=10)
    assert [r["text"] for r in shown(dash_duo)] == expected["slice"].tolist()
    dash_duo.driver.set_window_size(1400, 1000)
    settle(dash_duo)
    dash_duo.driver.save_screenshot("/work/main/shots/slice_finder.png")

    click_slice(dash_duo, 0)
    wait_count(dash_duo, TOTAL, TOTAL)
    assert chip_texts(dash_duo) == []
    until(lambda: not any(r["active"] for r in shown(dash_duo)), timeout=10)
    until(lambda: sum(filtered_bars(dash_duo, "label")) == TOTAL, timeout=10)


def test_slf002_a_filter_from_elsewhere_changes_the_slices(dash_duo) -> None:
    before = find_slices(FRAME, columns=COLUMNS, top=15)["slice"].tolist()
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    wait_list(dash_duo, before)

    click_bar(dash_duo, "label", 3)
    threes = FRAME[FRAME.label == 3]
    wait_count(dash_duo, len(threes), TOTAL)
    until(lambda: dash_duo.find_element(STATUS).text.startswith(status_text(threes, len(shown(dash_duo)))), 10)
    after = shown(dash_duo)
    assert after and [r["text"] for r in after] != before
    # Within the threes the label says nothing: no slice names it.
    assert not any("label ==" in r["text"] for r in after)

    click_slice(dash_duo, 0)
    until(lambda: len(central_filter(dash_duo)) == 2, timeout=10)
    (clause,) = [c for c in central_filter(dash_duo) if c["source"] == "slices"]
    both = threes[in_slice(threes, clause["value"])]
    wait_count(dash_duo, len(both), TOTAL)
    assert f"{len(both):,}" == after[0]["size"]
    assert sorted(chip_texts(dash_duo)) == sorted(["label in [3]", after[0]["text"]])


def test_slf003_a_pick_is_checked_against_the_list_drawn() -> None:
    """Malformed picks raise (the base class then ignores them); a pick of a list drawn for another state does
    nothing; a pick of the chosen slice clears it."""
    dataset = Dataset(FRAME, id_column="id")
    engine = Engine(dataset)
    finder = SliceFinder("slices", SliceFinderProps(columns=COLUMNS), dataset)

    def view(*clauses: Clause) -> View:
        return View("slices", dataset, engine, State(layout="t", filter=list(clauses)))

    _, _, drawn = finder.render(view())
    first = finder.on_event("pick", {"pos": 0, "gen": drawn["gen"]}, view())
    assert first is not None and first.op == "all" and first.source == "slices"
    assert engine.where([first]).count() == find_slices(FRAME, columns=COLUMNS)["size"].iloc[0]
    assert finder.on_event("pick", {"pos": 0, "gen": drawn["gen"]}, view(first)) is None
    assert finder.on_event("pick", {"pos": 0, "gen": drawn["gen"]}, view(isin("label", [3]))) is dash.no_update
    assert finder.on_event("pick", {"pos": 999, "gen": drawn["gen"]}, view()) is dash.no_update
    for bad in [None, {}, {"pos": "0", "gen": drawn["gen"]}, {"pos": True, "gen": drawn["gen"]}, {"pos": 0}, [0]]:
        with pytest.raises(ValueError, match="a slice pick must be"):
            finder.on_event("pick", bad, view())
