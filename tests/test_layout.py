"""Tests of layouts and the registry: exact error texts, the packaged layouts, the schema and broken plugins."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import toy_frame
from pydantic import BaseModel

from symphony_dash import registry
from symphony_dash.app import BrokenLayout, create_app
from symphony_dash.component import API_VERSION, Component, Props
from symphony_dash.components.histogram import Histogram
from symphony_dash.dataset import Dataset
from symphony_dash.layout import Layout, LayoutError, LoadedLayout, layout_schema, load_layout
from symphony_dash.state import between, eq

ROOT = Path(__file__).resolve().parent.parent
LAYOUT_FILES = sorted((ROOT / "layouts").glob("*.json")) + sorted((ROOT / "symphony_dash" / "layouts").glob("*.json"))
TOY = toy_frame()
COLUMNS = "id, label, prediction, confidence, split, x, y, text"


def good_layout(**changes: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": "Toy",
        "data": {"source": "toy.csv"},
        "pages": [
            {
                "title": "Overview",
                "components": [
                    {"type": "histogram", "id": "conf", "props": {"column": "confidence", "bins": 20}},
                    {"type": "histogram", "id": "split", "props": {"column": "split"}},
                ],
            }
        ],
    }
    layout.update(changes)
    return layout


def one_component(**spec: Any) -> list[dict[str, Any]]:
    return [{"title": "One", "components": [{"type": "histogram", "id": "h", **spec}]}]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    TOY.to_csv(tmp_path / "toy.csv", index=False)
    return tmp_path


def errors_of(folder: Path, layout: dict[str, Any] | str) -> list[str]:
    """The error lines of a layout file, after checking that the exception's text is those lines with the file."""
    path = folder / "layout.json"
    path.write_text(layout if isinstance(layout, str) else json.dumps(layout, indent=2))
    with pytest.raises(LayoutError) as caught:
        load_layout(path)
    assert caught.value.file == str(path)
    assert str(caught.value) == "\n".join(f"{path}: {line}" for line in caught.value.errors)
    return caught.value.errors


# -- good layouts ---------------------------------------------------------------------------------------------------


def test_layout001_a_good_layout_loads(folder: Path) -> None:
    path = folder / "My Toy.json"
    path.write_text(json.dumps(good_layout(filter=[{"op": "eq", "column": "split", "value": "test"}])))
    loaded = load_layout(path)
    assert isinstance(loaded, LoadedLayout)
    assert loaded.slug == "my-toy"
    assert loaded.path == path
    assert len(loaded.dataset) == len(TOY)
    assert loaded.dataset.media_root == folder
    assert set(loaded.instances) == {"conf", "split"}
    component, spec = loaded.instances["conf"]
    assert isinstance(component, Histogram)
    assert component.props.bins == 20
    assert spec.width == 3
    assert loaded.initial_state() == {
        "layout": "my-toy",
        "filter": [{"source": "python", "op": "eq", "column": "split", "columns": None, "value": "test"}],
        "selection": None,
        "group_by": [],
    }
    assert loaded.engine.where(loaded.layout.filter).count() == int((TOY["split"] == "test").sum())


def test_layout002_in_memory_layouts_and_data_overrides() -> None:
    dataset = Dataset(TOY)
    loaded = load_layout(layout=good_layout(title="Model review: v2"), data=dataset)
    assert loaded.slug == "model-review-v2"
    assert loaded.path is None
    assert loaded.dataset is dataset
    again = load_layout(layout=loaded.layout, data=dataset)
    assert again.layout == loaded.layout
    # A title with nothing to make a slug of still gets one, so its page can be reached.
    assert load_layout(layout=good_layout(title="日本語"), data=dataset).slug == "layout"


def test_layout003_layouts_share_one_dataset_per_source(folder: Path) -> None:
    shared: dict[str, Dataset] = {}
    for name in ("a.json", "b.json"):
        (folder / name).write_text(json.dumps(good_layout()))
    first = load_layout(folder / "a.json", datasets=shared)
    second = load_layout(folder / "b.json", datasets=shared)
    assert first.dataset is second.dataset
    assert len(shared) == 1


@pytest.mark.parametrize("path", LAYOUT_FILES, ids=[f"{p.parent.name}/{p.name}" for p in LAYOUT_FILES])
def test_layout004_every_packaged_layout_validates_and_round_trips(path: Path) -> None:
    loaded = load_layout(path)
    dumped = loaded.layout.model_dump(mode="json")
    assert Layout.model_validate(dumped) == loaded.layout
    assert Layout.model_validate(json.loads(json.dumps(dumped))).model_dump(mode="json") == dumped
    assert load_layout(layout=dumped, data=loaded.dataset).layout == loaded.layout


