"""group_metrics: the metrics per group against scikit-learn, the figure and the clicks as unit tests, and in a
browser over the digits demo: group by split, click a split to filter to it, and follow a bar click elsewhere."""

from __future__ import annotations

import re
from typing import Any

import dash
import numpy as np
import pandas as pd
import polars as pl
import pytest
from dash.testing.wait import until
from helpers import PLOT, chip_texts, css, filtered_bars, plot_traces, retry_stale, settle, wait_count
from selenium.webdriver.common.action_chains import ActionChains
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

from symphony_dash import create_app
from symphony_dash.component import View
from symphony_dash.components.group_metrics import METRICS, GroupMetrics, GroupMetricsProps, metrics_by_group
from symphony_dash.dataset import Dataset
from symphony_dash.demo import prepare_digits
from symphony_dash.engine import Engine
from symphony_dash.layout import SavedSlice
from symphony_dash.state import Clause, State, isin

# -- the metrics against scikit-learn --------------------------------------------------------------------------------


def sklearn_metrics(y: Any, p: Any) -> dict[str, float]:
    """Every metric of the component, as scikit-learn computes it."""
    out = {"accuracy": accuracy_score(y, p)}
    for average in ("macro", "micro"):
        precision, recall, f1, _ = precision_recall_fscore_support(y, p, average=average, zero_division=0)
        out |= {f"precision_{average}": precision, f"recall_{average}": recall, f"f1_{average}": f1}
    return out


