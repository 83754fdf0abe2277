"""Demand calendar (growth, seasons, weekdays), --year, extends lists, trade value and season
KPIs, against hand-computed values."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from builders import det, scenario, trace_stream, truck_rows

from gatesim.cli import build_parser, run_overrides
from gatesim.model import arrivals as arrivals_module
from gatesim.model.arrivals import hourly_means
from gatesim.model.engine import simulate
from gatesim.model.loading import load_scenario
from gatesim.scenario.demand import shifted_start
from gatesim.scenario.loader import apply_overrides, load_raw
from gatesim.scenario.schema import GrowthSpec, Scenario
from gatesim.stats.kpis import replication_kpis

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
ONE_STATION = {"s1": {"service": det(1)}}
ROUTE = {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}}


def stream(cargo: str, direction: str = "export", lane: str = "L", per_day: float = 24) -> Any:
    return {"lane": lane, "direction": direction, "cargo": cargo, "route": "r", "per_day": per_day}


def two_streams(days: int, start: str, demand: dict[str, Any], **fields: Any) -> Scenario:
    """A fruit export and a goods import, 24 trucks/day each (flat profile: 1 per hour)."""
    arrivals = {"fruit": stream("fruit"), "goods": stream("goods", "import")}
    return scenario(
        ONE_STATION, ROUTE, arrivals, days=days, start_date=start, demand=demand, **fields
    )


def daily(s: Scenario, name: str) -> list[float]:
    return [round(v, 9) for v in hourly_means(s, s.arrivals[name]).reshape(s.days, 24).sum(1)]


# --------------------------------------------------------------------------- hourly means
def test_factors_on_known_dates() -> None:
    # 2025-12-28 is a Sunday. Growth 1.1^2 = 1.21 -> 29.04/day. The MM-DD season wraps the
    # year end (30 Dec - 2 Jan, fruit only, x2); the absolute one is 2-3 Jan 2026 (x0.5, all);
    # Saturdays x0.9, Sundays x0.8.
    s = two_streams(
        10,
        "2025-12-28",
        {
            "year": 2027,
            "growth": {"annual_rate": 0.1, "base_year": 2025},
            "seasons": [
                {
                    "name": "ye",
                    "from": "12-30",
                    "to": "01-02",
                    "factor": 2,
                    "where": {"cargo": ["fruit"]},
                },
                {"name": "abs", "from": "2026-01-02", "to": "2026-01-03", "factor": 0.5},
            ],
            "weekdays": {"sat": 0.9, "sun": 0.8},
        },
    )
    g = 24 * 1.21
    #            Sun 28    Mon 29  Tue 30 Wed 31  Thu 1   Fri 2        Sat 3          Sun 4
    fruit = [g * 0.8, g, 2 * g, 2 * g, 2 * g, 2 * g * 0.5, g * 0.5 * 0.9, g * 0.8, g, g]
    goods = [g * 0.8, g, g, g, g, g * 0.5, g * 0.5 * 0.9, g * 0.8, g, g]
    assert daily(s, "fruit") == pytest.approx(fruit, abs=1e-9)
    assert daily(s, "goods") == pytest.approx(goods, abs=1e-9)
    # the hourly shape within a day is the profile's (flat here)
    assert hourly_means(s, s.arrivals["fruit"])[48:72] == pytest.approx([2 * g / 24] * 24)


def test_where_filters_combine_lane_direction_and_cargo() -> None:
    arrivals = {
        "a": stream("fruit", "export", "L1"),
        "b": stream("fruit", "export", "L2"),
        "c": stream("other", "export", "L1"),
        "d": stream("fruit", "import", "L1"),
    }
    s = scenario(
        ONE_STATION,
        ROUTE,
        arrivals,
        days=1,
        start_date="2025-06-01",
        demand={
            "seasons": [
                {
                    "name": "x",
                    "from": "06-01",
                    "to": "06-01",
                    "factor": 3,
                    "where": {"lane": ["L1"], "direction": ["export"], "cargo": ["fruit"]},
                }
            ],
            "weekdays": [{"days": ["sun"], "factor": 0.5, "where": {"lane": ["L2"]}}],
        },
    )
    assert [daily(s, k)[0] for k in "abcd"] == [72.0, 12.0, 24.0, 24.0]


def test_growth_table_interpolates_geometrically() -> None:
    table = GrowthSpec.model_validate({"by_year": {2025: 1.0, 2027: 1.5, 2030: 2.6}})
    assert table.factor(2025) == 1.0
    assert table.factor(2027) == 1.5
    assert table.factor(2026) == pytest.approx(math.sqrt(1.5))
    assert table.factor(2028) == pytest.approx(1.5 * (2.6 / 1.5) ** (1 / 3))
    with pytest.raises(ValueError, match="year 2031 is outside"):
        table.factor(2031)
    rate = GrowthSpec.model_validate({"annual_rate": 0.12, "base_year": 2025})
    assert rate.factor(2030) == pytest.approx(1.12**5)
    s = two_streams(1, "2028-03-01", {"year": 2028, "growth": {"by_year": {2025: 1, 2030: 2}}})
    assert daily(s, "fruit") == [pytest.approx(24 * 2 ** (3 / 5))]


def test_feb_29_recurring_season_and_year_shift() -> None:
    season = {"seasons": [{"name": "leap", "from": "02-29", "to": "03-01", "factor": 2}]}
    leap = two_streams(3, "2028-02-28", season)  # 28 Feb, 29 Feb, 1 Mar
    common = two_streams(3, "2027-02-27", season)  # 27 Feb, 28 Feb, 1 Mar
    assert daily(leap, "goods") == [24.0, 48.0, 48.0]
    assert daily(common, "goods") == [24.0, 24.0, 48.0]
    assert shifted_start(dt.date(2028, 2, 29), 2030) == dt.date(2030, 2, 28)
    assert shifted_start(dt.date(2025, 5, 1), 2030) == dt.date(2030, 5, 1)


# --------------------------------------------------------------------------- --year
def test_year_flag_sets_year_and_moves_start_date(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text(
        "name: t\nstart_date: 2028-02-29\ndays: 2\n"
        "nodes: {src: {kind: source}, out: {kind: sink}}\n"
        "stations: {s1: {service: {dist: deterministic, value: 1}}}\n"
        "routes: {r: {origin: src, steps: [s1], destination: out}}\n"
        "arrivals: {a: {lane: L, direction: export, cargo: c, route: r, per_day: 10}}\n"
        "demand: {growth: {annual_rate: 0.2, base_year: 2025}}\n",
        encoding="utf-8",
    )
    args = build_parser().parse_args(["run", str(file), "--year", "2030"])
    overrides = run_overrides(args)
    assert overrides["demand.year"] == 2030
    s = load_scenario(file, overrides)
    assert s.demand.year == 2030 and s.start_date == dt.date(2030, 2, 28)
    assert daily(s, "a") == pytest.approx([10 * 1.2**5] * 2)
    # without a demand section in the file: the year is added, start_date moves all the same
    raw = apply_overrides({"name": "x"}, {"demand.year": 2027}, file)
    assert raw == {"name": "x", "demand": {"year": 2027}, "start_date": "2027-05-01"}


def test_compare_and_sweep_take_year() -> None:
    parser = build_parser()
    for argv in (["compare", "a.yaml", "b.yaml"], ["sweep", "a.yaml", "--set", "seed=1,2"]):
        assert run_overrides(parser.parse_args([*argv, "--year", "2027"]))["demand.year"] == 2027


# --------------------------------------------------------------------------- extends lists
def test_extends_list_merges_in_order_child_on_top(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x-a: 1\ndays: 5\nseed: 1\nname: a\n", encoding="utf-8")
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "b.yaml").write_text(
        "days: 7\nreport_time: '19:00'\ndemand: {year: 2025}\n", encoding="utf-8"
    )
    (tmp_path / "c.yaml").write_text(
        "extends: [a.yaml, parts/b.yaml]\nname: c\nseed: 3\n", encoding="utf-8"
    )
    raw = load_raw(tmp_path / "c.yaml")
    assert raw == {
        "days": 7,
        "seed": 3,
        "name": "c",
        "report_time": "19:00",
        "demand": {"year": 2025},
    }


# --------------------------------------------------------------------------- expected counts
def test_seasonal_year_truck_counts() -> None:
    """Over the shipped 2025 calendar, arrivals per season match the sum of the hourly means.

    ~468,000 expected trucks (sd ~685): the total is checked to 0.5 % (over 3 sd), far below
    the 12.8 % that ignoring the calendar would give; every season's count to 4 sd.
    """
    s = load_scenario(SCENARIOS / "year_2025.yaml")
    from gatesim.scenario.demand import season_days

    expected = np.zeros(s.days)
    counts = np.zeros(s.days)
    rng = np.random.default_rng(7)
    for arrival in s.arrivals.values():
        means = hourly_means(s, arrival)
        expected += means.reshape(s.days, 24).sum(1)
        times = arrivals_module.generate(s, arrival, rng).times
        counts += np.bincount((times // 1440).astype(int), minlength=s.days)
    flat = sum(a.per_day for a in s.arrivals.values()) * s.days
    assert expected.sum() / flat - 1 > 0.1
    assert abs(counts.sum() - expected.sum()) < 0.005 * expected.sum()
    assert 460_000 < expected.sum() < 475_000  # hand check: 1,133.9/day x 365 x ~1.13
    for season in s.demand.seasons:
        days = season_days(s, season)
        mu = expected[days].sum()
        assert abs(counts[days].sum() - mu) < 4 * math.sqrt(mu) + 1, season.name
    # the Tet closure days run at 0.2 of an ordinary day (Tue 28 - Fri 31 Jan 2025)
    assert expected[27:31] == pytest.approx([1133.9 * 0.2] * 4)
    # Sat 3 May 2025 (day 122): fruit_season x1.3 on fruit (146.9 + 100.1), spring_peak x1.3
    # on all, weekend x1.05; Wed 20 Aug (day 231): durian_autumn x1.2 on fruit only
    fruit = 146.9 + 100.1
    rest = 1133.9 - fruit
    assert expected[122] == pytest.approx((fruit * 1.3 + rest) * 1.3 * 1.05)
    assert expected[231] == pytest.approx(fruit * 1.2 + rest)
    assert expected[0] == pytest.approx(1133.9)  # Wed 1 Jan: no season


def test_fruit_only_season_keeps_other_streams_identical() -> None:
    """Common random numbers: a season on fruit leaves the goods stream's trucks unchanged."""
    base = {"seasons": [{"name": "p", "from": "06-01", "to": "06-02", "factor": 1.0}]}
    peak = {
        "seasons": [
            {
                "name": "p",
                "from": "06-01",
                "to": "06-02",
                "factor": 3.0,
                "where": {"cargo": ["fruit"]},
            }
        ]
    }
    runs = [simulate(two_streams(3, "2025-06-01", d)) for d in (base, peak)]
    rows = [truck_rows(r) for r in runs]
    goods = [[t["created_min"] for t in rr if t["cargo"] == "goods"] for rr in rows]
    fruit = [[t["created_min"] for t in rr if t["cargo"] == "fruit"] for rr in rows]
    assert goods[0] == goods[1]
    assert len(fruit[1]) > 1.8 * len(fruit[0])


