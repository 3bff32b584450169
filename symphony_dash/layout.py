"""Layouts: JSON files of pages of components over one data source, validated with messages written for people.

A bad file is reported as ``layouts/triage.json: pages[0].components[2].props: 'binz' is not a parameter of
histogram; its parameters are: column, bins, log_y`` and the other layouts still load. The JSON Schema of a layout is
generated from these models and the registered components' ``Props``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from . import registry
from .component import Component
from .dataset import Dataset, DatasetError
from .engine import Engine
from .files import FileStamp
from .ibis_engine import IbisDataset, IbisEngine, IbisSource, open_table
from .state import Clause, ClauseError, State, json_path

__all__ = [
    "ComponentSpec",
    "DataSource",
    "Layout",
    "LayoutError",
    "LoadedLayout",
    "Page",
    "SavedSlice",
    "layout_schema",
    "load_layout",
]

GRID_COLUMNS = 6
SLICE_NAME_LENGTH = 80
_ID = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSource(_Strict):
    """Where a layout's data comes from: a path relative to the layout file, a built-in demo (``demo:digits``), or
    a table in another engine through Ibis (``ibis``: Spark, a warehouse; see :class:`IbisSource`)."""

    source: str | None = Field(default=None, min_length=1)
    ibis: IbisSource | None = None
    id_column: str | None = None
    roles: dict[str, str] = Field(default_factory=dict)
    kinds: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> DataSource:
        if (self.source is None) == (self.ibis is None):
            either = "give 'source' (a file or demo) or 'ibis' (a table in another engine)"
            raise ValueError(either if self.source is None else f"{either}, not both")
        return self


class ComponentSpec(_Strict):
    """One component on a page: its type, a unique id, its settings and its size on the 6-column grid."""

    type: str
    id: str = Field(pattern=_ID)
    title: str | None = None
    width: int = Field(default=3, ge=1, le=GRID_COLUMNS)
    height: int = Field(default=2, ge=1, le=6)
    props: dict[str, Any] = Field(default_factory=dict)


class Page(_Strict):
    title: str = Field(min_length=1)
    components: list[ComponentSpec] = Field(default_factory=list)


class SavedSlice(_Strict):
    """A named filter saved in a layout ("blurry 8s"): the toolbar's Slices menu applies it in one click."""

    name: str = Field(min_length=1, max_length=SLICE_NAME_LENGTH)
    filter: list[Clause] = Field(min_length=1)


class Layout(_Strict):
    """A composition: title, data, pages of components, an optional initial filter and saved slices."""

    title: str = Field(min_length=1)
    description: str = ""
    data: DataSource
    filter: list[Clause] = Field(default_factory=list)
    slices: list[SavedSlice] = Field(default_factory=list)
    pages: list[Page] = Field(min_length=1)


class LayoutError(ValueError):
    """A layout that cannot be used. ``errors`` holds one ``path: rule`` line per problem."""

    def __init__(self, file: str, errors: list[str]) -> None:
        self.file = file
        self.errors = errors
        super().__init__("\n".join(f"{file}: {e}" for e in errors))


