"""A scenario file is data: it never runs code and reads only inside its own folder tree.

docs/security.md promises: ``type:`` names only registered station types (a module path is an
unknown name, not an import); ``extends:`` and ``csv:`` resolve, after symlinks, inside the
folder tree of the top scenario file or a folder given with ``--allow-path``; a refused path is
one line naming the file, the field and the value as written, and the outside file is never
opened, so none of its content can be echoed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import TINY_YAML as GOOD
from test_hardening import one_line_error, run, tree

from gatesim import ScenarioError, load_scenario
from gatesim.scenario.loader import allowed_folders

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = "outside the scenario's folder tree (allow it with --allow-path DIR)"
SECRET_YAML = "name: SUPERSECRET_TOKEN_123\n"
SECRET_CSV = "time_min\nDB_PASSWORD=hunter2\n"


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """``tmp/project/`` holds the scenarios; ``tmp/private/`` holds files they must not read."""
    (tmp_path / "project" / "parts").mkdir(parents=True)
    private = tmp_path / "private"
    private.mkdir()
    (private / "secret.yaml").write_text(SECRET_YAML, encoding="utf-8")
    (private / "secret.csv").write_text(SECRET_CSV, encoding="utf-8")
    (private / "base.yaml").write_text(GOOD, encoding="utf-8")
    (private / "times.csv").write_text("time_min\n0\n10\n", encoding="utf-8")
    return tmp_path / "project"


def scenario_file(folder: Path, text: str, name: str = "s.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def extending(ref: str) -> str:
    return f"extends: {ref!r}\nname: child\n"


def tracing(ref: str) -> str:
    return GOOD.replace("per_day: 100", f"trace: {{csv: {ref!r}}}")


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        (extending("../private/secret.yaml"), "extends", "../private/secret.yaml"),
        (extending("parts/../../private/secret.yaml"), "extends", "../private/secret.yaml"),
        (extending("../private/missing.yaml"), "extends", "missing.yaml"),  # not even probed
        (tracing("../private/secret.csv"), "arrivals.a.trace.csv", "secret.csv"),
        (tracing("/etc/hostname.csv"), "arrivals.a.trace.csv", "/etc/hostname.csv"),
    ],
)
def test_a_path_leaving_the_folder_tree_is_one_line_naming_file_field_and_value(
    layout: Path, text: str, field: str, value: str
) -> None:
    path = scenario_file(layout, text)
    before = tree(layout.parent)
    line = one_line_error(run("validate", path), str(path), field, OUTSIDE, value)
    assert "SUPERSECRET" not in line and "hunter2" not in line
    assert tree(layout.parent) == before


def test_an_absolute_path_outside_is_refused_and_allowed_with_allow_path(layout: Path) -> None:
    base = layout.parent / "private" / "base.yaml"
    path = scenario_file(layout, extending(str(base)))
    line = one_line_error(run("validate", path), f"{path}: extends: {OUTSIDE}")
    assert line.endswith("/private/base.yaml')")  # the value, cut in the middle if long
    done = run("validate", path, "--allow-path", layout.parent / "private")
    assert (done.code, done.stderr) == (0, "")
    assert done.stdout == f"{path}: OK (child: 1 stations, 1 arrival streams, 1 routes)\n"


def test_a_symlink_inside_the_tree_pointing_outside_is_refused(layout: Path) -> None:
    (layout / "parts" / "link.yaml").symlink_to(layout.parent / "private" / "secret.yaml")
    (layout / "parts" / "times.csv").symlink_to(layout.parent / "private" / "secret.csv")
    for text, field in ((extending("parts/link.yaml"), "extends"),
                        (tracing("parts/times.csv"), "arrivals.a.trace.csv")):  # fmt: skip
        line = one_line_error(run("validate", scenario_file(layout, text)), field, OUTSIDE)
        assert "SUPERSECRET" not in line and "hunter2" not in line


def test_a_symlinked_folder_inside_the_tree_pointing_outside_is_refused(layout: Path) -> None:
    (layout / "shared").symlink_to(layout.parent / "private", target_is_directory=True)
    path = scenario_file(layout, extending("shared/base.yaml"))
    one_line_error(run("validate", path), "extends", OUTSIDE, "shared/base.yaml")


def test_the_tree_is_the_top_files_so_a_base_in_a_subfolder_may_reach_its_parent(
    layout: Path,
) -> None:
    """``parts/mid.yaml`` extends ``../base.yaml``: outside its own folder but inside the tree
    of the top file, so allowed; the same base seen from ``parts/`` as the top file is not."""
    scenario_file(layout, GOOD, "base.yaml")
    scenario_file(layout / "parts", "extends: ../base.yaml\nseed: 9\n", "mid.yaml")
    top = scenario_file(layout, "extends: parts/mid.yaml\nname: top\n")
    assert load_scenario(top).seed == 9
    with pytest.raises(ScenarioError) as caught:
        load_scenario(layout / "parts" / "mid.yaml")
    assert str(caught.value) == (
        f"{layout / 'parts' / 'mid.yaml'}: extends: {OUTSIDE} (got '../base.yaml')"
    )


def test_allowed_folders_cover_csv_files_and_bases_that_read_their_own_folder(
    layout: Path,
) -> None:
    private = layout.parent / "private"
    (private / "traced.yaml").write_text(tracing("times.csv"), encoding="utf-8")
    path = scenario_file(layout, extending("../private/traced.yaml"))
    with pytest.raises(ScenarioError):
        load_scenario(path)
    scenario = load_scenario(path, allow_paths=[private])
    assert scenario.arrivals["a"].trace is not None
    assert list(scenario.arrivals["a"].trace.times) == [0.0, 10.0]
    with allowed_folders([private]):  # the context the CLI uses for --allow-path
        assert load_scenario(path).name == "child"


def test_an_allow_path_that_is_not_a_folder_is_one_line(layout: Path) -> None:
    path = scenario_file(layout, GOOD)
    one_line_error(run("validate", path, "--allow-path", layout / "nope"), "--allow-path",
                   "folder not found", "nope")  # fmt: skip
    one_line_error(run("run", path, "--allow-path", path), "--allow-path", "not a folder")


# --------------------------------------------------------------------------- no code from a file
def planted(folder: Path) -> Path:
    """A module beside the scenario that leaves a marker file when imported."""
    marker = folder / "IMPORTED"
    (folder / "planted.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "from gatesim import Station\nclass Bay(Station):\n    pass\n",
        encoding="utf-8",
    )
    return marker


@pytest.mark.parametrize("type_name", ["planted:Bay", "planted.Bay", "this:X", "antigravity:X"])
def test_a_module_path_in_type_is_an_unknown_name_and_imports_nothing(
    tmp_path: Path, type_name: str
) -> None:
    marker = planted(tmp_path)
    path = scenario_file(tmp_path, GOOD.replace("servers: 1,", f"type: {type_name!r}, servers: 1,"))
    done = subprocess.run(
        [sys.executable, str(ROOT / "run_sim.py"), "validate", "s.yaml"],
        cwd=tmp_path,  # the planted module is in the working folder
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr.startswith(
        f"error: s.yaml: stations.s1.type: unknown station type {type_name!r}; "
        "known: acceptance, agv_crossing, "
    )
    assert done.stderr.count("\n") == 1
    assert not marker.exists()
    assert path.is_file()


def test_load_scenario_from_python_imports_nothing_from_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = planted(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = scenario_file(tmp_path, GOOD.replace("servers: 1,", "type: planted:Bay, servers: 1,"))
    with pytest.raises(ScenarioError, match="unknown station type 'planted:Bay'"):
        load_scenario(path)
    assert not marker.exists() and "planted" not in sys.modules


def test_plugin_named_on_the_command_line_is_the_explicit_way(tmp_path: Path) -> None:
    marker = planted(tmp_path)
    (tmp_path / "planted.py").write_text(
        (tmp_path / "planted.py").read_text(encoding="utf-8")
        + "from gatesim import register_station\nregister_station('planted_bay')(Bay)\n",
        encoding="utf-8",
    )
    path = scenario_file(tmp_path, GOOD.replace("servers: 1,", "type: planted_bay, servers: 1,"))
    done = run("validate", path, "--plugin", tmp_path / "planted.py")
    assert (done.code, done.stderr) == (0, ""), done.stderr
    assert marker.read_text(encoding="utf-8") == "ran"


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        ("no_such_plugin_module", "--plugin: cannot import: ModuleNotFoundError: "),
        ("missing/bays.py", "--plugin: file not found (got 'missing/bays.py')"),
        ("", "--plugin: expected a module name or a .py file (got '')"),
        ("bays.txt/", "--plugin: a plug-in file must end in .py"),
    ],
)
def test_a_bad_plugin_argument_is_one_line(tmp_path: Path, plugin: str, message: str) -> None:
    path = scenario_file(tmp_path, GOOD)
    one_line_error(run("validate", path, "--plugin", plugin), message)


def test_a_plugin_that_fails_on_import_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    line = one_line_error(run("types", "--plugin", tmp_path / "broken.py"))
    assert line == (
        f"error: --plugin: cannot load: RuntimeError: boom (got {str(tmp_path / 'broken.py')!r})"
    )
