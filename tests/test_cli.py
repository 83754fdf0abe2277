"""The command line end to end: ``run_sim.py run`` output files, --force, --records, --help.

Runs are real ``run_sim.py`` subprocesses on a tiny scenario (three interpreter starts in all;
each costs a few CPU-seconds of imports).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gatesim.cli import main
from gatesim.core.results import TRUCK_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
RUN_SIM = ROOT / "run_sim.py"

TINY = """\
name: tiny
days: 3
warmup_days: 1
seed: 11
nodes: {src: {kind: source}, out: {kind: sink}}
stations:
  gate: {servers: 2, service: {dist: exponential, mean: 4.0}}
  scan: {type: xray_scanner, servers: 1, service: {dist: uniform, low: 1, high: 3}}
routes: {r: {origin: src, steps: [gate, scan], destination: out}}
arrivals: {a: {lane: L, direction: export, cargo: c, route: r, per_day: 300}}
"""
RUN_ARGS = ["--replications", "2", "--seed", "7", "--records", "-q"]
KPIS = ("throughput_per_day", "time_in_system_mean_h", "time_in_system_p95_h", "backlog_end")
STATION_KEYS = ("utilization", "wait_mean_min", "queue_mean", "queue_max")


def run_sim(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, str(RUN_SIM), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``run tiny.yaml --out OUT -r 2 --seed 7 --records``: (scenario file, output folder)."""
    folder = tmp_path_factory.mktemp("cli")
    scenario = folder / "tiny.yaml"
    scenario.write_text(TINY, encoding="utf-8")
    out = folder / "out"
    done = run_sim("run", scenario, "--out", out, *RUN_ARGS)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert str(out) in done.stdout
    return scenario, out


def test_run_writes_summary(first_run: tuple[Path, Path]) -> None:
    _, out = first_run
    summary = read_json(out / "summary.json")
    assert summary["scenario"] == "tiny"
    assert summary["days"] == 3
    assert summary["replications"] == 2
    assert summary["seed"] == 7
    for name in KPIS:
        stat = summary["kpis"][name]
        assert set(stat) >= {"mean", "ci95"}, name
        lo, hi = stat["ci95"]
        assert lo <= stat["mean"] <= hi, name
    assert 200 < summary["kpis"]["throughput_per_day"]["mean"] < 400  # 300 a day arrive
    assert set(summary["stations"]) == {"gate", "scan"}
    for name, row in summary["stations"].items():
        for key in STATION_KEYS:
            assert isinstance(row[key], (int, float)), (name, key)
        assert 0 < row["utilization"] <= 1
    totals = summary["conservation"]
    assert totals["arrived"] > 0
    assert totals["arrived"] == totals["cleared"] + totals.get("lost", 0) + totals["in_system"]


def test_run_writes_tables(first_run: tuple[Path, Path]) -> None:
    _, out = first_run
    reps = pd.read_csv(out / "replications.csv")
    assert len(reps) == 2
    assert set(KPIS) <= set(reps.columns)
    summary = read_json(out / "summary.json")
    mean = reps["throughput_per_day"].mean()
    assert mean == pytest.approx(summary["kpis"]["throughput_per_day"]["mean"])
    stations = pd.read_csv(out / "stations.csv")
    assert len(stations) == 4  # 2 replications x 2 stations
    assert set(stations["station"]) == {"gate", "scan"}
    assert set(STATION_KEYS) <= set(stations.columns)


def test_run_writes_manifest(first_run: tuple[Path, Path]) -> None:
    _, out = first_run
    manifest = read_json(out / "manifest.json")
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["scenario_hash"])
    assert manifest["seed"] == 7
    assert [s["replication"] for s in manifest["replication_seeds"]] == [0, 1]
    assert len({s["seed_material"] for s in manifest["replication_seeds"]}) == 2
    assert manifest["gatesim_version"]


def test_records_write_trucks_parquet(first_run: tuple[Path, Path]) -> None:
    _, out = first_run
    trucks = pd.read_parquet(out / "trucks.parquet")
    assert set(TRUCK_COLUMNS) <= set(trucks.columns)
    assert sorted(trucks["replication"].unique()) == [0, 1]
    summary = read_json(out / "summary.json")
    assert len(trucks) == summary["conservation"]["arrived"]
    assert (out / "visits.parquet").is_file()


def test_existing_out_refused_then_replaced(first_run: tuple[Path, Path]) -> None:
    scenario, out = first_run
    before = read_json(out / "summary.json")
    marker = out / "marker.txt"
    marker.write_text("old results", encoding="utf-8")
    # refused without --force (checked before simulating; in-process to save a start-up)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", str(scenario), "--out", str(out), *RUN_ARGS])
    assert code == 2
    assert err.getvalue().count("\n") == 1 and "--out" in err.getvalue()
    assert marker.is_file()
    # replaced with --force; 'run_sim.py FILE' is 'run_sim.py run FILE'
    done = run_sim(scenario, "--out", out, *RUN_ARGS, "--force")
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    after = read_json(out / "summary.json")
    assert after["kpis"] == before["kpis"]  # same seed, same results
    assert sorted(p.name for p in out.parent.iterdir()) == ["out", "tiny.yaml"]  # no leftovers


def test_help_mentions_validate() -> None:
    done = run_sim("--help")
    assert done.returncode == 0, done.stderr
    assert "validate" in done.stdout and "run" in done.stdout
    assert done.stderr == ""
