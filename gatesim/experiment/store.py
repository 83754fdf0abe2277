"""Finished replications kept on disk while an experiment runs, so an interrupted run can resume.

The store lives beside the output folder (``DIR.partial/`` for ``--out DIR``): the output folder
itself only appears, atomically, once everything is done, and the store is then removed. Each
replication is one JSON document, ``<scenario hash>/<replication>.json``, written atomically as
soon as the replication finishes; its hourly queue series and its truck and visit records
(when kept) go column by column into ``<replication>.records.npz`` beside it (written first:
the JSON document marks a finished replication). A replication is reused only for the exact
same resolved scenario (same hash) and replication index, so a resumed run gives the same
numbers as an uninterrupted one (JSON writes every float with its shortest exact
representation; the ``.npz`` holds the arrays' bits).

The store is data, never code: a planted or edited file can at worst hold wrong numbers, and
``--resume`` refuses any file that is not a well-formed record of this scenario with one line
(the pickles of earlier versions could run code when loaded; the ``.npz`` is read with
``allow_pickle=False``).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
from pydantic import TypeAdapter, ValidationError

from gatesim.core.errors import ScenarioError
from gatesim.core.records import TEXT, Records, TextColumn
from gatesim.core.results import TRUCK_COLUMNS, TRUCK_KINDS, VISIT_COLUMNS, VISIT_KINDS
from gatesim.experiment.runner import ReplicationOutcome

FORMAT = 3
SUFFIX = ".partial"
RECORD_SUFFIX = ".json"
#: The hourly queue series and the truck and visit records (when kept) beside the JSON
#: document: arrays in an ``.npz``.
RECORDS_SUFFIX = ".records.npz"
MAX_RECORD_BYTES = 2_000_000_000
_OUTCOME = TypeAdapter(ReplicationOutcome)
HOURLY = "hourly_queues"  # kept in the .npz with the records
#: The records an outcome may carry: field name -> (columns, kinds).
_KINDS = {"trucks": (TRUCK_COLUMNS, TRUCK_KINDS), "visits": (VISIT_COLUMNS, VISIT_KINDS)}


def partial_folder(out: Path) -> Path:
    """Where the store of the experiment written to ``out`` lives."""
    return out.with_name(out.name + SUFFIX)


class PartialStore:
    """Finished ReplicationOutcomes keyed by (scenario hash, replication index)."""

    def __init__(self, folder: Path, flag: str = "--resume") -> None:
        self.folder = folder
        self.flag = flag  # the option that reads the store, named in its errors

    def path(self, key: str, replication: int) -> Path:
        return self.folder / key[:32] / f"{replication:06d}{RECORD_SUFFIX}"

    def load(self, key: str, replication: int) -> ReplicationOutcome | None:
        """The stored outcome, or None when there is none. A file that is not a record of
        this scenario and replication is refused (``ScenarioError``): someone changed it."""
        path = self.path(key, replication)
        try:
            if path.stat().st_size > MAX_RECORD_BYTES:
                raise _foreign(path, "too large", self.flag)
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            raise _foreign(path, "not readable JSON", self.flag) from None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise _foreign(path, "not a record of this gatesim version", self.flag)
        if record.get("key") != key:
            raise _foreign(path, "a record of another scenario", self.flag)
        try:
            outcome = _OUTCOME.validate_python(record.get("outcome"))
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise _foreign(path, f"malformed outcome ({where or 'outcome'})", self.flag) from None
        if outcome.replication != replication:
            raise _foreign(path, "a record of another replication", self.flag)
        kept = record.get("records", [])
        if not isinstance(kept, list) or not set(kept) <= set(_KINDS):
            raise _foreign(path, "malformed list of records", self.flag)
        arrays = self._load_arrays(path.with_suffix(RECORDS_SUFFIX), kept)
        for kind in _KINDS:  # whatever the JSON held under these names is replaced
            setattr(outcome, kind, arrays.get(kind))
        outcome.hourly_queues = arrays[HOURLY]
        return outcome

    def _load_arrays(self, path: Path, kept: list[str]) -> dict[str, Any]:
        """The records named in ``kept`` and the hourly queues, from the ``.npz``."""
        try:
            if path.stat().st_size > MAX_RECORD_BYTES:
                raise _foreign(path, "too large", self.flag)
            with np.load(path, allow_pickle=False) as data:
                loaded: dict[str, Any] = {kind: read_records(data, kind) for kind in kept}
                loaded[HOURLY] = read_hourly(data)
                return loaded
        except MalformedRecords as exc:
            raise _foreign(path, f"malformed records ({exc})", self.flag) from None
        except KeyError as exc:
            raise _foreign(path, f"malformed records (no {exc})", self.flag) from None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            why = "not readable records (not an .npz of plain arrays)"
            raise _foreign(path, why, self.flag) from None

    def save(self, key: str, outcome: ReplicationOutcome) -> None:
        """Write one outcome atomically (a crash never leaves a half-written record). A write
        that fails (a full disk) is one line; the records already written stay for --resume."""
        target = self.path(key, outcome.replication)
        records = {k: getattr(outcome, k) for k in _KINDS if getattr(outcome, k) is not None}
        record = {
            "format": FORMAT,
            "key": key,
            "outcome": _OUTCOME.dump_python(outcome, exclude={*_KINDS, HOURLY}),
            "records": list(records),
        }
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            arrays = _arrays(records, outcome.hourly_queues)
            _write_atomically(target.with_suffix(RECORDS_SUFFIX), _npz_writer(arrays))
            _write_atomically(target, _json_writer(record))
        except OSError as exc:
            target.with_suffix(RECORDS_SUFFIX).unlink(missing_ok=True)  # no orphan records
            raise ScenarioError(
                None,
                "--out",
                f"cannot write the replication store: {exc.strerror or exc}; "
                + self._what_is_kept(),
            ) from None

    def _what_is_kept(self) -> str:
        """After a failed write: the finished replications stay for --resume; a store holding
        none is removed, so a run that failed at once leaves nothing behind."""
        kept = self.count()
        if kept == 0:
            self.remove()
            return "nothing was kept"
        return f"{kept} finished replication(s) kept in {self.folder} for --resume"

    def count(self) -> int:
        if not self.folder.is_dir():
            return 0
        return sum(1 for _ in self.folder.glob(f"*/*{RECORD_SUFFIX}"))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _write_atomically(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``target`` through a temporary file beside it, so a crash leaves no half file."""
    fd, name = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _json_writer(record: dict[str, Any]) -> Callable[[BinaryIO], None]:
    def write(handle: BinaryIO) -> None:
        text = io.TextIOWrapper(handle, encoding="utf-8")
        json.dump(record, text, default=_plain)
        text.flush()
        text.detach()

    return write


