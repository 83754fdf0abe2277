"""Regenerate the calibration table in docs/model.md: observed figures against the model.

    .venv/bin/python scripts/calibration_table.py [--replications 5] [--jobs 2]

Every row names its scope (lane or gate; loaded trucks or all vehicles; Vietnamese or Chinese
count) and the model figure measured for it, with its 95 % interval: capacity (both methods,
`gatesim.scenario_capacity`) under the hours of the observed day, a run of the baseline (its
exports offered above what the gate clears, shed by the platform), of the May 2023 peak
(`scenarios/peak_may_2023.yaml`) or of the year 2025 (`scenarios/year_2025.yaml`). Takes about
ten minutes on two cores (the year most of it).
"""

from __future__ import annotations

import argparse
import math
import platform
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gatesim
from gatesim import CapacityOptions, FlowCapacity, load_scenario, run_experiment
from gatesim.experiment.capacity import headline

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
MODEL_DOC = ROOT / "docs" / "model.md"
START, END = "<!-- calibration-table:start -->", "<!-- calibration-table:end -->"
HN, TT = "1119-1120", "1088/2-1089"
#: Hours of a day before the April 2025 agreement: VN 07:00-19:00 (since Mar 2023), CN
#: 08:00-20:00 Beijing time [s 48]; and the same day extended to 22:00 on both sides, as peak
#: days were [s 48: "peak extensions to 22:00-23:00"; a: for that day].
HOURS_2024 = {
    "calendars.vn_hours.hours": [["07:00", "19:00"]],
    "calendars.cn_hours.hours": [["08:00", "20:00"]],
}
HOURS_2024_TO_22 = {
    "calendars.vn_hours.hours": [["07:00", "22:00"]],
    "calendars.cn_hours.hours": [["08:00", "23:00"]],
}
DIRECTIONS = ("export", "import")
#: 22 Aug 2024 shares of the province's exports and imports on each road [s 21-23].
SHARE = {
    (HN, "export"): 220 / 328,
    (HN, "import"): 564 / 915,
    (TT, "export"): 95 / 328,
    (TT, "import"): 252 / 915,
}
APRIL_2025 = {"export": 570, "import": 1336}  # province, 25-26 Apr 2025 [s 27, 89]
TOLERANCE = 0.10
Interval = tuple[float, float, float]
Flows = dict[str, FlowCapacity]


@dataclass(frozen=True)
class Row:
    observation: str
    scope: str
    observed: float | None
    observed_text: str
    model: Interval | None
    measure: str
    judged: bool = True  # False: an input or a figure of another scope (no verdict)
    band: tuple[float, float] | None = None  # judged against this range instead of ±10 %
    percent: bool = False  # a share: shown as a percentage


def capacities(overrides: dict[str, Any], replications: int, jobs: int) -> dict[str, FlowCapacity]:
    scenario = load_scenario(BASELINE, overrides)
    flows = gatesim.scenario_capacity(scenario, CapacityOptions(replications=replications), jobs)
    return {flow.group: flow for flow in flows}


#: 29 Aug 2024 [s 88]: (what, scope, observed, flow).
PEAKS_2024 = (
    ("Hữu Nghị exports", "Hữu Nghị, loaded exports, VN count", 244, f"{HN}.export"),
    ("1088/2–1089 exports", "road 1088/2–1089, exports, VN count", 135, f"{TT}.export"),
    (
        "1088/2–1089 imports",
        "road 1088/2–1089, vehicles (437) less exports, VN count",
        302,
        f"{TT}.import",
    ),
)
#: Official capacity of each road today [s 7, 8], both directions.
OFFICIAL = ((HN, 800, "s 7"), (TT, 400, "s 8"))


def peak_rows(regular: Flows, extended: Flows) -> list[Row]:
    """29 Aug 2024 against capacity in that year's hours, and if the day ran to 22:00."""
    rows = []
    for what, scope, observed, flow in PEAKS_2024:
        for flows, hours in ((regular, "2024 hours"), (extended, "2024 hours to 22:00 [a]")):
            rows.append(
                Row(
                    f"29 Aug 2024, {what} [s 88]",
                    scope,
                    observed,
                    f"{observed}",
                    headline(flows[flow]),
                    f"capacity {flow.replace('.', ' ')}s, {hours}",
                )
            )
    return rows


