"""Hardening: media paths that try to leave the media folder, saves at once and saves killed midway, many users at
once, faults (a failing component, a data file replaced under the app), the health check, and a short load test
(HTTP through Flask's test client or a local server; subprocesses for the saves; no browser)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dash import html
from helpers import toy_frame
from PIL import Image

from symphony_dash import Component, Props, Slot, create_app, register
from symphony_dash.dataset import Dataset
from symphony_dash.health import HEALTH_PATH
from symphony_dash.layout import Layout, load_layout
from symphony_dash.layout_store import LayoutConflict, file_version, save_layout_file
from symphony_dash.media import MEDIA_ROUTE
from symphony_dash.state import State as SymphonyState
from symphony_dash.state import isin
from symphony_dash.url_state import KEY_LENGTH, StateStore, encode, from_search, search_for

ROOT = Path(tempfile.mkdtemp(prefix="symphony-hardening-"))
MEDIA = ROOT / "media"
(MEDIA / "images").mkdir(parents=True)
SECRET = ROOT / "secret.txt"  # outside the media folder: no request may read it
SECRET.write_text("the secret outside the media folder")
Image.new("L", (4, 4), 200).save(MEDIA / "images" / "a.png")
Image.new("RGB", (4, 4)).save(MEDIA / "images" / "b.jpg")
(MEDIA / "clip.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
(MEDIA / "page.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
os.symlink(SECRET, MEDIA / "images" / "link-out.png")
os.symlink(ROOT, MEDIA / "up")
os.symlink(MEDIA / "images" / "a.png", MEDIA / "link-in.png")
FRAME = toy_frame(200).assign(image=lambda f: ["images/a.png", "images/b.jpg"] * (len(f) // 2))
FRAME.to_csv(ROOT / "toy.csv", index=False)


@register
class Failing(Component):
    """A component that always fails, to show that its error stays in its own box and the rest works."""

    type = "hardening-failing"
    Props = Props
    outputs = (Slot("text", "children"),)

    def layout(self) -> html.Div:
        return html.Div(id=self.id("text"))

    def render(self, view: Any) -> Any:
        raise RuntimeError("broken on purpose at /srv/secret/path.py")


LAYOUT = {
    "title": "Toy",
    "data": {"source": "toy.csv", "kinds": {"image": "image"}},
    "pages": [
        {
            "title": "Main",
            "components": [
                {"id": "hist", "type": "histogram", "props": {"column": "label"}},
                {"id": "boom", "type": "hardening-failing"},
            ],
        }
    ],
}
(ROOT / "toy.json").write_text(json.dumps(LAYOUT))
APP = create_app(ROOT / "toy.json", background_jobs=False)
# The toy layout reads its images from the media folder, not the folder of its data file.
APP_MEDIA = create_app([{**LAYOUT, "title": "Media"}], data=Dataset(FRAME, media_root=MEDIA), background_jobs=False)


def _render(app: Any, type_name: str, index: str, sub: str, prop: str, state: Any, props: Any) -> Any:
    """Post one render callback as the Dash renderer does."""
    key = next(k for k in app.callback_map if f'"sub":"{sub}","type":"symphony-{type_name}"' in k.split("...")[0])
    outputs = []
    for part in key.strip(".").split("..."):
        ident, name = part.rsplit(".", 1)
        outputs.append({"id": json.loads(ident.replace('["MATCH"]', json.dumps(index))), "property": name})
    props_id = {"index": index, "sub": "props", "type": f"symphony-{type_name}"}
    return app.server.test_client().post(
        "/_dash-update-component",
        json={
            "output": key,
            "outputs": outputs,
            # An instance's own render: its props (mounted) as the input, the shared state read with it.
            "inputs": [{"id": props_id, "property": "data", "value": props}],
            "state": [{"id": "symphony-state", "property": "data", "value": state}],
            "changedPropIds": [f"{json.dumps(props_id, sort_keys=True, separators=(',', ':'))}.data"],
        },
    )


def _count(client: Any, state: Any) -> int:
    """The toolbar's count for ``state``, as a browser with that state is answered."""
    response = client.post(
        "/_dash-update-component",
        json={
            "output": "..symphony-count.children...symphony-chips.children..",
            "outputs": [
                {"id": "symphony-count", "property": "children"},
                {"id": "symphony-chips", "property": "children"},
            ],
            "inputs": [
                {"id": "symphony-state", "property": "data", "value": state},
                {"id": "symphony-page-mounted", "property": "data", "value": state["layout"]},
            ],
            "state": [],
            "changedPropIds": ["symphony-state.data"],
        },
    )
    assert response.status_code == 200, response.data[:300]
    return int(response.get_json()["response"]["symphony-count"]["children"][0]["props"]["children"].replace(",", ""))


