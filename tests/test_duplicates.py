"""Tests of the duplicates view: the count of groups under the filter, groups largest first, "Select group" as the
shared selection, groups crossing the toolbar's group-by column first and badged, a histogram click narrowing the
groups, the Exact / Near toggle, and malformed events (dash.testing in headless Chromium over the digits demo and a
toy table with exact duplicates across train and test; plus plain tests)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dash.testing.wait import until
from helpers import chip_texts, click_bar, css, settle, toy_frame, wait_count

from symphony_dash import create_app
from symphony_dash.analyses import exact_duplicates, near_duplicates
from symphony_dash.component import View
from symphony_dash.components.duplicates import MAX_GROUPS, Duplicates, DuplicatesProps
from symphony_dash.dataset import Dataset, DatasetError
from symphony_dash.demo import prepare_digits
from symphony_dash.engine import Engine
from symphony_dash.state import State, eq, isin

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)
PER_PAGE = 6


def toy_with_duplicates() -> pd.DataFrame:
    """The toy table with six copies of five rows (some moved to the other split) and near-duplicate groups."""
    base = toy_frame(300)
    copies = base.iloc[[5, 5, 17, 40, 41, 90]].copy()
    copies["id"] = range(len(base), len(base) + len(copies))
    copies["split"] = ["test", "train", "test", "train", "test", "test"]
    frame = pd.concat([base, copies], ignore_index=True)
    frame["duplicate_group"] = exact_duplicates(frame, columns=["label", "text"]).to_numpy()
    vectors = frame[["x", "y", "confidence"]].to_numpy()
    frame["near_duplicate_group"] = near_duplicates(vectors, 0.99999, method="exact", cache=False).to_numpy()
    return frame


TOY = toy_with_duplicates()


def _layouts() -> list[dict[str, Any]]:
    folder = Path(tempfile.mkdtemp(prefix="symphony-duplicates-"))
    TOY.to_parquet(folder / "toy.parquet")
    digits = {
        "title": "Digits",
        "data": {"source": "demo:digits", "id_column": "id"},
        "pages": [
            {
                "title": "Main",
                "components": [
                    {"type": "duplicates", "id": "dups", "width": 4, "height": 3},
                    {"type": "histogram", "id": "label", "width": 2, "height": 3, "props": {"column": "label"}},
                    # Sorted so that every row of a near-duplicate group is on the first page.
                    {
                        "type": "gallery",
                        "id": "gallery",
                        "width": 6,
                        "height": 3,
                        "props": {"page_size": 48, "sort_by": "near_duplicate_group", "descending": True},
                    },
                ],
            }
        ],
    }
    toy = {
        "title": "Toy",
        "data": {"source": str(folder / "toy.parquet"), "id_column": "id"},
        "pages": [
            {
                "title": "Main",
                "components": [
                    {"type": "duplicates", "id": "toy-dups", "width": 6, "height": 3},
                    {"type": "histogram", "id": "split", "width": 2, "height": 2, "props": {"column": "split"}},
                ],
            }
        ],
    }
    return [digits, toy]


APP = create_app(_layouts())


# -- expectations, computed with pandas -----------------------------------------------------------------------------


def expected_groups(frame: pd.DataFrame, column: str, split: str | None = None) -> list[dict[str, Any]]:
    """The groups with at least two rows in ``frame``: crossing ``split`` first, then largest, then by id."""
    rows = frame[frame[column] >= 0]
    groups = []
    for gid, members in rows.groupby(column):
        if len(members) < 2:
            continue
        values = sorted(members[split].unique()) if split else []
        groups.append(
            {"id": int(gid), "ids": sorted(members.id.tolist()), "crosses": len(values) > 1, "values": values}
        )
    return sorted(groups, key=lambda g: (not g["crosses"], -len(g["ids"]), g["id"]))


def summary_text(frame: pd.DataFrame, kind: str, split: str | None = None) -> str:
    columns = {"exact": "duplicate_group", "near": "near_duplicate_group"}
    groups = expected_groups(frame, columns[kind], split)
    rows = sum(len(g["ids"]) for g in groups)
    other = next(k for k in columns if k != kind)
    others = len(expected_groups(frame, columns[other]))
    text = f"{rows} {_plural(rows, 'row')} in {len(groups)} {kind}-duplicate {_plural(len(groups), 'group')}"
    text += f" · {others} {other}"
    if split:
        crossing = sum(g["crosses"] for g in groups)
        text += f" · {crossing} {_plural(crossing, 'group')} {'crosses' if crossing == 1 else 'cross'} {split}"
    return text


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


# -- reading the page -----------------------------------------------------------------------------------------------

_GROUPS = """
return [...document.querySelectorAll(arguments[0] + ' .symphony-dup-group:not(.hidden)')].map(g => ({
    name: g.querySelector('.symphony-dup-name').textContent,
    ids: [...g.querySelectorAll('.symphony-dup-member .caption .id')].map(e => Number(e.textContent.slice(1))),
    badges: [...g.querySelectorAll('.symphony-dup-badge')].map(e => e.textContent),
    tags: [...g.querySelectorAll('.symphony-dup-tag')].map(e => e.textContent),
    thumbs: g.querySelectorAll('img.thumb').length,
    crosses: g.classList.contains('crosses'),
    selected: g.classList.contains('selected'),
}));
"""

_GALLERY_SELECTED = """
return [...document.querySelectorAll(arguments[0] + ' .symphony-gallery-tile')]
    .filter(o => o.querySelector('.symphony-gallery-item.selected'))
    .map(o => Number(o.getAttribute('title').split('\\n')[0].replace('id: ', '')));
