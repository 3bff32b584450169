"""Saving layout files safely: never half-written, the previous version kept, and never over someone else's change.

A save writes the JSON beside the file and renames it over (:func:`symphony_dash.files.atomic_write`), so a reader
sees the old file or the new one, even if the process dies mid-write. The file it replaces is kept as
``<name>.json.bak`` (one previous version, beside the file, where a person looks for it; the next save replaces it).
A save names the version it expects (the SHA-256 of the bytes loaded, :attr:`LoadedLayout.version`); if the file on
disk has another, it was changed since (by an editor, a colleague, another app) and :class:`LayoutConflict` is raised
instead of losing that change: save as a new file with :func:`save_layout_as`, or reload.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from .files import atomic_write
from .layout import Layout

__all__ = [
    "SAVE_LOCK",
    "LayoutConflict",
    "backup_path",
    "file_version",
    "free_name",
    "save_layout_as",
    "save_layout_file",
]

try:
    import fcntl
except ImportError:  # Windows: saves are serialised within the process only
    fcntl = None  # type: ignore[assignment]

# Saves of one process are serialised, so two browser sessions saving at once cannot both pass the version check;
# saves of several processes (gunicorn workers) by a lock on the layout's folder.
_LOCK = threading.Lock()
SAVE_LOCK = threading.Lock()
"""Held while a served layout is read, changed and saved (a slice, an edit), so two sessions never lose one change."""


class LayoutConflict(RuntimeError):  # noqa: N818  (a conflict, not a fault: the name reads as the situation)
    """The layout file changed on disk since it was loaded (or is there already, for a save as a new file)."""

    def __init__(self, file: Path, message: str) -> None:
        self.file = file
        super().__init__(f"{file}: {message}")


def file_version(path: Path) -> str | None:
    """The SHA-256 of the file's bytes, or None if there is no file: what :attr:`LoadedLayout.version` holds."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def backup_path(path: Path) -> Path:
    """Where the previous version of ``path`` is kept: ``triage.json.bak`` beside ``triage.json``."""
    return path.with_name(path.name + ".bak")


def save_layout_file(path: str | Path, layout: Layout, expected_version: str | None) -> str:
    """Write ``layout`` over the file at ``path`` that was loaded at ``expected_version``; return the new version.

    The old file is kept as :func:`backup_path`. Raises :class:`LayoutConflict` if the file on disk is not the
    version expected (changed or deleted since it was loaded); ``expected_version=None`` means the file must not exist.

    >>> version = save_layout_file(loaded.path, new_layout, loaded.version)  # doctest: +SKIP
    """
    path = Path(path)
    text = _dumps(layout)
    with _locked(path):
        try:
            old = path.read_bytes()
        except FileNotFoundError:
            old = None
        if old is None and expected_version is not None:
            raise LayoutConflict(path, "was deleted since it was loaded; not saved. Save as a new file instead")
        if old is not None and expected_version is None:
            raise LayoutConflict(path, "is there already; choose another name")
        if old is not None and hashlib.sha256(old).hexdigest() != expected_version:
            raise LayoutConflict(
                path, "changed on disk since it was loaded; not overwritten. Save as a new file, or reload it"
            )
        if old is not None:
            with atomic_write(backup_path(path)) as partial:
                partial.write_bytes(old)
        data = text.encode("utf-8")
        with atomic_write(path) as partial:
            partial.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Held by one save into ``path``'s folder at a time, in this process and in any other (released if a process
    dies). The folder itself is locked, so no lock file is left beside the layouts."""
    with _LOCK:
        if fcntl is None:
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            yield
        finally:
            os.close(folder)


def save_layout_as(path: str | Path, layout: Layout, *, loaded_from: Path | None = None) -> str:
    """Write ``layout`` to a new file at ``path`` (never over an existing one); return its version.

    A data source given as a path is relative to the layout file, so it is rewritten relative to the new file when
    ``loaded_from`` (the file the layout was read from) is in another folder.
    """
    path = Path(path)
    source = layout.data.source
    moves = source is not None and not source.startswith("demo:") and not Path(source).is_absolute()
    if loaded_from is not None and moves:
        moved = os.path.relpath((loaded_from.parent / source).resolve(), path.parent.resolve())
        layout = layout.model_copy(update={"data": layout.data.model_copy(update={"source": moved})})
    return save_layout_file(path, layout, None)


def free_name(path: Path) -> Path:
    """``triage-2.json`` beside ``triage.json``, or the first of ``-3``, ``-4``... that is not taken."""
    n = 2
    while (candidate := path.with_name(f"{path.stem}-{n}{path.suffix}")).exists():
        n += 1
    return candidate


def _dumps(layout: Layout) -> str:
    # Defaults left out, as a person writes the file; validated again first, so a bad layout is never written.
    raw = layout.model_dump(mode="json", exclude_defaults=True)
    Layout.model_validate(raw)
    return json.dumps(raw, indent=2, ensure_ascii=False) + "\n"
