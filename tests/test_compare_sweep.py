"""Building blocks of compare and sweep: paired differences, sweep axes and points, the store."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gatesim.core.errors import ScenarioError, UsageError
from gatesim.experiment.compare import comparison_document, comparison_table, unique_folders
from gatesim.experiment.runner import ExperimentResult, ReplicationOutcome
from gatesim.experiment.store import PartialStore, partial_folder
from gatesim.experiment.study import Design, next_count, replication_key, search_limit
from gatesim.experiment.sweep import Axis, parse_axis, slug, sweep_points
from gatesim.model.loading import load_scenario

SCENARIO = """\
name: small
days: 5
warmup_days: 1
replications: 2
seed: 3
nodes:
  src: {kind: source}
  out: {kind: sink}
stations:
  xray:
    servers: 1
    service: {dist: exponential, mean: 10}
routes:
  r: {origin: src, steps: [xray], destination: out}
arrivals:
  a: {lane: L1, direction: export, cargo: goods, route: r, per_day: 50}
"""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def outcome(replication: int, **kpis: float) -> ReplicationOutcome:
    return ReplicationOutcome(
        replication=replication,
        kpis=dict(kpis),
        stations={},
        conservation={"arrived": 0, "cleared": 0, "lost": 0, "in_system": 0},
        cleared_by_day=[0],
        cleared_by_hour=[0.0] * 24,
        in_system_by_hour=[0.0] * 24,
        wall_seconds=0.0,
    )


def result(scenario_file: Path, values: list[float]) -> ExperimentResult:
    scenario = load_scenario(scenario_file)
    outcomes = [outcome(r, throughput_per_day=v) for r, v in enumerate(values)]
    return ExperimentResult(scenario=scenario, outcomes=outcomes)


# --------------------------------------------------------------------------- compare
def test_paired_difference_uses_the_pairs_and_welch_does_not(scenario_file: Path) -> None:
    a = result(scenario_file, [100.0, 110.0, 120.0, 130.0])
    b = result(scenario_file, [101.0, 111.5, 120.5, 131.0])  # b - a = 1, 1.5, 0.5, 1
    document = comparison_document([a, b], ["a", "b"], ["a.yaml", "b.yaml"])
    diff = document[1]["diff_vs_first"]["throughput_per_day"]
    assert diff["mean"] == pytest.approx(1.0)
    assert diff["ci95"][0] > 0  # the spread of the pairs is small
    unpaired = document[1]["diff_vs_first_unpaired"]["throughput_per_day"]
    assert unpaired["ci95"][0] < 0 < unpaired["ci95"][1]  # the spread across replications is not
    assert unpaired["paired_ci95_width"] < unpaired["ci95_width"]
    assert document[0]["kpis"]["throughput_per_day"]["mean"] == pytest.approx(115.0)


def test_unequal_replication_counts_are_refused(scenario_file: Path) -> None:
    a, b = result(scenario_file, [1.0, 2.0, 3.0]), result(scenario_file, [1.0, 2.0])
    with pytest.raises(UsageError, match="equal replication counts"):
        comparison_document([a, b], ["a", "b"], ["a.yaml", "b.yaml"])


def test_single_replication_gives_undefined_intervals_as_none(scenario_file: Path) -> None:
    a, b = result(scenario_file, [1.0]), result(scenario_file, [2.0])
    document = comparison_document([a, b], ["a", "b"], ["a.yaml", "b.yaml"])
    assert document[1]["diff_vs_first"]["throughput_per_day"] == {"mean": 1.0, "ci95": [None, None]}
    table = comparison_table(document)
    assert list(table["kpi"]) == ["throughput_per_day", "throughput_per_day"]
    assert table["diff_lo"].isna().all()  # empty in the CSV


def test_folder_names_are_unique_and_safe() -> None:
    assert unique_folders(["base", "base", "x y/z", "base"]) == [
        "base",
        "base-2",
        "x-y-z",
        "base-3",
    ]


# --------------------------------------------------------------------------- sweep axes
def test_axis_values_are_yaml_scalars() -> None:
    axis = parse_axis("stations.xray.servers=1, 2.5,true,fifo")
    assert axis == Axis("stations.xray.servers", (1, 2.5, True, "fifo"))


@pytest.mark.parametrize(
    "text", ["servers", "=1,2", "x.servers=1,,2", "x.servers=[1, 2]", "x.servers={a: 1}"]
)
def test_malformed_axes_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_axis(text)


def test_points_are_the_full_factorial_last_axis_fastest(scenario_file: Path) -> None:
    axes = [parse_axis("stations.xray.servers=1,2"), parse_axis("arrivals.a.per_day=40,60,80")]
    points = sweep_points(scenario_file, axes, {"days": 4})
    assert [
        (p.values["stations.xray.servers"], p.values["arrivals.a.per_day"]) for p in points
    ] == [
        (1, 40),
        (1, 60),
        (1, 80),
        (2, 40),
        (2, 60),
        (2, 80),
    ]
    assert points[4].scenario.stations["xray"].servers == 2
    assert points[4].scenario.arrivals["a"].per_day == 60
    assert all(p.scenario.days == 4 and p.scenario.seed == 3 for p in points)  # shared: CRN
    assert points[4].folder == "004-xray.servers-2_a.per_day-60"


@pytest.mark.parametrize(
    ("axis", "message"),
    [
        ("stations.xray.server=1,2", "unknown field 'server'"),
        ("stations.xray.servers=1,zero", "valid integer"),
        ("stations.xray.servers=1,0", "greater than or equal to 1"),
        ("stations.gate.servers=1,2", "no such field 'gate'"),
    ],
)
def test_every_point_is_validated_before_running(
    scenario_file: Path, axis: str, message: str
) -> None:
    with pytest.raises(ScenarioError, match=message) as caught:
        sweep_points(scenario_file, [parse_axis(axis)])
    assert "\n" not in str(caught.value)


def test_repeated_axis_is_refused(scenario_file: Path) -> None:
    with pytest.raises(ScenarioError, match="given twice"):
        sweep_points(scenario_file, [parse_axis("days=2,3"), parse_axis("days=4")])


def test_slug_is_file_system_safe() -> None:
    assert slug({"a.b.c": "x/y z", "d": 1.5}) == "b.c-x-y-z_d-1.5"


# --------------------------------------------------------------------------- store and design
def test_store_round_trip_and_corrupt_files(tmp_path: Path) -> None:
    store = PartialStore(partial_folder(tmp_path / "out"))
    assert store.folder == tmp_path / "out.partial"
    saved = outcome(3, throughput_per_day=12.5)
    store.save("k" * 64, saved)
    assert store.load("k" * 64, 3) == saved
    assert store.load("k" * 64, 2) is None
    assert store.load("j" * 64, 3) is None  # another scenario: not stored
    with pytest.raises(ScenarioError, match="a record of another scenario"):
        store.load("k" * 32 + "j" * 32, 3)  # same folder (the hash's first 32), another key
    store.path("k" * 64, 3).write_bytes(b"not a record")
    with pytest.raises(ScenarioError, match=r"000003\.json: not readable JSON"):
        store.load("k" * 64, 3)  # refused rather than trusted or silently recomputed
    assert store.count() == 1
    store.remove()
    assert not store.folder.exists()


def test_replication_key_ignores_the_count_but_not_the_warmup(scenario_file: Path) -> None:
    s = load_scenario(scenario_file)
    assert replication_key(s) == replication_key(s.model_copy(update={"replications": 9}))
    assert replication_key(s) != replication_key(s.model_copy(update={"warmup_days": 2.0}))
    assert replication_key(s) != replication_key(s.model_copy(update={"seed": 4}))


def test_next_count_follows_law_and_respects_the_cap() -> None:
    sample = [100.0, 104.0, 96.0]  # mean 100, s 4: relative half-width 0.099 with 3 values
    tight = Design(auto_replications=True, target_rel=0.01, max_replications=50)
    assert next_count([sample], [0.099], 3, tight) == 50  # needs about 64: capped
    loose = Design(auto_replications=True, target_rel=0.05, max_replications=50)
    assert next_count([sample], [0.099], 3, loose) == 5  # t(4)·4/√5 = 4.97 <= 5 (not t(2))
    assert next_count([[0.0, 1.0, -1.0]], [math.inf], 3, loose) == 6  # undefined: double
    assert next_count([sample, sample], [0.01, 0.099], 3, loose) == 5  # the worst one decides


def test_search_limit_matches_mser5() -> None:
    assert search_limit(9) == 0  # fewer than two batches of 5
    assert search_limit(20) == 10
    assert search_limit(30) == 15
