"""Analyses run from the app: an "Analyses" control in the toolbar starts a background job that adds columns.

The job runs off the request thread, one step per analysis; the toolbar shows a progress bar with the step name
("Near duplicates (2 of 3)"), polled by a ``dcc.Interval`` that is enabled only while a job runs. When the job is
done, every layout over the same data gets a new :class:`Dataset` and :class:`Engine` with the new columns, swapped
in as one new :class:`LoadedLayout` per layout (one dict assignment each), so a request in flight sees either the old
or the new data, never a mix. Then the control writes the page's own address back to the URL, the router builds the
page again, and its components, tables and Group by choices show the new columns. A failed job leaves the data as it
was and says why. The embedding analyses cache their results on disk (:mod:`symphony_dash.analyses.cache`), so
running one again over the same data is instant.

By default (:class:`JobRunner`) a process runs one job at a time, on a worker thread of its own; a second start while
one runs is refused politely. That enriches only the process that ran it, so an app served by several worker
processes uses a shared queue instead: with Redis configured, :class:`symphony_dash.celery_jobs.CeleryRunner` sends
the job to a Celery worker (``symphony-dash worker LAYOUTS --redis URL``), reads its progress from Redis, and every
web worker picks up the columns it wrote there. Both runners offer what the control needs (:class:`Runner`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import dash
import polars as pl
from dash import Input, Output, State, dcc, html

from . import analyses
from .analyses.duplicates import duplicate_columns
from .dataset import Dataset, DatasetError, Kind
from .layout import LoadedLayout

__all__ = [
    "ANALYSES",
    "Analysis",
    "Job",
    "JobError",
    "JobRunner",
    "Runner",
    "available",
    "choose",
    "compute_columns",
    "control",
    "failure_message",
    "register_jobs",
]

log = logging.getLogger(__name__)

POLL_MS = 400
# Plain ids: a page has one toolbar, and its layout store says which layout the control is for.
IDS = {name: f"symphony-jobs-{name}" for name in ("details", "choice", "run", "message", "progress", "poll", "layout")}


@dataclass(frozen=True)
class Analysis:
    """One analysis the app can run: what it needs, the columns it adds, and how to compute them from a dataset.

    ``needs`` names the roles the data must have (``embedding``, ``label``); ``columns`` gives the names ``compute``
    writes for a dataset; ``kinds`` sets the kind of a new column where inferring it would be wrong.
    """

    title: str
    description: str
    needs: tuple[str, ...]
    columns: Callable[[Dataset], tuple[str, ...]]
    compute: Callable[[Dataset], dict[str, pl.Series]]
    kinds: Mapping[str, Kind] = field(default_factory=dict)

    def applies_to(self, dataset: Dataset) -> bool:
        """Whether the dataset has the roles this analysis needs (an embedding must be a list of numbers per row)."""
        if "embedding" in self.needs and _embedding(dataset) is None:
            return False
        return all(dataset.role(role) is not None for role in self.needs)


def _embedding(dataset: Dataset) -> str | None:
    name = dataset.role("embedding")
    return name if name is not None and dataset.columns[name].kind == "embedding" else None


def _vectors(dataset: Dataset) -> pl.Series:
    return dataset.frame[_embedding(dataset)]  # type: ignore[index]


def _duplicates(dataset: Dataset) -> dict[str, pl.Series]:
    groups = analyses.exact_duplicates(dataset, duplicate_columns(dataset))
    return {"duplicate_group": pl.Series(groups.to_numpy())}


def _near_duplicates(dataset: Dataset) -> dict[str, pl.Series]:
    return {"near_duplicate_group": pl.Series(analyses.near_duplicates(_vectors(dataset)).to_numpy())}


def _familiarity(dataset: Dataset) -> dict[str, pl.Series]:
    return {"familiarity": pl.Series(analyses.familiarity(_vectors(dataset)).to_numpy())}


def _label_disagreement(dataset: Dataset) -> dict[str, pl.Series]:
    labels = dataset.frame[dataset.role("label")]  # type: ignore[index]
    result = analyses.label_disagreement(_vectors(dataset), labels)
    # In the label's own type, so a filter on one reads like a filter on the other.
    neighbour = pl.from_pandas(result["neighbour_label"]).cast(labels.dtype, strict=False)
    return {"label_disagreement": pl.Series(result["label_disagreement"].to_numpy()), "neighbour_label": neighbour}


def _projection_columns(dataset: Dataset) -> tuple[str, ...]:
    # As `symphony-dash analyze`: a table that already has x or y keeps them and gets proj_x, proj_y beside them.
    return ("proj_x", "proj_y") if {"x", "y"} & set(dataset.columns) else ("x", "y")


def _projection(dataset: Dataset) -> dict[str, pl.Series]:
    xy = analyses.project(_vectors(dataset), method="tsne")
    return {name: pl.Series(xy[axis].to_numpy()) for name, axis in zip(_projection_columns(dataset), "xy", strict=True)}


ANALYSES: dict[str, Analysis] = {
    "duplicates": Analysis(
        "Exact duplicates",
        "Rows equal in every column but the id and derived ones; images compared by content.",
        (),
        lambda ds: ("duplicate_group",),
        _duplicates,
    ),
    "near_duplicates": Analysis(
        "Near duplicates",
        "Rows whose embeddings have a cosine similarity of at least 0.98.",
        ("embedding",),
        lambda ds: ("near_duplicate_group",),
        _near_duplicates,
    ),
    "familiarity": Analysis(
        "Familiarity",
        "How typical each row is, from 0 (outlier) to 1.",
        ("embedding",),
        lambda ds: ("familiarity",),
        _familiarity,
    ),
    "label_disagreement": Analysis(
        "Label disagreement",
        "The share of the 10 nearest rows labelled otherwise, and their label: candidate label errors.",
        ("embedding", "label"),
        lambda ds: ("label_disagreement", "neighbour_label"),
        _label_disagreement,
        {"neighbour_label": "categorical"},
    ),
    "projection": Analysis(
        "2-D projection (t-SNE)",
        "Two coordinates per row from its embedding, for a scatterplot of the whole dataset.",
        ("embedding",),
        _projection_columns,
        _projection,
    ),
}
"""The analyses the app offers, by key, in the order the panel lists them."""


def available(dataset: Dataset, offered: Mapping[str, Analysis] = ANALYSES) -> list[str]:
    """The keys of the analyses that apply to ``dataset``, in panel order."""
    return [key for key, analysis in offered.items() if analysis.applies_to(dataset)]


class JobError(ValueError):
    """A job that cannot start; the message says why, for the person who asked."""


def choose(dataset: Dataset, keys: Any, offered: Mapping[str, Analysis] = ANALYSES) -> list[str]:
    """The keys among ``keys`` (from a browser: anything) of analyses that apply to ``dataset``, in panel order.

    Raises :class:`JobError` when none was chosen.
    """
    wanted = {key for key in keys if isinstance(key, str)} if isinstance(keys, (list, tuple)) else set()
    chosen = [key for key in available(dataset, offered) if key in wanted]
    if not chosen:
        raise JobError("Pick at least one analysis to run.")
    return chosen


def compute_columns(
    dataset: Dataset, keys: Sequence[str], offered: Mapping[str, Analysis], on_step: Callable[[int], None]
) -> tuple[dict[str, pl.Series], dict[str, Kind]]:
    """Run the analyses ``keys`` over ``dataset`` one after another, calling ``on_step(i)`` before step ``i``.

    Returns the new columns by name and the kinds they must have.
    """
    added: dict[str, pl.Series] = {}
    kinds: dict[str, Kind] = {}
    for i, key in enumerate(keys):
        on_step(i)
        analysis = offered[key]
        added.update(analysis.compute(dataset))
        kinds.update(analysis.kinds)
    return added, kinds


def failure_message(exc: Exception, what: str) -> str:
    """What a person reads when a job failed with ``exc``: the message of an expected error, else its type too.

    An unexpected error is logged with its traceback (``what`` says which job), for whoever runs the server.
    """
    if isinstance(exc, (DatasetError, ValueError, ImportError, MemoryError)):
        return str(exc)
    log.exception("analyses on %s failed", what)
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Job:
    """One run of analyses over a layout's data: its steps, the one running, and how it ended."""

    layout: str
    steps: tuple[str, ...]
    step: int = 0
    state: Literal["running", "done", "failed"] = "running"
    message: str = ""
    added: tuple[str, ...] = ()
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0
    waiting: bool = False  # queued for a worker that has not taken it yet (a shared queue)

    @property
    def progress(self) -> str:
        """The running step, as the progress bar names it: ``Near duplicates (2 of 3)``."""
        return f"{self.steps[self.step]} ({self.step + 1} of {len(self.steps)})"


