"""The bare-SimPy twin's benchmark scenario is the current baseline, reduced as documented."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

from gatesim.model.loading import load_scenario

ROOT = Path(__file__).resolve().parent.parent
DERIVE = ROOT / "benchmarks" / "derive_baseline_24h.py"


def derive_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("derive_baseline_24h", DERIVE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_benchmark_scenario_is_derived_from_the_current_baseline() -> None:
    derive = derive_module()
    baseline = yaml.safe_load(derive.BASELINE.read_text(encoding="utf-8"))
    committed = yaml.safe_load(derive.TARGET.read_text(encoding="utf-8"))
    assert committed == derive.twin_baseline(baseline), (
        "run .venv/bin/python benchmarks/derive_baseline_24h.py"
    )


def test_benchmark_scenario_has_only_what_the_twin_models() -> None:
    derive = derive_module()
    scenario = load_scenario(derive.TARGET)
    assert not any(s.type == "acceptance" for s in scenario.stations.values())
    assert all(s.returns is None for s in scenario.arrivals.values())
    tree = yaml.safe_load(derive.TARGET.read_text(encoding="utf-8"))
    assert all(c == {"hours": [["00:00", "24:00"]]} for c in tree["calendars"].values())
    baseline = load_scenario(derive.BASELINE)
    kept = set(baseline.stations) - {
        n for n, s in baseline.stations.items() if s.type == "acceptance"
    }
    assert set(scenario.stations) == kept
