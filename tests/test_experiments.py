"""Experiments through the command line: compare (CRN), executors, resume, warm-up, precision.

Every test runs tiny abstract scenarios (no roads, a few stations, a few days) in-process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gatesim.cli import main
from gatesim.experiment import executors
from gatesim.experiment.store import PartialStore, partial_folder

TINY = """\
name: tiny
days: 6
warmup_days: 1
replications: 4
seed: 7
nodes:
  src: {kind: source}
  out: {kind: sink}
stations:
  docs:
    servers: 2
    service: {dist: triangular, low: 5, mode: 12, high: 20}
  xray:
    servers: 1
    service: {dist: exponential, mean: 10}
routes:
  r: {origin: src, steps: [docs, xray], destination: out}
arrivals:
  a: {lane: L1, direction: export, cargo: goods, route: r, per_day: 100}
"""

EXTRA_XRAY = """\
extends: tiny.yaml
name: tiny_extra_xray
stations:
  xray: {servers: 2}
"""

# Nothing clears in the first days (a yard stay of about four days): MSER-5 must cut them.
SLOW_START = """\
name: slow_start
days: 25
replications: 3
seed: 11
nodes:
  src: {kind: source}
  out: {kind: sink}
stations:
  gate:
    servers: 1
    service: {dist: exponential, mean: 8}
  yard:
    servers: 2000
    service: {dist: uniform, low: 5400, high: 5800}
routes:
  r: {origin: src, steps: [gate, yard], destination: out}
