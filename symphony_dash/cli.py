"""The ``symphony-dash`` command: serve the demo or your own layouts, check layouts, print the layout schema.

    symphony-dash demo                                  # the packaged demos (digits, breast cancer) on :8050
    symphony-dash run layouts/ --data runs.parquet      # your layouts (a folder or one file), optionally other data
    symphony-dash validate layouts/ more/triage.json    # every problem of every layout; exit 1 if there is one
    symphony-dash schema > layout.schema.json           # the JSON Schema of a layout file, for editors
    symphony-dash analyze runs.parquet --out enriched.parquet --duplicates --familiarity --projection tsne
    symphony-dash export layouts/triage.json --out triage.html  # a static HTML report that opens offline
    symphony-dash new-component calibration             # a new component package to write, from the SDK's template
    symphony-dash worker layouts/ --redis redis://127.0.0.1:6379/0   # run the Analyses menu's jobs (run --redis)

Problems are reported as messages naming the file, never as tracebacks.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
import threading
import webbrowser
from collections.abc import Sequence
from importlib import metadata, resources
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow.parquet as pq

from . import analyses, registry
from .analyses.duplicates import duplicate_columns
from .analyses.projection import PROJECTIONS
from .app import create_app
from .auth import AuthConfig, from_environment
from .dataset import Dataset, DatasetError, read_table
from .export import write_report
from .files import atomic_write
from .layout import LayoutError, LoadedLayout, layout_schema, load_layout
from .serve import serve
from .shared_cache import configured_url, shown_url

__all__ = ["main"]

PROG = "symphony-dash"
_PROJECTION_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    0: done; 1: a layout or its data has problems (or the server could not start, or an analysis needs a package that
    is not installed); 2: wrong usage or a missing path.
    """
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except (LayoutError, DatasetError, OSError, ImportError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Compose linked, data-driven machine-learning interfaces on Plotly Dash."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo", help="serve the built-in demos (scikit-learn's handwritten digits and breast-cancer data)"
    )
    _server_options(demo)
    demo.add_argument(
        "--browser",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="open the app in a web browser (default: only print its address)",
    )
    demo.set_defaults(command=_demo)

    run = commands.add_parser("run", help="serve the layouts in a file or a folder of *.json files")
    run.add_argument("path", type=Path, metavar="PATH", help="a layout JSON file or a folder of them")
    run.add_argument("--data", type=Path, metavar="FILE", help="serve this data file instead of the layouts' own")
    _server_options(run)
    run.add_argument("--debug", action="store_true", help="Dash's debug mode: error pop-ups and reload on change")
    run.add_argument(
        "--read-only",
        action="store_true",
        help="never write the layout files (a hosted dashboard): saved slices last for the browser session only",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="serve with N worker processes (gunicorn: pip install 'symphony_dash[serve]'); no Analyses menu then,"
        " unless with --redis",
    )
    run.add_argument(
        "--redis",
        metavar="URL",
        help="share caches between worker processes through Redis at URL, e.g. redis://127.0.0.1:6379/0, and run "
        "analyses on Celery workers (symphony-dash worker); default: $SYMPHONY_DASH_REDIS, else no Redis",
    )
    run.add_argument(
        "--auth-token-file",
        type=Path,
        metavar="FILE",
        help="require the token in FILE to open the app (default: $SYMPHONY_DASH_TOKEN_FILE, else $SYMPHONY_DASH_TOKEN;"
        " without either the app is open to anyone who can reach it)",
    )
    run.add_argument(
        "--auth-header",
        metavar="NAME",
        help="let in the user a trusted reverse proxy names in this header, e.g. X-Forwarded-User "
        "(default: $SYMPHONY_DASH_AUTH_HEADER; proxies: $SYMPHONY_DASH_TRUSTED_PROXIES, default this machine)",
    )
    run.set_defaults(command=_run)

    worker = commands.add_parser(
        "worker", help="run the analyses an app served with --redis queues (a Celery worker over the same layouts)"
    )
    worker.add_argument("path", type=Path, metavar="PATH", help="the layouts the app serves: a file or a folder")
    worker.add_argument("--data", type=Path, metavar="FILE", help="the data file the app serves instead, if any")
    worker.add_argument("--redis", metavar="URL", help="the app's Redis (default: $SYMPHONY_DASH_REDIS)")
    worker.set_defaults(command=_worker)

    validate = commands.add_parser("validate", help="check layouts and their data; print every problem found")
    validate.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="layout JSON files or folders of them")
    validate.set_defaults(command=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of a layout file")
    schema.set_defaults(command=_schema)

    analyze = commands.add_parser(
        "analyze", help="add whole-dataset analyses as columns (duplicates, familiarity ...) and write a Parquet file"
    )
    analyze.add_argument("data", type=Path, metavar="DATA", help="a .parquet, .csv or .tsv file")
    analyze.add_argument("--out", type=Path, required=True, metavar="FILE", help="the enriched .parquet file to write")
    analyze.add_argument("--id-column", metavar="COL", help="the column of unique instance ids (default: id, if any)")
    analyze.add_argument("--embedding", metavar="COL", help="the embedding column (default: found by its name or type)")
    analyze.add_argument("--label", metavar="COL", help="the label column (default: the one found by its name)")
    chosen = analyze.add_argument_group("analyses (at least one)")
    chosen.add_argument(
        "--duplicates",
        action="store_true",
        help="duplicate_group: rows equal in every column but the id and derived ones; images compared by content",
    )
    chosen.add_argument(
        "--near-duplicates",
        action="store_true",
        help="near_duplicate_group: rows whose embeddings have a cosine similarity of at least --threshold",
    )
    chosen.add_argument(
        "--threshold", type=_similarity, metavar="T", help="the similarity of --near-duplicates (default: 0.98)"
    )
    chosen.add_argument(
        "--familiarity", action="store_true", help="familiarity: how typical each row is, 0 (outlier) to 1"
    )
    chosen.add_argument(
        "--label-disagreement",
        action="store_true",
        help="label_disagreement, neighbour_label: the share of the 10 nearest rows labelled otherwise, their label",
    )
    chosen.add_argument(
        "--projection",
        choices=PROJECTIONS,
        help="x, y (proj_x, proj_y if the data has x or y): a 2-D projection of the embedding",
    )
    analyze.set_defaults(command=_analyze)

    export = commands.add_parser(
        "export", help="write a self-contained HTML report of a layout that opens offline, with no server"
    )
    export.add_argument("layout", type=Path, metavar="LAYOUT", help="a layout JSON file")
    export.add_argument("--out", type=Path, required=True, metavar="FILE", help="the .html file (or a folder) to write")
    export.add_argument("--data", type=Path, metavar="FILE", help="report on this data file instead of the layout's")
    export.add_argument(
        "--page", default="all", metavar="N|all", help="only page N (1 is the first), or all pages (default)"
    )
    export.set_defaults(command=_export)

    new = commands.add_parser(
        "new-component", help="write a new component package from the SDK's template, ready to pip install -e"
    )
    new.add_argument("name", metavar="NAME", help="the component's type name, such as calibration or top_values")
    new.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="a new (or empty) folder to write the package in (default: ./symphony-dash-NAME)",
    )
    new.set_defaults(command=_new_component)
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8050, help="the port to listen on (default: %(default)s)")


