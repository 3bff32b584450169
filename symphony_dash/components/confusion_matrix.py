"""confusion_matrix: true label by predicted label; click cells to filter the other views to those instances.

The diagonal (correct predictions) is drawn in blue and the errors in a warm scale, each scaled to its own largest
cell, so a handful of errors stays visible next to hundreds of correct ones. Both scales live in one heatmap trace
(errors map to the lower half of the colour scale, the diagonal to the upper half), so hover and clicks see one cell.

A clicked cell is ``label == a and prediction == b``: a ``pairs`` clause over the two columns, one clause per
component however many cells are chosen. A click adds the cell to the chosen ones, or removes it if it was chosen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import dash
import numpy as np
from dash import dcc
from pydantic import Field

from ..component import Clientside, Column, Component, Event, Props, Slot, View
from ..engine import Query
from ..registry import register
from ..state import Clause, is_null, isin
from . import style

__all__ = ["ConfusionMatrix"]

MAX_GROUPS = 6
OTHER = "other"
# Errors take the lower half of the colour scale and the diagonal the upper half; a cell's place inside its half is
# its size relative to the largest cell of its kind.
COLORSCALE = [[0.0, "#fdebdc"], [0.4999, "#d9480f"], [0.5, "#dbe6fa"], [1.0, style.ACCENT]]
OUTLINE = "#1f2933"
GRIDS = {1: (1, 1), 2: (1, 2), 3: (1, 3), 4: (2, 2), 5: (2, 3), 6: (2, 3)}
# Which cell of a two-class matrix is which, the second class being the positive one: rows true, columns predicted.
BINARY_TAGS = [["TN", "FP"], ["FN", "TP"]]


# Only the browser knows how many pixels a cell has: after every plot (a new figure, a resize), the cell text is sized
# to fit its cells. A cell has a full text and a short one (``customdata[4]`` and ``[5]``); the full one is shown if it
# fits at a readable size, else the short one, else none (the hover still tells). Restyling plots again, so it restyles
# only when something differs.
FIT_TEXT = """
function (figure) {
    const id = window.dash_clientside.callback_context.inputs_list[0].id;
    const key = JSON.stringify(id, Object.keys(id).sort());
    const fit = gd => {
        const layout = gd._fullLayout, traces = [], sizes = [], texts = [];
        gd._fullData.forEach((t, i) => {
            if (t.type !== "heatmap" || !t.customdata || !t.z) return;
            const xa = layout["xaxis" + t.xaxis.slice(1)], ya = layout["yaxis" + t.yaxis.slice(1)];
            const cell = Math.min(xa._length, ya._length) / t.z.length;
            const fitting = cells => {
                let chars = 1, lines = 1;
                for (const row of cells) for (const text of row) {
                    const parts = String(text).split("<br>").map(part => part.replace(/<[^>]*>/g, ""));
                    lines = Math.max(lines, parts.length);
                    chars = Math.max(chars, ...parts.map(part => part.length));
                }
                return Math.floor(Math.min(12, 1.3 * cell / chars, 0.7 * cell / lines));
            };
            const pick = k => Array.from(t.customdata, row => Array.from(row, c => c[k]));
            let text = pick(4).map(row => row.map(() => "")), size = t.textfont.size;
            for (const candidate of [pick(4), pick(5)]) {
                const fits = fitting(candidate);
                if (fits >= 8) { text = candidate; size = fits; break; }
            }
            if (t.textfont.size !== size || JSON.stringify(t.text) !== JSON.stringify(text)) {
                traces.push(i); sizes.push(size); texts.push(text);
            }
        });
        if (traces.length) window.Plotly.restyle(gd, {"textfont.size": sizes, text: texts}, traces);
    };
    const attach = tries => {
        // Looked up on every try: the graph mounts its plot only once plotly.js has loaded.
        const graph = document.getElementById(key);
        const gd = graph && graph.querySelector(".js-plotly-plot");
        if (!gd || !gd._fullData || !gd.on) {
            if (tries > 0) setTimeout(() => attach(tries - 1), 50);
            return;
        }
        if (!gd._symphonyFitText) {
            gd._symphonyFitText = true;
            gd.on("plotly_afterplot", () => fit(gd));
        }
        fit(gd);
    };
    attach(100);
}
"""


class ConfusionMatrixProps(Props):
    """The settings of a confusion matrix: which columns, how to normalise and how many classes."""

    label: str | None = Column(None, description="The true label column; defaults to the dataset's label column.")
    prediction: str | None = Column(
        None, description="The predicted label column; defaults to the dataset's prediction column."
    )
    normalize: Literal["none", "row", "column"] = Field(
        "none",
        description="Colour by count, by share of each true class (row: recall) or of each prediction (column: "
        "precision).",
    )
    max_classes: int = Field(
        20, ge=2, le=50, description="Show the most frequent classes; the rest, and missing values, count as 'other'."
    )


@dataclass
class _Classes:
    """The classes on the axes, fixed by the whole table so the matrix stays put while the filter changes."""

    values: list[Any]  # the shown classes, in display order; an 'other' row and column follow when ``other``
    other: bool
    rows: np.ndarray  # for each row of the engine's crosstab (label values, then missing): its row in the matrix
    cols: np.ndarray  # the same for its columns (prediction values, then missing)
    same: np.ndarray  # True where the crosstab's row and column are the same class: the correct predictions

    @property
    def names(self) -> list[str]:
        return [str(v) for v in self.values] + ([OTHER] if self.other else [])

    @property
    def binary(self) -> bool:
        return len(self.values) == 2 and not self.other


@dataclass
class _Panel:
    """One matrix: its counts, exact number of correct predictions, and the title above it."""

    counts: np.ndarray
    correct: int
    title: str = ""

    @property
    def total(self) -> int:
        return int(self.counts.sum())


@register
class ConfusionMatrix(Component):
    """Counts of true label by predicted label; click a cell to filter the other views to those instances."""

    type = "confusion_matrix"
    name = "Confusion matrix"
    description = (
        "True labels (rows) by predictions (columns): correct in blue, errors in orange. Click a cell to filter the "
        "other views to those instances; click more cells to add them, click a chosen cell again to remove it."
    )
    Props = ConfusionMatrixProps
    outputs = (Slot("graph", "figure"),)
    events = {"click": Event(Slot("graph", "clickData"))}
    clientside = (Clientside(FIT_TEXT, inputs=(Slot("graph", "figure"),)),)

    def layout(self) -> dcc.Graph:
        return dcc.Graph(id=self.id("graph"), config=style.GRAPH_CONFIG, style={"height": "100%"})

    @property
    def columns(self) -> tuple[str, str]:
        return self.resolve("label", "label"), self.resolve("prediction", "prediction")

    def render(self, view: View) -> dict[str, Any]:
        classes = self._classes(view)
        group = next((g for g in view.state.group_by if g not in self.columns), None)
        panels = self._groups(view, classes, group) if group is not None else []
        if not panels:  # no group-by, or an empty table
            group = None
            panels = [self._panel(view.data, classes)]
            panels[0].title = _summary(panels[0], classes, long=True)
        chosen = self._chosen(view, classes)
        rows, cols = GRIDS[len(panels)]
        layout = style.base_layout(
            uirevision="confusion_matrix",
            dragmode=False,
            hovermode="closest",
            # Room above the matrix for its title: two lines for a two-class matrix's metrics.
            margin={"l": 56, "r": 12, "t": 44 if group is not None or classes.binary else 28, "b": 44},
            annotations=[],
            shapes=[],
        )
        data = []
        for i, panel in enumerate(panels):
            row, col = divmod(i, cols)
            suffix = "" if i == 0 else str(i + 1)
            x = _domain(col, cols, gap=0.08)
            y = _domain(rows - 1 - row, rows, gap=0.16 if group else 0.0)
            data.append(self._trace(panel, classes, suffix))
            layout[f"xaxis{suffix}"] = _axis(classes, x, "predicted" if row == rows - 1 else None) | {
                "anchor": f"y{suffix}"
            }
            layout[f"yaxis{suffix}"] = _axis(classes, y, "true label" if col == 0 else None) | {
                "anchor": f"x{suffix}",
                "autorange": False,
                "range": [len(classes.names) - 0.5, -0.5],  # the first class at the top, as in a table
                "scaleanchor": f"x{suffix}",  # square cells
            }
            layout["annotations"].append(_title(panel.title, suffix, 12 if group is None else 11))
            layout["shapes"] += [_outline(r, c, suffix) for r, c in chosen]
        # Plain dicts, not graph_objects: validating a figure costs more than computing it.
        return {"data": data, "layout": layout}

    def _classes(self, view: View) -> _Classes:
        """The most frequent classes of label and prediction together over the whole table, in the data's order."""
        levels, by_values, totals = view.all.crosstab(*self.columns)
        labels, predictions = levels.to_list(), by_values.to_list()
        frequency: dict[Any, int] = {}
        for values, counts in ((labels, totals.sum(axis=1)), (predictions, totals.sum(axis=0))):
            for v, n in zip(values, counts.tolist(), strict=False):  # the last count is of the missing values
                frequency[v] = frequency.get(v, 0) + n
        # A stable sort keeps the data's order among equally frequent classes.
        top = set(sorted(frequency, key=lambda v: -frequency[v])[: self.props.max_classes])
        shown = [v for v in frequency if v in top]
        index = {v: i for i, v in enumerate(shown)}
        rest = len(shown)
        rows = np.array([index.get(v, rest) for v in labels] + [rest])
        cols = np.array([index.get(v, rest) for v in predictions] + [rest])
        other = bool(totals[rows == rest].sum() + totals[:, cols == rest].sum())
        same = np.zeros(totals.shape, dtype=bool)
        position = {v: j for j, v in enumerate(predictions)}
        for i, v in enumerate(labels):
            if v in position:
                same[i, position[v]] = True
        return _Classes(shown, other, rows, cols, same)

    def _panel(self, query: Query, classes: _Classes) -> _Panel:
        _, _, counts = query.crosstab(*self.columns)
        size = len(classes.values) + 1
        matrix = np.zeros((size, size), dtype=np.int64)
        np.add.at(matrix, (classes.rows[:, None], classes.cols[None, :]), counts)
        n = len(classes.names)
        return _Panel(matrix[:n, :n], int(counts[classes.same].sum()))

    def _groups(self, view: View, classes: _Classes, group: str) -> list[_Panel]:
        """One panel per value of the group-by column: the most frequent few over the whole table, in display order."""
        totals = view.all.value_counts(group, limit=None)["value"].to_list()
        top = set(totals[:MAX_GROUPS])
        order = [*self.dataset.categories(group), None] if self.dataset.column(group).is_categorical else totals
        panels: list[_Panel] = []
        for value in (v for v in order if v in top):
            where = is_null(group) if value is None else isin(group, [value])
            panel = self._panel(view.where(where), classes)
            panel.title = f"<b>{'(missing)' if value is None else value}</b> " + _summary(panel, classes)
            panels.append(panel)
        return panels

    def _chosen(self, view: View, classes: _Classes) -> list[tuple[int, int]]:
        """The (row, column) of every cell in this component's own clause, to outline them."""
        own = view.own
        if own is None or own.op != "pairs" or own.columns != self.columns:
            return []
        index = {v: i for i, v in enumerate(classes.values)}
        return [(index[a], index[b]) for a, b in own.value if a in index and b in index]

    def _trace(self, panel: _Panel, classes: _Classes, suffix: str) -> dict[str, Any]:
        counts = panel.counts
        n = len(classes.names)
        share = _shares(counts, self.props.normalize)
        size = share if share is not None else counts.astype(np.float64)
        diagonal = np.eye(n, dtype=bool)
        if classes.other:
            diagonal[-1, -1] = False  # 'other' predicted as 'other' may still be two different classes
        z = np.full((n, n), np.nan)
        errors = ~diagonal & (counts > 0)
        right = diagonal & (counts > 0)
        if errors.any():
            # The square root lifts single errors out of the palest tint.
            z[errors] = 0.4999 * np.sqrt(size[errors] / size[errors].max())
        if right.any():
            z[right] = 0.5 + 0.5 * (size[right] if share is not None else size[right] / size[right].max())
        tags = BINARY_TAGS if classes.binary else None
        texts = [
            [
                _cell_texts(
                    int(counts[r, c]), None if share is None else float(share[r, c]), tags[r][c] if tags else None
                )
                for c in range(n)
            ]
            for r in range(n)
        ]
        names = classes.names
        # Each cell's [true, predicted, count, share, full text, short text]: the hover reads it, the browser picks the
        # text that fits, and a test or a notebook can read it too.
        cells = [
            [
                [names[r], names[c], int(counts[r, c]), None if share is None else float(share[r, c]), *texts[r][c]]
                for c in range(n)
            ]
            for r in range(n)
        ]
        hover = "true %{customdata[0]}, predicted %{customdata[1]}<br>%{customdata[2]:,} instances"
        if share is not None:
            of = "true %{customdata[0]}" if self.props.normalize == "row" else "predicted %{customdata[1]}"
            hover += f" (%{{customdata[3]:.1%}} of {of})"
        return {
            "type": "heatmap",
            "x": list(range(n)),
            "y": list(range(n)),
            "z": [[None if math.isnan(v) else v for v in row] for row in z.tolist()],
            "zmin": 0,
            "zmax": 1,
            "colorscale": COLORSCALE,
            "showscale": False,
            "xgap": 1,
            "ygap": 1,
            "hoverongaps": False,  # an empty cell has nothing to filter to
            "text": [[full for full, _ in row] for row in texts],
            "texttemplate": "%{text}",  # the text that fits, chosen in the browser (FIT_TEXT)
            "textfont": {"size": 11},
            "customdata": cells,
            "hovertemplate": hover + "<extra></extra>",
            "xaxis": f"x{suffix}",
            "yaxis": f"y{suffix}",
        }

    def on_event(self, name: str, value: Any, view: View) -> Clause | None:
        points = (value or {}).get("points") or []
        if not points:
            return dash.no_update  # a click always has its cell
        classes = self._classes(view)
        # Positions, not values, come from the browser: they index the classes computed here.
        r, c = points[0].get("y"), points[0].get("x")
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(classes.names) for v in (r, c)):
            raise ValueError(f"no cell at row {r!r}, column {c!r}")
        if max(r, c) >= len(classes.values):
            return dash.no_update  # 'other' stands for several classes: no single cell to filter to
        cell = [classes.values[r], classes.values[c]]
        own = view.own
        cells = [list(p) for p in own.value] if own is not None and own.op == "pairs" else []
        cells = [p for p in cells if p != cell] if cell in cells else [*cells, cell]
        return self.clause("pairs", columns=self.columns, value=cells) if cells else None


