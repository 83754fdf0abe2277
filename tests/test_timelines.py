"""Exact, hand-computed timelines: deterministic service times and replayed arrival traces.

Every expected number below is worked out by hand in the comments; floats are compared exactly
(all times are small integers or exact binary fractions, so no rounding is involved).
Visit tuples are (truck, station, arrive, start, end) in minutes; trucks are numbered in order
of arrival over all streams.
"""

from __future__ import annotations

import math

import pytest
from builders import (
    det,
    scenario,
    single_station,
    timeline,
    trace_stream,
    trucks_by_id,
    visits_by_truck,
)

from gatesim.model.engine import simulate
from gatesim.stats.kpis import replication_kpis

SRC_OUT = {"src": {"kind": "source"}, "out": {"kind": "sink"}}


def route(*steps: object) -> dict[str, object]:
    return {"r": {"origin": "src", "steps": list(steps), "destination": "out"}}


# --------------------------------------------------------------------------- plain queues
def test_single_server_fifo_trace() -> None:
    # service 3 min, arrivals 0, 1, 2, 10:
    #   truck 0: arrives 0, starts 0, ends 3                  wait 0
    #   truck 1: arrives 1, waits for truck 0, 3 -> 6         wait 2
    #   truck 2: arrives 2, waits for truck 1, 6 -> 9         wait 4
    #   truck 3: arrives 10, server idle since 9, 10 -> 13    wait 0
    result = simulate(single_station([0, 1, 2, 10], service=3.0))
    assert timeline(result) == [
        (0, "s1", 0.0, 0.0, 3.0),
        (1, "s1", 1.0, 3.0, 6.0),
        (2, "s1", 2.0, 6.0, 9.0),
        (3, "s1", 10.0, 10.0, 13.0),
    ]
    st = result.stations["s1"]
    assert st["wait_mean_min"] == 6.0 / 4  # (0 + 2 + 4 + 0) / 4
    assert st["wait_max_min"] == 4.0
    assert st["started"] == 4.0
    # queue length: 1 on [1, 2), 2 on [2, 3), 1 on [3, 6) -> area 1 + 2 + 3 = 6 truck-minutes
    assert st["queue_max"] == 2.0
    assert st["queue_mean"] == 6.0 / 1440
    # busy 4 x 3 = 12 server-minutes out of 1440
    assert st["utilization"] == 12.0 / 1440
    # time in system = end - arrival (abstract network: no travel)
    assert sorted(result.time_in_system_min.tolist()) == [3.0, 3.0, 5.0, 7.0]
    assert [t["cleared_min"] for t in trucks_by_id(result).values()] == [3.0, 6.0, 9.0, 13.0]
    assert result.conservation() == {"arrived": 4, "cleared": 4, "lost": 0, "in_system": 0}


def test_two_servers() -> None:
    # service 4 min on 2 servers, arrivals 0, 0, 0, 1, 2:
    #   trucks 0, 1 start at once (0 -> 4); truck 2 waits for the first free server (4 -> 8);
    #   truck 3 (arrived 1) takes the other server freed at 4 (4 -> 8);
    #   truck 4 (arrived 2) waits until 8 (8 -> 12).
    # waits 0, 0, 4, 3, 6 -> mean 13/5; the queue peaks at 3 on [2, 4).
    result = simulate(single_station([0, 0, 0, 1, 2], service=4.0, servers=2))
    assert timeline(result) == [
        (0, "s1", 0.0, 0.0, 4.0),
        (1, "s1", 0.0, 0.0, 4.0),
        (2, "s1", 0.0, 4.0, 8.0),
        (3, "s1", 1.0, 4.0, 8.0),
        (4, "s1", 2.0, 8.0, 12.0),
    ]
    st = result.stations["s1"]
    assert st["wait_mean_min"] == 13.0 / 5
    assert st["wait_max_min"] == 6.0
    assert st["queue_max"] == 3.0
    # busy servers: 2 on [0, 8), 1 on [8, 12) -> 20 server-minutes of 2 x 1440
    assert st["utilization"] == 20.0 / 2880
    assert st["busy_mean"] == 20.0 / 1440