def _version() -> str:
    try:
        return metadata.version("symphony_dash")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def _demo(args: argparse.Namespace) -> int:
    # The layouts ship inside the package, so this works from a wheel as well as from a checkout.
    with resources.as_file(resources.files(__package__) / "layouts") as folder:
        # The app opens on its first layout: the digits, which tell the fuller story.
        return _serve(folder, None, args.host, args.port, debug=False, browser=args.browser, first="digits.json")


def _run(args: argparse.Namespace) -> int:
    for path, what in ((args.path, "layout file or folder"), (args.data, "data file")):
        if path is not None and not path.exists():
            print(f"{PROG}: {path}: no such {what}", file=sys.stderr)
            return 2
    if args.workers < 1:
        print(f"{PROG}: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        auth = from_environment(args.auth_token_file, args.auth_header)
    except ValueError as exc:  # a token too short to be safe
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    if args.debug and args.host not in ("127.0.0.1", "localhost", "::1"):
        # Debug mode shows tracebacks to whoever causes them and reloads code: never on an address others reach.
        print(f"{PROG}: warning: --debug on {args.host} shows server internals to every visitor", file=sys.stderr)
    redis = configured_url(args.redis)
    if redis is not None and not _is_redis_url(redis):
        return 2
    if args.workers > 1:
        return _serve_workers(
            args.path, args.data, args.host, args.port, args.workers, read_only=args.read_only, auth=auth, redis=redis
        )
    return _serve(
        args.path,
        args.data,
        args.host,
        args.port,
        debug=args.debug,
        browser=False,
        read_only=args.read_only,
        auth=auth,
        redis=redis,
    )


def _worker(args: argparse.Namespace) -> int:
    redis = configured_url(args.redis)
    if redis is None:
        print(f"{PROG}: worker needs the app's Redis: --redis URL or $SYMPHONY_DASH_REDIS", file=sys.stderr)
        return 2
    if not _is_redis_url(redis):
        return 2
    for path, what in ((args.path, "layout file or folder"), (args.data, "data file")):
        if path is not None and not path.exists():
            print(f"{PROG}: {path}: no such {what}", file=sys.stderr)
            return 2
    files = _layout_files(args.path)
    if not files:
        print(f"{PROG}: {args.path}: no layout files (*.json) in this folder", file=sys.stderr)
        return 2
    from .celery_jobs import run_worker  # imports Celery: only for this command

    _show_log()
    logging.getLogger(__package__).propagate = False  # Celery logs to the root logger: once is enough
    run_worker(files, redis, data=args.data)
    return 0


def _is_redis_url(url: str) -> bool:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return True
    print(f"{PROG}: {shown_url(url)} is not a Redis URL; give one like redis://127.0.0.1:6379/0", file=sys.stderr)
    return False


def _redis_note(redis: str | None, path: Path) -> None:
    if redis is not None:
        print(f"  caches shared through Redis at {shown_url(redis)}; analyses run on Celery workers:")
        print(f"  start one (or more) with: {PROG} worker {path} --redis URL")


def _serve_workers(
    path: Path,
    data: Path | None,
    host: str,
    port: int,
    workers: int,
    *,
    read_only: bool,
    auth: AuthConfig | None,
    redis: str | None,
) -> int:
    """Serve with several gunicorn workers, each building the app (not the master: polars does not survive a fork)."""
    files = _layout_files(path)
    if not files:
        print(f"{PROG}: {path}: no layout files (*.json) in this folder", file=sys.stderr)
        return 2
    _show_log()
    print(f"\nsymphony_dash is serving {_plural(len(files), 'layout')} from {path} with {workers} workers")
    _redis_note(redis, path)
    print(
        f"  open http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/; press Ctrl+C to stop\n",
        flush=True,
    )
    serve(
        # Without Redis, a job would enrich only the worker that ran it: no Analyses menu.
        lambda: create_app(
            files, data=data, read_only=read_only, background_jobs=redis is not None, auth=auth, redis_url=redis
        ),
        host=host,
        port=port,
        workers=workers,
    )
    return 0


def _serve(
    path: Path,
    data: Path | None,
    host: str,
    port: int,
    *,
    debug: bool,
    browser: bool,
    first: str = "",
    read_only: bool = False,
    auth: AuthConfig | None = None,
    redis: str | None = None,
) -> int:
    """Serve the layouts of ``path`` (a folder or one file); the layout file named ``first`` opens at ``/``."""
    files = sorted(_layout_files(path), key=lambda f: f.name != first)
    if not files:
        print(f"{PROG}: {path}: no layout files (*.json) in this folder", file=sys.stderr)
        return 2
    _show_log()
    app = create_app(files, data=data, read_only=read_only, auth=auth, redis_url=redis)
    good = sum(isinstance(lay, LoadedLayout) for lay in app.symphony_layouts.values())
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    print(f"\nsymphony_dash is serving {_plural(len(files), 'layout')} from {path}")
    if good < len(files):
        print(f"  {len(files) - good} could not be loaded: the messages above and their pages say why")
    _redis_note(redis, path)
    print(f"  open {url} in a web browser; press Ctrl+C to stop\n", flush=True)
    if browser:
        # A moment later, so the server is listening when the browser asks.
        threading.Timer(1.0, webbrowser.open, args=[url]).start()
    app.run(host=host, port=port, debug=debug)
    return 0


def _show_log() -> None:
    """Print the package's log: the demo's first-run preparation and the errors of broken layouts."""
    # Only our logger: a root handler would print Dash's and Werkzeug's messages a second time.
    logger = logging.getLogger(__package__)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _layout_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.json")) if path.is_dir() else [path]


def _validate(args: argparse.Namespace) -> int:
    failed = False
    # Layouts over the same data load it once.
    shared: dict[str, Dataset] = {}
    for path in args.paths:
        files = _layout_files(path)
        if not files:
            print(f"{path}: no layout files (*.json) in this folder")
            failed = True
        for file in files:
            try:
                loaded = load_layout(file, datasets=shared)
            except LayoutError as exc:
                print(exc)
                failed = True
                continue
            pages = loaded.layout.pages
            components = sum(len(page.components) for page in pages)
            print(f"ok: {file} ({_plural(components, 'component')} on {_plural(len(pages), 'page')})")
    return 1 if failed else 0


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(layout_schema(), indent=2))
    return 0