"""


def shown_groups(dash_duo, component_id: str) -> list[dict[str, Any]]:
    return dash_duo.driver.execute_script(_GROUPS, f"[id='box-{component_id}']")


def summary(component_id: str) -> str:
    return css("duplicates", "summary", component_id)


def wait_groups(dash_duo, component_id: str, expected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wait until the page shows the first page of ``expected`` (names and member ids), and return what it shows."""
    want = [(f"Group {g['id']}", g["ids"]) for g in expected[:PER_PAGE]]
    until(lambda: [(g["name"], g["ids"]) for g in shown_groups(dash_duo, component_id)] == want, timeout=10)
    return shown_groups(dash_duo, component_id)


def start(dash_duo, path: str = "/digits", total: int = TOTAL) -> None:
    dash_duo.start_server(APP)
    if path != "/digits":
        dash_duo.driver.get(dash_duo.server_url + path)
    wait_count(dash_duo, total, total)


def group_by_split(dash_duo) -> None:
    dash_duo.find_element(".symphony-groupby").click()  # Dash 4's dropdown: a button opening a list of options
    dash_duo.driver.find_element("xpath", "//*[contains(@class, 'dash-dropdown-content')]//*[text()='split']").click()
    dash_duo.find_element("h1").click()  # close the dropdown
    settle(dash_duo)


def screenshot(dash_duo, name: str, component_id: str) -> None:
    dash_duo.driver.set_window_size(1400, 1000)
    # The toolbar sticks to the top of the window: scroll the box to just below it.
    script = "window.scrollTo(0, document.getElementById(arguments[0]).getBoundingClientRect().top + scrollY - 70);"
    dash_duo.driver.execute_script(script, f"box-{component_id}")
    settle(dash_duo)
    dash_duo.driver.save_screenshot(f"/work/main/shots/{name}.png")


# -- browser tests --------------------------------------------------------------------------------------------------


