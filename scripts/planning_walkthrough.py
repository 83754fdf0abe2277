"""Regenerate docs/planning.md: the planning walk-through of issues 9 and 25, all simulated.

    .venv/bin/python scripts/planning_walkthrough.py [--jobs 2] [--work DIR] [--render-only]
        [--days N] [--replications R]   (fewer: a quick look, not the page of record)
        [--simulate-only]               (the runs without the page: ``make bench``'s timing)

Every scenario here has the exporters' demand response on (``baseline.yaml``'s platform), so
every year table gives trucks deferred and diverted per day (by destination) and the value
diverted beside the p95, and the imports' p95 apart (no platform, no registration wait).

0. **A year with its seasons**: today's gate over 2025 (``year_2025.yaml``), with its
   deferrals, diversions and end-of-year backlog.
1. **Year scan.** The smart gate as approved (``scenarios/plan_2030.yaml``, i.e. S4 with the
   seasonal demand calendar and a carried-in backlog) is run in the spring fruit peak of every
   year 2025-2030 (``--year Y``) at 15 %/yr growth; p95 time in system and p95 gate process time
   against 6 h. Then the same scan with both sides open 24 hours (a bilateral policy).
2. **Capacity search.** On top of 24-hour opening, ``plan`` finds, for 2030, the cheapest extra
   capacity that brings the p95 back under 6 h. The search is split by lane and direction (a
   mixture's 95th percentile never exceeds the largest of its parts', so p95 <= 6 h in every
   lane and direction implies it over all trucks); each part varies its stations that the
   24-hour 2030 run found binding, so the searches follow the model, from today's servers to
   about 4 times them. A search with no answer reports its top point, and the page names the
   busiest stations of its part there (the search's own whole-gate run of that point).
3. **Check.** 24-hour opening and the chosen capacities together, every year: p95 with CI.
4. **Growth swept** over 8, 15 and 25 %/yr: each scan at 8 and 25 % stops at its first year
   above 6 h (demand only grows), which keeps the sweep to a few runs.
5. **Backlog**: 2027 as approved started on empty yards, against the carried-in backlog.

All runs go through the ordinary CLI and the page is written from their output files. With
``--jobs N`` (2 by default) independent runs go N at a time, each on one process; results do
not depend on it. Runs keep no truck records: the page reads only their summaries.
"""

from __future__ import annotations

import argparse
import calendar
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from job_graph import Job, run_jobs
from scenario_table import fmt  # the same "mean [lo, hi]" cells as docs/scenarios.md

from gatesim.model.loading import load_scenario
from gatesim.scenario.schema import BranchStep, ChooseStep, OverflowStep, Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/plan_2030.yaml"
PAGE = ROOT / "docs" / "planning.md"
YEARS = tuple(range(2025, 2031))
#: The 6 h target: the upper end of the Mong Cai smart gate's clearance-time goal of 4-6 h
#: (domain.md row 20), applied to the p95 of door-to-door time in system.
TARGET_H = 6.0
KPI = "time_in_system_p95_h"
PROCESS_KPI = "gate_process_time_p95_h"
#: The imports' p95: no platform, so no registration wait and no deferral or diversion in it.
IMPORT_KPI = "time_in_system_p95_h.direction.import"
EXPORT_KPI = "time_in_system_p95_h.direction.export"
DAYS = "24"  # 3 warm-up days (the file's) + 21 measured days from 20 April, inside the peak
REPLICATIONS = "3"
#: Demand growth: the central rate of the plan files, and the bracket swept around it.
CENTRAL_RATE = 0.15
OTHER_RATES = (0.08, 0.25)
#: The hours change: both sides open around the clock on the dedicated lanes, as S2 (the smart
#: gate's 24 h target, domain.md row 14). A bilateral policy: each side keeps its own calendar.
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
#: The plan files' carried-in backlog, removed: the same window opening on empty yards.
BACKLOG_STREAMS = ("hn_export_fruit", "hn_export_other", "tt_export_fruit", "tt_export_other")
NO_BACKLOG = [a for n in BACKLOG_STREAMS for a in ("--set", f"arrivals.{n}.initial_backlog=0")]
#: A search varies the stations of its part at least this busy in 2030 (24 h), at most this many.
BINDING = 0.85
MAX_DIMENSIONS = 1
#: A range's step is servers / this (rounded up), over 15 steps: today's count to about 4 times
#: it. The previous 10 (to 2.5 times) left three of four searches at the top of their range.
RANGE_STEPS_PER_SERVERS = 5
#: A point still undecided at this many replications counts as failing (conservative); a cap
#: keeps a search from spending 40 replications on a point at the edge of the target.
MAX_PLAN_REPLICATIONS = "6"
REUSE = False  # --reuse: keep the runs a previous call left in --work
PART_NAMES = {"1119": "hn", "1088": "tt"}
#: The previous version of this page (commit 4ee6deb: before the demand response), read off
#: that page, for "What changed and why".
PREVIOUS_COMMIT = "4ee6deb"
PREVIOUS = {
    "season_backlog": "11,764 [11,579, 11,948]",
    "season_p95": "630.3 [227.5, 1,033.0]",
    "season": "1,211 [1,204, 1,219] cleared/day; backlog at the end 11,764 [11,579, 11,948];"
    " p95 630.3 [227.5, 1,033.0] h; no deferrals or diversions",
    "year": "2025 (p95 7.9 [7.5, 8.2] h in 2025; gate process time: 2026)",
    "h24": "2027 (p95 6.3 [6.2, 6.5] h in 2027)",
    "plan": "`hn_cn_transship` 30 -> 54 (CN); the three other searches found nothing up to the"
    " top of their ranges (`hn_vn_transship` 220, `tt_cn_transship` 45, `tt_vn_transship` 117)",
    "check": "p95 7.7 [7.6, 7.8] h in 2030; first above 6 h: 2029",
    "growth": "8 %: 2025 / 2029 / none to 2030; 25 %: 2025 / 2027 / 2028",
    "backlog": "9.9 [9.7, 10.2] h with it, 9.7 [9.5, 9.9] h on empty yards",
}


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
#: The page reads only each run's summary.json: no truck records (the same summary).
NO_RECORDS = ["--set", "records.trucks=false"]


