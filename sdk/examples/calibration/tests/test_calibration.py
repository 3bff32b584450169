"""Browser test of calibration: a click on a confidence bin filters the rows to it; a second click clears."""

from __future__ import annotations

from typing import Any

from symphony_dash.demo import load_demo
from symphony_dash.state import between, describe
from symphony_dash.testing import click, component_app, element, wait_count

BINS = 10
APP = component_app("calibration", {"per_class": "label", "bins": BINS}, data="demo:digits")
FRAME, _ = load_demo("digits")
# The filtered bars are the last of the figure's bars, one per bin, after the grey bars of every row.
COUNT_BARS = element("calibration", "graph") + " .trace.bars path"


def test_calibration001_a_click_on_a_bin_filters_by_its_confidence(dash_duo: Any) -> None:
    dash_duo.start_server(APP)
    total = len(FRAME)
    wait_count(dash_duo, total, total)
    # The fullest bin, [0.9, 1]: both ends belong to the bin, as a range clause keeps them.
    low, high = (BINS - 1) / BINS, 1.0
    click(dash_duo, COUNT_BARS, nth=2 * BINS - 1)
    wait_count(dash_duo, int(FRAME["confidence"].between(low, high).sum()), total)
    chip = describe(between("confidence", low, high))  # the toolbar writes the clause as symphony_dash does
    dash_duo.wait_for_text_to_equal("#symphony-chips .symphony-chip-text", chip)
    click(dash_duo, COUNT_BARS, nth=2 * BINS - 1)
    wait_count(dash_duo, total, total)
