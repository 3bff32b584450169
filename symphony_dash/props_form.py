"""A settings form generated from a component's ``Props``: one field per setting, read back into a props dict.

The form is built from the model's JSON Schema, so a plugin's settings get a form with no code of their own: a
``Column()`` field is a picker of the dataset's columns (several for a list), a ``Literal`` a dropdown, a bool a
checkbox, a number an input with the model's bounds, a string a text box, anything else (a nested model, a mapping)
JSON in a text area. The field's ``description`` is its help text. Validation is the model's own, so the form says
exactly what a layout file would be told.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html
from pydantic import BaseModel

__all__ = ["FIELD", "FormError", "read_form", "settings_fields"]

FIELD = "symphony-prop"  # the id type of every field: {"type": FIELD, "name": <setting>, "kind": <kind below>}
LONG_TEXT = 500  # strings allowed to be longer than this get a text area (a note's Markdown)


class FormError(ValueError):
    """A field whose text cannot be read (JSON that does not parse); the message names the field."""


def settings_fields(props: type[BaseModel], columns: Sequence[str], values: Mapping[str, Any]) -> list[html.Div]:
    """The form's fields for ``props``, filled with ``values`` (a component's props; the defaults where absent)."""
    schema = props.model_json_schema()
    required = set(schema.get("required", ()))
    defs = schema.get("$defs", {})
    return [
        _field(name, spec, columns, values.get(name, spec.get("default")), name in required, defs)
        for name, spec in schema.get("properties", {}).items()
    ]


def read_form(props: type[BaseModel], fields: Sequence[tuple[Mapping[str, Any], Any]]) -> dict[str, Any]:
    """The props dict the form's ``(id, value)`` pairs describe, without the settings left at their default.

    Not validated here: ``props.model_validate`` does that, with the messages a layout file would get.
    """
    defaults = {name: info.get("default", _REQUIRED) for name, info in props.model_json_schema()["properties"].items()}
    out: dict[str, Any] = {}
    for field_id, raw in fields:
        name, kind = field_id.get("name"), field_id.get("kind")
        if name not in defaults:  # not a setting of this type: a stale or forged field
            continue
        value = _value(name, kind, raw)
        if value is _UNSET or value == defaults[name]:
            continue
        out[name] = value
    return out


_REQUIRED = object()
_UNSET = object()


def _value(name: str, kind: Any, raw: Any) -> Any:
    if kind == "bool":
        return isinstance(raw, list) and "on" in raw
    if kind == "json":
        if not isinstance(raw, str) or not raw.strip():
            return _UNSET
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise FormError(f"{name}: not valid JSON ({exc.msg} at character {exc.pos + 1})") from None
    if raw is None or raw == "" or raw == []:
        return _UNSET  # left empty: the default, or "is required" from the model
    return raw


def _field(
    name: str, spec: dict[str, Any], columns: Sequence[str], value: Any, required: bool, defs: dict[str, Any]
) -> html.Div:
    spec, nullable = _unwrap(spec)
    kind = _kind(spec)
    field_id = {"type": FIELD, "name": name, "kind": kind}
    label = spec.get("title") or name.replace("_", " ").capitalize()
    clearable = nullable or not required
    if kind in ("column", "columns"):
        control: Any = dcc.Dropdown(
            id=field_id,
            options=list(columns),
            value=value,
            multi=kind == "columns",
            clearable=clearable,
            placeholder="(default)" if not required else "Choose a column",
        )
    elif kind in ("choice", "choices"):
        options = spec["enum"] if kind == "choice" else spec["items"]["enum"]
        control = dcc.Dropdown(
            id=field_id, options=list(options), value=value, multi=kind == "choices", clearable=clearable
        )
    elif kind == "bool":
        control = dcc.Checklist(
            id=field_id, options=[{"label": f" {label}", "value": "on"}], value=["on"] if value else []
        )
    elif kind in ("integer", "number"):
        bounds = {
            "min": spec.get("minimum", spec.get("exclusiveMinimum")),
            "max": spec.get("maximum", spec.get("exclusiveMaximum")),
        }
        control = dcc.Input(
            id=field_id,
            type="number",
            value=value,
            step=1 if kind == "integer" else "any",
            **{k: v for k, v in bounds.items() if v is not None},
            className="symphony-form-input",
        )
    elif kind == "text" and spec.get("maxLength", 0) > LONG_TEXT:
        control = dcc.Textarea(id=field_id, value=value or "", className="symphony-form-textarea")
    elif kind == "text":
        control = dcc.Input(
            id=field_id,
            type="text",
            value=value or "",
            maxLength=spec.get("maxLength"),
            className="symphony-form-input",
        )
    else:
        text = "" if value is None or value == {} else json.dumps(value, indent=1)
        control = dcc.Textarea(
            id=field_id,
            value=text,
            placeholder=_json_hint(spec, defs),
            className="symphony-form-textarea json",
            spellCheck=False,
        )
    return html.Div(
        [
            None
            if kind == "bool"
            else html.Label([label, html.Span(" *", className="symphony-form-required") if required else None]),
            control,
            html.Div(spec.get("description", ""), className="symphony-form-help"),
        ],
        className=f"symphony-form-field {kind}",
        **{"data-setting": name},
    )


def _json_hint(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    """What a JSON setting holds, for its empty text area: a nested model's keys, or the kind of mapping."""
    ref = spec.get("$ref", "")
    nested = defs.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/$defs/") else None
    if nested and nested.get("properties"):
        keys = list(nested["properties"])
        return (
            "JSON, an object with any of: "
            + ", ".join(keys)
            + (" (required: " + ", ".join(nested["required"]) + ")" if nested.get("required") else "")
        )
    if spec.get("type") == "object":
        return 'JSON, an object: {"key": value, ...}'
    return "JSON"


def _unwrap(spec: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``X | None`` as ``(X, True)``: pydantic writes it as ``anyOf`` of X and null, the field's extras outside."""
    options = spec.get("anyOf")
    if not options:
        return spec, False
    kept = [o for o in options if o.get("type") != "null"]
    if len(kept) != 1:
        return spec, False
    outer = {k: v for k, v in spec.items() if k != "anyOf"}
    return {**kept[0], **outer}, len(kept) < len(options)


def _kind(spec: dict[str, Any]) -> str:
    column = spec.get("x-symphony") == "column"
    kind = spec.get("type")
    if kind == "string":
        return "column" if column else "choice" if "enum" in spec else "text"
    if kind == "array" and spec.get("items", {}).get("type") == "string":
        return "columns" if column else "choices" if "enum" in spec["items"] else "json"
    if kind in ("boolean", "integer", "number"):
        return {"boolean": "bool"}.get(kind, kind)
    return "json"
