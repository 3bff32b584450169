"""A static HTML report of a layout: every component of every page, rendered in one state, in one file.

>>> write_report(load_layout("layouts/triage.json"), "triage.html")      # doctest: +SKIP

The report opens with no server and no network, offline, in any browser: the app's CSS, plotly.js (once), the map
outlines and the instances' images are inlined. Each component is drawn by its own ``render(view)``, exactly as the
render callbacks draw it, and its Dash skeleton is written out as HTML.

What is interactive in the file: Plotly's own hover, zoom, pan and legend clicks in every figure, and the page links.
What is not: no crossfiltering (a click, brush or lasso filters nothing), no selection, no paging of galleries, no
sorting of tables, no editing, no detail panel: there is no server. Tables show their first rows (``rows``, default
100) in the report's state and say so; galleries show their first page.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import mimetypes
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import dash
import plotly
import plotly.offline
from dash.development.base_component import Component as DashComponent

from .component import View
from .files import atomic_write
from .layout import LoadedLayout, slug_of
from .media import MEDIA_ROUTE, PLACEHOLDER, resolve_media
from .state import State, describe

__all__ = ["TABLE_ROWS", "markdown", "report_html", "write_report"]

ASSETS = Path(__file__).parent / "assets"
TABLE_ROWS = 100
"""How many rows of each table a report shows."""

# Controls that only act through the server (paging, editing, adding): in a report they would do nothing.
_DROPPED = {"Button", "Store", "Textarea", "Location", "Interval", "Upload", "Download"}
# React adds "px" to bare numbers in a style, except for these unitless properties.
_UNITLESS = {"flex", "flexGrow", "flexShrink", "fontWeight", "lineHeight", "opacity", "order", "zIndex", "zoom"}
_ATTRIBUTES = {"title": "title", "alt": "alt", "role": "role", "width": "width", "height": "height"}
_SAFE_LINK = re.compile(r"^(https?://|mailto:|#)", re.IGNORECASE)
_PLACEHOLDER_URI = "data:image/svg+xml;base64," + base64.b64encode(PLACEHOLDER.encode()).decode()

# Reports are read in a browser with no server: the page sections and the notes' preformatted text need these few
# rules beyond the app's own CSS.
_REPORT_CSS = """
.symphony-report-meta { color: #66717f; font-size: 12px; margin: 2px 0 10px; }
.symphony-report-note { color: #66717f; font-size: 12px; margin: 0 0 10px; }
.symphony-report-page { margin: 18px 0 28px; }
.symphony-report-page > h2 { font-size: 17px; margin: 0 0 10px; }
.symphony-report-choice { font-size: 12px; padding: 1px 8px; border: 1px solid #dfe3e8; border-radius: 4px;
    background: #fff; }
.symphony-report-table-wrap { overflow: auto; flex: 1 1 auto; min-height: 0; }
.symphony-report-table { border-collapse: collapse; font-size: 12px; width: 100%; }
.symphony-report-table th { position: sticky; top: 0; background: #f6f7f9; text-align: left; font-weight: 600; }
.symphony-report-table th, .symphony-report-table td { padding: 3px 8px; border-bottom: 1px solid #eef0f3;
    white-space: nowrap; }
.symphony-report-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.symphony-report-table img { height: 24px; image-rendering: pixelated; }
"""

# Draws every figure once plotly.js has loaded; the figures are JSON in one data script, never in the page's HTML.
_DRAW = """
(function () {
  var figures = JSON.parse(document.getElementById("symphony-figures").textContent);
  Object.keys(figures).forEach(function (id) {
    var f = figures[id];
    Plotly.newPlot(id, f.data || [], f.layout || {}, f.config || {});
  });
})();
"""


def report_html(
    loaded: LoadedLayout, state: State | None = None, *, pages: Sequence[int] | None = None, rows: int = TABLE_ROWS
) -> str:
    """The report of ``loaded`` in ``state`` (default: the layout's initial filter) as one HTML document.

    ``pages`` are the indexes of the pages to include (default: all); ``rows`` the rows shown of each table.
    """
    state = state if state is not None else State.model_validate(loaded.initial_state())
    chosen = list(range(len(loaded.layout.pages))) if pages is None else list(pages)
    writer = _Writer(loaded, rows)
    sections = [writer.page(loaded, state, i) for i in chosen]
    head = _header(loaded, state, chosen)
    geo = any(_is_geo(f) for f in writer.figures.values())
    scripts = []
    if geo:
        # plotly.js takes outlines already in PlotlyGeoAssets instead of fetching them from topojsonURL.
        outlines = {p.stem: json.loads(p.read_text()) for p in sorted((ASSETS / "topojson").glob("*.json"))}
        scripts.append(f"window.PlotlyGeoAssets = {{topojson: {_script_json(outlines)}}};")
    if writer.figures:
        scripts.append(plotly.offline.get_plotlyjs())
    body = "\n".join([head, *sections])
    figure_data = (
        f'<script type="application/json" id="symphony-figures">{_script_json(writer.figures)}</script>\n'
        f"<script>{_DRAW}</script>"
        if writer.figures
        else ""
    )
    css = "\n".join(p.read_text() for p in sorted(ASSETS.glob("*.css"))) + _REPORT_CSS
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(loaded.layout.title)}</title>\n<style>\n{css}\n</style>\n"
        + "".join(f"<script>{s}</script>\n" for s in scripts)
        + "</head>\n<body>\n"
        f'<div class="symphony-app symphony-report"><main class="symphony-main">\n{body}\n</main></div>\n'
        f"{figure_data}\n</body>\n</html>\n"
    )


def write_report(
    loaded: LoadedLayout,
    path: str | Path,
    state: State | None = None,
    *,
    pages: Sequence[int] | None = None,
    rows: int = TABLE_ROWS,
) -> Path:
    """Write :func:`report_html` to ``path`` (a folder gets ``<layout>.html``) and return the file written."""
    target = Path(path)
    if target.is_dir():
        target = target / f"{loaded.slug}.html"
    text = report_html(loaded, state, pages=pages, rows=rows)
    with atomic_write(target) as partial:
        Path(partial).write_text(text, encoding="utf-8")
    return target


def _header(loaded: LoadedLayout, state: State, pages: list[int]) -> str:
    lay = loaded.layout
    shown = loaded.engine.where(state.filter).count()
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    clauses = [f'<span class="symphony-chip filter">{_text(describe(c))}</span>' for c in state.filter]
    if state.selection is not None:
        clauses.append(f'<span class="symphony-chip selection">selected: {_text(describe(state.selection))}</span>')
    if state.group_by:
        clauses.append(f'<span class="symphony-chip">grouped by {_text(", ".join(state.group_by))}</span>')
    filtered = "".join(clauses) or '<span class="symphony-chip">no filter: every instance</span>'
    links = "".join(
        f'<a class="symphony-tab" href="#page-{_page_anchor(lay.pages[i].title, i)}">{_text(lay.pages[i].title)}</a>'
        for i in pages
    )
    return (
        f'<div class="symphony-pagehead"><h1>{_text(lay.title)}</h1>'
        + (f'<nav class="symphony-tabs">{links}</nav>' if len(pages) > 1 else "")
        + "</div>"
        + (f'<p class="symphony-description">{_text(lay.description)}</p>' if lay.description else "")
        + f'<p class="symphony-report-meta">Report of {_text(loaded.dataset.name)}, made {when}.</p>'
        + '<div class="symphony-toolbar">'
        f'<span class="symphony-count" id="symphony-count"><b>{shown:,}</b> of {len(loaded.dataset):,} instances</span>'
        f'<div class="symphony-chips" id="symphony-filter">{filtered}</div></div>'
        '<p class="symphony-report-note">A static report: figures hover and zoom; clicks, brushes and lassos filter '
        "nothing, and galleries and tables show their first page.</p>"
    )


def _page_anchor(title: str, index: int) -> str:
    return f"{index + 1}-{slug_of(Path(title))}"


def _is_geo(figure: dict[str, Any]) -> bool:
    return any(
        trace.get("type") in ("choropleth", "scattergeo") for trace in figure.get("data", []) if isinstance(trace, dict)
    )


def _script_json(value: Any) -> str:
    """JSON that cannot end its <script>: every '<' escaped, as JavaScript reads it back."""
    return json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder).replace("<", "\\u003c")


def _text(value: Any) -> str:
    return html.escape(str(value), quote=True)


class _Writer:
    """Turns the components of a layout, rendered in one state, into HTML; collects their figures."""

    def __init__(self, loaded: LoadedLayout, rows: int) -> None:
        self.loaded = loaded
        self.rows = rows
        self.figures: dict[str, dict[str, Any]] = {}
        self._media: dict[str, str] = {}

    def page(self, loaded: LoadedLayout, state: State, index: int) -> str:
        page = loaded.layout.pages[index]
        boxes = []
        for spec in page.components:
            instance, _ = loaded.instances[spec.id]
            instance.saved_slices = loaded.layout.slices
            box = instance.box(spec.title, loaded.slug)
            box.style = {"gridColumn": f"span {spec.width}", "gridRow": f"span {spec.height}"}
            elements = {el.id["sub"]: el for el in _walk(box) if isinstance(getattr(el, "id", None), dict)}
            # The inputs as the page starts: the skeleton's own values (a default colour, a toggle's setting).
            inputs = {s.name: getattr(elements.get(s.sub), s.prop, None) for s in instance.inputs}
            view = View(spec.id, loaded.dataset, loaded.engine, state, inputs, None)
            try:
                result = instance.render(view)
                values = list(result) if len(instance.outputs) > 1 else [result]
                for slot, value in zip(instance.outputs, values, strict=True):
                    if value is not dash.no_update and slot.sub in elements:
                        setattr(elements[slot.sub], slot.prop, value)
                instance.static(elements)  # what the browser draws itself from data (a gallery's tiles)
                for name in instance.requests:
                    grid = elements.get(instance.requests[name].slot.sub)
                    answer = instance.on_request(name, {"startRow": 0, "endRow": self.rows}, view)
                    if grid is not None and isinstance(answer, dict):
                        grid.rowData, grid.rowCount = answer.get("rowData"), answer.get("rowCount")
            except Exception as exc:  # one failing component is reported in its box; the report is still written
                elements["error"].children = f"{spec.type} '{spec.id}' could not render: {type(exc).__name__}: {exc}"
            boxes.append(self.node(box))
        title = f"<h2>{_text(page.title)}</h2>" if len(loaded.layout.pages) > 1 else ""
        return (
            f'<section class="symphony-report-page" id="page-{_page_anchor(page.title, index)}">{title}'
            f'<div class="symphony-grid">{"".join(boxes)}</div></section>'
        )

    def node(self, value: Any) -> str:
        """Any Dash children as HTML: text escaped, components by their type."""
        if value is None or isinstance(value, bool):
            return ""
        if isinstance(value, (list, tuple)):
            return "".join(self.node(v) for v in value)
        if not isinstance(value, DashComponent):
            return _text(value)
        kind = value._type
        if kind in _DROPPED:
            return ""
        if value._namespace == "dash_html_components":
            return self._element(value)
        if kind == "Graph":
            return self._graph(value)
        if kind == "Markdown":
            text = getattr(value, "children", None)
            text = text if isinstance(text, str) else ""
            return f"<div{self._attrs(value)}>{markdown(text)}</div>"
        if kind in ("Checklist", "RadioItems"):
            return self._options(value)
        if kind == "Dropdown":
            return self._choice(value)
        if kind == "Input":
            shown = getattr(value, "value", None)
            shown = "" if shown is None else shown
            return f'<input type="text" readonly value="{_text(shown)}"{self._attrs(value)}>'
        if kind == "AgGrid":
            return self._table(value)
        return self.node(getattr(value, "children", None))

    def _element(self, el: DashComponent) -> str:
        tag = el._type.lower()
        attrs = self._attrs(el)
        if tag == "img":
            return f'<img src="{_text(self._image(getattr(el, "src", None)))}"{attrs}>'
        if tag == "a" and isinstance(getattr(el, "href", None), str) and _SAFE_LINK.match(el.href):
            attrs += f' href="{_text(el.href)}"'
        return f"<{tag}{attrs}>{self.node(getattr(el, 'children', None))}</{tag}>"

    def _attrs(self, el: DashComponent) -> str:
        out = []
        if isinstance(getattr(el, "id", None), str):
            out.append(f'id="{_text(el.id)}"')
        if cls := getattr(el, "className", None):
            out.append(f'class="{_text(cls)}"')
        if isinstance(style := getattr(el, "style", None), dict) and style:
            out.append(f'style="{_text(_css(style))}"')
        for prop, name in _ATTRIBUTES.items():
            value = getattr(el, prop, None) if prop in el._prop_names else None
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                out.append(f'{name}="{_text(value)}"')
        return "".join(" " + a for a in out)

    def _graph(self, graph: DashComponent) -> str:
        figure = graph.figure if isinstance(getattr(graph, "figure", None), dict) else {}
        config = dict(getattr(graph, "config", None) or {})
        config.pop("topojsonURL", None)  # the outlines are inlined; plotly.js fetches nothing
        div_id = f"symphony-figure-{len(self.figures)}"
        self.figures[div_id] = {"data": figure.get("data", []), "layout": figure.get("layout", {}), "config": config}
        style = {"height": "100%"} | (getattr(graph, "style", None) or {})
        classes = f"symphony-report-figure {getattr(graph, 'className', None) or ''}".strip()
        return f'<div id="{div_id}" class="{_text(classes)}" style="{_text(_css(style))}"></div>'

    def _options(self, checklist: DashComponent) -> str:
        # The app's CSS styles the options by these classes; the check boxes themselves select nothing here.
        value = getattr(checklist, "value", None)
        chosen = value if isinstance(value, list) else [value]
        kind = "radio" if checklist._type == "RadioItems" else "checkbox"
        items = []
        for option in getattr(checklist, "options", None) or []:
            label, value = (option.get("label"), option.get("value")) if isinstance(option, dict) else (option, option)
            on = value is not None and value in chosen
            tick = f'<input type="{kind}" disabled{" checked" if on else ""}>'
            items.append(
                f'<label class="dash-options-list-option{" selected" if on else ""}">'
                f'<span class="dash-options-list-option-wrapper">{tick}</span>'
                f'<span class="dash-options-list-option-text">{self.node(label)}</span></label>'
            )
        return f"<div{self._attrs(checklist)}>{''.join(items)}</div>"

    def _choice(self, dropdown: DashComponent) -> str:
        value = getattr(dropdown, "value", None)
        chosen = value if isinstance(value, list) else [value]
        labels = {
            (o.get("value") if isinstance(o, dict) else o): (o.get("label") if isinstance(o, dict) else o)
            for o in getattr(dropdown, "options", None) or []
        }
        shown = [labels.get(v, v) for v in chosen if v is not None]
        return f'<span class="symphony-report-choice">{self.node(", ".join(map(str, shown)))}</span>' if shown else ""

    def _table(self, grid: DashComponent) -> str:
        columns = [c for c in getattr(grid, "columnDefs", None) or [] if isinstance(c, dict) and c.get("field")]
        data = getattr(grid, "rowData", None) or []
        head = "".join(f"<th>{_text(c.get('headerName') or c.get('headerTooltip') or '')}</th>" for c in columns)
        body = []
        for row in data[: self.rows]:
            cells = "".join(self._cell(row.get(c["field"])) for c in columns)
            body.append(f"<tr>{cells}</tr>")
        total = getattr(grid, "rowCount", None)
        total = total if isinstance(total, int) else len(data)
        note = f"the first {min(len(data), self.rows):,} of {total:,} rows" if total > len(body) else f"{total:,} rows"
        return (
            '<div class="symphony-report-table-wrap">'
            f'<table class="symphony-report-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            f'</table></div><div class="symphony-report-note">Table: {note}.</div>'
        )

    def _cell(self, value: Any) -> str:
        if isinstance(value, str) and value.startswith(MEDIA_ROUTE + "/"):
            return f'<td><img src="{_text(self._image(value))}" alt=""></td>'
        if isinstance(value, float):
            return f'<td class="num">{value:.4g}</td>'
        if isinstance(value, int) and not isinstance(value, bool):
            return f'<td class="num">{value}</td>'
        if isinstance(value, (list, dict)):
            return f"<td>{_text(json.dumps(value)[:60])}</td>"
        return f"<td>{_text('' if value is None else value)}</td>"

    def _image(self, src: Any) -> str:
        """An image as a data: URI: the dataset's media files read from under its media root, nothing else."""
        if not isinstance(src, str):
            return _PLACEHOLDER_URI
        if src.startswith("data:image/"):
            return src
        prefix = f"{MEDIA_ROUTE}/"
        if not src.startswith(prefix) or "/" not in src[len(prefix) :]:
            return _PLACEHOLDER_URI
        if src not in self._media:
            relative = unquote(src[len(prefix) :].split("/", 1)[1])
            target = resolve_media(self.loaded.dataset.media_root, relative)
            if target is None:
                self._media[src] = _PLACEHOLDER_URI
            else:
                mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                self._media[src] = f"data:{mime};base64,{base64.b64encode(target.read_bytes()).decode()}"
        return self._media[src]


def markdown(text: str) -> str:
    """The common subset of Markdown a note uses, as HTML: headings, paragraphs, lists, bold, italics, code, links.

    Text is escaped first, so a note's HTML shows as text (as ``dcc.Markdown`` shows it in the app), and a link is
    kept only to a web or mail address.
    """
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    ordered = False

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            tag = "ol" if ordered else "ul"
            out.append(f"<{tag}>{''.join(f'<li>{_inline(i)}</li>' for i in items)}</{tag}>")
            items.clear()

    for line in text.splitlines():
        stripped = line.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        item = re.match(r"^(?:([-*+])|\d+[.)])\s+(.*)$", stripped)
        if not stripped or heading:
            flush()
            if heading:
                level = len(heading.group(1))
                out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif item:
            if paragraph or (items and ordered != (item.group(1) is None)):
                flush()
            ordered = item.group(1) is None
            items.append(item.group(2))
        elif items:
            items[-1] += " " + stripped  # a wrapped list item
        else:
            paragraph.append(stripped)
    flush()
    return "".join(out)


def _inline(text: str) -> str:
    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), html.unescape(match.group(2))
        return f'<a href="{_text(url)}">{label}</a>' if _SAFE_LINK.match(url) else label

    text = _text(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", text)
    text = re.sub(
        r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\*)|\b_(.+?)_\b", lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text
    )
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", link, text)


def _walk(node: Any) -> Iterator[DashComponent]:
    """Every Dash component in a tree, the children of every prop included (an option's label is a tree too)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, DashComponent):
        yield node
        for prop in node._prop_names:
            value = getattr(node, prop, None)
            if isinstance(value, (DashComponent, list, tuple)):
                yield from _walk(value)


def _css(style: dict[str, Any]) -> str:
    parts = []
    for key, value in style.items():
        name = re.sub(r"[A-Z]", lambda m: "-" + m.group(0).lower(), key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in _UNITLESS and value != 0:
            value = f"{value}px"
        parts.append(f"{name}: {value}")
    return "; ".join(parts)