def random_frame(seed: int, n: int = 600) -> pd.DataFrame:
    """Labels and noisy predictions over six classes in four groups; group "narrow" only has labels 0 and 1 and never
    predicts 5, group "tiny" has a handful of rows, so classes are missing from groups on either side."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "narrow", "tiny"], n, p=[0.45, 0.3, 0.245, 0.005])
    group[:3] = "tiny"
    label = rng.integers(0, 6, n)
    prediction = np.where(rng.random(n) < 0.65, label, rng.integers(0, 6, n))
    narrow = group == "narrow"
    label[narrow] %= 2
    prediction[narrow] = np.minimum(prediction[narrow], 4)
    return pd.DataFrame({"label": label, "prediction": prediction, "group": group, "other": rng.choice(["x", "y"], n)})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gmet001_metrics_per_group_equal_scikit_learn(seed: int) -> None:
    frame = random_frame(seed)
    table = metrics_by_group(pl.from_pandas(frame), "label", "prediction", ["group"])
    assert table["group"].to_list() == ["a", "b", "narrow", "tiny"]
    for row in table.iter_rows(named=True):
        rows = frame[frame.group == row["group"]]
        assert row["count"] == len(rows)
        expected = sklearn_metrics(rows.label, rows.prediction)
        assert {m: row[m] for m in METRICS} == pytest.approx(expected, abs=1e-12)
    # No groups: one row over everything.
    (everything,) = metrics_by_group(pl.from_pandas(frame), "label", "prediction").iter_rows(named=True)
    assert {m: everything[m] for m in METRICS} == pytest.approx(sklearn_metrics(frame.label, frame.prediction))


def test_gmet002_two_columns_missing_values_and_mixed_types() -> None:
    frame = random_frame(3)
    table = metrics_by_group(pl.from_pandas(frame), "label", "prediction", ["group", "other"])
    expected = frame.groupby(["group", "other"]).size()
    assert list(zip(table["group"], table["other"], strict=True)) == list(expected.index)
    assert table["count"].to_list() == expected.tolist()
    for row in table.iter_rows(named=True):
        rows = frame[(frame.group == row["group"]) & (frame.other == row["other"])]
        assert {m: row[m] for m in METRICS} == pytest.approx(sklearn_metrics(rows.label, rows.prediction))

    # A missing group value is a group of its own; rows missing a label or a prediction are left out; labels as text
    # and predictions as numbers still compare as the same classes.
    odd = pl.DataFrame(
        {
            "label": ["1", "2", None, "2", "1", "3"],
            "prediction": [1, 2, 2, None, 3, 3],
            "group": ["a", "a", "a", "a", None, None],
        }
    )
    rows = metrics_by_group(odd, "label", "prediction", ["group"]).to_dicts()
    assert [(r["group"], r["count"]) for r in rows] == [("a", 2), (None, 2)]
    assert rows[0]["accuracy"] == 1.0
    assert {m: rows[1][m] for m in METRICS} == pytest.approx(sklearn_metrics(["1", "3"], ["3", "3"]))


# -- the figure and the clicks, without a browser --------------------------------------------------------------------

TOY = random_frame(4)
TOY_DATA = Dataset(TOY)


def render(state: State, **props: Any) -> dict[str, Any]:
    component = GroupMetrics("gm", GroupMetricsProps.model_validate(props), TOY_DATA)
    return component.render(View("gm", TOY_DATA, Engine(TOY_DATA), state))


def rows_of(figure: dict[str, Any]) -> list[str]:
    return [re.sub("<[^>]+>", "", t) for t in figure["layout"]["yaxis"]["ticktext"]]


def metric_trace(figure: dict[str, Any], metric: str) -> dict[str, Any]:
    return next(t for t in figure["data"] if t.get("name") == METRICS[metric])


def accuracy_by(frame: pd.DataFrame, column: str) -> dict[str, float]:
    return {v: float((rows.label == rows.prediction).mean()) for v, rows in frame.groupby(column)}


def test_gmet003_rows_worst_first_unreliable_last_and_the_own_group_highlighted() -> None:
    figure = render(State(layout="toy", group_by=["group"]), min_count=10)
    accuracy, sizes = accuracy_by(TOY, "group"), TOY.group.value_counts()
    assert sizes["tiny"] < 10 <= sizes.drop("tiny").min()
    worst_first = sorted(["a", "b", "narrow"], key=accuracy.get)
    assert rows_of(figure) == [*worst_first, "tiny"]
    assert metric_trace(figure, "accuracy")["x"] == pytest.approx([accuracy[g] for g in rows_of(figure)])
    f1 = [sklearn_metrics(r.label, r.prediction)["f1_macro"] for r in (TOY[TOY.group == g] for g in worst_first)]
    assert metric_trace(figure, "f1_macro")["x"][:3] == pytest.approx(f1)
    assert metric_trace(figure, "accuracy")["marker"]["color"][-1] == "#9aa5b1"  # the tiny group is greyed
    overall = (TOY.label == TOY.prediction).mean()
    assert figure["layout"]["shapes"][0]["x0"] == pytest.approx(overall)
    assert [a["text"] for a in figure["layout"]["annotations"][:4]] == [f"n={sizes[g]:,}" for g in rows_of(figure)]

    # The component's own clause does not filter it: every group stays, the chosen one is highlighted.
    state = State(layout="toy", group_by=["group"], filter=[isin("group", ["b"], source="gm")])
    chosen = render(state, min_count=10)
    assert rows_of(chosen) == rows_of(figure)
    opacity = metric_trace(chosen, "accuracy")["marker"]["opacity"]
    assert opacity == [1.0 if g == "b" else 0.3 for g in rows_of(chosen)]

    # The prop groups when the toolbar does not; with no group at all there is one row; another view's clause filters.
    assert rows_of(render(State(layout="toy"), group_by="other")) == sorted(
        ["x", "y"], key=accuracy_by(TOY, "other").get
    )
    only_x = render(State(layout="toy", filter=[isin("other", ["x"], source="hist")]), metrics=["accuracy"])
    xs = TOY[TOY.other == "x"]
    assert rows_of(only_x) == ["all"]
    assert metric_trace(only_x, "accuracy")["x"] == [pytest.approx((xs.label == xs.prediction).mean())]
    empty = render(State(layout="toy", filter=[isin("group", ["nothing"], source="hist")]))
    assert empty["data"] == [] and "No rows" in empty["layout"]["annotations"][0]["text"]


def test_gmet004_a_click_toggles_its_group_and_malformed_clicks_are_refused() -> None:
    component = GroupMetrics("gm", GroupMetricsProps(), TOY_DATA)
    engine = Engine(TOY_DATA)

    def click(customdata: Any, own: list[str] | None = None, group_by: tuple[str, ...] = ("group",)) -> Any:
        clauses = [isin("group", own, source="gm")] if own else []
        state = State(layout="toy", group_by=list(group_by), filter=clauses)
        return component.on_event(
            "click", {"points": [{"customdata": customdata}]}, View("gm", TOY_DATA, engine, state)
        )

    first = click(["b"])
    assert (first.op, first.column, first.value, first.source) == ("in", "group", ["b"], "gm")
    assert click(["a"], own=["b"]).value == ["b", "a"]
    assert click(["b"], own=["b"]) is None
    # With two group-by columns the click filters to the first column's value.
    assert click(["narrow", "x"], group_by=("group", "other")).value == ["narrow"]
    assert click([None]).op == "is_null"
    assert click(None, group_by=()) is dash.no_update
    no_state = View("gm", TOY_DATA, engine, State())
    assert component.on_event("click", None, no_state) is dash.no_update
    for malformed in ("text", {"points": []}, {"points": ["x"]}, {"points": [{"customdata": "b"}]}):
        with pytest.raises(ValueError):
            component.on_event("click", malformed, View("gm", TOY_DATA, engine, State(group_by=["group"])))
    with pytest.raises(ValueError):
        click(["a", "x"])  # a combination while the group-by has one column


def test_gmet005_saved_slices_compared_one_row_each() -> None:
    slices = [
        SavedSlice(name="group a", filter=[isin("group", ["a"], source="h")]),
        SavedSlice(name="a, label 0 to 2", filter=[isin("group", ["a"]), isin("label", [0, 1, 2])]),
        SavedSlice(name="nothing", filter=[isin("group", ["nowhere"])]),
    ]
    component = GroupMetrics("gm", GroupMetricsProps(rows="slices", min_count=1), TOY_DATA)
    engine = Engine(TOY_DATA)
    no_slices = component.render(View("gm", TOY_DATA, engine, State(layout="toy")))
    assert no_slices["data"] == [] and "No saved slices yet" in no_slices["layout"]["annotations"][0]["text"]

    component.saved_slices = slices
    others = [isin("other", ["x"], source="hist")]  # another view's filter: each slice is taken within it
    figure = component.render(View("gm", TOY_DATA, engine, State(layout="toy", filter=others)))
    xs = TOY[TOY.other == "x"]
    expected = {"group a": xs[xs.group == "a"], "a, label 0 to 2": xs[(xs.group == "a") & xs.label.between(0, 2)]}
    assert sorted(rows_of(figure)) == sorted(expected), "an empty slice has no row"
    accuracy = {name: (rows.label == rows.prediction).mean() for name, rows in expected.items()}
    assert metric_trace(figure, "accuracy")["x"] == pytest.approx([accuracy[r] for r in rows_of(figure)])
    assert figure["layout"]["shapes"][0]["x0"] == pytest.approx((xs.label == xs.prediction).mean())

    def click(name: str, own: Clause | None = None) -> Any:
        state = State(layout="toy", filter=[own] if own else [])
        view = View("gm", TOY_DATA, engine, state, {"rows.value": "slices"})
        return component.on_event("click", {"points": [{"customdata": [name]}]}, view)

    one = click("group a")
    assert (one.op, one.column, one.value, one.source) == ("in", "group", ["a"], "gm")
    both = click("a, label 0 to 2")
    assert both.op == "all" and Engine(TOY_DATA).where([both]).count() == int(
        ((TOY.group == "a") & TOY.label.between(0, 2)).sum()
    )
    assert click("a, label 0 to 2", own=both) is None, "a second click clears it"
    with pytest.raises(ValueError):
        click("forged")


# -- in a browser, over the digits demo ------------------------------------------------------------------------------

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)
GRAPH = css("group_metrics", "graph", "metrics")
APP = create_app(
    [
        {
            "title": "Group metrics",
            "data": {"source": "demo:digits"},
            "slices": [
                {"name": "eights", "filter": [{"source": "h", "op": "in", "column": "label", "value": [8]}]},
                {
                    "name": "unsure test",
                    "filter": [
                        {"source": "h", "op": "in", "column": "split", "value": ["test"]},
                        {"source": "c", "op": "range", "column": "confidence", "value": [0, 0.9]},
                    ],
                },
            ],
            "pages": [
                {
                    "title": "Main",
                    "components": [
                        {"type": "group_metrics", "id": "metrics", "title": "Metrics by group"},
                        {"type": "histogram", "id": "label", "title": "True label", "props": {"column": "label"}},
                    ],
                }
            ],
        }
    ]
)

# Plotly's drawn figure: each row's name (tick labels without their colour markup) and each metric trace's markers.
_SHOWN = (
    PLOT + "if (!g || !g._fullData || !g.layout.yaxis.ticktext) return null;"
    "const rows = g.layout.yaxis.ticktext.map(t => t.replace(/<[^>]+>/g, ''));"
    "return {rows, metrics: Object.fromEntries(g._fullData.filter(t => t.mode === 'markers' && t.customdata)"
    ".map(t => [t.name, {x: Array.from(t.x), opacity: Array.from(t.marker.opacity)}]))};"
)


def shown(dash_duo: Any) -> dict[tuple[str, str], float]:
    """What the plot shows: ``{(row, metric words): value}``."""
    drawn = dash_duo.driver.execute_script(_SHOWN, GRAPH) or {"rows": [], "metrics": {}}
    return {(row, name): t["x"][i] for name, t in drawn["metrics"].items() for i, row in enumerate(drawn["rows"])}


def wait_rows(dash_duo: Any, expected: dict[str, pd.DataFrame]) -> None:
    """Wait until the plot shows one row per key with the metrics of its rows, as scikit-learn computes them."""
    want = {}
    for row, rows in expected.items():
        metrics = sklearn_metrics(rows.label, rows.prediction)
        want |= {(row, METRICS[m]): metrics[m] for m in GroupMetricsProps().metrics}
    until(lambda: shown(dash_duo) == pytest.approx(want), timeout=10, poll=0.1)
    settle(dash_duo)


def opacities(dash_duo: Any) -> dict[str, float]:
    drawn = dash_duo.driver.execute_script(_SHOWN, GRAPH)
    return dict(zip(drawn["rows"], drawn["metrics"]["accuracy"]["opacity"], strict=True))


def label_bars(dash_duo: Any) -> list[int]:
    """The label histogram's bars: with the group-by on, the sum of its stacked traces, one per split."""
    traces = retry_stale(lambda: plot_traces(dash_duo, css("histogram", "graph", "label")))
    return [int(sum(bars)) for bars in zip(*(t["y"] for t in traces), strict=True)]


