"""Examples are tests, and the extension API works for a station type written outside gatesim.

* Every ``examples/**/*.py`` script with a sibling ``<script stem>.out`` file is run in a
  subprocess as ``python SCRIPT OUT_DIR`` and its stdout must equal the file exactly. To refresh
  an expected output after an intended change: ``python SCRIPT /tmp/x > SCRIPT_STEM.out``.
* The plug-in example of docs/extending.md is written to a temporary module, loaded with
  ``load_plugin`` / ``--plugin FILE``, run, and checked for the one-line parameter errors of
  built-ins.
* The cold-chain bay of examples/coldchain batches exactly as documented, and its package's
  entry point is found without installing it (``entry_points`` patched).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path

import pandas as pd
import pytest
import tomllib

from gatesim import (
    Scenario,
    ScenarioError,
    cli,
    load_plugin,
    load_scenario,
    run_experiment,
    simulate,
    station_types,
)
from gatesim.stations import plugins, registry
from gatesim.stations.plugins import ENTRY_POINT_GROUP

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXAMPLE_TIMEOUT_S = 180
#: Files an example must write into the OUT_DIR it is given.
EXPECTED_FILES = {"notebook_style.py": ["in_system_by_hour.png"]}


def example_scripts() -> list[Path]:
    return sorted(p for p in EXAMPLES.rglob("*.py") if p.with_suffix(".out").is_file())


def run_python(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Only this checkout on the path: the code under test, whatever the venv has installed.
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=EXAMPLE_TIMEOUT_S,
        check=False,
    )


# --------------------------------------------------------------------------- example scripts
def test_examples_are_found() -> None:
    names = {p.relative_to(EXAMPLES).as_posix() for p in example_scripts()}
    assert {"coldchain/run.py", "kpis/run.py", "notebook_style.py"} <= names


def test_every_runnable_example_has_an_expected_output() -> None:
    runnable = [
        p
        for p in EXAMPLES.rglob("*.py")
        if 'if __name__ == "__main__":' in p.read_text(encoding="utf-8")
    ]
    missing = [str(p.relative_to(ROOT)) for p in runnable if not p.with_suffix(".out").is_file()]
    assert not missing, f"examples without an expected-output .out file: {missing}"


@pytest.mark.parametrize(
    "script", example_scripts(), ids=lambda p: p.relative_to(EXAMPLES).as_posix()
)
def test_example_output_is_exactly_as_committed(script: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    done = run_python([str(script), str(out_dir)], cwd=tmp_path)  # any working directory
    assert done.returncode == 0, done.stderr
    expected = script.with_suffix(".out").read_text(encoding="utf-8")
    if done.stdout != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            done.stdout.splitlines(keepends=True),
            fromfile=f"{script.stem}.out (committed)",
            tofile="stdout (now)",
        )
        pytest.fail("example output changed:\n" + "".join(diff))
    for name in EXPECTED_FILES.get(script.name, []):
        written = out_dir / name
        assert written.is_file(), f"{script.name} did not write {name}"
        if name.endswith(".png"):
            assert written.read_bytes().startswith(b"\x89PNG")


# --------------------------------------------------------------------------- a new station type
def extending_example() -> str:
    """The ``# mybays.py`` code block of docs/extending.md."""
    text = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(# mybays\.py\n.*?)```", text, re.DOTALL)
    assert match is not None, "docs/extending.md lost its '# mybays.py' example"
    return match.group(1)


PLUGIN_SCENARIO = """\
name: plugin_test
days: 3
warmup_days: 1
replications: 2
seed: 11
nodes:
  src: {kind: source}
  out: {kind: sink}
stations:
  booth:
    type: busy_booth
    servers: 1
    service: {dist: exponential, mean: 5}
    params: {threshold: 2, slowdown: 1.5, audit_probability: 0.2}
  audit_bay:
    servers: 2
    service: {dist: deterministic, value: 15}
routes:
  r:
    origin: src
    steps:
      - booth
      - branch: audited
        cases: {"yes": [audit_bay]}
        default: []
    destination: out
arrivals:
  a: {lane: L1, direction: export, cargo: goods, route: r, per_day: 250}
"""


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder holding mybays.py (the docs example), loaded with ``load_plugin``, and a
    scenario using its type ``busy_booth``.

    Module-scoped: the plug-in registers ``busy_booth`` when imported, and registering a second,
    re-imported class object under the same name is refused, so it is imported once.
    """
    folder = tmp_path_factory.mktemp("plugins")
    (folder / "mybays.py").write_text(extending_example(), encoding="utf-8")
    (folder / "scenario.yaml").write_text(PLUGIN_SCENARIO, encoding="utf-8")
    load_plugin(folder / "mybays.py")
    yield folder


def test_a_station_type_outside_the_package_runs_once_loaded(plugin_dir: Path) -> None:
    scenario = load_scenario(plugin_dir / "scenario.yaml")
    result = run_experiment(scenario)

    stations = result.station_table()
    booth = stations[stations["station"] == "booth"]
    assert len(booth) == 2
    assert (booth["slowed"] > 0).all()  # extra_metrics: a column of stations.csv
    assert result.summary()["stations"]["booth"]["slowed"] > 0  # and in summary.json
    audited = stations[stations["station"] == "audit_bay"]["arrived"]
    assert (audited > 0).all()  # routes branched on the station's outcome attribute
    assert result.conservation()["arrived"] == sum(
        result.conservation()[k] for k in ("cleared", "lost", "in_system")
    )
    # Same seed, same draws: the run is reproducible.
    again = run_experiment(load_scenario(plugin_dir / "scenario.yaml"))
    pd.testing.assert_frame_equal(again.station_table(), stations)


def test_a_bad_plugin_parameter_fails_at_load_naming_the_field(plugin_dir: Path) -> None:
    path = plugin_dir / "scenario.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides={"stations.booth.params.slowdown": 0.5})
    assert caught.value.field == "stations.booth.params.slowdown"
    assert str(caught.value).startswith(f"{path}: stations.booth.params.slowdown: ")


ERROR_LINE = re.compile(
    r"^error: (?P<file>.+?): stations\.(?P<station>\w+)\.params\.(?P<field>\w+): "
    r"(?P<message>.+) \(got (?P<value>.+)\)$"
)


def validate(
    path: Path, plugin: Path | None = None, allow: Path | None = None
) -> tuple[int, list[str], str]:
    flags = ["--plugin", str(plugin)] if plugin is not None else []
    flags += ["--allow-path", str(allow)] if allow is not None else []
    done = run_python(["run_sim.py", "validate", str(path), *flags], cwd=ROOT)
    return done.returncode, done.stderr.splitlines(), done.stdout


def test_cli_validates_a_plugin_scenario_and_rejects_a_bad_parameter_like_a_builtin(
    plugin_dir: Path,
) -> None:
    bad = plugin_dir / "bad.yaml"
    bad.write_text(PLUGIN_SCENARIO.replace("threshold: 2", "threshold: -1"), encoding="utf-8")
    code, err, out = validate(bad, plugin_dir / "mybays.py")
    assert code == 2 and out == ""
    assert len(err) == 1, err
    plugin = ERROR_LINE.match(err[0])
    assert plugin is not None, err[0]
    assert (plugin["file"], plugin["station"], plugin["field"]) == (str(bad), "booth", "threshold")

    # A built-in type's bad parameter reads the same way.
    builtin = plugin_dir / "bad_builtin.yaml"
    builtin.write_text(
        f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: bad_builtin\n"
        "stations:\n  hn_vn_quarantine:\n    params: {hold_probability: -1}\n",
        encoding="utf-8",
    )
    code, err, _ = validate(builtin, allow=ROOT / "scenarios")
    assert code == 2 and len(err) == 1, err
    reference = ERROR_LINE.match(err[0])
    assert reference is not None, err[0]
    assert reference["field"] == "hold_probability"
    assert plugin["message"] == reference["message"]  # pydantic's wording for "ge=0", both


def test_unknown_plugin_parameters_get_the_builtin_hint(plugin_dir: Path) -> None:
    bad = plugin_dir / "typo.yaml"
    bad.write_text(PLUGIN_SCENARIO.replace("threshold: 2", "treshold: 2"), encoding="utf-8")
    code, err, _ = validate(bad, plugin_dir / "mybays.py")
    assert code == 2 and len(err) == 1, err
    assert err[0] == (
        f"error: {bad}: stations.booth.params.treshold: unknown parameter 'treshold' "
        "(did you mean 'threshold'?) (got 2)"
    )


def test_without_the_plugin_the_type_is_a_one_line_error(plugin_dir: Path) -> None:
    code, err, _ = validate(plugin_dir / "scenario.yaml")  # no --plugin
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(
        f"error: {plugin_dir / 'scenario.yaml'}: stations.booth.type: "
        "unknown station type 'busy_booth'; known: acceptance, agv_crossing, "
    )
    assert err[0].endswith(
        "(plug-in types come from installed packages or --plugin MODULE_OR_FILE)"
    )


@pytest.mark.parametrize("executor", [["--jobs", "2"], ["--dask", "local", "--jobs", "2"]])
def test_the_cli_runs_a_plugin_file_on_worker_processes(
    plugin_dir: Path, tmp_path: Path, executor: list[str]
) -> None:
    """``--plugin FILE`` reaches workers that do not inherit the parent's imports (Dask's
    spawned workers) and those that do (a forked pool)."""
    out = tmp_path / "run"
    scenario = str(plugin_dir / "scenario.yaml")
    plugin = ["--plugin", str(plugin_dir / "mybays.py")]
    done = run_python(
        ["run_sim.py", "run", scenario, "--out", str(out), *executor, *plugin], cwd=ROOT
    )
    assert done.returncode == 0, done.stderr  # loaded (validated) in the CLI, run on 2 workers
    stations = pd.read_csv(out / "stations.csv")
    assert "slowed" in stations.columns
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["stations"]["booth"]["slowed"] > 0


# --------------------------------------------------------------------------- the cold-chain bay
@pytest.fixture
def coldchain_path() -> None:
    load_plugin(EXAMPLES / "coldchain" / "coldchain_bays.py")


def bay_scenario(times: Sequence[float], servers: int, **params: float) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "bay",
            "days": 1,
            "records": {"visits": True},
            "nodes": {"src": {"kind": "source"}, "out": {"kind": "sink"}},
            "stations": {
                "bay": {
                    "type": "cold_chain_bay",
                    "servers": servers,
                    "service": {"dist": "deterministic", "value": 10},
                    "params": params,
                }
            },
            "routes": {"r": {"origin": "src", "steps": ["bay"], "destination": "out"}},
            "arrivals": {
                "a": {
                    "lane": "L",
                    "direction": "export",
                    "cargo": "reefer",
                    "route": "r",
                    "trace": {"times": list(times)},
                }
            },
        }
    )


@pytest.mark.usefixtures("coldchain_path")
def test_the_cold_chain_bay_starts_full_batches_at_once_and_partial_ones_at_max_wait() -> None:
    times = [0, 5, 10, 100, 200, 210, 300, 301, 302, 303]
    result = simulate(bay_scenario(times, servers=2, batch_size=3, max_wait=60))
    assert result.visits is not None
    starts = {truck: start for truck, _station, _arrive, start, _end in result.visits}
    assert [starts[t] for t in range(len(times))] == [
        10, 10, 20,  # full batch when the third truck arrives; two positions, so 20 for one
        160,  # alone: released after max_wait
        260, 260,  # two trucks: released at the first one's max_wait
        302, 302, 312,  # full batch at 302
        363,  # arrived while the batch was starting: waits for its own max_wait
    ]  # fmt: skip
    stats = result.stations["bay"]
    assert (stats["batches_full"], stats["batches_timeout"]) == (2, 3)
    assert stats["batch_size_mean"] == pytest.approx(10 / 5)


@pytest.mark.usefixtures("coldchain_path")
def test_the_cold_chain_bay_with_batch_size_one_is_a_plain_station() -> None:
    result = simulate(bay_scenario([0, 5, 6, 40], servers=1, batch_size=1, max_wait=0))
    assert result.visits is not None
    assert [v[3] for v in sorted(result.visits)] == [0, 10, 20, 40]


@pytest.mark.usefixtures("coldchain_path")
def test_the_cold_chain_bay_validates_its_params_like_a_builtin() -> None:
    path = EXAMPLES / "coldchain" / "scenario.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides={"stations.cold_bay.params.max_wait": 0})
    assert caught.value.field == "stations.cold_bay.params"
    assert "max_wait must be > 0" in caught.value.message


# --------------------------------------------------------------------------- the example package
COLDCHAIN = EXAMPLES / "coldchain"


def coldchain_entry_points() -> list[EntryPoint]:
    """The entry points examples/coldchain/pyproject.toml declares, as installing it would."""
    project = tomllib.loads((COLDCHAIN / "pyproject.toml").read_text(encoding="utf-8"))
    declared = project["project"]["entry-points"][ENTRY_POINT_GROUP]
    return [EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in declared.items()]


@pytest.fixture
def coldchain_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example package as if pip-installed: its folder importable, its entry points listed,
    and neither its module nor its type known yet in this process."""
    monkeypatch.syspath_prepend(str(COLDCHAIN))
    monkeypatch.delitem(sys.modules, "coldchain_bays", raising=False)
    monkeypatch.setattr(registry, "_REGISTRY", {**registry._REGISTRY})
    registry._REGISTRY.pop("cold_chain_bay", None)
    points = coldchain_entry_points()
    monkeypatch.setattr(
        plugins, "entry_points", lambda group: points if group == ENTRY_POINT_GROUP else []
    )


