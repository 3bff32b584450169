"""The static HTML export: a report of every component that opens in a browser with no server and no network."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.offline
import pytest
from helpers import toy_frame
from PIL import Image

import symphony_dash
from symphony_dash import Symphony
from symphony_dash.cli import main
from symphony_dash.dataset import Dataset
from symphony_dash.export import markdown, report_html, write_report
from symphony_dash.layout import load_layout
from symphony_dash.state import State, between, isin

LAYOUTS = Path(symphony_dash.__file__).parent / "layouts"
DIGITS = load_layout(LAYOUTS / "digits.json")
CANCER = load_layout(LAYOUTS / "breast_cancer.json")
# Everything the report's own HTML asks for; plotly.js's source (inside <script>) names sites it never loads.
RESOURCE = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def _without_scripts(text: str) -> str:
    return re.sub(r"<script\b.*?</script>", "", text, flags=re.DOTALL | re.IGNORECASE)


def _components(loaded) -> list[str]:
    return [spec.id for page in loaded.layout.pages for spec in page.components]


@pytest.mark.parametrize("loaded", [DIGITS, CANCER], ids=["digits", "breast-cancer"])
def test_report_names_every_component_and_loads_nothing(loaded, tmp_path: Path) -> None:
    text = write_report(loaded, tmp_path / "report.html").read_text()
    for component_id in _components(loaded):
        assert f'id="box-{component_id}"' in text
    assert not RESOURCE.search(_without_scripts(text))
    assert "/symphony-media/" not in _without_scripts(text)  # every image is inlined
    assert text.count(plotly.offline.get_plotlyjs()[:300]) == 1  # plotly.js inlined once, from the installed package


def test_images_come_only_from_the_media_root(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    Image.new("L", (4, 4), 128).save(media / "ok.png")
    (tmp_path / "secret.png").write_bytes(b"not for the report")
    frame = toy_frame(3)
    frame["image"] = ["ok.png", "../secret.png", "gone.png"]
    tiles = {"type": "gallery", "id": "pics", "props": {"image": "image"}}
    rows = {"type": "table", "id": "rows", "props": {"columns": ["id", "image"]}}
    layout = {"title": "Pictures", "data": {"source": "toy"}, "pages": [{"title": "One", "components": [tiles, rows]}]}
    text = report_html(load_layout(layout=layout, data=Dataset(frame, media_root=media, kinds={"image": "image"})))
    assert "bm90IGZvciB0aGUgcmVwb3J0" not in text  # the file outside the media root, base64-encoded
    # The gallery shows the missing and the outside file as missing; the table's cells get the placeholder.
    assert text.count("missing image") == 2
    sources = re.findall(r'<img src="([^"]+)"', text)
    assert [src.split(",")[0] for src in sources] == ["data:image/png;base64"] * 2 + ["data:image/svg+xml;base64"] * 2


def test_markdown_escapes_html_and_keeps_only_web_links() -> None:
    html = markdown(
        "## Notes <script>x</script>\n\n- **bold** and *it*\n- [ok](https://a.org/?q=1&r=2) [no](javascript:x)"
    )
    assert html.startswith("<h2>Notes &lt;script&gt;x&lt;/script&gt;</h2><ul><li><strong>bold</strong> and <em>it</em>")
    assert '<a href="https://a.org/?q=1&amp;r=2">ok</a> no</li></ul>' in html and "javascript" not in html
    assert "<script>" not in html


def test_notebook_export_writes_the_current_state(tmp_path: Path) -> None:
    sym = Symphony(toy_frame())
    sym.filter = {"label": [1, 2]}
    text = sym.export(tmp_path / "nb.html").read_text()
    frame = toy_frame()
    assert f"<b>{frame['label'].isin([1, 2]).sum():,}</b> of {len(frame):,} instances" in text
    assert "label in [1, 2]" in text


def test_folder_gets_the_layouts_name(tmp_path: Path) -> None:
    assert write_report(CANCER, tmp_path, pages=[1]) == tmp_path / "breast-cancer.html"


def _open(dash_duo, path: Path) -> None:
    dash_duo.driver.set_window_size(1400, 1000)  # before drawing: figures take their box's size when drawn
    dash_duo.driver.get(path.as_uri())
    dash_duo.wait_for_element("#symphony-count")


def _nothing_fetched(dash_duo) -> None:
    resources = dash_duo.driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert not [r for r in resources if not r.startswith(("data:", "file:"))]


def _figures_drawn(dash_duo, text: str) -> None:
    figures = re.findall(r'<div id="(symphony-figure-\d+)"', text)
    assert figures
    for figure in figures:
        dash_duo.wait_for_element(f"#{figure}.js-plotly-plot .main-svg", timeout=20)


def test_digits_report_opens_offline(dash_duo, tmp_path: Path) -> None:
    path = write_report(DIGITS, tmp_path / "digits.html")
    _open(dash_duo, path)
    _figures_drawn(dash_duo, path.read_text())
    driver = dash_duo.driver
    # Every thumbnail decoded: an inlined image, not a broken one and not the placeholder's grey square.
    sizes = driver.execute_script(
        "return [...document.images].map(i => [i.complete, i.naturalWidth, i.src.slice(0, 15)])"
    )
    assert len(sizes) > 50
    assert all(done and width > 0 and src.startswith("data:image/png") for done, width, src in sizes)
    _nothing_fetched(dash_duo)
    assert dash_duo.find_element("#symphony-filter").text == "no filter: every instance"
    assert (
        dash_duo.find_element("#symphony-count").text == f"{len(DIGITS.dataset):,} of {len(DIGITS.dataset):,} instances"
    )
    # The slice finder's list and the notes came through as HTML.
    assert dash_duo.find_elements("#box-slices .symphony-slice")
    n = len(DIGITS.dataset)
    assert dash_duo.find_element("#box-quality-note h3").text == f"{n:,} of {n:,} instances"
    assert dash_duo.find_element("#box-model-note strong").text == f"{n:,} of {n:,} instances."
    driver.save_screenshot("/work/main/shots/export-digits.png")


def test_breast_cancer_map_draws_offline(dash_duo, tmp_path: Path) -> None:
    path = write_report(CANCER, tmp_path / "cancer.html")
    _open(dash_duo, path)
    _figures_drawn(dash_duo, path.read_text())
    # The countries' outlines come from the inlined topojson: real shapes, not an error and an empty map.
    dash_duo.wait_for_element("#box-sites path.choroplethlocation", timeout=20)
    lengths = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#box-sites path.choroplethlocation')]"
        ".map(p => p.getAttribute('d').length)"
    )
    assert lengths and min(lengths) > 20
    _nothing_fetched(dash_duo)  # the outlines were inlined, not fetched from plotly's CDN
    rows = dash_duo.find_elements("#box-rows .symphony-report-table tbody tr")
    assert len(rows) == min(100, len(CANCER.dataset))
    dash_duo.driver.save_screenshot("/work/main/shots/export-cancer.png")


def test_a_filtered_report_counts_like_pandas(dash_duo, tmp_path: Path) -> None:
    state = State(
        layout=DIGITS.slug,
        filter=[isin("label", [3, 8], source="label"), between("confidence", 0.5, 1.0, source="confidence")],
    )
    path = write_report(DIGITS, tmp_path / "filtered.html", state, pages=[0])
    frame = DIGITS.dataset.frame.to_pandas()
    expected = int((frame["label"].isin([3, 8]) & frame["confidence"].between(0.5, 1.0)).sum())
    _open(dash_duo, path)
    assert dash_duo.find_element("#symphony-count").text == f"{expected:,} of {len(frame):,} instances"
    chips = dash_duo.find_element("#symphony-filter").text
    assert "label in [3, 8]" in chips and "confidence between 0.5 and 1" in chips
    # The table, filtered by both clauses, says how many rows it holds.
    assert f"of {expected:,} rows" in dash_duo.find_element("#box-rows .symphony-report-note").text
    _figures_drawn(dash_duo, path.read_text())


def test_cli_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert main(["export", str(LAYOUTS / "breast_cancer.json"), "--out", str(out), "--page", "1"]) == 0
    assert out.stat().st_size > 0 and "wrote" in capsys.readouterr().out
    text = out.read_text()
    assert 'id="box-sites"' in text and 'id="box-errors"' not in text  # page 1 only

    assert main(["export", str(LAYOUTS / "breast_cancer.json"), "--out", str(out), "--page", "3"]) == 2
    assert "has 2 pages; give 1 to 2, or all" in capsys.readouterr().err

    bad = tmp_path / "bad.json"
    bad.write_text('{"title": "Bad", "pages": []}')
    assert main(["export", str(bad), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: data: is required" in err and "Traceback" not in err

    assert main(["export", str(tmp_path / "none.json"), "--out", str(out)]) == 2
    assert "none.json: no such layout file" in capsys.readouterr().err