arrivals:
  a: {lane: L1, direction: import, cargo: goods, route: r, per_day: 100}
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (("tiny", TINY), ("extra", EXTRA_XRAY), ("slow", SLOW_START)):
        stem = "tiny" if name == "tiny" else name
        paths[name] = tmp_path / f"{stem}.yaml"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def run_cli(*args: Any) -> int:
    return main([str(a) for a in args])


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- compare
def test_compare_with_itself_gives_exactly_zero_paired_differences(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "self"
    assert run_cli("compare", files["tiny"], files["tiny"], "--out", out, "-q") == 0
    document = read_json(out / "comparison.json")
    assert [e["folder"] for e in document] == ["tiny", "tiny-2"]
    assert "diff_vs_first" not in document[0]
    diffs = document[1]["diff_vs_first"]
    assert set(diffs) >= {"throughput_per_day", "time_in_system_mean_h", "backlog_end"}
    for kpi, stat in diffs.items():
        if stat["mean"] is not None:  # undefined KPIs (no trucks in a group) stay None
            assert stat == {"mean": 0.0, "ci95": [0.0, 0.0]}, kpi
    assert document[0]["kpis"] == document[1]["kpis"]
    for folder in ("tiny", "tiny-2"):
        assert (out / folder / "summary.json").is_file()
    assert not partial_folder(out).exists()  # removed after the successful write


def test_extra_server_paired_interval_is_narrower_than_welch(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "cmp"
    assert run_cli("compare", files["tiny"], files["extra"], "--out", out, "-r", 6, "-q") == 0
    document = read_json(out / "comparison.json")
    unpaired = document[1]["diff_vs_first_unpaired"]
    for kpi in ("throughput_per_day", "time_in_system_mean_h"):
        paired = document[1]["diff_vs_first"][kpi]["ci95"]
        assert unpaired[kpi]["paired_ci95_width"] == pytest.approx(paired[1] - paired[0])
        assert unpaired[kpi]["paired_ci95_width"] < unpaired[kpi]["ci95_width"], kpi
    assert document[1]["diff_vs_first"]["time_in_system_mean_h"]["ci95"][1] < 0  # 2 beats 1
    table = pd.read_csv(out / "comparison.csv")
    assert len(table) == sum(len(entry["kpis"]) for entry in document)  # every KPI
    assert list(table["scenario"].unique()) == ["tiny", "tiny_extra_xray"]
    manifest = read_json(out / "manifest.json")
    assert manifest["kind"] == "compare"
    assert [s["seed"] for s in manifest["scenarios"]] == [7, 7]
    assert [s["replications"] for s in manifest["scenarios"]] == [6, 6]


def test_serial_processes_and_dask_give_identical_summaries(
    files: dict[str, Path], tmp_path: Path
) -> None:
    # One Dask worker keeps the test quick (each worker imports gatesim, ~4 s); out-of-order
    # delivery is exercised by the process pool here and by tests/test_executors.py for Dask.
    runs = {"serial": [], "jobs": ["--jobs", 2], "dask": ["--dask", "local"]}
    texts = {}
    for name, flags in runs.items():
        out = tmp_path / name
        assert run_cli("run", files["tiny"], "--out", out, "-r", 3, "-q", *flags) == 0
        texts[name] = (out / "summary.json").read_text(encoding="utf-8")
        assert (
            read_json(out / "manifest.json")["executor"]
            == {
                "serial": "serial",
                "jobs": "processes",
                "dask": "dask",
            }[name]
        )
    assert texts["serial"] == texts["jobs"] == texts["dask"]


# --------------------------------------------------------------------------- resume
def interrupt_after(monkeypatch: pytest.MonkeyPatch, saves: int) -> None:
    """Simulate Ctrl-C right after the ``saves``-th finished replication was stored."""
    original = PartialStore.save
    done = [0]

    def save(self: PartialStore, key: str, outcome: Any) -> None:
        original(self, key, outcome)
        done[0] += 1
        if done[0] == saves:
            raise KeyboardInterrupt

    monkeypatch.setattr(PartialStore, "save", save)


def test_interrupted_then_resumed_sweep_equals_uninterrupted(
    files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sweep = ["sweep", files["tiny"], "--set", "stations.xray.servers=1,2", "-r", 3, "-q"]
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert run_cli(*sweep, "--out", whole) == 0

    with monkeypatch.context() as patch:
        interrupt_after(patch, 4)
        assert run_cli(*sweep, "--out", resumed) == 130
    assert not resumed.exists()
    assert PartialStore(partial_folder(resumed)).count() == 4
    assert "--resume" in capsys.readouterr().err

    assert run_cli(*sweep, "--out", resumed, "--resume") == 0
    assert not partial_folder(resumed).exists()
    manifest = read_json(resumed / "manifest.json")
    assert sum(s["resumed_replications"] for s in manifest["scenarios"]) == 4
    assert (resumed / "sweep.csv").read_bytes() == (whole / "sweep.csv").read_bytes()
    for point in sorted((whole / "points").iterdir()):
        for name in ("summary.json", "replications.csv", "hourly_summary.csv"):
            again = resumed / "points" / point.name / name
            assert again.read_bytes() == (point / name).read_bytes(), (point.name, name)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "args",
    [
        ["sweep", "{tiny}", "--set", "stations.xray.server=1,2", "--out", "{out}"],
        ["sweep", "{tiny}", "--set", "stations.xray.servers=1,two", "--out", "{out}"],
        ["sweep", "{tiny}", "--set", "stations.xray.servers=1,,2", "--out", "{out}"],
        ["sweep", "{tiny}", "--set", "days=3", "--set", "days=4", "--out", "{out}"],
        ["run", "{tiny}", "--jobs", "0", "--out", "{out}"],
        ["compare", "{tiny}", "{tiny}", "--jobs", "0", "--out", "{out}"],
        ["sweep", "{tiny}", "--set", "days=3,4", "--jobs", "0", "--out", "{out}"],
        ["run", "{tiny}", "--resume"],  # resuming needs the interrupted run's --out
        ["run", "{tiny}", "--target-rel", "0.1", "--out", "{out}"],  # needs -r auto
        ["run", "{tiny}", "--warmup", "soon", "--out", "{out}"],
        ["compare", "{tiny}", "--out", "{out}"],
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    args: list[str],
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # a default results/ folder would appear here
    out = tmp_path / "out"
    argv = [a.format(tiny=files["tiny"], out=out) for a in args]
    assert exit_code(*argv) == 2
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err
    assert not out.exists() and not partial_folder(out).exists()
    assert not (tmp_path / "results").exists()


def exit_code(*args: Any) -> int:
    """main's return code, or the code of the SystemExit argparse raises on bad arguments."""
    try:
        return run_cli(*args)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_unreachable_dask_is_one_line_exit_2_nothing_written(
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT", 1.0)  # fail fast in the test
    out = tmp_path / "out"
    code = run_cli("run", files["tiny"], "--dask", "tcp://127.0.0.1:9", "--out", out, "-q")
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --dask:") and "\n" not in err
    assert not out.exists() and not partial_folder(out).exists()


# --------------------------------------------------------------------------- design
def test_auto_warmup_reports_the_mser5_truncation(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "warm"
    assert run_cli("run", files["slow"], "--warmup", "auto", "--out", out, "-q") == 0
    summary = read_json(out / "summary.json")
    warmup = summary["warmup"]
    assert warmup["method"] == "mser5"
    assert warmup["days"] >= 5 and warmup["days"] % 5 == 0  # the empty first days are cut
    assert summary["warmup_days"] == warmup["days"]
    assert read_json(out / "manifest.json")["resolved_scenario"]["warmup_days"] == warmup["days"]


def test_auto_warmup_keeps_the_file_value_when_the_run_is_too_short(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "short"
    assert run_cli("run", files["tiny"], "--warmup", "auto", "-r", 2, "--out", out, "-q") == 0
    warmup = read_json(out / "summary.json")["warmup"]
    assert warmup["method"] == "mser5" and warmup["days"] == 1.0  # 6 days < two batches of 5
    assert "not applicable" in warmup["note"]


def test_fixed_warmup_is_reported_as_fixed(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "fixed"
    assert run_cli("run", files["tiny"], "--warmup", "2", "-r", 2, "--out", out, "-q") == 0
    assert read_json(out / "summary.json")["warmup"] == {"method": "fixed", "days": 2.0}


def test_auto_replications_stop_at_target_or_cap(files: dict[str, Path], tmp_path: Path) -> None:
    loose, tight = tmp_path / "loose", tmp_path / "tight"
    common = ["run", files["tiny"], "--replications", "auto", "-q"]
    assert run_cli(*common, "--target-rel", 0.2, "--out", loose) == 0
    control = read_json(loose / "summary.json")["replication_control"]
    assert control["target_kpi"] == "throughput_per_day" and not control["cap_hit"]
    assert control["achieved_rel"] <= 0.2
    assert run_cli(*common, "--target-rel", 0.001, "--max-replications", 5, "--out", tight) == 0
    summary = read_json(tight / "summary.json")
    assert summary["replications"] == 5
    assert summary["replication_control"]["cap_hit"] is True
    assert summary["replication_control"]["achieved_rel"] > 0.001


def test_unknown_target_kpi_is_exit_2(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = run_cli(
        "run", files["tiny"], "-r", "auto", "--target-kpi", "thruput", "--out", out, "-q"
    )
    assert code == 2 and not out.exists()


def test_hourly_summary_has_a_ci_band_per_hour(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "hourly"
    assert run_cli("run", files["tiny"], "-r", 3, "--out", out, "-q") == 0
    table = pd.read_csv(out / "hourly_summary.csv")
    assert table["hour"].tolist() == list(range(24))
    for name in ("cleared", "in_system"):
        assert (table[f"{name}_lo"] <= table[f"{name}_mean"]).all()
        assert (table[f"{name}_mean"] <= table[f"{name}_hi"]).all()
    per_rep = pd.read_csv(out / "hourly.csv")
    means = per_rep.groupby("hour")["cleared_mean"].mean()
    assert table["cleared_mean"].to_numpy() == pytest.approx(means.to_numpy())