@pytest.mark.usefixtures("coldchain_installed")
def test_an_installed_entry_point_is_imported_only_when_a_scenario_names_its_type() -> None:
    assert [p.name for p in coldchain_entry_points()] == ["cold_chain_bay"]
    assert "coldchain_bays" not in sys.modules
    scenario = load_scenario(COLDCHAIN / "scenario.yaml")
    assert scenario.stations["cold_bay"].type == "cold_chain_bay"
    cls = station_types()["cold_chain_bay"]
    assert (cls.__module__, cls.__name__) == ("coldchain_bays", "ColdChainBay")


@pytest.mark.usefixtures("coldchain_installed")
def test_the_cli_finds_an_installed_type_without_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", str(COLDCHAIN / "scenario.yaml")]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"{COLDCHAIN / 'scenario.yaml'}: OK (coldchain_example: 4 stations, 2 arrival streams, "
        "1 routes)\n"
    )
    assert cli.main(["types"]) == 0
    assert "cold_chain_bay" in capsys.readouterr().out


def test_a_broken_installed_plugin_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = [EntryPoint("broken_bay", "no_such_module_here:Bay", ENTRY_POINT_GROUP)]
    monkeypatch.setattr(plugins, "entry_points", lambda group: broken)
    with pytest.raises(ScenarioError) as caught:
        registry.resolve_station_type("broken_bay", "stations.x.type")
    assert str(caught.value) == (
        "stations.x.type: installed plug-in 'no_such_module_here:Bay' cannot be imported: "
        "ModuleNotFoundError: No module named 'no_such_module_here'"
    )


def test_the_example_validates_with_plugin_file_on_the_command_line() -> None:
    scenario = COLDCHAIN / "scenario.yaml"
    done = run_python(
        ["run_sim.py", "validate", str(scenario), "--plugin", str(COLDCHAIN / "coldchain_bays.py")],
        cwd=ROOT,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        f"{scenario}: OK (coldchain_example: 4 stations, 2 arrival streams, 1 routes)\n"
    )
    without = run_python(["run_sim.py", "validate", str(scenario)], cwd=ROOT)
    assert without.returncode == 2
    assert without.stderr.startswith(
        f"error: {scenario}: stations.cold_bay.type: unknown station type 'cold_chain_bay'; "
    )