def simulate(work: Path, jobs: str) -> None:
    """Every run of the page, ``jobs`` at a time, each run on one process: a run on two
    processes keeps about 1.2 cores busy (start-up, merging and writing are serial), two runs
    at once keep both. The runs form a graph (:mod:`job_graph`): the searches need the 24-hour
    2030 run, the check needs every search, a scan at another growth rate needs that scan's
    2025 run (it stops at its first year above the target). The longest chain (the 24-hour
    2030 run, the searches, the check) goes first and the rest fills the other core. A run's
    results do not depend on where or when it runs, so the page is the same."""
    common = ["--days", DAYS, "-r", REPLICATIONS, "--jobs", "1", "--force", "--quiet"]
    common += NO_RECORDS
    run_jobs(
        [
            Job("h24_2030", partial(scan_years, work, "h24", HOURS_24, common, years=(2030,))),
            Job("searches", partial(search_jobs, work, common), after=("h24_2030",)),
            Job("seasons", partial(seasons, work), rank=1),
            *year_jobs(work, "h24", HOURS_24, common, YEARS[:-1]),
            *year_jobs(work, "year", [], common, YEARS),
            Job("empty_2027", partial(empty_yards, work, common), rank=2),
        ],
        max(1, int(jobs)),
    )


def year_jobs(
    work: Path,
    prefix: str,
    extra: list[str],
    common: list[str],
    years: tuple[int, ...],
    rank: int = 1,
    check: bool = False,
) -> list[Job]:
    """A scan's runs at the central rate (one job a year: they are independent), then its
    scans at the other rates, each a chain that stops at its first year above the target and
    so starts after the scan's 2025 run. That run and the chains, the longer work, get
    ``rank``; the other single runs fill in after them (``rank + 1``). ``check``: the extra
    settings are the searches' choices, read when the job starts."""

    def run(rate: float, stop: bool, years: tuple[int, ...]) -> None:
        settings = [*extra, *check_settings(work)] if check else extra
        scan_years(work, prefix, settings, common, rate, stop, years)

    central = [
        Job(f"{prefix}_{year}", partial(run, CENTRAL_RATE, False, (year,)),
            rank=rank if year == YEARS[0] else rank + 1)
        for year in years
    ]  # fmt: skip
    rates = [
        Job(f"{prefix}_g{round(rate * 100)}", partial(run, rate, True, YEARS),
            after=(f"{prefix}_{YEARS[0]}",), rank=rank)
        for rate in OTHER_RATES
    ]  # fmt: skip
    return central + rates


def search_jobs(work: Path, common: list[str]) -> list[Job]:
    """The searches that the 24-hour 2030 run calls for, then the check, which needs them all."""
    searches = binding_searches(work)
    write_json(work / "searches.json", searches)
    names = tuple(f"plan_{name}" for name, _, _ in searches)
    jobs = [Job(f"plan_{s[0]}", partial(search, work, *s, common)) for s in searches]
    checks = year_jobs(work, "check", HOURS_24, common, YEARS, rank=0, check=True)
    return jobs + [replace(job, after=job.after or names) for job in checks]


def check_settings(work: Path) -> list[str]:
    """The searches' chosen servers as ``--set`` arguments."""
    return [arg for path, value in chosen_settings(work).items()
            for arg in ("--set", f"{path}={value}")]  # fmt: skip


def empty_yards(work: Path, common: list[str]) -> None:
    """2027 as approved on empty yards (section 5)."""
    if not (REUSE and (work / "empty_2027" / "summary.json").exists()):
        cli("run", SCENARIO, "--year", "2027", *NO_BACKLOG, "--out", str(work / "empty_2027"),
            *common)  # fmt: skip


def search(work: Path, name: str, suffix: str, ranges: list[str], common: list[str]) -> None:
    """One part's capacity search. Its ``point/`` folder holds the whole gate's run at the
    reported point (the top of the range when nothing in it meets the target), which the page
    reads for the stations that bind there."""
    if REUSE and (work / f"plan_{name}" / "plan.json").exists():
        return
    varies = [arg for r in ranges for arg in ("--vary", r)]
    target = f"{KPI}{suffix}<={TARGET_H:g}"
    cli("plan", SCENARIO, *HOURS_24, "--target", target, *varies, "--out",
        str(work / f"plan_{name}"), "--max-replications", MAX_PLAN_REPLICATIONS,
        "--cache", str(work / "plan_cache"), *common, allowed=(0, 1))  # fmt: skip


def seasons(work: Path) -> None:
    """Today's gate over 2025 with its seasons (section 0)."""
    if REUSE and (work / "year_seasons" / "summary.json").exists():
        return
    cli("run", "scenarios/year_2025.yaml", "-r", "2", "--jobs", "1", "--force", "--quiet",
        *NO_RECORDS, "--out", str(work / "year_seasons"))  # fmt: skip


def folder_name(prefix: str, year: int, rate: float = CENTRAL_RATE) -> str:
    """Runs at the central growth rate keep the short name; 2025 is the same run at any rate
    (demand factor 1), so it is only simulated once."""
    if rate == CENTRAL_RATE or year == YEARS[0]:
        return f"{prefix}_{year}"
    return f"{prefix}_g{round(rate * 100)}_{year}"


def scan_years(
    work: Path,
    prefix: str,
    extra: list[str],
    common: list[str],
    rate: float = CENTRAL_RATE,
    stop_at_target: bool = False,
    years: tuple[int, ...] = YEARS,
) -> None:
    """Run every year (or, with ``stop_at_target``, up to the first in which both the p95 and
    the imports' p95 exceed the target: demand only grows from year to year, so later years
    exceed it too; the gate-wide p95 alone can be held above it by the exports' registration
    wait, section 1, and would stop the scan before capacity decides anything). A scan over
    ``years`` that leaves out 2025 reads its stop from the 2025 run already there."""
    growth = ["--set", f"demand.growth.annual_rate={rate}"]
    for year in YEARS:
        folder = work / folder_name(prefix, year, rate)
        done = (folder / "summary.json").exists()
        if year in years and (not done or (rate == CENTRAL_RATE and not REUSE)):
            cli("run", SCENARIO, "--year", str(year), *growth, *extra, "--out", str(folder),
                *common)  # fmt: skip
        if stop_at_target and all(p95_mean(folder, k) > TARGET_H for k in (KPI, IMPORT_KPI)):
            return


