"""Tests of notebook cells in a browser: two iframes of one Symphony server, as two cells show them, stay linked, and
Python reads and sets their state (dash.testing, headless Chromium, over the digits demo)."""

from __future__ import annotations

import math

import numpy as np
from dash.testing.wait import until
from helpers import css, drag_through, inside, retry_stale, stored_polygon, wait_count

from symphony_dash import Symphony
from symphony_dash.demo import prepare_digits

FRAME, MEDIA_ROOT = prepare_digits()
TOTAL = len(FRAME)
SYM = Symphony(FRAME, media_root=MEDIA_ROOT)
CELLS = ("scatter", "gallery")
SCATTER = css("scatter", "graph", "scatter")
TILES = f"{css('gallery', 'grid', 'gallery')} .symphony-gallery-tile"
CHIPS = "#symphony-chips .symphony-chip"
GROUP_BY = ".symphony-groupby"


@SYM.app.server.route("/two-cells")
def two_cells() -> str:
    """A page standing in for a notebook: one iframe per cell, side by side."""
    frames = "".join(
        f'<iframe src="/{SYM.slug}/cell/{cell}" width="690" height="640" style="border:1px solid #ccc"></iframe>'
        for cell in CELLS
    )
    return f"<html><body style='margin:8px; display:flex; gap:8px'>{frames}</body></html>"


def start(dash_duo) -> None:
    SYM.filter, SYM.selection, SYM.group_by = None, None, None
    dash_duo.driver.set_window_size(1440, 700)
    dash_duo.start_server(SYM.app)
    dash_duo.driver.get(f"{dash_duo.server_url}/two-cells")
    for cell in CELLS:
        in_cell(dash_duo, cell)
        wait_count(dash_duo, TOTAL, TOTAL)


def in_cell(dash_duo, cell: str) -> None:
    """Point the driver at the iframe of ``cell``."""
    dash_duo.driver.switch_to.default_content()
    dash_duo.driver.switch_to.frame(CELLS.index(cell))


def test_nb001_a_lasso_in_one_cell_filters_the_other_and_a_click_selects_for_python(dash_duo) -> None:
    start(dash_duo)
    in_cell(dash_duo, "scatter")
    dash_duo.wait_for_element(SCATTER + " .nsewdrag")
    # A loop around the cluster of the digit 0.
    cx, cy = FRAME.loc[FRAME.label == 0, ["x", "y"]].median()
    r = 1.5 * float(FRAME.loc[FRAME.label == 0, ["x", "y"]].std().max())
    drag_through(dash_duo, SCATTER, [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in np.linspace(0, 6.28, 13)])
    dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip-text", "lasso on (x, y)")
    chosen = FRAME[inside(FRAME, stored_polygon(dash_duo, "scatter"))]
    assert 0 < len(chosen) < TOTAL
    wait_count(dash_duo, len(chosen), TOTAL)

    in_cell(dash_duo, "gallery")  # the other cell follows, with no reload
    wait_count(dash_duo, len(chosen), TOTAL)
    until(lambda: len(SYM.filtered) == len(chosen), timeout=5)  # and Python sees the lasso
    assert [c.op for c in SYM.filter] == ["polygon"]
    assert sorted(SYM.filtered["id"]) == sorted(chosen["id"])

    first = int(chosen["id"].iloc[0])  # the gallery shows the filtered rows in table order
    retry_stale(lambda: dash_duo.find_elements(f"{TILES} img")[0].click())
    dash_duo.wait_for_text_to_equal(
        "#symphony-chips .symphony-chip.selection .symphony-chip-text", "selected: 1 instance"
    )
    until(lambda: SYM.selected["id"].tolist() == [first], timeout=5)
    dash_duo.driver.switch_to.default_content()
    dash_duo.driver.save_screenshot("/work/main/shots/notebook-two-cells.png")


def test_nb002_a_filter_set_in_python_reaches_every_cell(dash_duo) -> None:
    start(dash_duo)
    SYM.filter = {"label": [3, 8]}
    expected = int(FRAME.label.isin([3, 8]).sum())
    assert len(SYM.filtered) == expected
    for cell in CELLS:
        in_cell(dash_duo, cell)
        wait_count(dash_duo, expected, TOTAL)
        dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip-text", "label in [3, 8]")

    SYM.filter, SYM.group_by = None, ["split"]  # the filter cleared and a group-by set from Python
    for cell in CELLS:
        in_cell(dash_duo, cell)
        wait_count(dash_duo, TOTAL, TOTAL)
        dash_duo.wait_for_contains_text(f"{GROUP_BY}", "split")
    assert len(SYM.filtered) == TOTAL
    SYM.group_by = None
