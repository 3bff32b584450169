"""The component SDK: subclass :class:`Component`, declare a few things, and the base class does the wiring.

A component declares

- ``type``: its name in layouts, and ``Props``: a pydantic model of its settings (validates layout JSON);
- ``layout()``: its Dash skeleton, with ids from ``self.id("graph")``;
- ``outputs`` / ``inputs``: which props of that skeleton ``render`` fills and which extra ones re-render it
  (``reads``: props it reads as they are, without re-rendering when they change);
- ``render(view)``: what it shows for the current state (``view.data`` is the engine under the crossfilter);
- ``events`` and ``on_event(name, value, view)`` if it filters or selects: turn a UI event into a clause;
- ``requests`` and ``on_request(name, value, view)`` if the browser asks for data, such as a grid's next rows;
- ``inspect`` and ``on_inspect(name, value, view)`` if it shows instances: the id a hover or click points at, which
  the app's detail panel then shows;
- ``clientside`` (rarely): JavaScript for what only the browser can do, such as resetting a grid's row cache.

The base class makes the ids, registers one pattern-matching (``MATCH``) callback per component type for every
instance (and :func:`register_render_all`, one request that renders every instance when the shared state changes),
leaves a component's own clause out of its filter, and shows an error card in the component's own box when it raises.
Component code never writes ``@callback``. ``sdk/README.md`` is the whole contract on one page.

>>> class Count(Component):
...     type = "count"
...     outputs = (Slot("text", "children"),)
...     def layout(self):
...         return html.H2(id=self.id("text"))
...     def render(self, view):
...         return f"{view.data.count():,} instances"
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import dash
import pandas as pd
import polars as pl
from dash import ALL, MATCH, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .dataset import Dataset, DatasetError
from .engine import Engine, Query
from .state import MAX_IDS, MAX_VERTICES, Clause, ClauseError, parse_state
from .state import State as SymphonyState

__all__ = [
    "API_VERSION",
    "Clientside",
    "Column",
    "Component",
    "Event",
    "Props",
    "Request",
    "Slot",
    "View",
    "error_card",
]

API_VERSION = 1
"""The version of this contract; a plugin built for another one is refused with a message saying so."""

STATE_ID = "symphony-state"
log = logging.getLogger(__name__)
# What a malformed event from the browser raises in component code: it is ignored, and the page keeps working.
_MALFORMED = (ClauseError, DatasetError, ValidationError, ValueError, KeyError, TypeError, AttributeError)


def Column(default: Any = ..., **kwargs: Any) -> Any:  # noqa: N802 - reads like a type in Props
    """A ``Props`` field that names a column of the dataset: checked when a layout loads, offered as a choice."""
    return Field(default, json_schema_extra={"x-symphony": "column"}, **kwargs)


class Props(BaseModel):
    """Base of every component's settings: unknown settings are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Slot:
    """One property of one element of a component's skeleton, e.g. ``Slot("graph", "figure")``."""

    sub: str
    prop: str

    @property
    def name(self) -> str:
        return f"{self.sub}.{self.prop}"


@dataclass(frozen=True)
class Event:
    """A UI event that makes a clause: a ``filter`` clause narrows other views, a ``selection`` marks instances."""

    slot: Slot
    kind: Literal["filter", "selection"] = "filter"
    send_if: str | None = None
    """JavaScript ``function (value)``: whether the browser sends a value to the server at all. Plotly reports an
    empty selection each time it draws a brushed graph again; answering it cost a round trip, and until it was
    answered Dash held back every browser callback after the state (a gallery's tiles, a grid's rows)."""


@dataclass(frozen=True)
class Request:
    """A request from the browser (``slot``, e.g. a grid's ``getRowsRequest``) answered into ``response``.

    It has a callback of its own, so a new state never cancels an answer the browser is waiting for; and it is always
    answered, against the unfiltered data if the page's state has not arrived yet.
    """

    slot: Slot
    response: Slot


