"""Property-based fuzzing of the callback endpoint (hypothesis, Flask's test client, no browser).

Every server-side callback of an app over the demo layouts is taken from ``/_dash-dependencies`` and called as the
Dash renderer calls it, with the ids and values of a real page; then one or more of its inputs is replaced by hostile
values: wrong types, huge or deeply nested values, clauses with unknown ops and columns, code- and SQL-looking
strings, NaN and infinities, odd unicode. The app must never answer with a traceback, only with 200/204 or a clean
4xx/500, a component's error slot must hold a short message, and the next valid request must answer correctly (the
toolbar's count against pandas).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import flask
import pytest
from callback_requests import Page
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symphony_dash import create_app
from symphony_dash.layout import LoadedLayout

# A copy of the layouts: the editor's and the slices' callbacks may save, and must not write the repository's files.
FOLDER = Path(tempfile.mkdtemp(prefix="symphony-fuzz-"))
for _file in Path(__file__).parent.parent.joinpath("layouts").glob("*.json"):
    shutil.copy(_file, FOLDER)
APP = create_app(FOLDER)
CLIENT = APP.server.test_client()
SLUG = "digits"
LAYOUT: LoadedLayout = APP.symphony_layouts[SLUG]  # type: ignore[attr-defined]
FRAME = LAYOUT.dataset.frame.to_pandas()
# What a leaked traceback looks like, whichever part of it reached the body.
LEAK = re.compile(r"Traceback \(most recent|File \"/|site-packages|\.py\", line \d", re.IGNORECASE)
SEEN: Counter[str] = Counter()
# Exceptions that escaped a callback and made a 500, by where they were raised in symphony_dash's code. Dash's own
# refusals of a request whose structure is broken (a list of inputs that is not a list) are clean 500s and not counted.
CRASHES: Counter[str] = Counter()


def _record(_: Any, exception: BaseException, **__: Any) -> None:
    frames = [f for f in traceback.extract_tb(exception.__traceback__) if "/symphony_dash/" in f.filename]
    if frames:
        CRASHES[f"{Path(frames[-1].filename).name}:{frames[-1].name}"] += 1


flask.got_request_exception.connect(_record, APP.server)


def _post(body: Any) -> Any:
    return CLIENT.post("/_dash-update-component", json=body)


PAGE = Page(APP, CLIENT, f"/{SLUG}")
REQUESTS = PAGE.requests()
COLUMNS = [*LAYOUT.dataset.columns, "nope", "id; DROP TABLE t", "__class__", ""]
OPS = ["in", "eq", "range", "ids", "lasso", "not_in", "regex", "drop_table", "__import__", "", None]
NASTY = [
    "__import__('os').system('id')",
    "'; DROP TABLE instances; --",
    "1 OR 1=1",
    "{{7*7}}${7*7}",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "/etc/passwd",
    "%2e%2e%2f",
    "\x00\x01\x1b[31m",
    "\u202eevil\u202c",
    "\ufeff\u200b\u0301",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 👩‍👩‍👧",
    "A" * 100_000,
    "NaN",
    "-Infinity",
    "1e309",
    "digits",
    "label",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(NASTY),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.sampled_from(["op", "column", "value", "source", "layout", "id", "props", "page"]), inner)
    ),
    max_leaves=25,
)
clauses = st.fixed_dictionaries(
    {
        "source": st.sampled_from(["hist", "x", "", "a" * 300]),
        "op": st.sampled_from(OPS),
        "column": st.sampled_from(COLUMNS),
    },
    optional={"value": values},
)
states = st.fixed_dictionaries(
    {"layout": st.sampled_from([SLUG, "breast_cancer", "nope", None])},
    optional={
        "filter": st.lists(clauses, max_size=4) | values,
        "selection": clauses | values,
        "group_by": st.lists(st.sampled_from(COLUMNS), max_size=3) | values,
    },
)
deep = st.integers(min_value=50, max_value=400).map(lambda n: json.loads("[" * n + "]" * n))
hostile = st.one_of(values, states, clauses, deep, st.just(list(range(200_000))))


def _valid_count(label: int) -> tuple[int, str]:
    """The toolbar's answer to a valid state filtering ``label``, and pandas' count for it."""
    key = next(k for k in REQUESTS if "symphony-count.children" in k)
    body = json.loads(json.dumps(REQUESTS[key]))
    body["inputs"][0]["value"] = {
        "layout": SLUG,
        "filter": [{"source": "fuzz", "op": "in", "column": "label", "value": [label]}],
    }
    response = _post(body)
    assert response.status_code == 200
    count = response.get_json()["response"]["symphony-count"]["children"]
    return int((FRAME.label == label).sum()), count[0]["props"]["children"].replace(",", "")


def _check(response: Any, key: str) -> None:
    crashes = set(CRASHES)
    assert not crashes, f"{key}: a callback raised in {crashes}"
    text = response.get_data(as_text=True)
    assert not LEAK.search(text), f"{key}: a traceback reached the client: {text[:400]}"
    assert response.status_code in (200, 204) or 400 <= response.status_code <= 500, (key, response.status_code)
    SEEN[str(response.status_code)] += 1
    if response.status_code != 200:
        return
    for ident, props in response.get_json().get("response", {}).items():
        if '"sub":"error"' in ident and props.get("children"):
            message = json.dumps(props["children"])
            assert len(message) < 4_000, f"{key}: an error card of {len(message)} characters"


def test_fz000_every_server_callback_has_a_valid_request() -> None:
    assert len(REQUESTS) >= 30, sorted(d["output"] for d in PAGE.server_side if d["output"] not in REQUESTS)
    for key, body in REQUESTS.items():
        _check(_post(body), key)


@settings(max_examples=1200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_fz001_hostile_inputs_never_leak_and_the_next_request_is_right(data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(REQUESTS)))
    body = json.loads(json.dumps(REQUESTS[key]))
    slots = [("inputs", i) for i in range(len(body["inputs"]))] + [("state", i) for i in range(len(body["state"]))]
    for part, index in data.draw(st.lists(st.sampled_from(slots), min_size=1, max_size=3, unique=True)):
        target = body[part][index]
        items = target if isinstance(target, list) else [target]
        for item in items:
            item["value"] = data.draw(hostile)
        if isinstance(target, list) and data.draw(st.booleans()):
            body[part][index] = data.draw(values)  # not even a list of inputs
    _check(CLIENT.post("/_dash-update-component", data=json.dumps(body), content_type="application/json"), key)
    expected, shown = _valid_count(data.draw(st.integers(min_value=0, max_value=9)))
    assert shown == str(expected)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"output": "symphony-count.children"}',
        b'{"output": 1, "inputs": "x"}',
        json.dumps({"output": "nope.children", "inputs": [], "state": []}).encode(),
        b'{"output": "symphony-count.children", "inputs": [NaN, Infinity], "state": []}',
        "\udcff".encode("utf-8", "surrogatepass"),
    ],
)
def test_fz002_a_broken_body_gets_a_clean_answer(raw: bytes) -> None:
    response = CLIENT.post("/_dash-update-component", data=raw, content_type="application/json")
    _check(response, repr(raw[:40]))
    assert response.status_code != 200
    expected, shown = _valid_count(3)
    assert shown == str(expected)


def test_fz003_report() -> None:
    """Not a check: prints how many fuzz requests ran and what they were answered with (``pytest -s``)."""
    print(f"\nfuzz: {sum(SEEN.values())} requests over {len(REQUESTS)} callbacks, answers: {dict(SEEN)}")
    print(f"fuzz: exceptions escaping symphony_dash code: {dict(CRASHES) or 'none'}")
