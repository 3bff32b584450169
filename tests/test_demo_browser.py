"""The packaged digits demo end to end in a browser, built as ``symphony-dash demo`` builds it: every box of the
Overview draws, a lasso and a bar click filter the other views, the filter holds across pages (dash.testing,
headless Chromium)."""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from dash.testing.wait import until
from helpers import (
    PLOT,
    chip_texts,
    click_bar,
    css,
    drag_through,
    filtered_bars,
    inside,
    plot_traces,
    scatter_points,
    settle,
    stored_polygon,
    wait_count,
)

from symphony_dash import create_app
from symphony_dash.demo import prepare_digits

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)
DIGITS = range(10)
# The gallery "instances" on the Overview page shows this many thumbnails per page (layouts/digits.json).
PAGE = 28

# The same folder the CLI's `demo` command serves: the layouts shipped inside the package.
with resources.as_file(resources.files("symphony_dash") / "layouts") as _folder:
    APP = create_app(_folder)

SCATTER = css("scatter", "graph", "projection")
GALLERY = css("gallery", "grid", "instances")
GALLERY_STATUS = css("gallery", "status", "instances")
TABLE = css("table", "grid", "rows")
TABLE_STATUS = css("table", "status", "rows")


def start(dash_duo: Any) -> None:
    """Open the demo in a window as large as a laptop screen, so the scatter is in view for the mouse."""
    dash_duo.driver.set_window_size(1400, 1100)
    dash_duo.start_server(APP)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/digits")  # the package ships more than one demo layout
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.wait_for_element(SCATTER + " .nsewdrag")
    dash_duo.wait_for_contains_text(GALLERY_STATUS, "Page 1 of")
    dash_duo.wait_for_element(TABLE + " .ag-row[row-index='0'] .ag-cell[col-id='label']")


# -- what a person does ----------------------------------------------------------------------------------------------


def loop_around(digit: int) -> list[tuple[float, float]]:
    """An ellipse around the bulk of a digit's t-SNE cluster (its 2nd to 98th percentiles), in data coordinates."""
    rows = FRAME[FRAME.label == digit]
    (x0, x1), (y0, y1) = rows.x.quantile([0.02, 0.98]), rows.y.quantile([0.02, 0.98])
    # sqrt(2) times the half-sides: the ellipse through the box's corners, so the whole box is inside.
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / math.sqrt(2), (y1 - y0) / math.sqrt(2)
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 17)]


def open_tab(dash_duo: Any, title: str) -> None:
    dash_duo.driver.find_element("xpath", f"//a[contains(@class, 'symphony-tab') and text()='{title}']").click()


# -- what the page then shows ----------------------------------------------------------------------------------------


def digit_counts(rows: pd.DataFrame, column: str = "label") -> list[int]:
    counts = rows[column].value_counts()
    return [int(counts.get(d, 0)) for d in DIGITS]


def gallery_items(dash_duo: Any) -> list[dict[str, Any]]:
    """Every thumbnail on the gallery's page: its caption's label and prediction, and its image's natural width (0
    until it has loaded)."""
    script = """
        return Array.from(document.querySelectorAll(arguments[0] + ' .symphony-gallery-tile')).map(o => {
            const img = o.querySelector('img'), caption = o.querySelector('.caption');
            const [label, prediction] = caption ? caption.textContent.split(' \u2192 ') : [];
            return {label, prediction, width: img && img.complete ? img.naturalWidth : 0};
        });"""
    return dash_duo.driver.execute_script(script, GALLERY)