@dataclass(frozen=True)
class Clientside:
    """JavaScript run in the browser, with no server round trip, when one of ``inputs`` changes.

    ``function`` is the source of ``function(...inputs, ...state)``, returning the value of ``output`` if there is
    one. The slots are this instance's: ``dash_clientside.callback_context.inputs_list[0].id`` is the first input's id.
    For what only the browser can do, such as calling a grid's API.
    """

    function: str
    inputs: tuple[Slot, ...]
    output: Slot | None = None
    state: tuple[Slot, ...] = ()


@dataclass
class View:
    """What a component renders from: the dataset, the state, and queries under the component's crossfilter."""

    component_id: str
    dataset: Dataset
    engine: Engine
    state: SymphonyState
    inputs: Mapping[str, Any] = field(default_factory=dict)
    trigger: str | None = None

    @property
    def filter(self) -> list[Clause]:
        """Every active clause but the component's own."""
        return self.state.filter_for(self.component_id)

    @property
    def own(self) -> Clause | None:
        """The component's own active filter clause (to draw its brush), if any."""
        return self.state.own_clause(self.component_id)

    @property
    def selection(self) -> Clause | None:
        return self.state.selection

    @property
    def data(self) -> Query:
        """The rows this component shows: every clause applied but its own."""
        return self.engine.where(self.filter)

    @property
    def all(self) -> Query:
        """Every row, to draw the unfiltered data in grey behind the filtered data."""
        return self.engine.all

    def where(self, *clauses: Clause) -> Query:
        """This view's rows narrowed by more clauses (a group, a cell), with the mask of the whole filter cached."""
        return self.engine.where([*self.filter, *clauses])

    @property
    def selected(self) -> Query | None:
        """The selected instances among this view's rows, to highlight them; ``None`` when nothing is selected."""
        return self.where(self.selection) if self.selection is not None else None

    def selected_ids(self) -> list[Any]:
        """The ids of the selected instances (empty when nothing is selected)."""
        sel = self.state.selection
        if sel is None:
            return []
        return sel.value if sel.op == "ids" else self.engine.where([sel]).ids()

    def frame(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """This view's rows as a polars frame (only ``columns``, if given), to compute a custom view in a few lines.

        Meant for data of up to some hundred thousand rows; over more, ask ``view.data`` for aggregates (``count``,
        ``histogram``, ``value_counts``, ``crosstab``, ``bins2d``, a page of ``rows``, a ``sample``), which never
        copy the table.
        """
        return self.data.frame(columns)

    def pandas(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """This view's rows as a pandas frame: :meth:`frame`, converted."""
        return self.frame(columns).to_pandas()


class Component:
    """Base class of every component. Subclass it, set the class attributes, override the hooks."""

    type: ClassVar[str] = ""
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    api_version: ClassVar[int] = API_VERSION
    Props: ClassVar[type[BaseModel]] = Props
    outputs: ClassVar[Sequence[Slot]] = ()
    inputs: ClassVar[Sequence[Slot]] = ()
    reads: ClassVar[Sequence[Slot]] = ()
    """Props ``render`` reads (in ``view.inputs``) without being called again when they change, e.g. a grid's sort."""
    events: ClassVar[Mapping[str, Event]] = {}
    requests: ClassVar[Mapping[str, Request]] = {}
    clientside: ClassVar[Sequence[Clientside]] = ()
    inspect: ClassVar[Sequence[Slot]] = ()
    saved_slices: Sequence[Any] = ()
    """The layout's saved slices (``SavedSlice``: a name and a filter), for components that compare them."""

    def __init__(self, component_id: str, props: BaseModel, dataset: Dataset) -> None:
        self.component_id = component_id
        self.props = props
        self.dataset = dataset

    # -- the hooks a component overrides ------------------------------------------------------------------------

    def layout(self) -> Any:
        """The Dash skeleton inside the component's box. Use ``self.id(sub)`` for ids."""
        raise NotImplementedError

    def render(self, view: View) -> Any:
        """The values of ``outputs`` for the current state: one value, or a tuple in the order of ``outputs``."""
        raise NotImplementedError

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        """Turn the UI event ``name`` into this component's clause, ``None`` to remove it, or ``dash.no_update``."""
        return None

    def on_request(self, name: str, value: Any, view: View) -> Any:
        """The answer to the browser's request ``name``, or ``dash.no_update`` to ignore a malformed one."""
        raise NotImplementedError

    def on_inspect(self, name: str, value: Any, view: View) -> Any:
        """The id of the instance the ``inspect`` slot ``name`` (``"grid.cellClicked"``) points at, or ``None``.

        Return what the browser sent (``3.0`` or ``"3"`` for the id 3 will do): the base class matches it to an id of
        the dataset, and an unknown one shows nothing.
        """
        return None

    def static(self, elements: dict[str, Any]) -> None:
        """For a static report, after ``render``: draw into the skeleton (``elements`` by ``sub``) what the browser
        draws itself from data in the app, such as a gallery's tiles. Most components draw nothing here."""

    # -- helpers for component code -------------------------------------------------------------------------

    def id(self, sub: str) -> dict[str, str]:
        """The id of one element of this instance: the same keys for every component, so ``ALL`` gathers them."""
        return {"type": f"symphony-{self.type}", "sub": sub, "index": self.component_id}

    def clause(self, op: str, **fields: Any) -> Clause:
        """A clause made by this component (its ``source`` set): ``self.clause("in", column="label", value=[3])``."""
        return Clause(source=self.component_id, op=op, **fields)  # type: ignore[arg-type]

    def points_clause(self, value: Any, column: str) -> Clause | dash.NoUpdate | None:
        """The clause of a Plotly click (``clickData``) or selection (``selectedData``) on marks of ``column``.

        Each point stands for its ``customdata``, else its ``x``: a value (a bar of a category) gives ``eq`` for one
        value and ``in`` for several; a ``[low, high]`` pair (a bin) gives the ``range`` spanning the points. ``None``
        (remove the clause) when the selection was cleared; ``dash.no_update`` for a selection of no points, which
        Plotly also reports when it draws a graph again. A malformed value raises, and the event is ignored.
        """
        if value is None:
            return None
        points = value["points"]
        if not points:
            return dash.no_update
        keys = [p["customdata"] if "customdata" in p else p["x"] for p in points]
        if all(isinstance(k, list) and len(k) == 2 for k in keys):
            return self.clause("range", column=column, value=[min(k[0] for k in keys), max(k[1] for k in keys)])
        keys = list(dict.fromkeys(k[0] if isinstance(k, list) and len(k) == 1 else k for k in keys))
        if len(keys) == 1:
            return self.clause("eq", column=column, value=keys[0])
        return self.clause("in", column=column, value=keys)

    def box_clause(self, value: Any, x: str, y: str | None = None) -> Clause | dash.NoUpdate | None:
        """The clause of a Plotly box or lasso selection (``selectedData``) over the numeric columns on the axes.

        With ``y``: a ``polygon`` over ``(x, y)``, a box being its four corners. Without: the ``range`` of ``x`` that a
        box spans (use ``selectdirection="h"``). ``None`` when the selection was cleared (a double-click).
        """
        if value is None:
            return None
        if value.get("range"):
            xs = sorted(float(v) for v in value["range"]["x"])
            if y is None:
                return self.clause("range", column=x, value=[xs[0], xs[-1]])
            ys = sorted(float(v) for v in value["range"]["y"])
            corners = [[xs[0], ys[0]], [xs[-1], ys[0]], [xs[-1], ys[-1]], [xs[0], ys[-1]]]
            return self.clause("polygon", columns=(x, y), value=corners)
        lasso = value.get("lassoPoints")
        if not lasso:
            return dash.no_update  # no box and no lasso: Plotly drawing the graph again, not a person
        if y is None:
            raise ValueError("a lasso needs two columns: give box_clause a y")
        xs, ys = lasso["x"], lasso["y"]
        if len(xs) != len(ys):
            raise ValueError("the lasso's x and y lists differ in length")
        step = -(-len(xs) // MAX_VERTICES)  # a long lasso, thinned to the vertices a polygon clause may hold
        return self.clause(
            "polygon", columns=(x, y), value=[[a, b] for a, b in zip(xs[::step], ys[::step], strict=True)]
        )

    def rows_clause(self, rows: Any) -> Clause | None:
        """The ``ids`` clause of the rows picked in a grid (dash-ag-grid's ``selectedRows``); ``None`` for none."""
        if not rows:
            return None
        if not isinstance(rows, list) or len(rows) > MAX_IDS:
            raise ValueError(f"picked rows must be a list of at most {MAX_IDS} rows")
        return self.clause("ids", value=[row[self.dataset.id_column] for row in rows])

    def resolve(self, field_name: str, role: str) -> str:
        """The column named by a prop, or else the dataset's column for ``role`` (e.g. ``label``)."""
        column = getattr(self.props, field_name, None) or self.dataset.role(role)
        if column is None:
            raise DatasetError(f"{self.type} needs '{field_name}': the dataset has no {role} column to default to")
        return column

    # -- what the framework calls ----------------------------------------------------------------------------

    def box(self, title: str | None, layout_slug: str) -> html.Div:
        """The instance's card: header, body, error slot and the stores that link it to the shared state."""
        shown = title or self.name or self.type
        header = html.Div(
            [
                html.Span(shown, className="symphony-title"),
                html.Span("?", title=self.description, className="symphony-help") if self.description else None,
                # Handled in the browser by assets/download.js, so it needs no id and no callback.
                html.Button(
                    "⤓",
                    title="Download as PNG",
                    className="symphony-download",
                    **{"aria-label": f"Download {shown} as PNG"},
                ),
            ],
            className="symphony-header",
        )
        return html.Div(
            [
                header,
                html.Div(self.layout(), className="symphony-body"),
                html.Div(id=self.id("error"), className="symphony-error"),
                dcc.Store(
                    id=self.id("props"),
                    data={"layout": layout_slug, "id": self.component_id, "props": self.props.model_dump(mode="json")},
                ),
                dcc.Store(id=self.id("clause"), data={}),
                dcc.Store(id=self.id("inspect"), data={}) if self.inspect else None,
                # The values of the events filtered in the browser (Event.send_if) that went through.
                *[dcc.Store(id=self.id(f"sent-{n}")) for n, e in self.events.items() if e.send_if],
            ],
            className=f"symphony-box symphony-{self.type}",
            id=f"box-{self.component_id}",
        )

    @classmethod
    def ids(cls, sub: str, index: Any = MATCH) -> dict[str, Any]:
        return {"type": f"symphony-{cls.type}", "sub": sub, "index": index}

    @classmethod
    def register_callbacks(
        cls, app: dash.Dash, resolve: Callable[[type[Component], Any], tuple[Component, Engine]]
    ) -> None:
        """Register this type's callbacks on ``app``: one render and one event callback serve every instance."""
        outputs = [Output(cls.ids(s.sub), s.prop) for s in cls.outputs] + [Output(cls.ids("error"), "children")]
        extra = [Input(cls.ids(s.sub), s.prop) for s in cls.inputs]
        reads = [State(cls.ids(s.sub), s.prop) for s in cls.reads]

        # An instance renders when its page is mounted and when it is edited (the props store), when one of its own
        # inputs changes; a new shared state renders every instance at once (register_render_all).
        @app.callback(outputs, Input(cls.ids("props"), "data"), *extra, State(STATE_ID, "data"), *reads)
        def render(props_data: Any, *args: Any) -> list[Any]:
            values, state_data, read = args[: len(cls.inputs)], args[len(cls.inputs)], args[len(cls.inputs) + 1 :]
            inputs = dict(zip([s.name for s in (*cls.inputs, *cls.reads)], [*values, *read], strict=True))
            result = render_instance(cls, resolve, state_data, props_data, inputs, _trigger())
            if result is None:
                raise PreventUpdate
            return result

        for name, request in cls.requests.items():
            _register_request(app, cls, resolve, name, request)

        for hook in cls.clientside:
            app.clientside_callback(
                hook.function,
                *([Output(cls.ids(hook.output.sub), hook.output.prop)] if hook.output else []),
                *[Input(cls.ids(s.sub), s.prop) for s in hook.inputs],
                *[State(cls.ids(s.sub), s.prop) for s in hook.state],
            )

        if cls.inspect:
            _register_inspect(app, cls, resolve)

        if not cls.events:
            return
        event_names = list(cls.events)
        # An event with send_if reaches the server through its "sent-<name>" store, as {"value": ...}.
        sources = {n: Slot(f"sent-{n}", "data") if e.send_if else e.slot for n, e in cls.events.items()}
        for name, event in cls.events.items():
            if event.send_if:
                app.clientside_callback(
                    f"function (value) {{ return ({event.send_if})(value) ? {{value: value}} "
                    ": window.dash_clientside.no_update; }",
                    Output(cls.ids(f"sent-{name}"), "data"),
                    Input(cls.ids(event.slot.sub), event.slot.prop),
                    prevent_initial_call=True,
                )

        @app.callback(
            Output(cls.ids("clause"), "data"),
            [Input(cls.ids(s.sub), s.prop) for s in sources.values()],
            # The extra inputs come along as state, so an event can be read against them (e.g. the page shown).
            [State(cls.ids(s.sub), s.prop) for s in (*cls.inputs, *cls.reads)],
            State(STATE_ID, "data"),
            State(cls.ids("props"), "data"),
            prevent_initial_call=True,
        )
        def emit(*args: Any) -> dict[str, Any]:
            *values, state_data, props_data = args
            values, extra = values[: len(event_names)], values[len(event_names) :]
            trigger = _trigger()
            name = next((n for n in event_names if sources[n].name == trigger), event_names[0])
            value = values[event_names.index(name)]
            if cls.events[name].send_if:
                value = value.get("value") if isinstance(value, dict) else None
            try:
                instance, engine = resolve(cls, props_data)
                inputs = {s.name: v for s, v in zip((*cls.inputs, *cls.reads), extra, strict=True)}
                view = View(instance.component_id, instance.dataset, engine, parse_state(state_data), inputs, trigger)
                clause = instance.on_event(name, value, view)
                if clause is not None and clause is not dash.no_update:
                    engine.check(clause)
            except _MALFORMED as exc:
                # A browser can send anything: a malformed event changes nothing, and the page keeps working.
                log.warning("%s: ignored a malformed %s event: %s", cls.type, name, exc)
                raise PreventUpdate from None
            if clause is dash.no_update:
                raise PreventUpdate
            return {
                "kind": cls.events[name].kind,
                "source": instance.component_id,
                "clause": clause.model_dump() if clause is not None else None,
                "at": time.time(),  # a repeated identical event must still reach the merge
            }


def render_instance(
    cls: type[Component],
    resolve: Callable[[type[Component], Any], tuple[Component, Engine]],
    state_data: Any,
    props_data: Any,
    inputs: Mapping[str, Any],
    trigger: str | None,
) -> list[Any] | None:
    """One instance's outputs and its error slot for a state; ``None`` when the state is another layout's."""
    try:
        instance, engine = resolve(cls, props_data)
        state = parse_state(state_data)
        if state.layout != props_data.get("layout"):
            return None  # a state for another layout: wait for this layout's own
        view = View(instance.component_id, instance.dataset, engine, state, dict(inputs), trigger)
        result = instance.render(view)
    except PreventUpdate:
        return None
    except Exception as exc:
        index = props_data.get("id") if isinstance(props_data, dict) else None
        return [dash.no_update] * len(cls.outputs) + [error_card(cls.type, str(index or "?"), exc)]
    result = list(result) if len(cls.outputs) > 1 else [result]
    return [*result, None]


def register_render_all(
    app: dash.Dash,
    types: Sequence[type[Component]],
    resolve: Callable[[type[Component], Any], tuple[Component, Engine]],
) -> None:
    """One callback renders every mounted instance, of every type, when the shared state changes.

    With one callback per type, a new state sent one request per instance, and Dash's renderer spends time on every
    pending callback at each update of the page (it walks the callback graph from each); in headless Chromium that
    cost more than drawing the views (benchmarks/browser.py). One request answers them all; the per-type callbacks
    still render an instance that is mounted, edited or whose own inputs change.
    """
    types = [cls for cls in types if cls.outputs]
    outputs: list[Output] = []
    states: list[State] = []
    for cls in types:
        outputs += [Output(cls.ids(s.sub, ALL), s.prop, allow_duplicate=True) for s in cls.outputs]
        outputs.append(Output(cls.ids("error", ALL), "children", allow_duplicate=True))
        states.append(State(cls.ids("props", ALL), "data"))
        states += [State(cls.ids(s.sub, ALL), s.prop) for s in (*cls.inputs, *cls.reads)]

    @app.callback(outputs, Input(STATE_ID, "data"), *states, prevent_initial_call=True)
    def render_all(state_data: Any, *_: Any) -> list[list[Any]]:
        # Values by instance, from the ids Dash sent with them (the lists of ALL are in page order, not by instance).
        by_type: dict[str, dict[str, dict[str, Any]]] = {}
        for entries in dash.ctx.states_list:
            for entry in entries:
                key = entry["id"]
                slot = f"{key['sub']}.{entry['property']}"
                by_type.setdefault(key["type"], {}).setdefault(key["index"], {})[slot] = entry.get("value")
        work = []
        for cls in types:
            for index, values in by_type.get(f"symphony-{cls.type}", {}).items():
                inputs = {s.name: values.get(s.name) for s in (*cls.inputs, *cls.reads)}
                work.append(((cls.type, index), (cls, resolve, state_data, values.get("props.data"), inputs, None)))
        # The views side by side: polars releases the GIL, so both cores work. A pool per call: a test server that
        # is stopped by force must not leave a shared pool without its threads.
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="symphony-render") as pool:
            # Each in a copy of this request's context: Flask's and Dash's, read by the views (media URLs).
            jobs = {key: pool.submit(contextvars.copy_context().run, render_instance, *a) for key, a in work}
            rendered = {key: job.result() for key, job in jobs.items()}
        current = {
            (f"symphony-{cls.type}", index, s.name): values.get(s.name)
            for cls in types
            for index, values in by_type.get(f"symphony-{cls.type}", {}).items()
            for s in cls.inputs
            if s in cls.outputs
        }
        answer: list[list[Any]] = []
        for slot_outputs in dash.ctx.outputs_list:
            column = []
            for output in slot_outputs:
                key = output["id"]
                result = rendered.get((key["type"].removeprefix("symphony-"), key["index"]))
                prop = output["property"].split("@")[0]  # Dash names a duplicate output "figure@<hash>"
                position = _output_position(types, key["type"], key["sub"], prop)
                value = dash.no_update if result is None or position is None else result[position]
                # A prop that is also an input of its type (a summary's title field) is written only when it
                # changes: writing it would render that instance again, in a second round trip.
                before = current.get((key["type"], key["index"], f"{key['sub']}.{prop}"), _ABSENT)
                column.append(dash.no_update if before is not _ABSENT and before == value else value)
            answer.append(column)
        return answer


_ABSENT = object()


def _output_position(types: Sequence[type[Component]], type_id: str, sub: str, prop: str) -> int | None:
    """Where ``sub.prop`` is in the outputs of the type ``type_id`` (the error slot last)."""
    for cls in types:
        if f"symphony-{cls.type}" == type_id:
            names = [s.name for s in cls.outputs] + ["error.children"]
            name = f"{sub}.{prop}"
            return names.index(name) if name in names else None
    return None


def _register_request(
    app: dash.Dash,
    cls: type[Component],
    resolve: Callable[[type[Component], Any], tuple[Component, Engine]],
    name: str,
    request: Request,
) -> None:
    @app.callback(
        Output(cls.ids(request.response.sub), request.response.prop),
        Output(cls.ids("error"), "children", allow_duplicate=True),
        Input(cls.ids(request.slot.sub), request.slot.prop),
        State(STATE_ID, "data"),
        State(cls.ids("props"), "data"),
        prevent_initial_call=True,
    )
    def answer(value: Any, state_data: Any, props_data: Any) -> tuple[Any, Any]:
        try:
            instance, engine = resolve(cls, props_data)
            state = parse_state(state_data)
            if state.layout != props_data.get("layout"):
                state = SymphonyState(layout=props_data.get("layout"))
            view = View(instance.component_id, instance.dataset, engine, state, {}, request.slot.name)
            response = instance.on_request(name, value, view)
        except Exception as exc:
            return dash.no_update, error_card(cls.type, _index(), exc)
        if response is dash.no_update:
            raise PreventUpdate
        return response, dash.no_update


def _register_inspect(
    app: dash.Dash, cls: type[Component], resolve: Callable[[type[Component], Any], tuple[Component, Engine]]
) -> None:
    """Write the instance a hover or click points at into the instance's ``inspect`` store, for the detail panel."""
    names = [s.name for s in cls.inspect]

    @app.callback(
        Output(cls.ids("inspect"), "data"),
        [Input(cls.ids(s.sub), s.prop) for s in cls.inspect],
        State(STATE_ID, "data"),
        State(cls.ids("props"), "data"),
        prevent_initial_call=True,
    )
    def inspect(*args: Any) -> dict[str, Any]:
        *values, state_data, props_data = args
        name = _trigger()
        if name not in names:
            raise PreventUpdate
        try:
            instance, engine = resolve(cls, props_data)
            state = parse_state(state_data)
            if state.layout != props_data.get("layout"):
                state = SymphonyState(layout=props_data.get("layout"))
            view = View(instance.component_id, instance.dataset, engine, state, {}, name)
            found = known_id(engine, instance.on_inspect(name, values[names.index(name)], view))
        except _MALFORMED as exc:
            log.warning("%s: ignored a malformed %s event: %s", cls.type, name, exc)
            raise PreventUpdate from None
        if found is None:
            raise PreventUpdate
        return {"layout": props_data["layout"], "id": found, "at": time.time()}


def known_id(engine: Engine, value: Any) -> Any:
    """``value`` as an id of the dataset (a browser may send ``3.0`` or ``"3"`` for 3), or ``None`` if it is not one."""
    dtype = engine.dataset.frame.schema[engine.dataset.id_column]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or len(str(value)) > 200:
        return None
    if dtype.is_integer() and isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    elif dtype == pl.String and not isinstance(value, str):
        return None
    try:
        if dtype.is_integer() and isinstance(value, str):
            value = int(value)
        found = engine.all.contains_ids([value])
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        return None  # a value of another type than the ids
    return found[0] if found else None


def _trigger() -> str | None:
    """The ``sub.prop`` that fired the current callback, or ``None`` for the shared state."""
    triggered = dash.ctx.triggered_id
    if not isinstance(triggered, dict):
        return None
    prop = dash.ctx.triggered[0]["prop_id"].rsplit(".", 1)[-1]
    return f"{triggered['sub']}.{prop}"


def _index() -> str:
    return str(dash.ctx.outputs_list[0]["id"]["index"]) if dash.ctx.outputs_list else "?"


def error_card(type_name: str, component_id: str, exc: Exception) -> html.Div:
    """What a failing component shows in its own box: what went wrong, in one line, and nothing of the server."""
    known = isinstance(exc, (ClauseError, DatasetError, ValidationError))
    if not known:
        log.exception("component %s (%s) failed to render", component_id, type_name)
    message = str(exc) if known else f"{type(exc).__name__}: {exc}"
    return html.Div(
        # The id is cut short too: it may come from the browser.
        [html.Strong(f"{type_name} '{component_id[:80]}' could not render"), html.Div(message[:500])],
        className="symphony-error-card",
        role="alert",
    )
