"""What a browser may send to the callback endpoint: malformed states, props and events never crash a worker, never
leak a traceback, and show a short message in the component's own box (HTTP, no browser)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from symphony_dash import create_app
from symphony_dash.layout import LoadedLayout

APP = create_app("layouts")
CLIENT = APP.server.test_client()
LAYOUT: LoadedLayout = APP.symphony_layouts["digits"]  # type: ignore[attr-defined]
PROPS = {"layout": "digits", "id": "label", "props": {"column": "label"}}


def _post(callback_key: str, inputs: list[dict[str, Any]], state: list[dict[str, Any]] | None = None) -> Any:
    """Post one callback request as the Dash renderer does, for the histogram instance ``label``."""
    outputs = []
    for part in callback_key.strip(".").split("..."):
        ident, prop = part.rsplit(".", 1)
        outputs.append({"id": json.loads(ident.replace('["MATCH"]', '"label"')), "property": prop})
    first = inputs[0]
    body = {
        "output": callback_key,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": [f"{json.dumps(first['id'], separators=(',', ':'))}.{first['property']}"],
    }
    return CLIENT.post("/_dash-update-component", json=body)


def _key(type_name: str, sub: str) -> str:
    return next(k for k in APP.callback_map if f'"sub":"{sub}","type":"symphony-{type_name}"' in k.split("...")[0])


def _render(state: Any, props: Any = PROPS) -> Any:
    props_id = {"index": "label", "sub": "props", "type": "symphony-histogram"}
    # An instance's own render: its props (mounted) as the input, the shared state read with it.
    return _post(
        _key("histogram", "graph"),
        [{"id": props_id, "property": "data", "value": props}],
        [{"id": "symphony-state", "property": "data", "value": state}],
    )


def test_cb001_a_valid_state_renders_the_figure() -> None:
    response = _render(
        {"layout": "digits", "filter": [{"source": "label", "op": "in", "column": "label", "value": [3]}]}
    )
    assert response.status_code == 200
    figure = response.get_json()["response"]['{"index":"label","sub":"graph","type":"symphony-histogram"}']
    assert sum(figure["figure"]["data"][-1]["y"]) == len(LAYOUT.dataset)  # its own clause does not filter it


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"layout": "digits", "filter": [{"source": "x", "op": "drop_table", "column": "label"}]}, "state.filter[0]"),
        (
            {"layout": "digits", "filter": [{"source": "x", "op": "eq", "column": "nope", "value": 1}]},
            "unknown column 'nope'",
        ),
        (
            {
                "layout": "digits",
                "filter": [{"source": "x", "op": "eq", "column": "split", "value": "'; DROP TABLE t; --"}],
            },
            None,
        ),
        (
            {"layout": "digits", "filter": [{"source": "x", "op": "range", "column": "confidence", "value": ["a", 1]}]},
            "confidence",
        ),
        ({"layout": "digits", "filter": "__import__('os').system('true')"}, "state.filter"),
        (
            {"layout": "digits", "filter": [{"source": "x", "op": "in", "column": "label", "value": [[1]]}]},
            "state.filter[0]",
        ),
        ({"layout": "digits", "group_by": ["label"] * 50}, "state.group_by"),
    ],
)
def test_cb002_malformed_states_show_a_message_in_the_box(state: Any, message: str | None) -> None:
    response = _render(state)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    if message is None:  # an injection-looking value is only a value: it matches nothing, and the view renders
        assert "could not render" not in text
    else:
        assert "could not render" in text and message in text


@pytest.mark.parametrize(
    "props",
    [
        None,
        {},
        {"layout": "digits"},
        {"layout": "nope", "id": "label", "props": {}},
        {"layout": "digits", "id": "label", "props": {"column": "label", "binz": 3}},
        "x",
    ],
)
def test_cb003_malformed_props_show_a_message_and_the_next_request_works(props: Any) -> None:
    response = _render({"layout": "digits"}, props)
    assert response.status_code == 200
    assert "could not render" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert _render({"layout": "digits"}).status_code == 200


@pytest.mark.parametrize(
    "click",
    [
        {"points": [{"customdata": [[1, 2]]}]},
        {"points": "all"},
        42,
        {"points": [{"customdata": ["x" * 10]}]},
    ],
)
def test_cb004_malformed_events_change_nothing(click: Any) -> None:
    key = next(k for k in APP.callback_map if k.endswith('"sub":"clause","type":"symphony-histogram"}.data'))
    graph = {"index": "label", "sub": "graph", "type": "symphony-histogram"}
    props_id = {"index": "label", "sub": "props", "type": "symphony-histogram"}
    response = _post(
        key,
        [
            {"id": graph, "property": "clickData", "value": click},
            {"id": graph, "property": "selectedData", "value": None},
        ],
        [
            {"id": "symphony-state", "property": "data", "value": {"layout": "digits"}},
            {"id": props_id, "property": "data", "value": PROPS},
        ],
    )
    assert response.status_code == 204  # PreventUpdate: nothing emitted, nothing broken
