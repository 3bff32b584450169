"""Requests to the Dash callback endpoint as the renderer makes them, for a page of a running app: its components are
read from the router's answer, and each callback's ids and values are filled in from them. Used by the fuzz test and
the load benchmark (``benchmarks/load.py``)."""

from __future__ import annotations

import json
from typing import Any

from symphony_dash.component import STATE_ID

__all__ = ["Page", "key_of", "outputs_of"]


def outputs_of(key: str) -> list[tuple[Any, str]]:
    """The (id, property) pairs of a callback's output key, as Dash writes it (``..a.p...b.q..`` when several)."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    pairs = []
    for part in parts:
        if part.startswith("{"):
            end = part.index("}.") + 1
            ident, prop = part[:end], part[end + 1 :]
        else:
            ident, prop = part.rsplit(".", 1)
        pairs.append((json.loads(ident) if ident.startswith("{") else ident, prop))
    return pairs


def key_of(ident: Any) -> str:
    """An id as one string: a pattern id as compact JSON with sorted keys, as Dash writes it."""
    return json.dumps(ident, sort_keys=True, separators=(",", ":")) if isinstance(ident, dict) else ident


class Page:
    """The components of one page of ``app`` as the router draws it (their ids and props), and its starting state."""

    def __init__(self, app: Any, client: Any, path: str) -> None:
        self.dependencies = client.get("/_dash-dependencies").get_json()
        self.server_side = [d for d in self.dependencies if not d.get("clientside_function")]
        key = next(d["output"] for d in self.server_side if "symphony-page.children" in d["output"])
        body = {
            "output": key,
            "outputs": [{"id": i, "property": p} for i, p in outputs_of(key)],
            "inputs": [
                {"id": "symphony-url", "property": "pathname", "value": path},
                {"id": "symphony-editor-drafts", "property": "data", "value": {}},
            ],
            "state": [
                {"id": STATE_ID, "property": "data", "value": {}},
                {"id": "symphony-url", "property": "search", "value": ""},
            ],
            "changedPropIds": ["symphony-url.pathname"],
        }
        answer = client.post("/_dash-update-component", json=body).get_json()["response"]
        self.components: dict[str, dict[str, Any]] = {}
        _walk(app.layout.to_plotly_json(), self.components)
        _walk(answer["symphony-page"]["children"], self.components)
        self.initial_state: dict[str, Any] = answer["symphony-init"]["data"]
        self.components["symphony-url"] = {"pathname": path, "search": ""}
        self.components[STATE_ID] = {"data": self.initial_state}

    def requests(self) -> dict[str, dict[str, Any]]:
        """A valid request for every server-side callback whose components are on the page, by output key."""
        return {d["output"]: r for d in self.server_side if (r := self.build(d)) is not None}

    def build(self, dep: dict[str, Any]) -> dict[str, Any] | None:
        """A valid request for ``dep`` with the page's values, or None when its component is not on the page."""
        match: dict[str, Any] = {}
        for item in [*dep["inputs"], *dep["state"], *[{"id": i} for i, _ in outputs_of(dep["output"])]]:
            pattern = _pattern(item["id"])
            if isinstance(pattern, dict) and ["MATCH"] in pattern.values():
                hits = self._concrete(pattern, match)
                if not hits:
                    return None
                match.update({k: hits[0][k] for k, v in pattern.items() if v == ["MATCH"]})

        def entry(item: dict[str, Any]) -> Any:
            pattern = _pattern(item["id"])
            values = [
                {
                    "id": i,
                    "property": item["property"],
                    "value": self.components.get(key_of(i), {}).get(item["property"]),
                }
                for i in self._concrete(pattern, match)
            ]
            return values if _wildcard(pattern) else (values[0] if values else None)

        inputs = [entry(i) for i in dep["inputs"]]
        state = [entry(s) for s in dep["state"]]
        if any(x is None for x in [*inputs, *state]):
            return None
        outputs = []
        for ident, prop in outputs_of(dep["output"]):
            items = [{"id": i, "property": prop} for i in self._concrete(ident, match)]
            outputs.append(items if _wildcard(ident) else items[0] if items else {"id": ident, "property": prop})
        first = inputs[0][0] if isinstance(inputs[0], list) and inputs[0] else inputs[0]
        return {
            "output": dep["output"],
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": inputs,
            "state": state,
            "changedPropIds": [f"{key_of(first['id'])}.{first['property']}"] if isinstance(first, dict) else [],
        }

    def _concrete(self, pattern: Any, match: dict[str, Any]) -> list[Any]:
        """The ids on the page a callback's id pattern names (a plain id names itself)."""
        if isinstance(pattern, str):
            return [pattern]
        ids = [json.loads(k) for k in self.components if k.startswith("{")]
        return [i for i in ids if _matches(pattern, i, match)]


def _pattern(ident: Any) -> Any:
    return json.loads(ident) if isinstance(ident, str) and ident.startswith("{") else ident


def _wildcard(pattern: Any) -> bool:
    return isinstance(pattern, dict) and any(v in (["ALL"], ["ALLSMALLER"]) for v in pattern.values())


def _matches(pattern: dict[str, Any], ident: dict[str, Any], match: dict[str, Any]) -> bool:
    if set(pattern) != set(ident):
        return False
    for key, want in pattern.items():
        if want in (["ALL"], ["ALLSMALLER"]):
            continue
        if want == ["MATCH"]:
            if key in match and match[key] != ident[key]:
                return False
            continue
        if want != ident[key]:
            return False
    return True


def _walk(node: Any, found: dict[str, dict[str, Any]]) -> None:
    """Every component with an id in a Dash JSON tree: its id (as :func:`key_of` writes it) and its props."""
    if isinstance(node, list):
        for child in node:
            _walk(child, found)
    elif hasattr(node, "to_plotly_json"):
        _walk(node.to_plotly_json(), found)
    elif isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and "type" in node:
            if "id" in props:
                found[key_of(props["id"])] = props
            for value in props.values():
                _walk(value, found)
        else:
            for value in node.values():
                _walk(value, found)