def p95_mean(folder: Path, kpi: str = KPI) -> float:
    return float(read(folder, "summary.json")["kpis"][kpi]["mean"])


def write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")


def binding_searches(work: Path) -> list[tuple[str, str, list[str]]]:
    """One search per lane and direction, over the servers of its busiest stations in 2030 with
    24-hour opening (at least BINDING utilisation; at most MAX_DIMENSIONS of them), each from
    today's count up to about 4 times it in 15 steps. Derived from the run, so the searches
    follow the model."""
    stations = read(work / "h24_2030", "summary.json")["stations"]
    parts = stations_by_part(load_scenario(ROOT / SCENARIO))
    searches = []
    for (lane, direction), names in parts.items():
        busy = [n for n in names if n in stations and stations[n]["utilization"] >= BINDING]
        busy.sort(key=lambda n: (-stations[n]["utilization"], n))
        ranges = []
        for name in busy[:MAX_DIMENSIONS]:
            servers = int(stations[name]["servers"])
            step = max(1, math.ceil(servers / RANGE_STEPS_PER_SERVERS))
            ranges.append(f"stations.{name}.servers={servers}:{servers + 15 * step}:{step}")
        if ranges:
            prefix = lane.split("-")[0].split("/")[0]
            searches.append((f"{PART_NAMES.get(prefix, prefix)}_{direction}",
                             f".{lane}.{direction}", ranges))  # fmt: skip
    return searches


def stations_by_part(scenario: Scenario) -> dict[tuple[str, str], list[str]]:
    """(lane, direction) -> the stations its streams' routes can visit, in route order."""
    parts: dict[tuple[str, str], list[str]] = {}
    for arrival in scenario.arrivals.values():
        names = parts.setdefault((arrival.lane, arrival.direction), [])
        for name in route_stations(scenario.routes[arrival.route].steps):
            if name not in names:
                names.append(name)
    return parts


def route_stations(steps: list[Any]) -> list[str]:
    found: list[str] = []
    for step in steps:
        if isinstance(step, str):
            found.append(step)
        elif isinstance(step, BranchStep):
            for case in [*step.cases.values(), step.default or []]:
                found.extend(route_stations(case))
        elif isinstance(step, OverflowStep):
            found.extend(route_stations([*step.then, *step.else_]))
        elif isinstance(step, ChooseStep):
            for option in step.choose:
                found.extend(route_stations(option.steps))
    return found


def searches_of(work: Path) -> list[tuple[str, str, list[str]]]:
    return [tuple(s) for s in json.loads((work / "searches.json").read_text())]  # type: ignore[misc]


def chosen_settings(work: Path) -> dict[str, Any]:
    """Every part's chosen servers; a station two parts share gets the larger of their counts."""
    settings: dict[str, Any] = {}
    for name, _, _ in searches_of(work):
        plan = read(work / f"plan_{name}", "plan.json")
        for path, value in (plan["chosen"] or plan["best"])["values"].items():
            settings[path] = max(value, settings.get(path, value))
    return settings


