"""Shared test set-up: browser tests get a free port per process, so parallel runs never collide."""

from __future__ import annotations

import os

import pytest
from dash.testing.application_runners import BaseDashRunner

BaseDashRunner._next_port = 20000 + (os.getpid() % 2000) * 10


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the demo's prepared table out of the user's cache unless a cache is given."""
    os.environ.setdefault("SYMPHONY_DASH_CACHE", str(tmp_path_factory.getbasetemp().parent / "symphony-cache"))
