"""Tests of the data map: counts and metrics per region equal to pandas, a click on a region filters to it and a
second click clears, malformed clicks are refused, the map outlines ship with the package, and in headless Chromium
(with no network) the breast-cancer demo's map draws its countries from the app's own files and filters on a click."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dash
import numpy as np
import pandas as pd
import pytest
from dash.testing.wait import until
from helpers import PLOT, central_filter, chip_texts, click_bar, css, retry_stale, settle, toy_frame, wait_count
from pydantic import ValidationError
from selenium.webdriver.common.action_chains import ActionChains

import symphony_dash
from symphony_dash import create_app
from symphony_dash.component import View
from symphony_dash.components.data_map import DataMap, DataMapProps, Scope
from symphony_dash.dataset import Dataset, DatasetError
from symphony_dash.demo import prepare_breast_cancer
from symphony_dash.engine import Engine
from symphony_dash.state import Clause, State, isin

SHOTS = Path(__file__).resolve().parents[1] / "shots"
TOPOJSON = Path(symphony_dash.__file__).parent / "assets" / "topojson"
LAYOUT = Path(symphony_dash.__file__).parent / "layouts" / "breast_cancer.json"
FRAME = prepare_breast_cancer()
TOTAL = len(FRAME)
MAP = css("data_map", "graph", "sites")
APP = create_app([LAYOUT])

TOY = toy_frame().assign(site=lambda f: np.array(["DEU", "FRA", "USA", "BRA", None], dtype=object)[f.id % 5])


def render(frame: pd.DataFrame, state: State | None = None, **props: Any) -> tuple[DataMap, View, dict[str, Any]]:
    dataset = Dataset(frame)
    component = DataMap("map", DataMapProps(**({"location": "site"} | props)), dataset)
    view = View("map", dataset, Engine(dataset), state or State())
    return component, view, component.render(view)


def z_by_region(trace: dict[str, Any]) -> dict[str, float]:
    return dict(zip(trace["locations"], np.asarray(trace["z"], dtype=float).tolist(), strict=True))


# -- rendering and events -------------------------------------------------------------------------------------------


def test_dm001_counts_per_region_match_pandas() -> None:
    _, _, figure = render(TOY, State(filter=[isin("split", ["test"])]))
    grey, coloured = figure["data"]
    expected = TOY[TOY.split == "test"].site.value_counts()
    # Every region of the table is drawn in grey; the filtered counts colour the regions that have some.
    assert grey["locations"] == sorted(TOY.site.dropna().unique())
    assert z_by_region(coloured) == {k: float(v) for k, v in expected.items()}
    assert coloured["zmin"] == 0 and coloured["colorbar"]["title"]["text"] == "instances"
    assert figure["layout"]["geo"]["scope"] == "world"
    hover = dict(zip(grey["locations"], grey["text"], strict=True))
    assert hover["DEU"] == f"<b>DEU</b><br>{expected['DEU']:,} of {(TOY.site == 'DEU').sum():,} instances"


def test_dm002_accuracy_error_rate_and_mean_match_pandas() -> None:
    right = (TOY.label == TOY.prediction).groupby(TOY.site).mean()
    _, _, accuracy = render(TOY, metric="accuracy")
    assert z_by_region(accuracy["data"][1]) == pytest.approx(right.to_dict())
    assert accuracy["data"][1]["colorbar"]["tickformat"] == ".0%"
    _, _, errors = render(TOY, metric="error_rate")
    assert z_by_region(errors["data"][1]) == pytest.approx((1 - right).to_dict())
    _, _, mean = render(TOY, metric="mean", value="confidence")
    assert z_by_region(mean["data"][1]) == pytest.approx(TOY.groupby("site").confidence.mean().to_dict())
    assert "mean confidence: " in mean["data"][0]["text"][0]


def test_dm003_a_region_with_no_filtered_rows_stays_grey() -> None:
    _, _, figure = render(TOY, State(filter=[isin("site", ["DEU"], source="elsewhere")]))
    grey, coloured = figure["data"]
    assert len(grey["locations"]) == 4 and coloured["locations"] == ["DEU"]
    assert dict(zip(grey["locations"], grey["text"], strict=True))["USA"].endswith(">0 of 80 instances")


def test_dm004_the_chosen_region_is_outlined_and_the_others_fade() -> None:
    own = Clause(source="map", op="in", column="site", value=["FRA"])
    _, _, figure = render(TOY, State(filter=[own]))
    for trace in figure["data"]:
        outlined = dict(zip(trace["locations"], trace["marker"]["line"]["width"], strict=True))
        assert outlined["FRA"] > outlined["DEU"]
        assert [trace["locations"][i] for i in trace["selectedpoints"]] == ["FRA"]
    # Its own clause does not filter the map: every region keeps its colour.
    assert len(figure["data"][1]["locations"]) == 4


def test_dm005_clicks_filter_toggle_and_bad_events_are_refused() -> None:
    component, view, _ = render(TOY)

    def click(region: Any, own: Clause | None = None) -> Any:
        state = State(filter=[own] if own is not None else [])
        return component.on_event(
            "click", {"points": [{"location": region}]}, View("map", view.dataset, view.engine, state)
        )

    first = click("DEU")
    assert (first.source, first.op, first.column, first.value) == ("map", "in", "site", ["DEU"])
    assert click("USA", first).value == ["USA"]
    assert click("DEU", first) is None
    assert component.on_event("click", None, view) is dash.no_update
    for malformed in ({"points": []}, {"points": "DEU"}, {"points": [7]}, "DEU"):
        assert component.on_event("click", malformed, view) is dash.no_update
    for region in ["XXX", "", None, 3, ["DEU"], "deu"]:
        with pytest.raises(ValueError):
            click(region)


def test_dm006_props_are_checked() -> None:
    with pytest.raises(ValidationError, match="the 'mean' metric needs a numeric 'value' column"):
        DataMapProps(location="site", metric="mean")
    with pytest.raises(ValidationError):
        DataMapProps(location="site", scope="mars")
    with pytest.raises(DatasetError, match="data_map needs a column of region codes or names; 'x' is numeric"):
        render(TOY, location="x")
    _, _, states = render(TOY.assign(site="CA"), locationmode="USA-states")
    assert states["layout"]["geo"]["scope"] == "usa" and states["data"][0]["locationmode"] == "USA-states"


def test_dm007_every_scope_has_its_outlines_in_the_package() -> None:
    # plotly.js asks for '<scope>_<resolution>m.json' with spaces as dashes, at its default resolution of 110.
    for scope in Scope.__args__:
        path = TOPOJSON / f"{scope.replace(' ', '-')}_110m.json"
        objects = json.loads(path.read_text())["objects"]
        assert {"countries", "subunits", "land", "coastlines"} <= set(objects), scope
    component, _, _ = render(TOY)
    assert component.layout().config["topojsonURL"] == "/assets/topojson/"
    world = json.loads((TOPOJSON / "world_110m.json").read_text())["objects"]["countries"]["geometries"]
    assert set(FRAME.site) <= {g.get("id") for g in world}


# -- in the browser -------------------------------------------------------------------------------------------------

# Each choropleth path's region (d3 binds it as 'loc') and its outline's length, per trace of the map.
_PATHS = """
const g = document.querySelector(arguments[0]);
return [...g.querySelectorAll('.choroplethlayer .trace')].map(t => [...t.querySelectorAll('path.choroplethlocation')]
    .map(p => [p.__data__ && p.__data__.loc, (p.getAttribute('d') || '').length]));
