"""Serving a hosted dashboard with several worker processes: gunicorn, behind one address.

Every worker builds its own app (its own copy of the data): the app is not built once in the master and forked,
because polars' thread pool does not survive a fork. The state of a page lives in its browser and comes with every
request, so any worker answers any request; a ``?k=`` link is a file under the cache folder, found by every worker;
a layout saved by one worker (a slice, an edit) is read again by the others when they next draw one of its pages
(:func:`symphony_dash.layout.refresh`). Background analyses run in the worker that started them and enrich only its
copy of the data, so a multi-worker app has no Analyses menu: run ``symphony-dash analyze`` and serve its output.

    symphony-dash run layouts/ --workers 4 --host 0.0.0.0 --read-only
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash

__all__ = ["serve"]


def serve(factory: Callable[[], dash.Dash], *, host: str, port: int, workers: int, timeout: int = 120) -> None:
    """Serve the app ``factory`` builds (once per worker) with ``workers`` gunicorn processes on ``host:port``."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        raise ImportError(
            "several workers need gunicorn: pip install 'symphony_dash[serve]' (or serve with one worker)"
        ) from None

    class Server(BaseApplication):  # type: ignore[misc]  # gunicorn's way: subclass, give the config and the app
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "timeout": timeout,  # the first request of a worker may load a large table
                "accesslog": None,
                "errorlog": "-",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return factory().server

    Server().run()
