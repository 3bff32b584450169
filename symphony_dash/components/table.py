"""table: the filtered rows, sorted by the engine and fetched a block at a time; click rows to select and inspect."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Collection
from typing import Any

import dash
import dash_ag_grid as dag
import polars as pl
from dash import dcc, html
from pydantic import Field

from ..component import Clientside, Column, Component, Event, Props, Request, Slot, View
from ..dataset import ColumnInfo
from ..media import media_url
from ..registry import register
from ..state import MAX_IDS, Clause
from . import style

__all__ = ["Table", "rows_request"]

log = logging.getLogger(__name__)

ROW_HEIGHT = 30
MAX_TEXT = 300  # characters of a text cell sent to the browser; the grid shows fewer anyway
MAX_SORT_KEYS = 5
SELECTED_BACKGROUND = "#fff2d6"  # the toolbar's selection chip
MARK = "_symphony_selected"  # a row field: the row is in another view's selection

# The grid caches the blocks of rows it fetched; only the browser can tell it to fetch them again. A new filter drops
# them and starts from the top, with the first block already sent by render (``first``, for the grid's sort): the
# grid's request for it is answered here, with no second round trip; any other block is asked of the server. A new
# selection elsewhere refetches the blocks in place, to mark the selected rows. When the selection is no longer the
# table's own, the rows clicked in the grid give way to it.
RESET_ROWS = """
function (rows, first) {
    const id = window.dash_clientside.callback_context.inputs_list[0].id;
    const api = rows && rows.reset && window.dash_ag_grid.getApi(Object.assign({}, id, {sub: "grid"}));
    if (!api) {
        return;
    }
    if (!rows.own && api.getSelectedNodes().length) {
        api.deselectAll();
    }
    if (rows.reset === "filter") {
        // The grid's datasource (dash-ag-grid's, which asks the server) answers the first block itself, once.
        const source = api.getGridOption("datasource");
        if (source && !source.symphonyFirst) {
            const ask = source.getRows;
            const sortOf = model => JSON.stringify((model || []).map(s => [s.colId, s.sort]));
            source.getRows = function (params) {
                const answer = api.symphonyFirst;
                api.symphonyFirst = null;
                if (answer && params.startRow === 0 && params.endRow <= answer.endRow
                        && sortOf(params.sortModel) === sortOf(answer.sortModel)) {
                    params.successCallback(answer.rowData.slice(0, params.endRow), answer.rowCount);
                } else {
                    ask.call(this, params);
                }
            };
            source.symphonyFirst = true;
        }
        api.symphonyFirst = first && first.filter === rows.filter ? first : null;
        api.ensureIndexVisible(0, "top");
        api.purgeInfiniteCache();
    } else if (rows.reset === "marked") {
        api.refreshInfiniteCache();
    }
}
"""


class TableProps(Props):
    columns: list[str] | None = Column(
        None, description="The columns to show, in order. Default: every column but embeddings, the id first."
    )
    page_size: int = Field(100, ge=10, le=1000, description="How many rows the grid fetches from the server at a time.")


@register
class Table(Component):
    """The filtered rows in a grid that fetches them a block at a time, sorted by the engine."""

    type = "table"
    name = "Table"
    description = (
        "The rows that pass the filter. Click a header to sort (shift-click for a second key); click rows to select "
        "them, with ctrl or shift for more, and to show them in the detail panel."
    )
    Props = TableProps
    outputs = (Slot("rows", "data"), Slot("first", "data"), Slot("status", "children"))
    # What the grid's rows were fetched for is read back, so they are fetched again only when that changed; the
    # grid's last request says its sort, for the first block sent with a new filter.
    reads = (Slot("rows", "data"), Slot("grid", "getRowsRequest"))
    events = {"select": Event(Slot("grid", "selectedRows"), kind="selection")}
    requests = {"rows": Request(Slot("grid", "getRowsRequest"), Slot("grid", "getRowsResponse"))}
    clientside = (Clientside(RESET_ROWS, inputs=(Slot("rows", "data"),), state=(Slot("first", "data"),)),)
    inspect = (Slot("grid", "cellClicked"),)

    @property
    def columns(self) -> list[str]:
        if self.props.columns:
            return list(self.props.columns)
        others = [c.name for c in self.dataset.columns.values() if c.kind not in ("id", "embedding")]
        return [self.dataset.id_column, *others]

    @property
    def sortable(self) -> set[str]:
        return {c for c in self.columns if self.dataset.column(c).kind not in ("embedding", "image")}

    def layout(self) -> html.Div:
        id_field = json.dumps(self.dataset.id_column)
        grid = dag.AgGrid(
            id=self.id("grid"),
            rowModelType="infinite",
            columnDefs=[_column_def(self.dataset.column(c), self.dataset.frame.schema[c]) for c in self.columns],
            defaultColDef={"sortable": True, "resizable": True, "filter": False, "flex": 1, "minWidth": 80},
            # Row ids keep the grid's own selection across blocks, sorting and a new filter.
            getRowId=f"'' + params.data[{id_field}]",
            getRowStyle={
                "function": f"params.data && params.data.{MARK} ? {{background: '{SELECTED_BACKGROUND}'}} : null"
            },
            dashGridOptions={
                "maxConcurrentDatasourceRequests": 1,
                "cacheBlockSize": self.props.page_size,
                "maxBlocksInCache": 10,
                "rowSelection": {
                    "mode": "multiRow",
                    "checkboxes": False,
                    "headerCheckbox": False,
                    "enableClickSelection": True,
                },
                "suppressFieldDotNotation": True,
                "suppressCellFocus": True,
                "rowHeight": ROW_HEIGHT,
                "headerHeight": 32,
                "theme": {"function": f"themeAlpine.withParams({json.dumps(_THEME)})"},
            },
            style={"flex": "1 1 auto", "minHeight": "0", "height": "auto", "width": "100%"},
        )
        status = html.Div(
            id=self.id("status"),
            style={"padding": "4px 10px", "fontSize": "12px", "color": "#66717f", "borderTop": "1px solid #dfe3e8"},
        )
        return html.Div(
            [grid, status, dcc.Store(id=self.id("rows")), dcc.Store(id=self.id("first"))],
            style={"display": "flex", "flexDirection": "column", "height": "100%"},
        )

    def render(self, view: View) -> tuple[Any, Any, str]:
        count = view.data.count()
        chosen = view.selected
        selected = chosen.count() if chosen is not None else 0
        status = f"{count:,} rows" + (f" · {selected:,} selected" if selected else "")
        rows = self._refetch(view)
        first: Any = dash.no_update
        if isinstance(rows, dict) and rows["reset"] == "filter":
            first = self._first_block(view, rows["filter"])
        return rows, first, status

    def _first_block(self, view: View, key: str) -> dict[str, Any] | None:
        """The first block of rows for a new filter, in the grid's sort: the grid's first request, answered ahead."""
        request = view.inputs.get("grid.getRowsRequest")
        model = request.get("sortModel") if isinstance(request, dict) else None
        page = {"startRow": 0, "endRow": self.props.page_size, "sortModel": model if isinstance(model, list) else []}
        try:
            answer = self.on_request("rows", page, view)
        except ValueError:
            return None
        if answer is dash.no_update:
            return None
        return {**answer, "filter": key, "endRow": self.props.page_size, "sortModel": page["sortModel"]}

    def on_request(self, name: str, value: Any, view: View) -> Any:
        try:
            offset, limit, sort = rows_request(value, self.sortable, self.props.page_size)
        except ValueError as exc:
            log.warning("table %s: ignored a malformed rows request: %s", self.component_id, exc)
            return dash.no_update
        page = view.data.rows(self.columns, sort=sort, offset=offset, limit=limit)
        return {"rowData": self._cells(page, view), "rowCount": view.data.count()}

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        if isinstance(value, dict):
            return dash.no_update  # the render clearing the grid's selection, coming back: not a user's click
        if not value:
            return None
        if not isinstance(value, list) or len(value) > MAX_IDS:
            raise ValueError(f"a selection is a list of at most {MAX_IDS} rows")
        return self.clause("ids", value=[row[self.dataset.id_column] for row in value])

    def on_inspect(self, name: str, value: Any, view: View) -> Any:
        return value.get("rowId") if isinstance(value, dict) else None  # the row's id as text (getRowId)

    def _marked(self, view: View) -> Clause | None:
        """The selection to mark in the rows: another view's (the grid shows its own clicks itself)."""
        selection = view.selection
        return selection if selection is not None and selection.source != self.component_id else None

    def _refetch(self, view: View) -> Any:
        """What the grid's rows must be fetched for and, if that changed, how to refetch them (done in the browser).

        ``own``: whether the selection is the table's; the grid draws the rows clicked in it as selected, and they
        give way when another view selects (rows selected in another view are marked in the data).
        """
        marked = self._marked(view)
        own = view.selection is not None and view.selection.source == self.component_id
        now = {"filter": _key(view.filter), "marked": _key([marked] if marked else []), "own": own}
        before = view.inputs.get("rows.data")
        before = before if isinstance(before, dict) else {}
        if before.get("filter") != now["filter"]:
            return {**now, "reset": "filter"}
        if before.get("marked") != now["marked"]:
            return {**now, "reset": "marked"}
        if before.get("own") != own:
            return {**now, "reset": "selection"}
        return dash.no_update

    def _cells(self, page: pl.DataFrame, view: View) -> list[dict[str, Any]]:
        """One page of rows as JSON-ready records: floats to 4 significant digits, image paths as URLs, marks."""
        ids = self.dataset.id_column
        rows = page.select(pl.col(n) if n == ids else _cell(pl.col(n), t) for n, t in page.schema.items()).to_dicts()
        for name in (c for c in page.columns if self.dataset.column(c).kind == "image"):
            for row in rows:
                if row[name]:
                    row[name] = media_url(view.state.layout, row[name])
        marked = self._marked(view)
        if marked is not None and rows:
            chosen = set(view.engine.where([marked]).contains_ids([row[ids] for row in rows]))
            for row in rows:
                row[MARK] = row[ids] in chosen
        return rows