def test_dup001_near_groups_largest_first_with_their_count(dash_duo) -> None:
    start(dash_duo)
    dash_duo.wait_for_text_to_equal(summary("dups"), summary_text(FRAME, "near"))
    expected = expected_groups(FRAME, "near_duplicate_group")
    shown = wait_groups(dash_duo, "dups", expected)
    assert [len(g["ids"]) for g in expected] == sorted((len(g["ids"]) for g in expected), reverse=True)
    # Every member is a thumbnail of the digit (the image column), captioned with its id.
    assert [g["thumbs"] for g in shown] == [len(g["ids"]) for g in expected[:PER_PAGE]]
    pages = -(-len(expected) // PER_PAGE)
    status = css("duplicates", "status", "dups")
    dash_duo.wait_for_text_to_equal(status, f"Groups 1\u2013{PER_PAGE} of {len(expected)}")
    for page in range(2, pages + 1):
        dash_duo.find_element(css("duplicates", "next", "dups")).click()
        wait_groups(dash_duo, "dups", expected[(page - 1) * PER_PAGE :])
    assert dash_duo.find_element(css("duplicates", "next", "dups")).get_attribute("disabled") == "true"
    dash_duo.find_element(css("duplicates", "prev", "dups")).click()
    wait_groups(dash_duo, "dups", expected[(pages - 2) * PER_PAGE :])


def test_dup002_select_group_selects_exactly_its_instances_everywhere(dash_duo) -> None:
    start(dash_duo)
    first = expected_groups(FRAME, "near_duplicate_group")[0]
    wait_groups(dash_duo, "dups", expected_groups(FRAME, "near_duplicate_group"))
    select = css("duplicates", "select-0", "dups")
    dash_duo.find_element(select).click()
    until(lambda: chip_texts(dash_duo) == [f"selected: near_duplicate_group == {first['id']}"], timeout=10)
    grid = css("gallery", "grid", "gallery")
    until(lambda: sorted(dash_duo.driver.execute_script(_GALLERY_SELECTED, grid)) == first["ids"], timeout=10)
    dash_duo.wait_for_text_to_equal(select, "Unselect")
    assert [g["selected"] for g in shown_groups(dash_duo, "dups")][:2] == [True, False]
    screenshot(dash_duo, "duplicates_selected", "dups")
    # A selection marks instances; it does not filter.
    wait_count(dash_duo, TOTAL, TOTAL)

    # Another group replaces the selection; a second click on it clears it.
    second = expected_groups(FRAME, "near_duplicate_group")[1]
    dash_duo.find_element(css("duplicates", "select-1", "dups")).click()
    until(lambda: sorted(dash_duo.driver.execute_script(_GALLERY_SELECTED, grid)) == second["ids"], timeout=10)
    dash_duo.wait_for_text_to_equal(select, "Select group")
    dash_duo.find_element(css("duplicates", "select-1", "dups")).click()
    until(lambda: chip_texts(dash_duo) == [], timeout=10)
    until(lambda: dash_duo.driver.execute_script(_GALLERY_SELECTED, grid) == [], timeout=10)


def test_dup003_groups_crossing_the_split_come_first_badged_and_counted(dash_duo) -> None:
    start(dash_duo)
    group_by_split(dash_duo)
    dash_duo.wait_for_text_to_equal(summary("dups"), summary_text(FRAME, "near", "split"))
    expected = expected_groups(FRAME, "near_duplicate_group", "split")
    assert any(g["crosses"] for g in expected), "the demo should hold near duplicates across train and test"
    shown = wait_groups(dash_duo, "dups", expected)
    for group, want in zip(shown, expected, strict=False):
        assert group["crosses"] == want["crosses"]
        assert group["badges"] == (["crosses split: " + ", ".join(want["values"])] if want["crosses"] else [])
        members = FRAME.set_index("id").loc[want["ids"]]
        assert group["tags"] == members.split.tolist()
    screenshot(dash_duo, "duplicates_split", "dups")


def test_dup004_a_histogram_click_narrows_the_groups(dash_duo) -> None:
    start(dash_duo)
    dash_duo.wait_for_text_to_equal(summary("dups"), summary_text(FRAME, "near"))
    click_bar(dash_duo, "label", 1)
    ones = FRAME[FRAME.label == 1]
    wait_count(dash_duo, len(ones), TOTAL)
    dash_duo.wait_for_text_to_equal(summary("dups"), summary_text(ones, "near"))
    wait_groups(dash_duo, "dups", expected_groups(ones, "near_duplicate_group"))
    # A label with no group of two left says so.
    lonely = next(v for v in range(10) if not expected_groups(FRAME[FRAME.label == v], "near_duplicate_group"))
    click_bar(dash_duo, "label", 1)
    wait_count(dash_duo, TOTAL, TOTAL)
    click_bar(dash_duo, "label", lonely)
    wait_count(dash_duo, int((FRAME.label == lonely).sum()), TOTAL)
    dash_duo.wait_for_text_to_equal(
        css("duplicates", "empty", "dups"), "No near-duplicate groups among the rows that pass the filter."
    )
    assert shown_groups(dash_duo, "dups") == []


def test_dup005_exact_and_near_toggle_on_a_table_with_copies_across_splits(dash_duo) -> None:
    start(dash_duo, "/toy", len(TOY))
    # The toy table has exact duplicates, so they are shown first.
    dash_duo.wait_for_text_to_equal(summary("toy-dups"), summary_text(TOY, "exact"))
    group_by_split(dash_duo)
    dash_duo.wait_for_text_to_equal(summary("toy-dups"), summary_text(TOY, "exact", "split"))
    exact = expected_groups(TOY, "duplicate_group", "split")
    shown = wait_groups(dash_duo, "toy-dups", exact)
    assert [g["crosses"] for g in shown] == [g["crosses"] for g in exact[:PER_PAGE]]
    assert shown[0]["badges"] == ["crosses split: test, train"]
    # No image column: each member is a card with its text.
    cards = dash_duo.find_elements("[id='box-toy-dups'] .symphony-dup-member .symphony-media.text")
    assert cards[0].text == TOY.set_index("id").text[exact[0]["ids"][0]]
    screenshot(dash_duo, "duplicates_toy_exact", "toy-dups")

    kind = css("duplicates", "kind", "toy-dups")
    dash_duo.find_element(kind).find_element("xpath", ".//*[text()='Near']").click()
    dash_duo.wait_for_text_to_equal(summary("toy-dups"), summary_text(TOY, "near", "split"))
    wait_groups(dash_duo, "toy-dups", expected_groups(TOY, "near_duplicate_group", "split"))
    dash_duo.find_element(kind).find_element("xpath", ".//*[text()='Exact']").click()
    dash_duo.wait_for_text_to_equal(summary("toy-dups"), summary_text(TOY, "exact", "split"))
    assert dash_duo.find_element(kind).is_displayed()

    # A filter from the split histogram: only test rows remain, so no group crosses the split any more.
    click_bar(dash_duo, "split", 0)
    tests = TOY[TOY.split == "test"]
    wait_count(dash_duo, len(tests), len(TOY))
    dash_duo.wait_for_text_to_equal(summary("toy-dups"), summary_text(tests, "exact", "split"))
    wait_groups(dash_duo, "toy-dups", expected_groups(tests, "duplicate_group", "split"))


# -- plain tests ----------------------------------------------------------------------------------------------------


def _view(dataset: Dataset, state: State, inputs: dict[str, Any] | None = None) -> View:
    return View("d", dataset, Engine(dataset), state, inputs or {}, None)


def test_dup006_a_dataset_without_group_columns_is_told_how_to_get_them() -> None:
    dataset = Dataset(toy_frame())
    component = Duplicates("d", DuplicatesProps(), dataset)
    component.layout()  # the skeleton still builds, so the error shows in the component's own box
    with pytest.raises(DatasetError, match="neither 'duplicate_group' nor 'near_duplicate_group'"):
        component.render(_view(dataset, State(layout="t")))
    text = Dataset(toy_frame().assign(duplicate_group=lambda f: f.text))
    with pytest.raises(DatasetError, match="'duplicate_group' must hold whole-number group ids"):
        Duplicates("d", DuplicatesProps(), text).render(_view(text, State(layout="t")))


def test_dup007_only_a_click_on_a_drawn_group_selects_it() -> None:
    dataset = Dataset(TOY)
    component = Duplicates("d", DuplicatesProps(show="exact"), dataset)
    drawn = component.render(_view(dataset, State(layout="t")))[4]
    expected = expected_groups(TOY, "duplicate_group")
    assert drawn["groups"] == [g["id"] for g in expected[:PER_PAGE]]

    def click(name: str, clicks: Any, pager: Any, state: State | None = None) -> Any:
        return component.on_event(name, clicks, _view(dataset, state or State(layout="t"), {"pager.data": pager}))

    clause = click("select-1", 1, drawn)
    assert (clause.op, clause.column, clause.value, clause.source) == ("eq", "duplicate_group", expected[1]["id"], "d")
    # The group selected by this view: a second click unselects it; one selected elsewhere is taken over.
    mine = State(layout="t", selection=eq("duplicate_group", expected[1]["id"], source="d"))
    assert click("select-1", 2, drawn, mine) is None
    theirs = State(layout="t", selection=eq("duplicate_group", expected[1]["id"], source="other"))
    assert click("select-1", 2, drawn, theirs).source == "d"
    malformed = [
        ("select-0", None, drawn),
        ("select-0", "1", drawn),
        ("select-0", True, drawn),
        ("select-0", 1, "not a pager"),
        ("select-0", 1, {**drawn, "kind": "fuzzy"}),
        ("select-0", 1, {**drawn, "groups": [-1]}),
        ("select-0", 1, {**drawn, "groups": ["0"]}),
        ("select-0", 1, {**drawn, "groups": [10**6]}),
        (f"select-{MAX_GROUPS - 1}", 1, drawn),
    ]
    for name, clicks, pager in malformed:
        with pytest.raises((TypeError, ValueError)):
            click(name, clicks, pager)


def test_dup008_counts_follow_the_filter_and_members_outside_it_are_counted() -> None:
    dataset = Dataset(TOY)
    component = Duplicates("d", DuplicatesProps(show="exact", members_shown=2), dataset)
    state = State(layout="t", filter=[isin("split", ["train"], source="h")])
    out = component.render(_view(dataset, state))
    trains = TOY[TOY.split == "train"]
    expected = expected_groups(trains, "duplicate_group")
    assert out[4]["groups"] == [g["id"] for g in expected]
    card = out[7]
    text = str(card)
    full = int((TOY.duplicate_group == expected[0]["id"]).sum())
    assert f"+{full - len(expected[0]['ids'])} outside the filter" in text
    assert all(f"#{i}" in text for i in expected[0]["ids"])
