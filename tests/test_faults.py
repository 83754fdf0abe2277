"""Faults while a run writes, and what the next run finds: a full disk while replications are
stored, a replication store changed by someone else, staging folders of killed runs.

Every fault ends in one line and exit code 2, with no half-written file, and the replications
that did finish stay available to ``--resume``.
"""

from __future__ import annotations

import errno
import io
import json
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from builders import TINY_YAML
from test_hardening import one_line_error, run, tree

import gatesim.experiment.store as store_module
from gatesim.experiment.output import remove_leftovers
from gatesim.experiment.store import RECORDS_SUFFIX, PartialStore, partial_folder

FOUR = TINY_YAML.replace("days: 2", "days: 2\nreplications: 4\nseed: 5")


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(FOUR, encoding="utf-8")
    return path


def fill_disk_after(monkeypatch: pytest.MonkeyPatch, saved: int) -> None:
    """The store's writes fail with ENOSPC once ``saved`` records were written."""
    original, calls = json.dump, [0]

    def dump(document: Any, handle: Any, **options: Any) -> None:
        calls[0] += 1
        if calls[0] > saved:
            handle.write('{"format": 3, "outc')  # a partial write, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        original(document, handle, **options)

    monkeypatch.setattr(store_module.json, "dump", dump)


def test_a_full_disk_while_storing_is_one_line_and_keeps_finished_replications(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        fill_disk_after(patch, saved=2)
        line = one_line_error(run("run", scenario, "--out", out, "-q"))
    assert line == (
        "error: --out: cannot write the replication store: No space left on device; "
        f"2 finished replication(s) kept in {partial_folder(out)} for --resume"
    )
    assert not out.exists()
    stored = sorted(p.name for p in partial_folder(out).glob("*/*"))
    # no half-written record, no temp file; truck records (on by default) beside each JSON
    assert stored == ["000000.json", "000000.records.npz", "000001.json", "000001.records.npz"]

    resumed = run("run", scenario, "--out", out, "--resume", "-q")
    assert resumed.code == 0, resumed.stderr
    fresh = run("run", scenario, "--out", tmp_path / "fresh", "-q")
    assert fresh.code == 0, fresh.stderr
    assert (out / "replications.csv").read_text() == (
        tmp_path / "fresh" / "replications.csv"
    ).read_text()
    resumed_trucks = pd.read_parquet(out / "trucks.parquet")  # two replications from the store
    assert resumed_trucks.equals(pd.read_parquet(tmp_path / "fresh" / "trucks.parquet"))
    assert sorted(resumed_trucks["replication"].unique()) == [0, 1, 2, 3]
    assert not partial_folder(out).exists()


def interrupted_store(scenario: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run until two replications are stored, then fail: the first stored record's path."""
    with monkeypatch.context() as patch:
        fill_disk_after(patch, saved=2)
        assert run("run", scenario, "--out", out, "-q").code == 2
    return sorted(partial_folder(out).glob("*/*.json"))[0]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (pickle.dumps({"format": 1}), "not readable JSON"),
        (b'{"format": 1, "key": "x", "outcome": {}}', "not a record of this gatesim version"),
        (b'{"format": 3, "key": "other", "outcome": {}}', "a record of another scenario"),
        (b"[1, 2, 3]", "not a record of this gatesim version"),
        (b"\xff\xfe", "not readable JSON"),
    ],
)
def test_a_changed_store_is_refused_by_resume_in_one_line(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, why: str
) -> None:
    out = tmp_path / "out"
    record = interrupted_store(scenario, out, monkeypatch)
    record.write_bytes(content)
    before = tree(tmp_path)
    line = one_line_error(run("run", scenario, "--out", out, "--resume", "-q"))
    assert line.startswith(f"error: --resume: {record}: {why}; ")
    assert tree(tmp_path) == before  # nothing written, the store kept as it was


def _npz(**arrays: Any) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _stored_trucks(npz: Path, **changes: Any) -> bytes:
    with np.load(npz, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    return _npz(**{**arrays, **changes})


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({}, "not readable records (not an .npz of plain arrays)"),
        ({"trucks.truck": np.array([object()], dtype=object)}, "not readable records (not an"),
        (
            {"trucks.outcome": np.full(2, 9, dtype=np.uint16)},
            "malformed records (trucks.outcome has codes outside its table)",
        ),
        (
            {"trucks.created_min": np.zeros(2, dtype=np.int64)},
            "malformed records (trucks.created_min is not of kind d)",
        ),
        ({"trucks.cleared_min": np.zeros(1)}, "malformed records (trucks columns differ in"),
        (
            {"hourly.0": np.zeros(3, dtype=np.int64)},
            "malformed records (hourly.0 is not a series of floats)",
        ),
    ],
)
def test_changed_records_beside_a_record_are_refused_in_one_line(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Any, why: str
) -> None:
    """The records' .npz is data only: an object (pickled) array, codes outside the text
    table, a column or hourly series of the wrong type or length are each refused, nothing
    is written."""
    out = tmp_path / "out"
    npz = interrupted_store(scenario, out, monkeypatch).with_suffix(RECORDS_SUFFIX)
    npz.write_bytes(_stored_trucks(npz, **change) if change else b"not a zip")
    before = tree(tmp_path)
    line = one_line_error(run("run", scenario, "--out", out, "--resume", "-q"))
    expected = f"error: --resume: {npz}: {why}"
    assert line.startswith(expected)
    assert tree(tmp_path) == before


