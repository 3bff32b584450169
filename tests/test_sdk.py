"""Tests of the component SDK: the base class's conveniences, ``new-component``, plugins installed with pip and tested
in a browser, and broken plugins listed in the navbar while the app works.

The plugins are installed editable into a virtual environment of their own, which sees the project's packages through
a ``.pth`` file: the shared ``.venv`` never holds them, so no other test module sees an extra component type. The
installs are offline (``--no-index --no-build-isolation``): setuptools comes from the test extra.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import dash
import pytest
from helpers import click_bar, toy_frame, wait_count

from symphony_dash import registry
from symphony_dash.cli import main
from symphony_dash.component import Component, View
from symphony_dash.dataset import Dataset
from symphony_dash.demo import load_demo
from symphony_dash.engine import Engine
from symphony_dash.layout import LayoutError
from symphony_dash.state import State, between, isin
from symphony_dash.testing import click, component_app, element

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "sdk" / "examples" / "calibration"
TOY = toy_frame()
DATASET = Dataset(TOY)


class Probe(Component):
    """A component that is never registered: only its helpers are called."""

    type = "sdk_probe"


PROBE = Probe("probe", Probe.Props(), DATASET)


# -- the clause helpers and the view's frames ------------------------------------------------------------------------


def test_sdk001_points_clause_makes_eq_in_and_range() -> None:
    def click(*points: dict[str, Any]) -> Any:
        return PROBE.points_clause({"points": list(points)}, "label")

    assert click({"x": "3", "customdata": 3}) == PROBE.clause("eq", column="label", value=3)
    assert click({"x": 1}, {"x": 2}, {"x": 1}) == PROBE.clause("in", column="label", value=[1, 2])
    assert click({"customdata": [2]}) == PROBE.clause("eq", column="label", value=2)
    assert click({"customdata": [0.2, 0.3]}, {"customdata": [0.5, 0.6]}) == PROBE.clause(
        "range", column="label", value=[0.2, 0.6]
    )
    assert PROBE.points_clause(None, "label") is None
    assert PROBE.points_clause({"points": []}, "label") is dash.no_update
    for malformed in ("bar", {"dots": []}, {"points": [{"y": 1}]}, {"points": [{"x": {"a": 1}}]}):
        with pytest.raises((KeyError, TypeError, ValueError)):
            PROBE.points_clause(malformed, "label")


def test_sdk002_box_clause_makes_a_range_or_a_polygon() -> None:
    box = {"range": {"x": [3.0, 1.0], "y": [0.5, -0.5]}}
    assert PROBE.box_clause(box, "x") == PROBE.clause("range", column="x", value=[1.0, 3.0])
    corners = [[1.0, -0.5], [3.0, -0.5], [3.0, 0.5], [1.0, 0.5]]
    assert PROBE.box_clause(box, "x", "y") == PROBE.clause("polygon", columns=("x", "y"), value=corners)
    lasso = {"lassoPoints": {"x": [0, 1, 1], "y": [0, 0, 1]}}
    polygon = PROBE.box_clause(lasso, "x", "y")
    assert polygon.op == "polygon" and polygon.value == [[0, 0], [1, 0], [1, 1]] and polygon.source == "probe"
    long = {"lassoPoints": {"x": list(range(12_000)), "y": [i % 7 for i in range(12_000)]}}
    assert len(PROBE.box_clause(long, "x", "y").value) == 4_000  # thinned to what a polygon clause may hold
    assert PROBE.box_clause(None, "x") is None
    assert PROBE.box_clause({"points": []}, "x", "y") is dash.no_update
    with pytest.raises(ValueError, match="a lasso needs two columns"):
        PROBE.box_clause(lasso, "x")
    with pytest.raises(ValueError):
        PROBE.box_clause({"lassoPoints": {"x": [0, 1], "y": [0]}}, "x", "y")


def test_sdk003_rows_clause_makes_ids() -> None:
    assert PROBE.rows_clause([{"id": 4, "label": 1}, {"id": 9}]) == PROBE.clause("ids", value=[4, 9])
    assert PROBE.rows_clause([]) is None and PROBE.rows_clause(None) is None
    with pytest.raises((KeyError, TypeError, ValueError)):
        PROBE.rows_clause({"id": 4})


def test_sdk004_the_view_frames_are_its_rows_without_its_own_clause() -> None:
    other, own = isin("split", ["test"], source="elsewhere"), between("x", 0.0, 3.0, source="probe")
    view = View("probe", DATASET, Engine(DATASET), State(layout="toy", filter=[other, own]))
    expected = TOY[TOY.split == "test"]
    assert view.frame(["id", "x"])["id"].to_list() == expected.id.tolist()
    pandas = view.pandas(["id", "label"])
    assert pandas.columns.tolist() == ["id", "label"] and pandas.id.tolist() == expected.id.tolist()
    with pytest.raises(Exception, match="nope"):
        view.frame(["nope"])


def test_sdk005_component_app_serves_one_component_from_a_given_state() -> None:
    app = component_app("histogram", {"column": "confidence"}, data=TOY, filter=[isin("split", ["test"])])
    (loaded,) = app.symphony_layouts.values()
    assert loaded.layout.filter == [isin("split", ["test"])]
    assert list(loaded.instances) == ["under-test"] and loaded.dataset.frame.height == len(TOY)
    with pytest.raises(LayoutError, match="'binz' is not a parameter of histogram"):
        component_app("histogram", {"column": "x", "binz": 3}, data=TOY)


# -- new-component ---------------------------------------------------------------------------------------------------


def test_sdk010_new_component_writes_the_template_with_the_names_filled_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plugin"
    assert main(["new-component", "top_values", "--out", str(out)]) == 0
    assert f"wrote the component package {out}/" in capsys.readouterr().out
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "symphony_dash_top_values.py",
        "tests/test_top_values.py",
        "top_values.json",
    ]
    pyproject = (out / "pyproject.toml").read_text()
    assert 'name = "symphony-dash-top-values"' in pyproject
    assert 'top_values = "symphony_dash_top_values:TopValues"' in pyproject
    module = (out / "symphony_dash_top_values.py").read_text()
    assert (
        "class TopValues(Component):" in module and 'type = "top_values"' in module and 'name = "Top values"' in module
    )
    text = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert not any(word in text for word in ("value_bars", "value-bars", "ValueBars", "Value bars"))
    assert json.loads((out / "top_values.json").read_text())["pages"][0]["components"][0]["type"] == "top_values"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Tally", "'Tally' is not a component type name: use at most 40 lowercase letters"),
        ("top-values", "'top-values' is not a component type name"),
        ("2d", "'2d' is not a component type name"),
        ("histogram", "'histogram' is already the type of symphony_dash.components.histogram.Histogram"),
    ],
)
def test_sdk011_new_component_refuses_a_bad_name(
    name: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-component", name, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_sdk012_new_component_never_overwrites_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mine.py").write_text("# someone's work\n")
    assert main(["new-component", "tally", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"symphony-dash: {tmp_path} already exists; give --out a new folder (nothing was written)\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["mine.py"]


def test_sdk013_the_template_ships_in_the_package_and_sdk_template_is_it() -> None:
    packaged = Path(str(resources.files("symphony_dash") / "sdk_template"))
    assert (ROOT / "sdk" / "template").resolve() == packaged.resolve()
    assert (packaged / "symphony_dash_value_bars.py").is_file() and (packaged / "tests").is_dir()


# -- plugins installed with pip, in an environment of their own ------------------------------------------------------


@dataclass
class Plugins:
    python: Path
    root: Path
    tally: Path


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Plugins:
    """A scaffolded component and the worked example, installed editable into a new virtual environment."""
    root = tmp_path_factory.mktemp("sdk")
    tally = root / "symphony-dash-tally"
    assert main(["new-component", "tally", "--out", str(tally)]) == 0
    env = root / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The project's packages (and its editable symphony_dash), seen from the new environment, after its own.
    parent = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "_symphony_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    pip = [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    done = subprocess.run([*pip, "-e", str(tally), "-e", str(EXAMPLE)], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return Plugins(python, root, tally)


def _run(plugins: Plugins, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([plugins.python, *args], cwd=plugins.root, capture_output=True, text=True, timeout=300)


def test_sdk020_installed_plugins_are_in_the_schema_and_their_layouts_load(plugins: Plugins) -> None:
    schema = _run(plugins, "-m", "symphony_dash", "schema")
    assert schema.returncode == 0, schema.stderr
    types = json.loads(schema.stdout)["$defs"]["Page"]["properties"]["components"]["items"]["discriminator"]
    assert {"tally", "calibration"} <= set(types["mapping"])
    layouts = [plugins.tally / "tally.json", EXAMPLE / "calibration.json"]
    validate = _run(plugins, "-m", "symphony_dash", "validate", *map(str, layouts))
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert validate.stdout.splitlines() == [
        f"ok: {layouts[0]} (3 components on 1 page)",
        f"ok: {layouts[1]} (3 components on 1 page)",
    ]


def test_sdk021_the_plugins_own_browser_tests_pass(plugins: Plugins) -> None:
    """The scaffold's test clicks a bar and the example's a confidence bin; each asserts the toolbar's count."""
    tests = [str(plugins.tally / "tests"), str(EXAMPLE / "tests")]
    done = _run(plugins, "-m", "pytest", "--headless", "-q", "-p", "no:cacheprovider", "--rootdir", ".", *tests)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout


