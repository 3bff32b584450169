"""Tests of the breast-cancer demo table (its columns, its honesty as model output, its synthetic site column, its
cache) and, in headless Chromium, of its layout: a click on a confusion-matrix cell lists those rows in the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from dash.testing.wait import until
from helpers import PLOT, chip_texts, css, retry_stale, settle, wait_count
from scipy.stats import chi2_contingency
from selenium.webdriver.common.action_chains import ActionChains
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import symphony_dash
from symphony_dash import create_app, demo
from symphony_dash.layout import LayoutError, load_layout

SOURCE = load_breast_cancer()
FEATURES = [str(name) for name in SOURCE.feature_names]
COLUMNS = ["id", "label", "prediction", "score", "correct", "split", "site", *FEATURES, "embedding", "x", "y"]
LAYOUT = Path(symphony_dash.__file__).parent / "layouts" / "breast_cancer.json"
SHOTS = Path(__file__).resolve().parents[1] / "shots"
FRAME = demo.prepare_breast_cancer()
TOTAL = len(FRAME)
APP = create_app([LAYOUT])


# -- the table ------------------------------------------------------------------------------------------------------


def test_bc001_columns_dtypes_and_the_original_data() -> None:
    assert list(FRAME.columns) == COLUMNS
    assert TOTAL == len(SOURCE.target) == 569
    assert FRAME["id"].tolist() == list(range(TOTAL))
    for name in ("label", "prediction", "split", "site"):
        assert pd.api.types.is_string_dtype(FRAME[name]), name
    assert str(FRAME["correct"].dtype) == "bool"
    # The features are scikit-learn's own, under its readable names, and the labels its target names.
    np.testing.assert_array_equal(FRAME[FEATURES].to_numpy(), SOURCE.data)
    assert FRAME["label"].tolist() == [str(SOURCE.target_names[t]) for t in SOURCE.target]


def test_bc002_predictions_look_like_real_out_of_fold_model_output() -> None:
    assert set(FRAME.prediction) <= {"malignant", "benign"}
    assert (FRAME.correct == (FRAME.label == FRAME.prediction)).all()
    assert FRAME.score.between(0, 1).all()
    assert (FRAME.prediction == np.where(FRAME.score >= 0.5, "malignant", "benign")).all()
    assert (
        FRAME.loc[FRAME.label == "malignant", "score"].mean()
        > 0.8
        > 0.2
        > FRAME.loc[FRAME.label == "benign", "score"].mean()
    )
    errors = int((~FRAME.correct).sum())
    assert 3 <= errors <= 40
    # A model scored on the rows it was fitted on errs less: these predictions come from models that did not see them.
    fitted = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(SOURCE.data, SOURCE.target)
    assert errors > int((fitted.predict(SOURCE.data) != SOURCE.target).sum())


def test_bc003_site_is_synthetic_iso3_and_unrelated_to_the_data() -> None:
    assert set(FRAME.site) == set(demo.SITES)
    assert all(len(code) == 3 and code.isupper() for code in demo.SITES)
    assert FRAME.site.value_counts().min() >= 30  # every site is large enough to be compared
    for column in ("label", "correct", "split"):
        assert chi2_contingency(pd.crosstab(FRAME.site, FRAME[column])).pvalue > 0.01, column


def test_bc004_split_embedding_and_projection() -> None:
    test = FRAME[FRAME.split == "test"]
    assert len(test) / TOTAL == pytest.approx(0.2, abs=0.01)
    assert (test.label == "malignant").mean() == pytest.approx((FRAME.label == "malignant").mean(), abs=0.01)
    embedding = np.stack(FRAME.embedding.to_list())
    assert embedding.dtype == np.float32 and embedding.shape == (TOTAL, 30)
    np.testing.assert_allclose(embedding, StandardScaler().fit_transform(SOURCE.data), rtol=1e-5, atol=1e-5)
    assert np.isfinite(FRAME[["x", "y"]].to_numpy()).all()


def test_bc005_the_cache_is_written_once_and_read_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The preparation itself is the table above; here only the caching around it is tested, without refitting.
    computed = pa.Table.from_pandas(FRAME, preserve_index=False)
    calls: list[int] = []

    def compute() -> pa.Table:
        calls.append(1)
        return computed

    monkeypatch.setattr(demo, "_compute_breast_cancer", compute)
    first = demo.prepare_breast_cancer(tmp_path)
    assert (tmp_path / "breast_cancer" / demo.BREAST_CANCER_FILE).is_file()
    assert not list(tmp_path.rglob("*.tmp"))
    pd.testing.assert_frame_equal(first, FRAME)
    pd.testing.assert_frame_equal(demo.prepare_breast_cancer(tmp_path), first)
    assert len(calls) == 1


def test_bc006_layouts_name_the_demo_and_its_columns_fit() -> None:
    loaded = load_layout(LAYOUT)
    assert len(loaded.dataset) == TOTAL
    assert {role: loaded.dataset.role(role) for role in ("label", "prediction", "score")} == {
        "label": "label",
        "prediction": "prediction",
        "score": "score",
    }
    assert loaded.dataset.columns["site"].kind == "categorical"
    assert "SYNTHETIC" in loaded.layout.description
    with pytest.raises(LayoutError, match="the demos are: demo:digits, demo:breast_cancer"):
        load_layout(layout={"title": "t", "data": {"source": "demo:iris"}, "pages": [{"title": "p"}]})
    with pytest.raises(ValueError, match="'iris' is not a built-in demo"):
        demo.load_demo("iris")
    assert not isinstance(demo.load_demo("breast_cancer")[1], Path)


# -- in the browser -------------------------------------------------------------------------------------------------

CM = css("confusion_matrix", "graph", "confusion")

# The (row, column) of the confusion-matrix cell whose true and predicted classes are the two arguments.
_CELL = (
    PLOT
    + """
