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