def test_tandem_with_road_travel_times() -> None:
    # Roads (minutes = 60 * km / kmh): src->s1 1 km @ 60 = 1; s1->plaza 1 km @ 30 = 2;
    # plaza->s2 1 km @ 30 = 2; a direct s1->s2 1 km @ 10 = 6 (slower, must not be used);
    # s2->out 0.5 km @ 30 = 1. So s1 -> s2 takes 4 minutes via the plaza.
    # Service s1 = 2, s2 = 5; arrivals at the source at 0 and 1:
    #   truck 0: s1 at 1, serves 1 -> 3; s2 at 7, serves 7 -> 12; cleared at 13 (TIS 13)
    #   truck 1: s1 at 2, waits, 3 -> 5; s2 at 9, waits for truck 0, 12 -> 17; cleared 18 (TIS 17)
    roads = {
        "a": {"from": "src", "to": "s1", "length_km": 1, "speed_kmh": 60},
        "b": {"from": "s1", "to": "plaza", "length_km": 1, "speed_kmh": 30},
        "c": {"from": "plaza", "to": "s2", "length_km": 1, "speed_kmh": 30},
        "slow": {"from": "s1", "to": "s2", "length_km": 1, "speed_kmh": 10},
        "d": {"from": "s2", "to": "out", "length_km": 0.5, "speed_kmh": 30},
    }
    s = scenario(
        {"s1": {"service": det(2)}, "s2": {"service": det(5)}},
        route("s1", "s2"),
        {"a": trace_stream([0, 1])},
        nodes={**SRC_OUT, "plaza": {"kind": "junction"}},
        roads=roads,
    )
    result = simulate(s)
    assert timeline(result) == [
        (0, "s1", 1.0, 1.0, 3.0),
        (1, "s1", 2.0, 3.0, 5.0),
        (0, "s2", 7.0, 7.0, 12.0),
        (1, "s2", 9.0, 12.0, 17.0),
    ]
    trucks = trucks_by_id(result)
    assert (trucks[0]["cleared_min"], trucks[1]["cleared_min"]) == (13.0, 18.0)
    assert result.time_in_system_min.tolist() == [13.0, 17.0]
    assert result.stations["s2"]["wait_mean_min"] == 1.5  # (0 + 3) / 2


# --------------------------------------------------------------------------- opening hours
VN_8_TO_10 = {"h": {"hours": [["08:00", "10:00"]]}}


def test_opening_hours_wait_overrun_and_next_day() -> None:
    # Open 08:00-10:00 (480-600 and 1920-2040), service 30; arrivals 07:00, 07:05, 09:40, 09:50:
    #   truck 0: arrives 420 before opening, starts at 480 -> 510
    #   truck 1: arrives 425, behind truck 0, 510 -> 540
    #   truck 2: arrives 580, served 580 -> 610: in service at closing (600), finishes after it
    #   truck 3: arrives 590, waits; at 610 the station is closed -> next opening 1920 -> 1950
    s = single_station([420, 425, 580, 590], 30.0, days=2, calendar="h", calendars=VN_8_TO_10)
    result = simulate(s)
    assert timeline(result) == [
        (0, "s1", 420.0, 480.0, 510.0),
        (1, "s1", 425.0, 510.0, 540.0),
        (2, "s1", 580.0, 580.0, 610.0),
        (3, "s1", 590.0, 1920.0, 1950.0),
    ]
    st = result.stations["s1"]
    assert st["wait_mean_min"] == (60 + 85 + 0 + 1330) / 4
    assert st["open_hours"] == 4.0  # 2 h a day for 2 days
    assert [t["cleared_min"] for t in trucks_by_id(result).values()] == [510, 540, 610, 1950]


def test_closed_station_keeps_trucks_at_the_end() -> None:
    # One day, open 08:00-10:00; a truck arriving at 11:40 never gets served within the horizon.
    s = single_station([300, 700], 30.0, days=1, calendar="h", calendars=VN_8_TO_10)
    result = simulate(s)
    assert timeline(result) == [(0, "s1", 300.0, 480.0, 510.0)]
    assert result.conservation() == {"arrived": 2, "cleared": 1, "lost": 0, "in_system": 1}
    assert result.stations["s1"]["waiting_end"] == 1.0
    last = trucks_by_id(result)[1]
    assert last["outcome"] == "in_system" and math.isnan(last["cleared_min"])


@pytest.mark.parametrize("tz", ["UTC+8", "UTC+08:00", "Asia/Shanghai"])
def test_cn_calendar_in_beijing_time(tz: str) -> None:
    # 08:00-10:00 Beijing (UTC+8) = 07:00-09:00 model time (UTC+7) = [420, 540) and [1860, 1980).
    #   truck 0: arrives 400, waits for 420 -> 430
    #   truck 1: arrives 530 (08:50 VN, 09:50 CN), open: 530 -> 540, ends exactly at closing
    #   truck 2: arrives 545 (after 09:00 VN), waits for next day's opening: 1860 -> 1870
    cal = {"cn": {"timezone": tz, "hours": [["08:00", "10:00"]]}}
    s = single_station([400, 530, 545], 10.0, days=2, side="CN", calendar="cn", calendars=cal)
    assert timeline(simulate(s)) == [
        (0, "s1", 400.0, 420.0, 430.0),
        (1, "s1", 530.0, 530.0, 540.0),
        (2, "s1", 545.0, 1860.0, 1870.0),
    ]