# --------------------------------------------------------------------------- page
#: The diversions' destination gates as the page names them (domain.md rows 19, 23, 32).
GATE_NAMES = {
    "tan_thanh_1090_1091": "Tân Thanh 1090-1091",
    "chi_ma": "Chi Ma",
    "coc_nam": "Cốc Nam",
}
DIVERTED = "diverted_per_day"
YEAR_HEAD = [
    "| year | demand factor | trucks arrived/day | cleared/day | p95 time in system (h) |"
    " p95 imports (h) | p95 gate process time (h) | deferred/day | diverted/day (by destination) |"
    " value diverted (M USD/day) | waiting for opening, mean (h) | p95 1119-1120 (h) |"
    " p95 1088/2-1089 (h) | backlog at the end | value delayed (M USD·h/day) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def response_cells(kpis: dict[str, Any]) -> list[str]:
    """The demand response, three cells: deferrals per day; diversions per day, the total and
    then each destination gate on a line of its own (in the summary's order); value diverted
    per day. Each "mean [95 % CI]" as ``fmt``; "–" where a run has no platform, and no
    destinations where nothing was diverted."""
    prefix = f"{DIVERTED}.to."
    total = kpis.get(DIVERTED)
    gates = [n for n in kpis if n.startswith(prefix) and "." not in n[len(prefix) :]]
    if not total or not total["mean"]:
        gates = []  # nothing diverted: the destinations would only repeat the zero
    diverted = fmt(total, 0) + "".join(
        f"<br>{GATE_NAMES.get(n[len(prefix) :], n[len(prefix) :])} {fmt(kpis[n], 0)}" for n in gates
    )
    return [
        fmt(kpis.get("deferred_per_day"), 0),
        diverted,
        fmt(kpis.get("value_diverted_musd_per_day")),
    ]


def year_row(year: int, kpis: dict[str, Any], days: float) -> str:
    """One row of a year table (YEAR_HEAD): ``kpis`` is a summary.json's, over ``days``."""
    k = kpis
    cells = [
        str(year),
        f"{(1 + CENTRAL_RATE) ** (year - 2025):.2f}",
        f"{k['arrived']['mean'] / days:,.0f}",
        fmt(k["throughput_per_day"], 0),
        fmt(k[KPI]),
        fmt(k[IMPORT_KPI]),
        fmt(k[PROCESS_KPI]),
        *response_cells(k),
        fmt(k["waiting_for_opening_mean_h"]),
        fmt(k[KPI + ".1119-1120"]),
        fmt(k[KPI + ".1088/2-1089"]),
        fmt(k["backlog_end"], 0),
        fmt(k["value_delayed_musd_h_per_day"], 0),
    ]
    return "| " + " | ".join(cells) + " |"


def year_rows(work: Path, prefix: str) -> tuple[list[str], int | None]:
    rows = list(YEAR_HEAD)
    for year in YEARS:
        folder = work / folder_name(prefix, year)
        days = float(read(folder, "manifest.json")["resolved_scenario"]["days"])
        rows.append(year_row(year, read(folder, "summary.json")["kpis"], days))
    return rows, first_year(work, prefix, CENTRAL_RATE)


def first_year(work: Path, prefix: str, rate: float, kpi: str = KPI) -> int | None:
    """The first year whose mean p95 exceeds the target at growth ``rate`` (None: none to
    2030); a scan stopped at the target has no later folders, which exceed it too."""
    for year in YEARS:
        folder = work / folder_name(prefix, year, rate)
        if not (folder / "summary.json").exists():
            return None
        if float(read(folder, "summary.json")["kpis"][kpi]["mean"]) > TARGET_H:
            return year
    return None


def growth_rows(work: Path) -> list[str]:
    rows = [
        "| growth/yr | demand in 2030 | as approved | with 24-hour opening (bilateral) |"
        " 24-hour opening + the capacities of section 3 |",
        "|---|---|---|---|---|",
    ]
    for rate in sorted((*OTHER_RATES, CENTRAL_RATE)):
        cells = [growth_cell(work, p, rate) for p in ("year", "h24", "check")]
        rows.append(f"| {rate:.0%} | ×{(1 + rate) ** 5:.2f} | " + " | ".join(cells) + " |")
    return rows


def growth_cell(work: Path, prefix: str, rate: float) -> str:
    """ "all trucks; imports": the first years above the target. A scan stops once both are
    above it; one stopped at the gate-wide p95 alone leaves the imports' "not scanned"."""
    imports = first_year(work, prefix, rate, IMPORT_KPI)
    last = max(y for y in YEARS if (work / folder_name(prefix, y, rate) / "summary.json").exists())
    unseen = imports is None and last < YEARS[-1]
    return f"{year_or_none(first_year(work, prefix, rate))}; imports " + (
        f"not scanned past {last}" if unseen else year_or_none(imports)
    )


def year_or_none(year: int | None) -> str:
    return str(year) if year else "none to 2030"


def busiest(folder: Path, top: int = 6, names: list[str] | None = None) -> str:
    """The ``top`` busiest stations of a run (of ``names`` only, when given)."""
    stations = read(folder, "summary.json")["stations"]
    rows = [item for item in stations.items() if names is None or item[0] in names]
    ranked = sorted(rows, key=lambda item: -item[1]["utilization"])[:top]
    return ", ".join(
        f"`{name}` ({row['servers']:.0f}) {row['utilization']:.0%},"
        f" wait {row['wait_mean_min']:.0f} min"
        for name, row in ranked
    )


def plan_rows(work: Path) -> tuple[list[str], int]:
    rows = [
        "| part | target | ranges | chosen (whose lever) | its KPI: mean [one-sided 95 % bounds] |"
        " failing neighbours | configurations / simulations |",
        "|---|---|---|---|---|---|---|",
    ]
    spent = 0
    for name, _, ranges in searches_of(work):
        plan = read(work / f"plan_{name}", "plan.json")
        point = plan["chosen"] or plan["best"]
        target = point["targets"][0]
        sides = {d["path"]: d["side"] for d in plan["dimensions"]}
        chosen = ", ".join(
            f"`{p.split('.')[1]}` {v} ({sides[p]})" for p, v in point["values"].items()
        )
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
    for name, _, _ in searches_of(work):
        plan = read(work / f"plan_{name}", "plan.json")
        if not plan["found"]:
            notes.append(unreachable_note(work, name, plan))
            continue
        point = plan["chosen"]["values"]
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


def part_stations(work: Path, name: str) -> list[str]:
    """The stations a search's lane and direction can visit (its suffix names them)."""
    suffix = {n: sfx for n, sfx, _ in searches_of(work)}[name]
    lane, direction = suffix[1:].rsplit(".", 1)
    return stations_by_part(load_scenario(ROOT / SCENARIO))[(lane, direction)]


def registration_floor(work: Path) -> list[str]:
    """When the platform's registration wait alone keeps the exports' p95 above the target:
    every unregistered export waits at least the delay's lower end, and when more than 5 % of
    the exports arrive unregistered their p95 is at least that, whatever the capacity."""
    platforms = read(work / "h24_2030", "manifest.json")["resolved_scenario"].get("platform")
    for spec in (platforms or {}).values():
        delay = spec.get("registration_delay") or {}
        unregistered = 1 - float(spec["registered_share"])
        floor_h = (float(delay.get("shift", 0)) + float(delay.get("low", 0))) / 60
        if unregistered > 0.05 and floor_h > TARGET_H:
            shape = ", ".join(f"{delay[k] / 60:g}" for k in ("low", "mode", "high") if k in delay)
            return [
                f"**The exports' p95 cannot reach {TARGET_H:g} h.** {unregistered:.0%} of the",
                "exports arrive unregistered on the platform and wait for registration before",
                f"it may dispatch them ({delay['dist']}({shape}) h, `registration_delay`",
                "[cal], fitted to the unregistered third of May 2023's queue, domain.md row",
                "46); that wait is in their time in system and in their gate process time.",
                f"Each of them spends at least {floor_h:g} h in the system, and they are more",
                f"than 5 % of the exports, so the exports' p95 is at least {floor_h:g} h",
                "whatever the gate's capacity or hours: the 6 h target is out of reach for",
                "exports by construction. Exports are over a quarter of all trucks, so the",
                "unregistered ones are more than 5 % of all trucks too, and the gate-wide p95",
                f"is held above {floor_h:g} h as well. Capacity and hours decide the imports",
                "(no platform), read alone in the column *p95 imports*.",
                "",
            ]
    return []


def unreachable_note(work: Path, name: str, plan: dict[str, Any]) -> str:
    """A search with no answer in its range: say so plainly, with the p95 at the top of the
    range and the stations that bind there (the search's whole-gate run of that point)."""
    best = plan["best"]
    target = best["targets"][0]
    tops = ", ".join(f"`{p.split('.')[1]}` {v}" for p, v in best["values"].items())
    top_run = work / f"plan_{name}" / "point"
    part = part_stations(work, name)
    binding = (
        f" Busiest stations of this part there: {busiest(top_run, top=4, names=part)}."
        if (top_run / "summary.json").exists()
        else ""
    )
    floor = (
        " No capacity brings the exports under the registration wait (section 1)."
        if name.endswith("_export") and registration_floor(work)
        else ""
    )
    return (
        f"- {name}: **the target is not reachable within the range**: at its top ({tops}) the"
        f" p95 is {target['mean']:.2f} h, above {TARGET_H:g} h.{floor}{binding}"
    )


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
        "48).",
        "",
        *seasons_response(k),
        "",
        "![Trucks cleared per day over 2025](plots/planning_year.png)",
        "",
    ]