def _shares(counts: np.ndarray, normalize: str) -> np.ndarray | None:
    if normalize == "none":
        return None
    axis = 1 if normalize == "row" else 0
    totals = counts.sum(axis=axis, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)


def _cell_texts(count: int, share: float | None, tag: str | None) -> tuple[str, str]:
    """A cell's full text and the short one shown when the full one does not fit."""
    amount = f"{count:,}" if share is None else f"{share:.0%}"
    if tag is not None:
        full = f"<b>{tag}</b><br>{count:,}" + ("" if share is None else f"<br>{amount}")
        return full, f"{tag} {amount}"
    if count == 0:
        return "", ""  # empty cells stay empty: the errors that happen stand out
    return (amount if share is None else f"{amount}<br>{count:,}"), amount


def _summary(panel: _Panel, classes: _Classes, long: bool = False) -> str:
    """Count and accuracy, and for two classes precision, recall and F1 (of the second class)."""
    total = panel.total
    text = f"{total:,} instances" if long else f"{total:,}"
    if not total:
        return text
    text += f" · {'accuracy' if long else 'acc'} <b>{panel.correct / total:.1%}</b>"
    if classes.binary and long:
        (_, fp), (fn, tp) = panel.counts.tolist()
        precision = tp / (tp + fp) if tp + fp else math.nan
        recall = tp / (tp + fn) if tp + fn else math.nan
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else math.nan
        text += f"<br>precision {_pct(precision)} · recall {_pct(recall)} · F1 {_pct(f1)}"
    return text


