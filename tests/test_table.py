"""Tests of the table: rows served a block at a time by the engine, sorted on the server, following the filter,
selecting on click (a second, narrow table shows another view's selection); and the checks of the grid's requests."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from dash import no_update
from dash.testing.wait import until
from helpers import chip_texts, click_bar, css, toy_frame, wait_count
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from symphony_dash import Dataset, Engine, LayoutError, State, View, create_app, ids, isin, load_layout
from symphony_dash.components.table import MARK, Table, TableProps, rows_request

FRAME = toy_frame()
TOTAL = len(FRAME)
LAYOUT = {
    "title": "Table test",
    "data": {"source": "toy.csv"},
    "pages": [
        {
            "title": "Main",
            "components": [
                {"type": "histogram", "id": "label", "props": {"column": "label"}, "width": 2},
                {"type": "table", "id": "rows", "width": 4, "height": 3},
                {"type": "table", "id": "picked", "props": {"columns": ["id", "label", "split"]}, "height": 2},
            ],
        }
    ],
}
APP = create_app([LAYOUT], data=Dataset(FRAME))
GRID = css("table", "grid", "rows")
STATUS = css("table", "status", "rows")
SELECTION_CHIP = "#symphony-chips .symphony-chip.selection"


def grid_id(table: str) -> str:
    return json.dumps({"index": table, "sub": "grid", "type": "symphony-table"}, separators=(",", ":"), sort_keys=True)


def grid_call(dash_duo: Any, method: str, table: str = "rows") -> Any:
    """Call a method of a grid's API in the browser, e.g. ``getDisplayedRowCount``."""
    script = f"return window.dash_ag_grid.getApi(JSON.parse(arguments[0])).{method}()"
    return dash_duo.driver.execute_script(script, grid_id(table))


def grid_rows(dash_duo: Any, table: str = "rows") -> list[dict[str, Any]]:
    """The rows a grid holds, in display order."""
    script = """
        const rows = [];
        window.dash_ag_grid.getApi(JSON.parse(arguments[0])).forEachNode(n => { if (n.data) rows.push(n.data); });
        return rows;
    """
    return dash_duo.driver.execute_script(script, grid_id(table))


def wait_rows(dash_duo: Any, check: Any, timeout: float = 10, table: str = "rows") -> list[dict[str, Any]]:
    """Wait until the rows a grid holds pass ``check`` and return them."""
    rows: list[dict[str, Any]] = []

    def ready() -> bool:
        nonlocal rows
        rows = grid_rows(dash_duo, table)
        return bool(rows) and check(rows)

    until(ready, timeout=timeout, poll=0.05)
    return rows


def start(dash_duo: Any) -> None:
    dash_duo.driver.set_window_size(1400, 900)
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.wait_for_element(GRID + " .ag-row[row-index='0'] .ag-cell[col-id='id']")


def row_cell(dash_duo: Any, row: int, column: str, table: str = "rows") -> Any:
    grid = css("table", "grid", table)
    return dash_duo.find_element(f"{grid} .ag-row[row-index='{row}'] .ag-cell[col-id='{column}']")


def marked(dash_duo: Any, table: str) -> list[int]:
    """The ids of the rows a grid draws in the selection colour because another view selected them."""
    script = """
        return Array.from(document.querySelectorAll(arguments[0] + ' .ag-center-cols-container .ag-row'))
            .filter(r => r.style.background !== '').map(r => Number(r.getAttribute('row-id')));
    """
    return sorted(dash_duo.driver.execute_script(script, css("table", "grid", table)))


def test_table001_shows_the_rows_and_their_count(dash_duo: Any) -> None:
    start(dash_duo)
    dash_duo.wait_for_text_to_equal(STATUS, f"{TOTAL:,} rows")
    rows = wait_rows(dash_duo, lambda r: len(r) >= 100)
    assert [r["id"] for r in rows[:100]] == FRAME.id.tolist()[:100]
    assert grid_call(dash_duo, "getDisplayedRowCount") == TOTAL
    # Floats arrive rounded to 4 significant digits; the other columns as they are.
    first = FRAME.iloc[0]
    assert rows[0]["confidence"] == float(f"{first.confidence:.4g}")
    assert (rows[0]["split"], rows[0]["text"]) == (first.split, first.text)
    assert row_cell(dash_duo, 0, "text").text == first.text
    dash_duo.driver.save_screenshot("/work/main/shots/table.png")