def test_model_clock_in_another_timezone() -> None:
    # The model clock in Beijing time: a VN calendar 08:00-10:00 (UTC+7) opens at 09:00 model
    # time = 540. A truck arriving at 500 waits 40 minutes.
    cal = {"vn": {"timezone": "UTC+07:00", "hours": [["08:00", "10:00"]]}}
    s = scenario(
        {"s1": {"service": det(10), "calendar": "vn"}},
        route("s1"),
        {"a": trace_stream([500, 600])},
        calendars=cal,
        timezone="UTC+08:00",
    )
    assert timeline(simulate(s)) == [(0, "s1", 500.0, 540.0, 550.0), (1, "s1", 600.0, 600.0, 610.0)]


def test_fifo_kept_at_opening_time() -> None:
    # Open 08:00-10:00, service 30. Truck 0 waits from 07:00; truck 1 arrives at 08:00 sharp.
    # FIFO: truck 0 must start at 480, truck 1 at 510.
    s = single_station([420, 480], 30.0, days=1, calendar="h", calendars=VN_8_TO_10)
    assert timeline(simulate(s)) == [
        (0, "s1", 420.0, 480.0, 510.0),
        (1, "s1", 480.0, 510.0, 540.0),
    ]


def test_utilization_at_most_one_when_service_overruns_closing() -> None:
    # Open 08:00-10:00 (120 min); a single 600-minute service started at 08:00 runs to 18:00:
    # 120 busy minutes inside opening hours (utilisation 1), 480 minutes of overtime.
    s = single_station([480], 600.0, days=1, calendar="h", calendars=VN_8_TO_10)
    stats = simulate(s).stations["s1"]
    assert stats["utilization"] == 1.0
    assert stats["overtime_hours"] == 8.0


# --------------------------------------------------------------------------- disciplines
def _two_class_scenario(discipline: str, **station: object) -> dict[str, object]:
    # 'other' trucks arrive at 0, 1, 3 and 'fruit' trucks at 2, 4, so the ids are
    # 0 other, 1 other, 2 fruit, 3 other, 4 fruit. Service 10: truck 0 holds the server on
    # [0, 10) while the other four queue.
    return {
        "stations": {"s1": {"service": det(10), "discipline": discipline, **station}},
        "routes": route("s1"),
        "arrivals": {
            "fruit": trace_stream([2, 4], cargo="fruit"),
            "other": trace_stream([0, 1, 3], cargo="other"),
        },
    }


def _service_order(result: object) -> list[int]:
    return [row[0] for row in timeline(result)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "priority",
    [
        {"by": "cargo", "order": ["fruit"]},  # unlisted values come after listed ones
        {"by": "cargo", "order": ["fruit", "other"]},
        {"by": "stream", "order": ["fruit", "other"]},
    ],
)
def test_priority_perishables_first_fifo_within_class(priority: dict[str, object]) -> None:
    # At 10 the queue holds 1 (other), 2 (fruit), 3 (other), 4 (fruit): fruit first in arrival
    # order (2, 4), then the others in arrival order (1, 3).
    result = simulate(scenario(**_two_class_scenario("priority", priority=priority)))
    assert timeline(result) == [
        (0, "s1", 0.0, 0.0, 10.0),
        (2, "s1", 2.0, 10.0, 20.0),
        (4, "s1", 4.0, 20.0, 30.0),
        (1, "s1", 1.0, 30.0, 40.0),
        (3, "s1", 3.0, 40.0, 50.0),
    ]


def test_priority_is_not_preemptive() -> None:
    # A fruit truck arriving while an 'other' truck is in service waits for it to finish.
    spec = _two_class_scenario("priority", priority={"by": "cargo", "order": ["fruit"]})
    result = simulate(scenario(**spec))
    assert timeline(result)[0] == (0, "s1", 0.0, 0.0, 10.0)


@pytest.mark.parametrize(
    ("discipline", "order"), [("fifo", [0, 1, 2, 3, 4]), ("lifo", [0, 4, 3, 2, 1])]
)
def test_fifo_and_lifo_order(discipline: str, order: list[int]) -> None:
    assert _service_order(simulate(scenario(**_two_class_scenario(discipline)))) == order


