"""Regenerate docs/scenarios.md: every shipped scenario against the baseline, the 2027 targets.

    .venv/bin/python scripts/scenario_table.py [--days 30] [--jobs 2] [--work DIR]

Runs three studies through the ordinary CLI (compare, compare, sweep), then writes the page
from their comparison.json / sweep.csv / summary.json files. Takes several minutes.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TODAY = [
    "baseline",
    "s0_six_lanes",
    "s1_preclearance",
    "s2_preclearance_24h",
    "s3_as_piloted",
    "s3_smart_lane_pilot",
    "s4_full_smart_gate",
    "s5_peak_season_stress",
    "s5_peak_season_stress_cn_cap",
    "s6_backhaul",
]
TARGETS = {"1119-1120": (2000, 2500), "1088/2-1089": (800, 1200)}  # domain.md rows 7-8
#: Observed loaded trucks per day: ordinary days (rows 22-23) and the Huu Nghi routes' yearly
#: mean of 2025 (row 29, ~1,190-1,203/day; it covers the whole Huu Nghi pair, not 1119-1120).
OBSERVED = {
    "1119-1120": "750–800 [s 22, 23]; ~1,190 mean 2025, whole pair [s 29]",
    "1088/2-1089": "~350 [s 23]",
}
LANES = ("1119-1120", "1088/2-1089")


#: What each shipped scenario describes: in operation, planned, or hypothetical (with sources).
STATUS = (
    (
        "baseline",
        "operating",
        "today's conventional operation, 2024-25 [s 21-23, 48], with the digital border-gate "
        "platform in front of both export lanes: registration [s 46, 53], staging yards "
        "[s 31, 33], dispatch, deferral and diversion; exports offered 1.11 x cleared [s 90], "
        "tolerances and registration delay calibrated to the 20:00 backlogs [s 24, 46, 90, 99]",
    ),
    (
        "peak_may_2023",
        "calibration check",
        "the calibrated baseline in the May 2023 fruit peak (2023 hours and volumes) against "
        "the 898 export trucks, 299 unregistered, waiting at 20:00 [s 46]",
    ),
    (
        "s0_six_lanes",
        "operating",
        "1119-1120 widened to 6 lanes on 27 Nov 2025 [s 12, 95]; "
        "the split of the lanes between directions is assumed",
    ),
    ("s0_extra_xray", "hypothetical", "one more scanner at 1119 (a CRN example)"),
    (
        "s1_preclearance",
        "partly operating",
        "pre-arrival declaration on the digital border-gate platform is in daily use [s 53] "
        "and in the baseline, so not credited; credited: pre-arrival document review, "
        "auto-gates and 15 s checks (planned or assumed), CN risk-tiered inspection [s 68]",
    ),
    (
        "s2_preclearance_24h",
        "hypothetical",
        "24 h opening is a bilateral decision not taken; peak days run to 22:00-23:00 [s 48]",
    ),
    (
        "s3_as_piloted",
        "operating (trial)",
        "1088/2-1089, China to Vietnam, 18:30-20:00, six "
        "driverless trucks into the VN yard [s 15, 16, 93, 94]",
    ),
    (
        "s3_smart_lane_pilot",
        "planned",
        "Vietnamese pilot operations due Q3 2026 [s 6, 96]; every check kept, faster and "
        "co-located: VN fruit quarantine, CN one-stop joint inspection [s 17], far-side crane "
        "hand-over; AGV lane 0.9 km at 1119-1120 [s 13], 2.4 km at 1088/2-1089 [s 15]; both "
        "lanes, both directions and 24 h (a bilateral policy [s 14]) are planned, not operating, "
        "and the smart lane's numbers are assumed",
    ),
    (
        "s4_full_smart_gate",
        "planned / hypothetical",
        "14 lanes at 1119-1120 in phase 2 [s 12]; S3's kept checks scaled up; fleet, cranes, "
        "eligible share and the checks' capacities assumed",
    ),
    ("s4_2027_demand, s4_2027_expanded", "hypothetical", "S4 at the 2027 target volumes [s 7, 8]"),
    (
        "s5_peak_season_stress(_cn_cap)",
        "hypothetical",
        "a fruit-season surge, with a Chinese acceptance cap as in Feb 2022 [s 42, 43]",
    ),
    (
        "s6_backhaul",
        "operating (pilot)",
        "the two-way pilot, 10 Dec 2025 - 9 Dec 2026 [s 38]: VN export trucks unload at the CN "
        "yard and wait up to 36 h [s 56] for an import load; the 35 % taking part is assumed",
    ),
    (
        "s7_booked_slots",
        "hypothetical",
        "S4 with booked one-hour arrival slots for exports on both lanes (the platform takes "
        "declarations and issues dispatch orders [s 53]; no booking of arrival times is "
        "reported); plan sizes and compliance assumed; compared with S4 at the end of the page",
    ),
    (
        "year_2025, plan_2027, plan_2030",
        "planning",
        "today's operation over 2025; S4 in the spring peaks of 2027 and 2030, growth assumed "
        "(15 %/yr, swept 8-25 % in docs/planning.md), opening on the export backlog observed "
        "on 29 May 2025 [s 90, 99]",
    ),
)


#: Blocks other scripts write into the page (``<!-- NAME:begin -->`` to ``<!-- NAME:end -->``),
#: kept as they are when the page is regenerated: NAME -> the script that writes it.
KEPT_BLOCKS = {"s7-comparison": "scripts/slots_comparison.py"}


def kept_blocks(old_page: str) -> str:
    """The KEPT_BLOCKS of the page being replaced, each after a blank line."""
    kept = ""
    for name in KEPT_BLOCKS:
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        start, stop = old_page.find(begin), old_page.find(end)
        if 0 <= start < stop:
            kept += "\n" + old_page[start : stop + len(end)] + "\n"
    return kept


def status_rows() -> list[str]:
    rows = ["| scenario | status | what and sources |", "|---|---|---|"]
    rows += [f"| {name} | {status} | {text} |" for name, status, text in STATUS]
    return rows


def cli(*args: str) -> None:
    command = [sys.executable, str(ROOT / "run_sim.py"), *args]
    print("+", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def fmt(stat: dict[str, Any] | None, digits: int = 1) -> str:
    if not stat or stat.get("mean") is None:
        return "–"
    lo, hi = stat["ci95"]

    def num(x: float) -> str:
        return f"{round(x, digits) + 0.0:,.{digits}f}"  # + 0.0: no "-0"

    mean = num(stat["mean"])
    return mean if lo is None else f"{mean} [{num(lo)}, {num(hi)}]"


def scenario_rows(entries: list[dict[str, Any]]) -> list[str]:
    head = (
        "| scenario | lane | cleared/day export | cleared/day import | time in system mean (h)"
        " | p95 (h) | peak spill-back, any yard (km) | AGV util. | crane util. VN / CN |"
    )
    rows = [head, "|" + "---|" * 9]
    for entry in entries:
        k = entry["kpis"]
        for lane in LANES:
            agv = "hn_agv" if lane.startswith("1119") else "tt_agv"
            cranes = "–"
            if f"station.{agv}.crane_utilization_VN" in k:
                cranes = (
                    f"{fmt(k[f'station.{agv}.crane_utilization_VN'], 2)} / "
                    f"{fmt(k[f'station.{agv}.crane_utilization_CN'], 2)}"
                )
            exports = fmt(k.get(f"throughput_per_day.{lane}.export"))
            rows.append(
                f"| {entry['scenario']} | {lane} | {exports}"
                f" | {fmt(k.get(f'throughput_per_day.{lane}.import'))}"
                f" | {fmt(k.get(f'time_in_system_mean_h.{lane}'), 2)}"
                f" | {fmt(k.get(f'time_in_system_p95_h.{lane}'), 2)}"
                f" | {fmt(k.get('spillback_km_max'))}"
                f" | {fmt(k.get(f'station.{agv}.utilization'), 2)} | {cranes} |"
            )
    return rows


def difference_rows(entries: list[dict[str, Any]]) -> list[str]:
    rows = [
        "| scenario | Δ cleared/day | Δ time in system mean (h) | Δ p95 (h) |"
        " Δ backlog at 20:00 | Δ CO2 (t/day) |",
        "|---|---|---|---|---|---|",
    ]
    for entry in entries[1:]:
        d = entry.get("diff_vs_first", {})
        rows.append(
            f"| {entry['scenario']} | {fmt(d.get('throughput_per_day'))}"
            f" | {fmt(d.get('time_in_system_mean_h'), 2)}"
            f" | {fmt(d.get('time_in_system_p95_h'), 2)}"
            f" | {fmt(d.get('backlog_at_report_mean'))}"
            f" | {fmt(d.get('co2_t_per_day'), 2)} |"
        )
    return rows


def bottlenecks(folder: Path, top: int = 4) -> str:
    stations = json.loads((folder / "summary.json").read_text())["stations"]
    ranked = sorted(stations.items(), key=lambda item: -item[1]["utilization"])[:top]
    return ", ".join(
        f"{name} {row['utilization']:.0%} (wait {row['wait_mean_min']:.0f} min)"
        for name, row in ranked
    )


def offered_per_day(folder: Path, lane: str) -> float:
    """Trucks per day the scenario sends to a lane (daily volume × demand scale)."""
    scenario = json.loads((folder / "manifest.json").read_text())["resolved_scenario"]
    volume = sum(a["per_day"] for a in scenario["arrivals"].values() if a["lane"] == lane)
    return float(volume * scenario["demand_scale"])


def target_rows(entries: list[dict[str, Any]], folders: dict[str, Path]) -> list[str]:
    """A lane meets its target when the lower CI bound reaches it and it clears >= 99 % of what
    arrives (a lane that keeps up only by letting its queue grow does not meet it)."""
    rows = [
        "| scenario | lane | offered/day | cleared/day | share cleared | 2027 target | met |"
        " trucks in system at the end (both lanes) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in entries:
        k = entry["kpis"]
        folder = folders[entry["scenario"]]
        for lane in LANES:
            stat = k[f"throughput_per_day.{lane}"]
            offered = offered_per_day(folder, lane)
            share = stat["mean"] / offered
            low, high = TARGETS[lane]
            met = stat["ci95"][0] is not None and stat["ci95"][0] >= low and share >= 0.99
            rows.append(
                f"| {entry['scenario']} | {lane} | {offered:,.0f} | {fmt(stat)} | {share:.1%}"
                f" | {low:,}–{high:,} | {'yes' if met else 'no'} | {fmt(k['backlog_end'])} |"
            )
    rows += ["", "Busiest stations (utilisation in opening hours, mean wait):", ""]
    rows += [f"- **{e['scenario']}**: {bottlenecks(folders[e['scenario']])}" for e in entries]
    return rows


def capacity_rows(entries: list[dict[str, Any]]) -> list[str]:
    """Saturated-entry capacity per lane and direction, the load ratio at the run's demand,
    the lane's total against what is observed today and the 2027 target, and what binds."""
    rows = [
        "| scenario | lane | export capacity/day | import capacity/day | lane total"
        " | observed today | 2027 target | reaches target | binding (export; import) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in entries:
        capacity = entry.get("capacity") or {}
        for lane in LANES:
            exp, imp = capacity.get(f"{lane}.export"), capacity.get(f"{lane}.import")
            if exp is None or imp is None:
                continue
            total = exp["mean"] + imp["mean"]
            low, high = TARGETS[lane]
            binding = f"{', '.join(exp['binding'][:2])}; {', '.join(imp['binding'][:2])}"
            rows.append(
                f"| {entry['scenario']} | {lane} | {quoted(exp)} (load {exp['load_ratio']:.0%})"
                f" | {quoted(imp)} (load {imp['load_ratio']:.0%}) | {total:,.0f}"
                f" | {OBSERVED[lane]} | {low:,}–{high:,} | {'yes' if total >= low else 'no'}"
                f" | {binding} |"
            )
    return rows


def quoted(capacity: dict[str, Any]) -> str:
    """The quoted capacity, marked *r* when it is the demand ramp's."""
    return fmt(capacity, 0) + (" *r*" if capacity.get("method") == "ramp" else "")


def capacity_difference_rows(entries: list[dict[str, Any]]) -> list[str]:
    rows = [
        "| scenario | lane | Δ export capacity/day | Δ import capacity/day |",
        "|---|---|---|---|",
    ]
    for entry in entries[1:]:
        diff = entry.get("capacity_diff_vs_first") or {}
        for lane in LANES:
            rows.append(
                f"| {entry['scenario']} | {lane} | {fmt(diff.get(f'{lane}.export'), 0)}"
                f" | {fmt(diff.get(f'{lane}.import'), 0)} |"
            )
    return rows


def sweep_rows(folder: Path) -> list[str]:
    rows = [
        "| AGVs on 1119-1120 | cleared/day 1119-1120 | time in system p95 (h) | AGV util. |",
        "|---|---|---|---|",
    ]
    points = sorted((folder / "points").iterdir())
    for point in points:
        summary = json.loads((point / "summary.json").read_text())
        k = summary["kpis"]
        fleet = json.loads((point / "manifest.json").read_text())["resolved_scenario"]["stations"][
            "hn_agv"
        ]["servers"]
        rows.append(
            f"| {fleet} | {fmt(k['throughput_per_day.1119-1120'])}"
            f" | {fmt(k['time_in_system_p95_h.1119-1120'], 2)}"
            f" | {fmt(k['station.hn_agv.utilization'], 2)} |"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite the page from an earlier --work folder without simulating",
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="gatesim-scenarios-"))
    started = time.perf_counter()
    if not args.render_only:
        simulate_studies(work, args)
    today = json.loads((work / "today" / "comparison.json").read_text())
    y2027 = json.loads((work / "y2027" / "comparison.json").read_text())
    folders = {e["scenario"]: work / "y2027" / e["scenario"] for e in y2027}
    page = render(today, y2027, folders, work / "fleet", args, time.perf_counter() - started)
    target = ROOT / "docs" / "scenarios.md"
    page += kept_blocks(target.read_text(encoding="utf-8") if target.exists() else "")
    target.write_text(page, encoding="utf-8")
    print(f"wrote docs/scenarios.md ({time.perf_counter() - started:.0f} s)")
    return 0


