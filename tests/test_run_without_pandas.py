"""``run_sim.py run`` writes its tables, summary and records without pandas, and the files are
the ones pandas wrote: every CSV and ``summary.json`` byte for byte, the Parquet records as
the same table when read back. The references below are the pandas code the run used before
(the DataFrame methods that report, compare and sweep still use).
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal

from gatesim.core.columns import row_columns
from gatesim.core.csv_table import write_csv
from gatesim.experiment.output import json_safe, queues_table, write_json, write_tables
from gatesim.experiment.records_parquet import _text
from gatesim.experiment.runner import ExperimentResult, run_experiment
from gatesim.model.loading import load_scenario
from gatesim.model.network_table import network_tables
from gatesim.stats.group_means import group_means
from gatesim.stats.intervals import Summary, summarise

ROOT = Path(__file__).resolve().parents[1]
NEVER_OPEN = """\
name: never-open
days: 3
warmup_days: 1
replications: 2
seed: 11
calendars:
  shut: {hours: [["07:00", "20:00"]], closed_dates: [2025-05-01, 2025-05-02, 2025-05-03]}
nodes: {src: {kind: source}, out: {kind: sink}}
stations:
  s1: {servers: 1, service: {dist: exponential, mean: 1.0}}
  s2: {servers: 2, service: {dist: exponential, mean: 1.0}, calendar: shut}
routes:
  r: {origin: src, steps: [s1], destination: out}
  r2: {origin: src, steps: [s2], destination: out}
arrivals:
  a: {lane: L, direction: export, cargo: c, route: r, per_day: 400}
  b: {lane: L, direction: import, cargo: c, route: r2, per_day: 20}