def test_layout005_there_are_packaged_layouts() -> None:
    assert ROOT / "layouts" / "digits.json" in LAYOUT_FILES


def test_layout006_clauses_in_a_layout_are_the_state_clauses() -> None:
    layout = good_layout(
        filter=[{"op": "range", "column": "x", "value": [0, 2]}, {"op": "eq", "column": "label", "value": 1}]
    )
    loaded = load_layout(layout=layout, data=Dataset(TOY))
    assert loaded.layout.filter == [between("x", 0, 2), eq("label", 1)]


# -- error texts ----------------------------------------------------------------------------------------------------


def test_layout010_invalid_json_gives_line_and_column(folder: Path) -> None:
    text = '{\n  "title": "Toy",\n  "pages": [}\n}'
    assert errors_of(folder, text) == ["line 3 column 13: not valid JSON: Expecting value"]
    assert errors_of(folder, '{"title": "Toy" "pages": []}') == [
        "line 1 column 17: not valid JSON: Expecting ',' delimiter"
    ]


def test_layout011_no_such_file(folder: Path) -> None:
    with pytest.raises(LayoutError) as caught:
        load_layout(folder / "missing.json")
    assert str(caught.value) == f"{folder / 'missing.json'}: no such file"


@pytest.mark.parametrize(
    ("changes", "removed", "lines"),
    [
        ({}, "title", ["title: is required"]),
        ({}, "data", ["data: is required"]),
        ({}, "pages", ["pages: is required"]),
        ({"data": {}}, None, ["data: give 'source' (a file or demo) or 'ibis' (a table in another engine)"]),
        ({"pages": [{"components": []}]}, None, ["pages[0].title: is required"]),
        ({"pages": one_component(props={})}, None, ["pages[0].components[0].props.column: is required"]),
        ({"pages": [{"title": "P", "components": [{"id": "h"}]}]}, None, ["pages[0].components[0].type: is required"]),
    ],
)
def test_layout012_missing_required_fields(
    folder: Path, changes: dict[str, Any], removed: str | None, lines: list[str]
) -> None:
    layout = good_layout(**changes)
    if removed:
        del layout[removed]
    assert errors_of(folder, layout) == lines


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            {"colour": "red"},
            "(top level): 'colour' is not a parameter of a layout; its parameters are: "
            "title, description, data, filter, slices, pages",
        ),
        (
            {"data": {"source": "toy.csv", "sep": ";"}},
            "data: 'sep' is not a parameter of data; its parameters are: source, ibis, id_column, roles, kinds",
        ),
        (
            {"pages": [{"title": "P", "layout": "grid"}]},
            "pages[0]: 'layout' is not a parameter of a page; its parameters are: title, components",
        ),
        (
            {"pages": one_component(props={"column": "x"}, colour="red")},
            "pages[0].components[0]: 'colour' is not a parameter of a component; its parameters are: "
            "type, id, title, width, height, props",
        ),
        (
            {"filter": [{"op": "eq", "column": "x", "value": 1, "negate": True}]},
            "filter[0]: 'negate' is not a parameter of a clause; its parameters are: "
            "source, op, column, columns, value",
        ),
    ],
)
def test_layout013_unknown_keys_name_the_valid_ones(folder: Path, changes: dict[str, Any], line: str) -> None:
    assert errors_of(folder, good_layout(**changes)) == [line]


def test_layout014_unknown_component_type_lists_the_types(folder: Path) -> None:
    types = ", ".join(registry.component_types())
    layout = good_layout(pages=[{"title": "P", "components": [{"type": "histo", "id": "h", "props": {"column": "x"}}]}])
    assert errors_of(folder, layout) == [
        f"pages[0].components[0].type: 'histo' is not a component type; the types are: {types}"
    ]
    assert "histogram" in types.split(", ")


def test_layout015_duplicate_component_ids(folder: Path) -> None:
    component = {"type": "histogram", "id": "h", "props": {"column": "x"}}
    layout = good_layout(
        pages=[{"title": "A", "components": [component, component]}, {"title": "B", "components": [component]}]
    )
    assert errors_of(folder, layout) == [
        "pages[0].components[1].id: 'h' is already the id of pages[0].components[0]; ids must be unique",
        "pages[1].components[0].id: 'h' is already the id of pages[0].components[0]; ids must be unique",
    ]