def _label_state(labels: list[int], slug: str = "toy") -> dict[str, Any]:
    return {"layout": slug, "filter": [{"source": "x", "op": "in", "column": "label", "value": labels}]}


# Media files ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "images/link-out.png",  # a link inside the folder to a file outside it
        "up/secret.txt",  # a linked folder that leads outside
        "up/media/../secret.txt",
        "../secret.txt",
        "images/../../secret.txt",
        "%2e%2e/secret.txt",
        "images%2f..%2f..%2fsecret.txt",
        "..%5csecret.txt",
        str(SECRET),  # an absolute path
        "/" + str(SECRET),
        "%2F" + str(SECRET).lstrip("/").replace("/", "%2F"),
        "images/a.png%00.txt",
        "images/",
        "",
    ],
)
def test_hard001_no_media_path_reaches_outside_the_media_folder(path: str) -> None:
    response = APP_MEDIA.server.test_client().get(f"{MEDIA_ROUTE}/media/{path}")
    assert b"secret outside" not in response.data
    # Refused by the media route (its placeholder), or not a media path at all (the app's page, as for any path).
    assert response.status_code == 404 or b"_dash-config" in response.data


def test_hard002_media_files_have_their_content_type_and_run_no_script() -> None:
    client = APP_MEDIA.server.test_client()
    expected = {
        "images/a.png": "image/png",
        "images/b.jpg": "image/jpeg",
        "clip.wav": "audio/x-wav",
        "link-in.png": "image/png",  # a link that stays inside the folder is fine
        "page.svg": "image/svg+xml",
    }
    for path, mimetype in expected.items():
        response = client.get(f"{MEDIA_ROUTE}/media/{path}")
        assert (response.status_code, response.mimetype) == (200, mimetype), path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]  # an SVG opened in a tab runs no script


def test_hard003_a_missing_file_or_layout_gives_the_placeholder() -> None:
    client = APP_MEDIA.server.test_client()
    for path in ("media/images/gone.png", "media/no/such/folder.wav", "no-such-layout/images/a.png"):
        response = client.get(f"{MEDIA_ROUTE}/{path}")
        assert (response.status_code, response.mimetype) == (404, "image/svg+xml"), path
        assert b"missing" in response.data


# Saving ------------------------------------------------------------------------------------------------------------


def _layout_file(folder: Path, slices: int = 0) -> Path:
    """A layout file over the toy data, with ``slices`` saved slices (a large file takes longer to write)."""
    FRAME.to_csv(folder / "toy.csv", index=False)
    raw = {
        **LAYOUT,
        "pages": [{"title": "Main", "components": [LAYOUT["pages"][0]["components"][0]]}],  # type: ignore[index]
        "slices": [
            {"name": f"slice {i}", "filter": [isin("label", [i % 4], source="s").model_dump()]} for i in range(slices)
        ],
    }
    path = folder / "toy.json"
    path.write_text(json.dumps(raw, indent=2) + "\n")
    return path


def _titled(layout: Layout, title: str) -> Layout:
    return layout.model_copy(update={"title": title})


def test_hard004_two_threads_saving_at_once_one_wins_the_other_is_told(tmp_path: Path) -> None:
    path = _layout_file(tmp_path)
    layout = load_layout(path).layout
    outcome: dict[str, str] = {}

    def save(title: str, barrier: threading.Barrier, version: str | None) -> None:
        barrier.wait()
        try:
            save_layout_file(path, _titled(layout, title), version)
            outcome[title] = "won"
        except LayoutConflict:
            outcome[title] = "conflict"

    for number in range(20):
        outcome.clear()
        args = (threading.Barrier(2), file_version(path))
        threads = [threading.Thread(target=save, args=(f"{t} {number}", *args)) for t in ("one", "two")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcome.values()) == ["conflict", "won"], outcome
        winner = next(t for t, o in outcome.items() if o == "won")
        assert json.loads(path.read_text())["title"] == winner


SAVER = """
import json, sys, time
from pathlib import Path
from symphony_dash import layout_store
from symphony_dash.layout import load_layout

path, mode, name = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
loaded = load_layout(path)
if mode == "race":
    real = layout_store.atomic_write

    def slow(target):  # a slow disk: the time between the check and the rename, in which another save may start
        time.sleep(0.3)
        return real(target)

    layout_store.atomic_write = slow
    start = float(sys.argv[4])
    time.sleep(max(0.0, start - time.time()))
    try:
        layout_store.save_layout_file(path, loaded.layout.model_copy(update={"title": name}), loaded.version)
        print("won")
    except layout_store.LayoutConflict:
        print("conflict")
else:  # save in a loop until killed: each save expects the version on disk, as a person saving again would
    layout = loaded.layout
    version = loaded.version
    n = 0
    print("ready", flush=True)
    while True:
        n += 1
        version = layout_store.save_layout_file(path, layout.model_copy(update={"title": f"{name} {n}"}), version)
"""