"""


def start(dash_duo: Any) -> None:
    dash_duo.driver.set_window_size(1400, 1100)
    dash_duo.start_server(APP)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/breast-cancer")
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.wait_for_element(MAP + " path.choroplethlocation", timeout=15)


def drawn_regions(dash_duo: Any) -> list[dict[str, int]]:
    """For each trace of the map, the regions it drew with a real outline and the length of that outline."""
    traces = retry_stale(lambda: dash_duo.driver.execute_script(_PATHS, MAP))
    return [{loc: size for loc, size in trace if loc} for trace in traces]


def filtered_z(dash_duo: Any) -> dict[str, float]:
    """The values the map's coloured trace holds, by region, as the browser has them."""
    script = PLOT + "const t = g._fullData[g._fullData.length - 1]; return [Array.from(t.locations), Array.from(t.z)];"
    locations, z = dash_duo.driver.execute_script(script, MAP)
    return dict(zip(locations, z, strict=True))


def click_region(dash_duo: Any, region: str) -> None:
    """Click the middle of a region's shape on the map, as a person would."""

    def click() -> None:
        paths = dash_duo.find_elements(MAP + " .choroplethlayer .trace:last-child path.choroplethlocation")
        path = next(p for p in paths if dash_duo.driver.execute_script("return arguments[0].__data__.loc", p) == region)
        ActionChains(dash_duo.driver).move_to_element(path).pause(0.2).click().perform()

    retry_stale(click)


