"""Browser tests of the view in the URL: a link opens the same view, back and forward step through states, a long
state goes by key, and a forged link says so while the page keeps working (dash.testing, headless Chromium)."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import numpy as np
from dash.testing.wait import until
from helpers import (
    chip_texts,
    click_bar,
    count_text,
    css,
    drag_through,
    inside,
    plot_traces,
    retry_stale,
    settle,
    stored_polygon,
    wait_count,
)
from selenium.webdriver.common.action_chains import ActionChains

from symphony_dash import create_app
from symphony_dash.demo import prepare_digits
from symphony_dash.state import State, ids
from symphony_dash.url_state import decode, search_for

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)
APP = create_app(
    [
        {
            "title": "Shared",
            "data": {"source": "demo:digits", "id_column": "id"},
            "pages": [
                {
                    "title": "Main",
                    "components": [
                        {"type": "histogram", "id": "label", "width": 2, "props": {"column": "label"}},
                        {"type": "histogram", "id": "conf", "width": 2, "props": {"column": "confidence", "bins": 20}},
                        {"type": "scatter", "id": "map", "width": 2, "height": 3},
                    ],
                },
                {"title": "Other", "components": [{"type": "histogram", "id": "ink", "props": {"column": "ink"}}]},
            ],
        }
    ]
)
SLUG = next(iter(APP.symphony_layouts))
MAP = css("scatter", "graph", "map")


def start(dash_duo, path: str = "") -> None:
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.start_server(APP)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/{SLUG}{path}")
    dash_duo.wait_for_element(MAP + " .nsewdrag")


def reopen(dash_duo, url: str) -> None:
    """Open ``url`` as a colleague who got the link does: a fresh page load."""
    dash_duo.driver.get(url)
    dash_duo.wait_for_element(MAP + " .nsewdrag")
    settle(dash_duo)


def param(url: str, name: str = "s") -> str:
    return parse_qs(urlsplit(url).query)[name][0]


def bar_colours(dash_duo, histogram: str) -> list[str]:
    """The colour of each bar of a histogram's filtered trace: the chosen ones are highlighted."""
    graph = css("histogram", "graph", histogram)
    plot_traces(dash_duo, graph)  # waits until Plotly has drawn it
    script = (
        "const g = document.querySelector(arguments[0]).querySelector('.js-plotly-plot');"
        "const m = g._fullData[g._fullData.length - 1].marker.color; return Array.isArray(m) ? Array.from(m) : [m];"
    )
    return dash_duo.driver.execute_script(script, graph)


