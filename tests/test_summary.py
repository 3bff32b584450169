"""summary: the small charts' counts and shares missing against pandas under a filter, and in a browser over the
digits demo: click a label bar of a histogram and the summary follows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from helpers import chip_texts, click_bar, css, plot_traces, toy_frame, wait_count

from symphony_dash import create_app
from symphony_dash.component import View
from symphony_dash.components.summary import Summary, SummaryProps
from symphony_dash.dataset import Dataset
from symphony_dash.demo import prepare_digits
from symphony_dash.engine import Engine
from symphony_dash.state import State, between, isin

# -- the figure, without a browser -----------------------------------------------------------------------------------


def toy_with_gaps() -> pd.DataFrame:
    """The toy table with some confidences and splits missing, so the shares missing are not all zero."""
    frame = toy_frame(seed=3)
    rng = np.random.default_rng(3)
    frame.loc[rng.random(len(frame)) < 0.1, "confidence"] = np.nan
    frame["split"] = frame.split.astype(object)
    frame.loc[rng.random(len(frame)) < 0.05, "split"] = None
    return frame


TOY = toy_with_gaps()
TOY_DATA = Dataset(TOY)


def render(state: State, **props: Any) -> tuple[Any, dict[str, Any]]:
    component = Summary("sum", SummaryProps.model_validate(props), TOY_DATA)
    return component.render(View("sum", TOY_DATA, Engine(TOY_DATA), state))


def panel(figure: dict[str, Any], column: str) -> tuple[dict[str, int], str]:
    """One subplot's filtered bars (x -> count) and its title."""
    i, trace = next((i, t) for i, t in enumerate(figure["data"]) if t["name"] == column)
    title = figure["layout"]["annotations"][i // 2]["text"]
    return dict(zip(trace["x"], trace["y"], strict=True)), title


def missing_title(name: str, rows: pd.Series) -> str:
    return f"<b>{name}</b> · {100 * rows.isna().mean():.0f}% missing"


def test_summ001_subplot_counts_and_missing_equal_pandas_under_a_filter() -> None:
    state = State(layout="toy", filter=[isin("label", [1, 2], source="h"), between("x", 0, 8, source="s")])
    count, figure = render(state, columns=["confidence", "split", "label"], titles={"split": "Split"}, bins=10)
    rows = TOY[TOY.label.isin([1, 2]) & TOY.x.between(0, 8)]
    assert count[0].children == f"{len(rows):,}" and count[1] == f" of {len(TOY):,} instances"

    bars, title = panel(figure, "split")
    assert bars == rows.split.value_counts().to_dict()
    assert title == missing_title("Split", rows.split)

    bars, title = panel(figure, "label")
    assert bars == {"0": 0, "1": (rows.label == 1).sum(), "2": (rows.label == 2).sum(), "3": 0}
    assert title == missing_title("label", rows.label)

    # Ten equal bins over the whole table's extent, the last one closed on the right.
    bars, title = panel(figure, "confidence")
    lo, hi = TOY.confidence.min(), TOY.confidence.max()
    expected = np.histogram(rows.confidence.dropna(), bins=10, range=(lo, hi))[0]
    assert list(bars.values()) == expected.tolist()
    assert title == missing_title("confidence", rows.confidence)
    assert "0%" not in title

    # The grid: four per row at most, every subplot with its own axes.
    assert [figure["layout"][f"xaxis{s}"]["type"] for s in ("", "2", "3")] == ["linear", "category", "category"]
    assert not figure["layout"]["showlegend"]


def test_summ002_default_columns_are_the_numeric_and_categorical_ones() -> None:
    _, figure = render(State(layout="toy"))
    charted = [t["name"] for t in figure["data"] if not t["name"].endswith("(all)")]
    assert charted == ["label", "prediction", "confidence", "split", "x", "y"]
    # Unfiltered, the blue bars cover the grey ones exactly.
    for grey, blue in zip(figure["data"][::2], figure["data"][1::2], strict=True):
        assert grey["y"] == blue["y"]


# -- in a browser ------------------------------------------------------------------------------------------------------

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)
APP = create_app(
    [
        {
            "title": "Summary test",
            "data": {"source": "demo:digits"},
            "pages": [
                {
                    "title": "Main",
                    "components": [
                        {"type": "histogram", "id": "label", "width": 2, "props": {"column": "label"}},
                        {
                            "type": "summary",
                            "id": "sum",
                            "width": 4,
                            "height": 3,
                            "props": {"columns": ["label", "confidence", "split", "ink"]},
                        },
                    ],
                }
            ],
        }
    ]
)


def summary_bars(dash_duo: Any, column: str) -> dict[str, int]:
    trace = next(t for t in plot_traces(dash_duo, css("summary", "graph", "sum")) if t["name"] == column)
    return {str(x): int(y) for x, y in zip(trace["x"], trace["y"], strict=True)}


def test_summ003_a_bar_click_elsewhere_narrows_the_summary(dash_duo: Any) -> None:
    dash_duo.start_server(APP)
    dash_duo.driver.set_window_size(1400, 900)
    count = css("summary", "count", "sum")
    dash_duo.wait_for_text_to_equal(count, f"{TOTAL:,} of {TOTAL:,} instances")
    assert summary_bars(dash_duo, "label") == {str(k): int(v) for k, v in FRAME.label.value_counts().items()}

    click_bar(dash_duo, "label", 3)
    threes = FRAME[FRAME.label == 3]
    wait_count(dash_duo, len(threes), TOTAL)
    assert chip_texts(dash_duo) and "3" in chip_texts(dash_duo)[0]
    dash_duo.wait_for_text_to_equal(count, f"{len(threes):,} of {TOTAL:,} instances")
    label = summary_bars(dash_duo, "label")
    assert label["3"] == len(threes) and sum(label.values()) == len(threes)
    assert summary_bars(dash_duo, "split") == {str(k): int(v) for k, v in threes.split.value_counts().items()}
    dash_duo.driver.save_screenshot("/work/main/shots/summary.png")