def test_dm010_the_map_draws_its_countries_offline(dash_duo) -> None:
    start(dash_duo)
    counts = FRAME.site.value_counts()
    grey, coloured = drawn_regions(dash_duo)
    # Every site is a real country shape (a path of many points), which needs the outlines to have loaded.
    assert set(grey) == set(coloured) == set(counts.index)
    assert min(coloured.values()) > 100
    assert filtered_z(dash_duo) == {k: float(v) for k, v in counts.items()}
    # The outlines came from the app, not from plotly's CDN (there is no network here to reach it).
    resources = dash_duo.driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name);")
    assert any(name.endswith("/assets/topojson/world_110m.json") for name in resources)
    assert not [name for name in resources if "cdn.plot.ly" in name]
    # The base map draws the land and the other countries in grey around the sites.
    assert (
        dash_duo.driver.execute_script(
            "return document.querySelector(arguments[0] + ' .layer.land path').getAttribute('d').length;", MAP
        )
        > 1000
    )


def test_dm011_clicking_a_country_filters_to_it_and_again_clears(dash_duo) -> None:
    start(dash_duo)
    click_region(dash_duo, "DEU")
    wait_count(dash_duo, int((FRAME.site == "DEU").sum()), TOTAL)
    assert chip_texts(dash_duo) == ["site in ['DEU']"]
    assert [(c["source"], c["value"]) for c in central_filter(dash_duo)] == [("sites", ["DEU"])]
    # The map keeps every country (its own filter does not apply to it) and outlines the chosen one.
    script = (
        "const t = g._fullData[1]; return Object.fromEntries(t.locations.map((l, i) => [l, t.marker.line.width[i]]));"
    )
    widths = dash_duo.driver.execute_script(PLOT + script, MAP)
    assert widths["DEU"] > widths["FRA"]
    settle(dash_duo)
    SHOTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(SHOTS / "data_map_deu.png"))
    click_region(dash_duo, "DEU")
    wait_count(dash_duo, TOTAL, TOTAL)
    assert chip_texts(dash_duo) == []


def test_dm012_the_map_follows_the_other_views(dash_duo) -> None:
    start(dash_duo)
    click_bar(dash_duo, "score", 0)
    # The engine's bins span the whole column: the first bin holds the scores below min + width.
    low, high = FRAME.score.min(), FRAME.score.max()
    first = FRAME[FRAME.score <= low + (high - low) / 25]
    wait_count(dash_duo, len(first), TOTAL)
    expected = {k: float(v) for k, v in first.site.value_counts().items()}
    until(lambda: filtered_z(dash_duo) == expected, timeout=10)