class Runner(Protocol):
    """What the Analyses control needs of a runner: start a job, and say how the latest one over a layout is."""

    def job(self, slug: str) -> Job | None: ...

    def start(self, slug: str, keys: Sequence[str]) -> Any: ...


class JobRunner:
    """Runs analyses over a layout's data on a worker thread and swaps the enriched layouts into ``layouts``.

    ``layouts`` is the app's dict of loaded layouts by slug (``app.symphony_layouts``); readers take one entry and use
    its dataset and engine together. One job runs at a time per runner, so two jobs never touch one layout at once.

    >>> runner = JobRunner({"digits": loaded})  # doctest: +SKIP
    >>> runner.start("digits", ["familiarity"]).result().added  # doctest: +SKIP
    ('familiarity',)
    """

    def __init__(self, layouts: MutableMapping[str, Any], analyses: Mapping[str, Analysis] = ANALYSES) -> None:
        self.layouts = layouts
        self.analyses = analyses
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._running: Job | None = None

    def job(self, slug: str) -> Job | None:
        """A snapshot of the latest job over the layout ``slug`` (running or finished), if there was one."""
        with self._lock:
            job = self._jobs.get(slug)
            return replace(job) if job is not None else None

    def running(self) -> Job | None:
        """A snapshot of the job running now, on any layout."""
        with self._lock:
            return replace(self._running) if self._running is not None else None

    def start(self, slug: str, keys: Sequence[str]) -> Future[Job]:
        """Start the analyses ``keys`` over the layout ``slug``; the future gives the finished :class:`Job`.

        Raises :class:`JobError` when a job is already running, the layout is unknown, or no applicable analysis
        was chosen. Keys are taken in panel order, whatever order they come in.
        """
        lay = self.layouts.get(slug)
        if not isinstance(lay, LoadedLayout):
            raise JobError(f"There is no layout {slug!r} to analyse.")
        chosen = choose(lay.dataset, keys, self.analyses)
        with self._lock:
            if self._running is not None:
                raise JobError(
                    f"Analyses are already running on {self._running.layout!r} ({self._running.progress}); "
                    "run these when they finish."
                )
            job = Job(slug, tuple(self.analyses[key].title for key in chosen))
            self._running = self._jobs[slug] = job
        finished: Future[Job] = Future()
        # A daemon thread: a server stopped mid-job (Ctrl+C) does not wait minutes for a t-SNE to end.
        threading.Thread(
            target=self._run, args=(job, lay, chosen, finished), name=f"symphony-jobs-{slug}", daemon=True
        ).start()
        return finished

    def _run(self, job: Job, lay: LoadedLayout, keys: list[str], finished: Future[Job]) -> None:
        try:
            enriched, added = self._enrich(job, lay, keys)
        except Exception as exc:
            self._finish(job, "failed", failure_message(exc, repr(job.layout)))
        else:
            for slug, new in enriched.items():
                self.layouts[slug] = new
            log.info("analyses on %r added %s", job.layout, ", ".join(added))
            self._finish(job, "done", added=added)
        finished.set_result(job)

    def _enrich(self, job: Job, lay: LoadedLayout, keys: list[str]) -> tuple[dict[str, LoadedLayout], tuple[str, ...]]:
        """Run each step, then make every layout over this data anew with the columns (they share one Dataset)."""

        def on_step(i: int) -> None:
            with self._lock:
                job.step = i

        added, kinds = compute_columns(lay.dataset, keys, self.analyses, on_step)
        dataset = lay.dataset.with_columns(added, kinds)
        enriched = {
            slug: other.with_dataset(dataset)
            for slug, other in list(self.layouts.items())
            if isinstance(other, LoadedLayout) and other.dataset is lay.dataset
        }
        return enriched, tuple(added)

    def _finish(
        self, job: Job, state: Literal["done", "failed"], message: str = "", added: tuple[str, ...] = ()
    ) -> None:
        with self._lock:
            job.state, job.message, job.added = state, message, added
            job.seconds = time.monotonic() - job.started
            self._running = None