def seasons_response(k: dict[str, Any]) -> list[str]:
    """Section 0's account of the demand response over 2025, against the page before it."""
    deferred, diverted, value = response_cells(k)
    reneged = (
        f" and {fmt(k['reneged_per_day'], 0)} a day renege from a queue"
        if "reneged_per_day" in k
        else ""
    )
    return [
        "The gate now sheds its peaks through the exporters: the digital border-gate platform",
        "holds the exports in the staging yards, and an exporter whose expected wait exceeds",
        "its tolerance stays at origin and comes back a day later (*deferred*) or goes to",
        "another gate (*diverted*; docs/model.md, *The digital border-gate platform*; imports",
        "have no response, their queue is on the Chinese side).",
        f"Over 2025 it defers {deferred} trucks a day (a truck deferred twice counts twice)",
        f"and diverts {by_destination(diverted)}{reneged};",
        f"the value diverted is {value} M USD a day.",
        f"The backlog at the end of the year is {fmt(k['backlog_end'], 0)} trucks in the",
        f"system, with {fmt(k.get('deferred_owed_end'), 0)} more deferred and not yet back;",
        f"the p95 time in system over the year is {fmt(k[KPI])} h, over the trucks that",
        "cleared here: a diverted truck is not in it, and a deferred one counts from its return.",
        f"Before the response was on (commit {PREVIOUS_COMMIT}) the same year ended with",
        f"{PREVIOUS['season_backlog']} trucks in the system and a p95 of"
        f" {PREVIOUS['season_p95']} h: the",
        "seasons showed up only as queues; now they show up as trucks deferred and diverted",
        "as well.",
    ]


def by_destination(diverted_cell: str) -> str:
    """A diverted cell of ``response_cells`` as running text: "total a day (gate n, ...)"."""
    total, *gates = diverted_cell.split("<br>")
    return f"{total} a day" + (f" ({', '.join(gates)})" if gates else "")


def first_sentence(first: int | None, what: str = "time in system") -> str:
    if first is None:
        return f"**The p95 {what} stays within {TARGET_H:g} h up to 2030.**"
    return f"**The p95 {what} first exceeds {TARGET_H:g} h in {first}.**"


def intro() -> list[str]:
    return [
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
        "**The 6 h target and what it is measured on.** 6 h is the upper end of the Móng Cái",
        "smart gate's clearance-time goal, 4-6 h against 1-2 days today (domain.md row 20):",
        "another gate's goal for *clearance*. Here it is applied to the p95 of door-to-door time",
        "in system, staging included, which also counts the night a truck spends waiting for a",
        "closed gate: a stricter reading than its source. Each table therefore also gives the",
        "**gate process time** (time in system minus the time spent waiting while the station a",
        "truck waits for is closed; exact per truck) and the mean wait for opening.",
        "",
        "**Set-up.** `scenarios/plan_2030.yaml`: S4, the full smart gate as approved",
        "(`s4_full_smart_gate.yaml`: the checks of the conventional lane kept in the smart lane,",
        "faster and co-located), with the seasonal demand calendar",
        "(`scenarios/parts/demand_calendar.yaml`) and demand growth of 15 %/yr from 2025 [a],",
        "swept over 8-25 %/yr in section 5. `--year Y` sets the demand year and moves the run",
        f"into year Y. Each run covers the spring fruit peak: {DAYS} days from 17 April, the",
        f"first 3 of them warm-up, so {int(DAYS) - 3} measured days from 20 April (fruit season"
        " ×1.3 on fruit",
        "and the spring peak ×1.3 on every stream, domain.md rows 27, 30, 47). The window opens",
        "on the backlog a spring-peak evening leaves, not on empty yards: 478 export trucks",
        "(domain.md rows 90, 99; section 6). Throughput and p95 are over the trucks that arrived",
        "and cleared inside the measured window. Value of goods per truck by cargo class is an",
        "assumption [a] (`trade_value` in the calendar fragment): value delayed is value × hours",
        "in system, per day.",
        "",
        "**Demand response.** `baseline.yaml`, and so every run here, has the exporters'",
        "response on: the digital border-gate platform holds both lanes' exports in the staging",
        "yards and calls them forward, and an exporter whose expected wait exceeds its",
        "tolerance *defers* (stays at origin, comes back a day later) or *diverts* to another",
        "gate (Tân Thanh 1090-1091, Chi Ma, Cốc Nam; docs/model.md, *The digital border-gate",
        "platform*). Imports have no response. A diverted truck never clears here, so it is not",
        "in the p95; a deferred one counts from its return (its days at origin are not in its",
        "time in system). A p95 kept low by exporters going elsewhere is not a gate that copes,",
        "so every year table gives, beside the p95, the trucks deferred and diverted per day",
        "(a truck deferred twice counts twice; diversions by destination) and the value of the",
        "goods diverted per day.",
        "",
    ]


def approved_section(work: Path) -> list[str]:
    scan, first = year_rows(work, "year")
    process_first = first_year(work, "year", CENTRAL_RATE, PROCESS_KPI)
    return [
        "## 1. The smart gate as approved, year by year",
        "",
        *scan,
        "",
        first_sentence(first),
        first_sentence(process_first, "gate process time"),
        first_sentence(
            first_year(work, "year", CENTRAL_RATE, IMPORT_KPI), "time in system of the imports"
        ),
        "",
        *registration_floor(work),
        f"Busiest stations in {first or 2030} (servers, utilisation in opening hours, mean wait):",
        f"{busiest(work / f'year_{first or 2030}')}.",
        "",
        "As approved, the conventional lanes keep today's hours: 07:00-20:00 VN, 08:00-21:00 CN",
        "(both to 20:00 VN time since April 2025, domain.md rows 48, 89),",
        "extended to 22:00 VN / 23:00 CN in the peaks, this window included (domain.md row 48).",
        "A truck that reaches the gate after closing waits for the morning: the column *waiting",
        "for opening* is that wait, and the gate process time is what remains. The same 2025",
        f"demand with both sides open 24 hours gives a p95 of {p95_of(work, 'h24_2025')} h",
        "(section 2).",
        "",
    ]