const cells = Array.from(g._fullData[0].customdata).map(r => Array.from(r));
for (let i = 0; i < cells.length; i++)
    for (let j = 0; j < cells[i].length; j++)
        if (cells[i][j][0] === arguments[1] && cells[i][j][1] === arguments[2]) return [i, j];
return null;
"""
)


def click_cell(dash_duo: Any, label: str, prediction: str) -> None:
    """Click the cell of the matrix for (label, prediction), as a person would."""

    def click() -> None:
        row, col = dash_duo.driver.execute_script(_CELL, CM, label, prediction)
        layer = dash_duo.find_element(CM).find_element("css selector", ".nsewdrag")
        x, y = dash_duo.driver.execute_script(
            PLOT + "return [Math.round(g._fullLayout.xaxis.d2p(arguments[1])), "
            "Math.round(g._fullLayout.yaxis.d2p(arguments[2]))];",
            CM,
            col,
            row,
        )
        ActionChains(dash_duo.driver).move_to_element_with_offset(layer, x, y).pause(0.2).click().perform()

    retry_stale(click)


def grid_ids(dash_duo: Any) -> list[int]:
    """The ids in the rows the table's grid shows, sorted."""
    script = (
        "return [...document.querySelectorAll(arguments[0] + ' .ag-row .ag-cell[col-id=\"id\"]')]"
        ".map(e => Number(e.textContent));"
    )
    return sorted(retry_stale(lambda: dash_duo.driver.execute_script(script, css("table", "grid", "errors"))))


def screenshot(dash_duo: Any, name: str) -> None:
    settle(dash_duo)
    SHOTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_bc010_a_confusion_cell_lists_its_rows_in_the_table(dash_duo) -> None:
    dash_duo.driver.set_window_size(1400, 1100)
    dash_duo.start_server(APP)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/breast-cancer/model")
    wait_count(dash_duo, TOTAL, TOTAL)
    dash_duo.wait_for_element(CM + " .nsewdrag")
    status = css("table", "status", "errors")
    dash_duo.wait_for_text_to_equal(status, f"{TOTAL:,} rows")
    screenshot(dash_duo, "breast_cancer_model")
    click_cell(dash_duo, "malignant", "benign")
    missed = int(((FRAME.label == "malignant") & (FRAME.prediction == "benign")).sum())
    wait_count(dash_duo, missed, TOTAL)
    dash_duo.wait_for_text_to_equal(status, f"{missed:,} rows")
    assert chip_texts(dash_duo) == ["(label, prediction) in [('malignant', 'benign')]"]
    # The rows the grid shows are exactly those, by id.
    expected = FRAME[(FRAME.label == "malignant") & (FRAME.prediction == "benign")].id.tolist()
    until(lambda: grid_ids(dash_duo) == expected, timeout=10)
    screenshot(dash_duo, "breast_cancer_model_missed")
    dash_duo.find_element("a.symphony-tab:not(.active)").click()
    dash_duo.wait_for_element(css("data_map", "graph", "sites") + " path.choroplethlocation", timeout=15)
    wait_count(dash_duo, missed, TOTAL)
    screenshot(dash_duo, "breast_cancer_overview")
