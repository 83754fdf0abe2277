"""Regenerate docs/planning.md: the planning walk-through of issue 9, with every number simulated.

    .venv/bin/python scripts/planning_walkthrough.py [--jobs 2] [--work DIR] [--render-only]

1. **Year scan.** The smart gate as approved (``scenarios/plan_2030.yaml``, i.e. S4 with the
   seasonal demand calendar) is run in the spring fruit peak of every year 2025-2030
   (``--year Y``); the first year whose p95 time in system exceeds 6 h is read off. Then the
   same scan with both sides open 24 hours (the hours change).
2. **Capacity search.** On top of 24-hour opening, ``plan`` finds, for 2030, the cheapest extra
   capacity that brings the p95 back under 6 h. The search is split by lane and direction (a
   mixture's 95th percentile never exceeds the largest of its parts', so p95 <= 6 h in every
   lane and direction implies it over all trucks); each part varies its binding stations.
3. **Check.** 24-hour opening and the chosen capacities together, every year: p95 with CI.

All runs go through the ordinary CLI and the page is written from their output files.
"""

from __future__ import annotations

import argparse
import calendar
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scenario_table import fmt  # the same "mean [lo, hi]" cells as docs/scenarios.md

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/plan_2030.yaml"
YEARS = tuple(range(2025, 2031))
TARGET_H = 6.0
KPI = "time_in_system_p95_h"
DAYS = "24"  # 3 warm-up days (the file's) + 21 measured days from 20 April, inside the peak
REPLICATIONS = "3"
#: The hours change: both sides open around the clock on the dedicated lanes, as S2 (the smart
#: gate's 24 h target, domain.md row 14).
HOURS_24 = [
    "--set",
    'calendars.vn_hours.hours=[["00:00", "24:00"]]',
    "--set",
    'calendars.cn_hours.hours=[["00:00", "24:00"]]',
    "--set",
    "calendars.vn_hours.periods=[]",  # no dated peak hours: open all the time
    "--set",
    "calendars.cn_hours.periods=[]",
]
#: (name, lane-direction KPI suffix, varied ranges): the stations binding on each part in 2030.
SEARCHES = (
    (
        "hn_export",
        ".1119-1120.export",
        ("stations.hn_vn_quarantine.servers=12:24:3", "stations.hn_cn_transship.servers=30:60:3"),
    ),
    ("hn_import", ".1119-1120.import", ("stations.hn_vn_transship.servers=85:135:5",)),
    (
        "tt_export",
        ".1088/2-1089.export",
        ("stations.tt_vn_quarantine.servers=6:14:2", "stations.tt_cn_transship.servers=15:33:2"),
    ),
    ("tt_import", ".1088/2-1089.import", ("stations.tt_vn_transship.servers=42:62:2",)),
)


def cli(*args: str, allowed: tuple[int, ...] = (0,)) -> int:
    command = [sys.executable, str(ROOT / "run_sim.py"), *args]
    print("+", " ".join(command[1:]), flush=True)
    code = subprocess.run(command, cwd=ROOT).returncode
    if code not in allowed:
        raise SystemExit(f"command failed with exit code {code}")
    return code


