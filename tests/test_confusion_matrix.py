"""Tests of the confusion matrix: counts equal to pandas, a cell click filters the other views to those instances
through a ``pairs`` clause (more clicks add cells, a second click removes one), one matrix per group-by value, shares
per true or predicted class, the two-class matrix with its metrics, and the ``pairs`` clause itself in the state and
the engine (browser tests with dash.testing in headless Chromium, plus plain tests)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import dash
import numpy as np
import pandas as pd
import pytest
from dash.testing.wait import until
from helpers import (
    PLOT,
    central_filter,
    chip_texts,
    css,
    filtered_bars,
    retry_stale,
    settle,
    toy_frame,
    wait_count,
)
from pydantic import ValidationError
from selenium.webdriver.common.action_chains import ActionChains
from sklearn.metrics import f1_score, precision_score, recall_score

from symphony_dash import create_app
from symphony_dash.component import View
from symphony_dash.components.confusion_matrix import ConfusionMatrix, ConfusionMatrixProps
from symphony_dash.dataset import Dataset
from symphony_dash.demo import prepare_digits
from symphony_dash.engine import Engine
from symphony_dash.state import MAX_VALUES, Clause, ClauseError, State, describe, isin, pairs

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)
CLASSES = sorted(set(FRAME.label) | set(FRAME.prediction))
TOY = toy_frame()
# Two classes with string names: the positive one is the second, "dog".
BINARY = TOY.assign(label=np.where(TOY.label % 2, "dog", "cat"), prediction=np.where(TOY.prediction % 2, "dog", "cat"))


def _layouts() -> list[dict[str, Any]]:
    folder = Path(tempfile.mkdtemp(prefix="symphony-confusion-"))
    BINARY.to_parquet(folder / "binary.parquet")
    digits = {
        "title": "Digits",
        "data": {"source": "demo:digits"},
        "pages": [
            {
                "title": "Main",
                "components": [
                    {"type": "confusion_matrix", "id": "cm", "width": 3, "height": 3},
                    {"type": "histogram", "id": "label", "width": 3, "height": 3, "props": {"column": "label"}},
                    {"type": "confusion_matrix", "id": "recall", "props": {"normalize": "row"}, "width": 2},
                    {"type": "gallery", "id": "gallery", "width": 4, "height": 2, "props": {"page_size": 60}},
                ],
            }
        ],
    }
    binary = {
        "title": "Binary",
        "data": {"source": str(folder / "binary.parquet")},
        "pages": [
            {
                "title": "Main",
                "components": [
                    {"type": "confusion_matrix", "id": "bin", "width": 2, "height": 2},
                    {"type": "confusion_matrix", "id": "bin-split", "width": 3, "height": 3},
                ],
            }
        ],
    }
    return [digits, binary]


APP = create_app(_layouts())
CM = css("confusion_matrix", "graph", "cm")
SHOTS = Path(__file__).parent.parent / "shots"

_CELLS = """
const g = document.querySelector(arguments[0]).querySelector('.js-plotly-plot');
if (!g || !g._fullData) return null;
return {
    counts: g._fullData.map(t => Array.from(t.customdata).map(r => Array.from(r).map(c => c[2]))),
    titles: (g._fullLayout.annotations || []).map(a => a.text),
    outlined: (g._fullLayout.shapes || []).map(s => [s.y0 + 0.5, s.x0 + 0.5]),
};
"""


def drawn(dash_duo, graph: str) -> dict[str, Any]:
    """What the matrix at ``graph`` shows: each panel's counts, the titles and the outlined (row, column) cells."""
    return retry_stale(lambda: dash_duo.driver.execute_script(_CELLS, graph))


def click_cell(dash_duo, graph: str, row: int, col: int) -> None:
    """Click the cell at (row, col) of the first panel, as a person would."""

    def click() -> None:
        layer = dash_duo.find_element(graph).find_element("css selector", ".nsewdrag")
        # Plotly's own axis maps give the cell centre's pixel, measured from the plot area's top-left corner.
        x, y = dash_duo.driver.execute_script(
            PLOT + "return [Math.round(g._fullLayout.xaxis.d2p(arguments[1])), "
            "Math.round(g._fullLayout.yaxis.d2p(arguments[2]))];",
            graph,
            col,
            row,
        )
        ActionChains(dash_duo.driver).move_to_element_with_offset(layer, x, y).pause(0.2).click().perform()

    retry_stale(click)