def control(lay: LoadedLayout, runner: Runner) -> html.Div:
    """The toolbar's "Analyses" control for ``lay``: a panel of the analyses that apply, Run, and a progress bar.

    Built with the page, it shows the layout's latest job as it is now: a page shown while a job runs polls it too.
    """
    # The runner is passed in, not looked up with dash.get_app(): in a callback that returns the last app created
    # in the process, which is another app's when a process serves several (tests, a notebook).
    job = runner.job(lay.slug)
    running = job is not None and job.state == "running"
    choices = []
    for key in available(lay.dataset):
        analysis = ANALYSES[key]
        columns = analysis.columns(lay.dataset)
        present = all(c in lay.dataset.columns for c in columns)
        note = f"{'has' if present else 'adds'} {', '.join(columns)}" + (": run again to recompute" if present else "")
        label = html.Span(
            [
                html.Span(analysis.title, className="symphony-jobs-title"),
                html.Span(note, className="symphony-jobs-columns" + (" present" if present else "")),
                html.Span(analysis.description, className="symphony-jobs-description"),
            ],
            className="symphony-jobs-option",
        )
        choices.append({"label": label, "value": key})
    hint = html.P("The neighbourhood analyses need an embedding column.", className="symphony-jobs-hint")
    panel = html.Div(
        [
            html.Div("Add columns computed over the whole dataset", className="symphony-jobs-heading"),
            dcc.Checklist(id=IDS["choice"], options=choices, value=[], className="symphony-jobs-choices"),
            None if lay.dataset.columns_of("embedding") else hint,
            html.Div(
                [
                    html.Button("Run", id=IDS["run"], disabled=running, className="symphony-jobs-run"),
                    html.Span(id=IDS["message"], className="symphony-jobs-message", role="status"),
                ],
                className="symphony-jobs-actions",
            ),
        ],
        className="symphony-jobs-panel",
    )
    return html.Div(
        [
            html.Details([html.Summary("Analyses"), panel], id=IDS["details"], className="symphony-jobs-details"),
            html.Div(_status(job), id=IDS["progress"], className="symphony-jobs-progress"),
            dcc.Interval(id=IDS["poll"], interval=POLL_MS, disabled=not running),
            dcc.Store(id=IDS["layout"], data=lay.slug),
        ],
        className="symphony-jobs",
    )