@dataclass
class LoadedLayout:
    """A validated layout with its dataset and engine, ready to serve.

    ``version`` is the SHA-256 of the file's bytes as loaded: a save refuses to overwrite a file changed since.
    ``stamp`` is the file's modification time and size when last read, so that :meth:`refresh` reads it only when
    it may have changed.
    """

    slug: str
    path: Path | None
    layout: Layout
    dataset: Dataset
    engine: Engine
    instances: dict[str, tuple[Component, ComponentSpec]] = field(default_factory=dict)
    version: str | None = None
    stamp: FileStamp | None = None

    def initial_state(self) -> dict[str, Any]:
        return State(layout=self.slug, filter=self.layout.filter).model_dump(mode="json")

    def page_index(self, part: str | None) -> int:
        """The page a path names, by number or by its title's slug (``/digits/1``, ``/digits/model``); else 0."""
        for i, page in enumerate(self.layout.pages):
            if part in (str(i), slug_of(Path(page.title))):
                return i
        return 0

    def refresh(self) -> list[str]:
        """Read the layout file again if it changed since it was loaded, keeping the data; return its problems.

        A layout saved by another worker process, or edited by hand, is served from the next page drawn. A changed
        file with problems is not used (the layout stays as it was) and its problems are returned.
        """
        if self.path is None or (self.stamp is not None and not self.stamp.changed()):
            return []  # a page is drawn often; a stat says whether the file may have changed
        stamp = FileStamp.of(self.path)
        try:
            data = self.path.read_bytes()
        except OSError:  # deleted or unreadable for a moment: keep serving what was loaded
            return []
        if hashlib.sha256(data).hexdigest() == self.version:  # touched, or saved by this app: the same layout
            self.stamp = stamp
            return []
        try:
            fresh = load_layout(self.path, data=self.dataset)
        except LayoutError as exc:
            return exc.errors
        self.layout, self.instances, self.version, self.stamp = fresh.layout, fresh.instances, fresh.version, stamp
        return []

    def with_dataset(self, dataset: Dataset) -> LoadedLayout:
        """A copy serving ``dataset`` (this one's columns and more), with its own engine and component instances."""
        instances = {key: (type(c)(key, c.props, dataset), spec) for key, (c, spec) in self.instances.items()}
        return LoadedLayout(
            self.slug, self.path, self.layout, dataset, engine_for(dataset), instances, self.version, self.stamp
        )


def engine_for(dataset: Dataset) -> Engine:
    """The polars engine, or the Ibis engine for a table in another engine."""
    return IbisEngine(dataset) if isinstance(dataset, IbisDataset) else Engine(dataset)  # type: ignore[return-value]


def slug_of(path: Path) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "layout"


def load_layout(
    path: str | Path | None = None,
    *,
    layout: Layout | dict[str, Any] | None = None,
    data: Dataset | str | Path | None = None,
    datasets: dict[str, Dataset] | None = None,
) -> LoadedLayout:
    """Read, validate and prepare one layout (from ``path`` or an in-memory ``layout``).

    ``data`` overrides the layout's data source; ``datasets`` shares the datasets already loaded, by source.
    Raises :class:`LayoutError` naming the file, the JSON path and the rule of every problem found.
    """
    file = str(path) if path is not None else "<layout>"
    version = stamp = None
    if layout is None:
        stamp = FileStamp.of(Path(file))  # before the read: a change while it is read is seen at the next refresh
        raw, version = _read_json(Path(file), file)
    else:
        raw = layout.model_dump(mode="json") if isinstance(layout, Layout) else layout
    try:
        model = Layout.model_validate(raw)
    except ValidationError as exc:
        raise LayoutError(file, messages_of(exc)) from None
    errors = _check_components(model)
    base = Path(file).parent if path is not None else Path.cwd()
    try:
        dataset = _dataset(model.data, data, base, datasets if datasets is not None else {})
    except DatasetError as exc:
        errors.append(f"data: {exc}")
    if errors:  # every problem at once, so one round of fixes is enough
        raise LayoutError(file, errors)
    # A title of only non-ASCII letters ("日本語") has no slug of its own; an empty one would be an unreachable page.
    slug = slug_of(Path(file)) if path is not None else re.sub(r"[^a-z0-9]+", "-", model.title.lower()).strip("-")
    slug = slug or "layout"
    where = Path(file) if path is not None else None
    loaded = LoadedLayout(slug, where, model, dataset, engine_for(dataset), version=version, stamp=stamp)
    errors = _check_against_data(loaded)
    if errors:
        raise LayoutError(file, errors)
    return loaded