def test_a_record_with_a_malformed_field_is_refused(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    record = interrupted_store(scenario, out, monkeypatch)
    document = json.loads(record.read_text(encoding="utf-8"))
    document["outcome"]["kpis"] = {"throughput_per_day": "__import__('os')"}
    record.write_text(json.dumps(document), encoding="utf-8")
    line = one_line_error(run("run", scenario, "--out", out, "--resume", "-q"))
    assert line.startswith(
        f"error: --resume: {record}: malformed outcome (kpis.throughput_per_day)"
    )


def test_a_store_round_trips_an_outcome_exactly(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    record = interrupted_store(scenario, out, monkeypatch)
    key = json.loads(record.read_text(encoding="utf-8"))["key"]
    store = PartialStore(partial_folder(out))
    outcome = store.load(key, 0)
    assert outcome is not None and outcome.replication == 0
    store.save(key, outcome)
    assert store.load(key, 0) == outcome


# --------------------------------------------------------------------------- leftovers
def dead_pid() -> int:
    """A process id that belonged to a process which has exited."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_staging_folders_of_killed_runs_are_removed_and_a_live_ones_kept(
    scenario: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    dead, alive = dead_pid(), os.getpid()
    for name in (f".out.{dead}.abc123.tmp", f".out.old-{dead}", f".out.{alive}.xyz.tmp"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text("{}", encoding="utf-8")
    (tmp_path / ".out.notes.tmp").mkdir()  # not a staging name: not ours to remove
    assert run("run", scenario, "--out", out, "-q").code == 0
    assert {p.name for p in tmp_path.glob(".out*")} == {".out.notes.tmp", f".out.{alive}.xyz.tmp"}
    assert remove_leftovers(out) == []


# --------------------------------------------------------------------------- memory
def test_a_run_that_cannot_fit_is_refused_before_simulating(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The estimate for FOUR run serially, by hand: 190 MB for this process and 190 MB for the
    simulating one, 200 trucks x 400 bytes held at once and 200 x 110 bytes of truck records
    in the replication, and 4 x 200 x 110 bytes of records kept here. The refusal comes
    before any file is written."""
    from gatesim.experiment import memory
    from gatesim.model.loading import load_scenario

    loaded = load_scenario(scenario)
    expected = 190_000_000 * 2 + 200 * 400 + 200 * 110 + 4 * 200 * 110
    assert memory.estimate_bytes([loaded], 1) == expected
    assert memory.estimate_bytes([loaded], 0) == 190_000_000 + 4 * 200 * 110  # remote workers
    out = tmp_path / "out"
    line = one_line_error(run("run", scenario, "--out", out, "--max-memory", "300M"))
    assert line == (
        f"error: {scenario}: arrivals: this run would need about 0.38 GB (expected trucks x "
        "replications, records and 1 worker(s)) but --max-memory is 0.30 GB; shorten the run, "
        "turn records off, use fewer --jobs, or give --max-memory SIZE to allow it"
    )
    assert not out.exists() and not partial_folder(out).exists()
    monkeypatch.setattr(memory, "available_bytes", lambda: expected - 1)
    one_line_error(run("run", scenario, "--out", out), "but available memory is 0.38 GB")
    assert run("run", scenario, "--out", out, "-q", "--max-memory", "1G").code == 0


def test_visit_records_add_their_columns_and_the_event_log_to_the_estimate(
    scenario: Path,
) -> None:
    """FOUR's one station: 200 visits a replication. With visit records each costs 48 bytes
    in the worker and in this process for each of the 4 replications, and 100 bytes in the
    event log of one replication."""
    from gatesim.experiment import memory
    from gatesim.model.loading import load_scenario

    without = load_scenario(scenario)
    with_visits = load_scenario(scenario, {"records.visits": True})
    added = memory.estimate_bytes([with_visits], 1) - memory.estimate_bytes([without], 1)
    assert added == 200 * 48 * (4 + 1) + 200 * 100
