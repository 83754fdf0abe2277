"""Notebook-style use of gatesim from Python: load, edit, compare with paired CIs, plot.

    .venv/bin/python examples/notebook_style.py [OUT_DIR]

Each block below is what one notebook cell would hold. The plot goes to OUT_DIR (default: a new
temporary folder); the matplotlib ``Agg`` backend renders it without a display. Only rounded,
seed-determined numbers are printed (``notebook_style.out`` holds the expected output).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed; must come before pyplot is imported

import matplotlib.pyplot as plt
import pandas as pd

from gatesim import ExperimentResult, Scenario, compare, load_scenario

ROOT = Path(__file__).resolve().parent.parent
KPIS = [
    "throughput_per_day",
    "throughput_per_day.1119-1120.export",
    "time_in_system_mean_h",
    "time_in_system_mean_h.1119-1120.export",
    "backlog_at_report_mean",
    "station.hn_vn_exp_staging.utilization",
    "station.hn_vn_exp_staging.queue_mean",
]


def two_export_lanes(base: Scenario) -> Scenario:
    """A what-if edited in Python: dispatch exports of 1119-1120 on two lanes instead of one.

    Scenarios are frozen, so an edit is a copy. ``model_copy(update=...)`` does not validate;
    for validated edits pass dotted paths to ``load_scenario(path, overrides={...})`` instead,
    as done for the run length in ``main``.
    """
    staging = base.stations["hn_vn_exp_staging"]
    stations = {**base.stations, "hn_vn_exp_staging": staging.model_copy(update={"servers": 2})}
    return base.model_copy(update={"name": "two_export_lanes", "stations": stations})


def main(out_dir: Path) -> None:
    # --- cell 1: load the baseline, shortened to 3 days (1 warm-up) and 3 replications
    base = load_scenario(
        ROOT / "scenarios" / "baseline.yaml",
        overrides={"days": 3, "warmup_days": 1, "replications": 3},
    )
    variant = two_export_lanes(base)
    print(f"{base.name}: {base.days} days, {base.replications} replications, seed {base.seed}")
    lanes = [s.stations["hn_vn_exp_staging"].servers for s in (base, variant)]
    print(f"export dispatch lanes on 1119-1120: {lanes[0]} -> {lanes[1]}")

    # --- cell 2: compare both; replication r of each shares its random numbers (same seed)
    comparison = compare([base, variant])
    results: dict[str, ExperimentResult] = dict(
        zip(["baseline", "two_lanes"], comparison.results, strict=True)
    )

    # --- cell 3: one row per replication and KPI column, for each scenario
    tables = {name: result.kpi_table()[KPIS] for name, result in results.items()}
    print("\nper replication, baseline:")
    print(tables["baseline"].T.round(2).to_string())

    # --- cell 4: means side by side, and the paired (same-replication) difference with its
    # 95 % t-interval over the replications (two_lanes - baseline)
    means = pd.DataFrame({name: table.mean() for name, table in tables.items()})
    paired = comparison.differences().set_index("kpi").loc[KPIS, ["mean", "lo", "hi"]]
    means[["difference", "diff_lo", "diff_hi"]] = paired.to_numpy()
    print("\nmeans over replications, paired difference with 95 % CI:")
    print(means.round(2).to_string())

    # --- cell 5: the station table (one row per replication and station)
    stations = pd.concat(
        {name: result.station_table() for name, result in results.items()}, names=["scenario"]
    ).reset_index(level=0)
    yards = stations[stations["station"].str.endswith("_staging")]
    print("\nstaging yards, mean over replications:")
    columns = ["utilization", "wait_mean_min", "queue_max"]
    by_yard = yards.groupby(["station", "scenario"], as_index=False)[columns].mean()
    print(by_yard.round(2).to_string(index=False))

    # --- cell 6: a plot of trucks in the system by hour of day, saved as PNG
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, result in results.items():
        hourly = result.hourly_summary()
        ax.plot(hourly["hour"], hourly["in_system_mean"], marker="o", label=name)
        ax.fill_between(hourly["hour"], hourly["in_system_lo"], hourly["in_system_hi"], alpha=0.2)
    ax.set_xlabel("hour of day (VN time)")
    ax.set_ylabel("trucks in the system")
    ax.legend()
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_dir / "in_system_by_hour.png", dpi=80)
    plt.close(fig)
    print("\nwrote in_system_by_hour.png")  # the folder is not printed: it varies between runs


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="gatesim-")))
