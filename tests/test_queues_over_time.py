"""Queues over time (``queues_over_time.csv``): top-of-hour snapshots, exact on a hand timeline.

One server, service 100 min (deterministic), trucks arriving at minutes 5, 15, 25 and 35:
truck 0 is served on [5, 105), truck 1 on [105, 205), truck 2 on [205, 305), truck 3 on
[305, 405). At the top of each hour the queue (waiting) and the trucks at the station
(waiting + in service) are therefore:

    minute    0   60  120  180  240  300  360  420 ...
    waiting   0    3    2    2    1    1    0    0
    at        0    4    3    3    2    2    1    0
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import det, scenario, single_station, trace_stream

from gatesim.experiment.output import queues_table, write_tables
from gatesim.experiment.queues import QUEUE_SERIES, queues_over_time
from gatesim.experiment.runner import ExperimentResult, ReplicationOutcome, run_experiment
from gatesim.model.engine import simulate
from gatesim.report.queues_plot import queue_heatmap, queue_matrix, spillback_figure, yards_of
from gatesim.stats.intervals import t_interval

TIMES = [5.0, 15.0, 25.0, 35.0]
WAITING = [0, 3, 2, 2, 1, 1, 0] + [0] * 17
AT_STATION = [0, 4, 3, 3, 2, 2, 1] + [0] * 17
YARD = {"type": "staging_yard", "params": {"areas": [{"name": "lot", "capacity": 1}]}}


def test_hourly_snapshots_follow_the_hand_timeline() -> None:
    result = simulate(single_station(TIMES, 100.0))
    assert result.queue_by_hour["s1"].tolist() == [WAITING]
    assert result.at_station_by_hour["s1"].tolist() == [AT_STATION]
    assert result.spillback_km_by_hour == {}  # not a yard


def test_yard_spillback_by_hour_is_the_trucks_beyond_capacity() -> None:
    # one parking place, 20 m a truck on one lane: (waiting - 1) x 0.02 km when positive
    result = simulate(single_station(TIMES, 100.0, **YARD))
    expected = [max(w - 1, 0) * 0.02 for w in WAITING]
    np.testing.assert_allclose(result.spillback_km_by_hour["s1"][0], expected, rtol=0, atol=1e-12)
    assert result.queue_by_hour["s1"].tolist() == [WAITING]


def test_table_rows_and_interval_across_replications() -> None:
    # two made-up replications (first two hours): the interval is t_interval's, cut at 0
    rest = [0.0] * 22
    hourly = [
        {"waiting": {"x": [1.0, 4.0, *rest]}, "at_station": {"x": [2.0, 4.0, *rest]}},
        {"waiting": {"x": [3.0, 0.0, *rest]}, "at_station": {"x": [2.0, 6.0, *rest]}},
    ]
    table = queues_over_time(hourly, ["x"], days=1, warmup_min=60.0).iloc[:2]
    assert table["waiting_mean"].tolist() == [2.0, 2.0]
    _, lo, hi = t_interval([1.0, 3.0])
    assert lo < 0 and table["waiting_lo"].iloc[0] == 0.0 and table["waiting_hi"].iloc[0] == hi
    assert table["at_station_lo"].iloc[0] == table["at_station_hi"].iloc[0] == 2.0  # no spread
    assert table["measured"].tolist() == [False, True]  # the warm-up ends at minute 60
    assert table["spillback_km_mean"].isna().all()  # not a yard: NaN, not 0


def test_one_replication_has_no_interval() -> None:
    table = queues_over_time([{"waiting": {"x": [2.0] * 24}}], ["x"], days=1, warmup_min=0.0)
    assert (table["waiting_mean"] == 2.0).all() and table["waiting_lo"].isna().all()


def test_run_writes_the_table_with_every_station_and_hour(tmp_path: Path) -> None:
    scenario = single_station(TIMES, 100.0, days=2, **YARD).model_copy(update={"warmup_days": 0})
    result = run_experiment(scenario, replications=2)
    write_tables(tmp_path, result)
    table = pd.read_csv(tmp_path / "queues_over_time.csv")
    assert len(table) == 2 * 24 and table["hour_of_run"].tolist() == list(range(48))
    day0 = table[table["day"] == 0]
    assert day0["waiting_mean"].tolist() == WAITING  # the same trace in both replications
    assert day0["at_station_mean"].tolist() == AT_STATION
    assert day0["spillback_km_mean"].iloc[1] == pytest.approx(0.04, abs=1e-12)
    columns = [f"{s}_{k}" for s in QUEUE_SERIES for k in ("mean", "lo", "hi")]
    assert list(table.columns) == ["station", "day", "hour", "hour_of_run", "measured", *columns]


def test_outcomes_without_snapshots_give_nan() -> None:
    # outcomes made by studies that keep KPIs only (sensitivity) carry no snapshots
    empty = ReplicationOutcome(0, {}, {}, {}, [], [], [], 0.0)
    result = ExperimentResult(single_station(TIMES, 100.0), [empty])
    assert queues_table(result)["waiting_mean"].isna().all()


def test_figures_show_the_stations_with_queues() -> None:
    result = run_experiment(single_station(TIMES, 100.0, days=2, **YARD), replications=1)
    table = queues_table(result)
    matrix = queue_matrix(table)
    assert list(matrix.index) == ["s1"] and matrix.iloc[0, :7].tolist() == WAITING[:7]
    assert yards_of(table) == ["s1"]
    assert queue_heatmap(table, "t").axes and spillback_figure(table, "t").axes
    assert math.isclose(float(table["spillback_km_mean"].max()), 0.04)


def test_platform_road_spillback_by_hour() -> None:
    # test_platform's yard timeline: the platform's road holds one truck over [50, 1000), so
    # the snapshots at 60, 120, ..., 960 read 0.02 km and the others 0
    s = scenario(
        {"gate": {"service": det(1000)}},
        {"r": {"origin": "src", "steps": ["gate"], "destination": "out"}},
        {"a": trace_stream([0, 10, 20, 30, 40, 50])},
        platform={
            "p": {
                "streams": ["a"],
                "yards": [{"name": "a", "capacity": 2}, {"name": "b", "capacity": 1}],
                "truck_spacing_m": 20,
                "dispatch": {"station": "gate", "below": 1},
            }
        },
    )
    result = simulate(s)
    expected = [0.02 if 1 <= hour <= 16 else 0.0 for hour in range(24)]
    np.testing.assert_allclose(result.spillback_km_by_hour["p.approach_road"][0], expected)
    assert list(result.spillback_km_by_hour) == ["p.approach_road"]
    table = queues_table(run_experiment(s, replications=1))
    road = table[table["station"] == "p.approach_road"]
    assert road["spillback_km_mean"].tolist() == pytest.approx(expected)
    assert road["waiting_mean"].isna().all()  # a road, not a station
