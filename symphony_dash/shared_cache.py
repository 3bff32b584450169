"""The caches every worker process shares, in Redis, for an app served by several processes or machines.

What one worker makes and another must find goes to Redis through flask-caching's Redis backend: the states of
``?k=`` links (:mod:`.url_state`), and the columns background analyses add with their job's progress
(:mod:`.celery_jobs`). It is configured with ``symphony-dash run --redis URL``, ``create_app(redis_url=...)`` or
``$SYMPHONY_DASH_REDIS``; without a URL every cache is the process's own (memory and the cache folder), as today.

Redis is a service that can go away. When a call fails, one warning names the URL (password hidden) and what the app
uses instead, the caller falls back to its local store, and Redis is tried again :data:`RETRY_SECONDS` later; until
then no request waits for it. Short socket timeouts bound the wait of the call that finds it gone.

flask-caching pickles what it stores: the Redis server must be private to the deployment, like its database.

>>> cache = SharedCache("redis://127.0.0.1:6379/0", fallback="this process's memory")  # doctest: +SKIP
>>> cache.set("greeting", "hello"), cache.get("greeting")  # doctest: +SKIP
(True, 'hello')
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

__all__ = ["ENV", "SharedCache", "configured_url", "shown_url"]

log = logging.getLogger(__name__)

ENV = "SYMPHONY_DASH_REDIS"
# After a failure, calls skip Redis this long: a request must not wait on a server that is down.
RETRY_SECONDS = 10.0
# Loopback or a LAN answers in milliseconds; a second or two means the server or the network is gone.
CONNECT_SECONDS = 1.0
READ_SECONDS = 5.0
PREFIX = "symphony:"

T = TypeVar("T")


def configured_url(url: str | None = None) -> str | None:
    """The Redis URL to use: ``url`` if given, else ``$SYMPHONY_DASH_REDIS``; ``None`` (local caches) when neither."""
    return url or os.environ.get(ENV) or None


def shown_url(url: str) -> str:
    """``url`` fit for a log line: a password in it is replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class SharedCache:
    """Keys and values in Redis (flask-caching's ``RedisCache``) that degrade to "not there" while Redis is down.

    Every method returns what a missing key or a failed write would (``None``, ``False``) when Redis cannot be
    reached, after logging it once per outage: the caller then uses its own store. ``fallback`` says what that is,
    for the warning.
    """

    def __init__(self, url: str, *, fallback: str, prefix: str = PREFIX) -> None:
        try:
            import redis
            from flask_caching.backends.rediscache import RedisCache
        except ImportError:
            raise ImportError("a Redis URL needs the redis extra: pip install 'symphony_dash[redis]'") from None
        self.url = url
        self.fallback = fallback
        try:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=CONNECT_SECONDS, socket_timeout=READ_SECONDS, health_check_interval=30
            )
        except ValueError as exc:  # not a redis:// URL: said at start, like an unreachable server
            raise ValueError(f"{shown_url(url)} is not a Redis URL ({exc})") from None
        # Default timeout 0: a key lives until it is replaced or Redis's own memory policy evicts it.
        self._cache = RedisCache(host=client, key_prefix=prefix, default_timeout=0)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._down_since: float | None = None
        self._lock = threading.Lock()
        self.ping()  # at start, so an unreachable server is said when the app starts, not at the first link

    @property
    def available(self) -> bool:
        """Whether Redis answered the last call (or may answer again: its retry time has come)."""
        return self._down_since is None or time.monotonic() - self._down_since >= RETRY_SECONDS

    def ping(self) -> bool:
        """Whether Redis answers now."""
        return bool(self._call(lambda cache: cache._write_client.ping(), False))

    def get(self, key: str) -> Any:
        """The value under ``key``; ``None`` when there is none or Redis cannot be reached."""
        return self._call(lambda cache: cache.get(key), None)

    def set(self, key: str, value: Any, timeout: int = 0) -> bool:
        """Keep ``value`` under ``key`` (for ``timeout`` seconds; 0: no expiry); ``False`` if it could not."""
        return bool(self._call(lambda cache: cache.set(key, value, timeout=timeout), False))

    def add(self, key: str, value: Any, timeout: int = 0) -> bool:
        """Keep ``value`` under ``key`` only if the key is free: ``True`` if this call took it."""
        return bool(self._call(lambda cache: cache.add(key, value, timeout=timeout), False))

    def increment(self, key: str) -> int | None:
        """Add one to the counter ``key`` (0 when new) and return it; ``None`` if Redis cannot be reached."""
        return self._call(lambda cache: int(cache.inc(key)), None)

    def delete(self, key: str) -> bool:
        """Remove ``key``; ``False`` if it was not there or Redis cannot be reached."""
        return bool(self._call(lambda cache: cache.delete(key), False))

    def _call(self, action: Callable[[Any], T], default: T) -> T:
        if not self.available:
            return default
        try:
            result = action(self._cache)
        except self._errors as exc:
            self._went_down(exc)
            return default
        if self._down_since is not None:
            with self._lock:
                if self._down_since is not None:
                    self._down_since = None
                    log.warning("Redis at %s is reachable again: the shared caches are back", shown_url(self.url))
        return result

    def _went_down(self, exc: BaseException) -> None:
        with self._lock:
            first = self._down_since is None
            self._down_since = time.monotonic()
        if first:  # once per outage: a retry that fails again says nothing new
            log.warning(
                "Redis at %s is unreachable (%s): using %s instead, and trying Redis again every %.0f s",
                shown_url(self.url),
                exc,
                self.fallback,
                RETRY_SECONDS,
            )