def test_table002_header_clicks_sort_on_the_server(dash_duo: Any) -> None:
    start(dash_duo)
    header = dash_duo.find_element(f"{GRID} .ag-header-cell[col-id='confidence'] .ag-header-cell-label")
    header.click()  # ascending
    smallest = FRAME.sort_values("confidence", kind="stable").id.tolist()
    wait_rows(dash_duo, lambda r: [x["id"] for x in r[:20]] == smallest[:20])
    header.click()  # descending
    # Confidence is clipped at 1, so there are ties: the engine keeps them in table order, as a stable sort does.
    largest = FRAME.sort_values("confidence", ascending=False, kind="stable").id.tolist()
    rows = wait_rows(dash_duo, lambda r: [x["id"] for x in r[:20]] == largest[:20])
    assert rows[0]["confidence"] == float(f"{FRAME.confidence.max():.4g}")
    dash_duo.wait_for_text_to_equal(f"{GRID} .ag-row[row-index='0'] .ag-cell[col-id='id']", str(largest[0]))

    # The sort holds under a filter from another view: the largest confidence among the 2s comes first.
    click_bar(dash_duo, "label", 2)
    twos = FRAME[FRAME.label == 2]
    wait_count(dash_duo, len(twos), TOTAL)
    expected = twos.sort_values("confidence", ascending=False, kind="stable").id.tolist()
    wait_rows(dash_duo, lambda r: len(r) >= 20 and [x["id"] for x in r] == expected[: len(r)])


def test_table003_a_bar_click_shows_the_filtered_rows_from_the_top(dash_duo: Any) -> None:
    start(dash_duo)
    # Scroll far down first: the filtered rows must still start at the top.
    dash_duo.driver.execute_script(
        "window.dash_ag_grid.getApi(JSON.parse(arguments[0])).ensureIndexVisible(350, 'top')", grid_id("rows")
    )
    wait_rows(dash_duo, lambda r: any(x["id"] == 350 for x in r))
    click_bar(dash_duo, "label", 2)
    twos = FRAME[FRAME.label == 2]
    wait_count(dash_duo, len(twos), TOTAL)
    rows = wait_rows(dash_duo, lambda r: {x["label"] for x in r} == {2})
    assert [x["id"] for x in rows] == twos.id.tolist()[: len(rows)]
    assert grid_call(dash_duo, "getDisplayedRowCount") == len(twos)
    assert grid_call(dash_duo, "getFirstDisplayedRowIndex") == 0
    dash_duo.wait_for_text_to_equal(STATUS, f"{len(twos):,} rows")
    assert row_cell(dash_duo, 0, "label").text == "2"


def test_table004_clicking_rows_selects_them(dash_duo: Any) -> None:
    start(dash_duo)
    row_cell(dash_duo, 1, "text").click()
    dash_duo.wait_for_text_to_equal(SELECTION_CHIP + " .symphony-chip-text", "selected: 1 instance")
    dash_duo.wait_for_text_to_equal(STATUS, f"{TOTAL:,} rows · 1 selected")
    # ctrl-click adds a row; the count stays, since a selection marks rows rather than filtering them.
    ctrl_click = ActionChains(dash_duo.driver).key_down(Keys.CONTROL).click(row_cell(dash_duo, 4, "text"))
    ctrl_click.key_up(Keys.CONTROL).perform()
    dash_duo.wait_for_text_to_equal(SELECTION_CHIP + " .symphony-chip-text", "selected: 2 instances")
    wait_count(dash_duo, TOTAL, TOTAL)
    assert sorted(r["id"] for r in grid_call(dash_duo, "getSelectedRows")) == [1, 4]
    dash_duo.driver.save_screenshot("/work/main/shots/table_selected.png")

    # Under a filter the selection stays; removing its chip clears the grid's selection too.
    label = int(FRAME.label[1])
    shown = FRAME[FRAME.label == label]
    click_bar(dash_duo, "label", label)
    wait_count(dash_duo, len(shown), TOTAL)
    still_shown = int(shown.id.isin([1, 4]).sum())
    dash_duo.wait_for_text_to_equal(STATUS, f"{len(shown):,} rows · {still_shown} selected")
    dash_duo.find_element(SELECTION_CHIP + " .symphony-chip-remove").click()
    dash_duo.wait_for_text_to_equal(STATUS, f"{len(shown):,} rows")
    assert chip_texts(dash_duo) == [f"label in [{label}]"]
    until(lambda: grid_call(dash_duo, "getSelectedRows") == [], timeout=5, poll=0.05)


