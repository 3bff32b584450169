"""Analyses run from the app: the job runner (progress, refusal, failure, the disk cache, the swap) and, in a browser,
the toolbar's Analyses control adding a column that the table then shows."""

from __future__ import annotations

import importlib
import threading
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dash.testing.wait import until

from symphony_dash import create_app
from symphony_dash.analyses import familiarity, label_disagreement
from symphony_dash.dataset import Dataset, DatasetError
from symphony_dash.jobs import ANALYSES, Analysis, JobError, JobRunner, available
from symphony_dash.layout import LoadedLayout, load_layout
from tests.helpers import css, retry_stale, settle, toy_frame, wait_count

N = 200


def embedded_frame(n: int = N) -> pd.DataFrame:
    """The toy table with an 8-dimensional embedding per row and none of the analysis columns."""
    frame = toy_frame(n)
    frame["embedding"] = list(np.random.default_rng(1).normal(size=(n, 8)).astype(np.float32))
    return frame


def vectors(frame: pd.DataFrame) -> np.ndarray:
    return np.stack(frame["embedding"].to_list())


LAYOUT = {
    "title": "Jobs",
    "data": {"source": "unused.parquet"},
    "pages": [{"title": "Rows", "components": [{"type": "table", "id": "rows", "width": 6, "height": 3}]}],
}


def loaded(frame: pd.DataFrame | None = None) -> LoadedLayout:
    return load_layout(layout=LAYOUT, data=Dataset(embedded_frame() if frame is None else frame))


def quick(title: str, compute: Any) -> Analysis:
    return Analysis(title, "", (), lambda ds: (title.lower(),), compute)


def test_job001_progress_is_reported_and_a_second_run_refused() -> None:
    lay = loaded()
    gate = threading.Event()

    def blocked(dataset: Dataset) -> dict[str, Any]:
        assert gate.wait(10)
        return {"first": dataset.frame["x"] * 2}

    runner = JobRunner(
        {"jobs": lay},
        {"first": quick("First", blocked), "second": quick("Second", lambda ds: {"second": ds.frame["y"] + 1})},
    )
    done = runner.start("jobs", ["second", "first"])  # run in panel order, whatever the order asked
    job = runner.job("jobs")
    assert job is not None and job.state == "running" and job.progress == "First (1 of 2)"
    with pytest.raises(JobError, match=r"already running on 'jobs' \(First \(1 of 2\)\); run these when they finish"):
        runner.start("jobs", ["second"])
    assert runner.layouts["jobs"] is lay  # nothing swapped while the job runs
    gate.set()
    finished = done.result(timeout=10)
    assert finished.state == "done" and finished.added == ("first", "second") and finished.step == 1
    new = runner.layouts["jobs"]
    frame = embedded_frame()
    assert new.dataset.frame["first"].to_list() == (frame["x"] * 2).to_list()
    assert new.dataset.frame["second"].to_list() == (frame["y"] + 1).to_list()
    assert new.engine.dataset is new.dataset and new.instances["rows"][0].dataset is new.dataset
    assert "first" not in lay.dataset.columns  # the old layout, which a request in flight may hold, is as it was
    assert runner.running() is None


def test_job002_a_failure_leaves_the_data_unchanged() -> None:
    lay = loaded()

    def broken(dataset: Dataset) -> dict[str, Any]:
        raise DatasetError("k=15 neighbours need more than 15 rows; the data has 3")

    def crashing(dataset: Dataset) -> dict[str, Any]:
        raise RuntimeError("out of luck")

    runner = JobRunner(
        {"jobs": lay},
        {
            "ok": quick("Ok", lambda ds: {"ok": ds.frame["x"]}),
            "bad": quick("Bad", broken),
            "boom": quick("Boom", crashing),
        },
    )
    job = runner.start("jobs", ["ok", "bad"]).result(timeout=10)
    assert job.state == "failed" and job.message == "k=15 neighbours need more than 15 rows; the data has 3"
    assert runner.layouts["jobs"] is lay and "ok" not in lay.dataset.columns
    job = runner.start("jobs", ["boom"]).result(timeout=10)
    assert job.state == "failed" and job.message == "RuntimeError: out of luck"
    assert runner.layouts["jobs"] is lay
    with pytest.raises(JobError, match=r"Pick at least one analysis to run\."):
        runner.start("jobs", ["nonsense", 3, {"a": 1}])
    with pytest.raises(JobError, match=r"There is no layout 'other' to analyse\."):
        runner.start("other", ["ok"])


def test_job003_a_second_run_reads_the_disk_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("SYMPHONY_DASH_CACHE", str(tmp_path))
    frame = embedded_frame()
    expected = familiarity(vectors(frame), cache=False).to_numpy()
    runner = JobRunner({"jobs": loaded(frame)})
    assert runner.start("jobs", ["familiarity"]).result(timeout=60).state == "done"
    np.testing.assert_allclose(runner.layouts["jobs"].dataset.frame["familiarity"].to_numpy(), expected)

    def no_search(*args: Any) -> Any:
        raise AssertionError("the neighbours were searched again")

    # The package exports the function under the module's name, so the module is taken from the import system.
    monkeypatch.setattr(importlib.import_module("symphony_dash.analyses.familiarity"), "nearest", no_search)
    again = runner.start("jobs", ["familiarity"]).result(timeout=10)  # recomputes over the enriched layout
    assert again.state == "done", again.message
    np.testing.assert_allclose(runner.layouts["jobs"].dataset.frame["familiarity"].to_numpy(), expected)