"""


class PandasResult(ExperimentResult):
    """The summary as pandas computed it: KPI and station means from the DataFrames."""

    def kpi_names(self) -> list[str]:
        return [str(name) for name in self.kpi_table().columns]

    def kpi_summary(self, names: Sequence[str] | None = None) -> dict[str, Summary]:
        table = self.kpi_table()
        chosen = names if names is not None else list(table.columns)
        return {name: summarise(table[name].tolist()) for name in chosen if name in table}

    def station_summary(self) -> dict[str, dict[str, float]]:
        table = self.station_table().drop(columns="replication")
        means = table.groupby("station", sort=False).mean(numeric_only=True)
        return {
            str(name): {str(k): float(v) for k, v in row.items()} for name, row in means.iterrows()
        }


def write_with_pandas(folder: Path, result: ExperimentResult) -> None:
    """The tables as ``write_tables`` wrote them with pandas (records aside)."""
    result.kpi_table().to_csv(folder / "replications.csv")
    result.station_table().to_csv(folder / "stations.csv", index=False)
    pd.DataFrame({f"rep{o.replication}": o.cleared_by_day for o in result.outcomes}).rename_axis(
        "day"
    ).to_csv(folder / "daily_cleared.csv")
    hourly = [
        {
            "replication": o.replication,
            "hour": h,
            "cleared_mean": o.cleared_by_hour[h],
            "in_system_mean": o.in_system_by_hour[h],
        }
        for o in result.outcomes
        for h in range(24)
    ]
    pd.DataFrame(hourly).to_csv(folder / "hourly.csv", index=False)
    result.hourly_summary().to_csv(folder / "hourly_summary.csv", index=False)
    queues_table(result).to_csv(folder / "queues_over_time.csv", index=False)
    network = network_tables(result.scenario)
    network.nodes.to_csv(folder / "network_nodes.csv", index=False)
    network.edges.to_csv(folder / "network_edges.csv", index=False)
    pandas = PandasResult(**{f.name: getattr(result, f.name) for f in dataclasses.fields(result)})
    write_json(folder / "summary.json", json_safe(pandas.summary()))
    for attr in ("trucks", "visits"):
        table = getattr(result, f"{attr}_table")()
        if table is not None:
            table.to_parquet(folder / f"{attr}.parquet", index=False)


def _experiment(path: Path, overrides: dict[str, Any]) -> ExperimentResult:
    return run_experiment(load_scenario(path, overrides))


CASES = {
    # the platform (diverted, deferred trucks), staging yards, many NaN station figures
    "baseline": (ROOT / "scenarios/baseline.yaml", {"days": 4, "replications": 3}),
    # empty returns, with visit records
    "backhaul": (
        ROOT / "scenarios/s6_backhaul.yaml",
        {"days": 3, "warmup_days": 1.0, "replications": 2, "records.visits": True},
    ),
    # reneging and balking figures; one replication: NaN interval bounds everywhere
    "abandon": (
        ROOT / "gatesim/validation/scenarios/mmc_abandon.yaml",
        {"days": 3, "warmup_days": 1.0, "replications": 1},
    ),
}


Written = tuple[ExperimentResult, Path, Path]
_WRITTEN: dict[str, Written] = {}


def _written(case: str, tmp_path_factory: pytest.TempPathFactory) -> Written:
    """The case's result, written by the run (``new``) and by the pandas code (``old``);
    each case simulated once for the module."""
    if case in _WRITTEN:
        return _WRITTEN[case]
    base = tmp_path_factory.mktemp(case)
    overrides: dict[str, Any]
    if case == "never_open":
        path, overrides = base / "never_open.yaml", {}
        path.write_text(NEVER_OPEN, encoding="utf-8")
    else:
        path, overrides = CASES[case]
    result = _experiment(path, overrides)
    new, old = base / "new", base / "old"
    new.mkdir()
    old.mkdir()
    write_tables(new, result)
    write_json(new / "summary.json", json_safe(result.summary()))
    write_with_pandas(old, result)
    _WRITTEN[case] = result, new, old
    return _WRITTEN[case]


@pytest.fixture(params=[*CASES, "never_open"])
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Written:
    return _written(request.param, tmp_path_factory)


def test_every_csv_and_the_summary_are_the_bytes_pandas_wrote(
    written: Written,
) -> None:
    _, new, old = written
    names = [*sorted(p.name for p in old.glob("*.csv")), "summary.json"]
    assert len(names) == 9
    assert sorted(p.name for p in new.glob("*.csv")) == names[:-1]
    for name in names:
        assert (new / name).read_bytes() == (old / name).read_bytes(), name


def test_the_records_read_back_as_the_table_pandas_wrote(
    written: Written,
) -> None:
    result, new, old = written
    kept = [attr for attr in ("trucks", "visits") if (old / f"{attr}.parquet").exists()]
    assert kept == [a for a in ("trucks", "visits") if getattr(result.outcomes[0], a) is not None]
    for attr in kept:
        assert_frame_equal(
            pd.read_parquet(new / f"{attr}.parquet"),
            pd.read_parquet(old / f"{attr}.parquet"),
            check_exact=True,
        )
        old_schema = pq.read_schema(old / f"{attr}.parquet").remove_metadata()
        assert pq.read_schema(new / f"{attr}.parquet") == old_schema


def test_a_station_that_never_opens_has_nan_figures(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The never-open case above holds NaN station means (written as null)."""
    _, new, _ = _written("never_open", tmp_path_factory)
    s2 = json.loads((new / "summary.json").read_text())["stations"]["s2"]
    assert s2["utilization"] is None and s2["served"] == 0.0 and s2["arrived"] > 0


# ------------------------------------------------------------------ the pieces, against pandas
TRICKY_FLOATS = [
    0.1 + 0.2,
    1e-5,
    1e-4,
    123456789012345678.0,
    1e16,
    9999999999999998.0,
    -0.0,
    5e-324,
    1.7976931348623157e308,
    float("inf"),
    -float("inf"),
    math.nan,
    2.0,
    -3.25,
]