# -- broken plugins: listed in the navbar, and the app works ---------------------------------------------------------


class DuplicateHistogram(Component):
    """A plugin that takes a built-in's type name."""

    type = "histogram"


class Future(Component):
    """A plugin written for a later version of the contract."""

    type = "sdk_future"
    api_version = 99


def _broken_plugins_app() -> dash.Dash:
    group = registry.ENTRY_POINT_GROUP
    fakes = [
        EntryPoint("sdk_missing", "symphony_dash_no_such_plugin:Thing", group),
        EntryPoint("sdk_duplicate", f"{__name__}:DuplicateHistogram", group),
        EntryPoint("sdk_future", f"{__name__}:Future", group),
    ]
    # Loaded afresh with only these plugins, then the registry is put back: no other test sees them.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "_types", dict(registry.component_types()))
        patch.setattr(registry, "broken", {})
        patch.setattr(registry, "_plugins_loaded", False)
        patch.setattr(registry, "entry_points", lambda *, group: fakes)
        return component_app("histogram", {"column": "label"}, data=DATASET, component_id="labels")


BROKEN_APP = _broken_plugins_app()


def test_sdk030_broken_plugins_are_named_in_the_navbar_and_the_app_works(dash_duo: Any) -> None:
    dash_duo.driver.set_window_size(1200, 700)  # room for the list of reasons, for the screenshot
    dash_duo.start_server(BROKEN_APP)
    notice = "#symphony-broken-plugins summary"
    dash_duo.wait_for_text_to_equal(notice, "3 plugins not loaded: sdk_missing, sdk_duplicate, sdk_future")
    dash_duo.find_element(notice).click()
    reasons = [li.text for li in dash_duo.find_elements("#symphony-broken-plugins li")]
    assert reasons == [
        "sdk_missing: ModuleNotFoundError: No module named 'symphony_dash_no_such_plugin'",
        f"sdk_duplicate: RegistryError: component type 'histogram' of {__name__}.DuplicateHistogram is already "
        "registered by symphony_dash.components.histogram.Histogram",
        f"sdk_future: RegistryError: Future ('sdk_future') was written for component API version 99; "
        f"this symphony_dash provides version {registry.API_VERSION}",
    ]
    (ROOT / "shots").mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(ROOT / "shots" / "sdk-broken-plugins.png"))
    # The built-in component works: a click on the first bar (label 0) filters the rows.
    total = len(TOY)
    wait_count(dash_duo, total, total)
    click_bar(dash_duo, "labels", 0)
    wait_count(dash_duo, int((TOY.label == 0).sum()), total)


def test_sdk031_the_registry_is_back_to_the_installed_components() -> None:
    assert "sdk_future" not in registry.component_types()
    assert not {"sdk_missing", "sdk_duplicate", "sdk_future"} & set(registry.broken)


# -- the README's example, run as written ----------------------------------------------------------------------------


def _readme_example() -> dash.Dash:
    """The app of sdk/README.md's complete example, its component registered only while the app is built."""
    text = (ROOT / "sdk" / "README.md").read_text()
    code = text.split("<!-- sdk-example")[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {"__name__": "sdk_readme_example"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "_types", dict(registry.component_types()))
        exec(compile(code, "sdk/README.md", "exec"), namespace)
    return namespace["app"]


README_APP = _readme_example()


def test_sdk040_the_readme_example_runs_and_filters_the_other_views(dash_duo: Any) -> None:
    dash_duo.start_server(README_APP)
    frame, _ = load_demo("digits")
    total = len(frame)
    wait_count(dash_duo, total, total)
    click(dash_duo, element("error_rate", "graph", "by-label") + " .trace.bars path", nth=0)  # label 0
    wait_count(dash_duo, int((frame.label == 0).sum()), total)
    (ROOT / "shots").mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(ROOT / "shots" / "sdk-readme-example.png"))