def test_hard005_two_processes_saving_at_once_one_wins_the_other_is_told(tmp_path: Path) -> None:
    """Two gunicorn workers saving the same layout at the same moment: a lock on the file, not only in memory."""
    path = _layout_file(tmp_path)
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    start = time.time() + 2.5  # both processes have loaded the layout by then
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), "race", name, str(start)], stdout=subprocess.PIPE, text=True
        )
        for name in ("one", "two")
    ]
    results = [w.communicate(timeout=60)[0].strip() for w in workers]
    assert sorted(results) == ["conflict", "won"], results
    winner = ("one", "two")[results.index("won")]
    assert json.loads(path.read_text())["title"] == winner


def test_hard006_a_process_killed_midway_through_a_save_leaves_a_valid_file(tmp_path: Path) -> None:
    path = _layout_file(tmp_path, slices=400)  # a large file: more of each save is spent writing it
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    rng = random.Random(8)
    kills = 8
    for k in range(kills):
        worker = subprocess.Popen(
            [sys.executable, str(script), str(path), "loop", f"kill {k}"], stdout=subprocess.PIPE, text=True
        )
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.4))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        text = path.read_text()
        raw = json.loads(text)  # old or new, never half of one
        assert raw["title"].startswith(("Toy", "kill ")) and len(raw["slices"]) == 400
        load_layout(path)
    # Temporary files of killed saves may remain: the next save ignores them and leaves the file valid.
    loaded = load_layout(path)
    save_layout_file(path, _titled(loaded.layout, "after the kills"), loaded.version)
    assert load_layout(path).layout.title == "after the kills"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert all(p.startswith((".toy.json.", ".toy.json.bak.")) for p in leftovers), leftovers


# Many users ----------------------------------------------------------------------------------------------------