def test_job004_the_analyses_that_apply_and_the_kinds_of_their_columns() -> None:
    frame = embedded_frame()
    assert available(Dataset(frame.drop(columns="embedding"))) == ["duplicates"]
    assert available(Dataset(frame.drop(columns="label"))) == [
        "duplicates",
        "near_duplicates",
        "familiarity",
        "projection",
    ]
    assert available(Dataset(frame)) == list(ANALYSES)

    # Two layouts over one dataset both get the columns; neighbour_label is a category, so Group by offers it.
    lay = loaded(frame)
    twin = replace(lay, slug="twin")
    runner = JobRunner({"jobs": lay, "twin": twin})
    assert runner.start("jobs", ["label_disagreement", "duplicates"]).result(timeout=60).state == "done"
    new = runner.layouts["jobs"].dataset
    assert runner.layouts["twin"].dataset is new
    expected = label_disagreement(vectors(frame), frame["label"], cache=False)
    np.testing.assert_allclose(new.frame["label_disagreement"].to_numpy(), expected["label_disagreement"])
    assert new.frame["neighbour_label"].to_list() == expected["neighbour_label"].astype("int64").to_list()
    assert new.columns["neighbour_label"].kind == "categorical"
    assert new.frame["duplicate_group"].to_list() == [-1] * N  # every toy row has its own text
    assert new.columns["label"].kind == "categorical" and new.roles == lay.dataset.roles


# -- in a browser ---------------------------------------------------------------------------------------------------

APP = create_app([LAYOUT], data=Dataset(embedded_frame()))
GRID = css("table", "grid", "rows")


def cell(dash_duo: Any, row: int, column: str) -> str:
    return dash_duo.find_element(f"{GRID} .ag-row[row-index='{row}'] .ag-cell[col-id='{column}']").text


def test_job005_run_familiarity_from_the_toolbar(dash_duo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Held at its start until the test has seen the progress bar: a 200-row job is otherwise done before a poll.
    gate = threading.Event()
    real = ANALYSES["familiarity"]
    gated = replace(real, compute=lambda ds: real.compute(ds) if gate.wait(20) else {})
    monkeypatch.setitem(ANALYSES, "familiarity", gated)

    dash_duo.driver.set_window_size(1400, 900)
    dash_duo.start_server(APP)
    wait_count(dash_duo, N, N)
    dash_duo.wait_for_element(f"{GRID} .ag-row[row-index='0'] .ag-cell[col-id='id']")
    assert not dash_duo.driver.find_elements("css selector", f"{GRID} .ag-header-cell[col-id='familiarity']")

    dash_duo.find_element("#symphony-jobs-details summary").click()
    options = dash_duo.find_elements(".symphony-jobs-choices .symphony-jobs-title")
    assert [o.text for o in options] == [a.title for a in ANALYSES.values()]
    dash_duo.driver.save_screenshot("/work/main/shots/jobs-panel.png")
    next(o for o in options if o.text == "Familiarity").click()
    dash_duo.find_element("#symphony-jobs-run").click()

    dash_duo.wait_for_text_to_equal(".symphony-jobs-step", "Familiarity (1 of 1)")
    assert dash_duo.find_element("#symphony-jobs-run").get_attribute("disabled") == "true"
    dash_duo.driver.save_screenshot("/work/main/shots/jobs-running.png")
    gate.set()

    # The page is built again when the job ends, so the status is read afresh on every try.
    ended = ".symphony-jobs-done, .symphony-jobs-failed"
    until(lambda: dash_duo.driver.find_elements("css selector", ended), timeout=30)
    status = retry_stale(lambda: dash_duo.find_element(ended).text)
    assert status.startswith("Added familiarity"), status
    dash_duo.wait_for_element(f"{GRID} .ag-row[row-index='4'] .ag-cell[col-id='familiarity']", timeout=10)
    settle(dash_duo)
    expected = familiarity(vectors(embedded_frame()), cache=False).to_numpy()
    shown = [float(cell(dash_duo, row, "familiarity")) for row in range(5)]
    ids = [int(cell(dash_duo, row, "id")) for row in range(5)]
    np.testing.assert_allclose(shown, expected[ids], rtol=1e-3)
    wait_count(dash_duo, N, N)
    dash_duo.find_element("#symphony-jobs-details summary").click()
    until(lambda: "has familiarity" in dash_duo.find_element(".symphony-jobs-choices").text, timeout=5)
    dash_duo.driver.save_screenshot("/work/main/shots/jobs-done.png")


def test_job006_a_failed_job_says_why_and_changes_nothing(dash_duo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(dataset: Dataset) -> dict[str, Any]:
        raise DatasetError("exact_duplicates: no columns to compare; name them with columns=[...]")

    monkeypatch.setitem(ANALYSES, "duplicates", replace(ANALYSES["duplicates"], compute=broken))
    dash_duo.driver.set_window_size(1400, 900)
    dash_duo.start_server(APP)
    wait_count(dash_duo, N, N)
    dash_duo.find_element("#symphony-jobs-details summary").click()
    title = ".symphony-jobs-choices .dash-options-list-option:first-child .symphony-jobs-title"
    dash_duo.wait_for_text_to_equal(title, "Exact duplicates")
    dash_duo.find_element(title).click()
    dash_duo.find_element("#symphony-jobs-run").click()
    dash_duo.wait_for_text_to_equal(
        ".symphony-jobs-failed",
        "Analyses failed: exact_duplicates: no columns to compare; name them with columns=[...]. "
        "The data is unchanged.",
    )
    assert dash_duo.find_element("#symphony-jobs-run").get_attribute("disabled") is None
    assert "duplicate_group" not in APP.symphony_layouts["jobs"].dataset.columns
    assert "adds duplicate_group" in dash_duo.find_element(".symphony-jobs-choices").text
    dash_duo.driver.save_screenshot("/work/main/shots/jobs-failed.png")