def capacity_rows(today: Flows) -> list[Row]:
    """The official capacities, the April 2025 record (scaled) and row 10, against capacity
    in the baseline's hours."""
    rows = [
        Row(
            f"Official capacity of the road today [{row}]",
            "road, both directions",
            observed,
            f"{observed:,}",
            _sum(headline(today[f"{lane}.{d}"]) for d in DIRECTIONS),
            f"capacity {lane}, both directions, baseline hours (bounds summed)",
        )
        for lane, observed, row in OFFICIAL
    ]
    for (lane, direction), share in SHARE.items():
        observed = APRIL_2025[direction] * share
        rows.append(
            Row(
                f"25–26 Apr 2025 record, {lane} {direction}s [s 27, 89]",
                f"province {direction}s × this road's 22 Aug 2024 share [s 21–23] (estimate)",
                observed,
                f"≈ {observed:,.0f}",
                headline(today[f"{lane}.{direction}"]),
                f"capacity {lane} {direction}s, baseline hours (2025) [s 89]",
                judged=False,  # one of two estimates: the bracket row below is judged
            )
        )
    rows.append(april_exports_bracket(today))
    gate = _sum(headline(f) for f in today.values())
    rows.append(
        Row(
            "Traditional model near its maximum [s 10]",
            "“this gate”: read as both lanes",
            1350,
            "≈ 1,350",
            gate,
            "capacity, both lanes, baseline hours (bounds summed)",
        )
    )
    return rows


#: Tân Thanh 1090-1091 carries about 300 fresh-fruit trucks a day in season [s 32].
TAN_THANH_FRUIT = 300


def april_exports_bracket(today: Flows) -> Row:
    """The April 2025 record's exports on the two roads lie between two estimates: the
    province's exports less Tân Thanh's seasonal ~300 [s 32] (other gates take their usual
    share), and the province's exports times the roads' 22 Aug 2024 share (they take none)."""
    low = APRIL_2025["export"] - TAN_THANH_FRUIT
    high = APRIL_2025["export"] * (SHARE[(HN, "export")] + SHARE[(TT, "export")])
    return Row(
        "25–26 Apr 2025 record, exports of the two roads [s 27, 32, 89]",
        "province exports less Tân Thanh's ~300 [s 32], up to × the roads' 22 Aug 2024 share",
        (low + high) / 2,
        f"{low:,.0f} – {high:,.0f}",
        _sum(headline(today[f"{lane}.export"]) for lane in (HN, TT)),
        "capacity, exports of both lanes, baseline hours (bounds summed)",
        band=(low, high),
    )


def _sum(intervals: Iterable[Interval | None]) -> Interval | None:
    """The sum of the flows' figures, bounds summed (conservative: one bound per flow)."""
    found = list(intervals)
    known = [i for i in found if i is not None]
    if len(known) < len(found):
        return None
    mean, lo, hi = (math.fsum(i[k] for i in known) for k in range(3))
    return (mean, lo, hi)


def kpi_intervals(path: Path, replications: int, jobs: int) -> Any:
    """A function giving a KPI's (mean, lo, hi) for a run of the scenario file at ``path``."""
    scenario = load_scenario(path, {"replications": replications})
    kpis = run_experiment(scenario, jobs=jobs).kpi_summary()

    def stat(key: str) -> Interval:
        s = kpis[key]
        lo, hi = s["ci95"]
        mean = s["mean"]
        assert mean is not None and lo is not None and hi is not None, key  # 2+ replications
        return (mean, lo, hi)

    return stat


def run_rows(replications: int, jobs: int) -> list[Row]:
    stat = kpi_intervals(BASELINE, replications, jobs)
    return [
        Row(
            "22 Aug 2024, Hữu Nghị [s 22]",
            "Hữu Nghị, loaded, VN count",
            784,
            "784 (220 / 564)",
            stat(f"throughput_per_day.{HN}"),
            "cleared/day 1119-1120 (exports offered: 1.11 × the count [s 90])",
        ),
        Row(
            "22 Aug 2024, 1088/2–1089 [s 23]",
            "road, loaded, VN count",
            347,
            "347 (95 / 252)",
            stat(f"throughput_per_day.{TT}"),
            "cleared/day 1088/2-1089 (exports offered: 1.11 × the count [s 90])",
        ),
        *backlog_rows(stat),
        *response_rows(stat),
        *cn_side_rows(stat),
    ]


#: Reported export trucks still waiting on the VN side at 20:00, province-wide, scaled by the
#: two lanes' ~96 % share of the province's exports [s 99]: 22 Aug 2024 and 29 May 2025.
BACKLOG_BAND = (369 * 0.96, 498 * 0.96)