def test_layout016_unknown_prop_names_the_parameters(folder: Path) -> None:
    parameters = ", ".join(Histogram.Props.model_fields)
    assert parameters.startswith("column, bins, ")
    layout = good_layout(pages=one_component(props={"column": "x", "binz": 10}))
    assert errors_of(folder, layout) == [
        f"pages[0].components[0].props: 'binz' is not a parameter of histogram; its parameters are: {parameters}"
    ]


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        (
            {"props": {"column": "x", "bins": 0}},
            "pages[0].components[0].props.bins: Input should be greater than or equal to 1 (got 0)",
        ),
        (
            {"props": {"column": "x", "bins": "many"}},
            "pages[0].components[0].props.bins: Input should be a valid integer, unable to parse string as an integer "
            "(got 'many')",
        ),
        ({"props": {"column": 3}}, "pages[0].components[0].props.column: Input should be a valid string (got 3)"),
        (
            {"props": {"column": "x"}, "width": 7},
            "pages[0].components[0].width: Input should be less than or equal to 6 (got 7)",
        ),
        (
            {"props": {"column": "x"}, "id": "1 h"},
            "pages[0].components[0].id: String should match pattern '^[A-Za-z][A-Za-z0-9_-]{0,63}$' (got '1 h')",
        ),
    ],
)
def test_layout017_bad_values(folder: Path, spec: dict[str, Any], line: str) -> None:
    layout = good_layout(pages=[{"title": "P", "components": [{"type": "histogram", "id": "h", **spec}]}])
    assert errors_of(folder, layout) == [line]


def test_layout018_every_component_problem_is_reported(folder: Path) -> None:
    layout = good_layout(
        pages=[
            {
                "title": "P",
                "components": [
                    {"type": "histogram", "id": "a", "props": {"column": "x", "bins": 0}},
                    {"type": "pie", "id": "b"},
                    {"type": "histogram", "id": "a", "props": {"column": "x", "binz": 3}},
                ],
            }
        ]
    )
    lines = errors_of(folder, layout)
    assert [line.split(":")[0] for line in lines] == [
        "pages[0].components[0].props.bins",
        "pages[0].components[1].type",
        "pages[0].components[2].id",
        "pages[0].components[2].props",
    ]


def test_layout023_component_and_data_problems_are_reported_together(folder: Path) -> None:
    layout = good_layout(data={"source": "gone.parquet"}, pages=one_component(type="histgram"))
    errors = errors_of(folder, layout)
    assert errors[0].startswith("pages[0].components[0].type: 'histgram' is not a component type")
    assert errors[1] == f"data: source: no such data file 'gone.parquet' (looked for {folder / 'gone.parquet'})"


def test_layout019_unknown_column_in_props(folder: Path) -> None:
    layout = good_layout(pages=one_component(props={"column": "confidance"}))
    assert errors_of(folder, layout) == [
        f"pages[0].components[0].props.column: unknown column 'confidance'; the columns are: {COLUMNS}"
    ]


def test_layout020_missing_data_file_and_demo(folder: Path) -> None:
    assert errors_of(folder, good_layout(data={"source": "data/nope.csv"})) == [
        f"data: source: no such data file 'data/nope.csv' (looked for {folder / 'data' / 'nope.csv'})"
    ]
    assert errors_of(folder, good_layout(data={"source": "demo:mnist"})) == [
        "data: source: 'demo:mnist' is not a built-in demo; the demos are: demo:digits, demo:breast_cancer"
    ]
    assert errors_of(folder, good_layout(data={"source": "toy.csv", "id_column": "key"})) == [
        f"data: id_column: unknown column 'key'; the columns are: {COLUMNS}"
    ]


@pytest.mark.parametrize(
    ("clause", "line"),
    [
        (
            {"op": "eq", "column": "nope", "value": 1},
            f"filter[0]: clause from 'python': unknown column 'nope'; the columns are: {COLUMNS}",
        ),
        (
            {"op": "eq", "column": "split", "value": 1},
            "filter[0]: clause from 'python': column 'split' holds Enum(categories=['test', 'train']); "
            "the value 1 is not a string",
        ),
        (
            {"op": "range", "column": "split", "value": ["a", "b"]},
            "filter[0]: clause from 'python': 'range' needs a numeric or date column; 'split' is categorical",
        ),
        ({"op": "range", "column": "x", "value": [3, 1]}, "filter[0]: a 'range' value must have low <= high"),
        (
            {"op": "like", "column": "x", "value": 1},
            "filter[0].op: Input should be 'eq', 'in', 'not_in', 'range', 'lt', 'le', 'gt', 'ge', 'is_null', "
            "'contains', 'polygon', 'ids', 'pairs', 'all', 'any' or 'not' (got 'like')",
        ),
        (
            {"op": "in", "column": "x", "value": [[1]]},
            "filter[0]: an 'in' value must hold only strings, numbers or booleans",
        ),
    ],
)
def test_layout021_bad_initial_filter(folder: Path, clause: dict[str, Any], line: str) -> None:
    assert errors_of(folder, good_layout(filter=[clause])) == [line]


