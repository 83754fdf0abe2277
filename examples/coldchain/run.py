"""Run the cold-chain example: a station type defined outside gatesim, used by dotted path.

    .venv/bin/python examples/coldchain/run.py

The scenario says ``type: bays:ColdChainBay``; gatesim imports ``bays`` while loading it, so
this script first puts its own folder on ``sys.path``. Elsewhere, install your package or set
``PYTHONPATH``, e.g.
``PYTHONPATH=examples/coldchain python run_sim.py examples/coldchain/scenario.yaml``.
Only rounded, seed-determined numbers are printed, so the output is exactly reproducible
(``run.out`` holds it and ``tests/test_examples.py`` compares it).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # makes `bays` importable for `type: bays:ColdChainBay`

from gatesim import ExperimentResult, load_scenario, run_experiment, station_types  # noqa: E402

# Statistics every station reports, then the bay's own extra_metrics.
BAY_METRICS = (
    "utilization",
    "wait_mean_min",
    "batches_full",
    "batches_timeout",
    "batch_size_mean",
    "resampled",
)


def report(label: str, result: ExperimentResult) -> None:
    kpis = result.kpi_summary(["throughput_per_day", "time_in_system_mean_h"])
    print(f"--- {label} ({len(result.outcomes)} replications)")
    for name, stat in kpis.items():
        lo, hi = stat["ci95"]
        print(f"{name:26s} {stat['mean']:8.2f}  [{lo:.2f}, {hi:.2f}]")
    # The bay's extra_metrics are columns of the station table (stations.csv) and keys of the
    # "stations" block of summary.json, next to the statistics every station reports.
    bay = result.station_summary()["cold_bay"]
    for key in BAY_METRICS:
        print(f"cold_bay.{key:17s} {bay[key]:8.2f}")
    print(f"conservation: {result.conservation()}")


def main() -> None:
    path = HERE / "scenario.yaml"
    scenario = load_scenario(path)  # imports bays.py and validates the bay's params
    print(f"scenario {scenario.name}: {scenario.days} days, warm-up {scenario.warmup_days:g} d")
    registered = "cold_chain_bay" in station_types()
    print(f"short name 'cold_chain_bay' registered by importing bays.py: {registered}")
    report("batches of 4, max wait 60 min", run_experiment(scenario))

    # The same trucks (same seed: common random numbers) without batching.
    single = load_scenario(path, overrides={"stations.cold_bay.params.batch_size": 1})
    report("no batching (batch_size 1)", run_experiment(single))


if __name__ == "__main__":
    main()
