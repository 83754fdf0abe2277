"""Writing an experiment's results: into a temporary folder first, moved into place at the end.

A crash or Ctrl-C mid-write leaves the old folder (if any) untouched and no partial summary.
An existing folder is replaced only with ``force=True``.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gatesim.core.columns import infer_column, row_columns
from gatesim.core.csv_table import write_csv
from gatesim.core.errors import ScenarioError
from gatesim.core.randomness import replication_seed
from gatesim.core.results import TRUCK_COLUMNS, VISIT_COLUMNS
from gatesim.experiment.queues import queue_columns, queues_over_time
from gatesim.experiment.records_parquet import write_records
from gatesim.experiment.runner import ExperimentResult, ReplicationOutcome
from gatesim.scenario.platform import ROAD
from gatesim.scenario.schema import Scenario

if TYPE_CHECKING:  # the run writes its tables without pandas (gatesim.core.csv_table)
    import pandas as pd


def check_output_folder(out: Path, force: bool) -> None:
    """Fail early (before simulating) when the output folder cannot be used: it exists and
    ``force`` is off, it holds the current folder (replacing it would delete the user's files),
    or its parent cannot be written (checked by creating and removing a probe folder)."""
    try:
        _refuse_enclosing_folder(out)
        if out.exists() and not force:
            raise ScenarioError(
                None, "--out", "output folder already exists; use --force to replace it", str(out)
            )
        if out.exists() and not out.is_dir():
            raise ScenarioError(None, "--out", "exists and is not a folder", str(out))
        ancestor = next((p for p in out.absolute().parents if p.exists()), None)
        if ancestor is not None and not ancestor.is_dir():
            raise ScenarioError(None, "--out", f"'{ancestor}' is a file, not a folder", str(out))
        _probe_writable(ancestor or out.absolute().parent, out)
        remove_leftovers(out)
    except OSError as exc:
        raise _write_error(out, exc, "cannot use the output folder") from None


def remove_leftovers(out: Path) -> list[Path]:
    """Remove the staging folders (``.NAME.PID.XXXX.tmp``) and set-aside old results
    (``.NAME.old-PID``) that a killed run of the same ``--out`` left beside it. Only those of
    processes that no longer exist: a concurrent run's staging folder is left alone."""
    removed: list[Path] = []
    if not out.parent.is_dir():
        return removed
    for path in out.parent.glob(f".{glob.escape(out.name)}.*"):
        pid = _owner_pid(path.name[len(out.name) + 2 :])
        if pid is not None and not _alive(pid) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _owner_pid(rest: str) -> int | None:
    """The process id in ``PID.XXXX.tmp`` or ``old-PID``, else None (not ours)."""
    if rest.startswith("old-") and rest[4:].isdigit():
        return int(rest[4:])
    first, _, tail = rest.partition(".")
    return int(first) if first.isdigit() and tail.endswith(".tmp") else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _refuse_enclosing_folder(out: Path) -> None:
    """``--out .``, ``--out ..`` or ``--out /`` with ``--force`` would delete the user's folder."""
    target, here = Path(os.path.realpath(out)), Path(os.path.realpath(os.getcwd()))
    if target == here or target in here.parents or target.parent == target:
        raise ScenarioError(
            None,
            "--out",
            "is the current folder, a folder containing it or the root; results replace the "
            "whole --out folder, so give a new folder (e.g. results/run1)",
            str(out),
        )


def _probe_writable(folder: Path, out: Path) -> None:
    """Create and remove an empty folder in ``folder`` (where the results will be staged)."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".gatesim-probe-", suffix=".tmp", dir=folder))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ScenarioError(
            None, "--out", f"cannot write in '{folder}': {reason}", str(out)
        ) from None


def _write_error(out: Path, exc: OSError, what: str) -> ScenarioError:
    reason = exc.strerror or str(exc)
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(out) else ""
    return ScenarioError(None, "--out", f"{what}: {reason}{where}", str(out))


@contextmanager
def staged_folder(out: Path, force: bool) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success it atomically becomes ``out``.

    Any OSError (a full disk, a folder made read-only meanwhile) becomes one ``--out`` error;
    the staging folder is removed and an existing ``out`` is left as it was.
    """
    check_output_folder(out, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp", dir=out.parent)
        )
        staging.chmod(0o777 & ~_current_umask())  # mkdtemp makes 0700; results are for everyone
    except OSError as exc:
        raise _write_error(out, exc, "cannot write the results") from None
    try:
        yield staging
        _replace(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _write_error(out, exc, "cannot write the results") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace(staging: Path, out: Path) -> None:
    if out.exists():
        trash = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(trash)
        try:
            staging.rename(out)
        except OSError:
            trash.rename(out)  # put the old results back
            raise
        shutil.rmtree(trash, ignore_errors=True)
    else:
        staging.rename(out)


def write_json(path: Path, document: Any) -> None:
    path.write_text(
        json.dumps(document, indent=2, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8"
    )


def scenario_document(scenario: Scenario) -> dict[str, Any]:
    return scenario.model_dump(mode="json", by_alias=True)


def scenario_hash(scenario: Scenario) -> str:
    canonical = json.dumps(scenario_document(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def manifest(
    result: ExperimentResult,
    wall_seconds: float,
    command: list[str],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``manifest.json`` document of one scenario's run; ``extra`` adds or overrides keys."""
    s = result.scenario
    return {
        "scenario": s.name,
        "scenario_hash": scenario_hash(s),
        "seed": s.seed,
        "replication_seeds": [
            {"replication": o.replication, "seed_material": replication_seed(s.seed, o.replication)}
            for o in result.outcomes
        ],
        **environment(),
        "executor": result.executor,
        "wall_seconds": round(wall_seconds, 3),
        "replication_seconds": [round(o.wall_seconds, 3) for o in result.outcomes],
        "command": command,
        **(extra or {}),
        "resolved_scenario": scenario_document(s),
    }


def environment() -> dict[str, Any]:
    """Versions, platform and git commit: the reproducibility part of every manifest."""
    return {
        "gatesim_version": _version("gatesim"),
        "versions": {name: _version(name) for name in ("simpy", "numpy", "pydantic", "networkx")},
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "git_commit": git_commit(),
    }


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def write_tables(folder: Path, result: ExperimentResult) -> None:
    """Per-replication KPIs, station rows, daily and hourly series, the network, optional
    truck records: the files ``kpi_table()``, ``station_table()`` and ``hourly_summary()``
    give with pandas' ``to_csv``, byte for byte, written without pandas
    (gatesim.core.csv_table): a run imports neither pandas nor, without records, pyarrow."""
    from gatesim.model.network_table import network_columns

    outcomes = result.outcomes
    write_csv(folder / "replications.csv", row_columns(result.kpi_rows()))
    write_csv(folder / "stations.csv", row_columns(result.station_rows()))
    days = len(outcomes[0].cleared_by_day) if outcomes else 0
    daily = {"day": np.arange(days, dtype=np.int64)}
    daily |= {f"rep{o.replication}": infer_column(o.cleared_by_day) for o in outcomes}
    write_csv(folder / "daily_cleared.csv", daily)
    write_csv(folder / "hourly.csv", row_columns(_hourly_rows(outcomes)))
    write_csv(folder / "hourly_summary.csv", row_columns(result.hourly_summary_rows()))
    write_queues(folder / "queues_over_time.csv", result)
    nodes, edges = network_columns(result.scenario)  # the report's network figure reads these
    write_csv(folder / "network_nodes.csv", nodes)
    write_csv(folder / "network_edges.csv", edges)
    for attr, columns in (("trucks", TRUCK_COLUMNS), ("visits", VISIT_COLUMNS)):
        write_records(folder / f"{attr}.parquet", result.outcomes, attr, columns)


def _hourly_rows(outcomes: Sequence[ReplicationOutcome]) -> list[dict[str, Any]]:
    """``hourly.csv``: each replication's mean per hour of day over the measured days."""
    return [
        {
            "replication": o.replication,
            "hour": h,
            "cleared_mean": o.cleared_by_hour[h],
            "in_system_mean": o.in_system_by_hour[h],
        }
        for o in outcomes
        for h in range(24)
    ]


def queues_table(result: ExperimentResult, places: Sequence[str] | None = None) -> pd.DataFrame:
    """``queues_over_time.csv``: hourly snapshots per station, then each platform's approach
    road (``<platform>.approach_road``: spill-back only; gatesim.experiment.queues); only
    the rows of ``places`` when given."""
    s = result.scenario
    hourly = [o.hourly_queues for o in result.outcomes]
    chosen = queue_places(result) if places is None else places
    return queues_over_time(hourly, chosen, s.days, s.warmup_min)


def queue_places(result: ExperimentResult) -> list[str]:
    """The places of ``queues_over_time.csv``, in row order."""
    s = result.scenario
    return [*s.stations, *(f"{name}.{ROAD}" for name in s.platform)]


#: Places whose rows are built and written at once: a year's table of 50 places is some
#: 440,000 rows (each chunk's text is formatted some rows at a time, gatesim.core.csv_table).
QUEUE_PLACES_AT_ONCE = 4


def write_queues(path: Path, result: ExperimentResult) -> None:
    """``queues_over_time.csv``, written a few places at a time (the file is the one
    ``queues_table(result).to_csv(path, index=False)`` writes: the rows are place by place)."""
    s = result.scenario
    hourly = [o.hourly_queues for o in result.outcomes]
    places = queue_places(result)
    if not places:
        write_csv(path, queue_columns(hourly, places, s.days, s.warmup_min))
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        for start in range(0, len(places), QUEUE_PLACES_AT_ONCE):
            chosen = places[start : start + QUEUE_PLACES_AT_ONCE]
            chunk = queue_columns(hourly, chosen, s.days, s.warmup_min)
            write_csv(handle, chunk, header=start == 0)


def write_experiment(
    out: Path,
    result: ExperimentResult,
    wall_seconds: float,
    command: list[str],
    force: bool = False,
    extra: Callable[[Path], None] | None = None,
    manifest_extra: dict[str, Any] | None = None,
) -> Path:
    """Write every result file of one experiment into ``out`` (atomically)."""
    with staged_folder(out, force) as folder:
        write_experiment_files(folder, result, wall_seconds, command, manifest_extra)
        if extra is not None:
            extra(folder)
    return out


def write_experiment_files(
    folder: Path,
    result: ExperimentResult,
    wall_seconds: float,
    command: list[str],
    manifest_extra: dict[str, Any] | None = None,
) -> None:
    """The usual run outputs of one scenario into an existing (staging) folder."""
    write_tables(folder, result)
    write_json(folder / "summary.json", json_safe(result.summary()))
    write_json(folder / "manifest.json", manifest(result, wall_seconds, command, manifest_extra))


def write_group(
    out: Path,
    members: Sequence[tuple[str, ExperimentResult, dict[str, Any]]],
    wall_seconds: float,
    command: list[str],
    write_extra: Callable[[Path], None],
    force: bool = False,
) -> Path:
    """Several experiments in ``out/<relative folder>/`` plus group files, all atomically.

    ``members`` are (relative folder, result, manifest extra); ``write_extra(folder)`` writes the
    group's own files (comparison, sweep table, top-level manifest).
    """
    with staged_folder(out, force) as folder:
        for relative, result, extra in members:
            sub = folder / relative
            sub.mkdir(parents=True)
            write_experiment_files(sub, result, wall_seconds, command, extra)
        write_extra(folder)
    return out


def json_safe(value: Any) -> Any:
    """Replace NaN/inf (undefined statistics) by None so the JSON stays standard."""
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
