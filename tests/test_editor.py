"""The layout editor's server side: box and page actions, drafts from the browser validated whole, the settings form
generated from Props, and saving (atomic, backed up, never over a change on disk)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from callback_requests import key_of, outputs_of
from helpers import toy_frame

from symphony_dash import create_app, editor, props_form
from symphony_dash.components.histogram import HistogramProps
from symphony_dash.components.markdown import MarkdownProps
from symphony_dash.components.summary import SummaryProps
from symphony_dash.dataset import Dataset
from symphony_dash.layout import LoadedLayout, load_layout
from symphony_dash.layout_store import backup_path

RAW = {
    "title": "Toy",
    "data": {"source": "toy.csv", "id_column": "id", "kinds": {"label": "categorical"}},
    "pages": [
        {
            "title": "One",
            "components": [
                {"type": "histogram", "id": "label", "props": {"column": "label"}},
                {"type": "histogram", "id": "split", "width": 2, "props": {"column": "split"}},
                {"type": "markdown", "id": "note", "props": {"text": "hello"}},
            ],
        },
        {"title": "Two", "components": []},
    ],
}


@pytest.fixture
def lay(tmp_path: Path) -> LoadedLayout:
    toy_frame().to_csv(tmp_path / "toy.csv", index=False)
    path = tmp_path / "toy.json"
    path.write_text(json.dumps(RAW, indent=2) + "\n", encoding="utf-8")
    return load_layout(path)


def ids(pages: list) -> list[list[str]]:
    return [[c.id for c in p.components] for p in pages]


def test_box_actions_move_resize_and_remove(lay: LoadedLayout) -> None:
    pages = lay.layout.pages
    assert ids(editor.apply(pages, "later", 0, "label")) == [["split", "label", "note"], []]
    assert ids(editor.apply(pages, "earlier", 0, "label")) == [["label", "split", "note"], []], "already first"
    assert ids(editor.apply(pages, "remove", 0, "split")) == [["label", "note"], []]
    assert ids(editor.apply(pages, "remove", 0, "nobody")) == ids(pages), "an unknown id changes nothing"
    # Dragged onto another box: put before it, from either side and across pages.
    assert ids(editor.move_before(pages, "note", "label")) == [["note", "label", "split"], []]
    assert ids(editor.move_before(pages, "label", "note")) == [["split", "label", "note"], []]
    moved = editor.apply(pages, "remove", 0, "note")
    moved[1].components.append(pages[0].components[2])
    assert ids(editor.move_before(moved, "label", "note")) == [["split"], ["label", "note"]]
    assert (
        ids(editor.move_before(pages, "label", "nobody")) == ids(editor.move_before(pages, "x", "label")) == ids(pages)
    )
    wider = editor.apply(pages, "wider", 0, "split")
    assert wider[0].components[1].width == 3 and pages[0].components[1].width == 2, "the input is not changed"
    at_edge = pages
    for _ in range(10):
        at_edge = editor.apply(at_edge, "taller", 0, "label")
    assert at_edge[0].components[0].height == 6, "a box is at most 6 rows high"
    for _ in range(10):
        at_edge = editor.apply(at_edge, "narrower", 0, "label")
    assert at_edge[0].components[0].width == 1


def test_page_actions(lay: LoadedLayout) -> None:
    pages = lay.layout.pages
    added = editor.apply(pages, "page-add", 0, 0)
    assert [p.title for p in added] == ["One", "Two", "Page 3"]
    assert [p.title for p in editor.apply(pages, "page-later", 0, 0)] == ["Two", "One"]
    assert [p.title for p in editor.apply(pages, "page-earlier", 0, 0)] == ["One", "Two"], "already first"
    assert [p.title for p in editor.apply(pages, "page-remove", 1, 0)] == ["One"]
    only = editor.apply(pages, "page-remove", 1, 0)
    assert [p.title for p in editor.apply(only, "page-remove", 0, 0)] == ["One"], "the last page stays"
    assert editor.new_id(pages, "histogram") == "histogram-1"
    assert editor.new_id(editor.apply(pages, "page-add", 0, 0), "label") == "label-1"


def test_a_draft_from_the_browser_is_validated_whole(lay: LoadedLayout) -> None:
    entry = editor.start(lay)
    assert entry["base"] == lay.version
    shown, problems = editor.draft_view(lay, entry)
    assert problems == [] and list(shown.instances) == ["label", "split", "note"]
    assert shown.slug == lay.slug and shown.engine is lay.engine and shown.path == lay.path

    forged = json.loads(json.dumps(entry))
    forged["pages"][0]["components"][0]["props"] = {"column": "lable"}
    forged["pages"][0]["components"].append({"type": "histogramm", "id": "x"})
    forged["data"] = {"source": "/etc/passwd"}  # only the pages of a draft are read
    shown, problems = editor.draft_view(lay, forged)
    assert shown is lay
    assert problems[0].startswith("pages[0].components[3].type: 'histogramm' is not a component type")
    forged["pages"][0]["components"].pop()
    _, problems = editor.draft_view(lay, forged)
    assert problems == [
        "pages[0].components[0].props.column: unknown column 'lable'; the columns are: "
        "id, label, prediction, confidence, split, x, y, text"
    ]
    for junk in (None, 3, {"pages": "no"}, {"pages": [{"title": ""}]}, {"pages": []}):
        assert editor.draft_view(lay, junk)[0] is lay and editor.draft_view(lay, junk)[1]
    many = {"pages": [{"title": "P", "components": [{"type": "markdown", "id": f"n{i}"} for i in range(61)]}]}
    assert editor.draft_view(lay, many)[1] == ["a layout holds at most 20 pages and 60 components"]


def test_the_settings_form_is_made_from_props() -> None:
    fields = props_form.settings_fields(HistogramProps, ["label", "confidence"], {"column": "label", "bins": 10})
    kinds = {f.to_plotly_json()["props"]["data-setting"]: f.className.split()[-1] for f in fields}
    assert kinds == {
        "column": "column",
        "bins": "integer",
        "log_y": "bool",
        "show_unfiltered": "bool",
        "max_categories": "integer",
    }
    column = fields[0].children[1]
    assert column.options == ["label", "confidence"] and column.value == "label" and column.clearable is False
    assert fields[1].children[1].value == 10 and fields[1].children[1].min == 1 and fields[1].children[1].max == 200
    note = props_form.settings_fields(MarkdownProps, [], {})[0]
    assert type(note.children[1]).__name__ == "Textarea", "a long text gets a text area"

    def field(name: str, kind: str) -> dict[str, str]:
        return {"type": props_form.FIELD, "name": name, "kind": kind}

    read = props_form.read_form(
        HistogramProps,
        [
            (field("column", "column"), "confidence"),
            (field("bins", "integer"), 30),  # the default: left out of the layout file
            (field("log_y", "bool"), ["on"]),
            (field("show_unfiltered", "bool"), []),
            (field("max_categories", "integer"), None),  # emptied: the default
            (field("colour", "text"), "red"),  # not a setting of a histogram: a forged field is ignored
        ],
    )
    assert read == {"column": "confidence", "log_y": True, "show_unfiltered": False}
    with pytest.raises(
        props_form.FormError, match=r"^titles: not valid JSON \(Expecting property name .* at character 2\)"
    ):
        props_form.read_form(SummaryProps, [(field("titles", "json"), "{")])
    assert props_form.read_form(SummaryProps, [(field("titles", "json"), '{"label": "True class"}')]) == {
        "titles": {"label": "True class"}
    }


def test_the_form_says_what_is_wrong_in_the_layout_files_words(lay: LoadedLayout) -> None:
    shown, _ = editor.draft_view(lay, editor.start(lay))

    def form(type_name: str, values: dict, **spec: object) -> object:
        fields = [({"type": props_form.FIELD, "name": k, "kind": "column"}, v) for k, v in values.items()]
        return editor._apply_settings(shown, type_name, spec.pop("target", None), fields, {"page": 1, **spec})

    assert form("histogram", {}) == ["column: is required"]
    assert form("histogram", {"column": "lable"}) == [
        "column: unknown column 'lable'; the columns are: id, label, prediction, confidence, split, x, y, text"
    ]
    assert form("nothing", {}) == ["Choose a component type."]
    pages, page = form("histogram", {"column": "confidence"}, title=" Confidence ", width=4, height=3)
    assert page == 1 and ids(pages) == [["label", "split", "note"], ["histogram-1"]]
    added = pages[1].components[0]
    assert (added.title, added.width, added.height, added.props) == ("Confidence", 4, 3, {"column": "confidence"})
    # Settings of an existing component, moved to another page by its Page field.
    pages, page = form("histogram", {"column": "split"}, target="label", page=1, width=6)
    assert page == 1 and ids(pages) == [["split", "note"], ["label"]] and pages[1].components[0].width == 6


def test_save_writes_the_file_keeps_a_backup_and_updates_the_app(lay: LoadedLayout) -> None:
    before = lay.path.read_bytes()
    entry = editor.start(lay)
    pages = editor.apply(lay.layout.pages, "remove", 0, "split")
    result = editor._save(lay, editor._entry(entry, pages), as_new=False)
    assert result == {"notice": "Saved in toy.json; the previous version is toy.json.bak."}
    assert backup_path(lay.path).read_bytes() == before
    on_disk = json.loads(lay.path.read_text(encoding="utf-8"))
    assert [c["id"] for c in on_disk["pages"][0]["components"]] == ["label", "note"]
    assert list(lay.instances) == ["label", "note"] and load_layout(lay.path).version == lay.version


def test_save_never_overwrites_a_change_on_disk(lay: LoadedLayout) -> None:
    entry = editor._entry(editor.start(lay), editor.apply(lay.layout.pages, "page-add", 0, 0))
    edited = lay.path.read_text(encoding="utf-8").replace('"Toy"', '"Toy, edited by hand"')
    lay.path.write_text(edited, encoding="utf-8")
    result = editor._save(lay, entry, as_new=False)
    assert result["conflict"] is True and result["tone"] == "error"
    assert result["message"].startswith("toy.json changed on disk since this draft began, so it was not overwritten.")
    assert lay.path.read_text(encoding="utf-8") == edited and result["pages"] == entry["pages"], "the draft is kept"
    result = editor._save(lay, entry, as_new=True)
    assert result == {"notice": "Saved in toy-2.json."}
    copy = json.loads((lay.path.parent / "toy-2.json").read_text(encoding="utf-8"))
    assert [p["title"] for p in copy["pages"]] == ["One", "Two", "Page 3"] and copy["data"]["source"] == "toy.csv"
    assert lay.path.name == "toy-2.json", "the app saves there from now on"


def test_a_save_that_fails_midway_leaves_the_file_and_the_draft(lay: LoadedLayout, monkeypatch) -> None:
    before = lay.path.read_bytes()
    entry = editor._entry(editor.start(lay), editor.apply(lay.layout.pages, "remove", 0, "note"))

    real_write = Path.write_bytes
    writes: list[Path] = []

    def full_disk(self: Path, data: bytes) -> int:
        writes.append(self)
        if len(writes) == 1:  # the backup is written; the disk fills up while the layout itself is written
            return real_write(self, data)
        real_write(self, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    result = editor._save(lay, entry, as_new=False)
    monkeypatch.undo()
    assert result["message"] == "toy.json could not be written (No space left on device); the draft is kept."
    assert len(writes) == 2 and lay.path.read_bytes() == before and result["pages"] == entry["pages"]
    assert [p.name for p in lay.path.parent.iterdir() if p.name.startswith(".")] == [], "no temporary file is left"
    assert list(lay.instances) == ["label", "split", "note"], "the app still serves the saved layout"


def test_a_layout_not_from_a_file_cannot_be_saved_but_downloaded() -> None:
    raw = RAW | {"data": {"source": "unused.csv"}}
    lay = load_layout(layout=raw, data=Dataset(toy_frame(), id_column="id"))
    result = editor._save(lay, editor.start(lay), as_new=False)
    assert result["tone"] == "warning" and result["message"].startswith("This layout was not loaded from a file")


def test_forged_editor_requests_change_nothing(lay: LoadedLayout) -> None:
    """The editor's stores come from the browser: a forged page or layout is ignored, never a server error."""
    app = create_app([lay.path])
    client = app.server.test_client()
    act = next(
        d
        for d in client.get("/_dash-dependencies").get_json()
        if any(i["id"].startswith('{"index":["ALL"],"op":["ALL"],"type":"symphony-edit"}') for i in d["inputs"])
    )
    outputs = [{"id": ident, "property": prop} for ident, prop in outputs_of(act["output"])]
    button = {"index": 0, "op": "page-add", "type": "symphony-edit"}
    drafts = {lay.slug: editor.start(lay)}
    for where in ({"slug": lay.slug, "page": 99}, {"slug": ["x"], "page": 0}, {"slug": lay.slug, "page": "0"}, 7):
        body = {
            "output": act["output"],
            "outputs": outputs,
            "inputs": [[{"id": button, "property": "n_clicks", "value": 1}], [], []],
            "changedPropIds": [f"{key_of(button)}.n_clicks"],
            "state": [
                {"id": "symphony-editor-drafts", "property": "data", "value": drafts},
                [{"id": {"index": 0, "type": "symphony-edit-where"}, "property": "data", "value": where}],
                {"id": "symphony-url", "property": "pathname", "value": f"/{lay.slug}"},
            ],
        }
        answer = client.post("/_dash-update-component", json=body)
        assert answer.status_code in (200, 204), (where, answer.status_code, answer.get_data(as_text=True)[:300])
        if where == {"slug": lay.slug, "page": 99}:  # a page past the end is the last page: the action still works
            pages = answer.get_json()["response"]["symphony-editor-drafts"]["data"][lay.slug]["pages"]
            assert [p["title"] for p in pages] == ["One", "Two", "Page 3"]