def test_table005_rows_selected_in_one_table_are_marked_in_another(dash_duo: Any) -> None:
    start(dash_duo)
    wait_rows(dash_duo, lambda r: len(r) >= 10, table="picked")
    row_cell(dash_duo, 2, "text").click()
    dash_duo.wait_for_text_to_equal(SELECTION_CHIP + " .symphony-chip-text", "selected: 1 instance")
    until(lambda: marked(dash_duo, "picked") == [2], timeout=10, poll=0.05)
    assert marked(dash_duo, "rows") == []  # the clicking table shows its own selection the grid's way
    dash_duo.driver.save_screenshot("/work/main/shots/table_marked.png")

    # Selecting in the other table moves the selection there: the first table now marks it, and drops its own.
    ActionChains(dash_duo.driver).click(row_cell(dash_duo, 5, "label", "picked")).perform()
    until(lambda: marked(dash_duo, "rows") == [5], timeout=10, poll=0.05)
    until(lambda: grid_call(dash_duo, "getSelectedRows") == [], timeout=5, poll=0.05)
    assert marked(dash_duo, "picked") == []
    assert [r["id"] for r in grid_call(dash_duo, "getSelectedRows", "picked")] == [5]
    dash_duo.wait_for_text_to_equal(STATUS, f"{TOTAL:,} rows · 1 selected")


# -- what the browser sends is checked ------------------------------------------------------------------------------

SORTABLE = {"id", "confidence", "label"}


def test_table101_rows_request_clips_and_drops_what_it_cannot_use() -> None:
    assert rows_request({"startRow": 0, "endRow": 100, "sortModel": []}, SORTABLE, 100) == (0, 100, [])
    assert rows_request({"startRow": -50, "endRow": 10**12}, SORTABLE, 100) == (0, 100, [])
    assert rows_request({"startRow": 300, "endRow": 200}, SORTABLE, 100) == (300, 0, [])
    assert rows_request({"startRow": 100.0, "endRow": 200.0}, SORTABLE, 100) == (100, 100, [])
    model = [
        {"colId": "confidence", "sort": "desc"},
        {"colId": "embedding; DROP TABLE", "sort": "asc"},
        {"colId": "label", "sort": "sideways"},
        {"colId": "confidence", "sort": "asc"},
        {"colId": "id", "sort": "asc"},
    ]
    request = {"startRow": 0, "endRow": 100, "sortModel": model}
    assert rows_request(request, SORTABLE, 100) == (0, 100, [("confidence", True), ("id", False)])


@pytest.mark.parametrize(
    "request_",
    [
        None,
        [],
        "rows",
        {},
        {"startRow": "0", "endRow": 100},
        {"startRow": 0.5, "endRow": 100},
        {"startRow": True, "endRow": 100},
        {"startRow": 0, "endRow": float("nan")},
        {"startRow": 0, "endRow": 100, "sortModel": "confidence"},
    ],
)
def test_table102_a_malformed_rows_request_is_refused(request_: Any) -> None:
    with pytest.raises(ValueError, match=r"startRow|sortModel|rows request"):
        rows_request(request_, SORTABLE, 100)


def table_view(state: State | None = None, columns: list[str] | None = None) -> tuple[Table, View]:
    dataset = Dataset(FRAME)
    view = View("rows", dataset, Engine(dataset), state or State(layout="table-test"), {"rows.data": None})
    return Table("rows", TableProps(columns=columns), dataset), view