def hours_section(work: Path) -> list[str]:
    scan24, first24 = year_rows(work, "h24")
    return [
        "## 2. The hours change: both sides open 24 hours (a bilateral policy)",
        "",
        "The same runs with both sides' lane calendars open around the clock (as S2; the smart",
        "gate's 24 h target, domain.md row 14). **This is not a switch either side can throw:**",
        "Vietnam's hours are Vietnam's, China's are China's (`plan` labels `vn_hours` VN and",
        "`cn_hours` CN, and the two together *bilateral*); it takes an agreement such as the",
        "one that extended both sides to 20:00 in April 2025 (domain.md row 89), and staffing",
        "for three shifts on both sides (implied, not modelled).",
        "",
        *scan24,
        "",
        first_sentence(first24),
        first_sentence(
            first_year(work, "h24", CENTRAL_RATE, IMPORT_KPI), "time in system of the imports"
        ),
        "",
        "Busiest stations in 2030 with 24-hour opening:",
        f"{busiest(work / 'h24_2030')}.",
        "",
        *unseen_queue_note(work / "h24_2030"),
    ]


def unseen_queue_note(folder: Path) -> list[str]:
    """When a run's exports wait long and yet none defers or diverts: the platform's expected
    wait counts only the trucks it holds, so a queue beyond its dispatch goes unseen."""
    k = read(folder, "summary.json")["kpis"]
    responded = sum(float(k[n]["mean"] or 0) for n in ("deferred_per_day", DIVERTED) if n in k)
    exports = k.get(EXPORT_KPI, {}).get("mean")
    if responded > 0 or exports is None or exports <= TARGET_H or "deferred_per_day" not in k:
        return []
    return [
        "**The demand response does not see this queue.** In 2030 with 24-hour opening no",
        f"exporter defers or diverts, yet the exports' p95 is {fmt(k[EXPORT_KPI])} h.",
        "The platform's expected wait counts only the trucks it holds (at 20:00"
        f" {fmt(k.get('platform_held_at_report_mean'), 0)},",
        "most of them waiting for registration) against the rate it releases them; with the",
        "lane entries open around the clock it releases them as fast as they register, and",
        "the queue forms further in, at the stations above, which the expected wait does not",
        "count (docs/model.md, *Deferral and diversion*). These exports' p95 is therefore not",
        "held down by exporters going elsewhere; whether real exporters also stay at home when",
        "the queue is at the far yards is not modelled.",
        "",
    ]


def search_section(work: Path) -> list[str]:
    searches, spent = plan_rows(work)
    return [
        "## 3. The cheapest extra capacity that meets the target in 2030",
        "",
        "On top of 24-hour opening (bilateral), `plan` searched each lane and direction",
        "separately for the smallest numbers of servers at its binding stations: those at least",
        f"{BINDING:.0%} busy in 2030 with 24-hour opening (section 2), at most {MAX_DIMENSIONS}"
        " per part,",
        "each from today's count to about 4 times it. (The stations of one part do not serve",
        "the others, and since a mixture's 95th percentile is never above the largest of its",
        "parts', meeting 6 h in every part meets it over all trucks; a station two parts share",
        "gets the larger of their counts.) Cost: 1 per unit. A target *holds* when the one-sided",
        "95 % upper bound of the mean p95 is at most 6 h; see docs/experiments.md, *Capacity",
        "planning*. **Whose lever:** VN changes are Vietnam's to make; a CN change (a Chinese",
        "yard's bays or inspection) is a request to the Chinese side, not a Vietnamese",
        "investment.",
        "Other stations also near their limit (section 2's list) are held at their current",
        "servers; section 4 checks whether the changes below suffice with them as they are.",
        "",
        *searches,
        "",
        f"The searches spent {spent} simulations in all.",
        *edge_notes(work),
        "",
    ]


def check_section(work: Path) -> list[str]:
    settings = chosen_settings(work)
    baseline = read(work / "year_2030", "manifest.json")["resolved_scenario"]["stations"]
    changes = ", ".join(
        f"`{path.split('.')[1]}` ({baseline[path.split('.')[1]]['side']})"
        f" {baseline[path.split('.')[1]]['servers']} → {value}"
        for path, value in settings.items()
    )
    check, first_after = year_rows(work, "check")
    k30 = read(work / "check_2030", "summary.json")["kpis"]
    verdict = (
        f"it first exceeds {TARGET_H:g} h in {first_after}."
        if first_after
        else f"it stays within {TARGET_H:g} h in every year to 2030."
    )
    return [
        "## 4. Check: 24-hour opening and the chosen capacities together, every year",
        "",
        f"Changes: 24-hour opening on both sides (bilateral); {changes or 'none'}. A search",
        "with no answer in its range contributes the top of its range.",
        "",
        *check,
        "",
        f"With these changes the gate-wide p95 in 2030 is {fmt(k30[KPI])} h; {verdict}",
        f"The imports' p95 in 2030 is {fmt(k30[IMPORT_KPI])} h;"
        f" {import_verdict(first_year(work, 'check', CENTRAL_RATE, IMPORT_KPI))}",
        "",
    ]


def import_verdict(first: int | None) -> str:
    if first is None:
        return f"it stays within {TARGET_H:g} h in every year to 2030."
    return f"it first exceeds {TARGET_H:g} h in {first}."


