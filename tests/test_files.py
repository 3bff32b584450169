"""atomic_write: a file is either its old self or completely new, never half written."""

from __future__ import annotations

from pathlib import Path

import pytest

from symphony_dash.files import atomic_write


def test_files001_a_finished_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "new" / "table.bin"
    with atomic_write(target) as partial:
        assert partial.parent == target.parent and partial != target
        partial.write_bytes(b"complete")
    assert target.read_bytes() == b"complete"
    assert [p.name for p in target.parent.iterdir()] == ["table.bin"]


def test_files002_a_failed_write_leaves_the_old_file_and_no_litter(tmp_path: Path) -> None:
    target = tmp_path / "table.bin"
    target.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"), atomic_write(target) as partial:
        partial.write_bytes(b"half a fi")
        raise OSError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.bin"]
