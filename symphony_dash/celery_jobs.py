"""Background analyses on Celery, for an app served by several worker processes (or machines) sharing one Redis.

With Redis configured (:mod:`.shared_cache`), the toolbar's Analyses control sends its job to a Celery queue in
Redis. A Celery worker started beside the web server with the same layouts (and ``--data``, if the server has one)

    symphony-dash worker layouts/ --redis redis://127.0.0.1:6379/0

runs it on its own copy of the data and reports each step in a key that any web worker reads to draw the progress
bar. It writes the new columns to Redis as Arrow IPC, keyed by a fingerprint of the data (the same file loaded by any
process gives the same key, and a changed file another), then bumps a generation counter. Every web worker reads that
counter before each request (one small GET) and, when it moved, takes the new columns into its own data the way the
thread runner does (:mod:`.jobs`): one new layout per layout over that data, swapped in whole. A web worker started
later takes them too, so columns outlive a restart of the web server while Redis keeps them.

Why plain Celery tasks, not Dash's background callbacks with its ``CeleryManager``: those run one of the app's
callbacks in the worker, so the worker would build the whole Dash app, and their progress belongs to the browser
session that started them; a job here belongs to its layout, and every page, on any worker, shows it. The progress is
a key the task writes, read through :class:`SharedCache`, so a Redis outage costs a polling request nothing.

One job runs at a time (a key taken with SET NX, freed by the task when it ends), as with the thread runner. A worker
killed in the middle of a job leaves that job shown as running until its key expires after :data:`JOB_SECONDS`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
import polars as pl

from .dataset import Dataset, Kind
from .jobs import ANALYSES, Analysis, Job, JobError, choose, compute_columns, failure_message
from .layout import LayoutError, LoadedLayout, load_layout
from .media import MEDIA_ROUTE
from .shared_cache import SharedCache, shown_url

__all__ = ["TASK", "CeleryRunner", "celery_app", "fingerprint", "run_job", "run_worker"]

log = logging.getLogger(__name__)

TASK = "symphony_dash.analyse"
QUEUE = "symphony_dash"
# A job's record and its "running" key live a day: long enough for a t-SNE of millions of rows.
JOB_SECONDS = 24 * 3600
GENERATION = "analyses:generation"
RUNNING = "jobs:running"
# Requests for files, which never read the data: Dash's scripts, the app's assets and styles, media files.
_FILES = ("/_dash-component-suites/", "/assets/", "/_favicon", MEDIA_ROUTE)


def _job_key(slug: str) -> str:
    return f"jobs:layout:{slug}"


def _columns_key(data: str) -> str:
    return f"analyses:columns:{data}"


def fingerprint(dataset: Dataset) -> str:
    """A digest of the dataset's content, row order, schema and roles: equal in every process that loads the same data.

    Hashing is about 0.1-0.3 s per million rows; the runner computes it once per dataset, when first needed.
    """
    digest = hashlib.blake2b(digest_size=16)
    kinds = sorted((name, info.kind) for name, info in dataset.columns.items())
    digest.update(repr((dataset.frame.schema, dataset.id_column, sorted(dataset.roles.items()), kinds)).encode())
    try:
        digest.update(dataset.frame.hash_rows().to_numpy().tobytes())
    except pl.exceptions.PolarsError:  # a column type polars cannot hash: its bytes, at the cost of a copy
        digest.update(dataset.frame.write_ipc(None).getvalue())
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredColumns:
    """The columns the background analyses added to one dataset so far, as one version."""

    version: str
    columns: dict[str, pl.Series]
    kinds: dict[str, Kind]


def read_columns(shared: SharedCache, data: str) -> StoredColumns | None:
    """The columns stored for the data with fingerprint ``data``, if any (and if Redis answers)."""
    record = shared.get(_columns_key(data))
    if not isinstance(record, dict) or not isinstance(record.get("ipc"), bytes):
        return None
    frame = pl.read_ipc(io.BytesIO(record["ipc"]))
    columns = {name: frame[name] for name in frame.columns}
    return StoredColumns(str(record.get("version")), columns, dict(record.get("kinds", {})))


def write_columns(shared: SharedCache, data: str, columns: Mapping[str, pl.Series], kinds: Mapping[str, Kind]) -> bool:
    """Store ``columns`` as the data's added columns, then move the generation on: ``False`` if Redis is unreachable."""
    buffer = io.BytesIO()
    pl.DataFrame([series.alias(name) for name, series in columns.items()]).write_ipc(buffer, compression="zstd")
    record = {"version": uuid.uuid4().hex, "ipc": buffer.getvalue(), "kinds": dict(kinds)}
    # The columns first, then the counter: a web worker that sees the new generation finds the new columns.
    return shared.set(_columns_key(data), record) and shared.increment(GENERATION) is not None