def backlog_rows(stat: Any) -> list[Row]:
    """The 20:00 export backlog, like for like (VN side), by lane, and the wider figure."""
    vn_side = "vn_side_backlog_at_report_mean"
    rows = [
        Row(
            "22 Aug 2024 and 29 May 2025, exports waiting at 20:00 [s 24, 90, 99]",
            "province, VN side, × 0.96 for the two lanes [s 99]",
            sum(BACKLOG_BAND) / 2,
            f"{BACKLOG_BAND[0]:,.0f} – {BACKLOG_BAND[1]:,.0f}",
            stat(f"{vn_side}.direction.export"),
            "exports on the VN side at 20:00, both lanes",
            band=BACKLOG_BAND,
        )
    ]
    rows += [
        Row(
            f"(by lane) exports waiting at 20:00, {lane}",
            "not reported by lane",
            None,
            "–",
            stat(f"{vn_side}.{lane}.export"),
            f"exports on the VN side at 20:00, {lane}",
            judged=False,
        )
        for lane in (HN, TT)
    ]
    rows.append(
        Row(
            "(wider scope) the same reports [s 24, 90]",
            "province, VN side",
            sum(BACKLOG_BAND) / 2,
            f"{BACKLOG_BAND[0]:,.0f} – {BACKLOG_BAND[1]:,.0f}",
            stat("backlog_at_report_mean.direction.export"),
            "exports anywhere in the network at 20:00 (both sides)",
            judged=False,
        )
    )
    return rows


#: ~500 VN trucks parked at Po Chai in 2025 [s 37]; judged within ±20 % [a].
PARKED_BAND = (400.0, 600.0)
#: Youyiguan's vehicle trips in 2025, both directions, empties included [s 34].
CN_TRIPS_2025 = 2740


def cn_side_rows(stat: Any) -> list[Row]:
    """VN trucks in China (row 37) and empty returns against China's trip count (row 34)."""
    return [
        Row(
            "VN trucks parked at Pò Chài, 2025 [s 37]",
            "CN side, empty VN trucks (the count's place: Pò Chài)",
            500,
            "≈ 500",
            stat("away_at_report_mean.direction.export"),
            "VN trucks in China at 20:00, loaded or empty, both lanes",
            band=PARKED_BAND,
        ),
        Row(
            "(part of the above) empties parked in the CN yards",
            "CN side, empty VN trucks in their dwell",
            500,
            "≈ 500",
            stat("empties_parked_at_report_mean.direction.export"),
            "empty VN trucks parked in the CN yards at 20:00, both lanes",
            judged=False,
        ),
        Row(
            "Youyiguan vehicle trips ÷ 2, 2025 [s 34]",
            "Youyiguan port, CN count, all trips incl. empties, halved",
            CN_TRIPS_2025 / 2,
            f"{CN_TRIPS_2025:,} ÷ 2 = {CN_TRIPS_2025 // 2:,}",
            stat("empties_per_day"),
            "empty returns/day, both lanes and directions (ordinary-day demand)",
            judged=False,
        ),
    ]


def share(part: Interval, whole: Interval) -> Interval:
    """A share of two means (the interval is the means' bounds combined, conservative)."""
    return (part[0] / whole[0], part[1] / whole[2], part[2] / whole[1])


def response_rows(stat: Any) -> list[Row]:
    """Who waits at 20:00 (fruit, unregistered) and what the platform sheds (no count found)."""
    exports = stat("vn_side_backlog_at_report_mean.direction.export")
    return [
        Row(
            "29 May 2025, fruit among the exports waiting at 20:00 [s 90]",
            "province, VN side, share",
            184 / 498,
            "184 / 498 = 37 %",
            share(stat("platform_held_at_report_mean.cargo.fruit"), exports),
            "fruit held by the platform ÷ exports on the VN side at 20:00 (fruit dispatched first)",
            judged=False,
            percent=True,
        ),
        Row(
            "(no count found) deferred to a later day",
            "both lanes, exports",
            None,
            "–",
            stat("deferred_per_day"),
            "trucks deferred per day",
            judged=False,
        ),
        Row(
            "(no count found) diverted to other gates [s 19, 23, 32]",
            "both lanes, exports",
            None,
            "–",
            stat("diverted_per_day"),
            "trucks diverted per day",
            judged=False,
        ),
    ]