def growth_section(work: Path) -> list[str]:
    return [
        "## 5. Growth swept over 8-25 %/yr",
        "",
        "Observed growth ranges from +14 %/yr (the Hữu Nghị pair, domain.md row 29) through",
        "+20 % (the province, Jan-Apr 2025) to +35 % (Youyiguan's vehicle-trips in 2025, empties",
        "included, row 34), so 15 % is a central case, not a forecast. The first year in which",
        "the p95 time in system exceeds 6 h, of all trucks and of the imports alone, at each",
        "rate (a scan stops once both have: demand only grows, so later years exceed it too;",
        "2025 is the same run at every rate):",
        "",
        *growth_rows(work),
        "",
        "The capacities of section 3 were sized for 15 %/yr; the last column says how long",
        "they last if growth is faster or slower.",
        "",
    ]


def backlog_section(work: Path) -> list[str]:
    carried = read(work / "year_2027", "summary.json")["kpis"]
    empty = read(work / "empty_2027", "summary.json")["kpis"]
    return [
        "## 6. The backlog carried in",
        "",
        "Every run above opens on 478 export trucks already waiting (498 left at 20:00 on",
        "29 May 2025, domain.md row 90, of which ~96 % on these two lanes, row 99), held at",
        "today's level in every year [a]. In 2027 as approved, the p95 time in system is",
        f"{fmt(carried[KPI])} h with it and {fmt(empty[KPI])} h starting on empty yards; the",
        f"backlog at the end {fmt(carried['backlog_end'], 0)} against"
        f" {fmt(empty['backlog_end'], 0)}.",
        "",
    ]


def current_conclusions(work: Path) -> dict[str, str]:
    """This version's answers, in the words of PREVIOUS (same keys)."""
    season = read(work / "year_seasons", "summary.json")["kpis"]
    deferred, diverted, value = response_cells(season)
    first = {
        p: f"{year_or_none(first_year(work, p, CENTRAL_RATE))}; imports alone"
        f" {year_or_none(first_year(work, p, CENTRAL_RATE, IMPORT_KPI))}"
        for p in ("year", "h24", "check")
    }
    y25 = read(work / "year_2025", "summary.json")["kpis"]
    h24 = first_year(work, "h24", CENTRAL_RATE)
    h24_p95 = p95_of(work / f"h24_{h24}") if h24 else "–"
    process = year_or_none(first_year(work, "year", CENTRAL_RATE, PROCESS_KPI))
    carried = read(work / "year_2027", "summary.json")["kpis"]
    empty = read(work / "empty_2027", "summary.json")["kpis"]
    return {
        "season": f"{fmt(season['throughput_per_day'], 0)} cleared/day; backlog at the end"
        f" {fmt(season['backlog_end'], 0)}; p95 {fmt(season[KPI])} h; deferred {deferred}/day,"
        f" diverted {by_destination(diverted)}, value diverted {value} M USD/day",
        "year": f"{first['year']} (p95 {fmt(y25[KPI])} h in 2025; gate process time: {process})",
        "h24": f"{first['h24']} (p95 {h24_p95} h in {h24 or 2030})",
        "plan": plan_summary(work),
        "check": f"p95 {p95_of(work / 'check_2030')} h in 2030; first above 6 h: {first['check']}",
        "growth": "; ".join(
            f"{round(rate * 100)} %: "
            + " / ".join(growth_cell(work, p, rate) for p in ("year", "h24", "check"))
            for rate in OTHER_RATES
        ),
        "backlog": f"{fmt(carried[KPI])} h with it, {fmt(empty[KPI])} h on empty yards",
    }


def plan_summary(work: Path) -> str:
    """The searches' answers in one line: chosen servers, and the parts with none in range."""
    found, missed = [], []
    for name, _, _ in searches_of(work):
        plan = read(work / f"plan_{name}", "plan.json")
        point = plan["chosen"] or plan["best"]
        values = ", ".join(f"`{p.split('.')[1]}` {v}" for p, v in point["values"].items())
        (found if plan["found"] else missed).append(values)
    text = "; ".join(found) if found else "none found"
    return text + (f"; nothing in range for {'; '.join(missed)} (tops)" if missed else "")


#: The rows of the comparison: PREVIOUS's key and the conclusion it holds.
CONCLUSIONS = (
    ("season", "section 0: today's gate over 2025"),
    ("year", "1: as approved, first year p95 > 6 h"),
    ("h24", "2: with 24-hour opening, first year p95 > 6 h"),
    ("plan", "3: the plan's capacities"),
    ("check", "4: 24 h + the plan"),
    ("growth", "5: first years at 8 and 25 %/yr (approved / 24 h / 24 h + plan)"),
    ("backlog", "6: 2027 as approved, p95 with the carried-in backlog"),
)


def changes_section(work: Path) -> list[str]:
    now = current_conclusions(work)
    rows = [f"| {label} | {PREVIOUS[key]} | {now[key]} |" for key, label in CONCLUSIONS]
    return [
        f"## What changed since the previous version (commit {PREVIOUS_COMMIT}) and why",
        "",
        "| conclusion | before (no demand response) | now (demand response on) |",
        "|---|---|---|",
        *rows,
        "",
        *changed_first_years(work),
        "",
        "Why: the model changed under the page (issue 18; CHANGELOG.md), and every run here",
        "inherits it from `baseline.yaml`. The demand response is on: the digital border-gate",
        "platform holds both lanes' exports in the staging yards and dispatches them to the lane",
        "entries; an exporter whose expected wait exceeds its tolerance defers (comes back a",
        "day later) or diverts to another gate. The baseline is calibrated with it: exports are",
        "offered at 1.11 times the ordinary-day counts and the tolerances and registration",
        "delay are fitted to the reported 20:00 export backlog and May 2023's unregistered",
        "share.",
        *hold_not_response(work),
        "The capacity searches also range wider than before (to about 4 times today's",
        "servers, was 2.5), so a search that ended at the top of its range before may now find",
        "an answer, or says plainly that it cannot.",
        "",
    ]


def first_response_year(work: Path, prefix: str) -> int | None:
    """The first year of a scan in which some exporter defers or diverts (None: none)."""
    for year in YEARS:
        k = read(work / folder_name(prefix, year), "summary.json")["kpis"]
        if any(float(k[n]["mean"] or 0) > 0 for n in ("deferred_per_day", DIVERTED) if n in k):
            return year
    return None


