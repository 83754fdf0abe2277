"""The smart gate as actually piloted (scenarios/s3_as_piloted.yaml): what crosses by AGV,
when, and where it is cleared."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from gatesim import load_scenario, simulate

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
WINDOW = (18 * 60 + 30, 20 * 60)  # 18:30-20:00 VN time [s 93]


def test_the_pilot_carries_1088_imports_by_night_into_the_vn_yard() -> None:
    overrides = {"days": 4, "warmup_days": 0, "records": {"trucks": True, "visits": True}}
    result = simulate(load_scenario(SCENARIOS / "s3_as_piloted.yaml", overrides))
    assert result.trucks is not None and result.visits is not None
    trucks = {row[0]: row for row in result.trucks}
    route: dict[int, list[str]] = defaultdict(list)
    agv_starts = []
    for truck, station, _arrive, start, _end in result.visits:
        route[truck].append(station)
        if station == "tt_agv":
            agv_starts.append(start)
    crossed = [t for t, stations in route.items() if "tt_agv" in stations]
    cleared = [t for t in crossed if trucks[t][8] == "cleared"]
    assert len(cleared) > 20  # about 20 a night over 4 nights, the last ones still on the way
    for truck in crossed:
        lane, direction, outcome = trucks[truck][2], trucks[truck][3], trucks[truck][8]
        assert (lane, direction) == ("1088/2-1089", "import")
        stations = route[truck]
        after = stations[stations.index("tt_agv") + 1 :]
        if outcome == "cleared":  # cleared at the VN yard, as any import
            assert after[:1] == ["tt_vn_imp_gate"]
        assert "tt_vn_transship" not in stations and "tt_cn_imp_staging" not in stations
    assert all(WINDOW[0] <= start % 1440 < WINDOW[1] for start in agv_starts)
    assert not any(s.startswith("hn_") and "agv" in s for s in result.stations)


def test_the_planned_smart_lane_keeps_every_check() -> None:
    """S3 as planned: a truck that crosses by AGV still gets the far side's joint inspection
    and hand-over (exports), the VN scan and a hand-over (imports), fruit its VN quarantine
    before crossing; no agricultural import and no new vehicle crosses by AGV."""
    overrides = {"days": 3, "warmup_days": 0, "records": {"trucks": True, "visits": True}}
    result = simulate(load_scenario(SCENARIOS / "s3_smart_lane_pilot.yaml", overrides))
    assert result.trucks is not None and result.visits is not None
    trucks = {row[0]: row for row in result.trucks}
    route: dict[int, list[str]] = defaultdict(list)
    for truck, station, *_ in result.visits:
        route[truck].append(station)
    expected_after = {"export": ["gate", "inspection", "handover"], "import": ["gate", "scan"]}
    crossed = 0
    for truck, stations in route.items():
        agv = [s for s in stations if s.endswith("_agv")]
        if not agv or trucks[truck][8] != "cleared":
            continue
        crossed += 1
        lane, direction, cargo = trucks[truck][2], trucks[truck][3], trucks[truck][4]
        prefix = "hn" if lane == "1119-1120" else "tt"
        far = "cn" if direction == "export" else "vn"
        after = stations[stations.index(agv[0]) + 1 :]
        for check in expected_after[direction]:
            assert any(s.startswith(f"{prefix}_smart_{far}_{check}") for s in after), (
                truck,
                stations,
            )
        assert after[-1] == f"{prefix}_smart_{far}_handover"
        if cargo == "fruit":
            before = stations[: stations.index(agv[0])]
            assert f"{prefix}_smart_vn_quarantine" in before
        assert cargo != "new_vehicle"
        assert f"{prefix}_vn_imp_quarantine" not in stations  # agricultural imports stay
    assert crossed > 200  # ~20 % of ~1,050 cargo trucks a day over 3 days, minus the last ones
    # a container that crossed by AGV leaves its road truck at home: no empty return for it,
    # every other delivery of a returning stream sends one (empty_by_stream: created, ...,
    # carried_home in column 8)
    by_agv = defaultdict(int)
    for truck, stations in route.items():
        if any(s.endswith("_agv") for s in stations) and trucks[truck][8] == "cleared":
            by_agv[trucks[truck][1]] += 1
    streams = [info.name for info in result.streams]
    for k, name in enumerate(streams):
        created, carried_home = result.empty_by_stream[k, 0], result.empty_by_stream[k, 8]
        delivered = result.cleared_by_stream[k]
        if created or carried_home:
            assert carried_home == by_agv[name]
            assert created + carried_home == delivered
    assert result.stations["hn_agv"]["servers"] == 8.0


def test_agv_lane_lengths_are_each_lanes_own() -> None:
    """1119-1120 crosses the ~0.9 km channel [s 13]; only 1088/2-1089 has the 2.4 km Puzhai
    road [s 15, 94]; S4 keeps both."""
    for name in ("s3_smart_lane_pilot.yaml", "s4_full_smart_gate.yaml"):
        scenario = load_scenario(SCENARIOS / name)
        assert scenario.stations["hn_agv"].params["lane_km"] == 0.9
        assert scenario.stations["tt_agv"].params["lane_km"] == 2.4
        assert scenario.calendars["smart_lane_hours"].hours == (("00:00", "24:00"),)