def _pct(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:.1%}"


def _domain(i: int, n: int, gap: float) -> list[float]:
    width = (1 - gap * (n - 1)) / n
    return [i * (width + gap), i * (width + gap) + width]


def _axis(classes: _Classes, domain: list[float], title: str | None) -> dict[str, Any]:
    n = len(classes.names)
    return {
        "domain": domain,
        "range": [-0.5, n - 0.5],
        "tickvals": list(range(n)),
        "ticktext": classes.names,
        "title": {"text": title or "", "standoff": 4},
        "showgrid": False,
        "zeroline": False,
        "fixedrange": True,
        "ticks": "",
        "constrain": "domain",
        "tickfont": {"size": 10},
    }


def _title(text: str, suffix: str, size: int) -> dict[str, Any]:
    return {
        "text": text,
        "xref": f"x{suffix} domain",
        "yref": f"y{suffix} domain",
        "x": 0.5,
        "y": 1,
        "xanchor": "center",
        "yanchor": "bottom",
        "yshift": 4,
        "showarrow": False,
        "font": {"size": size},
    }


def _outline(r: int, c: int, suffix: str) -> dict[str, Any]:
    return {
        "type": "rect",
        "xref": f"x{suffix}",
        "yref": f"y{suffix}",
        "x0": c - 0.5,
        "x1": c + 0.5,
        "y0": r - 0.5,
        "y1": r + 0.5,
        "line": {"color": OUTLINE, "width": 2.5},
        "fillcolor": "rgba(0,0,0,0)",
    }
