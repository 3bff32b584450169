"""Tests of the scatter: a lasso or a box makes a polygon clause that filters the other views, a double-click clears
it, a histogram filters the scatter, the colour picker re-renders it, and a large table becomes a density image with a
sample whose figure stays small (browser tests with dash.testing in headless Chromium, plus plain render tests)."""

from __future__ import annotations

import base64
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import (
    PLOT,
    central_filter,
    chip_texts,
    click_bar,
    css,
    drag_through,
    filtered_bars,
    inside,
    retry_stale,
    scatter_points,
    settle,
    stored_polygon,
    toy_frame,
    wait_count,
)
from plotly.utils import PlotlyJSONEncoder
from selenium.webdriver.common.action_chains import ActionChains

from symphony_dash import create_app
from symphony_dash.component import View
from symphony_dash.components.scatter import MAX_VERTICES, SAMPLE_POINTS, Scatter, ScatterProps
from symphony_dash.dataset import Dataset
from symphony_dash.engine import Engine
from symphony_dash.state import State, ids, isin, polygon

FRAME = toy_frame()
TOTAL = len(FRAME)
BIG = toy_frame(200_000, seed=1)


def _layouts() -> list[dict]:
    """Two layouts over parquet files: the toy table, and a table far above the scatter's point bound."""
    folder = Path(tempfile.mkdtemp(prefix="symphony-scatter-"))
    FRAME.to_parquet(folder / "toy.parquet")
    BIG.to_parquet(folder / "big.parquet")
    return [
        {
            "title": title,
            "data": {"source": str(folder / file)},
            "pages": [
                {
                    "title": "Main",
                    "components": [
                        {"type": "scatter", "id": "proj", "width": 3, "height": 3},
                        {"type": "histogram", "id": "label", "width": 3, "height": 3, "props": {"column": "label"}},
                    ],
                }
            ],
        }
        for title, file in (("Toy", "toy.parquet"), ("Big", "big.parquet"))
    ]


APP = create_app(_layouts())
GRAPH = css("scatter", "graph", "proj")


def start(dash_duo, layout: str = "toy", total: int = TOTAL) -> None:
    """Open a layout in a window as large as a laptop screen, so the whole plot is in view for the mouse."""
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.start_server(APP)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/{layout}")
    wait_count(dash_duo, total, total)
    dash_duo.wait_for_element(GRAPH + " .nsewdrag")


# -- what a person does ----------------------------------------------------------------------------------------------


def double_click_plot(dash_duo) -> None:
    def click() -> None:
        layer = dash_duo.find_element(GRAPH).find_element("css selector", ".nsewdrag")
        ActionChains(dash_duo.driver).move_to_element(layer).double_click().perform()

    retry_stale(click)


# -- what the page then shows ----------------------------------------------------------------------------------------


def label_bars(rows: pd.DataFrame) -> list[int]:
    return [int((rows.label == k).sum()) for k in range(4)]


# -- browser tests ---------------------------------------------------------------------------------------------------


def test_scat001_lasso_filters_the_histogram_and_stays_drawn(dash_duo) -> None:
    start(dash_duo)
    # A hexagon-ish loop around the cluster of label 2 (centred near x=6, y=0).
    loop = [(6 + 2.4 * math.cos(a), 0.2 + 2.0 * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 13)]
    drag_through(dash_duo, GRAPH, loop)
    dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip-text", "lasso on (x, y)")
    vertices = stored_polygon(dash_duo, "proj")
    assert len(vertices) >= 10, "the lasso keeps the path the mouse took"
    chosen = FRAME[inside(FRAME, vertices)]
    assert 0 < len(chosen) < TOTAL
    wait_count(dash_duo, len(chosen), TOTAL)
    assert filtered_bars(dash_duo, "label") == label_bars(chosen)
    # Its own lasso does not filter the scatter: every point stays, and the outline stays drawn after the redraw.
    assert sum(n for name, n in scatter_points(dash_duo, GRAPH).items() if name not in ("all", "selected")) == TOTAL
    assert dash_duo.driver.execute_script(PLOT + "return g._fullLayout.shapes.length;", GRAPH) == 1
    dash_duo.driver.save_screenshot("/work/main/shots/scatter-lasso.png")

    # Removing the chip removes the outline and the fading with it.
    dash_duo.find_element("#symphony-chips .symphony-chip-remove").click()
    wait_count(dash_duo, TOTAL, TOTAL)
    assert filtered_bars(dash_duo, "label") == label_bars(FRAME)
    script = PLOT + "return [g._fullLayout.shapes.length, g._fullData.some(t => t.selectedpoints)];"
    assert dash_duo.driver.execute_script(script, GRAPH) == [0, False]