def test_layout022_a_file_that_is_not_a_layout(folder: Path) -> None:
    assert errors_of(folder, "[]") == ["(top level): Input should be a valid dictionary or instance of Layout"]
    assert errors_of(folder, good_layout(pages=[])) == [
        "pages: List should have at least 1 item after validation, not 0"
    ]


# -- the schema -----------------------------------------------------------------------------------------------------


def _spec_defs(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The component specs of the schema, by the type name each one's ``type`` is fixed to."""
    mapping = schema["$defs"]["Page"]["properties"]["components"]["items"]["discriminator"]["mapping"]
    return {name: schema["$defs"][ref.rsplit("/", 1)[-1]] for name, ref in mapping.items()}


def test_layout030_schema_lists_every_registered_component() -> None:
    schema = layout_schema()
    specs = _spec_defs(schema)
    assert set(specs) == set(registry.component_types())
    for name, spec in specs.items():
        assert spec["properties"]["type"]["const"] == name
        props_ref = spec["properties"]["props"]["$ref"].rsplit("/", 1)[-1]
        fields = set(registry.component_types()[name].Props.model_fields)
        assert set(schema["$defs"][props_ref].get("properties", {})) == fields
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "symphony_dash layout"
    assert schema["required"] == ["title", "data", "pages"]
    histogram = schema["$defs"][_spec_defs(schema)["histogram"]["properties"]["props"]["$ref"].rsplit("/", 1)[-1]]
    assert histogram["properties"]["column"]["x-symphony"] == "column"
    assert histogram["additionalProperties"] is False
    json.dumps(schema)


@pytest.mark.parametrize("path", LAYOUT_FILES, ids=[f"{p.parent.name}/{p.name}" for p in LAYOUT_FILES])
def test_layout031_layout_files_validate_against_the_schema(path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = layout_schema()
    jsonschema.Draft202012Validator(schema).validate(json.loads(path.read_text()))
    bad = good_layout(pages=one_component(props={"column": "x", "binz": 3}))
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))


# -- the app keeps working around a broken layout -------------------------------------------------------------------


def test_layout040_a_broken_layout_among_good_ones_still_builds_the_app(folder: Path) -> None:
    broken_file = folder / "broken.json"
    broken_file.write_text(json.dumps(good_layout(pages=one_component(props={"column": "x", "binz": 3}))))
    good_file = folder / "good.json"
    good_file.write_text(json.dumps(good_layout(title="Good")))
    in_memory_broken = good_layout(title="Bad", pages=[{"title": "P", "components": [{"type": "pie", "id": "p"}]}])
    app = create_app([good_file, broken_file, good_layout(title="Also good"), in_memory_broken], data=Dataset(TOY))
    layouts = app.symphony_layouts  # type: ignore[attr-defined]
    assert list(layouts) == ["good", "broken", "also-good", "layout-4"]
    assert isinstance(layouts["good"], LoadedLayout)
    assert isinstance(layouts["also-good"], LoadedLayout)
    assert isinstance(layouts["broken"], BrokenLayout)
    assert layouts["broken"].error.errors == [
        f"pages[0].components[0].props: 'binz' is not a parameter of histogram; its parameters are: "
        f"{', '.join(Histogram.Props.model_fields)}"
    ]
    assert isinstance(layouts["layout-4"], BrokenLayout)
    assert layouts["layout-4"].error.file == "<layout>"


# -- the registry ---------------------------------------------------------------------------------------------------


class Badge(Component):
    """A plugin component that works."""

    type = "test-badge"


class Duplicate(Component):
    type = "histogram"


class Future(Component):
    type = "test-future"
    api_version = API_VERSION + 1


class Nameless(Component):
    pass


class Unschemable(Component):
    type = "test-unschemable"

    class Props(Props):
        transform: Callable[[int], int] = lambda v: v


