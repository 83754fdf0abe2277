"""Run the KPI example: a gate-wide KPI registered outside gatesim, checked by hand.

    .venv/bin/python examples/kpis/run.py

``gate_kpis.py`` registers ``share_under_12h`` with ``register_kpi``; the scenario lists it in
``kpis:``. The script runs the scenario and recomputes the figure of every replication from
the per-truck records (trucks that arrived after the warm-up and cleared: cleared_min -
created_min <= 720). On the command line the same run is
``run_sim.py run examples/kpis/scenario.yaml --plugin examples/kpis/gate_kpis.py``.
Only rounded, seed-determined numbers are printed (``run.out`` holds them).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from gatesim import load_plugin, load_scenario, run_experiment

HERE = Path(__file__).resolve().parent


def by_hand(trucks: pd.DataFrame, warmup_min: float) -> dict[int, float]:
    """share_under_12h per replication from the truck records alone."""
    measured = trucks[(trucks["created_min"] >= warmup_min) & (trucks["outcome"] == "cleared")]
    hours = (measured["cleared_min"] - measured["created_min"]) / 60.0
    return {int(r): float((h <= 12.0).mean()) for r, h in hours.groupby(measured["replication"])}


def main() -> None:
    load_plugin(HERE / "gate_kpis.py")  # registers share_under_12h (like --plugin FILE)
    scenario = load_scenario(HERE / "scenario.yaml")
    print(f"scenario {scenario.name}: kpis {scenario.kpis}")
    result = run_experiment(scenario)
    summary = result.summary()
    print(f"extra_kpis: {summary['extra_kpis']['share_under_12h']['keys']}")
    trucks = result.trucks_table()
    assert trucks is not None
    hand = by_hand(trucks, scenario.warmup_days * 1440.0)
    for outcome in result.outcomes:
        kpi = outcome.kpis["share_under_12h"]
        mine = hand[outcome.replication]
        agree = math.isclose(kpi, mine, rel_tol=0, abs_tol=1e-12)
        print(f"replication {outcome.replication}: KPI {kpi:.4f}  by hand {mine:.4f}  {agree}")
    for key in summary["extra_kpis"]["share_under_12h"]["keys"]:
        stat = summary["kpis"][key]
        lo, hi = stat["ci95"]
        print(f"{key:30s} {stat['mean']:.3f} [{lo:.3f}, {hi:.3f}]")


if __name__ == "__main__":
    main()
