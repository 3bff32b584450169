"""Tests of the "download as PNG" button in every component's header: a Plotly box is saved by plotly.js, any other
box (here a gallery) by html2canvas (dash.testing, headless Chromium, over the digits demo)."""

from __future__ import annotations

from pathlib import Path

from dash.testing.wait import until
from helpers import css, wait_count
from PIL import Image

from symphony_dash import create_app
from symphony_dash.demo import prepare_digits

FRAME, _ = prepare_digits()
TOTAL = len(FRAME)
LAYOUT = {
    "title": "Download test",
    "data": {"source": "demo:digits", "id_column": "id"},
    "pages": [
        {
            "title": "Main",
            "components": [
                {"type": "histogram", "id": "labels", "title": "Labels", "width": 2, "props": {"column": "label"}},
                {"type": "gallery", "id": "gallery", "title": "Digits", "width": 4, "height": 3},
            ],
        }
    ],
}
APP = create_app([LAYOUT])


def start(dash_duo) -> None:
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)


def download(dash_duo, box_id: str) -> Image.Image:
    """Click the download button in the header of the box ``box_id``, wait for its PNG and open it."""
    target = Path(dash_duo.download_path) / f"{box_id}.png"
    button = dash_duo.find_element(f"#box-{box_id} .symphony-header .symphony-download")
    assert button.get_attribute("title") == "Download as PNG"
    assert button.get_attribute("aria-label").endswith("as PNG")
    button.click()
    # Chrome writes a .crdownload first and renames it when the file is complete.
    until(lambda: target.exists() and target.stat().st_size > 0, timeout=20)
    image = Image.open(target)
    image.load()
    return image


def box_size(dash_duo, box_id: str) -> tuple[float, float]:
    rect = dash_duo.driver.execute_script(f"return document.getElementById('box-{box_id}').getBoundingClientRect();")
    return rect["width"], rect["height"]


def test_dl001_a_plotly_box_downloads_its_figure_as_png(dash_duo) -> None:
    start(dash_duo)
    dash_duo.wait_for_element(f"{css('histogram', 'graph', 'labels')} .bars path")
    dash_duo.driver.save_screenshot("/work/main/shots/download.png")

    image = download(dash_duo, "labels")
    graph = dash_duo.driver.execute_script(
        "const l = document.querySelector('#box-labels .js-plotly-plot')._fullLayout;"
        "return {width: l.width, height: l.height};"
    )
    assert image.format == "PNG"
    # The figure alone at twice its size, with room above the plot for the box's title.
    assert abs(image.width - 2 * graph["width"]) <= 2
    assert 2 * graph["height"] < image.height <= 2 * graph["height"] + 100
    image.save("/work/main/shots/download-histogram.png")
    colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 10, "the figure is drawn, not a blank image"


def test_dl002_any_other_box_is_captured_from_the_page(dash_duo) -> None:
    start(dash_duo)
    # Every thumbnail loaded, so the capture holds the images (same-origin, from the media route).
    until(
        lambda: dash_duo.driver.execute_script(
            "const imgs = document.querySelectorAll('#box-gallery img');"
            "return imgs.length > 0 && Array.from(imgs).every(i => i.complete && i.naturalWidth > 0);"
        ),
        timeout=15,
    )

    image = download(dash_duo, "gallery")
    width, height = box_size(dash_duo, "gallery")
    assert image.format == "PNG"
    # The whole box at twice its size (a box's width in CSS pixels may be fractional).
    assert abs(image.width - 2 * width) <= 2 and abs(image.height - 2 * height) <= 2
    image.save("/work/main/shots/download-gallery.png")
    gray = image.convert("L")
    # Digits are dark strokes on light thumbnails: the capture holds them, not only the white card.
    assert gray.getextrema()[0] < 80
