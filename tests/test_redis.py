"""Several app processes sharing one Redis (``--redis URL``): a ``?k=`` link made by one opens on another with no
shared cache folder; Redis gone at start or mid-run is a warning and a local fallback, never a failed request; and an
analysis queued from the toolbar runs on a Celery worker (``symphony-dash worker``) and shows in every app.

Each test module starts its own ``redis-server`` on a free loopback port, with no persistence."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dash.testing.wait import until

from symphony_dash import create_app, shared_cache
from symphony_dash.analyses import familiarity
from symphony_dash.celery_jobs import fingerprint, run_job
from symphony_dash.component import STATE_ID
from symphony_dash.dataset import Dataset
from symphony_dash.jobs import Analysis, JobError
from symphony_dash.layout import load_layout
from symphony_dash.shared_cache import SharedCache
from symphony_dash.state import State, polygon
from symphony_dash.url_state import encode
from tests.helpers import css, retry_stale, settle, toy_frame, wait_count

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None, reason="needs Debian's redis-server (scripts/test installs it: apt-get install redis-server)"
)

N = 300
RAW = {
    "title": "Toy",
    "data": {"source": "toy.parquet", "id_column": "id", "kinds": {"label": "categorical"}},
    "pages": [{"title": "Rows", "components": [{"type": "table", "id": "rows", "width": 6, "height": 3}]}],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on loopback, with no persistence; ``stop`` and ``start`` it at will."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        command = [REDIS_SERVER or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        until(lambda: self._answers(client), timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url)

    @staticmethod
    def _answers(client: Any) -> bool:
        try:
            return bool(client.ping())
        except OSError:
            return False
        except Exception:  # redis.ConnectionError while it starts
            return False


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


def embedded_frame() -> pd.DataFrame:
    frame = toy_frame(N)
    frame["embedding"] = list(np.random.default_rng(1).normal(size=(N, 8)).astype(np.float32))
    return frame


@pytest.fixture(scope="module")
def layout_file() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="symphony-redis-"))
    embedded_frame().to_parquet(folder / "toy.parquet")
    path = folder / "toy.json"
    path.write_text(json.dumps(RAW), encoding="utf-8")
    yield path
    shutil.rmtree(folder, ignore_errors=True)


def app_with_own_cache(layout: Path, url: str, *, from_environment: bool = False) -> Any:
    """An app as one worker process builds it: the same layout, Redis (given, or in $SYMPHONY_DASH_REDIS), and a
    cache folder of its own."""
    folder = tempfile.mkdtemp(prefix="symphony-redis-cache-")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYMPHONY_DASH_CACHE", folder)
        if from_environment:
            patch.setenv(shared_cache.ENV, url)
        app = create_app([layout], redis_url=None if from_environment else url)
    app.cache_folder = Path(folder)
    return app


def post(app: Any, output: str, inputs: list[dict[str, Any]], state: list[dict[str, Any]] | None = None) -> Any:
    """One callback request as the browser makes it; returns the response's outputs."""
    ids_ = [dict(zip(("id", "property"), o.rsplit(".", 1), strict=True)) for o in output.strip(".").split("...")]
    body = {
        "output": output,
        "outputs": ids_ if len(ids_) > 1 else ids_[0],
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }
    answer = app.server.test_client().post("/_dash-update-component", json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["response"]


def link_of(app: Any, state: State) -> str:
    """The address the app writes into the browser's URL bar for ``state`` (the mirror callback)."""
    inputs = [
        {"id": STATE_ID, "property": "data", "value": state.model_dump(mode="json")},
        {"id": "symphony-url", "property": "pathname", "value": "/toy"},
    ]
    return post(app, "symphony-url-token.data", inputs)["symphony-url-token"]["data"]["search"]


def opened(app: Any, search: str) -> Any:
    """The state the router starts a page with when the browser opens ``/toy<search>``."""
    inputs = [
        {"id": "symphony-url", "property": "pathname", "value": "/toy"},
        {"id": "symphony-editor-drafts", "property": "data", "value": {}},
    ]
    state = [
        {"id": STATE_ID, "property": "data", "value": {}},
        {"id": "symphony-url", "property": "search", "value": search},
    ]
    return post(app, "..symphony-page.children...symphony-init.data..", inputs, state)


def long_state(seed: int) -> State:
    """A state too long for a URL: a lasso of 300 points drawn by an unsteady hand."""
    angles = np.sort(np.random.default_rng(seed).uniform(0, 2 * np.pi, 300))
    points = [(float(np.cos(a) * 20), float(np.sin(a) * 20)) for a in angles]
    state = State(layout="toy", filter=[polygon("x", "y", points, source="map")])
    assert len(encode(state)) > 2_000
    return state


def test_red001_a_long_link_made_by_one_app_opens_in_another(redis_server: RedisServer, layout_file: Path) -> None:
    first = app_with_own_cache(layout_file, redis_server.url)
    second = app_with_own_cache(layout_file, redis_server.url, from_environment=True)
    state = long_state(1)
    search = link_of(first, state)
    assert search.startswith("?k=")
    key = search.removeprefix("?k=")
    # Not through a shared folder: the second app's has no such file.
    assert (first.cache_folder / "url-states" / f"{key}.txt").is_file()
    assert not (second.cache_folder / "url-states").exists()
    assert redis_server.client().exists(f"symphony:url-state:{key}")
    restored = opened(second, search)["symphony-init"]["data"]
    assert restored["filter"] == state.model_dump(mode="json")["filter"] and restored["replace"] is True


def test_red002_redis_gone_mid_run_is_a_warning_and_the_local_store(
    layout_file: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = RedisServer()  # its own: this test stops it
    try:
        app = app_with_own_cache(layout_file, server.url)
        before = link_of(app, long_state(2))
        server.stop()
        with caplog.at_level(logging.WARNING, logger="symphony_dash"):
            during = link_of(app, long_state(3))  # Redis refuses: the state goes to memory and the folder only
            assert opened(app, during)["symphony-init"]["data"]["filter"][0]["op"] == "polygon"
            assert opened(app, before)["symphony-init"]["data"]["filter"][0]["op"] == "polygon"
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1, warnings  # once per outage, however many calls skip Redis
        assert warnings[0].startswith(f"Redis at {server.url} is unreachable (")
        assert f"using this process's own caches (memory and {app.cache_folder})" in warnings[0]
        assert (app.cache_folder / "url-states" / f"{during.removeprefix('?k=')}.txt").is_file()
        # The Analyses menu says why it cannot queue a job now; polling a job finds none, without an error.
        with pytest.raises(JobError, match=r"The job queue \(Redis at .*\) cannot be reached; try again when it is"):
            app.symphony_runner.start("toy", ["familiarity"])
        assert app.symphony_runner.job("toy") is None

        # Back again: after the retry time the next call uses it, and says so.
        monkeypatch.setattr(shared_cache, "RETRY_SECONDS", 0.2)
        server.start()
        time.sleep(0.3)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="symphony_dash"):
            after = link_of(app, long_state(4))
        assert server.client().exists(f"symphony:url-state:{after.removeprefix('?k=')}")
        assert any("is reachable again" in r.getMessage() for r in caplog.records)
    finally:
        server.stop()


def test_red003_redis_unreachable_at_start(layout_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="symphony_dash"):
        app = app_with_own_cache(layout_file, url)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    shown = url.replace(":secret@", ":***@")
    assert warning.startswith(f"Redis at {shown} is unreachable (") and "secret" not in warning
    search = link_of(app, long_state(5))
    assert search.startswith("?k=") and opened(app, search)["symphony-init"]["data"]["filter"]
    runner = app.symphony_runner
    with pytest.raises(JobError, match=rf"The job queue \(Redis at {shown.replace('*', '[*]')}\) cannot be reached"):
        runner.start("toy", ["familiarity"])


# -- a job on a Celery worker ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def celery_worker(redis_server: RedisServer, layout_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``symphony-dash worker`` over the same layout, with a cache folder of its own, as a process beside the app."""
    env = {**os.environ, "SYMPHONY_DASH_CACHE": tempfile.mkdtemp(prefix="symphony-redis-worker-")}
    command = [sys.executable, "-m", "symphony_dash", "worker", str(layout_file), "--redis", redis_server.url]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        yield process
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.seek(0)
        print(log.read().decode(errors="replace")[-4000:])  # pytest shows it beside a failure


GRID = css("table", "grid", "rows")


def test_red004_an_analysis_runs_on_celery_and_every_app_shows_it(
    dash_duo: Any, redis_server: RedisServer, layout_file: Path, celery_worker: Any
) -> None:
    served = app_with_own_cache(layout_file, redis_server.url)
    other = app_with_own_cache(layout_file, redis_server.url)  # another web worker, which did not run the job
    dash_duo.driver.set_window_size(1400, 900)
    dash_duo.start_server(served)
    wait_count(dash_duo, N, N)
    dash_duo.find_element("#symphony-jobs-details summary").click()
    options = dash_duo.find_elements(".symphony-jobs-choices .symphony-jobs-title")
    next(o for o in options if o.text == "Familiarity").click()
    dash_duo.find_element("#symphony-jobs-run").click()

    ended = ".symphony-jobs-done, .symphony-jobs-failed"
    until(lambda: dash_duo.driver.find_elements("css selector", ended), timeout=45)
    status = retry_stale(lambda: dash_duo.find_element(ended).text)
    assert status.startswith("Added familiarity"), status
    cell = f"{GRID} .ag-row[row-index='0'] .ag-cell[col-id='familiarity']"
    dash_duo.wait_for_element(cell, timeout=10)
    settle(dash_duo)
    expected = familiarity(np.stack(embedded_frame()["embedding"].to_list()), cache=False).to_numpy()
    row = int(dash_duo.find_element(f"{GRID} .ag-row[row-index='0'] .ag-cell[col-id='id']").text)
    assert float(dash_duo.find_element(cell).text) == pytest.approx(expected[row], rel=1e-3)

    # The other web worker takes the columns before its next request, and its pages offer them.
    page = json.dumps(opened(other, "")["symphony-page"])
    np.testing.assert_allclose(other.symphony_layouts["toy"].dataset.frame["familiarity"].to_numpy(), expected)
    assert "has familiarity" in page
    # One job at a time, whichever web worker asks; a finished one frees the queue.
    assert other.symphony_runner.job("toy").state == "done"
    assert other.symphony_runner.running() is None


def test_red005_progress_and_refusal_as_every_web_worker_reads_them(layout_file: Path) -> None:
    """The task's body run here, held at its first step: its progress, as another web worker reads it from Redis."""
    server = RedisServer()  # no Celery worker listens to this one: the test runs the task itself
    try:
        web, other = (app_with_own_cache(layout_file, server.url) for _ in range(2))
        gate = threading.Event()

        def held(dataset: Dataset) -> dict[str, Any]:
            assert gate.wait(10)
            return {"doubled": dataset.frame["x"] * 2}

        offered = {
            "first": Analysis("First", "", (), lambda ds: ("doubled",), held),
            "second": Analysis("Second", "", (), lambda ds: ("shifted",), lambda ds: {"shifted": ds.frame["y"] + 1}),
        }
        web.symphony_runner.analyses = offered
        task = web.symphony_runner.start("toy", ["second", "first"])
        waiting = other.symphony_runner.job("toy")
        assert waiting is not None and waiting.waiting and waiting.progress == "First (1 of 2)"
        with pytest.raises(JobError, match=r"already running on 'toy' \(First \(1 of 2\)\); run these when"):
            other.symphony_runner.start("toy", ["familiarity"])

        lay = web.symphony_layouts["toy"]
        worker = {fingerprint(lay.dataset): load_layout(layout_file).dataset}  # the worker's own copy of the data
        shared = SharedCache(server.url, fallback="nothing")
        body = threading.Thread(
            target=run_job, args=(shared, worker, fingerprint(lay.dataset), "toy", ["first", "second"], task, offered)
        )
        body.start()
        until(lambda: not other.symphony_runner.job("toy").waiting, timeout=10)
        running = other.symphony_runner.job("toy")
        assert running.state == "running" and running.progress == "First (1 of 2)"
        assert other.symphony_runner.running() is not None
        assert "doubled" not in other.symphony_layouts["toy"].dataset.columns
        gate.set()
        body.join(timeout=20)

        done = web.symphony_runner.job("toy")
        assert done.state == "done" and done.added == ("doubled", "shifted") and not done.waiting
        assert web.symphony_runner.running() is None
        for app in (web, other):  # the one that polled, and one that just answers its next request
            app.server.test_client().get("/_dash-layout")
            frame = app.symphony_layouts["toy"].dataset.frame
            assert frame["doubled"].to_list() == (frame["x"] * 2).to_list()
        assert lay.dataset is not web.symphony_layouts["toy"].dataset  # swapped whole, never changed in place

        # Data the worker does not have (another file, or other --data) fails with a reason, and frees the queue.
        task = web.symphony_runner.start("toy", ["second"])
        record = run_job(shared, {}, fingerprint(lay.dataset), "toy", ["second"], task, offered)
        assert record["state"] == "failed" and "start it with the same layouts (and --data)" in record["message"]
        failed = other.symphony_runner.job("toy")
        assert failed.state == "failed" and failed.message == record["message"]
        assert other.symphony_runner.running() is None
    finally:
        server.stop()


def test_red006_the_command_line_checks_its_redis(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from symphony_dash import cli

    layout = tmp_path / "toy.json"
    layout.write_text(json.dumps(RAW), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(shared_cache.ENV, raising=False)
        assert cli.main(["worker", str(layout)]) == 2
    assert "worker needs the app's Redis: --redis URL or $SYMPHONY_DASH_REDIS" in capsys.readouterr().err
    assert cli.main(["run", str(layout), "--redis", "http://user:pw@example.org/"]) == 2
    err = capsys.readouterr().err
    assert "http://user:***@example.org/ is not a Redis URL; give one like redis://127.0.0.1:6379/0" in err