def crosstab(frame: pd.DataFrame) -> list[list[int]]:
    """pandas' label-by-prediction counts over every class of the table, independently of the engine."""
    table = pd.crosstab(frame.label, frame.prediction).reindex(index=CLASSES, columns=CLASSES, fill_value=0)
    return table.to_numpy().tolist()


def start(dash_duo, layout: str = "digits", total: int = TOTAL) -> None:
    dash_duo.driver.set_window_size(1400, 1100)
    dash_duo.start_server(APP)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/{layout}")
    wait_count(dash_duo, total, total)
    dash_duo.wait_for_element(css("confusion_matrix", "graph", "cm" if layout == "digits" else "bin") + " .nsewdrag")


def screenshot(dash_duo, name: str) -> None:
    """Save the page for a person to look at, once the cell text has been fitted to the cells after the last plot."""
    settle(dash_duo)
    time.sleep(0.3)  # the fit is a restyle in the browser after the plot: no callback to wait for
    SHOTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(SHOTS / f"{name}.png"))


def gallery_captions(dash_duo) -> list[str]:
    script = "return [...document.querySelectorAll(arguments[0] + ' .caption')].map(e => e.textContent);"
    return dash_duo.driver.execute_script(script, css("gallery", "grid", "gallery"))


# -- in the browser -------------------------------------------------------------------------------------------------


def test_cm001_counts_and_accuracy_match_pandas(dash_duo) -> None:
    start(dash_duo)
    shown = drawn(dash_duo, CM)
    assert shown["counts"] == [crosstab(FRAME)]
    accuracy = (FRAME.label == FRAME.prediction).mean()
    assert shown["titles"] == [f"{TOTAL:,} instances · accuracy <b>{accuracy:.1%}</b>"]
    assert shown["outlined"] == []
    screenshot(dash_duo, "confusion_matrix")


def test_cm002_cell_clicks_filter_the_other_views_and_toggle(dash_duo) -> None:
    start(dash_duo)
    eight_as_one = FRAME[(FRAME.label == 8) & (FRAME.prediction == 1)]
    click_cell(dash_duo, CM, CLASSES.index(8), CLASSES.index(1))
    wait_count(dash_duo, len(eight_as_one), TOTAL)
    assert chip_texts(dash_duo) == ["(label, prediction) in [(8, 1)]"]
    assert central_filter(dash_duo) == [
        {"source": "cm", "op": "pairs", "column": None, "columns": ["label", "prediction"], "value": [[8, 1]]}
    ]
    assert filtered_bars(dash_duo, "label") == [len(eight_as_one) if d == 8 else 0 for d in CLASSES]
    assert gallery_captions(dash_duo) == ["8 → 1"] * len(eight_as_one)
    # Its own clause does not filter the matrix: every count stays, and the chosen cell is outlined.
    shown = drawn(dash_duo, CM)
    assert shown["counts"] == [crosstab(FRAME)]
    assert shown["outlined"] == [[CLASSES.index(8), CLASSES.index(1)]]
    screenshot(dash_duo, "confusion_matrix_clicked")
    # The other matrix is filtered: only that cell is left.
    assert drawn(dash_duo, css("confusion_matrix", "graph", "recall"))["counts"] == [crosstab(eight_as_one)]

    # A click on another cell adds it; a second click on a chosen cell removes it.
    errors = pd.crosstab(FRAME.label, FRAME.prediction).stack()
    errors = errors[[a != b and (a, b) != (8, 1) for a, b in errors.index]]
    a, b = errors.idxmax()
    both = FRAME[((FRAME.label == 8) & (FRAME.prediction == 1)) | ((FRAME.label == a) & (FRAME.prediction == b))]
    click_cell(dash_duo, CM, CLASSES.index(a), CLASSES.index(b))
    wait_count(dash_duo, len(both), TOTAL)
    assert chip_texts(dash_duo) == [f"(label, prediction) in [(8, 1), ({a}, {b})]"]
    click_cell(dash_duo, CM, CLASSES.index(8), CLASSES.index(1))
    wait_count(dash_duo, int(errors.max()), TOTAL)
    assert chip_texts(dash_duo) == [f"(label, prediction) in [({a}, {b})]"]
    click_cell(dash_duo, CM, CLASSES.index(a), CLASSES.index(b))
    wait_count(dash_duo, TOTAL, TOTAL)
    assert chip_texts(dash_duo) == []
    assert drawn(dash_duo, CM)["outlined"] == []