def test_csv_writer_matches_to_csv_on_awkward_values(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [
        {"f": x, "i": k, "b": k % 2 == 0, "s": s, "mixed": m, "ints_and_none": n}
        for k, (x, s, m, n) in enumerate(
            zip(
                TRICKY_FLOATS,
                ["a,b", 'say "hi"', "line\nbreak", "", " pad ", "ünï", None] * 2,
                [1, "x", 2.5, None, True, math.nan, "y"] * 2,
                [1, None] * 7,
                strict=True,
            )
        )
    ]
    rows[3] = {k: v for k, v in rows[3].items() if k != "i"}  # a row without a key
    rows.append({"only_here": np.float64(0.5), "bools_and_nan": True})
    rows.append({"bools_and_nan": False, "i": np.int64(7)})
    write_csv(tmp_path / "new.csv", row_columns(rows))
    pd.DataFrame(rows).to_csv(tmp_path / "old.csv", index=False)
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()


def test_shortest_float_text_matches_pandas_on_random_bits(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2**63, size=20_000, dtype=np.int64)
    values = np.concatenate([bits.view(np.float64), rng.normal(0, 1e6, 5000)])
    columns = {"x": values, "y": np.round(rng.normal(0, 1e3, len(values)), 3)}
    write_csv(tmp_path / "new.csv", columns)
    pd.DataFrame(columns).to_csv(tmp_path / "old.csv", index=False)
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()


def test_group_means_are_pandas_grouped_means_bit_for_bit() -> None:
    rng = np.random.default_rng(5)
    specials = [math.nan, math.inf, -math.inf, 1e300, -1e300, 1e-300, 0.0]
    rows: list[dict[str, Any]] = []
    for k in range(400):
        row: dict[str, Any] = {
            "station": f"s{rng.integers(0, 7)}",
            "x": float(rng.normal(0, 10.0 ** rng.integers(-8, 12))),
            "n": int(rng.integers(-1000, 1000)),
            "label": "text",
        }
        if k % 5 == 0:
            row["x"] = specials[k % len(specials)]
        if k % 3:
            row["sometimes"] = float(rng.random()) * 1e15 + 0.1
        rows.append(row)
    expected = pd.DataFrame(rows).groupby("station", sort=False).mean(numeric_only=True)
    got = group_means(rows, "station")
    assert list(got) == [str(name) for name in expected.index]
    for name, means in got.items():
        assert list(means) == list(expected.columns)
        for column, value in means.items():
            reference = float(expected.loc[name, column])
            assert value == reference or (math.isnan(value) and math.isnan(reference))


# ------------------------------------------------------------------ the process imports
def _imported_by_run(tmp_path: Path, *args: str) -> list[str]:
    """The pandas and pyarrow modules a ``run_sim.py run`` process has imported at its end."""
    # run_sim.py ends with os._exit after running the exit handlers: report from one
    driver = (
        "import atexit, json, runpy, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(\n"
        "    m for m in sys.modules if m.split('.')[0] in ('pandas', 'pyarrow')))))\n"
        f"sys.argv = ['run_sim.py', 'run', *{list(args)!r}, '--out', {str(tmp_path / 'out')!r}]\n"
        "runpy.run_path('run_sim.py', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", driver], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_a_default_run_imports_no_pandas(tmp_path: Path) -> None:
    args = ("scenarios/baseline.yaml", "--days", "2", "--warmup-days", "1", "-r", "2")
    loaded = _imported_by_run(tmp_path, *args)
    assert (tmp_path / "out" / "trucks.parquet").is_file()  # the records are written ...
    assert "pyarrow.parquet" in loaded  # ... with pyarrow
    assert not [m for m in loaded if m.split(".")[0] == "pandas"]


def test_a_run_without_records_imports_neither_pandas_nor_pyarrow(tmp_path: Path) -> None:
    args = ("benchmarks/scenarios/tandem.yaml", "--days", "3", "--warmup-days", "1")
    assert _imported_by_run(tmp_path, *args) == []
    assert (tmp_path / "out" / "summary.json").is_file()


def test_text_columns_are_gathered_byte_for_byte() -> None:
    names = ["xe tải", "", "a,b", "货车", "x"]
    codes = np.array([3, 0, 1, 4, 3, 2, 0], dtype=np.uint16)
    text = _text(names, codes)
    assert str(text.type) == "large_string"
    assert text.to_pylist() == [names[c] for c in codes]
    assert _text(names, codes[:0]).to_pylist() == []