def test_scat002_box_select_makes_a_rectangle_and_double_click_clears(dash_duo) -> None:
    start(dash_duo)
    dash_duo.find_element(GRAPH + " .modebar-btn[data-val='select']").click()
    drag_through(dash_duo, GRAPH, [(2.0, 1.0), (5.0, 1.5), (8.0, 4.5)])
    dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip-text", "lasso on (x, y)")
    corners = stored_polygon(dash_duo, "proj")
    assert len(corners) == 4
    (x0, y0), (x1, y1) = corners[0], corners[2]
    assert x0 < x1 and y0 < y1 and abs(x0 - 2) < 0.2 and abs(y1 - 4.5) < 0.2
    chosen = FRAME[FRAME.x.between(x0, x1) & FRAME.y.between(y0, y1)]
    wait_count(dash_duo, len(chosen), TOTAL)
    assert filtered_bars(dash_duo, "label") == label_bars(chosen)

    double_click_plot(dash_duo)
    wait_count(dash_duo, TOTAL, TOTAL)
    assert chip_texts(dash_duo) == [] and central_filter(dash_duo) == []


def test_scat003_histogram_bar_filters_the_scatter(dash_duo) -> None:
    start(dash_duo)
    assert "all" not in scatter_points(dash_duo, GRAPH), "nothing is filtered, so there is no grey layer"
    click_bar(dash_duo, "label", 2)
    twos = FRAME[FRAME.label == 2]
    wait_count(dash_duo, len(twos), TOTAL)
    points = scatter_points(dash_duo, GRAPH)
    assert points["all"] == TOTAL
    assert {name: n for name, n in points.items() if name != "all"} == {"2": len(twos)}


def test_scat004_colour_picker_switches_to_a_colour_scale(dash_duo) -> None:
    start(dash_duo)
    assert set(scatter_points(dash_duo, GRAPH)) == {"0", "1", "2", "3"}, (
        "coloured by the label by default, one trace per label"
    )
    dash_duo.find_element(css("scatter", "color", "proj")).click()
    option = next(e for e in dash_duo.find_elements(".dash-dropdown-option") if e.text == "confidence")
    option.click()
    dash_duo.wait_for_text_to_equal(GRAPH + " .colorbar .cbtitle", "confidence")
    settle(dash_duo)
    script = PLOT + "const t = g._fullData[0]; return [g._fullData.length, t.marker.color.length, t.marker.showscale];"
    assert dash_duo.driver.execute_script(script, GRAPH) == [1, TOTAL, True]
    dash_duo.driver.save_screenshot("/work/main/shots/scatter-colour.png")


def test_scat005_a_large_table_is_a_density_image_and_a_lasso_still_filters(dash_duo) -> None:
    start(dash_duo, "big", len(BIG))
    dash_duo.wait_for_contains_text(GRAPH + " .annotation-text", f"density of {len(BIG):,} points")
    traces = dash_duo.driver.execute_script(PLOT + "return g._fullData.map(t => t.type);", GRAPH)
    assert traces[0] == "heatmap" and set(traces[1:]) == {"scattergl"}
    assert sum(scatter_points(dash_duo, GRAPH).values()) == SAMPLE_POINTS
    loop = [(3 + 1.5 * math.cos(a), 3 + 1.5 * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 9)]
    drag_through(dash_duo, GRAPH, loop)
    dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip-text", "lasso on (x, y)")
    chosen = BIG[inside(BIG, stored_polygon(dash_duo, "proj"))]
    wait_count(dash_duo, len(chosen), len(BIG))
    assert filtered_bars(dash_duo, "label") == label_bars(chosen)
    dash_duo.driver.save_screenshot("/work/main/shots/scatter-density.png")