def test_cm003_group_by_draws_one_matrix_per_split(dash_duo) -> None:
    start(dash_duo)
    dash_duo.find_element(".symphony-groupby").click()  # Dash 4's dropdown: a button opening a list of options
    dash_duo.driver.find_element("xpath", "//*[contains(@class, 'dash-dropdown-content')]//*[text()='split']").click()
    until(lambda: len(drawn(dash_duo, CM)["titles"]) == 2, timeout=10)
    dash_duo.find_element("h1").click()  # close the dropdown
    settle(dash_duo)
    shown = drawn(dash_duo, CM)
    splits = sorted(FRAME.split.unique())
    assert shown["counts"] == [crosstab(FRAME[FRAME.split == s]) for s in splits]
    for split, title in zip(splits, shown["titles"], strict=True):
        part = FRAME[FRAME.split == split]
        accuracy = (part.label == part.prediction).mean()
        assert title == f"<b>{split}</b> {len(part):,} · acc <b>{accuracy:.1%}</b>"
    screenshot(dash_duo, "confusion_matrix_split")


def test_cm004_two_classes_show_tp_fp_tn_fn_and_metrics(dash_duo) -> None:
    start(dash_duo, "binary", len(BINARY))
    graph = css("confusion_matrix", "graph", "bin")
    dash_duo.wait_for_contains_text(graph + " .annotation", "F1")
    script = "return [...document.querySelectorAll(arguments[0] + ' .heatmaplayer text')].map(e => e.textContent);"
    texts = dash_duo.driver.execute_script(script, graph)
    (tn, fp), (fn, tp) = pd.crosstab(BINARY.label, BINARY.prediction).to_numpy().tolist()
    assert texts == [f"TN{tn}", f"FP{fp}", f"FN{fn}", f"TP{tp}"]  # one line each for the tag and the count
    screenshot(dash_duo, "confusion_matrix_binary")
    dash_duo.find_element(".symphony-groupby").click()
    dash_duo.driver.find_element("xpath", "//*[contains(@class, 'dash-dropdown-content')]//*[text()='split']").click()
    until(lambda: len(drawn(dash_duo, css("confusion_matrix", "graph", "bin-split"))["titles"]) == 2, timeout=10)
    dash_duo.find_element("h1").click()
    settle(dash_duo)
    screenshot(dash_duo, "confusion_matrix_binary_split")