def test_service_time_rules_by_attribute() -> None:
    # fruit takes 4 minutes, everything else the default 10: 0 (other) 0->10, 1 (other) 10->20,
    # 2 (fruit) 20->24, 3 (other) 24->34, 4 (fruit) 34->38.
    spec = _two_class_scenario(
        "fifo", service_when=[{"when": {"cargo": "fruit"}, "service": det(4)}]
    )
    ends = [row[4] for row in timeline(simulate(scenario(**spec)))]
    assert ends == [10.0, 20.0, 24.0, 34.0, 38.0]


# --------------------------------------------------------------------------- quarantine hold
def _quarantine(times: list[float], days: int = 1, probability: float = 1.0) -> dict[str, object]:
    return {
        "stations": {
            "q": {
                "type": "quarantine",
                "service": det(10),
                "params": {"hold_probability": probability, "hold_time": det(100)},
            }
        },
        "routes": {"r": {"origin": "src", "steps": ["q"], "destination": "out"}},
        "arrivals": {"a": trace_stream(times)},
        "days": days,
    }


def test_quarantine_hold_releases_the_server() -> None:
    # Sampling 10 min, then held 100 min without a server:
    #   truck 0: 0 -> 10 served, held 10 -> 110, cleared 110
    #   truck 1: arrives 5, starts at 10 (the server is free while truck 0 is held), 10 -> 20,
    #            held 20 -> 120, cleared 120
    result = simulate(scenario(**_quarantine([0, 5])))  # type: ignore[arg-type]
    assert timeline(result) == [(0, "q", 0.0, 0.0, 10.0), (1, "q", 5.0, 10.0, 20.0)]
    trucks = trucks_by_id(result)
    assert (trucks[0]["cleared_min"], trucks[1]["cleared_min"]) == (110.0, 120.0)
    st = result.stations["q"]
    assert (st["held"], st["served"], st["departed"], st["in_hold_end"]) == (2, 2, 2, 0)
    assert st["utilization"] == 20.0 / 1440  # the hold does not count as busy


def test_quarantine_hold_running_past_the_horizon() -> None:
    # Held until 1510 and 1520, after the 1440-minute horizon: both still in the system.
    result = simulate(scenario(**_quarantine([1400, 1405])))  # type: ignore[arg-type]
    st = result.stations["q"]
    assert (st["in_hold_end"], st["departed"], st["in_service_end"]) == (2, 0, 0)
    assert result.conservation() == {"arrived": 2, "cleared": 0, "lost": 0, "in_system": 2}
    assert result.station_gaps == {"q": 0}


def test_quarantine_without_holds() -> None:
    result = simulate(scenario(**_quarantine([0, 5], probability=0.0)))  # type: ignore[arg-type]
    trucks = trucks_by_id(result)
    assert (trucks[0]["cleared_min"], trucks[1]["cleared_min"]) == (10.0, 20.0)
    assert result.stations["q"]["held"] == 0


# --------------------------------------------------------------------------- finite queues
def test_finite_queue_rejects_exact_count() -> None:
    # 1 server, room for 2 waiting, service 10; arrivals 0 x5, 1, 15:
    #   truck 0 starts at 0; trucks 1, 2 wait; trucks 3, 4 (at 0) and 5 (at 1) are turned away;
    #   at 10 truck 1 starts, leaving one waiting, so truck 6 (at 15) gets in.
    #   Served: 0 [0,10), 1 [10,20), 2 [20,30), 6 [30,40).
    result = simulate(single_station([0, 0, 0, 0, 0, 1, 15], 10.0, queue_capacity=2))
    assert timeline(result) == [
        (0, "s1", 0.0, 0.0, 10.0),
        (1, "s1", 0.0, 10.0, 20.0),
        (2, "s1", 0.0, 20.0, 30.0),
        (6, "s1", 15.0, 30.0, 40.0),
    ]
    assert result.conservation() == {"arrived": 7, "cleared": 4, "lost": 3, "in_system": 0}
    assert result.lost_by_stream.tolist() == [3]
    st = result.stations["s1"]
    assert (st["arrived"], st["rejected"], st["served"]) == (7, 3, 4)
    assert st["queue_max"] == 2.0
    trucks = trucks_by_id(result)
    lost = {i: t["cleared_min"] for i, t in trucks.items() if t["outcome"] == "lost"}
    assert lost == {3: 0.0, 4: 0.0, 5: 1.0}  # lost at the moment they were turned away