def ask(request: Any, state: State | None = None, columns: list[str] | None = None) -> Any:
    """The table's answer to a grid's rows request."""
    table, view = table_view(state, columns)
    return table.on_request("rows", request, view)


def test_table103_a_request_is_answered_clipped_or_ignored_when_malformed() -> None:
    response = ask({"startRow": -5, "endRow": 10**9, "sortModel": [{"colId": "nope", "sort": "asc"}]})
    assert response["rowCount"] == TOTAL
    assert [r["id"] for r in response["rowData"]] == FRAME.id.tolist()[:100]
    assert ask({"startRow": TOTAL + 10, "endRow": TOTAL + 110}) == {"rowData": [], "rowCount": TOTAL}
    assert ask({"startRow": "x", "endRow": [1]}) is no_update


def test_table104_rows_follow_filter_and_sort_and_mark_another_views_selection() -> None:
    ones = FRAME[FRAME.label == 1]
    chosen = [*ones.id.tolist()[:2], int(FRAME[FRAME.label == 0].id.iloc[0])]
    state = State(layout="table-test", filter=[isin("label", [1], source="h")], selection=ids(chosen, source="other"))
    by_x = ones.sort_values("x", ascending=False, kind="stable")
    response = ask({"startRow": 0, "endRow": 100, "sortModel": [{"colId": "x", "sort": "desc"}]}, state, ["id", "x"])
    assert response["rowCount"] == len(ones)
    assert [r["id"] for r in response["rowData"]] == by_x.id.tolist()[:100]
    # Rows in another view's selection are marked, to be drawn as selected.
    assert {r["id"] for r in response["rowData"] if r.pop(MARK)} == set(chosen[:2])
    assert set(response["rowData"][0]) == {"id", "x"}

    table, view = table_view(state)
    rows, first, status = table.render(view)
    assert rows["own"] is False  # the grid's own clicked rows give way to the other view's selection
    assert status == f"{len(ones):,} rows · 2 selected"
    assert rows["reset"] == "filter"  # the first rows of this filter: from the top, the first block sent along
    assert first["filter"] == rows["filter"] and first["rowCount"] == len(ones) and first["sortModel"] == []
    assert [r["id"] for r in first["rowData"]] == ones.id.tolist()[:100]
    # In the grid's sort, read from its last request.
    by_x_view = replace(
        view, inputs={"rows.data": None, "grid.getRowsRequest": {"sortModel": [{"colId": "x", "sort": "desc"}]}}
    )
    assert [r["id"] for r in table.render(by_x_view)[1]["rowData"]] == by_x.id.tolist()[:100]
    # Nothing new: the grid's rows stay. Another selection: they are fetched again in place, to mark it.
    assert table.render(replace(view, inputs={"rows.data": rows}))[0] is no_update
    another = state.model_copy(update={"selection": ids([1], source="other")})
    refetch, first, _ = table.render(replace(view, state=another, inputs={"rows.data": rows}))
    assert refetch["reset"] == "marked" and first is no_update
    # The table's own selection is drawn by the grid: the data is not marked and the grid's selection stays.
    own = replace(view, state=state.model_copy(update={"selection": ids(chosen, source="rows")}))
    assert table.render(own)[0]["own"] is True
    # When it is removed, the grid's clicked rows are cleared (in the browser), with no refetch.
    cleared = table.render(
        replace(view, state=state.model_copy(update={"selection": None}), inputs={"rows.data": table.render(own)[0]})
    )[0]
    assert cleared["reset"] == "selection" and cleared["own"] is False
    assert MARK not in ask({"startRow": 0, "endRow": 10}, own.state)["rowData"][0]


def test_table105_columns_are_checked_when_a_layout_loads() -> None:
    table = {"type": "table", "id": "t", "props": {"columns": ["id", "nope"]}}
    bad = {**LAYOUT, "pages": [{"title": "P", "components": [table]}]}
    with pytest.raises(LayoutError, match=r"props\.columns: unknown column 'nope'"):
        load_layout(layout=bad, data=Dataset(FRAME))
    assert Table("t", TableProps(), Dataset(FRAME)).columns == list(FRAME.columns)