# --------------------------------------------------------------------------- KPIs
def tiny(**fields: Any) -> Scenario:
    """One 24 h station, service 120 min for fruit (export) and goods (import) alike."""
    arrivals = {
        "f": trace_stream([100, 1400, 1500, 1600], cargo="fruit"),
        "g": trace_stream([1450, 2000], cargo="goods", direction="import"),
    }
    return scenario({"s1": {"service": det(120), "servers": 10}}, ROUTE, arrivals, days=2, **fields)


def test_trade_value_kpis_exact() -> None:
    s = tiny(warmup_days=1, trade_value={"per_truck": {"fruit": 30_000, "goods": 60_000}})
    k = replication_kpis(simulate(s))
    # cleared after the warm-up (1,440 min): fruit 1400 (-> 1520), 1500, 1600; goods both
    assert k["value_cleared_musd_per_day"] == pytest.approx((3 * 30_000 + 2 * 60_000) / 1e6)
    assert k["value_cleared_musd_per_day.cargo.fruit"] == pytest.approx(0.09)
    assert k["value_cleared_musd_per_day.L.export"] == pytest.approx(0.09)
    assert k["value_cleared_musd_per_day.direction.import"] == pytest.approx(0.12)
    assert k["value_cleared_musd_per_day.L"] == pytest.approx(0.21)
    # delayed: trucks created after the warm-up, 2 h each: 2 fruit + 2 goods
    delayed = (2 * 2 * 30_000 + 2 * 2 * 60_000) / 1e6
    assert k["value_delayed_musd_h_per_day"] == pytest.approx(delayed)
    assert k["value_delayed_musd_h_per_day.cargo.goods"] == pytest.approx(0.24)
    assert "value_cleared_musd_per_day" not in replication_kpis(simulate(tiny()))


