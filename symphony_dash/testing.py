"""Testing helpers for component authors: serve one component over a dataset, find its elements, wait for the page.

With dash.testing's ``dash_duo`` fixture (``pip install "dash[testing]"``, run ``pytest --headless``)::

    APP = component_app("error_rate", {"column": "label"}, data="demo:digits")
    FRAME, _ = load_demo("digits")

    def test_click_a_bar(dash_duo):
        dash_duo.start_server(APP)
        wait_count(dash_duo, len(FRAME), len(FRAME))
        click(dash_duo, element("error_rate", "graph") + " .trace.bars path", nth=0)  # the bar of label 0
        wait_count(dash_duo, int((FRAME.label == 0).sum()), len(FRAME))  # from the data, never from the page

Build the app once per test module and start it in each test: the app is the slow part.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dash
import pandas as pd
import polars as pl

from .app import BrokenLayout, create_app
from .dataset import Dataset
from .state import Clause

__all__ = ["COMPONENT_ID", "click", "component_app", "element", "settle", "wait_count"]

COMPONENT_ID = "under-test"
"""The id :func:`component_app` gives the component, unless told otherwise."""


def component_app(
    type_name: str,
    props: dict[str, Any] | None = None,
    *,
    data: Dataset | pd.DataFrame | pl.DataFrame | str | Path,
    filter: Sequence[Clause] = (),
    component_id: str = COMPONENT_ID,
    title: str | None = None,
    height: int = 3,
) -> dash.Dash:
    """An app with one page: the toolbar and the component ``type_name`` at full width, over ``data``.

    ``data`` is a :class:`Dataset`, a pandas or polars frame (its ``id`` column is the id column), a data file, or a
    built-in demo (``"demo:digits"``). ``filter`` is the state the page opens with. The app is the one
    ``symphony-dash run`` serves, so the component is wired to the toolbar, its chips and the shared state.
    """
    demo = isinstance(data, str) and data.startswith("demo:")
    if isinstance(data, (pd.DataFrame, pl.DataFrame)):
        data = Dataset(data)
    layout = {
        "title": title or f"Testing {type_name}",
        "data": {"source": data if demo else "data"},
        "filter": [c.model_dump(mode="json") for c in filter],
        "pages": [
            {
                "title": type_name,
                "components": [
                    {"type": type_name, "id": component_id, "width": 6, "height": height, "props": props or {}}
                ],
            }
        ],
    }
    app = create_app([layout], data=None if demo else data)
    for loaded in app.symphony_layouts.values():
        if isinstance(loaded, BrokenLayout):
            # Said here, in the test's own traceback, rather than on an error page the browser test would time out on.
            raise loaded.error
    return app


def element(type_name: str, sub: str, component_id: str = COMPONENT_ID) -> str:
    """The CSS selector of one element of a component, made by ``self.id(sub)``.

    Dash writes a dict id as compact JSON with sorted keys: ``element("histogram", "graph")``.
    """
    ident = {"index": component_id, "sub": sub, "type": f"symphony-{type_name}"}
    return f"[id='{json.dumps(ident, separators=(',', ':'), sort_keys=True)}']"


def click(dash_duo: Any, selector: str, nth: int = 0) -> None:
    """Move the mouse onto the ``nth`` element matching ``selector`` and click it, as a person does.

    Plotly reacts to a click only on a mark the mouse hovers, so this hovers first. A mark that Plotly replaces while
    it redraws is looked up again.
    """
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains

    for attempt in range(8):
        try:
            target = dash_duo.find_elements(selector)[nth]
            ActionChains(dash_duo.driver).move_to_element(target).pause(0.2).click().perform()
            return
        except StaleElementReferenceException:
            if attempt == 7:
                raise
            time.sleep(0.15)


def settle(dash_duo: Any, timeout: float = 10) -> None:
    """Wait until no callback is in flight, so the next action lands on the final page."""
    from dash.testing.wait import until  # dash[testing], which needs selenium: only when a browser test runs

    until(dash_duo._wait_for_callbacks, timeout=timeout, poll=0.05)


def wait_count(dash_duo: Any, shown: int, total: int, timeout: float = 10) -> None:
    """Wait until the toolbar reads ``shown of total instances`` and every view has caught up."""
    dash_duo.wait_for_text_to_equal("#symphony-count", f"{shown:,} of {total:,} instances", timeout=timeout)
    settle(dash_duo, timeout)