def brush_confidence(dash_duo) -> None:
    def brush() -> None:
        drag = dash_duo.find_element(css("histogram", "graph", "conf")).find_element("css selector", ".nsewdrag")
        width, height = drag.size["width"], drag.size["height"]
        chain = ActionChains(dash_duo.driver).move_to_element_with_offset(drag, int(width * 0.55), height // 2)
        chain.click_and_hold().pause(0.1)
        for _ in range(6):  # Plotly draws the brush from the mouse moves between press and release
            chain.move_by_offset(int(width * 0.05), 0).pause(0.05)
        chain.release().perform()

    retry_stale(brush)


def wait_url(dash_duo, changed_from: str) -> str:
    until(lambda: dash_duo.driver.current_url != changed_from, timeout=10, poll=0.05)
    return dash_duo.driver.current_url


def view(dash_duo) -> tuple[str, list[str], list[str], list[str]]:
    """What a person compares: the count, the chips and which bars are highlighted."""
    return count_text(dash_duo), chip_texts(dash_duo), bar_colours(dash_duo, "label"), bar_colours(dash_duo, "conf")


def test_urlb001_a_link_opens_the_same_view(dash_duo) -> None:
    start(dash_duo)
    wait_count(dash_duo, TOTAL, TOTAL)
    plain = dash_duo.driver.current_url
    assert urlsplit(plain).query == "", "the start of a layout needs no parameter"
    click_bar(dash_duo, "label", 3)
    wait_count(dash_duo, int((FRAME.label == 3).sum()), TOTAL)
    brush_confidence(dash_duo)
    dash_duo.wait_for_contains_text("#symphony-chips", "confidence between")
    settle(dash_duo)
    before = view(dash_duo)
    assert before[1][0] == "label in [3]" and len(set(before[2])) == 2, "bar 3 stands out"
    url = dash_duo.driver.current_url
    assert urlsplit(url).path == f"/{SLUG}" and len(param(url)) < 300

    reopen(dash_duo, url)
    dash_duo.wait_for_contains_text("#symphony-chips", "confidence between")
    wait_count(dash_duo, int(before[0].split(" of ")[0].replace(",", "")), TOTAL)
    assert view(dash_duo) == before
    assert dash_duo.driver.current_url == url, "restoring a link leaves it as it was"
    dash_duo.driver.save_screenshot("/work/main/shots/url-state-restored.png")


def test_urlb002_lasso_is_a_short_polygon_and_back_forward_step_through(dash_duo) -> None:
    start(dash_duo)
    wait_count(dash_duo, TOTAL, TOTAL)
    start_url = dash_duo.driver.current_url
    click_bar(dash_duo, "label", 2)
    twos = int((FRAME.label == 2).sum())
    wait_count(dash_duo, twos, TOTAL)
    bar_url = wait_url(dash_duo, start_url)

    xs, ys = FRAME.x, FRAME.y
    cx, cy, rx, ry = xs.mean(), ys.mean(), (xs.max() - xs.min()) / 4, (ys.max() - ys.min()) / 4
    loop = [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 13)]
    drag_through(dash_duo, MAP, loop)
    dash_duo.wait_for_contains_text("#symphony-chips", "lasso on (x, y)")
    vertices = stored_polygon(dash_duo, "map")
    both = int((inside(FRAME, vertices) & (FRAME.label == 2).to_numpy()).sum())
    wait_count(dash_duo, both, TOTAL)
    lasso_url = wait_url(dash_duo, bar_url)
    lasso = next(c for c in decode(param(lasso_url)).filter if c.op == "polygon")
    assert [list(p) for p in lasso.value] == vertices, "the URL holds the polygon, not the ids inside it"
    assert len(lasso_url) < 600

    dash_duo.driver.back()
    wait_count(dash_duo, twos, TOTAL)
    assert chip_texts(dash_duo) == ["label in [2]"] and dash_duo.driver.current_url == bar_url
    dash_duo.driver.back()
    wait_count(dash_duo, TOTAL, TOTAL)
    assert chip_texts(dash_duo) == [] and dash_duo.driver.current_url == start_url
    dash_duo.driver.forward()
    wait_count(dash_duo, twos, TOTAL)
    dash_duo.driver.forward()
    wait_count(dash_duo, both, TOTAL)
    assert dash_duo.driver.current_url == lasso_url
    # Another page of the layout keeps the state, and its URL says so.
    dash_duo.find_element(".symphony-tab:not(.active)").click()
    dash_duo.wait_for_element(css("histogram", "graph", "ink") + " .bars")
    wait_count(dash_duo, both, TOTAL)
    other = wait_url(dash_duo, lasso_url)
    assert urlsplit(other).path == f"/{SLUG}/other" and param(other) == param(lasso_url)


def test_urlb003_a_long_state_goes_by_a_short_key(dash_duo) -> None:
    chosen = sorted(FRAME.id.sample(900, random_state=0).tolist())  # scattered ids compress poorly
    state = State(layout=SLUG, filter=[ids(chosen, source="python")])
    search = search_for(state, APP.server.extensions["symphony-url-state"])
    assert search.startswith("?k=") and len(search) == 19
    start(dash_duo, search)
    wait_count(dash_duo, len(chosen), TOTAL)
    assert chip_texts(dash_duo) == [f"{len(chosen)} instances"]


def test_urlb004_a_forged_link_says_so_and_the_page_works(dash_duo) -> None:
    start(dash_duo, "?s=eyJsYXlvdXQiOiJ4In0")  # base64 of plain JSON: not what the app writes
    dash_duo.wait_for_contains_text(".symphony-url-notice", "This link's view could not be restored")
    assert "does not decompress" in dash_duo.find_element(".symphony-url-notice").text
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.driver.save_screenshot("/work/main/shots/url-state-forged.png")
    click_bar(dash_duo, "label", 5)
    wait_count(dash_duo, int((FRAME.label == 5).sum()), TOTAL)
    assert chip_texts(dash_duo) == ["label in [5]"]


def test_urlb005_group_by_is_in_the_link_and_the_control_follows_back(dash_duo) -> None:
    start(dash_duo)
    wait_count(dash_duo, TOTAL, TOTAL)
    start_url = dash_duo.driver.current_url
    dash_duo.find_element(".symphony-groupby").click()  # Dash 4's dropdown: a button opening a list of options
    dash_duo.driver.find_element("xpath", "//*[contains(@class, 'dash-dropdown-content')]//*[text()='split']").click()
    dash_duo.wait_for_contains_text(css("histogram", "graph", "label") + " .legend", "train")
    grouped = wait_url(dash_duo, start_url)
    assert decode(param(grouped)).group_by == ["split"]

    dash_duo.driver.back()
    dash_duo.wait_for_text_to_equal(".symphony-groupby", "Group by...")
    assert "train" not in dash_duo.find_element(css("histogram", "graph", "label")).text
    reopen(dash_duo, grouped)
    dash_duo.wait_for_contains_text(css("histogram", "graph", "label") + " .legend", "train")
    assert "split" in dash_duo.find_element(".symphony-groupby").text
