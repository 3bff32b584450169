"""Histogram figures without a browser: what the render sends for a log axis."""

from __future__ import annotations

import math

from helpers import toy_frame

from symphony_dash import Dataset, Engine, State, View
from symphony_dash.components.histogram import Histogram, HistogramProps


def test_hist001_log_bars_grow_from_one_with_ticks_at_powers_of_ten() -> None:
    dataset = Dataset(toy_frame())
    histogram = Histogram("h", HistogramProps(column="split", log_y=True), dataset)
    figure = histogram.render(View("h", dataset, Engine(dataset), State()))
    largest = int(toy_frame().split.value_counts().max())
    assert figure["layout"]["yaxis"]["type"] == "log"
    assert figure["layout"]["yaxis"]["range"] == [0, math.log10(largest) + 0.15]
    assert figure["layout"]["yaxis"]["dtick"] == 1