def hold_not_response(work: Path) -> list[str]:
    """What moved the answers: the registration wait (when it floors the exports' p95), and
    how little the smart-gate runs defer or divert."""
    approved, h24 = first_response_year(work, "year"), first_response_year(work, "h24")
    floor = [
        "What moved the answers is above all the platform's hold: a third of the exports",
        "wait 12-72 h for registration in its yards, and that wait is in their time in",
        "system, so read on time in system the 6 h target is out of reach for exports and for",
        "the gate as a whole at any capacity (section 1); only the imports' p95 answers the",
        "capacity question, and it is new on this page.",
    ]
    response = [
        "In the smart-gate runs exporters defer or divert as approved"
        f" {f'from {approved} on' if approved else 'in no year to 2030'} (section 1) and with",
        f"24-hour opening {f'from {h24} on' if h24 else 'in no year to 2030'} (section 2).",
        "The p95 counts only the trucks that stayed, their hold in the platform's yards",
        "included, so the page gives the trucks deferred and diverted, and the value",
        "diverted, beside every p95.",
    ]
    return [*(floor if registration_floor(work) else []), *response]


def changed_first_years(work: Path) -> list[str]:
    """Which of the page's year answers moved, said in one sentence each."""
    before = {"year": 2025, "h24": 2027, "check": 2029}
    names = {"year": "as approved", "h24": "with 24-hour opening", "check": "24 h + the plan"}
    lines = []
    for key, old in before.items():
        new = first_year(work, key, CENTRAL_RATE)
        verdict = "unchanged" if new == old else f"was {old}, now {year_or_none(new)}"
        lines.append(f"- First year above {TARGET_H:g} h {names[key]}: {verdict}.")
    imports = ", ".join(
        f"{names[key]} {year_or_none(first_year(work, key, CENTRAL_RATE, IMPORT_KPI))}"
        for key in before
    )
    lines.append(f"- The imports' p95 alone (new on this page) first exceeds it: {imports}.")
    return lines


def caveats() -> list[str]:
    return [
        "## Caveats",
        "",
        "- The growth rates and every seasonal factor are assumptions resting on the domain.md",
        "  rows cited in the scenario files. Demand is what is offered at the gate; exporters",
        "  defer or divert by tolerances calibrated to today's 20:00 backlog, and that they keep",
        "  them at twice today's demand is an assumption. Imports never leave: a saturated",
        "  year's imports are counted here as waiting.",
        "- The carried-in backlog is today's observed level in every year; a saturated year",
        "  would carry in more, so the p95 of the saturated years is, if anything, optimistic.",
        "- Service times of the transshipment yards, quarantines and the smart lane's checks",
        "  are assumptions [a] (domain.md §3a and the scenario files); the chosen numbers of",
        "  servers scale with them.",
        "- Each point is judged at 95 % on its own, with no correction for the number of points a",
        "  search judges. Three replications give wide intervals in the saturated years (a",
        "  symmetric t-interval can then reach below zero); the verdicts near 6 h added",
        f"  replications where they were undecided, up to {MAX_PLAN_REPLICATIONS}; a point still",
        "  undecided then counts as failing (conservative).",
        "",
    ]


HAND_MARK = "*Written by hand"
STALE_NOTE = [
    f"*Computed before the demand response was on (commit {PREVIOUS_COMMIT} or earlier) and not",
    "rerun for this version: its numbers are the old model's, not those of sections 0-6.*",
]


def hand_written_sections(page: str) -> list[str]:
    """The sections of the previous page written by hand (a paragraph near the heading opens
    with HAND_MARK), kept when the page is regenerated, each marked once with STALE_NOTE."""
    sections: list[list[str]] = []
    for line in page.splitlines():
        if line.startswith("## "):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
    kept = []
    for section in sections:
        if not any(line.startswith(HAND_MARK) for line in section[1:6]):
            continue
        if STALE_NOTE[0] not in section:
            section[1:1] = ["", *STALE_NOTE]
        kept.extend(section)
    return kept


def render(work: Path, elapsed: float, load: str) -> str:
    lines = [
        *intro(),
        *seasons_section(work),
        *approved_section(work),
        *hours_section(work),
        *search_section(work),
        *check_section(work),
        *growth_section(work),
        *backlog_section(work),
        *changes_section(work),
        *hand_written_sections(PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""),
        *caveats(),
        f"Machine: {platform.machine()}, Python {platform.python_version()}; the script took"
        f" {elapsed / 60:.0f} min to simulate (2 cores shared with other work; load average"
        f" over the last 15 min of it: {load}).",
        "",
    ]
    return "\n".join(lines)


def set_run_length(days: str, replications: str, reuse: bool) -> None:
    global DAYS, REPLICATIONS, REUSE
    DAYS, REPLICATIONS, REUSE = str(int(days)), str(int(replications)), reuse


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", default="2")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--render-only", action="store_true", help="rewrite the page only")
    parser.add_argument("--days", default=DAYS, help="days per run (3 of them warm-up)")
    parser.add_argument("--replications", default=REPLICATIONS)
    parser.add_argument("--reuse", action="store_true", help="keep the runs already in --work")
    parser.add_argument(
        "--simulate-only", action="store_true", help="run the simulations, write no page (bench)"
    )
    args = parser.parse_args()
    set_run_length(args.days, args.replications, args.reuse)
    work = args.work or Path(tempfile.mkdtemp(prefix="gatesim-planning-"))
    started = time.perf_counter()
    timing = work / "simulation_seconds.txt"
    if not args.render_only:
        earlier = float(timing.read_text()) if args.reuse and timing.exists() else 0.0
        simulate(work, args.jobs)
        timing.write_text(f"{earlier + time.perf_counter() - started:.0f}")  # --reuse: summed
        (work / "load_average.txt").write_text(f"{os.getloadavg()[2]:.1f}")
    if args.simulate_only:
        print(f"simulated in {work} ({time.perf_counter() - started:.0f} s)")
        return 0
    seconds = float(timing.read_text()) if timing.exists() else float("nan")
    load = work / "load_average.txt"
    page = render(work, seconds, load.read_text() if load.exists() else "not recorded")
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote docs/planning.md ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