def _npz_writer(arrays: dict[str, npt.NDArray[Any]]) -> Callable[[BinaryIO], None]:
    def write(handle: BinaryIO) -> None:
        np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy's stub: savez(file, allow_pickle=...)

    return write


def _arrays(records: dict[str, Records], hourly: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every array of an outcome's ``.npz``: its records and its hourly queues."""
    arrays: dict[str, Any] = {}
    for kind, rows in records.items():
        arrays.update(records_arrays(rows, kind))
    arrays.update(hourly_arrays(hourly))
    return arrays


def hourly_arrays(hourly: dict[str, dict[str, Any]]) -> dict[str, npt.NDArray[Any]]:
    """``hourly_queues`` as arrays: ``hourly.series`` and ``hourly.places`` name each
    ``hourly.<i>`` (names may hold any character, so they are not keys)."""
    pairs = [(series, place) for series, by_place in hourly.items() for place in by_place]
    arrays = {
        "hourly.series": np.array([series for series, _ in pairs], dtype=np.str_),
        "hourly.places": np.array([place for _, place in pairs], dtype=np.str_),
    }
    for i, (series, place) in enumerate(pairs):
        arrays[f"hourly.{i}"] = np.asarray(hourly[series][place], dtype=np.float64)
    return arrays


def read_hourly(data: Any) -> dict[str, dict[str, array[float]]]:
    """The ``hourly_queues`` that :func:`hourly_arrays` wrote."""
    series, places = data["hourly.series"], data["hourly.places"]
    if {series.dtype.kind, places.dtype.kind} - {"U"} or series.shape != places.shape:
        raise MalformedRecords("hourly.series and hourly.places are not matching names")
    hourly: dict[str, dict[str, array[float]]] = {}
    for i, (name, place) in enumerate(zip(series.tolist(), places.tolist(), strict=True)):
        values = data[f"hourly.{i}"]
        if values.dtype != np.float64 or values.ndim != 1:
            raise MalformedRecords(f"hourly.{i} is not a series of floats")
        hourly.setdefault(name, {})[place] = array("d", values.tobytes())
    return hourly


def records_arrays(rows: Records, kind: str) -> dict[str, npt.NDArray[Any]]:
    """The arrays an ``.npz`` holds for ``rows``: each column under ``<kind>.<column>``; a text
    column as its codes, with its distinct values under ``<kind>.<column>.names``."""
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, column in zip(rows.names, rows.columns, strict=True):
        if isinstance(column, TextColumn):
            arrays[f"{kind}.{name}"] = np.frombuffer(column.codes, dtype=np.uint16)
            arrays[f"{kind}.{name}.names"] = np.array(column.names, dtype=np.str_)
        else:
            arrays[f"{kind}.{name}"] = np.frombuffer(column, dtype=column.typecode)
    return arrays


class MalformedRecords(ValueError):
    """An array of a stored ``.npz`` is not the column :func:`records_arrays` writes."""


def read_records(data: Any, kind: str) -> Records:
    """The Records that :func:`records_arrays` wrote (MalformedRecords, or KeyError for a
    missing array, otherwise)."""
    names, kinds = _KINDS[kind]
    rows = Records(names, kinds)
    lengths = set()
    for k, (name, column_kind) in enumerate(zip(names, kinds, strict=True)):
        values = data[f"{kind}.{name}"]
        if values.ndim != 1:
            raise MalformedRecords(f"{kind}.{name} is not a column")
        lengths.add(len(values))
        if column_kind == TEXT:
            table = data[f"{kind}.{name}.names"]
            if values.dtype != np.uint16 or table.dtype.kind != "U" or table.ndim != 1:
                raise MalformedRecords(f"{kind}.{name} is not a text column")
            if len(values) and int(values.max()) >= len(table):
                raise MalformedRecords(f"{kind}.{name} has codes outside its table")
            rows.columns[k] = TextColumn(table.tolist(), array("H", values.tobytes()))
        else:
            if values.dtype != np.dtype(column_kind):
                raise MalformedRecords(f"{kind}.{name} is not of kind {column_kind}")
            rows.columns[k] = array(column_kind, values.tobytes())
    if len(lengths) > 1:
        raise MalformedRecords(f"{kind} columns differ in length")
    return rows


def _plain(value: Any) -> Any:
    """numpy scalars in records and statistics, as the Python numbers they hold."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store a {type(value).__name__}")


def _foreign(path: Path, why: str, flag: str) -> ScenarioError:
    return ScenarioError(
        None,
        flag,
        f"{path}: {why}; the store holds only gatesim's own records, so it was changed by "
        f"something else (remove the folder, or run without {flag})",
    )
