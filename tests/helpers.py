"""Helpers for browser tests: find pattern-matching ids, wait for text, build small datasets."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from dash.testing.wait import until
from selenium.common.exceptions import StaleElementReferenceException

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