def _read_json(path: Path, file: str) -> tuple[Any, str]:
    """The file's JSON and the hash of its bytes (its version); bytes, as a text read would hide a CRLF change."""
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise LayoutError(file, ["no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(file, [f"cannot be read: {exc}"]) from None
    try:
        return json.loads(text), hashlib.sha256(data).hexdigest()
    except json.JSONDecodeError as exc:
        raise LayoutError(file, [f"line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}"]) from None


def messages_of(exc: ValidationError, prefix: tuple[int | str, ...] = (), owner: str = "") -> list[str]:
    """pydantic's errors as ``path: rule`` lines; an unknown key names the valid ones, as a person needs."""
    lines = []
    for err in exc.errors()[:10]:
        loc = prefix + tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            *parent, key = loc
            what, model = _owner_of(tuple(err["loc"])[:-1], owner)
            valid = ", ".join(model.model_fields) if model is not None else "(see 'symphony-dash schema')"
            lines.append(
                f"{json_path(tuple(parent))}: {key!r} is not a parameter of {what}; its parameters are: {valid}"
            )
        elif err["type"] == "missing":
            lines.append(f"{json_path(loc)}: is required")
        else:
            got = err.get("input")
            shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
            lines.append(f"{json_path(loc)}: {err['msg'].removeprefix('Value error, ')}{shown}")
    return lines


_MODELS_AT: dict[tuple[str, ...], tuple[str, type[BaseModel]]] = {
    (): ("a layout", Layout),
    ("data",): ("data", DataSource),
    ("pages",): ("a page", Page),
    ("pages", "components"): ("a component", ComponentSpec),
    ("filter",): ("a clause", Clause),
    ("slices",): ("a saved slice", SavedSlice),
    ("slices", "filter"): ("a clause", Clause),
}


def _owner_of(parent: tuple[int | str, ...], component_type: str) -> tuple[str, type[BaseModel] | None]:
    """Which model an unknown key was found in: a component's ``Props``, or a part of the layout."""
    if component_type:
        cls = registry.get(component_type)
        return component_type, cls.Props if cls is not None else None
    return _MODELS_AT.get(tuple(p for p in parent if isinstance(p, str)), ("this object", None))


def _check_components(model: Layout) -> list[str]:
    errors: list[str] = []
    seen: dict[str, str] = {}
    types = registry.component_types()
    for p, page in enumerate(model.pages):
        for c, spec in enumerate(page.components):
            where = f"pages[{p}].components[{c}]"
            cls = types.get(spec.type)
            if cls is None:
                errors.append(f"{where}.type: {spec.type!r} is not a component type; the types are: {', '.join(types)}")
                continue
            if spec.id in seen:
                errors.append(f"{where}.id: {spec.id!r} is already the id of {seen[spec.id]}; ids must be unique")
            seen.setdefault(spec.id, where)
            try:
                cls.Props.model_validate(spec.props)
            except ValidationError as exc:
                errors.extend(messages_of(exc, ("pages", p, "components", c, "props"), owner=spec.type))
    names: dict[str, int] = {}
    for i, saved in enumerate(model.slices):
        if saved.name in names:
            errors.append(
                f"slices[{i}].name: {saved.name!r} is already the name of slices[{names[saved.name]}]; "
                "names must be unique"
            )
        names.setdefault(saved.name, i)
    return errors


def _dataset(
    source: DataSource, override: Dataset | str | Path | None, base: Path, shared: dict[str, Dataset]
) -> Dataset:
    if isinstance(override, Dataset):
        return override
    options = dict(id_column=source.id_column, roles=source.roles, kinds=source.kinds)  # type: ignore[arg-type]
    if override is None and source.ibis is not None:
        cache_key = f"ibis:{source.ibis.model_dump_json()}|{json.dumps(options, sort_keys=True)}"
        if cache_key not in shared:
            table = open_table(source.ibis)
            shared[cache_key] = IbisDataset(table, name=source.ibis.table, **options)  # type: ignore[arg-type]
        return shared[cache_key]
    spec = str(override) if override is not None else str(source.source)
    key = spec if spec.startswith("demo:") else str((base / spec).resolve())
    cache_key = f"{key}|{json.dumps(options, sort_keys=True)}"
    if cache_key in shared:
        return shared[cache_key]
    if spec.startswith("demo:"):
        from . import demo

        name = spec.removeprefix("demo:")
        if name not in demo.DEMOS:
            names = ", ".join(f"demo:{n}" for n in demo.DEMOS)
            raise DatasetError(f"source: {spec!r} is not a built-in demo; the demos are: {names}")
        frame, media = demo.load_demo(name)
        dataset = Dataset(frame, name=name, media_root=media, **options)  # type: ignore[arg-type]
    else:
        path = Path(key)
        if not path.exists():
            raise DatasetError(f"source: no such data file {spec!r} (looked for {path})")
        dataset = Dataset(path, name=path.stem, **options)  # type: ignore[arg-type]
    shared[cache_key] = dataset
    return dataset


def _check_against_data(loaded: LoadedLayout) -> list[str]:
    """Column names in props and the initial filter must exist in the data: say so at load time, not on screen."""
    errors = []
    for p, page in enumerate(loaded.layout.pages):
        for c, spec in enumerate(page.components):
            cls = registry.get(spec.type)
            props = cls.Props.model_validate(spec.props)  # type: ignore[union-attr]
            for name, col in _named_columns(props):
                if col not in loaded.dataset.columns:
                    errors.append(
                        f"pages[{p}].components[{c}].props.{name}: unknown column {col!r}; "
                        f"the columns are: {', '.join(loaded.dataset.columns)}"
                    )
            loaded.instances[spec.id] = (cls(spec.id, props, loaded.dataset), spec)  # type: ignore[misc]
    for i, clause in enumerate(loaded.layout.filter):
        try:
            loaded.engine.check(clause)
        except ClauseError as exc:
            errors.append(f"filter[{i}]: {exc}")
    for s, saved in enumerate(loaded.layout.slices):
        for i, clause in enumerate(saved.filter):
            try:
                loaded.engine.check(clause)
            except ClauseError as exc:
                errors.append(f"slices[{s}].filter[{i}]: {exc}")
    return errors


def _named_columns(props: BaseModel, prefix: str = "") -> list[tuple[str, str]]:
    """``(field path, column)`` of every column a ``Props`` names, in nested models too (such as a chart's args).

    A column field holds one column, a list of them, or a mapping keyed by column (such as display names).
    """
    named = []
    for name in column_fields(type(props)):
        value = getattr(props, name)
        cols = list(value) if isinstance(value, (list, dict)) else [value]
        named += [(prefix + name, col) for col in cols if col is not None]
    for name, value in props:
        if isinstance(value, BaseModel):
            named += _named_columns(value, f"{prefix}{name}.")
    return named


def column_fields(props: type[BaseModel]) -> list[str]:
    """The names of the ``Props`` fields declared with :func:`symphony_dash.Column`."""
    return [
        name
        for name, info in props.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("x-symphony") == "column"
    ]


def layout_schema() -> dict[str, Any]:
    """The JSON Schema of a layout file, with one entry per registered component type and its ``Props``."""
    specs = []
    for type_name, cls in registry.component_types().items():
        specs.append(
            create_model(
                f"{cls.__name__}Spec",
                __base__=ComponentSpec,
                __doc__=cls.description or f"The {type_name} component.",
                type=(Literal[type_name], ...),  # type: ignore[valid-type]
                props=(cls.Props, Field(default_factory=dict)),  # type: ignore[arg-type]
            )
        )
    any_spec = Annotated[Union[tuple(specs)], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    page = create_model("Page", __base__=Page, components=(list[any_spec], Field(default_factory=list)))
    model = create_model("Layout", __base__=Layout, pages=(list[page], Field(min_length=1)))  # type: ignore[valid-type]
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "symphony_dash layout"
    return schema
