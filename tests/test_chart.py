"""Tests of the chart: the allow-list of functions and arguments (with the exact layout error texts), columns checked
when a layout loads and when it renders, sampling above max_rows, and in the browser a box chart that follows a
histogram's bar click (dash.testing, headless Chromium)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
from helpers import click_bar, css, plot_traces, toy_frame, wait_count

from symphony_dash import create_app
from symphony_dash.component import View
from symphony_dash.components.chart import FUNCTIONS, Chart, ChartArgs, ChartProps
from symphony_dash.dataset import Dataset, DatasetError
from symphony_dash.engine import Engine
from symphony_dash.layout import LayoutError, load_layout
from symphony_dash.state import State, isin

FRAME = toy_frame()
TOTAL = len(FRAME)
DATASET = Dataset(FRAME)
COLUMNS = "id, label, prediction, confidence, split, x, y, text"
WHERE = "<layout>: pages[0].components[0].props"
SHOTS = Path(__file__).parent.parent / "shots"


def _layout(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "Chart test",
        "data": {"source": "toy.parquet"},
        "pages": [
            {
                "title": "Main",
                "components": [
                    {"type": "chart", "id": "conf", "width": 3, "props": props},
                    {"type": "histogram", "id": "label", "width": 3, "props": {"column": "label"}},
                ],
            }
        ],
    }


def errors(props: dict[str, Any]) -> list[str]:
    with pytest.raises(LayoutError) as caught:
        load_layout(layout=_layout(props), data=DATASET)
    return str(caught.value).splitlines()


APP = create_app([_layout({"function": "box", "args": {"x": "label", "y": "confidence"}})], data=DATASET)
GRAPH = css("chart", "graph", "conf")


# -- the allow-list ---------------------------------------------------------------------------------------------------


def test_chart001_every_allowed_name_maps_to_its_function() -> None:
    names = get_args(ChartProps.model_fields["function"].annotation)
    assert list(FUNCTIONS) == list(names)
    assert all(fn.__module__.startswith("plotly.express") and fn.__name__ == name for name, fn in FUNCTIONS.items())


def test_chart002_unknown_function_lists_the_allowed_ones() -> None:
    assert errors({"function": "imshow", "args": {"x": "label"}}) == [
        f"{WHERE}.function: Input should be 'scatter', 'line', 'bar', 'histogram', 'box', 'violin', 'strip', "
        "'density_heatmap', 'density_contour', 'ecdf', 'pie', 'sunburst' or 'treemap' (got 'imshow')"
    ]


def test_chart003_unknown_argument_lists_the_allowed_ones() -> None:
    assert errors({"function": "box", "args": {"x": "label", "data_frame": "x"}}) == [
        f"{WHERE}.args: 'data_frame' is not an argument of chart; the column arguments are: x, y, color, facet_row, "
        "facet_col, size, symbol, names, values, path, hover_data; the options are: nbins, histnorm, barmode, "
        "marginal, points, orientation, log_x, log_y, title, opacity, box, text_auto, color_continuous_scale"
    ]


def test_chart004_argument_of_another_function_names_this_ones() -> None:
    assert errors({"function": "scatter", "args": {"x": "x", "nbins": 20}}) == [
        f"{WHERE}.args: 'nbins' is not an argument of a scatter chart; its arguments are: x, y, color, facet_row, "
        "facet_col, size, symbol, hover_data, orientation, log_x, log_y, title, opacity, color_continuous_scale"
    ]


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ({"x": "nope"}, f".args.x: unknown column 'nope'; the columns are: {COLUMNS}"),
        (
            {"x": "label", "hover_data": ["id", "nope"]},
            f".args.hover_data: unknown column 'nope'; the columns are: {COLUMNS}",
        ),
        ({}, ".args: a box chart needs at least one column, such as x or names"),
        (
            {"x": "label", "points": "some"},
            ".args.points: Input should be 'all', 'outliers', 'suspectedoutliers' or False (got 'some')",
        ),
        ({"x": "label", "opacity": 2}, ".args.opacity: Input should be less than or equal to 1 (got 2)"),
    ],
)
def test_chart005_columns_and_option_types_are_checked(args: dict[str, Any], text: str) -> None:
    assert errors({"function": "box", "args": args}) == [WHERE + text]


@pytest.mark.parametrize(
    ("props", "text"),
    [
        (
            {"function": "__import__('os').system", "args": {"x": "label"}},
            ".function: Input should be 'scatter', 'line', 'bar', 'histogram', 'box', 'violin', 'strip', "
            "'density_heatmap', 'density_contour', 'ecdf', 'pie', 'sunburst' or 'treemap' "
            "(got \"__import__('os').system\")",
        ),
        (
            {"function": "histogram", "args": {"x": "label", "__class__": "x"}},
            ".args: '__class__' is not an argument of chart",
        ),
        (
            {"function": "histogram", "args": {"x": "__import__('os').getcwd()"}},
            ".args.x: unknown column \"__import__('os').getcwd()\"",
        ),
        (
            {"function": "scatter", "args": {"x": "x", "color_continuous_scale": "__import__('os')"}},
            ".args.color_continuous_scale: not a named Plotly colour scale such as viridis, cividis, blues or rdbu "
            "(got \"__import__('os')\")",
        ),
        (
            {"function": "histogram", "args": {"x": "x", "text_auto": "{__import__('os')}"}},
            ".args.text_auto: must be true, false or a d3 number format such as '.2f' (got \"{__import__('os')}\")",
        ),
        (
            {"function": "histogram", "args": {"x": "x", "histnorm": "eval"}},
            ".args.histnorm: Input should be 'percent', 'probability', 'density' or 'probability density' (got 'eval')",
        ),
    ],
)
def test_chart006_code_looking_strings_are_refused(props: dict[str, Any], text: str) -> None:
    (line,) = errors(props)
    assert line.startswith(WHERE + text)


def test_chart007_safe_options_are_accepted() -> None:
    props = {
        "function": "histogram",
        "args": {"x": "confidence", "color": "split", "nbins": 20, "barmode": "overlay", "text_auto": ".2f"},
    }
    loaded = load_layout(layout=_layout(props), data=DATASET)
    chart, _ = loaded.instances["conf"]
    assert chart.props.args.given() == props["args"]
    assert chart.props.args.columns() == ["confidence", "split"]
    assert ChartArgs(color_continuous_scale="Viridis_r").color_continuous_scale == "Viridis_r"


# -- rendering --------------------------------------------------------------------------------------------------------


def _render(props: dict[str, Any], state: State | None = None) -> Any:
    chart = Chart("conf", ChartProps.model_validate(props), DATASET)
    return chart.render(View("conf", DATASET, Engine(DATASET), state or State()))


def test_chart008_a_column_is_checked_again_when_rendering() -> None:
    # Settings from a browser's props store pass the Props model without a dataset at hand: render checks columns.
    with pytest.raises(DatasetError) as caught:
        _render({"function": "box", "args": {"x": "label", "y": "os.system"}})
    assert str(caught.value) == f"unknown column 'os.system'; the columns are: {COLUMNS}"


def test_chart009_only_the_named_columns_of_the_filtered_rows_are_drawn() -> None:
    figure = _render(
        {"function": "scatter", "args": {"x": "x", "y": "y", "hover_data": ["id"]}},
        State(filter=[isin("label", [2], source="label")]),
    )
    twos = FRAME[FRAME.label == 2]
    (trace,) = figure.data
    assert sorted(trace.x) == pytest.approx(sorted(twos.x))
    assert sorted(trace.customdata[:, 0]) == sorted(twos.id)
    assert figure.layout.paper_bgcolor == "rgba(0,0,0,0)"


def test_chart010_above_max_rows_a_sample_is_drawn_and_said_so() -> None:
    figure = _render({"function": "strip", "args": {"x": "confidence"}, "max_rows": 100})
    assert len(figure.data[0].x) == 100
    assert [a.text for a in figure.layout.annotations] == [f"a random sample of 100 of {TOTAL} instances"]


def test_chart011_no_rows_says_so() -> None:
    figure = _render({"function": "box", "args": {"x": "label"}}, State(filter=[isin("label", [99], source="h")]))
    assert [a.text for a in figure.layout.annotations] == ["No instances pass the filter"]
    assert figure.data == ()


# -- in the browser ---------------------------------------------------------------------------------------------------


def _boxes(dash_duo: Any) -> tuple[list[float], list[float]]:
    (trace,) = plot_traces(dash_duo, GRAPH)
    return trace["x"], trace["y"]


def test_chart012_box_chart_follows_a_bar_click(dash_duo) -> None:
    dash_duo.driver.set_window_size(1280, 900)
    dash_duo.start_server(APP)
    wait_count(dash_duo, TOTAL, TOTAL)
    x, y = _boxes(dash_duo)
    assert sorted(x) == sorted(FRAME.label.astype(str)) and sorted(y) == pytest.approx(sorted(FRAME.confidence))
    SHOTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(SHOTS / "chart.png"))

    label = sorted(FRAME.label.unique())[2]
    click_bar(dash_duo, "label", 2)
    chosen = FRAME[FRAME.label == label]
    wait_count(dash_duo, len(chosen), TOTAL)
    x, y = _boxes(dash_duo)
    assert set(x) == {str(label)}
    assert sorted(y) == pytest.approx(sorted(chosen.confidence))
    dash_duo.driver.save_screenshot(str(SHOTS / "chart-filtered.png"))
    assert dash_duo.get_logs() == []
