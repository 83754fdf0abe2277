"""Regenerate docs/plots/*.png: one example of every figure type, from the shipped scenarios.

    .venv/bin/python scripts/make_doc_plots.py [--days 8] [--replications 3] [--jobs 2]
                                               [--work DIR] [--reuse]

Runs two short studies through the ordinary CLI (a compare of four scenarios with their
capacities, a sweep of the
AGV fleet on 1119-1120 under 2027 demand), then draws the figures from their result files with
``gatesim.report.plots`` - the same functions the HTML report uses. Short horizons: the
figures show what the plots look like, not final numbers (docs/scenarios.md has those).
About two to four minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gatesim.report import html, plots  # noqa: E402
from gatesim.report.network_layout import read_network_tables  # noqa: E402
from gatesim.report.network_plot import network_figure  # noqa: E402

COMPARE = ["baseline", "s2_preclearance_24h", "s4_full_smart_gate", "s5_peak_season_stress"]
NETWORK = "s5_peak_season_stress"  # doubled exports: the VN export yard spills back
SWEEP_SCENARIO = "s4_2027_expanded"
SWEEP_FIELD = "stations.hn_agv.servers"
SWEEP_VALUES = "10,20,30,40"
TARGETS = {"throughput_per_day.1119-1120": 2000.0}  # 2027 target, domain.md row 7
DPI = 90


def cli(*args: str) -> None:
    command = [sys.executable, str(ROOT / "run_sim.py"), *args]
    print("+", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def save(fig: plots.Figure, out: Path, name: str) -> None:
    (path,) = plots.save_figure(fig, out / name, formats=("png",), dpi=DPI)
    print(
        f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
        f" ({path.stat().st_size / 1024:.0f} KB)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=8)  # capacity needs 5 measured days
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--replications", "-r", type=int, default=3)
    parser.add_argument("--jobs", "-j", type=int, default=2)
    parser.add_argument("--work", type=Path, help="folder for the result folders (default: temp)")
    parser.add_argument("--reuse", action="store_true", help="reuse result folders in --work")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "plots")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="gatesim-docplots-"))
    common = [
        "--days", str(args.days), "--warmup", str(args.warmup), "-r", str(args.replications),
        "--jobs", str(args.jobs), "--force", "--quiet",
    ]  # fmt: skip
    started = time.perf_counter()
    cmp_dir, sweep_dir = work / "compare", work / "sweep"
    if not (args.reuse and (cmp_dir / "comparison.json").is_file()):
        scenarios = (f"scenarios/{s}.yaml" for s in COMPARE)
        cli("compare", *scenarios, "--capacity", *common, "--out", str(cmp_dir))
    if not (args.reuse and (sweep_dir / "sweep.csv").is_file()):
        cli(
            "sweep", f"scenarios/{SWEEP_SCENARIO}.yaml", "--set", f"{SWEEP_FIELD}={SWEEP_VALUES}",
            *common, "--out", str(sweep_dir),
        )  # fmt: skip
    simulated = time.perf_counter() - started

    results = html.load_results(cmp_dir)
    members = {m.label: m for m in results.members}
    colors = plots.scenario_colors(results.labels)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"figures into {args.out}")
    save(
        plots.throughput_figure(
            {m.label: m.kpis for m in results.members},
            colors=colors,
            capacity=html.compared_capacity(results) or None,
        ),
        args.out,
        "throughput",
    )
    hourly = {m.label: m.table("hourly_summary.csv") for m in results.members}
    save(
        plots.hourly_figure({k: v for k, v in hourly.items() if v is not None}, colors=colors),
        args.out,
        "hourly",
    )
    samples = {
        m.label: plots.time_in_system_hours(
            pd.read_parquet(m.folder / "trucks.parquet"), float(m.summary["warmup_days"])
        )
        for m in results.members
    }
    p95 = {m.label: plots.kpi_stat(m.kpis, "time_in_system_p95_h") for m in results.members}
    save(plots.time_in_system_figure(samples, p95, colors=colors), args.out, "time_in_system")
    stations = {m.label: m.table("stations.csv") for m in results.members}
    save(
        plots.utilisation_heatmap(
            plots.utilisation_table({k: v for k, v in stations.items() if v is not None})
        ),
        args.out,
        "utilisation",
    )
    net = members[NETWORK]
    table = net.table("stations.csv")
    tables = read_network_tables(net.folder)
    assert table is not None and tables is not None
    save(
        network_figure(tables, table, net.measured_days, title=f"{NETWORK}: lane network"),
        args.out,
        "network",
    )
    sweep = html.load_results(sweep_dir)
    kpis = [
        "throughput_per_day.1119-1120",
        "time_in_system_p95_h.1119-1120",
        "backlog_at_report_mean",
        "station.hn_agv.utilization",
    ]
    save(
        plots.sweep_figure(html.extended_sweep(sweep, kpis), kpis=kpis, targets=TARGETS),
        args.out,
        "sweep",
    )
    report_started = time.perf_counter()
    report = html.write_report(cmp_dir)
    print(
        f"simulation {simulated:.0f} s; report of the compare folder {report} "
        f"({report.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - report_started:.1f} s"
    )
    manifest = json.loads((cmp_dir / "manifest.json").read_text(encoding="utf-8"))
    print(
        f"git commit {manifest.get('git_commit')}, {args.days} days, "
        f"{args.replications} replications"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