# -- the pairs clause -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"op": "pairs", "column": "label", "value": [[1, 2]]},
            "a 'pairs' clause names two columns in 'columns' and no 'column'",
        ),
        (
            {"op": "pairs", "columns": ["label", "prediction"], "column": "label", "value": [[1, 2]]},
            "a 'pairs' clause names two columns in 'columns' and no 'column'",
        ),
        (
            {"op": "pairs", "columns": ["label", "prediction"], "value": {"8": 1}},
            f"a 'pairs' value must be a list of at most {MAX_VALUES} [a, b] pairs",
        ),
        (
            {"op": "pairs", "columns": ["label", "prediction"], "value": [[1, 2]] * (MAX_VALUES + 1)},
            f"a 'pairs' value must be a list of at most {MAX_VALUES} [a, b] pairs",
        ),
        (
            {"op": "pairs", "columns": ["label", "prediction"], "value": [[1, 2, 3]]},
            "every pair must be [a, b] with two strings, numbers or booleans",
        ),
        (
            {"op": "pairs", "columns": ["label", "prediction"], "value": [[1, None]]},
            "every pair must be [a, b] with two strings, numbers or booleans",
        ),
        (
            {"op": "pairs", "columns": ["label", "prediction"], "value": [[{"$gt": 0}, 1]]},
            "every pair must be [a, b] with two strings, numbers or booleans",
        ),
        (
            {"op": "in", "columns": ["label", "prediction"], "value": [1]},
            "'columns' is only for polygon and pairs clauses, not 'in'",
        ),
    ],
)
def test_cm010_pairs_shape_rules(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Clause(**fields)
    assert [e["msg"].removeprefix("Value error, ") for e in caught.value.errors()] == [message]


def test_cm011_pairs_text_and_json() -> None:
    clause = pairs(("label", "prediction"), [(8, 1), ("a", 2.5)], source="cm")
    assert describe(clause) == "(label, prediction) in [(8, 1), ('a', 2.5)]"
    many = pairs(("label", "prediction"), [(i, i + 1) for i in range(6)])
    assert describe(many) == "(label, prediction) in [(0, 1), (1, 2), (2, 3), (3, 4), ... (6 pairs)]"
    assert Clause.model_validate_json(clause.model_dump_json()) == clause


def test_cm012_pairs_filter_rows_like_pandas() -> None:
    frame = BINARY.assign(number=TOY.label)
    engine = Engine(Dataset(frame))

    def inside(columns: list[str], cells: list[tuple[Any, Any]]) -> np.ndarray:
        return pd.MultiIndex.from_frame(frame[columns]).isin(cells)

    cells = [("dog", "cat"), ("cat", "dog")]
    expected = frame[inside(["label", "prediction"], cells)]
    assert engine.where([pairs(("label", "prediction"), cells)]).ids() == expected.id.tolist()
    # Columns of two types, and combined with another clause.
    cells = [(1, "cat"), (3, "dog"), (3, "cat")]
    expected = frame[inside(["number", "prediction"], cells) & (frame.split == "test")]
    chosen = engine.where([pairs(("number", "prediction"), cells), isin("split", ["test"])])
    assert chosen.ids() == expected.id.tolist()
    # An unknown class selects nothing; no pairs select nothing.
    assert engine.where([pairs(("label", "prediction"), [("bird", "cat")])]).count() == 0
    assert engine.where([pairs(("label", "prediction"), [])]).count() == 0


@pytest.mark.parametrize(
    ("columns", "values", "message"),
    [
        (("label", "nope"), [("cat", "dog")], "unknown column 'nope'"),
        (("number", "label"), [("one", "cat")], "column 'number' holds Int64; the value 'one' is not a number"),
        (("x", "label"), [(1.5, 2)], "column 'label' holds"),
    ],
)
def test_cm013_pairs_are_checked_against_the_schema(columns: tuple[str, str], values: list, message: str) -> None:
    engine = Engine(Dataset(BINARY.assign(number=TOY.label)))
    with pytest.raises(ClauseError, match=message):
        engine.where([pairs(columns, values)])


# -- rendering and events -------------------------------------------------------------------------------------------


def render(frame: pd.DataFrame, state: State | None = None, **props: Any) -> tuple[ConfusionMatrix, View, dict]:
    dataset = Dataset(frame)
    matrix = ConfusionMatrix("cm", ConfusionMatrixProps(**props), dataset)
    view = View("cm", dataset, Engine(dataset), state or State())
    return matrix, view, matrix.render(view)


def cells(trace: dict[str, Any], field: int) -> np.ndarray:
    """One field of every cell's [true, predicted, count, share] as a matrix."""
    return np.array([[cell[field] for cell in row] for row in trace["customdata"]])


@pytest.mark.parametrize("normalize", ["row", "column"])
def test_cm020_normalised_shares_sum_to_one(normalize: str) -> None:
    _, _, figure = render(FRAME, normalize=normalize)
    share = cells(figure["data"][0], 3).astype(float)
    counts = cells(figure["data"][0], 2).astype(int)
    assert counts.tolist() == crosstab(FRAME)
    axis = 1 if normalize == "row" else 0
    np.testing.assert_allclose(share.sum(axis=axis), 1.0)
    np.testing.assert_allclose(share, counts / counts.sum(axis=axis, keepdims=True))
    # The diagonal of the row shares is each class's recall; the cells read as percentages.
    assert figure["data"][0]["text"][0][0] == f"{share[0, 0]:.0%}<br>{counts[0, 0]:,}"


def test_cm021_two_classes_have_their_tags_and_metrics() -> None:
    _, _, figure = render(BINARY)
    trace = figure["data"][0]
    counts = pd.crosstab(BINARY.label, BINARY.prediction)
    assert [[t.split("<br>")[0] for t in row] for row in trace["text"]] == [
        ["<b>TN</b>", "<b>FP</b>"],
        ["<b>FN</b>", "<b>TP</b>"],
    ]
    assert cells(trace, 2).astype(int).tolist() == counts.to_numpy().tolist()
    truth, guess = BINARY.label, BINARY.prediction
    metrics = {
        "accuracy": (truth == guess).mean(),
        "precision": precision_score(truth, guess, pos_label="dog"),
        "recall": recall_score(truth, guess, pos_label="dog"),
        "F1": f1_score(truth, guess, pos_label="dog"),
    }
    title = figure["layout"]["annotations"][0]["text"]
    assert title == (
        f"{len(BINARY):,} instances · accuracy <b>{metrics['accuracy']:.1%}</b><br>precision "
        f"{metrics['precision']:.1%} · recall {metrics['recall']:.1%} · F1 {metrics['F1']:.1%}"
    )


def test_cm022_rare_classes_and_missing_values_count_as_other() -> None:
    frame = TOY.assign(label=TOY.label.astype("Int64"))
    frame.loc[:9, "label"] = pd.NA
    frame.loc[10:14, "prediction"] = 9  # a class only ever predicted, and rare
    _, _, figure = render(frame, max_classes=3)
    trace = figure["data"][0]
    counts = cells(trace, 2).astype(int)
    top = (pd.concat([frame.label, frame.prediction]).value_counts()).index[:3].tolist()
    assert figure["layout"]["xaxis"]["ticktext"] == [*map(str, sorted(top)), "other"]
    assert counts.sum() == len(frame)
    shown = frame[frame.label.isin(top) & frame.prediction.isin(top)]
    expected = pd.crosstab(shown.label, shown.prediction).reindex(index=sorted(top), columns=sorted(top), fill_value=0)
    assert counts[:3, :3].tolist() == expected.to_numpy().tolist()
    # Accuracy is exact: a correct prediction of a class counted as 'other' is still correct.
    accuracy = (frame.label == frame.prediction).fillna(False).mean()
    assert f"accuracy <b>{accuracy:.1%}</b>" in figure["layout"]["annotations"][0]["text"]


def test_cm023_group_by_renders_one_panel_per_value() -> None:
    _, _, figure = render(FRAME, State(group_by=["split"]))
    splits = sorted(FRAME.split.unique())
    assert [cells(t, 2).astype(int).tolist() for t in figure["data"]] == [
        crosstab(FRAME[FRAME.split == s]) for s in splits
    ]
    assert [t["xaxis"] for t in figure["data"]] == ["x", "x2"]
    assert figure["layout"]["xaxis2"]["anchor"] == "y2"


def test_cm025_counting_values_leaves_the_engine_levels_alone() -> None:
    # A histogram's value counts once grew the engine's cached levels by one missing value per call, which broke
    # every later label-by-prediction count.
    matrix, view, first = render(FRAME)
    for _ in range(3):
        view.data.value_counts("label")
    assert matrix.render(view)["data"][0]["customdata"] == first["data"][0]["customdata"]


def test_cm024_clicks_toggle_cells_and_bad_events_are_refused() -> None:
    matrix, view, _ = render(FRAME)

    def click(row: Any, col: Any, own: Clause | None = None) -> Any:
        state = State(filter=[own] if own is not None else [])
        return matrix.on_event(
            "click", {"points": [{"x": col, "y": row}]}, View("cm", view.dataset, view.engine, state)
        )

    first = click(8, 1)
    assert (first.source, first.op, first.columns, first.value) == ("cm", "pairs", ("label", "prediction"), [[8, 1]])
    second = click(3, 5, first)
    assert second.value == [[8, 1], [3, 5]]
    assert click(8, 1, second).value == [[3, 5]]
    assert click(8, 1, first) is None
    assert matrix.on_event("click", None, view) is dash.no_update
    for row, col in [(10, 1), (-1, 1), ("8", 1), (True, 1), (1.5, 1), (None, 1)]:
        with pytest.raises(ValueError):
            click(row, col)
    # 'other' stands for several classes: a click there changes nothing.
    small, small_view, _ = render(FRAME, max_classes=3)
    event = {"points": [{"x": 3, "y": 0}]}
    assert small.on_event("click", event, small_view) is dash.no_update
