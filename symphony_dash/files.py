"""Writing files so that a reader never sees half of one (write beside the target, then rename onto it), and telling
cheaply whether a file changed."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FileStamp", "atomic_write"]


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


@dataclass(frozen=True)
class FileStamp:
    """What a file looked like (its modification time and size): one ``stat`` tells whether it changed since."""

    path: Path
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> FileStamp | None:
        try:
            info = path.stat()
        except OSError:
            return None
        return cls(path, info.st_mtime_ns, info.st_size)

    def changed(self) -> bool:
        now = FileStamp.of(self.path)
        return now is None or (now.mtime_ns, now.size) != (self.mtime_ns, self.size)