def celery_app(url: str, *, fail_fast: bool = False) -> Any:
    """A Celery app with Redis at ``url`` as its broker (JSON only: no pickles on the queue).

    It has no result backend: a job's progress and outcome are the record its task writes (:func:`run_job`), and
    Celery's Redis result backend would retry a lost Redis for many seconds inside the request that queues a job.
    ``fail_fast`` (the web side) tries the broker twice, at once, when queueing: a request must not wait for a Redis
    that is gone. A worker keeps Celery's patient reconnection, to outlive a restart of Redis.
    """
    try:
        from celery import Celery
    except ImportError:
        raise ImportError(
            "background jobs on Celery need the redis extra: pip install 'symphony_dash[redis]'"
        ) from None
    app = Celery("symphony_dash", broker=url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_default_queue=QUEUE,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "socket_connect_timeout": 2,
            "visibility_timeout": JOB_SECONDS,
            **({"max_retries": 1, "interval_start": 0, "interval_step": 0.2} if fail_fast else {}),
        },
    )
    return app


def _job_of(slug: str, record: Any) -> Job | None:
    """The :class:`Job` a stored record describes; ``None`` for a record that is not one."""
    if not isinstance(record, dict) or not isinstance(record.get("steps"), list) or not record["steps"]:
        return None
    steps = tuple(str(step) for step in record["steps"])
    state = record.get("state")
    step = record.get("step")
    return Job(
        slug,
        steps,
        step=min(max(step, 0), len(steps) - 1) if isinstance(step, int) else 0,
        state=state if state in ("done", "failed") else "running",
        message=str(record.get("message", "")),
        added=tuple(str(name) for name in record.get("added", ())),
        seconds=float(record.get("seconds", 0.0)),
        waiting=state == "waiting",
    )


