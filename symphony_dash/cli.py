"""The ``symphony-dash`` command: serve the demo or your own layouts, check layouts, print the layout schema.

    symphony-dash demo                                  # the packaged digits demo on http://127.0.0.1:8050/
    symphony-dash run layouts/ --data runs.parquet      # your layouts (a folder or one file), optionally other data
    symphony-dash validate layouts/ more/triage.json    # every problem of every layout; exit 1 if there is one
    symphony-dash schema > layout.schema.json           # the JSON Schema of a layout file, for editors

Problems are reported as messages naming the file, never as tracebacks.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import webbrowser
from collections.abc import Sequence
from importlib import metadata, resources
from pathlib import Path

from .app import create_app
from .dataset import Dataset, DatasetError
from .layout import LayoutError, LoadedLayout, layout_schema, load_layout

__all__ = ["main"]

PROG = "symphony-dash"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    0: done; 1: a layout or its data has problems (or the server could not start); 2: wrong usage or a missing path.
    """
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except (LayoutError, DatasetError, OSError) as exc:
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

    demo = commands.add_parser("demo", help="serve the built-in demo (scikit-learn's handwritten digits)")
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
    run.set_defaults(command=_run)

    validate = commands.add_parser("validate", help="check layouts and their data; print every problem found")
    validate.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="layout JSON files or folders of them")
    validate.set_defaults(command=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of a layout file")
    schema.set_defaults(command=_schema)
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
        return _serve(folder, None, args.host, args.port, debug=False, browser=args.browser)


def _run(args: argparse.Namespace) -> int:
    for path, what in ((args.path, "layout file or folder"), (args.data, "data file")):
        if path is not None and not path.exists():
            print(f"{PROG}: {path}: no such {what}", file=sys.stderr)
            return 2
    return _serve(args.path, args.data, args.host, args.port, debug=args.debug, browser=False)


def _serve(path: Path, data: Path | None, host: str, port: int, *, debug: bool, browser: bool) -> int:
    files = _layout_files(path)
    if not files:
        print(f"{PROG}: {path}: no layout files (*.json) in this folder", file=sys.stderr)
        return 2
    _show_log()
    app = create_app(path, data=data)
    good = sum(isinstance(lay, LoadedLayout) for lay in app.symphony_layouts.values())
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    print(f"\nsymphony_dash is serving {_plural(len(files), 'layout')} from {path}")
    if good < len(files):
        print(f"  {len(files) - good} could not be loaded: the messages above and their pages say why")
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
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(layout_schema(), indent=2))
    return 0
