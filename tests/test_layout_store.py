"""Saving layout files: round trip, the backup, a change on disk detected, an interrupted save harmless."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import toy_frame

from symphony_dash import cli, layout_store
from symphony_dash.layout import Layout, SavedSlice, load_layout
from symphony_dash.layout_store import LayoutConflict, backup_path, file_version, save_layout_as, save_layout_file
from symphony_dash.state import isin

RAW = {
    "title": "Toy",
    "data": {"source": "toy.csv", "id_column": "id"},
    "pages": [{"title": "One", "components": [{"type": "histogram", "id": "hist", "props": {"column": "label"}}]}],
}


@pytest.fixture
def layout_file(tmp_path: Path) -> Path:
    toy_frame().to_csv(tmp_path / "toy.csv", index=False)
    path = tmp_path / "toy.json"
    path.write_text(json.dumps(RAW, indent=2) + "\n", encoding="utf-8")
    return path


def with_slice(layout: Layout, name: str = "labels 0-1") -> Layout:
    saved = SavedSlice(name=name, filter=[isin("label", [0, 1], source="hist")])
    return layout.model_copy(update={"slices": [*layout.slices, saved]})


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_ls001_round_trip_keeps_the_slice_and_the_version(layout_file: Path) -> None:
    loaded = load_layout(layout_file)
    assert loaded.version == file_version(layout_file)
    version = save_layout_file(layout_file, with_slice(loaded.layout), loaded.version)
    again = load_layout(layout_file)
    assert again.version == version
    assert again.layout.slices == with_slice(loaded.layout).slices
    assert again.layout.pages == loaded.layout.pages
    # Defaults are left out, as a person writes the file.
    assert "width" not in layout_file.read_text(encoding="utf-8")


def test_ls002_the_previous_version_is_kept_as_a_backup(layout_file: Path) -> None:
    before = layout_file.read_bytes()
    loaded = load_layout(layout_file)
    version = save_layout_file(layout_file, with_slice(loaded.layout), loaded.version)
    assert backup_path(layout_file) == layout_file.with_name("toy.json.bak")
    assert backup_path(layout_file).read_bytes() == before
    second = save_layout_file(layout_file, with_slice(with_slice(loaded.layout), "two"), version)
    assert json.loads(backup_path(layout_file).read_text(encoding="utf-8"))["slices"][0]["name"] == "labels 0-1"
    assert second == file_version(layout_file)
    assert leftovers(layout_file.parent) == []


def test_ls003_a_change_on_disk_since_loading_is_not_overwritten(layout_file: Path) -> None:
    loaded = load_layout(layout_file)
    changed = layout_file.read_text(encoding="utf-8").replace('"Toy"', '"Toy, edited by hand"')
    layout_file.write_text(changed, encoding="utf-8")
    with pytest.raises(LayoutConflict) as info:
        save_layout_file(layout_file, with_slice(loaded.layout), loaded.version)
    assert str(info.value) == (
        f"{layout_file}: changed on disk since it was loaded; not overwritten. Save as a new file, or reload it"
    )
    assert info.value.file == layout_file
    assert layout_file.read_text(encoding="utf-8") == changed
    assert not backup_path(layout_file).exists()


def test_ls004_a_deleted_file_is_a_conflict_too(layout_file: Path) -> None:
    loaded = load_layout(layout_file)
    layout_file.unlink()
    with pytest.raises(LayoutConflict, match="was deleted since it was loaded"):
        save_layout_file(layout_file, loaded.layout, loaded.version)
    assert not layout_file.exists()


def test_ls005_save_as_writes_a_new_file_with_its_data_path_rebased(layout_file: Path) -> None:
    loaded = load_layout(layout_file)
    target = layout_file.parent / "elsewhere" / "copy.json"
    version = save_layout_as(target, with_slice(loaded.layout), loaded_from=layout_file)
    assert version == file_version(target)
    assert json.loads(target.read_text(encoding="utf-8"))["data"]["source"] == "../toy.csv"
    assert load_layout(target).layout.slices[0].name == "labels 0-1"
    with pytest.raises(LayoutConflict, match=r"copy\.json: is there already; choose another name"):
        save_layout_as(target, loaded.layout, loaded_from=layout_file)


def test_ls006_a_save_interrupted_midway_leaves_the_old_file_and_no_temporary_file(
    layout_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = layout_file.read_bytes()
    loaded = load_layout(layout_file)
    real_write_bytes = Path.write_bytes

    def die_midway(self: Path, data: bytes) -> int:
        if self.name.startswith(".toy.json.") and self.name.endswith(".tmp"):
            real_write_bytes(self, data[: len(data) // 2])  # half the new file is on disk, then the process fails
            raise OSError("disk full")
        return real_write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", die_midway)
    with pytest.raises(OSError, match="disk full"):
        save_layout_file(layout_file, with_slice(loaded.layout), loaded.version)
    monkeypatch.undo()
    assert layout_file.read_bytes() == before
    assert leftovers(layout_file.parent) == []
    # The file still holds the version loaded, so saving again works.
    save_layout_file(layout_file, with_slice(loaded.layout), loaded.version)


def test_ls007_a_failing_json_dump_writes_nothing(layout_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = layout_file.read_bytes()
    loaded = load_layout(layout_file)

    def broken(*args: object, **kwargs: object) -> str:
        raise TypeError("not JSON serialisable")

    monkeypatch.setattr(layout_store.json, "dumps", broken)
    with pytest.raises(TypeError):
        save_layout_file(layout_file, with_slice(loaded.layout), loaded.version)
    assert layout_file.read_bytes() == before
    assert not backup_path(layout_file).exists()
    assert leftovers(layout_file.parent) == []


def test_ls008_run_read_only_builds_an_app_that_never_saves(layout_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, object] = {}

    class Served:
        symphony_layouts: dict[str, object] = {}

        def run(self, **kwargs: object) -> None:
            made["run"] = kwargs

    def fake_create_app(files: object, **kwargs: object) -> Served:
        made.update(kwargs)
        return Served()

    monkeypatch.setattr(cli, "create_app", fake_create_app)
    assert cli.main(["run", str(layout_file), "--read-only", "--port", "1"]) == 0
    assert made["read_only"] is True
    assert cli.main(["run", str(layout_file), "--port", "1"]) == 0
    assert made["read_only"] is False


def test_ls009_a_served_layout_reads_its_file_again_when_it_changed(layout_file: Path) -> None:
    """A save by another worker process, or an edit by hand, is served from the next page drawn; a broken edit not."""
    lay = load_layout(layout_file)
    assert lay.refresh() == [] and lay.layout.title == "Toy"
    dataset = lay.dataset
    edited = RAW | {"title": "Toy, edited", "slices": [{"name": "ones", "filter": [isin("label", [1]).model_dump()]}]}
    layout_file.write_text(json.dumps(edited), encoding="utf-8")
    assert lay.refresh() == []
    assert lay.layout.title == "Toy, edited" and [s.name for s in lay.layout.slices] == ["ones"]
    assert lay.version == file_version(layout_file) and lay.dataset is dataset, "the data is kept, not loaded again"
    broken = edited | {"pages": [{"title": "One", "components": [{"type": "histogram", "id": "h", "props": {}}]}]}
    layout_file.write_text(json.dumps(broken), encoding="utf-8")
    assert lay.refresh() == ["pages[0].components[0].props.column: is required"]
    assert lay.layout.title == "Toy, edited" and list(lay.instances) == ["hist"], "the last good version is served"
    layout_file.unlink()
    assert lay.refresh() == [] and lay.layout.title == "Toy, edited"
