"""Several worker processes behind one address (``symphony-dash run --workers``): any worker answers any request, the
answers agree with the data, and a layout saved by one worker (here: changed on disk) is what every worker serves."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from helpers import toy_frame

FRAME = toy_frame()
RAW = {
    "title": "Toy workers",
    "data": {"source": "toy.csv", "id_column": "id", "kinds": {"label": "categorical"}},
    "pages": [{"title": "One", "components": [{"type": "histogram", "id": "label", "props": {"column": "label"}}]}],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("workers")
    FRAME.to_csv(folder / "toy.csv", index=False)
    layout = folder / "toy.json"
    layout.write_text(json.dumps(RAW), encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "symphony_dash", "run", str(layout), "--workers", "2", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/_dash-layout", timeout=5).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the server did not start:\n{process.stdout.read().decode()}") from None
            time.sleep(0.3)
    yield base, layout, process
    os.killpg(process.pid, signal.SIGTERM)  # the master and its workers
    process.wait(timeout=30)


def call(base: str, output: str, inputs: list[dict[str, Any]], state: list[dict[str, Any]]) -> dict[str, Any]:
    """Post one callback as the browser does and return its response."""
    outputs = [dict(zip(("id", "property"), o.split("."), strict=True)) for o in output.strip(".").split("...")]
    body = {
        "output": output,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        "state": state,
    }
    request = urllib.request.Request(
        base + "/_dash-update-component", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["response"]


def count(base: str, labels: list[int]) -> str:
    state = {"layout": "toy", "filter": [{"source": "label", "op": "in", "column": "label", "value": labels}]}
    inputs = [
        {"id": "symphony-state", "property": "data", "value": state},
        {"id": "symphony-page-mounted", "property": "data", "value": "toy"},
    ]
    answer = call(base, "..symphony-count.children...symphony-chips.children..", inputs, [])
    return json.dumps(answer["symphony-count"]["children"])


def page(base: str) -> str:
    inputs = [
        {"id": "symphony-url", "property": "pathname", "value": "/toy"},
        {"id": "symphony-editor-drafts", "property": "data", "value": {}},
    ]
    state = [
        {"id": "symphony-state", "property": "data", "value": {}},
        {"id": "symphony-url", "property": "search", "value": ""},
    ]
    return json.dumps(call(base, "..symphony-page.children...symphony-init.data..", inputs, state))


def workers_of(process: subprocess.Popen) -> set[int]:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def test_srv001_two_workers_answer_alike_and_follow_a_save(server: Any) -> None:
    base, layout, process = server
    assert len(workers_of(process)) == 2
    cases = [[label] for label in range(4)] * 10 + [[0, 1, 2, 3]] * 4
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda labels: count(base, labels), cases))
    for labels, answer in zip(cases, answers, strict=True):
        assert f'"{int(FRAME.label.isin(labels).sum()):,}"' in answer and f"of {len(FRAME):,} instances" in answer
    assert "Analyses" not in page(base), "a job would enrich only one worker's copy of the data"

    # Another worker saved the layout (or a person edited it): every worker serves it from the next page drawn.
    layout.write_text(json.dumps(RAW | {"title": "Toy workers, saved elsewhere"}), encoding="utf-8")
    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(lambda _: page(base), range(16)))
    assert all("Toy workers, saved elsewhere" in p for p in pages)


def test_srv002_workers_must_be_at_least_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from symphony_dash import cli

    (tmp_path / "toy.json").write_text(json.dumps(RAW), encoding="utf-8")
    assert cli.main(["run", str(tmp_path / "toy.json"), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
