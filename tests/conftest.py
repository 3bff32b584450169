"""Shared test set-up: a free port per test process for browser tests, and a cache of its own for the demo."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dash.testing.application_runners import BaseDashRunner

BaseDashRunner._next_port = 20000 + (os.getpid() % 2000) * 10
# Set at import, before test modules build their apps (and prepare the demo) while being collected; kept between
# runs, since preparing the demo takes seconds and its result only depends on the installed scikit-learn.
os.environ.setdefault("SYMPHONY_DASH_CACHE", str(Path(tempfile.gettempdir()) / "symphony-dash-test-cache"))