def simulate_studies(work: Path, args: argparse.Namespace) -> None:
    common = ["--days", str(args.days), "--jobs", str(args.jobs), "--force", "--quiet"]
    today = [f"scenarios/{n}.yaml" for n in TODAY]
    cli("compare", *today, "--capacity", "--out", str(work / "today"), *common)
    cli(
        "compare",
        "--capacity",
        "scenarios/s4_2027_demand.yaml",
        "scenarios/s4_2027_expanded.yaml",
        "-r",
        "3",
        "--out",
        str(work / "y2027"),
        *common,
    )
    cli(
        "sweep",
        "scenarios/s4_2027_expanded.yaml",
        "--set",
        "stations.hn_agv.servers=10,20,30,45",
        "-r",
        "3",
        "--out",
        str(work / "fleet"),
        "--days",
        str(max(args.days // 2, 8)),
        "--jobs",
        str(args.jobs),
        "--force",
        "--quiet",
    )


def capacity_section(today: list[dict[str, Any]]) -> list[str]:
    """The status of every scenario, then its capacity and the paired differences."""
    return [
        "## What each scenario describes",
        "",
        *status_rows(),
        "",
        "## What each scenario can carry (capacity)",
        "",
        "Capacity is the largest sustained clearance rate of a lane and direction in the "
        "scenario's own cargo, channel and path mix, under its calendars, fleets, caps and "
        "yards (`run_sim.py capacity`, docs/experiments.md): by saturated entry, or by the "
        "demand ramp (*r*) where a saturated entry would clear in another mix than the offered "
        "one or the two methods disagree. Load = today's offered trucks / capacity.",
        "",
        *capacity_rows(today),
        "",
        "Paired capacity differences against the baseline:",
        "",
        *capacity_difference_rows(today),
        "",
    ]


def render(
    today: list[dict[str, Any]],
    y2027: list[dict[str, Any]],
    folders: dict[str, Path],
    fleet: Path,
    args: argparse.Namespace,
    wall: float,
) -> str:
    reps = today[0].get("replications") or "the scenario files' count of"
    lines = [
        "# Scenarios against today's operation",
        "",
        "Generated by `scripts/scenario_table.py` (do not edit by hand). "
        f"{args.days} days per run, {reps} replications with common random numbers, seed from "
        f"baseline.yaml; 95 % t-intervals in brackets. Machine: {platform.machine()}, "
        f"Python {platform.python_version()}"
        + (f"; {wall / 60:.1f} min for the whole page." if wall > 1 else "."),
        "",
        "How to run and compare them yourself:",
        "",
        "```sh",
        ".venv/bin/python run_sim.py compare scenarios/baseline.yaml"
        " scenarios/s2_preclearance_24h.yaml scenarios/s4_full_smart_gate.yaml --jobs 2"
        " --out results/cmp",
        "```",
        "",
        *capacity_section(today),
        "## Throughput, time in system, spill-back, AGVs (today's demand)",
        "",
        "At today's demand every scenario clears what arrives, so cleared/day is the same "
        "in all of them; the capacity table above is what separates them.",
        "",
        *scenario_rows(today),
        "",
        "## Paired differences against the baseline (same trucks in every scenario)",
        "",
        *difference_rows(today),
        "",
        "## 2027 targets (domain.md rows 7-8)",
        "",
        "Both runs use 3 × today's arrivals (2,250/day on 1119-1120, 1,050 on 1088/2-1089). "
        "`s4_2027_demand` is S4 as specified; `s4_2027_expanded` adds the support capacity that "
        "the first run showed to be binding (see its comments).",
        "",
        *target_rows(y2027, folders),
        "",
        "Capacity of the two 2027 variants:",
        "",
        *capacity_rows(y2027),
        "",
        "## AGV fleet on 1119-1120 at 2027 demand (s4_2027_expanded)",
        "",
        *sweep_rows(fleet),
        "",
        "Read the fleet sweep with the busiest stations of the 2027 runs above: where the AGVs "
        "are less busy than those stations, a larger fleet only trims the p95 time in system "
        "and the capacity to add is elsewhere. The smart lane keeps the conventional lane's "
        "checks (S3: co-located VN fruit quarantine, CN one-stop joint inspection, crane "
        "hand-overs), so those stations, not only the AGVs, carry the smart half.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