def register_jobs(app: dash.Dash, runner: Runner) -> None:
    """Serve ``runner``'s jobs in ``app``: start a job on Run, report its progress, route the page again when done."""

    @app.callback(
        Output(IDS["progress"], "children"),
        Output(IDS["poll"], "disabled"),
        Output(IDS["run"], "disabled"),
        Output(IDS["message"], "children"),
        Output("symphony-url", "pathname", allow_duplicate=True),
        Input(IDS["run"], "n_clicks"),
        Input(IDS["poll"], "n_intervals"),
        State(IDS["layout"], "data"),
        State(IDS["choice"], "value"),
        State("symphony-url", "pathname"),
        prevent_initial_call=True,
    )
    def update(clicks: Any, ticks: Any, slug: Any, chosen: Any, pathname: Any) -> tuple[Any, ...]:
        if not isinstance(slug, str):
            raise dash.exceptions.PreventUpdate
        # Dash also calls this when the page is mounted (its output, the URL, already exists): that is not a click.
        trigger = dash.ctx.triggered_id if clicks or ticks else None
        message = ""
        if trigger == IDS["run"]:
            try:
                runner.start(slug, chosen if isinstance(chosen, list) else [])
            except JobError as exc:
                message = str(exc)
        job = runner.job(slug)
        running = job is not None and job.state == "running"
        # Only a page that watched the job run routes itself again; a page shown later already has the new data.
        reroute = trigger == IDS["poll"] and job is not None and job.state == "done"
        return _status(job), not running, running, message, pathname if reroute else dash.no_update


def _status(job: Job | None) -> Any:
    if job is None:
        return None
    if job.state == "failed":
        return html.Span(
            f"Analyses failed: {job.message.rstrip('.')}. The data is unchanged.",
            className="symphony-jobs-failed",
            role="alert",
        )
    if job.state == "done":
        return html.Span(f"Added {', '.join(job.added)} ({job.seconds:.1f} s)", className="symphony-jobs-done")
    share = job.step / len(job.steps)
    return html.Div(
        [
            html.Div(
                html.Div(className="symphony-jobs-fill", style={"width": f"{max(share, 0.04):.0%}"}),
                className="symphony-jobs-bar",
                role="progressbar",
                **{"aria-valuenow": round(share * 100), "aria-valuemin": 0, "aria-valuemax": 100},
            ),
            html.Span(job.progress, className="symphony-jobs-step"),
            html.Span("waiting for a worker", className="symphony-jobs-waiting") if job.waiting else None,
        ],
        className="symphony-jobs-running",
    )