def test_season_kpis_exact() -> None:
    # 2025-03-01 + days: day 0 = 1 Mar (warm-up), day 1 = 2 Mar, day 2 = 3 Mar, day 3 = 4 Mar.
    arrivals = {
        "a": trace_stream([100, 1500, 4400], cargo="a"),
        "b": trace_stream([3000], cargo="b"),
    }
    station = {
        "service": det(60),
        "servers": 5,
        "service_when": [{"when": {"cargo": "b"}, "service": det(180)}],
    }
    seasons = [
        {"name": "s", "from": "03-02", "to": "03-03", "factor": 1},  # days 1-2
        {"name": "t", "from": "2025-03-01", "to": "2025-03-02", "factor": 1},  # day 0 is warm-up
        {"name": "warm", "from": "03-01", "to": "03-01", "factor": 1},  # warm-up only
        {"name": "t", "from": "2025-03-04", "to": "2025-03-04", "factor": 1},  # t again: day 3
    ]
    s = scenario(
        {"s1": station},
        ROUTE,
        arrivals,
        days=4,
        start_date="2025-03-01",
        warmup_days=1,
        demand={"seasons": seasons},
    )
    result = simulate(s)
    assert result.meta["seasons"] == {
        "s": [[1440.0, 4320.0]],
        "t": [[1440.0, 2880.0], [4320.0, 5760.0]],
        "warm": [],
    }
    k = replication_kpis(result)
    # season s: trucks created at 1500 (1 h) and 3000 (3 h); cleared on days 1-2: 2 in 2 days
    assert k["time_in_system_mean_h.season.s"] == pytest.approx(2.0)
    assert k["time_in_system_p50_h.season.s"] == pytest.approx(2.0)
    assert k["time_in_system_p90_h.season.s"] == pytest.approx(2.8)
    assert k["time_in_system_p95_h.season.s"] == pytest.approx(2.9)
    assert k["time_in_system_max_h.season.s"] == pytest.approx(3.0)
    assert k["throughput_per_day.season.s"] == pytest.approx(1.0)
    # season t: days 1 and 3 -> trucks 1500 and 4400 (1 h each); 2 cleared in 2 days
    assert k["time_in_system_mean_h.season.t"] == pytest.approx(1.0)
    assert k["throughput_per_day.season.t"] == pytest.approx(1.0)
    assert math.isnan(k["throughput_per_day.season.warm"])
    assert math.isnan(k["time_in_system_mean_h.season.warm"])


def test_volume_check_counts_growth_and_seasons() -> None:
    # 10,000/day x 3,000 days = 3e7 is under the 5e7 limit; x2 growth puts it over
    fields = {"days": 3000, "start_date": "2025-01-01"}
    big = {"fruit": stream("fruit", per_day=10_000)}
    scenario(ONE_STATION, ROUTE, big, **fields)
    with pytest.raises(ValueError, match="trucks expected"):
        scenario(
            ONE_STATION,
            ROUTE,
            big,
            **fields,
            demand={"year": 2026, "growth": {"annual_rate": 1.0}},
        )