def wait_gallery(dash_duo: Any, rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Wait until the gallery shows the first page of ``rows`` and return its thumbnails."""
    n = len(rows)
    dash_duo.wait_for_text_to_equal(GALLERY_STATUS, f"Page 1 of {math.ceil(n / PAGE)} · 1\u2013{min(n, PAGE)} of {n:,}")
    items: list[dict[str, Any]] = []

    def shown() -> bool:
        items[:] = gallery_items(dash_duo)
        return len(items) == min(n, PAGE)

    until(shown, timeout=10, poll=0.05)
    return items


def table_labels(dash_duo: Any, column: str = "label") -> list[str]:
    """The ``column`` cell of every row the table draws."""
    script = """
        return Array.from(document.querySelectorAll(arguments[0] + ' .ag-center-cols-container .ag-row'))
            .map(r => r.querySelector(`.ag-cell[col-id='${arguments[1]}']`)).filter(c => c).map(c => c.textContent);"""
    return dash_duo.driver.execute_script(script, TABLE, column)


def wait_table(dash_duo: Any, rows: pd.DataFrame) -> None:
    """Wait until the table counts ``rows`` and draws only labels found among them."""
    dash_duo.wait_for_text_to_equal(TABLE_STATUS, f"{len(rows):,} rows")
    labels = {str(v) for v in rows.label}
    until(lambda: (shown := table_labels(dash_duo)) and set(shown) <= labels, timeout=10, poll=0.05)


def severe_logs(dash_duo: Any) -> list[dict[str, Any]]:
    return [e for e in dash_duo.get_logs() if e["level"] == "SEVERE"]


# -- browser tests ---------------------------------------------------------------------------------------------------


def test_demo001_every_box_of_the_overview_draws(dash_duo) -> None:
    start(dash_duo)
    assert scatter_points(dash_duo, SCATTER) == {str(d): n for d, n in enumerate(digit_counts(FRAME))}
    for histogram in ("confidence", "label", "prediction"):
        assert sum(filtered_bars(dash_duo, histogram)) == TOTAL, histogram
    assert filtered_bars(dash_duo, "label") == digit_counts(FRAME)
    assert filtered_bars(dash_duo, "prediction") == digit_counts(FRAME, "prediction")

    # The gallery starts at the least confident instances; each thumbnail is fetched after it appears.
    first = FRAME.sort_values("confidence", kind="stable").head(PAGE)
    items = wait_gallery(dash_duo, FRAME)
    assert [item["label"] for item in items] == [str(v) for v in first.label]
    until(lambda: all(item["width"] > 0 for item in gallery_items(dash_duo)), timeout=10, poll=0.05)

    dash_duo.wait_for_text_to_equal(TABLE_STATUS, f"{TOTAL:,} rows")
    until(lambda: table_labels(dash_duo)[:10] == [str(v) for v in FRAME.label.head(10)], timeout=10, poll=0.05)

    assert dash_duo.driver.execute_script("return document.querySelectorAll('.symphony-error-card').length") == 0
    assert severe_logs(dash_duo) == []


def test_demo002_lasso_around_a_cluster_filters_table_histograms_and_gallery(dash_duo) -> None:
    start(dash_duo)
    drag_through(dash_duo, SCATTER, loop_around(0))
    dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip-text", "lasso on (x, y)")
    chosen = FRAME[inside(FRAME, stored_polygon(dash_duo, "projection"))]
    zeros = FRAME[FRAME.label == 0]
    assert len(chosen) < TOTAL and chosen.label.eq(0).sum() > 0.9 * len(zeros), "the lasso holds the 0s' cluster"

    wait_count(dash_duo, len(chosen), TOTAL)
    wait_table(dash_duo, chosen)
    assert filtered_bars(dash_duo, "label") == digit_counts(chosen)
    assert filtered_bars(dash_duo, "prediction") == digit_counts(chosen, "prediction")
    assert sum(filtered_bars(dash_duo, "confidence")) == len(chosen)
    items = wait_gallery(dash_duo, chosen)
    assert {item["label"] for item in items} <= {str(v) for v in chosen.label}
    # Its own lasso does not filter the scatter: every point is still drawn.
    assert sum(scatter_points(dash_duo, SCATTER).values()) == TOTAL


def test_demo003_bar_click_filters_scatter_and_table_and_the_chip_restores(dash_duo) -> None:
    start(dash_duo)
    click_bar(dash_duo, "label", 8)
    eights = FRAME[FRAME.label == 8]
    wait_count(dash_duo, len(eights), TOTAL)
    assert chip_texts(dash_duo) == ["label in [8]"]
    # The scatter draws the 8s in colour over a grey layer of every point.
    assert scatter_points(dash_duo, SCATTER) == {"all": TOTAL, "8": len(eights)}
    dash_duo.wait_for_text_to_equal(TABLE_STATUS, f"{len(eights):,} rows")
    until(lambda: (shown := table_labels(dash_duo)) and set(shown) == {"8"}, timeout=10, poll=0.05)
    items = wait_gallery(dash_duo, eights)
    assert {item["label"] for item in items} == {"8"}

    dash_duo.find_element("#symphony-chips .symphony-chip-remove").click()
    wait_count(dash_duo, TOTAL, TOTAL)
    assert chip_texts(dash_duo) == []
    assert scatter_points(dash_duo, SCATTER) == {str(d): n for d, n in enumerate(digit_counts(FRAME))}
    wait_table(dash_duo, FRAME)
    until(lambda: len(set(table_labels(dash_duo))) > 1, timeout=10, poll=0.05)
    wait_gallery(dash_duo, FRAME)


def test_demo004_the_filter_holds_across_pages(dash_duo) -> None:
    start(dash_duo)
    click_bar(dash_duo, "prediction", 3)
    predicted = FRAME[FRAME.prediction == 3]
    wait_count(dash_duo, len(predicted), TOTAL)

    open_tab(dash_duo, "Mistakes")
    dash_duo.wait_for_element(css("histogram", "graph", "split") + " .bars")
    wait_count(dash_duo, len(predicted), TOTAL)
    assert chip_texts(dash_duo) == ["prediction in [3]"]
    split = predicted.split.value_counts()
    until(lambda: sorted(filtered_bars(dash_duo, "split")) == sorted(split.tolist()), timeout=10, poll=0.05)
    assert sorted(filtered_bars(dash_duo, "correct")) == sorted(predicted.correct.value_counts().tolist())
    assert sum(filtered_bars(dash_duo, "ink")) == len(predicted)
    n = len(predicted)
    status = css("gallery", "status", "least-confident")
    dash_duo.wait_for_text_to_equal(status, f"Page 1 of {math.ceil(n / 60)} · 1\u2013{min(n, 60)} of {n:,}")

    open_tab(dash_duo, "Overview")
    wait_count(dash_duo, len(predicted), TOTAL)
    assert chip_texts(dash_duo) == ["prediction in [3]"]
    wait_table(dash_duo, predicted)
    until(lambda: (shown := table_labels(dash_duo, "prediction")) and set(shown) == {"3"}, timeout=10, poll=0.05)
    assert {item["prediction"] for item in wait_gallery(dash_duo, predicted)} == {"3"}
    assert filtered_bars(dash_duo, "label") == digit_counts(predicted)


def test_demo005_screenshots_of_a_lasso_and_the_mistakes_page(dash_duo) -> None:
    start(dash_duo)
    drag_through(dash_duo, SCATTER, loop_around(6))
    dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip-text", "lasso on (x, y)")
    chosen = FRAME[inside(FRAME, stored_polygon(dash_duo, "projection"))]
    wait_count(dash_duo, len(chosen), TOTAL)
    wait_gallery(dash_duo, chosen)
    until(lambda: all(item["width"] > 0 for item in gallery_items(dash_duo)), timeout=10, poll=0.05)
    wait_table(dash_duo, chosen)
    dash_duo.driver.save_screenshot("/work/main/shots/demo-lasso.png")

    open_tab(dash_duo, "Mistakes")
    wait_count(dash_duo, len(chosen), TOTAL)
    until(lambda: sum(filtered_bars(dash_duo, "correct")) == len(chosen), timeout=10, poll=0.05)
    settle(dash_duo)
    dash_duo.driver.save_screenshot("/work/main/shots/demo-mistakes.png")
    assert dash_duo.driver.execute_script("return document.querySelectorAll('.symphony-error-card').length") == 0

    # Back on the Overview the lasso is still there, drawn around the same points.
    open_tab(dash_duo, "Overview")
    wait_count(dash_duo, len(chosen), TOTAL)
    assert chip_texts(dash_duo) == ["lasso on (x, y)"]
    assert len(chosen) == int(inside(FRAME, stored_polygon(dash_duo, "projection")).sum())
    plot_traces(dash_duo, SCATTER)
    assert dash_duo.driver.execute_script(PLOT + "return g._fullLayout.shapes.length;", SCATTER) == 1
    assert severe_logs(dash_duo) == []