def may_2023_rows(replications: int, jobs: int) -> list[Row]:
    """The peak month of May 2023 (scenarios/peak_may_2023.yaml) against row 46."""
    stat = kpi_intervals(ROOT / "scenarios" / "peak_may_2023.yaml", replications, jobs)
    waiting = stat("vn_side_backlog_at_report_mean.direction.export")
    return [
        Row(
            "May 2023, exports waiting at 20:00 [s 46]",
            "Hữu Nghị, VN side (the lanes together)",
            898,
            "898",
            waiting,
            "peak_may_2023.yaml: exports on the VN side at 20:00, both lanes",
            judged=False,  # a check of order, not fitted: no band was set before the run
        ),
        Row(
            "May 2023, of them unregistered [s 46]",
            "share of the above",
            299 / 898,
            "299 / 898 = 33 %",
            share(stat("vn_side_backlog_at_report_unregistered_mean"), waiting),
            "peak_may_2023.yaml: unregistered share of the 20:00 backlog",
            judged=False,
            percent=True,
        ),
    ]


#: Hữu Nghị routes, Aug 2024 - Jul 2025: 431,800 vehicles, about 1,190 a day [s 29].
YEAR_CLEARED = 1190


def year_rows(replications: int, jobs: int) -> list[Row]:
    """A year of today's operation (scenarios/year_2025.yaml): clearance and the end backlog."""
    stat = kpi_intervals(ROOT / "scenarios" / "year_2025.yaml", replications, jobs)
    offered = stat("offered_per_day")
    return [
        Row(
            "Hữu Nghị routes, Aug 2024 – Jul 2025 [s 29]",
            "both routes, loaded, VN count",
            YEAR_CLEARED,
            "431,800 / yr ≈ 1,190 / day",
            stat("throughput_per_day"),
            "year_2025.yaml: cleared/day, both lanes",
        ),
        Row(
            "(no queue reported) backlog at the end of the year",
            "both lanes, all trucks",
            offered[0],
            "below 2 days of demand",
            stat("backlog_end"),
            "year_2025.yaml: trucks in the system at the end (against 2 days offered)",
            band=(0.0, 2 * offered[0]),
        ),
    ]


def verdict(row: Row) -> str:
    if row.model is None or row.observed is None:
        return "–"
    gap = row.model[0] / row.observed - 1.0
    if row.band is not None and row.judged:
        low, high = row.band
        inside = low <= row.model[0] <= high
        return f"{gap:+.0%} of the middle, {'within' if inside else 'OUTSIDE'} the range"
    if not row.judged:
        return f"{gap:+.0%} (not judged)"
    return f"{gap:+.0%} {'within' if abs(gap) <= TOLERANCE else 'OUTSIDE'} ±10 %"


def fmt(interval: Interval | None, percent: bool = False) -> str:
    if interval is None:
        return "–"
    if percent:
        return "{:.0%} [{:.0%}, {:.0%}]".format(*interval)
    mean, lo, hi = interval
    return f"{mean:,.0f} [{lo:,.0f}, {hi:,.0f}]"


def render(rows: list[Row], replications: int, year_replications: int, wall: float) -> str:
    lines = [
        START,
        f"Generated by `scripts/calibration_table.py` (do not edit by hand): baseline.yaml and "
        f"peak_may_2023.yaml, {replications} replications per figure, year_2025.yaml "
        f"{year_replications}; seed 20250501; Python "
        f"{platform.python_version()}, {wall / 60:.1f} min.",
        "",
        "| observed (date, source) | scope | observed | model [95 % CI] | model figure | gap |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.observation} | {row.scope} | {row.observed_text}"
            f" | {fmt(row.model, row.percent)} | {row.measure} | {verdict(row)} |"
        )
    return "\n".join([*lines, END])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--year-replications", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    regular = capacities(HOURS_2024, args.replications, args.jobs)
    extended = capacities(HOURS_2024_TO_22, args.replications, args.jobs)
    today = capacities({}, args.replications, args.jobs)
    rows = peak_rows(regular, extended) + capacity_rows(today)
    rows += run_rows(args.replications, args.jobs)
    rows += may_2023_rows(args.replications, args.jobs)
    rows += year_rows(args.year_replications, args.jobs)
    wall = time.perf_counter() - started
    table = render(rows, args.replications, args.year_replications, wall)
    text = MODEL_DOC.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{MODEL_DOC}: no {START} … {END} markers")
    MODEL_DOC.write_text(pattern.sub(lambda _m: table, text), encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
