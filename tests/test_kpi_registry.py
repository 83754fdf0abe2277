"""The KPI registry: built-in families, KPIs a scenario lists, station statistics declared once.

The tiny scenario replays four trucks (minutes 0, 1, 2, 3) through one booth with one server
and a deterministic 10-minute service, so each figure is computed by hand: the trucks start at
0, 10, 20, 30 and clear at 10, 20, 30, 40, so their times in system are 10, 19, 28, 37 minutes
(mean 23.5) and the booth started 4 trucks in one measured day.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import pickle
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from gatesim import (
    RunResult,
    Scenario,
    ScenarioError,
    Station,
    load_plugin,
    load_scenario,
    register_kpi,
    register_station,
    run_experiment,
    simulate,
)
from gatesim.stations import plugins
from gatesim.stations.statistics import BASE_STATISTICS, Metric, with_extra_metrics
from gatesim.stats import registry
from gatesim.stats.kpis import replication_kpis

ROOT = Path(__file__).resolve().parent.parent
BUILT_INS = [
    "throughput",
    "time_in_system",
    "process_time",
    "backlog",
    "sides",
    "stations",
    "costs",
    "trade_value",
    "seasons",
    "impatience",
    "platform",
    "slots",
]


@pytest.fixture(autouse=True)
def own_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test registers into a copy of the registry (the built-ins only), and the plug-ins
    it loads are not passed on to the worker processes of later tests."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(plugins, "_LOADED", list(plugins._LOADED))
    yield


def tiny(kpis: list[str] | None = None, station_type: str = "station", **extra: Any) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "t",
            "days": 1,
            "kpis": kpis or [],
            "nodes": {"src": {"kind": "source"}, "out": {"kind": "sink"}},
            "stations": {
                "booth": {
                    "type": station_type,
                    "service": {"dist": "deterministic", "value": 10},
                },
                **extra,
            },
            "routes": {"r": {"origin": "src", "steps": ["booth", *extra], "destination": "out"}},
            "arrivals": {
                "a": {
                    "lane": "L",
                    "direction": "export",
                    "cargo": "c",
                    "route": "r",
                    "trace": {"times": [0, 1, 2, 3]},
                }
            },
        }
    )


def mean_time_in_system_min(result: RunResult) -> float:
    """Mean time in system (minutes) of the measured trucks."""
    return float(result.time_in_system_min.mean())


# --------------------------------------------------------------------------- the registry
def test_the_built_in_families_are_registered_in_output_order() -> None:
    kpis = registry.registered_kpis()
    assert list(kpis)[: len(BUILT_INS)] == BUILT_INS
    assert all(kpis[name].always and kpis[name].doc for name in BUILT_INS)


def test_replication_kpis_is_the_families_in_order() -> None:
    result = simulate(tiny())
    row: dict[str, float] = {}
    for name in BUILT_INS:
        row.update(registry.registered_kpis()[name].evaluate(result))
    assert list(replication_kpis(result).items()) == list(row.items())
    assert replication_kpis(result)["time_in_system_mean_h"] == pytest.approx(23.5 / 60)


def test_a_scalar_kpi_listed_by_the_scenario_comes_after_the_built_ins() -> None:
    register_kpi("tis_mean_min_test", mean_time_in_system_min, unit="min")
    plain = replication_kpis(simulate(tiny()))
    row = replication_kpis(simulate(tiny(["tis_mean_min_test"])))
    assert list(row)[-1] == "tis_mean_min_test"
    assert row.pop("tis_mean_min_test") == 23.5  # (10 + 19 + 28 + 37) / 4
    assert row == plain
    entry = registry.registered_kpis()["tis_mean_min_test"]
    assert entry.doc == "Mean time in system (minutes) of the measured trucks."


def test_a_family_yields_its_name_and_dotted_breakdowns_only() -> None:
    register_kpi("fam_test", lambda r: {"fam_test": 1.0, "fam_test.L": 2.0})
    assert registry.resolve_kpi("fam_test").evaluate(simulate(tiny())) == {
        "fam_test": 1.0,
        "fam_test.L": 2.0,
    }
    register_kpi("stray_test", lambda r: {"throughput_per_day": 1.0})
    with pytest.raises(ValueError, match=r"must be 'stray_test' or start with 'stray_test\.'"):
        replication_kpis(simulate(tiny(["stray_test"])))


def test_a_taken_name_is_refused_and_the_same_function_is_idempotent() -> None:
    register_kpi("dup_test", mean_time_in_system_min)
    register_kpi("dup_test", mean_time_in_system_min, unit="min")  # a re-imported module
    assert registry.registered_kpis()["dup_test"].unit == "min"
    with pytest.raises(ValueError, match=r"'dup_test' is already registered to .*mean_time"):
        register_kpi("dup_test", lambda r: 0.0)
    with pytest.raises(ValueError, match="already registered"):
        register_kpi("throughput", mean_time_in_system_min)


def test_reloading_the_registering_module_registers_again_without_error() -> None:
    module = load_plugin(ROOT / "examples" / "kpis" / "gate_kpis.py")
    first = registry.registered_kpis()["share_under_12h"].fn
    # Import the same file again as a fresh module (a re-run notebook cell, a re-import).
    spec = importlib.util.spec_from_file_location(module.__name__, module.__file__)
    assert spec is not None and spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    again = registry.registered_kpis()["share_under_12h"]
    assert again.fn is not first and again.fn is fresh.share_under_12h
    assert again.unit == "share"


@pytest.mark.parametrize("name", ["", "1st", "with space", "dotted.name", "x" * 81])
def test_a_kpi_name_is_a_word(name: str) -> None:
    with pytest.raises(ValueError, match="KPI name"):
        register_kpi(name, mean_time_in_system_min)


# --------------------------------------------------------------------------- scenario kpis:
def scenario_file(folder: Path, kpis: str) -> Path:
    text = (ROOT / "examples" / "kpis" / "scenario.yaml").read_text(encoding="utf-8")
    path = folder / "s.yaml"
    path.write_text(text.replace("kpis: [share_under_12h]", f"kpis: {kpis}"), encoding="utf-8")
    return path


def test_an_unknown_kpi_is_one_line_naming_the_file_the_field_and_the_value(
    tmp_path: Path,
) -> None:
    register_kpi("tis_mean_min_test", mean_time_in_system_min)
    path = scenario_file(tmp_path, "[tis_mean_min_tst]")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith(f"{path}: kpis: unknown KPI 'tis_mean_min_tst'")
    assert "did you mean 'tis_mean_min_test'" in line and "known: " in line
    assert line.endswith("(got ['tis_mean_min_tst'])")


@pytest.mark.parametrize(
    ("kpis", "message"),
    [
        ("[throughput]", "KPI 'throughput' is built in"),
        ("[a_test, a_test]", "KPI 'a_test' is listed twice"),
    ],
)
def test_a_built_in_or_repeated_name_is_refused(tmp_path: Path, kpis: str, message: str) -> None:
    register_kpi("a_test", mean_time_in_system_min)
    with pytest.raises(ScenarioError, match=f"s.yaml: kpis: {message}"):
        load_scenario(scenario_file(tmp_path, kpis))


def test_the_cli_refuses_an_unknown_kpi_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "[nobody_registered_this]")
    out = tmp_path / "out"
    done = run_cli(["run", str(path), "--out", str(out)], tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "kpis: unknown KPI" in done.stderr
    assert not out.exists()


def test_an_installed_entry_point_is_a_known_name_and_imported_when_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ep_kpis_test.py").write_text(
        textwrap.dedent(
            '''
            def booth_starts(result):
                """Services started at the booth."""
                return result.stations["booth"]["started"]
            '''
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    point = EntryPoint("booth_starts", "ep_kpis_test:booth_starts", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [point])
    assert "booth_starts" in registry.kpi_names()
    assert "booth_starts" not in registry.registered_kpis()  # not imported yet
    row = replication_kpis(simulate(tiny(["booth_starts"])))
    assert row["booth_starts"] == 4.0
    assert registry.registered_kpis()["booth_starts"].doc == "Services started at the booth."


# --------------------------------------------------------------------------- station statistics
def extending_table() -> list[tuple[str, str, bool, str]]:
    """The base-row table of docs/extending.md: (figure, unit, KPI, meaning)."""
    text = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    start = text.index("| figure | unit | KPI | meaning |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        name, unit, kpi, doc = (cell.strip() for cell in line.strip("|").split("|"))
        assert kpi in ("yes", "no"), line
        rows.append((name.strip("`"), unit, kpi == "yes", doc))
    return rows


def test_the_docs_table_of_the_base_row_is_the_declaration() -> None:
    declared = [(m.name, m.unit, m.kpi, m.doc) for m in BASE_STATISTICS]
    assert extending_table() == declared


def test_the_station_row_and_its_kpis_follow_the_declaration() -> None:
    result = simulate(tiny())
    names = [m.name for m in BASE_STATISTICS]
    assert list(result.stations["booth"]) == names
    kpis = [k.removeprefix("station.booth.") for k in replication_kpis(result) if "booth" in k]
    assert kpis == [m.name for m in BASE_STATISTICS if m.kpi]
    assert result.stations["booth"]["started"] == 4.0


def test_a_row_that_drifts_from_the_declaration_or_an_extra_that_clashes_is_refused() -> None:
    row = {m.name: 0.0 for m in BASE_STATISTICS}
    assert with_extra_metrics(row, {"x": 1.0}, "T") == {**row, "x": 1.0}
    with pytest.raises(RuntimeError, match="differs from BASE_STATISTICS"):
        with_extra_metrics({"servers": 1.0}, {}, "T")
    with pytest.raises(
        ValueError, match=r"T.extra_metrics overrides base statistics \['queue_max'"
    ):
        with_extra_metrics(row, {"queue_max": 1.0}, "T")


@register_station("kpi_test_gauge")
class Gauge(Station):
    """Reports its servers as a gate-wide maximum and a ledger count (declared)."""

    describe = "test type with declared metrics"
    metrics: ClassVar[tuple[Metric, ...]] = (
        Metric("gauge_km", "km", "a length", gate="max"),
        Metric("gauge_count", "trucks", "a count", kpi=False),
    )

    def extra_metrics(self, now: float) -> dict[str, float]:
        return {"gauge_km": float(self.servers), "gauge_count": 1.0, "undeclared": 2.0}


@register_station("kpi_test_crossdock")
class CrossDock(Station):
    describe = "test type whose trucks are transshipped"
    transships: ClassVar[bool] = True


def test_declared_metrics_give_the_gate_wide_maximum_and_leave_ledger_counts_out() -> None:
    second = {
        "type": "kpi_test_gauge",
        "servers": 3,
        "service": {"dist": "deterministic", "value": 1},
    }
    row = replication_kpis(simulate(tiny(station_type="kpi_test_gauge", gauge2=second)))
    assert row["gauge_km"] == 3.0  # max(1 server, 3 servers)
    assert row["station.booth.gauge_km"] == 1.0 and row["station.gauge2.gauge_km"] == 3.0
    assert row["station.booth.undeclared"] == 2.0  # undeclared: a KPI
    assert not any(k.endswith("gauge_count") for k in row)
    assert "spillback_km_max" not in row


def test_the_transshipment_cost_charges_the_types_that_transship() -> None:
    costs = tiny().costs.transshipment_cny_per_truck
    dock = replication_kpis(simulate(tiny(station_type="kpi_test_crossdock")))
    plain = replication_kpis(simulate(tiny()))
    assert dock["transshipment_cny_per_day"] == 4 * costs  # 4 trucks started in 1 day
    assert plain["transshipment_cny_per_day"] == 0.0


# --------------------------------------------------------------------------- docs and workers
def docs_kpi_block() -> str:
    text = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(# gate_kpis\.py\n.*?)```", text, re.DOTALL)
    assert match is not None, "docs/extending.md lost its '# gate_kpis.py' example"
    return match.group(1)


def test_the_docs_kpi_example_runs_and_counts_trucks_within_12_hours(tmp_path: Path) -> None:
    (tmp_path / "docs_gate_kpis.py").write_text(docs_kpi_block(), encoding="utf-8")
    load_plugin(tmp_path / "docs_gate_kpis.py")
    row = replication_kpis(simulate(tiny(["share_under_12h"])))
    assert row["share_under_12h"] == 1.0  # 10 to 37 minutes: all four within 12 h


def test_a_kpi_unknown_in_a_worker_is_the_one_line_error_in_the_parent() -> None:
    register_kpi("tis_mean_min_test", mean_time_in_system_min)
    scenario = tiny(["tis_mean_min_test"]).model_copy(update={"replications": 2})
    del registry._REGISTRY["tis_mean_min_test"]  # as in a worker that never registered it
    with pytest.raises(ScenarioError, match=r"^kpis: unknown KPI 'tis_mean_min_test'"):
        run_experiment(scenario, jobs=2)


def test_a_scenario_error_pickles_as_itself() -> None:
    for error in (ScenarioError(None, "kpis", "m"), ScenarioError("f.yaml", "kpis", "m", ["x"])):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is ScenarioError and str(again) == str(error)


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, str(ROOT / "run_sim.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_plugin_kpi_runs_on_worker_processes_as_in_one(tmp_path: Path) -> None:
    scenario = ROOT / "examples" / "kpis" / "scenario.yaml"
    plugin = ROOT / "examples" / "kpis" / "gate_kpis.py"
    common = ["run", str(scenario), "--plugin", str(plugin), "--days", "3", "-r", "2"]
    serial = run_cli([*common, "--out", str(tmp_path / "serial")], tmp_path)
    assert serial.returncode == 0, serial.stderr
    assert "Extra KPIs" in serial.stdout and "share_under_12h.main.export" in serial.stdout
    workers = run_cli([*common, "--jobs", "2", "--out", str(tmp_path / "jobs")], tmp_path)
    assert workers.returncode == 0, workers.stderr
    tables = [pd.read_csv(tmp_path / d / "replications.csv") for d in ("serial", "jobs")]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert list(tables[0].columns)[-3:] == [
        "share_under_12h",
        "share_under_12h.main.export",
        "share_under_12h.side.export",
    ]
    summary = json.loads((tmp_path / "jobs" / "summary.json").read_text(encoding="utf-8"))
    entry = summary["extra_kpis"]["share_under_12h"]
    assert entry["unit"] == "share" and entry["keys"][0] == "share_under_12h"
    assert not math.isnan(summary["kpis"]["share_under_12h"]["mean"])
    report = run_cli(["report", str(tmp_path / "jobs"), "--plugin", str(plugin)], tmp_path)
    assert report.returncode == 0, report.stderr
    html = (tmp_path / "jobs" / "report.html").read_text(encoding="utf-8")
    assert "Extra KPIs the scenario lists" in html and "share under 12h" in html