def _similarity(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a cosine similarity in (0, 1]")
    return value


def _export(args: argparse.Namespace) -> int:
    for path, what in ((args.layout, "layout file"), (args.data, "data file")):
        if path is not None and not path.is_file():
            print(f"{PROG}: {path}: no such {what}", file=sys.stderr)
            return 2
    loaded = load_layout(args.layout, data=args.data)
    count = len(loaded.layout.pages)
    if args.page == "all":
        pages = None
    elif args.page.isdigit() and 1 <= int(args.page) <= count:
        pages = [int(args.page) - 1]
    else:
        print(
            f"{PROG}: --page {args.page}: {args.layout} has {_plural(count, 'page')}; give 1 to {count}, or all",
            file=sys.stderr,
        )
        return 2
    written = write_report(loaded, args.out, pages=pages)
    print(f"wrote {written}: {written.stat().st_size / 1e6:.1f} MB, opens offline in any web browser")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    embedding_flags = [
        flag
        for flag, asked in (
            ("--near-duplicates", args.near_duplicates),
            ("--familiarity", args.familiarity),
            ("--label-disagreement", args.label_disagreement),
            ("--projection", args.projection),
        )
        if asked
    ]
    problem = None
    if not args.data.exists():
        problem = f"{args.data}: no such data file"
    elif args.out.suffix.lower() not in (".parquet", ".pq"):
        problem = f"--out {args.out}: the enriched table is written as Parquet; name a .parquet file"
    elif args.threshold is not None and not args.near_duplicates:
        problem = "--threshold is the similarity of --near-duplicates, which was not asked for"
    elif not (args.duplicates or embedding_flags):
        problem = (
            "analyze: nothing to do; choose at least one of --duplicates, --near-duplicates, --familiarity, "
            "--label-disagreement, --projection"
        )
    if problem:
        print(f"{PROG}: {problem}", file=sys.stderr)
        return 2

    # The table is written back as it was read, plus columns: not the Dataset's frame, whose categories are encoded.
    frame = read_table(args.data)
    dataset = Dataset(frame, id_column=args.id_column, name=args.data.name, media_root=args.data.parent)
    ids = dataset.frame[dataset.id_column]
    added: dict[str, pl.Series] = {}
    notes: list[str] = []

    if args.duplicates:
        compared = duplicate_columns(dataset)
        groups = analyses.exact_duplicates(dataset, compared)
        added["duplicate_group"] = pl.Series(groups.to_numpy())
        notes.append(f"duplicate_group: {_groups_summary(groups, 'exact duplicates')}, comparing {', '.join(compared)}")
    if embedding_flags:
        column = _embedding_column(dataset, args.embedding, embedding_flags)
        vectors = frame[column]
    if args.near_duplicates:
        threshold = 0.98 if args.threshold is None else args.threshold
        groups = analyses.near_duplicates(vectors, threshold)
        added["near_duplicate_group"] = pl.Series(groups.to_numpy())
        notes.append(
            f"near_duplicate_group: {_groups_summary(groups, 'near duplicates')} "
            f"at cosine similarity >= {threshold} of {column!r}"
        )
    if args.familiarity:
        typical = analyses.familiarity(vectors)
        added["familiarity"] = pl.Series(typical.to_numpy())
        least = ids.gather(typical.to_numpy().argsort(kind="stable")).to_list()
        notes.append(f"familiarity: 0 (least typical) to 1 (most); the least typical ids: {_listing(least)}")
    if args.label_disagreement:
        label = _label_column(dataset, args.label)
        result = analyses.label_disagreement(vectors, frame[label])
        added["label_disagreement"] = pl.Series(result["label_disagreement"].to_numpy())
        added["neighbour_label"] = pl.from_pandas(result["neighbour_label"])
        # Most of the neighbours labelled otherwise: the rows a person should look at first.
        suspects = ids.filter((result["label_disagreement"] > 0.5).to_numpy()).to_list()
        notes.append(
            f"label_disagreement, neighbour_label: {_plural(len(suspects), 'row')} whose 10 nearest rows mostly "
            f"carry another {label}, candidate label errors (ids {_listing(suspects)})"
        )
    if args.projection:
        xy = analyses.project(vectors, method=args.projection)
        names = ("proj_x", "proj_y") if {"x", "y"} & set(frame.columns) else ("x", "y")
        for name, axis in zip(names, ("x", "y"), strict=True):
            added[name] = pl.Series(xy[axis].to_numpy())
        notes.append(f"{', '.join(names)}: {_PROJECTION_NAMES[args.projection]} of {column!r}")

    enriched = frame.with_columns(series.alias(name) for name, series in added.items())
    with atomic_write(Path(args.out)) as partial:
        pq.write_table(enriched.to_arrow(), partial)
    for note in notes:
        print(f"added {note}")
    if replaced := [name for name in added if name in frame.columns]:
        print(f"replaced the existing {', '.join(replaced)}")
    print(f"wrote {args.out}: {_plural(enriched.height, 'row')}, {_plural(enriched.width, 'column')}")
    return 0


def _embedding_column(dataset: Dataset, name: str | None, asked: list[str]) -> str:
    if name is None:
        name = dataset.role("embedding")
        if name is None:
            raise DatasetError(
                f"{dataset.name}: no embedding column found for {' and '.join(asked)}; name one with --embedding COL"
            )
    if dataset.column(name, what="embedding column").kind != "embedding":
        raise DatasetError(f"embedding column {name!r} is not an embedding: it needs one list of numbers per row")
    return name


def _label_column(dataset: Dataset, name: str | None) -> str:
    if name is None:
        name = dataset.role("label")
        if name is None:
            raise DatasetError(
                f"{dataset.name}: no label column found for --label-disagreement; name one with --label COL"
            )
    dataset.column(name, what="label column")
    return name


def _groups_summary(groups: pd.Series, what: str) -> str:
    grouped = groups[groups >= 0]
    if not len(grouped):
        return f"no {what}"
    return f"{_plural(grouped.nunique(), 'group')} of {what} ({_plural(len(grouped), 'row')})"


def _listing(values: list[object], shown: int = 5) -> str:
    text = ", ".join(map(str, values[:shown]))
    return f"{text} ..." if len(values) > shown else text or "none"


# The template is a working component package; these words of its names become the new component's.
_TEMPLATE_NAMES = ("value_bars", "value-bars", "ValueBars", "Value bars")
_SKIPPED = ("__pycache__", ".pytest_cache", ".egg-info", ".pyc")


def _new_component(args: argparse.Namespace) -> int:
    name = args.name
    if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name) or len(name) > 40:
        print(
            f"{PROG}: {name!r} is not a component type name: use at most 40 lowercase letters, digits and single "
            "underscores, starting with a letter (such as calibration or top_values)",
            file=sys.stderr,
        )
        return 2
    if (taken := registry.get(name)) is not None:
        print(
            f"{PROG}: {name!r} is already the type of {taken.__module__}.{taken.__qualname__}; choose another name",
            file=sys.stderr,
        )
        return 2
    out = args.out if args.out is not None else Path(f"symphony-dash-{name.replace('_', '-')}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        print(f"{PROG}: {out} already exists; give --out a new folder (nothing was written)", file=sys.stderr)
        return 2
    camel = "".join(w.capitalize() for w in name.split("_"))
    spoken = name.replace("_", " ").capitalize()
    words = dict(zip(_TEMPLATE_NAMES, (name, name.replace("_", "-"), camel, spoken), strict=True))
    pattern = re.compile("|".join(map(re.escape, _TEMPLATE_NAMES)))
    written = []
    with resources.as_file(resources.files(__package__) / "sdk_template") as template:
        for source in sorted(template.rglob("*")):
            relative = source.relative_to(template)
            if source.is_dir() or any(part.endswith(_SKIPPED) for part in relative.parts):
                continue
            target = out / pattern.sub(lambda m: words[m.group()], str(relative))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(pattern.sub(lambda m: words[m.group()], source.read_text()))
            written.append(target)
    module = f"symphony_dash_{name}.py"
    print(f"wrote the component package {out}/ ({len(written)} files): the component {name!r} is in {module}")
    print("next:")
    print(f"  cd {out}")
    print('  pip install -e ".[test]"   # symphony_dash finds the component by its entry point')
    print(f"  {PROG} run {name}.json   # the component on the digits demo, linked to built-in ones")
    print("  pytest --headless   # its browser test")
    return 0
