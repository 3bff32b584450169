"""Writing files so that a reader never sees half of one: write beside the target, then rename onto it."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``: once the block has written it, it replaces ``path``; if the block
    fails, it is removed and ``path`` is untouched.

    >>> with atomic_write(Path("table.parquet")) as partial:  # doctest: +SKIP
    ...     pq.write_table(table, partial)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same folder, so os.replace is a rename within one file system and therefore atomic. Unique per writer, because
    # two processes may write at once (Dash's debug reloader starts two). Not tempfile.mkstemp: its files are
    # private (0600), which would leave a shared cache unreadable to other users.
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
