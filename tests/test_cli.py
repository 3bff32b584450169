"""Tests of the ``symphony-dash`` command line: validate, schema, run and demo, in-process and as real processes.

Error messages are part of the interface, so the tests pin their exact text.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from helpers import toy_frame

import symphony_dash
from symphony_dash import registry
from symphony_dash.cli import main

PACKAGED_LAYOUTS = Path(symphony_dash.__file__).parent / "layouts"
CONSOLE_SCRIPT = Path(sys.executable).with_name("symphony-dash")
TOY = toy_frame()


def _histogram(component_id: str = "h", **props: Any) -> dict[str, Any]:
    return {"type": "histogram", "id": component_id, "props": props}


def _layout(components: list[dict[str, Any]], source: str = "toy.parquet") -> dict[str, Any]:
    return {"title": "Test", "data": {"source": source}, "pages": [{"title": "Main", "components": components}]}


def _write(folder: Path, name: str, layout: dict[str, Any] | str) -> Path:
    """A layout file next to a copy of the toy data, which layouts name as ``toy.parquet``."""
    data = folder / "toy.parquet"
    if not data.exists():
        TOY.to_parquet(data)
    path = folder / name
    path.write_text(layout if isinstance(layout, str) else json.dumps(layout, indent=2), encoding="utf-8")
    return path


def _validate(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, list[str]]:
    code = main(["validate", *map(str, paths)])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out.splitlines()


def test_cli001_validate_packaged_layouts(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(PACKAGED_LAYOUTS.glob("*.json"))
    assert files
    expected = []
    for file in files:
        pages = json.loads(file.read_text(encoding="utf-8"))["pages"]
        n = sum(len(page["components"]) for page in pages)
        expected.append(f"ok: {file} ({n} component{'s' * (n != 1)} on {len(pages)} page{'s' * (len(pages) != 1)})")
    assert _validate(capsys, PACKAGED_LAYOUTS) == (0, expected)


def test_cli002_unknown_prop_names_the_valid_ones(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = _write(tmp_path, "bad.json", _layout([_histogram(column="x", binz=3)]))
    assert _validate(capsys, file) == (
        1,
        [
            f"{file}: pages[0].components[0].props: 'binz' is not a parameter of histogram; "
            "its parameters are: column, bins, log_y, show_unfiltered, max_categories"
        ],
    )


def test_cli003_unknown_type_lists_the_types(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = _write(tmp_path, "bad.json", _layout([{"type": "histogramm", "id": "h", "props": {"column": "x"}}]))
    types = ", ".join(registry.component_types())
    assert _validate(capsys, file) == (
        1,
        [f"{file}: pages[0].components[0].type: 'histogramm' is not a component type; the types are: {types}"],
    )


def test_cli004_invalid_json_gives_line_and_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = '{\n  "title": "Test",\n  "data": {"source": "toy.parquet"}\n  "pages": []\n}\n'
    file = _write(tmp_path, "bad.json", text)
    assert _validate(capsys, file) == (1, [f"{file}: line 4 column 3: not valid JSON: Expecting ',' delimiter"])


def test_cli005_missing_data_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = _write(tmp_path, "bad.json", _layout([_histogram(column="x")], "gone.csv"))
    assert _validate(capsys, file) == (
        1,
        [f"{file}: data: source: no such data file 'gone.csv' (looked for {(tmp_path / 'gone.csv').resolve()})"],
    )


def test_cli006_unknown_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = _write(tmp_path, "bad.json", _layout([_histogram(column="confidance")]))
    columns = ", ".join(TOY.columns)
    assert _validate(capsys, file) == (
        1,
        [f"{file}: pages[0].components[0].props.column: unknown column 'confidance'; the columns are: {columns}"],
    )


def test_cli007_every_problem_of_every_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """One run reports each problem of a bad file, and still checks (and passes) the good file beside it."""
    bad = _write(
        tmp_path,
        "a_bad.json",
        _layout(
            [
                _histogram(column="x", bins=0),
                _histogram(column="label", log_y="maybe"),
            ]
        ),
    )
    good = _write(tmp_path, "b_good.json", _layout([_histogram(column="split")]))
    code, lines = _validate(capsys, tmp_path)
    assert code == 1
    assert lines == [
        f"{bad}: pages[0].components[0].props.bins: Input should be greater than or equal to 1 (got 0)",
        f"{bad}: pages[0].components[1].id: 'h' is already the id of pages[0].components[0]; ids must be unique",
        f"{bad}: pages[0].components[1].props.log_y: Input should be a valid boolean, unable to interpret input "
        "(got 'maybe')",
        f"ok: {good} (1 component on 1 page)",
    ]


def test_cli008_missing_path_and_empty_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert _validate(capsys, tmp_path / "nope.json", tmp_path) == (
        1,
        [f"{tmp_path / 'nope.json'}: no such file", f"{tmp_path}: no layout files (*.json) in this folder"],
    )


def test_cli009_schema_lists_every_component_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    union = schema["$defs"]["Page"]["properties"]["components"]["items"]
    assert set(union["discriminator"]["mapping"]) == set(registry.component_types())
    assert schema["properties"]["pages"]["items"] == {"$ref": "#/$defs/Page"}


def test_cli010_run_refuses_missing_paths(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == f"symphony-dash: {tmp_path / 'nope'}: no such layout file or folder\n"
    assert main(["run", str(PACKAGED_LAYOUTS), "--data", str(tmp_path / "gone.csv")]) == 2
    assert capsys.readouterr().err == f"symphony-dash: {tmp_path / 'gone.csv'}: no such data file\n"
    assert main(["run", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"symphony-dash: {tmp_path}: no layout files (*.json) in this folder\n"


def test_cli011_version_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"symphony-dash {metadata.version('symphony_dash')}\n"
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "the following arguments are required: COMMAND" in capsys.readouterr().err


def test_cli012_python_m_reports_without_traceback(tmp_path: Path) -> None:
    file = _write(tmp_path, "bad.json", _layout([_histogram(column="x", binz=3)]))
    done = subprocess.run(
        [sys.executable, "-m", "symphony_dash", "validate", str(file)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stdout.startswith(f"{file}: pages[0].components[0].props: 'binz' is not a parameter of histogram")
    assert "Traceback" not in done.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_cli013_demo_serves_and_prints_its_address() -> None:
    """The installed console script serves the packaged demo; the first run may prepare the data (about 10 s)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "demo", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while (status := _status(url)) is None and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.25)
    finally:
        server.kill()
        output, _ = server.communicate(timeout=30)
    assert status == 200, output
    assert f"open {url} in a web browser" in output
