"""Run the cold-chain example: a station type defined outside gatesim, loaded as a plug-in.

    .venv/bin/python examples/coldchain/run.py

The scenario says ``type: cold_chain_bay``. A scenario file never imports code, so this script
loads the plug-in explicitly with ``load_plugin`` first. On the command line the same is
``--plugin examples/coldchain/coldchain_bays.py``, or no flag at all once the package is
installed (``pip install examples/coldchain``: its entry point registers the type).
Only rounded, seed-determined numbers are printed, so the output is exactly reproducible
(``run.out`` holds it and ``tests/test_examples.py`` compares it).
"""

from __future__ import annotations

from pathlib import Path

from gatesim import ExperimentResult, load_plugin, load_scenario, run_experiment, station_types

HERE = Path(__file__).resolve().parent

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
    load_plugin(HERE / "coldchain_bays.py")  # registers cold_chain_bay (like --plugin FILE)
    path = HERE / "scenario.yaml"
    scenario = load_scenario(path)  # validates the bay's params
    print(f"scenario {scenario.name}: {scenario.days} days, warm-up {scenario.warmup_days:g} d")
    registered = "cold_chain_bay" in station_types()
    print(f"'cold_chain_bay' registered by the plug-in: {registered}")
    report("batches of 4, max wait 60 min", run_experiment(scenario))

    # The same trucks (same seed: common random numbers) without batching.
    single = load_scenario(path, overrides={"stations.cold_bay.params.batch_size": 1})
    report("no batching (batch_size 1)", run_experiment(single))


if __name__ == "__main__":
    main()