class CeleryRunner:
    """Runs analyses on Celery workers through Redis, and keeps this process's data up to date with their results.

    It offers what :class:`symphony_dash.jobs.JobRunner` does for the Analyses control (:class:`jobs.Runner`);
    ``layouts`` is the app's dict of loaded layouts by slug. Call :meth:`sync` before each request
    (:meth:`follow` registers it) so that a job finished by any worker shows here.
    """

    def __init__(
        self, layouts: MutableMapping[str, Any], shared: SharedCache, analyses: Mapping[str, Analysis] = ANALYSES
    ) -> None:
        self.layouts = layouts
        self.shared = shared
        self.analyses = analyses
        self.celery = celery_app(shared.url, fail_fast=True)
        self._lock = threading.RLock()
        # An enriched dataset keeps the fingerprint of the data it was loaded as: results are stored under that.
        self._fingerprints: weakref.WeakKeyDictionary[Dataset, str] = weakref.WeakKeyDictionary()
        self._applied: dict[str, str] = {}
        self._seen: int | None = None
        self._last: dict[str, Job] = {}

    def follow(self, server: Any) -> None:
        """Bring this process's data up to date before every request ``server`` (a Flask app) answers that reads it:
        not before the scripts, styles and media files a page loads by the dozen (one Redis call each)."""

        def sync_for_data() -> None:
            if not flask.request.path.startswith(_FILES):
                self.sync()

        server.before_request(sync_for_data)

    def job(self, slug: str) -> Job | None:
        """The latest job over the layout ``slug``, as its Celery worker last reported it."""
        record = self.shared.get(_job_key(slug))
        if record is None and not self.shared.available:
            return self._last.get(slug)  # Redis is away: the last known state, not "no job"
        job = _job_of(slug, record)
        if job is not None and job.state == "done":
            self.sync()  # this very request may draw the page again: with the new columns
        if job is not None:
            self._last[slug] = job
        return job

    def running(self) -> Job | None:
        """The job running now, on any layout, from any web worker."""
        held = self.shared.get(RUNNING)
        if not isinstance(held, dict) or not isinstance(held.get("slug"), str):
            return None
        job = self.job(held["slug"])
        return job if job is not None and job.state == "running" else None

    def start(self, slug: str, keys: Sequence[str]) -> str:
        """Queue the analyses ``keys`` over the layout ``slug`` for a Celery worker; return the task's id.

        Raises :class:`JobError` as :meth:`JobRunner.start` does, and when Redis cannot be reached.
        """
        lay = self.layouts.get(slug)
        if not isinstance(lay, LoadedLayout):
            raise JobError(f"There is no layout {slug!r} to analyse.")
        chosen = choose(lay.dataset, keys, self.analyses)
        if not self.shared.ping():
            raise JobError(
                f"The job queue (Redis at {shown_url(self.shared.url)}) cannot be reached; try again when it is back."
            )
        data = self._fingerprint(lay.dataset)
        task = uuid.uuid4().hex
        if not self.shared.add(RUNNING, {"slug": slug, "task": task}, timeout=JOB_SECONDS):
            running = self.running()
            where = f" on {running.layout!r} ({running.progress})" if running is not None else ""
            raise JobError(f"Analyses are already running{where}; run these when they finish.")
        steps = [self.analyses[key].title for key in chosen]
        self.shared.set(_job_key(slug), {"task": task, "steps": steps, "state": "waiting"}, timeout=JOB_SECONDS)
        try:
            self.celery.send_task(TASK, args=[data, slug, chosen], task_id=task, queue=QUEUE, retry=False)
        except Exception as exc:  # kombu's and redis's errors: the queue went away since the ping
            self.shared.delete(RUNNING)
            self.shared.delete(_job_key(slug))
            log.warning("could not queue analyses on %r at %s: %s", slug, shown_url(self.shared.url), exc)
            raise JobError(f"The job could not be queued ({exc}); try again in a moment.") from None
        return task

    def sync(self) -> None:
        """Take the columns background analyses stored since the last call into every layout over their data."""
        generation = self.shared.get(GENERATION)
        if generation is None or generation == self._seen:
            return
        with self._lock:
            if generation == self._seen:
                return
            datasets = {id(lay.dataset): lay.dataset for lay in self.layouts.values() if isinstance(lay, LoadedLayout)}
            for dataset in datasets.values():
                data = self._fingerprint(dataset)
                try:
                    self._take(dataset, data)
                except Exception:  # a record this version cannot read: the request goes on with the data as it is
                    log.exception("could not take the columns stored for %s in Redis", dataset.name)
            if self.shared.available:  # else a record may have been missed: look again at the next request
                self._seen = generation

    def _take(self, dataset: Dataset, data: str) -> None:
        stored = read_columns(self.shared, data)
        if stored is None or stored.version == self._applied.get(data):
            return
        self._applied[data] = stored.version  # taken or not, it is not tried again
        enriched = dataset.with_columns(stored.columns, stored.kinds)
        self._fingerprints[enriched] = data
        for slug, lay in list(self.layouts.items()):
            if isinstance(lay, LoadedLayout) and lay.dataset is dataset:
                self.layouts[slug] = lay.with_dataset(enriched)
        log.info("took the columns %s from background analyses", ", ".join(stored.columns))

    def _fingerprint(self, dataset: Dataset) -> str:
        with self._lock:
            if dataset not in self._fingerprints:
                self._fingerprints[dataset] = fingerprint(dataset)
            return self._fingerprints[dataset]


