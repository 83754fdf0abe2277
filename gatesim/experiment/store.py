"""Finished replications kept on disk while an experiment runs, so an interrupted run can resume.

The store lives beside the output folder (``DIR.partial/`` for ``--out DIR``): the output folder
itself only appears, atomically, once everything is done, and the store is then removed. Each
replication is one JSON document, ``<scenario hash>/<replication>.json``, written atomically as
soon as the replication finishes. A replication is reused only for the exact same resolved
scenario (same hash) and replication index, so a resumed run gives the same numbers as an
uninterrupted one (JSON writes every float with its shortest exact representation).

The store is data, never code: a planted or edited file can at worst hold wrong numbers, and
``--resume`` refuses any file that is not a well-formed record of this scenario with one line
(the pickles of earlier versions could run code when loaded).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from gatesim.core.errors import ScenarioError
from gatesim.experiment.runner import ReplicationOutcome

FORMAT = 2
SUFFIX = ".partial"
RECORD_SUFFIX = ".json"
MAX_RECORD_BYTES = 2_000_000_000
_OUTCOME = TypeAdapter(ReplicationOutcome)


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
        return outcome

    def save(self, key: str, outcome: ReplicationOutcome) -> None:
        """Write one outcome atomically (a crash never leaves a half-written record). A write
        that fails (a full disk) is one line; the records already written stay for --resume."""
        target = self.path(key, outcome.replication)
        record = {"format": FORMAT, "key": key, "outcome": _OUTCOME.dump_python(outcome)}
        temp: Path | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
            temp = Path(name)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle, default=_plain)
            os.replace(temp, target)
        except OSError as exc:
            if temp is not None:
                temp.unlink(missing_ok=True)
            raise ScenarioError(
                None,
                "--out",
                f"cannot write the replication store: {exc.strerror or exc}; "
                + self._what_is_kept(),
            ) from None
        except BaseException:
            if temp is not None:
                temp.unlink(missing_ok=True)
            raise

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