def test_zero_waiting_room_is_a_loss_system() -> None:
    # 2 servers, no waiting room, service 10; arrivals 0, 1, 2, 11, 12:
    #   0 [0,10) and 1 [1,11) take both servers; 2 is lost; 11 finds truck 0 gone; 12 finds
    #   truck 1 gone.
    result = simulate(single_station([0, 1, 2, 11, 12], 10.0, servers=2, queue_capacity=0))
    assert [row[0] for row in timeline(result)] == [0, 1, 3, 4]
    assert result.conservation() == {"arrived": 5, "cleared": 4, "lost": 1, "in_system": 0}


def test_lost_trucks_counted_per_stream() -> None:
    # Stream b's truck at 1 and stream a's truck at 2 both find the single place taken.
    s = scenario(
        {"s1": {"service": det(10), "queue_capacity": 0}},
        route("s1"),
        {"a": trace_stream([0, 2]), "b": trace_stream([1, 20])},
    )
    result = simulate(s)
    assert result.lost_by_stream.tolist() == [1, 1]
    assert result.cleared_by_stream.tolist() == [1, 1]
    assert result.arrived_by_stream.tolist() == [2, 2]


# --------------------------------------------------------------------------- routing
def test_branch_by_channel_and_certain_choices() -> None:
    # Stream g is all green, stream r all red (green share 0). Green -> sg, red -> sr; then a
    # choice with p = 0/1 always takes y and a choice with p = 1/0 always takes z; x is never
    # visited. Poisson arrivals (about 1000 trucks) exercise the random choice streams.
    steps = [
        {"branch": "channel", "cases": {"green": ["sg"], "red": ["sr"]}},
        {"choose": [{"p": 0.0, "steps": ["x"]}, {"p": 1.0, "steps": ["y"]}]},
        {"choose": [{"p": 1.0, "steps": ["z"]}, {"p": 0.0, "steps": ["x"]}]},
        {"branch": "cargo", "cases": {"fruit": ["x"]}, "default": []},
    ]
    stream = {"lane": "L", "direction": "export", "cargo": "c", "route": "r", "per_day": 500}
    s = scenario(
        {name: {"service": det(0.5), "servers": 5} for name in ("sg", "sr", "x", "y", "z")},
        route(*steps),
        {
            "g": {**stream, "channels": {"green": 1.0}},
            "r": {**stream, "channels": {"green": 0.0, "red": 1.0}},
        },
        days=2,
    )
    result = simulate(s)
    trucks = trucks_by_id(result)
    paths = {
        truck: [v["station"] for v in visits] for truck, visits in visits_by_truck(result).items()
    }
    assert len(paths) > 1500
    for truck, path in paths.items():
        first = "sg" if trucks[truck]["stream"] == "g" else "sr"
        assert path == [first, "y", "z"][: len(path)]
    assert result.stations["x"]["arrived"] == 0
    assert {t["channel"] for t in trucks.values() if t["stream"] == "r"} == {"red"}


# --------------------------------------------------------------------------- warm-up
def test_warmup_excludes_early_trucks_from_time_in_system() -> None:
    # Warm-up 1 day of 2, service 50; arrivals 100, 1400, 1401, 1510:
    #   truck 0: 100 -> 150, cleared before the warm-up ends: not measured at all
    #   truck 1: 1400 -> 1450, cleared after the warm-up but created before: counts in
    #            throughput, not in time in system
    #   truck 2: arrives 1401, starts 1450 (wait 49, counted: it started after the warm-up),
    #            ends 1500; created before the warm-up: no time in system
    #   truck 3: 1510 -> 1560: time in system 50
    s = scenario(
        {"s1": {"service": det(50)}},
        route("s1"),
        {"a": trace_stream([100, 1400, 1401, 1510])},
        days=2,
        warmup_days=1.0,
    )
    result = simulate(s)
    assert result.time_in_system_min.tolist() == [50.0]
    assert result.cleared_after_warmup_by_stream.tolist() == [3]
    kpis = replication_kpis(result)
    assert kpis["throughput_per_day"] == 3.0  # 3 trucks over 1 measured day
    # offered: only truck 3 arrives after the warm-up, so the share cleared is 3 (the
    # warm-up's queue clears in the measured day)
    assert result.arrived_after_warmup_by_stream.tolist() == [1]
    assert (kpis["offered_per_day"], kpis["cleared_share"]) == (1.0, 3.0)
    assert kpis["time_in_system_mean_h"] == 50.0 / 60
    st = result.stations["s1"]
    assert (st["started"], st["wait_mean_min"], st["wait_max_min"]) == (2, 24.5, 49.0)
    # statistics restart at 1440: one waiting truck on [1440, 1450) -> area 10;
    # busy on [1440, 1500) and [1510, 1560) -> 110 server-minutes of 1440
    assert st["queue_mean"] == 10.0 / 1440
    assert st["utilization"] == 110.0 / 1440
