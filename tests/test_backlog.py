"""``initial_backlog``: trucks carried in from before the window, waiting at time 0."""

from __future__ import annotations

from builders import det, scenario, timeline, trace_stream, truck_rows

from gatesim.model.engine import simulate

HOURS = {"h": {"hours": [["08:00", "10:00"]]}}


def _one_hour_station(stream: dict[str, object]) -> object:
    """One server open 08:00-10:00, 30 min a truck, fed by ``stream``."""
    return scenario(
        {"s1": {"service": det(30), "calendar": "h"}},
        {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
        {"a": stream},
        calendars=HOURS,
    )


def test_backlog_waits_for_opening_ahead_of_the_day() -> None:
    # 3 trucks carried in arrive at 0 and wait for 08:00 (480); one server, 30 min each:
    #   backlog trucks 0, 1, 2: 480-510, 510-540, 540-570 (waits 480, 510, 540);
    #   the day's truck (id 3) arrives at 500 and queues behind them: 570-600.
    s = _one_hour_station(trace_stream([500], initial_backlog=3))
    result = simulate(s)
    assert timeline(result) == [
        (0, "s1", 0.0, 480.0, 510.0),
        (1, "s1", 0.0, 510.0, 540.0),
        (2, "s1", 0.0, 540.0, 570.0),
        (3, "s1", 500.0, 570.0, 600.0),
    ]
    assert result.conservation() == {"arrived": 4, "cleared": 4, "lost": 0, "in_system": 0}
    # without the backlog the day's truck is served on arrival
    empty = simulate(_one_hour_station(trace_stream([500])))
    assert timeline(empty) == [(0, "s1", 500.0, 500.0, 530.0)]


def _random_stream(backlog: int) -> object:
    return scenario(
        {"s1": {"service": det(1), "servers": 50}},
        {"r": {"origin": "src", "steps": ["s1"], "destination": "out"}},
        {
            "a": {
                "lane": "L",
                "direction": "export",
                "cargo": "c",
                "route": "r",
                "per_day": 200,
                "channels": {"green": 0.5, "red": 0.5},
                "attributes": {"eligible": {"yes": 0.3, "no": 0.7}},
                "initial_backlog": backlog,
            }
        },
        days=2,
        seed=7,
    )


def test_backlog_keeps_the_generated_trucks_common_random_numbers() -> None:
    """The generated trucks are the same with and without a backlog: same times, same
    channels; the backlog's own draws come from streams of their own."""
    plain = truck_rows(simulate(_random_stream(0)))  # type: ignore[arg-type]
    carried = truck_rows(simulate(_random_stream(40)))  # type: ignore[arg-type]
    assert len(carried) == len(plain) + 40
    assert [t["created_min"] for t in carried[:40]] == [0.0] * 40
    assert all(t["created_min"] > 0.0 for t in plain)

    def key(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
        return [(t["created_min"], t["channel"]) for t in rows]

    assert key(carried[40:]) == key(plain)
    # the backlog's channels are drawn, not copied: both channels occur among 40 trucks
    assert {t["channel"] for t in carried[:40]} == {"green", "red"}