def rows_request(value: Any, sortable: Collection[str], page_size: int) -> tuple[int, int, list[tuple[str, bool]]]:
    """The ``(offset, limit, sort)`` of a grid's ``getRowsRequest``, clipped to one page of the table.

    Unknown sort columns and directions are dropped; a request that is not an object with whole-number
    ``startRow``/``endRow`` raises :class:`ValueError`.
    """
    if not isinstance(value, dict):
        raise ValueError(f"a rows request is an object, not {type(value).__name__}")
    start, end = value.get("startRow"), value.get("endRow")
    if not (_whole(start) and _whole(end)):
        raise ValueError(f"startRow and endRow must be whole numbers, got {start!r} and {end!r}")
    offset = max(0, int(start))
    limit = max(0, min(int(end) - offset, page_size))
    model = value.get("sortModel") or []
    if not isinstance(model, list):
        raise ValueError("sortModel must be a list")
    sort: dict[str, bool] = {}
    for item in model[:MAX_SORT_KEYS]:
        if isinstance(item, dict) and item.get("colId") in sortable and item.get("sort") in ("asc", "desc"):
            sort.setdefault(item["colId"], item["sort"] == "desc")
    return offset, limit, list(sort.items())


def _whole(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v == int(v)


def _key(clauses: list[Clause]) -> str:
    """A short fingerprint of what some clauses select."""
    text = "\n".join(sorted(c.key() for c in clauses))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


def _cell(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype.is_float():
        return col.fill_nan(None).round_sig_figs(4)
    if dtype.is_decimal():
        return col.cast(pl.Float64).round_sig_figs(4)
    if dtype.is_temporal():
        return col.cast(pl.String)
    if isinstance(dtype, (pl.List, pl.Array)):
        length = col.list.len() if isinstance(dtype, pl.List) else col.arr.len()
        return pl.format("[{} values]", length)
    if isinstance(dtype, (pl.String, pl.Enum, pl.Categorical)):
        return col.cast(pl.String).str.slice(0, MAX_TEXT)
    if dtype.is_numeric() or dtype == pl.Boolean:
        return col
    return col.cast(pl.String).str.slice(0, MAX_TEXT)


def _column_def(info: ColumnInfo, dtype: pl.DataType) -> dict[str, Any]:
    col: dict[str, Any] = {"field": info.name, "colId": info.name, "headerName": info.name}
    if info.kind == "numeric":
        col["type"] = "rightAligned"
    if dtype == pl.Boolean:
        col.update(cellDataType="boolean", maxWidth=110)
    else:
        col["cellDataType"] = "number" if dtype.is_numeric() else "text"
    if info.kind == "id":
        col.update(maxWidth=90)
    if info.kind == "embedding":
        col["sortable"] = False
    if info.kind == "image":
        # The URL is made on the server from a path under the dataset's media folder and percent-quoted, so it
        # cannot close the CSS url(); the cell shows the picture instead of the text.
        col.update(
            sortable=False,
            flex=0,
            width=56,
            minWidth=56,
            headerName="",
            headerTooltip=info.name,
            valueFormatter={"function": "''"},
            cellStyle={
                "function": "params.value ? {backgroundImage: 'url(\"' + params.value + '\")', "
                "backgroundSize: 'contain', backgroundRepeat: 'no-repeat', backgroundPosition: 'center', "
                "backgroundOrigin: 'content-box', padding: '2px'} : {}"
            },
        )
    return col


_THEME = {
    "accentColor": style.ACCENT,
    "fontFamily": "inherit",
    "fontSize": 12,
    "headerFontSize": 12,
    "spacing": 4,
    "wrapperBorder": False,
    "wrapperBorderRadius": 0,
    "headerBackgroundColor": "#f7f8fa",
    "selectedRowBackgroundColor": SELECTED_BACKGROUND,
    "rowHoverColor": "#f2f6fd",
}