def click_label(dash_duo: Any, label: int) -> None:
    """Click a bar of the label histogram where it is drawn: its stacked trace of the split that holds its rows."""
    traces = plot_traces(dash_duo, css("histogram", "graph", "label"))
    tallest = max(range(len(traces)), key=lambda i: traces[i]["y"][label])

    def click() -> None:
        graph = dash_duo.find_element(css("histogram", "graph", "label"))
        bars = graph.find_elements("css selector", ".trace.bars")[tallest].find_elements("css selector", "path")
        ActionChains(dash_duo.driver).move_to_element(bars[label]).pause(0.2).click().perform()

    retry_stale(click)


def click_row(dash_duo: Any, row: str) -> None:
    """Click the middle of a group's row, as a person would."""

    def click() -> None:
        rows = dash_duo.driver.execute_script(_SHOWN, GRAPH)["rows"]
        bands = (
            dash_duo.find_element(GRAPH)
            .find_element("css selector", ".trace.bars")
            .find_elements("css selector", "path")
        )
        ActionChains(dash_duo.driver).move_to_element(bands[rows.index(row)]).pause(0.2).click().perform()

    retry_stale(click)


def test_gmet101_group_by_split_click_a_split_and_follow_a_bar_click(dash_duo) -> None:
    dash_duo.driver.set_window_size(1400, 900)
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    wait_rows(dash_duo, {"all": FRAME})

    dash_duo.find_element(".symphony-groupby").click()  # Dash 4's dropdown: a button opening a list of options
    dash_duo.driver.find_element("xpath", "//*[contains(@class, 'dash-dropdown-content')]//*[text()='split']").click()
    dash_duo.find_element("body").send_keys("\ue00c")  # Escape closes the list, which would cover the plot
    splits = {split: rows for split, rows in FRAME.groupby("split")}
    wait_rows(dash_duo, splits)
    dash_duo.find_element(GRAPH).screenshot("/work/main/shots/group_metrics_split.png")
    accuracy = FRAME.assign(hit=FRAME.label == FRAME.prediction).groupby("split").hit.mean()
    assert {row: v for (row, metric), v in shown(dash_duo).items() if metric == "accuracy"} == pytest.approx(
        accuracy.to_dict()
    )

    click_row(dash_duo, "test")
    test = splits["test"]
    wait_count(dash_duo, len(test), TOTAL)
    assert chip_texts(dash_duo) == ["split in ['test']"]
    assert label_bars(dash_duo) == [int((test.label == d).sum()) for d in range(10)]
    # Its own clause does not filter it: both splits stay, the test row is highlighted.
    wait_rows(dash_duo, splits)
    assert opacities(dash_duo) == {"test": 1.0, "train": 0.3}

    click_label(dash_duo, 8)
    eights = FRAME[FRAME.label == 8]
    wait_count(dash_duo, int((test.label == 8).sum()), TOTAL)
    wait_rows(dash_duo, {split: rows for split, rows in eights.groupby("split")})
    dash_duo.driver.save_screenshot("/work/main/shots/group_metrics.png")
    dash_duo.find_element(GRAPH).screenshot("/work/main/shots/group_metrics_box.png")

    click_row(dash_duo, "test")  # a second click on the chosen split clears it
    wait_count(dash_duo, len(eights), TOTAL)
    assert chip_texts(dash_duo) == ["label in [8]"]
    assert opacities(dash_duo) == {"test": 1.0, "train": 1.0}


def test_gmet102_compare_saved_slices_and_click_one(dash_duo) -> None:
    dash_duo.driver.set_window_size(1400, 900)
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    wait_rows(dash_duo, {"all": FRAME})
    switch = css("group_metrics", "rows", "metrics")
    next(e for e in dash_duo.find_elements(switch + " label") if e.text.strip() == "Saved slices").click()
    eights = FRAME[FRAME.label == 8]
    unsure = FRAME[(FRAME.split == "test") & FRAME.confidence.between(0, 0.9)]
    wait_rows(dash_duo, {"eights": eights, "unsure test": unsure})
    dash_duo.find_element(GRAPH).screenshot("/work/main/shots/group_metrics_slices.png")

    click_row(dash_duo, "unsure test")
    wait_count(dash_duo, len(unsure), TOTAL)
    until(lambda: filtered_bars(dash_duo, "label") == [int((unsure.label == d).sum()) for d in range(10)], timeout=5)
    assert opacities(dash_duo) == {"eights": 0.3, "unsure test": 1.0}
    click_row(dash_duo, "unsure test")
    wait_count(dash_duo, TOTAL, TOTAL)