def run_job(
    shared: SharedCache,
    datasets: Mapping[str, Dataset],
    data: str,
    slug: str,
    keys: Sequence[str],
    task: str,
    analyses: Mapping[str, Analysis] = ANALYSES,
) -> dict[str, Any]:
    """The body of the Celery task: run ``keys`` over the dataset whose fingerprint is ``data``; store the columns.

    ``datasets`` are the worker's, by fingerprint. Each step is reported in the job's record, which is returned.
    """
    started = time.monotonic()
    record: dict[str, Any] = shared.get(_job_key(slug)) or {"steps": [analyses[k].title for k in keys if k in analyses]}
    record["task"] = task

    def report(**changes: Any) -> None:
        record.update(changes, seconds=time.monotonic() - started)
        shared.set(_job_key(slug), record, timeout=JOB_SECONDS)

    try:
        base = datasets.get(data)
        if base is None:
            raise JobError(
                f"the Celery worker has no data like layout {slug!r}'s: start it with the same layouts (and --data)"
                " as the web server"
            )
        stored = read_columns(shared, data)
        dataset = base.with_columns(stored.columns, stored.kinds) if stored else base
        report(state="running", step=0)
        added, kinds = compute_columns(
            dataset, choose(dataset, keys, analyses), analyses, lambda i: report(state="running", step=i)
        )
        columns = {**(stored.columns if stored else {}), **added}
        if not write_columns(shared, data, columns, {**(stored.kinds if stored else {}), **kinds}):
            raise JobError(f"its results could not be stored: Redis at {shown_url(shared.url)} is unreachable")
        report(state="done", added=list(added))
        log.info("analyses on %r added %s", slug, ", ".join(added))
    except Exception as exc:
        report(state="failed", message=failure_message(exc, repr(slug)))
    finally:
        held = shared.get(RUNNING)
        if isinstance(held, dict) and held.get("task") == task:
            shared.delete(RUNNING)
    return record


def worker_datasets(files: Sequence[Path], data: Path | None = None) -> dict[str, Dataset]:
    """The datasets of the layouts in ``files`` (loaded as the web server loads them), by fingerprint."""
    shared: dict[str, Dataset] = {}
    for file in files:
        try:
            load_layout(file, data=data, datasets=shared)
        except LayoutError as exc:
            log.error("%s", exc)
    return {fingerprint(dataset): dataset for dataset in shared.values()}


def run_worker(files: Sequence[Path], url: str, *, data: Path | None = None) -> None:
    """Serve analyses from the Celery queue at ``url`` over the data of the layouts in ``files``, until stopped.

    Tasks run one at a time in this process (Celery's ``solo`` pool): polars' thread pool does not survive a fork, so
    the worker forks no children. For more throughput, start more workers (on other machines too).
    """
    shared = SharedCache(url, fallback="nothing: this worker's results need Redis")
    datasets = worker_datasets(files, data)
    log.info("the worker serves %d dataset(s) from %d layout file(s)", len(datasets), len(files))
    app = celery_app(url)

    @app.task(name=TASK, bind=True)  # type: ignore[untyped-decorator]
    def analyse(task: Any, data: str, slug: str, keys: list[str]) -> dict[str, Any]:
        return run_job(shared, datasets, data, slug, keys, task.request.id)

    # No gossip, mingle or heartbeat: workers of this queue need not know each other, and it starts a second sooner.
    options = ["--pool=solo", "--concurrency=1", "--loglevel=INFO", f"--queues={QUEUE}", "--hostname=symphony@%h"]
    app.worker_main(["worker", *options, "--without-gossip", "--without-mingle", "--without-heartbeat"])