@dataclass
class FakeEntryPoint:
    """What ``importlib.metadata.entry_points`` gives: a name, the target's text, and a ``load()``."""

    name: str
    value: str
    target: Callable[[], Any]

    def load(self) -> Any:
        return self.target()


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The built-ins registered and nothing else, restored afterwards so no test leaks a type or a broken plugin."""
    types = dict(registry.component_types())
    monkeypatch.setattr(registry, "_types", types)
    monkeypatch.setattr(registry, "broken", {})
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    yield


def _missing_module() -> Any:
    raise ModuleNotFoundError("No module named 'missing_plugin'")


def _registry_error(cls: Any) -> str:
    with pytest.raises(registry.RegistryError) as caught:
        registry.register(cls)
    return str(caught.value)


@pytest.mark.usefixtures("clean_registry")
def test_registry001_refusals_name_the_class_and_the_rule() -> None:
    assert _registry_error(Duplicate) == (
        f"component type 'histogram' of {Duplicate.__module__}.Duplicate is already registered by "
        "symphony_dash.components.histogram.Histogram"
    )
    assert _registry_error(Future) == (
        f"Future ('test-future') was written for component API version {API_VERSION + 1}; "
        f"this symphony_dash provides version {API_VERSION}"
    )
    assert _registry_error(Nameless) == "Nameless has no 'type' name"
    assert _registry_error(int) == "<class 'int'> is not a subclass of symphony_dash.Component"
    assert (
        _registry_error(BaseModel) == "<class 'pydantic.main.BaseModel'> is not a subclass of symphony_dash.Component"
    )
    assert _registry_error("histogram") == "'histogram' is not a subclass of symphony_dash.Component"
    assert _registry_error(Unschemable).startswith("the Props of 'test-unschemable' cannot be written as JSON Schema: ")
    assert registry.get("test-future") is None
    assert registry.get("histogram") is Histogram


@pytest.mark.usefixtures("clean_registry")
def test_registry002_registering_works_and_is_idempotent() -> None:
    assert registry.register(Badge) is Badge
    assert registry.register(Badge) is Badge
    assert registry.get("test-badge") is Badge
    assert list(registry.component_types())[-1] == "test-badge"


@pytest.mark.usefixtures("clean_registry")
def test_registry003_a_broken_plugin_is_recorded_and_the_others_load(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    asked: list[str] = []

    def entry_points(*, group: str) -> list[FakeEntryPoint]:
        asked.append(group)
        return [
            FakeEntryPoint("missing", "missing_plugin:Thing", _missing_module),
            FakeEntryPoint("dup", "dup_plugin:Duplicate", lambda: Duplicate),
            FakeEntryPoint("future", "future_plugin:Future", lambda: Future),
            FakeEntryPoint("notaclass", "odd_plugin:thing", lambda: 42),
            FakeEntryPoint("badge", "badge_plugin:Badge", lambda: Badge),
        ]

    monkeypatch.setattr(registry, "entry_points", entry_points)
    with caplog.at_level(logging.ERROR, logger="symphony_dash.registry"):
        registry.load_plugins()
        registry.load_plugins()  # once only
    assert asked == ["symphony_dash.components"]
    assert registry.get("test-badge") is Badge
    assert registry.get("histogram") is Histogram
    assert registry.broken == {
        "missing": "ModuleNotFoundError: No module named 'missing_plugin'",
        "dup": f"RegistryError: component type 'histogram' of {Duplicate.__module__}.Duplicate is already registered "
        "by symphony_dash.components.histogram.Histogram",
        "future": f"RegistryError: Future ('test-future') was written for component API version {API_VERSION + 1}; "
        f"this symphony_dash provides version {API_VERSION}",
        "notaclass": "RegistryError: 42 is not a subclass of symphony_dash.Component",
    }
    assert caplog.messages[0] == (
        "component plugin 'missing' (missing_plugin:Thing) was not loaded: "
        "ModuleNotFoundError: No module named 'missing_plugin'"
    )
    assert len(caplog.messages) == 4


@pytest.mark.usefixtures("clean_registry")
def test_registry004_a_layout_can_use_a_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda *, group: [FakeEntryPoint("badge", "b:Badge", lambda: Badge)])
    layout = good_layout(pages=[{"title": "P", "components": [{"type": "test-badge", "id": "b"}]}])
    loaded = load_layout(layout=layout, data=Dataset(TOY))
    assert isinstance(loaded.instances["b"][0], Badge)
    assert "test-badge" in _spec_defs(layout_schema())


def test_registry005_the_fixture_left_no_trace() -> None:
    assert registry.get("test-badge") is None
    assert registry.broken == {}
