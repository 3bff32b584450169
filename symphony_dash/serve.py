"""Serving a hosted dashboard with several worker processes: gunicorn, behind one address.

Every worker builds its own app (its own copy of the data): the app is not built once in the master and forked,
because polars' thread pool does not survive a fork. The state of a page lives in its browser and comes with every
request, so any worker answers any request; a layout saved by one worker (a slice, an edit) is read again by the
others when they next draw one of its pages (:func:`symphony_dash.layout.refresh`).

What workers must share besides goes through Redis when one is configured (``--redis URL`` or
``$SYMPHONY_DASH_REDIS``; :mod:`symphony_dash.shared_cache`): a ``?k=`` link made on one worker opens on every other,
on this machine or another, and the Analyses menu queues its jobs for Celery workers
(``symphony-dash worker``, :mod:`symphony_dash.celery_jobs`) whose new columns every web worker takes. Without Redis a
``?k=`` link is a file under the cache folder, found by every worker of one machine, and a multi-worker app has no
Analyses menu, since a job would enrich only the worker that ran it: run ``symphony-dash analyze`` and serve its
output. If Redis goes away, each worker says so once in its log and carries on with its own caches.

    symphony-dash run layouts/ --workers 4 --host 0.0.0.0 --read-only --redis redis://127.0.0.1:6379/0
    symphony-dash worker layouts/ --redis redis://127.0.0.1:6379/0
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
