"""Helpers for browser tests: find pattern-matching ids, wait for text, act as a person does, read what the page
shows, build small datasets."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from dash.testing.wait import until
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains

T = TypeVar("T")


def css(type_name: str, sub: str, index: str) -> str:
    """The CSS selector of a component element: Dash writes pattern ids as compact JSON with sorted keys."""
    ident = json.dumps(
        {"index": index, "sub": sub, "type": f"symphony-{type_name}"}, separators=(",", ":"), sort_keys=True
    )
    return f"[id='{ident}']"


def count_text(dash_duo: Any) -> str:
    return dash_duo.find_element("#symphony-count").text


def settle(dash_duo: Any, timeout: float = 10) -> None:
    """Wait until no callback is in flight, so the next click lands on the final page rather than a stale one."""
    until(dash_duo._wait_for_callbacks, timeout=timeout, poll=0.05)


def wait_count(dash_duo: Any, shown: int, total: int, timeout: float = 10) -> None:
    """Wait until the toolbar reads 'shown of total instances' and every view has caught up."""
    dash_duo.wait_for_text_to_equal("#symphony-count", f"{shown:,} of {total:,} instances", timeout=timeout)
    settle(dash_duo, timeout)


def toy_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small classification table with every column kind the components use."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 4, n)
    correct = rng.random(n) < 0.8
    prediction = np.where(correct, label, (label + 1) % 4)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "label": label,
            "prediction": prediction,
            "confidence": np.clip(rng.normal(0.75, 0.15, n), 0, 1),
            "split": np.where(rng.random(n) < 0.8, "train", "test"),
            "x": rng.normal(label * 3.0, 1.0),
            "y": rng.normal(label % 2 * 3.0, 1.0),
            "text": [f"sample {i} of class {v}" for i, v in enumerate(label)],
        }
    )


def toy_layout_file(raw: dict[str, Any], frame: pd.DataFrame, prefix: str) -> Path:
    """``raw`` written as ``toy.json`` beside ``frame`` as ``toy.csv``, in a folder of the module's own (a module
    builds its app once; pytest's tmp_path is per test), removed when the tests end. Returns the layout's path."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    frame.to_csv(folder / "toy.csv", index=False)
    layout = folder / "toy.json"
    layout.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    return layout


def retry_stale(action: Callable[[], T], attempts: int = 8) -> T:
    """Run a browser action again when Plotly or Dash replaced the element under it (a redraw in progress)."""
    for attempt in range(attempts):
        try:
            return action()
        except StaleElementReferenceException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.15)
    raise AssertionError("unreachable")


_TRACES = """
const graph = document.querySelector(arguments[0]);
const plot = graph && graph.querySelector('.js-plotly-plot');
if (!plot || !plot._fullData) return null;
return plot._fullData.map(t => ({name: t.name, x: t.x ? Array.from(t.x) : [], y: t.y ? Array.from(t.y) : []}));
"""


def plot_traces(dash_duo: Any, selector: str, timeout: float = 10) -> list[dict[str, Any]]:
    """The traces Plotly drew in the graph at ``selector`` (name, x, y), once it has drawn them."""
    found: list[Any] = []

    def drawn() -> bool:
        found[:] = [dash_duo.driver.execute_script(_TRACES, selector)]
        return found[0] is not None

    until(drawn, timeout=timeout, poll=0.05)
    return found[0]


def filtered_bars(dash_duo: Any, histogram: str) -> list[int]:
    """The bar heights of a histogram's filtered (top) trace, as the browser drew them."""
    return [int(v) for v in plot_traces(dash_duo, css("histogram", "graph", histogram))[-1]["y"]]


def scatter_points(dash_duo: Any, graph: str) -> dict[str, int]:
    """How many points each trace of the scatter at ``graph`` holds, by trace name ('all' is the grey layer)."""
    return {t["name"]: len(t["x"]) for t in plot_traces(dash_duo, graph)}


def chip_texts(dash_duo: Any) -> list[str]:
    """The text of every chip in the toolbar, in order."""
    # Read by script: an empty find_elements would first sit out selenium's implicit wait.
    script = "return [...document.querySelectorAll('#symphony-chips .symphony-chip-text')].map(e => e.textContent);"
    return dash_duo.driver.execute_script(script)


def central_filter(dash_duo: Any) -> list[dict[str, Any]]:
    """The clauses in the app's central store, read from Dash's own state in the browser."""
    script = (
        "const s = window.store.getState(); let node = s.layout;"
        "for (const k of s.paths.strs['symphony-state']) node = node[k];"
        "return (node.props.data || {}).filter || [];"
    )
    return dash_duo.driver.execute_script(script)


def stored_polygon(dash_duo: Any, source: str) -> list[list[float]]:
    """The vertices of the one polygon clause the scatter ``source`` put in the central store."""
    clauses = [c for c in central_filter(dash_duo) if c["source"] == source]
    assert len(clauses) == 1 and clauses[0]["op"] == "polygon" and clauses[0]["columns"] == ["x", "y"]
    return clauses[0]["value"]


def inside(frame: pd.DataFrame, vertices: list[list[float]]) -> np.ndarray:
    """Which rows lie inside the polygon, by an even-odd ray cast written here, apart from the engine's."""
    x, y = frame.x.to_numpy(), frame.y.to_numpy()
    hit = np.zeros(len(frame), dtype=bool)
    for (x1, y1), (x2, y2) in zip(vertices, vertices[1:] + vertices[:1], strict=True):
        if y1 == y2:
            continue  # a horizontal edge is never crossed by a horizontal ray
        hit ^= ((y1 > y) != (y2 > y)) & (x < x1 + (y - y1) * (x2 - x1) / (y2 - y1))
    return hit


def click_bar(dash_duo: Any, histogram: str, bar: int) -> None:
    """Click the ``bar``-th bar of the filtered (top) trace of a histogram, as a person would."""

    def click() -> None:
        graph = dash_duo.find_element(css("histogram", "graph", histogram))
        paths = graph.find_elements("css selector", ".trace.bars")[-1].find_elements("css selector", "path")
        ActionChains(dash_duo.driver).move_to_element(paths[bar]).pause(0.2).click().perform()

    retry_stale(click)


# The Plotly graph inside the Dash graph at the selector given as the script's first argument.
PLOT = "const g = document.querySelector(arguments[0]).querySelector('.js-plotly-plot');"


def drag_through(dash_duo: Any, graph: str, points: list[tuple[float, float]]) -> None:
    """Press the mouse on the plot at ``graph`` at the first data point, move through the others and let go: a
    lasso, or a box in select mode."""

    def drag() -> None:
        layer = dash_duo.find_element(graph).find_element("css selector", ".nsewdrag")
        # Plotly's own axis maps give the pixel of a data point, measured from the plot area's top-left corner.
        pixels = dash_duo.driver.execute_script(
            PLOT + "const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;"
            "return arguments[1].map(p => [Math.round(xa.d2p(p[0])), Math.round(ya.d2p(p[1]))]);",
            graph,
            points,
        )
        # Short moves (selenium's default is 250 ms each); plotly still sees every one as a point of the path.
        chain = ActionChains(dash_duo.driver, duration=40)
        chain = chain.move_to_element_with_offset(layer, *pixels[0]).click_and_hold()
        for (x0, y0), (x1, y1) in pairwise(pixels):
            chain = chain.move_by_offset(x1 - x0, y1 - y0)
        chain.release().perform()

    retry_stale(drag)
