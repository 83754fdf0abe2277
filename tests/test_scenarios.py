"""Shipped scenario files: every one loads and runs; the baseline lands in its calibrated range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gatesim.core.errors import ScenarioError
from gatesim.model.engine import simulate
from gatesim.model.loading import load_scenario
from gatesim.stats.kpis import replication_kpis

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))


def test_there_are_scenarios() -> None:
    assert SCENARIOS / "baseline.yaml" in FILES


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_loads_and_runs_two_days(path: Path) -> None:
    scenario = load_scenario(path, {"days": 2, "warmup_days": 0, "replications": 1})
    assert scenario.days == 2 and scenario.replications == 1
    result = simulate(scenario)  # raises ConservationError if a truck leaks
    totals = result.conservation()
    assert totals["arrived"] > 0
    responded = totals.get("diverted", 0) + totals.get("deferred_owed", 0)  # with a platform
    assert totals["arrived"] == totals["cleared"] + totals["lost"] + totals["in_system"] + responded
    assert set(result.station_gaps.values()) == {0}
    assert totals["cleared"] > 0
    kpis = replication_kpis(result)
    # a season the two days miss has no measured days: its KPIs are NaN by definition
    throughput = {k: v for k, v in kpis.items() if k.startswith("throughput_per_day")}
    assert all(np.isfinite(v) for k, v in throughput.items() if ".season." not in k)


@pytest.fixture(scope="module")
def baseline_kpis() -> dict[str, float]:
    scenario = load_scenario(SCENARIOS / "baseline.yaml", {"days": 10})
    assert scenario.warmup_days < 10
    return replication_kpis(simulate(scenario))


@pytest.mark.parametrize(
    ("lane", "low", "high"),
    [("1119-1120", 650.0, 850.0), ("1088/2-1089", 280.0, 420.0)],
)
def test_baseline_throughput_in_calibrated_range(
    baseline_kpis: dict[str, float], lane: str, low: float, high: float
) -> None:
    value = baseline_kpis[f"throughput_per_day.{lane}"]
    assert low <= value <= high, f"{lane}: {value:.1f} trucks/day"


def test_baseline_other_kpis_plausible(baseline_kpis: dict[str, float]) -> None:
    lanes = (
        baseline_kpis["throughput_per_day.1119-1120"]
        + baseline_kpis["throughput_per_day.1088/2-1089"]
    )
    assert baseline_kpis["throughput_per_day"] == pytest.approx(lanes)
    assert 0.0 < baseline_kpis["time_in_system_mean_h"] < 72.0
    assert baseline_kpis["time_in_system_mean_h"] <= baseline_kpis["time_in_system_p95_h"]
    assert baseline_kpis["backlog_end"] >= 0.0


def test_set_reaches_a_section_the_file_leaves_at_its_defaults() -> None:
    baseline = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
    assert "records" not in baseline.read_text(encoding="utf-8")
    scenario = load_scenario(baseline, {"records.trucks": False, "costs.co2_kg_per_l": 3.0})
    assert scenario.records.trucks is False and scenario.costs.co2_kg_per_l == 3.0
    with pytest.raises(ScenarioError, match=r"records\.truks: unknown field 'truks'"):
        load_scenario(baseline, {"records.truks": False})
    with pytest.raises(ScenarioError, match=r"recrds: no such field 'recrds'"):
        load_scenario(baseline, {"recrds.trucks": False})