def test_hard007_two_users_at_once_each_get_their_own_answers() -> None:
    """The state comes with every request: two browsers filtering differently, at the same time, never mix."""
    states = {"a": _label_state([0]), "b": _label_state([1, 2])}
    expected = {"a": int((FRAME.label == 0).sum()), "b": int(FRAME.label.isin([1, 2]).sum())}
    wrong: list[str] = []

    def user(name: str) -> None:
        client = APP.server.test_client()
        for _ in range(40):
            if _count(client, states[name]) != expected[name]:
                wrong.append(name)

    threads = [threading.Thread(target=user, args=(n,)) for n in ("a", "b", "a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong


def test_hard008_a_stored_state_is_found_only_by_its_exact_unguessable_key(tmp_path: Path) -> None:
    state = SymphonyState(layout="toy", filter=[isin("id", list(range(3000)), source="table")])
    store = StateStore(tmp_path)
    search = search_for(state, store)
    assert search.startswith("?k=")
    key = search.removeprefix("?k=")
    # 16 characters of base64url, 96 bits of a SHA-256: a key is only known to those who were given it.
    assert len(key) == KEY_LENGTH == 16 and set(key) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert from_search(search, store) == state
    # Another worker process (another store over the same folder) finds it by the same key.
    assert from_search(search, StateStore(tmp_path)) == state
    other = "A" if key[0] != "A" else "B"
    for near in (other + key[1:], key.swapcase() if key.swapcase() != key else key[::-1], key[:-1] + "-"):
        if near != key:
            assert StateStore(tmp_path).get(near) is None
    for malformed in (key[:-1], key + "x", "../" + key[3:], "*" * KEY_LENGTH, key[:8] + "/" + key[9:]):
        with pytest.raises(Exception, match="'k' parameter"):
            StateStore(tmp_path).get(malformed)
    # Two different states get different keys.
    more = SymphonyState(layout="toy", filter=[isin("id", list(range(3001)), source="table")])
    assert search_for(more, store) != search and encode(more) != encode(state)


# Faults ------------------------------------------------------------------------------------------------------------


def test_hard009_a_failing_component_shows_a_short_error_and_the_rest_works() -> None:
    state = _label_state([1])
    props = {"layout": "toy", "id": "boom", "props": {}}
    response = _render(APP, "hardening-failing", "boom", "text", "children", state, props)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    card = response.get_json()["response"]['{"index":"boom","sub":"error","type":"symphony-hardening-failing"}']
    assert "could not render" in json.dumps(card) and "broken on purpose" in json.dumps(card)
    assert "Traceback" not in body and 'File "' not in body
    hist = {"layout": "toy", "id": "hist", "props": {"column": "label"}}
    figure = _render(APP, "histogram", "hist", "graph", "figure", state, hist).get_json()["response"]
    assert figure['{"index":"hist","sub":"error","type":"symphony-histogram"}']["children"] is None
    assert _count(APP.server.test_client(), state) == int((FRAME.label == 1).sum())


def test_hard010_the_health_check_says_what_is_loaded() -> None:
    body = APP.server.test_client().get(HEALTH_PATH)
    assert body.status_code == 200 and body.headers["Cache-Control"] == "no-store"
    data = body.get_json()
    assert data["status"] == "ok" and data["layouts"] == {"loaded": ["toy"], "broken": [], "data_changed": []}
    assert data["uptime_seconds"] >= 0


def test_hard011_a_broken_layout_degrades_and_none_at_all_is_down(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text((ROOT / "toy.json").read_text().replace("toy.csv", str(ROOT / "toy.csv")))
    (tmp_path / "bad.json").write_text("{ not json")
    data = create_app(tmp_path, background_jobs=False).server.test_client().get(HEALTH_PATH).get_json()
    assert data["status"] == "degraded" and data["layouts"]["broken"] == ["bad"]
    (tmp_path / "good.json").unlink()
    down = create_app(tmp_path, background_jobs=False).server.test_client().get(HEALTH_PATH)
    assert down.status_code == 503 and down.get_json()["status"] == "down"


def test_hard012_a_data_file_replaced_under_the_app_is_reported(tmp_path: Path) -> None:
    FRAME.to_csv(tmp_path / "toy.csv", index=False)
    (tmp_path / "toy.json").write_text(json.dumps(LAYOUT))
    app = create_app(tmp_path / "toy.json", background_jobs=False)
    client = app.server.test_client()

    def notice() -> Any:
        response = client.post(
            "/_dash-update-component",
            json={
                "output": "symphony-data-notice.children",
                "outputs": {"id": "symphony-data-notice", "property": "children"},
                "inputs": [{"id": "symphony-url", "property": "pathname", "value": "/toy"}],
                "state": [],
                "changedPropIds": ["symphony-url.pathname"],
            },
        )
        return (
            response.get_json()["response"]["symphony-data-notice"]["children"] if response.status_code == 200 else None
        )

    assert notice() is None
    pd.concat([FRAME, FRAME.assign(id=FRAME.id + len(FRAME))]).to_csv(tmp_path / "toy.csv", index=False)
    text = json.dumps(notice())
    assert "The data changed on disk" in text and "toy.csv" in text and "Restart the app" in text
    data = client.get(HEALTH_PATH).get_json()
    assert data["status"] == "degraded" and data["layouts"]["data_changed"] == ["toy"]
    # The app keeps serving the data it loaded, consistently, until it is restarted.
    assert _count(client, _label_state([0])) == int((FRAME.label == 0).sum())


# Load ------------------------------------------------------------------------------------------------------------


def test_hard013_a_short_load_test_has_no_errors_and_flat_memory(tmp_path: Path) -> None:
    """The short form of ``benchmarks/load.py``: 8 sessions for 10 s against a served app (the long form: 60 s)."""
    out = tmp_path / "load.json"
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "load.py"
    done = subprocess.run(
        [sys.executable, str(script), "--threads", "8", "--seconds", "10", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads(out.read_text())
    print(
        f"\nload: {results['interactions']} interactions, {results['throughput_per_s']}/s, "
        f"latency ms {results['latency_ms']}, errors {results['errors']}, RSS {results['rss_mb']}"
    )
    assert results["errors"] == 0 and results["interactions"] >= 500
    assert results["rss_growth_mb"] < 40  # after the warm-up: no cache or session that grows with every request


ANALYST = """
import sys
import numpy as np
from symphony_dash.analyses.cache import analyses_dir, cached

data = np.random.default_rng(0).random((2000, 500))
print("ready", flush=True)
while True:  # an analysis whose result is written again and again, until the process is killed
    for old in analyses_dir().glob("hardening-*.npz"):
        old.unlink()
    cached("hardening", 1, {"x": data[:5]}, lambda: {"result": data})
"""


def test_hard014_an_analysis_killed_midway_leaves_no_corrupt_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from symphony_dash.analyses.cache import analyses_dir, cached

    monkeypatch.setenv("SYMPHONY_DASH_CACHE", str(tmp_path))
    script = tmp_path / "analyst.py"
    script.write_text(ANALYST)
    data = np.random.default_rng(0).random((2000, 500))
    rng = random.Random(14)
    for _ in range(5):
        worker = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.5))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        # The next run gets the right answer: a complete cached file, or a fresh computation; never half a file.
        result = cached("hardening", 1, {"x": data[:5]}, lambda: {"result": data})
        assert np.array_equal(result["result"], data)
    assert all(p.suffix == ".npz" or p.name.endswith(".tmp") for p in analyses_dir().iterdir())
