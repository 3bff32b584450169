"""Tests of symphony_dash in a notebook: the example notebook executed headless in a real kernel (nbclient with
ipykernel), its outputs checked, and the Python side of ``Symphony`` (setters, validation, the layout)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import requests
from helpers import toy_frame
from nbclient import NotebookClient

from symphony_dash import ClauseError, LayoutError, Symphony, between, isin, load_layout
from symphony_dash.demo import prepare_digits
from symphony_dash.media import app_url, media_url

NOTEBOOK = Path(__file__).parents[1] / "examples" / "quickstart.ipynb"
IFRAME = re.compile(r'<iframe src="([^"]+)"')


def outputs(cell: dict) -> str:
    """Everything a cell showed, as text: its HTML, its plain-text results and what it printed."""
    parts = []
    for out in cell.get("outputs", []):
        assert out["output_type"] != "error", "".join(out.get("traceback", []))
        data = out.get("data", {})
        parts += [data.get("text/html", ""), data.get("text/plain", ""), out.get("text", "")]
    return "\n".join(parts)


def test_nb101_the_quickstart_notebook_runs_top_to_bottom(tmp_path) -> None:
    digits, _ = prepare_digits()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # Probes run after the notebook, in its kernel, while its server is up.
    nb.cells.append(nbformat.v4.new_code_cell("print(type(sym.selected).__name__, type(sym.filtered).__name__)"))
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        shown = [IFRAME.findall(outputs(c)) for c in nb.cells if c.cell_type == "code" and "sym.show(" in c.source]
        assert all(len(urls) == 1 for urls in shown) and len(shown) == 4
        for (url,) in shown:  # every cell's page is served, by one server
            assert requests.get(url, timeout=10).status_code == 200
        assert len({url.split("/")[2] for (url,) in shown}) == 1
        root = "/".join(shown[0][0].split("/")[:3])
        assert "symphony-page" in requests.get(f"{root}/_dash-layout", timeout=10).text  # the app, not any server
        assert shown[1][0].endswith("/cell/scatter") and shown[3][0].endswith("/cell/histogram-1")

    texts = [outputs(c) for c in nb.cells if c.cell_type == "code"]
    assert texts[-1].strip() == "DataFrame DataFrame"
    by_label = int(digits.label.isin([3, 8]).sum())
    under = int((digits.label.isin([3, 8]) & (digits.confidence <= 0.9)).sum())
    counts = [int(t.strip()) for t in texts if t.strip().isdigit()]
    assert counts == [by_label, under] and under < by_label < len(digits)
    saved = load_layout(tmp_path / "quickstart_layout.json")  # opens as a hosted layout file, unchanged
    assert [c.id for c in saved.layout.pages[0].components][-1] == "histogram-1"
    assert saved.dataset.name == "digits"


SYM = Symphony(toy_frame())


def test_nb102_setters_take_clauses_and_the_short_form_and_say_what_is_wrong() -> None:
    frame = toy_frame()
    SYM.filter = {"label": [1, 2], "split": "test", "confidence": (0.5, 0.9)}
    expected = frame.label.isin([1, 2]) & (frame.split == "test") & frame.confidence.between(0.5, 0.9)
    assert isinstance(SYM.filtered, pd.DataFrame) and len(SYM.filtered) == expected.sum()
    assert [c.op for c in SYM.filter] == ["in", "eq", "range"]
    SYM.filter = [isin("label", [0]), between("x", -10.0, 0.0)]
    assert len(SYM.filtered) == (frame.label.eq(0) & frame.x.between(-10, 0)).sum()
    SYM.selection = [5, 7, 9]
    assert SYM.selected["id"].tolist() == [5, 7, 9]
    SYM.group_by = "split"
    assert SYM.group_by == ["split"] and SYM.state.filter == SYM.filter
    with pytest.raises(ClauseError, match="unknown column 'labl'"):
        SYM.filter = {"labl": 3}
    with pytest.raises(ClauseError, match="is not a number"):
        SYM.filter = {"label": ["three"]}
    with pytest.raises(ClauseError, match="low <= high"):
        SYM.filter = {"x": (3, 1)}
    with pytest.raises(ClauseError, match="not a categorical column"):
        SYM.group_by = ["x"]
    SYM.filter, SYM.selection, SYM.group_by = None, None, None
    assert len(SYM.filtered) == len(frame) and SYM.selected.empty


def test_nb103_add_checks_props_as_a_layout_file_does_and_save_layout_writes_one(tmp_path) -> None:
    with pytest.raises(LayoutError, match="'binz' is not a parameter of histogram; its parameters are: column, bins"):
        SYM.add("histogram", column="label", binz=3)
    with pytest.raises(LayoutError, match="unknown column 'confidance'"):
        SYM.add("histogram", column="confidance")
    with pytest.raises(LayoutError, match="'pie' is neither a component of this layout"):
        SYM.show("pie")
    added = SYM.add("histogram", "conf", column="confidence", bins=10)
    assert added == "conf" and SYM.layout.pages[0].components[-1].props == {"column": "confidence", "bins": 10}
    path = SYM.save_layout(tmp_path / "toy.json", source="toy.parquet")
    raw = json.loads(path.read_text())
    assert raw["data"]["source"] == "toy.parquet" and raw["pages"][0]["components"][-1]["id"] == "conf"
    SYM.remove("conf")
    assert "conf" not in [c.id for c in SYM.layout.pages[0].components]


def test_nb104_the_default_layout_follows_the_roles() -> None:
    assert [c.id for c in SYM.layout.pages[0].components] == ["scatter", "gallery", "label", "prediction", "table"]
    assert SYM.layout.pages[0].components[1].props == {"text": "text"}  # no images: the text column as cards
    plain = Symphony(toy_frame()[["id", "label", "prediction", "confidence"]])
    assert [(c.type, c.width) for c in plain.layout.pages[0].components] == [
        ("histogram", 3),
        ("histogram", 3),
        ("table", 6),
    ]


def test_nb105_a_layout_read_from_a_data_file_is_saved_naming_that_file(tmp_path) -> None:
    toy_frame().to_parquet(tmp_path / "toy.parquet")
    sym = Symphony(tmp_path / "toy.parquet")
    (tmp_path / "layouts").mkdir()
    saved = sym.save_layout(tmp_path / "layouts" / "toy.json")
    assert json.loads(saved.read_text())["data"]["source"] == "../toy.parquet"
    assert len(load_layout(saved).dataset) == len(toy_frame())  # the hosted app finds the data from the file


def test_nb106_modes_show_an_iframe_that_says_when_it_cannot_be_reached_or_a_link(monkeypatch) -> None:
    shown: list = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    SYM.show("label")
    page = shown[-1].data
    url = SYM.url(f"{SYM.slug}/cell/label")
    assert f'<iframe src="{url}"' in page and "cannot reach" in page and "fetch(" in page
    SYM.show(mode="external")
    assert f'href="{SYM.url()}"' in shown[-1].data and "<iframe" not in shown[-1].data
    with pytest.raises(ValueError, match="not a mode"):
        SYM.show(mode="popup")  # type: ignore[arg-type]


def test_nb107_behind_a_path_proxy_the_pages_are_addressed_through_it() -> None:
    sym = Symphony(toy_frame(), proxy="/user/me/proxy/{port}/")
    prefix = f"/user/me/proxy/{sym.port}/"
    assert sym.url(f"{sym.slug}/cell/table") == f"{prefix}{sym.slug}/cell/table"
    index = sym.app.server.test_client().get(f"/{sym.slug}/cell/table")  # the proxy strips its prefix
    assert index.status_code == 200 and prefix in index.get_data(as_text=True)
    # Media and map outlines are addressed through the proxy too, whichever app was created last in the process.
    plain = Symphony(toy_frame())
    with sym.app.server.test_request_context():
        assert media_url(sym.slug, "a b.png") == f"{prefix}symphony-media/{sym.slug}/a%20b.png"
        assert app_url("/assets/topojson/") == f"{prefix}assets/topojson/"
    with plain.app.server.test_request_context():
        assert media_url(plain.slug, "a.png") == f"/symphony-media/{plain.slug}/a.png"
