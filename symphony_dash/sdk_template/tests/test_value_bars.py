"""Browser test of value_bars: a click on a bar filters the rows, as the toolbar's count shows; a second clears."""

from __future__ import annotations

from typing import Any

from symphony_dash.demo import load_demo
from symphony_dash.testing import click, component_app, element, wait_count

# One app per test module, started in each test: building it is the slow part.
APP = component_app("value_bars", {"column": "label"}, data="demo:digits")
FRAME, _ = load_demo("digits")
BARS = element("value_bars", "graph") + " .trace.bars path"


def test_value_bars001_a_click_filters_and_a_second_clears(dash_duo: Any) -> None:
    dash_duo.start_server(APP)
    total = len(FRAME)
    wait_count(dash_duo, total, total)
    counts = FRAME["label"].value_counts()
    # The first bar is the most frequent label (the smallest value among equals); its filtered bar is drawn last.
    first = min(counts.index[counts == counts.max()])
    click(dash_duo, BARS, nth=len(counts))
    wait_count(dash_duo, int(counts[first]), total)
    click(dash_duo, BARS, nth=len(counts))
    wait_count(dash_duo, total, total)