# -- render tests without a browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big() -> tuple[Dataset, Engine]:
    dataset = Dataset(BIG)
    return dataset, Engine(dataset)


def render(dataset: Dataset, engine: Engine, state: State, **props: object) -> dict:
    scatter = Scatter("proj", ScatterProps.model_validate(props), dataset)
    # What Dash sends: the figure through plotly's JSON encoder.
    return json.loads(json.dumps(scatter.render(View("proj", dataset, engine, state)), cls=PlotlyJSONEncoder))


def points_in(trace: dict) -> int:
    """How many points a figure's trace holds: its x is a typed array (base64) or a list."""
    x = trace["x"]
    return len(base64.b64decode(x["bdata"])) // np.dtype(x["dtype"]).itemsize if isinstance(x, dict) else len(x)


def test_scat006_above_the_bound_a_density_image_and_a_sample_stay_small(big) -> None:
    dataset, engine = big
    fig = render(dataset, engine, State())
    assert fig["data"][0]["type"] == "heatmap"
    points = [t for t in fig["data"] if t["type"] == "scattergl"]
    assert sum(points_in(t) for t in points) == SAMPLE_POINTS
    assert all(t["x"]["dtype"] == "f4" and t["customdata"]["dtype"] == "f4" for t in points)
    assert len(json.dumps(fig)) < 250_000
    # Filtered but still above the bound: the whole table is a grey density behind the filtered one.
    filtered = render(dataset, engine, State(filter=[isin("label", [1, 2], source="h")]))
    assert [t["name"] for t in filtered["data"][:2]] == ["all", "filtered"]
    assert len(json.dumps(filtered)) < 250_000


def test_scat007_below_the_bound_the_filtered_points_own_lasso_and_selection(big) -> None:
    dataset, engine = big
    box = [(-5, -5), (20, -5), (20, 1.5), (-5, 1.5)]
    state = State(
        filter=[isin("label", [3], source="h"), polygon("x", "y", box, source="proj")],
        selection=ids(list(range(40)), source="table"),
    )
    fig = render(dataset, engine, state, max_points=100_000)
    frame = dataset.frame.to_pandas()
    threes = frame[frame.label == 3]
    assert [t["name"] for t in fig["data"]] == ["all", "3", "selected"]
    # The table is above the bound, so it is a grey density behind; the filtered rows fit, so they are points.
    assert fig["data"][0]["type"] == "heatmap" and points_in(fig["data"][1]) == len(threes)
    # The own lasso does not filter the scatter; the points outside it are faded.
    in_box = threes.x.between(-5, 20) & threes.y.between(-5, 1.5)
    assert len(fig["data"][1]["selectedpoints"]) == int(in_box.sum())
    assert points_in(fig["data"][2]) == int((threes.id < 40).sum())
    assert fig["layout"]["shapes"][0]["path"].startswith("M-5.0,-5.0L20.0,-5.0")


def test_scat008_events_become_polygons_and_malformed_ones_are_refused() -> None:
    dataset = Dataset(FRAME)
    scatter = Scatter("proj", ScatterProps(), dataset)
    view = View("proj", dataset, Engine(dataset), State())
    box = scatter.on_event("select", {"points": [], "range": {"x": [3, 1], "y": [0, 2]}}, view)
    assert box.op == "polygon" and box.value == [[1, 0], [3, 0], [3, 2], [1, 2]]
    n = 5 * MAX_VERTICES
    loop = {"x": [math.cos(6.28 * i / n) for i in range(n)], "y": [math.sin(6.28 * i / n) for i in range(n)]}
    lasso = scatter.on_event("select", {"lassoPoints": loop}, view)
    assert 3 <= len(lasso.value) <= MAX_VERTICES
    assert scatter.on_event("select", None, view) is None
    assert scatter.on_event("select", {"cleared": 1}, view) is None
    for bad in (
        {"points": []},
        {"range": {"x": [1, "2"], "y": [0, 1]}},
        {"lassoPoints": {"x": [1, 2, 3], "y": [1, 2]}},
        "lasso",
    ):
        with pytest.raises((ValueError, KeyError, TypeError)):
            scatter.on_event("select", bad, view)