def read(folder: Path, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((folder / name).read_text())
    return document


# --------------------------------------------------------------------------- simulation
def simulate(work: Path, jobs: str) -> None:
    common = ["--days", DAYS, "-r", REPLICATIONS, "--jobs", jobs, "--force", "--quiet"]
    cli(
        "run",
        "scenarios/year_2025.yaml",
        "-r",
        "2",
        "--jobs",
        jobs,
        "--force",
        "--quiet",
        "--set",
        "records.trucks=false",
        "--out",
        str(work / "year_seasons"),
    )
    scan_years(work, "year", [], common)
    scan_years(work, "h24", HOURS_24, common)
    for name, suffix, ranges in SEARCHES:
        varies = [arg for r in ranges for arg in ("--vary", r)]
        target = f"{KPI}{suffix}<={TARGET_H:g}"
        out = str(work / f"plan_{name}")
        cli(
            "plan",
            SCENARIO,
            *HOURS_24,
            "--target",
            target,
            *varies,
            "--out",
            out,
            *common,
            allowed=(0, 1),
        )
    settings = chosen_settings(work)
    sets = [arg for path, value in settings.items() for arg in ("--set", f"{path}={value}")]
    scan_years(work, "check", [*HOURS_24, *sets], common)


def scan_years(work: Path, prefix: str, extra: list[str], common: list[str]) -> None:
    for year in YEARS:
        out = str(work / f"{prefix}_{year}")
        cli("run", SCENARIO, "--year", str(year), *extra, "--out", out, *common)


def chosen_settings(work: Path) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for name, _, _ in SEARCHES:
        plan = read(work / f"plan_{name}", "plan.json")
        settings.update((plan["chosen"] or plan["best"])["values"])
    return settings


# --------------------------------------------------------------------------- page
def year_rows(work: Path, prefix: str) -> tuple[list[str], int | None]:
    rows = [
        "| year | demand factor | trucks arrived/day | cleared/day | p95 time in system (h) |"
        " mean (h) | p95 1119-1120 (h) | p95 1088/2-1089 (h) | backlog at the end |"
        " value cleared (M USD/day) | value delayed (M USD·h/day) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    first = None
    for year in YEARS:
        folder = work / f"{prefix}_{year}"
        k = read(folder, "summary.json")["kpis"]
        days = float(read(folder, "manifest.json")["resolved_scenario"]["days"])
        p95 = k[KPI]
        if first is None and p95["mean"] > TARGET_H:
            first = year
        rows.append(
            f"| {year} | {1.15 ** (year - 2025):.2f} | {k['arrived']['mean'] / days:,.0f}"
            f" | {fmt(k['throughput_per_day'], 0)} | {fmt(p95)} | {fmt(k['time_in_system_mean_h'])}"
            f" | {fmt(k[KPI + '.1119-1120'])} | {fmt(k[KPI + '.1088/2-1089'])}"
            f" | {fmt(k['backlog_end'], 0)} | {fmt(k['value_cleared_musd_per_day'])}"
            f" | {fmt(k['value_delayed_musd_h_per_day'], 0)} |"
        )
    return rows, first


def busiest(folder: Path, top: int = 6) -> str:
    stations = read(folder, "summary.json")["stations"]
    ranked = sorted(stations.items(), key=lambda item: -item[1]["utilization"])[:top]
    return ", ".join(
        f"`{name}` ({row['servers']:.0f}) {row['utilization']:.0%},"
        f" wait {row['wait_mean_min']:.0f} min"
        for name, row in ranked
    )


def plan_rows(work: Path) -> tuple[list[str], int]:
    rows = [
        "| part | target | ranges | chosen | its KPI: mean [one-sided 95 % bounds] |"
        " failing neighbours | configurations / simulations |",
        "|---|---|---|---|---|---|---|",
    ]
    spent = 0
    for name, _, ranges in SEARCHES:
        plan = read(work / f"plan_{name}", "plan.json")
        point = plan["chosen"] or plan["best"]
        target = point["targets"][0]
        chosen = ", ".join(f"`{p.split('.')[1]}` {v}" for p, v in point["values"].items())
        if not plan["found"]:
            chosen = f"**none in range**; best: {chosen}"
        neighbours = "; ".join(
            ", ".join(f"{p.split('.')[1]} {v}" for p, v in n["values"].items())
            for n in plan["failing_neighbours"]
        )
        spent += plan["simulations"]
        rows.append(
            f"| {name} | `{plan['targets'][0]}` | {'<br>'.join(f'`{r}`' for r in ranges)}"
            f" | {chosen} | {target['mean']:.2f} [{target['low']:.2f}, {target['high']:.2f}]"
            f" | {neighbours or '–'} | {plan['points_evaluated']} / {plan['simulations']} |"
        )
    return rows, spent


def p95_of(folder_name: str | Path, name: str = "") -> str:
    folder = Path(folder_name) / name if name else Path(folder_name)
    return fmt(read(folder, "summary.json")["kpis"][KPI])


def edge_notes(work: Path) -> list[str]:
    """Say so when a search chose the top of a range: extending that range could trade one
    dimension against another at the same or a lower cost."""
    notes = []
    for name, _, _ in SEARCHES:
        plan = read(work / f"plan_{name}", "plan.json")
        point = (plan["chosen"] or plan["best"])["values"]
        for dim in plan["dimensions"]:
            if point[dim["path"]] == dim["values"][-1] and len(plan["dimensions"]) > 1:
                notes.append(
                    f"- {name}: `{dim['path']}` was chosen at the top of its range"
                    f" ({dim['values'][-1]}); a wider range might trade it against the other"
                    " dimension at the same cost."
                )
            elif point[dim["path"]] == dim["values"][-1]:
                notes.append(
                    f"- {name}: `{dim['path']}` = {dim['values'][-1]} is the top of its range"
                    " and the only value that meets the target."
                )
    return ["", *notes] if notes else []


def seasons_section(work: Path) -> list[str]:
    """Section 0: the 365-day run of today's operation with the seasonal calendar."""
    import pandas as pd

    from gatesim.report import plots

    folder = work / "year_seasons"
    resolved = read(folder, "manifest.json")["resolved_scenario"]
    table = plots.daily_cleared_by_date(
        pd.read_csv(folder / "daily_cleared.csv"), resolved["start_date"], resolved["warmup_days"]
    )
    plots.save_figure(
        plots.daily_figure({"year_2025": table}), ROOT / "docs/plots/planning_year", ("png",)
    )
    monthly = table.groupby(table["date"].dt.month)["mean"].mean()
    overall = table["mean"].mean()
    k = read(folder, "summary.json")["kpis"]
    return [
        "## 0. A year with its seasons (today's operation, 2025)",
        "",
        "`scenarios/year_2025.yaml` runs today's conventional operation (baseline.yaml) over",
        "2025 with the seasonal calendar: Tet closure and pre-registered-only days, the",
        "pre-Tet surge, the Mar-Jul fruit season, the spring peak, the Aug-Oct durian season,",
        "the year-end surge and weekend shifts (each factor tagged with its domain.md row in",
        "`scenarios/parts/demand_calendar.yaml`). Trucks cleared per day, mean of 2",
        "replications, by month:",
        "",
        "| " + " | ".join(calendar.month_abbr[m] for m in monthly.index) + " | year |",
        "|" + "---|" * (len(monthly) + 1),
        "| " + " | ".join(f"{v:,.0f}" for v in monthly) + f" | {overall:,.0f} |",
        "",
        f"Over the year: {fmt(k['throughput_per_day'], 0)} trucks cleared per day against",
        f"{k['arrived']['mean'] / float(resolved['days']):,.0f} arriving (domain.md row 29:",
        "~1,190/day cleared on the Hữu Nghị routes, Aug 2024-Jul 2025), with the peak-season",
        "hours to 22:00 VN / 23:00 CN in the pre-Tet, spring and year-end peaks (domain.md row",
        f"48). The backlog at the end of the year is {fmt(k['backlog_end'], 0)} trucks and the",
        f"p95 time in system over the year {fmt(k[KPI])} h. What this run leaves out is the",
        "other way the real gate sheds its peaks: trucks moving to other gates or waiting at",
        "home while the queue is long. (A `queue_capacity` on an export staging yard turns the",
        "trucks that find it full away to other gates, but no source gives the level at which",
        "the province does so, so the file leaves it unset.) Where the daily figure runs flat at",
        "the gate's ceiling, the seasons show up as queues rather than as trucks cleared, and a",
        "year-long run of today's operation then overstates its waits.",
        "",
        "![Trucks cleared per day over 2025](plots/planning_year.png)",
        "",
    ]


def first_sentence(first: int | None) -> str:
    if first is None:
        return f"**The p95 time in system stays within {TARGET_H:g} h up to 2030.**"
    return f"**The p95 time in system first exceeds {TARGET_H:g} h in {first}.**"


def render(work: Path, elapsed: float) -> str:
    scan, first = year_rows(work, "year")
    scan24, first24 = year_rows(work, "h24")
    check, first_after = year_rows(work, "check")
    searches, spent = plan_rows(work)
    settings = chosen_settings(work)
    baseline = read(work / "year_2030", "manifest.json")["resolved_scenario"]["stations"]
    changes = ", ".join(
        f"`{path.split('.')[1]}` {baseline[path.split('.')[1]]['servers']} → {value}"
        for path, value in settings.items()
    )
    k30 = read(work / "check_2030", "summary.json")["kpis"]
    lines = [
        "# Planning to 2030: a walk-through",
        "",
        "<!-- Generated by scripts/planning_walkthrough.py; do not edit by hand. -->",
        "",
        "The question (issue 9): **with the smart gate as approved, in which year does the p95",
        "time in system first exceed 6 h in the fruit season, and what fleet, scanner or hours",
        "change pushes that back to 2030?** Every number below was simulated by",
        "`scripts/planning_walkthrough.py` through the ordinary CLI (`run --year`, `plan`);",
        f"brackets are 95 % confidence intervals over {REPLICATIONS} replications, with common",
        "random numbers across years and configurations.",
        "",
        "**Set-up.** `scenarios/plan_2030.yaml`: S4, the full smart gate as approved",
        "(`s4_full_smart_gate.yaml`), with the seasonal demand calendar",
        "(`scenarios/parts/demand_calendar.yaml`) and demand growth of 15 %/yr from 2025 [a] (the",
        "reasoning is in the file). `--year Y` sets the demand year and moves the run into year Y.",
        f"Each run covers the spring fruit peak: {DAYS} days from 17 April, the first 3 of them",
        "warm-up, so 21 measured days from 20 April (fruit season ×1.3 on fruit and the spring",
        "peak ×1.3 on every stream, domain.md rows 27, 30, 47). Throughput and p95 are over the",
        "trucks that arrived and cleared inside the measured window. Value of goods per truck",
        "by cargo class is an assumption [a] (`trade_value` in the calendar fragment): value",
        "delayed is value × hours in system, per day.",
        "",
        *seasons_section(work),
        "## 1. The smart gate as approved, year by year",
        "",
        *scan,
        "",
        first_sentence(first),
        "",
        f"Busiest stations in {first or 2030} (servers, utilisation in opening hours, mean wait):",
        f"{busiest(work / f'year_{first or 2030}')}.",
        "",
        "As approved, the conventional lanes keep today's hours: 07:00-20:00 VN, 08:00-21:00 CN",
        "(both to 20:00 VN time since April 2025, domain.md rows 48, 89),",
        "extended to 22:00 VN / 23:00 CN in the peaks, this window included (domain.md row 48).",
        "A truck that reaches the gate after closing waits for the morning:",
        "the same 2025 demand with both sides open 24 hours gives a p95 of",
        f"{p95_of(work, 'h24_2025')} h (section 2). The p95 is set by the night, not by a lack",
        "of servers, so no fleet or scanner change can bring it under 6 h (the AGV fleets and",
        "the smart-lane scanners are not among the busiest stations above).",
        "",
        "## 2. The hours change: both sides open 24 hours",
        "",
        "The same runs with both sides' lane calendars open around the clock (as S2; the smart",
        "gate's 24 h target, domain.md row 14; staffing for three shifts is implied, not",
        "modelled):",
        "",
        *scan24,
        "",
        first_sentence(first24),
        "",
        "Busiest stations in 2030 with 24-hour opening:",
        f"{busiest(work / 'h24_2030')}.",
        "",
        "## 3. The cheapest extra capacity that meets the target in 2030",
        "",
        "On top of 24-hour opening, `plan` searched each lane and direction separately for the",
        "smallest numbers of servers at its binding stations (the stations of one part do not",
        "serve the others; and since a mixture's 95th percentile is never above the largest of",
        "its parts', meeting 6 h in every part meets it over all trucks). Cost: 1 per unit (the",
        "fewest extra servers). A target *holds* when the one-sided 95 % upper bound of the mean",
        "p95 is at most 6 h; see docs/experiments.md, *Capacity planning*.",
        "",
        *searches,
        "",
        f"The four searches spent {spent} simulations in all.",
        *edge_notes(work),
        "",
        "## 4. Check: 24-hour opening and the chosen capacities together, every year",
        "",
        f"Changes: 24-hour opening on both sides; {changes}.",
        "",
        *check,
        "",
        f"With these changes the gate-wide p95 in 2030 is {fmt(k30[KPI])} h; "
        + (
            f"it first exceeds {TARGET_H:g} h in {first_after}."
            if first_after
            else f"it stays within {TARGET_H:g} h in every year to 2030."
        ),
        "",
        "## Caveats",
        "",
        "- The growth rate (15 %/yr) and every seasonal factor are assumptions resting on the",
        "  domain.md rows cited in the scenario files; sweep `demand.growth.annual_rate` to",
        "  bracket them. Demand is what arrives at the gate: trucks that would be turned away",
        "  upstream in a real saturated season are counted here as waiting.",
        "- Each planning run starts empty three days before its window, so a backlog carried in",
        "  from earlier peaks (section 0) is not included: the p95 figures are for a gate that",
        "  entered the spring peak with clear yards.",
        "- Service times of the transshipment yards and quarantine are assumptions [a]",
        "  (domain.md §3a); the chosen numbers of servers scale with them.",
        "- Each point is judged at 95 % on its own, with no correction for the number of points a",
        "  search judges. Three replications give wide intervals in the saturated years (a",
        "  symmetric t-interval can then reach below zero); the verdicts near 6 h added",
        "  replications where they were undecided.",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; the script took"
        f" {elapsed / 60:.0f} min to simulate (2 cores shared with other work).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", default="2")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--render-only", action="store_true", help="rewrite the page only")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="gatesim-planning-"))
    started = time.perf_counter()
    timing = work / "simulation_seconds.txt"
    if not args.render_only:
        simulate(work, args.jobs)
        timing.write_text(f"{time.perf_counter() - started:.0f}")
    seconds = float(timing.read_text()) if timing.exists() else float("nan")
    page = render(work, seconds)
    (ROOT / "docs" / "planning.md").write_text(page, encoding="utf-8")
    print(f"wrote docs/planning.md ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
