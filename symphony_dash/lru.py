"""A least-recently-used cache bounded by entries and by bytes: the engine's caches of masks, row positions and brush
cubes hold arrays as long as the table, so at ten million rows a count alone would let them outgrow the table."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any

__all__ = ["LRU"]


def _bytes(value: Any) -> int:
    """The bytes a cached value holds: an array's, a tuple of arrays', or what an object says (``nbytes``)."""
    if isinstance(value, tuple):
        return sum(_bytes(part) for part in value)
    return int(getattr(value, "nbytes", 0))


class LRU:
    """``get`` and ``put`` under a lock; the least recently used entries go first when either bound is passed."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any, size: int | None = None) -> None:
        """Keep ``value``, counted as ``size`` bytes (by default all the arrays it holds: give less for arrays that
        another cache holds too)."""
        size = _bytes(value) if size is None else size
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += size - (old[1] if old else 0)
            self._items[key] = (value, size)
            # The newest entry stays even if it alone is too big: it is in use.
            while len(self._items) > 1 and (len(self._items) > self.entries or self._bytes > self.max_bytes):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __iter__(self) -> Iterator[Hashable]:
        with self._lock:
            return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)
